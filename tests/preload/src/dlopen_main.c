/* dlopen_main.c: loads plugin.so (given as argv[1]) with dlopen() again and again, from the main
 * thread and from short-lived threads, with RTLD_LOCAL and RTLD_GLOBAL, and passes blocks across
 * the boundary. Prints what it computed; tests/preload/corners.sh compares it with glibc's run. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int (*table_sum)(void);
    char *(*make)(int);
    size_t (*take)(char *);
    int (*thread_value)(int);
} plugin_t;

static const char *path;

static void *load(plugin_t *p, int flags) {
    void *h = dlopen(path, flags);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        exit(1);
    }
    *(void **)&p->table_sum = dlsym(h, "plugin_table_sum");
    *(void **)&p->make = dlsym(h, "plugin_make");
    *(void **)&p->take = dlsym(h, "plugin_take");
    *(void **)&p->thread_value = dlsym(h, "plugin_thread_value");
    if (!p->table_sum || !p->make || !p->take || !p->thread_value) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        exit(1);
    }
    return h;
}

/* One round: the plugin's string freed here, ours freed there. */
static unsigned long round_trip(const plugin_t *p, int n) {
    char *s = p->make(n);
    unsigned long sum = strlen(s);
    free(s);
    char *mine = malloc((size_t)n * 3 + 1);
    memset(mine, 'x', (size_t)n * 3);
    mine[n * 3] = '\0';
    sum += p->take(mine);
    return sum + (unsigned long)p->table_sum();
}

static void *thread_main(void *arg) {
    int n = *(int *)arg;
    plugin_t p;
    void *h = load(&p, RTLD_NOW | RTLD_LOCAL);
    unsigned long sum = 0;
    for (int i = 0; i < 50; i++) sum += round_trip(&p, n + i) + (unsigned long)p.thread_value(i);
    /* the thread exits holding a per-thread block of the plugin: its key destructor frees it */
    dlclose(h);
    unsigned long *out = malloc(sizeof *out);
    *out = sum;
    return out;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    path = argv[1];
    unsigned long total = 0;
    for (int i = 0; i < 60; i++) {
        plugin_t p;
        void *h = load(&p, RTLD_NOW | (i % 2 ? RTLD_GLOBAL : RTLD_LOCAL));
        total += round_trip(&p, 100 + i * 37);
        total += (unsigned long)p.thread_value(i);
        if (dlclose(h) != 0) {
            fprintf(stderr, "dlclose: %s\n", dlerror());
            return 1;
        }
    }
    printf("main thread: 60 dlopen/dlclose rounds, checksum %lu\n", total);

    /* threads that load the library themselves, while the main thread holds it too */
    plugin_t p;
    void *h = load(&p, RTLD_NOW | RTLD_GLOBAL);
    pthread_t t[4];
    int arg[4];
    for (int i = 0; i < 4; i++) {
        arg[i] = 10 * i;
        if (pthread_create(&t[i], NULL, thread_main, &arg[i]) != 0) return 1;
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        printf("thread %d: checksum %lu\n", i, *(unsigned long *)r);
        free(r);
    }
    printf("after threads: table sum %d\n", p.table_sum());
    dlclose(h);
    return 0;
}
