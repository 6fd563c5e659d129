/* tests/misuse/heap_realloc_after_free_large.c: heap_realloc_after_free with a 200000-byte
 * block (a large one, mapped on its own). */
// expect: slabguard: double free of 0x[0-9a-f]+ \(size 200000\)
#define SIZE 200000
#include "heap_realloc_after_free.h"
