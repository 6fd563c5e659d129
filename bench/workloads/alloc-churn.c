/* alloc-churn: one thread keeps a pool of live blocks and, at random, allocates (8 B..64 KiB,
 * a power-law mix: log2(size) = 3 + 13 u^2, mostly small), frees, or grows a block with
 * realloc (x1.5..x2, up to 64 KiB). Contents are checked at every free and after every realloc.
 * Usage: alloc-churn [operations=6000000] [live_slots=4000] */
#include "bench.h"

enum { MIN_SIZE = 8, MAX_SIZE = 64 * 1024 };

typedef struct {
    unsigned char *p;
    size_t size;
    uint64_t tag;
} slot_t;

// The octave is log2(8) + floor(13 u^2), the size uniform inside it: 8 B .. 64 KiB - 1.
static size_t power_law_size(bench_rng_t *r)
{
    double u = bench_unit(r);
    size_t base = (size_t)MIN_SIZE << (unsigned)(13.0 * u * u);
    return base + (size_t)(bench_next(r) % base);
}

int main(int argc, char **argv)
{
    uint64_t ops = bench_arg(argc, argv, 1, 6000000);
    size_t nslots = (size_t)bench_arg(argc, argv, 2, 4000);
    if (nslots < 1)
        bench_fail("alloc-churn: bad arguments");
    slot_t *slot = bench_nonnull(calloc(nslots, sizeof *slot), nslots * sizeof *slot);
    bench_rng_t r = bench_rng(3000);
    uint64_t freed = 0, reallocs = 0;

    for (uint64_t i = 0; i < ops; i++) {
        slot_t *s = &slot[bench_next(&r) % nslots];
        if (s->p == NULL) {
            s->size = power_law_size(&r);
            s->tag = bench_next(&r) | 1;
            s->p = bench_nonnull(malloc(s->size), s->size);
            bench_fill(s->p, s->size, s->tag);
            continue;
        }
        unsigned choice = (unsigned)(bench_next(&r) % 8);
        if (choice < 5 || s->size >= MAX_SIZE) {
            bench_verify(s->p, s->size, s->tag, "alloc-churn free");
            free(s->p);
            freed += s->size;
            s->p = NULL;
            continue;
        }
        size_t grown = s->size + bench_range(&r, s->size / 2, s->size);
        if (grown > MAX_SIZE)
            grown = MAX_SIZE;
        unsigned char *q = bench_nonnull(realloc(s->p, grown), grown);
        bench_verify(q, s->size, s->tag, "alloc-churn realloc");
        bench_fill(q, grown, s->tag);
        s->p = q;
        s->size = grown;
        reallocs++;
    }
    for (size_t i = 0; i < nslots; i++) {
        if (slot[i].p == NULL)
            continue;
        bench_verify(slot[i].p, slot[i].size, slot[i].tag, "alloc-churn final free");
        free(slot[i].p);
        freed += slot[i].size;
    }
    bench_check(freed ^ (reallocs << 40));
    free(slot);
    return 0;
}
