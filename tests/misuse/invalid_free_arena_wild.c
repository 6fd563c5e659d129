/* tests/misuse/invalid_free_arena_wild.c: freeing a wild pointer that falls inside slabguard's
 * 64 GiB arena reservation, 8 GiB past the pages in use, where no page was ever made. slabguard
 * never returned it, so free must report an invalid free (the "is it ours" check is in every
 * build). Reading the page descriptor of such a unit (metadata not committed) faults instead. */
// expect: slabguard: invalid free of 0x[0-9a-f]+ \(size 0\)
// fast: expect
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(64));
    volatile uintptr_t addr = ((uintptr_t)p & ~(uintptr_t)0xffff) + ((uintptr_t)8 << 30);
    printf("# block %p, freeing %#lx\n", (void *)p, (unsigned long)addr);
    fflush(stdout);
    free((void *)addr);
    printf("# free of the wild arena pointer %#lx returned\n", (unsigned long)addr);
    free(p);
    return 0;
}
