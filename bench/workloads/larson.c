/* larson: server-style churn. Threads replace random blocks (16..1024 bytes) in one shared
 * array, so most blocks are freed by a thread that did not allocate them (cross-thread frees).
 * Every block carries a tag that is checked when it is replaced; the sum of the sizes freed
 * must equal the sum allocated.
 * Usage: larson [threads=2] [replacements_per_thread=2000000] [slots=20000] */
#include <pthread.h>
#include <stdatomic.h>

#include "bench.h"

enum { MIN_SIZE = 16, MAX_SIZE = 1024 };

static _Atomic(unsigned char *) *slots;
static size_t nslots;
static uint64_t per_thread;

typedef struct {
    unsigned index;
    uint64_t allocated; // bytes this thread allocated
    uint64_t freed;     // bytes this thread verified and freed
} worker_t;

// Header: the tag (8 bytes) encodes the block's size, so any thread can verify it.
static unsigned char *make_block(bench_rng_t *r, uint64_t *allocated)
{
    size_t size = bench_range(r, MIN_SIZE, MAX_SIZE);
    unsigned char *p = bench_nonnull(malloc(size), size);
    uint64_t tag = (bench_next(r) << 16) | size;
    bench_fill(p, size, tag);
    *allocated += size;
    return p;
}

static uint64_t retire_block(unsigned char *p)
{
    uint64_t tag;
    memcpy(&tag, p, sizeof tag);
    size_t size = (size_t)(tag & 0xffff);
    if (size < MIN_SIZE || size > MAX_SIZE)
        bench_fail("larson: block %p has a corrupted header", (void *)p);
    bench_verify(p, size, tag, "larson");
    free(p);
    return size;
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    bench_rng_t r = bench_rng(1000 + w->index);
    for (uint64_t i = 0; i < per_thread; i++) {
        unsigned char *fresh = make_block(&r, &w->allocated);
        size_t at = (size_t)(bench_next(&r) % nslots);
        unsigned char *old = atomic_exchange_explicit(&slots[at], fresh, memory_order_acq_rel);
        if (old != NULL)
            w->freed += retire_block(old);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned nthreads = (unsigned)bench_arg(argc, argv, 1, 2);
    per_thread = bench_arg(argc, argv, 2, 2000000);
    nslots = (size_t)bench_arg(argc, argv, 3, 20000);
    if (nthreads < 1 || nthreads > 256 || nslots < 1)
        bench_fail("larson: bad arguments");

    slots = bench_nonnull(calloc(nslots, sizeof *slots), nslots * sizeof *slots);
    worker_t *workers = bench_nonnull(calloc(nthreads + 1, sizeof *workers), sizeof *workers);
    pthread_t *tids = bench_nonnull(calloc(nthreads, sizeof *tids), sizeof *tids);

    // The main thread fills the array first: every worker starts by freeing foreign blocks.
    bench_rng_t r = bench_rng(999);
    for (size_t i = 0; i < nslots; i++)
        atomic_store(&slots[i], make_block(&r, &workers[nthreads].allocated));

    for (unsigned t = 0; t < nthreads; t++) {
        workers[t].index = t;
        if (pthread_create(&tids[t], NULL, worker, &workers[t]) != 0)
            bench_fail("larson: pthread_create failed");
    }
    for (unsigned t = 0; t < nthreads; t++)
        pthread_join(tids[t], NULL);

    uint64_t allocated = 0, freed = 0;
    for (size_t i = 0; i < nslots; i++)
        freed += retire_block(atomic_load(&slots[i]));
    for (unsigned t = 0; t <= nthreads; t++) {
        allocated += workers[t].allocated;
        freed += workers[t].freed;
    }
    if (allocated != freed)
        bench_fail("larson: %llu bytes allocated but %llu freed", (unsigned long long)allocated,
                   (unsigned long long)freed);
    bench_check(allocated);
    free(tids);
    free(workers);
    free(slots);
    return 0;
}
