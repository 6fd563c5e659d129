# bench/bench.mk: the benchmark suite, included by the top Makefile (bench/README.md).
#   make bench              every workload, full sizes, 5 interleaved runs (under 15 minutes)
#   make bench-quick        the same with small sizes and 3 runs (under 2 minutes)
#   make bench-mitigations  the secure build with each mitigation switched off alone
#   make bench-build        only the workload programs and tools, in $(BUILD)/bench/
# Options: BENCH_ARGS="--reps 7 --only seed-burst,larson --allocators mimalloc,sg-secure"
# Results: bench/results/<mode>.txt, .csv, -runs.csv, .png.

BENCH_BIN    := $(BUILD)/bench
# Workloads are ordinary programs: -fno-builtin-* so that the compiler cannot drop or merge
# their malloc/free pairs; every call goes to the preloaded allocator.
BENCH_CFLAGS := -std=c11 -O2 -g -D_GNU_SOURCE -pthread -fno-builtin-malloc -fno-builtin-calloc \
	-fno-builtin-realloc -fno-builtin-free -Wall -Wextra -Werror
BENCH_PROGS  := seed-burst larson xmalloc cache-scratch alloc-churn big shrink threads
BENCH_TOOLS  := $(addprefix $(BENCH_BIN)/,launch probe $(BENCH_PROGS))
BENCH_LIBS   := $(BUILD)/libslabguard.so $(BUILD)/libslabguard-fast.so
BENCH_RUN    := bench/run.sh --build $(BUILD) $(BENCH_ARGS)

.PHONY: bench bench-quick bench-mitigations bench-build bench-deps

bench-deps:
	@scripts/deps.sh bench

bench-build: $(BENCH_TOOLS)

$(BENCH_BIN):
	mkdir -p $@

$(BENCH_BIN)/%: bench/workloads/%.c bench/workloads/bench.h bench/bench.mk | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $< -o $@

$(BENCH_BIN)/launch $(BENCH_BIN)/probe: $(BENCH_BIN)/%: bench/%.c bench/bench.mk | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $< -o $@

bench: bench-deps $(BENCH_TOOLS) $(BENCH_LIBS)
	@$(BENCH_RUN) --full

bench-quick: bench-deps $(BENCH_TOOLS) $(BENCH_LIBS)
	@$(BENCH_RUN) --quick

# One variant per line of bench/mitigations.txt. A variant that does not build is reported as
# missing by the runner (its library is removed first, so a stale one is never measured).
bench-mitigations: bench-deps $(BENCH_TOOLS) $(BUILD)/libslabguard.so
	@grep -v '^[[:space:]]*#' bench/mitigations.txt | while read -r name overrides; do \
	  [ -n "$$name" ] || continue; \
	  rm -f $(BUILD)/libslabguard-$$name.so; \
	  echo "bench: building variant $$name ($$overrides)"; \
	  $(MAKE) --no-print-directory variant NAME=$$name OVERRIDES="$$overrides" \
	    </dev/null >$(BENCH_BIN)/variant-$$name.log 2>&1 || \
	    echo "bench: variant $$name failed to build; see $(BENCH_BIN)/variant-$$name.log"; \
	done
	@$(BENCH_RUN) --mitigations
