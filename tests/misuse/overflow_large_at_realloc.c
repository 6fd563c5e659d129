/* tests/misuse/overflow_large_at_realloc.c: eight bytes written past the end of an aligned large
 * block (alignment 4096, size 300001: 4095 bytes lie between its end and the guard page), then
 * realloc: the canary after the block is checked before anything is copied. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 300001\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    size_t size = opaque_size(300001);
    void *q = NULL;
    if (posix_memalign(&q, 4096, size) != 0)
        return 1;
    volatile char *v = opaque_ptr(q);
    for (size_t i = size; i < size + 8; i++)
        v[i] = 'A';
    q = realloc(q, 2 * size);
    printf("# realloc after an 8-byte overflow past a large block returned %p\n", q);
    return 0;
}
