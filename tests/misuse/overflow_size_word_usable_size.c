/* tests/misuse/overflow_size_word_usable_size.c: an overflow that reaches the slot's last bytes,
 * where the encoded request size lives, then malloc_usable_size: the word no longer decodes to
 * a size that fits the slot, which is reported (returned, it would let the caller copy about
 * 1 GiB into a 64-byte block). */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size [0-9]+\)
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(64));   /* secure: an 80-byte slot, its size word at [76, 80) */
    volatile char *v = opaque_ptr(p);
    v[79] ^= 0x40;
    report_names(p);
    size_t n = malloc_usable_size(p);
    printf("# malloc_usable_size of the overwritten block returned %zu\n", n);
    return 0;
}
