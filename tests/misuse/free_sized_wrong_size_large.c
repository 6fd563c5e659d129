/* tests/misuse/free_sized_wrong_size_large.c: free_sized of a large block (256 KiB, mapped on
 * its own) told a size one byte larger: reported with the block's real size before anything of
 * the block is given back. */
// expect: slabguard: wrong size at free of 0x[0-9a-f]+ \(size 262144\)
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *p = malloc(opaque_size(256 << 10));
    if (p == NULL)
        return 2;
    free_sized(p, opaque_size((256 << 10) + 1));
    printf("# free_sized(p, 256 KiB + 1) of a 256 KiB block returned\n");
    return 0;
}
