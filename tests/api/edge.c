/* tests/api/edge.c: the edge cases of the malloc family, with glibc's answers: zero sizes,
 * NULL, impossible sizes, overflowing products, bad alignments, page-aligned variants. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"

#define HALF_PLUS_ONE ((size_t)1 << (sizeof(size_t) * 8 - 1)) /* SIZE_MAX / 2 + 1 */

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

// ---- zero and NULL ----------------------------------------------------------------------------

static void test_malloc_zero(void)
{
    enum { N = 300 };
    void *p[N], *sorted[N];
    for (int i = 0; i < N; i++) {
        p[i] = A->malloc(opaque_size(0));
        REQUIRE(p[i] != NULL, "malloc(0) #%d returned NULL", i);
        CHECK(is_aligned(p[i], 16), "malloc(0) = %p not 16-aligned", p[i]);
    }
    memcpy(sorted, p, sizeof p);
    qsort(sorted, N, sizeof sorted[0], cmp_ptr);
    for (int i = 1; i < N; i++)
        CHECK(sorted[i] != sorted[i - 1], "malloc(0) returned %p twice while both were live",
              sorted[i]);
    for (int i = 0; i < N; i++)
        A->free(p[i]);
}

static void test_calloc_zero(void)
{
    void *a = A->calloc(opaque_size(0), 16), *b = A->calloc(16, opaque_size(0));
    void *c = A->calloc(opaque_size(0), opaque_size(0));
    CHECK(a != NULL && b != NULL && c != NULL, "calloc with a zero factor: %p %p %p", a, b, c);
    CHECK(a != b && b != c && a != c, "calloc zero-size blocks not unique: %p %p %p", a, b, c);
    A->free(a);
    A->free(b);
    A->free(c);
}

/* A write through a dangling pointer deep inside a freed 8 KiB block (past the first 4 KiB, all
 * that the secure build's write-after-free check reads when it hands a slot out) must not reach
 * a later calloc: calloc memory reads zero whatever the program did wrong before. The secure
 * build may also report the write, when a page of such blocks is given back (it reads the rest
 * of each slot then). In a child, so the dangling bytes stay out of later cases; its stderr
 * comes back through a pipe. */
static void calloc_after_dangling_writes(void)
{
    enum { N = 600, SIZE = 8000 };
    static unsigned char *freed[N], *got[N];
    for (int i = 0; i < N; i++)
        freed[i] = A->malloc(opaque_size(SIZE));
    for (int i = 0; i < N; i++) {
        A->free(freed[i]);
        ((volatile unsigned char *)opaque_ptr(freed[i]))[6000] = 'X';   /* the bug */
    }
    int reused = 0, dirty = 0;
    for (int i = 0; i < N; i++) {
        got[i] = A->calloc(1, opaque_size(SIZE));
        if (got[i] == NULL)
            _exit(3);
        for (int j = 0; j < N; j++)
            reused += got[i] == freed[j];
        for (int k = 0; k < SIZE; k++)
            if (got[i][k] != 0) {
                dirty++;
                break;
            }
    }
    printf("# %d of %d calloc blocks reused a dirtied one, %d do not read zero\n", reused, N, dirty);
    fflush(stdout);
    _exit(dirty ? 1 : reused ? 0 : 2);
}

static int dangling_writes_child(void)
{
    calloc_after_dangling_writes();   /* exits */
    return 0;
}

static void test_calloc_zero_after_dangling_write(void)
{
    char err[512];
    int st = check_in_child(dangling_writes_child, err, sizeof err);
    REQUIRE(st != -1, "fork");
    if (WIFSIGNALED(st)) {
        CHECK(WTERMSIG(st) == SIGABRT && strstr(err, "slabguard: write after free of 0x") && strstr(err, "(size 8184)"),
              "the child died by signal %d: %s", WTERMSIG(st), err);
        printf("# reported: %s", err);
        return;
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 3, "calloc(1, %d) = NULL", 8000);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 1, "calloc blocks that do not read zero");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 2, "no calloc block reused a freed one: the case tested nothing");
}

static void test_free_null(void)
{
    A->free(opaque_ptr(NULL));
    CHECK(A->usable_size(opaque_ptr(NULL)) == 0, "usable_size(NULL) = %zu",
          A->usable_size(opaque_ptr(NULL)));
}

static void test_realloc_null(void)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 100, 4096, 100000, 1 << 20, 5 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *p = A->realloc(opaque_ptr(NULL), opaque_size(n));
        REQUIRE(p != NULL, "realloc(NULL, %zu) = NULL", n);
        CHECK(is_aligned(p, 16), "realloc(NULL, %zu) = %p not 16-aligned", n, (void *)p);
        CHECK(A->usable_size(p) >= n, "usable %zu < %zu", A->usable_size(p), n);
        memset(p, 0x5a, n);
        A->free(p);
    }
}

/* glibc: realloc(p, 0) frees p and returns NULL. Freeing is proven by volume: leaking every
 * block would grow the resident set by far more than the bound. */
static void test_realloc_zero_frees(void)
{
    size_t before = resident_bytes();
    for (int i = 0; i < 200000; i++) {
        char *p = A->malloc(opaque_size(1000));
        REQUIRE(p != NULL, "malloc(1000) = NULL at %d", i);
        memset(p, 1, 1000);
        void *q = A->realloc(p, opaque_size(0));
        REQUIRE(q == NULL, "realloc(p, 0) = %p, want NULL (glibc frees)", q);
    }
    for (int i = 0; i < 1500; i++) {
        char *p = A->malloc(opaque_size(256 << 10));
        REQUIRE(p != NULL, "malloc(256 KiB) = NULL at %d", i);
        memset(p, 1, 256 << 10);
        void *q = A->realloc(p, opaque_size(0));
        REQUIRE(q == NULL, "realloc(large, 0) = %p, want NULL", q);
    }
    size_t after = resident_bytes();
    /* Leaked: 200 MB of small blocks and 375 MiB of large ones. */
    CHECK(after < before + (64u << 20), "resident grew from %zu to %zu KiB: realloc(p, 0) leaks",
          before >> 10, after >> 10);
}

// ---- impossible sizes -------------------------------------------------------------------------

static void expect_enomem(void *p, int err, const char *what, size_t n)
{
    CHECK(p == NULL, "%s(%#zx) = %p, want NULL", what, n, p);
    CHECK(err == ENOMEM, "%s(%#zx): errno %d, want ENOMEM", what, n, err);
    if (p != NULL)
        A->free(p);
}

static const size_t huge_sizes[] = {
    SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 7, SIZE_MAX - 15, SIZE_MAX - 16, SIZE_MAX - 31,
    SIZE_MAX - 4095, SIZE_MAX - 4096, SIZE_MAX - 65536, (size_t)PTRDIFF_MAX + 1,
    (size_t)PTRDIFF_MAX, (size_t)PTRDIFF_MAX - 4096, (size_t)1 << 48, (size_t)1 << 47,
};
#define N_HUGE (sizeof huge_sizes / sizeof huge_sizes[0])

static void test_malloc_huge(void)
{
    for (size_t k = 0; k <= 64; k++) {
        errno = 0;
        void *p = A->malloc(opaque_size(SIZE_MAX - k));
        expect_enomem(p, errno, "malloc", SIZE_MAX - k);
    }
    for (size_t i = 0; i < N_HUGE; i++) {
        errno = 0;
        void *p = A->malloc(opaque_size(huge_sizes[i]));
        expect_enomem(p, errno, "malloc", huge_sizes[i]);
        errno = 0;
        p = A->calloc(1, opaque_size(huge_sizes[i]));
        expect_enomem(p, errno, "calloc(1, n)", huge_sizes[i]);
        errno = 0;
        p = A->realloc(NULL, opaque_size(huge_sizes[i]));
        expect_enomem(p, errno, "realloc(NULL, n)", huge_sizes[i]);
        errno = 0;
        p = A->valloc(opaque_size(huge_sizes[i]));
        expect_enomem(p, errno, "valloc", huge_sizes[i]);
        errno = 0;
        p = A->pvalloc(opaque_size(huge_sizes[i]));
        expect_enomem(p, errno, "pvalloc", huge_sizes[i]);
    }
}

/* A size the allocator could map, but more than the machine has (twice its memory and swap,
 * at least 1 TiB): the kernel's overcommit check refuses a read-write mapping of it, so glibc
 * answers NULL/ENOMEM. So must slabguard, whose large blocks are reserved first and made
 * writable after (a reservation that escaped the check would succeed, then die at first touch).
 * With vm.overcommit_memory = 1 the kernel grants anything, and then so do both. */
static int overcommit_mode(void)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = 0;
    if (f != NULL) {
        if (fscanf(f, "%d", &mode) != 1)
            mode = 0;
        fclose(f);
    }
    return mode;
}

static size_t more_than_the_machine(void)
{
    unsigned long long swap_kb = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f != NULL) {
        char line[128];
        while (fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "SwapTotal: %llu kB", &swap_kb) == 1)
                break;
        fclose(f);
    }
    size_t have = (size_t)sysconf(_SC_PHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE) + swap_kb * 1024;
    size_t n = 2 * have;
    return n < ((size_t)1 << 40) ? (size_t)1 << 40 : n;
}

static void test_more_than_the_machine(void)
{
    size_t n = more_than_the_machine();
    bool granted = overcommit_mode() == 1;
    void *p[4];
    int err[4];
    errno = 0;
    p[0] = A->malloc(opaque_size(n));
    err[0] = errno;
    errno = 0;
    p[1] = A->calloc(opaque_size(n / 4096), 4096);
    err[1] = errno;
    errno = 0;
    p[2] = A->memalign(1 << 21, opaque_size(n));
    err[2] = errno;
    unsigned char *q = A->malloc(opaque_size(300000));
    REQUIRE(q != NULL, "malloc(300000) = NULL");
    pattern_fill(q, 300000, 5);
    errno = 0;
    p[3] = A->realloc(q, opaque_size(n));
    err[3] = errno;
    static const char *const what[] = {"malloc", "calloc", "memalign", "realloc"};
    for (int i = 0; i < 4; i++) {
        if (granted) {
            CHECK(p[i] != NULL, "overcommit_memory=1: %s(%#zx) = NULL (errno %d)", what[i], n, err[i]);
        } else {
            CHECK(p[i] == NULL, "%s(%#zx) = %p: more than the machine has", what[i], n, p[i]);
            CHECK(err[i] == ENOMEM, "%s(%#zx): errno %d, want ENOMEM", what[i], n, err[i]);
        }
    }
    if (p[3] == NULL) {
        CHECK(pattern_check(q, 300000, 5) == SIZE_MAX, "a failed realloc changed the block");
        A->free(q);
    }
    for (int i = 0; i < 4; i++)
        A->free(p[i]);
}

/* Without protection keys pkey_mprotect fails (EINVAL); that must not leak into the errno of a
 * malloc or realloc that succeeded (programs read errno after a call that did not fail, wrongly,
 * but some do). Large blocks, whose pages are reset, freed and allocated again. */
static void test_errno_kept_on_success(void)
{
    for (int round = 0; round < 20; round++) {
        errno = 0;
        void *p = A->malloc(opaque_size(200000 + (size_t)round * 4096));
        REQUIRE(p != NULL, "malloc = NULL");
        CHECK(errno == 0, "round %d: errno %d after a successful malloc", round, errno);
        errno = 0;
        void *q = A->realloc(p, opaque_size(900000 + (size_t)round * 8192));
        REQUIRE(q != NULL, "realloc = NULL");
        CHECK(errno == 0, "round %d: errno %d after a successful realloc", round, errno);
        A->free(q);
    }
}

/* The same in threads: a thread's first malloc makes its heap (naming a new chunk of heaps
 * with prctl fails with EINVAL on a kernel without CONFIG_ANON_VMA_NAME), and each size class
 * takes its first page. Threads stay alive until all have run, so the heap pool must grow. */
enum { ERRNO_THREADS = 120 };
static pthread_barrier_t errno_barrier;
static void *errno_thread(void *arg)
{
    int *bad = arg;
    static const size_t sizes[] = {16, 100, 1000, 5000, 40000, 120000, 300000, 3000000};
    void *p[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        p[i] = A->malloc(opaque_size(sizes[i]));
        if (p[i] == NULL || errno != 0) *bad = errno ? errno : -1;
    }
    pthread_barrier_wait(&errno_barrier);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        A->free(p[i]);
        if (errno != 0) *bad = errno;
    }
    return NULL;
}

static void test_errno_kept_in_new_threads(void)
{
    pthread_t t[ERRNO_THREADS];
    int bad[ERRNO_THREADS] = {0};
    REQUIRE(pthread_barrier_init(&errno_barrier, NULL, ERRNO_THREADS) == 0, "pthread_barrier_init");
    for (int i = 0; i < ERRNO_THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, errno_thread, &bad[i]) == 0, "pthread_create %d", i);
    for (int i = 0; i < ERRNO_THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK(bad[i] == 0, "thread %d: errno %d after a malloc or free that succeeded", i, bad[i]);
    }
    pthread_barrier_destroy(&errno_barrier);
}

/* A failed realloc leaves the old block alone: same contents, still ours to free. */
static void test_realloc_huge_keeps_block(void)
{
    static const size_t start[] = {24, 3000, 200000};
    for (size_t s = 0; s < 3; s++) {
        unsigned char *p = A->malloc(opaque_size(start[s]));
        REQUIRE(p != NULL, "malloc(%zu) = NULL", start[s]);
        pattern_fill(p, start[s], 77 + s);
        for (size_t i = 0; i < N_HUGE; i++) {
            errno = 0;
            void *q = A->realloc(p, opaque_size(huge_sizes[i]));
            CHECK(q == NULL, "realloc(%zu-byte block, %#zx) = %p", start[s], huge_sizes[i], q);
            CHECK(errno == ENOMEM, "realloc(p, %#zx): errno %d", huge_sizes[i], errno);
            if (q != NULL)
                p = q;
        }
        CHECK(pattern_check(p, start[s], 77 + s) == SIZE_MAX,
              "block of %zu changed by a failed realloc", start[s]);
        A->free(p);
    }
}

/* Products that overflow; several wrap to a tiny number (2^64 + 16 -> 16), so an allocator
 * multiplying without a check would hand out a small block. */
static const size_t overflow_pairs[][2] = {
    {HALF_PLUS_ONE, 2},           {2, HALF_PLUS_ONE},     {HALF_PLUS_ONE + 1, 2},
    {16, ((size_t)1 << 60) + 1},  {(size_t)1 << 32, ((size_t)1 << 32) + 1},
    {SIZE_MAX, SIZE_MAX},         {SIZE_MAX, 2},          {65537, ((size_t)1 << 48) - 1},
    {((size_t)1 << 62) + 1, 4},   {3, SIZE_MAX / 3 + 1},
};
#define N_OVERFLOW (sizeof overflow_pairs / sizeof overflow_pairs[0])

static void test_calloc_overflow(void)
{
    for (size_t i = 0; i < N_OVERFLOW; i++) {
        size_t a = overflow_pairs[i][0], b = overflow_pairs[i][1];
        errno = 0;
        void *p = A->calloc(opaque_size(a), opaque_size(b));
        CHECK(p == NULL, "calloc(%#zx, %#zx) = %p", a, b, p);
        CHECK(errno == ENOMEM, "calloc(%#zx, %#zx): errno %d", a, b, errno);
        if (p != NULL)
            A->free(p);
    }
}

static void test_reallocarray(void)
{
    unsigned char *p = A->reallocarray(NULL, opaque_size(10), opaque_size(10));
    REQUIRE(p != NULL, "reallocarray(NULL, 10, 10) = NULL");
    pattern_fill(p, 100, 5);
    p = A->reallocarray(p, opaque_size(100), opaque_size(100));
    REQUIRE(p != NULL, "reallocarray(p, 100, 100) = NULL");
    CHECK(A->usable_size(p) >= 10000, "usable %zu", A->usable_size(p));
    CHECK(pattern_check(p, 100, 5) == SIZE_MAX, "contents lost by reallocarray growth");
    for (size_t i = 0; i < N_OVERFLOW; i++) {
        size_t a = overflow_pairs[i][0], b = overflow_pairs[i][1];
        errno = 0;
        void *q = A->reallocarray(p, opaque_size(a), opaque_size(b));
        CHECK(q == NULL, "reallocarray(p, %#zx, %#zx) = %p", a, b, q);
        CHECK(errno == ENOMEM, "reallocarray(p, %#zx, %#zx): errno %d", a, b, errno);
        if (q != NULL)
            p = q;
        errno = 0;
        q = A->reallocarray(NULL, opaque_size(a), opaque_size(b));
        CHECK(q == NULL && errno == ENOMEM, "reallocarray(NULL, %#zx, %#zx) = %p errno %d", a, b,
              q, errno);
    }
    CHECK(pattern_check(p, 100, 5) == SIZE_MAX, "contents changed by failed reallocarray");
    A->free(p);
}

// ---- alignment arguments ----------------------------------------------------------------------

static const size_t bad_alignments[] = {0, 3, 5, 6, 12, 20, 24, 48, 100, 1000, 4097, 65535,
                                        HALF_PLUS_ONE + 1, SIZE_MAX};

static void test_posix_memalign_einval(void)
{
    /* Not a power of two, or smaller than sizeof(void *). */
    static const size_t small_pow2[] = {1, 2, 4};
    void *const sentinel = (void *)(uintptr_t)0x5a5a5a5a;
    for (size_t i = 0; i < sizeof bad_alignments / sizeof bad_alignments[0]; i++) {
        void *out = sentinel;
        int r = A->posix_memalign(&out, opaque_size(bad_alignments[i]), opaque_size(64));
        CHECK(r == EINVAL, "posix_memalign(align %#zx) = %d, want EINVAL", bad_alignments[i], r);
        CHECK(out == sentinel, "posix_memalign(align %#zx) wrote *out = %p on failure",
              bad_alignments[i], out);
        if (r == 0 && out != sentinel)
            A->free(out);
    }
    for (size_t i = 0; i < 3; i++) {
        void *out = sentinel;
        int r = A->posix_memalign(&out, opaque_size(small_pow2[i]), opaque_size(64));
        CHECK(r == EINVAL, "posix_memalign(align %zu < sizeof(void *)) = %d", small_pow2[i], r);
        CHECK(out == sentinel, "posix_memalign(align %zu) wrote *out", small_pow2[i]);
        if (r == 0 && out != sentinel)
            A->free(out);
    }
}

static void test_posix_memalign_enomem(void)
{
    static const size_t aligns[] = {8, 16, 64, 4096, 1 << 20};
    void *const sentinel = (void *)(uintptr_t)0x5a5a5a5a;
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++)
        for (size_t i = 0; i < N_HUGE; i++) {
            void *out = sentinel;
            errno = 1234;
            int r = A->posix_memalign(&out, opaque_size(aligns[a]), opaque_size(huge_sizes[i]));
            CHECK(r == ENOMEM, "posix_memalign(%zu, %#zx) = %d, want ENOMEM", aligns[a],
                  huge_sizes[i], r);
            CHECK(errno == 1234, "posix_memalign(%zu, %#zx) set errno to %d", aligns[a], huge_sizes[i], errno);
            CHECK(out == sentinel || out == NULL, "posix_memalign failed but *out = %p", out);
            if (r == 0)
                A->free(out);
        }
    /* The largest power of two: valid as an alignment, impossible to honour. */
    void *out = sentinel;
    int r = A->posix_memalign(&out, opaque_size(HALF_PLUS_ONE), opaque_size(1));
    CHECK(r == ENOMEM, "posix_memalign(2^63, 1) = %d, want ENOMEM", r);
    if (r == 0)
        A->free(out);
}

static void test_aligned_alloc_bad(void)
{
#ifndef SG_TEST_GLIBC /* glibc 2.36 rounds a bad alignment up; 2.38 and C17 return EINVAL */
    for (size_t i = 0; i < sizeof bad_alignments / sizeof bad_alignments[0]; i++) {
        errno = 0;
        void *p = A->aligned_alloc(opaque_size(bad_alignments[i]), opaque_size(64));
        CHECK(p == NULL, "aligned_alloc(%#zx, 64) = %p, want NULL", bad_alignments[i], p);
        CHECK(errno == EINVAL, "aligned_alloc(%#zx, 64): errno %d, want EINVAL",
              bad_alignments[i], errno);
        if (p != NULL)
            A->free(p);
    }
#endif
    /* Small powers of two are valid alignments for aligned_alloc (unlike posix_memalign). */
    for (size_t a = 1; a <= 8; a *= 2) {
        void *p = A->aligned_alloc(opaque_size(a), opaque_size(40));
        CHECK(p != NULL, "aligned_alloc(%zu, 40) = NULL", a);
        A->free(p);
    }
    for (size_t i = 0; i < N_HUGE; i++) {
        errno = 0;
        void *p = A->aligned_alloc(opaque_size(64), opaque_size(huge_sizes[i]));
        expect_enomem(p, errno, "aligned_alloc(64, n)", huge_sizes[i]);
        errno = 0;
        p = A->aligned_alloc(opaque_size(1 << 20), opaque_size(huge_sizes[i]));
        expect_enomem(p, errno, "aligned_alloc(1 MiB, n)", huge_sizes[i]);
        errno = 0;
        p = A->memalign(opaque_size(4096), opaque_size(huge_sizes[i]));
        expect_enomem(p, errno, "memalign(4096, n)", huge_sizes[i]);
    }
}

static void test_memalign_odd_alignment(void)
{
    /* glibc rounds a non-power-of-two alignment up to the next power; NULL/EINVAL is also fair. */
    static const size_t odd[][2] = {{48, 64}, {100, 128}, {3000, 4096}, {24, 32}};
    for (size_t i = 0; i < 4; i++) {
        errno = 0;
        void *p = A->memalign(opaque_size(odd[i][0]), opaque_size(100));
        if (p == NULL) {
            CHECK(errno == EINVAL, "memalign(%zu, 100) = NULL with errno %d", odd[i][0], errno);
            continue;
        }
        CHECK(is_aligned(p, odd[i][1]), "memalign(%zu, 100) = %p not %zu-aligned", odd[i][0], p,
              odd[i][1]);
        A->free(p);
    }
}

/* glibc: alignments above SIZE_MAX/2 + 1 are EINVAL; up to it they are rounded up to a power
 * of two and a block that cannot exist is ENOMEM. */
static void test_memalign_huge_alignment(void)
{
    static const struct { size_t alignment; int err; } cases[] = {
        {((size_t)1 << 62) + 1, ENOMEM}, {(size_t)1 << 63, ENOMEM}, {((size_t)1 << 63) + 1, EINVAL}, {SIZE_MAX, EINVAL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errno = 0;
        void *p = A->memalign(opaque_size(cases[i].alignment), opaque_size(1));
        CHECK(p == NULL && errno == cases[i].err, "memalign(%#zx, 1) = %p, errno %d (want NULL, %d)",
              cases[i].alignment, p, errno, cases[i].err);
    }
}

static void test_page_aligned(void)
{
    const size_t page = PAGE_SIZE_BYTES;
    static const size_t sizes[] = {1, 16, 100, 4095, 4096, 4097, 10000, 65536, 300000, 3 << 20};
    void *keep[3 * 10];
    int n = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t sz = sizes[i];
        unsigned char *v = A->valloc(opaque_size(sz));
        unsigned char *m = A->memalign(opaque_size(page), opaque_size(sz));
        unsigned char *pv = A->pvalloc(opaque_size(sz));
        REQUIRE(v && m && pv, "valloc/memalign/pvalloc(%zu) = %p %p %p", sz, (void *)v,
                (void *)m, (void *)pv);
        CHECK(is_aligned(v, page), "valloc(%zu) = %p", sz, (void *)v);
        CHECK(is_aligned(m, page), "memalign(page, %zu) = %p", sz, (void *)m);
        CHECK(is_aligned(pv, page), "pvalloc(%zu) = %p", sz, (void *)pv);
        size_t rounded = (sz + page - 1) & ~(page - 1);
        CHECK(A->usable_size(v) >= sz, "valloc(%zu): usable %zu", sz, A->usable_size(v));
        CHECK(A->usable_size(pv) >= rounded, "pvalloc(%zu): usable %zu < %zu", sz,
              A->usable_size(pv), rounded);
        memset(v, 1, A->usable_size(v));
        memset(m, 2, A->usable_size(m));
        memset(pv, 3, A->usable_size(pv));
        keep[n++] = v, keep[n++] = m, keep[n++] = pv;
    }
    for (int i = 0; i < n; i++) {
        unsigned char want = (unsigned char)(i % 3 + 1), *b = keep[i];
        CHECK(b[0] == want, "block %d overwritten: %d", i, b[0]);
        A->free(keep[i]);
    }
    void *z = A->pvalloc(opaque_size(0));
    CHECK(z != NULL && is_aligned(z, page), "pvalloc(0) = %p", z);
    A->free(z);
}

/* The two entry-point sets are one allocator: a block from one is freed by the other. */
static void test_mixed_entry_points(void)
{
    for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++)
        for (size_t j = 0; j < sizeof apis / sizeof apis[0]; j++) {
            const size_t sizes[] = {8, 700, 90000, 2 << 20};
            for (size_t k = 0; k < 4; k++) {
                unsigned char *p = apis[i]->malloc(opaque_size(sizes[k]));
                REQUIRE(p != NULL, "%s malloc(%zu) = NULL", apis[i]->name, sizes[k]);
                pattern_fill(p, sizes[k], k);
                CHECK(apis[j]->usable_size(p) >= sizes[k], "%s usable_size of a %s block = %zu",
                      apis[j]->name, apis[i]->name, apis[j]->usable_size(p));
                p = apis[j]->realloc(p, opaque_size(sizes[k] * 2));
                REQUIRE(p != NULL, "%s realloc of a %s block = NULL", apis[j]->name,
                        apis[i]->name);
                CHECK(pattern_check(p, sizes[k], k) == SIZE_MAX, "contents lost");
                apis[j]->free(p);
            }
        }
}

// ---- C23 sized frees -----------------------------------------------------------------------------

/* free_sized with the size each block was last allocated or reallocated with, and
 * free_aligned_sized with aligned_alloc's alignment and size, are plain frees (secure builds
 * check both: tests/misuse/free_sized_wrong_*). Small, medium, large; malloc(0), calloc,
 * realloc in place and moved, shrunk; NULL. */
static void test_free_sized_right_sizes(void)
{
    const size_t sizes[] = {0, 1, 15, 64, 700, 4000, 5000, 90000, 300000, 2 << 20};
    for (int round = 0; round < 3; round++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t n = opaque_size(sizes[k]);
            unsigned char *p = malloc(n);
            REQUIRE(p != NULL, "malloc(%zu)", n);
            free_sized(p, n);
            p = calloc(n ? n : 1, 1);
            REQUIRE(p != NULL, "calloc(%zu, 1)", n);
            free_sized(p, n ? n : 1);
            p = malloc(n);
            REQUIRE(p != NULL, "malloc(%zu)", n);
            size_t grown = n + n / 8 + 1, shrunk = n / 3;
            p = realloc(p, grown);   /* in place or moved, depending on the slot */
            REQUIRE(p != NULL, "realloc to %zu", grown);
            p = realloc(p, shrunk ? shrunk : 1);
            REQUIRE(p != NULL, "realloc to %zu", shrunk);
            free_sized(p, shrunk ? shrunk : 1);
            size_t al = (size_t)64 << (k % 7), an = (n + al - 1) / al * al;
            p = aligned_alloc(al, an);
            REQUIRE(p != NULL, "aligned_alloc(%zu, %zu)", al, an);
            free_aligned_sized(p, al, an);
        }
    free_sized(NULL, 12);
    free_aligned_sized(NULL, 64, 64);
    CHECK(1, "every sized free returned");
}

int main(void)
{
    RUN(test_free_sized_right_sizes);
    RUN_API(test_malloc_zero);
    RUN_API(test_calloc_zero);
    RUN_API(test_free_null);
    RUN_API(test_realloc_null);
    RUN_API(test_realloc_zero_frees);
    RUN_API(test_malloc_huge);
    RUN_API(test_realloc_huge_keeps_block);
    RUN_API(test_more_than_the_machine);
    RUN_API(test_errno_kept_on_success);
    RUN_API(test_errno_kept_in_new_threads);
    RUN_API(test_calloc_overflow);
    RUN_API(test_reallocarray);
    RUN_API(test_posix_memalign_einval);
    RUN_API(test_posix_memalign_enomem);
    RUN_API(test_aligned_alloc_bad);
    RUN_API(test_memalign_odd_alignment);
    RUN_API(test_page_aligned);
    RUN(test_mixed_entry_points);
    RUN(test_calloc_zero_after_dangling_write);
    RUN(test_memalign_huge_alignment);
    return check_exit();
}
