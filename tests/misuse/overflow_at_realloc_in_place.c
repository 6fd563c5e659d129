/* tests/misuse/overflow_at_realloc_in_place.c: a 1-byte overflow, then realloc to a smaller size
 * that stays in its slot: realloc checks the canary before it writes the new one (a realloc that
 * moved the block would be caught by the free after the copy anyway; in place, a new canary
 * would hide the overflow for good). */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 64\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    char *p = malloc(opaque_size(64));
    volatile char *v = opaque_ptr(p);
    v[64] = 'A';
    report_names(p);
    char *q = realloc(p, opaque_size(60));
    printf("# realloc in place after a 1-byte overflow returned %p\n", (void *)q);
    free(q);
    return 0;
}
