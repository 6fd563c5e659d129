/* tests/misuse/slot_reuse.h: freed slots written through a dangling pointer.
 *
 *   write_into_freed(blocks, n, size, offset)
 *       allocate n blocks of size into blocks, free them all, then write one byte at offset into
 *       the middle one (says which on stdout); returns its address
 *   slot_came_back(addr, size, batch, rounds)
 *       wait until a freed slot is handed out again. Blocks of one size are allocated a batch at
 *       a time and freed again, round after round, so the quarantine lets the slot go. Returns 1
 *       when a malloc returned addr without a report (that batch is left allocated: the caller
 *       is about to end), 0 if none did in `rounds` rounds; says which on stdout. */
#ifndef SG_TEST_SLOT_REUSE_H
#define SG_TEST_SLOT_REUSE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define SLOT_REUSE_MAX_BATCH 256

__attribute__((unused)) static uintptr_t write_into_freed(void **blocks, int n, size_t size, size_t offset)
{
    for (int i = 0; i < n; i++)
        blocks[i] = malloc(opaque_size(size));
    volatile uintptr_t addr = (uintptr_t)blocks[n / 2];
    printf("# the dangling block is %#lx\n", (unsigned long)addr);
    fflush(stdout);
    for (int i = 0; i < n; i++)
        free(blocks[i]);
    ((volatile char *)addr)[offset] = 'A';
    return addr;
}

__attribute__((unused)) static int slot_came_back(uintptr_t addr, size_t size, int batch, int rounds)
{
    static void *held[SLOT_REUSE_MAX_BATCH];
    if (batch > SLOT_REUSE_MAX_BATCH)
        batch = SLOT_REUSE_MAX_BATCH;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < batch; i++) {
            held[i] = malloc(opaque_size(size));
            if ((uintptr_t)held[i] == addr) {
                printf("# round %d: the written slot %#lx came back without a report\n", r,
                       (unsigned long)addr);
                return 1;
            }
        }
        for (int i = 0; i < batch; i++)
            free(held[i]);
    }
    printf("# the slot %#lx never came back in %d allocations\n", (unsigned long)addr, rounds * batch);
    return 0;
}

#endif
