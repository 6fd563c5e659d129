/* tests/misuse/overflow_large_guard.c: 16 bytes written past the end of a malloc(1 MiB) block.
 * Secure builds place a large block against a trailing guard page. A build without guard pages
 * has none: the write faulted when the kernel happened to map the block right below another
 * inaccessible page (the guard of slabguard's metadata, in the fast variant most runs), so that
 * variant's result changed from run to run. There the program stops short of the write and
 * counts as not caught. */
// expect: test: fault at guard of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

int main(void)
{
    size_t size = opaque_size(1 << 20);
    char *p = malloc(size);
    uintptr_t end = (uintptr_t)p + size;
    if (!SG_CONFIG_GUARD_PAGES) {
        printf("# no guard pages: a fault after the block at %#lx would be luck; not written\n", (unsigned long)end);
        return 0;
    }
    expect_fault(end, end + 16, "guard", (uintptr_t)p);
    volatile char *v = opaque_ptr(p);
    for (size_t i = size; i < size + 16; i++)
        v[i] = 'A';
    printf("# wrote 16 bytes past the 1 MiB block %p without a fault\n", (void *)p);
    return 0;
}
