/* tests/misuse/invalid_free_global.c: freeing the address of a global array. */
// expect: slabguard: invalid free of 0x[0-9a-f]+ \(size 0\)
// fast: expect
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

static char global_buf[64] __attribute__((aligned(16)));

int main(void)
{
    void *p = malloc(opaque_size(32)); /* slabguard is set up */
    volatile uintptr_t addr = (uintptr_t)opaque_ptr(global_buf);
    free((void *)addr);
    printf("# free of the global %#lx returned\n", (unsigned long)addr);
    free(p);
    return 0;
}
