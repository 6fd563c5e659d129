/* tests/stress/exchange.c: 8 threads swap blocks through a shared array of atomic slots. Each
 * thread puts a fresh block into a random slot and frees (or reallocs, then frees) whatever it
 * took out, usually a block another thread allocated. Each block starts with its id and size and
 * carries a pattern derived from its id: a block handed out twice, overlapping another, or lost
 * shows up as a damaged pattern or as unequal totals at the end.
 * Case "exchange": all sizes, mostly small. Case "exchange_large": only directly mapped sizes
 * (64 KiB to 464 KiB), 4 threads and few slots, so large blocks change threads all the time. */
#include <pthread.h>
#include <stdatomic.h>

#include "../check.h"

#define MAX_THREADS 8
#define SLOTS 4096
#define EDGE 512 /* pattern bytes checked at each end of a big block */

typedef struct header_s {
    uint64_t id;
    uint32_t size;
    uint32_t align; /* 0: malloc, else the alignment asked of aligned_alloc */
} header_t;

/* The shape of the running case. */
static struct {
    int threads;
    size_t slots; /* <= SLOTS */
    int ops;      /* per thread */
    int large;    /* only large blocks */
} mode;

static _Atomic(uintptr_t) slots[SLOTS];
static atomic_ullong next_id = 1;
static atomic_ullong made_count, made_idsum, freed_count, freed_idsum;
static atomic_ullong damaged, alloc_failures;
static char first_damage[256];
static atomic_int first_damage_taken;

static void report_damage(const char *what, uint64_t id, uint64_t size, size_t at)
{
    atomic_fetch_add(&damaged, 1);
    if (atomic_exchange(&first_damage_taken, 1) == 0)
        snprintf(first_damage, sizeof first_damage, "%s: block id %llu size %llu, byte %zu", what,
                 (unsigned long long)id, (unsigned long long)size, at);
}

static void fill_body(unsigned char *p, size_t from, size_t n, uint64_t id)
{
    /* Body byte i (from sizeof(header_t)) follows the pattern of the id. */
    if (n <= 2 * EDGE + sizeof(header_t)) {
        for (size_t i = from; i < n; i++)
            p[i] = pattern_byte(id, i);
        return;
    }
    for (size_t i = from; i < EDGE + sizeof(header_t); i++)
        p[i] = pattern_byte(id, i);
    for (size_t i = n - EDGE; i < n; i++)
        p[i] = pattern_byte(id, i);
}

static size_t check_body(const unsigned char *p, size_t n, uint64_t id)
{
    size_t lim = n <= 2 * EDGE + sizeof(header_t) ? n : EDGE + sizeof(header_t);
    for (size_t i = sizeof(header_t); i < lim; i++)
        if (p[i] != pattern_byte(id, i))
            return i;
    if (lim != n)
        for (size_t i = n - EDGE; i < n; i++)
            if (p[i] != pattern_byte(id, i))
                return i;
    return SIZE_MAX;
}

static unsigned char *make_block(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    size_t n = mode.large        ? 65536 + (r >> 16) % 409600
               : (r & 255) == 0 ? 4096 + (r >> 16) % 300000
               : (r & 7) == 0   ? sizeof(header_t) + (r >> 16) % 16384
                                : sizeof(header_t) + (r >> 16) % 1024;
    /* one block in 16 is aligned (small and medium sizes), and freed like any other */
    size_t align = (r >> 12) % 16 == 0 && n <= 16384 ? (size_t)32 << ((r >> 8) % 8) : 0;
    unsigned char *p = align ? aligned_alloc(align, n) : malloc(n);
    if (p == NULL) {
        atomic_fetch_add(&alloc_failures, 1);
        return NULL;
    }
    if (align && ((uintptr_t)p & (align - 1)) != 0)
        report_damage("misaligned", 0, n, align);
    header_t h = {atomic_fetch_add(&next_id, 1), (uint32_t)n, (uint32_t)align};
    memcpy(p, &h, sizeof h);
    fill_body(p, sizeof h, n, h.id);
    atomic_fetch_add(&made_count, 1);
    atomic_fetch_add(&made_idsum, h.id);
    return p;
}

/* Check a block taken out of a slot, then free it (sometimes after a realloc). */
static void retire_block(unsigned char *p, uint64_t *rng)
{
    header_t h;
    memcpy(&h, p, sizeof h);
    if (h.id == 0 || h.id >= atomic_load(&next_id) || h.size < sizeof h || h.size > (1u << 20) ||
        (h.align != 0 && ((uintptr_t)p & (h.align - 1)) != 0)) {
        report_damage("header", h.id, h.size, 0);
        return; /* freeing a block whose size we cannot trust helps no one */
    }
    size_t at = check_body(p, h.size, h.id);
    if (at != SIZE_MAX)
        report_damage("body", h.id, h.size, at);
    uint64_t r = rng_next(rng);
    if ((r & 7) == 0) {
        /* realloc a block that another thread allocated: the prefix must survive */
        size_t n = mode.large ? 65536 + (r >> 16) % 409600 : sizeof h + (r >> 16) % 4096;
        unsigned char *q = realloc(p, n);
        if (q == NULL) {
            atomic_fetch_add(&alloc_failures, 1);
        } else {
            p = q;
            /* the head of the old block was filled in full: check what of it was kept */
            size_t keep = n < h.size ? n : h.size;
            if (keep > EDGE + sizeof h)
                keep = EDGE + sizeof h;
            header_t h2;
            memcpy(&h2, p, sizeof h2);
            if (h2.id != h.id)
                report_damage("header after realloc", h.id, h.size, 0);
            else if ((at = check_body(p, keep, h.id)) != SIZE_MAX)
                report_damage("body after realloc", h.id, keep, at);
        }
    }
    atomic_fetch_add(&freed_count, 1);
    atomic_fetch_add(&freed_idsum, h.id);
    free(p);
}

static void *worker(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15u + 1;
    for (int op = 0; op < mode.ops; op++) {
        uint64_t r = rng_next(&rng);
        size_t s = r % mode.slots;
        unsigned char *fresh = (r >> 40) % 4 == 0 ? NULL : make_block(&rng); /* some empty */
        uintptr_t old = atomic_exchange(&slots[s], (uintptr_t)fresh);
        if (old != 0)
            retire_block((unsigned char *)old, &rng);
    }
    return NULL;
}

static void run_exchange(int threads, size_t nslots, int ops, int large)
{
    mode.threads = threads, mode.slots = nslots, mode.ops = ops, mode.large = large;
    atomic_store(&made_count, 0), atomic_store(&made_idsum, 0);
    atomic_store(&freed_count, 0), atomic_store(&freed_idsum, 0);
    atomic_store(&damaged, 0), atomic_store(&alloc_failures, 0);
    atomic_store(&first_damage_taken, 0);
    pthread_t th[MAX_THREADS];
    for (uintptr_t i = 0; i < (uintptr_t)threads; i++)
        REQUIRE(pthread_create(&th[i], NULL, worker, (void *)(i + 1)) == 0, "pthread_create");
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    uint64_t rng = 7;
    for (size_t s = 0; s < nslots; s++) {
        uintptr_t old = atomic_exchange(&slots[s], 0);
        if (old != 0)
            retire_block((unsigned char *)old, &rng);
    }
    CHECK(atomic_load(&alloc_failures) == 0, "%llu allocations failed",
          (unsigned long long)atomic_load(&alloc_failures));
    CHECK(atomic_load(&damaged) == 0, "%llu damaged blocks; first: %s",
          (unsigned long long)atomic_load(&damaged), first_damage);
    CHECK(atomic_load(&made_count) == atomic_load(&freed_count) &&
              atomic_load(&made_idsum) == atomic_load(&freed_idsum),
          "made %llu blocks, freed %llu: blocks lost or duplicated",
          (unsigned long long)atomic_load(&made_count),
          (unsigned long long)atomic_load(&freed_count));
    CHECK(atomic_load(&made_count) > (unsigned long long)threads * (unsigned long long)ops / 2,
          "only %llu blocks made", (unsigned long long)atomic_load(&made_count));
}

/* A quarter of the operations under the sanitizers (SG_STRESS_SHORT): TSan made the full run
 * take a minute. */
static int ops(int n) { return getenv("SG_STRESS_SHORT") ? n / 4 : n; }
static void test_exchange(void) { run_exchange(8, SLOTS, ops(300000), 0); }
/* 5000 ops a thread: on a paravirtualised VM, where each system call that changes a mapping
 * traps, 15000 took 45 s in the secure build */
static void test_exchange_large(void) { run_exchange(4, 64, ops(5000), 1); }

int main(void)
{
    RUN(test_exchange);
    RUN(test_exchange_large);
    return check_exit();
}
