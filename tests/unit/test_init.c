/* Unit tests of src/init.c: options from the environment (they only tighten, unknown names
 * warn), start-up from the first malloc. Each case re-runs this program with an environment and
 * reads what the child reports. */
#include "../check.h"
#include "internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Child mode: print the settings that start-up derived, then exit. */
static int report(void) {
    free(opaque_ptr(malloc(opaque_size(1)))); /* start-up (opaque: the pair must not be elided) */
    printf("guard_every=%zu quarantine=%zu purge=%llu verbose=%d at_secure=%d\n", sg_ro.guard_every,
           SG_QUARANTINE ? sg_tls_heap->quarantine_mask + 1 : 0, (unsigned long long)sg_ro.purge_delay_ms,
           sg_ro.verbose, getauxval(AT_SECURE) != 0);
    return 0;
}

/* Child mode: the first allocation of the process is a large one (a program whose first
 * malloc is a big buffer). Start-up must have run by the time it returns: the canary after a
 * secure large block is keyed with the process secret, which must be drawn by then, not zero. */
static int report_first_large(void) {
    int zero_before = 1, zero_after = 1;
    for (size_t i = 0; i < sizeof sg_ro.secret; i++) zero_before &= sg_ro.secret[i] == 0;
    void *p = opaque_ptr(malloc(opaque_size(1 << 20)));
    for (size_t i = 0; i < sizeof sg_ro.secret; i++) zero_after &= sg_ro.secret[i] == 0;
    free(p);
    printf("before=%s after=%s\n", zero_before ? "zero" : "set", zero_after ? "zero" : "set");
    return 0;
}

/* Child mode: whether the mapping under a 4 MiB block asks for huge pages ("hg" among its
 * VmFlags in /proc/self/smaps), and whether the block's first huge-page boundary is in it. */
static long count_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    long n = 0;
    for (int c; (c = fgetc(f)) != EOF;) n += c == '\n';
    fclose(f);
    return n;
}

static int report_thp(void) {
    char *p = opaque_ptr(malloc(opaque_size(4 << 20)));
    memset(p, 1, 4 << 20);
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 2;
    char line[512];
    int inside = 0, hg = -1;
    uintptr_t a = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) inside = a >= lo && a < hi;
        else if (inside && strncmp(line, "VmFlags:", 8) == 0) hg = strstr(line, " hg") != NULL;
    }
    fclose(f);
    free(p);
    /* mappings that growing and freeing large blocks leave: the huge-page flag must cover a
     * block's guards and headroom too, or it splits them off (one mapping more each) */
    enum { N = 16 };
    char *b[N];
    long before = count_maps();
    for (int i = 0; i < N; i++) {
        b[i] = opaque_ptr(malloc(opaque_size(3 << 20)));
        memset(b[i], 1, 3 << 20);
    }
    for (int i = 0; i < N; i++) {
        b[i] = realloc(b[i], opaque_size(5 << 20));
        memset(b[i], 2, 5 << 20);
    }
    for (int i = 0; i < N; i += 2) free(b[i]);
    long grown = count_maps() - before;
    for (int i = 1; i < N; i += 2) free(b[i]);
    printf("hg=%d maps=%ld\n", hg, grown);
    return 0;
}

/* Child mode: the resident memory (KiB) that 8 threads add, each freeing one block and then
 * waiting, and 8 more after those exited (their heaps, and rings, reused). */
static long resident_kib(void) {
    long pages = 0, rss = 0;
    int fd = open("/proc/self/statm", O_RDONLY);
    char buf[128];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    if (sscanf(buf, "%ld %ld", &pages, &rss) != 2) return -1;
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

enum { RING_THREADS = 8 };
static pthread_barrier_t ring_barrier;

static void *free_once(void *arg) {
    (void)arg;
    free(opaque_ptr(malloc(opaque_size(16))));
    pthread_barrier_wait(&ring_barrier);   /* all alive: measured */
    pthread_barrier_wait(&ring_barrier);
    return NULL;
}

static int report_ring(void) {
    free(opaque_ptr(malloc(opaque_size(16))));
    long grown[2];
    for (int round = 0; round < 2; round++) {
        pthread_t th[RING_THREADS];
        pthread_barrier_init(&ring_barrier, NULL, RING_THREADS + 1);
        long before = resident_kib();
        for (int i = 0; i < RING_THREADS; i++)
            if (pthread_create(&th[i], NULL, free_once, NULL) != 0) return 2;
        pthread_barrier_wait(&ring_barrier);
        grown[round] = resident_kib() - before;
        pthread_barrier_wait(&ring_barrier);
        for (int i = 0; i < RING_THREADS; i++) pthread_join(th[i], NULL);
        pthread_barrier_destroy(&ring_barrier);
    }
    printf("ring=%zu new=%ld reused=%ld\n", SG_QUARANTINE ? sg_tls_heap->quarantine_mask + 1 : 0, grown[0], grown[1]);
    return 0;
}

/* The child mode run_with asks for: report() unless set. */
static const char *child_mode = "SG_TEST_INIT_CHILD=1";

/* Run ourselves with one extra variable; capture stdout and stderr. */
static void run_with(const char *self, const char *var, char *out, size_t outlen, char *err, size_t errlen) {
    int o[2], e[2];
    if (pipe(o) || pipe(e)) abort();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(o[1], 1);
        dup2(e[1], 2);
        char *env[] = { (char *)var, (char *)child_mode, "SG_TEST_INIT_CHILD=1", NULL };
        execle(self, self, (char *)NULL, env);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    ssize_t n = read(o[0], out, outlen - 1);
    out[n > 0 ? n : 0] = 0;
    n = read(e[0], err, errlen - 1);
    err[n > 0 ? n : 0] = 0;
    close(o[0]);
    close(e[0]);
    waitpid(pid, NULL, 0);
}

static const char *self;
static char out[512], err[512];

static void test_defaults(void) {
    run_with(self, "SG_NOTHING=1", out, sizeof out, err, sizeof err);
    char want[128];
    snprintf(want, sizeof want, "guard_every=%d quarantine=%d purge=0 verbose=0 at_secure=0\n", SG_GUARD_PAGES ? 8 : 0,
             SG_QUARANTINE_SLOTS);
    CHECK(strcmp(out, want) == 0, "defaults: %s (want %s)", out, want);
    CHECK(err[0] == 0, "a warning without any option: %s", err);
}

static void test_options_tighten(void) {
    run_with(self, "SLABGUARD_GUARD_EVERY=2", out, sizeof out, err, sizeof err);
    if (SG_GUARD_PAGES) CHECK(strstr(out, "guard_every=2 "), "SLABGUARD_GUARD_EVERY=2: %s", out);
    run_with(self, "SLABGUARD_GUARD_EVERY=20", out, sizeof out, err, sizeof err);
    if (SG_GUARD_PAGES) CHECK(strstr(out, "guard_every=8 "), "SLABGUARD_GUARD_EVERY=20 should be ignored: %s", out);
    run_with(self, "SLABGUARD_QUARANTINE=4096", out, sizeof out, err, sizeof err);
    if (SG_QUARANTINE) CHECK(strstr(out, "quarantine=4096 "), "SLABGUARD_QUARANTINE=4096: %s", out);
    run_with(self, "SLABGUARD_QUARANTINE=16", out, sizeof out, err, sizeof err);
    if (SG_QUARANTINE) CHECK(strstr(out, "quarantine=256 "), "a smaller quarantine must not be taken: %s", out);
    run_with(self, "SLABGUARD_PURGE_DELAY=250", out, sizeof out, err, sizeof err);
    CHECK(strstr(out, "purge=251 "), "SLABGUARD_PURGE_DELAY=250: %s", out);
}

/* A setgid program (AT_SECURE) takes no option at all, not even one that tightens: its
 * environment is the caller's. The program runs itself as a setgid copy (root only: the copy
 * must belong to a group the caller is not in). */
static void test_options_ignored_when_setgid(void) {
    if (geteuid() != 0) {
        printf("# not root: no setgid copy to run, nothing checked\n");
        return;
    }
    char copy[4096];
    snprintf(copy, sizeof copy, "%s.setgid", self);
    int in = open(self, O_RDONLY), fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    REQUIRE(in >= 0 && fd >= 0, "cannot copy %s", self);
    static char buf[1 << 16];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) REQUIRE(write(fd, buf, (size_t)n) == n, "write");
    close(in);
    REQUIRE(fchown(fd, (uid_t)-1, 65534) == 0 && fchmod(fd, 02755) == 0, "chown/chmod");
    close(fd);
    run_with(copy, "SLABGUARD_GUARD_EVERY=2", out, sizeof out, err, sizeof err);
    if (!strstr(out, "at_secure=1")) {
        printf("# the setgid copy did not run with AT_SECURE (a nosuid filesystem?): %s", out);
    } else {
        if (SG_GUARD_PAGES) CHECK(strstr(out, "guard_every=8 "), "SLABGUARD_GUARD_EVERY=2 taken under AT_SECURE: %s", out);
        run_with(copy, "SLABGUARD_QUARANTINE=4096", out, sizeof out, err, sizeof err);
        if (SG_QUARANTINE) CHECK(strstr(out, "quarantine=256 "), "SLABGUARD_QUARANTINE=4096 taken under AT_SECURE: %s", out);
        run_with(copy, "SLABGUARD_VERBOSE=1", out, sizeof out, err, sizeof err);
        CHECK(strstr(out, "verbose=0 ") && err[0] == 0, "SLABGUARD_VERBOSE=1 taken under AT_SECURE: %s / %s", out, err);
    }
    unlink(copy);
}

static void test_first_allocation_large(void) {
    run_with(self, "SG_TEST_INIT_FIRST_LARGE=1", out, sizeof out, err, sizeof err);
    if (strncmp(out, "before=set", 10) == 0) {   /* a sanitizer's runtime allocates before main */
        printf("# the process allocated before main: start-up ran already, nothing to check\n");
        return;
    }
    CHECK(strcmp(out, "before=zero after=set\n") == 0, "a large first allocation: %s (want the secret drawn by it)", out);
    CHECK(err[0] == 0, "stderr: %s", err);
}

static void test_unknown_option_warns(void) {
    run_with(self, "SLABGUARD_GAURD_EVERY=1", out, sizeof out, err, sizeof err);
    CHECK(strstr(err, "slabguard: warning: unknown option SLABGUARD_GAURD_EVERY\n") != NULL, "no warning: '%s'", err);
    run_with(self, "SLABGUARD_VERBOSE=1", out, sizeof out, err, sizeof err);
    CHECK(strstr(out, "verbose=1") && strstr(err, "slabguard 0.") && !strstr(err, "unknown"), "verbose: %s / %s", out, err);
}

/* SLABGUARD_THP=1 asks for transparent huge pages on large blocks; without it slabguard
 * leaves the system's policy alone (a sparsely touched block stays small). */
static void test_thp_option(void) {
    child_mode = "SG_TEST_INIT_THP=1";
    int hg = -1;
    long maps_off = -1, maps_on = -2;
    run_with(self, "SG_NOTHING=1", out, sizeof out, err, sizeof err);
    CHECK(sscanf(out, "hg=%d maps=%ld", &hg, &maps_off) == 2 && hg == 0, "a large block asks for huge pages by default: %s", out);
    run_with(self, "SLABGUARD_THP=1", out, sizeof out, err, sizeof err);
    CHECK(sscanf(out, "hg=%d maps=%ld", &hg, &maps_on) == 2 && hg == 1, "SLABGUARD_THP=1: %s", out);
    CHECK(err[0] == 0, "SLABGUARD_THP=1 warned: %s", err);
    CHECK(maps_on <= maps_off, "SLABGUARD_THP=1 costs mappings: %ld against %ld without", maps_on, maps_off);
    child_mode = "SG_TEST_INIT_CHILD=1";
}

/* SLABGUARD_QUARANTINE=1048576 gives each thread a ring of 8 MiB: a thread that frees once must
 * not make it resident (clearing it entry by entry did, 64 MiB for these 8 threads, and again
 * for each heap reused). */
static void test_large_ring_stays_unresident(void) {
    child_mode = "SG_TEST_INIT_RING=1";
    run_with(self, "SLABGUARD_QUARANTINE=1048576", out, sizeof out, err, sizeof err);
    child_mode = "SG_TEST_INIT_CHILD=1";
    size_t ring = 0;
    long fresh = -1, reused = -1;
    REQUIRE(sscanf(out, "ring=%zu new=%ld reused=%ld", &ring, &fresh, &reused) == 3, "child said: %s / %s", out, err);
    printf("# 8 threads with a ring of %zu entries each: %ld KiB resident more, %ld KiB with their heaps reused\n",
           ring, fresh, reused);
    if (!SG_QUARANTINE) return;
    CHECK(ring == 1048576, "SLABGUARD_QUARANTINE=1048576 not taken: %s", out);
    CHECK(fresh < 16384 && reused < 16384, "a ring of 8 MiB became resident: %ld KiB for 8 new threads, %ld KiB reused",
          fresh, reused);
}

int main(int argc, char **argv) {
    (void)argc;
    if (getenv("SG_TEST_INIT_THP")) return report_thp();
    if (getenv("SG_TEST_INIT_RING")) return report_ring();
    if (getenv("SG_TEST_INIT_FIRST_LARGE")) return report_first_large();
    if (getenv("SG_TEST_INIT_CHILD")) return report();
    self = argv[0];
    RUN(test_defaults);
    RUN(test_options_tighten);
    RUN(test_unknown_option_warns);
    RUN(test_first_allocation_large);
    RUN(test_thp_option);
    RUN(test_large_ring_stays_unresident);
    RUN(test_options_ignored_when_setgid);
    return check_exit();
}
