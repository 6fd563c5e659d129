/* big: large blocks, 64 KiB..8 MiB (log-uniform), in a small pool: allocate, free, or grow
 * with realloc (x1.25..x2, up to 8 MiB). Every page of a block is written, so the cost of
 * fresh pages (mmap, page faults) versus reused ones shows. Contents are checked at free and
 * after realloc.
 * Usage: big [operations=40000] [live_slots=24] */
#include "bench.h"

#define MIN_SIZE ((size_t)64 << 10)
#define MAX_SIZE ((size_t)8 << 20)

typedef struct {
    unsigned char *p;
    size_t size;
    uint64_t tag;
} slot_t;

static size_t big_size(bench_rng_t *r)
{
    size_t base = MIN_SIZE << (bench_next(r) % 7); // 64 KiB .. 4 MiB
    return base + (size_t)(bench_next(r) % base);  // .. 8 MiB - 1
}

int main(int argc, char **argv)
{
    uint64_t ops = bench_arg(argc, argv, 1, 40000);
    size_t nslots = (size_t)bench_arg(argc, argv, 2, 24);
    if (nslots < 1)
        bench_fail("big: bad arguments");
    slot_t *slot = bench_nonnull(calloc(nslots, sizeof *slot), nslots * sizeof *slot);
    bench_rng_t r = bench_rng(4000);
    uint64_t freed = 0;

    for (uint64_t i = 0; i < ops; i++) {
        slot_t *s = &slot[bench_next(&r) % nslots];
        if (s->p == NULL) {
            s->size = big_size(&r);
            s->tag = bench_next(&r) | 1;
            s->p = bench_nonnull(malloc(s->size), s->size);
            bench_fill(s->p, s->size, s->tag);
            continue;
        }
        if (bench_next(&r) % 2 == 0 || s->size >= MAX_SIZE) {
            bench_verify(s->p, s->size, s->tag, "big free");
            free(s->p);
            freed += s->size;
            s->p = NULL;
            continue;
        }
        size_t grown = s->size + bench_range(&r, s->size / 4, s->size);
        if (grown > MAX_SIZE)
            grown = MAX_SIZE;
        unsigned char *q = bench_nonnull(realloc(s->p, grown), grown);
        bench_verify(q, s->size, s->tag, "big realloc");
        bench_fill(q, grown, s->tag);
        s->p = q;
        s->size = grown;
    }
    for (size_t i = 0; i < nslots; i++) {
        if (slot[i].p == NULL)
            continue;
        bench_verify(slot[i].p, slot[i].size, slot[i].tag, "big final free");
        free(slot[i].p);
        freed += slot[i].size;
    }
    bench_check(freed);
    free(slot);
    return 0;
}
