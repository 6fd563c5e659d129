/* page.c: one page of slots of one size: making it, carving slots into its free list (in a
 * random order in secure builds), collecting the frees of its owner and of other threads, and
 * giving it back to the arena. */
#include "internal.h"
#include "os.h"
#include "slot.h"

#include <errno.h>
#include <string.h>

/* The page every empty heap queue points at: its free list is always empty, so the fast path
 * needs no NULL check. */
sg_page_t sg_page_empty;

/* page->state (secure builds) was set by the arena with the span, all UNCARVED. */
void sg_page_init(sg_page_t *page, unsigned cls, sg_heap_t *heap) {
    size_t bs = sg_class_size[cls];
    uint32_t capacity = sg_page_capacity(cls);
    /* The span is SMALL already (sg_arena_alloc_span): the statistics walk, under the arena
     * lock, must not see the fields of the page that was here before (a capacity beyond this
     * page's slot-state array) */
    sg_arena_lock();
    page->free = page->local_free = NULL;
    page->used = 0;
    sg_page_set_divisor(page, (uint32_t)bs);
    page->cls = (uint8_t)cls;
    page->start = sg_ro.arena_base + ((uintptr_t)(page - sg_ro.meta) << SG_UNIT_SHIFT);
    page->capacity = capacity;
    page->carved = 0;
    page->populated = 0;
    page->in_full = 0;
    page->orphan = 0;
    page->next = page->prev = NULL;
    atomic_store_explicit(&page->thread_free, (uintptr_t)SG_TF_NORMAL, memory_order_relaxed);
    atomic_store_explicit(&page->zero_asks, page->cold && bs > 4096 ? (int32_t)capacity : 0, memory_order_relaxed);
    page->first_class = heap->first_class;
    atomic_store_explicit(&page->heap, heap, memory_order_release);
    sg_arena_unlock();
    sg_random_page_keys(&page->keys, &page->canary_key, &page->canary_mul, page->start);
    atomic_fetch_add_explicit(&sg_stat_pages, 1, memory_order_relaxed);
}

/* ---- carving -------------------------------------------------------------------------------- */
static void push_free(sg_page_t *page, sg_block_t *b) {
    b->next = sg_encode(&page->keys, b, page->free);
    page->free = b;
}

/* Sequential carving: up to 4 KiB of slots (at least one) at a time, so a page's memory is only
 * touched as it is used. */
static void carve_sequential(sg_page_t *page) {
    uint32_t n = page->capacity - page->carved, batch = 4096u / page->block_size;
    if (batch == 0) batch = 1;
    if (n > batch) n = batch;
    uintptr_t first = page->start + (uintptr_t)page->carved * page->block_size;
    for (uint32_t i = n; i-- > 0;) {
        sg_block_t *b = (sg_block_t *)(first + (uintptr_t)i * page->block_size);
        if (SG_SLOT_STATES) sg_slot_set_state(page, page->carved + i, SG_SLOT_FREE);
        push_free(page, b);
    }
    page->carved += n;
}

/* Random carving: slots come in an unpredictable order from a window of at least 16 KiB (and
 * at least 64 slots) that moves through the page; a window is used up before the next opens.
 * The window keeps consecutive objects within a few OS pages (whole-page randomness cost half
 * the speed of an object-heavy program in TLB and cache misses) while a slot's neighbours in
 * allocation order are still chosen among dozens to hundreds of slots. A page's first window
 * spans 4 KiB (still at least 64 slots): a thread that makes only a few blocks of a size
 * touches one or two OS pages for them, not four (1000 threads holding 20 blocks in each of 8
 * sizes from 16 bytes to 2 KiB held 258 MiB, now 223 MiB; 130 MiB in address order). A batch
 * links at most 8 KiB of slots (one slot at a time above 4 KiB): every slot linked is a page
 * committed, and 32 linked 4 KiB slots made a page that served one buffer wholly resident. */
#define SG_RANDOM_WINDOW_BYTES 16384u
#define SG_RANDOM_FIRST_WINDOW_BYTES 4096u
#define SG_RANDOM_WINDOW_SLOTS 64u
#define SG_CARVE_BYTES 8192u
static uint32_t window_slots(const sg_page_t *page, uint32_t bytes) {
    uint32_t w = bytes / page->block_size;
    if (w < SG_RANDOM_WINDOW_SLOTS) w = SG_RANDOM_WINDOW_SLOTS;
    return w < page->capacity ? w : page->capacity;
}
static void carve_random(sg_page_t *page, sg_heap_t *heap) {
    uint32_t first = window_slots(page, SG_RANDOM_FIRST_WINDOW_BYTES), base = 0, len = first;
    if (page->carved >= first) {
        uint32_t w = window_slots(page, SG_RANDOM_WINDOW_BYTES);
        base = first + (page->carved - first) / w * w;
        len = page->capacity - base < w ? page->capacity - base : w;
    }
    uint32_t n = base + len - page->carved;   /* uncarved slots left in this window */
    uint32_t most = SG_CARVE_BYTES / page->block_size;
    if (most > 32) most = 32;
    if (most == 0) most = 1;
    if (n > most) n = most;
    uint32_t pick[32];
    for (uint32_t k = 0; k < n; k++) {
        /* a few fresh draws before probing linearly: probing alone clusters the picks */
        uint32_t idx = 0;
        for (int tries = 0; tries < 4; tries++) {
            idx = base + (uint32_t)(((sg_random_next(&heap->rng) >> 32) * len) >> 32);
            if (sg_slot_state(page, idx) == SG_SLOT_UNCARVED) break;
        }
        while (sg_slot_state(page, idx) != SG_SLOT_UNCARVED) idx = idx + 1 == base + len ? base : idx + 1;
        sg_slot_set_state(page, idx, SG_SLOT_FREE);
        pick[k] = idx;
    }
    /* the last picks of a window are found by probing, in address order: shuffle the batch */
    for (uint32_t k = n; k > 1; k--) {
        uint32_t j = (uint32_t)(((sg_random_next(&heap->rng) >> 32) * k) >> 32), t = pick[k - 1];
        pick[k - 1] = pick[j];
        pick[j] = t;
    }
    for (uint32_t k = 0; k < n; k++) push_free(page, (sg_block_t *)(page->start + (uintptr_t)pick[k] * page->block_size));
    page->carved += n;
}

/* A page of small slots made of memory that was not resident, once its slots have reached
 * 16 KiB into it: the pages carving is about to touch are faulted in ahead, up to 32 KiB at a
 * time, in one system call, instead of one page fault per 4 KiB as slots are linked. Under a
 * hypervisor that shadows page tables a fault costs 10-14 us, a page populated this way 0.6 us
 * and 3-4 us at its first touch; on bare metal it saves the fault's entry and exit. Pages that
 * never fill past their first 16 KiB (a thread's few blocks of a size) get nothing ahead: from
 * the start, 8 threads of `threads` held 6.0 MiB instead of 4.3 (fast build). */
#define SG_POPULATE_MAX_SLOT 256u
#define SG_POPULATE_AHEAD ((size_t)32 << 10)
static void populate_ahead(sg_page_t *page) {
    size_t bs = page->block_size, limit = ((size_t)page->capacity * bs + SG_OS_PAGE - 1) & ~(size_t)(SG_OS_PAGE - 1);
    size_t at = (size_t)page->carved * bs & ~(size_t)(SG_OS_PAGE - 1);
    if (at < SG_POPULATE_AHEAD / 2) return;
    size_t need = at + SG_POPULATE_AHEAD / 2 < limit ? at + SG_POPULATE_AHEAD / 2 : limit;
    if (page->populated >= need) return;
    size_t from = page->populated > at ? page->populated : at;
    size_t to = at + SG_POPULATE_AHEAD < limit ? at + SG_POPULATE_AHEAD : limit;
    sg_os_populate((char *)page->start + from, to - from);
    page->populated = (uint32_t)to;
}

/* Put more never-used slots into page->free; false when the page has none left. */
bool sg_page_extend(sg_page_t *page, sg_heap_t *heap) {
    if (page->carved >= page->capacity) return false;
    if (page->cold && page->block_size <= SG_POPULATE_MAX_SLOT) populate_ahead(page);
    if (SG_RANDOM_SLOTS && !heap->is_empty) carve_random(page, heap);
    else carve_sequential(page);
    return true;
}

/* ---- collecting frees -------------------------------------------------------------------------- */
/* Take the whole list of other threads' frees, keeping the delivery mode bits. */
static sg_block_t *take_thread_free(sg_page_t *page) {
    uintptr_t tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
    if ((tf & ~(uintptr_t)3) == 0) return NULL;
    while (!atomic_compare_exchange_weak_explicit(&page->thread_free, &tf, tf & 3, memory_order_acquire,
                                                  memory_order_relaxed)) {}
    return (sg_block_t *)(tf & ~(uintptr_t)3);
}

_Noreturn void sg_report_corrupt_pop(sg_page_t *page, const void *p) {
    page->free = NULL;
    page->local_free = NULL;   /* it may hold the same forged links */
    sg_report_corrupt_list(p, page->block_size);
}

/* Move the owner's frees and other threads' frees into the allocation list. */
void sg_page_collect(sg_page_t *page) {
    sg_block_t *remote = take_thread_free(page);
    if (remote) {
        /* Walk the remote list to its end, checking every decoded link, then splice it in. A
         * list longer than the page has slots is a cycle (a block freed twice by other threads,
         * in fast builds too): reported, where walking on would never end. */
        uint32_t n = 1;
        sg_block_t *b = remote;
        for (;;) {
            sg_block_t *next = sg_decode(&page->keys, b, b->next);
            if (!next) break;
            if (sg_unlikely(n >= page->capacity) ||
                (SG_ENCODE_FREELIST && sg_unlikely(!sg_page_is_slot(page, (uintptr_t)next))))
                sg_report_corrupt_list(b, page->block_size);
            b = next;
            n++;
        }
        b->next = sg_encode(&page->keys, b, page->free);
        page->free = remote;
        page->used -= n;
    }
    /* The owner's frees become the allocation list once it is empty; no need to walk them
     * (every link is checked when it is popped). */
    if (page->local_free && !page->free) {
        page->free = page->local_free;
        page->local_free = NULL;
    }
}

/* An orphan page (heap.c): other threads' frees are counted off and dropped; its own lists are
 * not trusted and never used again. */
void sg_page_collect_orphan(sg_page_t *page) {
    sg_block_t *b = take_thread_free(page);
    for (uint32_t n = 0; b; n++) {
        if (sg_unlikely(n >= page->capacity)) sg_report_corrupt_list(b, page->block_size);
        sg_block_t *next = sg_decode(&page->keys, b, b->next);
        if (SG_ENCODE_FREELIST && next && sg_unlikely(!sg_page_is_slot(page, (uintptr_t)next)))
            sg_report_corrupt_list(b, page->block_size);
        page->used--;
        b = next;
    }
}

/* ---- delivery mode of other threads' frees ---------------------------------------------------- */
/* Set the mode bits of thread_free, waiting out a free that is delivering to the heap right now.
 * A page marked NEVER_DELAYED (abandoned) keeps that mode unless override_never. */
bool sg_page_set_delayed(sg_page_t *page, unsigned mode, bool override_never) {
    uintptr_t tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
    for (;;) {
        unsigned cur = (unsigned)(tf & 3);
        if (cur == SG_TF_DELAYED_FREEING) {
            __builtin_ia32_pause();
            tf = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
            continue;
        }
        if (cur == mode) return true;
        if (cur == SG_TF_NEVER_DELAYED && !override_never) return false;
        if (atomic_compare_exchange_weak_explicit(&page->thread_free, &tf, (tf & ~(uintptr_t)3) | mode,
                                                  memory_order_acq_rel, memory_order_relaxed))
            return true;
    }
}

/* ---- giving a page back ------------------------------------------------------------------------ */
/* The span goes back to the arena first and its (zeroed) slot-state array after: while the
 * descriptor still says SMALL, its array is this page's. cool: a destroyed heap's page, whose
 * span waits before it is reused (sg_arena_cool_span). */
static void give_back(sg_page_t *page, bool cool) {
#if SG_SLOT_STATES
    _Atomic(uint8_t) *states = page->state;
    uint32_t capacity = page->capacity;
#endif
    if (cool) sg_arena_cool_span(page);
    else sg_arena_free_span(page);
#if SG_SLOT_STATES
    sg_arena_states_free(states, capacity);
#endif
}

static inline uint64_t or_words(const char *s, size_t n);

/* The OR of a slot's last 16 bytes up to its size word (all 16 without one). */
static inline uint64_t last_words(const char *s, size_t bs) {
    uint64_t w, acc;
    memcpy(&acc, s + bs - 16, 8);
    if (SG_SIZE_WORD) {
        uint32_t h;
        memcpy(&h, s + bs - 8, 4);
        return acc | h;
    }
    memcpy(&w, s + bs - 8, 8);
    return acc | w;
}

/* Every free slot of a page being released is read whole, but for its link and size word: the
 * write-after-free check at hand-out reads a slot only when it is handed out again, so a write
 * into a freed block whose slot never is (its page empties first) would stay in the span until
 * a slot of another class, carved over it later, was handed out: reported then for that slot,
 * with its size, or never (a purged span). Read here, it is named for the slot it hit. 4 KiB
 * page by 4 KiB page, skipping pages that are not resident (resident: from mincore, for the
 * page's span; NULL: unknown, read all): they read zero, and reading them would fault the zero
 * page in. */
#define SPAN_PAGES ((SG_MAX_SPAN_UNITS << SG_UNIT_SHIFT) / SG_OS_PAGE)
static bool slots_need_scan(void) { return SG_ZERO_ON_FREE && SG_WRITE_AFTER_FREE; }

static void waf_scan_slot(const sg_page_t *page, const sg_block_t *b, const unsigned char *resident,
                          uintptr_t resident_from) {
    size_t bs = page->block_size;
    const char *s = (const char *)b;
    /* the rest of the first 16 bytes (on the link's page: resident) */
    uint64_t acc;
    if (SG_CANARY && bs == 16) {   /* bytes 12..15 are the size word */
        uint32_t w;
        memcpy(&w, s + 8, 4);
        acc = w;
    } else {
        memcpy(&acc, s + 8, 8);
    }
    for (size_t at = 16, end = bs - 16; at < end;) {
        uintptr_t a = (uintptr_t)(s + at);
        size_t step = SG_OS_PAGE - (a & (SG_OS_PAGE - 1));   /* slots are 16-byte aligned: so is a */
        if (step > end - at) step = end - at;
        if (!resident || (resident[(a - resident_from) / SG_OS_PAGE] & 1)) acc |= or_words(s + at, step);
        at += step;
    }
    uintptr_t last = (uintptr_t)(s + bs - 16);   /* 16 bytes on one page (16-byte aligned) */
    if (bs >= 32 && (!resident || (resident[(last - resident_from) / SG_OS_PAGE] & 1))) acc |= last_words(s, bs);
    if (sg_unlikely(acc != 0)) sg_report_write_after_free(b, bs - SG_CANARY_OVERHEAD);
}

/* All slots are free and collected. Check the links one last time (and what the
 * write-after-free check does not read), clear what stays behind in the slots (links, size
 * words) so a later page of another class reads zero where it has not written, then hand the
 * span to the arena. An orphan's slots are not checked: the fork that made it may have caught
 * its owner halfway through a change to them. */
void sg_page_release(sg_page_t *page) {
    bool trusted = !page->orphan;
    page->orphan = 0;
    if (SG_SLOT_STATES) {
        unsigned char resident_pages[SPAN_PAGES];
        bool scan = trusted && slots_need_scan();
        const unsigned char *resident = NULL;
        size_t span = (size_t)page->units << SG_UNIT_SHIFT;
        if (scan && span <= sizeof resident_pages * SG_OS_PAGE) {
            int saved = errno;
            if (sg_os_resident((void *)page->start, span, resident_pages)) resident = resident_pages;
            errno = saved;
        }
        for (uint32_t i = 0; i < page->capacity; i++) {
            if (sg_slot_state(page, i) == SG_SLOT_UNCARVED) continue;
            sg_block_t *b = (sg_block_t *)(page->start + (uintptr_t)i * page->block_size);
            sg_vg_open(b, page->block_size);
            /* every carved slot is on a free list now: a link that leads nowhere was forged */
            if (SG_ENCODE_FREELIST && trusted) {
                void *next = sg_decode(&page->keys, b, b->next);
                if (sg_unlikely(next && !sg_page_is_slot(page, (uintptr_t)next)))
                    sg_report_corrupt_list(b, page->block_size);
            }
            if (scan) {
                waf_scan_slot(page, b, resident, page->start);
                if (SG_CANARY) sg_slot_check_size_word(page, b, sg_slot_secret(page, b));
            }
            if (SG_ZERO_ON_FREE) {
                memset(b, 0, sizeof(sg_block_t));
                if (SG_CANARY) memset((char *)b + page->block_size - 4, 0, 4);
            }
        }
#if SG_SLOT_STATES
        memset((void *)page->state, 0, page->capacity);
#endif
        /* the next page on this span takes it to read zero where nobody wrote since
         * (waf_scan_unused): unchecked, an orphan's may not */
        if (!trusted && slots_need_scan()) sg_os_purge((void *)page->start, span);
    }
    page->free = page->local_free = NULL;
    atomic_store_explicit(&page->heap, NULL, memory_order_relaxed);
    atomic_fetch_sub_explicit(&sg_stat_pages, 1, memory_order_relaxed);
    give_back(page, false);
}

/* A destroyed heap's page: its blocks die with it. The memory is purged (it reads zero again,
 * which fresh slots rely on) and the span goes back to the arena, where it cools before it can
 * be reused (secure builds: sg_arena_cool_span). */
void sg_page_discard(sg_page_t *page) {
#if SG_SLOT_STATES
    memset((void *)page->state, 0, page->capacity);
#endif
    sg_os_purge((void *)page->start, (size_t)page->units << SG_UNIT_SHIFT);
    page->free = page->local_free = NULL;
    atomic_store_explicit(&page->thread_free, (uintptr_t)SG_TF_NEVER_DELAYED, memory_order_relaxed);
    atomic_store_explicit(&page->heap, NULL, memory_order_relaxed);
    atomic_fetch_sub_explicit(&sg_stat_pages, 1, memory_order_relaxed);
    give_back(page, true);
}

/* ---- reading for zero ----------------------------------------------------------------------- */
/* OR of the 16-byte words of [s, s+n) (sg_or_words in slot.h), folded to one word; n >= 16. */
static inline uint64_t or_words(const char *s, size_t n) {
    sg_v2 a = sg_or_words(s, n);
    return a[0] | a[1];
}

/* ---- zero on free, large slots ------------------------------------------------------------------ */
/* Zero only the 4 KiB pieces that are not zero already: memory the program never touched stays
 * untouched (writing it would commit memory). Within a piece, zeroing starts at the first
 * non-zero 64 bytes.
 * Reading a page the program never touched faults the kernel's zero page in: a fault per page
 * (a 64 KiB block with only its ends written: 14; under this VM's hypervisor 12 us each). That
 * happens at the first free of each slot of a page made of memory that was not resident: so
 * the first `capacity` frees of such a page (zero_asks) ask the kernel which whole pages of
 * the block are in memory, one mincore call, when there are SG_ZERO_ASK_PAGES of them or more.
 * A page that is not was never touched, or was swapped out: runs of such pages are discarded
 * (MADV_DONTNEED: they read zero afterwards, whatever was swapped out) instead of read. Pages
 * in memory are read as before; so is a piece that shares its page with the neighbouring slot
 * (discarding it would lose the neighbour's bytes). Later frees do not ask: a slot freed once
 * reads its pages without faults, and the call costs 1.5-2.5 us here (60000-byte blocks
 * written whole, freed and reused: 3.0 against 5.6 us a cycle when every free asked). */
#define SG_ZERO_ASK_PAGES 8
void sg_slot_zero_large(sg_page_t *page, void *slot, size_t n) {
    char *s = slot;
    unsigned char resident[SG_MAX_CLASS / SG_OS_PAGE + 1];
    uintptr_t first = ((uintptr_t)s + SG_OS_PAGE - 1) & ~(uintptr_t)(SG_OS_PAGE - 1);
    uintptr_t last = ((uintptr_t)s + n) & ~(uintptr_t)(SG_OS_PAGE - 1);   /* whole pages: [first, last) */
    bool known = false;
    /* frees racing here may take the count below zero: it stops asking all the same */
    if (last > first && (last - first) / SG_OS_PAGE >= SG_ZERO_ASK_PAGES &&
        atomic_load_explicit(&page->zero_asks, memory_order_relaxed) > 0 &&
        atomic_fetch_sub_explicit(&page->zero_asks, 1, memory_order_relaxed) > 0) {
        int saved = errno;
        known = sg_os_resident((void *)first, last - first, resident);
        errno = saved;
    }
    for (size_t at = 0; at < n;) {
        uintptr_t a = (uintptr_t)(s + at);
        if (known && a >= first && a < last && !(resident[(a - first) / SG_OS_PAGE] & 1)) {
            uintptr_t end = a + SG_OS_PAGE;
            while (end < last && !(resident[(end - first) / SG_OS_PAGE] & 1)) end += SG_OS_PAGE;
            sg_os_purge((void *)a, end - a);
            at = end - (uintptr_t)s;
            continue;
        }
        size_t step = SG_OS_PAGE - (a & (SG_OS_PAGE - 1));
        if (step > n - at) step = n - at;
        size_t i = 0, whole = step & ~(size_t)63;   /* slots are 16-byte aligned: so is s + at */
        while (i < whole && !or_words(s + at + i, 64)) i += 64;
        if (i == whole) {   /* a short tail, byte by byte */
            while (i < step && !s[at + i]) i++;
        }
        if (i < step) memset(s + at + i, 0, step - i);
        at += step;
    }
}

/* ---- write-after-free check ---------------------------------------------------------------------- */
/* How far the check at hand-out reads a slot larger than SG_WAF_CHECK_MAX: as far as the last
 * free zeroed it, the freed block and its canary (sg_slot_zero), found from the size word that
 * survives the free (a slot without one is waf_scan_unused's). A size word that no longer
 * decodes was written after the free. Past the freed block, the slot is read when its page is
 * given back (waf_scan_slot). Without canaries there is no size word, and the free zeroed the
 * whole slot: all of it is read. */
static size_t freed_extent(const sg_page_t *page, const sg_block_t *b, size_t limit) {
    size_t bs = page->block_size;
    if (!SG_SIZE_WORD) return bs - 16;
    size_t r = sg_size_decode(sg_size_word(page, b), sg_size_key(page, b));
    if (sg_unlikely(r + 8 > bs)) sg_report_write_after_free(b, bs - SG_CANARY_OVERHEAD);
    size_t end = (r + 8 + 15) & ~(size_t)15;
    return end >= bs - 16 ? bs - 16 : end > limit ? end : limit;
}

/* A slot larger than the check limit with no size word: never handed out, or its size word was
 * zeroed after the free (a second dangling write, past the freed block). A fresh span reads
 * zero; a span that held another page before read zero when that page was given back
 * (sg_page_release checked and cleared it, or purged it), unless a dangling pointer into the
 * old page wrote since. Read whole, as the release does: the pages of it that are resident
 * (mincore; a page nobody wrote since it was purged, or ever, reads zero, and reading it would
 * fault the zero page in). Once per slot: its first hand-out writes the size word. */
static void waf_scan_unused(const sg_page_t *page, const sg_block_t *b) {
    unsigned char resident[(SG_MAX_CLASS + 2 * SG_OS_PAGE) / SG_OS_PAGE];
    uintptr_t from = (uintptr_t)b & ~(uintptr_t)(SG_OS_PAGE - 1);
    uintptr_t to = ((uintptr_t)b + page->block_size + SG_OS_PAGE - 1) & ~(uintptr_t)(SG_OS_PAGE - 1);
    int saved = errno;
    bool known = sg_os_resident((void *)from, to - from, resident);
    errno = saved;
    waf_scan_slot(page, b, known ? resident : NULL, from);
}

/* A slot being handed out was zeroed when it was freed; any non-zero byte past the link word
 * (and before the size word) was written after the free. */
void sg_slot_waf_scan(const sg_page_t *page, sg_block_t *b) {
    const char *s = (const char *)b;
    size_t bs = page->block_size;
    uint64_t acc, w;
    if (bs == 16) {                    /* bytes 8..12, or 8..16 without a size word */
        uint32_t h;
        memcpy(&h, s + 8, 4);
        acc = h;
        if (!SG_SIZE_WORD) { memcpy(&h, s + 12, 4); acc |= h; }
    } else {
        /* bytes 8..16, 16-byte words (slots are 16-byte aligned) up to the last 16 bytes or
         * the check limit, then the tail up to the size word */
        memcpy(&w, s + 8, 8);
        acc = w;
        size_t limit = bs - 16 < SG_WAF_CHECK_MAX ? bs - 16 : SG_WAF_CHECK_MAX;
        if (SG_WAF_WHOLE && limit < bs - 16) {
            if (SG_SIZE_WORD && sg_size_word(page, b) == 0) {
                waf_scan_unused(page, b);
                return;
            }
            limit = freed_extent(page, b, limit);
        }
        if (limit > 16) acc |= or_words(s + 16, limit - 16);
        if (limit == bs - 16) acc |= last_words(s, bs);
    }
    if (sg_unlikely(acc != 0)) sg_report_write_after_free(b, page->block_size - SG_CANARY_OVERHEAD);
}
