/* fuzz/driver_afl.c: the AFL++ persistent-mode target (build with afl-clang-fast).
 *
 * Default target: the interpreter (harness.c). With -DSGF_TARGET_MISUSE: the misuse harness,
 * which crashes when a bug goes undetected (classes named in $FUZZ_MISUSE_GAPS, a file like
 * fuzz/misuse-known-gaps.txt, are tolerated). Environment: FUZZ_THREADS, FUZZ_BURST=1.
 * Built with a plain compiler it reads one input from stdin, so crashes replay anywhere. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#ifdef SGF_TARGET_MISUSE
#include "misuse.h"
#endif

#ifndef __AFL_FUZZ_TESTCASE_LEN
/* Outside afl-clang-fast: one input from stdin. */
static unsigned char stdin_buf[SGF_MAX_OPS * SGF_RECORD + SGF_RECORD];
static ssize_t stdin_len;
static int stdin_done;
#define __AFL_FUZZ_INIT() struct sgf_afl_unused
#define __AFL_INIT() (stdin_len = read(0, stdin_buf, sizeof stdin_buf))
#define __AFL_FUZZ_TESTCASE_BUF stdin_buf
#define __AFL_FUZZ_TESTCASE_LEN ((size_t)(stdin_len > 0 ? stdin_len : 0))
#define __AFL_LOOP(n) (!stdin_done++)
#endif

__AFL_FUZZ_INIT();

int main(void)
{
    sgf_options_t opt = {0};
    const char *env = getenv("FUZZ_THREADS");
    if (env)
        opt.threads = atoi(env);
    env = getenv("FUZZ_BURST");
    opt.burst = env && *env == '1';
#ifdef SGF_TARGET_MISUSE
    unsigned gaps = 0;
    env = getenv("FUZZ_MISUSE_GAPS");
    if (env && sgf_misuse_load_gaps(env, &gaps))
        return 2;
#endif
    __AFL_INIT();
    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(1000)) {
        size_t len = __AFL_FUZZ_TESTCASE_LEN;
#ifdef SGF_TARGET_MISUSE
        sgf_misuse_result_t res;
        (void)opt;
        sgf_misuse_run(buf, len, &res);
        if (!sgf_misuse_detected(res.cls, res.outcome) && !(gaps & (1u << res.cls)))
            sgf_fail("misuse %s of a %zu-byte block: %s: %s", sgf_misuse_class_name(res.cls),
                     res.size, sgf_misuse_outcome_name(res.outcome), res.detail);
#else
        sgf_run(buf, len, &opt);
#endif
    }
    return 0;
}
