/* cache-scratch: passive false sharing (after Hoard's cache-scratch). The main thread
 * allocates one small object per worker, back to back, and hands them out; each worker frees
 * the object it was given, then repeatedly allocates an object of the same size, writes it
 * many times and frees it. An allocator that gives a worker memory on a cache line that
 * another worker writes makes the cores fight over that line.
 * Usage: cache-scratch [threads=2] [iterations=2000] [writes=20000] [object_size=8] */
#include <pthread.h>

#include "bench.h"

typedef struct {
    unsigned char *given; // allocated by the main thread
    uint64_t iterations, writes;
    size_t size;
    uint64_t sum;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    free(w->given);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->iterations; i++) {
        volatile unsigned char *p = bench_nonnull(malloc(w->size), w->size);
        for (size_t k = 0; k < w->size; k++)
            p[k] = 0;
        for (uint64_t j = 0; j < w->writes; j++)
            for (size_t k = 0; k < w->size; k++)
                p[k] = (unsigned char)(p[k] + k + 1);
        for (size_t k = 0; k < w->size; k++)
            sum += p[k];
        free((void *)p);
    }
    w->sum = sum;
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned nthreads = (unsigned)bench_arg(argc, argv, 1, 2);
    uint64_t iterations = bench_arg(argc, argv, 2, 2000);
    uint64_t writes = bench_arg(argc, argv, 3, 20000);
    size_t size = (size_t)bench_arg(argc, argv, 4, 8);
    if (nthreads < 1 || nthreads > 256 || size < 1)
        bench_fail("cache-scratch: bad arguments");

    worker_t *workers = bench_nonnull(calloc(nthreads, sizeof *workers), sizeof *workers);
    pthread_t *tids = bench_nonnull(calloc(nthreads, sizeof *tids), sizeof *tids);
    for (unsigned t = 0; t < nthreads; t++) {
        workers[t].given = bench_nonnull(malloc(size), size);
        workers[t].iterations = iterations;
        workers[t].writes = writes;
        workers[t].size = size;
    }
    for (unsigned t = 0; t < nthreads; t++)
        if (pthread_create(&tids[t], NULL, worker, &workers[t]) != 0)
            bench_fail("cache-scratch: pthread_create failed");
    uint64_t sum = 0;
    for (unsigned t = 0; t < nthreads; t++) {
        pthread_join(tids[t], NULL);
        sum += workers[t].sum;
    }
    bench_check(sum);
    free(tids);
    free(workers);
    return 0;
}
