/* fuzz/mkcorpus.c: write the seed corpus (fuzz/corpus/) and the AFL++ dictionary (fuzz/ops.dict).
 *
 *   cc -I fuzz fuzz/mkcorpus.c fuzz/harness.c -o mkcorpus && ./mkcorpus fuzz
 *
 * Each seed is a small program in the fuzz/ops.h encoding aimed at one part of the allocator;
 * the outputs are committed, so rerun this only when the encoding changes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static uint8_t buf[SGF_MAX_OPS * SGF_RECORD];
static size_t len;
static const char *outdir;

static void rec(unsigned op, unsigned a, unsigned b, unsigned c)
{
    if (len + 4 > sizeof buf)
        return;
    buf[len++] = (uint8_t)op;
    buf[len++] = (uint8_t)a;
    buf[len++] = (uint8_t)b;
    buf[len++] = (uint8_t)c;
}

/* (b, c) encoding a size; the nearest smaller size if it has no exact code. */
static void size_code(size_t want, unsigned *b, unsigned *c)
{
    size_t best = 0;
    *b = *c = 0;
    for (unsigned i = 0; i < 65536; i++) {
        size_t s = sgf_size(i >> 8, i & 255);
        if (s <= want && s >= best) {
            best = s;
            *b = i >> 8;
            *c = i & 255;
            if (s == want)
                return;
        }
    }
}

static void op_size(unsigned op, unsigned a, size_t size)
{
    unsigned b, c;
    size_code(size, &b, &c);
    rec(op, a, b, c);
}

static void op_malloc(unsigned slot, size_t size) { op_size(SGF_BYTE_MALLOC, slot, size); }
static void op_free(unsigned slot) { rec(SGF_BYTE_FREE, slot, 0, 0); }
static void op_switch(unsigned t) { rec(SGF_BYTE_SWITCH, t, 0, 0); }

/* A heap op: sub-op (enum sgf_heap_subop), heap h (0..3) of the current thread, slot. */
static void heap_op(unsigned sub, unsigned h, unsigned slot, unsigned b, unsigned c)
{
    rec(SGF_BYTE_HEAP | sub << 5, h << 6 | slot, b, c);
}

static void heap_size(unsigned sub, unsigned h, unsigned slot, size_t size)
{
    unsigned b, c;
    size_code(size, &b, &c);
    heap_op(sub, h, slot, b, c);
}

static void save(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/corpus/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
        perror(path);
        exit(1);
    }
    len = 0;
}

static uint64_t rng_state = 42;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((rng_state >> 33) % n);
}

static void seeds(void)
{
    /* every power of two and its neighbours, small to 4 MiB */
    for (unsigned n = 0, slot = 0; n <= 22; n++)
        for (int d = -1; d <= 1; d++, slot++) {
            op_malloc(slot % 64, ((size_t)1 << n) + (size_t)d);
            if (slot % 8 == 7)
                for (unsigned k = 0; k < 8; k++)
                    op_free((slot - k) % 64);
        }
    save("pow2-neighbours");

    /* the boundaries of classes spaced 8 per power of two: k * 2^n / 8 - 1, +0, +1 */
    for (unsigned n = 4, slot = 0; n <= 15; n++)
        for (unsigned k = 8; k < 16; k++)
            for (int d = -1; d <= 1; d++)
                op_malloc(slot++ % 64, (k << n) / 8 + (size_t)d);
    save("class-steps");

    /* the small/large threshold, wherever it is in 16 KiB..1 MiB */
    for (unsigned n = 14, slot = 0; n <= 20; n++) {
        static const long d[] = {-4097, -4096, -1, 0, 1, 4096, 4097};
        for (unsigned i = 0; i < 7; i++)
            op_malloc(slot++ % 64, (size_t)((1L << n) + d[i]));
        rec(SGF_BYTE_FREE_ALL, 0, 0, 0);
    }
    save("large-threshold");

    for (unsigned i = 0; i < 32; i++)
        op_size(SGF_BYTE_CALLOC, (i % 4) << 6 | i, (size_t)1 << (i % 20));
    for (unsigned i = 0; i < 32; i++)
        op_free(i);
    for (unsigned i = 0; i < 32; i++)
        op_size(SGF_BYTE_CALLOC, (i % 4) << 6 | i, (size_t)3 << (i % 18));
    save("calloc");

    /* grow one block by doubling past the large threshold, then shrink it back */
    op_malloc(5, 1);
    for (unsigned i = 0; i < 22; i++)
        rec(SGF_BYTE_REALLOC_REL, 5, 2, 0);
    for (unsigned i = 0; i < 22; i++)
        rec(SGF_BYTE_REALLOC_REL, 5, 3, 0);
    save("realloc-double-halve");

    op_malloc(1, 100);
    for (unsigned i = 0; i < 64; i++)
        rec(SGF_BYTE_REALLOC_REL, 1, i % 2 ? 1 : 0, 0); /* +1, -1 */
    for (unsigned i = 0; i < 16; i++)
        rec(SGF_BYTE_REALLOC_REL, 1, 7, 0); /* +4096 */
    for (unsigned i = 0; i < 16; i++)
        rec(SGF_BYTE_REALLOC_REL, 1, 8, 0); /* -4096 */
    save("realloc-steps");

    for (unsigned i = 0; i < 16; i++) {
        op_size(SGF_BYTE_REALLOC, i, 0);                /* realloc(NULL, 0) */
        op_size(SGF_BYTE_REALLOC, i, (size_t)1 << i);   /* grow */
        rec(SGF_BYTE_REALLOC_REL, i, 10, 0);            /* realloc(p, 0) */
        op_malloc(i + 16, 0);                           /* malloc(0) */
    }
    save("realloc-zero");

    for (unsigned i = 0; i < 32; i++)
        op_size(SGF_BYTE_REALLOCARRAY, (i % 4) << 6 | (i % 8), (size_t)100 << (i % 12));
    save("reallocarray");

    /* every alignment with sizes around it, through each aligned entry point */
    for (unsigned fn = 0; fn < 4; fn++)
        for (unsigned e = 0; e <= 20; e++)
            rec(SGF_BYTE_ALIGNED, fn << 6 | ((e + fn) % 64), (2u << 5) | e, e); /* align +-2 */
    save("aligned-edges");

    for (unsigned e = 3; e <= 20; e++) {
        rec(SGF_BYTE_ALIGNED, e, (0u << 5) | e, 1);      /* posix_memalign(2^e, 1) */
        rec(SGF_BYTE_ALIGNED, 64 | e, (5u << 5) | e, 3); /* aligned_alloc(2^e, 12 KiB) */
        rec(SGF_BYTE_USABLE, e, 0, 0);
        rec(SGF_BYTE_CHECK, 64 | e, 0, 0);
    }
    rec(SGF_BYTE_ALIGNED, 192 | 40, 0, 0);  /* valloc(0) */
    rec(SGF_BYTE_ALIGNED, 192 | 41, 0, 1);  /* pvalloc(0) */
    rec(SGF_BYTE_ALIGNED, 192 | 42, 32, 9); /* valloc(144) */
    rec(SGF_BYTE_ALIGNED, 192 | 43, 32, 9); /* pvalloc */
    save("aligned-usable");

    for (unsigned i = 0; i < 16; i++)
        rec(SGF_BYTE_IMPOSSIBLE, i, i, i * 17);
    op_malloc(3, 1000);
    for (unsigned i = 0; i < 8; i++) {
        rec(SGF_BYTE_IMPOSSIBLE, 3, 2, i);  /* realloc(p, huge): p intact */
        rec(SGF_BYTE_IMPOSSIBLE, 3, 3, i);  /* reallocarray overflow */
    }
    save("impossible");

    /* thread 0 allocates, hands everything to thread 1, which frees it */
    for (unsigned i = 0; i < 64; i++)
        op_malloc(i, 16 + 48 * (i % 8));
    for (unsigned i = 0; i < 64; i++)
        rec(SGF_BYTE_HANDOFF, i, 1, i);
    op_switch(1);
    for (unsigned i = 0; i < 64; i++)
        op_free(i);
    save("cross-thread-free");

    /* thread 1 allocates and exits; its blocks are freed by others and its pages adopted */
    op_switch(1);
    for (unsigned i = 0; i < 48; i++)
        op_malloc(i, 32 + (size_t)i * 40);
    for (unsigned i = 0; i < 24; i++)
        rec(SGF_BYTE_HANDOFF, i, 2, i);
    rec(SGF_BYTE_THREAD_EXIT, 0, 0, 0);
    op_switch(2);
    for (unsigned i = 0; i < 24; i++)
        op_free(i);
    op_switch(1);
    for (unsigned i = 24; i < 48; i++)
        op_free(i);
    for (unsigned i = 0; i < 48; i++)
        op_malloc(i, 32 + (size_t)i * 40);
    save("thread-exit-abandon");

    /* fork with blocks of every thread live, some handed across, a heap in use; then on */
    for (unsigned t = 0; t < 4; t++) {
        op_switch(t);
        for (unsigned i = 0; i < 16; i++)
            op_malloc(i, 16 + (size_t)i * i * 41 + (t == 3 && i == 15 ? ((size_t)1 << 20) : 0));
        rec(SGF_BYTE_HANDOFF, 0, (t + 1) % 4, 40);
    }
    rec(SGF_BYTE_HEAP | SGF_HEAP_MALLOC << 5, 20, 0, 200);
    rec(SGF_BYTE_THREAD_EXIT, 192, 0, 0);
    for (unsigned i = 0; i < 16; i++)
        op_free(i);
    rec(SGF_BYTE_THREAD_EXIT, 192, 0, 0);
    save("fork");

    /* a ring: each thread allocates, passes to the next, which frees what it received */
    for (unsigned round = 0; round < 8; round++)
        for (unsigned t = 0; t < 4; t++) {
            op_switch(t);
            for (unsigned i = 0; i < 8; i++) {
                op_free(32 + i);
                op_malloc(i, (size_t)24 << (round % 10));
                rec(SGF_BYTE_HANDOFF, i, (t + 1) % 4, 32 + i);
            }
        }
    save("ring-4-threads");

    rec(SGF_BYTE_BURST, 0, 0, 0);
    for (unsigned i = 0; i < 64; i++) {
        op_switch(i % 4);
        op_malloc(i, 64 + (size_t)(i % 7) * 100);
        if (i >= 8)
            op_free(i - 8);
    }
    rec(SGF_BYTE_BURST, 0, 0, 0);
    save("burst");

    for (unsigned t = 0; t < 4; t++) {
        op_switch(t);
        rec(SGF_BYTE_MALLOC_MANY, 192, 0, 16 + t * 16); /* 64 tiny blocks */
        rec(SGF_BYTE_THREAD_EXIT, 0, 0, 0);
    }
    for (unsigned t = 0; t < 4; t++) {
        op_switch(t);
        rec(SGF_BYTE_FREE_ALL, 0, 0, 0);
    }
    save("many-exit-free-all");

    for (unsigned i = 0; i < 128; i++) { /* fill and drain one class page after page */
        op_malloc(i % 64, 48);
        if (i >= 64)
            op_free((i + 17) % 64);
    }
    save("one-class-churn");

    for (unsigned k = 0; k < 12; k++) { /* mixed programs from a fixed generator */
        unsigned n = 40 + rnd(200);
        for (unsigned i = 0; i < n; i++)
            rec(rnd(256), rnd(256), rnd(256), rnd(256));
        char name[32];
        snprintf(name, sizeof name, "mixed-%02u", k);
        save(name);
    }
    for (unsigned k = 0; k < 6; k++) { /* small-block heavy programs */
        unsigned n = 60 + rnd(100);
        for (unsigned i = 0; i < n; i++) {
            unsigned op = rnd(4) ? SGF_BYTE_MALLOC + rnd(8) : SGF_BYTE_FREE;
            rec(op, rnd(256), rnd(64), rnd(256)); /* size kinds tiny and small */
            if (rnd(16) == 0)
                op_switch(rnd(4));
            if (rnd(32) == 0)
                rec(SGF_BYTE_HANDOFF, rnd(64), rnd(4), rnd(64));
        }
        char name[32];
        snprintf(name, sizeof name, "small-mix-%02u", k);
        save(name);
    }

    /* each thread hands 32 blocks to the next, then a long burst in which all four free what
     * they received (frees from other threads, concurrent with the owners' allocations) */
    for (unsigned t = 0; t < 4; t++) {
        op_switch(t);
        for (unsigned i = 0; i < 32; i++) {
            rec(SGF_BYTE_MALLOC, i, rnd(96), rnd(256));
            rec(SGF_BYTE_HANDOFF, i, (t + 1) % 4, 32 + i);
        }
    }
    rec(SGF_BYTE_BURST, 0, 0, 0);
    for (unsigned k = 0; k < 600; k++) {
        static const unsigned ops[] = {SGF_BYTE_MALLOC, SGF_BYTE_MALLOC, SGF_BYTE_FREE,
                                       SGF_BYTE_FREE, SGF_BYTE_REALLOC, SGF_BYTE_MALLOC_MANY};
        op_switch(k % 4);
        rec(ops[rnd(6)], rnd(64), rnd(96), rnd(256));
    }
    rec(SGF_BYTE_BURST, 0, 0, 0);
    save("burst-cross-thread");

    /* one thread's heaps: every call, blocks handed to and freed by other threads, a destroy
     * with small and large blocks still live, a limited heap driven past its limit */
    heap_op(SGF_HEAP_NEW, 0, 0, 0, 0);
    for (unsigned i = 0; i < 24; i++)
        heap_size(SGF_HEAP_MALLOC, 0, i, (size_t)1 << (i % 21)); /* to 1 MiB */
    for (unsigned i = 24; i < 32; i++)
        heap_size(SGF_HEAP_CALLOC, 0, i, (size_t)100 << (i - 20));
    heap_size(SGF_HEAP_REALLOC, 0, 3, 5000);
    for (unsigned i = 0; i < 8; i++)
        heap_op(SGF_HEAP_REALLOC_REL, 0, 4, i % 2 ? 3 : 2, 0); /* x2, /2 */
    for (unsigned i = 5; i < 9; i++)
        heap_op(SGF_HEAP_FREE, 0, i, 0, 0);
    for (unsigned i = 9; i < 13; i++)
        heap_op(SGF_HEAP_REMOTE_FREE, 0, i, 1 + i % 3, 0);
    for (unsigned i = 13; i < 17; i++)
        rec(SGF_BYTE_HANDOFF, i, 1, i);
    op_switch(1);
    op_free(13);
    rec(SGF_BYTE_CHECK, 14, 0, 0);
    op_switch(0);
    rec(SGF_BYTE_USABLE, 17, 0, 0);
    heap_op(SGF_HEAP_DESTROY, 0, 0, 0, 0); /* slots 0..4, 17..31 and thread 1's 14..16 */
    heap_size(SGF_HEAP_MALLOC, 0, 0, 48);   /* heap 0 again, created implicitly */
    heap_op(SGF_HEAP_NEW, 1, 0, 1u << 6 | 1, 0); /* limited to 1 MiB */
    for (unsigned i = 32; i < 64; i++)
        heap_size(SGF_HEAP_MALLOC, 1, i, (size_t)48 << 10); /* refused at some point */
    for (unsigned i = 32; i < 40; i++)
        heap_op(SGF_HEAP_REALLOC_REL, 1, i, 14, 0); /* +64 KiB */
    heap_op(SGF_HEAP_FREE, 1, 33, 0, 0);
    heap_op(SGF_HEAP_NEW, 2, 0, 2u << 6 | 3, 0x80); /* limited to 3.5 MiB */
    heap_size(SGF_HEAP_MALLOC, 2, 1, (size_t)1 << 20);
    heap_size(SGF_HEAP_REALLOC, 2, 1, (size_t)3 << 20);
    heap_op(SGF_HEAP_NEW, 1, 0, 0, 0); /* recreate heap 1: destroys it first */
    heap_size(SGF_HEAP_MALLOC, 1, 32, 100);
    save("heap-ops");

    /* four threads, each with two heaps; blocks travel around the ring and are freed (plain
     * free) by the next thread in a burst while their owner keeps allocating from the heap;
     * then each heap is destroyed with blocks in other threads' slots */
    for (unsigned t = 0; t < 4; t++) {
        op_switch(t);
        heap_op(SGF_HEAP_NEW, 0, 0, 0, 0);
        heap_op(SGF_HEAP_NEW, 1, 0, 1u << 6 | (4 + t), 0);
        for (unsigned i = 0; i < 16; i++) {
            heap_op(SGF_HEAP_MALLOC, i % 2, i, rnd(128), rnd(256));
            rec(SGF_BYTE_HANDOFF, i, (t + 1) % 4, 32 + i);
        }
    }
    rec(SGF_BYTE_BURST, 0, 0, 0);
    for (unsigned k = 0; k < 400; k++) {
        op_switch(k % 4);
        switch (rnd(5)) {
        case 0: op_free(32 + rnd(16)); break;
        case 1: heap_op(SGF_HEAP_MALLOC, rnd(2), rnd(16), rnd(128), rnd(256)); break;
        case 2: heap_op(SGF_HEAP_REALLOC, rnd(2), rnd(16), rnd(128), rnd(256)); break;
        case 3: heap_op(SGF_HEAP_FREE, rnd(2), rnd(16), 0, 0); break;
        default: heap_op(SGF_HEAP_CALLOC, rnd(2), 16 + rnd(16), rnd(96), rnd(256)); break;
        }
    }
    rec(SGF_BYTE_BURST, 0, 0, 0);
    for (unsigned t = 0; t < 4; t++) {
        op_switch(t);
        for (unsigned i = 0; i < 8; i++)
            heap_op(SGF_HEAP_MALLOC, 0, 48 + i, 3, rnd(256));
        rec(SGF_BYTE_HANDOFF, 48, (t + 2) % 4, 60);
        heap_op(SGF_HEAP_DESTROY, t % 2, 0, 0, 0);
        rec(SGF_BYTE_THREAD_EXIT, 0, 0, 0);
    }
    save("heap-threads");
}

// ---- dictionary --------------------------------------------------------------------------------

static void dict(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/ops.dict", outdir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs("# AFL++ dictionary for the slabguard fuzz harness: whole 4-byte op records\n"
          "# (fuzz/ops.h). Generated by fuzz/mkcorpus.c.\n", f);
    static const size_t sizes[] = {0,     1,      8,      16,     17,      24,      32,
                                   48,    64,     100,    128,    255,     256,     257,
                                   1024,  4095,   4096,   4097,   8192,    16383,   16384,
                                   16385, 32768,  65535,  65536,  65537,   131072,  262144,
                                   524288, 1048575, 1048576, 1048577, 4194304};
    static const struct { const char *name; unsigned byte; } ops[] = {
        {"malloc", SGF_BYTE_MALLOC},   {"calloc", SGF_BYTE_CALLOC},
        {"realloc", SGF_BYTE_REALLOC}, {"many", SGF_BYTE_MALLOC_MANY},
    };
    for (unsigned o = 0; o < 4; o++)
        for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned b, c;
            size_code(sizes[i], &b, &c);
            fprintf(f, "%s_%zu=\"\\x%02x\\x00\\x%02x\\x%02x\"\n", ops[o].name, sizes[i],
                    ops[o].byte, b, c);
        }
    static const struct { const char *name; unsigned op, a, b, c; } fixed[] = {
        {"free", SGF_BYTE_FREE, 0, 0, 0},           {"free_all", SGF_BYTE_FREE_ALL, 0, 0, 0},
        {"usable", SGF_BYTE_USABLE, 0, 0, 0},       {"check", SGF_BYTE_CHECK, 0, 0, 0},
        {"switch_1", SGF_BYTE_SWITCH, 1, 0, 0},     {"switch_2", SGF_BYTE_SWITCH, 2, 0, 0},
        {"switch_3", SGF_BYTE_SWITCH, 3, 0, 0},     {"handoff_1", SGF_BYTE_HANDOFF, 0, 1, 0},
        {"handoff_2", SGF_BYTE_HANDOFF, 0, 2, 0},   {"exit", SGF_BYTE_THREAD_EXIT, 0, 0, 0},
        {"fork", SGF_BYTE_THREAD_EXIT, 192, 0, 0},
        {"burst", SGF_BYTE_BURST, 0, 0, 0},         {"realloc_x2", SGF_BYTE_REALLOC_REL, 0, 2, 0},
        {"realloc_half", SGF_BYTE_REALLOC_REL, 0, 3, 0},
        {"realloc_plus1", SGF_BYTE_REALLOC_REL, 0, 0, 0},
        {"realloc_zero", SGF_BYTE_REALLOC_REL, 0, 10, 0},
        {"posix_memalign_4k", SGF_BYTE_ALIGNED, 0, 12, 100},
        {"aligned_alloc_1m", SGF_BYTE_ALIGNED, 64, 20, 1},
        {"memalign_64", SGF_BYTE_ALIGNED, 128, (2u << 5) | 6, 1},
        {"valloc", SGF_BYTE_ALIGNED, 192, 32, 0},   {"pvalloc", SGF_BYTE_ALIGNED, 192, 32, 1},
        {"impossible_malloc", SGF_BYTE_IMPOSSIBLE, 0, 0, 0},
        {"impossible_calloc", SGF_BYTE_IMPOSSIBLE, 0, 1, 0},
        {"impossible_realloc", SGF_BYTE_IMPOSSIBLE, 0, 2, 0},
        {"bad_alignment", SGF_BYTE_IMPOSSIBLE, 0, 4, 4},
        {"heap_malloc_64", SGF_BYTE_HEAP | SGF_HEAP_MALLOC << 5, 0, 0, 64},
        {"heap_calloc_64", SGF_BYTE_HEAP | SGF_HEAP_CALLOC << 5, 0, 0, 64},
        {"heap_realloc_x2", SGF_BYTE_HEAP | SGF_HEAP_REALLOC_REL << 5, 0, 2, 0},
        {"heap_free", SGF_BYTE_HEAP | SGF_HEAP_FREE << 5, 0, 0, 0},
        {"heap_remote_free", SGF_BYTE_HEAP | SGF_HEAP_REMOTE_FREE << 5, 0, 1, 0},
        {"heap_new", SGF_BYTE_HEAP | SGF_HEAP_NEW << 5, 0, 0, 0},
        {"heap_new_1m", SGF_BYTE_HEAP | SGF_HEAP_NEW << 5, 0, 0x41, 0},
        {"heap_new_8m", SGF_BYTE_HEAP | SGF_HEAP_NEW << 5, 0, 0x48, 0},
        {"heap_destroy", SGF_BYTE_HEAP | SGF_HEAP_DESTROY << 5, 0, 0, 0},
    };
    for (unsigned i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        fprintf(f, "%s=\"\\x%02x\\x%02x\\x%02x\\x%02x\"\n", fixed[i].name, fixed[i].op,
                fixed[i].a, fixed[i].b, fixed[i].c);
    fclose(f);
}

int main(int argc, char **argv)
{
    outdir = argc > 1 ? argv[1] : "fuzz";
    seeds();
    dict();
    return 0;
}
