/* tests/stress/fork.c: fork while other threads allocate. Three threads keep calling malloc and
 * free (small, medium and large blocks), a fourth creates and destroys first-class heaps, so any
 * lock may be held at the moment of fork; the main thread forks 50 times. Each child allocates,
 * checks its blocks, makes and destroys a heap, starts a thread, uses stdio and exits 0. A child
 * that does not finish in time is a deadlock: it is killed and reported.
 * Other cases: children of one parent must not make the same random choices, and a fork that
 * lands during a cross-thread free's delivery to a full page's heap must not hang the child. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "slabguard.h"

#define FORKS 50
#define BUSY_THREADS 3
#define CHILD_DEADLINE_MS 20000

static atomic_int stop;
static atomic_ullong busy_damaged, busy_rounds;

static void *busy(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15u + 11;
    unsigned char *held[64] = {0};
    size_t held_size[64] = {0};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint64_t r = rng_next(&rng);
        size_t s = r % 64;
        if (held[s] != NULL) {
            if (pattern_check(held[s], held_size[s] < 64 ? held_size[s] : 64, s + held_size[s]) !=
                SIZE_MAX)
                atomic_fetch_add(&busy_damaged, 1);
            free(held[s]);
        }
        size_t n = (r >> 8) % 97 == 0 ? 200000 + (r >> 20) % 400000
                   : (r >> 8) % 7 == 0 ? 2000 + (r >> 20) % 30000
                                       : 1 + (r >> 20) % 600;
        held[s] = malloc(n);
        held_size[s] = n;
        if (held[s] != NULL)
            pattern_fill(held[s], n < 64 ? n : 64, s + n);
        atomic_fetch_add_explicit(&busy_rounds, 1, memory_order_relaxed);
    }
    for (int s = 0; s < 64; s++)
        free(held[s]);
    return NULL;
}

/* First-class heaps made and destroyed: sg_heap_destroy takes a lock of its own. */
static void *heap_churn(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        sg_heap_t *h = sg_heap_new();
        if (h == NULL)
            continue;
        for (int i = 0; i < 16; i++)
            memset(sg_heap_malloc(h, 100 + (size_t)i * 500), 1, 100);
        sg_heap_destroy(h);
        atomic_fetch_add_explicit(&busy_rounds, 1, memory_order_relaxed);
    }
    return NULL;
}

static void *child_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        void *p = malloc((size_t)(i % 300) + 1);
        if (p == NULL)
            return (void *)1;
        memset(p, i, (size_t)(i % 300) + 1);
        free(p);
    }
    return NULL;
}

/* Runs in the child: any failure is an exit status, checked by the parent. */
static int child_main(int round)
{
    enum { N = 500 };
    unsigned char *b[N];
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 50 == 0 ? 70000 : 1 + i * 7 % 3000);
        b[i] = malloc(n);
        if (b[i] == NULL)
            return 2;
        pattern_fill(b[i], n, (uint64_t)i + 1000u * (uint64_t)round);
    }
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 50 == 0 ? 70000 : 1 + i * 7 % 3000);
        if (pattern_check(b[i], n, (uint64_t)i + 1000u * (uint64_t)round) != SIZE_MAX)
            return 3;
        free(b[i]);
    }
    sg_heap_t *h = sg_heap_new();
    if (h == NULL || sg_heap_malloc(h, 1000) == NULL)
        return 7;
    sg_heap_destroy(h);
    pthread_t t;
    void *res = (void *)2;
    if (pthread_create(&t, NULL, child_thread, NULL) != 0 || pthread_join(t, &res) != 0 ||
        res != NULL)
        return 4;
    char *s = NULL;
    /* stdio allocates: a line on stdout (a comment for the runner) and a file stream */
    printf("# child %d of pid %d ok\n", round, (int)getppid());
    FILE *f = fopen("/dev/null", "w");
    if (f == NULL || fprintf(f, "%d %s\n", round, "x") < 0 || fclose(f) != 0)
        return 5;
    s = strdup("child");
    if (s == NULL || strcmp(s, "child") != 0)
        return 6;
    free(s);
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for child pid until deadline_ms from now; a child still running then is killed. Returns
 * false for such a child (a deadlock), true otherwise with its status. */
static bool wait_or_kill(pid_t pid, int deadline_ms, int *status)
{
    long long deadline = now_ms() + deadline_ms;
    pid_t w;
    while ((w = waitpid(pid, status, WNOHANG)) == 0 && now_ms() < deadline) {
        struct timespec nap = {0, 200 * 1000};
        nanosleep(&nap, NULL);
    }
    if (w != 0)
        return true;
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
    return false;
}

static void test_fork_while_allocating(void)
{
    pthread_t th[BUSY_THREADS + 1];
    for (uintptr_t i = 0; i < BUSY_THREADS; i++)
        REQUIRE(pthread_create(&th[i], NULL, busy, (void *)(i + 1)) == 0, "pthread_create");
    REQUIRE(pthread_create(&th[BUSY_THREADS], NULL, heap_churn, NULL) == 0, "pthread_create");
    int deadlocks = 0, bad_exits = 0;
    for (int round = 0; round < FORKS; round++) {
        /* let the busy threads get going between forks */
        struct timespec pause = {0, 2 * 1000 * 1000};
        nanosleep(&pause, NULL);
        fflush(stdout); /* the child must not write our buffered lines again */
        pid_t pid = fork();
        if (pid == 0)
            exit(child_main(round));
        CHECK(pid > 0, "fork failed: errno %d", errno);
        if (pid < 0)
            break;
        int status = 0;
        if (!wait_or_kill(pid, CHILD_DEADLINE_MS, &status)) {
            deadlocks++;
            CHECK(0, "child %d still running after %d ms: deadlocked after fork", round,
                  CHILD_DEADLINE_MS);
            continue;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bad_exits++;
            CHECK(0, "child %d: %s %d", round, WIFSIGNALED(status) ? "killed by signal" : "exit",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i <= BUSY_THREADS; i++)
        pthread_join(th[i], NULL);
    CHECK(deadlocks == 0 && bad_exits == 0, "%d deadlocked children, %d failed", deadlocks,
          bad_exits);
    CHECK(atomic_load(&busy_damaged) == 0, "parent threads saw %llu damaged blocks",
          (unsigned long long)atomic_load(&busy_damaged));
    CHECK(atomic_load(&busy_rounds) > 1000, "parent threads made only %llu rounds",
          (unsigned long long)atomic_load(&busy_rounds));
}

/* What a child's allocator chooses: the addresses of 64 blocks of a size the parent never
 * used (a fresh page: its slot order), then of 64 more after 300 frees and mallocs of another
 * size (which blocks left the quarantine). */
enum { PICKS = 128 };
static void child_choices(uintptr_t out[PICKS])
{
    for (int i = 0; i < 64; i++)
        out[i] = (uintptr_t)malloc(opaque_size(3000));
    void *b[300];
    for (int i = 0; i < 300; i++)
        b[i] = malloc(opaque_size(200));
    for (int i = 0; i < 300; i++)
        free(b[i]);
    for (int i = 0; i < 64; i++)
        out[64 + i] = (uintptr_t)malloc(opaque_size(200));
}

static void test_children_choose_differently(void)
{
    enum { CHILDREN = 3 };
    free(malloc(opaque_size(100)));   /* the parent is set up: its generators are seeded */
    uintptr_t seen[CHILDREN][PICKS];
    for (int c = 0; c < CHILDREN; c++) {
        int fd[2];
        REQUIRE(pipe(fd) == 0, "pipe");
        fflush(stdout);
        pid_t pid = fork();
        REQUIRE(pid >= 0, "fork failed: errno %d", errno);
        if (pid == 0) {
            uintptr_t out[PICKS];
            child_choices(out);
            _exit(write(fd[1], out, sizeof out) == (ssize_t)sizeof out ? 0 : 1);
        }
        close(fd[1]);
        size_t got = 0;
        ssize_t n;
        while (got < sizeof seen[c] && (n = read(fd[0], (char *)seen[c] + got, sizeof seen[c] - got)) > 0)
            got += (size_t)n;
        close(fd[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        REQUIRE(got == sizeof seen[c] && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", c);
    }
    for (int a = 0; a < CHILDREN; a++)
        for (int b = a + 1; b < CHILDREN; b++) {
            int same_order = 0, same_reuse = 0;
            for (int i = 0; i < 64; i++) {
                same_order += seen[a][i] == seen[b][i];
                same_reuse += seen[a][64 + i] == seen[b][64 + i];
            }
            printf("# children %d and %d: %d of 64 slots alike, %d of 64 reused blocks alike\n", a, b,
                   same_order, same_reuse);
#if SG_CONFIG_RANDOM_SLOTS && SG_CONFIG_QUARANTINE_SLOTS
            /* chance alone gives about one of 64 alike */
            CHECK(same_order < 16, "children %d and %d chose %d of 64 slots alike", a, b, same_order);
            CHECK(same_reuse < 16, "children %d and %d reused %d of 64 blocks alike", a, b, same_reuse);
#endif
        }
}

/* Two threads keep replacing blocks in a shared array, so half their frees are cross-thread,
 * many into full pages (delivered to the owner's heap); meanwhile the main thread forks again and
 * again, and each child frees every block in the array. A fork that lands while a thread is in
 * the middle of such a delivery left the child waiting for it forever. */
/* Up to XFORKS forks, or as many as XBUDGET_MS allows (a quarter under the sanitizers,
 * SG_STRESS_SHORT): where a fork and the copy-on-write faults after it are slow (a
 * paravirtualised VM: 160 ms a round), the hang this catches came within 18-257 forks in 8 of
 * 8 runs, and the check must stay within make check's time. */
enum { XSLOTS = 4096, XFORKS = 400, XDEADLINE_MS = 10000, XBUDGET_MS = 12000 };
static void *_Atomic xslots[XSLOTS];
static atomic_int xstop;

static void *exchanger(void *arg)
{
    unsigned s = (unsigned)(uintptr_t)arg;
    while (!atomic_load_explicit(&xstop, memory_order_relaxed)) {
        s = s * 1103515245u + 12345u;
        size_t n = 16 + (s >> 8) % 3000;
        char *p = malloc(n);
        if (p == NULL)
            continue;
        p[0] = 1;
        free(atomic_exchange(&xslots[(s >> 4) % XSLOTS], p));
    }
    return NULL;
}

static void test_fork_during_cross_thread_frees(void)
{
    pthread_t th[2];
    for (uintptr_t i = 0; i < 2; i++)
        REQUIRE(pthread_create(&th[i], NULL, exchanger, (void *)(i + 1)) == 0, "pthread_create");
    int hung = 0, failed = 0, round = 0;
    long long until = now_ms() + (getenv("SG_STRESS_SHORT") ? XBUDGET_MS / 4 : XBUDGET_MS);
    for (; round < XFORKS && !hung && now_ms() < until; round++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < XSLOTS; i++)
                free(atomic_exchange(&xslots[i], NULL));
            _exit(0);
        }
        REQUIRE(pid > 0, "fork failed: errno %d", errno);
        int status = 0;
        if (!wait_or_kill(pid, XDEADLINE_MS, &status)) {
            hung++;
            CHECK(0, "child %d still freeing after %d ms: it waits for a delivery of the parent's", round,
                  XDEADLINE_MS);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed++;
        }
    }
    atomic_store(&xstop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < XSLOTS; i++)
        free(atomic_exchange(&xslots[i], NULL));
    printf("# %d forks\n", round);
    CHECK(failed == 0, "%d children failed", failed);
}

/* A thread of the parent holds 20 MB of small blocks when the main thread forks. The child
 * frees them all and trims: their pages go back (before, the frees waited on the pages for
 * their owner, which is not in the child, and the child kept every page), and the child counts
 * one thread. */
enum { HELD = 20000, HELD_SIZE = 1000 };
static void *held_blocks[HELD];
static atomic_int holder_state;   /* 1: blocks allocated, 2: may finish */

static void *holder(void *arg)
{
    (void)arg;
    for (int i = 0; i < HELD; i++) {
        held_blocks[i] = malloc(opaque_size(HELD_SIZE));
        memset(held_blocks[i], 7, HELD_SIZE);
    }
    atomic_store(&holder_state, 1);
    while (atomic_load(&holder_state) != 2)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    for (int i = 0; i < HELD; i++)
        free(held_blocks[i]);
    return NULL;
}

static void test_child_frees_another_threads_blocks(void)
{
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, holder, NULL) == 0, "pthread_create");
    while (atomic_load(&holder_state) != 1)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    free(opaque_ptr(malloc(opaque_size(64))));   /* this thread has a heap too */
    sg_stats_t s;
    sg_stats_get(&s);
    size_t pages_before = s.pages;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < HELD; i++)
            free(held_blocks[i]);
        for (int i = 0; i < 300; i++)   /* the quarantine's last blocks out */
            free(opaque_ptr(malloc(opaque_size(24))));
        sg_malloc_trim(0);
        sg_stats_get(&s);
        printf("# child: %zu pages before the frees, %zu after, %zu threads\n", pages_before, s.pages, s.threads);
        fflush(stdout);
        _exit(s.pages * 4 < pages_before && s.threads == 1 ? 0 : 1);
    }
    REQUIRE(pid > 0, "fork failed: errno %d", errno);
    int status = 0;
    bool done = wait_or_kill(pid, CHILD_DEADLINE_MS, &status);
    atomic_store(&holder_state, 2);
    pthread_join(th, NULL);
    CHECK(done && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child status %#x: it kept the pages of the parent's other thread (pages: %zu at the fork)", (unsigned)status,
          pages_before);
}

/* A fork only marks the heaps of the parent's other threads; the child orphans them (their
 * quarantined blocks go back to their pages) when it first sweeps, trims or reads statistics.
 * Done in the fork, that work wrote into a copy of every page those quarantines reached before
 * the child could run or exec (0.4-0.9 s for a parent of 64 threads). Four threads each free
 * 1920 of 2048 blocks of 2 KiB, filling their quarantines, and wait; the child reads its private
 * dirty memory (copies it made of the parent's pages) right after the fork, and again after
 * reading statistics: the first must be well below the second, which shows the work was there. */
enum { DEFER_THREADS = 4, DEFER_BLOCKS = 2048 };
static atomic_int defer_ready, defer_done;

static void *quarantine_filler(void *arg)
{
    (void)arg;
    static _Thread_local void *blocks[DEFER_BLOCKS];
    for (int i = 0; i < DEFER_BLOCKS; i++)
        blocks[i] = opaque_ptr(malloc(opaque_size(2048)));
    for (int i = 0; i < DEFER_BLOCKS; i++)
        if (i % 16 != 0)   /* every page keeps blocks: none goes back (and is purged) when settled */
            free(blocks[i]);
    atomic_fetch_add(&defer_ready, 1);
    while (!atomic_load(&defer_done))
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    for (int i = 0; i < DEFER_BLOCKS; i += 16)
        free(blocks[i]);
    return NULL;
}

/* Private_Dirty of the whole process in KiB, read without stdio (no malloc); -1 if unknown. */
static long private_dirty_kib(void)
{
    static char buf[4096];
    int fd = open("/proc/self/smaps_rollup", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    const char *at = strstr(buf, "Private_Dirty:");
    return at ? strtol(at + 14, NULL, 10) : -1;
}

static void test_fork_defers_orphaning(void)
{
    pthread_t th[DEFER_THREADS];
    for (int i = 0; i < DEFER_THREADS; i++)
        REQUIRE(pthread_create(&th[i], NULL, quarantine_filler, NULL) == 0, "pthread_create");
    while (atomic_load(&defer_ready) != DEFER_THREADS)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    fflush(stdout);
    int fds[2];
    REQUIRE(pipe(fds) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        long at_fork = private_dirty_kib();
        sg_stats_t st;
        sg_stats_get(&st);   /* settles; malloc_trim would purge the pages it empties */
        long settled = private_dirty_kib();
        long both[2] = { at_fork, settled };
        _exit(write(fds[1], both, sizeof both) == (ssize_t)sizeof both ? 0 : 1);
    }
    REQUIRE(pid > 0, "fork failed: errno %d", errno);
    close(fds[1]);
    long both[2] = { -1, -1 };
    ssize_t got = read(fds[0], both, sizeof both);
    close(fds[0]);
    int status = 0;
    bool done = wait_or_kill(pid, CHILD_DEADLINE_MS, &status);
    atomic_store(&defer_done, 1);
    for (int i = 0; i < DEFER_THREADS; i++)
        pthread_join(th[i], NULL);
    REQUIRE(done && WIFEXITED(status) && WEXITSTATUS(status) == 0 && got == (ssize_t)sizeof both,
            "child status %#x", (unsigned)status);
    printf("# child's private dirty memory: %ld KiB after the fork, %ld KiB once settled\n", both[0], both[1]);
    if (both[0] < 0) {
        printf("# no /proc/self/smaps_rollup: nothing checked\n");
        return;
    }
    if (strstr(sg_mitigations(), "quarantine"))   /* orphaning writes into the quarantined blocks' pages */
        CHECK(both[1] - both[0] > 1024 && both[0] < both[1] / 2,
              "the fork orphaned the other threads' heaps itself: %ld KiB dirty after it, %ld once settled", both[0],
              both[1]);
}

int main(void)
{
    RUN(test_child_frees_another_threads_blocks);
    RUN(test_fork_defers_orphaning);
    RUN(test_children_choose_differently);
    RUN(test_fork_during_cross_thread_frees);
    RUN(test_fork_while_allocating);
    return check_exit();
}
