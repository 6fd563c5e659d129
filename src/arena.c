/* arena.c: the reserved address space for pages, the out-of-line metadata region, and spans of
 * arena units handed to heaps and taken back (and purged after a while).
 *
 * One PROT_NONE reservation at a random base holds every small and medium page, so "is this
 * pointer ours" is one subtraction and compare. Memory is committed (mprotect RW) in chunks at
 * the frontier; adjacent commits merge into one kernel mapping. Descriptors live in a separate
 * reservation with inaccessible pages on both sides: no heap overflow reaches them. */
#include "internal.h"
#include "os.h"

#include <pthread.h>
#include <string.h>

#define COMMIT_CHUNK_UNITS 64                   /* commit 4 MiB of pages at a time */
#define DIRTY_MAX ((size_t)8 << 20)            /* unpurged free spans kept for fast reuse */
#define PURGE_DELAY_DEFAULT_MS 1000             /* older free spans are purged */
#define PURGE_DELAY_MS (sg_ro.purge_delay_ms ? sg_ro.purge_delay_ms - 1 : PURGE_DELAY_DEFAULT_MS)
#define FREE_LISTS (SG_MAX_SPAN_UNITS + 2)      /* lists 1..16 by length, 17 for longer spans */
/* Size-class isolation: free spans are kept by the class they served (span_tag), and a span is
 * taken again only for its own class, within the budget below and while the arena has room: the
 * address of a freed block then only ever serves blocks of its size, so a dangling pointer into
 * a page given back does not reach a block of another size, and spans of different classes do
 * not merge (but when out of room: merge_all_locked). */
#define SPAN_TAGS (SG_CLASS_ISOLATION ? SG_CLASS_COUNT + 1 : 1)
#define ANY_TAG SPAN_TAGS
/* Isolation holds each class's spans for it, so the arena handed out grows to the sum of each
 * class's peak rather than the peak of all: a program that went through 30 sizes in turn, 20 MB
 * at a time, had 718 MB of arena handed out against 55 MB, and committed (VmData) as much, with
 * a malloc failing under `ulimit -d 150000` (red-team helper). So it is kept within a budget:
 * past twice the peak of live units plus 64 MiB, a page takes a free span of another class
 * before the arena grows. */
#define ISOLATION_SLACK_UNITS 1024u

static pthread_mutex_t arena_mutex = PTHREAD_MUTEX_INITIALIZER;

static struct {
    size_t units_total;        /* units in the reservation */
    size_t frontier;           /* units below this have been handed out at least once */
    size_t committed;          /* units committed (RW) */
    size_t meta_committed;     /* bytes of the metadata region committed */
    size_t dirty_bytes;        /* free spans whose memory was not purged */
    size_t live_units;         /* units in spans handed out now */
    size_t live_peak;          /* the most live_units has been */
    sg_queue_t free_spans[SPAN_TAGS][FREE_LISTS];   /* by tag, then length (the last: longer
                                                     * ones); dirty first */
    sg_queue_t cooling;        /* destroyed heaps' spans, oldest first (sg_arena_cool_span) */
    size_t cooling_units;
    uint64_t last_purge_ms;
    uint64_t rng;
    size_t guards;             /* guard units made */
    int guards_stopped;
} A;

static bool states_init(void);
static bool cooling_flush_locked(void);
static unsigned list_of(size_t units);
static sg_queue_t *list_for(const sg_page_t *head);

static void *unit_addr(size_t unit) { return (void *)(sg_ro.arena_base + (unit << SG_UNIT_SHIFT)); }
static size_t unit_of(const sg_page_t *head) { return (size_t)(head - sg_ro.meta); }

#define ARENA_MIN ((size_t)64 << 20)
#define ARENA_FLOOR ((size_t)4 << 20)

bool sg_arena_init(void) {
    /* A random base: up to 4096 units (256 MiB) of random slack on top of the kernel's ASLR.
     * Under a limit on address space (ulimit -v, RLIMIT_AS), take half of what is left of it:
     * the limit is shared with large blocks, the slot-state arrays and the program's own
     * mappings, which an arena reserving all it could would starve (when the arena is full,
     * small blocks are mapped directly, one by one; before, under limits of 1.07 to 2.1 GiB it
     * kept 1 GiB, and a 1.2 GB limit left large blocks 150 MB). Where the kernel will not
     * reserve the size asked for otherwise (valgrind), ask for less, down to 64 MiB, and below
     * 1 GiB take half of the most it would give. */
    uint64_t r = sg_random_seed_thread(&A);
    size_t slack = (size_t)(r % 4096u) << SG_UNIT_SHIFT, size = SG_ARENA_SIZE;
    size_t left = sg_os_address_space_left();
    /* under a limit, as little as ARENA_FLOOR: below 64 MiB (ulimit -v of 20 to 85 MB) start-up
     * failed, and every block was mapped on its own */
    size_t floor = left != SIZE_MAX ? ARENA_FLOOR : ARENA_MIN;
    if (left != SIZE_MAX && left / 2 < size) {
        size = left / 2 > floor ? (left / 2) & ~(size_t)(SG_UNIT_SIZE - 1) : floor;
        if (slack > size / 4) slack = (size / 4) & ~(size_t)(SG_UNIT_SIZE - 1);
    }
    char *res = NULL;
    for (; size >= floor; size /= 2) {
        res = sg_os_reserve(size + slack, SG_UNIT_SIZE);
        if (!res && slack && (res = sg_os_reserve(size, SG_UNIT_SIZE)) != NULL) slack = 0;
        if (res) break;
        slack /= 2;
        slack &= ~(SG_UNIT_SIZE - 1);
    }
    if (res && left == SIZE_MAX && size < ((size_t)1 << 30) && size / 2 >= ARENA_MIN) {
        sg_os_unmap(res, size + slack);
        size /= 2;
        if (slack > size) slack = size;   /* the random slack fits in what was given back */
        res = sg_os_reserve(size + slack, SG_UNIT_SIZE);
    }
    if (!res) return false;
    if (slack) sg_os_unmap(res, slack);
    A.units_total = size >> SG_UNIT_SHIFT;

    size_t meta_size = (A.units_total * sizeof(sg_page_t) + SG_OS_PAGE - 1) & ~(size_t)(SG_OS_PAGE - 1);
    /* Guard pages on both sides of the metadata: they are never made accessible. The rest is
     * readable from the start (it reads zero, "unused", and costs no memory until written), so
     * looking up a wild pointer anywhere in the arena never faults. */
    char *meta = sg_os_reserve(meta_size + 2 * SG_OS_PAGE, SG_OS_PAGE);
    if (!meta || !sg_os_protect_ro(meta + SG_OS_PAGE, meta_size)) {
        if (meta) sg_os_unmap(meta, meta_size + 2 * SG_OS_PAGE);
        sg_os_unmap(res + slack, size);
        return false;
    }
    sg_os_name(res + slack, size, "slabguard-arena");
    sg_ro.arena_base = (uintptr_t)(res + slack);
    sg_ro.arena_size = size;
    sg_ro.meta = (sg_page_t *)(meta + SG_OS_PAGE);
    A.rng = r;
    return states_init();
}

/* After fork(): the child's guards are placed by draws of its own (init.c, under the lock). */
void sg_arena_reseed(void) { A.rng = sg_random_seed_thread(&A); }

/* ---- slot-state arrays ----------------------------------------------------------------------- */
/* Secure builds keep one state byte per slot out of line. Each page gets an array sized to its
 * capacity (rounded up to a power of two, 64 B .. 4 KiB) from a reservation of its own with
 * inaccessible pages on both sides, so the arrays of many pages share an OS page: about 1/bs
 * of the memory the slots use, where a fixed 4 KiB per 64 KiB unit cost 6%. Arrays come back
 * zeroed (all UNCARVED) and are kept on one free list per size; under the arena lock. */
#define STATES_MIN 64u
#define STATES_SIZES 7                              /* 64 B .. 4 KiB */
#define STATES_COMMIT ((size_t)1 << 20)
_Static_assert((STATES_MIN << (STATES_SIZES - 1)) == SG_MAX_SLOTS, "state array sizes");

static struct {
    char *base;
    size_t size, used, committed;
    void *free[STATES_SIZES];
} S;

static bool states_init(void) {
    if (!SG_SLOT_STATES) return true;
    S.size = A.units_total * SG_MAX_SLOTS;   /* every unit a page of 16-byte slots */
    char *res = sg_os_reserve(S.size + 2 * SG_OS_PAGE, SG_OS_PAGE);
    if (!res) return false;
    S.base = res + SG_OS_PAGE;
    return true;
}

static unsigned states_size_of(uint32_t capacity) {
    unsigned k = 0;
    while ((STATES_MIN << k) < capacity) k++;
    return k;
}

_Atomic(uint8_t) *sg_arena_states_alloc(uint32_t capacity) {
    unsigned k = states_size_of(capacity);
    char *p = NULL;
    sg_arena_lock();
    for (unsigned j = k; j < STATES_SIZES && !p; j++) {   /* a larger free one will do */
        if (!S.free[j]) continue;
        p = S.free[j];
        memcpy(&S.free[j], p, sizeof(void *));
        memset(p, 0, sizeof(void *));
    }
    size_t n = (size_t)STATES_MIN << k;
    if (!p && S.used + n <= S.size) {
        size_t to = S.committed;
        if (S.used + n > to) {
            to = (S.used + n + STATES_COMMIT - 1) / STATES_COMMIT * STATES_COMMIT;
            if (to > S.size) to = S.size;
        }
        if (to == S.committed || sg_os_commit(S.base + S.committed, to - S.committed)) {
            S.committed = to;
            p = S.base + S.used;
            S.used += n;
        }
    }
    sg_arena_unlock();
    return (_Atomic(uint8_t) *)p;
}

/* states: every byte zero again (the page was released). A larger array taken for a smaller
 * page goes back to the list of the smaller size: only its first bytes were ever used. */
void sg_arena_states_free(_Atomic(uint8_t) *states, uint32_t capacity) {
    unsigned k = states_size_of(capacity);
    sg_arena_lock();
    memcpy((void *)states, &S.free[k], sizeof(void *));
    S.free[k] = (void *)states;
    sg_arena_unlock();
}

void sg_arena_lock(void) { sg_mutex_lock(&arena_mutex); }
void sg_arena_unlock(void) { sg_mutex_unlock(&arena_mutex); }

/* Statistics: read under the lock (the counters change under it). */
static size_t locked_read(const size_t *v, unsigned shift) {
    sg_arena_lock();
    size_t n = *v << shift;
    sg_arena_unlock();
    return n;
}
size_t sg_arena_committed(void) { return locked_read(&A.live_units, SG_UNIT_SHIFT); }
size_t sg_arena_dirty(void) { return locked_read(&A.dirty_bytes, 0); }
size_t sg_arena_frontier(void) { return locked_read(&A.frontier, SG_UNIT_SHIFT); }

/* Call fn for every span in use (page heads), under the arena lock: pages are neither made nor
 * given back meanwhile. fn must not allocate. */
void sg_arena_each_page(void (*fn)(sg_page_t *page, void *arg), void *arg) {
    sg_arena_lock();
    for (size_t u = 0; u < A.frontier;) {
        sg_page_t *p = &sg_ro.meta[u];
        size_t step = p->kind == SG_PAGE_SMALL || (p->kind == SG_PAGE_UNUSED && p->units) ? p->units : 1;
        if (p->kind == SG_PAGE_SMALL) fn(p, arg);
        u += step ? step : 1;
    }
    sg_arena_unlock();
}

/* A limit on address space set after start-up (setrlimit or prlimit on the process itself,
 * caught in override.c): the arena reserved its 64 GiB (and the slot-state arrays theirs) before
 * the limit existed, and every mapping made afterwards, the program's own, a thread's stack, a
 * large block, would fail (a Python script that called resource.setrlimit(RLIMIT_AS, 4 GiB)
 * failed its next allocations with MemoryError). The reservation's unused end goes back, so
 * that as at start-up (sg_arena_init) the arena keeps at most half of what the limit leaves the
 * rest of the process. Units below the frontier stay: they hold or held pages. The arena
 * only shrinks; a limit raised again later does not bring the room back (the arena full,
 * small blocks are mapped one by one). */
void sg_arena_fit_address_limit(size_t limit) {
    size_t used = sg_os_address_space_used();
    if (!used) return;
    sg_arena_lock();
    size_t unit_cost = SG_UNIT_SIZE + (SG_SLOT_STATES ? SG_MAX_SLOTS : 0);
    size_t spare = (A.units_total - A.frontier) << SG_UNIT_SHIFT;
    size_t states_spare = SG_SLOT_STATES ? S.size - S.used : 0;
    size_t rest = used > spare + states_spare ? used - spare - states_spare : 0;
    size_t keep = limit > rest ? (limit - rest) / 2 / unit_cost : 0;
    size_t total = A.frontier + keep;
    /* one unit less than the cut: it stays reserved and inaccessible, a guard past the last page */
    if (total + 1 >= A.units_total) {
        sg_arena_unlock();
        return;
    }
    if (!sg_ro_unseal()) {   /* vm.max_map_count reached: the arena stays as it is */
        sg_arena_unlock();
        return;
    }
    sg_ro.arena_size = total << SG_UNIT_SHIFT;
    sg_ro_seal();
    sg_os_unmap(unit_addr(total + 1), (A.units_total - total - 1) << SG_UNIT_SHIFT);
    A.units_total = total;
    if (A.committed > total) A.committed = total;
    if (SG_SLOT_STATES) {
        /* the arrays are taken in address order from S.base: the part past what the remaining
         * units could ever need goes, a page of it kept as the guard after the arrays */
        size_t need = (S.used > total * SG_MAX_SLOTS ? S.used : total * SG_MAX_SLOTS);
        if (need < S.committed) need = S.committed;
        need = (need + SG_OS_PAGE - 1) & ~(size_t)(SG_OS_PAGE - 1);
        if (need < S.size) {
            sg_os_unmap(S.base + need + SG_OS_PAGE, S.size - need);
            S.size = need;
        }
    }
    sg_arena_unlock();
}

/* ---- committing at the frontier ------------------------------------------------------------ */
static bool ensure_committed(size_t end_unit) {
    if (end_unit > A.committed) {
        size_t to = (end_unit + COMMIT_CHUNK_UNITS - 1) / COMMIT_CHUNK_UNITS * COMMIT_CHUNK_UNITS;
        if (to > A.units_total) to = A.units_total;
        if (!sg_os_commit(unit_addr(A.committed), (to - A.committed) << SG_UNIT_SHIFT)) {
            /* a smaller step may still fit the commit limit */
            if (!sg_os_commit(unit_addr(A.committed), (end_unit - A.committed) << SG_UNIT_SHIFT)) return false;
            to = end_unit;
        }
        A.committed = to;
    }
    size_t meta_need = (A.committed * sizeof(sg_page_t) + SG_OS_PAGE - 1) & ~(size_t)(SG_OS_PAGE - 1);
    if (meta_need > A.meta_committed) {
        if (!sg_os_commit((char *)sg_ro.meta + A.meta_committed, meta_need - A.meta_committed)) return false;
        A.meta_committed = meta_need;
    }
    return true;
}

/* ---- purging -------------------------------------------------------------------------------- */
/* Dirty spans are purged in batches, in address order, and a run of spans that touch (or are
 * apart by just a guard unit, which holds no pages) goes in one madvise call: under a hypervisor
 * each call that drops resident pages costs a TLB flush through it, about 340 us for 64 KiB on
 * the bench's VM against 0.6 ms for 8 MiB in one call. Secure builds, whose guards keep spans
 * from merging, made one call per 64 KiB page as a program freed everything (shrink: 1860
 * calls, 0.46 s). Over the budget, down to half of it, so that purges come in batches. */
#define PURGE_BATCH 128

static void purge_batch(sg_page_t **batch, size_t n) {
    for (size_t i = 1; i < n; i++)   /* by address (the descriptors are in unit order) */
        for (size_t k = i; k > 0 && batch[k - 1] > batch[k]; k--) {
            sg_page_t *t = batch[k];
            batch[k] = batch[k - 1];
            batch[k - 1] = t;
        }
    for (size_t i = 0; i < n;) {
        size_t j = i, end = unit_of(batch[i]) + batch[i]->units;
        while (j + 1 < n && (unit_of(batch[j + 1]) == end || (batch[j]->guarded && unit_of(batch[j + 1]) == end + 1))) {
            j++;
            end = unit_of(batch[j]) + batch[j]->units;
        }
        sg_os_purge(unit_addr(unit_of(batch[i])), (end - unit_of(batch[i])) << SG_UNIT_SHIFT);
        for (; i <= j; i++) {
            batch[i]->dirty = 0;
            A.dirty_bytes -= (size_t)batch[i]->units << SG_UNIT_SHIFT;
        }
    }
}

/* Purge dirty spans: the oldest first, until under the budget (or all / all older than the
 * delay). Dirty spans sit at the front of each list, newest first; purged ones go to the back.
 * Called with the lock. */
static void purge_locked(bool all, uint64_t now) {
    size_t left = A.dirty_bytes, goal = left > DIRTY_MAX ? DIRTY_MAX / 2 : DIRTY_MAX;
    for (bool full = true; full;) {
        sg_page_t *batch[PURGE_BATCH];
        size_t n = 0;
        for (unsigned l = 0; l < SPAN_TAGS * FREE_LISTS && n < PURGE_BATCH; l++) {
            if (l % FREE_LISTS == 0) continue;   /* length 0: no span */
            sg_page_t *p = A.free_spans[l / FREE_LISTS][l % FREE_LISTS].first, *oldest = NULL;
            while (p && p->dirty) { oldest = p; p = p->next; }
            for (; oldest && n < PURGE_BATCH; oldest = oldest->prev) {
                if (!all && now - oldest->freed_at_ms < PURGE_DELAY_MS && left <= goal) break;
                batch[n++] = oldest;
                left -= (size_t)oldest->units << SG_UNIT_SHIFT;
            }
        }
        full = n == PURGE_BATCH;
        for (size_t i = 0; i < n; i++) {   /* clean spans go to the back: dirty ones stay first */
            sg_queue_t *q = list_for(batch[i]);
            sg_queue_remove(q, batch[i]);
            sg_queue_push_back(q, batch[i]);
        }
        purge_batch(batch, n);
    }
    A.last_purge_ms = now;
}

/* Now and then from the heaps' slow path: the purge keeps its pace when no span is freed (a
 * program past its peak may free none for a long while), and memory freed before and idle
 * since (old dirty spans, freed large blocks' pages) goes back all the same. */
void sg_arena_tick(void) {
    uint64_t now = sg_os_now_ms();
    sg_arena_lock();
    bool due = now - A.last_purge_ms >= PURGE_DELAY_MS;
    if (due) purge_locked(false, now);
    sg_arena_unlock();
    if (due) sg_large_tick();
}

/* Returns whether any memory was given back. */
bool sg_arena_purge(bool all) {
    sg_arena_lock();
    size_t before = A.dirty_bytes;
    purge_locked(all, sg_os_now_ms());
    bool released = A.dirty_bytes < before;
    sg_arena_unlock();
    return released;
}

/* ---- guards --------------------------------------------------------------------------------- */
/* A guard is one inaccessible unit after a span: a linear overflow running off the span faults.
 * Each guard costs up to two kernel mappings (itself, and the split it makes), so their density
 * is chosen against vm.max_map_count: on average one guard per sg_ro.guard_every units (random,
 * so which pages are guarded cannot be predicted), never more than that pace allows, and none
 * once guards would use more than a quarter of the mapping budget; then one warning says so. */
static void guards_off(const char *why) {
    if (A.guards_stopped) return;
    A.guards_stopped = 1;
    char msg[160] = "guard pages thinned out: ";
    size_t at = 25;
    for (const char *w = why; *w && at < sizeof msg - 1; w++) msg[at++] = *w;
    msg[at] = 0;
    sg_report_warning(msg);
}

/* Guards a small heap may have ahead of the one-per-guard_every-units pace. */
#define GUARD_CREDIT 4u

static size_t want_guard(unsigned units) {
    if (!SG_GUARD_PAGES || !sg_ro.guard_every || A.guards_stopped) return 0;
    if (A.guards >= sg_os_max_map_count() / 8) {
        guards_off("vm.max_map_count budget reached");
        return 0;
    }
    /* Never more than one guard per guard_every units of heap (plus a few ahead, so that small
     * heaps get some): each costs up to two mappings, so with the default of 8 the heap keeps
     * to one mapping per 256 KiB (DESIGN.md) however the random draws fall. */
    size_t heap_units = A.frontier - A.guards + units;
    if (A.guards >= heap_units / sg_ro.guard_every + GUARD_CREDIT) return 0;
    A.rng = A.rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (A.rng >> 33) % sg_ro.guard_every < units;
}

/* ---- spans ---------------------------------------------------------------------------------- */
/* Spans tile [0, frontier) together with guard units. A span in use has every unit's descriptor
 * pointing at its head. A free span keeps only its head (kind UNUSED, its length) and its last
 * unit (pointing at the head) up to date, so that freeing a neighbour can merge with it; units
 * inside a free span may hold stale descriptors, which never describe a slot there (the slot
 * check compares the offset with the page's capacity). */
static unsigned list_of(size_t units) { return units < FREE_LISTS - 1 ? (unsigned)units : FREE_LISTS - 1; }
static sg_queue_t *list_for(const sg_page_t *head) { return &A.free_spans[head->span_tag][list_of(head->units)]; }

static void mark_span(sg_page_t *head, size_t units) {
    head->kind = SG_PAGE_SMALL;
    head->units = (uint32_t)units;
    head->head_offset = 0;
    for (size_t i = 1; i < units; i++) {
        head[i].kind = SG_PAGE_TAIL;
        head[i].head_offset = (uint32_t)i;
    }
}

static void mark_free(sg_page_t *head, size_t units) {
    head->kind = SG_PAGE_UNUSED;
    head->units = (uint32_t)units;
    head->head_offset = 0;
    if (units > 1) {
        head[units - 1].kind = SG_PAGE_TAIL;
        head[units - 1].head_offset = (uint32_t)(units - 1);
    }
}

static void free_list_remove(sg_page_t *head) {
    sg_queue_remove(list_for(head), head);
    if (head->dirty) A.dirty_bytes -= (size_t)head->units << SG_UNIT_SHIFT;
}

static void free_list_add(sg_page_t *head) {
    sg_queue_t *q = list_for(head);
    if (head->dirty) {
        A.dirty_bytes += (size_t)head->units << SG_UNIT_SHIFT;
        sg_queue_push_front(q, head);
    } else {
        sg_queue_push_back(q, head);
    }
}

/* A free span of at least `units` and of tag `tag` (ANY_TAG: of any): the exact length first,
 * then the shortest longer one (a dirty span first within a list: its memory is still
 * resident). */
static sg_page_t *take_free_tagged(size_t units, unsigned tag) {
    for (unsigned l = list_of(units); l < FREE_LISTS; l++) {
        for (sg_page_t *p = A.free_spans[tag][l].first; p; p = p->next) {
            if (p->units < units) continue;
            free_list_remove(p);
            if (p->units > units) {       /* split: the rest stays free, after the guard flag */
                sg_page_t *rest = p + units;
                rest->dirty = p->dirty;
                rest->freed_at_ms = p->freed_at_ms;
                rest->guarded = p->guarded;
                rest->span_tag = p->span_tag;
                mark_free(rest, p->units - units);
                free_list_add(rest);
                p->guarded = 0;
            }
            return p;
        }
    }
    return NULL;
}

static sg_page_t *take_free(size_t units, unsigned tag) {
    for (unsigned t = tag == ANY_TAG ? 0 : tag; t < (tag == ANY_TAG ? SPAN_TAGS : tag + 1); t++) {
        sg_page_t *p = take_free_tagged(units, t);
        if (p) return p;
    }
    return NULL;
}

/* Out of room with class isolation: free spans side by side but of different classes were kept
 * apart, and a page of several units found none long enough (under `ulimit -v 600000`, 14934
 * of 17476 mallocs of 12000 bytes failed with the whole arena free: red-team helper). Merge
 * every run of free spans that touch (not across a guard, nor cooling spans), whatever their
 * class. True if any merged. Under the arena lock. */
static bool merge_all_locked(void) {
    bool any = false;
    for (size_t u = 0; u < A.frontier;) {
        sg_page_t *h = &sg_ro.meta[u];
        if (h->kind == SG_PAGE_SMALL || (h->kind == SG_PAGE_UNUSED && h->units)) {
            if (h->kind == SG_PAGE_UNUSED && !h->cooling && !h->guarded && u + h->units < A.frontier) {
                sg_page_t *next = h + h->units;
                if (next->kind == SG_PAGE_UNUSED && next->units > 0 && !next->cooling) {
                    free_list_remove(h);
                    free_list_remove(next);
                    size_t units = (size_t)h->units + next->units;
                    h->dirty |= next->dirty;
                    h->guarded = next->guarded;
                    next->kind = SG_PAGE_TAIL;   /* now inside h's span */
                    next->head_offset = (uint32_t)(next - h);
                    mark_free(h, units);
                    free_list_add(h);
                    any = true;
                    continue;   /* h may merge with the span after it too */
                }
            }
            u += h->units;
        } else {
            u++;
        }
    }
    return any;
}

/* A span for a page of class cls. states: the slot-state array of the page this span becomes
 * (NULL in fast builds), set before the span is marked in use, so a descriptor that says SMALL
 * always has its own. With class isolation, a free span of another class is taken only past
 * the budget (ISOLATION_SLACK_UNITS) or once the arena is out of room (a program's mallocs keep
 * working, isolated or not); the span then serves cls. */
sg_page_t *sg_arena_alloc_span(unsigned units, unsigned cls, _Atomic(uint8_t) *states) {
    sg_page_t *head = NULL;
    unsigned tag = SG_CLASS_ISOLATION ? cls + 1 : 0;
    sg_arena_lock();
    head = take_free(units, tag);
    if (!head && SG_CLASS_ISOLATION && A.frontier + units > 2 * A.live_peak + ISOLATION_SLACK_UNITS)
        head = take_free(units, ANY_TAG);
    if (!head) {
        size_t gap = want_guard(units);
        size_t at = A.frontier, end = at + units + gap;
        if (end <= A.units_total && ensure_committed(end)) {
            if (gap && !sg_os_protect_none(unit_addr(at + units), SG_UNIT_SIZE)) {
                gap = 0;   /* the kernel refused (mapping budget): keep the unit as an unused hole */
                guards_off("the kernel refused a guard page");
            }
            if (gap) A.guards++;
            head = &sg_ro.meta[at];
            head->guarded = (uint8_t)gap;
            head->dirty = 0;
            A.frontier = end;
        }
    }
    if (!head && cooling_flush_locked()) head = take_free(units, tag);   /* out of room */
    if (!head && SG_CLASS_ISOLATION) {
        head = take_free(units, ANY_TAG);
        if (!head && merge_all_locked()) head = take_free(units, ANY_TAG);
    }
    if (head) {
        head->span_tag = (uint8_t)tag;
        uint8_t resident = head->dirty;   /* a dirty free span was never purged */
#if SG_SLOT_STATES
        head->state = states;
#else
        (void)states;
#endif
        /* SMALL from here on, for the statistics walk too, which must not read the slot states
         * of this new array up to the capacity of the page that was here before: none until
         * sg_page_init fills the descriptor (under this lock) */
        head->capacity = 0;
        mark_span(head, units);
        head->dirty = 0;
        head->cold = !resident;
        A.live_units += units;
        if (A.live_units > A.live_peak) A.live_peak = A.live_units;
    }
    sg_arena_unlock();
    return head;
}

/* Is the span ending just before `head` free? Returns its head or NULL. */
static sg_page_t *free_before(sg_page_t *head) {
    if (head == sg_ro.meta) return NULL;
    sg_page_t *last = head - 1, *h = last->kind == SG_PAGE_TAIL ? last - last->head_offset : last;
    if (h->kind != SG_PAGE_UNUSED || h->units == 0 || h->guarded || h->cooling || h + h->units != head ||
        h->span_tag != head->span_tag)
        return NULL;
    return h;
}

static bool free_span_locked(sg_page_t *head, uint64_t now, bool clean);

static void free_span(sg_page_t *head, bool clean) {
    sg_arena_lock();
    A.live_units -= head->units;
    uint64_t now = sg_os_now_ms();
    bool due = free_span_locked(head, now, clean);
    sg_arena_unlock();
    if (due) sg_large_tick();   /* idle freed memory of large blocks goes back too */
}

void sg_arena_free_span(sg_page_t *head) { free_span(head, false); }

/* The spans of a destroyed heap (sg_page_discard, memory purged) wait before they can be taken
 * again, as freed blocks wait in a quarantine: a block of the heap used after sg_heap_destroy
 * then finds no page there (an invalid free, a fault-free read of zero), not a new object of
 * another heap or thread. Up to COOLING_UNITS of them, oldest out first; all of them when the
 * arena is out of room. */
#define COOLING_UNITS 64   /* 4 MiB of address space, purged: no memory */
void sg_arena_cool_span(sg_page_t *head) {
    if (!SG_QUARANTINE) {
        free_span(head, true);
        return;
    }
    sg_arena_lock();
    A.live_units -= head->units;
    mark_free(head, head->units);
    head->cooling = 1;
    sg_queue_push_back(&A.cooling, head);
    A.cooling_units += head->units;
    bool due = false;
    while (A.cooling_units > COOLING_UNITS) {
        sg_page_t *old = A.cooling.first;
        sg_queue_remove(&A.cooling, old);
        A.cooling_units -= old->units;
        old->cooling = 0;
        due |= free_span_locked(old, sg_os_now_ms(), true);
    }
    sg_arena_unlock();
    if (due) sg_large_tick();
}

/* Every cooling span becomes free (the arena is out of room); true if there was one. */
static bool cooling_flush_locked(void) {
    bool any = A.cooling.first != NULL;
    for (sg_page_t *p; (p = A.cooling.first);) {
        sg_queue_remove(&A.cooling, p);
        A.cooling_units -= p->units;
        p->cooling = 0;
        free_span_locked(p, sg_os_now_ms(), true);
    }
    return any;
}

/* Span head of head->units units back into the free lists, merged with free neighbours (never
 * across a guard); true when the periodic purge is due. clean: its memory was purged already (a
 * destroyed heap's span), so it needs no purge unless it merged with a dirty neighbour. Under
 * the arena lock. */
static bool free_span_locked(sg_page_t *head, uint64_t now, bool clean) {
    size_t units = head->units;
    sg_page_t *next = head + units;
    bool dirty = !clean;
    if (!head->guarded && (size_t)(next - sg_ro.meta) < A.frontier && next->kind == SG_PAGE_UNUSED &&
        next->units > 0 && !next->cooling && next->span_tag == head->span_tag) {
        dirty |= next->dirty;
        free_list_remove(next);
        units += next->units;
        head->guarded = next->guarded;
    }
    sg_page_t *prev = free_before(head);
    if (prev) {
        dirty |= prev->dirty;
        free_list_remove(prev);
        units += prev->units;
        prev->guarded = head->guarded;
        head->kind = SG_PAGE_TAIL;       /* the old head now lies inside prev's span */
        head->head_offset = (uint32_t)(head - prev);
        head = prev;
    }
    head->dirty = dirty;
    head->freed_at_ms = now;
    mark_free(head, units);
    free_list_add(head);
    bool due = now - A.last_purge_ms >= PURGE_DELAY_MS;
    if (A.dirty_bytes > DIRTY_MAX || due) purge_locked(false, now);
    return due;
}
