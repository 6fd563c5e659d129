#!/usr/bin/env bash
# fuzz/check-replay.sh [BUILD_DIR]: replay the seed corpus and the saved regressions.
#   - every file of fuzz/corpus/ and fuzz/regressions/ runs on the replay driver of each variant
#     (secure, fast; $SG_TEST_VARIANTS) and of glibc, on 4 threads with BURST sections run
#     concurrently (-b): "ok replay <variant> <file>"
#   - the digests of observable answers (NULL/errno/return codes) must agree between the
#     variants and glibc: "ok diff <file>" (fuzz/differential.sh explains a difference)
# Plain cc, no AFL needed. Prints "ok ..." / "not ok ...: reason" lines for tests/run.sh.
set -u
BUILD=${1:-${BUILD:-build}}
. "$(dirname "$0")/lib.sh"
mkdir -p "$FUZZ_BIN"
ulimit -c 0 2>/dev/null
VARIANTS="${SG_TEST_VARIANTS:-secure fast} glibc"
shopt -s nullglob
files=("$FUZZ_ROOT"/fuzz/corpus/* "$FUZZ_ROOT"/fuzz/regressions/*)
[ "${#files[@]}" -gt 0 ] || { echo "# skip: no corpus files"; exit 0; }

if ! fuzz_need_lib $VARIANTS; then
    echo "not ok build library: make lib failed (see $FUZZ_BIN/make.log)"
    tail -n 20 "$FUZZ_BIN/make.log" >&2
    exit 1
fi

status=0
declare -A digest
built=""
for v in $VARIANTS; do
    if ! fuzz_build sgf-replay "$v" "$FUZZ_ROOT/fuzz/replay.c" 2>"$FUZZ_BIN/build-replay-$v.log"; then
        echo "not ok build replay $v: $(head -n 3 "$FUZZ_BIN/build-replay-$v.log" | tr '\n' ' ')"
        status=1
        continue
    fi
    built="$built $v"
    for f in "${files[@]}"; do
        name=${f#"$FUZZ_ROOT"/fuzz/}
        err=$FUZZ_BIN/replay-$v.err
        out=$(timeout -k 5 60 "$FUZZ_BIN/sgf-replay-$v" -d -t 4 -b "$f" 2>"$err" </dev/null)
        rc=$?
        if [ "$rc" -eq 0 ]; then
            echo "ok replay $v $name"
            digest[$v,$name]=${out%% *}
        else
            why=$(grep -m1 -E '^(sgf|slabguard):' "$err" || true)
            [ "$rc" -eq 124 ] && why="timed out after 60 s"
            echo "not ok replay $v $name: exit $rc${why:+: $why} (reproduce: $FUZZ_BIN/sgf-replay-$v -t 4 -b $f; one thread: -t 1)"
            status=1
        fi
    done
done

# Differential: every variant that replayed a file must give glibc's answers.
for f in "${files[@]}"; do
    name=${f#"$FUZZ_ROOT"/fuzz/}
    ref=${digest[glibc,$name]:-}
    [ -n "$ref" ] || continue
    bad=""
    for v in $built; do
        [ "$v" = glibc ] && continue
        d=${digest[$v,$name]:-}
        [ -n "$d" ] && [ "$d" != "$ref" ] && bad="$bad $v"
    done
    if [ -z "$bad" ]; then
        echo "ok diff $name"
    else
        echo "not ok diff $name: answers differ from glibc in:$bad (see: fuzz/differential.sh $f)"
        status=1
    fi
done
exit $status
