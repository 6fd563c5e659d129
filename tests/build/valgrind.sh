#!/usr/bin/env bash
# tests/build/valgrind.sh: `make VALGRIND=1` builds the library with memcheck client requests, so a
# program run under valgrind with it preloaded has slabguard's blocks checked like heap blocks: a
# clean program reports no error, and a leak, a read of a freed block and a branch on
# uninitialised heap memory are each reported (both variants).
set -u
cd "$(dirname "$0")/../.."
if ! command -v valgrind >/dev/null || [ ! -f /usr/include/valgrind/memcheck.h ]; then
    echo "ok valgrind # skip: valgrind not installed"; exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! make -s -j2 VALGRIND=1 BUILD="$out/lib" "$out/lib/libslabguard.so" "$out/lib/libslabguard-fast.so" >"$out/build.log" 2>&1; then
    echo "not ok valgrind build: $(grep -m1 -E 'error|warning' "$out/build.log")"; exit 0
fi
cc -O0 -g tests/build/src/vg_client.c -o "$out/client" || { echo "not ok valgrind client build"; exit 0; }
for lib in libslabguard libslabguard-fast; do
    for mode in 0 1 2 3; do
        LD_PRELOAD="$out/lib/$lib.so" timeout 120 valgrind -q --error-exitcode=9 --leak-check=full \
            "$out/client" "$mode" >"$out/run.$mode" 2>&1
        rc=$?
        case $mode in
            0) want="no error"; [ $rc = 0 ] && ! grep -q '==[0-9]*==' "$out/run.$mode"; ok=$? ;;
            1) want="a leak of 100 bytes"; grep -q 'definitely lost.*100 bytes\|100 bytes in 1 blocks are definitely lost' "$out/run.$mode"; ok=$? ;;
            2) want="an invalid read of a freed block"; grep -q 'Invalid read' "$out/run.$mode" && grep -q 'free' "$out/run.$mode"; ok=$? ;;
            3) want="a branch on uninitialised memory"; grep -q 'uninitialised value' "$out/run.$mode"; ok=$? ;;
        esac
        if [ $ok = 0 ]; then echo "ok valgrind $lib mode $mode: memcheck reports $want"
        else echo "not ok valgrind $lib mode $mode: want $want, got (status $rc): $(grep -m3 '==' "$out/run.$mode" | tr '\n' ' ')"; fi
    done
done
