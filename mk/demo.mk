# mk/demo.mk: the programs `make demo` runs (scripts/demo.sh builds them with `make demo-programs`
# after installing what is missing, then runs them). Included by the top Makefile.
#   build/demo/vuln   demo/vuln.c, a toy session server with a heap overflow and a use after
#                     free; demo/exploits.sh prints the input that exploits each under glibc.
# Built without _FORTIFY_SOURCE and without the caller's CFLAGS: the demo's heap layout must be
# the one demo/exploits.sh was written for.
.PHONY: demo-programs
DEMO_PROGRAMS := $(BUILD)/demo/vuln

demo-programs: $(DEMO_PROGRAMS)

$(BUILD)/demo/vuln: demo/vuln.c mk/demo.mk
	@mkdir -p $(@D)
	@echo "  CC $@"
	@$(CC) -std=c11 -O1 -g -D_GNU_SOURCE -U_FORTIFY_SOURCE $(WARN) $< -o $@
