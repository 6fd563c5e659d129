/* tests/misuse/invalid_free_never_used.c: freeing a slot of the page of the only 56-byte block
 * the program has: on a slot boundary, carved but never handed out. slabguard never returned it:
 * an invalid free, not a double free (it was named one, with a made-up size: a carved slot and
 * a freed one are both free; the size word every hand-out writes tells them apart). */
// expect: slabguard: invalid free of 0x[0-9a-f]+ \(size 56\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "internal.h"
#include "slot.h"

/* A carved slot of p's page that was never handed out: found in the page's slot states (the
 * secure build's; slots are carved 32 at a time, in random places of a 16 KiB window, and only
 * p was handed out). Without slot states: p's neighbour. */
static uintptr_t never_used_slot(void *p)
{
#if SG_SLOT_STATES
    sg_page_t *page = sg_page_of((uintptr_t)p);
    for (uint32_t i = 0; i < page->capacity; i++) {
        uintptr_t s = page->start + (uintptr_t)i * page->block_size;
        if (s != (uintptr_t)p && sg_slot_state(page, i) == SG_SLOT_FREE)
            return s;
    }
#endif
    return (uintptr_t)p ^ 64;
}

int main(void)
{
    char *p = malloc(opaque_size(56));   /* 64-byte slots (secure: 56 bytes and the canary) */
    volatile uintptr_t addr = never_used_slot(p);
    printf("# block %p, freeing the never-used slot %#lx\n", (void *)p, (unsigned long)addr);
    report_names((void *)addr);
    free((void *)addr);
    printf("# free of the never-used slot %#lx returned\n", (unsigned long)addr);
    free(p);
    return 0;
}
