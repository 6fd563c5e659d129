/* tests/misuse/underflow_size_word.c: a write one byte before block b lands in the encoded size
 * word at the end of the slot before it (block a); freeing a notices. The byte is flipped, not
 * overwritten with a constant, so the word always changes. */
// expect: slabguard: heap overflow of 0x[0-9a-f]+ \(size [0-9]+\)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"

#define N 1000

int main(void)
{
    static char *blocks[N];
    for (int i = 0; i < N; i++)
        blocks[i] = malloc(opaque_size(64));
    /* the slot size: the smallest distance between two blocks */
    uintptr_t slot = UINTPTR_MAX;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (blocks[j] > blocks[i] && (uintptr_t)(blocks[j] - blocks[i]) < slot)
                slot = (uintptr_t)(blocks[j] - blocks[i]);
    char *a = NULL, *b = NULL;
    for (int i = 0; i < N && !a; i++)
        for (int j = 0; j < N; j++)
            if ((uintptr_t)blocks[j] == (uintptr_t)blocks[i] + slot) {
                a = blocks[i];
                b = blocks[j];
                break;
            }
    if (!a) {
        printf("# no two adjacent blocks among %d\n", N);
        return 2;
    }
    printf("# a=%p b=%p slot=%lu\n", (void *)a, (void *)b, (unsigned long)slot);
    fflush(stdout);
    volatile char *v = opaque_ptr(b);
    v[-1] = (char)(v[-1] ^ 0xa5);
    free(a);
    printf("# free of a after an underflow of b returned\n");
    return 0;
}
