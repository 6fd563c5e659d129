/* tests/stress/address_limit.c: a process started under a limit on its address space
 * (ulimit -v, RLIMIT_AS) of 768 MiB. The arena is a reservation of 64 GiB where the kernel
 * allows it; here it must settle for less and leave room for the rest. Before, start-up gave up
 * below 1 GiB: every block was then mapped on its own and malloc failed after about 22,000
 * small blocks. The program runs itself again with the limit set (slabguard starts at the
 * first malloc, which has long happened in this one), and the child allocates 200,000 small
 * blocks (about 50 MB), then a 64 MiB one, and frees them. The same under 2 GiB, with more. */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "../check.h"
#include "os.h"
#include "slabguard.h"

enum { N = 200000, N_LARGE_LIMIT = 850000 };

/* n blocks of 16..495 bytes (or of `fixed` bytes), a 64 MiB block, all freed */
static int child(int n, size_t fixed)
{
    static void *v[N_LARGE_LIMIT];
    for (int i = 0; i < n; i++) {
        size_t size = fixed ? fixed : 16 + (size_t)(i * 7919) % 480;
        v[i] = malloc(opaque_size(size));
        if (v[i] == NULL) {
            printf("malloc(%zu) #%d = NULL (errno %d)\n", size, i, errno);
            return 1;
        }
        memset(v[i], i & 0xff, size);
    }
    char *big = malloc(opaque_size((size_t)64 << 20));
    if (big == NULL) {
        printf("malloc(64 MiB) = NULL after the small blocks (errno %d)\n", errno);
        return 1;
    }
    memset(big, 1, (size_t)64 << 20);
    free(big);
    for (int i = 0; i < n; i++)
        free(v[i]);
    sg_stats_t s;
    sg_stats_get(&s);
    printf("done: %zu threads, %zu large blocks left\n", s.threads, s.large_count);
    return 0;
}

/* A 150 MiB buffer allocated, filled and freed five times. Secure builds keep a freed large
 * block's range (inaccessible) in a ring of 64: under the limit the fourth malloc failed, the
 * address space held by the ranges of the first three. */
static int child_reuse(void)
{
    enum { ROUNDS = 5 };
    const size_t size = (size_t)150 << 20;
    for (int i = 0; i < ROUNDS; i++) {
        char *p = malloc(opaque_size(size));
        if (p == NULL) {
            printf("malloc(150 MiB) #%d = NULL (errno %d)\n", i, errno);
            return 1;
        }
        memset(p, 1, size);
        free(p);
    }
    printf("done: %d rounds\n", ROUNDS);
    return 0;
}

/* One block of `mib` MiB, filled and freed: under a limit of 1200 MiB the arena kept 1 GiB of
 * it, and a 400 MiB block did not fit. */
static int child_big(size_t mib)
{
    char *p = malloc(opaque_size(mib << 20));
    if (p == NULL) {
        printf("malloc(%zu MiB) = NULL (errno %d)\n", mib, errno);
        return 1;
    }
    memset(p, 1, mib << 20);
    free(p);
    printf("done: %zu MiB\n", mib);
    return 0;
}

/* Four blocks of 30 MiB, freed untouched (no pages to recycle: only address space), then one
 * block 100 MiB larger than what the limit still allows: it fits only if the address space the
 * freed blocks hold comes back (secure builds keep their ranges, inaccessible, in a ring of
 * 64, which gave way only when it alone held the whole request; fast builds cache freed
 * mappings, which they gave back only at malloc_trim). */
static int child_freed_room(void)
{
    enum { K = 4 };
    const size_t size = (size_t)30 << 20;
    char *p[K];
    for (int i = 0; i < K; i++) {
        p[i] = malloc(opaque_size(size));
        if (p[i] == NULL) {
            printf("malloc(30 MiB) #%d = NULL (errno %d)\n", i, errno);
            return 1;
        }
    }
    for (int i = 0; i < K; i++)
        free(p[i]);
    size_t left = sg_os_address_space_left(), want = left + ((size_t)100 << 20);
    char *q = malloc(opaque_size(want));
    if (q == NULL) {
        printf("malloc(%zu MiB) = NULL with %zu MiB left under the limit (errno %d)\n", want >> 20, left >> 20, errno);
        return 1;
    }
    memset(q, 1, want);
    free(q);
    printf("done: %zu MiB with %zu MiB left\n", want >> 20, left >> 20);
    return 0;
}

/* Under a small limit (48 MiB): start-up once asked for at least 64 MiB of arena, failed and
 * warned, and every block was then mapped on its own. 3000 small blocks (about 3 MB) and one of
 * 1 MiB; the small ones come from arena pages. */
static int child_small(void)
{
    enum { K = 3000 };
    static void *v[K];
    for (int i = 0; i < K; i++) {
        v[i] = malloc(opaque_size(100 + (size_t)i % 1000));
        if (v[i] == NULL) {
            printf("malloc #%d = NULL (errno %d)\n", i, errno);
            return 1;
        }
        memset(v[i], 5, 100);
    }
    char *big = malloc(opaque_size((size_t)1 << 20));
    if (big == NULL) {
        printf("malloc(1 MiB) = NULL (errno %d)\n", errno);
        return 1;
    }
    memset(big, 1, (size_t)1 << 20);
    sg_stats_t s;
    sg_stats_get(&s);
    if (s.pages == 0) {
        printf("no arena pages: every block mapped on its own\n");
        return 1;
    }
    free(big);
    for (int i = 0; i < K; i++)
        free(v[i]);
    printf("done: %zu pages\n", s.pages);
    return 0;
}

/* 1000 large blocks of 256 KiB held at once under a 1 GiB limit. Secure builds lay a large block
 * out on whole 2 MiB huge pages where the kernel has guard markers (Linux 6.13): 2 MiB of
 * address space each, and 236 of them fitted (glibc: all). Under a limit they take the plain
 * layout. */
static int child_many_large(void)
{
    enum { K = 1000 };
    static void *v[K];
    for (int i = 0; i < K; i++) {
        v[i] = malloc(opaque_size((size_t)256 << 10));
        if (v[i] == NULL) {
            printf("malloc(256 KiB) #%d = NULL (errno %d)\n", i, errno);
            return 1;
        }
        memset(v[i], 5, 4096);
    }
    for (int i = 0; i < K; i++)
        free(v[i]);
    printf("done: %d large blocks\n", K);
    return 0;
}

/* one byte a page, enough to see a page lost or moved to the wrong place */
static bool page_marks_intact(const unsigned char *p, size_t n, size_t step)
{
    for (size_t i = 0; i < n; i += step)
        if (p[i] != (unsigned char)(i / step * 7 + 1))
            return false;
    return true;
}

static void mark_pages(unsigned char *p, size_t n, size_t step)
{
    for (size_t i = 0; i < n; i += step)
        p[i] = (unsigned char)(i / step * 7 + 1);
}

/* A 64 MiB block grown by realloc to more than the limit has room for beside it, though not
 * more than it has for the growth alone. Fast builds move the mapping (mremap, charged for
 * the growth only): they asked for an eighth more, which the kernel refused, and then copied,
 * which did not fit either, and returned NULL. Secure builds move the block's pages into a new
 * guarded range made before the old one goes: NULL, ENOMEM, the block intact (README). */
static int child_grow(void)
{
    const size_t old = (size_t)64 << 20, step = 4096;
    unsigned char *p = malloc(opaque_size(old));
    if (p == NULL) {
        printf("malloc(64 MiB) = NULL (errno %d)\n", errno);
        return 1;
    }
    mark_pages(p, old, step);
    size_t left = sg_os_address_space_left(), want = old + left - ((size_t)32 << 20);
    errno = 0;
    unsigned char *q = realloc(p, opaque_size(want));
    int err = errno;
    if (SG_CONFIG_SECURE ? q != NULL || err != ENOMEM : q == NULL) {
        printf("realloc(64 MiB -> %zu MiB) with %zu MiB left = %p (errno %d)\n", want >> 20, left >> 20, (void *)q, err);
        return 1;
    }
    if (q == NULL)
        q = p;
    if (!page_marks_intact(q, old, step)) {
        printf("the block's contents changed (%s)\n", q == p ? "realloc failed" : "grown");
        return 1;
    }
    free(q);
    printf("done: %zu MiB with %zu MiB left\n", want >> 20, left >> 20);
    return 0;
}

/* A block of most of what the limit leaves, shrunk by a third: the copy does not fit beside it.
 * Secure builds, which shrink a large block by copying it to a block that ends at its guard,
 * returned NULL with ENOMEM; now the block keeps its place (fast builds always did). */
static int child_shrink(void)
{
    const size_t step = 4096;
    size_t old = sg_os_address_space_left() / 4 * 3 & ~(step - 1), small = old / 3 * 2 & ~(step - 1);
    unsigned char *p = malloc(opaque_size(old));
    if (p == NULL) {
        printf("malloc(%zu MiB) = NULL (errno %d)\n", old >> 20, errno);
        return 1;
    }
    mark_pages(p, old, step);
    errno = 0;
    unsigned char *q = realloc(p, opaque_size(small));
    if (q == NULL) {
        printf("realloc(%zu MiB -> %zu MiB) = NULL (errno %d)\n", old >> 20, small >> 20, errno);
        return 1;
    }
    if (errno != 0 || !page_marks_intact(q, small, step)) {
        printf("after the shrink: errno %d, contents %s\n", errno, page_marks_intact(q, small, step) ? "kept" : "changed");
        return 1;
    }
    mark_pages(q, small, step);   /* up to its new end, not past it: free checks what is */
    q[small - 1] = 1;
    free(q);
    void *r = malloc(opaque_size(old));
    if (r == NULL) {
        printf("malloc(%zu MiB) after the free = NULL (errno %d)\n", old >> 20, errno);
        return 1;
    }
    free(r);
    printf("done: %zu MiB -> %zu MiB\n", old >> 20, small >> 20);
    return 0;
}

static void run_under(rlim_t limit, const char *mode)
{
    int out[2], err[2];
    REQUIRE(pipe(out) == 0 && pipe(err) == 0, "pipe");
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
        struct rlimit rl = { limit, limit };
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(3);
        char *argv[] = { "address_limit", (char *)mode, NULL };
        execv("/proc/self/exe", argv);
        _exit(4);
    }
    close(out[1]);
    close(err[1]);
    static char o[4096], e[4096];
    ssize_t n = read(out[0], o, sizeof o - 1);
    o[n > 0 ? n : 0] = 0;
    n = read(err[0], e, sizeof e - 1);
    e[n > 0 ? n : 0] = 0;
    close(out[0]);
    close(err[0]);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child under a %llu MiB limit: status %#x, %s",
          (unsigned long long)(limit >> 20), status, o);
    CHECK(strncmp(o, "done:", 5) == 0, "child output: %s", o);
    CHECK(e[0] == 0, "the child warned: %s", e);
}

static void test_start_under_an_address_limit(void) { run_under((rlim_t)768 << 20, "child"); }

/* Under a 2 GiB limit the arena takes the 1 GiB it can reserve (it took half of that once, and
 * small blocks ran out at 465 MiB): 850,000 blocks of 1000 bytes (810 MiB) fit. */
static void test_most_of_a_larger_limit(void) { run_under((rlim_t)2 << 30, "child-large"); }

static void test_large_blocks_reused_under_a_limit(void) { run_under((rlim_t)768 << 20, "child-reuse"); }

static void test_arena_leaves_half_of_a_limit(void) { run_under((rlim_t)1200 << 20, "child-big"); }

static void test_freed_blocks_give_way(void) { run_under((rlim_t)1 << 30, "child-freed-room"); }

static void test_start_under_a_small_limit(void) { run_under((rlim_t)48 << 20, "child-small"); }

static void test_many_large_blocks_under_a_limit(void) { run_under((rlim_t)1 << 30, "child-many-large"); }

static void test_realloc_grows_past_half_of_what_is_left(void) { run_under((rlim_t)1200 << 20, "child-grow"); }

static void test_realloc_shrinks_without_room_for_a_copy(void) { run_under((rlim_t)1200 << 20, "child-shrink"); }

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child-small") == 0)
        return child_small();
    if (argc > 1 && strcmp(argv[1], "child-many-large") == 0)
        return child_many_large();
    if (argc > 1 && strcmp(argv[1], "child-reuse") == 0)
        return child_reuse();
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child(N, 0);
    if (argc > 1 && strcmp(argv[1], "child-big") == 0)
        return child_big(400);
    if (argc > 1 && strcmp(argv[1], "child-freed-room") == 0)
        return child_freed_room();
    if (argc > 1 && strcmp(argv[1], "child-large") == 0)
        return child(N_LARGE_LIMIT, 1000);
    if (argc > 1 && strcmp(argv[1], "child-grow") == 0)
        return child_grow();
    if (argc > 1 && strcmp(argv[1], "child-shrink") == 0)
        return child_shrink();
    RUN(test_start_under_an_address_limit);
    RUN(test_most_of_a_larger_limit);
    RUN(test_large_blocks_reused_under_a_limit);
    RUN(test_arena_leaves_half_of_a_limit);
    RUN(test_freed_blocks_give_way);
    RUN(test_realloc_grows_past_half_of_what_is_left);
    RUN(test_realloc_shrinks_without_room_for_a_copy);
    RUN(test_start_under_a_small_limit);
    RUN(test_many_large_blocks_under_a_limit);
    return check_exit();
}
