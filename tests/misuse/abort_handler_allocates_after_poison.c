/* tests/misuse/abort_handler_allocates_after_poison.c: free-list poisoning (as in
 * freelist_poison.c) is detected at a pop; the program's SIGABRT handler then allocates blocks
 * of the very size whose list was poisoned. It must run to its end: the poisoned list is not
 * popped again, and the handler's blocks are sound. */
// expect: test: abort handler ran to its end
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

#define N 2000
#define ALLOCS 20000

static char target[256] __attribute__((aligned(64)));

static void on_abort(int sig)
{
    (void)sig;
    say("test: abort handler started\n");
    static void *again[64];
    for (int i = 0; i < 64; i++) {
        again[i] = malloc(opaque_size(64));
        if (again[i] == NULL || (uintptr_t)again[i] == (uintptr_t)target) {
            say("test: the handler's malloc failed or returned the attacker's address\n");
            _exit(3);
        }
        ((volatile char *)again[i])[63] = 'h';
    }
    for (int i = 0; i < 64; i++)
        free(again[i]);
    say("test: abort handler ran to its end\n");
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
}

int main(void)
{
    signal(SIGABRT, on_abort);
    static void *blocks[N];
    if (!poison_free_link(blocks, N, opaque_size(64), target))
        return 2;
    for (int i = 0; i < ALLOCS; i++)
        if ((uintptr_t)malloc(opaque_size(64)) == (uintptr_t)target)
            return 0;
    printf("# %d allocations without a report or the poisoned address\n", ALLOCS);
    return 0;
}
