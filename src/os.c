/* os.c: the only caller of mmap, mprotect, madvise and mremap. */
#include "os.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102    /* Linux 6.13; older kernels refuse it (EINVAL), older headers lack it */
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23    /* Linux 5.14; older headers lack it */
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24   /* Linux 5.18; older headers lack it */
#endif

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

/* PROCMAP_QUERY (Linux 6.11): the mapping that holds an address, without reading all of
 * /proc/self/maps. The layout is the kernel's (uapi linux/fs.h); older headers lack it. */
struct sg_procmap_query {
    uint64_t size, query_flags, query_addr;
    uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define SG_PROCMAP_QUERY 0xc0686611u   /* _IOWR('f', 17, struct procmap_query) */
#define SG_PROCMAP_READ 0x1u
#define SG_PROCMAP_WRITE 0x2u
#define SG_PROCMAP_ACCESS 0xfu         /* readable, writable, executable, shared */

static _Noreturn void os_fail(const char *what, void *p, size_t size) {
    sg_report_fatal(what, p, size);
}

/* size bytes at an address a with a + lead aligned to align (a power of two, >= the page):
 * mapped with some slack, which is cut off again. */
static void *reserve(size_t size, size_t align, size_t lead, int prot, int flags) {
    size_t span = align > SG_OS_PAGE ? size + align : size;
    char *p = mmap(NULL, span, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (p == MAP_FAILED) return NULL;
    uintptr_t a = (((uintptr_t)p + lead + align - 1) & ~(uintptr_t)(align - 1)) - lead;
    size_t head = a - (uintptr_t)p, tail = span - head - size;
    if (head) munmap(p, head);
    if (tail) munmap((char *)a + size, tail);
    return (void *)a;
}

/* Address space only: what is committed in it later is not counted against the kernel's
 * overcommit limit (the arena: its pages come and go one by one). */
void *sg_os_reserve(size_t size, size_t align) { return reserve(size, align, 0, PROT_NONE, MAP_NORESERVE); }

/* The same, but the kernel counts what sg_os_commit makes writable in it, and refuses it
 * (ENOMEM) as it refuses a read-write mmap of that size: malloc(1 TiB) fails, as under glibc,
 * instead of succeeding and leaving the program to die at the first touch. A PROT_NONE range
 * costs nothing until then. (A freed block's range, emptied and made inaccessible again, shows
 * no longer counted in /proc/self/smaps on Linux 6.18; at worst the large quarantine holds 64.) */
void *sg_os_reserve_accounted(size_t size, size_t align, size_t lead) {
    return reserve(size, align, lead, PROT_NONE, 0);
}

void *sg_os_map_aligned(size_t size, size_t align) {
    return reserve(size, align, 0, PROT_READ | PROT_WRITE, 0);
}

/* With SLABGUARD_THP=1, ask for transparent huge pages on [p, p+size) (best effort: a kernel
 * built without them, or with them off, refuses; nothing changes then). Off by default, as in
 * glibc (its hugetlb tunable), jemalloc and mimalloc: a block touched sparsely would hold up to
 * 2 MiB per touch (64 MiB touched every 1 MiB: 67 MiB resident instead of 2 MiB). The system's
 * own policy (THP "always") still applies, and the huge-page alignment of large blocks helps it. */
void sg_os_huge(void *p, size_t size) {
#ifdef MADV_HUGEPAGE
    if (size < SG_OS_HUGE || !sg_ro.thp) return;
    int saved = errno;
    (void)madvise(p, size, MADV_HUGEPAGE);
    errno = saved;
#else
    (void)p, (void)size;
#endif
}

void *sg_os_map(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        /* EAGAIN: under mlockall(MCL_FUTURE), more than RLIMIT_MEMLOCK would be locked */
        if (errno == ENOMEM || errno == EAGAIN) return NULL;
        os_fail("mmap failure", NULL, size);
    }
    return p;
}

/* Unmapping the middle of a mapping splits it: at vm.max_map_count the kernel refuses
 * (ENOMEM). Then the range stays mapped, emptied (purged), and one warning says so. */
void sg_os_unmap(void *p, size_t size) {
    if (munmap(p, size) == 0) return;
    if (errno != ENOMEM) os_fail("munmap failure", p, size);
    static _Atomic(int) warned;
    if (!atomic_exchange_explicit(&warned, 1, memory_order_relaxed))
        sg_report_warning("vm.max_map_count reached: freed memory stays mapped, emptied");
    sg_os_purge(p, size);
}

static bool protect(void *p, size_t size, int prot) {
    if (mprotect(p, size, prot) == 0) return true;
    /* out of memory, or vm.max_map_count reached; EAGAIN: pages to lock (mlockall) past the limit */
    if (errno == ENOMEM || errno == EAGAIN) return false;
    os_fail("mprotect failure", p, size);
}

bool sg_os_commit(void *p, size_t size) { return protect(p, size, PROT_READ | PROT_WRITE); }
bool sg_os_protect_none(void *p, size_t size) { return protect(p, size, PROT_NONE); }
bool sg_os_protect_ro(void *p, size_t size) { return protect(p, size, PROT_READ); }

void sg_os_purge(void *p, size_t size) {
    /* MADV_DONTNEED, not MADV_FREE: the memory must read zero afterwards (calloc relies on it)
     * and RSS must drop at once so that users see memory given back. */
    int saved = errno;   /* malloc, free and realloc that succeed leave errno alone */
    if (madvise(p, size, MADV_DONTNEED) == 0 || errno == ENOMEM) goto done;
    /* EINVAL: the program mlock()ed some of these pages (nothing forbids freeing such a block,
     * glibc just unmaps or reuses it). Linux 5.18 discards locked pages and keeps them locked
     * (mlockall(MCL_FUTURE) programs want the memory they get next locked too); older kernels
     * need them unlocked first. */
    if (errno == EINVAL && madvise(p, size, MADV_DONTNEED_LOCKED) == 0) goto done;
    if (errno == EINVAL && munlock(p, size) == 0 && madvise(p, size, MADV_DONTNEED) == 0) goto done;
    os_fail("madvise failure", p, size);
done:
    errno = saved;
}

void *sg_os_remap(void *p, size_t old_size, size_t new_size) {
    void *q = mremap(p, old_size, new_size, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
}

/* A free address for size bytes at the same offset as p within a huge page (2 MiB), for the
 * kernel to take as a hint: a move between such addresses hands over whole page tables (one
 * entry per 2 MiB) instead of copying an entry per 4 KiB page, and the pages moved that way
 * cost no more to touch afterwards. Under a hypervisor that shadows the guest's page tables,
 * a page moved entry by entry traps on its first touch at the new address: about 2 us a page
 * on the bench's VM, against 60 ns. NULL (no hint) when the range holds no whole huge page;
 * the address may be taken by another thread before the move, which then goes elsewhere. */
void *sg_os_congruent_hint(const void *p, size_t size) {
    uintptr_t at = (uintptr_t)p, skew = at & (SG_OS_HUGE - 1);
    if (size < SG_OS_HUGE + (skew ? SG_OS_HUGE - skew : 0)) return NULL;
    int saved = errno;
    char *r = mmap(NULL, size + SG_OS_HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    errno = saved;
    if (r == MAP_FAILED) return NULL;
    munmap(r, size + SG_OS_HUGE);
    return (void *)((((uintptr_t)r + SG_OS_HUGE - 1) & ~(uintptr_t)(SG_OS_HUGE - 1)) + skew);
}

/* Move the pages of [p, p+size) to a new address the kernel picks; the old range stays mapped
 * and reads zero. NULL on failure (*unsupported: the kernel has no MREMAP_DONTUNMAP). Never with
 * MREMAP_FIXED: with it, Linux 6.18 moves a range made of several mappings, and can stop
 * midway; without it, such a range is refused whole (EFAULT), which recycle.c relies on. */
void *sg_os_move_out(void *p, size_t size, bool *unsupported) {
    /* the fifth argument is read with MREMAP_DONTUNMAP (a hint that must be page-aligned):
     * pass it, or the kernel sees whatever the register held */
    void *q = mremap(p, size, size, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, sg_os_congruent_hint(p, size));
    if (q != MAP_FAILED) return q;
    *unsupported = errno == EINVAL;
    return NULL;
}

/* Is [p, p+size) still inside one private anonymous mapping, inaccessible (a reservation) or
 * read-write (a block's range, or one emptied by a move out), as the destinations of moves are?
 * false when unknown (a kernel before 6.11 has no PROCMAP_QUERY). */
static bool still_reserved(void *p, size_t size) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct sg_procmap_query q = { .size = sizeof q, .query_addr = (uintptr_t)p };
    bool ok = ioctl(fd, SG_PROCMAP_QUERY, &q) == 0 && q.vma_start <= (uintptr_t)p &&
              q.vma_end >= (uintptr_t)p + size && q.inode == 0 && q.dev_major == 0 && q.dev_minor == 0;
    unsigned access = (unsigned)q.vma_flags & SG_PROCMAP_ACCESS;
    close(fd);
    return ok && (access == 0 || access == (SG_PROCMAP_READ | SG_PROCMAP_WRITE));
}

/* Move the pages of [from, from+size) onto [to, to+size), replacing what was mapped there.
 * The kernel may unmap the destination before the move fails: then the hole is reserved again
 * (PROT_NONE). *unsure: the range may now hold somebody else's mapping (the caller must not
 * unmap it). */
bool sg_os_move_to(void *from, size_t size, void *to, bool *unsure) {
    *unsure = false;
    if (mremap(from, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, to) != MAP_FAILED) return true;
    int why = errno;
    void *r = mmap(to, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (r == to) return false;
    if (r != MAP_FAILED) munmap(r, size);   /* a kernel before 4.17 took the address as a hint */
    /* Short of mappings (ENOMEM), the kernel refuses before it unmaps the destination (Linux
     * 5.10 on): if that is still one anonymous mapping as the caller left it (still_reserved),
     * it is the caller's. At vm.max_map_count this is the usual failure, and treating it as unsure
     * left the caller's whole range mapped at every failed malloc or realloc. */
    if (r == MAP_FAILED && errno == EEXIST && why == ENOMEM && still_reserved(to, size)) return false;
    *unsure = true;   /* still ours (the move failed early), or taken by another mapping */
    return false;
}

/* Read-write with no protection key, whatever the program set with mprotect or pkey_mprotect.
 * Without protection keys (most machines) pkey_mprotect fails with EINVAL or ENOSYS, and then
 * no page of the process can carry a key: after the first such failure, mprotect alone (one
 * system call instead of two, twice per recycled piece). */
static _Atomic(int) no_pkeys;

bool sg_os_reset_protection(void *p, size_t size) {
    if (!atomic_load_explicit(&no_pkeys, memory_order_relaxed)) {
        int saved = errno;   /* a successful malloc or realloc leaves errno alone */
        if (pkey_mprotect(p, size, PROT_READ | PROT_WRITE, 0) == 0) return true;
        if (errno == EINVAL || errno == ENOSYS) atomic_store_explicit(&no_pkeys, 1, memory_order_relaxed);
        errno = saved;
    }
    return protect(p, size, PROT_READ | PROT_WRITE);
}

/* A range whose mapping came from elsewhere (recycled pages) gets the state of a fresh one:
 * read-write, no protection key, inherited by fork, dumped, not locked, no guard markers. What
 * a program set with madvise, mlock or pkey_mprotect on a block it freed must not follow the
 * pages into another block. Failures are ignored: each call only undoes a rare setting. */
bool sg_os_reset(void *p, size_t size) {
    if (!sg_os_reset_protection(p, size)) return false;
    int saved = errno;   /* a kernel before 6.13 refuses MADV_GUARD_REMOVE (EINVAL) */
    (void)madvise(p, size, MADV_DOFORK);
    (void)madvise(p, size, MADV_KEEPONFORK);
    (void)madvise(p, size, MADV_DODUMP);
    (void)madvise(p, size, MADV_GUARD_REMOVE);
    (void)munlock(p, size);
    errno = saved;
    return true;
}

/* Guard markers (Linux 6.13): pages of a read-write mapping that fault on any access, set in
 * its page table instead of splitting it into mappings of their own; they move with the
 * page table when mremap moves it. Installing them frees the pages they replace; removing them
 * leaves empty pages (reading zero). Supported when a probe on a scratch page succeeds. */
static _Atomic(int) markers_known;   /* 0 unknown, 1 yes, 2 no */
bool sg_os_markers(void) {
    int k = atomic_load_explicit(&markers_known, memory_order_relaxed);
    if (k) return k == 1;
    int saved = errno;
    void *p = mmap(NULL, SG_OS_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    k = p != MAP_FAILED && madvise(p, SG_OS_PAGE, MADV_GUARD_INSTALL) == 0 ? 1 : 2;
    if (p != MAP_FAILED) munmap(p, SG_OS_PAGE);
    errno = saved;
    atomic_store_explicit(&markers_known, k, memory_order_relaxed);
    return k == 1;
}

/* EINVAL: the kernel puts no markers on locked memory, and once a program has called
 * mlockall(MCL_FUTURE) all its new mappings are locked: from then on markers count as not
 * supported, and large blocks take the layout without them (mprotect guards). */
static bool markers(void *p, size_t size, int advice) {
    if (!size || madvise(p, size, advice) == 0) return true;
    if (errno == EINVAL) atomic_store_explicit(&markers_known, 2, memory_order_relaxed);
    if (errno == ENOMEM || errno == EAGAIN || errno == EINTR || errno == EINVAL) return false;
    os_fail("madvise failure", p, size);
}
bool sg_os_guard(void *p, size_t size) { return markers(p, size, MADV_GUARD_INSTALL); }
bool sg_os_guard_here(void *p, size_t size) {
    int saved = errno;
    bool ok = !size || madvise(p, size, MADV_GUARD_INSTALL) == 0;
    errno = saved;
    return ok;
}
bool sg_os_unguard(void *p, size_t size) { return markers(p, size, MADV_GUARD_REMOVE); }

/* Fault [p, p+size) in now, read-write, in one call: a block that realloc grew is about to be
 * written, and one system call costs far less than a page fault per 4 KiB page (on the bench's
 * machine the traps, not the zeroing, were most of it). Best effort: a kernel before 5.14 has
 * no MADV_POPULATE_WRITE, and memory short now only means the pages fault later. */
void sg_os_populate(void *p, size_t size) {
    static _Atomic(int) unsupported;   /* a kernel before 5.14: not asked again */
    if (atomic_load_explicit(&unsupported, memory_order_relaxed)) return;
    int saved = errno;
    if (madvise(p, size, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
        atomic_store_explicit(&unsupported, 1, memory_order_relaxed);
    errno = saved;
}

/* Which pages of [p, p+size) are resident: vec[i] & 1 for page i. false when unknown. */
bool sg_os_resident(void *p, size_t size, unsigned char *vec) { return mincore(p, size, vec) == 0; }

/* Best effort: a kernel without CONFIG_ANON_VMA_NAME refuses (EINVAL), which a malloc that
 * made a thread's heap must not leave in errno. */
void sg_os_name(void *p, size_t size, const char *name) {
    int saved = errno;
    (void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, size, (unsigned long)name);
    errno = saved;
}

uint64_t sg_os_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The process's mappings now: lines of /proc/self/maps, read in pieces (no allocation); 0 when
 * unknown. Slow (tens of microseconds, milliseconds near the limit): for failure paths. */
size_t sg_os_mapping_count(void) {
    int saved = errno;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    size_t lines = 0;
    if (fd >= 0) {
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            for (ssize_t i = 0; i < n; i++) lines += buf[i] == '\n';
        close(fd);
    }
    errno = saved;
    return lines;
}

size_t sg_os_max_map_count(void) {
    static size_t cached;
    if (cached) return cached;
    size_t v = 0;
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[32];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) v = v * 10 + (size_t)(buf[i] - '0');
    }
    cached = v ? v : 65530;
    return cached;
}

/* The process's address space now (VmSize, from /proc/self/statm), 0 when unknown. */
size_t sg_os_address_space_used(void) {
    int saved = errno;
    size_t pages = 0;
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    ssize_t n = -1;
    char buf[128];
    if (fd >= 0) {
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
    }
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) pages = pages * 10 + (size_t)(buf[i] - '0');
    errno = saved;
    return n > 0 ? pages * SG_OS_PAGE : 0;
}

/* Whether a limit on address space (RLIMIT_AS) is set: read once, then told by slabguard's
 * setrlimit (override.c) when the process changes it. Large blocks on whole huge pages (recycle.c)
 * hold 2 MiB of address space each, however small: under a limit they take the plain layout
 * (1000 blocks of 256 KiB under ulimit -v 1048576: 236 fitted, glibc's 1000). */
static _Atomic(int) limit_known;   /* 0 unknown, 1 limited, 2 not */
bool sg_os_address_limited(void) {
    int k = atomic_load_explicit(&limit_known, memory_order_relaxed);
    if (k) return k == 1;
    struct rlimit rl;
    k = getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? 1 : 2;
    atomic_store_explicit(&limit_known, k, memory_order_relaxed);
    return k == 1;
}
void sg_os_address_limit_set(bool limited) { atomic_store_explicit(&limit_known, limited ? 1 : 2, memory_order_relaxed); }

size_t sg_os_address_space_left(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
    size_t used = sg_os_address_space_used();
    if (!used) return SIZE_MAX;
    return (size_t)rl.rlim_cur > used ? (size_t)rl.rlim_cur - used : 0;
}
