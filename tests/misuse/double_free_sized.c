/* tests/misuse/double_free_sized.c: C23's free_sized and free_aligned_sized (glibc has them
 * from 2.41, so programs built against it call them by name) are slabguard's too: a block freed
 * with free_aligned_sized is taken back, and a second free_sized of a block is a double free. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 64\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *aligned = aligned_alloc(64, opaque_size(64));
    if (aligned == NULL)
        return 2;
    free_aligned_sized(aligned, 64, 64);
    void *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p;
    free_sized(p, 64);
    free_sized((void *)addr, 64);
    printf("# the second free_sized of %#lx returned\n", (unsigned long)addr);
    return 0;
}
