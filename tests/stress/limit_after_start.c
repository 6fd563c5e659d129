/* tests/stress/limit_after_start.c: a process that lowers its own RLIMIT_AS after start-up
 * (setrlimit, as Python's resource.setrlimit does). The arena reserved 64 GiB of address space
 * at the first malloc, when there was no limit: before, a limit of 4 GiB set afterwards left
 * the process no room at all, and every mapping it made next failed (a thread's stack, a large
 * block, an mmap of its own; a Python script failed with MemoryError). slabguard's setrlimit
 * and prlimit now give the unused end of the reservation back, keeping for the arena at most
 * half of what the limit leaves (as at start-up under ulimit -v). Each case runs in a child:
 * the limit stays with the process. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "../check.h"
#include "os.h"

#define LIMIT ((size_t)4 << 30)

static void *thread_body(void *arg) { return arg; }

/* In the child: 0 when all went well, else the step that failed. */
static int after_limit(bool use_prlimit) {
    void *early[1000];
    for (int i = 0; i < 1000; i++) {   /* blocks made before the limit, freed after it */
        early[i] = malloc(opaque_size(100 + (size_t)i));
        if (!early[i]) return 1;
        memset(early[i], 1, 100);
    }
    size_t before = sg_os_address_space_used();
    printf("# address space before the limit: %zu MiB\n", before >> 20);
    if (before <= LIMIT) {
        printf("# the process holds no more than the limit already: nothing to check\n");
        return 77;
    }
    struct rlimit rl = { LIMIT, LIMIT };
    if ((use_prlimit ? prlimit(0, RLIMIT_AS, &rl, NULL) : setrlimit(RLIMIT_AS, &rl)) != 0) return 2;
    size_t after = sg_os_address_space_used();
    printf("# address space after: %zu MiB\n", after >> 20);
    if (after > LIMIT / 2 + ((size_t)512 << 20)) return 3;   /* half the limit, and the rest */
    struct rlimit got;
    if (getrlimit(RLIMIT_AS, &got) != 0 || got.rlim_cur != LIMIT) return 4;
    pthread_t t;
    void *res = NULL;
    if (pthread_create(&t, NULL, thread_body, (void *)7) != 0 || pthread_join(t, &res) != 0 || res != (void *)7) return 5;
    void *m = mmap(NULL, (size_t)64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 6;
    munmap(m, (size_t)64 << 20);
    char *big = malloc(opaque_size((size_t)256 << 20));
    if (!big) return 7;
    memset(big, 3, (size_t)256 << 20);
    free(big);
    enum { SMALL = 200000 };   /* 200 MB of small blocks: the arena still has room */
    static void *v[SMALL];
    for (int i = 0; i < SMALL; i++) {
        v[i] = malloc(opaque_size(1000));
        if (!v[i]) {
            printf("# small malloc #%d = NULL\n", i);
            return 8;
        }
        memset(v[i], 2, 1000);
    }
    for (int i = 0; i < SMALL; i++) free(v[i]);
    for (int i = 0; i < 1000; i++) free(early[i]);
    errno = 0;
    if (malloc(opaque_size((size_t)6 << 30)) != NULL || errno != ENOMEM) return 9;   /* past the limit */
    return 0;
}

static void run_case(bool use_prlimit) {
    fflush(stdout);
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
        int rc = after_limit(use_prlimit);
        fflush(stdout);
        _exit(rc);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status), "the child died (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    int rc = WEXITSTATUS(status);
    if (rc == 77) return;
    static const char *const step[] = { "", "malloc before the limit", "setting the limit",
                                         "the address space did not shrink below the limit",
                                         "getrlimit does not show the limit", "pthread_create",
                                         "mmap of 64 MiB", "malloc of 256 MiB", "small malloc",
                                         "malloc of 6 GiB did not fail with ENOMEM" };
    CHECK(rc == 0, "%s failed (%s)", rc > 0 && rc < 10 ? step[rc] : "?", use_prlimit ? "prlimit" : "setrlimit");
}

static void test_setrlimit_after_start(void) { run_case(false); }
static void test_prlimit_after_start(void) { run_case(true); }

int main(void) {
    RUN(test_setrlimit_after_start);
    RUN(test_prlimit_after_start);
    return check_exit();
}
