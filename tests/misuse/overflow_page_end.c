/* tests/misuse/overflow_page_end.c: a linear overflow running off the end of a slab page into
 * the guard unit that follows it. With SLABGUARD_GUARD_EVERY=1 (the program re-executes itself
 * with it) every page is followed by a guard. 4088-byte requests use the 4096-byte class: 16
 * slots fill a 64 KiB page exactly, so the slot at offset 0xf000 ends at the page end. */
// expect: test: fault at guard of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

#define UNIT ((uintptr_t)64 * 1024)

int main(int argc, char **argv)
{
    (void)argc;
    reexec_with_env(argv, "SLABGUARD_GUARD_EVERY=1");
    static char *blocks[256];
    char *last = NULL;
    for (int i = 0; i < 256 && !last; i++) {
        blocks[i] = malloc(opaque_size(4088));
        if (((uintptr_t)blocks[i] & (UNIT - 1)) == UNIT - 4096)
            last = blocks[i];
    }
    if (!last) {
        printf("# no 4088-byte block at the end of a page among 256\n");
        return 2;
    }
    uintptr_t page_end = (uintptr_t)last + 4096;
    expect_fault(page_end, page_end + 16, "guard", (uintptr_t)last);
    volatile char *v = opaque_ptr(last);
    for (int i = 0; i < 4096 + 16; i++)
        v[i] = 'A';
    printf("# wrote 16 bytes past the end of the page at %#lx without a fault\n", (unsigned long)page_end);
    return 0;
}
