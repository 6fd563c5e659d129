/* tests/misuse/overflow_large_after_realloc.c: a large block grown by realloc keeps its start's
 * offset in the page (its pages moved), so it ends up to a page before its trailing guard. A
 * write 100 bytes past its end, beyond the 16-byte canary, does not fault; those bytes must
 * still read zero at free. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 2097152\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    if (!kernel_moves_pages()) {
        printf("# the kernel cannot move pages (no MREMAP_DONTUNMAP): realloc copies the block\n");
        return 77;
    }
    size_t size = opaque_size((1 << 20) + 4000);   /* starts 96 bytes into its first page */
    char *p = malloc(size);
    for (size_t i = 0; i < size; i += 4096)
        p[i] = 'x';
    size_t grown = opaque_size(2 << 20);
    char *q = realloc(p, grown);
    if (!q) {
        printf("# realloc failed\n");
        return 2;
    }
    volatile char *v = opaque_ptr(q);
    v[grown + 100] = 'A';
    free(q);
    printf("# free after a write 100 bytes past a grown large block returned\n");
    return 0;
}
