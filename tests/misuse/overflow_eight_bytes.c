/* tests/misuse/overflow_eight_bytes.c: eight bytes written past a 64-byte request. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 64\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(64));
    volatile char *v = opaque_ptr(p);
    for (int i = 0; i < 64 + 8; i++)
        v[i] = 'A';
    free(p);
    printf("# free after an 8-byte overflow returned\n");
    return 0;
}
