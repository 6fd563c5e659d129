/* Unit tests of src/stats.c and glibc's introspection calls (src/override.c). */
#include "../check.h"
#include "internal.h"

#include <errno.h>
#include <malloc.h>

static void test_mallinfo2_counts_blocks(void) {
    enum { CHURN = 8000 };   /* 8 MB allocated and freed first: free pages kept resident */
    static void *churn[CHURN];
    for (int i = 0; i < CHURN; i++) churn[i] = opaque_ptr(malloc(opaque_size(1000)));
    for (int i = 0; i < CHURN; i++) free(churn[i]);
    void *big = opaque_ptr(malloc(opaque_size(3u << 20)));
    void *small[256];
    for (int i = 0; i < 256; i++) small[i] = opaque_ptr(malloc(opaque_size(1000)));
    struct mallinfo2 m = mallinfo2();
    CHECK(m.hblks >= 1 && m.hblkhd >= (3u << 20), "large block not counted: %zu blocks, %zu bytes", m.hblks, m.hblkhd);
    CHECK(m.arena >= 256 * 1000, "arena %zu too small for 256 KB of live blocks", m.arena);
    CHECK(m.ordblks >= 1, "no page counted");
    /* glibc's sums: what is in use plus what is free is the arena */
    CHECK(m.uordblks >= 256 * 1000 && m.uordblks <= m.arena, "%zu bytes in use of an arena of %zu, 256 KB live",
          m.uordblks, m.arena);
    CHECK(m.uordblks + m.fordblks == m.arena, "in use %zu + free %zu != arena %zu", m.uordblks, m.fordblks, m.arena);
    CHECK(m.keepcost <= m.fordblks, "keepcost %zu above the free bytes %zu", m.keepcost, m.fordblks);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    struct mallinfo old = mallinfo(); /* deprecated, still called by old programs */
#pragma GCC diagnostic pop
    CHECK(old.hblks >= 1 && old.arena > 0, "mallinfo disagrees: %d blocks, arena %d", old.hblks, old.arena);
    free(big);
    for (int i = 0; i < 256; i++) free(small[i]);
}

static void test_trim_gives_memory_back(void) {
    enum { N = 20000 };
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(opaque_size(500));
        memset(p[i], 1, 500);
    }
    for (int i = 0; i < N; i++) free(p[i]);
    sg_stats_t before, after;
    sg_stats_get(&before);
    int r = malloc_trim(0);
    sg_stats_get(&after);
    CHECK(r == 0 || r == 1, "malloc_trim returned %d", r);
    CHECK(after.free_unpurged == 0, "%zu free bytes still resident after malloc_trim", after.free_unpurged);
    if (before.free_unpurged) CHECK(r == 1, "memory was released but malloc_trim said 0");
}

static void test_info_and_stats_print(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    REQUIRE(f != NULL, "open_memstream");
    CHECK(malloc_info(0, f) == 0, "malloc_info failed");
    fclose(f);
    CHECK(buf && strstr(buf, "<malloc version=\"slabguard-") && strstr(buf, "</malloc>"), "malloc_info: %s", buf ? buf : "(null)");
    free(buf);
    errno = 0;
    int r = malloc_info(1, stdout);
    CHECK(r == EINVAL && errno == 0, "malloc_info(1) = %d, errno %d: glibc returns EINVAL, errno untouched", r, errno);
}

static void test_class_stats_and_totals(void) {
    enum { N = 3000 };
    static void *p[N];
    sg_stats_t before, after;
    sg_stats_get(&before);
    for (int i = 0; i < N; i++) p[i] = opaque_ptr(malloc(opaque_size(100)));
    sg_stats_get(&after);
    CHECK(after.allocated >= before.allocated + (size_t)N * 100, "allocated grew by %zu only",
          after.allocated - before.allocated);
    CHECK(after.active >= after.allocated, "active %zu < allocated %zu", after.active, after.allocated);
    CHECK(after.resident > 0, "resident not read");
    sg_class_stats_t cls[SG_CLASS_COUNT];
    size_t n = sg_stats_classes(cls, SG_CLASS_COUNT);
    REQUIRE(n == SG_CLASS_COUNT, "%zu classes", n);
    size_t used = 0;
    for (size_t c = 0; c < n; c++) {
        CHECK(cls[c].blocks_used <= cls[c].blocks_capacity, "class %zu: %zu used of %zu", c, cls[c].blocks_used,
              cls[c].blocks_capacity);
        if (cls[c].block_size >= 100 + SG_CANARY_OVERHEAD && cls[c].block_size < 128 + SG_CANARY_OVERHEAD + 16)
            used += cls[c].blocks_used;
    }
    CHECK(used >= N, "the classes around 100 bytes hold %zu blocks, want >= %d", used, N);
    for (int i = 0; i < N; i++) free(p[i]);
    /* freed blocks are not allocated, whether or not a quarantine still holds them */
    sg_stats_t freed;
    sg_stats_get(&freed);
    CHECK(freed.allocated <= before.allocated + 4096, "allocated %zu after the frees, %zu before the mallocs",
          freed.allocated, before.allocated);
}

int main(void) {
    RUN(test_class_stats_and_totals);
    RUN(test_mallinfo2_counts_blocks);
    RUN(test_trim_gives_memory_back);
    RUN(test_info_and_stats_print);
    return check_exit();
}
