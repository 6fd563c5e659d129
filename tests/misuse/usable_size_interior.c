/* tests/misuse/usable_size_interior.c: malloc_usable_size of p+16 of a live block. */
// expect: slabguard: invalid pointer of 0x[0-9a-f]+ \(size 0\)
// fast: expect
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p + 16;
    size_t n = malloc_usable_size((void *)addr);
    printf("# malloc_usable_size of the interior pointer %#lx returned %zu\n", (unsigned long)addr, n);
    free(p);
    return 0;
}
