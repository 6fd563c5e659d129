/* tests/misuse/write_after_free_size_word_zeroed.c: write_after_free_deep with a second dangling
 * write, past the freed block, that zeroes the slot's size word (its last 4 bytes; 20000-byte
 * blocks take 20480-byte slots). A slot with no size word looked never handed out, and the
 * check at hand-out read only its first 4 KiB: the byte 15000 bytes in reached the next owner
 * unseen (found by a red-team helper). Such a slot is now read whole. */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include "../check.h"
#include "slot_reuse.h"

#define SLOT 20480   /* the slot of a 20000-byte block */

int main(void)
{
    deep_write_until_back(SLOT - 4);
    return 0;
}
