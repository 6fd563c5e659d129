/* tests/misuse/double_free_medium.c: freeing a 20 KiB block (a multi-unit page) twice. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 20480\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

int main(void)
{
    void *p = malloc(opaque_size(20 * 1024));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    report_names((void *)addr);
    free((void *)addr);
    printf("# the second free of %#lx returned\n", (unsigned long)addr);
    return 0;
}
