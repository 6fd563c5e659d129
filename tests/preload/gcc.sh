#!/usr/bin/env bash
# tests/preload/gcc.sh: gcc (driver, cc1, as, ld, all preloaded) compiles and runs a hello world,
# and compiles a generated file of 400 functions at -O2; the object must be byte for byte the
# same as glibc's run produced.
. "$(dirname "$0")/common.bash"

GCC=$(real_program gcc)
if [ -z "$GCC" ]; then echo "# skip gcc: not installed"; exit 0; fi
export GCC
gcc_workload() {
    printf '#include <stdio.h>\n#include <stdlib.h>\nint main(void) { char *s = malloc(32); snprintf(s, 32, "hello, %%s", "world"); puts(s); free(s); return 0; }\n' >hello.c
    "$GCC" -O2 -o hello hello.c && ./hello || return 1
    awk 'BEGIN {
        print "#include <string.h>"
        for (i = 0; i < 400; i++) {
            printf "struct s%d { int a[%d]; char name[%d]; };\n", i, i % 17 + 1, i % 40 + 8
            printf "int f%d(struct s%d *p, int n) { int t = 0; for (int k = 0; k < n; k++) t += p->a[k %% %d] * %d; memset(p->name, t, sizeof p->name); return t ^ (int)strlen(p->name); }\n", i, i, i % 17 + 1, i
        }
    }' >big.c
    "$GCC" -O2 -c big.c -o big.o || return 1
    sha256sum big.o
    "$GCC" -O0 -g0 -S big.c -o - | grep -c 'call'
}
compare gcc gcc_workload
