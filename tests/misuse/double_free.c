/* tests/misuse/double_free.c: freeing a small block twice, nothing in between. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 64\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *p = malloc(opaque_size(64));
    /* through a volatile integer: the compiler must not see (or warn about) the second free */
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    report_names((void *)addr);
    free((void *)addr);
    printf("# the second free of %#lx returned\n", (unsigned long)addr);
    return 0;
}
