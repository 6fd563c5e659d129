/* tests/stress/prodcons.c: one thread allocates, another frees (every free is a cross-thread
 * free), through a lock-free single-producer single-consumer ring. Each block carries its
 * sequence number and a pattern derived from it; the consumer checks both before freeing. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "../check.h"

#define RING 1024 /* power of two */

typedef struct item_s {
    unsigned char *p;
    size_t size;
} item_t;

typedef struct ring_s {
    item_t slot[RING];
    _Alignas(64) atomic_size_t head; /* next to pop, written by the consumer */
    _Alignas(64) atomic_size_t tail; /* next to push, written by the producer */
} ring_t;

typedef struct pair_s {
    ring_t ring;
    size_t count;    /* blocks to pass */
    uint64_t seed;
    size_t bad;      /* consumer: blocks found damaged */
    size_t got;      /* consumer: blocks received */
    size_t first_bad_seq, first_bad_at, first_bad_size;
    int alloc_failed;
} pair_t;

/* Bytes a block's pattern covers: all of a small block, head and tail of a big one. */
#define EDGE 256

static void mark(unsigned char *p, size_t n, uint64_t seq)
{
    if (n <= 2 * EDGE) {
        pattern_fill(p, n, seq);
        return;
    }
    pattern_fill(p, EDGE, seq);
    pattern_fill(p + n - EDGE, EDGE, seq ^ 0xabcdef);
}

static size_t verify(const unsigned char *p, size_t n, uint64_t seq)
{
    if (n <= 2 * EDGE)
        return pattern_check(p, n, seq);
    size_t at = pattern_check(p, EDGE, seq);
    if (at != SIZE_MAX)
        return at;
    at = pattern_check(p + n - EDGE, EDGE, seq ^ 0xabcdef);
    return at == SIZE_MAX ? at : n - EDGE + at;
}

static size_t pick_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    if ((r & 1023) == 0)
        return 65536 + (r >> 20) % (1u << 20); /* large */
    if ((r & 63) == 0)
        return 1024 + (r >> 20) % 65536;       /* medium */
    return 1 + (r >> 20) % 1024;               /* small */
}

static void *producer(void *arg)
{
    pair_t *pr = arg;
    uint64_t rng = pr->seed;
    for (size_t seq = 0; seq < pr->count; seq++) {
        size_t n = pick_size(&rng);
        unsigned char *p = malloc(n);
        if (p == NULL) {
            pr->alloc_failed = 1;
            n = 0;
        } else {
            mark(p, n, seq + pr->seed);
        }
        size_t t = atomic_load_explicit(&pr->ring.tail, memory_order_relaxed);
        while (t - atomic_load_explicit(&pr->ring.head, memory_order_acquire) >= RING)
            sched_yield();
        pr->ring.slot[t & (RING - 1)] = (item_t){p, n};
        atomic_store_explicit(&pr->ring.tail, t + 1, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    pair_t *pr = arg;
    for (size_t seq = 0; seq < pr->count; seq++) {
        size_t h = atomic_load_explicit(&pr->ring.head, memory_order_relaxed);
        while (atomic_load_explicit(&pr->ring.tail, memory_order_acquire) == h)
            sched_yield();
        item_t it = pr->ring.slot[h & (RING - 1)];
        atomic_store_explicit(&pr->ring.head, h + 1, memory_order_release);
        if (it.p == NULL)
            continue;
        pr->got++;
        size_t at = verify(it.p, it.size, seq + pr->seed);
        if (at != SIZE_MAX && pr->bad++ == 0)
            pr->first_bad_seq = seq, pr->first_bad_at = at, pr->first_bad_size = it.size;
        free(it.p);
    }
    return NULL;
}

static void run_pairs(int npairs, size_t count)
{
    /* ring_t wants 64-byte alignment, more than malloc promises */
    size_t bytes = ((size_t)npairs * sizeof(pair_t) + 63) & ~(size_t)63;
    pair_t *pairs = aligned_alloc(64, bytes);
    pthread_t th[8];
    REQUIRE(pairs != NULL && npairs <= 4, "setup");
    memset(pairs, 0, bytes);
    for (int i = 0; i < npairs; i++) {
        pairs[i].count = count;
        pairs[i].seed = 0x1000003 * (uint64_t)(i + 1);
        REQUIRE(pthread_create(&th[2 * i], NULL, producer, &pairs[i]) == 0, "pthread_create");
        REQUIRE(pthread_create(&th[2 * i + 1], NULL, consumer, &pairs[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < 2 * npairs; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < npairs; i++) {
        pair_t *pr = &pairs[i];
        CHECK(!pr->alloc_failed, "pair %d: malloc returned NULL", i);
        CHECK(pr->got == count, "pair %d: %zu of %zu blocks arrived", i, pr->got, count);
        CHECK(pr->bad == 0,
              "pair %d: %zu damaged blocks; first: #%zu of size %zu wrong at byte %zu", i, pr->bad,
              pr->first_bad_seq, pr->first_bad_size, pr->first_bad_at);
    }
    free(pairs);
}

static void test_one_pair(void) { run_pairs(1, 1000000); }
static void test_two_pairs(void) { run_pairs(2, 500000); }

int main(void)
{
    RUN(test_one_pair);
    RUN(test_two_pairs);
    return check_exit();
}
