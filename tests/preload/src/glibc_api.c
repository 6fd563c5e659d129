/* glibc_api.c: glibc's malloc extras and internal names that programs reach, under the preload:
 * __libc_* entry points, cfree (looked up: new programs cannot link it), malloc_usable_size,
 * mallinfo2, malloc_trim, malloc_stats, mallopt, and blocks that the C library allocates for the
 * program (strdup, getline, asprintf, open_memstream, realpath, scandir, glob, regcomp, ...)
 * freed by the program. Each line says what held; the output is compared with glibc's run. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <malloc.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* glibc exports these (GLIBC_2.2.5) without declaring them */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

static int failures;

static void check(const char *what, int ok) {
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) failures++;
}

static int aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

static void libc_names(void) {
    int ok = 1;
    for (size_t a = 16; a <= 8192; a *= 2) {
        char *p = __libc_memalign(a, 100 + a);
        ok &= p && aligned(p, a) && malloc_usable_size(p) >= 100 + a;
        memset(p, 1, 100 + a);
        free(p);
    }
    check("__libc_memalign: aligned, usable size covers the request, free() takes it", ok);

    char *m = __libc_malloc(40), *c = __libc_calloc(10, 10);
    ok = m && c && !c[99];
    m = __libc_realloc(m, 4000);
    ok &= m != NULL;
    memset(m, 2, 4000);
    __libc_free(c);
    free(m); /* across the two names */
    char *n = malloc(70);
    __libc_free(n);
    check("__libc_malloc/calloc/realloc/free mix with malloc/free", ok);

    /* cfree left glibc's headers in 2.26; old binaries still call it */
    void (*cf)(void *);
    *(void **)&cf = dlsym(RTLD_DEFAULT, "cfree");
    if (cf) cf(malloc(123));
    check("cfree (where the process exports it) frees a malloc block", 1);
}

/* glibc exports these two as well: under the preload they must not reach glibc's own heap */
static void libc_page_names(void) {
    char *v = __libc_valloc(5000), *pv = __libc_pvalloc(5000);
    int ok = v && pv && aligned(v, 4096) && aligned(pv, 4096);
    memset(v, 3, 5000);
    ok &= malloc_usable_size(pv) >= 8192;
    free(v);
    free(pv);
    check("__libc_valloc/__libc_pvalloc blocks sized and freed by malloc_usable_size and free", ok);
}

static void usable_sizes(void) {
    int ok = 1;
    for (size_t n = 0; n <= 70000; n = n < 64 ? n + 1 : n * 5 / 4) {
        unsigned char *p = malloc(n);
        size_t u = malloc_usable_size(p);
        ok &= p && u >= n;
        memset(p, 0xa5, u); /* the whole usable size is the caller's */
        p = realloc(p, u + 1);
        ok &= p && malloc_usable_size(p) > u && p[u - (u > 0)] == (u ? 0xa5 : p[0]);
        free(p);
    }
    ok &= malloc_usable_size(NULL) == 0;
    void *q;
    ok &= posix_memalign(&q, 256, 1000) == 0 && aligned(q, 256) && malloc_usable_size(q) >= 1000;
    free(q);
    check("malloc_usable_size: at least the request, all of it writable, NULL gives 0", ok);
}

static void malloc_extras(void) {
    void *hold[200];
    for (int i = 0; i < 200; i++) hold[i] = malloc((size_t)i * 300 + 1);
    struct mallinfo2 mi = mallinfo2();
    const size_t limit = (size_t)1 << 48; /* a size_t gone negative is far above this */
    int ok = mi.arena < limit && mi.ordblks < limit && mi.smblks < limit && mi.hblks < limit &&
             mi.hblkhd < limit && mi.usmblks < limit && mi.fsmblks < limit && mi.uordblks < limit &&
             mi.fordblks < limit && mi.keepcost < limit;
    check("mallinfo2: every field sane", ok);
    for (int i = 0; i < 200; i += 2) free(hold[i]);
    int t = malloc_trim(0);
    check("malloc_trim(0): returns 0 or 1", t == 0 || t == 1);
    check("malloc_trim(1 MiB pad): returns 0 or 1", (t = malloc_trim(1 << 20)) == 0 || t == 1);
    for (int i = 1; i < 200; i += 2) free(hold[i]);

    /* malloc_stats writes to stderr: catch it in a file */
    char path[] = "/tmp/slabguard-malloc-stats.XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    malloc_stats();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    struct stat st;
    ok = fstat(fd, &st) == 0 && st.st_size > 0;
    close(fd);
    unlink(path);
    check("malloc_stats: prints something on stderr", ok);

    mallopt(M_MMAP_THRESHOLD, 1 << 20); /* tuning for glibc: ignored or honoured, never fatal */
    mallopt(M_ARENA_MAX, 2);
    free(malloc(2 << 20));
    check("mallopt: harmless", 1);
}

static int by_value(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

/* Blocks the C library allocates and the program frees (or hands back to the library). */
static void libc_allocations(void) {
    char *s = strdup("hello"), *t = strndup("hello world", 5);
    int ok = strcmp(s, t) == 0;
    free(s);
    free(t);
    char *a = NULL;
    ok &= asprintf(&a, "%0*d", 5000, 7) == 5000;
    free(a);
    check("strdup, strndup, asprintf", ok);

    char *buf = NULL;
    size_t cap = 0;
    FILE *mem = open_memstream(&buf, &cap);
    for (int i = 0; i < 5000; i++) fprintf(mem, "line %d\n", i);
    fclose(mem);
    FILE *in = fmemopen(buf, cap, "r");
    char *line = NULL;
    size_t lcap = 0;
    int lines = 0;
    while (getline(&line, &lcap, in) > 0) lines++;
    fclose(in);
    free(line);
    free(buf);
    check("open_memstream, fmemopen, getline", lines == 5000);

    mkdir("d", 0700);
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "d/f%02d.txt", i);
        close(open(name, O_CREAT | O_WRONLY, 0600));
    }
    char *cwd = getcwd(NULL, 0), *real = realpath("d/f07.txt", NULL);
    ok = cwd && real && strncmp(real, cwd, strlen(cwd)) == 0;
    free(cwd);
    free(real);
    struct dirent **list;
    int n = scandir("d", &list, NULL, by_name);
    ok &= n == 42 && strcmp(list[2]->d_name, "f00.txt") == 0;
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
    glob_t g;
    ok &= glob("d/f1*.txt", 0, NULL, &g) == 0 && g.gl_pathc == 10;
    globfree(&g);
    check("getcwd(NULL), realpath(NULL), scandir, glob", ok);

    regex_t re;
    ok = regcomp(&re, "^(a|b)+c{2,5}$", REG_EXTENDED) == 0;
    ok &= regexec(&re, "ababcccc", 0, NULL, 0) == 0 && regexec(&re, "abc", 0, NULL, 0) != 0;
    regfree(&re);
    int *big = malloc(200000 * sizeof *big);
    for (int i = 0; i < 200000; i++) big[i] = (i * 7919) % 200000;
    qsort(big, 200000, sizeof *big, by_value); /* glibc's merge sort takes a buffer from malloc */
    for (int i = 1; i < 200000; i++) ok &= big[i - 1] <= big[i];
    free(big);
    check("regcomp/regfree, qsort of a large array", ok);
}

/* One part per run (argv[1]), so that a crash in one does not hide the others. */
int main(int argc, char **argv) {
    static const struct { const char *name; void (*run)(void); } parts[] = {
        { "libc-names", libc_names },         { "libc-page-names", libc_page_names },
        { "usable-size", usable_sizes },      { "malloc-extras", malloc_extras },
        { "libc-allocations", libc_allocations },
    };
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ran = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (argc < 2 || strcmp(argv[1], parts[i].name) == 0) {
            parts[i].run();
            ran++;
        }
    if (!ran) {
        fprintf(stderr, "usage: glibc_api [libc-names|libc-page-names|usable-size|malloc-extras|libc-allocations]\n");
        return 2;
    }
    printf("%d failed\n", failures);
    return failures != 0;
}
