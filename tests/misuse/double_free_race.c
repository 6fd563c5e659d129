/* tests/misuse/double_free_race.c: two threads free the same block at the same instant. Exactly
 * one free may take it; the other must report the double free (a check that reads the slot's
 * state and writes it later lets both through while the first one zeroes the block: the block
 * then sits in two quarantine rings and is handed out twice). Each attempt runs in a child
 * process, with a block large enough that zeroing it takes a while; this program dies by
 * SIGABRT itself only when every child did. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 50000\)
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

#define ATTEMPTS 100
#define SIZE 50000

static void *volatile block;
static atomic_int ready, go;

static void *free_it(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ready, 1);
    while (!atomic_load(&go)) {
    }
    free(block);
    return NULL;
}

static void attempt(void)
{
    block = malloc(opaque_size(SIZE));
    pthread_t t[2];
    if (block == NULL || pthread_create(&t[0], NULL, free_it, NULL) != 0 ||
        pthread_create(&t[1], NULL, free_it, NULL) != 0)
        _exit(2);
    while (atomic_load(&ready) < 2) {
    }
    atomic_store(&go, 1);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    _exit(0);   // both frees returned
}

int main(void)
{
    for (int i = 0; i < ATTEMPTS; i++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
            return 2;
        if (pid == 0)
            attempt();
        int status;
        if (waitpid(pid, &status, 0) != pid)
            return 2;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            printf("# attempt %d: both frees of the block returned\n", i);
            return 0;
        }
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
            printf("# attempt %d: the child ended with status %#x, not by SIGABRT\n", i, (unsigned)status);
            return 1;
        }
    }
    signal(SIGABRT, SIG_DFL);
    abort();   // every attempt was caught
}
