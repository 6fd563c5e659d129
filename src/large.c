/* large.c: blocks above the largest size class, mapped directly. Each is registered (address ->
 * size) out of line, so free, realloc and malloc_usable_size of a pointer we never returned, or
 * returned and took back, is detected without reading the pointer. Secure builds put a guard
 * page on each side, place the block against its trailing guard, and keep freed blocks
 * inaccessible for a while before their address space is unmapped; their pages are recycled
 * into later blocks at fresh addresses (recycle.c). */
#include "internal.h"
#include "os.h"
#include "vg.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

typedef struct entry_s {
    uintptr_t addr;      /* user pointer; 0 = empty slot */
    size_t size;         /* requested size */
    uintptr_t map;       /* start of the mapping */
    size_t map_size;
    sg_heap_t *owner;    /* first-class heap that owns it, or NULL */
    uintptr_t body;      /* secure builds: the read-write part between the guards */
    size_t body_size;
    uint32_t piece_pages[SG_RECYCLE_PIECES];   /* recycled pieces it starts with (recycle.c) */
    unsigned pieces;
    uint64_t canary_key;  /* secure builds: keys the canary in the slack after the block */
    /* secure builds where the kernel has guard markers: the block is laid out on whole huge
     * pages (recycle.c): [map + guard, map + map_size - guard) is a run of them, read-write up
     * to the huge page the body ends in, inaccessible after (room to grow); markers around the
     * body; pieces counts the huge pages moved in from the pool */
    bool marked;
} entry_t;

static pthread_mutex_t large_mutex = PTHREAD_MUTEX_INITIALIZER;
static entry_t *table;            /* open addressing, linear probing, power-of-two capacity */
static size_t table_cap, table_used, live_bytes;

/* Freed blocks kept PROT_NONE (secure): a late access faults, a second free is named. */
#define FREED_RING 64
static entry_t freed_ring[FREED_RING];
static size_t freed_pos;

/* Secure large blocks (guard pages or the large quarantine, either alone): reserved with their
 * guards, filled with recycled pages, never served from the cache, grown in place only into
 * the room reserved when a growth moved them. */
#define HARDENED_LARGE (SG_GUARD_PAGES || SG_LARGE_QUARANTINE)

/* ThreadSanitizer does not see mremap: a mapping moved to where a thread's stack was keeps the
 * shadow of that thread's last writes, and the next owner's writes look like races. TSan builds
 * (tests/sanitize.sh) never mremap a fast block: they map a fresh one instead of growing a
 * smaller cached one, and copy where realloc would grow or move the mapping. */
#if defined(__SANITIZE_THREAD__)
#define MREMAP_OK 0
#else
#define MREMAP_OK 1
#endif

static size_t page_round(size_t n) { return (n + SG_OS_PAGE - 1) & ~(size_t)(SG_OS_PAGE - 1); }

static size_t hash_of(uintptr_t a) { return (size_t)((a >> 4) * 0x9e3779b97f4a7c15ULL >> 20); }

static bool table_grow(void) {
    size_t cap = table_cap ? table_cap * 2 : 1024;
    entry_t *t = sg_os_map(cap * sizeof(entry_t));
    if (!t) return false;
    for (size_t i = 0; i < table_cap; i++) {
        if (!table[i].addr) continue;
        size_t j = hash_of(table[i].addr) & (cap - 1);
        while (t[j].addr) j = (j + 1) & (cap - 1);
        t[j] = table[i];
    }
    if (table) sg_os_unmap(table, table_cap * sizeof(entry_t));
    table = t;
    table_cap = cap;
    return true;
}

static entry_t *table_find(uintptr_t a) {
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
static size_t counted(const entry_t *e) {
    size_t guard = SG_GUARD_PAGES ? SG_OS_PAGE : 0;
    if (e->marked) return e->body_size + 2 * guard;
    if (e->body) return e->body + e->body_size + guard - e->map;
    size_t used = e->addr - e->map + page_round(e->size ? e->size : 1);
    return used < e->map_size ? used : e->map_size;
}

static bool table_insert(const entry_t *e) {
    if ((table_used + 1) * 2 > table_cap && !table_grow()) return false;
    size_t j = hash_of(e->addr) & (table_cap - 1);
    while (table[j].addr) j = (j + 1) & (table_cap - 1);
    table[j] = *e;
    table_used++;
    live_bytes += counted(e);
    return true;
}

/* Backward-shift deletion keeps probe sequences intact without tombstones. */
static void table_remove(entry_t *e) {
    size_t mask = table_cap - 1, i = (size_t)(e - table);
    live_bytes -= counted(e);
    table_used--;
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

/* Register a block that moved (or moves back), with the lock held, and release the lock. A
 * registry that cannot grow for it would lose a live block: fatal. */
static void insert_and_unlock(const entry_t *e) {
    bool ok = table_insert(e);
    pthread_mutex_unlock(&large_mutex);
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
#define SLACK_CANARY_MAX 16u
#define LARGE_CANARY (SG_CANARY && HARDENED_LARGE)

static size_t slack_len(const entry_t *e) {
    if (!LARGE_CANARY || !e->body) return 0;
    size_t tail = e->body + e->body_size - (e->addr + e->size);
    return tail < SLACK_CANARY_MAX ? tail : SLACK_CANARY_MAX;
}

static size_t head_len(const entry_t *e) {
    if (!LARGE_CANARY || !e->body) return 0;
    size_t head = e->addr - e->body;
    return head < SLACK_CANARY_MAX ? head : SLACK_CANARY_MAX;
}

static void slack_pattern(uint64_t key, unsigned char out[SLACK_CANARY_MAX]) {
    uint64_t a = key & ~(uint64_t)0xff, b = ~((key << 32) | (key >> 32));
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

static void slack_write(const entry_t *e) {
    unsigned char c[SLACK_CANARY_MAX];
    slack_pattern(e->canary_key, c);
    memcpy((char *)e->addr + e->size, c, slack_len(e));
    size_t h = head_len(e);
    memcpy((char *)e->addr - h, c + SLACK_CANARY_MAX - h, h);
}

/* false when the bytes after the block, or before it, were overwritten: the canaries, and past
 * them the rest of the body, which reads zero (up to a page: a block grown by moving its pages
 * keeps its start's offset in the page, so its end can lie that far from the guard) */
static bool slack_intact(const entry_t *e) {
    unsigned char c[SLACK_CANARY_MAX];
    slack_pattern(e->canary_key, c);
    const unsigned char *s = (const unsigned char *)e->addr + e->size;
    unsigned char diff = 0;
    size_t n = slack_len(e), h = head_len(e);
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
/* The fresh pages a growth added, [p, p+len) after old bytes: faulted in at once, the program
 * being about to write them, unless the growth is far larger than the block (more than double:
 * a reservation of capacity, maybe never used) or than 64 MiB. Called without the lock. Also
 * for the fresh part of a fast malloc served by growing a smaller cached mapping: the program
 * wrote all of a block of about that size before. */
static void populate_growth(void *p, size_t len, size_t old) {
    if (len && len <= 2 * old && len <= ((size_t)64 << 20)) sg_os_populate(p, len);
}

/* The lead for sg_os_reserve_accounted that puts the range's byte number guard (the body's
 * first) at the offset skew within a huge page. */
static size_t huge_lead(size_t guard, size_t skew) { return (guard + SG_OS_HUGE - skew) & (SG_OS_HUGE - 1); }

static size_t huge_round(size_t n) { return (n + SG_OS_HUGE - 1) & ~(SG_OS_HUGE - 1); }

/* A block on huge pages with guard markers: the first of them, and how many hold its pages. */
static char *slot0_of(const entry_t *e) { return (char *)e->map + (SG_GUARD_PAGES ? SG_OS_PAGE : 0); }
static size_t slots_of(const entry_t *e) { return (huge_round(e->body + e->body_size) - (uintptr_t)slot0_of(e)) / SG_OS_HUGE; }

static void drop_range(char *map, size_t map_size, char *lost, size_t lost_len);

/* ---- allocation (continued) --------------------------------------------------------------------- */
void *sg_large_alloc(size_t size, size_t alignment, bool zero) {
    return sg_large_alloc_owned(size, alignment, zero, NULL);
}

void *sg_large_alloc_owned(size_t size, size_t alignment, bool zero, sg_heap_t *owner) {
    if (size > SG_MAX_REQUEST || alignment > SG_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    /* A program's first allocation may be a large one: start-up (the process secret that keys
     * the canary below, the fork handlers that take large_mutex) must have run by now. An
     * atomic load once it has; false (ignored) inside start-up itself. */
    (void)sg_init_process();
    int saved_errno = errno;   /* what failed on the way (a refused page move) is not reported */
    size_t guard = SG_GUARD_PAGES ? SG_OS_PAGE : 0;
    size_t body = page_round(size ? size : 1);
    size_t extra = alignment > SG_OS_PAGE ? alignment : 0;
    size_t map_size = body + 2 * guard + extra;
    char *map;
    uintptr_t user;
    bool fresh = true;   /* a new mapping reads zero; a cached one holds old data */
    entry_t e = { 0, size, 0, 0, owner, 0, 0, { 0 }, 0, 0, false };
    if (HARDENED_LARGE && !extra && !owner && sg_recycle_marked_ok()) {
        /* on whole huge pages, the body at the end of the last (against the trailing guard),
         * markers before it */
        size_t span = huge_round(body);
        map_size = span + 2 * guard;
        map = sg_os_reserve_accounted(map_size, SG_OS_HUGE, guard);
        if (!map) goto nomem;
        uintptr_t body_at = (uintptr_t)map + guard + span - body;
        char *lost = NULL;
        int r = sg_recycle_fill_slots(map + guard, span / SG_OS_HUGE, body_at, body_at + body, &e.pieces, &lost);
        if (r != SG_FILL_OK) {
            drop_range(map, map_size, lost, lost ? SG_OS_HUGE : 0);
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
            slack_write(&e);
        }
    } else if (HARDENED_LARGE) {
        /* a body of a huge page or more starts on one (below, and sg_recycle_fill) */
        map = sg_os_reserve_accounted(map_size, body >= SG_OS_HUGE && !extra ? SG_OS_HUGE : SG_OS_PAGE, guard);
        if (!map) goto nomem;
        uintptr_t body_at = (uintptr_t)map + guard;
        if (extra) body_at = (body_at + alignment - 1) & ~(uintptr_t)(alignment - 1);
        /* recycled pages (zeroed) first, fresh ones for the rest */
        size_t filled = owner ? 0 : sg_recycle_fill((char *)body_at, body, e.piece_pages, SG_RECYCLE_PIECES, &e.pieces);
        if (filled == SG_RECYCLE_LOST) goto nomem;   /* part of the range may not be ours: leave it */
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
        user = (body_at + body - (size ? size : 1)) & ~(uintptr_t)(a - 1);
        if (user < body_at) user = body_at;
        if (LARGE_CANARY) {
            e.addr = user;
            e.canary_key = sg_random_block_key(user);
            slack_write(&e);
        }
    } else {
        /* a heap's block is never served from the cache: its mapping must be exactly what
         * the heap's limit was checked against */
        map = NULL;
        if (!extra && !owner) {
            size_t need = map_size;
            bool purged = true;
            pthread_mutex_lock(&large_mutex);
            map = sg_large_cache_take(need, &map_size, &purged);
            size_t below = 0;
            char *small = map || !MREMAP_OK ? NULL : sg_large_cache_take_below(need, &below);
            pthread_mutex_unlock(&large_mutex);
            if (map && zero && !purged) memset(map, 0, need);   /* purged pages read zero */
            if (small) {   /* a smaller mapping, grown: its pages are resident, only the rest faults */
                map = sg_os_remap(small, below, need);
                if (!map) {
                    sg_os_unmap(small, below);
                } else {
                    sg_os_huge(map, need);
                    if (zero) memset(map, 0, below);
                    else populate_growth((char *)map + below, need - below, below);
                }
            }
        }
        fresh = map == NULL;
        if (!map) map = map_size >= SG_OS_HUGE ? sg_os_map_aligned(map_size, SG_OS_HUGE) : sg_os_map(map_size);
        if (!map) goto nomem;
        if (fresh) sg_os_huge(map, map_size);
        user = (uintptr_t)map;
        if (extra) user = (user + alignment - 1) & ~(uintptr_t)(alignment - 1);
    }
    e.addr = user;
    e.map = (uintptr_t)map;
    e.map_size = map_size;
    pthread_mutex_lock(&large_mutex);
    bool ok = table_insert(&e);
    pthread_mutex_unlock(&large_mutex);
    if (!ok) {   /* no room to register it: recycled pages go back to the pool, as at free */
        if (e.pieces) sg_recycle_take_back((char *)e.body, e.body_size, e.piece_pages, e.pieces);
        sg_os_unmap(map, map_size);
        goto nomem;
    }
    if (owner) atomic_fetch_add_explicit(&owner->mapped, map_size, memory_order_relaxed);
    VALGRIND_MALLOCLIKE_BLOCK((void *)user, size, 0, fresh || zero);
    (void)fresh;
    errno = saved_errno;
    return (void *)user;
nomem:
    errno = ENOMEM;
    return NULL;
}

/* ---- free ---------------------------------------------------------------------------------- */
static SG_COLD _Noreturn void bad_pointer(const char *what_unknown, const void *p) {
    size_t size = 0;
    bool freed = in_freed_ring((uintptr_t)p, &size);
    pthread_mutex_unlock(&large_mutex); /* never abort holding a lock */
    if (freed) sg_report_double_free(p, size);
    sg_report_fatal(what_unknown, p, 0);
}

/* A freed block's range, emptied: with the large quarantine it turns inaccessible while no other
 * thread can know it and waits in the ring of freed blocks (the block it pushes out is
 * unmapped); else it is unmapped at once. */
static void retire(const entry_t *old) {
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
    pthread_mutex_lock(&large_mutex);
    entry_t evicted = freed_ring[freed_pos];
    freed_ring[freed_pos] = *old;
    freed_pos = (freed_pos + 1) % FREED_RING;
    pthread_mutex_unlock(&large_mutex);
    if (evicted.addr) sg_os_unmap((void *)evicted.map, evicted.map_size);
}

void sg_large_free(void *p) {
    pthread_mutex_lock(&large_mutex);
    entry_t *e = table_find((uintptr_t)p);
    if (!e) bad_pointer("invalid free", p);
    entry_t old = *e;
    table_remove(e);
    pthread_mutex_unlock(&large_mutex);
    if (sg_unlikely(!slack_intact(&old))) sg_report_overflow(p, old.size);
    VALGRIND_FREELIKE_BLOCK(p, 0);
    if (old.owner) atomic_fetch_sub_explicit(&old.owner->mapped, old.map_size, memory_order_relaxed);
    if (!HARDENED_LARGE) {
        uintptr_t evict;
        size_t evict_size = 0;
        pthread_mutex_lock(&large_mutex);
        uintptr_t map = old.map;
        size_t map_size = old.map_size;
        bool kept = sg_large_cache_put(&map, &map_size, &evict, &evict_size);
        pthread_mutex_unlock(&large_mutex);
        if (evict) sg_os_unmap((void *)evict, evict_size);
        if (!kept) sg_os_unmap((void *)map, map_size);
        return;
    }
    /* the pages go away (recycled, or purged), then the range */
    if (old.owner) sg_os_purge((void *)old.body, old.body_size);
    else if (old.marked) sg_recycle_take_back_slots(slot0_of(&old), slots_of(&old), old.body, old.body + old.body_size, old.pieces);
    else sg_recycle_take_back((char *)old.body, old.body_size, old.piece_pages, old.pieces);
    retire(&old);
}

/* Does the large block at p belong to heap (NULL: no first-class heap)? true as well when p is
 * no live large block: the free that follows names that error precisely. */
bool sg_large_owner_is(const void *p, const sg_heap_t *heap) {
    pthread_mutex_lock(&large_mutex);
    entry_t *e = table_find((uintptr_t)p);
    bool ok = !e || e->owner == heap;
    pthread_mutex_unlock(&large_mutex);
    return ok;
}

size_t sg_large_usable_size(const void *p) {
    pthread_mutex_lock(&large_mutex);
    entry_t *e = table_find((uintptr_t)p);
    if (!e) {
        size_t size = 0;
        bool freed = in_freed_ring((uintptr_t)p, &size);
        pthread_mutex_unlock(&large_mutex);
        sg_report_fatal(freed ? "use after free" : "invalid pointer", p, size);
    }
    size_t n = e->size;
    pthread_mutex_unlock(&large_mutex);
    return n;
}

static _Atomic(unsigned) move_backoff;   /* growths left to copy after a failed move */

/* Give back a new range whose move failed, all but [lost, lost + lost_len), which may have
 * become another mapping: it stays (address space only, and rare: the kernel refused midway). */
static void drop_range(char *map, size_t map_size, char *lost, size_t lost_len) {
    if (!lost_len) {
        sg_os_unmap(map, map_size);
        return;
    }
    atomic_store_explicit(&move_backoff, 64, memory_order_relaxed);   /* near a kernel limit */
    if (lost > map) sg_os_unmap(map, (size_t)(lost - map));
    if (lost + lost_len < map + map_size) sg_os_unmap(lost + lost_len, (size_t)(map + map_size - lost - lost_len));
}

/* The end of a growth by moving: e (at its new place) is registered with its canaries, the old
 * block's range is retired. */
static void *moved_in(entry_t *e, const entry_t *was, size_t size) {
    /* the old block's canary after its end is now inside the block */
    memset((char *)e->addr + was->size, 0, slack_len(was));
    e->canary_key = sg_random_block_key(e->addr);
    slack_write(e);
    pthread_mutex_lock(&large_mutex);
    insert_and_unlock(e);
    retire(was);
    VALGRIND_FREELIKE_BLOCK((void *)was->addr, 0);
    VALGRIND_MALLOCLIKE_BLOCK((void *)e->addr, size, 0, 1);
    (void)size;
    return (void *)e->addr;
}

/* Growing a secure block: its pages move to the new block's range (mremap), the bytes are not
 * copied and the old range is left empty, then retired like a freed block's. The block keeps
 * its offset in the page, so it ends up to a page before its trailing guard (slack_intact
 * checks those bytes). NULL when the move is not possible (the caller copies); the block is
 * then as it was. Called without the lock, was out of the table. */
static void *grow_by_moving(const entry_t *was, size_t size) {
    size_t guard = SG_GUARD_PAGES ? SG_OS_PAGE : 0, off = was->addr - was->body, moved = 0;
    for (unsigned i = 0; i < was->pieces; i++) moved += (size_t)was->piece_pages[i] * SG_OS_PAGE;
    bool rest = moved < was->body_size;   /* the part not from recycled pieces becomes one */
    entry_t e = *was;
    e.pieces = was->pieces + rest;
    if (e.pieces >= SG_RECYCLE_PIECES || !sg_recycle_pieces_room()) return NULL;   /* room for one more */
    unsigned backoff = atomic_load_explicit(&move_backoff, memory_order_relaxed);
    if (backoff) {
        atomic_store_explicit(&move_backoff, backoff - 1, memory_order_relaxed);
        return NULL;
    }
    if (rest) e.piece_pages[was->pieces] = (uint32_t)((was->body_size - moved) / SG_OS_PAGE);
    e.size = size;
    e.body_size = page_round(off + size);
    /* headroom: address space (inaccessible, costing nothing) for the block to grow to twice
     * its new size in place (grow_in_place); its first page is the trailing guard */
    size_t room = page_round(off + (size <= SG_MAX_REQUEST / 2 ? 2 * size : size));
    e.map_size = room + 2 * guard;
    /* a body of a huge page or more keeps its offset in one, so its pages move by whole page
     * tables (sg_os_congruent_hint); a smaller one that grows to one starts on one */
    bool keep = was->body_size >= SG_OS_HUGE;
    size_t lead = keep ? huge_lead(guard, was->body & (SG_OS_HUGE - 1)) : guard;
    char *map = sg_os_reserve_accounted(e.map_size, keep || room >= SG_OS_HUGE ? SG_OS_HUGE : SG_OS_PAGE, lead);
    if (!map) return NULL;
    char *body = map + guard;
    size_t lost_at, lost_len;
    if (!sg_recycle_move_body((char *)was->body, was->body_size, was->piece_pages, was->pieces, body, &lost_at,
                              &lost_len)) {
        drop_range(map, e.map_size, body + lost_at, lost_len);
        return NULL;
    }
    /* the rest of the new body: recycled pages, then fresh ones */
    unsigned more = 0;
    size_t done = was->body_size, left = e.body_size - done;
    size_t filled = sg_recycle_fill(body + done, left, e.piece_pages + e.pieces, SG_RECYCLE_PIECES - e.pieces, &more);
    if (filled == SG_RECYCLE_LOST || (filled < left && !sg_os_commit(body + done + filled, left - filled))) {
        if (filled != SG_RECYCLE_LOST && filled) sg_recycle_take_back(body + done, filled, e.piece_pages + e.pieces, more);
        sg_recycle_put_back((char *)was->body, body, was->body_size);
        if (filled == SG_RECYCLE_LOST) drop_range(map, e.map_size, body + done, (size_t)(map + e.map_size - body - done));
        else drop_range(map, e.map_size, NULL, 0);
        return NULL;
    }
    sg_os_huge(map, e.map_size);   /* the headroom (grow_in_place commits it) and the guards */
    if (filled < left) populate_growth(body + done + filled, left - filled, done);
    sg_recycle_adopt(rest);
    e.pieces += more;
    e.map = (uintptr_t)map;
    e.body = (uintptr_t)body;
    e.addr = e.body + off;
    return moved_in(&e, was, size);
}

/* Growing a block on huge pages (recycle.c): the new huge pages (from the pool, or fresh) are
 * made first, then the block's own move whole to the same places in the new range (whole page
 * tables: nothing is copied, and nothing traps at the next touch), and the old range is
 * retired like a freed block's. The new range has room (inaccessible) for the block to double
 * in place. NULL when a move is refused (the caller copies); the block is then as it was. */
static void *grow_marked(const entry_t *was, size_t size) {
    size_t guard = SG_GUARD_PAGES ? SG_OS_PAGE : 0, off = was->addr - was->body;
    char *from = slot0_of(was);
    size_t lead = was->body - (uintptr_t)from, n = slots_of(was);
    entry_t e = *was;
    e.size = size;
    e.body_size = page_round(off + size);
    size_t room = page_round(off + (size <= SG_MAX_REQUEST / 2 ? 2 * size : size));
    e.map_size = huge_round(lead + room) + 2 * guard;
    if (!sg_recycle_pieces_room()) return NULL;   /* each huge page moved is a mapping of its own */
    unsigned backoff = atomic_load_explicit(&move_backoff, memory_order_relaxed);
    if (backoff) {
        atomic_store_explicit(&move_backoff, backoff - 1, memory_order_relaxed);
        return NULL;
    }
    char *map = sg_os_reserve_accounted(e.map_size, SG_OS_HUGE, guard);
    if (!map) return NULL;
    char *to = map + guard, *lost = NULL;
    uintptr_t body = (uintptr_t)to + lead, end = body + e.body_size, was_end = body + was->body_size;
    size_t n_new = (huge_round(end) - (uintptr_t)to) / SG_OS_HUGE;
    unsigned more = 0;
    if (n_new > n) {
        int r = sg_recycle_fill_slots(to + n * SG_OS_HUGE, n_new - n, body, end, &more, &lost);
        if (r != SG_FILL_OK) {
            drop_range(map, e.map_size, lost, lost ? SG_OS_HUGE : 0);
            return NULL;
        }
    }
    if (!sg_recycle_move_slots(from, to, n, was->body, was->body + was->body_size, &lost)) {
        if (n_new > n) sg_recycle_take_back_slots(to + n * SG_OS_HUGE, n_new - n, body, end, more);
        drop_range(map, e.map_size, lost, lost ? SG_OS_HUGE : 0);
        return NULL;
    }
    /* the markers after the old end that the block now covers (removing them allocates
     * nothing: it cannot run short of memory) */
    uintptr_t rw = (uintptr_t)to + n * SG_OS_HUGE;
    if (!sg_recycle_unguard((void *)was_end, (end < rw ? end : rw) - was_end))
        sg_report_fatal("madvise failure", (void *)was_end, (end < rw ? end : rw) - was_end);
    populate_growth((void *)was_end, (end < rw ? end : rw) - was_end, was->body_size);
    sg_recycle_adopt((unsigned)n - was->pieces);   /* each of its huge pages is a mapping of its own now */
    e.pieces = (unsigned)n + more;
    e.map = (uintptr_t)map;
    e.body = body;
    e.addr = body + off;
    return moved_in(&e, was, size);
}

/* A block on huge pages growing in place to body bytes: the huge pages it reaches become
 * read-write (markers past its new end), and the markers it now covers empty pages. */
static bool unguard_growth(const entry_t *e, size_t body) {
    char *end = (char *)e->body + e->body_size, *to = (char *)e->body + body;
    char *rw = (char *)huge_round((uintptr_t)end), *rw_to = (char *)huge_round((uintptr_t)to);
    if (rw_to > rw) {
        if (!sg_os_commit(rw, (size_t)(rw_to - rw))) return false;
        if (!sg_recycle_guard(to, (size_t)(rw_to - to))) {
            (void)sg_os_protect_none(rw, (size_t)(rw_to - rw));
            return false;
        }
    }
    if (sg_recycle_unguard(end, (size_t)((to < rw ? to : rw) - end))) return true;
    if (rw_to > rw) (void)sg_os_protect_none(rw, (size_t)(rw_to - rw));
    return false;
}

/* Growing a secure block into the headroom grow_by_moving reserved after it: the next pages are
 * made read-write (fresh: they read zero), the old canary bytes after its end, now inside the
 * block, are cleared, and the canary goes after the new end. The range past the new body stays
 * inaccessible: it is the trailing guard. A block grown in small steps then costs one mprotect
 * per step, not a move (or a copy, once it has too many pieces) of everything it holds.
 * Under the lock. false: no room, or the kernel refused the pages. */
static bool grow_in_place(entry_t *e, size_t size) {
    size_t guard = SG_GUARD_PAGES ? SG_OS_PAGE : 0, off = e->addr - e->body;
    size_t body = page_round(off + size);
    if (body > e->map + e->map_size - guard - e->body) return false;
    /* the page(s) of the old canary: the program may have made its block's end read-only
     * (elsewhere, what it set on its pages stays, as when glibc grows a block in place) */
    uintptr_t tail = (e->addr + e->size) & ~(uintptr_t)(SG_OS_PAGE - 1);
    if (slack_len(e) && !sg_os_reset_protection((void *)tail, e->body + e->body_size - tail)) return false;
    if (e->marked ? !unguard_growth(e, body) : body > e->body_size && !sg_os_commit((char *)e->body + e->body_size, body - e->body_size))
        return false;
    memset((char *)e->addr + e->size, 0, slack_len(e));
    VALGRIND_RESIZEINPLACE_BLOCK((void *)e->addr, e->size, size, 0);
    live_bytes += body - e->body_size;
    e->size = size;
    e->body_size = body;
    slack_write(e);
    return true;
}

static void *large_realloc(void *p, size_t size) {
    pthread_mutex_lock(&large_mutex);
    entry_t *e = table_find((uintptr_t)p);
    if (!e) bad_pointer("invalid free", p);   /* realloc frees its argument */
    size_t old = e->size;
    if (sg_unlikely(!slack_intact(e))) {
        pthread_mutex_unlock(&large_mutex);
        sg_report_overflow(p, old);
    }
    size_t room = e->map + e->map_size - e->addr;
    /* in place while it fits and keeps at least half of the mapping in use */
    if (size <= room && size * 2 >= room && !HARDENED_LARGE) {
        VALGRIND_RESIZEINPLACE_BLOCK(p, e->size, size, 0);
        live_bytes -= counted(e);
        e->size = size;
        live_bytes += counted(e);
        pthread_mutex_unlock(&large_mutex);
        return p;
    }
    /* Growing (fast builds): a cached mapping that fits is resident memory, cheaper to copy
     * into than fresh pages are to fault in; otherwise mremap moves or grows the mapping (no
     * copy, no fault on the old pages). Not for steps of an eighth or less: each would copy the
     * whole block, where mremap grows it in place into the room it left the last time. */
    bool grow_cached = !HARDENED_LARGE && !e->owner && size > old && size - old > old / 8 && size > SG_MAX_CLASS &&
                       sg_large_cache_has(page_round(size));
    sg_heap_t *owner = e->owner;
    if (MREMAP_OK && !grow_cached && !owner && !HARDENED_LARGE && e->addr == e->map && size > SG_MAX_CLASS &&
        size <= SG_MAX_REQUEST) {
        /* an eighth more address space than asked (pages of it fault in only when written):
         * steps that follow grow in place above, and a block grown page by page next to
         * other mappings is not moved by the kernel at every step */
        size_t new_map = page_round(size <= SG_MAX_REQUEST / 2 ? size + size / 8 : size);
        void *q = sg_os_remap((void *)e->map, e->map_size, new_map);
        if (q) {
            sg_os_huge(q, new_map);
            entry_t ne = { .addr = (uintptr_t)q, .size = size, .map = (uintptr_t)q, .map_size = new_map, .owner = e->owner };
            if (e->owner)
                atomic_fetch_add_explicit(&e->owner->mapped, new_map - e->map_size, memory_order_relaxed);
            size_t was_map = e->map_size;
            table_remove(e);
            insert_and_unlock(&ne);
            VALGRIND_FREELIKE_BLOCK(p, 0);
            VALGRIND_MALLOCLIKE_BLOCK(q, size, 0, 1); /* moved pages keep their contents */
            if (page_round(size) > was_map) populate_growth((char *)q + was_map, page_round(size) - was_map, was_map);
            return q;
        }
    }
    /* small steps in place (fresh pages); larger ones move, and take recycled pages, which
     * cost no page faults: a move costs a few system calls whatever the block holds, and
     * steps of an eighth or more cannot come often enough for its copy (once a block has too
     * many pieces) to add up */
    size_t had = e->body_size;
    if (HARDENED_LARGE && !owner && e->body && size > old && size - old <= old / 8 && size <= SG_MAX_REQUEST &&
        grow_in_place(e, size)) {
        size_t now = e->body_size;
        char *added = (char *)e->body + had;
        pthread_mutex_unlock(&large_mutex);
        populate_growth(added, now - had, had);
        return p;
    }
    if (HARDENED_LARGE && !owner && e->body && size > old && size > SG_MAX_CLASS && size <= SG_MAX_REQUEST) {
        entry_t was = *e;
        table_remove(e);   /* a racing free of p finds nothing, as after any realloc */
        pthread_mutex_unlock(&large_mutex);
        void *q = was.marked ? grow_marked(&was, size) : grow_by_moving(&was, size);
        if (q) return q;
        pthread_mutex_lock(&large_mutex);
        insert_and_unlock(&was);   /* back where it was; then copied */
    } else {
        pthread_mutex_unlock(&large_mutex);
    }
    void *q = owner ? sg_alloc_in(owner, size, false) : sg_alloc(size); /* a heap's block stays in it */
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    sg_large_free(p);
    return q;
}

/* A realloc that succeeds leaves errno as it found it, whatever failed on the way (a move the
 * kernel refused before a copy worked). */
void *sg_large_realloc(void *p, size_t size) {
    int saved = errno;
    void *q = large_realloc(p, size);
    if (q) errno = saved;
    return q;
}

/* sg_heap_destroy: unmap every large block the heap owns. */
void sg_large_discard_owned(sg_heap_t *owner) {
    for (;;) {
        entry_t victim = { 0 };
        pthread_mutex_lock(&large_mutex);
        for (size_t i = 0; i < table_cap; i++) {
            if (table[i].addr && table[i].owner == owner) {
                victim = table[i];
                table_remove(&table[i]);
                break;
            }
        }
        pthread_mutex_unlock(&large_mutex);
        if (!victim.addr) return;
        sg_os_unmap((void *)victim.map, victim.map_size);
    }
}

void sg_large_stats(size_t *count, size_t *bytes) {
    pthread_mutex_lock(&large_mutex);
    *count = table_used;
    *bytes = live_bytes;
    pthread_mutex_unlock(&large_mutex);
}

size_t sg_large_requested_bytes(void) {
    size_t n = 0;
    pthread_mutex_lock(&large_mutex);
    for (size_t i = 0; i < table_cap; i++) n += table[i].addr ? table[i].size : 0;
    pthread_mutex_unlock(&large_mutex);
    return n;
}

/* sg_heap_visit: the heap's large blocks (collected first: fn runs without the lock). */
void sg_large_each_owned(sg_heap_t *owner, int (*fn)(void *block, size_t size, void *arg), void *arg) {
    for (size_t from = 0;;) {
        entry_t e = { 0 };
        pthread_mutex_lock(&large_mutex);
        for (; from < table_cap && !e.addr; from++)
            if (table[from].addr && table[from].owner == owner) e = table[from];
        pthread_mutex_unlock(&large_mutex);
        if (!e.addr || !fn((void *)e.addr, e.size, arg)) return;
    }
}

/* malloc_trim: unmap every cached mapping (fast builds) and every recycled page (secure). */
bool sg_large_trim(void) {
    bool recycled = sg_recycle_trim();
    sg_large_cached_t out[SG_LARGE_CACHE_SLOTS];
    pthread_mutex_lock(&large_mutex);
    size_t n = sg_large_cache_drain(out);
    pthread_mutex_unlock(&large_mutex);
    for (size_t i = 0; i < n; i++) sg_os_unmap((void *)out[i].map, out[i].map_size);
    return n > 0 || recycled;
}

void sg_large_lock(void) { pthread_mutex_lock(&large_mutex); }
void sg_large_unlock(void) { pthread_mutex_unlock(&large_mutex); }
