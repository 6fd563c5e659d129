/* tests/api/realloc.c: realloc keeps contents across every size boundary, 1 B to 4 MiB, growing
 * (small -> medium -> large) and shrinking back, and in direct jumps between size ranges. */
#include "api.h"

#define MAX_SIZE ((size_t)4 << 20)

/* The ladder of sizes: every size to 512 B, then steps of 1/32, plus every power of two and its
 * neighbours, so that each size class boundary of any sane allocator is crossed. */
static size_t ladder[4096];
static size_t ladder_len;

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static void build_ladder(void)
{
    size_t n = 0;
    for (size_t s = 1; s <= 512; s++)
        ladder[n++] = s;
    for (size_t s = 512; s <= MAX_SIZE; s += s / 32)
        ladder[n++] = s;
    for (size_t p = 2; p <= MAX_SIZE; p *= 2)
        ladder[n++] = p - 1, ladder[n++] = p, ladder[n++] = p + 1;
    qsort(ladder, n, sizeof ladder[0], cmp_size);
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (out == 0 || ladder[i] != ladder[out - 1])
            ladder[out++] = ladder[i];
    ladder_len = out;
}

/* One step: realloc from `have` to `want`; the first min(have, want) bytes must survive, and the
 * block is then filled to `want` with the same position-based pattern. */
static unsigned char *step(unsigned char *p, size_t have, size_t want, uint64_t seed)
{
    unsigned char *q = A->realloc(p, opaque_size(want));
    if (q == NULL) {
        check_fail(__FILE__, __LINE__, "q != NULL", "realloc(%zu -> %zu) = NULL", have, want);
        return NULL;
    }
    size_t keep = have < want ? have : want;
    size_t at = pattern_check(q, keep, seed);
    CHECK(at == SIZE_MAX, "realloc %zu -> %zu: byte %zu of %zu lost", have, want, at, keep);
    CHECK(is_aligned(q, 16), "realloc %zu -> %zu = %p misaligned", have, want, (void *)q);
    CHECK(A->usable_size(q) >= want, "realloc to %zu: usable %zu", want, A->usable_size(q));
    for (size_t i = keep; i < want; i++)
        q[i] = pattern_byte(seed, i);
    return q;
}

static void test_realloc_ladder(void)
{
    const uint64_t seed = 0xfeed;
    unsigned char *p = A->malloc(opaque_size(1));
    REQUIRE(p != NULL, "malloc(1) = NULL");
    p[0] = pattern_byte(seed, 0);
    size_t have = 1;
    for (size_t i = 1; i < ladder_len && !CHECK_FAILED(); i++) {
        p = step(p, have, ladder[i], seed);
        if (p == NULL)
            return;
        have = ladder[i];
    }
    for (size_t i = ladder_len - 1; i-- > 0 && !CHECK_FAILED();) {
        p = step(p, have, ladder[i], seed);
        if (p == NULL)
            return;
        have = ladder[i];
    }
    A->free(p);
}

/* Jumps between distant sizes in both directions, with other blocks live around the block. */
static void test_realloc_jumps(void)
{
    static const size_t sizes[] = {1, 16, 17, 100, 1000, 4096, 16385, 65536, 200000, 1 << 20,
                                   MAX_SIZE};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    for (size_t i = 0; i < NS; i++)
        for (size_t j = 0; j < NS; j++) {
            void *neighbour = A->malloc(opaque_size(sizes[j]));
            unsigned char *p = A->malloc(opaque_size(sizes[i]));
            REQUIRE(p && neighbour, "malloc(%zu) failed", sizes[i]);
            pattern_fill(neighbour, sizes[j], 1000 + j);
            pattern_fill(p, sizes[i], i * 100 + j);
            p = step(p, sizes[i], sizes[j], i * 100 + j);
            REQUIRE(p != NULL, "realloc failed");
            p = step(p, sizes[j], sizes[i], i * 100 + j);
            REQUIRE(p != NULL, "realloc failed");
            CHECK(pattern_check(p, sizes[i], i * 100 + j) == SIZE_MAX, "%zu -> %zu -> %zu lost",
                  sizes[i], sizes[j], sizes[i]);
            CHECK(pattern_check(neighbour, sizes[j], 1000 + j) == SIZE_MAX,
                  "realloc %zu <-> %zu overwrote a live neighbour", sizes[i], sizes[j]);
            A->free(p);
            A->free(neighbour);
        }
}

/* Many blocks grown and shrunk in turn (interleaved), each checked at the end. */
static void test_realloc_interleaved(void)
{
    enum { N = 400 };
    static unsigned char *blocks[N];
    static size_t have[N];
    uint64_t rng = 99;
    for (int i = 0; i < N; i++) {
        have[i] = 1 + i;
        blocks[i] = A->malloc(opaque_size(have[i]));
        REQUIRE(blocks[i] != NULL, "malloc failed");
        pattern_fill(blocks[i], have[i], (uint64_t)i);
    }
    for (int round = 0; round < 20 && !CHECK_FAILED(); round++)
        for (int i = 0; i < N; i++) {
            uint64_t r = rng_next(&rng);
            size_t want = (r & 15) == 0 ? 1 + r % 600000 : 1 + r % 5000;
            blocks[i] = step(blocks[i], have[i], want, (uint64_t)i);
            REQUIRE(blocks[i] != NULL, "realloc failed");
            have[i] = want;
        }
    for (int i = 0; i < N; i++) {
        CHECK(pattern_check(blocks[i], have[i], (uint64_t)i) == SIZE_MAX, "block %d (%zu) lost", i,
              have[i]);
        A->free(blocks[i]);
    }
}

/* A block shrunk in place by realloc, then freed: its slot, handed out again, reads zero to its
 * end. Secure builds zero a freed slot only up to the size it held at the free (the rest reads
 * zero already), so the shrink must clear the bytes it gave up: else they would reach the next
 * owner (past 4 KiB), or make its allocation report a write after free (before). Sizes from
 * 600 B to 48 KiB, each shrunk to 60%; every block of that size allocated after it, until the
 * slot comes back (the quarantine delays it), must read zero. Fast builds do not zero freed
 * memory: nothing to check there. */
static void test_realloc_shrink_then_reuse(void)
{
    if (!SG_CONFIG_ZERO_ON_FREE)
        return;
    static const size_t sizes[] = {600, 1000, 2000, 3000, 5000, 9000, 20000, 48000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k], m = n * 6 / 10;
        unsigned char *p = A->malloc(opaque_size(n));
        REQUIRE(p != NULL, "malloc(%zu)", n);
        memset(p, 0xab, n);
        unsigned char *q = A->realloc(p, opaque_size(m));
        REQUIRE(q != NULL, "realloc(%zu)", m);
        uintptr_t slot = (uintptr_t)q;
        A->free(q);
        int back = 0;
        for (int i = 0; i < 20000 && !back; i++) {
            unsigned char *r = A->malloc(opaque_size(n));
            REQUIRE(r != NULL, "malloc(%zu)", n);
            size_t dirty = 0;
            for (size_t j = 0; j < n; j++)
                dirty += r[j] != 0;
            back = (uintptr_t)r == slot;
            CHECK(dirty == 0, "size %zu: a block %s holds %zu non-zero bytes", n,
                  back ? "in the shrunk block's slot" : "after the shrink", dirty);
            A->free(r);
        }
        CHECK(back, "size %zu: the slot of the block shrunk in place never came back", n);
    }
}

int main(void)
{
    build_ladder();
    RUN_API(test_realloc_ladder);
    RUN_API(test_realloc_jumps);
    RUN_API(test_realloc_interleaved);
    RUN_API(test_realloc_shrink_then_reuse);
    return check_exit();
}
