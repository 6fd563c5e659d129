/* tests/sg_names.h: forced in (-include) when a test is built against the PREFIX_ONLY library for
 * ThreadSanitizer: the test's malloc family calls become sg_ calls, so slabguard's cross-thread
 * paths run under TSan while TSan keeps libc's malloc for itself. */
#ifndef SG_TEST_SG_NAMES_H
#define SG_TEST_SG_NAMES_H
#include <stdlib.h>
#include <malloc.h>
#include "slabguard.h"
#define malloc sg_malloc
#define free sg_free
#define free_sized sg_free_sized
#define free_aligned_sized sg_free_aligned_sized
#define calloc sg_calloc
#define realloc sg_realloc
#define reallocarray sg_reallocarray
#define posix_memalign sg_posix_memalign
#define aligned_alloc sg_aligned_alloc
#define memalign sg_memalign
#define malloc_usable_size sg_malloc_usable_size
#endif
