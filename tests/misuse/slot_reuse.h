/* tests/misuse/slot_reuse.h: freed slots written through a dangling pointer.
 *
 *   write_into_freed(blocks, n, size, offset)
 *       allocate n blocks of size into blocks, free them all, then write one byte at offset into
 *       the middle one (says which on stdout); returns its address
 *   slot_came_back(addr, size, batch, rounds)
 *       wait until a freed slot is handed out again. Blocks of one size are allocated a batch at
 *       a time and freed again, round after round, so the quarantine lets the slot go. Returns 1
 *       when a malloc returned addr without a report (that batch is left allocated: the caller
 *       is about to end), 0 if none did in `rounds` rounds; says which on stdout.
 *   deep_write_until_back(zero_at)
 *       a write 15000 bytes into a freed 20000-byte block, then slot_came_back (below).
 *   freed_among_neighbours() / small_write_until_back(addr)
 *       a freed 64-byte block among 100 live ones of its size (its page never empties, so it is
 *       never given back): its address; then, once the caller wrote into it, slot_came_back
 *       with batches of 200 for 200 rounds, and the neighbours freed. */
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

/* write_after_free_deep and write_after_free_size_word_zeroed: a freed 20000-byte block written
 * 15000 bytes in (and, if zero_at is not 0, 4 zero bytes at that offset), 16 blocks of its size
 * kept live so its page is never given back, then blocks of its size come and go until its slot
 * returns. */
__attribute__((unused)) static void deep_write_until_back(size_t zero_at)
{
    enum { KEEP = 16, BATCH = 64, ROUNDS = 200 };
    static void *keep[KEEP];
    char *p = malloc(opaque_size(20000));
    for (int i = 0; i < KEEP; i++)
        keep[i] = malloc(opaque_size(20000));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    ((volatile char *)addr)[15000] = 'A';
    if (zero_at)
        *(volatile uint32_t *)(addr + zero_at) = 0;
    if (slot_came_back(addr, 20000, BATCH, ROUNDS))
        return;
    for (int i = 0; i < KEEP; i++)
        free(keep[i]);
}

enum { SMALL_KEEP = 100 };
static void *small_keep[SMALL_KEEP];

__attribute__((unused)) static uintptr_t freed_among_neighbours(void)
{
    for (int i = 0; i < SMALL_KEEP; i++)
        small_keep[i] = malloc(opaque_size(64));
    char *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    return addr;
}

__attribute__((unused)) static void small_write_until_back(uintptr_t addr)
{
    if (slot_came_back(addr, 64, 200, 200))
        return;
    for (int i = 0; i < SMALL_KEEP; i++)
        free(small_keep[i]);
}

#endif
