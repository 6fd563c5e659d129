# tests/tests.mk: `make check` (included by the top Makefile).
#   make check        install the check dependencies, build both variants (whatever MODE says),
#                     build every test program once per variant, run them all (tests/run.sh);
#                     the last line is "N passed, N failed", the status non-zero on any failure
#   make check-build  only build the libraries and test programs
#   make check SG_TEST_FILTER=stress/   (any variable of tests/run.sh passes through)
#
# tests/<dir>/<name>.c for dir in unit, api, stress, misuse becomes
# $(BUILD)/tests/<variant>/<dir>_<name>, linked statically against that variant's archive: the
# archive defines malloc and friends, so the program's malloc is slabguard's and the sg_ names
# are callable too. Tests see the preset's -D flags (SG_CONFIG_SECURE tells them the variant)
# and src/ (unit tests include src/internal.h).

TEST_VARIANTS := secure fast
TEST_DIRS     := unit api stress misuse
TEST_CFLAGS   := -std=c11 -O1 -g -pthread -D_GNU_SOURCE -Iinclude -Isrc -DSG_TEST_VERSION=\"$(VERSION)\"
TEST_WARN     := -Wall -Wextra -Werror
TEST_HDRS     := tests/check.h $(wildcard tests/*/*.h) $(HDRS)

# One pattern rule per (variant, dir): $(BUILD)/tests/<v>/<d>_%: tests/<d>/%.c
define TEST_DIR_RULES
$(BUILD)/tests/$(1)/$(2)_%: tests/$(2)/%.c $(TEST_HDRS) $(BUILD)/$(call lib_name,$(1)).a tests/tests.mk | $(BUILD)/tests/$(1)
	@rm -f $$@
	$$(CC) $(TEST_CFLAGS) $$($(1)_DEFS) $(TEST_WARN) $$(TEST_EXTRA_CFLAGS) $$< $(BUILD)/$(call lib_name,$(1)).a -lsodium -lpthread -o $$@
endef

define TEST_VARIANT_RULES
$(1)_TEST_BINS := $(foreach d,$(TEST_DIRS),$(patsubst tests/$(d)/%.c,$(BUILD)/tests/$(1)/$(d)_%,$(wildcard tests/$(d)/*.c)))
$(BUILD)/tests/$(1):
	mkdir -p $$@
$(foreach d,$(TEST_DIRS),$(eval $(call TEST_DIR_RULES,$(1),$(d))))
endef

$(foreach v,$(TEST_VARIANTS),$(eval $(call TEST_VARIANT_RULES,$(v))))

TEST_LIBRARIES := $(foreach v,$(TEST_VARIANTS),$(BUILD)/$(call lib_name,$(v)).so $(BUILD)/$(call lib_name,$(v)).a)

.PHONY: check check-build check-sanitize
# The unit, API and stress tests under UBSan, and the cross-thread ones under TSan through the
# sg_ API (tests/sanitize.sh). A few minutes; .ci/run runs it after make check.
check-sanitize:
	@scripts/deps.sh check
	@bash tests/sanitize.sh

# Dependencies first (the compiler needs libsodium-dev), then the build, then the run: three
# steps in order even under make -j. The build goes as far as it can (-k); whatever did not
# build is counted by the runner (a failed build, and each missing program, is a failure), so
# the summary line is printed even then. A test whose compile fails leaves no stale binary.
check:
	@scripts/deps.sh check
	@$(MAKE) --no-print-directory -k check-build; \
	SG_BUILD_STATUS=$$? bash tests/run.sh $(BUILD)

# TEST_ONLY="unit_% stress_fork": only the programs whose <dir>_<name> matches one of these make
# patterns (tests/sanitize.sh builds only what it runs); empty, every program.
TEST_ONLY ?=
check_bins = $(if $(strip $(TEST_ONLY)),$(filter $(foreach p,$(TEST_ONLY),$(BUILD)/tests/$(1)/$(p)),$($(1)_TEST_BINS)),$($(1)_TEST_BINS))
check-build: $(TEST_LIBRARIES) $(foreach v,$(TEST_VARIANTS),$(call check_bins,$(v)))
