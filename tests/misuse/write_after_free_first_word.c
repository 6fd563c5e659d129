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

int main(void)
{
    uintptr_t addr = freed_among_neighbours();
    *(volatile uint64_t *)addr = 0x4141414141414141u;
    small_write_until_back(addr);
    return 0;
}
