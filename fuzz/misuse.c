/* fuzz/misuse.c: commit one real heap bug in a forked child and report how the child died. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "misuse.h"

#define CHILD_SECONDS 20
#define EXIT_NOT_CAUGHT 0
#define EXIT_REUSED 3   /* write after free: the slot came back and nothing was said */
#define EXIT_UNUSED 4   /* write after free: the slot never came back within the budget */

static const char *const class_names[SGF_MISUSE_COUNT] = {
    "double-free", "interior-free", "overflow", "write-after-free", "invalid-free",
    "realloc-after-free", "sized-free",
};

static const char *const outcome_names[] = {"caught", "faulted", "aborted with another message",
                                            "not caught", "hung", "died otherwise"};

const char *sgf_misuse_class_name(int cls)
{
    return cls >= 0 && cls < SGF_MISUSE_COUNT ? class_names[cls] : "?";
}

int sgf_misuse_class_from_name(const char *name)
{
    for (int i = 0; i < SGF_MISUSE_COUNT; i++)
        if (!strcmp(name, class_names[i]))
            return i;
    return -1;
}

const char *sgf_misuse_outcome_name(int outcome)
{
    return outcome >= 0 && outcome <= SGF_OTHER ? outcome_names[outcome] : "?";
}

int sgf_misuse_detected(int cls, int outcome)
{
    if (outcome == SGF_CAUGHT)
        return 1;
    return outcome == SGF_FAULTED &&
           (cls == SGF_MISUSE_OVERFLOW || cls == SGF_MISUSE_WRITE_AFTER_FREE);
}

int sgf_misuse_load_gaps(const char *path, unsigned *mask)
{
    char text[4096];
    *mask = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    int rc = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char name[64];
        if (sscanf(line, "%63s", name) != 1)
            continue;
        int cls = sgf_misuse_class_from_name(name);
        if (cls < 0) {
            fprintf(stderr, "%s: unknown misuse class '%s'\n", path, name);
            rc = -1;
        } else {
            *mask |= 1u << cls;
        }
    }
    return rc;
}

// ---- the bugs (in the child) -------------------------------------------------------------------

static char static_block[256] __attribute__((aligned(64)));
static int what_fd = -1; /* the child says here what it is about to do */

/* Before the bug: the address the report must name (sizeof(void *) bytes), then what is done. */
static void say(const void *names, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const void *names, const char *fmt, ...)
{
    char line[sizeof(void *) + 160];
    memcpy(line, &names, sizeof names);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + sizeof names, sizeof line - sizeof names, fmt, ap);
    va_end(ap);
    size_t len = sizeof names + (n < 0 ? 0 : (size_t)n < sizeof line - sizeof names ? (size_t)n : sizeof line - sizeof names - 1);
    if (what_fd >= 0 && write(what_fd, line, len) < 0)
        what_fd = -1;
}

/* Memory writes the compiler must not drop or reorder across the frees. */
static void poke(void *p, size_t off, size_t n, unsigned char v)
{
    volatile unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[off + i] = v;
}

/* C23's free_sized (harness.h): NULL with a C library that lacks it (glibc before 2.41), where
 * the bug is committed with free, which has no size to get wrong (not caught). */
static void (*volatile sized_free)(void *, size_t) = SGF_FN(free_sized);

static void *victim(size_t size)
{
    void *p = SGF_FN(malloc)(size);
    if (!p)
        _exit(5);
    poke(p, 0, SGF_FN(malloc_usable_size)(p), 0x5a);
    return p;
}

static void write_after_free(size_t size, unsigned param)
{
    void *p = victim(size);
    size_t usable = SGF_FN(malloc_usable_size)(p);
    /* the first word, the second, the middle, the last byte */
    const size_t offsets[4] = {0, 8, usable / 2, usable ? usable - 1 : 0};
    size_t off = offsets[param % 4] < usable ? offsets[param % 4] : 0;
    say(p, "wrote 1 byte at offset %zu of a freed %zu-byte block (usable %zu)", off, size, usable);
    SGF_FN(free)(p);
    poke(p, off, 1, 0x42);
    /* Reuse: allocate the size in batches, freeing each batch, until p comes back. */
    enum { BATCH = 64 };
    void *batch[BATCH];
    size_t budget = (size_t)512 << 20, spent = 0;
    for (int round = 0; round < 4000 && spent < budget; round++) {
        int k = 0;
        for (; k < BATCH; k++) {
            batch[k] = SGF_FN(malloc)(size);
            spent += size + 16;
            if (batch[k] == p)
                _exit(EXIT_REUSED);
        }
        for (int i = 0; i < k; i++)
            SGF_FN(free)(batch[i]);
    }
    _exit(EXIT_UNUSED);
}

static void commit_bug(int cls, unsigned param, size_t size)
{
    switch (cls) {
    case SGF_MISUSE_DOUBLE_FREE: {
        void *p = victim(size);
        say(p, "freed a %zu-byte block twice%s", size, param & 1 ? ", with other frees between" : "");
        SGF_FN(free)(p);
        if (param & 1) { /* other traffic between the two frees */
            void *q = SGF_FN(malloc)(size + 16), *r = SGF_FN(malloc)(size / 2);
            SGF_FN(free)(q);
            SGF_FN(free)(r);
        }
        SGF_FN(free)(p);
        break;
    }
    case SGF_MISUSE_INTERIOR_FREE: {
        void *p = victim(size < 16 ? 16 : size);
        size_t usable = SGF_FN(malloc_usable_size)(p);
        const size_t offsets[4] = {1, 8, 16, usable / 2};
        size_t k = offsets[param % 4];
        if (k == 0 || k >= usable)
            k = 1;
        say((char *)p + k, "freed offset %zu of a %zu-byte block (usable %zu)", k, size < 16 ? 16 : size, usable);
        SGF_FN(free)((char *)p + k);
        break;
    }
    case SGF_MISUSE_OVERFLOW: {
        void *p = victim(size);
        size_t usable = SGF_FN(malloc_usable_size)(p), n = 1 + param % 32;
        say(p, "wrote bytes %zu..%zu of a %zu-byte block (usable %zu), then %s", size,
            usable + n - 1, size, usable, param & 0x80 ? "realloc" : "free");
        poke(p, size, usable - size + n, 0x41);
        if (param & 0x80)
            p = SGF_FN(realloc)(p, size * 2 + 1);
        SGF_FN(free)(p);
        break;
    }
    case SGF_MISUSE_WRITE_AFTER_FREE:
        write_after_free(size, param);
        break;
    case SGF_MISUSE_INVALID_FREE: {
        char on_stack[64] __attribute__((aligned(64)));
        void *p = victim(size);
        void *bad;
        switch (param % 4) {
        case 0: bad = on_stack; break;
        case 1: bad = static_block; break;
        case 2:
            bad = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (bad == MAP_FAILED)
                _exit(5);
            break;
        default: /* just past the victim, 8 bytes into the 16-byte boundary after it: never the
                  * start of a block (the boundary itself may be the next live slot, whose free
                  * is a valid one and cannot be told from a bug) */
            bad = (char *)p + SGF_FN(malloc_usable_size)(p);
            bad = (void *)((((uintptr_t)bad + 15) & ~(uintptr_t)15) + 8);
            break;
        }
        static const char *const kinds[4] = {"a stack address", "a static array",
                                             "an mmap page", "8 bytes past the 16-byte boundary after a block"};
        say(bad, "freed %s (%p) after a %zu-byte block", kinds[param % 4], bad, size);
        __asm__ volatile("" : : "r"(on_stack) : "memory");
        SGF_FN(free)(bad);
        break;
    }
    case SGF_MISUSE_SIZED_FREE: {
        void *p = victim(size);
        size_t wrong = param & 1 ? size + 1 + param % 16 : size ? size - 1 : 1;
        say(p, "free_sized of a %zu-byte block with size %zu", size, wrong);
        if (sized_free)
            sized_free(p, wrong);
        else
            SGF_FN(free)(p);
        break;
    }
    default: { /* SGF_MISUSE_REALLOC_AFTER_FREE */
        void *p = victim(size);
        say(p, "realloc of a freed %zu-byte block", size);
        SGF_FN(free)(p);
        p = SGF_FN(realloc)(p, size * 2 + 16);
        __asm__ volatile("" : : "r"(p) : "memory");
        break;
    }
    }
    _exit(EXIT_NOT_CAUGHT);
}

static void child(const uint8_t *data, size_t size, int cls, unsigned param, size_t vsize, int fd,
                  int wfd)
{
    dup2(fd, 2);
    close(fd);
    what_fd = wfd;
    alarm(CHILD_SECONDS);
    if (size > 4) {
        sgf_options_t opt = {.threads = 1, .keep = 1};
        sgf_run(data + 4, size - 4, &opt);
    }
    commit_bug(cls, param, vsize);
}

// ---- the judge (in the parent) ----------------------------------------------------------------

/* The report a class must give: its words, naming the address the child said; with the size of
 * the request where the block's own size is what the report gives (the others name the slot's
 * or nothing). */
static const char *const report_words[SGF_MISUSE_COUNT] = {
    "double free", "invalid free", "heap overflow", "write after free", "invalid free", "double free",
    "wrong size at free",
};
static int report_matches(const char *line, int cls, const void *names, size_t size)
{
    char want[128];
    int n = snprintf(want, sizeof want, "slabguard: %s of %p", report_words[cls], names);
    if (cls == SGF_MISUSE_DOUBLE_FREE || cls == SGF_MISUSE_OVERFLOW || cls == SGF_MISUSE_REALLOC_AFTER_FREE ||
        cls == SGF_MISUSE_SIZED_FREE)
        n += snprintf(want + n, sizeof want - (size_t)n, " (size %zu)", size);
    else
        n += snprintf(want + n, sizeof want - (size_t)n, " (size ");
    return strncmp(line, want, (size_t)n) == 0;
}

void sgf_misuse_run(const uint8_t *data, size_t size, sgf_misuse_result_t *res)
{
    uint8_t head[4] = {0, 0, 0, 0};
    memcpy(head, data, size < 4 ? size : 4);
    memset(res, 0, sizeof *res);
    res->cls = head[0] % SGF_MISUSE_COUNT;
    res->size = sgf_size(head[2], head[3]);

    int pipefd[2], whatfd[2];
    if (pipe(pipefd) || pipe(whatfd))
        sgf_fail("pipe: errno %d", errno);
    pid_t pid = fork();
    if (pid < 0)
        sgf_fail("fork: errno %d", errno);
    if (pid == 0) {
        close(pipefd[0]);
        close(whatfd[0]);
        child(data, size, res->cls, head[1], res->size, pipefd[1], whatfd[1]);
    }
    close(pipefd[1]);
    close(whatfd[1]);
    char buf[sizeof res->detail];
    size_t len = 0;
    for (;;) { /* keep draining so the child never blocks on a full pipe */
        char junk[512];
        ssize_t r = read(pipefd[0], junk, sizeof junk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r && len < sizeof buf - 1; i++)
            buf[len++] = junk[i];
    }
    close(pipefd[0]);
    char said[sizeof(void *) + sizeof res->what];
    size_t got = 0;
    for (ssize_t r; got < sizeof said - 1 && (r = read(whatfd[0], said + got, sizeof said - 1 - got)) != 0;)
        if (r > 0)
            got += (size_t)r;
        else if (errno != EINTR)
            break;
    close(whatfd[0]);
    void *names = NULL;
    if (got >= sizeof names) {
        memcpy(&names, said, sizeof names);
        memcpy(res->what, said + sizeof names, got - sizeof names);
        res->what[got - sizeof names] = 0;
    }
    buf[len] = 0;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;

    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            sgf_fail("waitpid: errno %d", errno);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (sig == SIGABRT)
        res->outcome = names && report_matches(buf, res->cls, names, res->size) ? SGF_CAUGHT : SGF_ABORT_OTHER;
    else if (sig == SIGSEGV || sig == SIGBUS)
        res->outcome = SGF_FAULTED;
    else if (sig == SIGALRM)
        res->outcome = SGF_HUNG;
    else if (sig)
        res->outcome = SGF_OTHER;
    else
        res->outcome = WEXITSTATUS(status) == EXIT_NOT_CAUGHT || WEXITSTATUS(status) == EXIT_REUSED ||
                               WEXITSTATUS(status) == EXIT_UNUSED
                           ? SGF_NOT_CAUGHT
                           : SGF_OTHER;

    if (len)
        snprintf(res->detail, sizeof res->detail, "%s", buf);
    else if (sig)
        snprintf(res->detail, sizeof res->detail, "signal %d, nothing on stderr", sig);
    else if (WEXITSTATUS(status) == EXIT_REUSED)
        snprintf(res->detail, sizeof res->detail, "the written slot was handed out again silently");
    else if (WEXITSTATUS(status) == EXIT_UNUSED)
        snprintf(res->detail, sizeof res->detail, "the written slot never came back to check");
    else
        snprintf(res->detail, sizeof res->detail, "exit status %d", WEXITSTATUS(status));
}
