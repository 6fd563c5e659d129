/* tests/stress/move_failures.c: the kernel refusing the moves that recycle a large block's pages
 * (mremap onto a fixed address: ENOMEM near vm.max_map_count), injected by this program's own
 * mremap and ioctl, which the library's calls reach instead of the C library's. Secure builds
 * only (fast builds move no pages of their own to fixed addresses).
 *   - a realloc whose page moves are refused both ways keeps the guards around the block's
 *     huge pages (the markers leave with the page tables, the bytes are copied back);
 *   - a move back that may have let another mapping into the block's old range never writes
 *     there: reported as a failure of mremap;
 *   - a large malloc whose filling move fails "unsure" (a kernel without PROCMAP_QUERY cannot
 *     tell) gives back what it reserved and filled, but the one range in doubt. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../check.h"
#include "slabguard.h"

/* ---- injection ---------------------------------------------------------------------------- */
/* One letter per coming mremap with MREMAP_FIXED: '.' the real call, 'E' ENOMEM before anything
 * is done (Linux at the map count), 'U' the destination unmapped, another mapping made there
 * (shared, read-write, filled with 0x5a: another thread's) and ENOMEM: the move failed after
 * the kernel unmapped its destination. */
static const char *volatile plan;
static void *volatile foreign;
static volatile bool no_procmap_query;   /* PROCMAP_QUERY refused, as before Linux 6.11 */

void *mremap(void *old, size_t old_size, size_t new_size, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    void *to = (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) ? va_arg(ap, void *) : NULL;
    va_end(ap);
    char step = (flags & MREMAP_FIXED) && plan && *plan ? *plan++ : '.';
    if (step == 'E') {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    if (step == 'U') {
        syscall(SYS_munmap, to, new_size);
        syscall(SYS_mmap, to, new_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        memset(to, 0x5a, new_size);
        foreign = to;
        errno = ENOMEM;
        return MAP_FAILED;
    }
    long r = syscall(SYS_mremap, old, old_size, new_size, flags, to);
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return MAP_FAILED;
    }
    return (void *)r;
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (no_procmap_query && request == 0xc0686611ul) {   // PROCMAP_QUERY
        errno = ENOTTY;
        return -1;
    }
    return (int)syscall(SYS_ioctl, fd, request, arg);
}

/* ---- helpers ------------------------------------------------------------------------------ */
static sigjmp_buf probe_jump;
static void probe_fault(int sig)
{
    (void)sig;
    siglongjmp(probe_jump, 1);
}

/* Does a write at p fault? */
static bool write_faults(volatile char *p)
{
    struct sigaction sa = { .sa_handler = probe_fault }, old;
    sigaction(SIGSEGV, &sa, &old);
    bool faulted = false;
    if (sigsetjmp(probe_jump, 1))
        faulted = true;
    else
        *p = 0x41;
    sigaction(SIGSEGV, &old, NULL);
    return faulted;
}

enum { MIB = 1 << 20 };

/* ---- cases -------------------------------------------------------------------------------- */
/* A 3 MiB block on huge pages grows to 6 MiB while both moves of its first huge page are refused
 * (onto the new range, and back): it is copied instead, and the next 3 MiB block, which takes
 * that huge page from the pool, still has its leading guard. */
static void test_refused_moves_keep_the_guards(void)
{
    char *p = malloc(opaque_size(3 * MIB));
    REQUIRE(p, "malloc(3 MiB)");
    memset(p, 1, 3 * MIB);
    if (!SG_CONFIG_SECURE || !write_faults(p - 65536)) {
        printf("# no guard before a large block here (fast build, or no guard markers): nothing to check\n");
        free(p);
        return;
    }
    plan = "EE";
    char *q = realloc(p, opaque_size(6 * MIB));
    plan = NULL;
    REQUIRE(q, "realloc(6 MiB) with the moves refused: errno %d", errno);
    CHECK(q[0] == 1 && q[3 * MIB - 1] == 1, "contents lost");
    char *r = malloc(opaque_size(3 * MIB));
    REQUIRE(r, "malloc(3 MiB)");
    CHECK(write_faults(r - 65536), "no guard before the block that reused the huge page (%p)", (void *)r);
    CHECK(write_faults(q - 65536), "no guard before the grown block (%p)", (void *)q);
    free(q);
    free(r);
}

/* The grown block's first huge page moves, the second is refused, so the first moves back; that
 * move fails after the kernel unmapped the block's old range, where another mapping now is. */
static int unsure_rollback(void)
{
    sg_malloc_trim(0);   // no recycled pages: the block and its growth are on fresh huge pages
    char *p = malloc(opaque_size(3 * MIB));
    if (!p)
        return 2;
    memset(p, 1, 3 * MIB);
    if (!write_faults(p - 65536))
        return 77;   // no guard markers: another layout, without these moves
    plan = ".E.U";
    char *q = realloc(p, opaque_size(6 * MIB));
    plan = NULL;
    size_t changed = 0;
    for (size_t i = 0; foreign && i < 2 * MIB; i += 4096)
        changed += ((volatile unsigned char *)foreign)[i] != 0x5a;
    fprintf(stderr, "test: realloc returned %p, %zu pages of the other mapping changed\n", (void *)q, changed);
    return 1;
}

static void test_move_back_into_another_mapping(void)
{
    if (!SG_CONFIG_SECURE)
        return;
    char report[1024];
    int status = check_in_child(unsure_rollback, report, sizeof report);
    REQUIRE(status != -1, "fork");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        printf("# no guard markers here: nothing to check\n");
        return;
    }
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(report, "slabguard: mremap failure of 0x"),
          "child status %#x, said: %s", (unsigned)status, report);
}

/* Two 768 KiB blocks (aligned above a page: the layout of plain extents) freed into the pool,
 * then a 1.5 MiB one filled from both, the second move refused on a kernel that cannot tell
 * whether the destination is still ours: the malloc fails, and gives back the first piece and
 * its reservation. Forty times, then a trim: RSS grew by 30 MB when they were kept. */
static void test_unsure_fill_gives_back(void)
{
    if (!SG_CONFIG_SECURE)
        return;
    long before = (long)(resident_bytes() >> 10);
    int refused = 0;
    for (int i = 0; i < 40; i++) {
        void *a, *b, *c;
        REQUIRE(posix_memalign(&a, 8192, opaque_size(768 << 10)) == 0 &&
                    posix_memalign(&b, 8192, opaque_size(768 << 10)) == 0,
                "posix_memalign(768 KiB)");
        memset(a, 1, 768 << 10);
        memset(b, 1, 768 << 10);
        free(opaque_ptr(a));
        free(opaque_ptr(b));
        plan = ".E";
        no_procmap_query = true;
        int r = posix_memalign(&c, 8192, opaque_size(1536 << 10));
        plan = NULL;
        no_procmap_query = false;
        if (r) {
            refused++;
            continue;
        }
        memset(c, 2, 1536 << 10);
        free(opaque_ptr(c));
    }
    sg_malloc_trim(0);
    long after = (long)(resident_bytes() >> 10);
    printf("# %d of 40 refused; RSS %ld -> %ld KiB\n", refused, before, after);
    CHECK(after - before < 8 * 1024, "RSS grew by %ld KiB over 40 failed mallocs", after - before);
}

int main(void)
{
    RUN(test_refused_moves_keep_the_guards);
    RUN(test_move_back_into_another_mapping);
    RUN(test_unsure_fill_gives_back);
    return check_exit();
}
