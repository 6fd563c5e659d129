/* recycle.c: resident pages of freed large blocks, moved to a fresh address for reuse.
 *
 * Secure builds never hand out a freed large block's address soon again: the block's address
 * range turns PROT_NONE and waits in large.c's ring of freed blocks, so a late access faults.
 * Its physical pages need not wait with it. At free, mremap(MREMAP_DONTUNMAP) moves them to a
 * private address that nobody else knows (the old range stays mapped, empty and then
 * PROT_NONE); a later large allocation moves them into its own fresh range and zeroes them
 * there, before it returns. The next block of that size costs two mremap calls instead of one
 * page fault per 4 KiB page, and the old block's contents never reach it. Bounded in bytes and
 * extents; extents idle for a second are unmapped. Kernels without MREMAP_DONTUNMAP (before
 * 5.7) purge instead.
 *
 * Pages move at the same offset within a huge page (2 MiB) wherever they can: the kernel then
 * hands over whole page tables, and the first touch at the new address costs nothing extra,
 * where a page moved entry by entry costs a trap under a hypervisor that shadows page tables
 * (about 2-4 us a page on the bench's VM, more than the zeroing). */
#include "internal.h"
#include "os.h"

#include <pthread.h>
#include <string.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#define RECYCLE_SLOTS 64
/* With blocks on huge pages (guard markers), 64 MiB: big 12000 ran 4.0-4.2 s at a peak RSS of
 * 134 MiB, at 128 MiB 4.7-4.8 s and 199 MiB (a fuller pool to pick from, but held). Without
 * them, 128 MiB saved page faults (307-317 K -> 131-137 K) at the same peak RSS. */
#define RECYCLE_MAX_BYTES ((size_t)64 << 20)
#define RECYCLE_IDLE_MS 1000

typedef struct extent_s {
    uintptr_t addr;      /* 0 = empty slot */
    size_t size;
    uint64_t freed_ms;
    /* A huge page taken from a block with guard markers (sg_recycle_fill_slots): size is
     * SG_OS_HUGE, the pages are in [addr + lo, addr + hi) and markers elsewhere. hi 0: an
     * extent of plain pages, all of [addr, addr + size). */
    uint32_t lo, hi;
} extent_t;

/* Bytes an extent holds (what the budget counts). */
static size_t held(const extent_t *x) { return x->hi ? (size_t)(x->hi - x->lo) : x->size; }

static pthread_mutex_t recycle_mutex = PTHREAD_MUTEX_INITIALIZER;
static extent_t extents[RECYCLE_SLOTS];
static _Atomic(size_t) recycle_bytes;   /* changed under the lock; read without it */
static _Atomic(int) recycle_off;   /* the kernel cannot move pages this way */
/* Pieces in live blocks: each is a kernel mapping of its own. Blocks are filled from several
 * extents only while these stay under an eighth of vm.max_map_count (as guards do). */
static _Atomic(size_t) live_pieces;

/* ThreadSanitizer does not see mremap: an address the kernel hands back after a move keeps the
 * shadow of its last user, and zeroing it looks like a race. TSan builds (tests/sanitize.sh)
 * purge instead; they check the locking of everything else. */
#if defined(__SANITIZE_THREAD__)
#define RECYCLE_BUILD 0
#else
#define RECYCLE_BUILD 1
#endif

/* Unmap extents idle for longer than RECYCLE_IDLE_MS (all when all): collected under the lock,
 * unmapped after it. */
static void drop_idle(bool all) {
    extent_t out[RECYCLE_SLOTS];
    size_t n = 0;
    uint64_t now = sg_os_now_ms();
    sg_mutex_lock(&recycle_mutex);
    for (size_t i = 0; i < RECYCLE_SLOTS; i++) {
        /* (freed_ms may be later than now: an extent put in after the clock was read) */
        if (!extents[i].addr || (!all && extents[i].freed_ms + RECYCLE_IDLE_MS > now)) continue;
        out[n++] = extents[i];
        recycle_bytes -= held(&extents[i]);
        extents[i].addr = 0;
    }
    sg_mutex_unlock(&recycle_mutex);
    for (size_t i = 0; i < n; i++) sg_os_unmap((void *)out[i].addr, out[i].size);
}

static void scrub(char *p, size_t size);

/* The extent to fill want bytes from: the smallest that covers them (fewest splits), else the
 * largest. RECYCLE_SLOTS if none. Under the lock. */
static size_t pick(size_t want) {
    size_t best = RECYCLE_SLOTS;
    for (size_t i = 0; i < RECYCLE_SLOTS; i++) {
        if (!extents[i].addr || extents[i].hi) continue;
        if (best == RECYCLE_SLOTS) { best = i; continue; }
        size_t s = extents[i].size, b = extents[best].size;
        if (b >= want ? s >= want && s < b : s > b) best = i;
    }
    return best;
}

/* For a destination on a huge-page boundary: the most whole huge pages (up to want bytes' worth)
 * that one extent holds on huge-page boundaries of its own, taken out of it. Moved between two
 * such addresses, pages go by whole page tables, and touching them afterwards costs no more
 * than before (sg_os_congruent_hint). The extent keeps what is before them; what is after them
 * needs a free slot. { 0 } if none. Under the lock. */
static extent_t take_huge(size_t want) {
    const uintptr_t huge = SG_OS_HUGE;
    size_t best = RECYCLE_SLOTS, best_n = 0, spare = RECYCLE_SLOTS;
    want &= ~(huge - 1);
    for (size_t i = 0; i < RECYCLE_SLOTS; i++) {
        if (!extents[i].addr) {
            spare = i;
            continue;
        }
        if (extents[i].hi) continue;
        uintptr_t start = (extents[i].addr + huge - 1) & ~(huge - 1), end = extents[i].addr + extents[i].size;
        size_t n = end > start ? (end - start) & ~(huge - 1) : 0;
        if (n > want) n = want;
        if (n > best_n) best = i, best_n = n;
    }
    if (best == RECYCLE_SLOTS) return (extent_t){ 0 };
    extent_t *x = &extents[best];
    uintptr_t start = (x->addr + huge - 1) & ~(huge - 1), end = x->addr + x->size;
    extent_t take = { start, best_n, x->freed_ms, 0, 0 };
    if (start + best_n < end) {   /* the part after: into a slot of its own */
        if (start > x->addr && spare == RECYCLE_SLOTS) return (extent_t){ 0 };
        extent_t after = { start + best_n, end - start - best_n, x->freed_ms, 0, 0 };
        if (start > x->addr) extents[spare] = after;
        else *x = after;
    }
    if (start > x->addr) x->size = start - x->addr;   /* the part before stays */
    else if (start + best_n == end) x->addr = 0;
    recycle_bytes -= best_n;
    return take;
}

/* Fill [body, body+len) from its start with recycled pages, in at most max_pieces pieces;
 * piece_pages[i] gets each piece's length in OS pages. Returns the bytes filled (the rest is
 * the caller's to commit), or SG_RECYCLE_LOST when a failed move may have left
 * [*lost, *lost + *lost_len) holding another mapping (the caller must then leave it alone, and
 * may give back the rest: the pieces moved in before went back to the pool). The pages read
 * zero. */
size_t sg_recycle_fill(char *body, size_t len, uint32_t *piece_pages, unsigned max_pieces, unsigned *pieces,
                       char **lost, size_t *lost_len) {
    size_t filled = 0;
    *pieces = 0;
    if (atomic_load_explicit(&recycle_off, memory_order_relaxed) || !recycle_bytes) return 0;
    drop_idle(false);
    if (!sg_recycle_pieces_room()) max_pieces = 1;
    while (filled < len && *pieces < max_pieces) {
        extent_t take = { 0 };
        sg_mutex_lock(&recycle_mutex);
        /* Where the rest holds whole huge pages: up to the first from any extent, then whole
         * huge pages from an extent that holds some, else fresh pages (the caller's): they
         * cost more now, but come back at free as whole huge pages, and go on moving cheaply.
         * After the last, any extent again. */
        size_t want = len - filled, best = RECYCLE_SLOTS;
        size_t to_edge = (SG_OS_HUGE - ((uintptr_t)(body + filled) & (SG_OS_HUGE - 1))) & (SG_OS_HUGE - 1);
        bool whole = want >= to_edge + SG_OS_HUGE && !to_edge;
        if (want >= to_edge + SG_OS_HUGE && to_edge) want = to_edge;
        if (whole) take = take_huge(want);
        else best = pick(want);
        if (best < RECYCLE_SLOTS) {
            take = extents[best];
            if (take.size > want) {   /* take the head, the tail stays */
                extents[best].addr += want;
                extents[best].size -= want;
                take.size = want;
            } else {
                extents[best].addr = 0;
            }
            recycle_bytes -= take.size;
        }
        sg_mutex_unlock(&recycle_mutex);
        if (!take.addr) break;
        bool unsure;
        if (!sg_os_move_to((void *)take.addr, take.size, body + filled, &unsure)) {
            sg_os_unmap((void *)take.addr, take.size);   /* mapping budget: give it back */
            if (unsure) {
                atomic_fetch_add_explicit(&live_pieces, *pieces, memory_order_relaxed);
                if (filled) sg_recycle_take_back(body, filled, piece_pages, *pieces);
                *pieces = 0;
                *lost = body + filled;
                *lost_len = take.size;
                return SG_RECYCLE_LOST;
            }
            break;
        }
        /* zeroed here, not at free: pages moved entry by entry are touched at one new address
         * instead of two, and pages that idle out of the pool are never zeroed at all */
        scrub(body + filled, take.size);
        piece_pages[(*pieces)++] = (uint32_t)(take.size / SG_OS_PAGE);
        filled += take.size;
    }
    atomic_fetch_add_explicit(&live_pieces, *pieces, memory_order_relaxed);
    return filled;
}

/* Zero whole pages that are not in the cache (the block was freed, and written long before):
 * streaming stores skip reading each line in just to overwrite it, half the memory traffic of
 * a plain memset at these sizes. */
static void zero_pages(char *p, size_t n) {
#if defined(__x86_64__)
    const __m128i z = _mm_setzero_si128();
    for (__m128i *w = (__m128i *)p, *e = (__m128i *)(p + n); w < e; w += 4) {
        _mm_stream_si128(w, z);
        _mm_stream_si128(w + 1, z);
        _mm_stream_si128(w + 2, z);
        _mm_stream_si128(w + 3, z);
    }
    _mm_sfence();   /* the stores are ordered before the pages are handed on */
#else
    memset(p, 0, n);
#endif
}

/* Make [p, p+size) (ours alone) read zero without touching memory the program never touched:
 * resident pages are zeroed in place, the others are dropped (a page that is not resident was
 * never touched, or sits in swap with its old contents). A chunk with many separate runs of
 * absent pages is dropped whole: a bounded number of system calls. */
#define SCRUB_MAX_RUNS 8
static void scrub(char *p, size_t size) {
    unsigned char vec[256];
    for (size_t off = 0; off < size;) {
        size_t chunk = size - off < sizeof vec * SG_OS_PAGE ? size - off : sizeof vec * SG_OS_PAGE;
        size_t pages = chunk / SG_OS_PAGE, runs = 0;
        char *c = p + off;
        off += chunk;
        if (!sg_os_resident(c, chunk, vec)) {
            sg_os_purge(c, chunk);
            continue;
        }
        for (size_t i = 0; i < pages; i++) runs += !(vec[i] & 1) && (i == 0 || (vec[i - 1] & 1));
        if (runs > SCRUB_MAX_RUNS) {
            sg_os_purge(c, chunk);
            continue;
        }
        for (size_t i = 0; i < pages;) {
            size_t j = i;
            bool resident = vec[i] & 1;
            while (j < pages && (vec[j] & 1) == resident) j++;
            if (resident) zero_pages(c + i * SG_OS_PAGE, (j - i) * SG_OS_PAGE);
            else sg_os_purge(c + i * SG_OS_PAGE, (j - i) * SG_OS_PAGE);
            i = j;
        }
    }
}

/* Take back one piece of a freed block: its pages move away to be recycled (the range stays
 * mapped and empty), or, over the budget, are purged. The caller then makes the range
 * PROT_NONE. hi 0: [p, p+size) is all pages; else p is a huge page of a block with guard
 * markers, its pages in [p+lo, p+hi). */
static void take_back_piece(char *p, size_t size, uint32_t lo, uint32_t hi) {
    bool room = false;
    extent_t evict = { 0 }, x = { 0, size, 0, lo, hi };
    size_t bytes = held(&x), from = hi ? lo : 0;
    if (RECYCLE_BUILD && !atomic_load_explicit(&recycle_off, memory_order_relaxed)) {
        sg_mutex_lock(&recycle_mutex);
        room = recycle_bytes + bytes <= RECYCLE_MAX_BYTES;
        size_t slot = RECYCLE_SLOTS, smallest = 0;
        for (size_t i = 0; room && i < RECYCLE_SLOTS && slot == RECYCLE_SLOTS; i++) {
            if (!extents[i].addr) slot = i;
            else if (held(&extents[i]) < held(&extents[smallest])) smallest = i;
        }
        /* every slot taken: a smaller extent makes room for this piece (fewer, larger pieces) */
        if (room && slot == RECYCLE_SLOTS && held(&extents[smallest]) < bytes) {
            evict = extents[smallest];
            extents[smallest].addr = 0;
            recycle_bytes -= held(&evict);
            slot = smallest;
        }
        room = room && slot < RECYCLE_SLOTS;
        if (room) recycle_bytes += bytes;   /* reserved; the extent is filled in below */
        sg_mutex_unlock(&recycle_mutex);
    }
    if (evict.addr) sg_os_unmap((void *)evict.addr, evict.size);
    bool unsupported = false;
    char *moved = room ? sg_os_move_out(p, size, &unsupported) : NULL;
    if (!moved) {
        if (room) {
            sg_mutex_lock(&recycle_mutex);
            recycle_bytes -= bytes;
            sg_mutex_unlock(&recycle_mutex);
        }
        if (unsupported) atomic_store_explicit(&recycle_off, 1, memory_order_relaxed);
        sg_os_purge(p + from, bytes);
        return;
    }
    /* read-write again, and nothing of what the program set on its block (mprotect, madvise,
     * mlock, a protection key, guard markers) follows the pages into the next one; the
     * block's own markers around them stay */
    if (!sg_os_reset(moved + from, bytes)) {
        sg_mutex_lock(&recycle_mutex);
        recycle_bytes -= bytes;
        sg_mutex_unlock(&recycle_mutex);
        sg_os_unmap(moved, size);
        return;
    }
    x.addr = (uintptr_t)moved;
    x.freed_ms = sg_os_now_ms();
    sg_mutex_lock(&recycle_mutex);
    size_t slot = RECYCLE_SLOTS;
    for (size_t i = 0; i < RECYCLE_SLOTS && slot == RECYCLE_SLOTS; i++)
        if (!extents[i].addr) slot = i;
    if (slot < RECYCLE_SLOTS) extents[slot] = x;
    else recycle_bytes -= bytes;   /* another thread took the last slot meanwhile */
    sg_mutex_unlock(&recycle_mutex);
    if (slot == RECYCLE_SLOTS) sg_os_unmap(moved, size);
}

/* A freed block's body [body, body+len): the pieces it was filled with, then the rest. */
void sg_recycle_take_back(char *body, size_t len, const uint32_t *piece_pages, unsigned pieces) {
    atomic_fetch_sub_explicit(&live_pieces, pieces, memory_order_relaxed);
    size_t off = 0;
    for (unsigned i = 0; i < pieces && off < len; i++) {
        size_t n = (size_t)piece_pages[i] * SG_OS_PAGE;
        take_back_piece(body + off, n, 0, 0);
        off += n;
    }
    if (off < len) take_back_piece(body + off, len - off, 0, 0);
    drop_idle(false);
}

/* A growth that failed: the bytes of [moved, moved+n) go back into [from, from+n), the old
 * range, still mapped and empty (moving them back would need mappings the kernel may refuse).
 * Both are made read-write first: the program may have set its block read-only, and the pages
 * moved with that setting. */
void sg_recycle_put_back(char *from, char *moved, size_t n) {
    if (!n) return;
    if (!sg_os_reset_protection(moved, n) || !sg_os_reset_protection(from, n))
        sg_report_fatal("mprotect failure", from, n);
    memcpy(from, moved, n);
}

/* realloc growing a large block: its pages move, piece by piece (each piece is a kernel mapping
 * of its own), from [from, from+len) onto [to, to+len), a range of ours; the old range stays
 * mapped, empty. true when everything moved. false when not: the old range holds it all again,
 * and [to + *lost_at, +*lost_len) may now be another mapping (*lost_len 0: none), which the
 * caller must leave alone; the rest of [to, to+len) is still its own. */
bool sg_recycle_move_body(char *from, size_t len, const uint32_t *piece_pages, unsigned pieces, char *to,
                          size_t *lost_at, size_t *lost_len) {
    *lost_at = *lost_len = 0;
    if (!RECYCLE_BUILD || atomic_load_explicit(&recycle_off, memory_order_relaxed)) return false;
    size_t off = 0;
    for (unsigned i = 0; off < len; i++) {
        size_t n = i < pieces ? (size_t)piece_pages[i] * SG_OS_PAGE : len - off;
        /* Two moves, so that a refusal never leaves a piece half moved (a kernel that moves a
         * range of several mappings at once can stop midway): out to an address the kernel
         * picks, which takes one mapping or nothing (EFAULT: the program split the piece), then
         * onto the new range, one mapping. */
        bool unsupported = false, unsure;
        char *mid = sg_os_move_out(from + off, n, &unsupported);
        if (!mid) {
            if (unsupported) atomic_store_explicit(&recycle_off, 1, memory_order_relaxed);
            break;
        }
        if (!sg_os_move_to(mid, n, to + off, &unsure)) {
            sg_recycle_put_back(from + off, mid, n);
            sg_os_unmap(mid, n);
            if (unsure) *lost_at = off, *lost_len = n;
            break;
        }
        off += n;
    }
    /* The block stays the program's: what it set on all of a piece (mlock, madvise) moves with
     * it, as with glibc's mremap; a piece it set in part is split, and copied instead (EFAULT
     * above). Only the protection is reset: the block must be writable. */
    if (off == len && sg_os_reset_protection(to, len)) return true;
    sg_recycle_put_back(from, to, off);
    return false;
}

/* ---- blocks on whole huge pages, with guard markers --------------------------------------- */
/* Where the kernel has guard markers (Linux 6.13), a secure large block is laid out on whole
 * huge pages: they are read-write, the block's pages are [lo, hi) in them and every other page
 * is a marker (a guard that needs no mapping of its own). Every move of its pages, out at free
 * and in at the next malloc, then hands over whole page tables, whatever the block's size and
 * offset: under a hypervisor that shadows page tables, the pages cost nothing extra to touch
 * afterwards, where a page moved entry by entry traps once (2-4 us on the bench's VM) and a
 * fresh page faults (10-14 us). Each huge page is recycled on its own, with the bounds of the
 * pages it holds. */

#define HUGE32 ((uint32_t)SG_OS_HUGE)
static uint32_t lo32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t hi32(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* The pages of a huge page outside its block: markers, or, in a build without guard pages
 * (which measures what they cost), empty pages that were never the block's. */
bool sg_recycle_guard(void *p, size_t n) {
    if (SG_GUARD_PAGES) return sg_os_guard(p, n);
    if (n) sg_os_purge(p, n);
    return true;
}
bool sg_recycle_unguard(void *p, size_t n) { return !SG_GUARD_PAGES || sg_os_unguard(p, n); }

/* Markers on [s + a, s + b), or empty pages there (none when a >= b). */
static bool guard_part(char *s, uint32_t a, uint32_t b) { return a >= b || sg_recycle_guard(s + a, b - a); }
static bool unguard_part(char *s, uint32_t a, uint32_t b) { return a >= b || sg_recycle_unguard(s + a, b - a); }

/* The block's pages in huge page s: [*wl, *wh) (empty: both 0). */
static void wanted(const char *s, uintptr_t lo, uintptr_t hi, uint32_t *wl, uint32_t *wh) {
    uintptr_t a = (uintptr_t)s, e = a + SG_OS_HUGE;
    uintptr_t l = lo > a ? lo : a, h = hi < e ? hi : e;
    if (l >= h) l = h = a;
    *wl = (uint32_t)(l - a);
    *wh = (uint32_t)(h - a);
}

/* The huge page in the pool whose pages differ least from [wl, wh): every page the block wants
 * that it lacks faults in fresh, and every page it has outside them is freed, to fault in fresh
 * in some later block. Taken out of the pool; { 0 } if none shares more pages than it would
 * free (fresh pages cost less then). Under the lock. */
static extent_t take_covering(uint32_t wl, uint32_t wh) {
    size_t best = RECYCLE_SLOTS, best_diff = 0;
    for (size_t i = 0; i < RECYCLE_SLOTS; i++) {
        const extent_t *x = &extents[i];
        if (!x->addr || !x->hi) continue;
        uint32_t a = hi32(x->lo, wl), b = lo32(x->hi, wh);
        size_t in = b > a ? b - a : 0, out = held(x) - in, diff = (wh - wl - in) + out;
        if (in > out && (best == RECYCLE_SLOTS || diff < best_diff)) best = i, best_diff = diff;
    }
    if (best == RECYCLE_SLOTS) return (extent_t){ 0 };
    extent_t take = extents[best];
    extents[best].addr = 0;
    recycle_bytes -= held(&take);
    return take;
}

/* Huge page s, just moved in from x, holds a block's pages [wl, wh): x's pages outside them
 * become markers (and are freed), markers inside them empty pages, and the pages both share
 * are zeroed. */
static bool refit(char *s, const extent_t *x, uint32_t wl, uint32_t wh) {
    if (!guard_part(s, x->lo, lo32(x->hi, wl)) || !guard_part(s, hi32(x->lo, wh), x->hi)) return false;
    if (!unguard_part(s, wl, lo32(wh, x->lo)) || !unguard_part(s, hi32(wl, x->hi), wh)) return false;
    uint32_t a = hi32(x->lo, wl), b = lo32(x->hi, wh);
    scrub(s + a, b - a);
    /* the pages it lacks, faulted in now in one call (a few per cent of it at most: the pool
     * gives the huge page that fits best) rather than one trap each */
    if (wl < a) sg_os_populate(s + wl, a - wl);
    if (b < wh) sg_os_populate(s + b, wh - b);
    return true;
}

bool sg_recycle_marked_ok(void) {
    return RECYCLE_BUILD && !atomic_load_explicit(&recycle_off, memory_order_relaxed) && (!SG_GUARD_PAGES || sg_os_markers()) &&
           !sg_os_address_limited();
}

/* Make the huge pages [slot0, slot0 + n huge pages) of a reservation (inaccessible) a block's,
 * its pages [lo, hi) (addresses): each huge page is moved in from the pool (the one whose pages
 * fit best), else made read-write in place; every other page is a marker. *pieces:
 * how many were moved in, each a kernel mapping of its own. SG_FILL_FAILED: the caller unmaps
 * the whole range. SG_FILL_LOST: *lost, a huge page of it, may now be another mapping; the
 * caller unmaps the rest. */
int sg_recycle_fill_slots(char *slot0, size_t n, uintptr_t lo, uintptr_t hi, unsigned *pieces, char **lost) {
    *pieces = 0;
    /* read-write all at once: the kernel refuses a commit larger than it would ever allow in
     * one call (malloc(1 TiB) fails, as under glibc); huge pages moved in replace parts of it */
    if (!sg_os_commit(slot0, n * SG_OS_HUGE)) return SG_FILL_FAILED;
    bool pool = RECYCLE_BUILD && !atomic_load_explicit(&recycle_off, memory_order_relaxed) && recycle_bytes;
    if (pool) drop_idle(false);
    for (size_t i = 0; i < n; i++) {
        char *s = slot0 + i * SG_OS_HUGE;
        uint32_t wl, wh;
        wanted(s, lo, hi, &wl, &wh);
        extent_t x = { 0 };
        if (pool && wl < wh && sg_recycle_pieces_room()) {
            sg_mutex_lock(&recycle_mutex);
            x = take_covering(wl, wh);
            sg_mutex_unlock(&recycle_mutex);
        }
        if (x.addr) {
            bool unsure;
            if (sg_os_move_to((void *)x.addr, SG_OS_HUGE, s, &unsure)) {
                (*pieces)++;
                if (!refit(s, &x, wl, wh)) return SG_FILL_FAILED;
                continue;
            }
            sg_os_unmap((void *)x.addr, SG_OS_HUGE);
            if (unsure) {
                *lost = s;
                return SG_FILL_LOST;
            }
        }
        /* (a failed move may have left the huge page inaccessible) */
        if (x.addr && !sg_os_commit(s, SG_OS_HUGE)) return SG_FILL_FAILED;
        if (SG_GUARD_PAGES && (!guard_part(s, 0, wl) || !guard_part(s, wl < wh ? wh : 0, HUGE32))) return SG_FILL_FAILED;
    }
    atomic_fetch_add_explicit(&live_pieces, *pieces, memory_order_relaxed);
    return SG_FILL_OK;
}

/* A freed block on huge pages [slot0, slot0 + n huge pages), its pages [lo, hi): each huge page
 * holding some moves away whole, to be recycled with their bounds (or, over the budget, the
 * pages are purged). The caller then makes the range PROT_NONE. */
void sg_recycle_take_back_slots(char *slot0, size_t n, uintptr_t lo, uintptr_t hi, unsigned pieces) {
    atomic_fetch_sub_explicit(&live_pieces, pieces, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        char *s = slot0 + i * SG_OS_HUGE;
        uint32_t wl, wh;
        wanted(s, lo, hi, &wl, &wh);
        if (wl < wh) take_back_piece(s, SG_OS_HUGE, wl, wh);
    }
    drop_idle(false);
}

/* Move huge page from onto huge page to: out first, to an address the kernel picks (refused
 * whole when the program split it into several mappings), then onto to. false when it did not
 * move: it is then back at from, or its pages [wl, wh) were copied back there. *unsure: to may
 * now be another mapping. */
static bool move_slot(char *from, char *to, uint32_t wl, uint32_t wh, bool *unsure) {
    bool unsupported = false, back;
    *unsure = false;
    char *mid = sg_os_move_out(from, SG_OS_HUGE, &unsupported);
    if (!mid) {
        if (unsupported) atomic_store_explicit(&recycle_off, 1, memory_order_relaxed);
        return false;
    }
    if (sg_os_move_to(mid, SG_OS_HUGE, to, unsure)) return true;
    if (!sg_os_move_to(mid, SG_OS_HUGE, from, &back)) {
        /* the pages are copied back; the markers around them left with the page tables. A move
         * back that may have let another mapping into from leaves nothing to copy into. */
        if (back) sg_report_fatal("mremap failure", from, SG_OS_HUGE);
        sg_recycle_put_back(from + wl, mid + wl, wh - wl);
        sg_os_unmap(mid, SG_OS_HUGE);
        if (SG_GUARD_PAGES && (!guard_part(from, 0, wl) || !guard_part(from, wh, HUGE32)))
            sg_report_fatal("madvise failure", from, SG_OS_HUGE);
    }
    return false;
}

/* realloc growing a block on huge pages: its n huge pages [from, ...), its pages [lo, hi), move
 * whole onto [to, ...), a range of ours. true when all moved. false when not: they are all
 * back at from (moved back, or their pages copied back), and *lost, if set, is a huge page of
 * the new range that may now be another mapping (the caller must leave it alone). */
bool sg_recycle_move_slots(char *from, char *to, size_t n, uintptr_t lo, uintptr_t hi, char **lost) {
    *lost = NULL;
    size_t i = 0;
    for (; i < n; i++) {
        uint32_t wl, wh;
        bool unsure;
        wanted(from + i * SG_OS_HUGE, lo, hi, &wl, &wh);
        if (!move_slot(from + i * SG_OS_HUGE, to + i * SG_OS_HUGE, wl, wh, &unsure)) {
            if (unsure) *lost = to + i * SG_OS_HUGE;
            break;
        }
    }
    if (i == n) return true;
    while (i-- > 0) {
        uint32_t wl, wh;
        bool unsure;
        char *f = from + i * SG_OS_HUGE, *t = to + i * SG_OS_HUGE;
        wanted(f, lo, hi, &wl, &wh);
        if (move_slot(t, f, wl, wh, &unsure)) continue;
        /* its pages are at t again; f, the block's own range, may now be another mapping */
        if (unsure) sg_report_fatal("mremap failure", f, SG_OS_HUGE);
        sg_recycle_put_back(f + wl, t + wl, wh - wl);
        if (SG_GUARD_PAGES && (!guard_part(f, 0, wl) || !guard_part(f, wh, HUGE32)))
            sg_report_fatal("madvise failure", f, SG_OS_HUGE);
    }
    return false;
}

/* Pieces that became part of a live block other than through sg_recycle_fill. */
void sg_recycle_adopt(unsigned pieces) { atomic_fetch_add_explicit(&live_pieces, pieces, memory_order_relaxed); }
void sg_recycle_forget(unsigned pieces) { atomic_fetch_sub_explicit(&live_pieces, pieces, memory_order_relaxed); }

/* May a live block be made of more pieces (a share of vm.max_map_count, as for guards)? */
bool sg_recycle_pieces_room(void) {
    return atomic_load_explicit(&live_pieces, memory_order_relaxed) < sg_os_max_map_count() / 8;
}

bool sg_recycle_trim(void) {
    bool any = recycle_bytes != 0;
    drop_idle(true);
    return any;
}

size_t sg_recycle_bytes(void) { return atomic_load_explicit(&recycle_bytes, memory_order_relaxed); }

/* Extents idle for a second are given back even when no large block comes and goes: called
 * from the arena's periodic purge. */
void sg_recycle_tick(void) {
    if (recycle_bytes) drop_idle(false);
}

/* fork() child: a thread that was between taking back a piece and storing it does not exist
 * here; count only what the table holds. */
void sg_recycle_child_reset(void) {
    size_t n = 0;
    for (size_t i = 0; i < RECYCLE_SLOTS; i++) n += extents[i].addr ? held(&extents[i]) : 0;
    recycle_bytes = n;
}

void sg_recycle_lock(void) { sg_mutex_lock(&recycle_mutex); }
void sg_recycle_unlock(void) { sg_mutex_unlock(&recycle_mutex); }
