#!/usr/bin/env bash
# fuzz/replay-crashes.sh [AFL_OUT_DIR]: replay every crash AFL++ saved (default $BUILD/fuzz/afl)
# on the plain replay driver of each variant, single-threaded then on 4 threads, and print
# how each ends with the command that reproduces it. Exit 1 if any crash reproduces.
set -u
. "$(dirname "$0")/lib.sh"
OUT=${1:-$FUZZ_BIN/afl}
shopt -s nullglob
crashes=("$OUT"/*/crashes/id:*)
if [ "${#crashes[@]}" -eq 0 ]; then
    echo "no crashes saved in $OUT"
    exit 0
fi
mkdir -p "$FUZZ_BIN"
fuzz_need_lib secure fast || exit 2
for v in secure fast; do fuzz_build sgf-replay "$v" "$FUZZ_ROOT/fuzz/replay.c" || exit 2; done
ulimit -c 0 2>/dev/null
status=0
for f in "${crashes[@]}"; do
    for v in secure fast; do
        for t in 1 4; do
            msg=$(timeout -k 5 60 "$FUZZ_BIN/sgf-replay-$v" -t "$t" "$f" 2>&1 >/dev/null </dev/null)
            rc=$?
            if [ "$rc" -ne 0 ]; then
                echo "$f: $v, $t thread(s): exit $rc: $(echo "$msg" | grep -m1 -E '^(sgf|slabguard):')"
                echo "  reproduce: $FUZZ_BIN/sgf-replay-$v -t $t '$f'"
                status=1
                break
            fi
        done
    done
done
[ "$status" = 0 ] && echo "${#crashes[@]} saved crash(es) do not reproduce outside AFL++ (persistent-mode state)"
exit $status
