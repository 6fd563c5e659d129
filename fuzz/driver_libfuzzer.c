/* fuzz/driver_libfuzzer.c: the libFuzzer target (clang -fsanitize=fuzzer). libFuzzer's own
 * runtime allocates too, so linking slabguard's archive puts libFuzzer itself on slabguard.
 * Environment: FUZZ_THREADS, FUZZ_BURST=1. */
#include <stdlib.h>

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sgf_options_t opt;
    static int ready;
    if (!ready) {
        const char *env = getenv("FUZZ_THREADS");
        opt.threads = env ? atoi(env) : 0;
        env = getenv("FUZZ_BURST");
        opt.burst = env && *env == '1';
        opt.no_leak_watch = 1;   /* its corpus lives on the same heap */
        ready = 1;
    }
    sgf_run(data, size, &opt);
    return 0;
}
