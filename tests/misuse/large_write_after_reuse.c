/* tests/misuse/large_write_after_reuse.c: a 1 MiB block is filled and freed, a new 1 MiB block
 * is allocated (in secure builds it takes the freed block's pages, moved to a fresh address),
 * then the program writes through the dangling pointer. The new block must not hold the old
 * contents, must not be at the old address, and the dangling write must fault instead of
 * landing in it. An allocator that hands the same memory back runs to its end. */
// expect: test: fault at freed block of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

int main(void)
{
    size_t size = opaque_size(1 << 20);
    char *p = malloc(size);
    volatile char *vp = opaque_ptr(p);
    for (size_t i = 0; i < size; i += 512)
        vp[i] = 'P';
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    char *q = malloc(size);
    volatile char *vq = opaque_ptr(q);
    size_t stale = 0;
    for (size_t i = 0; i < size; i += 512)
        stale += vq[i] == 'P';
    if (stale) {
        printf("# the new block holds %zu bytes of the freed one\n", stale);
        return 0;
    }
    for (size_t i = 0; i < size; i += 512)
        vq[i] = 'Q';
    expect_fault(addr, addr + size, "freed block", addr);
    volatile char *dangling = (volatile char *)addr;
    dangling[size / 2] = 'A';
    printf("# wrote through the dangling pointer %#lx (new block %p) without a fault\n", (unsigned long)addr,
           (void *)q);
    return 0;
}
