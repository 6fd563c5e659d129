/* tests/misuse/write_after_free_first_word.c: a write after free into the FIRST 8 bytes of a freed
 * 64-byte block (where a C++ object keeps its vtable pointer, a list node its next pointer),
 * made right after the free, while the block waits in the quarantine. When the block leaves the
 * quarantine that word becomes its free-list link; the write must not simply be overwritten and
 * forgotten: it must be reported, as a write after free (or as a corrupted free list). The
 * program allocates and frees the same size until the slot comes back. */
// expect: slabguard: (write after free|corrupted free list) of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slot_reuse.h"

#define KEEP 100
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
    *(volatile uint64_t *)addr = 0x4141414141414141u;
    if (slot_came_back(addr, 64, BATCH, ROUNDS))
        return 0;
    for (int i = 0; i < KEEP; i++)
        free(keep[i]);
    return 0;
}
