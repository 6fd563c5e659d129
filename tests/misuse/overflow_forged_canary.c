/* tests/misuse/overflow_forged_canary.c: an overflow that writes a forged canary. The program
 * reads the canary after one block (an 8-byte over-read), derives from it and the two blocks'
 * addresses the canary the next block of the page would have if canaries were the page key
 * XORed with the shifted slot address (as they were), and overflows that block with it.
 * Canaries mixed with a multiply are not related that way: the forgery is caught at free. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size 16\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"

int main(void)
{
    char *a = opaque_ptr(malloc(opaque_size(16)));
    char *b = opaque_ptr(malloc(opaque_size(16)));
    if (((uintptr_t)a >> 16) != ((uintptr_t)b >> 16)) {   /* pages are 64 KiB aligned */
        printf("# the two blocks are on two pages: nothing to forge\n");
        return 77;
    }
    uint64_t seen, forged;
    memcpy(&seen, (const char *)opaque_ptr(a) + 16, 8);   /* the over-read */
    forged = (seen ^ ((uintptr_t)a << 8) ^ ((uintptr_t)b << 8)) & ~(uint64_t)0xff;
    volatile char *v = opaque_ptr(b);
    for (int i = 0; i < 16; i++)
        v[i] = 'A';
    memcpy((char *)opaque_ptr(b) + 16, &forged, 8);   /* the overflow, with the forged canary */
    report_names(b);
    free(b);
    free(a);
    printf("# free after an overflow carrying a forged canary returned\n");
    return 0;
}
