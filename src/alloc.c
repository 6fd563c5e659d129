/* alloc.c: malloc, calloc, realloc and the aligned allocations. The fast path is one inline
 * function with one unlikely branch to the generic path in heap.c. */
#include "internal.h"
#include "slot.h"

#include <errno.h>
#include <string.h>

#define SMALL_MAX_REQUEST (SG_MAX_CLASS - SG_CANARY_OVERHEAD)

/* Pop a slot of class cls for a request of size bytes.
 * Budget (fast build): TLS load, class lookup, page load, list pop, count: about 12
 * instructions, one branch. Secure builds add the link check, slot state and canary. */
SG_INLINE void *heap_alloc_class(sg_heap_t *heap, size_t size, unsigned cls) {
    sg_page_t *page = heap->current[cls];
    sg_block_t *b = page->free;
    if (sg_unlikely(b == NULL)) return sg_heap_alloc_generic(heap, size, cls);
    sg_block_t *next = sg_decode(&page->keys, b, b->next);
    if (SG_ENCODE_FREELIST && next && sg_unlikely(!sg_page_is_slot(page, (uintptr_t)next)))
        sg_report_corrupt_pop(page, b);
    page->free = next;
    page->used++;
    /* secure builds read the next slot whole at the next malloc (its link, the write-after-free
     * scan): with slots in random order it is rarely in cache, so start fetching it now */
    if (SG_WRITE_AFTER_FREE) __builtin_prefetch(next);
    sg_slot_arm(heap, page, b, size);
    return b;
}

static SG_NOINLINE void *alloc_large_or_fail(size_t size) {
    if (size > SG_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    return sg_large_alloc(size, 0, false);
}

SG_HOT_ENTRY void *sg_alloc(size_t size) {
    if (sg_likely(size <= SMALL_MAX_REQUEST))
        return heap_alloc_class(sg_tls_heap, size, sg_size_class_fast(size + SG_CANARY_OVERHEAD));
    return alloc_large_or_fail(size);
}

/* A small block handed out reads zero from byte 0 to here: freed slots were zeroed, and the
 * write-after-free check proved the first SG_WAF_CHECK_MAX bytes still are, and past them as far
 * as the last block in the slot reached; a write through an older block's dangling pointer
 * beyond that would reach a calloc caller unseen, so calloc clears the rest. */
SG_INLINE void zero_rest(void *p, size_t size) {
    size_t from = SG_ZERO_ON_FREE && SG_WRITE_AFTER_FREE ? SG_WAF_CHECK_MAX : 0;
    if (p && size > from) memset((char *)p + from, 0, size - from);
}

/* A large block of heap, within its limit. make_room: the caller is the heap's user, who may
 * first take back the blocks its quarantine holds (sg_heap_make_room); another thread may not. */
static void *alloc_large_in(sg_heap_t *heap, size_t size, bool zero, bool make_room) {
    if (size > SG_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    /* what it will map: the pages, and a guard page on each side where there are guards */
    size_t bytes = (size + 2 * (SG_GUARD_PAGES ? SG_OS_PAGE : 0) + SG_OS_PAGE - 1) & ~(size_t)(SG_OS_PAGE - 1);
    if (!heap->limit) return sg_large_alloc_owned(size, 0, zero, heap);
    /* counted before it is mapped (sg_heap_reserve); the block, once mapped, counts the rest */
    if (!sg_heap_reserve(heap, bytes) && (!make_room || !sg_heap_make_room(heap) || !sg_heap_reserve(heap, bytes))) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = sg_large_alloc_reserved(size, zero, heap, bytes);
    if (!p) atomic_fetch_sub_explicit(&heap->mapped, bytes, memory_order_relaxed);
    return p;
}

/* The new block of a plain realloc that moves a heap's large block, on any thread: a large one
 * stays in the heap; a small one comes from the calling thread's heap, as for a small block
 * (only the heap's user touches its pages and quarantine). */
void *sg_alloc_moving_from(sg_heap_t *heap, size_t size) {
    return size > SMALL_MAX_REQUEST ? alloc_large_in(heap, size, false, false) : sg_alloc(size);
}

/* Allocation from a given heap (first-class heaps); zero: the block must read zero. */
void *sg_alloc_in(sg_heap_t *heap, size_t size, bool zero) {
    if (size > SMALL_MAX_REQUEST) return alloc_large_in(heap, size, zero, true);
    void *p = heap_alloc_class(heap, size, sg_size_class(size + SG_CANARY_OVERHEAD));
    if (zero) zero_rest(p, size);
    return p;
}

void *sg_alloc_zeroed(size_t count, size_t size) {
    size_t total;
    if (sg_unlikely(__builtin_mul_overflow(count, size, &total) || total > SG_MAX_REQUEST)) {
        errno = ENOMEM;
        return NULL;
    }
    if (total > SMALL_MAX_REQUEST) return sg_large_alloc(total, 0, true);
    void *p = heap_alloc_class(sg_tls_heap, total, sg_size_class(total + SG_CANARY_OVERHEAD));
    /* With zero-on-free a slot handed out was scrubbed when freed (fresh and purged memory
     * reads zero, the link word is cleared when popped), and it was checked (zero_rest);
     * small blocks that came from the large path (start-up) are fresh mappings. */
    zero_rest(p, total);
    return p;
}

/* ---- aligned ------------------------------------------------------------------------------ */
/* alignment: a power of two. Slots of a class whose size is a multiple of the alignment are
 * aligned (pages start on 64 KiB boundaries), so up to 64 KiB the slab serves it. */
void *sg_alloc_aligned(size_t alignment, size_t size) {
    if (alignment <= SG_MIN_ALIGN) return sg_alloc(size);
    if (size > SG_MAX_REQUEST || alignment > SG_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need = size + SG_CANARY_OVERHEAD;
    if (alignment <= SG_UNIT_SIZE && need <= SG_MAX_CLASS) {
        unsigned cls = sg_size_class(need > alignment ? need : alignment);
        while (cls < SG_CLASS_COUNT && (sg_class_size[cls] & (alignment - 1))) cls++;
        if (cls < SG_CLASS_COUNT) {
            void *p = heap_alloc_class(sg_tls_heap, size, cls);
            if (p && ((uintptr_t)p & (alignment - 1)) == 0) return p;
            if (p) sg_free_impl(p); /* served by the start-up path: not aligned */
        }
    }
    return sg_large_alloc(size, alignment, false);
}

/* ---- realloc ------------------------------------------------------------------------------ */
/* The size of small block p (in the arena), checked as realloc checks it: a block freed already
 * is a double free (realloc frees its argument), a pointer slabguard never returned an invalid
 * free, a trampled canary an overflow. Its page in *pagep. */
SG_INLINE size_t small_old_size(void *p, sg_page_t **pagep) {
    uintptr_t a = (uintptr_t)p;
    sg_page_t *page = *pagep = sg_page_of(a);
    uint32_t idx;
    if (sg_unlikely(page->kind != SG_PAGE_SMALL || !sg_page_slot_at(page, a, &idx)))
        sg_report_invalid_free(p, page->kind == SG_PAGE_SMALL ? page->block_size - SG_CANARY_OVERHEAD : 0);
    sg_vg_open_tail(page, p);
    return sg_slot_check_live(page, p, idx);
}

/* The same for any block p (non-null), for sg_heap_realloc, which reported a freed block as a
 * "use after free" (malloc_usable_size's words) where plain realloc says "double free". */
size_t sg_realloc_old_size(void *p) {
    sg_page_t *page;
    return sg_in_arena((uintptr_t)p) ? small_old_size(p, &page) : sg_large_realloc_size(p);
}

void *sg_realloc_impl(void *p, size_t size) {
    if (!p) return sg_alloc(size);
    if (size == 0) {
        sg_free_impl(p);   /* glibc: realloc(p, 0) frees and returns NULL */
        return NULL;
    }
    if (!sg_in_arena((uintptr_t)p)) return sg_large_realloc(p, size);
    sg_page_t *page;
    size_t old = small_old_size(p, &page);
    size_t need = size + SG_CANARY_OVERHEAD;
    /* stay in place while the new size fits and does not waste more than half the slot */
    if (size <= SMALL_MAX_REQUEST && need <= page->block_size && need * 2 > page->block_size) {
        /* growing in place: the bytes past the old size held the canary; never show them */
        size_t old_user = sg_vg_user_size(page, old), new_user = sg_vg_user_size(page, size);
        if (new_user > old_user) sg_vg_open((char *)p + old_user, new_user - old_user);
        if (SG_CANARY && size > old) memset((char *)p + old, 0, size - old);
        /* shrinking: the bytes given up and the old canary read zero again (a free zeroes only
         * up to the size it finds then) */
        if (SG_ZERO_ON_FREE && SG_CANARY && size < old) memset((char *)p + size + 8, 0, old - size);
        sg_canary_write(page, p, size);
        VALGRIND_RESIZEINPLACE_BLOCK(p, old_user, new_user, 0);
        if (new_user < page->block_size) VALGRIND_MAKE_MEM_NOACCESS((char *)p + new_user, page->block_size - new_user);
        return p;
    }
    /* from the calling thread's heap, even for a first-class heap's block: plain realloc may run
     * on any thread, and only the heap's one user may allocate from it (sg_heap_realloc keeps a
     * block in its heap) */
    void *q = sg_alloc(size);
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    sg_free_impl(p);
    return q;
}
