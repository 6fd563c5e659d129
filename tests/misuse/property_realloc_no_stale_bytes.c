/* tests/misuse/property_realloc_no_stale_bytes.c: a property, not a bug. A zero-filled 60-byte
 * block grows to 70 bytes with realloc; the 10 new bytes are indeterminate, and a program may
 * well send them somewhere. They must not hold allocator secrets: in secure builds the bytes
 * right after the request are the slot's canary, derived from the page's free-list key. When all
 * 10 read zero the program aborts on purpose with a "no stale bytes" line. */
// expect: test: no stale bytes after realloc growth
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"

int main(void)
{
    unsigned char *p = malloc(opaque_size(60));
    memset(p, 0, 60);
    volatile uintptr_t old = (uintptr_t)p;
    unsigned char *q = realloc(p, opaque_size(70));
    volatile unsigned char *v = opaque_ptr(q);
    int stale = 0;
    printf("# realloc %s; bytes 60..69:", (uintptr_t)q == old ? "in place" : "moved");
    for (int i = 60; i < 70; i++) {
        printf(" %02x", v[i]);
        if (v[i] != 0)
            stale++;
    }
    printf("\n");
    fflush(stdout);
    if (stale == 0) {
        fprintf(stderr, "test: no stale bytes after realloc growth\n");
        abort();
    }
    free(q);
    return 0;
}
