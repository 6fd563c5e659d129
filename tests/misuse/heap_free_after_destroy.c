/* tests/misuse/heap_free_after_destroy.c: a block of a destroyed heap freed through a pointer
 * kept from before sg_heap_destroy, after the program went on allocating 20000 blocks of the
 * same size. The destroyed heap's pages wait before their spans are reused (as freed blocks
 * wait in a quarantine), so the pointer still designates no block and its free is reported.
 * When the spans went straight back, a new page took the span within a few hundred mallocs, the
 * stale free freed somebody's live block unreported, and only that block's own free was caught
 * (as a double free). Large blocks of the heap go to the ring of freed blocks: the same holds. */
// expect: slabguard: invalid free of 0x[0-9a-f]+
#include "../check.h"
#include "slabguard.h"

#define N 20000

int main(void)
{
    static void *live[N];
    sg_heap_t *h = sg_heap_new();
    void *small = sg_heap_malloc(h, opaque_size(64)), *big = sg_heap_malloc(h, opaque_size(300000));
    sg_heap_destroy(h);
    int aliased = 0;
    for (int i = 0; i < N; i++) {
        live[i] = sg_malloc(opaque_size(64));
        aliased += live[i] == small;
    }
    void *other = sg_malloc(opaque_size(300000));
    printf("# the destroyed heap's block handed out again: %s; its large block: %s\n", aliased ? "yes" : "no",
           other == big ? "yes" : "no");
    fflush(stdout);
    sg_free(opaque_ptr(small));
    printf("# stale free returned\n");
    return 0;
}
