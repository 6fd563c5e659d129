/* tests/stress/fork_handlers.c: a library that registers fork handlers in its constructor, and
 * allocates in them (a prepare handler that saves state, a child handler that rebuilds it).
 * slabguard's own handlers take every lock in prepare and release them in the child; glibc
 * runs prepare handlers last registered first and child handlers first registered first, so
 * slabguard's must have been registered before the library's: otherwise the library's
 * handlers allocate while slabguard's locks are held, and fork never returns (parent) or the
 * child hangs. Here the library is this program, its constructor of default priority. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

static void *saved_small, *saved_large;

static void prepare(void)
{
    saved_small = malloc(opaque_size(5000));     // a size class not used before
    saved_large = malloc(opaque_size(300000));   // directly mapped
}

static void parent(void)
{
    free(saved_small);
    free(saved_large);
}

static void child(void)
{
    free(saved_small);
    free(saved_large);
    for (int i = 0; i < 40; i++)   // new pages of many classes, and large blocks
        free(malloc(opaque_size((size_t)1000 + (size_t)i * 3000)));
}

__attribute__((constructor)) static void library_init(void)
{
    pthread_atfork(prepare, parent, child);
}

static void test_handlers_that_allocate(void)
{
    free(opaque_ptr(malloc(opaque_size(10))));
    alarm(20);   // a deadlock in fork itself: killed by SIGALRM, reported as a crash of this case
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork failed");
    if (pid == 0) {
        void *p = malloc(opaque_size(100));
        _exit(p ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
    alarm(0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", (unsigned)status);
}

int main(void)
{
    RUN(test_handlers_that_allocate);
    return check_exit();
}
