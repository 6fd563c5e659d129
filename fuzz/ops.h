/* fuzz/ops.h: the byte encoding of the fuzz input, shared by the interpreter and the corpus
 * generator.
 *
 * An input is a sequence of 4-byte records [op][a][b][c]; a trailing partial record is ignored.
 * Every byte value means something, so any mutation is still a valid program.
 *
 *   op  opcode = op % 32, looked up in the table below (common ops own several codes);
 *       op >> 5 is a sub-op for SGF_OP_HEAP (ignored by the other opcodes)
 *   a   slot = a % 64 in the current thread's slot array; a >> 6 selects a variant (0..3)
 *   b,c a size (see sgf_size in harness.c), or op-specific arguments
 *
 * Ops act on the slots of the "current" logical thread (0..3), which SWITCH changes. */
#ifndef SGF_OPS_H
#define SGF_OPS_H

#define SGF_LTHREADS 4 /* logical threads: the meaning of an input never depends on FUZZ_THREADS */
#define SGF_SLOTS 64   /* slots per logical thread */
#define SGF_RECORD 4   /* bytes per op record */

enum sgf_opcode {
    SGF_OP_MALLOC,       /* slot = malloc(size(b,c)); an occupied slot is freed first */
    SGF_OP_CALLOC,       /* slot = calloc(n, size/n), n = {1,2,7,64}[a>>6]; checked zero */
    SGF_OP_REALLOC,      /* slot = realloc(slot, size(b,c)); size 0 frees */
    SGF_OP_REALLOC_REL,  /* realloc relative to the old request: rel_table[b & 15], c = step */
    SGF_OP_REALLOCARRAY, /* slot = reallocarray(slot, n, size/n) */
    SGF_OP_FREE,         /* free(slot); free(NULL) if empty */
    SGF_OP_ALIGNED,      /* a>>6: posix_memalign, aligned_alloc, memalign, valloc|pvalloc (c&1);
                            alignment 2^(b&31 % 21), size kind b>>5 with c (see sgf_aligned) */
    SGF_OP_USABLE,       /* malloc_usable_size(slot) must equal the value seen at allocation */
    SGF_OP_CHECK,        /* read the slot's block and check its pattern */
    SGF_OP_HANDOFF,      /* move slot to thread b%4, slot c%64 (freeing what is there) */
    SGF_OP_SWITCH,       /* current thread = a % 4 */
    SGF_OP_THREAD_EXIT,  /* the current thread's OS thread exits; a fresh one takes over its slots;
                            a>>6 == 3: fork() instead (see SGF_X_FORK in exec.h) */
    SGF_OP_BURST,        /* toggle burst: following ops of different threads may run concurrently */
    SGF_OP_IMPOSSIBLE,   /* a request that must fail: impossible_table[b % 16], c = parameter */
    SGF_OP_FREE_ALL,     /* free every slot of the current thread */
    SGF_OP_MALLOC_MANY,  /* {4,16,32,64}[a>>6] blocks of size(b,c) into slots a%64, a%64+1, ... */
    SGF_OP_HEAP,         /* first-class heaps: sub-op op >> 5 (enum sgf_heap_subop), heap a>>6 of
                            the current thread (each thread owns 4 heaps), slot a%64 */
    SGF_OP_COUNT
};

/* op % 32 -> opcode: weights favour the ops that churn the heap. */
#define SGF_OPCODE_TABLE                                                                       \
    {                                                                                          \
        SGF_OP_MALLOC, SGF_OP_MALLOC, SGF_OP_MALLOC, SGF_OP_MALLOC, SGF_OP_MALLOC,              \
        SGF_OP_HEAP, SGF_OP_CALLOC, SGF_OP_CALLOC, SGF_OP_REALLOC, SGF_OP_REALLOC,            \
        SGF_OP_REALLOC, SGF_OP_REALLOC_REL, SGF_OP_REALLOC_REL, SGF_OP_REALLOCARRAY,            \
        SGF_OP_FREE, SGF_OP_FREE, SGF_OP_FREE, SGF_OP_FREE, SGF_OP_HEAP, SGF_OP_ALIGNED,        \
        SGF_OP_ALIGNED, SGF_OP_USABLE, SGF_OP_CHECK, SGF_OP_HANDOFF, SGF_OP_HANDOFF,            \
        SGF_OP_SWITCH, SGF_OP_SWITCH, SGF_OP_THREAD_EXIT, SGF_OP_BURST, SGF_OP_IMPOSSIBLE,      \
        SGF_OP_FREE_ALL, SGF_OP_MALLOC_MANY                                                    \
    }

/* The first byte value (0..31) that encodes each opcode, for writers of inputs. */
#define SGF_BYTE_MALLOC 0
#define SGF_BYTE_CALLOC 6
#define SGF_BYTE_REALLOC 8
#define SGF_BYTE_REALLOC_REL 11
#define SGF_BYTE_REALLOCARRAY 13
#define SGF_BYTE_FREE 14
#define SGF_BYTE_ALIGNED 19
#define SGF_BYTE_USABLE 21
#define SGF_BYTE_CHECK 22
#define SGF_BYTE_HANDOFF 23
#define SGF_BYTE_SWITCH 25
#define SGF_BYTE_THREAD_EXIT 27
#define SGF_BYTE_BURST 28
#define SGF_BYTE_IMPOSSIBLE 29
#define SGF_BYTE_FREE_ALL 30
#define SGF_BYTE_MALLOC_MANY 31
#define SGF_BYTE_HEAP 5 /* also 18; the sub-op goes in the top 3 bits: SGF_BYTE_HEAP | sub << 5 */

/* Sub-ops of SGF_OP_HEAP (op >> 5). h = a >> 6 is one of the current thread's 4 heaps; a heap
 * op on a heap that does not exist creates it first (unlimited). Only the owning logical thread
 * allocates from (or sg_heap_free's into) its heaps, so a heap is used by one thread at a time. */
enum sgf_heap_subop {
    SGF_HEAP_MALLOC,      /* slot = sg_heap_malloc(h, size(b,c)); an occupied slot is freed first */
    SGF_HEAP_CALLOC,      /* slot = sg_heap_calloc(h, n, size/n), n = {1,2,7,64}[c & 3] */
    SGF_HEAP_REALLOC,     /* slot = sg_heap_realloc(h, slot, size(b,c)); a block that is not h's
                             is freed first (then it allocates) */
    SGF_HEAP_REALLOC_REL, /* the same, relative to the old request (rel_table[b & 15], c) */
    SGF_HEAP_FREE,        /* sg_heap_free(its heap, slot) when the block is in one of this
                             thread's heaps, else plain free */
    SGF_HEAP_REMOTE_FREE, /* plain free(slot) run by thread b%4 (the next one if that is this) */
    SGF_HEAP_NEW,         /* (re)create h: b>>6 == 0 unlimited, else sg_heap_new_limited with
                             limit (b&63) MiB + c*4 KiB, clamped to 1..64 MiB */
    SGF_HEAP_DESTROY      /* sg_heap_destroy(h): its blocks, in any thread's slots, are gone */
};
#define SGF_HEAPS 4 /* heaps per logical thread */

/* Size kinds: b >> 5 of a size pair (b, c); r = (b & 31) << 8 | c is the 13-bit parameter. */
enum sgf_size_kind {
    SGF_SIZE_TINY,   /* r & 127 */
    SGF_SIZE_SMALL,  /* r (0..8191) */
    SGF_SIZE_POW2,   /* 2^(r % 25) + pow2_delta[(r >> 5) & 15] */
    SGF_SIZE_STEP,   /* k * 2^n / 8, k = 8..15, n = 3..21, +{0,-1,+1,+8}: every class boundary */
    SGF_SIZE_LARGE,  /* 2^(14 + r % 7) (16 KiB..1 MiB) + large_delta[(r >> 3) & 15] */
    SGF_SIZE_MEDIUM, /* 16 * r - (r & 1) (to 128 KiB) */
    SGF_SIZE_BIG,    /* 64 * r + (r & 7) (to 512 KiB) */
    SGF_SIZE_EDGE    /* 2^(r % 21) - 16 + (r >> 5 & 31): every byte around a power of two */
};

#define SGF_SIZE_B(kind, r) ((unsigned char)(((kind) << 5) | (((r) >> 8) & 31)))
#define SGF_SIZE_C(r) ((unsigned char)((r) & 255))

#endif /* SGF_OPS_H */
