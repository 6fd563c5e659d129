/* tests/misuse/write_after_free_small_released.c: a write into a freed 200-byte block whose slot
 * is never handed out again: all blocks of its size are freed, the quarantine lets them go
 * (blocks of another size pass through it), and malloc_trim gives the emptied pages back. The
 * release reads every free slot whole and names this block. (Before, slots of 4 KiB or less
 * were not read there: the byte stayed in the span, reported for some other block carved over
 * it later, or never once the span was purged.) */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slot_reuse.h"

#define N 2000        /* 200-byte blocks: several pages */
#define OTHERS 4000   /* frees of another size: the quarantine lets the 200-byte ones go */

int main(void)
{
    static void *blocks[N];
    write_into_freed(blocks, N, 200, 100);
    for (int i = 0; i < OTHERS; i++)
        free(opaque_ptr(malloc(opaque_size(40))));
    malloc_trim(0);
    printf("# not caught\n");
    return 0;
}
