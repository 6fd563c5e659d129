/* slabguard: a hardened memory allocator. Public API.
 *
 * Every function of the malloc family has an sg_ twin with the same contract (glibc's answers
 * for edge cases). Linking the library, or preloading it, also makes it the program's malloc;
 * the sg_ names are for programs that call slabguard by name. */
#ifndef SLABGUARD_H
#define SLABGUARD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SG_API __attribute__((visibility("default")))
#define SG_MALLOC_ATTR __attribute__((malloc, warn_unused_result))
#else
#define SG_API
#define SG_MALLOC_ATTR
#endif

/* ---- the malloc family ---------------------------------------------------------------------- */
SG_API SG_MALLOC_ATTR void *sg_malloc(size_t size);
SG_API void sg_free(void *p);
/* C23's sized frees: as sg_free. The secure variant checks them: a size other than the one the
 * block was allocated (or last reallocated) with, or an alignment it does not have, aborts with
 * "wrong size at free" or "wrong alignment at free". The fast variant ignores both, as glibc. */
SG_API void sg_free_sized(void *p, size_t size);
SG_API void sg_free_aligned_sized(void *p, size_t alignment, size_t size);
SG_API SG_MALLOC_ATTR void *sg_calloc(size_t count, size_t size);
SG_API void *sg_realloc(void *p, size_t size);
SG_API void *sg_reallocarray(void *p, size_t count, size_t size);
SG_API int sg_posix_memalign(void **out, size_t alignment, size_t size);
SG_API SG_MALLOC_ATTR void *sg_aligned_alloc(size_t alignment, size_t size);
SG_API SG_MALLOC_ATTR void *sg_memalign(size_t alignment, size_t size);
SG_API SG_MALLOC_ATTR void *sg_valloc(size_t size);
SG_API SG_MALLOC_ATTR void *sg_pvalloc(size_t size);
SG_API size_t sg_malloc_usable_size(const void *p);

/* ---- first-class heaps ------------------------------------------------------------------------ */
/* A heap owns its blocks: sg_heap_destroy frees all of them at once. Allocate from a heap (and
 * sg_heap_free into it) from one thread at a time; sg_free of a heap's block works from any
 * thread, and so does plain sg_realloc: a heap's large block that moves stays in the heap if
 * its new size is large, and a small block that moves goes to the calling thread's heap,
 * whatever its new size; sg_heap_realloc keeps a block in its heap. Misuse is reported and aborts: a destroyed or invalid heap handle, a block of another
 * heap given to sg_heap_free or sg_heap_realloc. */
typedef struct sg_heap_s sg_heap_t;
SG_API sg_heap_t *sg_heap_new(void);
/* A heap that maps at most max_bytes (pages and large blocks): past it, NULL with ENOMEM.
 * max_bytes 0: no limit, as sg_heap_new. */
SG_API sg_heap_t *sg_heap_new_limited(size_t max_bytes);
SG_API SG_MALLOC_ATTR void *sg_heap_malloc(sg_heap_t *heap, size_t size);
SG_API SG_MALLOC_ATTR void *sg_heap_calloc(sg_heap_t *heap, size_t count, size_t size);
SG_API void *sg_heap_realloc(sg_heap_t *heap, void *p, size_t size);
SG_API void sg_heap_free(sg_heap_t *heap, void *p);
SG_API void sg_heap_destroy(sg_heap_t *heap);
/* Bytes the heap has mapped now (what its limit counts). */
SG_API size_t sg_heap_mapped(sg_heap_t *heap);

/* ---- the build ------------------------------------------------------------------------------ */
/* "0.1.0" */
SG_API const char *sg_version(void);
/* 1 in the secure variant, 0 in the fast one. */
SG_API int sg_is_secure(void);
/* Names of the mitigations compiled in, space separated ("encode-freelist canary ..."). */
SG_API const char *sg_mitigations(void);

/* ---- statistics ----------------------------------------------------------------------------- */
typedef struct sg_stats_s {
    size_t mapped;          /* bytes of address space committed for pages and large blocks */
    size_t pages;           /* slab pages in use (owned by a heap or abandoned) */
    size_t pages_abandoned; /* pages of exited threads waiting to be adopted */
    size_t large_count;     /* live large (directly mapped) blocks */
    size_t large_bytes;     /* their mapped size */
    size_t threads;         /* thread heaps alive */
    size_t free_unpurged;   /* bytes of free pages kept resident for quick reuse */
    size_t arena_used;      /* bytes of the arena's address space ever handed out */
    size_t resident;        /* the process's resident memory (all of it, from the kernel) */
    size_t allocated;       /* bytes in blocks handed out and not freed (slots and large blocks;
                               fast builds count a block freed by another thread until its
                               page's owner takes it back) */
    size_t active;          /* bytes of the pages those slots live in, plus large mappings */
} sg_stats_t;

/* One size class: how many pages it has and how full they are. */
typedef struct sg_class_stats_s {
    size_t block_size;      /* slot size of the class */
    size_t pages;           /* pages of this class in use */
    size_t blocks_used;     /* slots handed out (including those waiting in a quarantine) */
    size_t blocks_capacity; /* slots in those pages */
} sg_class_stats_t;

/* Fill *out with a snapshot of process-wide counters; does not allocate. allocated and active
 * walk every page: approximate while other threads allocate. */
SG_API void sg_stats_get(sg_stats_t *out);
/* Per size class, the same kind of snapshot: fills up to max entries, returns how many classes
 * there are. */
SG_API size_t sg_stats_classes(sg_class_stats_t *out, size_t max);
/* Call visit(block, size, arg) for every live block of heap (NULL: the calling thread's heap),
 * small and, for first-class heaps, large; stops early when visit returns 0. Call it from the
 * heap's thread while no other thread frees into it; visit must not allocate or free. */
SG_API void sg_heap_visit(sg_heap_t *heap, int (*visit)(void *block, size_t size, void *arg), void *arg);
/* Write a short human-readable report to the file descriptor fd; does not allocate. */
SG_API void sg_stats_print(int fd);
/* Give free memory back to the OS now (what malloc_trim does); 1 if any was released. */
SG_API int sg_malloc_trim(size_t pad);

#ifdef __cplusplus
}
#endif
#endif /* SLABGUARD_H */
