/* heap.c: thread heaps. Per size class a queue of pages with free slots (the first is the one
 * the fast path pops from) and one queue of full pages; the generic allocation path that finds
 * or makes a page; frees from other threads into full pages; and handing a dead thread's pages
 * on to the threads that live. */
#include "internal.h"
#include "os.h"
#include "slot.h"

#include <errno.h>
#include <pthread.h>

/* The heap of a thread that has not allocated yet: every class points at the empty page, so
 * its first malloc takes the generic path, which sets the thread up. */
sg_heap_t sg_heap_empty = {
    .current = { [0 ... SG_CLASS_COUNT - 1] = &sg_page_empty },
    .is_empty = 1,
};

/* Pages of exited threads, per class, waiting for a thread that needs a page of that class. */
static pthread_mutex_t abandoned_mutex = PTHREAD_MUTEX_INITIALIZER;
static sg_queue_t abandoned[SG_CLASS_COUNT];
static size_t abandoned_count;

/* ---- queues ----------------------------------------------------------------------------------- */
static void update_current(sg_heap_t *heap, unsigned cls) {
    sg_page_t *first = heap->queue[cls].first;
    heap->current[cls] = first ? first : &sg_page_empty;
}

void sg_heap_reseed(sg_heap_t *heap) {
    heap->rng = sg_random_seed_thread(heap);
    heap->rng_epoch = sg_fork_epoch;
}

void sg_heap_init(sg_heap_t *heap) {
    for (unsigned c = 0; c < SG_CLASS_COUNT; c++) {
        heap->current[c] = &sg_page_empty;
        heap->queue[c].first = heap->queue[c].last = NULL;
    }
    heap->full.first = heap->full.last = NULL;
    atomic_store_explicit(&heap->thread_delayed, NULL, memory_order_relaxed);
    heap->is_empty = 0;
    heap->first_class = 0;
    heap->orphaned = 0;
    heap->magic = 0;
    heap->limit = 0;
    atomic_store_explicit(&heap->mapped, 0, memory_order_relaxed);
    for (unsigned i = 0; i < SG_RETIRE_RING; i++) heap->retired[i] = NULL;
    heap->retired_pos = 0;
    heap->fresh_pages = 0;
    heap->sweep_at = 8;
    sg_heap_reseed(heap);
#if SG_QUARANTINE
    /* SLABGUARD_QUARANTINE may ask for a larger ring than the compiled one: map it once per
     * heap structure (heap structures are pooled, never unmapped) */
    size_t want = sg_ro.quarantine_slots > SG_QUARANTINE_SLOTS ? sg_ro.quarantine_slots : SG_QUARANTINE_SLOTS;
    bool fresh = false;
    if (want > SG_QUARANTINE_SLOTS && (!heap->quarantine_ring || heap->quarantine_mask + 1 != want ||
                                       heap->quarantine_ring == heap->quarantine)) {
        void **ring = sg_os_map(want * sizeof(void *));
        if (ring) heap->quarantine_ring = ring, fresh = true;
        else want = SG_QUARANTINE_SLOTS;
    }
    if (want == SG_QUARANTINE_SLOTS) heap->quarantine_ring = heap->quarantine;
    heap->quarantine_mask = want - 1;
    heap->ring_next = 0;
    /* A mapped ring reads zero when fresh, and a reused one is purged: zero again, and none of
     * it resident until frees reach it (clearing it entry by entry made 8 MiB resident per
     * thread at SLABGUARD_QUARANTINE=1048576, for a thread that may free once). */
    if (want == SG_QUARANTINE_SLOTS) {
        for (size_t i = 0; i < want; i++) heap->quarantine_ring[i] = NULL;
    } else if (!fresh) {
        sg_os_purge(heap->quarantine_ring, want * sizeof(void *));
    }
#endif
}

/* ---- full pages ---------------------------------------------------------------------------------- */
/* Move a page with no free slot to the full queue; from now on other threads' frees into it are
 * delivered to this heap (thread_delayed), so the heap learns the page has room again without
 * scanning its full pages. Fails when a remote free slipped in: the caller collects it. */
static bool page_to_full(sg_heap_t *heap, sg_page_t *page) {
    uintptr_t tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
    for (;;) {
        if (tf & ~(uintptr_t)3) return false;
        if ((tf & 3) == SG_TF_DELAYED_FREEING) {
            __builtin_ia32_pause();
            tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&page->thread_free, &tf, (uintptr_t)SG_TF_USE_DELAYED,
                                                  memory_order_acq_rel, memory_order_relaxed))
            break;
    }
    sg_queue_remove(&heap->queue[page->cls], page);
    sg_queue_push_back(&heap->full, page);
    page->in_full = 1;
    return true;
}

void sg_heap_page_unfull(sg_heap_t *heap, sg_page_t *page) {
    sg_queue_remove(&heap->full, page);
    page->in_full = 0;
    sg_page_set_delayed(page, SG_TF_NORMAL, false);
    sg_queue_push_back(&heap->queue[page->cls], page);
    update_current(heap, page->cls);
}

static void release_page(sg_heap_t *heap, sg_page_t *page) {
    sg_queue_t *q = &heap->queue[page->cls];
    if (page->in_full) sg_heap_page_unfull(heap, page);
    sg_queue_remove(q, page);
    update_current(heap, page->cls);
    if (heap->first_class)
        atomic_fetch_sub_explicit(&heap->mapped, (size_t)page->units << SG_UNIT_SHIFT, memory_order_relaxed);
    sg_page_collect(page);
    sg_page_release(page);
}

/* A page became empty. It stays in its queue for now and enters the heap's ring of emptied
 * pages; the page it pushes out of the ring is released if it is still empty. So at most
 * SG_RETIRE_RING empty pages per heap wait for reuse, and a large free-all gives memory back. */
void sg_heap_page_retire(sg_heap_t *heap, sg_page_t *page) {
    if (page->in_full) sg_heap_page_unfull(heap, page);
    for (unsigned i = 0; i < SG_RETIRE_RING; i++)
        if (heap->retired[i] == page) return;
    unsigned pos = heap->retired_pos++ % SG_RETIRE_RING;
    sg_page_t *old = heap->retired[pos];
    heap->retired[pos] = page;
    if (!old) return;
    sg_queue_t *q = &heap->queue[old->cls];
    /* pages in the ring are this heap's (only abandon releases them otherwise, and it clears
     * the ring); the only page of a class stays */
    if (old->used == 0 && !(q->first == old && old->next == NULL)) release_page(heap, old);
}

/* ---- pages emptied behind the heap's back ---------------------------------------------------------- */
/* Other threads' frees wait on a page's atomic list until its owner next looks at the page,
 * which may be never for a class the owner stopped using: such a page, empty, would keep its
 * memory for good. So before the heap grows by a fresh page, now and then, it looks at all its
 * pages and gives the emptied ones back (the retire ring's pages stay, for quick reuse, except
 * when a first-class heap is at its limit: then every empty page goes). A sweep is due after
 * (pages / 4 + 8) fresh pages: every page is visited a bounded number of times per page made. */
static bool in_retire_ring(const sg_heap_t *heap, const sg_page_t *page) {
    for (unsigned i = 0; i < SG_RETIRE_RING; i++)
        if (heap->retired[i] == page) return true;
    return false;
}

static size_t sweep_emptied(sg_heap_t *heap, bool all) {
    size_t pages = 0;
    for (unsigned c = 0; c < SG_CLASS_COUNT; c++) {
        for (sg_page_t *p = heap->queue[c].first, *n; p; p = n) {
            n = p->next;
            pages++;
            if (atomic_load_explicit(&p->thread_free, memory_order_relaxed) & ~(uintptr_t)3) sg_page_collect(p);
            if (p->used != 0) continue;
            if (in_retire_ring(heap, p)) {
                if (!all) continue;
                for (unsigned i = 0; i < SG_RETIRE_RING; i++)
                    if (heap->retired[i] == p) heap->retired[i] = NULL;
            }
            release_page(heap, p);
        }
    }
    return pages;
}

/* A limited first-class heap at its limit, before it refuses: the blocks its quarantine holds go
 * back to their pages and every emptied page goes back to the arena. True if it freed anything
 * (then the caller checks the limit again). */
bool sg_heap_make_room(sg_heap_t *heap) {
    sg_heap_collect_delayed(heap);   /* other threads' frees into its full pages, first */
    bool drained = sg_quarantine_drain(heap);
    size_t before = atomic_load_explicit(&heap->mapped, memory_order_relaxed);
    sweep_emptied(heap, true);
    return drained || atomic_load_explicit(&heap->mapped, memory_order_relaxed) < before;
}

/* malloc_trim on the heap's own thread: every emptied page goes back, the retire ring's too. */
bool sg_heap_trim(sg_heap_t *heap) {
    size_t before = atomic_load_explicit(&sg_stat_pages, memory_order_relaxed);
    sg_heap_collect_delayed(heap);
    sweep_emptied(heap, true);
    return atomic_load_explicit(&sg_stat_pages, memory_order_relaxed) < before;
}

/* ---- frees delivered by other threads ------------------------------------------------------------ */
static sg_block_t *delayed_next(sg_block_t *b, sg_page_t **page_out) {
    if (sg_unlikely(!sg_in_arena((uintptr_t)b))) sg_report_corrupt_list(b, 0);
    sg_page_t *page = sg_page_of((uintptr_t)b);
    if (sg_unlikely(page->kind != SG_PAGE_SMALL || !sg_page_is_slot(page, (uintptr_t)b)))
        sg_report_corrupt_list(b, 0);
    *page_out = page;
    return sg_decode(&page->keys, b, b->next);
}

void sg_heap_collect_delayed(sg_heap_t *heap) {
    if (!atomic_load_explicit(&heap->thread_delayed, memory_order_relaxed)) return;
    sg_block_t *b = atomic_exchange_explicit(&heap->thread_delayed, NULL, memory_order_acquire);
    while (b) {
        sg_page_t *page;
        sg_block_t *next = delayed_next(b, &page);
        sg_free_block(heap, page, b);
        b = next;
    }
}

/* ---- finding a page ------------------------------------------------------------------------------- */
static sg_page_t *adopt_abandoned(sg_heap_t *heap, unsigned cls) {
    for (;;) {
        sg_mutex_lock(&abandoned_mutex);
        sg_page_t *page = abandoned[cls].first;
        if (page) {
            sg_queue_remove(&abandoned[cls], page);
            abandoned_count--;
        }
        sg_mutex_unlock(&abandoned_mutex);
        if (!page) return NULL;
        atomic_store_explicit(&page->heap, heap, memory_order_release);
        sg_page_set_delayed(page, SG_TF_NORMAL, true);
        sg_page_collect(page);
        sg_queue_push_front(&heap->queue[cls], page);
        if (page->free || page->carved < page->capacity) return page;
        if (!page_to_full(heap, page)) return page; /* a remote free just arrived */
    }
}

/* Count bytes a first-class heap is about to map, before it maps them: another thread's plain
 * realloc of one of its large blocks may map for it at the same moment, and both must not pass
 * its limit. False (nothing counted) when they would. */
bool sg_heap_reserve(sg_heap_t *heap, size_t bytes) {
    size_t cur = atomic_load_explicit(&heap->mapped, memory_order_relaxed);
    do {
        if (heap->limit && (cur + bytes < cur || cur + bytes > heap->limit)) return false;
    } while (!atomic_compare_exchange_weak_explicit(&heap->mapped, &cur, cur + bytes, memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

static sg_page_t *fresh_page(sg_heap_t *heap, unsigned cls) {
    size_t bytes = (size_t)sg_class_units[cls] << SG_UNIT_SHIFT;
    if (++heap->fresh_pages >= heap->sweep_at) {
        sg_heap_sweep_abandoned();
        size_t pages = sweep_emptied(heap, false);
        heap->fresh_pages = 0;
        heap->sweep_at = (uint32_t)(pages / 4 + 8 < UINT32_MAX ? pages / 4 + 8 : UINT32_MAX);
    }
    if (heap->first_class && !sg_heap_reserve(heap, bytes)) {
        sweep_emptied(heap, true);
        if (!sg_heap_reserve(heap, bytes)) return NULL;
    }
    _Atomic(uint8_t) *states = NULL;   /* secure builds: the page's slot states, all UNCARVED */
    sg_page_t *page = NULL;
    if (!SG_SLOT_STATES || (states = sg_arena_states_alloc(sg_page_capacity(cls))))
        page = sg_arena_alloc_span(sg_class_units[cls], cls, states);
    if (!page) {
        if (states) sg_arena_states_free(states, sg_page_capacity(cls));
        if (heap->first_class) atomic_fetch_sub_explicit(&heap->mapped, bytes, memory_order_relaxed);
        return NULL;
    }
    sg_page_init(page, cls, heap);
    sg_queue_push_front(&heap->queue[cls], page);
    return page;
}

static sg_page_t *find_page(sg_heap_t *heap, unsigned cls) {
    sg_queue_t *q = &heap->queue[cls];
    sg_page_t *page = q->first;
    while (page) {
        sg_page_collect(page);
        /* emptied by other threads' frees: it may go back to the arena like a locally emptied one */
        if (page->used == 0 && page != q->first) sg_heap_page_retire(heap, page);
        if (page->free || sg_page_extend(page, heap)) {
            if (q->first != page) {
                sg_queue_remove(q, page);
                sg_queue_push_front(q, page);
            }
            return page;
        }
        sg_page_t *next = page->next;
        if (page_to_full(heap, page)) page = next; /* else: a remote free arrived, collect again */
    }
    page = heap->first_class ? NULL : adopt_abandoned(heap, cls); /* thread heaps adopt */
    if (!page) page = fresh_page(heap, cls);
    if (page && !page->free) {
        sg_page_collect(page);
        if (!page->free) sg_page_extend(page, heap);
    }
    return page && page->free ? page : NULL;
}

/* The generic path: the fast path found the current page empty (or the thread has no heap yet). */
void *sg_heap_alloc_generic(sg_heap_t *heap, size_t size, unsigned cls) {
    /* a malloc that succeeds leaves errno alone, whatever the kernel refused on the way (a
     * guard page near vm.max_map_count, say) */
    int saved = errno;
    if (sg_unlikely(heap->is_empty)) {
        heap = sg_init_thread();
        if (!heap) {   /* allocation from inside start-up */
            errno = saved;
            return sg_large_alloc(size, 0, false);
        }
    }
    if (sg_unlikely(heap->rng_epoch != sg_fork_epoch)) sg_heap_reseed(heap);   /* a forked child */
    if (sg_unlikely(++heap->slow_calls >= 256)) {   /* a clock read per 256: free memory keeps going back */
        heap->slow_calls = 0;
        sg_arena_tick();
        sg_orphans_settle();
    }
    sg_heap_collect_delayed(heap);
    sg_page_t *page = find_page(heap, cls);
    if (sg_unlikely(!page) && heap->limit && sg_heap_make_room(heap)) page = find_page(heap, cls);
    heap->current[cls] = page ? page : &sg_page_empty;
    if (sg_unlikely(!page)) {
        /* the arena is full or the kernel refuses: a directly mapped block still may work
         * (not past a heap's own limit) */
        if (heap->limit) {
            errno = ENOMEM;
            return NULL;
        }
        errno = saved;   /* it keeps errno as it finds it when it succeeds */
        return sg_large_alloc_owned(size, 0, false, heap->first_class ? heap : NULL);
    }
    sg_block_t *b = page->free;
    page->free = sg_decode(&page->keys, b, b->next);
    if (SG_ENCODE_FREELIST && page->free && sg_unlikely(!sg_page_is_slot(page, (uintptr_t)page->free)))
        sg_report_corrupt_pop(page, b);
    page->used++;
    sg_slot_arm(heap, page, b, size);
    errno = saved;
    return b;
}

/* ---- thread exit: abandon ---------------------------------------------------------------------------- */
static void for_each_page(sg_heap_t *heap, void (*fn)(sg_heap_t *, sg_page_t *)) {
    for (unsigned c = 0; c < SG_CLASS_COUNT; c++) {
        for (sg_page_t *p = heap->queue[c].first, *n; p; p = n) { n = p->next; fn(heap, p); }
    }
    for (sg_page_t *p = heap->full.first, *n; p; p = n) { n = p->next; fn(heap, p); }
}

static void mark_never_delayed(sg_heap_t *heap, sg_page_t *page) {
    (void)heap;
    sg_page_set_delayed(page, SG_TF_NEVER_DELAYED, true);
}

static void hand_on(sg_heap_t *heap, sg_page_t *page) {
    (void)heap;
    sg_page_collect(page);
    page->in_full = 0;
    page->next = page->prev = NULL;
    if (page->used == 0) {
        sg_page_release(page);
        return;
    }
    atomic_store_explicit(&page->heap, NULL, memory_order_release);
    sg_mutex_lock(&abandoned_mutex);
    sg_queue_push_back(&abandoned[page->cls], page);
    abandoned_count++;
    sg_mutex_unlock(&abandoned_mutex);
}

/* Hand the quarantine on, take in the delayed frees, and hand every page on: empty pages to the
 * arena, the others to the abandoned lists. The heap is empty afterwards. */
void sg_heap_abandon(sg_heap_t *heap) {
    sg_quarantine_hand_on(heap);
    sg_heap_collect_delayed(heap);
    /* From here on no free is delivered to this heap; a delivery already under way finishes
     * before its page changes mode, so one more collection catches it. Those blocks are put
     * on their page's local list directly: the pages are being handed on, not re-queued. */
    for_each_page(heap, mark_never_delayed);
    sg_block_t *b = atomic_exchange_explicit(&heap->thread_delayed, NULL, memory_order_acquire);
    while (b) {
        sg_page_t *page;
        sg_block_t *next = delayed_next(b, &page);
        b->next = sg_encode(&page->keys, b, page->local_free);
        page->local_free = b;
        page->used--;
        b = next;
    }
    for_each_page(heap, hand_on);
    sg_heap_init(heap);
}

/* sg_heap_destroy: every page of the heap goes back, whatever it holds. */
void sg_heap_discard_pages(sg_heap_t *heap) {
    for (unsigned c = 0; c < SG_CLASS_COUNT; c++) {
        for (sg_page_t *p = heap->queue[c].first, *n; p; p = n) { n = p->next; sg_page_discard(p); }
    }
    for (sg_page_t *p = heap->full.first, *n; p; p = n) { n = p->next; sg_page_discard(p); }
    atomic_store_explicit(&heap->thread_delayed, NULL, memory_order_relaxed);
}

/* ---- after fork(): heaps of threads the child does not have -------------------------------------- */
/* In a forked child the heaps of the parent's other threads have no owner, and their pages
 * would keep what they hold for good. They cannot be handed on as at a thread's exit: a heap
 * has no lock, so the fork may have caught its thread halfway through changing it (its pages'
 * lists, counts and queues; handing such heaps on made false reports of corrupted lists). So
 * each of their pages becomes an orphan: other threads' frees go to its atomic list as for an
 * abandoned page, it is never adopted, and it goes back to the arena unread once those frees
 * bring its count of blocks in use to zero. A block the fork caught on its way in or out keeps
 * its page: a page lost, never a false report. init.c marks the heaps (orphaned), then calls
 * sg_heap_orphan_pages once and sg_heap_orphan for each. */
static sg_queue_t orphans;
static size_t orphan_count;

static void orphan_page(sg_page_t *page, void *arg) {
    (void)arg;
    sg_heap_t *owner = atomic_load_explicit(&page->heap, memory_order_relaxed);
    if (!owner || !owner->orphaned) return;
    /* the child's threads may be freeing into the page: its mode changes with a swap once a
     * delivery in flight has ended (it reads page->heap), and none starts after */
    sg_page_set_delayed(page, SG_TF_NEVER_DELAYED, true);
    atomic_store_explicit(&page->heap, NULL, memory_order_relaxed);
    page->orphan = 1;
    page->in_full = 0;
    sg_queue_push_back(&orphans, page);   /* its links in the dead heap's queue are not needed again */
    orphan_count++;
}

void sg_heap_orphan_pages(void) {
    sg_mutex_lock(&abandoned_mutex);
    sg_arena_each_page(orphan_page, NULL);
    sg_mutex_unlock(&abandoned_mutex);
}

/* The blocks heap held back (its quarantine, the frees delivered to it) go to their pages as
 * other threads' frees (the pages are orphans now, no longer heap's); then the heap is empty,
 * for the pool. */
void sg_heap_orphan(sg_heap_t *heap) {
    sg_quarantine_orphan(heap);
    sg_heap_collect_delayed(heap);
    sg_heap_init(heap);
}

/* Abandoned pages that other threads' frees have emptied go back to the arena: nobody adopts a
 * page of a size no thread asks for any more. Under the lock, so that no adopter takes a page
 * while it is collected here; a corrupted link or a write after free found on the way is
 * reported with the lock released (a crash handler's malloc may adopt a page). Called when a
 * heap takes fresh pages (at the pace of its sweeps), by malloc_trim and by the statistics;
 * true when a page went back. */
bool sg_heap_sweep_abandoned(void) {
    bool any = false;
    sg_orphans_settle();
    sg_mutex_lock(&abandoned_mutex);
    for (unsigned c = 0; c < SG_CLASS_COUNT && abandoned_count; c++) {
        for (sg_page_t *p = abandoned[c].first, *n; p; p = n) {
            n = p->next;
            sg_page_collect(p);
            if (p->used != 0) continue;
            sg_queue_remove(&abandoned[c], p);
            abandoned_count--;
            sg_page_release(p);
            any = true;
        }
    }
    for (sg_page_t *p = orphans.first, *n; p && orphan_count; p = n) {
        n = p->next;
        sg_page_collect_orphan(p);
        if (p->used != 0) continue;
        sg_queue_remove(&orphans, p);
        orphan_count--;
        sg_page_release(p);
        any = true;
    }
    sg_mutex_unlock(&abandoned_mutex);
    return any;
}

size_t sg_heap_abandoned_pages(void) {
    sg_mutex_lock(&abandoned_mutex);
    size_t n = abandoned_count;
    sg_mutex_unlock(&abandoned_mutex);
    return n;
}

void sg_heap_lock_all(void) { sg_mutex_lock(&abandoned_mutex); }
void sg_heap_unlock_all(void) { sg_mutex_unlock(&abandoned_mutex); }
