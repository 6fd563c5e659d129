/* tests/misuse/property_scrubbed.c: a property, not a bug. A 100-byte block filled with 0xAA is
 * freed and read back through a dangling pointer: in secure builds freed small slots are zeroed
 * (the first 8 bytes may hold a free-list link), so the old contents are gone; then the program
 * aborts on purpose with a "scrubbed" line. An allocator that leaves the bytes runs to its end. */
// expect: test: freed memory scrubbed
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(100));
    volatile unsigned char *v = opaque_ptr(p);
    for (int i = 0; i < 100; i++)
        v[i] = 0xAA;
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    volatile unsigned char *d = (volatile unsigned char *)addr;
    int left = 0;
    for (int i = 8; i < 100; i++)
        if (d[i] != 0)
            left++;
    printf("# %d of bytes 8..99 non-zero after free\n", left);
    fflush(stdout);
    if (left == 0) {
        fprintf(stderr, "test: freed memory scrubbed\n");
        abort();
    }
    return 0;
}
