/* large_grow.c: realloc of a large block (large.c keeps the registry). A fast block is resized
 * in place while it keeps at least half of its mapping in use, else its mapping grows or moves
 * (mremap); a secure block grows in place into room reserved after it, or its pages move to a
 * new guarded range and the old range is retired like a freed block's. Otherwise the block is
 * copied into a new one. */
#include "internal.h"
#include "large.h"
#include "os.h"
#include "vg.h"

#include <errno.h>
#include <string.h>

static _Atomic(unsigned) move_backoff;   /* growths left to copy after a failed move */

/* Give back a new range whose move failed, all but [lost, lost + lost_len), which may have
 * become another mapping: it stays (address space only, and rare: the kernel refused midway). */
void sg_large_drop_range(char *map, size_t map_size, char *lost, size_t lost_len) {
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
static void *moved_in(sg_large_entry_t *e, const sg_large_entry_t *was, size_t size) {
    /* the old block's canary after its end is now inside the block */
    memset((char *)e->addr + was->size, 0, sg_large_slack_len(was));
    e->canary_key = sg_random_block_key(e->addr);
    sg_large_slack_write(e);
    sg_large_lock();
    sg_large_insert_and_unlock(e);
    sg_large_retire(was);
    VALGRIND_FREELIKE_BLOCK((void *)was->addr, 0);
    VALGRIND_MALLOCLIKE_BLOCK((void *)e->addr, size, 0, 1);
    (void)size;
    return (void *)e->addr;
}

/* The lead for sg_os_reserve_accounted that puts the range's byte number guard (the body's
 * first) at the offset skew within a huge page. */
static size_t huge_lead(size_t guard, size_t skew) { return (guard + SG_OS_HUGE - skew) & (SG_OS_HUGE - 1); }

/* Growing a secure block: its pages move to the new block's range (mremap), the bytes are not
 * copied and the old range is left empty, then retired like a freed block's. The block keeps
 * its offset in the page, so it ends up to a page before its trailing guard
 * (sg_large_slack_intact checks those bytes). NULL when the move is not possible (the caller
 * copies); the block is then as it was. Called without the lock, was out of the table. */
static void *grow_by_moving(const sg_large_entry_t *was, size_t size) {
    size_t guard = sg_large_guard_of(was), off = was->addr - was->body, moved = 0;
    for (unsigned i = 0; i < was->pieces; i++) moved += (size_t)was->piece_pages[i] * SG_OS_PAGE;
    bool rest = moved < was->body_size;   /* the part not from recycled pieces becomes one */
    sg_large_entry_t e = *was;
    e.pieces = was->pieces + rest;
    if (e.pieces >= SG_RECYCLE_PIECES || !sg_recycle_pieces_room()) return NULL;   /* room for one more */
    unsigned backoff = atomic_load_explicit(&move_backoff, memory_order_relaxed);
    if (backoff) {
        atomic_store_explicit(&move_backoff, backoff - 1, memory_order_relaxed);
        return NULL;
    }
    if (rest) e.piece_pages[was->pieces] = (uint32_t)((was->body_size - moved) / SG_OS_PAGE);
    e.size = size;
    e.body_size = sg_large_page_round(off + size);
    /* headroom: address space (inaccessible, costing nothing) for the block to grow to twice
     * its new size in place (grow_in_place); its first page is the trailing guard */
    size_t room = sg_large_page_round(off + (size <= SG_MAX_REQUEST / 2 ? 2 * size : size));
    /* a body of a huge page or more keeps its offset in one, so its pages move by whole page
     * tables (sg_os_congruent_hint); a smaller one that grows to one starts on one */
    bool keep = was->body_size >= SG_OS_HUGE;
    size_t lead = keep ? huge_lead(guard, was->body & (SG_OS_HUGE - 1)) : guard;
    char *map = sg_os_reserve_accounted(room + 2 * guard, keep || room >= SG_OS_HUGE ? SG_OS_HUGE : SG_OS_PAGE, lead);
    if (!map && room > e.body_size) {   /* no headroom under an address-space limit: none, then */
        room = e.body_size;
        map = sg_os_reserve_accounted(room + 2 * guard, keep || room >= SG_OS_HUGE ? SG_OS_HUGE : SG_OS_PAGE, lead);
    }
    if (!map) return NULL;
    e.map_size = room + 2 * guard;
    char *body = map + guard;
    size_t lost_at, lost_len;
    if (!sg_recycle_move_body((char *)was->body, was->body_size, was->piece_pages, was->pieces, body, &lost_at,
                              &lost_len)) {
        sg_large_drop_range(map, e.map_size, body + lost_at, lost_len);
        return NULL;
    }
    /* the rest of the new body: recycled pages, then fresh ones */
    unsigned more = 0;
    size_t done = was->body_size, left = e.body_size - done;
    char *lost = NULL;
    lost_len = 0;
    size_t filled = sg_recycle_fill(body + done, left, e.piece_pages + e.pieces, SG_RECYCLE_PIECES - e.pieces, &more,
                                    &lost, &lost_len);
    if (filled == SG_RECYCLE_LOST || (filled < left && !sg_os_commit(body + done + filled, left - filled))) {
        if (filled != SG_RECYCLE_LOST && filled) sg_recycle_take_back(body + done, filled, e.piece_pages + e.pieces, more);
        sg_recycle_put_back((char *)was->body, body, was->body_size);
        sg_large_drop_range(map, e.map_size, lost, lost_len);   /* all of it, but what may not be ours */
        return NULL;
    }
    sg_os_huge(map, e.map_size);   /* the headroom (grow_in_place commits it) and the guards */
    if (filled < left) sg_large_populate_growth(body + done + filled, left - filled, done);
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
static void *grow_marked(const sg_large_entry_t *was, size_t size) {
    size_t guard = sg_large_guard_of(was), off = was->addr - was->body;
    char *from = sg_large_slot0_of(was);
    size_t lead = was->body - (uintptr_t)from, n = sg_large_slots_of(was);
    sg_large_entry_t e = *was;
    e.size = size;
    e.body_size = sg_large_page_round(off + size);
    size_t room = sg_large_page_round(off + (size <= SG_MAX_REQUEST / 2 ? 2 * size : size));
    e.map_size = sg_large_huge_round(lead + room) + 2 * guard;
    if (!sg_recycle_pieces_room()) return NULL;   /* each huge page moved is a mapping of its own */
    unsigned backoff = atomic_load_explicit(&move_backoff, memory_order_relaxed);
    if (backoff) {
        atomic_store_explicit(&move_backoff, backoff - 1, memory_order_relaxed);
        return NULL;
    }
    char *map = sg_os_reserve_accounted(e.map_size, SG_OS_HUGE, guard);
    if (!map && room > e.body_size) {   /* no headroom under an address-space limit */
        e.map_size = sg_large_huge_round(lead + e.body_size) + 2 * guard;
        map = sg_os_reserve_accounted(e.map_size, SG_OS_HUGE, guard);
    }
    if (!map) return NULL;
    /* the trailing guard page stays inaccessible, one mapping with the room before it */
    if (!sg_large_marker_guards(map, e.map_size, false)) {
        sg_os_unmap(map, e.map_size);
        return NULL;
    }
    char *to = map + guard, *lost = NULL;
    uintptr_t body = (uintptr_t)to + lead, end = body + e.body_size, was_end = body + was->body_size;
    size_t n_new = (sg_large_huge_round(end) - (uintptr_t)to) / SG_OS_HUGE;
    unsigned more = 0;
    if (n_new > n) {
        int r = sg_recycle_fill_slots(to + n * SG_OS_HUGE, n_new - n, body, end, &more, &lost);
        if (r != SG_FILL_OK) {
            sg_large_drop_range(map, e.map_size, lost, lost ? SG_OS_HUGE : 0);
            return NULL;
        }
    }
    if (!sg_recycle_move_slots(from, to, n, was->body, was->body + was->body_size, &lost)) {
        if (n_new > n) sg_recycle_take_back_slots(to + n * SG_OS_HUGE, n_new - n, body, end, more);
        sg_large_drop_range(map, e.map_size, lost, lost ? SG_OS_HUGE : 0);
        return NULL;
    }
    /* the markers after the old end that the block now covers (removing them allocates
     * nothing: it cannot run short of memory) */
    uintptr_t rw = (uintptr_t)to + n * SG_OS_HUGE;
    if (!sg_recycle_unguard((void *)was_end, (end < rw ? end : rw) - was_end))
        sg_report_fatal("madvise failure", (void *)was_end, (end < rw ? end : rw) - was_end);
    sg_large_populate_growth((void *)was_end, (end < rw ? end : rw) - was_end, was->body_size);
    sg_recycle_adopt((unsigned)n - was->pieces);   /* each of its huge pages is a mapping of its own now */
    e.pieces = (unsigned)n + more;
    e.map = (uintptr_t)map;
    e.body = body;
    e.addr = body + off;
    return moved_in(&e, was, size);
}

/* A block on huge pages growing in place to body bytes: the huge pages it reaches become
 * read-write (markers past its new end), and the markers it now covers, all of them up to its
 * new end, empty pages. */
static bool unguard_growth(const sg_large_entry_t *e, size_t body) {
    char *end = (char *)e->body + e->body_size, *to = (char *)e->body + body;
    char *rw = (char *)sg_large_huge_round((uintptr_t)end), *rw_to = (char *)sg_large_huge_round((uintptr_t)to);
    if (rw_to > rw) {
        if (!sg_os_commit(rw, (size_t)(rw_to - rw))) return false;
        if (!sg_recycle_guard(to, (size_t)(rw_to - to))) {
            (void)sg_os_protect_none(rw, (size_t)(rw_to - rw));
            return false;
        }
    }
    if (sg_recycle_unguard(end, (size_t)(to - end))) return true;
    if (rw_to > rw) (void)sg_os_protect_none(rw, (size_t)(rw_to - rw));
    return false;
}

/* Growing a secure block into the headroom grow_by_moving reserved after it: the next pages are
 * made read-write (fresh: they read zero), the old canary bytes after its end, now inside the
 * block, are cleared, and the canary goes after the new end. The range past the new body stays
 * inaccessible: it is the trailing guard. A block grown in small steps then costs one mprotect
 * per step, not a move (or a copy, once it has too many pieces) of everything it holds.
 * Under the lock. false: no room, or the kernel refused the pages. */
static bool grow_in_place(sg_large_entry_t *e, size_t size) {
    size_t guard = sg_large_guard_of(e), off = e->addr - e->body;
    size_t body = sg_large_page_round(off + size);
    if (body > e->map + e->map_size - guard - e->body) return false;
    /* the page(s) of the old canary: the program may have made its block's end read-only
     * (elsewhere, what it set on its pages stays, as when glibc grows a block in place) */
    uintptr_t tail = (e->addr + e->size) & ~(uintptr_t)(SG_OS_PAGE - 1);
    if (sg_large_slack_len(e) && !sg_os_reset_protection((void *)tail, e->body + e->body_size - tail)) return false;
    if (e->marked ? !unguard_growth(e, body) : body > e->body_size && !sg_os_commit((char *)e->body + e->body_size, body - e->body_size))
        return false;
    memset((char *)e->addr + e->size, 0, sg_large_slack_len(e));
    VALGRIND_RESIZEINPLACE_BLOCK((void *)e->addr, e->size, size, 0);
    sg_large_set_size(e, size, body);
    sg_large_slack_write(e);
    return true;
}

/* realloc shrinks a block where it is from this size on; a smaller one is copied into a new
 * block. The kept pages of the huge page a shrunk block ends in lie at its start, where the
 * pool of recycled pages finds no block to give them to (blocks end against their trailing
 * guard): shrunk to 1 MiB, a block's pages faulted in fresh in every later block of 1 MiB. And
 * a block realloc grew by moving keeps the mappings of that layout. From 8 MiB on the copy costs
 * more (a millisecond and up) than those do. */
#define SHRINK_IN_PLACE_MIN ((size_t)8 << 20)

/* Shrinking a secure block where it is, to size bytes: no copy, and no fresh pages for a new
 * block. Its range ends a guard page after the page its new end is in: on huge pages (marked)
 * after the huge page it ends in, the pages between markers. What lay past goes (unmapped:
 * address space, the commit charge and mappings come back, its pages too). As after a growth
 * in place, the block then ends up to a page before its guard; the bytes between are zeroed
 * and checked at free (sg_large_slack_intact); a bare block keeps room for its whole canary.
 * A first-class heap's count of mapped bytes follows. Under the lock; what to unmap is left in
 * [*drop, +*drop_len) for the caller, once it has released the lock (tens of MiB take
 * milliseconds). false, before any change to the block, when the kernel refuses the new guard
 * page. */
static bool shrink_in_place(sg_large_entry_t *e, size_t size, char **drop, size_t *drop_len) {
    size_t guard = sg_large_guard_of(e), off = e->addr - e->body, body = sg_large_page_round(off + size + sg_large_canary_room(e));
    char *end = (char *)e->body + body, *old_end = (char *)e->body + e->body_size;
    char *map_end = (char *)e->map + e->map_size;
    *drop_len = 0;
    /* the page of the new end: the program may have made it read-only (zeroed and given the
     * canary below) */
    uintptr_t tail = (e->addr + size) & ~(uintptr_t)(SG_OS_PAGE - 1);
    if ((uintptr_t)end > e->addr + size && !sg_os_reset_protection((void *)tail, (uintptr_t)end - tail)) return false;
    /* where the range now ends: a guard page after the huge page the block ends in, or after
     * the page */
    char *cut = e->marked ? (char *)sg_large_huge_round((uintptr_t)end) : end;
    if (cut + guard < map_end) {
        /* the new guard page: a marker, or inaccessible (the kernel refuses markers on locked
         * pages; room a growth reserved is inaccessible already) */
        if (guard && !(e->marked && sg_os_guard_here(cut, guard)) && !sg_os_protect_none(cut, guard)) return false;
        *drop = cut + guard;
        *drop_len = (size_t)(map_end - cut - guard);
        if (e->owner) atomic_fetch_sub_explicit(&e->owner->mapped, (size_t)(map_end - cut - guard), memory_order_relaxed);
        e->map_size = (size_t)(cut + guard - (char *)e->map);
    }
    if (e->marked && end < old_end) {
        /* the pages after the end in its last huge page: markers (which free them). The kernel
         * refuses them on locked pages, after it put them on the pages before: then page by
         * page (a marker put twice is one), those it refuses zeroed, so that nothing of them
         * reaches a later block */
        char *to = old_end < cut ? old_end : cut;
        if (!sg_os_guard_here(end, (size_t)(to - end)))
            for (char *pg = end; pg < to; pg += SG_OS_PAGE)
                if (!sg_os_guard_here(pg, SG_OS_PAGE) && sg_os_reset_protection(pg, SG_OS_PAGE)) memset(pg, 0, SG_OS_PAGE);
    }
    /* The pieces it was filled with (each a mapping of its own) past its new end are gone: its
     * free moves out what it holds, and a growth moves its pieces. On huge pages, a count of
     * them, at most one a huge page; else their sizes, the one the end cuts shortened. */
    unsigned pieces = e->pieces;
    if (e->marked) {
        size_t slots = (size_t)(cut - sg_large_slot0_of(e)) / SG_OS_HUGE;
        if (pieces > slots) pieces = (unsigned)slots;
    } else {
        size_t at = 0;
        for (pieces = 0; pieces < e->pieces && at < body; pieces++) {
            size_t n = (size_t)e->piece_pages[pieces] * SG_OS_PAGE;
            if (at + n > body) e->piece_pages[pieces] = (uint32_t)((body - at) / SG_OS_PAGE);
            at += n;
        }
    }
    sg_recycle_forget(e->pieces - pieces);
    e->pieces = pieces;
    memset((char *)e->addr + size, 0, (size_t)(end - ((char *)e->addr + size)));
    VALGRIND_RESIZEINPLACE_BLOCK((void *)e->addr, e->size, size, 0);
    sg_large_set_size(e, size, body);
    sg_large_slack_write(e);
    return true;
}

static void *large_realloc(void *p, size_t size) {
    sg_large_lock();
    sg_large_entry_t *e = sg_large_table_find((uintptr_t)p);
    if (!e) sg_large_bad_pointer("invalid free", p);   /* realloc frees its argument */
    size_t old = e->size;
    if (sg_unlikely(!sg_large_slack_intact(e))) {
        sg_large_unlock();
        sg_report_overflow(p, old);
    }
    size_t room = e->map + e->map_size - e->addr;
    /* in place while it fits and keeps at least half of the mapping in use */
    if (size <= room && size * 2 >= room && !HARDENED_LARGE) {
        VALGRIND_RESIZEINPLACE_BLOCK(p, e->size, size, 0);
        sg_large_set_size(e, size, e->body_size);
        sg_large_unlock();
        return p;
    }
    /* Growing (fast builds): a cached mapping that fits is resident memory, cheaper to copy
     * into than fresh pages are to fault in; otherwise mremap moves or grows the mapping (no
     * copy, no fault on the old pages). Not for steps of an eighth or less: each would copy the
     * whole block, where mremap grows it in place into the room it left the last time. */
    bool grow_cached = !HARDENED_LARGE && !e->owner && size > old && size - old > old / 8 && size > SG_MAX_CLASS &&
                       sg_large_cache_has(sg_large_page_round(size));
    sg_heap_t *owner = e->owner;
    if (MREMAP_OK && !grow_cached && !owner && !HARDENED_LARGE && e->addr == e->map && size > SG_MAX_CLASS &&
        size <= SG_MAX_REQUEST) {
        /* an eighth more address space than asked (pages of it fault in only when written):
         * steps that follow grow in place above, and a block grown page by page next to
         * other mappings is not moved by the kernel at every step */
        size_t new_map = sg_large_page_round(size <= SG_MAX_REQUEST / 2 ? size + size / 8 : size);
        void *q = sg_os_remap((void *)e->map, e->map_size, new_map);
        if (!q && new_map > sg_large_page_round(size)) {
            /* the kernel may refuse the eighth more (RLIMIT_AS, overcommit) and allow the size */
            new_map = sg_large_page_round(size);
            q = sg_os_remap((void *)e->map, e->map_size, new_map);
        }
        if (q) {
            sg_os_huge(q, new_map);
            sg_large_entry_t ne = { .addr = (uintptr_t)q, .size = size, .map = (uintptr_t)q, .map_size = new_map,
                                    .owner = e->owner };
            if (e->owner)
                atomic_fetch_add_explicit(&e->owner->mapped, new_map - e->map_size, memory_order_relaxed);
            size_t was_map = e->map_size;
            sg_large_table_remove(e);
            sg_large_insert_and_unlock(&ne);
            VALGRIND_FREELIKE_BLOCK(p, 0);
            VALGRIND_MALLOCLIKE_BLOCK(q, size, 0, 1); /* moved pages keep their contents */
            if (sg_large_page_round(size) > was_map)
                sg_large_populate_growth((char *)q + was_map, sg_large_page_round(size) - was_map, was_map);
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
        sg_large_unlock();
        sg_large_populate_growth(added, now - had, had);
        return p;
    }
    char *drop;
    size_t drop_len;
    if (HARDENED_LARGE && !owner && e->body && !e->bare && size < old && size >= SHRINK_IN_PLACE_MIN &&
        shrink_in_place(e, size, &drop, &drop_len)) {
        sg_large_unlock();
        if (drop_len) sg_os_unmap(drop, drop_len);
        return p;
    }
    if (HARDENED_LARGE && !owner && e->body && size > old && size > SG_MAX_CLASS && size <= SG_MAX_REQUEST) {
        sg_large_entry_t was = *e;
        sg_large_table_remove(e);   /* a racing free of p finds nothing, as after any realloc */
        sg_large_unlock();
        void *q = was.marked ? grow_marked(&was, size) : grow_by_moving(&was, size);
        if (q) return q;
        sg_large_lock();
        sg_large_insert_and_unlock(&was);   /* back where it was; then copied */
    } else {
        sg_large_unlock();
    }
    void *q = owner ? sg_alloc_moving_from(owner, size) : sg_alloc(size);   /* large: stays in its heap */
    /* a shrink that finds no room for the copy (an address-space limit, a limited heap) keeps
     * its block where it is */
    if (!q) return size <= old ? sg_large_shrink_in_place(p, size) : NULL;
    memcpy(q, p, old < size ? old : size);
    sg_large_free(p, SG_ANY_SIZE, 0);
    return q;
}

/* A large block that would shrink by moving, when there is no room for the new block beside
 * the old one (a limited heap, an address-space limit): it keeps its mapping and its new end (as
 * a block grown in place does, it then no longer ends at its guard: the bytes up to it are
 * zeroed and checked at free), the pages past it inaccessible as after any shrink in place
 * (shrink_in_place); if the kernel refuses that, they are only given back. p, or NULL if p is
 * no longer a registered block. */
void *sg_large_shrink_in_place(void *p, size_t size) {
    sg_large_lock();
    sg_large_entry_t *e = sg_large_table_find((uintptr_t)p);
    if (!e || size > e->size) {
        sg_large_unlock();
        return NULL;
    }
    /* as a shrink to a large size does: the pages past the new end inaccessible */
    char *drop;
    size_t drop_len;
    if (HARDENED_LARGE && e->body && shrink_in_place(e, size, &drop, &drop_len)) {
        sg_large_unlock();
        if (drop_len) sg_os_unmap(drop, drop_len);
        return p;
    }
    size_t tail = e->size + sg_large_slack_len(e);   /* the block and its canary, zero past them */
    if (HARDENED_LARGE) {
        memset((char *)p + size, 0, tail - size);
        /* and the whole pages past the new end go back to the kernel (the canary written
         * below comes after) */
        uintptr_t from = sg_large_page_round((uintptr_t)p + size), to = (uintptr_t)p + tail;
        if (from < to) sg_os_purge((void *)from, sg_large_page_round(to) - from);
    }
    VALGRIND_RESIZEINPLACE_BLOCK(p, e->size, size, 0);
    sg_large_set_size(e, size, e->body_size);
    if (HARDENED_LARGE) sg_large_slack_write(e);
    sg_large_unlock();
    return p;
}

/* A realloc that succeeds leaves errno as it found it, whatever failed on the way (a move the
 * kernel refused before a copy worked). */
void *sg_large_realloc(void *p, size_t size) {
    int saved = errno;
    void *q = large_realloc(p, size);
    if (q) errno = saved;
    return q;
}
