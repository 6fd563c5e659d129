/* tests/stress/guard_budget.c: a few GiB of small blocks under the machine's vm.max_map_count
 * (65530 by default). Guard pages split the arena's mapping; their density must adapt to the
 * budget, so the heap keeps growing (no NULL, no crash), the process keeps mappings to spare for
 * everything else (large blocks, dlopen, thread stacks), and the secure build stays within
 * DESIGN.md's "at most one mapping per 256 KiB of heap". */
#include <errno.h>

#include "../check.h"
#include "procfs.h"

/* 64 KiB slots exactly (the canary's 8 bytes included): the heap is what was asked for */
#define BLOCK (((size_t)64 << 10) - 8)
#define HEAP_BYTES ((size_t)5 << 30)
#define NBLOCKS (HEAP_BYTES / (BLOCK + 8))
/* mappings the arena's own bookkeeping may add (metadata, the reserve's end) */
#define SLACK 16
#define LARGE_AFTER 200

static unsigned char *blocks[NBLOCKS];

static void test_few_gib_of_small_blocks(void)
{
    long limit = read_long("/proc/sys/vm/max_map_count");
    REQUIRE(limit > 0, "cannot read vm.max_map_count");
    printf("# vm.max_map_count %ld%s\n", limit, limit == 65530 ? " (the default)" : "");
    long before = count_mappings();
    size_t n = 0;
    for (; n < NBLOCKS; n++) {
        errno = 0;
        blocks[n] = malloc(opaque_size(BLOCK));
        if (blocks[n] == NULL)
            break;
        blocks[n][0] = (unsigned char)n;
        blocks[n][BLOCK - 1] = (unsigned char)(n >> 8);
        if ((n + 1) % (NBLOCKS / 5) == 0) {   /* every GiB: the density holds all along */
            long now = count_mappings() - before;
            size_t heap = (n + 1) * BLOCK;
            printf("# %zu MiB: %ld mappings added\n", heap >> 20, now);
            CHECK(now <= (long)(heap / (256 << 10)) + SLACK, "%ld mappings added for %zu MiB of heap: more than one per 256 KiB",
                  now, heap >> 20);
        }
    }
    REQUIRE(n == NBLOCKS, "malloc(%zu) = NULL (errno %d) after %zu MiB", BLOCK, errno, n * BLOCK >> 20);
    long after = count_mappings();
    long added = after - before;
    printf("# %zu MiB in %zu blocks: %ld mappings before, %ld after (one per %ld KiB)\n",
           HEAP_BYTES >> 20, n, before, after, added > 0 ? (long)(HEAP_BYTES >> 10) / added : -1);
    CHECK(after < limit - limit / 4, "%ld mappings of %ld: no room left for the rest of the program", after, limit);
    CHECK(added <= (long)(HEAP_BYTES / (256 << 10)) + SLACK, "%ld mappings added for %zu MiB of heap: more than one per 256 KiB",
          added, HEAP_BYTES >> 20);

    /* the rest of the program still gets its memory: large blocks need mappings of their own */
    void *large[LARGE_AFTER];
    size_t got = 0;
    for (; got < LARGE_AFTER; got++) {
        large[got] = malloc(opaque_size((size_t)1 << 20));
        if (large[got] == NULL)
            break;
        memset(large[got], 0x5a, 4096);
    }
    CHECK(got == LARGE_AFTER, "malloc(1 MiB) = NULL after %zu large blocks", got);
    for (size_t i = 0; i < got; i++)
        free(large[i]);

    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += blocks[i][0] != (unsigned char)i || blocks[i][BLOCK - 1] != (unsigned char)(i >> 8);
        free(blocks[i]);
    }
    CHECK(bad == 0, "%zu blocks lost their first or last byte", bad);
    long end = count_mappings();
    printf("# %ld mappings once everything is freed\n", end);
    CHECK(end < limit - limit / 4, "%ld mappings of %ld after freeing everything", end, limit);
}

int main(void)
{
    RUN(test_few_gib_of_small_blocks);
    return check_exit();
}
