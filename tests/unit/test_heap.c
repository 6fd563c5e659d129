/* Unit tests of src/heap.c: thread heaps, cross-thread frees, abandoned pages handed on. */
#include "../check.h"
#include "internal.h"

#include <pthread.h>

enum { N = 4000 };
static void *blocks[N];

static void *alloc_and_exit(void *arg) {
    size_t size = (size_t)arg;
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(size);
        memset(blocks[i], 0x5a, size);
    }
    return NULL;
}

static void run_thread(void *(*fn)(void *), void *arg) {
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0) abort();
    pthread_join(t, NULL);
}

/* A thread allocates and exits: its pages are abandoned, not lost; freeing the blocks from
 * another thread, then allocating the same size, reuses them. */
static void test_exited_thread_pages_are_handed_on(void) {
    sg_stats_t before, after_exit, after_free;
    sg_stats_get(&before);
    run_thread(alloc_and_exit, (void *)(size_t)100);
    sg_stats_get(&after_exit);
    CHECK(after_exit.pages_abandoned > before.pages_abandoned, "no page abandoned (%zu -> %zu)",
          before.pages_abandoned, after_exit.pages_abandoned);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 100; j++)
            REQUIRE(((unsigned char *)blocks[i])[j] == 0x5a, "block %d changed after its thread exited", i);
        free(blocks[i]);
    }
    /* allocating that class adopts the abandoned pages instead of making new ones */
    void *p[64];
    for (int i = 0; i < 64; i++) p[i] = malloc(100);
    sg_stats_get(&after_free);
    CHECK(after_free.pages_abandoned < after_exit.pages_abandoned, "abandoned pages not adopted (%zu -> %zu)",
          after_exit.pages_abandoned, after_free.pages_abandoned);
    for (int i = 0; i < 64; i++) free(p[i]);
}

/* Thread churn: pages do not pile up. */
static void *churn(void *arg) {
    (void)arg;
    void *p[200];
    for (int i = 0; i < 200; i++) p[i] = malloc((size_t)(16 + (i * 37) % 2000));
    for (int i = 0; i < 200; i += 2) free(p[i]);
    for (int i = 1; i < 200; i += 2) free(p[i]);
    return NULL;
}

static void test_thread_churn_is_bounded(void) {
    for (int i = 0; i < 50; i++) run_thread(churn, NULL);
    sg_stats_t a, b;
    sg_stats_get(&a);
    for (int i = 0; i < 500; i++) run_thread(churn, NULL);
    sg_stats_get(&b);
    printf("# pages after 50 threads: %zu, after 550: %zu\n", a.pages, b.pages);
    CHECK(b.pages <= a.pages + 8, "pages grew with thread churn: %zu -> %zu", a.pages, b.pages);
}

/* Blocks freed by another thread into a full page come back to the owner. */
static void *free_all(void *arg) {
    (void)arg;
    for (int i = 0; i < N; i++) free(blocks[i]);
    return NULL;
}

static void test_remote_frees_return_to_owner(void) {
    for (int i = 0; i < N; i++) blocks[i] = malloc(48);
    sg_stats_t a, b;
    sg_stats_get(&a);
    run_thread(free_all, NULL);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) blocks[i] = malloc(48);
        run_thread(free_all, NULL);
    }
    sg_stats_get(&b);
    CHECK(b.pages <= a.pages + 2, "pages grew although blocks came back: %zu -> %zu", a.pages, b.pages);
}

/* Pages emptied by another thread's frees go back to the arena even when their owner never
 * allocates their size again: each round the main thread fills about 4 MB of pages with a size it
 * has not used, a second thread frees them all, and the main thread moves on to the next size.
 * Keeping them would add a round's pages every round. */
static int remote_count;

static void *free_them(void *arg) {
    void **b = arg;
    for (int i = 0; i < remote_count; i++) free(b[i]);
    /* secure builds: push them out of this thread's quarantine, which would otherwise keep
     * (and hand on at exit) the last few hundred, pinning their pages */
    for (int i = 0; i < 3000; i++) free(malloc(64));
    return NULL;
}

static void test_remotely_emptied_pages_go_back(void) {
    enum { ROUNDS = 10, BYTES = 4000000 };
    sg_stats_t s;
    size_t first = 0, last = 0;
    for (int round = 0; round < ROUNDS; round++) {
        size_t size = 1000 + (size_t)round * 200;
        remote_count = (int)(BYTES / size) < N ? (int)(BYTES / size) : N;
        for (int i = 0; i < remote_count; i++) {
            blocks[i] = malloc(size);
            REQUIRE(blocks[i], "malloc");
        }
        sg_stats_get(&s);
        if (round == 0) first = s.pages;
        last = s.pages;
        printf("# round %d (%d blocks of %zu): %zu pages in use\n", round, remote_count, size, s.pages);
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, free_them, blocks) == 0 && pthread_join(t, NULL) == 0, "thread");
    }
    CHECK(last < 3 * first, "%zu pages in use in the last round (%zu in the first)", last, first);
}

int main(void) {
    RUN(test_remotely_emptied_pages_go_back);
    RUN(test_exited_thread_pages_are_handed_on);
    RUN(test_thread_churn_is_bounded);
    RUN(test_remote_frees_return_to_owner);
    return check_exit();
}
