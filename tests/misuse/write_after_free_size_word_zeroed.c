/* tests/misuse/write_after_free_size_word_zeroed.c: write_after_free_deep with a second dangling
 * write, past the freed block, that zeroes the slot's size word (its last 4 bytes; 20000-byte
 * blocks take 20480-byte slots). A slot with no size word looked never handed out, and the
 * check at hand-out read only its first 4 KiB: the byte 15000 bytes in reached the next owner
 * unseen (found by a red-team helper). Such a slot is now read whole. */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slot_reuse.h"

#define KEEP 16
#define BATCH 64
#define ROUNDS 200
#define SLOT 20480

int main(void)
{
    static void *keep[KEEP];
    char *p = malloc(opaque_size(20000));
    for (int i = 0; i < KEEP; i++)
        keep[i] = malloc(opaque_size(20000));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    ((volatile char *)addr)[15000] = 'A';
    *(volatile uint32_t *)(addr + SLOT - 4) = 0;
    if (slot_came_back(addr, 20000, BATCH, ROUNDS))
        return 0;
    for (int i = 0; i < KEEP; i++)
        free(keep[i]);
    return 0;
}
