/* tests/misuse/double_free_large_after_realloc.c: realloc grew a large block by moving its pages
 * to a new address; the caller frees the old pointer anyway. The fast variant keeps no record
 * of the old address (an "invalid free" there), so it stops before the second free, as
 * double_free_large does. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 1048576\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"
#include "slabguard.h"

int main(void)
{
    size_t size = opaque_size(1 << 20);
    volatile uintptr_t addr;
    char *q = grow_large(size, 2 * size, &addr);
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
