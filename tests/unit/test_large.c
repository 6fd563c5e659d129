/* Unit tests of src/large.c: directly mapped blocks and their registry. */
#include "../check.h"
#include "internal.h"
#include "os.h"
#include "../stress/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void test_registry_grows_and_finds_everything(void) {
    enum { N = 3000 };
    static void *p[N];
    static size_t sz[N];
    for (int i = 0; i < N; i++) {
        sz[i] = SG_MAX_CLASS + 1 + (size_t)i * 97;
        p[i] = malloc(sz[i]);
        REQUIRE(p[i] != NULL, "large malloc %d failed", i);
        ((char *)p[i])[0] = (char)i;
        ((char *)p[i])[sz[i] - 1] = (char)i;
        REQUIRE(!sg_in_arena((uintptr_t)p[i]), "large block inside the arena");
    }
    sg_stats_t s;
    sg_stats_get(&s);
    CHECK(s.large_count >= N, "registry counts %zu large blocks", s.large_count);
    /* free in a scrambled order: exercises backward-shift deletion */
    for (int k = 0; k < N; k++) {
        int i = (int)(((unsigned)k * 2654435761u) % N);
        if (!p[i]) continue;
        REQUIRE(malloc_usable_size(p[i]) >= sz[i], "usable size of %d", i);
        REQUIRE(((char *)p[i])[0] == (char)i && ((char *)p[i])[sz[i] - 1] == (char)i, "block %d changed", i);
        free(p[i]);
        p[i] = NULL;
    }
    for (int i = 0; i < N; i++) {
        if (p[i]) free(p[i]);
    }
    sg_stats_get(&s);
    CHECK(s.large_count == 0, "%zu large blocks left registered", s.large_count);
}

static void test_large_alignment(void) {
    for (size_t a = 4096; a <= ((size_t)1 << 22); a *= 2) {
        void *p = aligned_alloc(a, SG_MAX_CLASS * 2);
        REQUIRE(p && ((uintptr_t)p & (a - 1)) == 0, "aligned_alloc(%zu) = %p", a, p);
        memset(p, 1, SG_MAX_CLASS * 2);
        free(p);
    }
}

/* A block aligned far above its size maps (and counts) its size and guards, not the slack that
 * found the aligned address: aligned_alloc(1 GiB, 10) counted 1 GiB more, and 32 TiB stayed
 * reserved for an alignment of 2^45. */
static void test_large_alignment_maps_no_slack(void) {
    sg_stats_t before, after;
    sg_stats_get(&before);
    void *p = aligned_alloc((size_t)1 << 30, opaque_size(10));
    REQUIRE(p != NULL && ((uintptr_t)p & (((size_t)1 << 30) - 1)) == 0, "aligned_alloc(1 GiB, 10) = %p", p);
    memset(p, 1, 10);
    sg_stats_get(&after);
    CHECK(after.large_bytes - before.large_bytes <= (size_t)64 << 10, "%zu bytes counted for a 10-byte block",
          after.large_bytes - before.large_bytes);
    size_t usable = malloc_usable_size(p);
    CHECK(usable >= 10, "usable size %zu", usable);
    free(p);
}

/* A large malloc the kernel refuses for its size (a length a program passed on from its input)
 * must not end the quarantine of freed large blocks: the freed block's range stays mapped,
 * inaccessible, its address out of use. (A refusal emptied the ring: the range was unmapped,
 * and the next block of that size could take it.) */
static void test_refused_malloc_keeps_the_quarantine(void) {
    if (!SG_LARGE_QUARANTINE) return;
    size_t n = (size_t)1 << 20;
    char *a = malloc(opaque_size(n));
    REQUIRE(a != NULL, "malloc(1 MiB)");
    memset(a, 'A', n);
    uintptr_t page = (uintptr_t)a & ~(uintptr_t)4095;
    free(a);
    unsigned char vec[1];
    CHECK(mincore((void *)page, 4096, vec) == 0, "the freed block's range is not mapped (errno %d)", errno);
    errno = 0;
    void *huge = malloc(opaque_size((size_t)1 << 44));
    CHECK(huge == NULL && errno == ENOMEM, "malloc(16 TiB) = %p, errno %d", huge, errno);
    free(huge);
    CHECK(mincore((void *)page, 4096, vec) == 0, "a refused malloc unmapped the freed block's range (errno %d)",
          errno);
}

static void test_large_realloc_keeps_contents(void) {
    size_t n = SG_MAX_CLASS + 100;
    unsigned char *p = malloc(n);
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 7);
    for (int step = 0; step < 6; step++) {
        size_t m = n * 2;
        p = realloc(p, m);
        REQUIRE(p, "realloc to %zu", m);
        for (size_t i = 0; i < n; i++) REQUIRE(p[i] == (unsigned char)(i * 7), "byte %zu lost at step %d", i, step);
        for (size_t i = n; i < m; i++) p[i] = (unsigned char)(i * 7);
        n = m;
    }
    p = realloc(p, 1000); /* back to a small block */
    REQUIRE(p && sg_in_arena((uintptr_t)p), "realloc to a small size");
    for (size_t i = 0; i < 1000; i++) REQUIRE(p[i] == (unsigned char)(i * 7), "byte %zu lost shrinking", i);
    free(p);
}

/* memset that the compiler cannot drop before a free */
static void fill(void *p, int v, size_t n) {
    memset(p, v, n);
    __asm__ volatile("" : : "r"(p) : "memory");
}

static long minor_faults(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

/* Secure builds lay large blocks out on whole huge pages where the kernel moves pages
 * (MREMAP_DONTUNMAP) and, with guard pages, has guard markers (src/recycle.c). */
static int huge_page_layout(void) {
    return (SG_GUARD_PAGES || SG_LARGE_QUARANTINE) && kernel_moves_pages() && (!SG_GUARD_PAGES || kernel_has_guard_markers());
}

/* Growing a large block moves its pages (mremap in both builds; secure builds leave the old
 * range behind, empty, and retire it like a freed block): no byte is copied into fresh pages,
 * so filling the old part again costs no page faults. Blocks made of several recycled pieces
 * (secure) move piece by piece; the contents survive every step, the slack canaries move with
 * the block, and the pieces stay bounded. */
static void test_large_realloc_moves_pages(void) {
    malloc_trim(0);
    size_t n = ((size_t)4 << 20) - 1000, pages = n / 4096;
    unsigned char *p = opaque_ptr(malloc(n));
    REQUIRE(p, "malloc(%zu)", n);
    fill(p, 0x3c, n);
    long before = minor_faults();
    unsigned char *q = opaque_ptr(realloc(p, 2 * n));
    REQUIRE(q, "realloc to %zu", 2 * n);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) wrong += q[i] != 0x3c;
    fill(q, 0x3d, n);
    /* realloc may fault the new part in itself (it is about to be written): at most `pages`
     * faults; a copy into fresh pages would fault twice that */
    long faults = minor_faults() - before;
    for (size_t i = n; i < 2 * n; i += 512) wrong += q[i] != 0;
    CHECK(wrong == 0, "%zu bytes wrong after growing %zu -> %zu", wrong, n, 2 * n);
    if (kernel_moves_pages() || !SG_LARGE_QUARANTINE)   /* fast builds: plain mremap */
        CHECK(faults < (long)pages + (long)pages / 8, "%ld page faults growing %zu pages to twice that, then reading and writing the moved ones",
              faults, pages);
    free(q);

    /* pieces: free blocks of several sizes (recycled extents), then grow a block built from them */
    enum { K = 6 };
    unsigned char *f[K];
    for (int i = 0; i < K; i++) {
        f[i] = opaque_ptr(malloc((size_t)(i + 1) * 300000));
        REQUIRE(f[i], "malloc #%d", i);
        fill(f[i], i, (size_t)(i + 1) * 300000);
    }
    for (int i = 0; i < K; i++) free(f[i]);
    size_t m = 700001;
    p = opaque_ptr(malloc(m));
    REQUIRE(p, "malloc(%zu)", m);
    for (size_t i = 0; i < m; i++) p[i] = (unsigned char)(i * 13);
    for (int step = 0; step < 12; step++) {
        size_t grown = m + m / 3 + (size_t)step * 4099;
        p = opaque_ptr(realloc(p, grown));
        REQUIRE(p, "realloc step %d to %zu", step, grown);
        size_t bad = 0;
        for (size_t i = 0; i < m; i++) bad += p[i] != (unsigned char)(i * 13);
        REQUIRE(bad == 0, "step %d: %zu bytes lost growing %zu -> %zu", step, bad, m, grown);
        for (size_t i = m; i < grown; i++) p[i] = (unsigned char)(i * 13);
        m = grown;
        CHECK(malloc_usable_size(p) == m, "usable size %zu after growing to %zu", malloc_usable_size(p), m);
    }
    /* a bounded number of pieces; a block laid out on huge pages (guard markers) moves them
     * one by one, each becoming a mapping: at most one per huge page, 2 MiB */
    long maps = count_mappings_in((uintptr_t)p - 4096, (uintptr_t)p + m + 4096);
    long most = SG_RECYCLE_PIECES + 3, huge = (long)((m + 2 * 4096) >> 21) + 2;
    if (huge_page_layout() && huge + 3 > most) most = huge + 3;
    CHECK(maps >= 1 && maps <= most, "the grown block spans %ld mappings (at most %ld)", maps, most);
    free(p);   /* the canaries at the block's new ends are checked here */
    sg_stats_t s;
    sg_stats_get(&s);
    CHECK(s.large_count == 0, "%zu large blocks left registered", s.large_count);
}

/* A block grown by realloc in small steps (a buffer appended to a page at a time) is not moved,
 * let alone copied, at every step: secure builds reserve room after a block they moved and grow
 * into it; fast builds mremap. Secure builds moved every step, and copied once the block was
 * made of too many pieces: 4 KiB steps to 64 MiB took minutes. Counted here: how many steps
 * changed the address (a doubling reservation allows about one per doubling; a kernel without
 * MREMAP_DONTUNMAP copies, and that is not checked), and the
 * contents, and the statistics, which count the block up to its guard, not its reservation. */
static void test_large_grows_in_small_steps(void) {
    size_t step = 4096, n = (size_t)1 << 20, max = (size_t)32 << 20;
    unsigned char *p = opaque_ptr(malloc(n));
    REQUIRE(p, "malloc(%zu)", n);
    for (size_t i = 0; i < n; i += 64) p[i] = (unsigned char)(i >> 12);
    unsigned moves = 0, steps = 0;
    while (n < max) {
        size_t m = n + step;
        unsigned char *q = opaque_ptr(realloc(p, m));
        REQUIRE(q, "realloc to %zu", m);
        moves += q != p;
        steps++;
        p = q;
        for (size_t i = n; i < m; i += 64) p[i] = (unsigned char)(i >> 12);
        n = m;
    }
    size_t bad = 0;
    for (size_t i = 0; i < n; i += 64) bad += p[i] != (unsigned char)(i >> 12);
    CHECK(bad == 0, "%zu sampled bytes wrong after growing to %zu", bad, n);
    if (SG_LARGE_QUARANTINE && kernel_moves_pages())
        CHECK(moves <= 12, "%u of %u steps of 4 KiB moved the block", moves, steps);
    else   /* fast builds: mremap grows in place unless another mapping is in the way */
        CHECK(moves * 64 <= steps, "%u of %u steps of 4 KiB moved the block", moves, steps);
    sg_stats_t s;
    sg_stats_get(&s);
    CHECK(s.large_bytes <= n + ((size_t)64 << 10) + 3 * 4096, "%zu large bytes counted for a block of %zu", s.large_bytes, n);
    free(p);
}

/* Secure builds shrink a large block where it is (no copy, no fresh pages): the pointer stays,
 * the contents are kept, the statistics count the new size, and the block grows again in place
 * and by moving; a last page the program made read-only is no obstacle. Fast builds: contents
 * only. Run in-process (blocks on huge pages where the kernel has guard markers) and in a child
 * under RLIMIT_AS (the plain layout). */
static unsigned char sample_byte(size_t i) { return (unsigned char)((i >> 12) * 7 + 1); }

/* realloc through sizes[0..n), every page sampled and checked; shrinks to 8 MiB or more must
 * not move the block (secure builds; smaller ones are copied). Before the shrink to sizes[ro], the page it ends in is made read-only (the
 * shrink writes the bytes after the end, zero and the canary: it makes that page writable
 * again); before the shrink to sizes[locked], the block is locked (mlock). Failures, said. */
static size_t shrink_sequence(const size_t *sizes, size_t count, size_t ro, size_t locked) {
    size_t failures = 0, n = sizes[0];
    unsigned char *p = opaque_ptr(malloc(n));
    if (!p) {
        fprintf(stderr, "# malloc(%zu) = NULL\n", n);
        return 1;
    }
    for (size_t i = 0; i < n; i += 4096) p[i] = sample_byte(i);
    p[n - 1] = 0x5a;
    for (size_t k = 1; k < count; k++) {
        size_t m = sizes[k];
        uintptr_t last = ((uintptr_t)p + m - 1) & ~(uintptr_t)4095;
        if (k == ro && mprotect((void *)last, 4096, PROT_READ) != 0) fprintf(stderr, "# mprotect: errno %d\n", errno), failures++;
        bool was_locked = k == locked && mlock(p, n) == 0;
        unsigned char *q = opaque_ptr(realloc(p, m));
        if (!q) {
            fprintf(stderr, "# realloc %zu -> %zu = NULL (errno %d)\n", n, m, errno);
            return failures + 1;
        }
        if (k == ro && q == p) mprotect((void *)last, 4096, PROT_READ | PROT_WRITE);   /* where it is not */
        if (was_locked && q == p) munlock(q, m);
        if (SG_LARGE_QUARANTINE && m < n && m >= ((size_t)8 << 20) && q != p) {
            fprintf(stderr, "# realloc %zu -> %zu moved the block\n", n, m);
            failures++;
        }
        size_t keep = m < n ? m : n, bad = 0;
        for (size_t i = 0; i + 1 < keep; i += 4096) bad += q[i] != sample_byte(i);
        if (bad) fprintf(stderr, "# realloc %zu -> %zu: %zu sampled bytes lost\n", n, m, bad), failures++;
        if (SG_LARGE_QUARANTINE && m < n) {
            sg_stats_t s;
            sg_stats_get(&s);
            if (s.large_bytes > m + 4 * 4096) fprintf(stderr, "# %zu large bytes counted for %zu\n", s.large_bytes, m), failures++;
        }
        /* every page of it writable (a marker left after a shrink faults here); the new part sampled */
        if (m > n && q[n - 1] != 0x5a) fprintf(stderr, "# realloc %zu -> %zu: the last byte lost\n", n, m), failures++;
        for (size_t i = 0; i < m; i += 4096) q[i] = sample_byte(i);
        q[m - 1] = 0x5a;
        p = q;
        n = m;
    }
    free(p);
    return failures;
}

/* Across huge pages, grown in place, by moving, shrunk (in place, the page it ends in made
 * read-only; in place while locked), then to just above the largest class (copied). */
static const size_t shrink_sizes[] = { (64 << 20) + 123, (20 << 20) + 5, (20 << 20) + (5 << 19), 64 << 20, (12 << 20) + 5,
                                       (9 << 20) + 1, 200000, 131073, 140000, (9 << 20) + 1, 4096 * 300 };
/* Shrunk twice in place, then grown back by an eighth at a time, in place: the pages the shrinks
 * gave up must not come back as markers (the fourth growth faulted). */
static const size_t regrow_sizes[] = { 28 << 20, (20 << 20) + 400000, (12 << 20) + 400000, 14605776, 16431498,
                                       18485435, 20796114, 23395628 };

static size_t shrink_all(void) {
    return shrink_sequence(shrink_sizes, sizeof shrink_sizes / sizeof shrink_sizes[0], 4, 5) +
           shrink_sequence(regrow_sizes, sizeof regrow_sizes / sizeof regrow_sizes[0], 0, 0);
}

/* Under the limit, the address space a shrink gives up comes back: a block of two thirds of
 * what the limit leaves, shrunk to 1 MiB, then another as large (the range kept whole, the
 * second failed). The limit is lowered first to 3 GiB more than the process holds, until
 * that leaves at most 4 GiB (each time the arena gives back part of its reservation). */
static int shrink_under_limit(void) {
    struct rlimit r = { (rlim_t)sg_os_address_space_used() + ((rlim_t)4 << 30), RLIM_INFINITY };
    if (setrlimit(RLIMIT_AS, &r) != 0) return 100;
    int f = (int)shrink_all();
    for (int i = 0; i < 8 && sg_os_address_space_left() > ((size_t)4 << 30); i++) {
        r.rlim_cur = (rlim_t)sg_os_address_space_used() + ((rlim_t)3 << 30);
        if (setrlimit(RLIMIT_AS, &r) != 0) return 100;
    }
    size_t big = sg_os_address_space_left() / 3 * 2 & ~(size_t)4095;
    unsigned char *p = malloc(big);
    if (!p) {
        fprintf(stderr, "# malloc(%zu MiB) = NULL with %zu MiB left\n", big >> 20, sg_os_address_space_left() >> 20);
        return f + 1;
    }
    p[0] = 1;
    unsigned char *q = realloc(p, 1 << 20);
    unsigned char *other = malloc(big);
    if (!q || !other) {
        fprintf(stderr, "# after a shrink of %zu MiB to 1 MiB: malloc(%zu MiB) = %p\n", big >> 20, big >> 20, (void *)other);
        f++;
    }
    free(other);
    free(q);
    return f;
}

/* Page faults filling a block of m bytes, made after one of n bytes (filled, then reallocated
 * to m when m differs) was freed: near none when the freed block's pages are recycled. */
static long faults_after_reuse(size_t n, size_t m) {
    unsigned char *p = opaque_ptr(malloc(n));
    if (!p) return LONG_MAX;
    fill(p, 1, n);
    if (m != n && !(p = opaque_ptr(realloc(p, m)))) return LONG_MAX;
    free(p);
    long before = minor_faults();
    p = opaque_ptr(malloc(m));
    if (!p) return LONG_MAX;
    fill(p, 2, m);
    long faults = minor_faults() - before;
    free(p);
    return faults;
}

static void test_large_shrinks_in_place(void) {
    size_t f = shrink_all();
    CHECK(f == 0, "%zu failures shrinking and growing a large block", f);
    if (SG_LARGE_QUARANTINE && kernel_moves_pages()) {
        /* the pieces (mappings) the shrinks cut off are no longer counted: pages still recycle */
        long faults = faults_after_reuse((size_t)4 << 20, (size_t)4 << 20);
        CHECK(faults < 1024 / 8, "%ld page faults filling a recycled 4 MiB block", faults);
        /* a block shrunk to 1 MiB (copied), freed: the next block of 1 MiB gets its pages (when
         * shrunk where it was, its pages sat where the pool found no block for them) */
        long most = 0;
        for (int round = 0; round < 4; round++) {
            faults = faults_after_reuse((size_t)4 << 20, (size_t)1 << 20);
            most = faults > most ? faults : most;
        }
        CHECK(most < 256 / 8, "%ld page faults filling a 1 MiB block after one shrunk to 1 MiB was freed", most);
    }
    /* a shrink of a locked block leaves guard markers on for later blocks */
    CHECK(!SG_LARGE_QUARANTINE || !kernel_has_guard_markers() || sg_recycle_marked_ok(),
          "large blocks no longer laid out with guard markers");
    char err[512];
    int st = check_in_child(shrink_under_limit, err, sizeof err);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "under RLIMIT_AS: status %#x, %s", st, err);
}

/* What the program set on parts of a large block (read-only pages, madvise, mlock) does not
 * follow its pages into the block realloc grows it into: the new block is read-write and holds
 * the old contents. (Secure builds moved the pages with their settings: writing the grown block
 * faulted.) Fast builds grow with mremap, settings and all, as glibc does: not tested there. */
static void test_large_realloc_forgets_settings(void) {
    if (!SG_LARGE_QUARANTINE) return;
    size_t n = (size_t)1 << 20;
    unsigned char *p = opaque_ptr(malloc(n));
    REQUIRE(p && ((uintptr_t)p & 4095) == 0, "malloc(1 MiB) = %p", (void *)p);
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 11);
    REQUIRE(mprotect(p + 8 * 4096, 8 * 4096, PROT_READ) == 0, "mprotect");
    REQUIRE(madvise(p + 32 * 4096, 8 * 4096, MADV_DONTDUMP) == 0, "madvise");
    bool locked = mlock(p + 64 * 4096, 4096) == 0;
    unsigned char *q = opaque_ptr(realloc(p, 2 * n));
    REQUIRE(q, "realloc to 2 MiB");
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) wrong += q[i] != (unsigned char)(i * 11);
    CHECK(wrong == 0, "%zu bytes wrong after growing a block with read-only, DONTDUMP%s pages", wrong,
          locked ? " and locked" : "");
    fill(q, 9, 2 * n);   /* faults (the test dies) if read-only pages came along */
    CHECK(q[8 * 4096] == 9, "write lost");
    free(q);
    /* the whole block read-only: one kernel mapping, which moves as it is */
    p = opaque_ptr(malloc(n));
    REQUIRE(p && ((uintptr_t)p & 4095) == 0, "malloc(1 MiB) = %p", (void *)p);
    fill(p, 5, n);
    REQUIRE(mprotect(p, n, PROT_READ) == 0, "mprotect the block");
    q = opaque_ptr(realloc(p, 2 * n));
    REQUIRE(q && q[n - 1] == 5, "realloc of a read-only block");
    fill(q, 6, 2 * n);
    free(q);
}

/* Secure builds: a freed large block's pages are recycled into the next large block (no page
 * faults), which reads zero, at a different address; the freed address is not served again at
 * once; malloc_trim gives the kept pages back. Fast builds reuse mappings: only the contents
 * and trim are checked there. */
static void test_large_pages_recycled(void) {
    size_t n = (size_t)4 << 20, pages = n / 4096;
    bool recycles = SG_LARGE_QUARANTINE && kernel_moves_pages();   /* else freed pages are purged */
    malloc_trim(0);
    unsigned char *p = opaque_ptr(malloc(n));
    REQUIRE(p, "malloc(4 MiB)");
    fill(p, 0xa5, n);
    free(p);
    sg_stats_t s;
    sg_stats_get(&s);
    if (recycles) CHECK(s.free_unpurged >= n, "%zu bytes kept for reuse after a 4 MiB free", s.free_unpurged);
    long before = minor_faults();
    unsigned char *q = opaque_ptr(calloc(1, n));
    REQUIRE(q, "calloc(4 MiB)");
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i += 64) nonzero += q[i] != 0 || q[i + 63] != 0;
    fill(q, 0x5a, n);
    long faults = minor_faults() - before;
    CHECK(nonzero == 0, "%zu cache lines of the recycled block are not zero", nonzero);
    if (SG_LARGE_QUARANTINE) {
        CHECK(q != p, "the freed block's address was served again at once");
        if (recycles)
            CHECK(faults < (long)pages / 8, "%ld page faults filling a recycled 4 MiB block (%zu pages)", faults, pages);
    }
    free(q);
    bool trimmed = malloc_trim(0) == 1;
    if (recycles || !SG_LARGE_QUARANTINE) CHECK(trimmed, "malloc_trim found nothing to give back after a large free");
    sg_stats_get(&s);
    CHECK(s.free_unpurged < n, "%zu bytes still kept after malloc_trim", s.free_unpurged);
}

/* The physical page behind the virtual page at p (from /proc/self/pagemap), or 0 when unknown:
 * not resident, or a process without CAP_SYS_ADMIN (the kernel shows every frame as 0). */
static uint64_t frame_of(const void *p) {
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    uint64_t e = 0;
    ssize_t got = pread(fd, &e, sizeof e, (off_t)((uintptr_t)p / 4096 * sizeof e));
    close(fd);
    return got == (ssize_t)sizeof e && (e >> 63) ? e & (((uint64_t)1 << 55) - 1) : 0;
}

/* Secure builds: recycled pages keep their offset within a huge page (2 MiB) wherever they can,
 * so that the kernel moves whole page tables. A freed 6 MiB block (three huge pages, on huge
 * page boundaries) gives 1 MiB to a small block, then the next 4 MiB block takes two whole huge
 * pages of it: the same physical pages at the same offsets within a huge page, not the next
 * 4 MiB of what is left (which starts 1 MiB into one). Where the kernel has guard markers, a
 * block of any size is laid out on whole huge pages: a freed 1.5 MiB block's pages come back
 * at the same offsets in the next block of that size too. Every recycled block reads zero.
 * Needs the frame numbers of /proc/self/pagemap (root). */
enum { SAMPLES = 8 };
/* Frames of the pages at SAMPLES offsets within each of n huge pages from p. */
static void frames_at(unsigned char *p, size_t n, uint64_t *out) {
    for (size_t h = 0; h < n; h++)
        for (int i = 0; i < SAMPLES; i++) out[h * SAMPLES + i] = frame_of(p + h * (2u << 20) + (size_t)i * ((2u << 20) / SAMPLES));
}
/* How many pages sampled in block b (len bytes from b, huge-page aligned offsets) are pages that
 * were at the same offset within one of the n huge pages of was. */
static size_t same_frames(unsigned char *b, size_t len, const uint64_t *was, size_t n) {
    size_t same = 0, step = (2u << 20) / SAMPLES;
    for (size_t off = ((uintptr_t)b % step ? step - (uintptr_t)b % step : 0); off < len; off += step) {
        uint64_t f = frame_of(b + off);
        size_t in_huge = (((uintptr_t)b + off) % (2u << 20)) / step;
        for (size_t h = 0; h < n; h++) same += f && f == was[h * SAMPLES + in_huge];
    }
    return same;
}
static void test_large_recycled_by_huge_pages(void) {
    if (!SG_LARGE_QUARANTINE || !kernel_moves_pages()) return;
    const size_t mib = (size_t)1 << 20;
    malloc_trim(0);
    unsigned char *p = opaque_ptr(malloc(6 * mib));
    REQUIRE(p && ((uintptr_t)p & (2 * mib - 1)) == 0, "malloc(6 MiB) = %p, not on a huge page boundary", (void *)p);
    fill(p, 0x77, 6 * mib);
    uint64_t was[3 * SAMPLES];
    frames_at(p, 3, was);
    if (!was[0]) {
        printf("# /proc/self/pagemap shows no frame numbers here: nothing to check\n");
        free(p);
        return;
    }
    free(p);
    unsigned char *a = opaque_ptr(malloc(mib));
    unsigned char *b = opaque_ptr(malloc(4 * mib));
    REQUIRE(a && b, "malloc(1 MiB), malloc(4 MiB)");
    size_t nonzero = 0;
    for (size_t i = 0; i < mib; i += 64) nonzero += a[i] != 0;
    for (size_t i = 0; i < 4 * mib; i += 64) nonzero += b[i] != 0;
    size_t same = same_frames(b, 4 * mib, was, 3);
    CHECK(nonzero == 0, "%zu cache lines of the recycled blocks are not zero", nonzero);
    CHECK(same == 2 * SAMPLES, "%zu of %d sampled pages of the 4 MiB block were the freed block's, at the same offsets in a huge page",
          same, 2 * SAMPLES);
    free(a);
    free(b);
    if (!huge_page_layout()) return;
    malloc_trim(0);
    size_t n = 3 * mib / 2;
    p = opaque_ptr(malloc(n));
    REQUIRE(p, "malloc(1.5 MiB)");
    fill(p, 0x55, n);
    uint64_t had[2 * SAMPLES];
    frames_at((unsigned char *)((uintptr_t)p & ~(2 * mib - 1)), 2, had);
    size_t pages = 0;
    for (size_t off = 0; off < n; off += (2u << 20) / SAMPLES) pages++;
    free(p);
    b = opaque_ptr(malloc(n));
    REQUIRE(b, "malloc(1.5 MiB) again");
    nonzero = 0;
    for (size_t i = 0; i < n; i += 64) nonzero += b[i] != 0;
    same = same_frames(b, n, had, 2);
    CHECK(nonzero == 0, "%zu cache lines of the recycled 1.5 MiB block are not zero", nonzero);
    CHECK(same + 1 >= pages, "%zu of %zu sampled pages of the 1.5 MiB block were the freed one's, at the same offsets in a huge page",
          same, pages);
    free(b);
}

/* Secure builds: a block the program left read-only in part comes back read-write to its next
 * owner (fast builds reuse such a mapping as it is, like glibc reuses its heap: not tested). */
static void test_large_recycled_after_mprotect(void) {
    size_t n = (size_t)1 << 20;
    unsigned char *p = opaque_ptr(malloc(n));
    REQUIRE(p, "malloc(1 MiB)");
    fill(p, 1, n);
    uintptr_t page = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    REQUIRE(mprotect((void *)page, 8192, PROT_READ) == 0, "mprotect");
    REQUIRE(mprotect((void *)page, 8192, PROT_READ | PROT_WRITE) == 0, "mprotect back");
    if (SG_LARGE_QUARANTINE) REQUIRE(mprotect((void *)(page + 16384), 4096, PROT_READ) == 0, "mprotect a page");
    free(p);
    /* the whole block read-only (1 MiB exactly: it starts on a page) */
    unsigned char *r = opaque_ptr(malloc(n));
    REQUIRE(r && ((uintptr_t)r & 4095) == 0, "malloc(1 MiB) = %p", (void *)r);
    fill(r, 3, n);
    if (SG_LARGE_QUARANTINE) REQUIRE(mprotect(r, n, PROT_READ) == 0, "mprotect the block");
    free(r);
    for (int i = 0; i < 4; i++) {
        unsigned char *q = opaque_ptr(malloc(n));
        REQUIRE(q, "malloc(1 MiB) #%d", i);
        fill(q, 2, n);   /* faults (the test dies) if a page came back read-only */
        CHECK(q[n - 1] == 2, "write lost");
        free(q);
    }
}

/* Secure builds: what a program set with madvise on a block it freed (MADV_DONTFORK,
 * MADV_WIPEONFORK) does not follow the recycled pages into the next block: a forked child sees
 * the new block and its contents. (Fast builds hand the cached mapping back as it is, as glibc
 * does with its heap: not tested there.) */
static void test_large_recycled_pages_forget_madvise(void) {
    if (!SG_LARGE_QUARANTINE) return;
    static const int advice[] = { MADV_DONTFORK, MADV_WIPEONFORK };
    for (int k = 0; k < 2; k++) {
        size_t n = (size_t)1 << 20;
        malloc_trim(0);
        unsigned char *p = opaque_ptr(malloc(n));
        REQUIRE(p && ((uintptr_t)p & 4095) == 0, "malloc(1 MiB) = %p", (void *)p);
        fill(p, 1, n);
        REQUIRE(madvise(p, n, advice[k]) == 0, "madvise %d", advice[k]);
        free(p);
        unsigned char *q = opaque_ptr(calloc(1, n));
        REQUIRE(q, "calloc(1 MiB)");
        fill(q, 'Q', n);
        fflush(NULL);
        pid_t pid = fork();
        REQUIRE(pid >= 0, "fork");
        if (pid == 0) {
            size_t bad = 0;
            for (size_t i = 0; i < n; i += 4096) bad += q[i] != 'Q';
            _exit(bad ? 1 : 0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "advice %d: the child %s", advice[k],
              WIFSIGNALED(st) ? "died by a signal touching the new block" : "saw other contents");
        free(q);
    }
}

/* Secure builds: guard markers the program put on a block it freed (MADV_GUARD_INSTALL, Linux
 * 6.13) do not follow the recycled pages into the next block, which faulted where written. */
static void test_large_recycled_pages_forget_guard_markers(void) {
    if (!SG_LARGE_QUARANTINE) return;
    size_t n = (size_t)1 << 20;
    malloc_trim(0);
    unsigned char *p = opaque_ptr(malloc(n));
    REQUIRE(p && ((uintptr_t)p & 4095) == 0, "malloc(1 MiB) = %p", (void *)p);
    fill(p, 1, n);
    if (madvise(p + 16 * 4096, 4096, 102 /* MADV_GUARD_INSTALL */) != 0) {
        printf("# MADV_GUARD_INSTALL refused (errno %d): nothing to check\n", errno);
        free(p);
        return;
    }
    free(p);
    for (int i = 0; i < 3; i++) {
        unsigned char *q = opaque_ptr(malloc(n));
        REQUIRE(q, "malloc(1 MiB) #%d", i);
        fill(q, 2, n);   /* faults (the test dies) on a guard marker that came along */
        CHECK(q[16 * 4096] == 2, "write lost");
        free(q);
    }
}

/* Empty the fast large cache (its mappings are unmapped): the next tests drive it alone. */
static void empty_cache(void) {
    sg_large_cached_t was[SG_LARGE_CACHE_SLOTS];
    sg_large_lock();
    size_t had = sg_large_cache_drain(was);
    sg_large_unlock();
    for (size_t i = 0; i < had; i++) munmap((void *)was[i].map, was[i].map_size);
}

/* sg_large_cache_put on [at, at+size): kept, or not (then what it gives back to unmap must be
 * that range itself here: these tests never put a mapping next to a cached one unless they
 * check the merging). */
static bool cache_put(uintptr_t at, size_t size, uintptr_t *evict, size_t *evict_size) {
    uintptr_t a = at;
    size_t n = size;
    bool kept = sg_large_cache_put(&a, &n, evict, evict_size);
    if (!kept) CHECK(a == at && n == size, "%#lx (%zu bytes) not kept, and %#lx (%zu bytes) given back", (unsigned long)at, size,
                     (unsigned long)a, n);
    return kept;
}

/* Fast builds' cache of freed mappings: with every slot taken (split tails add up), a larger
 * mapping pushes out the smallest entry, not the oldest (a large mapping thrown out for a small
 * tail is refaulted page by page), and a mapping smaller than every entry is not kept. Driven
 * directly, under large.c's lock, on mappings of this test's own. */
static void test_large_cache_keeps_the_largest(void) {
    sg_large_cached_t was[SG_LARGE_CACHE_SLOTS];
    empty_cache();
    const size_t unit = 64 << 10;
    char *m = mmap(NULL, (SG_LARGE_CACHE_SLOTS + 2) * 5 * unit, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED, "mmap");
    uintptr_t evict = 0, small_at = 0;
    size_t evict_size = 0;
    bool kept = true;
    sg_large_lock();
    /* the first entry is the oldest and the largest; then 2-unit entries; one of 1 unit */
    for (size_t i = 0; i < SG_LARGE_CACHE_SLOTS; i++) {
        size_t n = i == 0 ? 4 * unit : i == 5 ? unit : 2 * unit;
        if (i == 5) small_at = (uintptr_t)m + i * 5 * unit;
        kept &= cache_put((uintptr_t)m + i * 5 * unit, n, &evict, &evict_size) && !evict;
    }
    bool bigger = cache_put((uintptr_t)m + SG_LARGE_CACHE_SLOTS * 5 * unit, 3 * unit, &evict, &evict_size);
    uintptr_t out = evict;
    size_t out_size = evict_size;
    bool tiny = cache_put((uintptr_t)m + (SG_LARGE_CACHE_SLOTS + 1) * 5 * unit, unit / 2, &evict, &evict_size);
    size_t got = 0;
    bool purged;
    void *largest = sg_large_cache_take(4 * unit, &got, &purged);
    size_t n = sg_large_cache_drain(was);
    sg_large_unlock();
    CHECK(kept, "the cache did not keep %d mappings", SG_LARGE_CACHE_SLOTS);
    CHECK(bigger && out == small_at && out_size == unit, "a larger mapping evicted %#lx (%zu bytes), not the smallest entry %#lx",
          (unsigned long)out, out_size, (unsigned long)small_at);
    CHECK(!tiny, "a mapping smaller than every entry was kept in a full cache");
    CHECK(largest == m && got == 4 * unit, "the oldest, largest entry was pushed out: took %p (%zu bytes)", largest, got);
    CHECK(n == SG_LARGE_CACHE_SLOTS - 1, "%zu entries left, want %d", n, SG_LARGE_CACHE_SLOTS - 1);
    munmap(m, (SG_LARGE_CACHE_SLOTS + 2) * 5 * unit);
}

/* Fast builds: a mapping put next to a cached one (before it or after it) is merged with it, so
 * the two pieces of a split mapping come back as one entry; a merged range that is not kept is
 * handed back whole, for the caller to unmap. Under large.c's lock, on mappings of this test's
 * own. */
static void test_large_cache_merges_neighbours(void) {
    sg_large_cached_t was[SG_LARGE_CACHE_SLOTS];
    empty_cache();
    const size_t unit = 64 << 10;
    char *m = mmap(NULL, 6 * unit, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED, "mmap");
    uintptr_t evict = 0, at[3] = { (uintptr_t)m + 2 * unit, (uintptr_t)m + 4 * unit, (uintptr_t)m };
    size_t evict_size = 0, size[3] = { 2 * unit, 2 * unit, 2 * unit };
    bool kept[3];
    sg_large_lock();
    for (int i = 0; i < 3; i++) kept[i] = sg_large_cache_put(&at[i], &size[i], &evict, &evict_size);
    size_t got = 0;
    bool purged;
    void *whole = sg_large_cache_take(6 * unit, &got, &purged);
    size_t left = sg_large_cache_drain(was);
    sg_large_unlock();
    CHECK(kept[0] && kept[1] && kept[2], "kept: %d %d %d", kept[0], kept[1], kept[2]);
    CHECK(at[1] == (uintptr_t)m + 2 * unit && size[1] == 4 * unit, "after the second put: %#lx, %zu bytes",
          (unsigned long)at[1], size[1]);
    CHECK(at[2] == (uintptr_t)m && size[2] == 6 * unit, "after the third put: %#lx, %zu bytes", (unsigned long)at[2],
          size[2]);
    CHECK(whole == m && got == 6 * unit, "took %p (%zu bytes), not the three pieces as one (%p)", whole, got, (void *)m);
    CHECK(left == 0, "%zu entries left", left);
    for (size_t i = 0; i < left; i++) munmap((void *)was[i].map, was[i].map_size);
    munmap(m, 6 * unit);
}

/* A large block whose pages form several kernel mappings (the program set MADV_DONTFORK on
 * parts of it), grown by realloc with the mapping count a few short of vm.max_map_count: the
 * kernel may refuse any move, but realloc must never return the block with its contents lost.
 * (A move with MREMAP_FIXED took such a range and stopped midway; the copy that followed read
 * the emptied old range.) Each try runs in a child: the mappings it uses up stay there. */
static int realloc_near_map_limit(size_t k) {
    size_t n = (size_t)6 << 20;
    unsigned char *p = opaque_ptr(malloc(opaque_size(n)));
    if (!p) return 2;
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 31 + 7);
    char *pg = (char *)(((uintptr_t)p + (2 << 20)) & ~(uintptr_t)4095);
    for (int j = 0; j < 4; j++) (void)madvise(pg + j * (256 << 10), 4096, MADV_DONTFORK);
    size_t pages = 70000, split;
    char *hog = mmap(NULL, pages * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (hog == MAP_FAILED) return 2;
    for (split = 1; split < pages; split += 2)   /* one more mapping per call, up to the limit */
        if (mprotect(hog + split * 4096, 4096, PROT_NONE)) break;
    for (size_t i = 0; i < k && split >= 2; i++) {
        split -= 2;
        (void)mprotect(hog + split * 4096, 4096, PROT_READ);
    }
    unsigned char *q = realloc(p, (size_t)16 << 20);
    if (!q) return 0;   /* refused: allowed, p is intact */
    for (size_t i = 0; i < n; i++)
        if (q[i] != (unsigned char)(i * 31 + 7)) return 1;
    return 0;
}

static void test_large_realloc_near_map_limit(void) {
    for (size_t k = 2; k <= 10; k++) {
        pid_t pid = fork();
        REQUIRE(pid >= 0, "fork");
        if (pid == 0) _exit(realloc_near_map_limit(k));
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "realloc %zu mappings short of the limit: %s %d", k,
              WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
}

/* Large blocks freed, then 1.5 s of small-block work: the freed blocks' memory goes back
 * by itself (fast builds cache freed mappings, secure ones keep their pages for the next large
 * block). The cache looked for idle entries only when another large block was freed, and the
 * recycled pages went back only at purges that came as spans were freed: both builds kept the
 * 64 MiB (RSS 81 MiB secure, 68 MiB fast). */
static void test_idle_large_memory_goes_back(void) {
    enum { N = 16, SIZE = 4 << 20, SMALL = 64 };
    long before = (long)(resident_bytes() >> 10);
    static char *big[N];
    for (int i = 0; i < N; i++) {
        big[i] = malloc(opaque_size(SIZE));
        REQUIRE(big[i], "malloc(4 MiB)");
        memset(big[i], 1, SIZE);
    }
    for (int i = 0; i < N; i++) free(opaque_ptr(big[i]));
    long freed = (long)(resident_bytes() >> 10);
    /* small-block work for 1.5 s (blocks of 20000 bytes: a slot or a few per page) */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        void *p[SMALL];
        for (int i = 0; i < SMALL; i++) p[i] = malloc(opaque_size(20000));
        for (int i = 0; i < SMALL; i++) free(opaque_ptr(p[i]));
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
    long after = (long)(resident_bytes() >> 10);
    printf("# RSS %ld KiB before, %ld with the large blocks freed, %ld 1.5 s later\n", before, freed, after);
    CHECK(after - before < 16 * 1024, "RSS %ld KiB 1.5 s after 64 MiB of large blocks were freed (%ld before)", after,
          before);
}

int main(void) {
    RUN(test_registry_grows_and_finds_everything);
    RUN(test_large_alignment);
    RUN(test_large_alignment_maps_no_slack);
    RUN(test_refused_malloc_keeps_the_quarantine);
    RUN(test_large_realloc_keeps_contents);
    RUN(test_large_realloc_moves_pages);
    RUN(test_large_realloc_forgets_settings);
    RUN(test_large_grows_in_small_steps);
    RUN(test_large_shrinks_in_place);
    RUN(test_large_pages_recycled);
    RUN(test_large_recycled_by_huge_pages);
    RUN(test_large_recycled_after_mprotect);
    RUN(test_large_recycled_pages_forget_madvise);
    RUN(test_large_recycled_pages_forget_guard_markers);
    RUN(test_large_cache_keeps_the_largest);
    RUN(test_large_cache_merges_neighbours);
    RUN(test_large_realloc_near_map_limit);
    RUN(test_idle_large_memory_goes_back);
    return check_exit();
}
