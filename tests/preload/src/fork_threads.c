/* fork_threads.c: fork() without exec in a threaded program. Four threads allocate and free
 * without pause while the main thread forks 30 times; each child frees blocks that the parent's
 * threads own (threads that do not exist in the child), allocates, reallocates, starts a thread
 * of its own, sometimes forks again, and exits 0. Prints what it computed; a deadlock in the
 * allocator's fork handling ends the run by SIGALRM. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { THREADS = 4, KEEP = 48, RING = 64, FORKS = 30 };

static unsigned char *keep[THREADS][KEEP];
static size_t keep_size[THREADS][KEEP];
static atomic_int ready, stop;
static unsigned long ops[THREADS];

static uint32_t next_rand(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static size_t pick_size(uint32_t *s) {
    uint32_t r = next_rand(s);
    if (r % 97 == 0) return 150000 + r % 100000; /* now and then a large block */
    if (r % 7 == 0) return 1024 + r % 16384;
    return 1 + r % 512;
}

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg;
    uint32_t seed = 0x9e3779b9u * (uint32_t)(t + 1);
    for (int i = 0; i < KEEP; i++) {
        keep_size[t][i] = pick_size(&seed);
        keep[t][i] = malloc(keep_size[t][i]);
        memset(keep[t][i], t * KEEP + i, keep_size[t][i]);
    }
    atomic_fetch_add(&ready, 1);
    unsigned char *ring[RING] = { 0 };
    size_t ring_size[RING] = { 0 };
    unsigned long n = 0;
    while (!atomic_load(&stop) || n < 20000) {
        int k = (int)(next_rand(&seed) % RING);
        if (ring[k]) {
            if (ring[k][0] != (unsigned char)k || ring[k][ring_size[k] - 1] != (unsigned char)k) abort();
            free(ring[k]);
        }
        ring_size[k] = pick_size(&seed);
        ring[k] = malloc(ring_size[k]);
        ring[k][0] = ring[k][ring_size[k] - 1] = (unsigned char)k;
        n++;
    }
    for (int k = 0; k < RING; k++) free(ring[k]);
    ops[t] = n;
    return NULL;
}

static void *child_thread(void *arg) {
    uint32_t seed = (uint32_t)(uintptr_t)arg | 1;
    void *p[100];
    for (int i = 0; i < 100; i++) p[i] = calloc(1, pick_size(&seed));
    for (int i = 0; i < 100; i++) free(p[i]);
    return malloc(32); /* freed by the child's main thread */
}

/* The child: everything the parent's threads left, plus work of its own. Exit status says
 * what went wrong (0: nothing). */
static int child(int round) {
    alarm(20);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < KEEP; i++) {
            for (size_t b = 0; b < keep_size[t][i]; b += 97)
                if (keep[t][i][b] != (unsigned char)(t * KEEP + i)) return 3;
            if (i % 2 == round % 2) free(keep[t][i]);
            else keep[t][i] = realloc(keep[t][i], keep_size[t][i] * 2 + 1);
        }
    uint32_t seed = 12345u + (uint32_t)round;
    char *s = NULL;
    for (int i = 0; i < 2000; i++) {
        size_t n = pick_size(&seed);
        char *q = malloc(n);
        memset(q, 'c', n);
        free(s);
        s = q;
    }
    free(s);
    pthread_t th;
    void *r;
    if (pthread_create(&th, NULL, child_thread, (void *)(uintptr_t)round) != 0) return 4;
    pthread_join(th, &r);
    free(r);
    if (round % 10 == 0) {
        /* a grandchild: fork from a process that was itself forked */
        pid_t g = fork();
        if (g == 0) {
            free(malloc(1000));
            _exit(0);
        }
        int st;
        if (g < 0 || waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 5;
    }
    return 0;
}

int main(void) {
    alarm(60);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0) return 1;
    while (atomic_load(&ready) < THREADS) usleep(1000);
    int good = 0;
    for (int round = 0; round < FORKS; round++) {
        void *mine = malloc(100 + (size_t)round * 1000);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) exit(child(round)); /* exit, not _exit: atexit and destructors run too */
        free(mine);
        int st;
        if (waitpid(pid, &st, 0) != pid) return 1;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) good++;
        else if (WIFEXITED(st)) printf("child %d: exit %d\n", round, WEXITSTATUS(st));
        else printf("child %d: signal %d\n", round, WTERMSIG(st));
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    int intact = 1;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < KEEP; i++) {
            for (size_t b = 0; b < keep_size[t][i]; b++)
                if (keep[t][i][b] != (unsigned char)(t * KEEP + i)) intact = 0;
            free(keep[t][i]);
        }
    printf("%d of %d children exited 0\n", good, FORKS);
    for (int t = 0; t < THREADS; t++) printf("worker %d: at least 20000 operations: %s\n", t, ops[t] >= 20000 ? "yes" : "no");
    printf("parent's blocks intact after the children freed their copies: %s\n", intact ? "yes" : "no");
    return 0;
}
