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

int main(void)
{
    uintptr_t addr = freed_among_neighbours();
    volatile char *v = (volatile char *)addr;
    v[16] = 'A';
    report_names((void *)addr);
    small_write_until_back(addr);
    return 0;
}
