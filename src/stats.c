/* stats.c: process-wide counters and a short report, without allocating. */
#include "internal.h"

#include <string.h>
#include <unistd.h>

void sg_stats_get(sg_stats_t *out) {
    memset(out, 0, sizeof *out);
    out->pages = atomic_load_explicit(&sg_stat_pages, memory_order_relaxed);
    out->threads = atomic_load_explicit(&sg_stat_threads, memory_order_relaxed);
    out->pages_abandoned = sg_heap_abandoned_pages();
    sg_large_stats(&out->large_count, &out->large_bytes);
    out->mapped = sg_arena_committed() + out->large_bytes;
    out->free_unpurged = sg_arena_dirty();
    out->arena_used = sg_arena_frontier();
}

int sg_malloc_trim(size_t pad) {
    (void)pad; /* every free span is purged; nothing is kept back for the pad */
    bool a = sg_arena_purge(true);
    bool b = sg_large_trim();
    return a || b;
}

static size_t put(char *buf, size_t at, const char *label, size_t v) {
    size_t n = strlen(label);
    if (at + n + 24 >= 512) return at;
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
    char buf[512];
    size_t at = 0;
    at = put(buf, at, "slabguard stats: mapped bytes ", s.mapped);
    at = put(buf, at, "slabguard stats: pages ", s.pages);
    at = put(buf, at, "slabguard stats: abandoned pages ", s.pages_abandoned);
    at = put(buf, at, "slabguard stats: large blocks ", s.large_count);
    at = put(buf, at, "slabguard stats: large bytes ", s.large_bytes);
    at = put(buf, at, "slabguard stats: threads ", s.threads);
    at = put(buf, at, "slabguard stats: free bytes kept resident ", s.free_unpurged);
    at = put(buf, at, "slabguard stats: arena bytes used ", s.arena_used);
    ssize_t w = write(fd, buf, at);
    (void)w;
}
