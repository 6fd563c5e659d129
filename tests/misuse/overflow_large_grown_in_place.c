/* tests/misuse/overflow_large_grown_in_place.c: a large block that realloc grew once has room
 * reserved after it, and the next growth makes the following pages read-write in place. The
 * page after the new end must still be inaccessible: 16 bytes written past a block grown in
 * place to a multiple of the page fault. */
// expect: test: fault at guard of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

int main(void)
{
    if (!kernel_moves_pages()) {
        printf("# the kernel cannot move pages (no MREMAP_DONTUNMAP): realloc copies the block\n");
        return 77;
    }
    char *p = malloc(opaque_size(1 << 20));
    for (size_t i = 0; i < (1 << 20); i += 4096)
        p[i] = 'x';
    char *q = realloc(p, opaque_size(2 << 20));   /* moved: room to grow after it */
    uintptr_t was = (uintptr_t)q;
    size_t size = opaque_size((2 << 20) + 3 * 4096);
    char *r = realloc(q, size);
    if ((uintptr_t)r != was) {
        printf("# the second growth moved the block (%#lx -> %p): nothing to test\n", (unsigned long)was, (void *)r);
        return 2;
    }
    uintptr_t end = (uintptr_t)r + size;
    expect_fault(end, end + 16, "guard", (uintptr_t)r);
    volatile char *v = opaque_ptr(r);
    for (size_t i = 0; i < size; i += 4096)
        v[i] = 'y';
    for (size_t i = size; i < size + 16; i++)
        v[i] = 'A';
    printf("# wrote 16 bytes past a block grown in place to %zu bytes without a fault\n", size);
    return 0;
}
