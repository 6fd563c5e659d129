# mk/launcher.mk: build/slabguard, the launcher (tools/slabguard.c), included by the top Makefile.
#   make launcher                  just the launcher (`make` and `make check-build` build it too)
#   make SG_LIBDIR=/usr/local/lib  also look there for the library, after the launcher's own
#                                  directory and ../lib/ from it
# `slabguard [--fast] [--stats] [--verbose] [--] COMMAND ARGS...` runs COMMAND with the library
# preloaded; `slabguard --help` says the rest.
.PHONY: launcher
LAUNCHER := $(BUILD)/slabguard
LAUNCHER_CFLAGS := -std=c11 -O2 -g -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE \
	-DSG_VERSION=\"$(VERSION)\" $(if $(SG_LIBDIR),-DSG_LIBDIR=\"$(SG_LIBDIR)\") $(WARN)
LAUNCHER_LDFLAGS := -pie -Wl,-z,relro,-z,now,-z,noexecstack

all launcher check-build: $(LAUNCHER)

$(LAUNCHER): tools/slabguard.c mk/launcher.mk Makefile
	@mkdir -p $(@D)
	@echo "  CC $@"
	@$(CC) $(LAUNCHER_CFLAGS) $(CFLAGS) $(LAUNCHER_LDFLAGS) $(LDFLAGS) $< -o $@
