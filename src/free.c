/* free.c: free. The fast path pushes onto the page's local list; a block of another thread's
 * page is pushed onto that page's atomic list with one compare-and-swap. The checks that run
 * on every free are one line each, calling a cold reporter. */
#include "internal.h"
#include "slot.h"

/* ---- quarantine ----------------------------------------------------------------------------- */
/* A freed slot waits in a per-thread ring and leaves it at a random moment (when a later free
 * lands on its position), so a dangling pointer does not alias the next object of its size. */
SG_INLINE void *quarantine_swap(sg_heap_t *heap, void *p) {
#if SG_QUARANTINE
    if (sg_unlikely(heap->is_empty)) return p;
    size_t i = (size_t)(sg_random_next(&heap->rng) >> 32) & heap->quarantine_mask;
    void *out = heap->quarantine_ring[i];
    heap->quarantine_ring[i] = p;
    return out;
#else
    (void)heap;
    return p;
#endif
}

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

static SG_NOINLINE void free_local_slow(sg_heap_t *heap, sg_page_t *page) {
    if (page->in_full) sg_heap_page_unfull(heap, page);
    if (page->used == 0) sg_heap_page_retire(heap, page);
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

/* ---- free ------------------------------------------------------------------------------------ */
static SG_COLD _Noreturn void free_invalid(void *p) {
    sg_page_t *page = sg_page_of((uintptr_t)p);
    sg_report_invalid_free(p, page->kind == SG_PAGE_SMALL ? page->block_size - SG_CANARY_OVERHEAD : 0);
}

/* Budget (fast build): range check, descriptor load, slot check (one multiply), owner compare,
 * push: about 20 instructions and three well-predicted branches. */
void sg_free_impl(void *p) {
    uintptr_t a = (uintptr_t)p;
    if (sg_unlikely(!sg_in_arena(a))) {
        if (p) sg_large_free(p);
        return;
    }
    sg_page_t *page = sg_page_of(a);
    uint32_t idx;
    if (sg_unlikely(page->kind != SG_PAGE_SMALL || !sg_page_slot_at(page, a, &idx))) free_invalid(p);
    sg_vg_open_tail(page, p);
    sg_slot_check_live(page, p, idx);
    sg_heap_t *heap = sg_tls_heap;
    sg_slot_zero(heap, page, p);
    sg_vg_free(page, p);
    if (SG_QUARANTINE && !page->first_class) {   /* a heap's blocks may die with it: no delay */
        sg_slot_set_state(page, idx, SG_SLOT_QUARANTINED);
        p = quarantine_swap(heap, p);
        if (!p) return;
        page = sg_page_of((uintptr_t)p);
        idx = sg_slot_index_of(page, p);
        sg_slot_check_first_word(page, p);
    }
    sg_slot_set_state(page, idx, SG_SLOT_FREE);
    free_block(heap, page, p);
}

/* ---- usable size ---------------------------------------------------------------------------- */
size_t sg_usable_size_impl(const void *p) {
    uintptr_t a = (uintptr_t)p;
    if (!p) return 0;
    if (!sg_in_arena(a)) return sg_large_usable_size(p);
    sg_page_t *page = sg_page_of(a);
    if (sg_unlikely(page->kind != SG_PAGE_SMALL || !sg_page_is_slot(page, a)))
        sg_report_fatal("invalid pointer", p, 0);
    if (SG_EXACT_FREE_CHECKS) {
        uint8_t st = sg_slot_state(page, sg_slot_index_of(page, p));
        if (st == SG_SLOT_UNCARVED) sg_report_fatal("invalid pointer", p, 0);
        if (st != SG_SLOT_ALLOCATED) sg_report_fatal("use after free", p, sg_slot_reported_size(page, p));
    }
    sg_vg_open_tail(page, p);
    return SG_CANARY ? sg_canary_size(page, p) : page->block_size;
}
