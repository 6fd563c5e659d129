#!/usr/bin/env bash
# tests/run.sh: run every test of slabguard against each variant and count the results.
# Usage: tests/run.sh [BUILD_DIR]          (make check builds everything first, then calls this)
#
# What runs, for each variant (secure, fast):
#   BUILD/tests/<variant>/<dir>_<name>   built from tests/{unit,api,stress}/<name>.c: the program
#       prints "ok <case>" / "not ok <case>: <reason>" lines (tests/check.h); each line is one
#       result, named "<variant> <dir>/<name>: <case>". A program that crashes, times out or
#       exits non-zero without saying why is one failure, named after the case it was running.
#   BUILD/tests/<variant>/misuse_<name>  built from tests/misuse/<name>.c, which carries
#       "// expect: <ERE>": it passes when it dies by SIGABRT with a stderr line matching the ERE
#       (anchored at the line start). A program whose stdout says "# report names 0x<hex>" wants
#       that exact address in the matching line ("of 0x<hex> "): a report naming another
#       pointer fails. In the fast variant a misuse that is not caught is listed
#       as "fast: not caught" (neither passed nor failed) unless the source says "// fast: expect".
#       Exit status 77: the machine cannot run this misuse (skipped, neither passed nor failed).
# Then, once (each handles the variants itself, given BUILD_DIR as $1):
#   tests/preload/*.sh, tests/build/*.sh, tests/install/*.sh and the executable fuzz/check-*.sh:
#   they print ok / not ok lines too.
#
# The last line is "N passed, N failed"; the exit status is 1 when anything failed.
# Environment: SG_TEST_VARIANTS ("secure fast"), SG_TEST_FILTER (an ERE on "<dir>/<name>": run
# only what matches), SG_TEST_TIMEOUT (120 s per program), SG_MISUSE_TIMEOUT (30 s),
# SG_SCRIPT_TIMEOUT (400 s per script), SG_TEST_JOBS (default the number of CPUs; above 1, two
# streams run side by side, see the main part below; 1: one after the other), SG_BUILD_STATUS
# (set by make check: non-zero when the build failed, counted as one failure). Logs of every
# run: BUILD_DIR/tests/logs/.
set -u

cd "$(dirname "$0")/.." || exit 2
case ${1:-} in
    -h|--help) sed -n '2,27s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "tests/run.sh: unknown option $1 (usage: tests/run.sh [BUILD_DIR])" >&2; exit 2 ;;
esac
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
VARIANTS=${SG_TEST_VARIANTS:-secure fast}
FILTER=${SG_TEST_FILTER:-}
TIMEOUT=${SG_TEST_TIMEOUT:-120}
MISUSE_TIMEOUT=${SG_MISUSE_TIMEOUT:-30}
SCRIPT_TIMEOUT=${SG_SCRIPT_TIMEOUT:-400}
LOGS=$BUILD/tests/logs
mkdir -p "$LOGS"
ulimit -c 0 2>/dev/null # crashes are expected here (misuse tests): no core files
export SG_TEST_VARIANTS="$VARIANTS"

passed=0
failed=0
failures=()
not_caught=()
started=$SECONDS

pass() { passed=$((passed + 1)); echo "ok $1"; }
fail() {
    failed=$((failed + 1))
    failures+=("$1: $2")
    echo "not ok $1: $2"
}

# Print the last lines of a log, indented as comments, to explain a failure.
show_tail() {
    [ -s "$1" ] && tail -n "${2:-6}" "$1" | sed 's/^/#   /'
    return 0
}

# How a command ended, from the status bash reports ("exit 3", "SIGSEGV", "timeout").
describe_status() {
    local rc=$1
    if [ "$rc" -eq 124 ]; then echo "timed out"
    elif [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then echo "killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
    else echo "exit status $rc"
    fi
}

# Milliseconds since the epoch (bash 5's EPOCHREALTIME), for the time each run took.
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
took() { local ms=$(($(now_ms) - $2)); echo "# $1 took $((ms / 1000)).$((ms % 1000 / 100))s"; }

selected() { [ -z "$FILTER" ] || [[ $1 =~ $FILTER ]]; }

# Count the ok / not ok lines of a finished run. $1: prefix of result names, $2: stdout file.
# Sets: n_results, n_failed_lines, running (the last "# case" without a result).
count_results() {
    local prefix=$1 out=$2 line name
    n_results=0 n_failed_lines=0 running=""
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            "ok "*)
                name=${line#ok }
                pass "$prefix$name"
                n_results=$((n_results + 1)); running="" ;;
            "not ok "*)
                name=${line#not ok }
                fail "$prefix${name%%: *}" "${name#*: }"
                n_results=$((n_results + 1)); n_failed_lines=$((n_failed_lines + 1)); running="" ;;
            "# case "*)
                running=${line#\# case } ;;
        esac
    done <"$out"
}

# ---- test programs ------------------------------------------------------------------------------
run_program() {
    local variant=$1 dir=$2 name=$3
    local bin=$BUILD/tests/$variant/${dir}_$name label="$variant $dir/$name"
    local out=$LOGS/$variant.${dir}_$name.out err=$LOGS/$variant.${dir}_$name.err rc
    if [ ! -x "$bin" ]; then fail "$label" "not built ($bin)"; return; fi
    local t0
    t0=$(now_ms)
    { timeout -k 10 "$TIMEOUT" "$bin" >"$out" 2>"$err" </dev/null; } 2>/dev/null
    rc=$?
    took "$label" "$t0"
    count_results "$label: " "$out"
    if [ "$rc" -ne 0 ] && [ "$n_failed_lines" -eq 0 ] || [ -n "$running" ]; then
        # it died or stopped without reporting the case it was in
        local what
        what=$(describe_status "$rc")
        [ "$rc" -eq 124 ] && what="timed out after ${TIMEOUT}s"
        if [ -n "$running" ]; then fail "$label: $running" "$what in this case"
        else fail "$label" "$what after $n_results cases"
        fi
        show_tail "$err"
    elif [ "$n_results" -eq 0 ]; then
        fail "$label" "reported no case (exit status $rc)"
        show_tail "$err"
    elif [ "$n_failed_lines" -gt 0 ]; then
        show_tail "$err" 10
    fi
}

# ---- misuse programs ----------------------------------------------------------------------------
run_misuse() {
    local variant=$1 name=$2
    local src=tests/misuse/$name.c bin=$BUILD/tests/$variant/misuse_$name label="$variant misuse/$name"
    local out=$LOGS/$variant.misuse_$name.out err=$LOGS/$variant.misuse_$name.err
    local re fast_expect=0 rc why=""
    re=$(sed -n 's|^[[:space:]]*//[[:space:]]*expect:[[:space:]]*||p' "$src" | head -n 1 | sed 's/[[:space:]]*$//')
    grep -Eq '^[[:space:]]*//[[:space:]]*fast:[[:space:]]*expect' "$src" && fast_expect=1
    if [ -z "$re" ]; then fail "$label" "no '// expect: <regex>' line in $src"; return; fi
    if [ ! -x "$bin" ]; then fail "$label" "not built ($bin)"; return; fi
    { timeout -k 5 "$MISUSE_TIMEOUT" "$bin" >"$out" 2>"$err" </dev/null; } 2>/dev/null
    rc=$?
    if [ "$rc" -eq 77 ]; then   # the machine cannot run this misuse (the program's stdout says why)
        echo "# skip $label: $(grep -m1 '^#' "$out")"
        return
    fi
    if [ "$rc" -eq 134 ] && grep -Eq -- "^($re)" "$err"; then
        local named
        named=$(sed -n 's/^# report names \(0x[0-9a-f]*\)$/\1/p' "$out" | head -n 1)
        if [ -n "$named" ] && ! grep -E -- "^($re)" "$err" | grep -Fq -- " of $named "; then
            fail "$label" "the report does not name $named: $(grep -E -m1 -- "^($re)" "$err")"
            return
        fi
        pass "$label"
        return
    fi
    if [ "$rc" -eq 134 ] && grep -q '^slabguard:' "$err"; then
        # caught, but reported with the wrong words: a failure in every variant
        fail "$label" "SIGABRT, but stderr does not match /$re/: $(grep -m1 '^slabguard:' "$err")"
        return
    fi
    case $rc in
        0) why="not caught: the program ran to its end" ;;
        134) why="SIGABRT without a slabguard line (want /$re/)" ;;
        *) why="not caught: $(describe_status "$rc"), want SIGABRT" ;;
    esac
    if [ "$variant" = fast ] && [ "$fast_expect" -eq 0 ]; then
        not_caught+=("misuse/$name ($why)")
        echo "# fast: not caught misuse/$name: $why"
    else
        fail "$label" "$why"
        show_tail "$err"
    fi
}

# ---- scripts: tests/preload/*.sh, fuzz/check-*.sh -------------------------------------------------
run_script() {
    local script=$1 label=${1%.sh} out err rc
    out=$LOGS/script.$(echo "$label" | tr / _).out
    err=${out%.out}.err
    local t0
    t0=$(now_ms)
    { timeout -k 10 "$SCRIPT_TIMEOUT" bash "$script" "$BUILD" >"$out" 2>"$err" </dev/null; } 2>/dev/null
    rc=$?
    took "$label" "$t0"
    grep '^# ' "$out" | grep -v '^# case ' || true
    count_results "$label: " "$out"
    if [ "$rc" -ne 0 ] && [ "$n_failed_lines" -eq 0 ]; then
        local what
        what=$(describe_status "$rc")
        [ "$rc" -eq 124 ] && what="timed out after ${SCRIPT_TIMEOUT}s"
        fail "$label${running:+: $running}" "$what after $n_results results"
        show_tail "$err"
    elif [ "$n_results" -eq 0 ] && ! grep -q '^# skip' "$out"; then
        fail "$label" "reported no result and no '# skip' reason (exit status $rc)"
        show_tail "$err"
    elif [ "$n_failed_lines" -gt 0 ]; then
        show_tail "$err" 10
    fi
}

# ---- main ---------------------------------------------------------------------------------------
shopt -s nullglob
if [ "${SG_BUILD_STATUS:-0}" -ne 0 ]; then
    fail "build" "make check-build failed (status $SG_BUILD_STATUS): see the compiler output above; what did not build is not run"
fi
# One variant's programs, in order; its counts go to $2 as shell assignments to add up.
run_variant() {
    local variant=$1 counts=$2
    passed=0 failed=0 failures=() not_caught=()
    echo "# ---- $variant variant"
    for dir in unit api stress; do
        for src in tests/"$dir"/*.c; do
            name=$(basename "$src" .c)
            selected "$dir/$name" && run_program "$variant" "$dir" "$name"
        done
    done
    for src in tests/misuse/*.c; do
        name=$(basename "$src" .c)
        selected "misuse/$name" && run_misuse "$variant" "$name"
    done
    save_counts "$counts"
}

# Scripts that test real use (each handles the variants itself): run_scripts COUNTS SCRIPT...
run_scripts() {
    local counts=$1
    shift
    passed=0 failed=0 failures=() not_caught=()
    for script in "$@"; do
        [ -e "$script" ] || continue
        case $script in fuzz/*) [ -x "$script" ] || continue ;; esac
        selected "${script%.sh}" && run_script "$script"
    done
    save_counts "$counts"
}

# A subshell's counts, as assignments that add them to the main shell's.
save_counts() {
    {
        echo "passed=\$((passed + $passed)) failed=\$((failed + $failed))"
        [ "${#failures[@]}" -gt 0 ] && printf 'failures+=(%q)\n' "${failures[@]}"
        [ "${#not_caught[@]}" -gt 0 ] && printf 'not_caught+=(%q)\n' "${not_caught[@]}"
    } >"$1"
}

# With SG_TEST_JOBS above 1 (default: the number of CPUs) the work runs in two streams of about
# the same length: the first variant, then the fuzz checks, in the foreground, printing as they
# go; the other variants, then the real programs, in the background, their output shown at the
# end. Each part counts in a subshell.
jobs=${SG_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
set -- $VARIANTS
first=${1:-}
[ $# -gt 0 ] && shift
rm -f "$LOGS"/.counts.*
run_first() {
    [ -n "$first" ] && (run_variant "$first" "$LOGS/.counts.$first")
    echo "# ---- fuzz checks"
    (run_scripts "$LOGS/.counts.fuzz" fuzz/check-*.sh)
}
run_rest() {
    for variant in "$@"; do (run_variant "$variant" "$LOGS/.counts.$variant"); done
    echo "# ---- real programs under LD_PRELOAD, builds, installation"
    (run_scripts "$LOGS/.counts.programs" tests/preload/*.sh tests/build/*.sh tests/install/*.sh)
}
if [ "$jobs" -gt 1 ]; then
    run_rest "$@" >"$LOGS/.run.rest" 2>&1 &
    rest=$!
    run_first
    wait "$rest"
    cat "$LOGS/.run.rest"
else
    run_first
    run_rest "$@"
fi
for part in $first "$@" fuzz programs; do
    if [ -f "$LOGS/.counts.$part" ]; then
        . "$LOGS/.counts.$part"
    else
        fail "$part" "the runner stopped before its end"
    fi
done

echo "# ---- summary ($((SECONDS - started)) s; logs in $LOGS)"
if [ "${#not_caught[@]}" -gt 0 ]; then
    echo "# misuse not caught by the fast variant (for SECURITY.md):"
    printf '#   %s\n' "${not_caught[@]}"
fi
if [ "$failed" -gt 0 ]; then
    echo "# failed:"
    printf '#   %s\n' "${failures[@]}"
fi
if [ $((passed + failed)) -eq 0 ]; then
    echo "# no test ran"
    failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
