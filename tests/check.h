/* tests/check.h: the tiny test protocol shared by every test program (header only).
 *
 * A program runs named cases; each case prints exactly one line to stdout:
 *     ok <case>
 *     not ok <case>: <file>:<line>: <first failed check and its message>
 * Before a case starts it prints "# case <name>", so that when a case crashes or hangs the runner
 * (tests/run.sh) can name it. Lines starting with "#" are comments for the log. main() returns
 * check_exit(): 0 when every case passed, 1 otherwise.
 *
 *     static void test_zero(void) { void *p = malloc(0); CHECK(p != NULL, "malloc(0) = NULL"); }
 *     int main(void) { RUN(test_zero); return check_exit(); }
 *
 * CHECK records a failure and goes on; REQUIRE records it and returns from the case function.
 * Every failure is also written to stderr with its location, the first few of each case only.
 *
 * opaque_ptr/opaque_size hide a value from the optimizer: the compiler knows the malloc family and
 * would otherwise drop a malloc/free pair, fold malloc(SIZE_MAX) to a warning, or assume results. */
#ifndef SG_TEST_CHECK_H
#define SG_TEST_CHECK_H

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* C23's sized frees, for the tests that call them: glibc declares them from 2.41; under
 * tests/sg_names.h they are macros for the sg_ names. */
#ifndef free_sized
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t alignment, size_t size);
#endif

#define CHECK_MAX_REPORTS 8 /* failures of one case echoed to stderr */

static const char *check_case_name = "(no case)";
static int check_case_failures;    /* failed checks in the running case */
static int check_cases_failed;     /* cases that failed so far */
static int check_cases_run;
static char check_first_reason[512];

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5), unused))
#endif
static void check_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (check_case_failures == 0)
        snprintf(check_first_reason, sizeof check_first_reason, "%s:%d: (%s) %s", file, line, cond,
                 msg);
    if (check_case_failures < CHECK_MAX_REPORTS)
        fprintf(stderr, "%s:%d: %s: check failed: (%s) %s\n", file, line, check_case_name, cond, msg);
    else if (check_case_failures == CHECK_MAX_REPORTS)
        fprintf(stderr, "%s: further failures not shown\n", check_case_name);
    check_case_failures++;
}

/* CHECK(cond, fmt, ...): the format string is required and says what was seen. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            check_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                    \
    } while (0)

#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            check_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* True when the running case has failed: lets a long loop stop early. */
#define CHECK_FAILED() (check_case_failures != 0)

#if defined(__GNUC__)
__attribute__((unused))
#endif
static void check_run(const char *name, void (*fn)(void))
{
    check_case_name = name;
    check_case_failures = 0;
    check_first_reason[0] = '\0';
    printf("# case %s\n", name);
    fflush(stdout);
    fn();
    check_cases_run++;
    if (check_case_failures == 0) {
        printf("ok %s\n", name);
    } else {
        check_cases_failed++;
        printf("not ok %s: %s", name, check_first_reason);
        if (check_case_failures > 1)
            printf(" (+%d more)", check_case_failures - 1);
        printf("\n");
    }
    fflush(stdout);
    check_case_name = "(no case)";
}

/* RUN(fn): a case named after its function, without a "test_" prefix. */
#define RUN(fn) check_run(strncmp(#fn, "test_", 5) == 0 ? &(#fn)[5] : #fn, fn)

#if defined(__GNUC__)
__attribute__((unused))
#endif
static int check_exit(void)
{
    if (check_cases_run == 0) {
        printf("not ok (program): no case ran\n");
        return 1;
    }
    return check_cases_failed ? 1 : 0;
}

/* ---- keeping the optimizer honest ------------------------------------------------------------ */
#if defined(__GNUC__)
static inline void *opaque_ptr(void *p)
{
    __asm__ volatile("" : "+r"(p) : : "memory");
    return p;
}
static inline size_t opaque_size(size_t n)
{
    __asm__ volatile("" : "+r"(n));
    return n;
}
#else
static inline void *opaque_ptr(void *p) { void *volatile v = p; return v; }
static inline size_t opaque_size(size_t n) { volatile size_t v = n; return v; }
#endif

/* ---- what the kernel can do ------------------------------------------------------------------ */
/* Can it move a mapping's pages and leave the range mapped (mremap MREMAP_DONTUNMAP, Linux 5.7)?
 * Secure builds recycle freed large blocks' pages, and move a growing block's, only then; on an
 * older kernel (or under valgrind) they copy and fault fresh pages in. */
#include <sys/mman.h>
static inline int kernel_moves_pages(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    void *q = mremap(p, 4096, 4096, MREMAP_MAYMOVE | 4 /* MREMAP_DONTUNMAP */, (void *)0);
    munmap(p, 4096);
    if (q == MAP_FAILED)
        return 0;
    munmap(q, 4096);
    return 1;
}

/* Has it guard markers (madvise MADV_GUARD_INSTALL, Linux 6.13)? Secure builds then lay large
 * blocks out on whole huge pages (src/recycle.c). */
static inline int kernel_has_guard_markers(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    int ok = madvise(p, 4096, 102 /* MADV_GUARD_INSTALL */) == 0;
    munmap(p, 4096);
    return ok;
}

/* ---- byte patterns that name their owner ----------------------------------------------------- */
/* Byte i of a block whose identity is `seed`: any two blocks with different seeds differ at
 * almost every offset, so a block overwritten by another, or shifted, is caught. */
static inline unsigned char pattern_byte(uint64_t seed, size_t i)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15u + (uint64_t)i * 0x2545f4914f6cdd1du;
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 8));
}

#if defined(__GNUC__)
__attribute__((unused))
#endif
static void pattern_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = pattern_byte(seed, i);
}

/* Returns the offset of the first wrong byte, or SIZE_MAX when all n bytes are right. */
#if defined(__GNUC__)
__attribute__((unused))
#endif
static size_t pattern_check(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != pattern_byte(seed, i))
            return i;
    return SIZE_MAX;
}

/* ---- resident memory ------------------------------------------------------------------------- */
/* Resident set size in bytes, from /proc/self/statm (read with a stack buffer, no stdio). */
#if defined(__GNUC__)
__attribute__((unused))
#endif
static size_t resident_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    unsigned long size = 0, resident = 0;
    if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
        return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- a child process ---------------------------------------------------------------------- */
/* Run fn in a child process (its return value is the exit status) with its stderr captured into
 * err (cap bytes, always NUL-terminated). Returns the child's wait status, -1 if it could not
 * run. For bugs committed for real: the child dies, the caller checks how and what it said. */
#if defined(__GNUC__)
__attribute__((unused))
#endif
static int check_in_child(int (*fn)(void), char *err, size_t cap)
{
    int out[2];
    if (pipe(out) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(out[1], 2);
        close(out[0]);
        close(out[1]);
        _exit(fn());
    }
    close(out[1]);
    size_t len = 0;
    for (ssize_t n; len + 1 < cap && (n = read(out[0], err + len, cap - 1 - len)) > 0;)
        len += (size_t)n;
    if (cap)
        err[len] = '\0';
    close(out[0]);
    int status = 0;
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

/* Misuse programs: the report must name exactly this pointer ("of 0x<hex> "); tests/run.sh
 * reads the line from stdout, so it is flushed before the misuse. */
static inline void report_names(const void *p)
{
    printf("# report names %p\n", p);
    fflush(stdout);
}

/* A small xorshift generator, one state per caller, for reproducible random choices. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

#endif /* SG_TEST_CHECK_H */
