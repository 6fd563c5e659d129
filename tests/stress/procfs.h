/* tests/stress/procfs.h: reading the kernel's view of the process without allocating (header
 * only: tests/run.sh runs only the .c files of this directory).
 *
 *   read_long(path)    the number at the start of a file such as /proc/sys/vm/max_map_count, or -1
 *   count_mappings()   the lines of /proc/self/maps (the process's mappings, plus [vsyscall]), or -1
 *   count_mappings_in(lo, hi)   the mappings that overlap [lo, hi), or -1
 *   inaccessible_bytes()   the bytes of PROT_NONE mappings
 */
#ifndef SG_TEST_PROCFS_H
#define SG_TEST_PROCFS_H

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((unused)) static long read_long(const char *path)
{
    char buf[64] = { 0 };
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* The lines of /proc/self/maps whose range [start, end) overlaps [lo, hi); every line when lo
 * and hi are both 0. *none_bytes (if not NULL): the bytes of those mappings that are neither
 * readable, writable nor executable. */
static long scan_mappings(uintptr_t lo, uintptr_t hi, uintptr_t *none_bytes)
{
    static char buf[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return -1;
    long lines = 0;
    ssize_t n;
    int at_start = 1, field = 0, perm = 0, none = 1;   /* field 0: start, 1: end, 2: permissions, 3: the rest */
    uintptr_t start = 0, end = 0;
    if (none_bytes)
        *none_bytes = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            char c = buf[i];
            if (at_start) {
                start = end = 0;
                field = perm = 0;
                none = 1;
                at_start = 0;
            }
            if (c == '\n') {
                int in = (lo == 0 && hi == 0) || (start < hi && end > lo);
                lines += in;
                if (in && none && none_bytes)
                    *none_bytes += end - start;
                at_start = 1;
            } else if (field < 2) {
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d >= 0 && field == 0)
                    start = start * 16 + (uintptr_t)d;
                else if (d >= 0)
                    end = end * 16 + (uintptr_t)d;
                else
                    field++;
            } else if (field == 2) {
                if (c == ' ')
                    field++;
                else if (perm++ < 3 && c != '-')
                    none = 0;
            }
        }
    }
    close(fd);
    return lines;
}

__attribute__((unused)) static long count_mappings_in(uintptr_t lo, uintptr_t hi)
{
    return scan_mappings(lo, hi, NULL);
}

/* The bytes of address space the process holds inaccessible (PROT_NONE), or 0. */
__attribute__((unused)) static uintptr_t inaccessible_bytes(void)
{
    uintptr_t b = 0;
    return scan_mappings(0, 0, &b) < 0 ? 0 : b;
}

__attribute__((unused)) static long count_mappings(void)
{
    return count_mappings_in(0, 0);
}

#endif
