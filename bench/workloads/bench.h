/* bench.h: what every workload shares: a clock, a seeded generator, argument parsing, the
 * fill/verify pattern written into blocks, and the "metric"/"check" lines the runner reads.
 *
 * Output protocol (stdout, read by bench/run.sh):
 *   metric <name> <value> <unit> <lower|higher>   a number the workload measured itself
 *   check <value>                                   must be equal for every allocator
 * A workload that finds a corrupted block prints "bench: ..." on stderr and exits 1. */
#ifndef BENCH_H
#define BENCH_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// ---- failure ----
__attribute__((noreturn, format(printf, 1, 2))) static inline void bench_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static inline void *bench_nonnull(void *p, size_t size)
{
    if (p == NULL)
        bench_fail("allocation of %zu bytes failed", size);
    return p;
}

// ---- time ----
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void bench_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

// ---- arguments: positional numbers with defaults ----
static inline uint64_t bench_arg(int argc, char **argv, int i, uint64_t fallback)
{
    if (i >= argc)
        return fallback;
    char *end;
    unsigned long long v = strtoull(argv[i], &end, 10);
    if (*argv[i] == '\0' || *end != '\0')
        bench_fail("argument %d: not a number: %s", i, argv[i]);
    return (uint64_t)v;
}

// ---- random: splitmix64, one state per thread, seeded from the thread's index ----
typedef struct { uint64_t s; } bench_rng_t;

static inline bench_rng_t bench_rng(uint64_t seed)
{
    bench_rng_t r = { seed * 0x9e3779b97f4a7c15u + 0x632be59bd9b4e019u };
    return r;
}

static inline uint64_t bench_next(bench_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

// A number in [lo, hi].
static inline size_t bench_range(bench_rng_t *r, size_t lo, size_t hi)
{
    return lo + (size_t)(bench_next(r) % (hi - lo + 1));
}

// A uniform double in [0, 1).
static inline double bench_unit(bench_rng_t *r)
{
    return (double)(bench_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

// ---- block pattern: tag in the first 8 bytes, a tag byte in the middle, at every 4 KiB and
// at the end ----
// Touching one byte per page makes the kernel commit the memory, so peak RSS is honest, while
// keeping the workload about the allocator rather than memset. Blocks are at least 8 bytes;
// the middle and end bytes are written only past the tag.
static inline unsigned char bench_tag_byte(uint64_t tag, size_t off)
{
    return (unsigned char)((tag * 0x2545f4914f6cdd1du + off) >> 56);
}

static inline void bench_fill(unsigned char *p, size_t size, uint64_t tag)
{
    memcpy(p, &tag, sizeof tag);
    for (size_t off = 4096; off < size; off += 4096)
        p[off] = bench_tag_byte(tag, off);
    if (size / 2 >= sizeof tag)
        p[size / 2] = bench_tag_byte(tag, size / 2);
    if (size > sizeof tag)
        p[size - 1] = bench_tag_byte(tag, size - 1);
}

// Check the pattern of a block of `size` bytes, of which the first `valid` were written with
// bench_fill(p, valid, tag) (valid < size after a realloc growth).
static inline void bench_verify(const unsigned char *p, size_t valid, uint64_t tag, const char *what)
{
    uint64_t got;
    memcpy(&got, p, sizeof got);
    if (got != tag)
        bench_fail("%s: block %p lost its tag (%#llx, expected %#llx)", what, (const void *)p,
                   (unsigned long long)got, (unsigned long long)tag);
    for (size_t off = 4096; off < valid; off += 4096)
        if (p[off] != bench_tag_byte(tag, off))
            bench_fail("%s: block %p corrupted at offset %zu", what, (const void *)p, off);
    if (valid / 2 >= sizeof tag && p[valid / 2] != bench_tag_byte(tag, valid / 2))
        bench_fail("%s: block %p corrupted in its middle (offset %zu)", what, (const void *)p, valid / 2);
    if (valid > sizeof tag && p[valid - 1] != bench_tag_byte(tag, valid - 1))
        bench_fail("%s: block %p corrupted at its end (offset %zu)", what, (const void *)p, valid - 1);
}

// ---- output ----
static inline void bench_metric(const char *name, double value, const char *unit, const char *better)
{
    printf("metric %s %.6g %s %s\n", name, value, unit, better);
}

static inline void bench_check(uint64_t value)
{
    printf("check %llu\n", (unsigned long long)value);
}

#endif
