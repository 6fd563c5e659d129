/* tests/misuse/abort_handler_allocates.c: after a detection (a double free) the program's SIGABRT
 * handler allocates, frees and prints; it must run to its end (slabguard holds no lock when it
 * aborts). The handler then writes a marker and re-raises SIGABRT with the default action. */
// expect: test: abort handler ran to its end
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
    void *medium = malloc(opaque_size(20000));
    void *large = malloc(opaque_size(1 << 20));
    free(opaque_ptr(small));
    free(opaque_ptr(medium));
    free(opaque_ptr(large));
    printf("# handler: malloc and free worked (%p %p %p)\n", small, medium, large);
    fflush(stdout);
    say("test: abort handler ran to its end\n");
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
}

int main(void)
{
    signal(SIGABRT, on_abort);
    void *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p;
    free(p);
    free((void *)addr);
    printf("# the second free of %#lx returned\n", (unsigned long)addr);
    return 0;
}
