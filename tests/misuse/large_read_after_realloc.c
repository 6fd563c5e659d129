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
    volatile uintptr_t addr;
    char *q = grow_large(size, 3 * size, &addr);
    expect_fault(addr, addr + size, "moved block", addr);
    volatile char *v = (volatile char *)addr;
    char c = v[8192];
    printf("# read %d through the old pointer %#lx without a fault\n", c, (unsigned long)addr);
    free(q);
    return 0;
}
