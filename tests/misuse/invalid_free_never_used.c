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
#include "misuse.h"

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
