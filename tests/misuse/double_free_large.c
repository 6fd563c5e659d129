/* tests/misuse/double_free_large.c: freeing a 1 MiB block (mapped directly) twice. Secure builds
 * keep the last 64 freed large blocks PROT_NONE and name a second free of one "double free".
 * The fast variant unmaps at once and keeps no record, so the second free is an unknown pointer
 * ("invalid free"): true but not what this test is about, so it stops before it there. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 1048576\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "slabguard.h"

int main(void)
{
    void *p = malloc(opaque_size(1 << 20));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    if (!sg_is_secure()) {
        printf("# fast variant: no record of freed large blocks; a second free would be reported "
               "as \"invalid free\"\n");
        return 0;
    }
    report_names((void *)addr);
    free((void *)addr);
    printf("# the second free of %#lx returned\n", (unsigned long)addr);
    return 0;
}
