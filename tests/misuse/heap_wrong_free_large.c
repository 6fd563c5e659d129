/* tests/misuse/heap_wrong_free_large.c: a large block of heap A given to sg_heap_free of heap B
 * (large blocks are owned through the registry, not a page). */
// expect: slabguard: free into the wrong heap of 0x[0-9a-f]+
// fast: expect
#include "../check.h"
#include "slabguard.h"

int main(void)
{
    sg_heap_t *a = sg_heap_new(), *b = sg_heap_new();
    void *p = sg_heap_malloc(a, opaque_size(1 << 20));
    sg_heap_free(b, p);
    printf("# freeing a's large block into b returned\n");
    return 0;
}
