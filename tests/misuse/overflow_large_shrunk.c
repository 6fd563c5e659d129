/* tests/misuse/overflow_large_shrunk.c: a large block that realloc shrank where it is ends up to
 * a page before the inaccessible pages that follow it now. A write 100 bytes past its new end,
 * beyond the 16-byte canary, does not fault; those bytes must still read zero at free. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 9437189\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    size_t size = opaque_size(32 << 20);
    char *p = malloc(size);
    for (size_t i = 0; i < size; i += 4096)
        p[i] = 'x';
    size_t shrunk = opaque_size((9 << 20) + 5);   /* 8 MiB or more: shrunk where it is */
    uintptr_t was = (uintptr_t)p;
    char *q = realloc(p, shrunk);
    if (!q) {
        printf("# realloc failed\n");
        return 2;
    }
    printf("# shrunk to %zu bytes at %p (%s)\n", shrunk, (void *)q, (uintptr_t)q == was ? "in place" : "moved");
    volatile char *v = opaque_ptr(q);
    if ((((uintptr_t)q + shrunk) & 4095) + 100 >= 4096) {
        printf("# the new end is within 100 bytes of a page end: nothing to test\n");
        return 2;
    }
    v[shrunk + 100] = 'A';
    free(q);
    printf("# free after a write 100 bytes past a shrunk large block returned\n");
    return 0;
}
