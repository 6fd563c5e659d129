/* fuzz/harness.h: the allocator-operation interpreter shared by every fuzz driver.
 *
 * sgf_run() decodes an input (fuzz/ops.h) into a program of allocator calls spread over
 * SGF_LTHREADS logical threads, runs it on up to FUZZ_THREADS OS threads in a schedule fixed by
 * the input, checks every answer against a shadow model and aborts with a message naming the op
 * on the first mismatch. It returns a digest of the observable answers (NULL or not, errno,
 * return codes) that must be the same for every correct allocator: fast, secure and glibc. */
#ifndef SGF_HARNESS_H
#define SGF_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ops.h"

/* OS threads that carry the logical threads (logical t runs on t % threads). 1 runs everything
 * on the calling thread, for minimising. The digest does not depend on it. */
#ifndef FUZZ_THREADS
#define FUZZ_THREADS 4
#endif

#define SGF_MAX_OPS 4096                  /* records decoded per input; the rest is ignored */
#define SGF_LIVE_CAP ((size_t)64 << 20)   /* total requested bytes live at once */
#define SGF_WORK_CAP ((size_t)16 << 20)   /* total requested bytes allocated per input */
#define SGF_MAX_SIZE ((size_t)16 << 20)   /* largest single request that must succeed */

typedef struct sgf_options {
    int threads; /* 1..SGF_LTHREADS; 0 = FUZZ_THREADS */
    int burst;   /* 1: run BURST sections of the input concurrently (races; digest unchanged) */
    FILE *trace; /* one line per executed op, or NULL */
    int keep;    /* 1: leave the blocks still live at the end allocated (misuse harness) */
    int no_leak_watch; /* 1: the program allocates for itself meanwhile (libFuzzer's runtime):
                          no check that pages and large blocks are given back (exec.c) */
} sgf_options_t;

/* Run one input; abort()s on a wrong answer. Returns the digest of observable answers. */
uint64_t sgf_run(const uint8_t *data, size_t size, const sgf_options_t *opt);

/* Decoded size of the pair (b, c); exported for the misuse harness and tools. */
size_t sgf_size(unsigned b, unsigned c);

/* Fatal shadow-model error: one line on stderr, then abort(). Never allocates. */
__attribute__((noreturn, format(printf, 1, 2))) void sgf_fail(const char *fmt, ...);

/* The allocator under test: the libc names (which are slabguard's when a static archive is
 * linked), or the sg_ names with -DSGF_USE_SG_API. */
#ifdef SGF_USE_SG_API
#include "slabguard.h"
#define SGF_FN(name) sg_##name
#else
#define SGF_FN(name) name
/* C23's sized frees: glibc has them from 2.41. Weak, so that the harness links against an older
 * one too, where their address is NULL and callers free plainly. */
void free_sized(void *p, size_t size) __attribute__((weak));
void free_aligned_sized(void *p, size_t alignment, size_t size) __attribute__((weak));
#endif

#endif /* SGF_HARNESS_H */
