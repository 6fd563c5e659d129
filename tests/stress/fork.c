/* tests/stress/fork.c: fork while other threads allocate. Three threads keep calling malloc and
 * free (small, medium and large blocks, so any lock may be held at the moment of fork); the main
 * thread forks 50 times. Each child allocates, checks its blocks, starts a thread, uses stdio
 * and exits 0. A child that does not finish in time is a deadlock: it is killed and reported. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

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

static void test_fork_while_allocating(void)
{
    pthread_t th[BUSY_THREADS];
    for (uintptr_t i = 0; i < BUSY_THREADS; i++)
        REQUIRE(pthread_create(&th[i], NULL, busy, (void *)(i + 1)) == 0, "pthread_create");
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
        long long deadline = now_ms() + CHILD_DEADLINE_MS;
        int status = 0;
        pid_t w;
        while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
            struct timespec nap = {0, 1000 * 1000};
            nanosleep(&nap, NULL);
        }
        if (w == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
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
    for (int i = 0; i < BUSY_THREADS; i++)
        pthread_join(th[i], NULL);
    CHECK(deadlocks == 0 && bad_exits == 0, "%d deadlocked children, %d failed", deadlocks,
          bad_exits);
    CHECK(atomic_load(&busy_damaged) == 0, "parent threads saw %llu damaged blocks",
          (unsigned long long)atomic_load(&busy_damaged));
    CHECK(atomic_load(&busy_rounds) > 1000, "parent threads made only %llu rounds",
          (unsigned long long)atomic_load(&busy_rounds));
}

int main(void)
{
    RUN(test_fork_while_allocating);
    return check_exit();
}
