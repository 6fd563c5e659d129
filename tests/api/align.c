/* tests/api/align.c: alignment of every block, usable sizes, and zeroed memory from calloc. */
#include <unistd.h>

#include "api.h"

// ---- default alignment ------------------------------------------------------------------------

static void test_default_alignment(void)
{
    enum { N = 4200 };
    static void *keep[N];
    for (size_t n = 0; n < N; n++) {
        keep[n] = A->malloc(opaque_size(n));
        REQUIRE(keep[n] != NULL, "malloc(%zu) = NULL", n);
        CHECK(is_aligned(keep[n], 16), "malloc(%zu) = %p not 16-aligned", n, keep[n]);
    }
    for (size_t n = 0; n < N; n++)
        A->free(keep[n]);
    static const size_t big[] = {8191, 8193, 32767, 65537, 131071, 262145, 1000003, 4194305};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        void *p = A->malloc(opaque_size(big[i])), *c = A->calloc(1, opaque_size(big[i]));
        REQUIRE(p && c, "malloc/calloc(%zu) = %p %p", big[i], p, c);
        CHECK(is_aligned(p, 16) && is_aligned(c, 16), "%zu bytes: %p %p", big[i], p, c);
        p = A->realloc(p, opaque_size(big[i] / 3 + 1));
        REQUIRE(p != NULL, "realloc shrink = NULL");
        CHECK(is_aligned(p, 16), "realloc(%zu) = %p", big[i] / 3 + 1, p);
        A->free(p);
        A->free(c);
    }
}

// ---- explicit alignments ----------------------------------------------------------------------

enum { ALIGN_KIND_POSIX, ALIGN_KIND_ALIGNED_ALLOC, ALIGN_KIND_MEMALIGN, ALIGN_KINDS };
static const char *const align_kind_name[] = {"posix_memalign", "aligned_alloc", "memalign"};

static void *alloc_aligned(int kind, size_t align, size_t size)
{
    void *p = NULL;
    switch (kind) {
    case ALIGN_KIND_POSIX:
        if (A->posix_memalign(&p, opaque_size(align), opaque_size(size)) != 0)
            p = NULL;
        break;
    case ALIGN_KIND_ALIGNED_ALLOC:
        p = A->aligned_alloc(opaque_size(align), opaque_size(size));
        break;
    default:
        p = A->memalign(opaque_size(align), opaque_size(size));
        break;
    }
    return p;
}

/* Every alignment from 16 B to 1 MiB for sizes around it and across the size classes; all blocks
 * of one alignment stay live together and carry a pattern, so an overlap is seen. */
static void test_alignments(void)
{
    static const size_t fixed_sizes[] = {1, 8, 16, 24, 100, 257, 1000, 4000, 5000, 16385, 70000,
                                         300000};
    enum { NF = sizeof fixed_sizes / sizeof fixed_sizes[0], PER = NF + 4 };
    for (int kind = 0; kind < ALIGN_KINDS; kind++)
        for (size_t align = 16; align <= (1u << 20); align *= 2) {
            void *blocks[PER];
            size_t sizes[PER];
            size_t n = 0;
            for (size_t i = 0; i < NF; i++)
                sizes[n++] = fixed_sizes[i];
            sizes[n++] = align - 1, sizes[n++] = align, sizes[n++] = align + 1,
            sizes[n++] = 3 * align;
            for (size_t i = 0; i < n; i++) {
                blocks[i] = alloc_aligned(kind, align, sizes[i]);
                REQUIRE(blocks[i] != NULL, "%s(align %zu, size %zu) = NULL",
                        align_kind_name[kind], align, sizes[i]);
                CHECK(is_aligned(blocks[i], align), "%s(align %zu, size %zu) = %p misaligned",
                      align_kind_name[kind], align, sizes[i], blocks[i]);
                size_t u = A->usable_size(blocks[i]);
                CHECK(u >= sizes[i], "%s(align %zu, size %zu): usable %zu",
                      align_kind_name[kind], align, sizes[i], u);
                pattern_fill(blocks[i], u, align * 131 + i);
            }
            for (size_t i = 0; i < n; i++) {
                size_t u = A->usable_size(blocks[i]);
                CHECK(pattern_check(blocks[i], u, align * 131 + i) == SIZE_MAX,
                      "%s(align %zu, size %zu) block overwritten by a neighbour",
                      align_kind_name[kind], align, sizes[i]);
                A->free(blocks[i]);
            }
        }
}

/* An aligned block is an ordinary block: realloc keeps its contents. */
static void test_aligned_then_realloc(void)
{
    for (size_t align = 32; align <= (1u << 16); align *= 4) {
        unsigned char *p = alloc_aligned(ALIGN_KIND_POSIX, align, 200);
        REQUIRE(p != NULL, "posix_memalign(%zu, 200) failed", align);
        pattern_fill(p, 200, align);
        p = A->realloc(p, opaque_size(100000));
        REQUIRE(p != NULL, "realloc of an aligned block = NULL");
        CHECK(pattern_check(p, 200, align) == SIZE_MAX, "align %zu: contents lost", align);
        p = A->realloc(p, opaque_size(50));
        REQUIRE(p != NULL, "realloc shrink of an aligned block = NULL");
        CHECK(pattern_check(p, 50, align) == SIZE_MAX, "align %zu: contents lost on shrink", align);
        A->free(p);
    }
}

// ---- usable size ------------------------------------------------------------------------------

/* usable_size(p) >= request and every usable byte may be written (in the secure variant this
 * must not touch the canary: free would abort). */
static void test_usable_size(void)
{
    for (size_t n = 0; n <= 20000; n += (n < 4096 ? 1 : 61)) {
        unsigned char *p = A->malloc(opaque_size(n));
        REQUIRE(p != NULL, "malloc(%zu) = NULL", n);
        size_t u = A->usable_size(p);
        CHECK(u >= n, "malloc(%zu): usable %zu", n, u);
        memset(p, 0xa5, u);
        CHECK(A->usable_size(p) == u, "usable size of %zu changed after a write", n);
        A->free(p);
    }
    for (size_t n = 20000; n <= (8u << 20); n = n * 5 / 4 + 7) {
        unsigned char *p = A->malloc(opaque_size(n));
        REQUIRE(p != NULL, "malloc(%zu) = NULL", n);
        size_t u = A->usable_size(p);
        CHECK(u >= n, "malloc(%zu): usable %zu", n, u);
        CHECK(u < n + (1u << 20), "malloc(%zu): usable %zu, a megabyte more than asked", n, u);
        memset(p, 0x5a, u);
        A->free(p);
    }
    CHECK(A->usable_size(NULL) == 0, "usable_size(NULL) = %zu", A->usable_size(NULL));
}

/* realloc within the usable size keeps the bytes written beyond the request. */
static void test_usable_size_realloc(void)
{
    for (size_t n = 1; n < 70000; n = n * 3 / 2 + 1) {
        unsigned char *p = A->malloc(opaque_size(n));
        REQUIRE(p != NULL, "malloc(%zu) = NULL", n);
        size_t u = A->usable_size(p);
        pattern_fill(p, u, n);
        p = A->realloc(p, opaque_size(u));
        REQUIRE(p != NULL, "realloc(p, usable %zu) = NULL", u);
        CHECK(pattern_check(p, u, n) == SIZE_MAX, "realloc to the usable size %zu lost bytes", u);
        A->free(p);
    }
}

// ---- calloc -----------------------------------------------------------------------------------

static size_t first_nonzero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return i;
    return SIZE_MAX;
}

/* calloc memory is zero, including memory that was just dirtied and freed. */
static void test_calloc_dirty_reuse(void)
{
    enum { N = 3000 };
    static unsigned char *blocks[N];
    static size_t sizes[N];
    uint64_t rng = 0x1234567;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            uint64_t r = rng_next(&rng);
            sizes[i] = (i % 200 == 0) ? 100000 + r % (3u << 20) : 1 + r % (i % 3 ? 512 : 20000);
            blocks[i] = A->malloc(opaque_size(sizes[i]));
            REQUIRE(blocks[i] != NULL, "malloc(%zu) = NULL", sizes[i]);
            memset(blocks[i], 0xff, A->usable_size(blocks[i]));
        }
        for (int i = 0; i < N; i++)
            A->free(blocks[i]);
        for (int i = 0; i < N; i++) {
            /* calloc(n, 1), calloc(1, n) and an element count of 8 */
            size_t n = sizes[i];
            blocks[i] = (i % 3 == 0)   ? A->calloc(opaque_size(n), 1)
                        : (i % 3 == 1) ? A->calloc(1, opaque_size(n))
                                       : A->calloc(opaque_size((n + 7) / 8), 8);
            REQUIRE(blocks[i] != NULL, "calloc(%zu) = NULL", n);
            size_t at = first_nonzero(blocks[i], n);
            CHECK(at == SIZE_MAX, "round %d: calloc(%zu) byte %zu = %#x", round, n, at,
                  blocks[i][at]);
            if (CHECK_FAILED())
                return;
            memset(blocks[i], 0xff, n);
        }
        for (int i = 0; i < N; i++)
            A->free(blocks[i]);
    }
}

static void test_calloc_sizes(void)
{
    for (size_t n = 1; n < (16u << 20); n = n * 2 + 3) {
        unsigned char *p = A->calloc(opaque_size(n), 1);
        REQUIRE(p != NULL, "calloc(%zu, 1) = NULL", n);
        size_t at = first_nonzero(p, n);
        CHECK(at == SIZE_MAX, "calloc(%zu) byte %zu nonzero", n, at);
        memset(p, 0xee, n);
        A->free(p);
    }
}

int main(void)
{
    RUN_API(test_default_alignment);
    RUN_API(test_alignments);
    RUN_API(test_aligned_then_realloc);
    RUN_API(test_usable_size);
    RUN_API(test_usable_size_realloc);
    RUN_API(test_calloc_dirty_reuse);
    RUN_API(test_calloc_sizes);
    return check_exit();
}
