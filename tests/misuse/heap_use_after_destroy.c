/* tests/misuse/heap_use_after_destroy.c: allocating from a heap after sg_heap_destroy. */
// expect: slabguard: use of destroyed heap of 0x[0-9a-f]+
// fast: expect
#include "../check.h"
#include "slabguard.h"

int main(void)
{
    sg_heap_t *h = sg_heap_new();
    void *p = sg_heap_malloc(h, opaque_size(64));
    (void)p;
    sg_heap_destroy(h);
    void *q = sg_heap_malloc(opaque_ptr(h), opaque_size(64));
    printf("# malloc from a destroyed heap returned %p\n", q);
    return 0;
}
