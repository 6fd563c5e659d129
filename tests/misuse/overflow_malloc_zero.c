/* tests/misuse/overflow_malloc_zero.c: malloc(0) returns a unique pointer to zero usable bytes;
 * writing one (non-zero) byte there is an overflow, caught at free. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 0\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(0));
    if (!p) {
        printf("# malloc(0) returned NULL\n");
        return 2;
    }
    volatile char *v = opaque_ptr(p);
    v[0] = 'A';
    free(p);
    printf("# free after writing into a malloc(0) block returned\n");
    return 0;
}
