/* tests/misuse/heap_realloc_after_free.h: the program of heap_realloc_after_free and
 * heap_realloc_after_free_large, for a block of SIZE bytes (defined before this is included):
 * sg_heap_free it, then sg_heap_realloc it. */
#ifndef SG_TEST_HEAP_REALLOC_AFTER_FREE_H
#define SG_TEST_HEAP_REALLOC_AFTER_FREE_H

#include <stdio.h>

#include "../check.h"
#include "slabguard.h"

int main(void)
{
    sg_heap_t *h = sg_heap_new();
    void *p = sg_heap_malloc(h, opaque_size(SIZE));
    if (!p)
        return 1;
    sg_heap_free(h, p);
    if (SIZE > 131072 && !sg_is_secure()) {
        printf("# fast variant: no record of freed large blocks\n");
        return 0;
    }
    void *q = sg_heap_realloc(h, opaque_ptr(p), 2 * SIZE);
    printf("# sg_heap_realloc of a freed %d-byte block returned %p\n", SIZE, q);
    return 0;
}

#endif
