/* tests/misuse/freelist_poison_thread_exit.c: free-list poisoning found by the owner's exit. A
 * thread frees 2000 blocks, overwrites the link of one that sits on a free list (its first word is
 * non-zero; quarantined blocks read zero there) with the address of a global, and exits. The exit
 * hands the thread's pages on and collects their free lists: a corrupted link must be reported
 * ("corrupted free list"), not followed. Then the main thread allocates the same size until the
 * lists are used up and must never get the global's address. */
// expect: slabguard: corrupted free list of 0x[0-9a-f]+
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

#define N 2000
#define ALLOCS 20000

static char target[256] __attribute__((aligned(64)));
static void *blocks[N];

static void *worker(void *arg)
{
    (void)arg;
    void *victim = poison_free_link(blocks, N, opaque_size(64), target);
    if (!victim) {
        printf("# no freed block with a link word found\n");
        exit(2);
    }
    printf("# poisoned the link of %p with %p, then exiting the thread\n", victim, (void *)target);
    fflush(stdout);
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) {
        perror("pthread_create");
        return 2;
    }
    pthread_join(t, NULL);
    printf("# thread exited\n");
    fflush(stdout);
    if (malloc_until(target, opaque_size(64), ALLOCS))
        return 0;
    return 0;
}
