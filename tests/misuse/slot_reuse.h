/* tests/misuse/slot_reuse.h: wait until a freed slot is handed out again. Blocks of one size are
 * allocated a batch at a time and freed again, round after round, so the quarantine lets the
 * slot go. Returns the round in which a malloc returned addr (that batch is left allocated: the
 * caller is about to report and end), or -1 if none did in `rounds` rounds. */
#ifndef SG_TEST_SLOT_REUSE_H
#define SG_TEST_SLOT_REUSE_H

#include <stdint.h>
#include <stdlib.h>

#include "../check.h"

#define SLOT_REUSE_MAX_BATCH 256

static int alloc_until_slot_returns(uintptr_t addr, size_t size, int batch, int rounds)
{
    static void *held[SLOT_REUSE_MAX_BATCH];
    if (batch > SLOT_REUSE_MAX_BATCH)
        batch = SLOT_REUSE_MAX_BATCH;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < batch; i++) {
            held[i] = malloc(opaque_size(size));
            if ((uintptr_t)held[i] == addr)
                return r;
        }
        for (int i = 0; i < batch; i++)
            free(held[i]);
    }
    return -1;
}

#endif
