/* fuzz/harness.c: decode a fuzz input into a program of allocator calls, run it on a fixed
 * schedule over several threads, and check every answer against a shadow model.
 *
 * Two passes. decode() turns the bytes into ops and already knows every slot's state (occupied,
 * requested size, block id) because a legal request of at most SGF_MAX_SIZE must succeed and an
 * impossible one must fail; caps are therefore decided there, identically for every allocator.
 * The executor (exec.c) then runs the ops and checks the answers (shadow.c). */
#define _GNU_SOURCE
#include <limits.h>
#include <string.h>

#include "exec.h"

static const uint8_t opcode_table[32] = SGF_OPCODE_TABLE;

// ---- sizes -----------------------------------------------------------------------------------

static size_t clamp_size(long long v)
{
    if (v < 0)
        return 0;
    if ((unsigned long long)v > SGF_MAX_SIZE)
        return SGF_MAX_SIZE;
    return (size_t)v;
}

size_t sgf_size(unsigned b, unsigned c)
{
    static const int pow2_delta[16] = {0, -1, 1, -2, 2, -8, 8, -16, 16, -15, 15, -7, 7, -32, 32, -64};
    static const int step_delta[4] = {0, -1, 1, 8};
    static const int large_delta[16] = {0,     -1,    1,     -16,   16,   -4096, 4096, -4095,
                                        4095,  -4097, 4097,  -8192, 8192, -512,  512,  12288};
    unsigned kind = (b >> 5) & 7, r = ((b & 31u) << 8) | (c & 255u);
    long long v = 0;

    switch (kind) {
    case SGF_SIZE_TINY:
        v = r & 127;
        break;
    case SGF_SIZE_SMALL:
        v = r;
        break;
    case SGF_SIZE_POW2:
        v = (1LL << (r % 25)) + pow2_delta[(r >> 5) & 15];
        break;
    case SGF_SIZE_STEP: /* k * 2^n / 8: the boundaries of classes spaced 8 per power of two */
        v = ((long long)(8 + ((r >> 5) & 7)) << (3 + r % 19)) / 8 + step_delta[(r >> 8) & 3];
        break;
    case SGF_SIZE_LARGE: /* the small/large threshold may sit anywhere in 16 KiB..1 MiB */
        v = (1LL << (14 + r % 7)) + large_delta[(r >> 3) & 15];
        break;
    case SGF_SIZE_MEDIUM:
        v = 16LL * r - (r & 1);
        break;
    case SGF_SIZE_BIG:
        v = 64LL * r + (r & 7);
        break;
    default: /* SGF_SIZE_EDGE */
        v = (1LL << (r % 21)) - 16 + ((r >> 5) & 31);
        break;
    }
    return clamp_size(v);
}

/* Requests that no allocator can satisfy (above PTRDIFF_MAX or the 47-bit address space). */
static const size_t huge_table[8] = {
    SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095, SIZE_MAX - ((size_t)1 << 20),
    (size_t)PTRDIFF_MAX, (size_t)PTRDIFF_MAX + 1, (size_t)1 << 62, (size_t)1 << 48,
};

/* calloc/reallocarray pairs whose product overflows or is impossible. */
static const size_t huge_pairs[8][2] = {
    {SIZE_MAX / 2 + 1, 2}, {2, SIZE_MAX / 2 + 1}, {(size_t)1 << 32, (size_t)1 << 32},
    {SIZE_MAX, SIZE_MAX},  {SIZE_MAX / 3 + 1, 3}, {(size_t)1 << 31, (size_t)1 << 33},
    {(size_t)1 << 31, (size_t)1 << 31}, {65536, (size_t)1 << 40},
};

static const unsigned count_table[4] = {1, 2, 7, 64};

// ---- decoder state ---------------------------------------------------------------------------

typedef struct decoder {
    sgf_program_t *prog;
    uint8_t occ[SGF_LTHREADS][SGF_SLOTS];
    size_t req[SGF_LTHREADS][SGF_SLOTS];
    uint8_t hp[SGF_LTHREADS][SGF_SLOTS]; /* heap of the slot's block (0: plain) */
    uint8_t heap_alive[SGF_NHEAPS + 1];
    size_t live, work;
    unsigned cur, burst, bursts;
    uint32_t next_id, record;
} decoder_t;

static sgf_op_t *emit(decoder_t *d, unsigned kind, unsigned t, unsigned s)
{
    sgf_program_t *p = d->prog;
    if (p->n >= SGF_MAX_EXEC)
        return NULL;
    sgf_op_t *op = &p->ops[p->n++];
    memset(op, 0, sizeof *op);
    op->kind = (uint8_t)kind;
    op->exec = (uint8_t)d->cur;
    op->t = (uint8_t)t;
    op->s = (uint8_t)s;
    op->burst = (uint16_t)d->burst;
    op->record = d->record;
    return op;
}

/* Account for a request of size bytes; 0 if it would pass a cap (the op is then skipped). */
static int budget(decoder_t *d, size_t freed, size_t size)
{
    if (d->live - freed + size > SGF_LIVE_CAP || d->work + size > SGF_WORK_CAP)
        return 0;
    d->work += size;
    return 1;
}

static void set_slot(decoder_t *d, unsigned t, unsigned s, int occ, size_t req)
{
    if (d->occ[t][s])
        d->live -= d->req[t][s];
    d->occ[t][s] = (uint8_t)occ;
    d->req[t][s] = occ ? req : 0;
    d->hp[t][s] = 0; /* callers that put a heap block there set it again */
    if (occ)
        d->live += req;
}

static void emit_free(decoder_t *d, unsigned t, unsigned s)
{
    if (emit(d, SGF_X_FREE, t, s))
        set_slot(d, t, s, 0, 0);
}

/* An allocation into an empty slot (kind chooses the call). */
static sgf_op_t *emit_alloc(decoder_t *d, unsigned kind, unsigned t, unsigned s, size_t size)
{
    if (d->occ[t][s])
        emit_free(d, t, s);
    if (d->occ[t][s] || !budget(d, 0, size))
        return NULL;
    sgf_op_t *op = emit(d, kind, t, s);
    if (!op)
        return NULL;
    op->size = size;
    op->id = ++d->next_id;
    set_slot(d, t, s, 1, size);
    return op;
}

/* realloc-like ops: realloc(NULL, n) allocates even for n == 0; realloc(p, 0) frees. The plain
 * calls never get a heap's block (where it lands would depend on the allocator): it is freed
 * first. hp: the heap of SGF_X_HEAP_REALLOC, which frees a block of any other heap first. */
static sgf_op_t *emit_realloc_in(decoder_t *d, unsigned kind, unsigned t, unsigned s, size_t n,
                                 size_t m, unsigned hp)
{
    if (d->occ[t][s] && d->hp[t][s] != hp) {
        emit_free(d, t, s);
        if (d->occ[t][s])
            return NULL;
    }
    size_t size = n * m, old = d->occ[t][s] ? d->req[t][s] : 0;
    if (!budget(d, old, size))
        return NULL;
    sgf_op_t *op = emit(d, kind, t, s);
    if (!op)
        return NULL;
    op->size = size;
    op->n = n;
    op->id = ++d->next_id;
    op->hp = (uint8_t)hp;
    int occ = !(d->occ[t][s] && size == 0);
    set_slot(d, t, s, occ, size);
    if (occ)
        d->hp[t][s] = (uint8_t)hp;
    return op;
}

static void emit_realloc(decoder_t *d, unsigned kind, unsigned t, unsigned s, size_t n, size_t m)
{
    emit_realloc_in(d, kind, t, s, n, m, 0);
}

static void emit_fail(decoder_t *d, unsigned kind, unsigned t, unsigned s, size_t n, size_t m)
{
    sgf_op_t *op = emit(d, kind, t, s);
    if (op) {
        op->size = m;
        op->n = n;
    }
}

// ---- one record --------------------------------------------------------------------------------

static void decode_aligned(decoder_t *d, unsigned s, unsigned fn, unsigned b, unsigned c)
{
    unsigned e = (b & 31) % 21;
    size_t align = (size_t)1 << e, size;
    switch (b >> 5) {
    case 0: size = c; break;
    case 1: size = (size_t)c << 4; break;
    case 2: size = align + (c & 3) >= 2 ? align + (c & 3) - 2 : 0; break;
    case 3: size = align * (1 + (c & 7)) - ((c >> 3) & 1); break;
    case 4: size = (size_t)c << 8; break;
    case 5: size = (size_t)c << 12; break;
    case 6: size = ((size_t)1 << (c % 22)) + ((c >> 5) & 1); break;
    default: size = 0; break;
    }
    if (size > SGF_MAX_SIZE)
        size = SGF_MAX_SIZE;
    static const uint8_t kinds[4] = {SGF_X_POSIX_MEMALIGN, SGF_X_ALIGNED_ALLOC, SGF_X_MEMALIGN,
                                     SGF_X_VALLOC};
    unsigned kind = kinds[fn];
    if (kind == SGF_X_POSIX_MEMALIGN && align < sizeof(void *))
        align = sizeof(void *);
    if (kind == SGF_X_VALLOC && (c & 1))
        kind = SGF_X_PVALLOC;
    sgf_op_t *op = emit_alloc(d, kind, d->cur, s, size);
    if (op)
        op->n = align;
}

static void decode_impossible(decoder_t *d, unsigned s, unsigned b, unsigned c)
{
    static const size_t bad_align[8] = {0, 1, 2, 4, 24, 48, 3u << 20, ((size_t)1 << 20) + 8};
    unsigned t = d->cur;
    size_t huge = huge_table[c & 7], align = (size_t)1 << ((c >> 3) % 21);
    const size_t *pair = huge_pairs[c & 7];
    switch (b % 16) {
    case 0: case 11: emit_fail(d, SGF_X_FAIL_MALLOC, t, s, 0, huge); break;
    case 1: case 12: emit_fail(d, SGF_X_FAIL_CALLOC, t, s, pair[0], pair[1]); break;
    case 2: case 14: emit_fail(d, SGF_X_FAIL_REALLOC, t, s, 0, huge); break;
    case 3: emit_fail(d, SGF_X_FAIL_REALLOCARRAY, t, s, pair[0], pair[1]); break;
    case 4: emit_fail(d, SGF_X_FAIL_POSIX_MEMALIGN, t, s, bad_align[c & 7], 16); break;
    case 5:
        emit_fail(d, SGF_X_FAIL_POSIX_MEMALIGN, t, s, align < 8 ? 8 : align, huge);
        break;
    case 6: case 15: emit_fail(d, SGF_X_FAIL_ALIGNED_ALLOC, t, s, align, huge); break;
    case 7: emit_fail(d, SGF_X_FAIL_MEMALIGN, t, s, align, huge); break;
    case 8: /* an alignment no address space can honour */
        emit_fail(d, SGF_X_FAIL_POSIX_MEMALIGN, t, s, (size_t)1 << (62 + (c & 1)), 16);
        break;
    case 9: emit_fail(d, SGF_X_FAIL_VALLOC, t, s, 0, huge); break;
    default: emit_fail(d, SGF_X_FAIL_PVALLOC, t, s, 0, huge); break;
    }
}

static size_t relative_size(size_t old, unsigned b, unsigned c)
{
    long long o = (long long)old, v;
    switch (b & 15) {
    case 0: v = o + 1; break;
    case 1: v = o - 1; break;
    case 2: v = o * 2; break;
    case 3: v = o / 2; break;
    case 4: v = o + c; break;
    case 5: v = o - c; break;
    case 6: v = o; break;
    case 7: v = o + 4096; break;
    case 8: v = o - 4096; break;
    case 9: v = o * 3 / 2; break;
    case 10: v = 0; break;
    case 11: v = o + 16LL * c; break;
    case 12: v = o - 16LL * c; break;
    case 13: v = 1; while (v < o + 1) v <<= 1; break;
    case 14: v = o + 65536; break;
    default: v = o / 4; break;
    }
    return clamp_size(v < 0 ? 1 : v);
}

// ---- first-class heaps -------------------------------------------------------------------------

static unsigned heap_index(unsigned t, unsigned h)
{
    return 1 + t * SGF_HEAPS + h;
}

/* sg_heap_destroy: every slot holding one of its blocks (in any thread) becomes empty. */
static void emit_heap_destroy(decoder_t *d, unsigned hp)
{
    d->burst = 0; /* it empties other threads' slots */
    sgf_op_t *op = emit(d, SGF_X_HEAP_DESTROY, d->cur, 0);
    if (!op)
        return;
    op->hp = (uint8_t)hp;
    d->heap_alive[hp] = 0;
    for (unsigned t = 0; t < SGF_LTHREADS; t++)
        for (unsigned s = 0; s < SGF_SLOTS; s++)
            if (d->occ[t][s] && d->hp[t][s] == hp)
                set_slot(d, t, s, 0, 0);
}

static int emit_heap_new(decoder_t *d, unsigned hp, size_t limit)
{
    if (d->heap_alive[hp])
        emit_heap_destroy(d, hp);
    if (d->heap_alive[hp])
        return 0;
    sgf_op_t *op = emit(d, SGF_X_HEAP_NEW, d->cur, 0);
    if (!op)
        return 0;
    op->hp = (uint8_t)hp;
    op->n = limit;
    d->heap_alive[hp] = 1;
    return 1;
}

static void decode_heap(decoder_t *d, unsigned sub, unsigned a, unsigned b, unsigned c)
{
    unsigned t = d->cur, s = a % SGF_SLOTS, hp = heap_index(t, a >> 6);
    if (sub != SGF_HEAP_NEW && sub != SGF_HEAP_DESTROY && sub != SGF_HEAP_FREE &&
        sub != SGF_HEAP_REMOTE_FREE && !d->heap_alive[hp] && !emit_heap_new(d, hp, 0))
        return;
    switch (sub) {
    case SGF_HEAP_MALLOC:
    case SGF_HEAP_CALLOC: {
        size_t n = sub == SGF_HEAP_CALLOC ? count_table[c & 3] : 1, m = sgf_size(b, c) / n;
        sgf_op_t *op = emit_alloc(d, sub == SGF_HEAP_CALLOC ? SGF_X_HEAP_CALLOC : SGF_X_HEAP_MALLOC,
                                  t, s, n * m);
        if (op) {
            op->n = n;
            op->hp = (uint8_t)hp;
            d->hp[t][s] = (uint8_t)hp;
        }
        break;
    }
    case SGF_HEAP_REALLOC:
        emit_realloc_in(d, SGF_X_HEAP_REALLOC, t, s, 1, sgf_size(b, c), hp);
        break;
    case SGF_HEAP_REALLOC_REL: {
        size_t old = d->occ[t][s] && d->hp[t][s] == hp ? d->req[t][s] : 0;
        emit_realloc_in(d, SGF_X_HEAP_REALLOC, t, s, 1, relative_size(old, b, c), hp);
        break;
    }
    case SGF_HEAP_FREE: {
        unsigned bhp = d->hp[t][s];
        if (!d->occ[t][s])
            break;
        if (bhp && (bhp - 1) / SGF_HEAPS == t) { /* a heap of this thread: sg_heap_free */
            sgf_op_t *op = emit(d, SGF_X_HEAP_FREE, t, s);
            if (op) {
                op->hp = (uint8_t)bhp;
                set_slot(d, t, s, 0, 0);
            }
        } else {
            emit_free(d, t, s);
        }
        break;
    }
    case SGF_HEAP_REMOTE_FREE: {
        unsigned u = b % SGF_LTHREADS;
        if (!d->occ[t][s])
            break;
        if (u == t)
            u = (t + 1) % SGF_LTHREADS;
        d->burst = 0; /* another thread's slot */
        sgf_op_t *op = emit(d, SGF_X_FREE, t, s);
        if (op) {
            op->exec = (uint8_t)u;
            set_slot(d, t, s, 0, 0);
        }
        break;
    }
    case SGF_HEAP_NEW: {
        size_t limit = 0;
        if (b >> 6) {
            limit = ((size_t)(b & 63) << 20) + ((size_t)c << 12);
            if (limit < ((size_t)1 << 20))
                limit = (size_t)1 << 20;
            if (limit > ((size_t)64 << 20))
                limit = (size_t)64 << 20;
        }
        emit_heap_new(d, hp, limit);
        break;
    }
    default: /* SGF_HEAP_DESTROY */
        if (d->heap_alive[hp])
            emit_heap_destroy(d, hp);
        break;
    }
}

static void decode_record(decoder_t *d, const uint8_t *r)
{
    unsigned opcode = opcode_table[r[0] & 31], a = r[1], b = r[2], c = r[3];
    unsigned t = d->cur, s = a % SGF_SLOTS, var = a >> 6;

    switch (opcode) {
    case SGF_OP_MALLOC:
        emit_alloc(d, SGF_X_MALLOC, t, s, sgf_size(b, c));
        break;
    case SGF_OP_CALLOC: {
        size_t n = count_table[var], m = sgf_size(b, c) / n;
        sgf_op_t *op = emit_alloc(d, SGF_X_CALLOC, t, s, n * m);
        if (op)
            op->n = n;
        break;
    }
    case SGF_OP_REALLOC:
        emit_realloc(d, SGF_X_REALLOC, t, s, 1, sgf_size(b, c));
        break;
    case SGF_OP_REALLOC_REL:
        if (d->occ[t][s])
            emit_realloc(d, SGF_X_REALLOC, t, s, 1, relative_size(d->req[t][s], b, c));
        break;
    case SGF_OP_REALLOCARRAY: {
        size_t n = count_table[var];
        emit_realloc(d, SGF_X_REALLOCARRAY, t, s, n, sgf_size(b, c) / n);
        break;
    }
    case SGF_OP_FREE:
        if (d->occ[t][s])
            emit_free(d, t, s);
        else
            emit(d, SGF_X_FREE, t, s); /* free(NULL) */
        break;
    case SGF_OP_ALIGNED:
        decode_aligned(d, s, var, b, c);
        break;
    case SGF_OP_USABLE:
        emit(d, SGF_X_USABLE, t, s);
        break;
    case SGF_OP_CHECK:
        emit(d, SGF_X_CHECK, t, s);
        break;
    case SGF_OP_HANDOFF: {
        unsigned u = b % SGF_LTHREADS, q = c % SGF_SLOTS;
        d->burst = 0; /* moves between threads are never concurrent with their users */
        if (!d->occ[t][s] || (u == t && q == s))
            break;
        if (d->occ[u][q])
            emit_free(d, u, q); /* a cross-thread free when another thread allocated it */
        sgf_op_t *op = emit(d, SGF_X_HANDOFF, t, s);
        if (op) {
            op->t2 = (uint8_t)u;
            op->s2 = (uint8_t)q;
            size_t req = d->req[t][s];
            uint8_t hp = d->hp[t][s];
            set_slot(d, t, s, 0, 0);
            set_slot(d, u, q, 1, req);
            d->hp[u][q] = hp;
        }
        break;
    }
    case SGF_OP_SWITCH:
        d->cur = a % SGF_LTHREADS;
        break;
    case SGF_OP_THREAD_EXIT:
        d->burst = 0;   /* (a fork: no other thread may be inside the allocator meanwhile) */
        emit(d, var == 3 ? SGF_X_FORK : SGF_X_EXIT, t, 0);
        break;
    case SGF_OP_BURST:
        d->burst = d->burst ? 0 : ++d->bursts;
        break;
    case SGF_OP_IMPOSSIBLE:
        decode_impossible(d, s, b, c);
        break;
    case SGF_OP_FREE_ALL:
        for (unsigned i = 0; i < SGF_SLOTS; i++)
            if (d->occ[t][i])
                emit_free(d, t, i);
        break;
    case SGF_OP_HEAP:
        decode_heap(d, r[0] >> 5, a, b, c);
        break;
    default: { /* SGF_OP_MALLOC_MANY */
        static const unsigned many[4] = {4, 16, 32, 64};
        size_t size = sgf_size(b, c);
        for (unsigned i = 0; i < many[var]; i++)
            emit_alloc(d, SGF_X_MALLOC, t, (s + i) % SGF_SLOTS, size);
        break;
    }
    }
}

void sgf_decode(const uint8_t *data, size_t size, sgf_program_t *prog)
{
    static decoder_t d;
    memset(&d, 0, sizeof d);
    d.prog = prog;
    prog->n = 0;
    size_t records = size / SGF_RECORD;
    if (records > SGF_MAX_OPS)
        records = SGF_MAX_OPS;
    for (size_t i = 0; i < records && prog->n < SGF_MAX_EXEC; i++) {
        d.record = (uint32_t)i;
        decode_record(&d, data + i * SGF_RECORD);
    }
}
