/* tests/misuse/double_free_after_realloc.c: realloc moved the block; the caller frees the old
 * pointer anyway (realloc already freed it). */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 64\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p;
    void *q = realloc(p, opaque_size(4096));
    if (!q || (uintptr_t)q == addr) {
        printf("# realloc did not move the block (%p): nothing to test\n", q);
        return 2;
    }
    free((void *)addr);
    printf("# free of the old pointer %#lx returned\n", (unsigned long)addr);
    free(q);
    return 0;
}
