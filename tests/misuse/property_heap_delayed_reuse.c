/* tests/misuse/property_heap_delayed_reuse.c: a property, not a bug. What
 * property_delayed_reuse.c asks of malloc, asked of a first-class heap: sg_heap_free(h, p), then
 * sg_heap_malloc(h) of the same size, 1000 times with different sizes. The heap's ring keeps
 * immediate reuse under 1%; then the program aborts on purpose with a "delayed reuse" line.
 * Also: a limited heap whose ring holds blocks still fills to its limit (the ring gives way). */
// expect: test: heap delayed reuse \([0-9]+ of 1000 reused at once\)
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slabguard.h"

#define N 1000

int main(void)
{
    sg_heap_t *h = sg_heap_new();
    int reused = 0;
    for (int i = 0; i < N; i++) {
        size_t size = 1 + ((size_t)i * 37) % 4000;
        void *p = sg_heap_malloc(h, opaque_size(size));
        uintptr_t old = (uintptr_t)p;
        sg_heap_free(h, p);
        void *q = sg_heap_malloc(h, opaque_size(size));
        if ((uintptr_t)q == old)
            reused++;
        sg_heap_free(h, q);
    }
    sg_heap_destroy(h);
    printf("# %d of %d reused at once\n", reused, N);
    /* a limited heap, filled with 64-byte blocks, all freed, filled again: as many blocks */
    size_t limit = (size_t)1 << 20, first = 0, second = 0;
    static void *b[1 << 16];
    h = sg_heap_new_limited(limit);
    while (first < (size_t)1 << 16 && (b[first] = sg_heap_malloc(h, opaque_size(64))) != NULL)
        first++;
    for (size_t i = 0; i < first; i++)
        sg_heap_free(h, b[i]);
    while (second < (size_t)1 << 16 && (b[second] = sg_heap_malloc(h, opaque_size(64))) != NULL)
        second++;
    printf("# limited heap: %zu blocks, then %zu\n", first, second);
    fflush(stdout);
    if (first == 0 || second < first) {
        fprintf(stderr, "test: the limited heap refilled with %zu blocks of %zu\n", second, first);
        return 1;
    }
    sg_heap_destroy(h);
    if (reused * 100 < N) {
        fprintf(stderr, "test: heap delayed reuse (%d of %d reused at once)\n", reused, N);
        abort();
    }
    return 0;
}
