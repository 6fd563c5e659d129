/* tests/misuse/write_after_free_size_word_released.c: write_after_free_size_word where the slot
 * is never handed out again: all 64-byte blocks are freed, the quarantine lets them go (blocks
 * of another size pass through it) and malloc_trim gives their emptied pages back. The release
 * reads every free slot's size word too, and names this block. */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define N 2000          /* 64-byte blocks: several pages */
#define OTHERS 4000     /* frees of another size: the quarantine lets the 64-byte ones go */
#define SIZE_WORD 76    /* 64 bytes + 8 of canary: an 80-byte slot, its size word at 76 */

int main(void)
{
    static void *blocks[N];
    for (int i = 0; i < N; i++)
        blocks[i] = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)blocks[N / 2];
    printf("# the dangling block is %#lx\n", (unsigned long)addr);
    fflush(stdout);
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    *(volatile uint32_t *)(addr + SIZE_WORD) ^= 0x80000000u;
    for (int i = 0; i < OTHERS; i++)
        free(opaque_ptr(malloc(opaque_size(40))));
    malloc_trim(0);
    printf("# not caught\n");
    return 0;
}
