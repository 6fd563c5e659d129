/* heaps.c: first-class heaps (sg_heap_new). A heap is the same object as a thread's heap, with
 * no thread attached: its pages are its own, sg_heap_destroy gives all of them back at once, and
 * a limited heap refuses to grow past its capacity. Its allocations (and sg_heap_free) are not
 * synchronised: use a heap from one thread at a time; sg_free of its blocks is safe anywhere. */
#include "internal.h"
#include "slot.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#define SG_HEAP_ALIVE 0x5e1f4ea9a11fe5edULL   /* magic of a usable first-class heap */
#define SG_HEAP_DEAD  0xdeadbea9dead0001ULL

/* Destroyed heaps wait here before their structure is reused, so that a stale handle is still
 * recognised as destroyed for a while. */
#define GRAVEYARD 64
static pthread_mutex_t graveyard_mutex = PTHREAD_MUTEX_INITIALIZER;
static sg_heap_t *graveyard[GRAVEYARD];
static size_t graveyard_pos;

static SG_COLD _Noreturn void bad_heap(const sg_heap_t *heap) {
    sg_report_fatal(heap && heap->magic == SG_HEAP_DEAD ? "use of destroyed heap" : "invalid heap", heap, 0);
}

/* Every entry point checks its handle: one compare. */
static inline sg_heap_t *checked(sg_heap_t *heap) {
    if (sg_unlikely(!heap || heap->magic != SG_HEAP_ALIVE)) bad_heap(heap);
    return heap;
}

sg_heap_t *sg_heap_new_limited(size_t max_bytes) {
    if (!sg_init_thread() && !sg_init_process()) {
        errno = ENOMEM;
        return NULL;
    }
    sg_heap_t *heap = sg_init_pool_get();
    if (!heap) {
        errno = ENOMEM;
        return NULL;
    }
    sg_heap_init(heap);
    heap->first_class = 1;
    heap->limit = max_bytes;
    heap->magic = SG_HEAP_ALIVE;
    return heap;
}

sg_heap_t *sg_heap_new(void) { return sg_heap_new_limited(0); }

void *sg_heap_malloc(sg_heap_t *heap, size_t size) { return sg_alloc_in(checked(heap), size, false); }

void *sg_heap_calloc(sg_heap_t *heap, size_t count, size_t size) {
    checked(heap);   /* first: a dead handle is reported whatever the sizes */
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return sg_alloc_in(heap, total, true);
}

/* The owner of a block: its page's heap, or the large registry's record. */
static bool block_belongs_to(sg_heap_t *heap, void *p) {
    uintptr_t a = (uintptr_t)p;
    if (!sg_in_arena(a)) return sg_large_owner_is(p, heap); /* unknown pointers: reported at free */
    sg_page_t *page = sg_page_of(a);
    return page->kind == SG_PAGE_SMALL && atomic_load_explicit(&page->heap, memory_order_relaxed) == heap;
}

void sg_heap_free(sg_heap_t *heap, void *p) {
    checked(heap);
    if (!p) return;
    if (sg_unlikely(!block_belongs_to(heap, p))) sg_report_fatal("free into the wrong heap", p, 0);
    sg_free_into(heap, p);   /* the heap's only user: its own frees need no atomic list */
}

void *sg_heap_realloc(sg_heap_t *heap, void *p, size_t size) {
    checked(heap);
    if (!p) return sg_alloc_in(heap, size, false);
    if (sg_unlikely(!block_belongs_to(heap, p))) sg_report_fatal("realloc into the wrong heap", p, 0);
    if (size == 0) {
        sg_free_into(heap, p);
        return NULL;
    }
    size_t old = sg_realloc_old_size(p);
    if (sg_in_arena((uintptr_t)p)) {
        sg_page_t *page = sg_page_of((uintptr_t)p);
        size_t need = size + SG_CANARY_OVERHEAD;
        if (need <= page->block_size && need * 2 > page->block_size) return sg_realloc_impl(p, size); /* in place */
    }
    int saved = errno;
    void *q = sg_alloc_in(heap, size, false);
    if (!q && size <= old && !sg_in_arena((uintptr_t)p) && (q = sg_large_shrink_in_place(p, size))) {
        errno = saved;   /* no room for a new block beside it: a large block shrinks where it is */
        return q;
    }
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    sg_free_into(heap, p);
    return q;
}

void sg_heaps_lock(void) { sg_mutex_lock(&graveyard_mutex); }
void sg_heaps_unlock(void) { sg_mutex_unlock(&graveyard_mutex); }

void sg_heap_destroy(sg_heap_t *heap) {
    if (!heap) return;
    checked(heap);
    heap->magic = SG_HEAP_DEAD;
    sg_heap_discard_pages(heap);
    sg_large_discard_owned(heap);
    sg_mutex_lock(&graveyard_mutex);
    sg_heap_t *old = graveyard[graveyard_pos];
    graveyard[graveyard_pos] = heap;
    graveyard_pos = (graveyard_pos + 1) % GRAVEYARD;
    sg_mutex_unlock(&graveyard_mutex);
    if (old) sg_init_pool_put(old);
}

size_t sg_heap_mapped(sg_heap_t *heap) { return atomic_load_explicit(&checked(heap)->mapped, memory_order_relaxed); }

/* ---- walking a heap ------------------------------------------------------------------------- */
/* The slots of a page that are handed out: from the slot states where they exist; otherwise
 * every carved slot that no free list holds (fast builds carve in order, so 0..carved-1). */
static int visit_page(sg_page_t *page, int (*visit)(void *, size_t, void *), void *arg) {
    if (SG_SLOT_STATES) {
        for (uint32_t i = 0; i < page->capacity; i++) {
            if (sg_slot_state(page, i) != SG_SLOT_ALLOCATED) continue;
            void *b = (void *)(page->start + (uintptr_t)i * page->block_size);
            sg_vg_open_tail(page, b);
            size_t size = SG_CANARY ? sg_canary_size(page, b) : page->block_size;
            if (!visit(b, size, arg)) return 0;
        }
        return 1;
    }
    uint64_t free_bits[SG_MAX_SLOTS / 64];
    memset(free_bits, 0, sizeof free_bits);
    sg_block_t *lists[3] = { page->free, page->local_free,
                             (sg_block_t *)(atomic_load_explicit(&page->thread_free, memory_order_acquire) & ~(uintptr_t)3) };
    for (int l = 0; l < 3; l++) {
        uint32_t steps = 0;   /* a forged link can also close a cycle */
        for (sg_block_t *b = lists[l]; b && steps++ < page->capacity; b = sg_decode(&page->keys, b, b->next)) {
            uint32_t i;
            if (!sg_page_slot_at(page, (uintptr_t)b, &i)) break;   /* a link that leads out of the page */
            free_bits[i / 64] |= (uint64_t)1 << (i % 64);
        }
    }
    for (uint32_t i = 0; i < page->carved; i++) {
        if (free_bits[i / 64] & ((uint64_t)1 << (i % 64))) continue;
        if (!visit((void *)(page->start + (uintptr_t)i * page->block_size), page->block_size, arg)) return 0;
    }
    return 1;
}

void sg_heap_visit(sg_heap_t *heap, int (*visit)(void *block, size_t size, void *arg), void *arg) {
    if (!heap) heap = sg_tls_heap;
    else checked(heap);
    if (heap->is_empty) return;
    /* a block freed by another thread into a full page may wait on the heap's delayed list,
     * which no page's lists show: put such blocks on their pages first */
    sg_heap_collect_delayed(heap);
    for (unsigned c = 0; c < SG_CLASS_COUNT; c++)
        for (sg_page_t *p = heap->queue[c].first; p; p = p->next)
            if (!visit_page(p, visit, arg)) return;
    for (sg_page_t *p = heap->full.first; p; p = p->next)
        if (!visit_page(p, visit, arg)) return;
    if (heap->first_class) sg_large_each_owned(heap, visit, arg);
}
