/* tests/misuse/free_aligned_sized_wrong_alignment.c: free_aligned_sized with the right size but an
 * alignment the block does not have (the smallest power of two its address is not a multiple
 * of): the block did not come from aligned_alloc with that alignment. */
// expect: slabguard: wrong alignment at free of 0x[0-9a-f]+ \(size 192\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *p = aligned_alloc(64, opaque_size(192));
    if (p == NULL)
        return 2;
    size_t al = 128;
    while (((uintptr_t)p & (al - 1)) == 0)
        al *= 2;
    free_aligned_sized(p, al, 192);
    printf("# free_aligned_sized(p, %zu, 192) of a block at %p returned\n", al, p);
    return 0;
}
