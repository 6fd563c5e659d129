/* tests/misuse/invalid_free_wild.c: freeing a wild, never-mapped address. The pointer must be
 * recognised as foreign without being read (reading it would fault). */
// expect: slabguard: invalid free of 0x1234560 \(size 0\)
// fast: expect
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *p = malloc(opaque_size(32));
    volatile uintptr_t addr = 0x1234560;
    free((void *)addr);
    printf("# free of the wild pointer %#lx returned\n", (unsigned long)addr);
    free(p);
    return 0;
}
