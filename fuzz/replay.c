/* fuzz/replay.c: run fuzz inputs outside a fuzzer (plain cc, no AFL needed).
 *
 *   sgf-replay [-t threads] [-b] [-v] [-d] FILE...   run each input; -d prints "DIGEST FILE",
 *                                                  -v traces every op, -b runs BURSTs concurrently
 *   sgf-replay -r SECONDS [-s SEED] [-o SAVE] [DIR|FILE...]
 *       random inputs for SECONDS: fresh bytes, or mutations of the given seeds; each input is
 *       written to SAVE before it runs, so after a crash SAVE holds the input that crashed.
 *   sgf-replay -m OUT [-t threads] FILE
 *       minimise a crashing input by whole records: keep every cut after which a child still
 *       dies by the same signal with the same first words ("sgf: op aligned_alloc"); write OUT.
 *
 * Exit status 0 when every input ran; a wrong answer aborts (SIGABRT) with an "sgf: " line. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define INPUT_CAP (SGF_MAX_OPS * SGF_RECORD + SGF_RECORD)
#define MAX_SEEDS 512

static uint8_t input[INPUT_CAP];

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "sgf-replay: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t n = 0;
    for (ssize_t r; n < cap && (r = read(fd, buf + n, cap - n)) != 0; n += (size_t)r)
        if (r < 0) {
            fprintf(stderr, "sgf-replay: %s: %s\n", path, strerror(errno));
            exit(2);
        }
    close(fd);
    return n;
}

// ---- random inputs -----------------------------------------------------------------------------

typedef struct seed {
    uint8_t *data;
    size_t size;
} seed_t;

static seed_t seeds[MAX_SEEDS];
static size_t nseeds;
static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static void add_seed(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        for (struct dirent *e; dir && (e = readdir(dir));) {
            if (e->d_name[0] == '.')
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            add_seed(sub);
        }
        if (dir)
            closedir(dir);
        return;
    }
    if (nseeds == MAX_SEEDS)
        return;
    uint8_t *buf = malloc(INPUT_CAP);
    size_t n = read_file(path, buf, INPUT_CAP);
    seeds[nseeds++] = (seed_t){buf, n};
}

/* One random input: fresh records, or a seed with a few mutations and splices. */
static size_t make_input(void)
{
    size_t n;
    if (!nseeds || rng() % 4 == 0) {
        n = SGF_RECORD * (1 + rng() % 600);
        for (size_t i = 0; i < n; i++)
            input[i] = (uint8_t)rng();
        return n;
    }
    const seed_t *s = &seeds[rng() % nseeds];
    n = s->size;
    memcpy(input, s->data, n);
    for (unsigned k = 0, m = 1 + rng() % 8; k < m; k++) {
        size_t at = n ? rng() % n : 0;
        switch (rng() % 5) {
        case 0: if (n) input[at] = (uint8_t)rng(); break;
        case 1: if (n) input[at] ^= (uint8_t)(1u << (rng() % 8)); break;
        case 2: /* insert a random record */
            if (n + SGF_RECORD <= INPUT_CAP) {
                at -= at % SGF_RECORD;
                memmove(input + at + SGF_RECORD, input + at, n - at);
                for (int i = 0; i < SGF_RECORD; i++)
                    input[at + i] = (uint8_t)rng();
                n += SGF_RECORD;
            }
            break;
        case 3: /* delete a record */
            if (n >= SGF_RECORD) {
                at -= at % SGF_RECORD;
                if (at + SGF_RECORD > n)
                    at = n - SGF_RECORD;
                memmove(input + at, input + at + SGF_RECORD, n - at - SGF_RECORD);
                n -= SGF_RECORD;
            }
            break;
        default: { /* splice the tail of another seed */
            const seed_t *o = &seeds[rng() % nseeds];
            size_t from = o->size ? rng() % o->size : 0, len = o->size - from;
            at -= at % SGF_RECORD;
            from -= from % SGF_RECORD;
            len = o->size - from;
            if (at + len > INPUT_CAP)
                len = INPUT_CAP - at;
            memcpy(input + at, o->data + from, len);
            n = at + len;
            break;
        }
        }
    }
    return n;
}

static int random_loop(double seconds, uint64_t seed, const char *save, sgf_options_t *opt)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rng_state = seed;
    unsigned long runs = 0;
    double elapsed = 0;
    do {
        size_t n = make_input();
        if (save) {
            int fd = open(save, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || write(fd, input, n) != (ssize_t)n) {
                fprintf(stderr, "sgf-replay: %s: %s\n", save, strerror(errno));
                return 2;
            }
            close(fd);
        }
        sgf_run(input, n, opt);
        runs++;
        clock_gettime(CLOCK_MONOTONIC, &t);
        elapsed = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
    } while (elapsed < seconds);
    printf("random: %lu inputs in %.1f s (%.0f/s), seed %llu\n", runs, elapsed,
           (double)runs / elapsed, (unsigned long long)seed);
    return 0;
}

// ---- minimising ------------------------------------------------------------------------------

static uint8_t trial[INPUT_CAP];

/* Run data in a child: its signal, and the first line of stderr up to the third space. */
static int crash_signature(const uint8_t *data, size_t n, const sgf_options_t *opt, char *sig,
                           size_t cap)
{
    int fds[2];
    if (pipe(fds))
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        alarm(60);
        sgf_options_t o = *opt;
        o.trace = NULL;
        sgf_run(data, n, &o);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    char junk[512];
    for (ssize_t r; (r = read(fds[0], junk, sizeof junk)) > 0;)
        for (ssize_t i = 0; i < r && len < cap - 1; i++)
            sig[len++] = junk[i];
    close(fds[0]);
    sig[len] = 0;
    int status = 0, spaces = 0;
    waitpid(pid, &status, 0);
    for (size_t i = 0; i < len; i++)
        if (sig[i] == '\n' || (sig[i] == ' ' && ++spaces == 3)) {
            sig[i] = 0;
            break;
        }
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static int minimise(const char *in, const char *out, const sgf_options_t *opt)
{
    size_t n = read_file(in, input, sizeof input);
    n -= n % SGF_RECORD;
    char want[256], got[256];
    int signal = crash_signature(input, n, opt, want, sizeof want);
    if (!signal) {
        fprintf(stderr, "sgf-replay: %s does not crash\n", in);
        return 1;
    }
    fprintf(stderr, "minimising %zu records, signal %d: %s\n", n / SGF_RECORD, signal, want);
    for (size_t chunk = n / SGF_RECORD / 2; chunk >= 1; chunk /= 2) {
        for (size_t at = 0; at + chunk * SGF_RECORD <= n;) {
            size_t cut = chunk * SGF_RECORD;
            memcpy(trial, input, at);
            memcpy(trial + at, input + at + cut, n - at - cut);
            if (crash_signature(trial, n - cut, opt, got, sizeof got) == signal &&
                !strcmp(got, want)) {
                memcpy(input, trial, n - cut);
                n -= cut;
            } else {
                at += cut;
            }
        }
    }
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, input, n) != (ssize_t)n) {
        fprintf(stderr, "sgf-replay: %s: %s\n", out, strerror(errno));
        return 2;
    }
    close(fd);
    fprintf(stderr, "wrote %zu records to %s\n", n / SGF_RECORD, out);
    return 0;
}

// ---- main --------------------------------------------------------------------------------------

static void usage(void)
{
    fputs("usage: sgf-replay [-t threads] [-b] [-v] [-d] FILE...\n"
          "       sgf-replay -r SECONDS [-s SEED] [-o SAVE] [-t threads] [-b] [SEED_DIR|FILE...]\n"
          "       sgf-replay -m OUT [-t threads] [-b] FILE\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    sgf_options_t opt = {0};
    int digests = 0, c;
    double seconds = -1;
    uint64_t seed = (uint64_t)time(NULL);
    const char *save = NULL, *min_out = NULL;
    const char *env = getenv("FUZZ_THREADS");
    if (env)
        opt.threads = atoi(env);
    while ((c = getopt(argc, argv, "t:bvdr:s:o:m:")) != -1) {
        switch (c) {
        case 't': opt.threads = atoi(optarg); break;
        case 'b': opt.burst = 1; break;
        case 'v': opt.trace = stdout; break;
        case 'd': digests = 1; break;
        case 'r': seconds = atof(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'o': save = optarg; break;
        case 'm': min_out = optarg; break;
        default: usage();
        }
    }
    if (seconds >= 0) {
        for (int i = optind; i < argc; i++)
            add_seed(argv[i]);
        return random_loop(seconds, seed, save, &opt);
    }
    if (optind == argc)
        usage();
    if (min_out)
        return optind + 1 == argc ? minimise(argv[optind], min_out, &opt) : 2;
    if (opt.trace)
        setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = optind; i < argc; i++) {
        size_t n = read_file(argv[i], input, sizeof input);
        if (opt.trace)
            printf("== %s\n", argv[i]);
        uint64_t d = sgf_run(input, n, &opt);
        if (digests)
            printf("%016llx %s\n", (unsigned long long)d, argv[i]);
    }
    return 0;
}
