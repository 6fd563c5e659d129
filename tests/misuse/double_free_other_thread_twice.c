/* tests/misuse/double_free_other_thread_twice.c: a thread frees another thread's block twice.
 * Secure builds name the double free at the second free. Fast builds have no slot states: both
 * frees are pushed onto the page's atomic list, which then runs in a cycle; the owner's next
 * collection of that list must report it, not walk it forever. */
// expect: slabguard: (double free|corrupted free list) of 0x[0-9a-f]+ \(size 48\)
// fast: expect
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define N 2000

static void *blocks[N];

static void *twice(void *arg)
{
    (void)arg;
    free(blocks[4]);   // the page is full: this free goes to the owner's delayed list
    volatile uintptr_t again = (uintptr_t)blocks[5];
    free(blocks[5]);   // onto the page's atomic list
    free((void *)again);
    return NULL;
}

int main(void)
{
    for (int i = 0; i < N; i++)
        blocks[i] = malloc(opaque_size(48));
    pthread_t t;
    if (pthread_create(&t, NULL, twice, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 2;
    for (int i = 0; i < 5 * N; i++)
        blocks[i % N] = malloc(opaque_size(48));
    printf("# the owner allocated on after the double free\n");
    return 0;
}
