/* tests/misuse/write_after_free_size_word_hides.c: two dangling writes into a freed 20000-byte
 * block (a 20480-byte slot): one into its last byte, one that XORs the size word's lowest byte
 * with 0x20. The check at hand-out reads a slot past its first 4 KiB only as far as the size
 * word says the freed block reached; while the word was the size XORed with a key, the second
 * write made it say 19968 bytes, and the first went to the next owner unseen (found by a red-team
 * helper). Now a change to any byte of the word no longer decodes to a size the slot can hold,
 * and the malloc that hands the slot out again reports it. */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slot_reuse.h"

#define SIZE 20000
#define SLOT 20480   /* the slot of a 20000-byte block */
#define KEEP 16      /* live neighbours: the page never empties, so it is never given back */

int main(void)
{
    static void *keep[KEEP];
    char *p = malloc(opaque_size(SIZE));
    for (int i = 0; i < KEEP; i++)
        keep[i] = malloc(opaque_size(SIZE));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    ((volatile char *)addr)[SIZE - 1] = 'A';
    ((volatile uint8_t *)addr)[SLOT - 4] ^= 0x20;
    if (slot_came_back(addr, SIZE, 64, 200))
        return 0;
    for (int i = 0; i < KEEP; i++)
        free(keep[i]);
    return 0;
}
