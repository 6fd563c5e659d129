/* fuzz/misuse_main.c: the fuzz_misuse command.
 *
 *   sgf-misuse [-v] [-g GAPS] --cases   every class at sizes across the small/large range, after a
 *                                       warm-up prefix; one "ok"/"not ok" line per case
 *   sgf-misuse [-g GAPS] FILE...        run misuse inputs (misuse.h describes the format)
 *
 * A case passes when the bug is detected (misuse.h: sgf_misuse_detected); a class listed in
 * GAPS passes anyway, marked "# known gap". -v also says how each detected case was caught.
 * Exit status 1 if any case failed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "misuse.h"

static unsigned gaps;
static int verbose;
static int failures;
static unsigned detected_mask, missed_mask;

/* Find (b, c) with sgf_size(b, c) == want. */
static int size_code(size_t want, uint8_t *b, uint8_t *c)
{
    for (unsigned i = 0; i < 65536; i++)
        if (sgf_size(i >> 8, i & 255) == want) {
            *b = (uint8_t)(i >> 8);
            *c = (uint8_t)i;
            return 0;
        }
    return -1;
}

static void report(const char *name, const sgf_misuse_result_t *res)
{
    int ok = sgf_misuse_detected(res->cls, res->outcome);
    if (ok) {
        detected_mask |= 1u << res->cls;
        printf("ok %s\n", name);
        if (verbose && res->what[0])
            printf("#   %s: %s\n", res->what, res->detail);
    } else {
        missed_mask |= 1u << res->cls;
        if (gaps & (1u << res->cls)) {
            printf("ok %s # known gap: %s: %s: %s\n", name, res->what,
                   sgf_misuse_outcome_name(res->outcome), res->detail);
        } else {
            printf("not ok %s: %s: %s: %s\n", name, res->what,
                   sgf_misuse_outcome_name(res->outcome), res->detail);
            failures++;
        }
    }
    fflush(stdout);
}

/* A prefix that leaves the heap used: blocks of many sizes, every other one freed. */
static size_t warm_prefix(uint8_t *out)
{
    static const size_t sizes[] = {8, 24, 48, 100, 640, 1000, 4096, 5000, 20000, 70000};
    size_t n = 0;
    for (unsigned i = 0; i < 40; i++) {
        uint8_t b, c;
        if (size_code(sizes[i % 10], &b, &c))
            continue;
        uint8_t rec[4] = {SGF_BYTE_MALLOC, (uint8_t)i, b, c};
        memcpy(out + n, rec, 4);
        n += 4;
    }
    for (unsigned i = 0; i < 40; i += 2) {
        uint8_t rec[4] = {SGF_BYTE_FREE, (uint8_t)i, 0, 0};
        memcpy(out + n, rec, 4);
        n += 4;
    }
    return n;
}

static void run_cases(void)
{
    static const size_t sizes[] = {1, 24, 100, 1000, 4096, 20000, 100000, 1048577};
    uint8_t input[4 + 512];
    size_t prefix = warm_prefix(input + 4);
    for (int cls = 0; cls < SGF_MISUSE_COUNT; cls++) {
        for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            /* invalid-free: each kind of foreign pointer at a small and a large size;
             * write-after-free: each offset at a small, a medium and a large size */
            unsigned variants = 1;
            if (cls == SGF_MISUSE_INVALID_FREE && (k == 2 || k == 6))
                variants = 4;
            if (cls == SGF_MISUSE_WRITE_AFTER_FREE && (k == 1 || k == 3 || k == 5))
                variants = 4;
            for (unsigned v = 0; v < variants; v++) {
                unsigned param = variants > 1 ? v : k;
                input[0] = (uint8_t)cls;
                input[1] = (uint8_t)param;
                if (size_code(sizes[k], &input[2], &input[3]))
                    continue;
                sgf_misuse_result_t res;
                sgf_misuse_run(input, 4 + prefix, &res);
                char name[128];
                snprintf(name, sizeof name, "misuse %s size=%zu param=%u",
                         sgf_misuse_class_name(cls), sizes[k], param);
                report(name, &res);
            }
        }
    }
    for (int cls = 0; cls < SGF_MISUSE_COUNT; cls++)
        if ((gaps & (1u << cls)) && !(missed_mask & (1u << cls)) && (detected_mask & (1u << cls)))
            printf("# %s is listed as a known gap but every case was caught: remove it from "
                   "the gaps file\n",
                   sgf_misuse_class_name(cls));
}

int main(int argc, char **argv)
{
    int cases = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--cases")) {
            cases = 1;
        } else if (!strcmp(argv[i], "-v")) {
            verbose = 1;
        } else if (!strcmp(argv[i], "-g") && i + 1 < argc) {
            if (sgf_misuse_load_gaps(argv[++i], &gaps)) {
                fprintf(stderr, "sgf-misuse: cannot use gaps file %s\n", argv[i]);
                return 2;
            }
        } else {
            fputs("usage: sgf-misuse [-v] [-g GAPS] --cases | FILE...\n", stderr);
            return 2;
        }
    }
    if (cases)
        run_cases();
    for (; i < argc; i++) {
        static uint8_t buf[SGF_MAX_OPS * SGF_RECORD + SGF_RECORD];
        int fd = open(argv[i], O_RDONLY);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
        if (fd >= 0)
            close(fd);
        if (n < 0) {
            fprintf(stderr, "sgf-misuse: cannot read %s\n", argv[i]);
            return 2;
        }
        sgf_misuse_result_t res;
        sgf_misuse_run(buf, (size_t)n, &res);
        char name[600];
        snprintf(name, sizeof name, "misuse %s size=%zu %s", sgf_misuse_class_name(res.cls),
                 res.size, argv[i]);
        report(name, &res);
    }
    return failures ? 1 : 0;
}
