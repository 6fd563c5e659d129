#!/usr/bin/env bash
# tests/sanitize.sh: the unit, API and stress tests again, with the library and the tests built
#   - under UBSan (-fsanitize=undefined, no recovery): any undefined behaviour aborts the test;
#   - under TSan, through the sg_ API (PREFIX_ONLY build, tests/sg_names.h): any data race in the
#     cross-thread paths (remote frees, delayed frees, abandoned pages) fails the test.
# Prints the runner's ok / not ok lines and its "N passed, N failed" last line.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
total_failed=0
run() { # name build-dir filter programs make-args... ; builds the programs, runs tests/run.sh
    local name=$1 dir=$2 filter=$3 programs=$4
    shift 4
    echo "# ---- $name: building in $dir"
    if ! make -s -j"$jobs" -k check-build BUILD="$dir" TEST_ONLY="$programs" "$@" >"$dir.log" 2>&1; then
        echo "not ok $name build: see $dir.log"; tail -5 "$dir.log"
        total_failed=$((total_failed + 1))
    fi
    SG_TEST_FILTER="$filter" bash tests/run.sh "$dir" | tee "$dir.run" | grep -vE '^(ok|# case)' | grep -vE 'took [0-9.]+s$'
    local last
    last=$(tail -n 1 "$dir.run")
    total_failed=$((total_failed + $(echo "$last" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')))
    passed=$((passed + $(echo "$last" | sed -E 's/^([0-9]+) passed.*/\1/')))
}
passed=0
mkdir -p build/san
# Shorter stress runs (tests/stress/fork.c, exchange.c): the sanitizers look for undefined
# behaviour and races on every path, which a quarter of the operations still takes.
export SG_STRESS_SHORT=1
UB="-fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
run ubsan build/san/ubsan '^(unit|api|stress)/' 'unit_% api_% stress_%' CFLAGS="$UB" LDFLAGS="$UB" TEST_EXTRA_CFLAGS="$UB"
TS="-fsanitize=thread -fno-omit-frame-pointer"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0"
export SG_SOAK_SKIP_RSS=1 SG_SOAK_SECONDS=5
run tsan build/san/tsan '^(stress/(exchange|soak)|unit/test_heap)$' \
    'stress_exchange stress_soak unit_test_heap' PREFIX_ONLY=1 \
    CFLAGS="$TS" LDFLAGS="$TS" TEST_EXTRA_CFLAGS="$TS -include tests/sg_names.h"
echo "$passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
