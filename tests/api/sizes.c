/* tests/api/sizes.c: every power of two and its neighbours up to 64 MiB, one at a time (whole
 * usable size written) and all live together (no two blocks overlap). */
#include "api.h"

#define MAX_SHIFT 26 /* 64 MiB */

static void test_pow2_one_by_one(void)
{
    for (int k = 0; k <= MAX_SHIFT; k++)
        for (int d = -1; d <= 1; d++) {
            size_t n = ((size_t)1 << k) + (size_t)d;
            if (n == 0)
                continue;
            unsigned char *p = A->malloc(opaque_size(n));
            REQUIRE(p != NULL, "malloc(%zu) = NULL", n);
            CHECK(is_aligned(p, 16), "malloc(%zu) = %p", n, (void *)p);
            size_t u = A->usable_size(p);
            CHECK(u >= n, "malloc(%zu): usable %zu", n, u);
            memset(p, 0xc3, u);
            CHECK(p[0] == 0xc3 && p[u - 1] == 0xc3, "malloc(%zu): bytes do not stick", n);
            A->free(p);

            unsigned char *c = A->calloc(opaque_size(n), 1);
            REQUIRE(c != NULL, "calloc(%zu, 1) = NULL", n);
            size_t nonzero = SIZE_MAX;
            for (size_t i = 0; i < n; i += (i < 8192 ? 1 : 61))
                if (c[i] != 0) {
                    nonzero = i;
                    break;
                }
            if (c[n - 1] != 0)
                nonzero = n - 1;
            CHECK(nonzero == SIZE_MAX, "calloc(%zu): byte %zu nonzero", n, nonzero);
            A->free(c);
        }
}

static void test_pow2_all_live(void)
{
    enum { MAXN = 3 * (MAX_SHIFT + 1) };
    unsigned char *blocks[MAXN];
    size_t sizes[MAXN];
    size_t n = 0;
    for (int k = 0; k <= MAX_SHIFT; k++)
        for (int d = -1; d <= 1; d++) {
            size_t s = ((size_t)1 << k) + (size_t)d;
            if (s == 0)
                continue;
            blocks[n] = A->malloc(opaque_size(s));
            REQUIRE(blocks[n] != NULL, "malloc(%zu) = NULL", s);
            sizes[n] = s;
            pattern_fill(blocks[n], s, s);
            n++;
        }
    for (size_t i = 0; i < n; i++) {
        size_t at = pattern_check(blocks[i], sizes[i], sizes[i]);
        CHECK(at == SIZE_MAX, "block of %zu overwritten at byte %zu", sizes[i], at);
    }
    /* Free in an interleaved order: every other block first. */
    for (size_t i = 0; i < n; i += 2)
        A->free(blocks[i]);
    for (size_t i = 1; i < n; i += 2)
        A->free(blocks[i]);
}

/* Many blocks of one size class: distinct, aligned, no overlap, across several pages' worth. */
static void test_many_of_a_size(void)
{
    static const size_t sizes[] = {1, 8, 16, 24, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512,
                                   768, 1024, 2048, 3072, 4096, 8192, 12288, 16384, 32768};
    enum { N = 2000 };
    static unsigned char *blocks[N];
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        size_t count = n <= 4096 ? N : N / 8;
        for (size_t i = 0; i < count; i++) {
            blocks[i] = A->malloc(opaque_size(n));
            REQUIRE(blocks[i] != NULL, "malloc(%zu) #%zu = NULL", n, i);
            pattern_fill(blocks[i], n, i * 7919 + n);
        }
        for (size_t i = 0; i < count; i++) {
            CHECK(pattern_check(blocks[i], n, i * 7919 + n) == SIZE_MAX,
                  "size %zu: block %zu overwritten", n, i);
            A->free(blocks[i]);
        }
        if (CHECK_FAILED())
            return;
    }
}

int main(void)
{
    RUN_API(test_pow2_one_by_one);
    RUN_API(test_pow2_all_live);
    RUN_API(test_many_of_a_size);
    return check_exit();
}
