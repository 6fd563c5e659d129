/* plugin.c: a shared library loaded with dlopen() by dlopen_main.c (tests/preload/corners.sh).
 * Its constructor, destructor and functions allocate and free, so that under LD_PRELOAD the
 * allocations of a library loaded late go through slabguard like everyone else's, and blocks
 * cross the boundary both ways (the plugin frees what the program allocated and back). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int plugin_table_sum(void);
char *plugin_make(int n);
size_t plugin_take(char *s);
int plugin_thread_value(int n);

static int *table;
static char *name;
static pthread_key_t key;

/* Runs at every dlopen that maps the library (dlclose unmaps it again). */
__attribute__((constructor)) static void plugin_init(void) {
    table = malloc(100 * sizeof *table);
    for (int i = 0; i < 100; i++) table[i] = i;
    name = strdup("plugin");
    table = realloc(table, 1000 * sizeof *table);
    for (int i = 100; i < 1000; i++) table[i] = i;
    pthread_key_create(&key, free);
}

__attribute__((destructor)) static void plugin_fini(void) {
    free(table);
    free(name);
    table = NULL;
    name = NULL;
    pthread_key_delete(key);
}

int plugin_table_sum(void) {
    int s = 0;
    for (int i = 0; i < 1000; i++) s += table[i];
    return s + (int)strlen(name);
}

/* A string the caller frees: grown with realloc, as a parser would. */
char *plugin_make(int n) {
    size_t cap = 8, len = 0;
    char *s = malloc(cap);
    for (int i = 0; i < n; i++) {
        char part[16];
        int k = snprintf(part, sizeof part, "%d,", i);
        if (len + (size_t)k + 1 > cap) {
            cap *= 2;
            s = realloc(s, cap);
        }
        memcpy(s + len, part, (size_t)k);
        len += (size_t)k;
    }
    s[len] = '\0';
    return s;
}

/* Frees a string the caller allocated. */
size_t plugin_take(char *s) {
    size_t n = strlen(s);
    free(s);
    return n;
}

/* A per-thread value freed by the key's destructor when the thread exits: that free runs after
 * the allocator's own thread-exit work, whichever key was created first. */
int plugin_thread_value(int n) {
    int *v = pthread_getspecific(key);
    if (!v) {
        v = calloc(64, sizeof *v);
        pthread_setspecific(key, v);
    }
    v[n % 64] += n;
    return v[n % 64];
}
