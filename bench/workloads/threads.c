/* threads: throughput scaling. The same small-object churn (replace a random block of
 * 16..256 bytes in a thread-private pool of 1000) runs with 1, 2, 4 and 8 threads, the total
 * work split between them; each phase is timed. Reports the 1-thread throughput and the
 * speedup of 2, 4 and 8 threads over 1 (ideal here: the number of cores, at most).
 * Usage: threads [operations_per_phase=8000000] [size=0]
 * size: every block that size instead of random ones (0: random). Not used by bench/run.sh; it
 * shows what the random sizes themselves cost an allocator (bench/README.md). */
#include <pthread.h>

#include "bench.h"

enum { POOL = 1000, MIN_SIZE = 16, MAX_SIZE = 256, MAX_THREADS = 8 };

static size_t one_size;   // 0: random sizes

typedef struct {
    unsigned index;
    uint64_t ops;
    uint64_t sum;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    bench_rng_t r = bench_rng(6000 + w->index);
    unsigned char **pool = bench_nonnull(calloc(POOL, sizeof *pool), POOL * sizeof *pool);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        unsigned char **slot = &pool[bench_next(&r) % POOL];
        if (*slot != NULL) {
            uint64_t tag;
            memcpy(&tag, *slot, sizeof tag);
            bench_verify(*slot, (size_t)(tag & 0xffff), tag, "threads");
            sum += tag & 0xffff;
            free(*slot);
        }
        size_t size = one_size ? one_size : bench_range(&r, MIN_SIZE, MAX_SIZE);
        *slot = bench_nonnull(malloc(size), size);
        bench_fill(*slot, size, (bench_next(&r) << 16) | size);
    }
    for (unsigned i = 0; i < POOL; i++)
        free(pool[i]);
    free(pool);
    w->sum = sum;
    return NULL;
}

// One phase: `total` operations split between n threads; returns the wall time in ns.
static uint64_t phase(unsigned n, uint64_t total, uint64_t *check)
{
    worker_t w[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    uint64_t start = bench_now_ns();
    for (unsigned t = 0; t < n; t++) {
        w[t] = (worker_t){ .index = t, .ops = total / n };
        if (pthread_create(&tid[t], NULL, worker, &w[t]) != 0)
            bench_fail("threads: pthread_create failed");
    }
    for (unsigned t = 0; t < n; t++) {
        pthread_join(tid[t], NULL);
        *check = *check * 31 + w[t].sum;
    }
    return bench_now_ns() - start;
}

int main(int argc, char **argv)
{
    uint64_t total = bench_arg(argc, argv, 1, 8000000);
    one_size = (size_t)bench_arg(argc, argv, 2, 0);
    if (one_size != 0 && (one_size < MIN_SIZE || one_size > 0xffff))
        bench_fail("threads: size must be 0 or %d..65535", MIN_SIZE);
    uint64_t check = 0;
    uint64_t t1 = phase(1, total, &check);
    uint64_t t2 = phase(2, total, &check);
    uint64_t t4 = phase(4, total, &check);
    uint64_t t8 = phase(8, total, &check);
    bench_metric("mops_1t", (double)total / ((double)t1 / 1e3), "Mop/s", "higher");
    bench_metric("speedup_2t", (double)t1 / (double)t2, "x", "higher");
    bench_metric("speedup_4t", (double)t1 / (double)t4, "x", "higher");
    bench_metric("speedup_8t", (double)t1 / (double)t8, "x", "higher");
    bench_check(check);
    return 0;
}
