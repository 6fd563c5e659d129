/* tests/misuse/freelist_poison_remote.c: free-list poisoning on the list of other threads' frees.
 * The main thread allocates a block and hands it to a second thread, which frees it (a remote
 * free: it waits in that thread's quarantine, then goes onto the atomic list of the main
 * thread's page) and then frees 3000 blocks of its own, which push it out of the quarantine
 * (still in it after them: about 1 in 100,000). Then the block's link is overwritten, as a
 * use-after-free write would, and the main thread allocates the same size until its page takes
 * the list in: the walk checks every decoded link, and reports the forged one ("corrupted free
 * list" naming the block) instead of following it. */
// expect: slabguard: corrupted free list of 0x[0-9a-f]+ \(size [0-9]+\)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "misuse.h"

enum { OWN = 3000, ALLOCS = 20000 };

static char target[256] __attribute__((aligned(64)));
static void *volatile handed;

static void *other(void *arg)
{
    (void)arg;
    static void *own[OWN];
    for (int i = 0; i < OWN; i++)
        own[i] = malloc(opaque_size(200));
    free(handed);
    for (int i = 0; i < OWN; i++)
        free(own[i]);
    return NULL;
}

int main(void)
{
    static void *keep[64];
    for (int i = 0; i < 64; i++)   /* the page stays in use: the block does not come back to a fresh one */
        keep[i] = malloc(opaque_size(64));
    void *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p;
    handed = p;
    pthread_t t;
    if (pthread_create(&t, NULL, other, NULL) != 0) {
        perror("pthread_create");
        return 2;
    }
    pthread_join(t, NULL);
    *(volatile uintptr_t *)addr = (uintptr_t)target;   /* the link of a block on the remote list */
    report_names((void *)addr);
    if (malloc_until(target, opaque_size(64), ALLOCS))
        return 0;
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    return 0;
}
