/* Unit tests of src/page.c: slot arithmetic, carving, collecting. */
#include "../check.h"
#include "internal.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>

static void test_slot_index_is_exact_for_every_class(void) {
    for (unsigned c = 0; c < SG_CLASS_COUNT; c++) {
        sg_page_t pg;
        memset(&pg, 0, sizeof pg);
        sg_page_set_divisor(&pg, sg_class_size[c]);
        pg.start = 0x100000;
        pg.capacity = (uint32_t)(((size_t)sg_class_units[c] << SG_UNIT_SHIFT) / pg.block_size);
        size_t span = (size_t)sg_class_units[c] << SG_UNIT_SHIFT;
        for (size_t off = 0; off < span; off += 16) {
            uint32_t idx = sg_page_slot_index(&pg, off);
            bool slot = off % pg.block_size == 0 && off / pg.block_size < pg.capacity;
            REQUIRE(sg_page_is_slot(&pg, pg.start + off) == slot, "class %u offset %zu", c, off);
            if (slot) REQUIRE(idx == off / pg.block_size, "class %u offset %zu -> %u", c, off, idx);
        }
        CHECK(!sg_page_is_slot(&pg, pg.start + 8), "class %u: misaligned pointer is a slot", c);
        /* far from the page, either side: slot multiples past the end, below the start (the
         * offset wraps), and the largest offsets */
        static const uint64_t far[] = { 1, 2, 3, 1000, (uint64_t)1 << 20, (uint64_t)1 << 40 };
        for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
            uintptr_t past = pg.start + ((uintptr_t)pg.capacity + far[i] - 1) * pg.block_size;
            uintptr_t below = pg.start - (uintptr_t)far[i] * pg.block_size;
            CHECK(!sg_page_is_slot(&pg, past), "class %u: slot %llu past the end is a slot", c,
                  (unsigned long long)(pg.capacity + far[i] - 1));
            CHECK(!sg_page_is_slot(&pg, below), "class %u: %llu slots below the start is a slot", c,
                  (unsigned long long)far[i]);
            CHECK(!sg_page_is_slot(&pg, pg.start - far[i] * 16), "class %u: %llu bytes below", c,
                  (unsigned long long)(far[i] * 16));
        }
        CHECK(!sg_page_is_slot(&pg, pg.start + UINTPTR_MAX - 15), "class %u: the last offset", c);
    }
}

/* Fill whole pages of one class through malloc: every block distinct, inside the arena, on a
 * slot boundary of a page of the right class. */
static void test_pages_fill_and_empty(void) {
    enum { N = 3000 };
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = malloc(40);
        REQUIRE(p[i] != NULL, "malloc(40) failed at %d", i);
        memset(p[i], i & 0xff, 40);
        sg_page_t *pg = sg_page_of((uintptr_t)p[i]);
        REQUIRE(sg_in_arena((uintptr_t)p[i]), "block %d outside the arena", i);
        REQUIRE(pg->kind == SG_PAGE_SMALL && sg_page_is_slot(pg, (uintptr_t)p[i]), "block %d not a slot", i);
        REQUIRE(pg->block_size >= 40 + SG_CANARY_OVERHEAD, "block %d in class of %u", i, pg->block_size);
    }
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 40; j++)
            REQUIRE(((unsigned char *)p[i])[j] == (i & 0xff), "block %d byte %d overwritten", i, j);
    }
    for (int i = 0; i < N; i += 2) free(p[i]);
    for (int i = 1; i < N; i += 2) free(p[i]);
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* Secure: consecutive allocations are rarely neighbours. Fast: they mostly are. */
static void test_slot_order(void) {
    enum { N = 2000 };
    static void *p[N], *s[N];
    int adjacent = 0;
    for (int i = 0; i < N; i++) p[i] = malloc(64);
    for (int i = 1; i < N; i++) {
        intptr_t d = (intptr_t)p[i] - (intptr_t)p[i - 1];
        size_t bs = sg_page_of((uintptr_t)p[i])->block_size;
        if (d == (intptr_t)bs || d == -(intptr_t)bs) adjacent++;
    }
    memcpy(s, p, sizeof p);
    qsort(s, N, sizeof s[0], cmp_ptr);
    for (int i = 1; i < N; i++) REQUIRE(s[i] != s[i - 1], "block handed out twice");
    printf("# adjacent consecutive pairs: %d of %d\n", adjacent, N - 1);
    /* about 27 on average; under 2% (40) failed 1 run in 100 */
    if (SG_RANDOM_SLOTS) CHECK(adjacent < N / 25, "%d of %d consecutive pairs adjacent", adjacent, N - 1);
    else CHECK(adjacent > N / 2, "fast build: only %d of %d pairs adjacent", adjacent, N - 1);
    for (int i = 0; i < N; i++) free(p[i]);
}

/* A thread's first few blocks of a small size lie within the first 4 KiB of their page (at
 * least 64 slots): random carving opens a page with a small window, so a thread with a few
 * blocks of each size does not make four OS pages resident for each. With a 16 KiB window, 20
 * picks among 512 slots of 32 bytes would all land in the first 128 about once in 10^12. */
enum { FIRST_FEW = 20 };
static void *first_blocks_of_a_thread(void *arg) {
    void **p = arg;
    for (int i = 0; i < FIRST_FEW; i++) p[i] = malloc(opaque_size(16));
    return NULL;
}
static void test_first_window_is_small(void) {
    void *p[FIRST_FEW];
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, first_blocks_of_a_thread, p) == 0, "pthread_create");
    pthread_join(t, NULL);
    sg_page_t *pg = sg_page_of((uintptr_t)p[0]);
    uint32_t bs = pg->block_size, window = 4096 / bs < 64 ? 64 : 4096 / bs;
    uintptr_t last = 0;
    for (int i = 0; i < FIRST_FEW; i++) {
        REQUIRE(p[i] && sg_page_of((uintptr_t)p[i]) == pg, "block %d not in the page of the first", i);
        if ((uintptr_t)p[i] > last) last = (uintptr_t)p[i];
    }
    uint32_t reach = (uint32_t)((last - pg->start) / bs) + 1;
    printf("# %d blocks of %u-byte slots reach slot %u of the page (window %u)\n", FIRST_FEW, bs, reach, window);
    CHECK(reach <= window, "the first %d blocks of a thread reach slot %u, past a first window of %u", FIRST_FEW, reach, window);
    for (int i = 0; i < FIRST_FEW; i++) free(p[i]);
}

/* Every request size up to the largest class, filled to the byte, freed and handed out again:
 * zero-on-free, the write-after-free scan and the canary must agree on every class layout. */
static void test_every_size_round_trip(void) {
    for (int round = 0; round < 3; round++) {
        for (size_t n = 0; n <= SG_MAX_CLASS; n += (n < 4096 ? 1 : 97)) {
            void *p[8];
            for (int i = 0; i < 8; i++) {
                p[i] = malloc(n);
                REQUIRE(p[i] != NULL, "malloc(%zu)", n);
                REQUIRE(malloc_usable_size(p[i]) >= n, "usable size of malloc(%zu)", n);
                memset(p[i], 0x5a, n);
            }
            for (int i = 0; i < 8; i++) free(p[i]);
        }
    }
}

/* Secure builds zero a slot when it is freed (up to the size word): one byte written anywhere
 * in a small or medium slot (in a 64-byte run, in the short tail of a 4 KiB piece, at the very
 * end) is gone after free, and so is the canary. The slot is read in place: it stays mapped. */
static void test_zero_on_free_finds_every_byte(void) {
    if (!SG_ZERO_ON_FREE) return;
    static const size_t sizes[] = { 600, 4000, 5000, 9000, 20000, 40000, 70001, 100000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        size_t offsets[] = { 8, 63, 64, 200, 4095, 4096 + 17, n / 2, n - 1 };
        for (size_t j = 0; j < sizeof offsets / sizeof offsets[0]; j++) {
            unsigned char *p = opaque_ptr(malloc(n));
            REQUIRE(p, "malloc(%zu)", n);
            size_t at = offsets[j] < n ? offsets[j] : n - 1;
            p[at] = 0x5a;
            volatile uintptr_t addr = (uintptr_t)p;
            free(p);
            const volatile unsigned char *d = (const volatile unsigned char *)addr;
            size_t left = 0;
            for (size_t i = 8; i < n + 4; i++) left += d[i] != 0;
            CHECK(left == 0, "malloc(%zu), byte %zu written: %zu bytes non-zero after free", n, at, left);
        }
        /* a whole block written */
        unsigned char *p = opaque_ptr(malloc(n));
        REQUIRE(p, "malloc(%zu)", n);
        memset(p, 0xff, n);
        volatile uintptr_t addr = (uintptr_t)p;
        free(p);
        const volatile unsigned char *d = (const volatile unsigned char *)addr;
        size_t left = 0;
        for (size_t i = 8; i < n + 4; i++) left += d[i] != 0;
        CHECK(left == 0, "malloc(%zu) filled: %zu bytes non-zero after free", n, left);
    }
}

/* Secure builds: slot-state arrays are packed by size (pages of large slots need few bytes),
 * handed out zeroed, reused after a free, a larger free one serving a smaller page. */
static void test_state_arrays_packed_and_reused(void) {
    if (!SG_SLOT_STATES) return;
    enum { N = 64 };
    _Atomic(uint8_t) *a[N];
    for (int i = 0; i < N; i++) {
        a[i] = sg_arena_states_alloc(455);   /* a 64 KiB page of 144-byte slots: 512 bytes */
        REQUIRE(a[i], "state array %d", i);
        size_t nonzero = 0;
        for (int j = 0; j < 455; j++) nonzero += a[i][j] != 0;
        CHECK(nonzero == 0, "array %d: %zu bytes not UNCARVED", i, nonzero);
        memset((void *)a[i], SG_SLOT_ALLOCATED, 455);
    }
    uintptr_t lo = (uintptr_t)a[0], hi = lo;
    for (int i = 1; i < N; i++) {
        lo = (uintptr_t)a[i] < lo ? (uintptr_t)a[i] : lo;
        hi = (uintptr_t)a[i] > hi ? (uintptr_t)a[i] : hi;
    }
    CHECK(hi - lo < (uintptr_t)N * 512 * 4, "64 arrays of 512 bytes spread over %zu bytes", (size_t)(hi - lo));
    for (int i = 0; i < N; i++) {
        memset((void *)a[i], 0, 455);   /* what sg_page_release does */
        sg_arena_states_free(a[i], 455);
    }
    _Atomic(uint8_t) *b = sg_arena_states_alloc(455);
    bool reused = false;
    for (int i = 0; i < N; i++) reused |= b == a[i];
    CHECK(reused, "a freed array was not reused");
    size_t nonzero = 0;
    for (int j = 0; j < 455; j++) nonzero += b[j] != 0;
    CHECK(nonzero == 0, "reused array: %zu bytes not UNCARVED (the free-list link stayed)", nonzero);
    _Atomic(uint8_t) *big = sg_arena_states_alloc(SG_MAX_SLOTS);
    REQUIRE(big, "a 4 KiB state array");
    memset((void *)big, 0, SG_MAX_SLOTS);
    sg_arena_states_free(big, SG_MAX_SLOTS);
    sg_arena_states_free(b, 455);
}

/* A span handed out is SMALL at once (sg_arena_alloc_span) but its page is set up a moment later
 * (sg_page_init): meanwhile the statistics walk of another thread must see no slots. It saw the
 * capacity of the page that was there before, and read the new, smaller slot-state array that
 * far (past its end: a crash when that was the end of the committed states). */
static void test_new_span_shows_no_slots_before_init(void) {
    free(opaque_ptr(malloc(opaque_size(16))));   /* the thread's heap */
    unsigned cls = sg_size_class(16 + SG_CANARY_OVERHEAD);
    uint32_t cap = sg_page_capacity(cls);
    _Atomic(uint8_t) *st = SG_SLOT_STATES ? sg_arena_states_alloc(cap) : NULL;
    sg_page_t *a = sg_arena_alloc_span(sg_class_units[cls], cls, st);
    REQUIRE(a != NULL, "a span");
    sg_page_init(a, cls, sg_tls_heap);
    REQUIRE(a->capacity == cap, "capacity %u, want %u", a->capacity, cap);
    sg_page_release(a);   /* its span (and state array) go back */
    st = SG_SLOT_STATES ? sg_arena_states_alloc(cap) : NULL;
    sg_page_t *b = sg_arena_alloc_span(sg_class_units[cls], cls, st);
    REQUIRE(b != NULL, "a span");
    CHECK(b->capacity == 0, "a span just handed out shows %u slots (the page before it: %s)", b->capacity,
          b == a ? "the same span" : "another span");
    sg_stats_t s;
    sg_stats_get(&s);
    sg_page_init(b, cls, sg_tls_heap);
    sg_page_release(b);
}

/* A page of large slots serving one block commits the OS pages of that block, not of every slot
 * carved with it (32 linked 4 KiB slots once made the whole 64 KiB page resident). Runs first:
 * nothing before it used this class, so the page is fresh. */
static void test_one_block_commits_its_pages(void) {
    enum { SIZE = 4990 };
    unsigned char *p = malloc(opaque_size(SIZE));
    REQUIRE(p, "malloc(%d)", SIZE);
    memset(p, 0x5a, SIZE);
    sg_page_t *pg = sg_page_of((uintptr_t)p);
    REQUIRE(sg_in_arena((uintptr_t)p) && pg->kind == SG_PAGE_SMALL, "malloc(%d) not from a page", SIZE);
    size_t span = (size_t)pg->units << SG_UNIT_SHIFT, pages = span / SG_OS_PAGE;
    unsigned char vec[(SG_MAX_SPAN_UNITS << SG_UNIT_SHIFT) / SG_OS_PAGE];
    REQUIRE(mincore((void *)pg->start, span, vec) == 0, "mincore: errno %d", errno);
    size_t resident = 0;
    for (size_t i = 0; i < pages; i++) resident += vec[i] & 1;
    printf("# a %u-byte slot: %zu of %zu OS pages of its page resident\n", pg->block_size, resident, pages);
    CHECK(resident <= 4, "one %d-byte block made %zu of %zu OS pages resident", SIZE, resident, pages);
    free(p);
}

/* Purging in batches (arena.c): one madvise may cover several free spans, never a span in use.
 * 64 spans of one unit, written; every other one freed, then all purged: the live ones keep
 * every byte, the freed ones are no longer resident. */
static uintptr_t span_addr(const sg_page_t *head) {
    return sg_ro.arena_base + ((uintptr_t)(head - sg_ro.meta) << SG_UNIT_SHIFT);
}
static void test_purge_spares_spans_in_use(void) {
    enum { N = 64 };
    static sg_page_t *span[N];
    size_t unit = SG_UNIT_SIZE, pages = unit / SG_OS_PAGE;
    for (int i = 0; i < N; i++) {
        span[i] = sg_arena_alloc_span(1, 0, NULL);
        REQUIRE(span[i], "span %d", i);
        memset((void *)span_addr(span[i]), 0x77, unit);
    }
    for (int i = 0; i < N; i += 2) sg_arena_free_span(span[i]);
    sg_arena_purge(true);
    unsigned char vec[SG_UNIT_SIZE / 4096];
    size_t still = 0, lost = 0;
    for (int i = 0; i < N; i++) {
        unsigned char *a = (unsigned char *)span_addr(span[i]);
        if (i % 2 == 0) {
            REQUIRE(mincore(a, unit, vec) == 0, "mincore: errno %d", errno);
            for (size_t k = 0; k < pages; k++) still += vec[k] & 1;
            continue;
        }
        for (size_t k = 0; k < unit; k += 512) lost += a[k] != 0x77;
    }
    CHECK(still == 0, "%zu OS pages of freed spans still resident after the purge", still);
    CHECK(lost == 0, "%zu sampled bytes of spans in use lost by the purge", lost);
    for (int i = 1; i < N; i += 2) sg_arena_free_span(span[i]);
}

int main(void) {
    RUN(test_first_window_is_small);   /* first: no thread has exited and handed its pages on */
    RUN(test_one_block_commits_its_pages);
    RUN(test_every_size_round_trip);
    RUN(test_state_arrays_packed_and_reused);
    RUN(test_new_span_shows_no_slots_before_init);
    RUN(test_zero_on_free_finds_every_byte);
    RUN(test_slot_index_is_exact_for_every_class);
    RUN(test_pages_fill_and_empty);
    RUN(test_slot_order);
    RUN(test_purge_spares_spans_in_use);
    return check_exit();
}
