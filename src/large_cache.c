/* large_cache.c: fast builds keep freed large mappings in a small cache, to serve later requests
 * of about their size: no mmap, no munmap, and no page faults on memory that is still resident.
 * Bounded in count and bytes; entries idle for a second are purged (their pages given back, the
 * address range kept), checked at each put and at the arena's purge pace (sg_large_tick).
 * Secure builds never cache: a freed block's range is retired (large.c). Every function is
 * called with large.c's lock held. */
#include "internal.h"
#include "os.h"

#define CACHE_MAX_BYTES ((size_t)128 << 20)
#define CACHE_PURGE_MS 1000

static sg_large_cached_t cache[SG_LARGE_CACHE_SLOTS];
static size_t cache_bytes;

void sg_large_cache_purge_idle(uint64_t now) {
    for (size_t i = 0; i < SG_LARGE_CACHE_SLOTS; i++) {
        sg_large_cached_t *c = &cache[i];
        if (c->map && !c->purged && now - c->freed_ms >= CACHE_PURGE_MS) {
            sg_os_purge((void *)c->map, c->map_size);
            c->purged = true;
        }
    }
}

/* Is there a resident cached mapping of at least need bytes? */
bool sg_large_cache_has(size_t need) {
    for (size_t i = 0; i < SG_LARGE_CACHE_SLOTS; i++)
        if (cache[i].map && !cache[i].purged && cache[i].map_size >= need) return true;
    return false;
}

/* The smallest cached mapping of at least need bytes (a much larger one is split, its tail stays
 * cached), its size in *got; *purged: its pages were given back (they read zero). NULL if none. */
void *sg_large_cache_take(size_t need, size_t *got, bool *purged) {
    size_t best = SG_LARGE_CACHE_SLOTS;
    for (size_t i = 0; i < SG_LARGE_CACHE_SLOTS; i++) {
        if (cache[i].map && cache[i].map_size >= need &&
            (best == SG_LARGE_CACHE_SLOTS || cache[i].map_size < cache[best].map_size))
            best = i;
    }
    if (best == SG_LARGE_CACHE_SLOTS) return NULL;
    sg_large_cached_t c = cache[best];
    cache[best].map = 0;
    cache_bytes -= c.map_size;
    size_t keep = (need + (need / 8) + SG_OS_PAGE - 1) & ~(size_t)(SG_OS_PAGE - 1);
    if (keep < c.map_size && c.map_size - keep >= ((size_t)64 << 10)) {
        cache[best] = (sg_large_cached_t){ c.map + keep, c.map_size - keep, c.freed_ms, c.purged };
        cache_bytes += c.map_size - keep;
        c.map_size = keep;
    }
    *got = c.map_size;
    *purged = c.purged;
    return (void *)c.map;
}

/* On a miss: the largest resident cached mapping smaller than need, for the caller to grow
 * (mremap): its pages are reused, only the rest is fresh. Its size in *got; NULL if none. */
void *sg_large_cache_take_below(size_t need, size_t *got) {
    size_t best = SG_LARGE_CACHE_SLOTS;
    for (size_t i = 0; i < SG_LARGE_CACHE_SLOTS; i++) {
        if (cache[i].map && !cache[i].purged && cache[i].map_size < need &&
            (best == SG_LARGE_CACHE_SLOTS || cache[i].map_size > cache[best].map_size))
            best = i;
    }
    if (best == SG_LARGE_CACHE_SLOTS) return NULL;
    sg_large_cached_t c = cache[best];
    cache[best].map = 0;
    cache_bytes -= c.map_size;
    *got = c.map_size;
    return (void *)c.map;
}

/* Keep a freed mapping [*at, *at + *size); false when it should be unmapped instead: then
 * [*at, *at + *size) is the range to unmap, which takes in the cached mappings it was merged
 * with. A mapping pushed out to make room is returned in *evict (0: none), for the caller to
 * unmap after the lock.
 *
 * A mapping next to a cached one is merged with it: a block served from the head of a larger
 * mapping comes back next to the tail that stayed, and the two make the larger mapping again.
 * Kept apart, the tails filled the slots and pushed out the mappings a later large block
 * needed: big 12000 under sg-fast made 145 K page faults, 41 K merged (mimalloc: 39 K). */
bool sg_large_cache_put(uintptr_t *at, size_t *size, uintptr_t *evict, size_t *evict_size) {
    *evict = 0;
    uintptr_t map = *at;
    size_t map_size = *size;
    if (map_size > CACHE_MAX_BYTES / 4) return false;
    uint64_t now = sg_os_now_ms();
    for (size_t i = 0; i < SG_LARGE_CACHE_SLOTS; i++) {
        sg_large_cached_t *c = &cache[i];
        if (!c->map || (c->map + c->map_size != map && map + map_size != c->map)) continue;
        if (map_size + c->map_size > CACHE_MAX_BYTES / 4) continue;
        if (c->map < map) map = c->map;
        map_size += c->map_size;   /* partly purged at most: not purged as a whole */
        cache_bytes -= c->map_size;
        c->map = 0;
    }
    *at = map;
    *size = map_size;
    size_t slot = SG_LARGE_CACHE_SLOTS, oldest = 0, smallest = 0;
    for (size_t i = 0; i < SG_LARGE_CACHE_SLOTS; i++) {
        if (!cache[i].map) { if (slot == SG_LARGE_CACHE_SLOTS) slot = i; continue; }
        if (cache[i].freed_ms < cache[oldest].freed_ms || !cache[oldest].map) oldest = i;
        if (cache[i].map_size < cache[smallest].map_size || !cache[smallest].map) smallest = i;
    }
    /* Every slot taken (the tails of split mappings add up): the smallest entry makes room,
     * or this mapping is not kept when it is the smallest. Evicting the oldest instead threw
     * out large mappings for small tails; refaulting them doubled big's page faults. */
    if (slot == SG_LARGE_CACHE_SLOTS) {
        if (cache[smallest].map_size >= map_size ||
            cache_bytes - cache[smallest].map_size + map_size > CACHE_MAX_BYTES)
            return false;   /* (evicting it would not make room in bytes: nothing goes) */
        oldest = smallest;
    }
    if (slot == SG_LARGE_CACHE_SLOTS || cache_bytes + map_size > CACHE_MAX_BYTES) {
        slot = oldest;               /* make room: the oldest goes (or the smallest, above) */
        *evict = cache[slot].map;
        *evict_size = cache[slot].map_size;
        cache_bytes -= cache[slot].map_size;
        cache[slot].map = 0;
        if (cache_bytes + map_size > CACHE_MAX_BYTES) return false;
    }
    cache[slot] = (sg_large_cached_t){ map, map_size, now, false };
    cache_bytes += map_size;
    sg_large_cache_purge_idle(now);
    return true;
}

/* malloc_trim: empty the cache into out; the caller unmaps them after the lock. */
size_t sg_large_cache_drain(sg_large_cached_t out[SG_LARGE_CACHE_SLOTS]) {
    size_t n = 0;
    for (size_t i = 0; i < SG_LARGE_CACHE_SLOTS; i++) {
        if (!cache[i].map) continue;
        out[n++] = cache[i];
        cache[i].map = 0;
    }
    cache_bytes = 0;
    return n;
}
