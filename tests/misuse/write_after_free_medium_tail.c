/* tests/misuse/write_after_free_medium_tail.c: a write into a freed 12000-byte block, 9000
 * bytes in, whose slot is never handed out again (write_after_free_deep is the one that is).
 * The page's other blocks are freed too, then blocks of other sizes come and go until the page
 * is given back: that reads the rest of each slot past its first 4 KiB, and names this block
 * with its size. (Before, the byte stayed until the page was carved into small slots, and the
 * report named whichever small slot was handed out over it, or nothing happened.) */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size 12280\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slot_reuse.h"

#define N 64          /* 12 KiB blocks: the written one's page and more */
#define SMALL 20000   /* small blocks a round: the quarantine lets the large ones go */
#define ROUNDS 20

int main(void)
{
    static void *med[N], *small[SMALL];
    write_into_freed(med, N, 12000, 9000);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < SMALL; i++)
            small[i] = malloc(opaque_size(48 + (size_t)(i % 8) * 16));
        for (int i = 0; i < SMALL; i++)
            free(small[i]);
        for (int i = 0; i < N; i++)
            med[i] = malloc(opaque_size(3000));
        for (int i = 0; i < N; i++)
            free(med[i]);
    }
    printf("# not caught after %d rounds\n", ROUNDS);
    return 0;
}
