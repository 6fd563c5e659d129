/* tests/misuse/property_class_isolation.c: a property, not a bug. 4000 blocks of 64 bytes fill a
 * few pages; all are freed, blocks of another size push them out of the quarantine, and
 * malloc_trim gives their emptied pages back. Then 4000 blocks of 1000 bytes are allocated: how
 * many lie where the 64-byte blocks were? With size-class isolation none (a span serves one size
 * for good, so a dangling pointer to a 64-byte block never reaches a 1000-byte one); then the
 * program aborts on purpose with a "class isolation" line. An allocator that hands the spans
 * given back to the next size that needs pages runs to its end. */
// expect: test: class isolation \(0 of 4000 blocks of 1000 bytes where the 64-byte blocks were\)
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define N 4000

int main(void)
{
    static void *small[N], *big[N];
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < N; i++) {
        small[i] = malloc(opaque_size(64));
        if (!small[i])
            return 1;
        uintptr_t a = (uintptr_t)small[i];
        lo = a < lo ? a : lo;
        hi = a + 64 > hi ? a + 64 : hi;
    }
    for (int i = 0; i < N; i++)
        free(small[i]);
    for (int i = 0; i < N; i++)   /* the quarantine lets the 64-byte blocks go */
        free(opaque_ptr(malloc(opaque_size(40))));
    malloc_trim(0);
    int inside = 0;
    for (int i = 0; i < N; i++) {
        big[i] = malloc(opaque_size(1000));
        if (!big[i])
            return 1;
        inside += (uintptr_t)big[i] + 1000 > lo && (uintptr_t)big[i] < hi;
    }
    printf("# the 64-byte blocks were in [%#lx, %#lx); %d of %d blocks of 1000 bytes are there\n",
           (unsigned long)lo, (unsigned long)hi, inside, N);
    fflush(stdout);
    if (inside == 0) {
        fprintf(stderr, "test: class isolation (0 of %d blocks of 1000 bytes where the 64-byte blocks were)\n", N);
        abort();
    }
    for (int i = 0; i < N; i++)
        free(big[i]);
    return 0;
}
