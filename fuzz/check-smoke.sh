#!/usr/bin/env bash
# fuzz/check-smoke.sh [BUILD_DIR]: about half a minute of fuzzing, one core per variant.
# With AFL++ installed (scripts/deps.sh fuzz) it builds the AFL++ targets and runs
# fuzz/run-afl.sh for $FUZZ_SMOKE_SECONDS (30); where AFL++ is missing or cannot run here it
# runs the replay driver's random-input loop (sgf-replay -r) as long instead.
# "ok smoke <variant> ..." when nothing crashed; a crash is "not ok" with a command to reproduce.
set -u
BUILD=${1:-${BUILD:-build}}
. "$(dirname "$0")/lib.sh"
mkdir -p "$FUZZ_BIN"
ulimit -c 0 2>/dev/null
SMOKE=${FUZZ_SMOKE_SECONDS:-30}
VARIANTS=${SG_TEST_VARIANTS:-secure fast}
OUT=$FUZZ_BIN/smoke
rm -rf "$OUT"
mkdir -p "$OUT"
status=0

if ! fuzz_need_lib $VARIANTS; then
    echo "not ok smoke build: make lib failed (see $FUZZ_BIN/make.log)"
    exit 1
fi

# ---- AFL++, when it is installed and works here -------------------------------------------------
afl_ran=""
if command -v afl-fuzz >/dev/null && command -v afl-clang-fast >/dev/null; then
    targets=""
    for v in $VARIANTS; do targets="$targets $FUZZ_BIN/afl-$v"; done
    # shellcheck disable=SC2086
    if make -s -C "$FUZZ_ROOT" -f Makefile -f fuzz/fuzz.mk BUILD="$BUILD" $targets \
        >"$OUT/build.log" 2>&1; then
        FUZZ_INSTANCES=$VARIANTS bash "$FUZZ_ROOT/fuzz/run-afl.sh" "$SMOKE" "$OUT/afl" \
            >"$OUT/run-afl.log" 2>&1
        for v in $VARIANTS; do
            line=$(grep "^$v: .* execs/s" "$OUT/run-afl.log")
            [ -n "$line" ] || continue
            afl_ran="$afl_ran $v"
            echo "# afl $line"
            crashes=$(sed -n "s/^saved_crashes *: *//p" "$OUT/afl/$v/fuzzer_stats")
            if [ "${crashes:-0}" = 0 ]; then
                echo "ok smoke $v afl++"
            else
                echo "not ok smoke $v afl++: $crashes crash(es) in $OUT/afl/$v/crashes"
                grep -A1 "^$OUT/afl/$v/" "$OUT/run-afl.log" | head -n 6 | sed 's/^/#   /'
                status=1
            fi
        done
        [ -n "$afl_ran" ] || echo "# afl++ could not run here (see $OUT/run-afl.log); random inputs instead"
    else
        echo "# afl++ targets did not build (see $OUT/build.log); random inputs instead"
    fi
else
    echo "# afl++ is not installed (scripts/deps.sh fuzz); random inputs instead"
fi

# ---- the fallback: random inputs and corpus mutations in the replay driver ---------------------
pids=()
for v in $VARIANTS; do
    case " $afl_ran " in *" $v "*) continue ;; esac
    if ! fuzz_build sgf-replay "$v" "$FUZZ_ROOT/fuzz/replay.c" 2>"$OUT/build-$v.log"; then
        echo "not ok smoke $v random: the replay driver did not build"
        status=1
        continue
    fi
    seed=$(( $(date +%s) + ${#v} ))
    ( timeout -k 5 $((SMOKE + 60)) "$FUZZ_BIN/sgf-replay-$v" -r "$SMOKE" -s "$seed" \
        -o "$OUT/random-$v.input" "$FUZZ_ROOT/fuzz/corpus" "$FUZZ_ROOT/fuzz/regressions" \
        >"$OUT/random-$v.out" 2>"$OUT/random-$v.err" </dev/null
      echo $? >"$OUT/random-$v.rc" ) &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for v in $VARIANTS; do
    [ -f "$OUT/random-$v.rc" ] || continue
    rc=$(cat "$OUT/random-$v.rc")
    if [ "$rc" = 0 ]; then
        echo "# $v $(cat "$OUT/random-$v.out")"
        echo "ok smoke $v random"
    else
        keep=$FUZZ_BIN/smoke-crash-$v.bin
        cp "$OUT/random-$v.input" "$keep"
        echo "not ok smoke $v random: exit $rc: $(grep -m1 -E '^(sgf|slabguard):' "$OUT/random-$v.err") (reproduce: $FUZZ_BIN/sgf-replay-$v -t 4 $keep)"
        status=1
    fi
done
exit $status
