/* tests/misuse/abort_handler_allocates_large.c: as abort_handler_allocates, but the detection is
 * made on the large-block path (a second free of a 1 MiB block), which takes the large-block
 * lock: it must have been released before the abort, or the handler's large malloc hangs.
 * (The fast variant reports the second free as "invalid free", on the same path.) */
// expect: test: abort handler ran to its end
// fast: expect
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

static void on_abort(int sig)
{
    (void)sig;
    say("test: abort handler started\n");
    void *small = malloc(opaque_size(64));
    void *large = malloc(opaque_size(1 << 20));
    void *large2 = realloc(large, opaque_size(2 << 20));
    free(opaque_ptr(small));
    free(opaque_ptr(large2));
    printf("# handler: malloc, realloc and free worked (%p %p)\n", small, large2);
    fflush(stdout);
    say("test: abort handler ran to its end\n");
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
}

int main(void)
{
    signal(SIGABRT, on_abort);
    void *p = malloc(opaque_size(1 << 20));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    free((void *)addr);
    printf("# the second free of %#lx returned\n", (unsigned long)addr);
    return 0;
}
