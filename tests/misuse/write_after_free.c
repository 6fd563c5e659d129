/* tests/misuse/write_after_free.c: a write into a freed 64-byte block (past its first 8 bytes,
 * which hold the free-list link once the block leaves the quarantine). Freed slots are zeroed;
 * the malloc that hands the slot out again finds the non-zero byte. Allocations and frees of the
 * same size are repeated until the quarantine has let the slot go and it comes back. */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slot_reuse.h"

#define KEEP 100   /* live neighbours: the page never empties, so it is never given back */
#define BATCH 200
#define ROUNDS 200

int main(void)
{
    static void *keep[KEEP];
    for (int i = 0; i < KEEP; i++)
        keep[i] = malloc(opaque_size(64));
    char *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    volatile char *v = (volatile char *)addr;
    v[16] = 'A';
    report_names((void *)addr);
    if (slot_came_back(addr, 64, BATCH, ROUNDS))
        return 0;
    for (int i = 0; i < KEEP; i++)
        free(keep[i]);
    return 0;
}
