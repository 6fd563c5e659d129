/* tests/misuse/double_free_race.c: two threads free the same block at the same instant. A
 * check that reads the slot's state at free and writes it after zeroing the block lets both
 * through (the block then waits in both threads' quarantine rings and is handed out twice, or
 * the second free's zeroing wipes the link the first one's release wrote); a check when the
 * block leaves the quarantine catches most but not all interleavings. Exactly one free may
 * take the block, and the other must report the double free. Every other attempt, one of the
 * two threads is the block's owner (its page is that thread's), whose free takes the slot with
 * a plain load and store: the other thread's free then reports when its block leaves its
 * quarantine. Each thread goes on freeing until the block has surely left its ring. Each
 * attempt runs in a child process, with a block large enough that zeroing it takes a while;
 * this program dies by SIGABRT itself only when every child reported the double free. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 50000\)
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

#define ATTEMPTS 100
#define SIZE 50000
#define CHURN 4000

static void *volatile block;
static atomic_int ready, go;

static void *free_it(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ready, 1);
    while (!atomic_load(&go)) {
    }
    free(block);
    for (int i = 0; i < CHURN; i++)   // through the quarantine ring (256 slots, random exits)
        free(opaque_ptr(malloc(opaque_size(64))));
    return NULL;
}

// owner_races: this thread (the block's owner) is one of the two; else two other threads.
static void attempt(int owner_races)
{
    block = malloc(opaque_size(SIZE));
    int others = owner_races ? 1 : 2;
    pthread_t t[2];
    if (block == NULL)
        _exit(2);
    for (int i = 0; i < others; i++)
        if (pthread_create(&t[i], NULL, free_it, NULL) != 0)
            _exit(2);
    while (atomic_load(&ready) < others) {
    }
    atomic_store(&go, 1);
    if (owner_races)
        free_it(NULL);
    for (int i = 0; i < others; i++)
        pthread_join(t[i], NULL);
    _exit(0);   // both frees returned
}

static int race_two_others(void)
{
    attempt(0);
    return 2;
}
static int race_owner_and_other(void)
{
    attempt(1);
    return 2;
}

int main(void)
{
    static char report[4096];
    for (int i = 0; i < ATTEMPTS; i++) {
        int status = check_in_child(i % 2 ? race_owner_and_other : race_two_others, report, sizeof report);
        if (status == -1)
            return 2;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            printf("# attempt %d: both frees of the block returned\n", i);
            return 0;
        }
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT || !strstr(report, "slabguard: double free of")) {
            printf("# attempt %d: the child ended with status %#x, saying: %s\n", i, (unsigned)status, report);
            return 1;
        }
        fputs(report, stderr);
    }
    signal(SIGABRT, SIG_DFL);
    abort();   // every attempt was caught
}
