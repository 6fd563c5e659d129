/* shrink: does the allocator give memory back? Allocate `total` MiB in small blocks
 * (16..512 bytes), free 90% of them chosen at random, wait a moment, and report the resident
 * memory (rss_after); then free the rest and report it again (rss_empty). The survivors are
 * checked before they are freed.
 * Usage: shrink [total_mib=1024] [keep_percent=10] [idle_ms=150] */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

enum { MIN_SIZE = 16, MAX_SIZE = 512 };

// Resident set size in MiB from /proc/self/statm, read without allocating.
static double rss_mib(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        bench_fail("shrink: cannot read /proc/self/statm");
    buf[n] = '\0';
    unsigned long long size, resident;
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
        bench_fail("shrink: cannot parse /proc/self/statm");
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

// Give time-based purging a chance, then make a few calls for allocators that purge on a call.
static void idle(unsigned ms)
{
    bench_sleep_ms(ms);
    for (unsigned i = 0; i < 1000; i++)
        free(bench_nonnull(malloc(64), 64));
}

int main(int argc, char **argv)
{
    size_t total = (size_t)bench_arg(argc, argv, 1, 1024) << 20;
    unsigned keep = (unsigned)bench_arg(argc, argv, 2, 10);
    unsigned idle_ms = (unsigned)bench_arg(argc, argv, 3, 150);
    if (total == 0 || keep > 100)
        bench_fail("shrink: bad arguments");

    // The pointer table is mapped directly so that it is not the allocator's memory.
    size_t cap = total / MIN_SIZE + 1;
    unsigned char **block = mmap(NULL, cap * sizeof *block, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (block == MAP_FAILED)
        bench_fail("shrink: cannot map the pointer table");

    bench_rng_t r = bench_rng(5000);
    size_t n = 0, bytes = 0;
    while (bytes < total) {
        size_t size = bench_range(&r, MIN_SIZE, MAX_SIZE);
        unsigned char *p = bench_nonnull(malloc(size), size);
        bench_fill(p, size, ((uint64_t)n << 16) | size);
        block[n++] = p;
        bytes += size;
    }

    // Free all but keep% at random; survivors move to the front of the table.
    size_t kept = 0;
    uint64_t kept_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = block[i];
        if (bench_next(&r) % 100 < keep) {
            block[kept++] = p;
            continue;
        }
        uint64_t tag;
        memcpy(&tag, p, sizeof tag);
        if ((tag >> 16) != i)
            bench_fail("shrink: block %zu lost its tag", i);
        bench_verify(p, (size_t)(tag & 0xffff), tag, "shrink");
        free(p);
    }
    size_t used = (kept * sizeof *block + 4095) & ~(size_t)4095;
    if (used < cap * sizeof *block)
        madvise((char *)block + used, cap * sizeof *block - used, MADV_DONTNEED);

    idle(idle_ms);
    double after = rss_mib();

    for (size_t i = 0; i < kept; i++) {
        unsigned char *p = block[i];
        uint64_t tag;
        memcpy(&tag, p, sizeof tag);
        size_t size = (size_t)(tag & 0xffff);
        if (size < MIN_SIZE || size > MAX_SIZE)
            bench_fail("shrink: survivor %zu has a corrupted header", i);
        bench_verify(p, size, tag, "shrink survivor");
        kept_bytes += size;
        free(p);
    }
    munmap(block, cap * sizeof *block);
    idle(idle_ms);
    double empty = rss_mib();

    bench_metric("rss_after_mib", after, "MiB", "lower");
    bench_metric("rss_empty_mib", empty, "MiB", "lower");
    bench_check(((uint64_t)n << 32) ^ ((uint64_t)kept << 8) ^ kept_bytes);
    return 0;
}
