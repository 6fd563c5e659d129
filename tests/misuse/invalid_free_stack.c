/* tests/misuse/invalid_free_stack.c: freeing a pointer into the stack, which slabguard never
 * returned. The range check that catches it costs nothing, so the fast variant catches it too. */
// expect: slabguard: invalid free of 0x[0-9a-f]+
// fast: expect
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"

int main(void)
{
    char buf[64];
    memset(buf, 0, sizeof buf);
    volatile uintptr_t addr = (uintptr_t)opaque_ptr(buf);
    free((void *)addr);
    printf("# free of the stack address %#lx returned\n", (unsigned long)addr);
    return 0;
}
