/* tests/misuse/invalid_free_interior.c: freeing p+16 of a live 64-byte block. The slot-boundary
 * check costs one multiply and is in every build. */
// expect: slabguard: invalid free of 0x[0-9a-f]+ \(size [0-9]+\)
// fast: expect
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p + 16;
    report_names((void *)addr);
    free((void *)addr);
    printf("# free of the interior pointer %#lx returned\n", (unsigned long)addr);
    free(p);
    return 0;
}
