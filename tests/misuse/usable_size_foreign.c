/* tests/misuse/usable_size_foreign.c: malloc_usable_size of a pointer malloc never returned (a
 * global). */
// expect: slabguard: invalid pointer of 0x[0-9a-f]+ \(size 0\)
// fast: expect
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

static char global_buf[64] __attribute__((aligned(16)));

int main(void)
{
    void *p = malloc(opaque_size(32));
    volatile uintptr_t addr = (uintptr_t)opaque_ptr(global_buf);
    size_t n = malloc_usable_size((void *)addr);
    printf("# malloc_usable_size of the global %#lx returned %zu\n", (unsigned long)addr, n);
    free(p);
    return 0;
}
