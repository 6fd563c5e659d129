/* tests/misuse/heap_calloc_overflow_after_destroy.c: sg_heap_calloc on a destroyed heap with a
 * count and size whose product overflows: the handle is checked before the sizes, so the use of
 * the dead heap is reported (an overflow check that came first returned NULL with ENOMEM). */
// expect: slabguard: use of destroyed heap of 0x[0-9a-f]+
// fast: expect
#include <stdint.h>

#include "../check.h"
#include "slabguard.h"

int main(void)
{
    sg_heap_t *h = sg_heap_new();
    sg_heap_destroy(h);
    void *q = sg_heap_calloc(opaque_ptr(h), opaque_size(SIZE_MAX / 2), 4);
    printf("# calloc from a destroyed heap returned %p\n", q);
    return 0;
}
