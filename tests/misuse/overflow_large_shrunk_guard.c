/* tests/misuse/overflow_large_shrunk_guard.c: a large block that realloc shrank where it is
 * gives up the pages past its new end, and they must fault as the guard after a block does: 16
 * bytes written past a block shrunk to end on a page boundary. */
// expect: test: fault at guard of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

int main(void)
{
    size_t size = opaque_size(32 << 20);   /* a multiple of the page: the block starts on one */
    char *p = malloc(size);
    for (size_t i = 0; i < size; i += 4096)
        p[i] = 'x';
    size_t shrunk = opaque_size(12 << 20);   /* 8 MiB or more: shrunk where it is */
    uintptr_t was = (uintptr_t)p;
    char *q = realloc(p, shrunk);
    if ((uintptr_t)q != was) {
        printf("# realloc to %zu bytes moved the block (%#lx -> %p): nothing to test\n", shrunk, (unsigned long)was, (void *)q);
        return 2;
    }
    uintptr_t end = (uintptr_t)q + shrunk;
    if (!SG_CONFIG_GUARD_PAGES) {
        printf("# no guard pages: a fault after the block at %#lx would be luck; not written\n", (unsigned long)end);
        return 0;
    }
    expect_fault(end, end + 16, "guard", (uintptr_t)q);
    volatile char *v = opaque_ptr(q);
    for (size_t i = shrunk; i < shrunk + 16; i++)
        v[i] = 'A';
    printf("# wrote 16 bytes past a block shrunk in place to %zu bytes without a fault\n", shrunk);
    return 0;
}
