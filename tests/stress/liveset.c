/* tests/stress/liveset.c: a live set of fixed shape is churned round after round (every block
 * replaced by one of a new random size); memory that is freed must be reused, so the resident
 * set stays flat. Once in one thread, once with two threads where every free is cross-thread. */
#include <pthread.h>

#include "../check.h"

#define SLOTS 20000
#define ROUNDS 24
#define WARMUP 4
/* Allowed growth over the peak of the warm-up rounds. A live set of ~40 MiB: keeping the freed
 * blocks of each round instead of reusing them would add that much per round. */
#define GROWTH_FACTOR_NUM 3
#define GROWTH_FACTOR_DEN 2
#define GROWTH_SLACK ((size_t)16 << 20)

static unsigned char *blocks[SLOTS];
static size_t sizes[SLOTS];

static size_t pick(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    if (r % 500 == 0)
        return 65536 + (r >> 24) % (1u << 20); /* large: 0.2 % */
    if (r % 10 == 0)
        return 1024 + (r >> 24) % 32768;       /* medium: 10 % */
    return 1 + (r >> 24) % 1024;               /* small */
}

static int replace(size_t i, uint64_t *rng, uint64_t round)
{
    if (blocks[i] != NULL) {
        if ((sizes[i] > 1 && blocks[i][0] != (unsigned char)(i + round - 1)) ||
            blocks[i][sizes[i] - 1] != (unsigned char)(i * 3 + round - 1))
            return -1;
        free(blocks[i]);
    }
    sizes[i] = pick(rng);
    blocks[i] = malloc(sizes[i]);
    if (blocks[i] == NULL)
        return -2;
    memset(blocks[i], (unsigned char)(i + round), sizes[i]); /* touch it all */
    blocks[i][sizes[i] - 1] = (unsigned char)(i * 3 + round);
    return 0;
}

static void free_all(void)
{
    for (size_t i = 0; i < SLOTS; i++) {
        free(blocks[i]);
        blocks[i] = NULL;
    }
}

// ---- two persistent workers, swapping halves every round ---------------------------------------

typedef struct worker_s {
    int index;
    uint64_t rng;
    int err;
} worker_t;

static pthread_barrier_t round_start, round_end;
static uint64_t current_round; /* written by main between the barriers */

static void *worker(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        pthread_barrier_wait(&round_start);
        uint64_t round = current_round;
        if (round == 0)
            return NULL; /* done */
        /* the halves alternate: each frees the blocks the other allocated a round before */
        size_t half = (size_t)((w->index + round) & 1);
        for (size_t i = half * (SLOTS / 2); i < (half + 1) * (SLOTS / 2) && w->err == 0; i++)
            w->err = replace(i, &w->rng, round);
        pthread_barrier_wait(&round_end);
    }
}

static void churn(int threads)
{
    size_t warm_peak = 0, late_peak = 0;
    uint64_t rng = 0x51ab;
    worker_t w[2] = {{0, 0x7ea5e, 0}, {1, 0xb0b, 0}};
    pthread_t th[2];
    if (threads == 2) {
        pthread_barrier_init(&round_start, NULL, 3);
        pthread_barrier_init(&round_end, NULL, 3);
        for (int t = 0; t < 2; t++)
            REQUIRE(pthread_create(&th[t], NULL, worker, &w[t]) == 0, "pthread_create");
    }
    for (uint64_t round = 1; round <= ROUNDS; round++) {
        if (threads == 1) {
            for (size_t i = 0; i < SLOTS; i++) {
                int e = replace(i, &rng, round);
                REQUIRE(e == 0, "round %llu slot %zu: %s", (unsigned long long)round, i,
                        e == -1 ? "block damaged" : "malloc failed");
            }
        } else {
            current_round = round;
            pthread_barrier_wait(&round_start);
            pthread_barrier_wait(&round_end);
            if (w[0].err || w[1].err)
                break;
        }
        size_t rss = resident_bytes();
        if (round <= WARMUP && rss > warm_peak)
            warm_peak = rss;
        if (round > WARMUP && rss > late_peak)
            late_peak = rss;
    }
    if (threads == 2) {
        current_round = 0;
        pthread_barrier_wait(&round_start);
        for (int t = 0; t < 2; t++)
            pthread_join(th[t], NULL);
        pthread_barrier_destroy(&round_start);
        pthread_barrier_destroy(&round_end);
        int e = w[0].err ? w[0].err : w[1].err;
        REQUIRE(e == 0, "%s", e == -1 ? "block damaged" : "malloc failed");
    }
    size_t live = 0;
    for (size_t i = 0; i < SLOTS; i++)
        live += sizes[i];
    free_all();
    printf("# live %zu KiB; resident: warm-up peak %zu KiB, later peak %zu KiB\n", live >> 10,
           warm_peak >> 10, late_peak >> 10);
    size_t limit = warm_peak / GROWTH_FACTOR_DEN * GROWTH_FACTOR_NUM + GROWTH_SLACK;
    CHECK(late_peak <= limit, "resident grew from %zu KiB to %zu KiB (limit %zu KiB) under churn",
          warm_peak >> 10, late_peak >> 10, limit >> 10);
}

static void test_churn_one_thread(void) { churn(1); }
static void test_churn_cross_thread(void) { churn(2); }

int main(void)
{
    RUN(test_churn_one_thread);
    RUN(test_churn_cross_thread);
    return check_exit();
}
