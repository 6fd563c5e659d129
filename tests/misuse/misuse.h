/* tests/misuse/misuse.h: helpers shared by the misuse programs (header only: tests/run.sh
 * runs only the .c files of this directory).
 *
 *   say(s), say_hex(prefix, v, suffix)   async-signal-safe output to stderr with write(2)
 *   expect_fault(lo, hi, what, block)    install a SIGSEGV/SIGBUS handler: a fault at an address
 *                                        in [lo, hi) prints "test: fault at <what> of 0x<block>",
 *                                        any other fault "test: unexpected fault at 0x<addr> ...";
 *                                        both then abort()
 *   reexec_with_env(argv, "NAME=value")  re-execute this program with NAME=value in its
 *                                        environment unless it is already set so (slabguard reads
 *                                        its options at the first malloc)
 *   never_used_slot(p)                   (programs that include internal.h and slot.h first) a
 *                                        slot of p's page carved but never handed out, found in
 *                                        the slot states; p ^ 64 without them
 *   malloc_until(target, size, n)        up to n malloc(size): returns 1 (after saying so) if one
 *                                        of them is target, 0 if none is
 *   poison_free_link(blocks, n, size, target)
 *                                        allocate and free n blocks of size (blocks: room for n),
 *                                        then overwrite the free-list link of one that sits on a
 *                                        free list (its first word is non-zero; quarantined blocks
 *                                        read zero there) with target, as a use-after-free write
 *                                        would; returns the poisoned block, or NULL if none
 *   grow_large(size, grown, &old)        malloc(size) (every page written), then realloc to grown
 *                                        bytes; returns the new block and the old address in old;
 *                                        exits 2 (nothing to test) unless realloc moved the block
 */
#ifndef SG_TEST_MISUSE_H
#define SG_TEST_MISUSE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    while (n) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void say_hex(const char *prefix, uintptr_t v, const char *suffix)
{
    char buf[24];
    size_t n = 0;
    char tmp[20];
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    size_t at = 0;
    buf[at++] = '0';
    buf[at++] = 'x';
    while (n)
        buf[at++] = tmp[--n];
    buf[at] = '\0';
    say(prefix);
    say(buf);
    say(suffix);
}

static volatile uintptr_t fault_lo, fault_hi, fault_block;
static const char *volatile fault_what = "guard";

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    uintptr_t a = (uintptr_t)si->si_addr;
    if (a >= fault_lo && a < fault_hi) {
        say("test: fault at ");
        say(fault_what);
        say_hex(" of ", fault_block, "\n");
    } else {
        say_hex("test: unexpected fault at ", a, "");
        say_hex(" (expected one in [", fault_lo, "");
        say_hex(", ", fault_hi, "))\n");
    }
    abort();
}

#if defined(__GNUC__)
__attribute__((unused))
#endif
static void expect_fault(uintptr_t lo, uintptr_t hi, const char *what, uintptr_t block)
{
    fault_lo = lo;
    fault_hi = hi;
    fault_what = what;
    fault_block = block;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

#if defined(__GNUC__)
__attribute__((unused))
#endif
static void reexec_with_env(char **argv, const char *assignment)
{
    extern char **environ;
    const char *eq = strchr(assignment, '=');
    size_t name_len = (size_t)(eq - assignment);
    char name[64];
    if (!eq || name_len >= sizeof name)
        abort();
    memcpy(name, assignment, name_len);
    name[name_len] = '\0';
    const char *now = getenv(name);
    if (now && strcmp(now, eq + 1) == 0)
        return;
    /* a new environment without allocating: ours minus NAME, plus NAME=value */
    static char *env[4096];
    size_t n = 0;
    for (char **e = environ; *e && n < sizeof env / sizeof env[0] - 2; e++)
        if (!(strncmp(*e, assignment, name_len + 1) == 0))
            env[n++] = *e;
    env[n++] = (char *)assignment;
    env[n] = NULL;
    execve("/proc/self/exe", argv, env);
    perror("execve /proc/self/exe");
    exit(2);
}

__attribute__((unused)) static void *poison_free_link(void **blocks, int n, size_t size, void *target)
{
    for (int i = 0; i < n; i++)
        blocks[i] = malloc(size);
    for (int i = 0; i < n; i++)
        free(blocks[i]);
    for (int i = n - 1; i >= 0; i--) {
        volatile uint64_t *w = blocks[i];
        if (*w != 0) {
            *w = (uint64_t)(uintptr_t)target;
            return blocks[i];
        }
    }
    return NULL;
}

__attribute__((unused)) static char *grow_large(size_t size, size_t grown, volatile uintptr_t *old)
{
    char *p = malloc(size);
    *old = (uintptr_t)p;
    for (size_t i = 0; p && i < size; i += 4096)
        p[i] = 'x';
    char *q = realloc(p, grown);
    if (!q || (uintptr_t)q == *old) {
        printf("# realloc did not move the block (%p): nothing to test\n", (void *)q);
        exit(2);
    }
    return q;
}

__attribute__((unused)) static int malloc_until(const void *target, size_t size, int n)
{
    for (int i = 0; i < n; i++) {
        void *q = malloc(size);
        if ((uintptr_t)q == (uintptr_t)target) {
            printf("# malloc %d returned the attacker's address %p\n", i, q);
            return 1;
        }
    }
    printf("# %d allocations without a report or the poisoned address\n", n);
    return 0;
}

#ifdef SG_SLOT_STATES
__attribute__((unused)) static uintptr_t never_used_slot(void *p)
{
#if SG_SLOT_STATES
    sg_page_t *page = sg_page_of((uintptr_t)p);
    for (uint32_t i = 0; i < page->capacity; i++) {
        uintptr_t s = page->start + (uintptr_t)i * page->block_size;
        if (s != (uintptr_t)p && sg_slot_state(page, i) == SG_SLOT_FREE)
            return s;
    }
#endif
    return (uintptr_t)p ^ 64;
}
#endif

#endif /* SG_TEST_MISUSE_H */
