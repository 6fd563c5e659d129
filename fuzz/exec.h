/* fuzz/exec.h: the decoded program and the pieces of the interpreter (internal to fuzz/).
 *   harness.c  bytes -> program (sgf_decode)
 *   shadow.c   the shadow model: block patterns, live intervals, answer checks
 *   exec.c     running a program on threads (sgf_run) */
#ifndef SGF_EXEC_H
#define SGF_EXEC_H

#include "harness.h"

#define SGF_MAX_EXEC 32768 /* decoded ops per input (one record may emit up to 128) */

/* What an op does when run; more specific than the input opcodes. */
enum sgf_exec_kind {
    SGF_X_MALLOC,
    SGF_X_CALLOC,
    SGF_X_REALLOC,
    SGF_X_REALLOCARRAY,
    SGF_X_FREE,
    SGF_X_POSIX_MEMALIGN,
    SGF_X_ALIGNED_ALLOC,
    SGF_X_MEMALIGN,
    SGF_X_VALLOC,
    SGF_X_PVALLOC,
    SGF_X_USABLE,
    SGF_X_CHECK,
    SGF_X_HANDOFF,
    SGF_X_EXIT,
    SGF_X_FAIL_MALLOC,
    SGF_X_FAIL_CALLOC,
    SGF_X_FAIL_REALLOC,
    SGF_X_FAIL_REALLOCARRAY,
    SGF_X_FAIL_POSIX_MEMALIGN,
    SGF_X_FAIL_ALIGNED_ALLOC,
    SGF_X_FAIL_MEMALIGN,
    SGF_X_FAIL_VALLOC,
    SGF_X_FAIL_PVALLOC,
    SGF_X_HEAP_NEW,     /* heap op->hp: n = limit (0: unlimited) */
    SGF_X_HEAP_DESTROY, /* heap op->hp; the slots holding its blocks are emptied, not touched */
    SGF_X_HEAP_MALLOC,  /* the rest work on slot (t, s) with heap op->hp */
    SGF_X_HEAP_CALLOC,
    SGF_X_HEAP_REALLOC,
    SGF_X_HEAP_FREE,
    SGF_X_FORK,         /* fork(): the child checks every live block, frees the current thread's,
                           allocates and frees more, exits 0; the parent waits for it */
    SGF_X_COUNT
};

typedef struct sgf_op {
    uint8_t kind;   /* sgf_exec_kind */
    uint8_t exec;   /* logical thread that runs it */
    uint8_t t, s;   /* the slot it works on */
    uint8_t t2, s2; /* HANDOFF: destination slot */
    uint8_t hp;     /* heap ops: heap index 1 + t * SGF_HEAPS + h (0: none) */
    uint16_t burst; /* burst section (0: serial) */
    uint32_t id;    /* id of the block it creates (its fill pattern) */
    uint32_t record;/* index of the input record it came from */
    size_t size;    /* request in bytes (element size for FAIL_CALLOC/_REALLOCARRAY) */
    size_t n;       /* CALLOC/REALLOCARRAY: count; aligned: alignment */
    int32_t result; /* the observable answer (0 ok, SGF_NULL + errno, or a return code) */
} sgf_op_t;

#define SGF_NULL 1000 /* result of a NULL answer: SGF_NULL + errno */

typedef struct sgf_program {
    size_t n;
    sgf_op_t ops[SGF_MAX_EXEC];
} sgf_program_t;

/* One slot's runtime state (its block). occ with p == NULL only for a NULL answer to size 0,
 * or for a limited heap's refusal. */
typedef struct sgf_slot {
    void *p;
    size_t usable, req;
    uint32_t id;
    uint8_t occ;
    uint8_t hp; /* heap index of the block (1 + t * SGF_HEAPS + h), 0 for the plain heap */
    uint8_t sized; /* how C23's sized frees may name it: 0 not, 1 free_sized, 2 free_aligned_sized */
    size_t align;  /* its alignment, for free_aligned_sized */
} sgf_slot_t;

extern sgf_slot_t sgf_slots[SGF_LTHREADS][SGF_SLOTS];

#define SGF_NHEAPS (SGF_LTHREADS * SGF_HEAPS)

// ---- harness.c ----
void sgf_decode(const uint8_t *data, size_t size, sgf_program_t *prog);

// ---- shadow.c ----
const char *sgf_kind_name(unsigned kind);
/* The op whose failure messages name; per thread. */
void sgf_shadow_set_op(const sgf_op_t *op);
void sgf_shadow_reset(void);
/* A new block p of req bytes (align 0: malloc's default); checks usable size, alignment,
 * overlap with every live block, and that the first zero_bytes are zero. Returns usable. */
size_t sgf_shadow_new(void *p, size_t req, size_t align, size_t zero_bytes);
/* Checks that the first `bytes` of p hold block id's pattern. */
void sgf_shadow_pattern(const void *p, size_t bytes, uint32_t id);
/* Checks that p's usable size is still `usable` and all of it holds block id's pattern. */
void sgf_shadow_check(const void *p, size_t usable, uint32_t id);
void sgf_shadow_fill(void *p, size_t usable, uint32_t id);
/* Take p out of the live set (before it is given back to the allocator). */
void sgf_shadow_forget(const void *p);

#endif /* SGF_EXEC_H */
