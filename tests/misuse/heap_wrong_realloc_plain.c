/* tests/misuse/heap_wrong_realloc_plain.c: a block from plain malloc given to sg_heap_realloc: it
 * belongs to no first-class heap. */
// expect: slabguard: realloc into the wrong heap of 0x[0-9a-f]+
// fast: expect
#include <stdlib.h>

#include "../check.h"
#include "slabguard.h"

int main(void)
{
    sg_heap_t *b = sg_heap_new();
    void *p = malloc(opaque_size(1 << 20));
    void *q = sg_heap_realloc(b, p, opaque_size(2 << 20));
    printf("# realloc of a plain block into b returned %p\n", q);
    return 0;
}
