/* tests/misuse/abort_handler_allocates_after_sweep.c: a block of a thread that has exited (its
 * page abandoned) is freed, and after it left the quarantine its free-list link is overwritten.
 * malloc_trim sweeps the abandoned pages under their lock and finds the forged link; the
 * program's SIGABRT handler then allocates a size it never used before, which looks for an
 * abandoned page to adopt under that same lock. It must run to its end: the lock is released
 * before the abort. */
// expect: test: abort handler ran to its end
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "misuse.h"

#define CHURN 1000000

static void on_alarm(int sig)
{
    (void)sig;
    say("test: the abort handler hung (a lock held at the abort)\n");
    _exit(3);
}

static void on_abort(int sig)
{
    (void)sig;
    say("test: abort handler started\n");
    signal(SIGALRM, on_alarm);
    alarm(5);
    void *volatile q = malloc(opaque_size(3000));   // a class the program never used
    if (q == NULL) {
        say("test: the handler's malloc failed\n");
        _exit(3);
    }
    ((volatile char *)q)[2999] = 'h';
    free(q);
    say("test: abort handler ran to its end\n");
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
}

static void *volatile orphan;

static void *worker(void *arg)
{
    (void)arg;
    orphan = malloc(opaque_size(200));
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0 || orphan == NULL)
        return 2;
    free(orphan);   // into the quarantine; it reaches its abandoned page when it leaves
    uint64_t link = 0;
    for (int i = 0; i < CHURN && link == 0; i++) {
        free(malloc(opaque_size(32)));
        memcpy(&link, (const void *)orphan, sizeof link);   // quarantined blocks read zero
    }
    if (link == 0) {
        printf("# no link in the freed block's first word (still quarantined, or links are plain)\n");
        return 2;
    }
    memset(orphan, 0x41, 8);   // a write after free over the link
    signal(SIGABRT, on_abort);
    malloc_trim(0);
    printf("# malloc_trim did not report the forged link\n");
    return 0;
}
