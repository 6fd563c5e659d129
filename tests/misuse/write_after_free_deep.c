/* tests/misuse/write_after_free_deep.c: a write into a freed 20000-byte block, 15000 bytes in:
 * past the first 4 KiB of the slot. The malloc that hands the slot out again reads as far as the
 * freed block reached (its size word survives the free) and finds the byte. Blocks allocated
 * after it stay live, so its page is never given back (that would read the slot too): the
 * report comes from the hand-out. Blocks of the same size come and go until the slot returns. */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include "../check.h"
#include "slot_reuse.h"

int main(void)
{
    deep_write_until_back(0);
    return 0;
}
