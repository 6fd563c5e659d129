#!/usr/bin/env bash
# gcc: compiles slabguard's own sources (a few thousand lines of C11, with the library's flags) at
# -O2 -g, each object byte for byte glibc's run's, plus a generated program of ~600 lines that is
# linked and run. The driver, cc1, as and ld all run preloaded.
. "$(dirname "$0")/../../preload/common.bash"
GCC=$(real_program gcc)
[ -n "$GCC" ] || { echo "# skip gcc: not installed"; exit 0; }
export GCC SRC_ROOT=$PWD
gcc_workload() {
    cp -r "$SRC_ROOT/src" "$SRC_ROOT/include" . || return 1
    for f in src/*.c; do
        "$GCC" -std=c11 -O2 -g -fPIC -D_GNU_SOURCE -DSG_VERSION='"test"' -Iinclude -Isrc \
            -c "$f" -o "${f%.c}.o" || return 1
    done
    sha256sum src/*.o
    awk 'BEGIN {
        print "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>"
        for (i = 0; i < 150; i++) {
            printf "struct n%d { struct n%d *next; char tag[%d]; long v; };\n", i, i, i % 23 + 1
            printf "static long run%d(int k) {\n  struct n%d *h = NULL; long s = 0;\n", i, i
            printf "  for (int j = 0; j < k; j++) { struct n%d *n = malloc(sizeof *n); n->v = j * %d; memset(n->tag, j, sizeof n->tag); n->next = h; h = n; }\n", i, i + 1
            printf "  while (h) { struct n%d *n = h->next; s += h->v ^ h->tag[0]; free(h); h = n; }\n  return s;\n}\n", i
        }
        print "int main(void) {\n  long t = 0;"
        for (i = 0; i < 150; i++) printf "  t += run%d(%d);\n", i, i * 3 + 10
        print "  printf(\"%ld\\n\", t);\n  return 0;\n}"
    }' >gen.c
    wc -l <gen.c
    "$GCC" -O2 -Wall -o gen gen.c && ./gen || return 1
    "$GCC" -O0 -S gen.c -o - | grep -c call
}
compare gcc gcc_workload
