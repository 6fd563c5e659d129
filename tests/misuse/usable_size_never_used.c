/* tests/misuse/usable_size_never_used.c: malloc_usable_size of a carved slot never handed out
 * (see invalid_free_never_used). slabguard never returned it: an invalid pointer, not a use
 * after free. */
// expect: slabguard: invalid pointer of 0x[0-9a-f]+ \(size 0\)
#include <malloc.h>
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
    char *p = malloc(opaque_size(56));
    volatile uintptr_t addr = never_used_slot(p);
    report_names((void *)addr);
    size_t n = malloc_usable_size((void *)addr);
    printf("# malloc_usable_size(%#lx) = %zu, returned\n", (unsigned long)addr, n);
    free(p);
    return 0;
}
