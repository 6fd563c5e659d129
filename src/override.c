/* override.c: the exported malloc family. The sg_ names are the API; the libc names (and the
 * glibc-internal __libc_ ones some programs reach) are aliases of them, so a preloaded or linked
 * slabguard serves every allocation of the process. Argument checks with glibc's answers live
 * here; the work is in alloc.c and free.c. */
#include "internal.h"
#include "os.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SG_EXPORT __attribute__((visibility("default")))
#define SG_ALIAS(name) __attribute__((alias(#name), visibility("default")))
#define SG_ALIAS_M(name) __attribute__((alias(#name), visibility("default"), malloc))

static bool is_pow2(size_t x) { return x && !(x & (x - 1)); }

SG_EXPORT void *sg_malloc(size_t size) { return sg_alloc(size); }
SG_EXPORT void sg_free(void *p) { sg_free_impl(p); }
/* The size (and alignment) are checked in secure builds (free.c); glibc ignores them. */
SG_EXPORT void sg_free_sized(void *p, size_t size) { sg_free_sized_impl(p, size, 0); }
SG_EXPORT void sg_free_aligned_sized(void *p, size_t alignment, size_t size) {
    sg_free_sized_impl(p, size, alignment);
}
SG_EXPORT void *sg_calloc(size_t count, size_t size) { return sg_alloc_zeroed(count, size); }
SG_EXPORT void *sg_realloc(void *p, size_t size) { return sg_realloc_impl(p, size); }
SG_EXPORT size_t sg_malloc_usable_size(const void *p) { return sg_usable_size_impl(p); }

SG_EXPORT void *sg_reallocarray(void *p, size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return sg_realloc_impl(p, total);
}

SG_EXPORT int sg_posix_memalign(void **out, size_t alignment, size_t size) {
    if (!is_pow2(alignment) || alignment % sizeof(void *) != 0) return EINVAL;
    int saved = errno;
    void *p = sg_alloc_aligned(alignment, size);
    errno = saved;   /* an error number is the answer; errno stays as it was (the man page) */
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

SG_EXPORT void *sg_aligned_alloc(size_t alignment, size_t size) {
    if (!is_pow2(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    return sg_alloc_aligned(alignment, size);
}

/* glibc's memalign rounds an alignment that is not a power of two up to the next one. */
SG_EXPORT void *sg_memalign(size_t alignment, size_t size) {
    if (alignment > SIZE_MAX / 2 + 1) {   /* glibc's limit: above it EINVAL, up to it ENOMEM */
        errno = EINVAL;
        return NULL;
    }
    if (!is_pow2(alignment)) {
        size_t a = 1;
        while (a < alignment) a <<= 1;
        alignment = a;
    }
    return sg_alloc_aligned(alignment, size);
}

SG_EXPORT void *sg_valloc(size_t size) { return sg_alloc_aligned(SG_OS_PAGE, size); }

SG_EXPORT void *sg_pvalloc(size_t size) {
    size_t rounded;
    if (__builtin_add_overflow(size, (size_t)SG_OS_PAGE - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    rounded &= ~(size_t)(SG_OS_PAGE - 1);
    return sg_alloc_aligned(SG_OS_PAGE, rounded ? rounded : SG_OS_PAGE);
}

/* ---- the libc names --------------------------------------------------------------------- */
/* PREFIX_ONLY=1 builds leave them out: the program keeps libc's malloc and calls sg_ by name. */
#ifndef SG_PREFIX_ONLY
void *malloc(size_t size) SG_ALIAS_M(sg_malloc);
void free(void *p) SG_ALIAS(sg_free);
void cfree(void *p) SG_ALIAS(sg_free);
/* C23, in glibc from 2.41: a program built against such a glibc calls them by name, and
 * glibc's own would be handed slabguard's blocks. */
void free_sized(void *p, size_t size) SG_ALIAS(sg_free_sized);
void free_aligned_sized(void *p, size_t alignment, size_t size) SG_ALIAS(sg_free_aligned_sized);
void *calloc(size_t count, size_t size) SG_ALIAS_M(sg_calloc);
void *realloc(void *p, size_t size) SG_ALIAS(sg_realloc);
void *reallocarray(void *p, size_t count, size_t size) SG_ALIAS(sg_reallocarray);
int posix_memalign(void **out, size_t alignment, size_t size) SG_ALIAS(sg_posix_memalign);
void *aligned_alloc(size_t alignment, size_t size) SG_ALIAS(sg_aligned_alloc);
void *memalign(size_t alignment, size_t size) SG_ALIAS_M(sg_memalign);
void *valloc(size_t size) SG_ALIAS_M(sg_valloc);
void *pvalloc(size_t size) SG_ALIAS_M(sg_pvalloc);
size_t malloc_usable_size(void *p) SG_ALIAS(sg_malloc_usable_size);

void *__libc_malloc(size_t size) SG_ALIAS_M(sg_malloc);
void __libc_free(void *p) SG_ALIAS(sg_free);
void *__libc_calloc(size_t count, size_t size) SG_ALIAS_M(sg_calloc);
void *__libc_realloc(void *p, size_t size) SG_ALIAS(sg_realloc);
void *__libc_memalign(size_t alignment, size_t size) SG_ALIAS_M(sg_memalign);
void *__libc_valloc(size_t size) SG_ALIAS_M(sg_valloc);
void *__libc_pvalloc(size_t size) SG_ALIAS_M(sg_pvalloc);

/* ---- glibc's introspection calls, answered from slabguard's counters --------------------- */
/* Programs call these to report or trim memory; without them they would silently get glibc's
 * answers about glibc's (unused) heap. The byte counts are slabguard's, with glibc's sums:
 * arena = pages in use plus free pages kept resident, uordblks = bytes of the small blocks
 * handed out, fordblks = the rest of arena (free slots, free pages), keepcost = the free pages
 * malloc_trim would give back, hblks/hblkhd = directly mapped (large) blocks. */
SG_EXPORT struct mallinfo2 mallinfo2(void) {
    sg_stats_t s;
    sg_stats_get(&s);
    struct mallinfo2 m = { 0 };
    size_t large_requested = sg_large_requested_bytes();   /* read again: may have moved since */
    size_t small_used = s.active - s.large_bytes;
    size_t small_allocated = s.allocated > large_requested ? s.allocated - large_requested : 0;
    size_t kept = sg_arena_dirty();
    m.arena = small_used + kept;
    m.ordblks = s.pages;
    m.hblks = s.large_count;
    m.hblkhd = s.large_bytes;
    m.uordblks = small_allocated < small_used ? small_allocated : small_used;
    m.fordblks = m.arena - m.uordblks;
    m.keepcost = kept;
    return m;
}

static int clamp_int(size_t v) { return v > (size_t)0x7fffffff ? 0x7fffffff : (int)v; }

SG_EXPORT struct mallinfo mallinfo(void) {
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo m = { 0 };
    m.arena = clamp_int(m2.arena);
    m.ordblks = clamp_int(m2.ordblks);
    m.hblks = clamp_int(m2.hblks);
    m.hblkhd = clamp_int(m2.hblkhd);
    m.uordblks = clamp_int(m2.uordblks);
    m.fordblks = clamp_int(m2.fordblks);
    m.keepcost = clamp_int(m2.keepcost);
    return m;
}

SG_EXPORT int malloc_trim(size_t pad) { return sg_malloc_trim(pad); }

SG_EXPORT void malloc_stats(void) { sg_stats_print(2); }

/* glibc's XML shape, one heap: enough for tools that parse it. An options other than 0 gets
 * glibc's answer: EINVAL as the return value, errno left alone (its manual says -1 and errno). */
SG_EXPORT int malloc_info(int options, FILE *fp) {
    if (options != 0) return EINVAL;
    sg_stats_t s;
    sg_stats_get(&s);
    fprintf(fp,
            "<malloc version=\"slabguard-%s\">\n"
            "<heap nr=\"0\">\n"
            "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
            "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
            "<system type=\"current\" size=\"%zu\"/>\n"
            "<system type=\"max\" size=\"%zu\"/>\n"
            "</heap>\n"
            "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n"
            "<system type=\"current\" size=\"%zu\"/>\n"
            "</malloc>\n",
            sg_version(), s.pages, s.free_unpurged, s.mapped - s.large_bytes, s.mapped - s.large_bytes,
            s.large_count, s.large_bytes, s.mapped);
    return 0;
}

/* ---- a limit on address space set after start-up ---------------------------------------------- */
/* setrlimit and prlimit by the system call glibc's own make (prlimit64); when the process
 * lowered its own RLIMIT_AS, the arena then gives back the unused end of its reservation
 * (arena.c, sg_arena_fit_address_limit), which the limit would otherwise leave no room beside.
 * A limit set from outside (prlimit(1) on the running process) is not seen. */
_Static_assert(sizeof(struct rlimit) == sizeof(struct rlimit64), "rlim_t is 64 bits");
static int limit_set(pid_t pid, int resource, const void *next, void *old) {
    long r = syscall(SYS_prlimit64, (long)pid, (long)resource, next, old);
    if (r == 0 && resource == RLIMIT_AS && next && (pid == 0 || pid == getpid())) {
        rlim_t cur = ((const struct rlimit *)next)->rlim_cur;
        sg_os_address_limit_set(cur != RLIM_INFINITY);
        if (cur != RLIM_INFINITY && sg_init_done()) {
            int saved = errno;
            sg_arena_fit_address_limit((size_t)cur);
            errno = saved;
        }
    }
    return (int)r;
}
SG_EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *rl) {
    return limit_set(0, (int)resource, rl, NULL);
}
SG_EXPORT int setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *rl) {
    return limit_set(0, (int)resource, rl, NULL);
}
SG_EXPORT int prlimit(pid_t pid, __rlimit_resource_t resource, const struct rlimit *next, struct rlimit *old) {
    return limit_set(pid, (int)resource, next, old);
}
SG_EXPORT int prlimit64(pid_t pid, __rlimit_resource_t resource, const struct rlimit64 *next, struct rlimit64 *old) {
    return limit_set(pid, (int)resource, next, old);
}
#endif /* SG_PREFIX_ONLY */
