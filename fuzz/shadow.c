/* fuzz/shadow.c: the shadow model that judges the allocator's answers.
 *
 * Every live block is filled to its full usable size with a pattern derived from its id, so a
 * block that overlaps another, loses bytes across realloc, or is written by the allocator while
 * live shows up when it is checked. Live blocks are also kept as sorted intervals, so an
 * overlapping answer is caught the moment it is given. Nothing here allocates. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"

sgf_slot_t sgf_slots[SGF_LTHREADS][SGF_SLOTS];

static _Thread_local const sgf_op_t *current_op;

static const char *const kind_names[SGF_X_COUNT] = {
    "malloc",         "calloc",        "realloc",          "reallocarray",
    "free",           "posix_memalign", "aligned_alloc",   "memalign",
    "valloc",         "pvalloc",       "malloc_usable_size", "check",
    "handoff",        "thread_exit",   "malloc(huge)",     "calloc(huge)",
    "realloc(huge)",  "reallocarray(huge)", "posix_memalign(bad)", "aligned_alloc(huge)",
    "memalign(huge)", "valloc(huge)",  "pvalloc(huge)",  "heap_new",
    "heap_destroy",   "heap_malloc",   "heap_calloc",      "heap_realloc",
    "heap_free",      "fork",
};

const char *sgf_kind_name(unsigned kind)
{
    return kind < SGF_X_COUNT ? kind_names[kind] : "?";
}

void sgf_shadow_set_op(const sgf_op_t *op)
{
    current_op = op;
}

// ---- failure ---------------------------------------------------------------------------------

void sgf_fail(const char *fmt, ...)
{
    char line[768];
    int n = 0;
    const sgf_op_t *op = current_op;
    if (op)
        n = snprintf(line, sizeof line,
                     "sgf: op %s (record %u, thread %u, slot t%u.s%u, size %zu, n %zu): ",
                     sgf_kind_name(op->kind), op->record, op->exec, op->t, op->s, op->size, op->n);
    else
        n = snprintf(line, sizeof line, "sgf: ");
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    if (write(2, line, len) < 0) {
        /* nothing more can be said */
    }
    abort();
}

// ---- block patterns --------------------------------------------------------------------------

/* The pattern of block id: word w is seed + w * step with no zero byte, so a block that moved,
 * shifted, was zeroed or belongs to another block reads wrong. Cheap enough to vectorise. */
static inline uint64_t pattern_seed(uint32_t id)
{
    uint64_t x = ((uint64_t)id + 1) * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

#define PATTERN_STEP 0xD1B54A32D192ED03ull
#define PATTERN_ONES 0x0101010101010101ull

static inline uint64_t pattern_word(uint32_t id, size_t w)
{
    return (pattern_seed(id) + (uint64_t)w * PATTERN_STEP) | PATTERN_ONES;
}

static inline uint8_t pattern_byte(uint32_t id, size_t i)
{
    return (uint8_t)(pattern_word(id, i / 8) >> (8 * (i % 8)));
}

void sgf_shadow_fill(void *p, size_t usable, uint32_t id)
{
    uint8_t *b = p;
    size_t words = usable / 8;
    uint64_t seed = pattern_seed(id);
    for (size_t w = 0; w < words; w++) {
        uint64_t x = (seed + (uint64_t)w * PATTERN_STEP) | PATTERN_ONES;
        __builtin_memcpy(b + 8 * w, &x, 8);
    }
    for (size_t i = words * 8; i < usable; i++)
        b[i] = pattern_byte(id, i);
}

static void pattern_mismatch(const uint8_t *b, size_t bytes, uint32_t id)
{
    for (size_t i = 0; i < bytes; i++)
        if (b[i] != pattern_byte(id, i))
            sgf_fail("block %p (id %u): byte %zu of %zu is 0x%02x, expected 0x%02x", (void *)b,
                     id, i, bytes, b[i], pattern_byte(id, i));
}

void sgf_shadow_pattern(const void *p, size_t bytes, uint32_t id)
{
    const uint8_t *b = p;
    size_t words = bytes / 8;
    uint64_t seed = pattern_seed(id);
    for (size_t w0 = 0; w0 < words; w0 += 64) { /* branch once per 512 bytes */
        size_t end = w0 + 64 < words ? w0 + 64 : words;
        uint64_t diff = 0;
        for (size_t w = w0; w < end; w++) {
            uint64_t x;
            __builtin_memcpy(&x, b + 8 * w, 8);
            diff |= x ^ ((seed + (uint64_t)w * PATTERN_STEP) | PATTERN_ONES);
        }
        if (diff)
            pattern_mismatch(b, bytes, id);
    }
    for (size_t i = words * 8; i < bytes; i++)
        if (b[i] != pattern_byte(id, i))
            pattern_mismatch(b, bytes, id);
}

void sgf_shadow_check(const void *p, size_t usable, uint32_t id)
{
    if (!p)
        return;
    size_t now = SGF_FN(malloc_usable_size)((void *)p);
    if (now != usable)
        sgf_fail("malloc_usable_size(%p) changed from %zu to %zu", p, usable, now);
    sgf_shadow_pattern(p, usable, id);
}

// ---- live intervals --------------------------------------------------------------------------

typedef struct interval {
    uintptr_t lo, hi;
} interval_t;

static interval_t live[SGF_LTHREADS * SGF_SLOTS + 16];
static size_t nlive;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

void sgf_shadow_reset(void)
{
    nlive = 0;
}

/* First index whose lo is >= x. */
static size_t lower_bound(uintptr_t x)
{
    size_t lo = 0, hi = nlive;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (live[mid].lo < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void live_insert(uintptr_t lo, uintptr_t hi)
{
    pthread_mutex_lock(&live_lock);
    size_t k = lower_bound(lo);
    const interval_t *clash = NULL;
    if (k > 0 && live[k - 1].hi > lo)
        clash = &live[k - 1];
    else if (k < nlive && live[k].lo < hi)
        clash = &live[k];
    if (clash) {
        interval_t c = *clash;
        pthread_mutex_unlock(&live_lock);
        sgf_fail("block [%p, +%zu) overlaps the live block [%p, +%zu)", (void *)lo,
                 (size_t)(hi - lo), (void *)c.lo, (size_t)(c.hi - c.lo));
    }
    if (nlive == sizeof live / sizeof live[0]) {
        pthread_mutex_unlock(&live_lock);
        sgf_fail("internal: too many live blocks");
    }
    memmove(&live[k + 1], &live[k], (nlive - k) * sizeof live[0]);
    live[k] = (interval_t){lo, hi};
    nlive++;
    pthread_mutex_unlock(&live_lock);
}

void sgf_shadow_forget(const void *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&live_lock);
    size_t k = lower_bound((uintptr_t)p);
    if (k == nlive || live[k].lo != (uintptr_t)p) {
        pthread_mutex_unlock(&live_lock);
        sgf_fail("internal: block %p is not in the live set", p);
    }
    memmove(&live[k], &live[k + 1], (nlive - k - 1) * sizeof live[0]);
    nlive--;
    pthread_mutex_unlock(&live_lock);
}

// ---- checks on a new block -------------------------------------------------------------------

/* malloc's promise: aligned for any object that fits (C11 7.22.3), 16 bytes on x86-64. */
static size_t default_alignment(size_t req)
{
    size_t a = 16;
    while (a > 1 && req < a)
        a /= 2;
    return a;
}

size_t sgf_shadow_new(void *p, size_t req, size_t align, size_t zero_bytes)
{
    size_t usable = SGF_FN(malloc_usable_size)(p);
    if (usable < req)
        sgf_fail("malloc_usable_size(%p) = %zu is below the request %zu", p, usable, req);
    if (!align)
        align = default_alignment(req);
    if ((uintptr_t)p % align)
        sgf_fail("%p is not aligned to %zu", p, align);
    if ((uintptr_t)p + usable < (uintptr_t)p)
        sgf_fail("block %p + %zu wraps around", p, usable);
    /* a zero-size block still owns its address: two live blocks never share one */
    live_insert((uintptr_t)p, (uintptr_t)p + (usable ? usable : 1));
    const uint8_t *b = p;
    size_t i = 0;
    for (uint64_t x; i + 8 <= zero_bytes; i += 8) {
        __builtin_memcpy(&x, b + i, 8);
        if (x)
            break;
    }
    for (; i < zero_bytes; i++)
        if (b[i])
            sgf_fail("calloc block %p: byte %zu of %zu is 0x%02x, not zero", p, i, zero_bytes,
                     b[i]);
    return usable;
}
