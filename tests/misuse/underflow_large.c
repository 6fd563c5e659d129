/* tests/misuse/underflow_large.c: one byte written just before a large block. Its size (200000)
 * is not a multiple of the page, so the block starts inside its first page, short of the
 * leading guard; the canary in the bytes before it is checked at free. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 200000\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    size_t size = opaque_size(200000);
    char *p = malloc(size);
    volatile char *v = opaque_ptr(p);
    v[0] = 'x';
    v[-1] = 'A';
    free(p);
    printf("# free after a 1-byte underflow before a large block returned\n");
    return 0;
}
