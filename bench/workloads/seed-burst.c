/* seed-burst: 1000 x malloc(128), then the 1000 frees in allocation order, repeated.
 * The seed micro-benchmark of DESIGN.md: reports the mean time of one burst (ns/burst).
 * Usage: seed-burst [bursts=20000] */
#include "bench.h"

enum { BURST = 1000, SIZE = 128 };

int main(int argc, char **argv)
{
    uint64_t bursts = bench_arg(argc, argv, 1, 20000);
    static unsigned char *block[BURST];
    uint64_t sum = 0;

    uint64_t start = bench_now_ns();
    for (uint64_t b = 0; b < bursts; b++) {
        for (unsigned i = 0; i < BURST; i++) {
            unsigned char *p = bench_nonnull(malloc(SIZE), SIZE);
            p[0] = (unsigned char)(i + b);
            p[SIZE - 1] = (unsigned char)i;
            block[i] = p;
        }
        for (unsigned i = 0; i < BURST; i++) {
            unsigned char *p = block[i];
            if (p[0] != (unsigned char)(i + b) || p[SIZE - 1] != (unsigned char)i)
                bench_fail("burst %llu: block %u corrupted", (unsigned long long)b, i);
            sum += p[0] + p[SIZE - 1];
            free(p);
        }
    }
    uint64_t elapsed = bench_now_ns() - start;

    bench_metric("ns_per_burst", (double)elapsed / (double)bursts, "ns", "lower");
    bench_check(sum);
    return 0;
}
