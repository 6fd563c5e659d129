# slabguard: a hardened memory allocator. Plain make; see README.md.
#   make                 both variants: build/libslabguard.so (secure), build/libslabguard-fast.so, static archives
#   make MODE=fast       the fast variant only (MODE=secure: the secure one only)
#   make CC=clang        any C11 compiler; builds warning-free with gcc and clang
#   make check           every test, against both variants; last line "N passed, N failed"
#   make bench           benchmarks against glibc, jemalloc, mimalloc, tcmalloc, scudo (bench/README.md)
#   make variant NAME=x PRESET=config/secure.mk OVERRIDES="SG_CONFIG_CANARY=false"
#                        one more variant, build/libslabguard-x.so, e.g. to measure one mitigation
.DEFAULT_GOAL := all
CC      ?= cc
MODE    ?= all
# PREFIX_ONLY=1: only the sg_ names are exported, libc's malloc stays libc's (own build dir)
ifeq ($(PREFIX_ONLY),1)
BUILD   ?= build/prefix-only
PREFIX_FLAGS := -DSG_PREFIX_ONLY=1
endif
# VALGRIND=1: memcheck client requests, so programs under valgrind see slabguard's blocks
ifeq ($(VALGRIND),1)
BUILD   ?= build/valgrind
PREFIX_FLAGS += -DSG_VALGRIND=1
endif
BUILD   ?= build
VERSION := 0.1.0
# The soname's number, the major of VERSION: libslabguard.so.0 (mk/install.mk installs the links).
SOVERSION := $(firstword $(subst ., ,$(VERSION)))

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wvla
# -fno-builtin: the compiler must not turn our own code into calls to malloc/calloc/memset of ours.
# initial-exec TLS: the thread heap is reachable from the very first malloc under LD_PRELOAD.
LIBCFLAGS := -std=c11 -O2 -g -fPIC -fvisibility=hidden -fno-semantic-interposition \
	-ftls-model=initial-exec -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc \
	-fno-builtin-free -fstack-protector-strong -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 \
	-DSG_VERSION=\"$(VERSION)\" $(PREFIX_FLAGS) -Iinclude -Isrc $(WARN)
LIBLDFLAGS := -shared -Wl,-z,relro,-z,now,-z,defs,-z,noexecstack -Wl,--version-script=src/exports.map
# The shared libraries carry their own copy of the few libsodium objects they use, its symbols
# hidden: a preloaded allocator then maps no libsodium.so into every process (about 100 KiB of
# resident memory each), and a program's own libsodium (another version, or one given a custom
# generator with randombytes_set_implementation) can neither clash with nor steer slabguard's
# secrets. The archive is the one the compiler finds with these flags, and it is used only if a
# small shared object calling what slabguard calls (config/sodium-probe.c) links with it (an archive built without
# -fPIC cannot go into a shared library); otherwise, or without an archive, -lsodium. Evaluated
# when the link runs, after `make check` has installed libsodium-dev. (A libsodium security fix
# then needs a rebuild of slabguard.)
SODIUM_A      = $(shell $(CC) $(CFLAGS) $(LDFLAGS) -print-file-name=libsodium.a)
SODIUM_HIDDEN = $(SODIUM_A) -Wl,--exclude-libs,libsodium.a
SODIUM_PROBE  = $(CC) $(CFLAGS) -fPIC -shared $(LDFLAGS) -Wl,-z,defs -o /dev/null config/sodium-probe.c \
	$(SODIUM_HIDDEN) -lpthread >/dev/null 2>&1 && echo ok
SODIUM_STATIC = $(if $(filter /%,$(SODIUM_A)),$(shell $(SODIUM_PROBE)))
LIBS          = $(if $(SODIUM_STATIC),$(SODIUM_HIDDEN),-lsodium) -lpthread

SRCS := $(wildcard src/*.c)
HDRS := $(wildcard src/*.h) include/slabguard.h

ifeq ($(MODE),all)
  VARIANTS := secure fast
else ifeq ($(MODE),secure)
  VARIANTS := secure
else ifeq ($(MODE),fast)
  VARIANTS := fast
else
  $(error MODE must be all, secure or fast)
endif

# Preset -> -D flags; config/defs.sh rejects values other than true/false/numbers.
defs = $(shell config/defs.sh $(1) $(2) || echo SG_BAD_PRESET)

# lib_name(variant): secure is the plain name, every other variant gets a suffix.
lib_name = $(if $(filter secure,$(1)),libslabguard,libslabguard-$(1))

# ---- one variant: objects in build/<v>/, libraries in build/ --------------------------------
define VARIANT_RULES
$(1)_DEFS := $$(call defs,$(2),$(3))
ifneq ($$(filter SG_BAD_PRESET,$$($(1)_DEFS)),)
  $$(error preset $(2) $(3) has a bad value (see the message above))
endif
$(1)_OBJS := $$(patsubst src/%.c,$(BUILD)/$(1)/%.o,$(SRCS))
$(BUILD)/$(1)/%.o: src/%.c $(HDRS) $(2) Makefile | $(BUILD)/$(1)
	@echo "  CC [$(1)] $$<"
	@$$(CC) $$(LIBCFLAGS) $$(CFLAGS) $$($(1)_DEFS) -c $$< -o $$@
$(BUILD)/$(1):
	mkdir -p $$@
$(BUILD)/$(call lib_name,$(1)).so: $$($(1)_OBJS) src/exports.map
	@echo "  LD $$@"
	@$$(CC) $$(LIBLDFLAGS) $$(LDFLAGS) -Wl,-soname,$(call lib_name,$(1)).so.$(SOVERSION) -o $$@ $$($(1)_OBJS) $$(LIBS)
	@ln -sf $(call lib_name,$(1)).so $$@.$(SOVERSION)
$(BUILD)/$(call lib_name,$(1)).a: $$($(1)_OBJS)
	rm -f $$@ && ar rcs $$@ $$($(1)_OBJS)
endef

$(eval $(call VARIANT_RULES,secure,config/secure.mk,))
$(eval $(call VARIANT_RULES,fast,config/fast.mk,))
ifdef NAME
$(eval $(call VARIANT_RULES,$(NAME),$(or $(PRESET),config/secure.mk),$(OVERRIDES)))
endif

LIBRARIES := $(foreach v,$(VARIANTS),$(BUILD)/$(call lib_name,$(v)).so $(BUILD)/$(call lib_name,$(v)).a)

.PHONY: all lib variant demo tidy clean deps
all lib: $(LIBRARIES)

variant: $(BUILD)/$(call lib_name,$(NAME)).so $(BUILD)/$(call lib_name,$(NAME)).a

deps:
	@scripts/deps.sh build

# The main job: build, then run real programs under both variants (scripts/demo.sh).
demo:
	@scripts/demo.sh

-include tests/tests.mk
-include bench/bench.mk
-include fuzz/fuzz.mk
# further targets (install, launcher, demo, ...) live in mk/*.mk
-include $(sort $(wildcard mk/*.mk))

tidy:
	clang-tidy --quiet $(SRCS) -- $(LIBCFLAGS) $(call defs,config/secure.mk,)

clean:
	rm -rf $(BUILD)
