/* tests/stress/threads.c: thread churn must not leak.
 * - 2000 short-lived threads, 8 at a time. Each allocates a few hundred blocks, frees most of
 *   them, and leaves some in a shared mailbox for a later thread to free; it also frees what
 *   earlier threads left there. The resident set after the last 200 threads stays within a
 *   bound of the resident set after the first 200.
 * - 2000 threads whose thread-specific destructor allocates in every round the C library runs,
 *   also after slabguard's own destructor has handed the thread's heap on.
 * - A thread fills pages and exits; another thread frees every block: the pages go back. */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../check.h"
#ifndef SG_TEST_GLIBC
#include "slabguard.h"
#endif

#define TOTAL_THREADS 2000
#define WAVE 8
#define BLOCKS_PER_THREAD 300
#define LEFT_PER_THREAD 8
#define MAILBOX 256
#define GROWTH_LIMIT ((size_t)24 << 20) /* one leaked 64 KiB page per thread would be 112 MiB */

typedef struct header_s {
    uint64_t id;
    uint64_t size;
} header_t;

static _Atomic(uintptr_t) mailbox[MAILBOX];
static atomic_ullong next_id = 1, damaged, failures;
static atomic_ullong left_count, collected_count;

static unsigned char *make(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    size_t n = (r & 31) == 0 ? 8192 + (r >> 20) % 60000 : sizeof(header_t) + 1 + (r >> 20) % 4096;
    unsigned char *p = malloc(n);
    if (p == NULL) {
        atomic_fetch_add(&failures, 1);
        return NULL;
    }
    header_t h = {atomic_fetch_add(&next_id, 1), n};
    memcpy(p, &h, sizeof h);
    size_t lim = n - 1 < 256 ? n - 1 : 256; /* the last byte is the id's low byte */
    for (size_t i = sizeof h; i < lim; i++)
        p[i] = pattern_byte(h.id, i);
    p[n - 1] = (unsigned char)h.id;
    return p;
}

static void retire(unsigned char *p)
{
    header_t h;
    memcpy(&h, p, sizeof h);
    int ok = h.id != 0 && h.id < atomic_load(&next_id) && h.size > sizeof h && h.size < 70000;
    if (ok) {
        size_t lim = h.size - 1 < 256 ? h.size - 1 : 256;
        for (size_t i = sizeof h; i < lim && ok; i++)
            ok = p[i] == pattern_byte(h.id, i);
        ok = ok && p[h.size - 1] == (unsigned char)h.id;
    }
    if (!ok) {
        atomic_fetch_add(&damaged, 1);
        return;
    }
    free(p);
}

static void *short_lived(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x2545f4914f6cdd1du + 3;
    unsigned char *blocks[BLOCKS_PER_THREAD];
    for (int i = 0; i < BLOCKS_PER_THREAD; i++)
        blocks[i] = make(&rng);
    /* free most in a shuffled order, keep LEFT_PER_THREAD for the mailbox */
    for (int i = BLOCKS_PER_THREAD - 1; i > 0; i--) {
        int j = (int)(rng_next(&rng) % (uint64_t)(i + 1));
        unsigned char *t = blocks[i];
        blocks[i] = blocks[j], blocks[j] = t;
    }
    for (int i = LEFT_PER_THREAD; i < BLOCKS_PER_THREAD; i++)
        if (blocks[i] != NULL)
            retire(blocks[i]);
    for (int i = 0; i < LEFT_PER_THREAD; i++) {
        size_t s = rng_next(&rng) % MAILBOX;
        uintptr_t old = atomic_exchange(&mailbox[s], (uintptr_t)blocks[i]);
        if (blocks[i] != NULL)
            atomic_fetch_add(&left_count, 1);
        if (old != 0) {
            atomic_fetch_add(&collected_count, 1);
            retire((unsigned char *)old);
        }
    }
    return NULL;
}

static void test_thread_churn(void)
{
    size_t rss_first = 0, rss_last = 0, rss_max = 0;
    for (int started = 0; started < TOTAL_THREADS; started += WAVE) {
        pthread_t th[WAVE];
        for (int i = 0; i < WAVE; i++)
            REQUIRE(pthread_create(&th[i], NULL, short_lived,
                                   (void *)(uintptr_t)(started + i + 1)) == 0,
                    "pthread_create failed at thread %d", started + i);
        for (int i = 0; i < WAVE; i++)
            pthread_join(th[i], NULL);
        size_t rss = resident_bytes();
        if (started + WAVE <= 200 && rss > rss_first)
            rss_first = rss; /* the peak over the first 200 threads */
        if (started + WAVE > TOTAL_THREADS - 200 && rss > rss_last)
            rss_last = rss;  /* the peak over the last 200 */
        if (rss > rss_max)
            rss_max = rss;
    }
    for (size_t s = 0; s < MAILBOX; s++) {
        uintptr_t old = atomic_exchange(&mailbox[s], 0);
        if (old != 0) {
            atomic_fetch_add(&collected_count, 1);
            retire((unsigned char *)old);
        }
    }
    printf("# resident: first 200 threads %zu KiB, last 200 %zu KiB, peak %zu KiB\n",
           rss_first >> 10, rss_last >> 10, rss_max >> 10);
    CHECK(atomic_load(&failures) == 0, "%llu allocations failed",
          (unsigned long long)atomic_load(&failures));
    CHECK(atomic_load(&damaged) == 0, "%llu blocks damaged", (unsigned long long)atomic_load(&damaged));
    CHECK(atomic_load(&left_count) == atomic_load(&collected_count),
          "left %llu blocks in the mailbox, collected %llu",
          (unsigned long long)atomic_load(&left_count),
          (unsigned long long)atomic_load(&collected_count));
    CHECK(rss_first > 0, "could not read /proc/self/statm");
    CHECK(rss_last <= rss_first + GROWTH_LIMIT,
          "resident grew from %zu KiB (first 200 threads) to %zu KiB (last 200): thread churn leaks",
          rss_first >> 10, rss_last >> 10);
#ifndef SG_TEST_GLIBC
    sg_stats_t st;
    sg_stats_get(&st);
    printf("# sg_stats: threads %zu, pages %zu, abandoned %zu, mapped %zu KiB\n", st.threads,
           st.pages, st.pages_abandoned, st.mapped >> 10);
    CHECK(st.threads <= 1 + WAVE, "sg_stats says %zu thread heaps alive after all joined",
          st.threads);
#endif
}

/* A destructor that allocates, frees, and sets its key again, so that it runs in every round
 * of destructors (PTHREAD_DESTRUCTOR_ITERATIONS), after slabguard's own destructor in each:
 * every round but the last gets a new heap; none may be left behind. */
static pthread_key_t late_key;
static atomic_ullong late_failures;

static void late_destructor(void *arg)
{
    (void)arg;
    unsigned char *p = malloc(100);
    if (p == NULL) {
        atomic_fetch_add(&late_failures, 1);
        return;
    }
    pattern_fill(p, 100, 7);
    if (pattern_check(p, 100, 7) != SIZE_MAX)
        atomic_fetch_add(&late_failures, 1);
    free(p);
    pthread_setspecific(late_key, (void *)1);
}

static void *late_thread(void *arg)
{
    (void)arg;
    free(opaque_ptr(malloc(32))); /* the thread has a heap */
    pthread_setspecific(late_key, (void *)1);
    return NULL;
}

static void test_destructor_allocates_in_every_round(void)
{
    REQUIRE(pthread_key_create(&late_key, late_destructor) == 0, "pthread_key_create failed");
    size_t before = resident_bytes();
    for (int i = 0; i < TOTAL_THREADS; i++) {
        pthread_t th;
        REQUIRE(pthread_create(&th, NULL, late_thread, NULL) == 0, "pthread_create failed at %d", i);
        pthread_join(th, NULL);
    }
    size_t after = resident_bytes();
    printf("# resident: %zu KiB before, %zu KiB after %d threads\n", before >> 10, after >> 10,
           TOTAL_THREADS);
    CHECK(atomic_load(&late_failures) == 0, "%llu allocations in destructors failed or were damaged",
          (unsigned long long)atomic_load(&late_failures));
    /* a heap and its pages left behind per thread: about 40 MiB */
    CHECK(before > 0 && after <= before + ((size_t)8 << 20),
          "resident grew from %zu KiB to %zu KiB: heaps made in destructors are left behind",
          before >> 10, after >> 10);
#ifndef SG_TEST_GLIBC
    sg_stats_t st;
    sg_stats_get(&st);
    CHECK(st.threads <= 2, "sg_stats says %zu thread heaps alive after all joined", st.threads);
#endif
    pthread_key_delete(late_key);
}

/* Pages of an exited thread, emptied by another thread's frees, go back to the arena even when
 * no thread asks for their size again (they are not adopted): malloc_trim returns them to the
 * kernel, and the statistics count no block in them. */
#define EXITED_BLOCKS 20000
#define EXITED_SIZE 3000
static unsigned char *exited_blocks[EXITED_BLOCKS];

static void *fill_and_exit(void *arg)
{
    (void)arg;
    for (int i = 0; i < EXITED_BLOCKS; i++) {
        exited_blocks[i] = malloc(EXITED_SIZE);
        if (exited_blocks[i] != NULL)
            memset(exited_blocks[i], 0x33, EXITED_SIZE);
    }
    return NULL;
}

static void test_pages_of_exited_thread_go_back(void)
{
#ifndef SG_TEST_GLIBC
    /* what earlier cases left: blocks of exited threads still in the shared quarantine ring
     * keep their pages abandoned */
    sg_stats_t st0;
    sg_stats_get(&st0);
#endif
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, fill_and_exit, NULL) == 0, "pthread_create failed");
    pthread_join(th, NULL);
    size_t full = resident_bytes();
    for (int i = 0; i < EXITED_BLOCKS; i++) {
        REQUIRE(exited_blocks[i] != NULL, "malloc(%d) failed", EXITED_SIZE);
        free(exited_blocks[i]);
    }
    /* push the last frees out of this thread's quarantine (256 slots, random exits) */
    for (int i = 0; i < 8000; i++)
        free(opaque_ptr(malloc(16)));
    malloc_trim(0);
    size_t trimmed = resident_bytes();
    printf("# resident: %zu KiB with the blocks, %zu KiB after they were freed and trimmed\n",
           full >> 10, trimmed >> 10);
    /* the blocks took about 60 MiB */
    CHECK(full > 0 && trimmed + ((size_t)40 << 20) <= full,
          "resident went from %zu KiB to only %zu KiB: the exited thread's pages stayed", full >> 10,
          trimmed >> 10);
#ifndef SG_TEST_GLIBC
    sg_stats_t st;
    sg_stats_get(&st);
    printf("# sg_stats: pages %zu, abandoned %zu, allocated %zu bytes\n", st.pages, st.pages_abandoned,
           st.allocated);
    CHECK(st.pages_abandoned <= st0.pages_abandoned, "%zu abandoned pages left (%zu before)",
          st.pages_abandoned, st0.pages_abandoned);
    CHECK(st.allocated < st0.allocated + ((size_t)1 << 20),
          "sg_stats counts %zu bytes allocated (%zu before), the freed blocks are still counted",
          st.allocated, st0.allocated);
#endif
}

int main(void)
{
    RUN(test_thread_churn);
    RUN(test_destructor_allocates_in_every_round);
    RUN(test_pages_of_exited_thread_go_back);
    return check_exit();
}
