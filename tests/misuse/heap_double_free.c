/* tests/misuse/heap_double_free.c: a block of a first-class heap freed twice with sg_heap_free,
 * with up to 4096 allocations of its size in between, kept live. A heap's free went straight
 * back to its page: the slot was handed out again once the page's other free slots were used,
 * and the second free then freed its new owner's block, silently. The heap's own ring keeps it
 * out of circulation (no other free pushes it out), so the second free finds it freed. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 64\)
#include <stdint.h>

#include "../check.h"
#include "slabguard.h"

int main(void)
{
    sg_heap_t *h = sg_heap_new();
    void *p = sg_heap_malloc(h, opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p;
    sg_heap_free(h, p);
    static void *live[4096];
    int n = 0, reused = 0;
    while (n < 4096 && !reused) {
        live[n] = sg_heap_malloc(h, opaque_size(64));
        reused = (uintptr_t)live[n++] == addr;
    }
    sg_heap_free(h, (void *)addr);
    printf("# the second sg_heap_free of %#lx returned (%s after %d allocations)\n", (unsigned long)addr,
           reused ? "reused" : "not reused", n);
    return 0;
    return 0;
}
