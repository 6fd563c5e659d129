/* tests/misuse/write_after_free_size_word.c: a dangling write that changes only a freed 64-byte
 * block's size word (the last 4 bytes of its 80-byte slot, which the free leaves in place so a
 * later double free can name the size; the scan at hand-out skips it): its lowest bit is
 * flipped. The malloc that hands the slot out again reports it. (Before, the slot came back
 * with the word as written, unseen; and while the word was the size XORed with a key, a change
 * to one byte still decoded to a size the slot could hold: 64 became 65.) */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slot_reuse.h"

#define SIZE_WORD 76   /* 64 bytes + 8 of canary: an 80-byte slot, its size word at 76 */

int main(void)
{
    uintptr_t addr = freed_among_neighbours();
    *(volatile uint8_t *)(addr + SIZE_WORD) ^= 1;
    report_names((void *)addr);
    small_write_until_back(addr);
    return 0;
}
