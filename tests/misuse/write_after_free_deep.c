/* tests/misuse/write_after_free_deep.c: a write into a freed 20000-byte block, 15000 bytes in:
 * past the first 4 KiB of the slot. The malloc that hands the slot out again reads as far as the
 * freed block reached (its size word survives the free) and finds the byte. Blocks allocated
 * after it stay live, so its page is never given back (that would read the slot too): the
 * report comes from the hand-out. Blocks of the same size come and go until the slot returns. */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slot_reuse.h"

#define KEEP 16
#define BATCH 64
#define ROUNDS 200

int main(void)
{
    static void *keep[KEEP];
    char *p = malloc(opaque_size(20000));
    for (int i = 0; i < KEEP; i++)
        keep[i] = malloc(opaque_size(20000));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    ((volatile char *)addr)[15000] = 'A';
    if (slot_came_back(addr, 20000, BATCH, ROUNDS))
        return 0;
    for (int i = 0; i < KEEP; i++)
        free(keep[i]);
    return 0;
}
