/* tests/misuse/large_read_after_realloc.c: reading a large block through its old pointer after
 * realloc grew it (its pages moved to the new address): the old range is retired like a freed
 * block's, so the read faults. */
// expect: test: fault at moved block of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

int main(void)
{
    size_t size = opaque_size(1 << 20);
    char *p = malloc(size);
    volatile uintptr_t addr = (uintptr_t)p;
    for (size_t i = 0; i < size; i += 4096)
        p[i] = 'x';
    char *q = realloc(p, 3 * size);
    if (!q || (uintptr_t)q == addr) {
        printf("# realloc did not move the block (%p): nothing to test\n", (void *)q);
        return 2;
    }
    expect_fault(addr, addr + size, "moved block", addr);
    volatile char *v = (volatile char *)addr;
    char c = v[8192];
    printf("# read %d through the old pointer %#lx without a fault\n", c, (unsigned long)addr);
    free(q);
    return 0;
}
