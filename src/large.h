/* large.h: what large.c (the registry of large blocks, their allocation and free) and
 * large_grow.c (growing a large block in realloc) share, private to the two: the registry
 * entry, the registry's functions (large.c owns the lock, the table and its statistics), the
 * slack canary, rounding helpers and the switches that shape a large block. */
#ifndef SG_LARGE_H
#define SG_LARGE_H

#include "internal.h"
#include "os.h"

typedef struct sg_large_entry_s {
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
    /* secure builds: made without guard pages, its guarded peers having used their share of
     * vm.max_map_count (large.c's guard budget); such a block stays so when realloc moves it */
    bool bare;
} sg_large_entry_t;

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

SG_INLINE size_t sg_large_page_round(size_t n) { return (n + SG_OS_PAGE - 1) & ~(size_t)(SG_OS_PAGE - 1); }
SG_INLINE size_t sg_large_huge_round(size_t n) { return (n + SG_OS_HUGE - 1) & ~(SG_OS_HUGE - 1); }

/* The fresh pages a growth added, [p, p+len) after old bytes: faulted in at once, the program
 * being about to write them, unless the growth is far larger than the block (more than double:
 * a reservation of capacity, maybe never used) or than 64 MiB. Called without the lock. Also
 * for the fresh part of a fast malloc served by growing a smaller cached mapping: the program
 * wrote all of a block of about that size before. */
SG_INLINE void sg_large_populate_growth(void *p, size_t len, size_t old) {
    if (len && len <= 2 * old && len <= ((size_t)64 << 20)) sg_os_populate(p, len);
}

/* The guard page on each side of a block: none in fast builds, nor for a bare block. */
SG_INLINE size_t sg_large_guard_of(const sg_large_entry_t *e) { return SG_GUARD_PAGES && !e->bare ? SG_OS_PAGE : 0; }

/* A block on huge pages with guard markers: the first of them, and how many hold its pages. */
SG_INLINE char *sg_large_slot0_of(const sg_large_entry_t *e) { return (char *)e->map + sg_large_guard_of(e); }
SG_INLINE size_t sg_large_slots_of(const sg_large_entry_t *e) {
    return (sg_large_huge_round(e->body + e->body_size) - (uintptr_t)sg_large_slot0_of(e)) / SG_OS_HUGE;
}

/* ---- the registry (large.c) ------------------------------------------------------------- */
/* With large.c's lock held (sg_large_lock); sg_large_insert_and_unlock and sg_large_bad_pointer
 * release it. */
sg_large_entry_t *sg_large_table_find(uintptr_t a);
void sg_large_table_remove(sg_large_entry_t *e);
void sg_large_insert_and_unlock(const sg_large_entry_t *e);
void sg_large_set_size(sg_large_entry_t *e, size_t size, size_t body_size);
_Noreturn SG_COLD void sg_large_bad_pointer(const char *what_unknown, const void *p);
/* Without the lock. */
void sg_large_retire(const sg_large_entry_t *old);

/* ---- the slack canary (large.c) --------------------------------------------------------- */
#define SLACK_CANARY_MAX 16u
#define LARGE_CANARY (SG_CANARY && HARDENED_LARGE)
/* A bare block has no guard page to fault a short overflow: it keeps room for the whole canary
 * after it, whatever its size. */
SG_INLINE size_t sg_large_canary_room(const sg_large_entry_t *e) { return LARGE_CANARY && e->bare ? SLACK_CANARY_MAX : 0; }
size_t sg_large_slack_len(const sg_large_entry_t *e);
void sg_large_slack_write(const sg_large_entry_t *e);
bool sg_large_slack_intact(const sg_large_entry_t *e);

bool sg_large_marker_guards(char *map, size_t map_size, bool trailing);

/* ---- growth (large_grow.c) -------------------------------------------------------------- */
void sg_large_drop_range(char *map, size_t map_size, char *lost, size_t lost_len);

#endif /* SG_LARGE_H */
