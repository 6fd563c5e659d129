/* tests/misuse/double_free_large_after_realloc.c: realloc grew a large block by moving its pages
 * to a new address; the caller frees the old pointer anyway. The fast variant keeps no record
 * of the old address (an "invalid free" there), so it stops before the second free, as
 * double_free_large does. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 1048576\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slabguard.h"

int main(void)
{
    size_t size = opaque_size(1 << 20);
    char *p = malloc(size);
    volatile uintptr_t addr = (uintptr_t)p;
    for (size_t i = 0; i < size; i += 4096)
        p[i] = 'x';
    char *q = realloc(p, 2 * size);
    if (!q || (uintptr_t)q == addr) {
        printf("# realloc did not move the block (%p): nothing to test\n", (void *)q);
        return 2;
    }
    if (!sg_is_secure()) {
        printf("# fast variant: no record of the old address; its free would be an \"invalid free\"\n");
        free(q);
        return 0;
    }
    free((void *)addr);
    printf("# free of the old pointer %#lx returned\n", (unsigned long)addr);
    free(q);
    return 0;
}
