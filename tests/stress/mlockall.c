/* tests/stress/mlockall.c: programs that lock their memory (mlockall: real-time services,
 * programs that keep secrets off swap). The kernel refuses some of what secure builds do on
 * locked memory (guard markers on huge pages: EINVAL), and refuses to map more than
 * RLIMIT_MEMLOCK once every new mapping is locked (EAGAIN). Neither may abort: large blocks
 * take another layout, and a malloc the limit refuses returns NULL with ENOMEM. Each scenario
 * runs in a child process (mlockall is process-wide, and what it changes stays). */
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "../check.h"

/* Exit status of the child: 0 fine, 1 a check failed (it says which on stderr), 77 the
 * machine refuses mlockall (nothing to check). */
static int in_child(int (*scenario)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(scenario());
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

static bool filled_with(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i += 4096)
        if (p[i] != v)
            return false;
    return p[n - 1] == v;
}

/* A large block first (secure builds find out whether guard markers work), then everything
 * mapped from now on is locked: large blocks of 200 KB .. 25 MB, each grown a little and then a
 * lot. */
static int locked_future(void)
{
    free(opaque_ptr(malloc(opaque_size(300000))));
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
        return 77;
    for (size_t n = 200000; n < ((size_t)32 << 20); n *= 2) {
        unsigned char *p = malloc(opaque_size(n));
        if (p == NULL) {
            fprintf(stderr, "malloc(%zu) failed under mlockall: errno %d\n", n, errno);
            return 1;
        }
        memset(p, 0x33, n);
        p = realloc(p, n + n / 16);
        if (p == NULL || !filled_with(p, n, 0x33)) {
            fprintf(stderr, "realloc(%zu) lost the block or its contents\n", n + n / 16);
            return 1;
        }
        p = realloc(p, 3 * n);
        if (p == NULL || !filled_with(p, n, 0x33)) {
            fprintf(stderr, "realloc(%zu) lost the block or its contents\n", 3 * n);
            return 1;
        }
        free(p);
    }
    return 0;
}

/* Only what is mapped now is locked: that includes the room kept behind a block that realloc
 * moved, into which the block then grows in place. */
static int locked_current(void)
{
    size_t n = 1000000;
    unsigned char *p = malloc(opaque_size(n));
    if (p == NULL)
        return 1;
    memset(p, 0x44, n);
    p = realloc(p, 1500000);
    p = p ? realloc(p, 1800000) : NULL;
    if (p == NULL)
        return 1;
    if (mlockall(MCL_CURRENT) != 0)
        return 77;
    while (n < 3500000) {
        n += n / 9;
        p = realloc(p, n);
        if (p == NULL || !filled_with(p, 1000000, 0x44)) {
            fprintf(stderr, "realloc(%zu) under mlockall(MCL_CURRENT) lost the block\n", n);
            return 1;
        }
    }
    free(p);
    return 0;
}

/* Not root any more (root may lock without limit), 8 MiB lockable, every new mapping locked:
 * a malloc past that must fail cleanly. */
static int locked_past_the_limit(void)
{
    if (getuid() != 0)
        return 77;
    free(opaque_ptr(malloc(opaque_size(300000))));
    struct rlimit lim = { (rlim_t)8 << 20, (rlim_t)8 << 20 };
    if (setgid(65534) != 0 || setuid(65534) != 0 || setrlimit(RLIMIT_MEMLOCK, &lim) != 0)
        return 77;
    if (mlockall(MCL_FUTURE) != 0)
        return 77;
    bool refused = false;
    for (int i = 0; i < 64 && !refused; i++) {
        size_t n = (size_t)1500000 + (size_t)i * 4096;
        errno = 0;
        void *p = malloc(opaque_size(n));   // kept: the locked total grows
        if (p == NULL) {
            if (errno != ENOMEM) {
                fprintf(stderr, "malloc(%zu) failed with errno %d, want ENOMEM\n", n, errno);
                return 1;
            }
            refused = true;
        }
    }
    if (!refused) {
        fprintf(stderr, "96 MiB mapped with 8 MiB lockable: was anything locked?\n");
        return 1;
    }
    void *small = malloc(opaque_size(64));   // the heap still works
    free(small);
    return small ? 0 : 1;
}

static void check_scenario(const char *what, int (*scenario)(void))
{
    int status = in_child(scenario);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        printf("# %s: mlockall (or dropping root) refused here: nothing to check\n", what);
        return;
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child status %#x (signal %d)", what,
          (unsigned)status, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void test_locked_future(void) { check_scenario("mlockall(MCL_FUTURE)", locked_future); }
static void test_locked_current(void) { check_scenario("mlockall(MCL_CURRENT)", locked_current); }
static void test_locked_past_the_limit(void) { check_scenario("RLIMIT_MEMLOCK", locked_past_the_limit); }

int main(void)
{
    RUN(test_locked_future);
    RUN(test_locked_current);
    RUN(test_locked_past_the_limit);
    return check_exit();
}
