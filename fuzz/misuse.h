/* fuzz/misuse.h: real heap bugs after a fuzzed prefix, run in a forked child, judged by how the
 * child dies. The secure variant must abort (SIGABRT) with the class's report naming the
 * pointer the bug used: "slabguard: double free of 0x... (size n)", n the request where the
 * report gives the block's own size (double free, overflow, realloc after free).
 *
 * Input: [class][param][size b][size c] then a prefix program in the fuzz/ops.h encoding, run
 * on one thread with its blocks left live, so the bug happens in a heap of arbitrary shape. */
#ifndef SGF_MISUSE_H
#define SGF_MISUSE_H

#include <stddef.h>
#include <stdint.h>

enum sgf_misuse_class {
    SGF_MISUSE_DOUBLE_FREE,       /* free(p); free(p) */
    SGF_MISUSE_INTERIOR_FREE,     /* free(p + k), 0 < k < usable */
    SGF_MISUSE_OVERFLOW,          /* write from the request's end to n bytes past the usable end,
                                     then free (or realloc) */
    SGF_MISUSE_WRITE_AFTER_FREE,  /* free(p); p[k] = x, k = {0, 8, usable/2, usable-1}[param%4];
                                     allocate the same size until p returns */
    SGF_MISUSE_INVALID_FREE,      /* free of a pointer malloc never returned (stack, static, mmap,
                                     the slot after a block) */
    SGF_MISUSE_REALLOC_AFTER_FREE,/* free(p); realloc(p, n) */
    SGF_MISUSE_SIZED_FREE,        /* free_sized(p, n) with n other than the request */
    SGF_MISUSE_COUNT
};

enum sgf_misuse_outcome {
    SGF_CAUGHT,       /* SIGABRT and the class's report, naming the pointer */
    SGF_FAULTED,      /* SIGSEGV/SIGBUS: a guard page or PROT_NONE memory stopped it */
    SGF_ABORT_OTHER,  /* SIGABRT with another message (another report, glibc's, the harness's) */
    SGF_NOT_CAUGHT,   /* the child ran to its end */
    SGF_HUNG,         /* the child did not finish in time */
    SGF_OTHER         /* any other death */
};

typedef struct sgf_misuse_result {
    int outcome;
    int cls;
    size_t size;
    char detail[200]; /* first stderr line, or why it was not caught */
    char what[160];   /* what the child did ("wrote 1 byte at offset 8 of a freed ...") */
} sgf_misuse_result_t;

const char *sgf_misuse_class_name(int cls);
int sgf_misuse_class_from_name(const char *name);
const char *sgf_misuse_outcome_name(int outcome);

/* Run one input in a forked child; fills *res. */
void sgf_misuse_run(const uint8_t *data, size_t size, sgf_misuse_result_t *res);

/* Whether an outcome counts as detection for this class: SGF_CAUGHT always; SGF_FAULTED for
 * overflow and write after free, which guard pages and PROT_NONE quarantine stop by design. */
int sgf_misuse_detected(int cls, int outcome);

/* Read a known-gaps file (one class name per line, '#' comments) into a bit mask of classes;
 * returns 0, or -1 if the file cannot be read or names an unknown class (printed on stderr). */
int sgf_misuse_load_gaps(const char *path, unsigned *mask);

#endif /* SGF_MISUSE_H */
