/* tests/misuse/invalid_free_mmap.c: freeing a page the program mapped itself with mmap (page
 * aligned, readable, looks like a large block but was never returned by malloc). */
// expect: slabguard: invalid free of 0x[0-9a-f]+ \(size 0\)
// fast: expect
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "../check.h"

int main(void)
{
    void *big = malloc(opaque_size(1 << 20)); /* a real large block exists too */
    char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    volatile uintptr_t addr = (uintptr_t)m;
    free((void *)addr);
    printf("# free of the foreign mapping %#lx returned\n", (unsigned long)addr);
    free(big);
    return 0;
}
