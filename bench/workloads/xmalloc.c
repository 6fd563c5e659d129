/* xmalloc: producer/consumer. In each pair one thread allocates blocks (16..512 bytes) and
 * passes them through a single-producer single-consumer ring; the other verifies and frees
 * them. Every free is a free of a block another thread allocated.
 * Usage: xmalloc [pairs=1] [blocks_per_pair=4000000] */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bench.h"

enum { RING = 4096, PUBLISH = 32, MIN_SIZE = 16, MAX_SIZE = 512 };

typedef struct {
    _Alignas(64) _Atomic size_t head; // written by the producer
    _Alignas(64) _Atomic size_t tail; // written by the consumer
    _Alignas(64) unsigned char *item[RING];
    unsigned index;
    uint64_t count;
    uint64_t produced, consumed; // bytes
} pair_t;

static void *producer(void *arg)
{
    pair_t *q = arg;
    bench_rng_t r = bench_rng(2000 + q->index);
    size_t head = 0, tail_seen = 0;
    for (uint64_t i = 0; i < q->count; i++) {
        size_t size = bench_range(&r, MIN_SIZE, MAX_SIZE);
        unsigned char *p = bench_nonnull(malloc(size), size);
        uint64_t tag = (bench_next(&r) << 16) | size;
        bench_fill(p, size, tag);
        q->produced += size;
        while (head - tail_seen >= RING) {
            atomic_store_explicit(&q->head, head, memory_order_release);
            tail_seen = atomic_load_explicit(&q->tail, memory_order_acquire);
            if (head - tail_seen >= RING)
                sched_yield();
        }
        q->item[head % RING] = p;
        head++;
        if (head % PUBLISH == 0)
            atomic_store_explicit(&q->head, head, memory_order_release);
    }
    atomic_store_explicit(&q->head, head, memory_order_release);
    return NULL;
}

static void *consumer(void *arg)
{
    pair_t *q = arg;
    size_t tail = 0, head_seen = 0;
    while (tail < q->count) {
        while (tail == head_seen) {
            head_seen = atomic_load_explicit(&q->head, memory_order_acquire);
            if (tail == head_seen) {
                atomic_store_explicit(&q->tail, tail, memory_order_release);
                sched_yield();
            }
        }
        unsigned char *p = q->item[tail % RING];
        uint64_t tag;
        memcpy(&tag, p, sizeof tag);
        size_t size = (size_t)(tag & 0xffff);
        if (size < MIN_SIZE || size > MAX_SIZE)
            bench_fail("xmalloc: block %p has a corrupted header", (void *)p);
        bench_verify(p, size, tag, "xmalloc");
        q->consumed += size;
        free(p);
        tail++;
        if (tail % PUBLISH == 0)
            atomic_store_explicit(&q->tail, tail, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned npairs = (unsigned)bench_arg(argc, argv, 1, 1);
    uint64_t count = bench_arg(argc, argv, 2, 4000000);
    if (npairs < 1 || npairs > 64)
        bench_fail("xmalloc: bad arguments");

    pair_t *pairs = bench_nonnull(aligned_alloc(64, npairs * sizeof *pairs), npairs * sizeof *pairs);
    memset(pairs, 0, npairs * sizeof *pairs);
    pthread_t *tids = bench_nonnull(calloc(2 * npairs, sizeof *tids), sizeof *tids);
    for (unsigned i = 0; i < npairs; i++) {
        pairs[i].index = i;
        pairs[i].count = count;
        if (pthread_create(&tids[2 * i], NULL, producer, &pairs[i]) != 0 ||
            pthread_create(&tids[2 * i + 1], NULL, consumer, &pairs[i]) != 0)
            bench_fail("xmalloc: pthread_create failed");
    }
    uint64_t produced = 0, consumed = 0;
    for (unsigned i = 0; i < 2 * npairs; i++)
        pthread_join(tids[i], NULL);
    for (unsigned i = 0; i < npairs; i++) {
        produced += pairs[i].produced;
        consumed += pairs[i].consumed;
    }
    if (produced != consumed)
        bench_fail("xmalloc: %llu bytes produced but %llu consumed", (unsigned long long)produced,
                   (unsigned long long)consumed);
    bench_check(produced);
    free(tids);
    free(pairs);
    return 0;
}
