/* tests/misuse/double_free_after_others.c: a double free with other frees in between, enough of
 * them that the first free has most likely left the quarantine for the page's free list. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 48\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define OTHERS 1000

int main(void)
{
    static void *others[OTHERS];
    void *p = malloc(opaque_size(48));
    volatile uintptr_t addr = (uintptr_t)p;
    for (int i = 0; i < OTHERS; i++)
        others[i] = malloc(opaque_size(48));
    free(p);
    for (int i = 0; i < OTHERS; i++)
        free(others[i]);
    free((void *)addr);
    printf("# the second free of %#lx returned\n", (unsigned long)addr);
    return 0;
}
