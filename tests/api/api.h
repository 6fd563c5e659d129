/* tests/api/api.h: the malloc family twice, through the libc names and through the sg_ twins,
 * so each API case runs against both entry points (they must give the same answers).
 *
 * Built with -DSG_TEST_GLIBC the table holds only the libc names: that build runs the cases
 * against glibc itself, to show that the cases encode glibc's answers. */
#ifndef SG_TEST_API_H
#define SG_TEST_API_H

#include <malloc.h>
#include <stdlib.h>

#include "../check.h"

#ifndef SG_TEST_GLIBC
#include "slabguard.h"
#endif

typedef struct api_s {
    const char *name; /* "libc" or "sg" */
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*usable_size)(void *);
} api_t;

static size_t libc_usable_size(void *p) { return malloc_usable_size(p); }

static const api_t api_libc = {
    "libc", malloc, free, calloc, realloc, reallocarray, posix_memalign,
    aligned_alloc, memalign, valloc, pvalloc, libc_usable_size,
};

#ifndef SG_TEST_GLIBC
static size_t sg_usable_size_adapter(void *p) { return sg_malloc_usable_size(p); }
static const api_t api_sg = {
    "sg", sg_malloc, sg_free, sg_calloc, sg_realloc, sg_reallocarray, sg_posix_memalign,
    sg_aligned_alloc, sg_memalign, sg_valloc, sg_pvalloc, sg_usable_size_adapter,
};
static const api_t *const apis[] = {&api_libc, &api_sg};
#else
static const api_t *const apis[] = {&api_libc};
#endif

/* The entry points of the running case. Read through opaque_ptr so the compiler cannot see
 * which functions they are and fold the calls as builtins. */
static const api_t *A;

/* RUN_API(fn): run fn once per entry-point set, as "libc/<name>" and "sg/<name>". */
static void run_api(const char *name, void (*fn)(void))
{
    for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++) {
        char full[128];
        A = opaque_ptr((void *)apis[i]);
        snprintf(full, sizeof full, "%s/%s", apis[i]->name, name);
        check_run(full, fn);
    }
}
#define RUN_API(fn) run_api(strncmp(#fn, "test_", 5) == 0 ? &(#fn)[5] : #fn, fn)

#define PAGE_SIZE_BYTES ((size_t)sysconf(_SC_PAGESIZE))

static inline int is_aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

#endif /* SG_TEST_API_H */
