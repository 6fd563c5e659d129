#!/usr/bin/env bash
# tests/preload-long/run.sh: the long real-program suite (`make check-preload`, mk/preload.mk).
# Usage: tests/preload-long/run.sh [BUILD_DIR]
# Runs every tests/preload-long/cases/*.sh (each sources tests/preload/common.bash: the workload
# runs under glibc, then under LD_PRELOAD of each variant, and must give glibc's output), passes
# their "ok" / "not ok" lines through, prefixed with the case, and ends with "N passed, N failed";
# exit status 1 when anything failed. Environment: SG_TEST_VARIANTS ("secure fast"),
# SG_TEST_FILTER (an ERE on the case name), SG_PRELOAD_TIMEOUT (300 s per run of a workload),
# SG_SCRIPT_TIMEOUT (900 s per case). Logs: BUILD_DIR/tests/preload-long/.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export SG_TEST_VARIANTS=${SG_TEST_VARIANTS:-secure fast}
export SG_PRELOAD_TIMEOUT=${SG_PRELOAD_TIMEOUT:-300}
SCRIPT_TIMEOUT=${SG_SCRIPT_TIMEOUT:-900}
FILTER=${SG_TEST_FILTER:-}
LOGS=$BUILD/tests/preload-long
mkdir -p "$LOGS"
ulimit -c 0 2>/dev/null
passed=0 failed=0 failures=() started=$SECONDS

for script in tests/preload-long/cases/*.sh; do
    name=$(basename "$script" .sh)
    [ -z "$FILTER" ] || [[ $name =~ $FILTER ]] || continue
    out=$LOGS/$name.out err=$LOGS/$name.err t0=$SECONDS
    { timeout -k 10 "$SCRIPT_TIMEOUT" bash "$script" "$BUILD" >"$out" 2>"$err" </dev/null; } 2>/dev/null
    rc=$?
    n=0
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            "ok "*) passed=$((passed + 1)); n=$((n + 1)); echo "ok $name: ${line#ok }" ;;
            "not ok "*) failed=$((failed + 1)); n=$((n + 1)); failures+=("$name: ${line#not ok }")
                echo "not ok $name: ${line#not ok }" ;;
            "# "*) echo "$line" ;;
        esac
    done <"$out"
    if [ "$rc" -ne 0 ] || { [ "$n" -eq 0 ] && ! grep -q '^# skip' "$out"; }; then
        failed=$((failed + 1)); failures+=("$name: script exit status $rc after $n results")
        echo "not ok $name: script exit status $rc after $n results (124: timed out after ${SCRIPT_TIMEOUT}s)"
    fi
    [ -s "$err" ] && grep -q . "$out" && grep -q '^not ok' "$out" && tail -n 10 "$err" | sed 's/^/#   /'
    echo "# $name took $((SECONDS - t0)) s"
done

echo "# ---- summary ($((SECONDS - started)) s; logs in $LOGS)"
if [ "$failed" -gt 0 ]; then
    echo "# failed:"
    printf '#   %s\n' "${failures[@]}"
fi
if [ $((passed + failed)) -eq 0 ]; then echo "# no test ran"; failed=1; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
