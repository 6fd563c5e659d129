/* tests/stress/procfs.h: reading the kernel's view of the process without allocating (header
 * only: tests/run.sh runs only the .c files of this directory).
 *
 *   read_long(path)    the number at the start of a file such as /proc/sys/vm/max_map_count, or -1
 *   count_mappings()   the lines of /proc/self/maps (the process's mappings, plus [vsyscall]), or -1
 */
#ifndef SG_TEST_PROCFS_H
#define SG_TEST_PROCFS_H

#include <fcntl.h>
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

__attribute__((unused)) static long count_mappings(void)
{
    static char buf[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return -1;
    long lines = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    close(fd);
    return lines;
}

#endif
