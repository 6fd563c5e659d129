/* tests/misuse/heap_realloc_after_free.c: sg_heap_realloc of a 100-byte block that sg_heap_free
 * freed already. realloc frees its argument, so it is a double free, as plain realloc names it;
 * sg_heap_realloc named it a "use after free" (it asked malloc_usable_size's question first:
 * found by a red-team helper). heap_realloc_after_free_large: the same, 200000 bytes; the fast
 * variant keeps no record of freed large blocks (double_free_large), so it stops before that. */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size [0-9]+\)
#define SIZE 100
#include "heap_realloc_after_free.h"
