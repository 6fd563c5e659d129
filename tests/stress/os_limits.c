/* tests/stress/os_limits.c: what the kernel may refuse when memory goes back. A program may
 * have used up vm.max_map_count (freeing a block that shares a kernel mapping with its
 * neighbours then needs one more mapping to punch the hole), and it may have mlock()ed part of
 * a block it frees (madvise(MADV_DONTNEED) refuses locked pages). Neither is a reason to abort:
 * free returns, and the memory handed out afterwards is sound. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <malloc.h>
#include <sys/mman.h>

#include "../check.h"
#include "procfs.h"

/* Use up the mapping budget: every other page of a PROT_NONE reservation made readable is one
 * mapping more. /proc/self/maps also lists [vsyscall], which the kernel does not count. */
static char *filler;
static size_t filler_pages;

static int fill_mappings(void)
{
    long limit = read_long("/proc/sys/vm/max_map_count");
    if (limit <= 0)
        return -1;
    filler_pages = 2 * (size_t)limit + 16;
    filler = mmap(NULL, filler_pages * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (filler == MAP_FAILED)
        return -1;
    long have = count_mappings();
    for (size_t at = 1; have < limit + 1 && at + 1 < filler_pages; at += 2) {
        if (mprotect(filler + at * 4096, 4096, PROT_READ) != 0)
            break;
        have += 2;   /* the split reservation: the readable page and the rest after it */
    }
    return 0;
}

static void unfill_mappings(void)
{
    munmap(filler, filler_pages * 4096);
}

static void test_free_at_the_mapping_limit(void)
{
    size_t n = (size_t)40 << 20;   /* neither cached nor recycled: given back at free */
    char *a = malloc(opaque_size(n)), *x = malloc(opaque_size(n)), *b = malloc(opaque_size(n));
    REQUIRE(a && x && b, "malloc(40 MiB)");
    memset(a, 1, 4096);
    memset(x, 1, 4096);
    memset(b, 1, 4096);
    enum { MID = 16 };   /* large blocks whose pages are recycled (moved away) at free */
    char *mid[MID];
    for (int i = 0; i < MID; i++) {
        mid[i] = malloc(opaque_size((size_t)(132 + 8 * i) << 10));
        REQUIRE(mid[i] != NULL, "malloc(%d KiB)", 132 + 8 * i);
        memset(mid[i], 2, (size_t)(132 + 8 * i) << 10);
    }
    REQUIRE(fill_mappings() == 0, "cannot fill the mapping budget");
    printf("# %ld mappings of %ld\n", count_mappings(), read_long("/proc/sys/vm/max_map_count"));
    for (int i = 0; i < MID; i++) {
        errno = 4321;
        free(mid[i]);   /* secure builds: the page move is refused (ENOMEM), the pages purged */
        CHECK(errno == 4321, "free of %d KiB at the mapping limit set errno to %d", 132 + 8 * i, errno);
    }
    /* and blocks made at the limit, of all sizes: a large one's pages may not move away */
    static char *blk[4000];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4000; i++) {
            size_t size = (size_t)(16 + (i * 7919 + round) % 300000);
            errno = 4321;
            blk[i] = malloc(opaque_size(size));
            CHECK(blk[i] ? errno == 4321 : errno == ENOMEM, "malloc(%zu) at the mapping limit: %p, errno %d",
                  size, (void *)blk[i], errno);
        }
        for (int i = 0; i < 4000; i++) {
            errno = 4321;
            free(blk[i]);
            CHECK(errno == 4321, "free of %d bytes at the mapping limit set errno to %d",
                  16 + (i * 7919 + round) % 300000, errno);
        }
    }
    errno = 4321;
    free(x);   /* aborted with "munmap failure" in fast builds, where a, x and b merge */
    /* POSIX.1-2024: free leaves errno alone; what the kernel refused on the way is not news */
    CHECK(errno == 4321, "free at the mapping limit set errno to %d", errno);
    /* whatever is handed out now is sound, or NULL */
    int got = 0;
    for (int i = 0; i < 20; i++) {
        size_t size = i % 2 ? 100 + (size_t)i : (size_t)1 << 20;
        errno = 4321;
        unsigned char *p = malloc(opaque_size(size));
        if (p == NULL) {
            CHECK(errno == ENOMEM, "malloc(%zu) = NULL with errno %d", size, errno);
            continue;
        }
        CHECK(errno == 4321, "malloc(%zu) at the mapping limit succeeded and set errno to %d", size, errno);
        got++;
        memset(p, 0x77, size);
        errno = 4321;
        free(p);
        CHECK(errno == 4321, "free of %zu bytes at the mapping limit set errno to %d", size, errno);
    }
    unfill_mappings();
    printf("# %d of 20 allocations succeeded at the limit\n", got);
    free(a);
    free(b);
    void *p = malloc(opaque_size(n));
    CHECK(p != NULL, "malloc(40 MiB) = NULL once mappings were given back");
    free(p);
}

/* Freed large blocks wait in a ring (secure builds), each a mapping of its own, and their
 * pages wait to be recycled: at the mapping limit they make way for a new block, which got
 * ENOMEM while 64 freed blocks held a mapping each. */
static void test_freed_blocks_make_room_at_the_limit(void)
{
    enum { FREED = 64 };
    size_t size = (size_t)1 << 20;
    for (int i = 0; i < FREED; i++) {
        char *p = malloc(opaque_size(size));
        REQUIRE(p != NULL, "malloc(1 MiB)");
        memset(p, 1, size);
        free(p);
    }
    REQUIRE(fill_mappings() == 0, "cannot fill the mapping budget");
    errno = 4321;
    char *p = malloc(opaque_size(size));
    int err = errno;
    if (p != NULL)
        memset(p, 2, size);
    unfill_mappings();
    CHECK(p != NULL, "malloc(1 MiB) at the limit, %d freed blocks held: NULL, errno %d", FREED, err);
    CHECK(p == NULL || err == 4321, "malloc at the limit succeeded and set errno to %d", err);
    free(p);
}

/* A large malloc one mapping short of the limit, again and again (each time after a block's
 * pages went back to be recycled): moving them into the new block's reservation is refused
 * (ENOMEM), the reservation is still the allocator's, and must be given back or used. Secure
 * builds left it mapped at every call: address space and mappings grew without bound. Freed
 * blocks wait inaccessible in a ring of 64, so the count is taken after that many rounds. */
static void test_malloc_one_short_of_the_limit(void)
{
    long limit = read_long("/proc/sys/vm/max_map_count");
    REQUIRE(limit > 0, "cannot read vm.max_map_count");
    size_t pages = 2 * (size_t)limit + 64, n = 0, size = (size_t)1 << 20;
    char *base = mmap(NULL, pages * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    REQUIRE(base != MAP_FAILED, "mmap");
    enum { ROUNDS = 90, COUNT_FROM = 70 };
    uintptr_t from = 0;
    int refused = 0;
    /* every other page of base made readable is a mapping more; the filling is kept from one
     * round to the next (each round gives back a few and takes up the rest again) */
#define FILLER(i) (base + (2 * (i) + 1) * 4096)
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < 16 && n > 0; k++)   /* room for the block below */
            mprotect(FILLER(--n), 4096, PROT_NONE);
        char *a = opaque_ptr(malloc(opaque_size(size)));   /* its pages go to be recycled */
        REQUIRE(a != NULL, "round %d: malloc(1 MiB) = NULL below the limit", round);
        memset(a, 1, size);
        free(a);
        while (2 * n + 1 < pages && mprotect(FILLER(n), 4096, PROT_READ) == 0)
            n++;
        if (n > 0)
            mprotect(FILLER(--n), 4096, PROT_NONE);   /* one to spare */
        errno = 0;
        char *b = opaque_ptr(malloc(opaque_size(size)));
        int err = errno;
        if (b == NULL) {
            CHECK(err == ENOMEM, "round %d: malloc = NULL with errno %d", round, err);
            refused++;
        } else {
            memset(b, 2, size);
            free(b);
        }
        if (round == COUNT_FROM)
            from = inaccessible_bytes();
    }
    /* it may shrink: each filler page made readable leaves the count */
    intptr_t grown = (intptr_t)(inaccessible_bytes() - from);
#undef FILLER
    printf("# %d of %d refused; inaccessible address space grew %td KiB over the last %d rounds\n", refused, ROUNDS,
           grown / 1024, ROUNDS - COUNT_FROM);
    CHECK(grown <= (intptr_t)4 << 20, "%td KiB of address space left inaccessible in %d rounds", grown / 1024,
          ROUNDS - COUNT_FROM);
    munmap(base, pages * 4096);
}

/* realloc growing a large block at the mapping limit, with a few more mappings to spare at
 * each step: every step of a growth (the new range, each moved piece of the block, the rest)
 * is refused at some budget. The result is the block, grown, with its old contents, or NULL
 * with ENOMEM and the old block untouched. The program splits the block before each growth. */
static bool intact(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 31))
            return false;
    return true;
}

static void test_realloc_at_the_mapping_limit(void)
{
    enum { K = 5 };
    char *f[K];   /* freed first: secure builds build the next block from their pages, in pieces */
    for (int i = 0; i < K; i++) {
        size_t size = (size_t)(i + 1) * 200000;
        f[i] = malloc(opaque_size(size));
        REQUIRE(f[i], "malloc(%zu)", size);
        memset(f[i], i, size);
    }
    for (int i = 0; i < K; i++)
        free(f[i]);
    size_t n = 900001;
    unsigned char *p = malloc(opaque_size(n));
    REQUIRE(p, "malloc(%zu)", n);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31);
    REQUIRE(fill_mappings() == 0, "cannot fill the mapping budget");
    int grown = 0, refused = 0;
    for (size_t spare = 0; spare < 24; spare++) {
        /* one readable page of the filler back to PROT_NONE: two mappings to spare */
        mprotect(filler + (1 + 2 * spare) * 4096, 4096, PROT_NONE);
        /* and the block split by the program (a kernel that moves several mappings at once can
         * stop in the middle of such a block) */
        madvise((void *)(((uintptr_t)p + 4095) & ~(uintptr_t)4095) + 8 * 4096, 8 * 4096, MADV_DONTDUMP);
        size_t m = n + 70001;
        errno = 0;
        unsigned char *q = realloc(p, opaque_size(m));
        if (!q) {
            CHECK(errno == ENOMEM, "realloc(%zu) = NULL with errno %d", m, errno);
            refused++;
        } else {
            p = q;
            for (size_t i = n; i < m; i++)
                p[i] = (unsigned char)(i * 31);
            n = m;
            grown++;
        }
        REQUIRE(intact(p, n), "spare %zu: the block's contents changed", 2 * spare);
    }
    unfill_mappings();
    printf("# %d growths at the limit, %d refused\n", grown, refused);
    CHECK(grown > 0, "no growth succeeded with up to 48 mappings to spare");
    unsigned char *q = realloc(p, opaque_size(n + 70001));
    REQUIRE(q && intact(q, n), "realloc once mappings were given back");
    free(q);
}

/* The same with a fresh block the program split (8 pages in its middle made MADV_DONTDUMP), at
 * every budget from 0 to 16 mappings to spare: a kernel that moves a range of several mappings
 * in one call may stop midway, with part of the block moved. The grown block must hold the old
 * contents, or realloc returns NULL and the old block does. */
static void test_realloc_of_a_split_block_at_the_limit(void)
{
    int fd = open("/proc/self/exe", O_RDONLY);
    REQUIRE(fd >= 0, "open /proc/self/exe");
    int grown = 0;
    for (long spare = 16; spare >= 0; spare--) {   /* down: a refused growth makes the next 64 copy */
        size_t n = (size_t)1 << 20;
        malloc_trim(0);   /* no recycled pages: the block is one piece, of fresh pages */
        unsigned char *p = malloc(opaque_size(n));
        REQUIRE(p, "malloc(1 MiB)");
        for (size_t i = 0; i < n; i++)
            p[i] = (unsigned char)(i * 31);
        unsigned char *page = (unsigned char *)(((uintptr_t)p + 4095) & ~(uintptr_t)4095);
        REQUIRE(madvise(page + 64 * 4096, 8 * 4096, MADV_DONTDUMP) == 0, "madvise");
        REQUIRE(fill_mappings() == 0, "cannot fill the mapping budget");
        long limit = read_long("/proc/sys/vm/max_map_count");
        /* back to exactly limit - spare (count_mappings also lists [vsyscall]): two fewer per
         * filler page made PROT_NONE again, one more per page of a file mapped */
        size_t at = 1;
        void *extra[4];
        int extras = 0;
        while (count_mappings() - 1 > limit - spare && at + 1 < filler_pages) {
            mprotect(filler + at * 4096, 4096, PROT_NONE);
            at += 2;
        }
        while (count_mappings() - 1 < limit - spare && extras < 4) {
            extra[extras] = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
            if (extra[extras] == MAP_FAILED)
                break;
            extras++;
        }
        unsigned char *q = realloc(p, opaque_size(n + 70001));
        int err = errno;
        unfill_mappings();
        for (int i = 0; i < extras; i++)
            munmap(extra[i], 4096);
        if (q) {
            grown++;
            p = q;
        } else {
            CHECK(err == ENOMEM, "spare %ld: realloc = NULL with errno %d", spare, err);
        }
        size_t wrong = 0;
        for (size_t i = 0; i < n; i++)
            wrong += p[i] != (unsigned char)(i * 31);
        CHECK(wrong == 0, "spare %ld: %zu of %zu bytes wrong after realloc %s", spare, wrong, n,
              q ? "grew the block" : "returned NULL");
        free(p);
    }
    close(fd);
    printf("# %d of 17 growths at 0..16 mappings to spare\n", grown);
}

static void test_free_of_locked_memory(void)
{
    /* part of a large block locked: its mapping is split, and the pages cannot be purged */
    size_t n = (size_t)1 << 20;
    char *big = malloc(opaque_size(n));
    REQUIRE(big, "malloc(1 MiB)");
    memset(big, 0x5a, n);
    char *page = (char *)(((uintptr_t)big + 8192) & ~(uintptr_t)4095);
    if (mlock(page, 4096) != 0) {
        printf("# mlock refused (errno %d): nothing to check\n", errno);
        free(big);
        return;
    }
    free(big);   /* aborted with "madvise failure" in secure builds */
    /* a small block's page locked, the block freed, its span purged by malloc_trim */
    char *small = malloc(opaque_size(40000));
    REQUIRE(small, "malloc(40000)");
    memset(small, 0x5a, 40000);
    char *spage = (char *)(((uintptr_t)small + 4095) & ~(uintptr_t)4095);
    REQUIRE(mlock(spage, 4096) == 0, "mlock of a small block's page: errno %d", errno);
    free(small);
    for (int i = 0; i < 2000; i++)   /* through the quarantine, and its page emptied */
        free(malloc(opaque_size(40000 + (size_t)(i % 7) * 4096)));
    malloc_trim(0);
    /* the memory handed out next reads zero where calloc says so */
    for (int i = 0; i < 50; i++) {
        unsigned char *c = calloc(1, opaque_size(i % 2 ? 40000 : n));
        REQUIRE(c, "calloc");
        size_t size = i % 2 ? 40000 : n, bad = 0;
        for (size_t k = 0; k < size; k++)
            bad += c[k] != 0;
        CHECK(bad == 0, "calloc(%zu): %zu bytes not zero", size, bad);
        free(c);
    }
}

int main(void)
{
    RUN(test_free_of_locked_memory);
    RUN(test_freed_blocks_make_room_at_the_limit);
    RUN(test_free_at_the_mapping_limit);
    RUN(test_malloc_one_short_of_the_limit);
    RUN(test_realloc_of_a_split_block_at_the_limit);   /* first, for the same reason */
    RUN(test_realloc_at_the_mapping_limit);
    return check_exit();
}
