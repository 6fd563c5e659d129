/* tests/misuse/large_read_after_free.c: reading a freed 1 MiB block. Secure builds keep freed
 * large blocks PROT_NONE for a while, so the read faults. */
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
    volatile char *w = opaque_ptr(p);
    for (size_t i = 0; i < size; i += 4096)
        w[i] = 'x';
    free(p);
    expect_fault(addr, addr + size, "freed block", addr);
    volatile char *v = (volatile char *)addr;
    char c = v[100];
    printf("# read %d from the freed block %#lx without a fault\n", c, (unsigned long)addr);
    return 0;
}
