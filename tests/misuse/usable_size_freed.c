/* tests/misuse/usable_size_freed.c: malloc_usable_size of a freed small block. */
// expect: slabguard: use after free of 0x[0-9a-f]+ \(size 64\)
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    report_names((void *)addr);
    size_t n = malloc_usable_size((void *)addr);
    printf("# malloc_usable_size of the freed %#lx returned %zu\n", (unsigned long)addr, n);
    return 0;
}
