/* tests/misuse/freelist_forged_to_quarantined.c: a free-list link forged, by an attacker who
 * knows the page's key, to point at a block that waits in the quarantine (zeroed, so the
 * write-after-free check passes; its own link set to a valid end of list). The slot's state
 * (not free) refuses it when it is popped: the quarantined block is never handed out while a
 * dangling pointer may still reach it. Secure builds only (the fast variant has no quarantine
 * and no slot states). */
// expect: slabguard: corrupted free list of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "internal.h"

int main(void)
{
    char *p = malloc(opaque_size(64));
    volatile uintptr_t qa = (uintptr_t)p;
    free(p);   /* it waits in the quarantine */
    char *q = (char *)qa;
    char *a = malloc(opaque_size(64));
    sg_page_t *page = sg_page_of((uintptr_t)a);
    sg_block_t *b = page->free;   /* the slot malloc(64) hands out next */
    if (!SG_QUARANTINE || !b || sg_page_of((uintptr_t)q) != page) {
        printf("# nothing to forge here (no quarantine, or q on another page)\n");
        return 0;
    }
    ((sg_block_t *)q)->next = sg_encode(&page->keys, q, NULL);
    b->next = sg_encode(&page->keys, b, q);   /* b -> q */
    void *x = malloc(opaque_size(64));        /* pops b */
    void *y = malloc(opaque_size(64));        /* would pop q */
    printf("# q %p, b %p: malloc gave %p then %p%s\n", (void *)q, (void *)b, x, y,
           y == q ? " (the quarantined block)" : "");
    return 0;
}
