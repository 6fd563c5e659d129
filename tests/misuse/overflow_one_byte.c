/* tests/misuse/overflow_one_byte.c: one non-zero byte written just past a 64-byte request (the
 * canary's first byte is zero, so a string terminator alone would not change it). */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 64\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(64));
    volatile char *v = opaque_ptr(p);
    for (int i = 0; i < 64; i++)
        v[i] = 'x';
    v[64] = 'A';
    report_names(p);
    free(p);
    printf("# free after a 1-byte overflow returned\n");
    return 0;
}
