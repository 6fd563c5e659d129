/* tests/misuse/freelist_poison.c: free-list poisoning. A freed block that sits in a free list has
 * its link (first 8 bytes) overwritten with the address of a global, as a use-after-free write
 * would; then blocks of the same size are allocated until the list is used up. Secure builds
 * store links encrypted and check every decoded link, so the pop aborts and malloc never returns
 * the attacker's address. (Quarantined blocks still read zero there: the first freed block with
 * a non-zero first word is one on a free list.) */
// expect: slabguard: corrupted free list of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

#define N 2000
#define ALLOCS 20000

static char target[256] __attribute__((aligned(64)));

int main(void)
{
    static void *blocks[N];
    void *victim = poison_free_link(blocks, N, opaque_size(64), target);
    if (!victim) {
        printf("# no freed block with a link word found\n");
        return 2;
    }
    printf("# poisoned the link of %p with %p\n", victim, (void *)target);
    fflush(stdout);
    if (malloc_until(target, opaque_size(64), ALLOCS))
        return 0;
    return 0;
}
