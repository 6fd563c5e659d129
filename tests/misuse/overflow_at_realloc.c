/* tests/misuse/overflow_at_realloc.c: a 1-byte overflow, then realloc to a bigger size (which
 * moves the block): realloc checks the canary before it copies. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 64\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(64));
    volatile char *v = opaque_ptr(p);
    v[64] = 'A';
    char *q = realloc(p, opaque_size(4096));
    printf("# realloc after an overflow returned %p\n", (void *)q);
    free(q);
    return 0;
}
