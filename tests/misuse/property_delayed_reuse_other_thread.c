/* tests/misuse/property_delayed_reuse_other_thread.c: a property, not a bug. Blocks freed by
 * threads that have no heap of their own must wait in a quarantine too: one thread that never
 * allocated frees a block, another frees one from a thread-specific destructor that runs after
 * slabguard's own exit handler; then the owner allocates the same size 2000 times with no free
 * in between. Neither block may come back; then the program aborts on purpose with a "delayed
 * reuse" line. An allocator that hands such blocks back at once runs to its end. */
// expect: test: delayed reuse \(0 of 2 handed out again within 2000 mallocs\)
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define SIZE 200
#define TRIES 2000

static pthread_key_t late_key;

static void *free_only(void *arg)
{
    free(arg);
    return NULL;
}

/* created after slabguard's key: its destructor runs after slabguard handed the heap on */
static void late_free(void *p) { free(p); }

static void *exit_with_block(void *arg)
{
    pthread_setspecific(late_key, arg);
    return NULL;
}

int main(void)
{
    free(malloc(opaque_size(1)));   /* slabguard is set up, its thread key made first */
    if (pthread_key_create(&late_key, late_free) != 0)
        return 1;
    void *a = malloc(opaque_size(SIZE)), *b = malloc(opaque_size(SIZE));
    pthread_t t;
    if (pthread_create(&t, NULL, free_only, a) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    /* this thread allocates (so it has a heap that its exit hands on), then exits holding b */
    if (pthread_create(&t, NULL, exit_with_block, b) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    int back = 0;
    static void *got[TRIES];
    for (int i = 0; i < TRIES; i++) {
        got[i] = malloc(opaque_size(SIZE));
        back += got[i] == a || got[i] == b;
    }
    printf("# %d of 2 handed out again within %d mallocs\n", back, TRIES);
    fflush(stdout);
    if (back == 0) {
        fprintf(stderr, "test: delayed reuse (0 of 2 handed out again within %d mallocs)\n", TRIES);
        abort();
    }
    return 0;
}
