/* tests/misuse/invalid_free_misaligned.c: freeing p+1 of a live block. */
// expect: slabguard: invalid free of 0x[0-9a-f]+ \(size [0-9]+\)
// fast: expect
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p + 1;
    free((void *)addr);
    printf("# free of the misaligned pointer %#lx returned\n", (unsigned long)addr);
    free(p);
    return 0;
}
