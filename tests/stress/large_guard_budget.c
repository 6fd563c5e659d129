/* tests/stress/large_guard_budget.c: tens of thousands of large blocks held at once under the
 * machine's vm.max_map_count (65530 by default). A secure large block with a guard page on each
 * side costs kernel mappings (three with inaccessible guard pages, one where the kernel has
 * guard markers): past their share of the limit, new blocks must be made without guards (one
 * warning line says so) rather than fail, the program must keep mappings for itself (threads,
 * its own mmap), and once the blocks are freed new ones get their guards back. Before the
 * budget, 21831 blocks of 200 KB fitted and malloc returned NULL. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../check.h"
#include "procfs.h"

#define BLOCK ((size_t)200000)   /* a multiple of 16: the block ends against its trailing guard */
#define NBLOCKS 70000
#define SHRUNK ((size_t)140000)   /* what the last SHRINK blocks are shrunk to */
#define SHRINK 20000
#define WARNING "slabguard: warning: large blocks made without guard pages: vm.max_map_count budget reached\n"

static unsigned char *blocks[NBLOCKS];
static size_t shrunk_from = NBLOCKS;   /* blocks from here on hold SHRUNK bytes */

static size_t size_of(size_t i) { return i >= shrunk_from ? SHRUNK : BLOCK; }

static void *thread_main(void *arg) { return arg; }

/* Does a write to the page after block p (of BLOCK bytes) fault? In a child: 1 if it died by
 * SIGSEGV, 0 if the write went through, -1 if the child could not run. */
static int page_after_faults(unsigned char *p)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        volatile unsigned char *after = p + BLOCK;
        *after = 1;
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* What the library wrote to stderr meanwhile: fd 2 goes to a pipe (the one warning fits in its
 * buffer) until stderr_end. */
static int saved_stderr = -1, pipe_fds[2];

static void stderr_begin(void)
{
    fflush(stderr);
    REQUIRE(pipe2(pipe_fds, O_NONBLOCK) == 0, "pipe2");
    saved_stderr = dup(2);
    dup2(pipe_fds[1], 2);
}

static size_t stderr_end(char *buf, size_t cap)
{
    dup2(saved_stderr, 2);
    close(saved_stderr);
    close(pipe_fds[1]);
    ssize_t n = read(pipe_fds[0], buf, cap - 1);
    close(pipe_fds[0]);
    buf[n > 0 ? n : 0] = 0;
    return n > 0 ? (size_t)n : 0;
}

/* The program keeps room for its own mappings: a thread, an mmap, and large blocks that follow. */
static void check_room_left(const char *when)
{
    pthread_t t;
    int r = pthread_create(&t, NULL, thread_main, NULL);
    CHECK(r == 0, "%s: pthread_create failed (%d)", when, r);
    if (r == 0)
        pthread_join(t, NULL);
    void *m = mmap(NULL, (size_t)1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "%s: mmap of 1 MiB failed (errno %d)", when, errno);
    if (m != MAP_FAILED)
        munmap(m, (size_t)1 << 20);
}

static size_t fill(size_t from, size_t n)
{
    shrunk_from = NBLOCKS;
    size_t got = from;
    for (; got < n; got++) {
        blocks[got] = malloc(opaque_size(BLOCK));
        if (blocks[got] == NULL)
            break;
        blocks[got][0] = (unsigned char)got;
        blocks[got][BLOCK - 1] = (unsigned char)(got >> 8);
    }
    return got;
}

static void empty(size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += blocks[i][0] != (unsigned char)i || blocks[i][size_of(i) - 1] != (unsigned char)(i >> 8);
        free(blocks[i]);
    }
    CHECK(bad == 0, "%zu blocks lost their first or last byte", bad);
}

/* A write one byte past the last block, then its free (in a child). */
static int overflow_last(void)
{
    volatile unsigned char *p = blocks[NBLOCKS - 1];
    p[SHRUNK] = 1;
    free(blocks[NBLOCKS - 1]);
    return 0;
}

static void test_seventy_thousand_large_blocks(void)
{
    long limit = read_long("/proc/sys/vm/max_map_count");
    REQUIRE(limit > 0, "cannot read vm.max_map_count");
    printf("# vm.max_map_count %ld%s\n", limit, limit == 65530 ? " (the default)" : "");
    long before = count_mappings();
    char err[4096];
    stderr_begin();
    errno = 0;
    size_t got = fill(0, 1000);
    long first = count_mappings() - before;
    if (got == 1000)
        got = fill(1000, NBLOCKS);
    int e = errno;
    stderr_end(err, sizeof err);
    long after = count_mappings();
    printf("# the first 1000 blocks: %ld mappings\n", first);
    if (SG_CONFIG_SECURE)   /* guard pages: markers, or inaccessible pages (a mapping each, and the split) */
        CHECK(first <= (kernel_has_guard_markers() ? 1000 : 3000) + 16, "%ld mappings for the first 1000 blocks", first);
    else
        CHECK(first <= 1000 + 16, "%ld mappings for the first 1000 blocks", first);
    printf("# %zu blocks of %zu bytes: %ld mappings before, %ld after\n", got, BLOCK, before, after);
    REQUIRE(got == NBLOCKS, "malloc(%zu) = NULL (errno %d) after %zu blocks", BLOCK, e, got);
    CHECK(after < limit - limit / 4, "%ld mappings of %ld: no room left for the rest of the program", after, limit);
    if (SG_CONFIG_SECURE) {
        CHECK(strcmp(err, WARNING) == 0, "stderr was \"%s\", expected the budget's warning once", err);
        /* the first blocks were made within the budget, the last past it */
        CHECK(page_after_faults(blocks[0]) == 1, "the first block has no trailing guard");
        size_t bare = 0;
        for (size_t i = NBLOCKS - 8; i < NBLOCKS; i++)
            bare += page_after_faults(blocks[i]) == 0;
        printf("# %zu of the last 8 blocks without a trailing guard\n", bare);
        CHECK(bare > 0, "every one of the last 8 blocks has a trailing guard: no budget?");
    } else {
        CHECK(err[0] == 0, "stderr was \"%s\", expected nothing", err);
    }
    check_room_left("70000 large blocks held");
    /* the last blocks (bare) shrunk: they do not split their mappings (shrunk where they are,
     * each split its own in two: 30018 of 40000 such blocks fitted, and no thread could start) */
    for (size_t i = NBLOCKS - SHRINK; i < NBLOCKS; i++) {
        unsigned char *q = realloc(blocks[i], opaque_size(SHRUNK));
        REQUIRE(q != NULL, "realloc(%zu) of block %zu: NULL (errno %d)", SHRUNK, i, errno);
        blocks[i] = q;
        q[SHRUNK - 1] = (unsigned char)(i >> 8);
        shrunk_from = NBLOCKS - SHRINK;
    }
    long shrunk = count_mappings();
    printf("# the last %d shrunk to %zu bytes: %ld mappings\n", SHRINK, SHRUNK, shrunk);
    CHECK(shrunk < limit - limit / 4, "%ld mappings of %ld after shrinking %d blocks", shrunk, limit, SHRINK);
    check_room_left("70000 large blocks held, 20000 of them shrunk");
    if (SG_CONFIG_SECURE) {
        /* a bare block keeps a whole canary after it: a 1-byte overflow past one whose size is
         * a multiple of 16 (no slack: it ran into the next block's first page) is caught */
        char oerr[512];
        int st = check_in_child(overflow_last, oerr, sizeof oerr);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && strstr(oerr, "slabguard: heap overflow of ") != NULL,
              "a byte past a bare block of %zu bytes: status %#x, stderr \"%s\"", SHRUNK, st, oerr);
    }
    empty(got);
    long end = count_mappings();
    printf("# %ld mappings once everything is freed\n", end);
    CHECK(end < before + limit / 8, "%ld mappings after freeing everything (%ld before)", end, before);
    /* freed blocks gave their share of the budget back */
    unsigned char *p = malloc(opaque_size(BLOCK));
    REQUIRE(p != NULL, "malloc after freeing everything");
    if (SG_CONFIG_SECURE)
        CHECK(page_after_faults(p) == 1, "a block made after everything was freed has no trailing guard");
    free(p);
}

/* The budget counts the mappings the process already has: a program holding 35000 of its own
 * (single read-write pages between inaccessible ones, so that they cannot merge: two mappings
 * a page) still gets 20000 large blocks and then 10000 more mappings of its own. Guards
 * costing three mappings a block (inaccessible pages) would need 105000. */
#define OWN 17500
#define OWN_MORE 5000
#define LARGE 20000

static char *own;

static void test_own_mappings_first(void)
{
    long limit = read_long("/proc/sys/vm/max_map_count");
    REQUIRE(limit > 0, "cannot read vm.max_map_count");
    if (limit > 70000) {
        printf("# vm.max_map_count %ld: not the default, skipped\n", limit);
        return;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE), span = (size_t)(OWN + OWN_MORE) * 2 * page;
    own = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    REQUIRE(own != MAP_FAILED, "reserve");
    size_t made = 0;
    for (; made < OWN; made++)
        if (mprotect(own + 2 * made * page, page, PROT_READ | PROT_WRITE) != 0)
            break;
    REQUIRE(made == OWN, "mprotect %zu (errno %d)", made, errno);
    long before = count_mappings();
    char err[4096];
    stderr_begin();
    errno = 0;
    size_t got = fill(0, LARGE);
    int e = errno;
    stderr_end(err, sizeof err);
    long after = count_mappings();
    printf("# %ld mappings with the program's own; %zu large blocks: %ld\n", before, got, after);
    CHECK(got == LARGE, "malloc(%zu) = NULL (errno %d) after %zu blocks", BLOCK, e, got);
    size_t more = 0;
    for (; more < OWN_MORE; more++)
        if (mprotect(own + 2 * (OWN + more) * page, page, PROT_READ | PROT_WRITE) != 0)
            break;
    CHECK(more == OWN_MORE, "the program's own mappings: only %zu more of %d (errno %d)", more, OWN_MORE, errno);
    check_room_left("35000 mappings of the program's own and 20000 large blocks");
    if (SG_CONFIG_SECURE)   /* the warning came once, in the case before */
        CHECK(page_after_faults(blocks[LARGE - 1]) == 0, "the last block has a trailing guard: no budget?");
    CHECK(strstr(err, "slabguard:") == NULL, "stderr was \"%s\"", err);
    empty(got);
    munmap(own, span);
}

int main(void)
{
    RUN(test_seventy_thousand_large_blocks);
    RUN(test_own_mappings_first);
    return check_exit();
}
