/* probe: print the file of the shared object whose malloc this process calls, so the runner
 * can tell that a preloaded allocator really serves malloc (ld.so only warns when a preload
 * fails, and the program then runs on the libc malloc). Exits 1 if malloc/free fail. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    void *(*volatile fn)(size_t) = malloc;
    Dl_info info;
    const char *file = dladdr((void *)fn, &info) && info.dli_fname ? info.dli_fname : "?";
    void *p = malloc(100);
    if (p == NULL)
        return 1;
    free(p);
    printf("malloc %s\n", file);
    return 0;
}
