# fuzz/fuzz.mk: the fuzz harness (included by the top Makefile; fuzz/README.md explains it all).
#   make fuzz            AFL++ targets (allocator and harness instrumented, persistent mode),
#                        libFuzzer targets, and the plain replay/misuse drivers, for both variants
#   make fuzz-run        AFL++ on two cores, one instance per variant, FUZZ_SECONDS (600) long;
#                        findings in $(BUILD)/fuzz/afl/; prints execs/s, paths, crashes
#   make fuzz-replay     replay fuzz/corpus, fuzz/regressions and any AFL++ crashes on every
#                        variant and glibc, and compare their answers
#   make fuzz-misuse     the misuse harness's cases against the secure variant
#   make fuzz-corpus     regenerate fuzz/corpus/ and fuzz/ops.dict from fuzz/mkcorpus.c
# Variables from the top Makefile: BUILD, CC, LIBCFLAGS, SRCS, HDRS, secure_DEFS, fast_DEFS.
# The scripts can also load this file beside the Makefile: make -f Makefile -f fuzz/fuzz.mk.
ifndef SGF_FUZZ_MK
SGF_FUZZ_MK := 1

FUZZ_BUILD    := $(BUILD)/fuzz
FUZZ_SECONDS  ?= 600
FUZZ_VARIANTS := secure fast
AFL_CC        ?= afl-clang-fast
FUZZ_CLANG    ?= clang
FUZZ_CFLAGS   := -std=c11 -O2 -g -pthread -Wall -Wextra -fno-builtin-malloc \
	-fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free -Ifuzz -Iinclude
FUZZ_CORE     := fuzz/harness.c fuzz/shadow.c fuzz/exec.c
FUZZ_DEPS     := $(FUZZ_CORE) $(wildcard fuzz/*.h) fuzz/fuzz.mk
# The allocator is compiled again for the fuzzers, instrumented, so that coverage guides them
# through its paths too; another compiler may warn where gcc does not, so no -Werror there.
FUZZ_LIBCFLAGS := $(filter-out -Werror,$(LIBCFLAGS))

fuzz_archive = $(BUILD)/$(call lib_name,$(1)).a

# ---- instrumented copies of the library: $(FUZZ_BUILD)/obj/<tool>-<variant>/libslabguard.a --------
# $(1) variant, $(2) tool dir (afl | lf), $(3) compiler, $(4) extra flags
define FUZZ_LIB_RULES
$(FUZZ_BUILD)/obj/$(2)-$(1)/%.o: src/%.c $(HDRS) fuzz/fuzz.mk | $(FUZZ_BUILD)/obj/$(2)-$(1)
	@echo "  CC [$(2)-$(1)] $$<"
	@$(3) $$(FUZZ_LIBCFLAGS) $(4) $$($(1)_DEFS) -c $$< -o $$@
$(FUZZ_BUILD)/obj/$(2)-$(1)/libslabguard.a: $(patsubst src/%.c,$(FUZZ_BUILD)/obj/$(2)-$(1)/%.o,$(SRCS))
	@rm -f $$@ && ar rcs $$@ $$^
$(FUZZ_BUILD)/obj/$(2)-$(1):
	@mkdir -p $$@
endef

# ---- the drivers for one variant ------------------------------------------------------------
define FUZZ_VARIANT_RULES
$(eval $(call FUZZ_LIB_RULES,$(1),afl,AFL_QUIET=1 $(AFL_CC),))
$(eval $(call FUZZ_LIB_RULES,$(1),lf,$(FUZZ_CLANG),-fsanitize=fuzzer-no-link))

$(FUZZ_BUILD)/afl-$(1): fuzz/driver_afl.c $(FUZZ_DEPS) $(FUZZ_BUILD)/obj/afl-$(1)/libslabguard.a
	@echo "  LD $$@"
	@AFL_QUIET=1 $(AFL_CC) $(FUZZ_CFLAGS) -DSGF_HAVE_HEAPS $(FUZZ_CORE) $$< $(FUZZ_BUILD)/obj/afl-$(1)/libslabguard.a -lsodium -o $$@
$(FUZZ_BUILD)/afl-misuse-$(1): fuzz/driver_afl.c fuzz/misuse.c $(FUZZ_DEPS) $(FUZZ_BUILD)/obj/afl-$(1)/libslabguard.a
	@echo "  LD $$@"
	@AFL_QUIET=1 $(AFL_CC) $(FUZZ_CFLAGS) -DSGF_HAVE_HEAPS -DSGF_TARGET_MISUSE $(FUZZ_CORE) fuzz/misuse.c $$< $(FUZZ_BUILD)/obj/afl-$(1)/libslabguard.a -lsodium -o $$@
$(FUZZ_BUILD)/libfuzzer-$(1): fuzz/driver_libfuzzer.c $(FUZZ_DEPS) $(FUZZ_BUILD)/obj/lf-$(1)/libslabguard.a
	@echo "  LD $$@"
	@$(FUZZ_CLANG) $(FUZZ_CFLAGS) -DSGF_HAVE_HEAPS -fsanitize=fuzzer $(FUZZ_CORE) $$< $(FUZZ_BUILD)/obj/lf-$(1)/libslabguard.a -lsodium -o $$@
endef
$(foreach v,$(FUZZ_VARIANTS),$(eval $(call FUZZ_VARIANT_RULES,$(v))))

# ---- plain drivers (any cc; the same names fuzz/lib.sh builds) --------------------------------
# $(1) variant or glibc; $(2) its archive (empty for glibc)
define FUZZ_PLAIN_RULES
$(FUZZ_BUILD)/sgf-replay-$(1): fuzz/replay.c $(FUZZ_DEPS) $(2) | $(FUZZ_BUILD)
	@echo "  LD $$@"
	@$(CC) $(FUZZ_CFLAGS) $(if $(2),-DSGF_HAVE_HEAPS) $(FUZZ_CORE) $$< $(2) $(if $(2),-lsodium) -o $$@
$(FUZZ_BUILD)/sgf-misuse-$(1): fuzz/misuse_main.c fuzz/misuse.c $(FUZZ_DEPS) $(2) | $(FUZZ_BUILD)
	@echo "  LD $$@"
	@$(CC) $(FUZZ_CFLAGS) $(if $(2),-DSGF_HAVE_HEAPS) $(FUZZ_CORE) fuzz/misuse.c $$< $(2) $(if $(2),-lsodium) -o $$@
endef
$(foreach v,$(FUZZ_VARIANTS),$(eval $(call FUZZ_PLAIN_RULES,$(v),$(call fuzz_archive,$(v)))))
$(eval $(call FUZZ_PLAIN_RULES,glibc,))

$(FUZZ_BUILD):
	@mkdir -p $@

FUZZ_AFL   := $(foreach v,$(FUZZ_VARIANTS),$(FUZZ_BUILD)/afl-$(v) $(FUZZ_BUILD)/afl-misuse-$(v))
FUZZ_LF    := $(foreach v,$(FUZZ_VARIANTS),$(FUZZ_BUILD)/libfuzzer-$(v))
FUZZ_PLAIN := $(foreach v,$(FUZZ_VARIANTS) glibc,$(FUZZ_BUILD)/sgf-replay-$(v) $(FUZZ_BUILD)/sgf-misuse-$(v))

.PHONY: fuzz fuzz-afl fuzz-libfuzzer fuzz-plain fuzz-run fuzz-replay fuzz-misuse fuzz-corpus
fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory -f Makefile -f fuzz/fuzz.mk fuzz-afl fuzz-libfuzzer fuzz-plain
fuzz-afl: $(FUZZ_AFL)
fuzz-libfuzzer: $(FUZZ_LF)
fuzz-plain: $(FUZZ_PLAIN)

fuzz-run: fuzz-afl fuzz-plain
	BUILD=$(BUILD) bash fuzz/run-afl.sh $(FUZZ_SECONDS) $(FUZZ_BUILD)/afl

fuzz-replay: fuzz-plain
	BUILD=$(BUILD) bash fuzz/check-replay.sh $(BUILD)
	BUILD=$(BUILD) bash fuzz/replay-crashes.sh $(FUZZ_BUILD)/afl

fuzz-misuse: fuzz-plain
	BUILD=$(BUILD) bash fuzz/check-misuse.sh $(BUILD)

fuzz-corpus: | $(FUZZ_BUILD)
	@$(CC) -std=c11 -O1 -Ifuzz fuzz/mkcorpus.c fuzz/harness.c -o $(FUZZ_BUILD)/mkcorpus
	@rm -f fuzz/corpus/* && $(FUZZ_BUILD)/mkcorpus fuzz && echo "  GEN fuzz/corpus/ fuzz/ops.dict"

endif # SGF_FUZZ_MK
