/* tests/misuse/double_free_threads.c: thread B frees a block the main thread allocated (a remote
 * free, through B's quarantine and the page's atomic list), then the main thread frees it again. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 64\)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

static void *thread_b(void *arg)
{
    free(arg);
    return NULL;
}

int main(void)
{
    void *p = malloc(opaque_size(64));
    volatile uintptr_t addr = (uintptr_t)p;
    pthread_t t;
    if (pthread_create(&t, NULL, thread_b, p) != 0) {
        perror("pthread_create");
        return 2;
    }
    pthread_join(t, NULL);
    free((void *)addr);
    printf("# the second free of %#lx returned\n", (unsigned long)addr);
    return 0;
}
