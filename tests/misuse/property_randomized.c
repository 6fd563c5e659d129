/* tests/misuse/property_randomized.c: a property, not a bug. 2000 malloc(64) in a row: how many
 * consecutive pairs are neighbours in memory (within 128 bytes)? Randomized slot selection keeps
 * it near chance level for its window (a window holds 64 to 204 of these slots): 27 on average,
 * 44 at most in 600 runs; a sequential allocator makes nearly all 1999. Under 4% (80), the
 * program aborts on purpose with a "randomized" line (the limit was 2%, which 1 run in 100
 * crossed); a sequential allocator runs to its end ("not caught" in the fast variant). */
// expect: test: randomized \([0-9]+ adjacent of 1999\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define N 2000

int main(void)
{
    static void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = malloc(opaque_size(64));
    int adjacent = 0;
    for (int i = 0; i + 1 < N; i++) {
        intptr_t d = (intptr_t)p[i + 1] - (intptr_t)p[i];
        if (d >= -128 && d <= 128)
            adjacent++;
    }
    printf("# %d adjacent pairs of %d\n", adjacent, N - 1);
    fflush(stdout);
    if (adjacent * 25 < N - 1) {
        fprintf(stderr, "test: randomized (%d adjacent of %d)\n", adjacent, N - 1);
        abort();
    }
    for (int i = 0; i < N; i++)
        free(p[i]);
    return 0;
}
