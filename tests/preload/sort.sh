#!/usr/bin/env bash
# tests/preload/sort.sh: GNU sort under LD_PRELOAD on a generated 200000-line file: plain,
# numeric on a key, unique, and with two threads and a small buffer (merging temporary files).
. "$(dirname "$0")/common.bash"

export SORT
SORT=$(real_program sort)
sort_workload() {
    awk 'BEGIN {
        x = 7
        for (i = 0; i < 200000; i++) {
            x = (x * 1103515245 + 12345) % 2147483648
            printf "%s %d %x\n", substr("qwertyuiopasdfghjklzxcvbnm", x % 26 + 1, x % 9 + 1), x % 100003, x
        }
    }' >input.txt
    "$SORT" input.txt | sha256sum
    "$SORT" -n -k2,2 -k3 input.txt | sha256sum
    "$SORT" -u -k1,1 input.txt | wc -l
    "$SORT" --parallel=2 -S 2M -T . -r input.txt | sha256sum
    "$SORT" -R --random-source=input.txt input.txt | sha256sum
}
compare sort sort_workload
