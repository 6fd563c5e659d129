/* large.c: blocks above the largest size class, mapped directly. Each is registered (address ->
 * size) out of line, so free, realloc and malloc_usable_size of a pointer we never returned, or
 * returned and took back, is detected without reading the pointer. Secure builds put a guard
 * page on each side, place the block against its trailing guard, and keep freed blocks
 * inaccessible for a while before their address space is unmapped; their pages are recycled
 * into later blocks at fresh addresses (recycle.c). Growing a block in realloc is
 * large_grow.c's; large.h holds what the two share. */
#include "internal.h"
#include "large.h"
#include "os.h"
#include "vg.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static pthread_mutex_t large_mutex = PTHREAD_MUTEX_INITIALIZER;
static sg_large_entry_t *table;   /* open addressing, linear probing, power-of-two capacity */
static size_t table_cap, table_used, live_bytes;
/* Kernel mappings that registered blocks' guard pages cost (written under the lock, read
 * without it): a block of the plain layout is three (a guard page, its body, a guard page), a
 * block on huge pages one (its guard pages are markers: sg_large_marker_guards), two once realloc
 * moved it with room to grow (inaccessible, up to its trailing guard page), counted as two (the
 * fields that tell them apart change while it is registered); a bare block none. */
static _Atomic(size_t) guard_mappings;

static size_t guard_cost(const sg_large_entry_t *e) { return !SG_GUARD_PAGES || e->bare ? 0 : e->marked ? 2 : 3; }

/* Freed blocks kept PROT_NONE (secure): a late access faults, a second free is named. */
#define FREED_RING 64
static sg_large_entry_t freed_ring[FREED_RING];
static size_t freed_pos;

static size_t hash_of(uintptr_t a) { return (size_t)((a >> 4) * 0x9e3779b97f4a7c15ULL >> 20); }

static bool table_grow(void) {
    size_t cap = table_cap ? table_cap * 2 : 1024;
    sg_large_entry_t *t = sg_os_map(cap * sizeof(sg_large_entry_t));
    if (!t) return false;
    for (size_t i = 0; i < table_cap; i++) {
        if (!table[i].addr) continue;
        size_t j = hash_of(table[i].addr) & (cap - 1);
        while (t[j].addr) j = (j + 1) & (cap - 1);
        t[j] = table[i];
    }
    if (table) sg_os_unmap(table, table_cap * sizeof(sg_large_entry_t));
    table = t;
    table_cap = cap;
    return true;
}

sg_large_entry_t *sg_large_table_find(uintptr_t a) {
    if (!table_cap) return NULL;
    for (size_t j = hash_of(a) & (table_cap - 1);; j = (j + 1) & (table_cap - 1)) {
        if (table[j].addr == a) return &table[j];
        if (!table[j].addr) return NULL;
    }
}

/* What a block counts in the statistics: its mapping up to its trailing guard (a grown secure
 * block's headroom past the guard is address space only); a fast block's, up to the page its
 * size ends in (the rest of a mapping taken from the cache, or grown with room to spare, is
 * address space it has not written). */
static size_t counted(const sg_large_entry_t *e) {
    size_t guard = sg_large_guard_of(e);
    if (e->marked) return e->body_size + 2 * guard;
    if (e->body) return e->body + e->body_size + guard - e->map;
    size_t used = e->addr - e->map + sg_large_page_round(e->size ? e->size : 1);
    return used < e->map_size ? used : e->map_size;
}

static bool table_insert(const sg_large_entry_t *e) {
    if ((table_used + 1) * 2 > table_cap && !table_grow()) return false;
    size_t j = hash_of(e->addr) & (table_cap - 1);
    while (table[j].addr) j = (j + 1) & (table_cap - 1);
    table[j] = *e;
    table_used++;
    live_bytes += counted(e);
    atomic_fetch_add_explicit(&guard_mappings, guard_cost(e), memory_order_relaxed);
    return true;
}

/* Backward-shift deletion keeps probe sequences intact without tombstones. */
void sg_large_table_remove(sg_large_entry_t *e) {
    size_t mask = table_cap - 1, i = (size_t)(e - table);
    live_bytes -= counted(e);
    table_used--;
    atomic_fetch_sub_explicit(&guard_mappings, guard_cost(e), memory_order_relaxed);
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (!table[j].addr) break;
        size_t home = hash_of(table[j].addr) & mask;
        /* can table[j] move to the hole at i? only if its home is not in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            table[i] = table[j];
            i = j;
        }
    }
    table[i].addr = 0;
}

/* A registered block's new size (realloc, with the lock held): the statistics follow it. */
void sg_large_set_size(sg_large_entry_t *e, size_t size, size_t body_size) {
    live_bytes -= counted(e);
    e->size = size;
    e->body_size = body_size;
    live_bytes += counted(e);
}

/* Register a block that moved (or moves back), with the lock held, and release the lock. A
 * registry that cannot grow for it would lose a live block: fatal. */
void sg_large_insert_and_unlock(const sg_large_entry_t *e) {
    bool ok = table_insert(e);
    sg_mutex_unlock(&large_mutex);
    if (!ok) sg_report_fatal("large registry full", (void *)e->addr, e->size);
}

static bool in_freed_ring(uintptr_t a, size_t *size) {
    for (size_t i = 0; i < FREED_RING; i++) {
        if (freed_ring[i].addr == a) {
            *size = freed_ring[i].size;
            return true;
        }
    }
    return false;
}

/* ---- the slack canary (secure) -------------------------------------------------------------- */
/* A large block ends against its trailing guard page only when its size is a multiple of its
 * alignment; otherwise up to 15 bytes (more for larger alignments) lie between its end and the
 * guard, where a short overflow would not fault. The first 16 of them hold a secret canary,
 * first byte zero like the small blocks' one, checked at free and realloc. Likewise the up to
 * 16 bytes before the block (its start is rarely on a page boundary, so up to a page lies
 * between the leading guard and the block) catch a short underflow. */

size_t sg_large_slack_len(const sg_large_entry_t *e) {
    if (!LARGE_CANARY || !e->body) return 0;
    size_t tail = e->body + e->body_size - (e->addr + e->size);
    return tail < SLACK_CANARY_MAX ? tail : SLACK_CANARY_MAX;
}

static size_t head_len(const sg_large_entry_t *e) {
    if (!LARGE_CANARY || !e->body) return 0;
    size_t head = e->addr - e->body;
    return head < SLACK_CANARY_MAX ? head : SLACK_CANARY_MAX;
}

static void slack_pattern(uint64_t key, unsigned char out[SLACK_CANARY_MAX]) {
    uint64_t a = key & ~(uint64_t)0xff, b = ~((key << 32) | (key >> 32));
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

void sg_large_slack_write(const sg_large_entry_t *e) {
    unsigned char c[SLACK_CANARY_MAX];
    slack_pattern(e->canary_key, c);
    memcpy((char *)e->addr + e->size, c, sg_large_slack_len(e));
    size_t h = head_len(e);
    memcpy((char *)e->addr - h, c + SLACK_CANARY_MAX - h, h);
}

/* false when the bytes after the block, or before it, were overwritten: the canaries, and past
 * them the rest of the body, which reads zero (up to a page: a block grown by moving its pages
 * keeps its start's offset in the page, so its end can lie that far from the guard) */
bool sg_large_slack_intact(const sg_large_entry_t *e) {
    unsigned char c[SLACK_CANARY_MAX];
    slack_pattern(e->canary_key, c);
    const unsigned char *s = (const unsigned char *)e->addr + e->size;
    unsigned char diff = 0;
    size_t n = sg_large_slack_len(e), h = head_len(e);
    for (size_t i = 0; i < n; i++) diff |= (unsigned char)(s[i] ^ c[i]);
    const unsigned char *before = (const unsigned char *)e->addr;
    for (size_t i = 1; i <= h; i++) diff |= (unsigned char)(before[-(ptrdiff_t)i] ^ c[SLACK_CANARY_MAX - i]);
    if (LARGE_CANARY && e->body) {
        for (const unsigned char *z = s + n, *end = (const unsigned char *)e->body + e->body_size; z < end; z++) diff |= *z;
        for (const unsigned char *z = (const unsigned char *)e->body; z < before - h; z++) diff |= *z;
    }
    return diff == 0;
}

/* ---- allocation --------------------------------------------------------------------------- */
void *sg_large_alloc(size_t size, size_t alignment, bool zero) {
    return sg_large_alloc_owned(size, alignment, zero, NULL);
}

static bool flush_freed_ring(void);
static bool flush_oldest_freed(size_t need);

/* The process's mappings (lines of /proc/self/maps). Reading them takes milliseconds near
 * vm.max_map_count, where allocations fail one after another: the count is kept for 100 ms. */
static size_t mappings_now(void) {
    static _Atomic(uint64_t) checked_ms;
    static _Atomic(size_t) count;
    uint64_t now = sg_os_now_ms() + 1, last = atomic_load_explicit(&checked_ms, memory_order_relaxed);
    if (last && now - last < 100) return atomic_load_explicit(&count, memory_order_relaxed);
    size_t n = sg_os_mapping_count();
    atomic_store_explicit(&count, n, memory_order_relaxed);
    atomic_store_explicit(&checked_ms, now, memory_order_relaxed);
    return n;
}

/* Are the process's mappings within 2 * FREED_RING of vm.max_map_count? */
static bool near_map_limit(void) { return mappings_now() + 2 * FREED_RING >= sg_os_max_map_count(); }

/* The guard budget of large blocks (secure builds): what their guard pages cost in kernel
 * mappings (guard_mappings) keeps to a quarter of vm.max_map_count (the arena's guards keep to
 * another: arena.c), and takes none of its last half once the process's mappings, its own
 * included, reach it. Past the budget a block is made bare: no guard pages, one mapping (which
 * the kernel may merge with a neighbour), as glibc's; one warning says so. A guarded block
 * freed gives its share back. The process's mappings are counted only once guards cost a
 * sixty-fourth of the limit: counting them reads /proc/self/maps. */
static bool guards_left(void) {
    static _Atomic(bool) warned;
    size_t max = sg_os_max_map_count(), g = atomic_load_explicit(&guard_mappings, memory_order_relaxed);
    if (g < max / 4 && (64 * g < max || mappings_now() < max / 2)) return true;
    if (!atomic_exchange_explicit(&warned, true, memory_order_relaxed))
        sg_report_warning("large blocks made without guard pages: vm.max_map_count budget reached");
    return false;
}

/* The guard pages of a range reserved for a block on huge pages (inaccessible): the leading
 * one and, if trailing, the last become markers in read-write pages, so that the range, once
 * its huge pages are read-write, is one kernel mapping instead of three; an access faults all
 * the same. With trailing, the whole range is made read-write first, in one call: the markers'
 * pages made read-write apart would each take an anon_vma of their own in the kernel, and the
 * parts would never merge. false when the kernel refuses (the caller unmaps the range). */
bool sg_large_marker_guards(char *map, size_t map_size, bool trailing) {
    size_t guard = SG_GUARD_PAGES ? SG_OS_PAGE : 0;
    if (!guard) return true;
    if (!sg_os_commit(map, trailing ? map_size : guard) || !sg_os_guard(map, guard)) return false;
    return !trailing || sg_os_guard(map + map_size - guard, guard);
}

static void *alloc_once(size_t size, size_t alignment, bool zero, sg_heap_t *owner, size_t reserved) {
    /* A program's first allocation may be a large one: start-up (the process secret that keys
     * the canary below, the fork handlers that take large_mutex) must have run by now. An
     * atomic load once it has; false (ignored) inside start-up itself. */
    int saved_errno = errno;   /* what failed on the way (a refused page move) is not reported */
    (void)sg_init_process();
    sg_large_entry_t e = { 0, size, 0, 0, owner, 0, 0, { 0 }, 0, 0, false, false };
    e.bare = SG_GUARD_PAGES && !guards_left();
    size_t guard = sg_large_guard_of(&e);
    /* a bare block has no guard page to fault a short overflow: it keeps room for the whole
     * canary after it, whatever its size */
    size_t canary_room = sg_large_canary_room(&e);
    size_t body = sg_large_page_round((size ? size : 1) + canary_room);
    bool extra = alignment > SG_OS_PAGE;   /* aligned above a page */
    /* where the body starts: on a huge page when it is one or more, or on the alignment asked
     * for; the mapping is placed so (os.c trims the slack it maps for that), nothing more */
    size_t at = body >= SG_OS_HUGE ? SG_OS_HUGE : SG_OS_PAGE;
    if (alignment > at) at = alignment;
    size_t map_size = body + 2 * guard;
    char *map;
    uintptr_t user;
    bool fresh = true;   /* a new mapping reads zero; a cached one holds old data */
    if (HARDENED_LARGE && !extra && !owner && !e.bare && sg_recycle_marked_ok()) {
        /* on whole huge pages, the body at the end of the last (against the trailing guard),
         * markers before it */
        size_t span = sg_large_huge_round(body);
        map_size = span + 2 * guard;
        map = sg_os_reserve_accounted(map_size, SG_OS_HUGE, guard);
        if (!map) goto nomem;
        if (!sg_large_marker_guards(map, map_size, true)) {
            sg_os_unmap(map, map_size);
            /* markers just refused for good (mlockall): the layout without them */
            if (!sg_recycle_marked_ok()) {
                errno = saved_errno;
                return alloc_once(size, alignment, zero, owner, reserved);
            }
            goto nomem;
        }
        uintptr_t body_at = (uintptr_t)map + guard + span - body;
        char *lost = NULL;
        int r = sg_recycle_fill_slots(map + guard, span / SG_OS_HUGE, body_at, body_at + body, &e.pieces, &lost);
        if (r != SG_FILL_OK) {
            sg_large_drop_range(map, map_size, lost, lost ? SG_OS_HUGE : 0);
            /* markers just refused for good (locked memory): the layout without them */
            if (r == SG_FILL_FAILED && !sg_recycle_marked_ok()) {
                errno = saved_errno;
                return alloc_once(size, alignment, zero, owner, reserved);
            }
            goto nomem;
        }
        sg_os_huge(map, map_size);
        e.marked = true;
        e.body = body_at;
        e.body_size = body;
        /* against the trailing guard, rounded down to the alignment (at most a page here) */
        size_t a = alignment > SG_MIN_ALIGN ? alignment : SG_MIN_ALIGN;
        user = (body_at + body - (size ? size : 1)) & ~(uintptr_t)(a - 1);
        if (LARGE_CANARY) {
            e.addr = user;
            e.canary_key = sg_random_block_key(user);
            sg_large_slack_write(&e);
        }
    } else if (HARDENED_LARGE) {
        map = sg_os_reserve_accounted(map_size, at, guard);
        if (!map) goto nomem;
        uintptr_t body_at = (uintptr_t)map + guard;
        /* recycled pages (zeroed) first, fresh ones for the rest */
        char *lost;
        size_t lost_len;
        size_t filled = owner ? 0 : sg_recycle_fill((char *)body_at, body, e.piece_pages, SG_RECYCLE_PIECES, &e.pieces,
                                                    &lost, &lost_len);
        if (filled == SG_RECYCLE_LOST) {   /* [lost, +lost_len) may not be ours: left alone */
            sg_large_drop_range(map, map_size, lost, lost_len);
            goto nomem;
        }
        if (filled < body && !sg_os_commit((char *)body_at + filled, body - filled)) {
            if (filled) sg_recycle_take_back((char *)body_at, filled, e.piece_pages, e.pieces);
            sg_os_unmap(map, map_size);
            goto nomem;
        }
        sg_os_huge(map, map_size);   /* guards too: one flag for the whole range, no split */
        e.body = body_at;
        e.body_size = body;
        /* against the trailing guard: an overflow past the size, rounded to the alignment,
         * faults (body_at itself is aligned: page-aligned, or aligned above when extra) */
        size_t a = alignment > SG_MIN_ALIGN ? alignment : SG_MIN_ALIGN;
        user = (body_at + body - (size ? size : 1) - canary_room) & ~(uintptr_t)(a - 1);
        if (user < body_at) user = body_at;
        if (LARGE_CANARY) {
            e.addr = user;
            e.canary_key = sg_random_block_key(user);
            sg_large_slack_write(&e);
        }
    } else {
        /* a heap's block is never served from the cache: its mapping must be exactly what
         * the heap's limit was checked against */
        map = NULL;
        if (!extra && !owner) {
            size_t need = map_size;
            bool purged = true;
            sg_mutex_lock(&large_mutex);
            map = sg_large_cache_take(need, &map_size, &purged);
            size_t below = 0;
            char *small = map || !MREMAP_OK ? NULL : sg_large_cache_take_below(need, &below);
            sg_mutex_unlock(&large_mutex);
            if (map && zero && !purged) memset(map, 0, need);   /* purged pages read zero */
            if (small) {   /* a smaller mapping, grown: its pages are resident, only the rest faults */
                map = sg_os_remap(small, below, need);
                if (!map) {
                    sg_os_unmap(small, below);
                } else {
                    sg_os_huge(map, need);
                    if (zero) memset(map, 0, below);
                    else sg_large_populate_growth((char *)map + below, need - below, below);
                }
            }
        }
        fresh = map == NULL;
        if (!map) map = at > SG_OS_PAGE ? sg_os_map_aligned(map_size, at) : sg_os_map(map_size);
        if (!map) goto nomem;
        if (fresh) sg_os_huge(map, map_size);
        user = (uintptr_t)map;
    }
    e.addr = user;
    e.map = (uintptr_t)map;
    e.map_size = map_size;
    sg_mutex_lock(&large_mutex);
    bool ok = table_insert(&e);
    sg_mutex_unlock(&large_mutex);
    if (!ok) {   /* no room to register it: recycled pages go back to the pool, as at free */
        if (e.marked)
            sg_recycle_take_back_slots(sg_large_slot0_of(&e), sg_large_slots_of(&e), e.body, e.body + e.body_size, e.pieces);
        else if (e.pieces) sg_recycle_take_back((char *)e.body, e.body_size, e.piece_pages, e.pieces);
        sg_os_unmap(map, map_size);
        goto nomem;
    }
    if (owner) atomic_fetch_add_explicit(&owner->mapped, map_size - reserved, memory_order_relaxed);   /* mod 2^n */
    VALGRIND_MALLOCLIKE_BLOCK((void *)user, size, 0, fresh || zero);
    (void)fresh;
    errno = saved_errno;
    return (void *)user;
nomem:
    errno = ENOMEM;
    return NULL;
}

/* A refusal may come from the memory that recycled pages still hold (they go back), from the
 * mappings (vm.max_map_count), of which each block in the ring of freed blocks holds one: near
 * that limit the ring is emptied (its blocks unmapped: a late access still faults, but their
 * addresses may be handed out again), or from the address space those blocks hold (RLIMIT_AS):
 * the oldest go until what they held, with what the limit still allows, would fit the request.
 * Not when all of them would not: a request too large to map, which a program may pass on from
 * its input, must not end the quarantine. Fast builds give their cached mappings back (as
 * malloc_trim does). Then the allocation is tried once more. */
static void *alloc_owned(size_t size, size_t alignment, bool zero, sg_heap_t *owner, size_t reserved) {
    if (size > SG_MAX_REQUEST || alignment > SG_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    int saved = errno;
    void *p = alloc_once(size, alignment, zero, owner, reserved);
    if (p) return p;
    bool freed_some;
    if (!SG_LARGE_QUARANTINE) {
        freed_some = sg_large_trim();
    } else {
        freed_some = sg_recycle_trim();
        if (near_map_limit()) freed_some |= flush_freed_ring();
        else freed_some |= flush_oldest_freed(size + alignment + 2 * SG_OS_HUGE);
    }
    if (!freed_some) return NULL;
    errno = saved;
    return alloc_once(size, alignment, zero, owner, reserved);
}

void *sg_large_alloc_owned(size_t size, size_t alignment, bool zero, sg_heap_t *owner) {
    return alloc_owned(size, alignment, zero, owner, 0);
}

/* A limited heap's block, reserved bytes of it counted already (sg_heap_reserve): the block
 * counts only the rest of what it maps. The caller takes the reservation back on failure. */
void *sg_large_alloc_reserved(size_t size, bool zero, sg_heap_t *owner, size_t reserved) {
    return alloc_owned(size, 0, zero, owner, reserved);
}

/* ---- free ---------------------------------------------------------------------------------- */
SG_COLD _Noreturn void sg_large_bad_pointer(const char *what_unknown, const void *p) {
    size_t size = 0;
    bool freed = in_freed_ring((uintptr_t)p, &size);
    sg_mutex_unlock(&large_mutex); /* never abort holding a lock */
    if (freed) sg_report_double_free(p, size);
    sg_report_fatal(what_unknown, p, 0);
}

/* A freed block's range, emptied: with the large quarantine it turns inaccessible while no other
 * thread can know it and waits in the ring of freed blocks (the block it pushes out is
 * unmapped); else it is unmapped at once. */
void sg_large_retire(const sg_large_entry_t *old) {
    if (!SG_LARGE_QUARANTINE) {
        sg_os_unmap((void *)old->map, old->map_size);
        return;
    }
    if (!sg_os_protect_none((void *)old->map, old->map_size)) {
        /* no mapping left for the split (vm.max_map_count): unmap the range instead, so a late
         * access still faults (if even that is refused, it stays mapped, emptied: see
         * sg_os_unmap); a second free of it is then reported as an invalid free */
        sg_os_unmap((void *)old->map, old->map_size);
        return;
    }
    sg_mutex_lock(&large_mutex);
    sg_large_entry_t evicted = freed_ring[freed_pos];
    freed_ring[freed_pos] = *old;
    freed_pos = (freed_pos + 1) % FREED_RING;
    sg_mutex_unlock(&large_mutex);
    if (evicted.addr) sg_os_unmap((void *)evicted.map, evicted.map_size);
}

/* Unmap the oldest blocks of the ring of freed blocks until they held `need` bytes of address
 * space, less what RLIMIT_AS still allows; none if the whole ring holds less. True if any went. */
static bool flush_oldest_freed(size_t need) {
    sg_large_entry_t out[FREED_RING];
    size_t n = 0, held = 0, left = sg_os_address_space_left();
    if (left == SIZE_MAX || left >= need) left = 0;   /* the refusal was not for address space */
    need -= left;
    sg_mutex_lock(&large_mutex);
    for (size_t i = 0; i < FREED_RING; i++) held += freed_ring[i].addr ? freed_ring[i].map_size : 0;
    for (size_t k = 0, got = 0; held >= need && k < FREED_RING && got < need; k++) {
        sg_large_entry_t *e = &freed_ring[(freed_pos + k) % FREED_RING];   /* the oldest first */
        if (!e->addr) continue;
        out[n++] = *e;
        got += e->map_size;
        e->addr = 0;
    }
    sg_mutex_unlock(&large_mutex);
    for (size_t i = 0; i < n; i++) sg_os_unmap((void *)out[i].map, out[i].map_size);
    return n > 0;
}

/* Unmap every block in the ring of freed blocks; true if there was one. */
static bool flush_freed_ring(void) {
    sg_large_entry_t out[FREED_RING];
    size_t n = 0;
    sg_mutex_lock(&large_mutex);
    for (size_t i = 0; i < FREED_RING; i++) {
        if (!freed_ring[i].addr) continue;
        out[n++] = freed_ring[i];
        freed_ring[i].addr = 0;
    }
    sg_mutex_unlock(&large_mutex);
    for (size_t i = 0; i < n; i++) sg_os_unmap((void *)out[i].map, out[i].map_size);
    return n > 0;
}

/* A first-class heap's block (freed, or its heap destroyed): its pages are purged, never
 * recycled (they are counted against the heap), then the range is retired; the ring of freed
 * blocks only makes it inaccessible, which gives no memory back. Hardened builds only. */
static void retire_owned(const sg_large_entry_t *e) {
    sg_os_purge((void *)e->body, e->body_size);
    sg_large_retire(e);
}

void sg_large_free(void *p, size_t expect, size_t align) {
    sg_mutex_lock(&large_mutex);
    sg_large_entry_t *e = sg_large_table_find((uintptr_t)p);
    if (!e) sg_large_bad_pointer("invalid free", p);
    if (SG_EXACT_FREE_CHECKS && expect != SG_ANY_SIZE && sg_unlikely(!sg_sized_free_ok(p, e->size, true, expect, align))) {
        size_t size = e->size;
        sg_mutex_unlock(&large_mutex);
        sg_sized_free_mismatch(p, size, expect == size);
    }
    sg_large_entry_t old = *e;
    sg_large_table_remove(e);
    sg_mutex_unlock(&large_mutex);
    if (sg_unlikely(!sg_large_slack_intact(&old))) sg_report_overflow(p, old.size);
    VALGRIND_FREELIKE_BLOCK(p, 0);
    if (old.owner) atomic_fetch_sub_explicit(&old.owner->mapped, old.map_size, memory_order_relaxed);
    if (!HARDENED_LARGE) {
        uintptr_t evict;
        size_t evict_size = 0;
        sg_mutex_lock(&large_mutex);
        uintptr_t map = old.map;
        size_t map_size = old.map_size;
        bool kept = sg_large_cache_put(&map, &map_size, &evict, &evict_size);
        sg_mutex_unlock(&large_mutex);
        if (evict) sg_os_unmap((void *)evict, evict_size);
        if (!kept) sg_os_unmap((void *)map, map_size);
        return;
    }
    /* the pages go away (recycled, or purged), then the range */
    if (old.owner) {
        retire_owned(&old);
        return;
    }
    if (old.marked)
        sg_recycle_take_back_slots(sg_large_slot0_of(&old), sg_large_slots_of(&old), old.body, old.body + old.body_size,
                                   old.pieces);
    else sg_recycle_take_back((char *)old.body, old.body_size, old.piece_pages, old.pieces);
    sg_large_retire(&old);
}

/* Does the large block at p belong to heap (NULL: no first-class heap)? true as well when p is
 * no live large block: the free that follows names that error precisely. */
bool sg_large_owner_is(const void *p, const sg_heap_t *heap) {
    sg_mutex_lock(&large_mutex);
    sg_large_entry_t *e = sg_large_table_find((uintptr_t)p);
    bool ok = !e || e->owner == heap;
    sg_mutex_unlock(&large_mutex);
    return ok;
}

/* The size of large block p. One that is not registered is reported in malloc_usable_size's
 * words ("use after free", "invalid pointer"), or for realloc as realloc reports it (a double
 * free when it was freed: realloc frees its argument). */
static size_t registered_size(const void *p, bool for_realloc) {
    sg_mutex_lock(&large_mutex);
    sg_large_entry_t *e = sg_large_table_find((uintptr_t)p);
    if (!e) {
        if (for_realloc) sg_large_bad_pointer("invalid free", p);
        size_t size = 0;
        bool freed = in_freed_ring((uintptr_t)p, &size);
        sg_mutex_unlock(&large_mutex);
        sg_report_fatal(freed ? "use after free" : "invalid pointer", p, size);
    }
    size_t n = e->size;
    sg_mutex_unlock(&large_mutex);
    return n;
}
size_t sg_large_realloc_size(const void *p) { return registered_size(p, true); }
size_t sg_large_usable_size(const void *p) { return registered_size(p, false); }

/* sg_heap_destroy: every large block the heap owns goes, as a freed one does (sg_large_retire:
 * into the ring of freed blocks, inaccessible, in secure builds). Up to DISCARD_BATCH of them
 * per pass over the table (a removal shifts later entries back: the same index is looked at
 * again), the system calls made with the lock released; passes until one finds none. */
#define DISCARD_BATCH 64
void sg_large_discard_owned(sg_heap_t *owner) {
    for (;;) {
        sg_large_entry_t victims[DISCARD_BATCH];
        size_t n = 0;
        sg_mutex_lock(&large_mutex);
        for (size_t i = 0; i < table_cap && n < DISCARD_BATCH;) {
            if (table[i].addr && table[i].owner == owner) {
                victims[n++] = table[i];
                sg_large_table_remove(&table[i]);
            } else {
                i++;
            }
        }
        sg_mutex_unlock(&large_mutex);
        if (!n) return;
        for (size_t i = 0; i < n; i++) {
            if (HARDENED_LARGE) retire_owned(&victims[i]);
            else sg_large_retire(&victims[i]);
        }
    }
}

void sg_large_stats(size_t *count, size_t *bytes) {
    sg_mutex_lock(&large_mutex);
    *count = table_used;
    *bytes = live_bytes;
    sg_mutex_unlock(&large_mutex);
}

size_t sg_large_requested_bytes(void) {
    size_t n = 0;
    sg_mutex_lock(&large_mutex);
    for (size_t i = 0; i < table_cap; i++) n += table[i].addr ? table[i].size : 0;
    sg_mutex_unlock(&large_mutex);
    return n;
}

/* sg_heap_visit: the heap's large blocks in address order, found a batch per pass over the
 * table (fn runs without the lock). Other threads' large blocks come and go meanwhile, moving
 * entries in the table (it grows, a deletion shifts entries back): a walk by table position
 * could skip a block or see one twice. */
#define VISIT_BATCH 64   /* blocks found per pass over the table: the lowest addresses left */
void sg_large_each_owned(sg_heap_t *owner, int (*fn)(void *block, size_t size, void *arg), void *arg) {
    for (uintptr_t after = 0;;) {
        uintptr_t addr[VISIT_BATCH];
        size_t size[VISIT_BATCH], n = 0;
        sg_mutex_lock(&large_mutex);
        for (size_t i = 0; i < table_cap; i++) {
            uintptr_t a = table[i].addr;
            if (a <= after || table[i].owner != owner || (n == VISIT_BATCH && a >= addr[n - 1])) continue;
            size_t k = n < VISIT_BATCH ? n++ : n - 1;   /* insertion into the sorted batch */
            for (; k > 0 && addr[k - 1] > a; k--) addr[k] = addr[k - 1], size[k] = size[k - 1];
            addr[k] = a;
            size[k] = table[i].size;
        }
        sg_mutex_unlock(&large_mutex);
        for (size_t k = 0; k < n; k++)
            if (!fn((void *)addr[k], size[k], arg)) return;
        if (n < VISIT_BATCH) return;
        after = addr[n - 1];
    }
}

/* malloc_trim: unmap every cached mapping (fast builds) and every recycled page (secure). */
bool sg_large_trim(void) {
    bool recycled = sg_recycle_trim();
    sg_large_cached_t out[SG_LARGE_CACHE_SLOTS];
    sg_mutex_lock(&large_mutex);
    size_t n = sg_large_cache_drain(out);
    sg_mutex_unlock(&large_mutex);
    for (size_t i = 0; i < n; i++) sg_os_unmap((void *)out[i].map, out[i].map_size);
    return n > 0 || recycled;
}

/* At the arena's purge pace (a span freed, the purge due): freed large memory idle for a second
 * goes back, also when no large block is freed any more (which is when the cache looks). */
void sg_large_tick(void) {
    sg_recycle_tick();
    if (HARDENED_LARGE) return;
    sg_mutex_lock(&large_mutex);
    sg_large_cache_purge_idle(sg_os_now_ms());
    sg_mutex_unlock(&large_mutex);
}

void sg_large_lock(void) { sg_mutex_lock(&large_mutex); }
void sg_large_unlock(void) { sg_mutex_unlock(&large_mutex); }
