/* stats.c: process-wide counters and a short report, without allocating. */
#include "internal.h"
#include "slot.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Resident bytes of the whole process, from /proc/self/statm (no stdio, no allocation). */
static size_t process_resident(void) {
    char buf[96];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    const char *p = buf;
    while (*p && *p != ' ') p++;          /* skip the size field */
    size_t pages = 0;
    for (p++; *p >= '0' && *p <= '9'; p++) pages = pages * 10 + (size_t)(*p - '0');
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

typedef struct walk_s {
    sg_class_stats_t cls[SG_CLASS_COUNT];
    size_t allocated, active;
} walk_t;

/* Slots handed out and not freed: from the slot states where they exist (a block waiting in a
 * quarantine, or on its way back from another thread, is freed); else the owner's counter,
 * which counts those too. Read without synchronisation: a snapshot only. */
static size_t live_slots(sg_page_t *page, size_t used) {
#if SG_SLOT_STATES
    size_t n = 0;
    for (uint32_t i = 0; i < page->capacity; i++) n += sg_slot_state(page, i) == SG_SLOT_ALLOCATED;
    (void)used;
    return n;
#else
    (void)page;
    return used;
#endif
}

/* Called under the arena lock (sg_arena_each_page): the page's fields are its own. */
static void count_page(sg_page_t *page, void *arg) {
    walk_t *w = arg;
    sg_class_stats_t *c = &w->cls[page->cls];
    size_t used = __atomic_load_n(&page->used, __ATOMIC_RELAXED);
    c->pages++;
    c->blocks_used += used;
    c->blocks_capacity += page->capacity;
    w->allocated += live_slots(page, used) * (page->block_size - SG_CANARY_OVERHEAD);
    w->active += (size_t)page->units << SG_UNIT_SHIFT;
}

/* Both statistics calls collect the abandoned pages first (sg_heap_sweep_abandoned): other
 * threads' frees into them count only from then on, and the pages they emptied go back. */
static void walk_pages(walk_t *w) {
    memset(w, 0, sizeof *w);
    for (unsigned c = 0; c < SG_CLASS_COUNT; c++) w->cls[c].block_size = sg_class_size[c];
    if (sg_ro.meta) sg_arena_each_page(count_page, w);
}

size_t sg_stats_classes(sg_class_stats_t *out, size_t max) {
    if (sg_ro.meta) sg_heap_sweep_abandoned();
    walk_t w;
    walk_pages(&w);
    for (size_t c = 0; c < max && c < SG_CLASS_COUNT; c++) out[c] = w.cls[c];
    return SG_CLASS_COUNT;
}

void sg_stats_get(sg_stats_t *out) {
    memset(out, 0, sizeof *out);
    if (sg_ro.meta) sg_heap_sweep_abandoned();
    out->pages = atomic_load_explicit(&sg_stat_pages, memory_order_relaxed);
    out->threads = atomic_load_explicit(&sg_stat_threads, memory_order_relaxed);
    out->pages_abandoned = sg_heap_abandoned_pages();
    sg_large_stats(&out->large_count, &out->large_bytes);
    out->mapped = sg_arena_committed() + out->large_bytes;
    out->free_unpurged = sg_arena_dirty() + sg_recycle_bytes();
    out->arena_used = sg_arena_frontier();
    out->resident = process_resident();
    walk_t w;
    walk_pages(&w);
    out->allocated = w.allocated + sg_large_requested_bytes();
    out->active = w.active + out->large_bytes;
}

int sg_malloc_trim(size_t pad) {
    (void)pad; /* every free span is purged; nothing is kept back for the pad */
    sg_heap_t *heap = sg_tls_heap;   /* the calling thread's emptied pages (only it may touch them) */
    bool own = !heap->is_empty && sg_heap_trim(heap);
    bool swept = sg_heap_sweep_abandoned() || own;
    bool a = sg_arena_purge(true);
    bool b = sg_large_trim();
    return swept || a || b;
}

static size_t put(char *buf, size_t at, const char *label, size_t v) {
    size_t n = strlen(label);
    if (at + n + 24 >= 768) return at;
    memcpy(buf + at, label, n);
    at += n;
    char tmp[24];
    size_t k = 0;
    do { tmp[k++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (k) buf[at++] = tmp[--k];
    buf[at++] = '\n';
    return at;
}

void sg_stats_print(int fd) {
    sg_stats_t s;
    sg_stats_get(&s);
    char buf[768];
    size_t at = 0;
    at = put(buf, at, "slabguard stats: mapped bytes ", s.mapped);
    at = put(buf, at, "slabguard stats: pages ", s.pages);
    at = put(buf, at, "slabguard stats: abandoned pages ", s.pages_abandoned);
    at = put(buf, at, "slabguard stats: large blocks ", s.large_count);
    at = put(buf, at, "slabguard stats: large bytes ", s.large_bytes);
    at = put(buf, at, "slabguard stats: threads ", s.threads);
    at = put(buf, at, "slabguard stats: free bytes kept resident ", s.free_unpurged);
    at = put(buf, at, "slabguard stats: arena bytes used ", s.arena_used);
    at = put(buf, at, "slabguard stats: allocated bytes ", s.allocated);
    at = put(buf, at, "slabguard stats: resident bytes ", s.resident);
    ssize_t w = write(fd, buf, at);
    (void)w;
}
