/* internal.h: shared types (page, heap, arena state) and tiny inline helpers; cross-file
 * prototypes grouped under the file that defines them. */
#ifndef SG_INTERNAL_H
#define SG_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "encode.h"
#include "slabguard.h"

/* Everything declared from here on is internal to the library: hidden, so it is reached
 * directly (no GOT load) on the fast paths. */
#pragma GCC visibility push(hidden)

#define sg_likely(x)   __builtin_expect(!!(x), 1)
#define sg_unlikely(x) __builtin_expect(!!(x), 0)
#define SG_NOINLINE    __attribute__((noinline))
/* malloc's and free's bodies start on a cache line: where they fall otherwise moves with every
 * unrelated change before them, and seed-burst (fast build) ran 5-7% slower for a 48-byte shift
 * with the same instructions (alternated pinned runs, 2026-12-07). */
#define SG_HOT_ENTRY   __attribute__((aligned(64)))
#define SG_COLD        __attribute__((cold, noinline))
#define SG_INLINE      static inline __attribute__((always_inline))
#define SG_HIDDEN      __attribute__((visibility("hidden")))

/* Debug asserts: compiled out unless SG_DEBUG, but always type-checked. Security checks are
 * never asserts: they are `if (...) sg_report_*()` and stay in every build. */
#ifdef SG_DEBUG
#define SG_ASSERT(c) ((c) ? (void)0 : sg_report_fatal("assertion failed: " #c, NULL, __LINE__))
#else
#define SG_ASSERT(c) ((void)sizeof((c) ? 1 : 0))
#endif

/* ---- blocks and pages ------------------------------------------------------------------- */
typedef struct sg_block_s { sg_link_t next; } sg_block_t;
typedef struct sg_heap_s sg_heap_t;

enum sg_page_kind { SG_PAGE_UNUSED = 0, SG_PAGE_SMALL = 1, SG_PAGE_TAIL = 2 };

/* Per-slot state, out of line (exact free checks). UNCARVED slots were never handed out since
 * the page was made; FREE slots sit in one of the page's free lists; a QUARANTINED slot was
 * freed by its page's owner, a QUARANTINED_REMOTE one by another thread (slot.h, sg_slot_claim). */
enum sg_slot_state {
    SG_SLOT_UNCARVED = 0, SG_SLOT_FREE = 1, SG_SLOT_ALLOCATED = 2, SG_SLOT_QUARANTINED = 3, SG_SLOT_QUARANTINED_REMOTE = 4
};

/* Low two bits of page->thread_free: how a free from another thread is delivered. */
enum sg_delayed {
    SG_TF_NORMAL = 0,         /* push onto page->thread_free */
    SG_TF_USE_DELAYED = 1,    /* page is in its heap's full queue: push onto heap->thread_delayed */
    SG_TF_DELAYED_FREEING = 2,/* a freeing thread is pushing to the heap right now: wait */
    SG_TF_NEVER_DELAYED = 3,  /* abandoned page: no heap to tell */
};

/* A page descriptor: out of line, in the metadata region, one per arena unit (tail units of a
 * multi-unit span only point back at the head). Never adjacent to user data. */
typedef struct sg_page_s {
    /* line 0, read by every thread, written when the page is made or given back */
    _Alignas(64) uint8_t kind;   /* enum sg_page_kind */
    uint8_t cls;
    uint8_t dirty;               /* arena: memory not yet purged */
    uint8_t guarded;             /* arena: a guard follows the span */
    uint8_t first_class;         /* owned by an sg_heap_new heap: frees skip the quarantine */
    uint8_t div_shift;           /* block_size = odd << div_shift */
    uint8_t cold;                /* its memory was not resident when the page was made */
    uint8_t cooling;             /* arena: a destroyed heap's span, not reusable yet */
    uint8_t span_tag;            /* arena: 1 + the class the span serves for good (class
                                  * isolation), 0 without it */
    uint32_t units;              /* span length in arena units */
    uint32_t head_offset;        /* tail units: distance back to the head unit */
    uint32_t block_size;
    uint32_t capacity;           /* slots in the page */
    uintptr_t start;             /* address of slot 0 */
    uint64_t div_inv;            /* the inverse of block_size's odd part, mod 2^64 */
    sg_keys_t keys;              /* free-link secrets of this page (encode.h) */
    uint64_t canary_key;         /* canary and size-word secrets, independent of the link keys: */
    uint64_t canary_mul;         /* mixed per slot (slot.h, sg_slot_secret); odd */
    _Atomic(sg_heap_t *) heap;   /* owner, NULL when abandoned */
#if SG_SLOT_STATES
    _Atomic(uint8_t) *state;     /* enum sg_slot_state per slot, out of line (arena.c) */
#endif
    /* line 1, the owner's: written on every malloc and local free */
    _Alignas(64) sg_block_t *free; /* the list allocations pop from */
    sg_block_t *local_free;      /* the owner's frees */
    uint32_t used;               /* slots handed out and not yet collected back */
    uint32_t carved;             /* slots put into free lists since the page was made */
    uint8_t in_full;             /* in the heap's full queue */
    uint8_t orphan;              /* its heap's thread is not in this forked child (heap.c) */
    uint32_t populated;          /* cold pages: bytes from the start faulted in ahead of carving */
    struct sg_page_s *next, *prev; /* heap queue, abandoned list or arena free list */
    uint64_t freed_at_ms;        /* arena: when given back (purge delay) */
    /* line 2, written by other threads: kept apart so their frees do not slow the owner */
    _Alignas(64) _Atomic(uintptr_t) thread_free; /* other threads' frees | enum sg_delayed */
    _Atomic(int32_t) zero_asks;  /* cold pages of slots over 4 KiB: frees left that ask which
                                  * pages of the block are resident before zeroing (page.c) */
} sg_page_t;

typedef struct sg_queue_s { sg_page_t *first, *last; } sg_queue_t;

/* Doubly linked page queues (heap queues, abandoned lists, the arena's free spans). */
SG_INLINE void sg_queue_remove(sg_queue_t *q, sg_page_t *p) {
    if (p->prev) p->prev->next = p->next; else q->first = p->next;
    if (p->next) p->next->prev = p->prev; else q->last = p->prev;
    p->next = p->prev = NULL;
}
SG_INLINE void sg_queue_push_front(sg_queue_t *q, sg_page_t *p) {
    p->prev = NULL;
    p->next = q->first;
    if (q->first) q->first->prev = p; else q->last = p;
    q->first = p;
}
SG_INLINE void sg_queue_push_back(sg_queue_t *q, sg_page_t *p) {
    p->next = NULL;
    p->prev = q->last;
    if (q->last) q->last->next = p; else q->first = p;
    q->last = p;
}

/* A heap keeps its last few emptied pages instead of releasing each at once: a burst of
 * mallocs followed by as many frees would otherwise make and release pages every round. */
#define SG_RETIRE_RING 8

/* ---- heaps ------------------------------------------------------------------------------- */
/* A thread's heap. First-class heaps (sg_heap_new) will be objects of this same type. */
struct sg_heap_s {
    /* cache-line aligned: heaps sit side by side in the pool, and no thread's writes may land on
     * a line another thread's fast path reads */
    _Alignas(64) sg_page_t *current[SG_CLASS_COUNT]; /* fast path: page to pop from (sg_page_empty if none) */
    uint64_t rng;                        /* per-thread generator state (hot-path choices) */
    unsigned rng_epoch;                  /* sg_fork_epoch when rng was seeded */
    uint32_t fresh_pages, sweep_at;      /* fresh pages since the last sweep, and when the next one is due */
    uint32_t slow_calls;                 /* slow-path allocations since the last sg_arena_tick */
    sg_queue_t queue[SG_CLASS_COUNT];    /* pages with free slots, current first */
    sg_queue_t full;                     /* pages with no free slot */
    _Atomic(sg_block_t *) thread_delayed;/* frees from other threads into full pages */
    sg_heap_t *pool_next;                /* heap pool */
    sg_heap_t *live_prev, *live_next;    /* thread heaps in use (init.c) */
    sg_page_t *retired[SG_RETIRE_RING];  /* recently emptied pages, kept for quick reuse */
    uint32_t retired_pos;
    void **quarantine_ring;              /* the inline ring, or a larger mapped one (option) */
    size_t quarantine_mask;              /* ring size - 1 */
    size_t ring_next;                    /* where the next free lands, drawn one free ahead */
    uint32_t zero_size, scan_size;       /* slot size last zeroed, last scanned (slot.h) */
    uint8_t is_empty;                    /* the static not-yet-initialised heap */
    uint8_t first_class;                 /* made by sg_heap_new, not a thread's */
    uint8_t orphaned;                    /* a forked child's heap of a thread it does not have */
    uint64_t magic;                      /* first-class heaps: SG_HEAP_ALIVE while usable */
    size_t limit;                        /* first-class heaps: capacity in bytes (0: none) */
    _Atomic(size_t) mapped;              /* first-class heaps: bytes of pages and large blocks */
#if SG_QUARANTINE
    void *quarantine[SG_QUARANTINE_SLOTS];
#endif
};

/* ---- read-mostly process state: one page, sealed read-only after start-up --------------- */
typedef union sg_ro_u {
    struct {
        uintptr_t arena_base;    /* [arena_base, arena_base + arena_size) holds every page */
        size_t arena_size;       /* SG_ARENA_SIZE, less where the kernel refuses that much */
        sg_page_t *meta;         /* descriptor of unit i is meta[i] */
        unsigned char secret[32];/* from libsodium randombytes_buf; keys every derived secret */
        size_t guard_every;      /* arena: a guard after about every n-th span (0: none) */
        size_t quarantine_slots; /* per-thread ring size: the compiled floor or more (option) */
        uint64_t purge_delay_ms; /* option + 1, or 0 for the default */
        int verbose, stats_at_exit;
        int thp;                 /* SLABGUARD_THP=1: ask for transparent huge pages */
    };
    char page[4096];
} sg_ro_t;

extern sg_ro_t sg_ro;
extern _Thread_local sg_heap_t *sg_tls_heap;
extern sg_page_t sg_page_empty;

/* ---- size classes (size_class.c) -------------------------------------------------------- */
extern const uint32_t sg_class_size[SG_CLASS_COUNT];
extern const uint8_t sg_class_units[SG_CLASS_COUNT];
extern const uint8_t sg_class_small[65];
void sg_size_class_check(void);

/* Class for a block of `need` bytes, 1 <= need <= SG_MAX_CLASS. 16-byte steps up to 128, then
 * eight classes per doubling (at most 12.5% internal waste). */
SG_INLINE unsigned sg_size_class(size_t need) {
    size_t s = need - 1 + (need == 0);
    if (s < 128) return (unsigned)(s >> 4);
    unsigned p = 63u - (unsigned)__builtin_clzl(s);
    return 8u + (p - 7u) * 8u + (unsigned)((s >> (p - 3u)) & 7u);
}

/* The same, with a table lookup for the common small sizes (the malloc fast path). */
SG_INLINE unsigned sg_size_class_fast(size_t need) {
    if (sg_likely(need <= 1024)) return sg_class_small[(need + 15) >> 4];
    return sg_size_class(need);
}

/* ---- arena (arena.c) -------------------------------------------------------------------- */
bool sg_arena_init(void);
void sg_arena_fit_address_limit(size_t limit);
sg_page_t *sg_arena_alloc_span(unsigned units, unsigned cls, _Atomic(uint8_t) *states);
void sg_arena_free_span(sg_page_t *head);
void sg_arena_cool_span(sg_page_t *head);
_Atomic(uint8_t) *sg_arena_states_alloc(uint32_t capacity);
void sg_arena_states_free(_Atomic(uint8_t) *states, uint32_t capacity);
bool sg_arena_purge(bool all);
void sg_arena_tick(void);
size_t sg_arena_committed(void);
size_t sg_arena_dirty(void);
size_t sg_arena_frontier(void);
void sg_arena_each_page(void (*fn)(sg_page_t *page, void *arg), void *arg);
void sg_arena_lock(void);
void sg_arena_reseed(void);
void sg_arena_unlock(void);

SG_INLINE bool sg_in_arena(uintptr_t a) { return a - sg_ro.arena_base < sg_ro.arena_size; }
SG_INLINE sg_page_t *sg_page_of(uintptr_t a) {
    sg_page_t *pg = &sg_ro.meta[(a - sg_ro.arena_base) >> SG_UNIT_SHIFT];
    if (sg_unlikely(pg->kind == SG_PAGE_TAIL)) pg -= pg->head_offset;
    return pg;
}

/* ---- page (page.c) ---------------------------------------------------------------------- */
void sg_page_init(sg_page_t *page, unsigned cls, sg_heap_t *heap);
/* slots in a page of class cls */
SG_INLINE uint32_t sg_page_capacity(unsigned cls) {
    return (uint32_t)(((size_t)sg_class_units[cls] << SG_UNIT_SHIFT) / sg_class_size[cls]);
}
bool sg_page_extend(sg_page_t *page, sg_heap_t *heap);
void sg_page_collect(sg_page_t *page);
void sg_page_collect_orphan(sg_page_t *page);
void sg_page_release(sg_page_t *page);
void sg_page_discard(sg_page_t *page);
bool sg_page_set_delayed(sg_page_t *page, unsigned mode, bool override_never);

/* Slot arithmetic by exact division (Granlund and Montgomery; the divisibility test is
 * Lemire's): with block_size = m << k, m odd, rotr(off * m^-1 mod 2^64, k) is off / block_size
 * when block_size divides off, and more than 2^64 / block_size (so more than any capacity) when it
 * does not. One multiply answers both "which slot" and "is it a slot start", for any offset. */
SG_INLINE void sg_page_set_divisor(sg_page_t *page, uint32_t block_size) {
    unsigned k = (unsigned)__builtin_ctz(block_size);
    uint64_t m = block_size >> k, inv = m;   /* right to 3 bits; each step doubles them */
    for (int i = 0; i < 5; i++) inv *= 2 - m * inv;
    page->block_size = block_size;
    page->div_shift = (uint8_t)k;
    page->div_inv = inv;
}
SG_INLINE uint64_t sg_page_div(const sg_page_t *page, uintptr_t off) {
    uint64_t q = (uint64_t)off * page->div_inv;
    unsigned k = page->div_shift;
    return (q >> k) | (q << ((64 - k) & 63));
}
SG_INLINE uint32_t sg_page_slot_index(const sg_page_t *page, uintptr_t off) {
    return (uint32_t)sg_page_div(page, off);
}
/* Does p designate the start of a slot of this page? (checks range and boundary) */
SG_INLINE bool sg_page_slot_at(const sg_page_t *page, uintptr_t a, uint32_t *idx) {
    uint64_t q = sg_page_div(page, a - page->start);
    *idx = (uint32_t)q;
    return q < page->capacity;
}
SG_INLINE bool sg_page_is_slot(const sg_page_t *page, uintptr_t a) {
    uint32_t idx;
    return sg_page_slot_at(page, a, &idx);
}

/* ---- heap (heap.c) ---------------------------------------------------------------------- */
extern sg_heap_t sg_heap_empty;
void *sg_heap_alloc_generic(sg_heap_t *heap, size_t size, unsigned cls);
void sg_heap_page_unfull(sg_heap_t *heap, sg_page_t *page);
void sg_heap_page_retire(sg_heap_t *heap, sg_page_t *page);
void sg_heap_init(sg_heap_t *heap);
bool sg_heap_make_room(sg_heap_t *heap);
bool sg_heap_reserve(sg_heap_t *heap, size_t bytes);
bool sg_heap_trim(sg_heap_t *heap);
void sg_heap_orphan_pages(void);
void sg_heap_orphan(sg_heap_t *heap);
void sg_heap_abandon(sg_heap_t *heap);
void sg_heap_collect_delayed(sg_heap_t *heap);
void sg_heap_discard_pages(sg_heap_t *heap);
void sg_heap_lock_all(void);
/* Counts the forks this process descends from (init.c): a heap seeded before the last one
 * reseeds its generator, so two children of one parent do not make the same choices. */
extern unsigned sg_fork_epoch;
/* Set once the thread's heap was handed on at its exit (init.c). */
extern _Thread_local bool sg_tls_exited;
/* The shared quarantine ring of threads past their exit (free.c), held across fork. */
void sg_free_lock(void);
void sg_free_unlock(void);
void sg_quarantine_hand_on(sg_heap_t *heap);
bool sg_quarantine_drain(sg_heap_t *heap);
void sg_quarantine_orphan(sg_heap_t *heap);
void sg_free_child_reseed(void);
void sg_free_child_end_deliveries(void);
void sg_free_into(sg_heap_t *heap, void *p);
void sg_heap_reseed(sg_heap_t *heap);
void sg_heaps_lock(void);
void sg_heaps_unlock(void);
void sg_heap_unlock_all(void);
size_t sg_heap_abandoned_pages(void);
bool sg_heap_sweep_abandoned(void);

/* ---- alloc (alloc.c) and free (free.c) -------------------------------------------------- */
void *sg_alloc(size_t size);
void *sg_alloc_in(sg_heap_t *heap, size_t size, bool zero);
void *sg_alloc_moving_from(sg_heap_t *heap, size_t size);
void *sg_alloc_aligned(size_t alignment, size_t size);
void *sg_alloc_zeroed(size_t count, size_t size);
void *sg_realloc_impl(void *p, size_t size);
void sg_free_impl(void *p);
void sg_free_sized_impl(void *p, size_t size, size_t alignment);
_Noreturn SG_COLD void sg_sized_free_mismatch(const void *p, size_t size, bool size_ok);
/* Is the size of a block of size size what free_sized or free_aligned_sized said? Without
 * canaries a slot knows only its own size (exact: false), and a size beyond it is wrong. */
SG_INLINE bool sg_sized_free_size_ok(size_t size, bool exact, size_t expect) {
    return exact ? expect == size : expect <= size;
}
SG_INLINE bool sg_sized_free_ok(const void *p, size_t size, bool exact, size_t expect, size_t align) {
    return sg_sized_free_size_ok(size, exact, expect) && ((uintptr_t)p & (align - 1)) == 0;
}
void sg_free_block(sg_heap_t *heap, sg_page_t *page, sg_block_t *b);
size_t sg_usable_size_impl(const void *p);

/* ---- slot hardening (slot.h, inline) ---------------------------------------------------- */
/* see slot.h */

/* ---- recycled pages of large blocks (recycle.c) ------------------------------------------ */
#define SG_RECYCLE_PIECES 8                  /* each piece is a kernel mapping of its own */
#define SG_RECYCLE_LOST SIZE_MAX
size_t sg_recycle_fill(char *body, size_t len, uint32_t *piece_pages, unsigned max_pieces, unsigned *pieces,
                       char **lost, size_t *lost_len);
void sg_recycle_take_back(char *body, size_t len, const uint32_t *piece_pages, unsigned pieces);
bool sg_recycle_move_body(char *from, size_t len, const uint32_t *piece_pages, unsigned pieces, char *to,
                          size_t *lost_at, size_t *lost_len);
void sg_recycle_put_back(char *from, char *moved, size_t n);
void sg_recycle_adopt(unsigned pieces);
/* Pieces a block no longer counts as its own (realloc shrank it where it is). */
void sg_recycle_forget(unsigned pieces);
/* Blocks laid out on whole huge pages with guard markers (recycle.c). */
enum { SG_FILL_OK, SG_FILL_FAILED, SG_FILL_LOST };
bool sg_recycle_marked_ok(void);
bool sg_recycle_guard(void *p, size_t n);
bool sg_recycle_unguard(void *p, size_t n);
int sg_recycle_fill_slots(char *slot0, size_t n, uintptr_t lo, uintptr_t hi, unsigned *pieces, char **lost);
void sg_recycle_take_back_slots(char *slot0, size_t n, uintptr_t lo, uintptr_t hi, unsigned pieces);
bool sg_recycle_move_slots(char *from, char *to, size_t n, uintptr_t lo, uintptr_t hi, char **lost);
bool sg_recycle_pieces_room(void);
bool sg_recycle_trim(void);
size_t sg_recycle_bytes(void);
void sg_recycle_tick(void);
void sg_recycle_child_reset(void);
void sg_recycle_lock(void);
void sg_recycle_unlock(void);

/* ---- large blocks (large.c) ------------------------------------------------------------- */
void *sg_large_alloc(size_t size, size_t alignment, bool zero);
void *sg_large_alloc_owned(size_t size, size_t alignment, bool zero, sg_heap_t *owner);
void *sg_large_alloc_reserved(size_t size, bool zero, sg_heap_t *owner, size_t reserved);
void sg_large_discard_owned(sg_heap_t *owner);
/* expect, align: the size and alignment the caller says the block has (free_sized,
 * free_aligned_sized; sg_sized_free_mismatch), checked where exact free checks are on;
 * SG_ANY_SIZE and 0: not said */
#define SG_ANY_SIZE SIZE_MAX
void sg_large_free(void *p, size_t expect, size_t align);
void sg_large_tick(void);
size_t sg_large_usable_size(const void *p);
size_t sg_large_realloc_size(const void *p);
size_t sg_realloc_old_size(void *p);
void sg_large_lock(void);
void sg_large_unlock(void);
bool sg_large_owner_is(const void *p, const sg_heap_t *heap);
void sg_large_stats(size_t *count, size_t *bytes);
bool sg_large_trim(void);
/* large_grow.c: realloc of a large block */
void *sg_large_realloc(void *p, size_t size);
void *sg_large_shrink_in_place(void *p, size_t size);
/* large_cache.c: fast builds' cache of freed large mappings; called with large.c's lock */
#define SG_LARGE_CACHE_SLOTS 32
typedef struct {
    uintptr_t map;
    size_t map_size;
    uint64_t freed_ms;
    bool purged;
} sg_large_cached_t;
bool sg_large_cache_has(size_t need);
void *sg_large_cache_take(size_t need, size_t *got, bool *purged);
void *sg_large_cache_take_below(size_t need, size_t *got);
bool sg_large_cache_put(uintptr_t *at, size_t *size, uintptr_t *evict, size_t *evict_size);
size_t sg_large_cache_drain(sg_large_cached_t out[SG_LARGE_CACHE_SLOTS]);
void sg_large_cache_purge_idle(uint64_t now);
size_t sg_large_requested_bytes(void);
void sg_large_each_owned(sg_heap_t *owner, int (*fn)(void *block, size_t size, void *arg), void *arg);

/* ---- random (random.c) ------------------------------------------------------------------ */
bool sg_random_init(void);
void sg_random_rekey(void);
void sg_random_page_keys(sg_keys_t *out, uint64_t *canary_key, uint64_t *canary_mul, uintptr_t page_addr);
SG_INLINE uint64_t sg_random_next(uint64_t *state) {
    /* wyrand: one multiply, good enough for slot choices; seeded from libsodium per thread */
    *state += 0xa0761d6478bd642fULL;
    __uint128_t m = (__uint128_t)*state * (*state ^ 0xe7037ed1a0b428dbULL);
    return (uint64_t)(m >> 64) ^ (uint64_t)m;
}
uint64_t sg_random_seed_thread(const void *salt);
uint64_t sg_random_block_key(uintptr_t block);

/* ---- report (report.c): one named reporter per failure class, all noreturn -------------- */
_Noreturn SG_COLD void sg_report_fatal(const char *what, const void *p, size_t size);
_Noreturn SG_COLD void sg_report_double_free(const void *p, size_t size);
_Noreturn SG_COLD void sg_report_invalid_free(const void *p, size_t size);
_Noreturn SG_COLD void sg_report_corrupt_list(const void *p, size_t size);
/* A pop from page's allocation list found it corrupted at p: the list is cut first, so a crash
 * handler that allocates this size again does not pop it again (page.c). */
_Noreturn SG_COLD void sg_report_corrupt_pop(sg_page_t *page, const void *p);
_Noreturn SG_COLD void sg_report_overflow(const void *p, size_t size);
_Noreturn SG_COLD void sg_report_write_after_free(const void *p, size_t size);
void sg_report_warning(const char *msg);
/* The library's internal locks (arena, large blocks, recycled pages, abandoned pages, heap
 * pool, destroyed heaps). Each thread records the ones it holds, so that a fatal report made
 * under one (a check during the sweep of abandoned pages, a system call the kernel refused)
 * releases them before it writes and aborts: a SIGABRT handler that allocates then runs to its
 * end instead of waiting for ever. */
void sg_mutex_lock(pthread_mutex_t *m);
void sg_mutex_unlock(pthread_mutex_t *m);

/* ---- init (init.c) ---------------------------------------------------------------------- */
sg_heap_t *sg_init_thread(void);
/* A forked child: the heaps of the parent's other threads, marked at the fork, are orphaned
 * now (their pages and what they held back); nothing when there are none. */
void sg_orphans_settle(void);
sg_heap_t *sg_init_pool_get(void);
void sg_init_pool_put(sg_heap_t *heap);
bool sg_init_process(void);
bool sg_init_done(void);
bool sg_ro_unseal(void);
void sg_ro_seal(void);

/* ---- stats (stats.c) -------------------------------------------------------------------- */
extern _Atomic(size_t) sg_stat_pages, sg_stat_threads;

#pragma GCC visibility pop
#endif /* SG_INTERNAL_H */
