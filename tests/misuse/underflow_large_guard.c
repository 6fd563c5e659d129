/* tests/misuse/underflow_large_guard.c: 16 bytes written before a block of exactly 2 MiB. Its
 * size is a multiple of the page, so nothing lies between its start and the leading guard: the
 * first write faults (underflow_large covers a block that starts inside its first page). */
// expect: test: fault at guard of 0x[0-9a-f]+
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

int main(void)
{
    char *p = malloc(opaque_size(2 << 20));
    expect_fault((uintptr_t)p - 16, (uintptr_t)p, "guard", (uintptr_t)p);
    volatile char *v = opaque_ptr(p);
    for (ptrdiff_t i = 1; i <= 16; i++)
        v[-i] = 'A';
    printf("# wrote 16 bytes before the 2 MiB block %p without a fault\n", (void *)p);
    free(p);
    return 0;
}
