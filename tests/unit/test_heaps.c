/* Unit tests of src/heaps.c: first-class heaps. */
#include "../check.h"
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

static void test_destroy_frees_everything(void) {
    sg_stats_t s0, s1, s2;
    sg_stats_get(&s0);
    sg_heap_t *h = sg_heap_new();
    REQUIRE(h, "sg_heap_new");
    for (int i = 0; i < 20000; i++) {
        char *p = sg_heap_malloc(h, (size_t)(16 + i % 900));
        REQUIRE(p, "sg_heap_malloc %d", i);
        memset(p, 0x33, (size_t)(16 + i % 900));
    }
    void *big = sg_heap_malloc(h, 1u << 20);
    REQUIRE(big, "large block in a heap");
    memset(big, 1, 1u << 20);
    sg_stats_get(&s1);
    CHECK(sg_heap_mapped(h) >= (size_t)20000 * 16 + (1u << 20), "heap maps only %zu bytes", sg_heap_mapped(h));
    CHECK(s1.pages > s0.pages && s1.large_count > s0.large_count, "pages %zu -> %zu", s0.pages, s1.pages);
    sg_heap_destroy(h);
    sg_stats_get(&s2);
    CHECK(s2.pages <= s0.pages + 1, "pages left after destroy: %zu (before %zu)", s2.pages, s0.pages);
    CHECK(s2.large_count == s0.large_count, "large blocks left after destroy: %zu", s2.large_count);
}

static void test_calloc_and_realloc(void) {
    sg_heap_t *h = sg_heap_new();
    for (int round = 0; round < 3; round++) {
        unsigned char *p = sg_heap_calloc(h, 100, 10);
        REQUIRE(p, "sg_heap_calloc");
        for (int i = 0; i < 1000; i++) REQUIRE(p[i] == 0, "byte %d of calloc not zero", i);
        memset(p, 0xee, 1000);
        for (size_t n = 1000; n < (1u << 21); n = n * 3 / 2) {
            p = sg_heap_realloc(h, p, n * 3 / 2);
            REQUIRE(p, "sg_heap_realloc to %zu", n * 3 / 2);
            REQUIRE(p[0] == 0xee && p[999] == 0xee, "contents lost growing to %zu", n * 3 / 2);
        }
        sg_heap_free(h, p);
    }
    CHECK(sg_heap_malloc(h, SIZE_MAX) == NULL && errno == ENOMEM, "huge request");
    sg_heap_destroy(h);
}

static void test_limit(void) {
    size_t limit = (size_t)4 << 20;
    sg_heap_t *h = sg_heap_new_limited(limit);
    size_t got = 0;
    void *p;
    errno = 0;
    while ((p = sg_heap_malloc(h, 4000)) != NULL) {
        got += 4000;
        REQUIRE(got < 2 * limit, "the limited heap keeps giving: %zu bytes", got);
    }
    CHECK(errno == ENOMEM, "errno %d after the limit", errno);
    CHECK(got > limit / 2 && sg_heap_mapped(h) <= limit, "got %zu bytes, mapped %zu of %zu", got, sg_heap_mapped(h), limit);
    CHECK(sg_heap_malloc(h, 3u << 20) == NULL, "a large block past the limit");
    /* the process heap is unaffected */
    void *q = malloc(4000);
    CHECK(q != NULL, "malloc failed while a limited heap is full");
    free(q);
    sg_heap_destroy(h);
}

/* A limited heap whose blocks are all freed (sg_heap_free) can be filled again and again, with
 * blocks of other sizes: emptied pages go back and their bytes leave the heap's count. */
static void test_limit_refills(void) {
    size_t limit = (size_t)8 << 20;
    sg_heap_t *h = sg_heap_new_limited(limit);
    REQUIRE(h, "sg_heap_new_limited");
    static void *b[3000];
    for (int round = 0; round < 20; round++) {
        size_t size = 200 + (size_t)round * 100;
        for (int i = 0; i < 3000; i++) {
            b[i] = sg_heap_malloc(h, size);
            REQUIRE(b[i], "round %d: sg_heap_malloc(%zu) = NULL after %d blocks, %zu bytes mapped", round, size, i,
                    sg_heap_mapped(h));
        }
        for (int i = 0; i < 3000; i++) sg_heap_free(h, b[i]);
        CHECK(sg_heap_mapped(h) <= limit, "round %d: %zu bytes mapped", round, sg_heap_mapped(h));
    }
    sg_heap_destroy(h);
}

/* A limited heap filled with small blocks, all freed (secure builds: they wait in the heap's
 * quarantine and keep their pages), then a large block well under the limit: the quarantine
 * gives way and the emptied pages go back, as for a small block (the large path refused). */
static void test_limit_large_after_small_freed(void) {
    size_t limit = (size_t)2 << 20;
    sg_heap_t *h = sg_heap_new_limited(limit);
    REQUIRE(h, "sg_heap_new_limited");
    static void *b[4096];
    size_t n = 0;
    while (n < 4096 && (b[n] = sg_heap_malloc(h, 3000)) != NULL) n++;
    REQUIRE(n > 100, "only %zu blocks of 3000 bytes under a 2 MiB limit", n);
    for (size_t i = 0; i < n; i++) sg_heap_free(h, b[i]);
    errno = 0;
    void *big = sg_heap_malloc(h, (size_t)1 << 20);
    CHECK(big != NULL, "sg_heap_malloc(1 MiB) = NULL (errno %d) with nothing live, %zu bytes mapped", errno,
          sg_heap_mapped(h));
    CHECK(sg_heap_mapped(h) <= limit, "%zu bytes mapped", sg_heap_mapped(h));
    sg_heap_free(h, big);
    sg_heap_destroy(h);
}

static void *free_from_thread(void *arg) {
    void **blocks = arg;
    for (int i = 0; i < 1000; i++) sg_free(blocks[i]);
    return NULL;
}

static void test_blocks_freed_by_another_thread(void) {
    sg_heap_t *h = sg_heap_new();
    static void *blocks[1000];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 1000; i++) blocks[i] = sg_heap_malloc(h, 200);
        pthread_t t;
        pthread_create(&t, NULL, free_from_thread, blocks);
        pthread_join(t, NULL);
    }
    size_t mapped = sg_heap_mapped(h);
    CHECK(mapped <= (size_t)6 << 16, "blocks freed elsewhere were not reused: %zu bytes mapped", mapped);
    sg_heap_destroy(h);
}

typedef struct { size_t count, bytes, stop_after; } visit_t;
static int count_block(void *block, size_t size, void *arg) {
    visit_t *v = arg;
    (void)block;
    v->count++;
    v->bytes += size;
    return v->stop_after == 0 || v->count < v->stop_after;
}

static void test_visit(void) {
    enum { N = 2000 };
    static void *p[N];
    sg_heap_t *h = sg_heap_new();
    size_t want = 0;
    for (int i = 0; i < N; i++) {
        p[i] = sg_heap_malloc(h, (size_t)(8 + i % 300));
        want += (size_t)(8 + i % 300);
    }
    void *big = sg_heap_malloc(h, 1u << 20);
    for (int i = 0; i < N; i += 2) {
        sg_heap_free(h, p[i]);
        want -= (size_t)(8 + i % 300);
    }
    visit_t v = { 0, 0, 0 };
    sg_heap_visit(h, count_block, &v);
    CHECK(v.count == N / 2 + 1, "visited %zu blocks, want %d", v.count, N / 2 + 1);
    CHECK(v.bytes >= want + (1u << 20), "visited %zu bytes, want >= %zu", v.bytes, want + (1u << 20));
    visit_t stop = { 0, 0, 10 };
    sg_heap_visit(h, count_block, &stop);
    CHECK(stop.count == 10, "visit did not stop: %zu", stop.count);
    sg_heap_free(h, big);
    sg_heap_destroy(h);
    /* the calling thread's heap */
    void *mine = opaque_ptr(malloc(opaque_size(4000)));
    visit_t t = { 0, 0, 0 };
    sg_heap_visit(NULL, count_block, &t);
    CHECK(t.count >= 1, "the thread heap shows no block");
    free(mine);
}

/* Blocks another thread freed into full pages: the first such free of a page waits on the
 * heap's delayed list, which no page's lists show. A visit must not count them as live (fast
 * builds did: they find free slots by walking the lists). */
static void *free_ten(void *arg) {
    void **blocks = arg;
    for (int i = 0; i < 10; i++) sg_free(blocks[i * 300]);
    return NULL;
}

static void test_visit_after_frees_by_another_thread(void) {
    enum { N = 3000 };
    static void *p[N];
    sg_heap_t *h = sg_heap_new();
    for (int i = 0; i < N; i++) REQUIRE(p[i] = sg_heap_malloc(h, 60), "sg_heap_malloc");
    visit_t before = { 0, 0, 0 }, after = { 0, 0, 0 };
    sg_heap_visit(h, count_block, &before);
    CHECK(before.count == N, "visited %zu blocks, want %d", before.count, N);
    pthread_t t;
    pthread_create(&t, NULL, free_ten, p);
    pthread_join(t, NULL);
    sg_heap_visit(h, count_block, &after);
    CHECK(after.count == N - 10, "visited %zu blocks after 10 were freed, want %d", after.count, N - 10);
    sg_heap_destroy(h);
}

/* A heap's large blocks are visited once each, while another thread's large blocks come and go
 * (the registry grows and shifts entries under the walk). */
static atomic_int churn_stop;
static void *churn_large(void *arg) {
    (void)arg;
    static void *held[440];
    for (unsigned i = 0; !atomic_load(&churn_stop); i++) {
        unsigned k = (i * 2654435761u) % 440;
        free(held[k]);
        held[k] = malloc(opaque_size(70000 + (size_t)(i % 5) * 4096));
    }
    for (int k = 0; k < 440; k++) free(held[k]);
    return NULL;
}

static int count_only(void *block, size_t size, void *arg) {
    (void)block, (void)size;
    ++*(size_t *)arg;
    return 1;
}

static void test_visit_large_while_others_allocate(void) {
    enum { N = 60 };
    static void *p[N];
    sg_heap_t *h = sg_heap_new();
    for (int i = 0; i < N; i++) REQUIRE(p[i] = sg_heap_malloc(h, 100000), "sg_heap_malloc");
    atomic_store(&churn_stop, 0);
    pthread_t t;
    pthread_create(&t, NULL, churn_large, NULL);
    int wrong = 0;
    size_t last = 0;
    for (int round = 0; round < 300; round++) {
        size_t n = 0;
        sg_heap_visit(h, count_only, &n);
        if (n != N) wrong++, last = n;
    }
    atomic_store(&churn_stop, 1);
    pthread_join(t, NULL);
    CHECK(wrong == 0, "%d of 300 visits counted a wrong number of blocks (%zu, want %d)", wrong, last, N);
    sg_heap_destroy(h);
}

/* Fast builds keep no slot states: visiting walks the free lists, whose links a write after
 * free may have overwritten. A link that leads out of the page ends the walk; it is never
 * followed (it was: the visit read through a wild pointer and died). Secure builds read the
 * slot states and walk no list. */
static void test_visit_after_a_forged_link(void) {
    enum { N = 64 };
    static void *p[N];
    sg_heap_t *h = sg_heap_new();
    for (int i = 0; i < N; i++) p[i] = sg_heap_malloc(h, 48);
    for (int i = 0; i < N; i += 2) sg_heap_free(h, p[i]);
    if (!SG_ENCODE_FREELIST) {
        /* the last freed block heads the owner's list: its first word is the link */
        volatile uintptr_t *link = p[N - 2];
        /* a wild pointer far past the page, on a multiple of the slot size (a slot index
         * computed by a multiply that wraps would look in range) */
        sg_page_t *page = sg_page_of((uintptr_t)p[N - 2]);
        *link = page->start + ((uintptr_t)1 << 36) * page->block_size;
    }
    visit_t v = { 0, 0, 0 };
    sg_heap_visit(h, count_block, &v);
    CHECK(v.count >= N / 2, "visited %zu blocks, want at least the %d live ones", v.count, N / 2);
    if (!SG_ENCODE_FREELIST) {
        volatile uintptr_t *link = p[N - 2];
        *link = (uintptr_t)p[N - 2];   /* a cycle: the block links to itself (the walk never ended) */
    }
    visit_t w = { 0, 0, 0 };
    sg_heap_visit(h, count_block, &w);
    CHECK(w.count >= N / 2, "visited %zu blocks after a cycle, want at least %d", w.count, N / 2);
    sg_heap_destroy(h);
}

/* Plain realloc of a heap's block: a large one stays in its heap; a small one that must move
 * takes its new block from the calling thread's heap (plain realloc may run on any thread, and
 * only the heap's user allocates from it); sg_heap_realloc keeps both in the heap. */
static void test_realloc_of_heap_blocks(void) {
    sg_heap_t *h = sg_heap_new();
    REQUIRE(h, "sg_heap_new");
    char *p = sg_heap_malloc(h, 100), *big = sg_heap_malloc(h, 300000), *kept = sg_heap_malloc(h, 100);
    REQUIRE(p && big && kept, "sg_heap_malloc");
    memset(p, 7, 100);
    p = realloc(p, 5000);                 /* moves: another class */
    big = realloc(big, 600000);
    kept = sg_heap_realloc(h, kept, 5000);
    char *shrunk = sg_heap_malloc(h, 300000);
    REQUIRE(shrunk, "sg_heap_malloc");
    memset(shrunk, 9, 100);
    shrunk = realloc(shrunk, 100);        /* a large block that becomes a small one */
    REQUIRE(p && big && kept && shrunk, "realloc");
    CHECK(shrunk[0] == 9 && shrunk[99] == 9, "contents lost (shrunk)");
    CHECK(!sg_page_of((uintptr_t)shrunk)->first_class, "plain realloc took a large block's small successor from the heap");
    free(shrunk);
    CHECK(p[0] == 7 && p[99] == 7, "contents lost");
    CHECK(!sg_page_of((uintptr_t)p)->first_class, "plain realloc took its small block from the heap");
    CHECK(sg_large_owner_is(big, h), "the moved large block left its heap");
    sg_page_t *page = sg_page_of((uintptr_t)kept);
    CHECK(page->first_class && atomic_load(&page->heap) == h, "sg_heap_realloc's block left its heap");
    free(p);
    sg_heap_destroy(h);   /* takes big and kept */
}

/* The heap's user allocates and frees while another thread, handed some of its blocks, calls
 * plain realloc (which moves them) and free on them: allowed from any thread, so the heap's
 * lists must not be touched by the other thread. Some of the blocks are large, realloc'd down
 * to small sizes (their new block once came from the heap, on the other thread). */
enum { BOXES = 256 };
static sg_heap_t *shared_heap;
static void *_Atomic box[BOXES];
static atomic_int box_stop;

static void *realloc_handed_blocks(void *arg) {
    (void)arg;
    unsigned s = 1;
    while (!atomic_load(&box_stop))
        for (int i = 0; i < BOXES; i++) {
            void *p = atomic_exchange(&box[i], NULL);
            if (!p) continue;
            s = s * 1103515245u + 12345u;
            char *q = realloc(p, 16 + (s >> 8) % 3000);
            if (q) { memset(q, 7, 16); free(q); }
        }
    return NULL;
}

static void test_plain_realloc_from_another_thread(void) {
    shared_heap = sg_heap_new();
    REQUIRE(shared_heap, "sg_heap_new");
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, realloc_handed_blocks, NULL) == 0, "pthread_create");
    for (long r = 0; r < 400000; r++) {
        size_t n = r % 32 == 0 ? 200000 : 16 + (size_t)(r * 7919) % 3000;
        void *p = sg_heap_malloc(shared_heap, n);
        REQUIRE(p, "sg_heap_malloc");
        memset(p, 3, n < 4096 ? n : 4096);
        if (r & 1) { sg_heap_free(shared_heap, p); continue; }
        void *o = atomic_exchange(&box[r % BOXES], p);
        if (o) free(o);
    }
    atomic_store(&box_stop, 1);
    pthread_join(t, NULL);
    for (int i = 0; i < BOXES; i++) free(atomic_exchange(&box[i], NULL));
    sg_heap_destroy(shared_heap);
}

/* A heap with hundreds of large blocks among the program's own: a visit sees each of the heap's
 * once, in address order, and destroy takes all of them and none of the others, which stay
 * intact (both work in batches, a pass over the registry each). */
typedef struct { size_t count, out_of_order; uintptr_t last; } ordered_t;
static int count_ordered(void *block, size_t size, void *arg) {
    ordered_t *o = arg;
    (void)size;
    o->out_of_order += (uintptr_t)block <= o->last;
    o->last = (uintptr_t)block;
    o->count++;
    return 1;
}

static void test_destroy_many_large_blocks(void) {
    enum { OWNED = 720, EVERY = 12 };
    static char *plain[OWNED / EVERY];
    sg_stats_t s0, s1;
    sg_stats_get(&s0);
    sg_heap_t *h = sg_heap_new();
    REQUIRE(h, "sg_heap_new");
    for (int i = 0; i < OWNED; i++) {
        char *p = sg_heap_malloc(h, 140000 + (size_t)i * 512);
        REQUIRE(p, "sg_heap_malloc %d", i);
        p[0] = 1;
        if (i % EVERY == 0) {
            char *q = plain[i / EVERY] = malloc(150000);
            REQUIRE(q, "malloc");
            memset(q, i / EVERY + 1, 150000);
        }
    }
    ordered_t o = { 0, 0, 0 };
    sg_heap_visit(h, count_ordered, &o);
    CHECK(o.count == OWNED && o.out_of_order == 0, "visited %zu large blocks (want %d), %zu out of address order",
          o.count, OWNED, o.out_of_order);
    sg_heap_destroy(h);
    sg_stats_get(&s1);
    CHECK(s1.large_count == s0.large_count + OWNED / EVERY, "large blocks after destroy: %zu, want %zu",
          s1.large_count, s0.large_count + OWNED / EVERY);
    for (int i = 0; i < OWNED / EVERY; i++) {
        CHECK(plain[i][0] == i + 1 && plain[i][149999] == i + 1, "block %d of the program changed", i);
        free(plain[i]);
    }
}

/* A destroyed heap's large blocks give their memory back at once, as freed ones do (they were
 * only made inaccessible: 32 blocks of 16 MiB kept 514 MiB resident). */
static void test_destroy_gives_large_memory_back(void) {
    enum { N = 32, SIZE = 16 << 20 };
    long before = (long)(resident_bytes() >> 10);
    sg_heap_t *h = sg_heap_new();
    REQUIRE(h, "sg_heap_new");
    for (int i = 0; i < N; i++) {
        char *p = sg_heap_malloc(h, SIZE);
        REQUIRE(p, "sg_heap_malloc %d", i);
        memset(p, 1, SIZE);
    }
    long full = (long)(resident_bytes() >> 10);
    sg_heap_destroy(h);
    long after = (long)(resident_bytes() >> 10);
    printf("# RSS %ld KiB, %ld with the heap full, %ld after destroy\n", before, full, after);
    CHECK(after - before < 64 * 1024, "RSS %ld KiB after destroy, %ld before the heap", after, before);
}

/* A destroyed heap's pages are purged at destroy; when their spans leave the cooling queue
 * they are free and clean: the arena's count of unpurged memory does not grow (it grew by every
 * span that left, each purged a second time later). */
static void test_destroyed_spans_come_back_clean(void) {
    enum { ROUNDS = 8, BLOCKS = 1024, SIZE = 1000 };
    sg_malloc_trim(0);
    size_t before = sg_arena_dirty();
    for (int r = 0; r < ROUNDS; r++) {   /* 8 x 1 MiB of pages: past the 4 MiB that cool */
        sg_heap_t *h = sg_heap_new();
        REQUIRE(h, "sg_heap_new");
        for (int i = 0; i < BLOCKS; i++) {
            char *p = sg_heap_malloc(h, SIZE);
            REQUIRE(p, "sg_heap_malloc");
            memset(p, 1, SIZE);
        }
        sg_heap_destroy(h);
    }
    size_t after = sg_arena_dirty();
    printf("# unpurged free memory: %zu KiB before, %zu KiB after\n", before >> 10, after >> 10);
    CHECK(after <= before, "unpurged free memory grew from %zu to %zu bytes", before, after);
}

/* A limited heap whose small blocks another thread freed (plain free, delivered to the heap
 * because their pages were full) makes room for a large block that needs the whole limit: it
 * took those frees in only at its next small allocation, and refused. */
static void *free_all(void *arg) {
    void **b = arg;
    for (int i = 0; i < 65; i++) sg_free(b[i]);
    return NULL;
}

static void test_limit_counts_other_threads_frees(void) {
    size_t limit = (size_t)256 << 10, guards = SG_GUARD_PAGES ? 2 * 4096 : 0;
    sg_heap_t *h = sg_heap_new_limited(limit);
    REQUIRE(h, "sg_heap_new_limited");
    static void *b[65];
    for (int i = 0; i < 65; i++) REQUIRE((b[i] = sg_heap_malloc(h, 1000)), "sg_heap_malloc %d", i);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, free_all, b) == 0, "pthread_create");
    pthread_join(t, NULL);
    void *p = sg_heap_malloc(h, limit - guards);
    CHECK(p != NULL, "a block of the whole limit after every block was freed: errno %d, mapped %zu", errno,
          sg_heap_mapped(h));
    sg_heap_destroy(h);
}

/* A large block that needs exactly the limit fits (fast builds counted two guard pages they do
 * not map, and refused it). */
static void test_limit_exact_large_block(void) {
    size_t limit = (size_t)1 << 20, guards = SG_GUARD_PAGES ? 2 * 4096 : 0;
    sg_heap_t *h = sg_heap_new_limited(limit);
    REQUIRE(h, "sg_heap_new_limited");
    void *p = sg_heap_malloc(h, limit - guards);
    CHECK(p != NULL, "sg_heap_malloc(%zu) under a limit of %zu: errno %d", limit - guards, limit, errno);
    CHECK(sg_heap_mapped(h) <= limit, "mapped %zu of %zu", sg_heap_mapped(h), limit);
    sg_heap_destroy(h);
}

/* The heap's user fills it with large blocks up to its limit, again and again, while another
 * thread plain-reallocs (allowed from any thread) four large blocks of the heap: the heap never
 * maps past its limit (both threads checked it, then mapped: 9.3 MB of 8 MiB seen). */
enum { RACE_LIMIT = 8 << 20, RACE_SHARED = 4 };
static sg_heap_t *race_heap;
static void *_Atomic race_handed[RACE_SHARED];
static atomic_int race_stop;
static atomic_size_t race_most;

static void race_note(void) {
    size_t m = sg_heap_mapped(race_heap), w = atomic_load(&race_most);
    while (m > w && !atomic_compare_exchange_weak(&race_most, &w, m)) {}
}

static void *realloc_loop(void *arg) {
    (void)arg;
    uint64_t r = 99;
    while (!atomic_load(&race_stop)) {
        for (int i = 0; i < RACE_SHARED; i++) {
            void *p = atomic_exchange(&race_handed[i], NULL);
            if (!p) continue;
            void *q = realloc(p, 600000 + (size_t)(rng_next(&r) % 600000));   /* large: stays in the heap */
            race_note();
            atomic_store(&race_handed[i], q ? q : p);
        }
    }
    return NULL;
}

static void test_limit_holds_under_plain_realloc(void) {
    race_heap = sg_heap_new_limited(RACE_LIMIT);
    REQUIRE(race_heap, "sg_heap_new_limited");
    for (int i = 0; i < RACE_SHARED; i++) REQUIRE((race_handed[i] = sg_heap_malloc(race_heap, 700000)), "malloc");
    atomic_store(&race_stop, 0);
    atomic_store(&race_most, 0);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, realloc_loop, NULL) == 0, "pthread_create");
    static void *mine[16];
    for (int round = 0; round < 800; round++) {
        int n = 0;
        while (n < 16 && (mine[n] = sg_heap_malloc(race_heap, 500000))) {
            n++;
            race_note();
        }
        for (int i = 0; i < n; i++) sg_heap_free(race_heap, mine[i]);
    }
    atomic_store(&race_stop, 1);
    pthread_join(t, NULL);
    size_t most = atomic_load(&race_most);
    printf("# most mapped seen: %zu of %d\n", most, RACE_LIMIT);
    CHECK(most <= RACE_LIMIT, "the heap mapped %zu bytes, past its limit of %d", most, RACE_LIMIT);
    for (int i = 0; i < RACE_SHARED; i++) free(race_handed[i]);
    sg_heap_destroy(race_heap);
}

/* A write to the page after the 500000 bytes at shrunk_to (in a child): its exit status. */
static unsigned char *shrunk_to;
static int write_past_shrunk(void) {
    volatile unsigned char *after = (unsigned char *)(((uintptr_t)shrunk_to + 500000 + 4095) & ~(uintptr_t)4095);
    *after = 1;
    return 0;
}

/* A limited heap's only large block shrinks with realloc while the heap has no room for a
 * second block beside it: it shrinks in place (it failed with ENOMEM), contents kept, its free
 * still checks the bytes past its new end, and (secure builds) the pages past it fault. */
static void test_shrink_at_the_limit(void) {
    size_t limit = (size_t)1 << 20;
    sg_heap_t *h = sg_heap_new_limited(limit);
    REQUIRE(h, "sg_heap_new_limited");
    unsigned char *p = sg_heap_malloc(h, 1000000);
    REQUIRE(p, "sg_heap_malloc(1000000)");
    for (size_t i = 0; i < 1000000; i++) p[i] = (unsigned char)(i * 7);
    errno = 1234;
    unsigned char *q = sg_heap_realloc(h, p, 600000);
    CHECK(q != NULL && errno == 1234, "sg_heap_realloc to 600000 at the limit: %p, errno %d", (void *)q, errno);
    if (q) p = q;
    q = realloc(p, 500000);   /* plain realloc, from the heap's user: a large block stays in the heap */
    CHECK(q != NULL, "realloc to 500000 at the limit: errno %d", errno);
    if (q) p = q;
    if (SG_GUARD_PAGES && q) {
        char err[256];
        shrunk_to = p;
        int st = check_in_child(write_past_shrunk, err, sizeof err);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a write to the page past the shrunk block: status %#x", st);
    }
    q = sg_heap_realloc(h, p, 100);   /* a small block would need a page the limit has no room for */
    CHECK(q != NULL, "sg_heap_realloc to 100 at the limit: errno %d", errno);
    if (q) p = q;
    bool same = true;
    for (size_t i = 0; i < 100; i++) same &= p[i] == (unsigned char)(i * 7);
    CHECK(same, "contents lost in the shrink");
    CHECK(sg_malloc_usable_size(p) >= 100, "usable size %zu", sg_malloc_usable_size(p));
    sg_heap_free(h, p);
    sg_heap_destroy(h);
}

int main(void) {
    RUN(test_visit);
    RUN(test_visit_after_a_forged_link);
    RUN(test_visit_after_frees_by_another_thread);
    RUN(test_visit_large_while_others_allocate);
    RUN(test_realloc_of_heap_blocks);
    RUN(test_plain_realloc_from_another_thread);
    RUN(test_destroy_frees_everything);
    RUN(test_destroy_many_large_blocks);
    RUN(test_destroy_gives_large_memory_back);
    RUN(test_destroyed_spans_come_back_clean);
    RUN(test_calloc_and_realloc);
    RUN(test_limit);
    RUN(test_limit_refills);
    RUN(test_limit_large_after_small_freed);
    RUN(test_limit_counts_other_threads_frees);
    RUN(test_limit_exact_large_block);
    RUN(test_limit_holds_under_plain_realloc);
    RUN(test_shrink_at_the_limit);
    RUN(test_blocks_freed_by_another_thread);
    return check_exit();
}
