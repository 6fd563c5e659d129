/* tests/stress/report_under_lock.c: the kernel refusing a system call of slabguard's (here under
 * one of its internal locks) ends the process with "slabguard: <call> failure", and the locks
 * are released first: the program's SIGABRT handler allocates (fresh pages, a large block) and
 * runs to its end instead of waiting for ever. The refusal is injected by this program's own
 * madvise, mprotect and munmap, which the library's calls reach instead of the C library's; each
 * case runs in a child under an alarm, so a handler that waits shows as SIGALRM. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../check.h"
#include "slabguard.h"

static volatile bool refuse;   /* the calls below fail with EIO, an error slabguard never expects */

static int result(long r)
{
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return 0;
}

int madvise(void *addr, size_t len, int advice)
{
    if (refuse) {
        errno = EIO;
        return -1;
    }
    return result(syscall(SYS_madvise, addr, len, advice));
}

int mprotect(void *addr, size_t len, int prot)
{
    if (refuse) {
        errno = EIO;
        return -1;
    }
    return result(syscall(SYS_mprotect, addr, len, prot));
}

int munmap(void *addr, size_t len)
{
    if (refuse) {
        errno = EIO;
        return -1;
    }
    return result(syscall(SYS_munmap, addr, len));
}

static void say(const char *s) { (void)!write(2, s, strlen(s)); }

/* Allocates from sizes the program has not used (fresh pages from the arena) and a large block,
 * then ends the process by SIGABRT as abort() would. */
static void on_abort(int sig)
{
    (void)sig;
    refuse = false;
    say("test: abort handler started\n");
    void *blocks[64];
    for (int i = 0; i < 64; i++)
        blocks[i] = malloc(opaque_size(3000 + 16 * (size_t)i));
    void *large = malloc(opaque_size(3 << 20));
    for (int i = 0; i < 64; i++)
        free(opaque_ptr(blocks[i]));
    free(opaque_ptr(large));
    say("test: abort handler ran to its end\n");
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
}

enum { COUNT = 4096, SIZE = 1000 };

/* The arena's purge of emptied pages runs under the arena lock, which the handler's fresh pages
 * need. */
static int refused_purge(void)
{
    signal(SIGABRT, on_abort);
    alarm(20);
    static void *p[COUNT];
    for (int i = 0; i < COUNT; i++)
        p[i] = malloc(opaque_size(SIZE));
    for (int i = 0; i < COUNT; i++)
        free(opaque_ptr(p[i]));
    refuse = true;
    sg_malloc_trim(0);
    refuse = false;
    say("test: the trim returned\n");
    return 1;
}

/* A large block's free refused (secure builds protect its range, fast ones unmap it): the
 * handler's large block needs the large-block registry and the recycled pages after it. */
static int refused_large_free(void)
{
    signal(SIGABRT, on_abort);
    alarm(20);
    for (int i = 0; i < 8; i++) {
        char *p = malloc(opaque_size((size_t)(1 + i) << 20));
        memset(p, 1, (size_t)(1 + i) << 20);
        if (i == 7)
            refuse = true;
        free(opaque_ptr(p));
    }
    sg_malloc_trim(0);
    refuse = false;
    say("test: free and trim returned\n");
    return 1;
}

static void check_report(int (*fn)(void))
{
    char report[2048];
    int status = check_in_child(fn, report, sizeof report);
    REQUIRE(status != -1, "fork");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "child status %#x (SIGALRM %d: it waited), said: %s",
          (unsigned)status, SIGALRM, report);
    CHECK(strstr(report, "slabguard: madvise failure of 0x") || strstr(report, "slabguard: mprotect failure of 0x") ||
              strstr(report, "slabguard: munmap failure of 0x"),
          "no report of the refused call: %s", report);
    CHECK(strstr(report, "test: abort handler ran to its end") != NULL, "the handler did not finish: %s", report);
}

static void test_refused_purge_releases_the_lock(void) { check_report(refused_purge); }
static void test_refused_large_purge_releases_the_lock(void) { check_report(refused_large_free); }

int main(void)
{
    RUN(test_refused_purge_releases_the_lock);
    RUN(test_refused_large_purge_releases_the_lock);
    return check_exit();
}
