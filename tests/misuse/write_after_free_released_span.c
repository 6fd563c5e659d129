/* tests/misuse/write_after_free_released_span.c: writes through dangling pointers into pages
 * that were given back. 400 blocks of 8000 bytes (pages of 8 KiB slots) are freed, blocks of
 * another size pass through the quarantine until their pages can go, malloc_trim gives them
 * back, and then one byte is written 5000 bytes into each of those pages (inside a freed block).
 * When the spans come back as pages of 8 KiB slots, each byte lies past the first 4 KiB of a
 * slot that the release left without a size word, as if never handed out, which the check at
 * hand-out read only that far (a fresh span's unused slot reads zero past it). The malloc that
 * hands such a slot out must report it. (Before, the slots were handed out with the bytes in
 * them: found by a red-team helper, with the spans of 100-byte blocks coming back as pages of
 * 8 KiB slots; with size-class isolation a span comes back only for its own size.) */
// expect: slabguard: write after free of 0x[0-9a-f]+ \(size [0-9]+\)
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define N 400        /* 8000-byte blocks: 50 pages of 64 KiB */
#define OTHERS 2000  /* frees of another size: the quarantine lets the 8000-byte ones go */
#define TRIES 800    /* 8000-byte blocks asked for afterwards (6 MiB) */
#define PAGES 64

int main(void)
{
    static void *blocks[N];
    static uintptr_t page[PAGES];
    int pages = 0;
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(opaque_size(8000));
        uintptr_t unit = (uintptr_t)blocks[i] & ~(uintptr_t)0xffff;   /* a 64 KiB arena unit */
        int k = 0;
        while (k < pages && page[k] != unit)
            k++;
        if (k == pages && pages < PAGES)
            page[pages++] = unit;
    }
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    for (int i = 0; i < OTHERS; i++)
        free(opaque_ptr(malloc(opaque_size(40))));
    malloc_trim(0);
    printf("# dangling writes into %d pages, 5000 bytes in\n", pages);
    fflush(stdout);
    for (int k = 0; k < pages; k++)
        *(volatile char *)(page[k] + 5000) = 'A';
    /* nothing else allocates from here on: only the 8000-byte mallocs may find the bytes */
    for (int i = 0; i < TRIES; i++) {
        char *p = malloc(opaque_size(8000));
        for (int k = 0; k < pages; k++) {
            if ((uintptr_t)p <= page[k] + 5000 && page[k] + 5000 < (uintptr_t)p + 8000) {
                printf("# malloc(8000) #%d = %p holds a written byte, unreported\n", i, (void *)p);
                return 0;
            }
        }
    }
    printf("# no 8000-byte block came over a written byte\n");
    return 0;
}
