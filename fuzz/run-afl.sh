#!/usr/bin/env bash
# fuzz/run-afl.sh SECONDS [OUT_DIR]: AFL++ on two cores, one instance per variant, sharing finds:
# "secure" (-M) fuzzes $BUILD/fuzz/afl-secure, "fast" (-S) $BUILD/fuzz/afl-fast, from fuzz/corpus
# with fuzz/ops.dict. OUT_DIR (default $BUILD/fuzz/afl) is resumed if it exists. At the end it
# prints, per instance: execs/s, paths (corpus items), crashes and hangs, then replays the crashes
# (fuzz/replay-crashes.sh). Build first: make fuzz-afl (or make fuzz).
# Environment: FUZZ_INSTANCES ("secure fast"), AFL_FLAGS (extra afl-fuzz options),
# FUZZ_THREADS / FUZZ_BURST (passed to the targets, see fuzz/README.md).
set -u
. "$(dirname "$0")/lib.sh"
SECONDS_WANTED=${1:-600}
OUT=${2:-$FUZZ_BIN/afl}
INSTANCES=${FUZZ_INSTANCES:-secure fast}
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: scripts/deps.sh fuzz" >&2; exit 2; }
for v in $INSTANCES; do
    [ -x "$FUZZ_BIN/afl-$v" ] || { echo "missing $FUZZ_BIN/afl-$v: make fuzz-afl" >&2; exit 2; }
done

# A container: no CPU frequency governor, no core_pattern to fix, no terminal.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_AUTORESUME=1
export AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 AFL_SKIP_CRASHES=1 AFL_NO_WARN_INSTABILITY=1
# (the secure variant picks slots at random and the targets are persistent, so some instability
# is expected: it is the allocator's randomisation, not a bug in the harness)

mkdir -p "$OUT"
pids=()
role=-M
for v in $INSTANCES; do
    # shellcheck disable=SC2086
    afl-fuzz $role "$v" -i "$FUZZ_ROOT/fuzz/corpus" -o "$OUT" -x "$FUZZ_ROOT/fuzz/ops.dict" \
        -m none -t 5000 -V "$SECONDS_WANTED" ${AFL_FLAGS:-} -- "$FUZZ_BIN/afl-$v" \
        >"$OUT/$v.log" 2>&1 </dev/null &
    pids+=($!)
    role=-S
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done

afl_stat() { sed -n "s/^$2 *: *//p" "$OUT/$1/fuzzer_stats" 2>/dev/null | head -n 1; }
for v in $INSTANCES; do
    if [ ! -f "$OUT/$v/fuzzer_stats" ]; then
        echo "$v: afl-fuzz did not run (see $OUT/$v.log):"
        grep -E 'PROGRAM ABORT|ERROR|Location' "$OUT/$v.log" | head -n 5 | sed 's/\x1b\[[0-9;]*m//g; s/^/  /'
        status=1
        continue
    fi
    printf '%s: %s s, %s execs, %s execs/s, %s paths, %s crashes, %s hangs, stability %s\n' \
        "$v" "$(afl_stat "$v" run_time)" "$(afl_stat "$v" execs_done)" "$(afl_stat "$v" execs_per_sec)" \
        "$(afl_stat "$v" corpus_count)" "$(afl_stat "$v" saved_crashes)" "$(afl_stat "$v" saved_hangs)" \
        "$(afl_stat "$v" stability)"
done
bash "$FUZZ_ROOT/fuzz/replay-crashes.sh" "$OUT" || status=1
exit $status
