/* tests/misuse/property_calloc_after_write_after_free.c: a property, not a bug. A dangling
 * pointer writes into a freed 5000-byte block far past what the write-after-free check reads
 * when the slot is handed out again (past 4 KiB, and past the block's own size: the check
 * reads no further than the last block there reached). calloc of the slot's whole size still
 * returns zeros there; the program then aborts on purpose with a "calloc zeroed" line. */
// expect: test: calloc zeroed
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "internal.h"

int main(void)
{
    char *block = malloc(opaque_size(5000));
    size_t bs = sg_page_of((uintptr_t)block)->block_size, n = bs - SG_CANARY_OVERHEAD, off = bs - 64;
    volatile uintptr_t addr = (uintptr_t)block;
    free(block);
    char *p = (char *)addr;
    volatile char *v = (volatile char *)p;
    v[off] = 'X';
    for (int i = 0; i < 200000; i++) {
        char *q = calloc(1, n);
        if (q == p) {
            if (q[off]) {
                printf("# calloc(%zu) returned %p with byte %zu = %#x\n", n, (void *)q, off, (unsigned)(unsigned char)q[off]);
                return 1;
            }
            fprintf(stderr, "test: calloc zeroed\n");
            abort();
        }
        free(q);
    }
    printf("# the slot %p (%zu bytes) never came back\n", (void *)p, bs);
    return 1;
}
