/* tests/misuse/large_write_after_free.c: writing into a freed 1 MiB block: it faults. */
// expect: test: fault at freed block of 0x[0-9a-f]+
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
    free(p);
    expect_fault(addr, addr + size, "freed block", addr);
    volatile char *v = (volatile char *)addr;
    v[size / 2] = 'A';
    printf("# wrote into the freed block %#lx without a fault\n", (unsigned long)addr);
    return 0;
}
