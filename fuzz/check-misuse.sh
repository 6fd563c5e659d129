#!/usr/bin/env bash
# fuzz/check-misuse.sh [BUILD_DIR]: the misuse harness against the secure variant only.
# Every bug class (double free, interior free, overflow past the usable size, write after free,
# invalid free, realloc after free, free_sized with a wrong size) at sizes from 1 byte to past 1 MiB, each in a forked child:
# "ok misuse <class> size=<n> ..." when the child aborts with its class's report naming the pointer (or, for
# overflow and write after free, faults on a guard page). Classes listed in
# fuzz/misuse-known-gaps.txt pass as "# known gap"; a line says when a listed class is now caught.
set -u
BUILD=${1:-${BUILD:-build}}
. "$(dirname "$0")/lib.sh"
mkdir -p "$FUZZ_BIN"
ulimit -c 0 2>/dev/null
case " ${SG_TEST_VARIANTS:-secure fast} " in
    *" secure "*) ;;
    *) echo "# skip: the misuse harness runs against the secure variant only"; exit 0 ;;
esac
if ! fuzz_need_lib secure; then
    echo "not ok misuse build: make lib failed (see $FUZZ_BIN/make.log)"
    exit 1
fi
if ! fuzz_build sgf-misuse secure "$FUZZ_ROOT/fuzz/misuse.c" "$FUZZ_ROOT/fuzz/misuse_main.c" \
    2>"$FUZZ_BIN/build-misuse.log"; then
    echo "not ok misuse build: $(head -n 3 "$FUZZ_BIN/build-misuse.log" | tr '\n' ' ')"
    exit 1
fi
timeout -k 5 300 "$FUZZ_BIN/sgf-misuse-secure" -g "$FUZZ_ROOT/fuzz/misuse-known-gaps.txt" --cases </dev/null
rc=$?
[ "$rc" -eq 124 ] && echo "not ok misuse: timed out after 300 s"
exit $rc
