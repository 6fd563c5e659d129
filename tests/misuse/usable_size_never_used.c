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
#include "misuse.h"

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
