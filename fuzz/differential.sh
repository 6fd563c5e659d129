#!/usr/bin/env bash
# fuzz/differential.sh FILE...: run each input on glibc and on each variant (secure, fast) and
# compare the observable answers (NULL or not, errno, posix_memalign's code). On a difference it
# prints the first ops whose answers differ, from the -v traces:
#   <op index> r<record> t<thread> <call> t<slot> size=<bytes> n=<count|alignment> -> <answer>
# where the answer is 0 (a pointer), 1000+errno (NULL), or a return code.
# Environment: BUILD (default build), SG_TEST_VARIANTS ("secure fast").
set -u
. "$(dirname "$0")/lib.sh"
mkdir -p "$FUZZ_BIN"
[ $# -gt 0 ] || { echo "usage: $0 FILE..." >&2; exit 2; }
VARIANTS="glibc ${SG_TEST_VARIANTS:-secure fast}"
fuzz_need_lib $VARIANTS || { echo "make lib failed: $FUZZ_BIN/make.log" >&2; exit 2; }
for v in $VARIANTS; do
    fuzz_build sgf-replay "$v" "$FUZZ_ROOT/fuzz/replay.c" || exit 2
done
status=0
for f in "$@"; do
    for v in $VARIANTS; do
        FUZZ_THREADS=1 "$FUZZ_BIN/sgf-replay-$v" -v "$f" 2>&1 | sed 's/^\(sgf: .*\) 0x[0-9a-f]*/\1/' \
            | grep -v '^== ' >"$FUZZ_BIN/diff-$v.trace"
    done
    same=1
    for v in $VARIANTS; do
        [ "$v" = glibc ] && continue
        if ! cmp -s "$FUZZ_BIN/diff-glibc.trace" "$FUZZ_BIN/diff-$v.trace"; then
            same=0
            echo "$f: $v differs from glibc (- glibc, + $v):"
            diff "$FUZZ_BIN/diff-glibc.trace" "$FUZZ_BIN/diff-$v.trace" | grep '^[<>]' | head -n 10 |
                sed 's/^</  -/; s/^>/  +/'
        fi
    done
    if [ "$same" = 1 ]; then echo "$f: same answers"; else status=1; fi
done
exit $status
