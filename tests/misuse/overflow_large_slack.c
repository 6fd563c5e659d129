/* tests/misuse/overflow_large_slack.c: one byte written past the end of a large block whose size
 * is not a multiple of 16. The block ends 11 bytes before its trailing guard page, so the write
 * does not fault; the canary in those bytes is checked at free. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 200005\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    size_t size = opaque_size(200005);
    char *p = malloc(size);
    volatile char *v = opaque_ptr(p);
    v[0] = 'x';
    v[size - 1] = 'x';
    v[size] = 'A';
    free(p);
    printf("# free after a 1-byte overflow past a large block returned\n");
    return 0;
}
