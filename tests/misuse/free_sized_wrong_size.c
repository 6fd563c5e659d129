/* tests/misuse/free_sized_wrong_size.c: C23's free_sized told a size the block does not have (63
 * for a malloc(64) block): the caller has lost track of what it frees. glibc ignores the size;
 * secure slabguard names the block's real size. */
// expect: slabguard: wrong size at free of 0x[0-9a-f]+ \(size 64\)
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *p = malloc(opaque_size(64));
    if (p == NULL)
        return 2;
    free_sized(p, opaque_size(63));
    printf("# free_sized(p, 63) of a 64-byte block returned\n");
    return 0;
}
