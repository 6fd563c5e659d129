# mk/preload.mk: `make check-preload`, the long real-program suite (tests/preload-long/README.md;
# a few minutes, so not part of `make check`). Installs what it needs (scripts/deps.sh preload),
# builds both variants, then runs python3's own regression test modules, a threaded python
# workload, sqlite3, git, gcc, perl, node and redis under LD_PRELOAD of each variant, compared with
# glibc. Last line "N passed, N failed"; SG_TEST_VARIANTS, SG_TEST_FILTER pass through.
.PHONY: check-preload check-preload-deps
check-preload-deps:
	@scripts/deps.sh preload

check-preload: check-preload-deps $(BUILD)/libslabguard.so $(BUILD)/libslabguard-fast.so
	@tests/preload-long/run.sh $(BUILD)

# under make -j the libraries wait for the packages too
$(BUILD)/libslabguard.so $(BUILD)/libslabguard-fast.so: | $(filter check-preload-deps,$(MAKECMDGOALS:check-preload=check-preload-deps))
