/* tests/misuse/property_delayed_reuse.c: a property, not a bug. free(p) then malloc of the same
 * size, 1000 times with different sizes: how often does the new block reuse p at once? The
 * quarantine keeps it under 1%; then the program aborts on purpose with a "delayed reuse" line.
 * An allocator that reuses the last freed block at once runs to its end. */
// expect: test: delayed reuse \([0-9]+ of 1000 reused at once\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define N 1000

int main(void)
{
    int reused = 0;
    for (int i = 0; i < N; i++) {
        size_t size = 1 + ((size_t)i * 37) % 4000;
        void *p = malloc(opaque_size(size));
        uintptr_t old = (uintptr_t)p;
        free(p);
        void *q = malloc(opaque_size(size));
        if ((uintptr_t)q == old)
            reused++;
        free(q);
    }
    printf("# %d of %d reused at once\n", reused, N);
    fflush(stdout);
    if (reused * 100 < N) {
        fprintf(stderr, "test: delayed reuse (%d of %d reused at once)\n", reused, N);
        abort();
    }
    return 0;
}
