/* tests/misuse/property_randomized_every_class.c: a property, not a bug. property_randomized
 * looks at one size; here every size class is looked at, from 8 bytes to 115 KiB (requests
 * about 12% apart): 256 blocks of each in a row, and how many consecutive pairs are neighbours
 * (one slot apart; the slot size is the smallest distance between two of the blocks). A class
 * handed out in address order makes about 250 of 255; randomized, the most seen in 20 runs was
 * 74 (large slots, few to a window), and the limit is half. Then the program aborts on purpose
 * with a "randomized" line. A sequential allocator runs to its end (not caught in the fast
 * variant). */
// expect: test: randomized in every class
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

enum { N = 256 };

int main(void)
{
    static char *p[N];
    int bad = 0;
    for (size_t r = 8; r <= 120000; r += r / 8 + 8) {
        for (int i = 0; i < N; i++)
            p[i] = malloc(opaque_size(r));
        uintptr_t slot = UINTPTR_MAX;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                if (p[j] > p[i] && (uintptr_t)(p[j] - p[i]) < slot)
                    slot = (uintptr_t)(p[j] - p[i]);
        int adjacent = 0;
        for (int i = 1; i < N; i++) {
            intptr_t d = p[i] - p[i - 1];
            adjacent += d == (intptr_t)slot || d == -(intptr_t)slot;
        }
        if (adjacent * 2 > N - 1) {
            printf("# requests of %zu bytes: %d of %d consecutive pairs are neighbours\n", r, adjacent, N - 1);
            bad++;
        }
        for (int i = 0; i < N; i++)
            free(p[i]);
    }
    if (bad)
        return 0;
    fprintf(stderr, "test: randomized in every class\n");
    abort();
}
