/* free.c: free. The fast path pushes onto the page's local list; a block of another thread's
 * page is pushed onto that page's atomic list with one compare-and-swap. The checks that run
 * on every free are one line each, calling a cold reporter. */
#include "internal.h"
#include "slot.h"

#include <errno.h>
#include <sched.h>

/* ---- quarantine ----------------------------------------------------------------------------- */
/* A freed slot waits in a per-thread ring and leaves it at a random moment (when a later free
 * lands on its position), so a dangling pointer does not alias the next object of its size.
 * The position is drawn one free ahead, so that the block leaving at the next free (its first
 * word is checked and gets a link) can be fetched while the program runs: blocks leave in
 * random order, and the fetch was the free's largest cost. */
SG_INLINE void *ring_swap(sg_heap_t *heap, void *p) {
    void **ring = heap->quarantine_ring;
    size_t i = heap->ring_next;
    void *out = ring[i];
    ring[i] = p;
    i = (size_t)(sg_random_next(&heap->rng) >> 32) & heap->quarantine_mask;
    heap->ring_next = i;
    __builtin_prefetch(ring[i], 1);   /* a null entry: prefetches do not fault */
    return out;
}

#if SG_QUARANTINE
/* Blocks whose thread has no ring: the rings of exited threads are handed on to a shared one
 * (a short-lived thread's last frees would otherwise be reused at once), and threads past
 * their exit handler (freeing from a later thread-specific destructor, where a new heap would
 * never be handed on) use it too. Under a lock: thread exits and such frees are rare. */
#define SHARED_RING_SLOTS 256u   /* one more thread's worth of quarantined blocks (and pinned pages) */
static sg_heap_t shared_ring_heap;   /* only its ring and generator are used */
static void *shared_ring[SHARED_RING_SLOTS];
static atomic_flag shared_ring_lock = ATOMIC_FLAG_INIT;

void sg_free_lock(void) {
    while (atomic_flag_test_and_set_explicit(&shared_ring_lock, memory_order_acquire)) sched_yield();
}
void sg_free_unlock(void) { atomic_flag_clear_explicit(&shared_ring_lock, memory_order_release); }

static void *shared_swap(void *p) {
    sg_free_lock();
    if (!shared_ring_heap.quarantine_ring) {
        shared_ring_heap.quarantine_ring = shared_ring;
        shared_ring_heap.quarantine_mask = SHARED_RING_SLOTS - 1;
        shared_ring_heap.rng = sg_random_seed_thread(&shared_ring_heap);
    }
    void *out = ring_swap(&shared_ring_heap, p);
    sg_free_unlock();
    return out;
}

/* Threads without a heap of their own free too: one that only ever frees (a consumer) gets a
 * heap here (sg_tls_heap), for its ring. */
static SG_NOINLINE void *quarantine_heapless(void *p) {
    int saved = errno;   /* free leaves errno alone, even when the heap cannot be made */
    sg_heap_t *heap = sg_tls_exited ? NULL : sg_init_thread();
    errno = saved;
    return heap ? ring_swap(heap, p) : shared_swap(p);
}

/* After fork(): the shared ring's exits are drawn from the child's new secret too. */
void sg_free_child_reseed(void) {
    if (shared_ring_heap.quarantine_ring) shared_ring_heap.rng = sg_random_seed_thread(&shared_ring_heap);
}
#else
static void *quarantine_heapless(void *p) { return p; }
void sg_free_lock(void) {}
void sg_free_unlock(void) {}
void sg_free_child_reseed(void) {}
#endif

/* After fork(): a thread of the parent may have been delivering a free to a full page's heap
 * at that instant (DELAYED_FREEING), a state only that thread ends; the child has no such
 * thread, and its next free into the page would wait for it forever. Such pages go back to
 * USE_DELAYED: the block in flight, if its push had not finished, is lost to the child. */
static void end_delivery(sg_page_t *page, void *arg) {
    (void)arg;
    uintptr_t tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
    if ((tf & 3) == SG_TF_DELAYED_FREEING)
        atomic_store_explicit(&page->thread_free, (tf & ~(uintptr_t)3) | SG_TF_USE_DELAYED, memory_order_relaxed);
}
void sg_free_child_end_deliveries(void) { sg_arena_each_page(end_delivery, NULL); }

/* ---- delivery to the owner ------------------------------------------------------------------ */
/* Another thread's page: push onto its atomic list, or, when the page sits in its heap's full
 * queue, onto the heap's delayed list so that the owner learns the page has room again. */
static SG_NOINLINE void free_remote(sg_page_t *page, sg_block_t *b) {
    uintptr_t tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
    for (;;) {
        unsigned mode = (unsigned)(tf & 3);
        if (mode == SG_TF_USE_DELAYED) {
            if (atomic_compare_exchange_weak_explicit(&page->thread_free, &tf,
                                                      (tf & ~(uintptr_t)3) | SG_TF_DELAYED_FREEING,
                                                      memory_order_acquire, memory_order_relaxed))
                break;
            continue;
        }
        if (mode == SG_TF_DELAYED_FREEING) {
            __builtin_ia32_pause();
            tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
            continue;
        }
        b->next = sg_encode(&page->keys, b, (void *)(tf & ~(uintptr_t)3));
        if (atomic_compare_exchange_weak_explicit(&page->thread_free, &tf, (uintptr_t)b | mode,
                                                  memory_order_release, memory_order_relaxed))
            return;
    }
    /* The owner cannot abandon the page while it is DELAYED_FREEING, so its heap is alive. */
    sg_heap_t *heap = atomic_load_explicit(&page->heap, memory_order_acquire);
    sg_block_t *head = atomic_load_explicit(&heap->thread_delayed, memory_order_relaxed);
    do {
        b->next = sg_encode(&page->keys, b, head);
    } while (!atomic_compare_exchange_weak_explicit(&heap->thread_delayed, &head, b, memory_order_release,
                                                    memory_order_relaxed));
    tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&page->thread_free, &tf, (tf & ~(uintptr_t)3) | SG_TF_NORMAL,
                                                  memory_order_release, memory_order_relaxed)) {}
}

/* free leaves errno as it found it (POSIX.1-2024): a system call of its slow paths that fails
 * (a guard refused near vm.max_map_count, a purge) is handled here, not news to the caller. */
static SG_NOINLINE void free_local_slow(sg_heap_t *heap, sg_page_t *page) {
    int saved = errno;
    if (page->in_full) sg_heap_page_unfull(heap, page);
    if (page->used == 0) sg_heap_page_retire(heap, page);
    errno = saved;
}

static SG_NOINLINE void free_large(void *p, size_t expect, size_t align) {
    int saved = errno;
    sg_large_free(p, expect, align);
    errno = saved;
}

/* Give block b (already checked and scrubbed) back to its page. */
SG_INLINE void free_block(sg_heap_t *heap, sg_page_t *page, sg_block_t *b) {
    if (sg_likely(atomic_load_explicit(&page->heap, memory_order_relaxed) == heap)) {
        b->next = sg_encode(&page->keys, b, page->local_free);
        page->local_free = b;
        if (sg_unlikely(--page->used == 0 || page->in_full)) free_local_slow(heap, page);
    } else {
        free_remote(page, b);
    }
}

void sg_free_block(sg_heap_t *heap, sg_page_t *page, sg_block_t *b) { free_block(heap, page, b); }

/* A block leaving the quarantine (pushed out by a later free, or handed on) goes back to its
 * page; its first word is about to hold a link, which the write-after-free check cannot see
 * through: checked now. entry: the block, its low bit set when its free was remote (by a
 * thread that did not own the page, or into a first-class heap): the state it left is
 * QUARANTINED_REMOTE. */
#define RING_REMOTE ((uintptr_t)1)
SG_INLINE void quarantine_release(sg_heap_t *heap, void *entry) {
    void *q = (void *)((uintptr_t)entry & ~RING_REMOTE);
    sg_page_t *page = sg_page_of((uintptr_t)q);
    sg_slot_unquarantine(page, q, (uintptr_t)entry & RING_REMOTE);
    sg_slot_check_first_word(page, q);
    free_block(heap, page, q);
}

/* At thread exit (sg_heap_abandon): the ring's blocks move to the shared ring. */
void sg_quarantine_hand_on(sg_heap_t *heap) {
#if SG_QUARANTINE
    for (size_t i = 0; i <= heap->quarantine_mask; i++) {
        void *q = heap->quarantine_ring[i];
        if (!q) continue;
        heap->quarantine_ring[i] = NULL;
        q = shared_swap(q);
        if (q) quarantine_release(heap, q);
    }
#else
    (void)heap;
#endif
}

/* After fork(): the ring of a heap whose thread the child does not have (sg_heap_orphan). Its
 * entries are trusted no further than their slot states: a block leaves only if its state
 * moves from the one its free left (a compare-and-swap), and goes back as another thread's free
 * would. An entry the fork caught half-written stays where it is: its page is not given back. */
void sg_quarantine_orphan(sg_heap_t *heap) {
#if SG_QUARANTINE
    for (size_t i = 0; i <= heap->quarantine_mask; i++) {
        uintptr_t entry = (uintptr_t)heap->quarantine_ring[i];
        heap->quarantine_ring[i] = NULL;
        uintptr_t q = entry & ~RING_REMOTE;
        uint32_t idx;
        if (!q || !sg_in_arena(q)) continue;
        sg_page_t *page = sg_page_of(q);
        if (page->kind != SG_PAGE_SMALL || !sg_page_slot_at(page, q, &idx)) continue;
        uint8_t st = entry & RING_REMOTE ? SG_SLOT_QUARANTINED_REMOTE : SG_SLOT_QUARANTINED;
        if (!atomic_compare_exchange_strong_explicit(&page->state[idx], &st, SG_SLOT_FREE, memory_order_relaxed,
                                                     memory_order_relaxed))
            continue;
        free_remote(page, (sg_block_t *)q);
    }
#else
    (void)heap;
#endif
}

/* A limited first-class heap at its limit: the blocks its ring holds go back to their pages
 * before the heap refuses to grow (delayed reuse gives way to the limit). True if any did. */
bool sg_quarantine_drain(sg_heap_t *heap) {
    bool any = false;
#if SG_QUARANTINE
    for (size_t i = 0; i <= heap->quarantine_mask; i++) {
        void *q = heap->quarantine_ring[i];
        if (!q) continue;
        heap->quarantine_ring[i] = NULL;
        quarantine_release(heap, q);
        any = true;
    }
#else
    (void)heap;
#endif
    return any;
}

/* ---- free ------------------------------------------------------------------------------------ */
static SG_COLD _Noreturn void free_invalid(void *p) {
    sg_page_t *page = sg_page_of((uintptr_t)p);
    sg_report_invalid_free(p, page->kind == SG_PAGE_SMALL ? page->block_size - SG_CANARY_OVERHEAD : 0);
}

/* Budget (fast build): range check, descriptor load, slot check (one multiply), owner compare,
 * push: about 20 instructions and three well-predicted branches.
 * owner: the first-class heap the caller is the user of (sg_heap_free, sg_heap_realloc), whose
 * own ring delays the block; NULL: the calling thread's heap. A first-class heap's block freed
 * with plain free goes straight back to its page: a thread's ring must not hold blocks of a
 * heap that may be destroyed (and the heap's own ring belongs to the heap's one user).
 * expect, align: the size and alignment free_sized or free_aligned_sized was given
 * (SG_ANY_SIZE and 0 for free): with exact free checks, a block of another size or alignment
 * is reported (after a double free, which is named as such). */
SG_INLINE void free_impl(void *p, sg_heap_t *owner, size_t expect, size_t align) {
    uintptr_t a = (uintptr_t)p;
    if (sg_unlikely(!sg_in_arena(a))) {
        if (p) free_large(p, expect, align);
        return;
    }
    sg_page_t *page = sg_page_of(a);
    uint32_t idx;
    if (sg_unlikely(page->kind != SG_PAGE_SMALL || !sg_page_slot_at(page, a, &idx))) free_invalid(p);
    sg_vg_open_tail(page, p);
    /* of two threads freeing one block at once, exactly one takes it; the other reports the
     * double free before it touches the block, or when the block leaves its quarantine (the
     * owner's free racing another thread's: sg_slot_claim). A first-class heap's free counts
     * as remote: plain free may give the same block back from any thread at that instant, and
     * skips the quarantine, where nothing would check it later. */
    bool quarantine = SG_QUARANTINE && (!page->first_class || owner);
    sg_heap_t *heap = owner ? owner : sg_tls_heap;
    bool remote = quarantine && (atomic_load_explicit(&page->heap, memory_order_relaxed) != heap || page->first_class);
    size_t r = sg_slot_check_release(page, p, idx, !quarantine ? SG_SLOT_FREE
                                                   : remote  ? SG_SLOT_QUARANTINED_REMOTE : SG_SLOT_QUARANTINED);
    if (SG_EXACT_FREE_CHECKS && expect != SG_ANY_SIZE && sg_unlikely(!sg_sized_free_ok(p, r, SG_CANARY, expect, align)))
        sg_sized_free_mismatch(p, r, sg_sized_free_size_ok(r, SG_CANARY, expect));
    sg_slot_zero(heap, page, p, r);
    sg_vg_free(page, p);
    if (quarantine) {
        void *entry = (void *)((uintptr_t)p | (remote ? RING_REMOTE : 0));
        if (sg_likely(!heap->is_empty)) {
            entry = ring_swap(heap, entry);
        } else {
            entry = quarantine_heapless(entry);
            heap = sg_tls_heap;   /* it may have one now */
        }
        if (entry) quarantine_release(heap, entry);
        return;
    }
    free_block(heap, page, p);
}

SG_HOT_ENTRY void sg_free_impl(void *p) { free_impl(p, NULL, SG_ANY_SIZE, 0); }
void sg_free_into(sg_heap_t *heap, void *p) { free_impl(p, heap, SG_ANY_SIZE, 0); }

/* C23's free_sized (alignment 0) and free_aligned_sized: the size must be the one the block was
 * allocated (or last reallocated) with, and the block aligned as said. C23 makes anything else
 * undefined; glibc ignores both. With exact free checks a mismatch is reported, as for any
 * other invalid free: code that frees with the wrong size has lost track of what the block is. */
void sg_free_sized_impl(void *p, size_t size, size_t alignment) {
    /* an alignment that is no power of two fits no block: taken as one no block has */
    if (alignment & (alignment - 1)) alignment = (size_t)1 << (sizeof(size_t) * 8 - 1);
    if (!SG_EXACT_FREE_CHECKS) size = SG_ANY_SIZE;
    free_impl(p, NULL, size, alignment ? alignment : 1);
}

/* "wrong size at free" names the size the block has; a right size at the wrong alignment is
 * "wrong alignment at free". */
_Noreturn void sg_sized_free_mismatch(const void *p, size_t size, bool size_ok) {
    sg_report_fatal(size_ok ? "wrong alignment at free" : "wrong size at free", p, size);
}

/* ---- usable size ---------------------------------------------------------------------------- */
size_t sg_usable_size_impl(const void *p) {
    uintptr_t a = (uintptr_t)p;
    if (!p) return 0;
    if (!sg_in_arena(a)) return sg_large_usable_size(p);
    sg_page_t *page = sg_page_of(a);
    if (sg_unlikely(page->kind != SG_PAGE_SMALL || !sg_page_is_slot(page, a)))
        sg_report_fatal("invalid pointer", p, 0);
    sg_vg_open_tail(page, p);
    if (SG_EXACT_FREE_CHECKS) {
        uint8_t st = sg_slot_state(page, sg_slot_index_of(page, p));
        if (st != SG_SLOT_ALLOCATED && sg_slot_never_used(page, p, st)) sg_report_fatal("invalid pointer", p, 0);
        if (st != SG_SLOT_ALLOCATED) sg_report_fatal("use after free", p, sg_slot_reported_size(page, p));
    }
    return SG_CANARY ? sg_canary_size(page, p) : page->block_size;
}
