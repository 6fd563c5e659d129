/* tests/misuse/double_free_aligned.c: freeing a posix_memalign(256) block twice. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 100\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 256, opaque_size(100)) != 0 || ((uintptr_t)p & 255) != 0) {
        printf("# posix_memalign(256, 100) failed or is misaligned: %p\n", p);
        return 2;
    }
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    free((void *)addr);
    printf("# the second free of %#lx returned\n", (unsigned long)addr);
    return 0;
}
