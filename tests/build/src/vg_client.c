/* tests/build/src/vg_client.c: run under valgrind with the VALGRIND=1 library preloaded (tests/build/valgrind.sh).
 * Mode 0 is clean; 1 leaks a block, 2 reads a freed block, 3 branches on uninitialised heap memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    int mode = argc > 1 ? atoi(argv[1]) : 0;
    char *keep[100];
    for (int i = 0; i < 100; i++) { keep[i] = malloc(10 + i * 37); memset(keep[i], 1, 10 + i * 37); }
    for (int i = 0; i < 100; i++) keep[i] = realloc(keep[i], 20 + i * 50);
    for (int i = 0; i < 100; i++) free(keep[i]);
    char *c = calloc(10, 100); int z = 0; for (int i = 0; i < 1000; i++) z += c[i]; free(c);
    char *big = malloc(1 << 20); memset(big, 2, 1 << 20); free(big);
    if (mode == 1) { volatile char *leak = malloc(100); leak[0] = 1; leak = NULL; }
    if (mode == 2) { char *p = malloc(64); memset(p, 3, 64); free(p); volatile char x = p[10]; (void)x; }
    if (mode == 3) { char *p = malloc(64); if (p[5] == 7) puts("x"); free(p); }
    printf("done %d\n", z);
    return 0;
}
