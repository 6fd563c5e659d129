/* Unit tests of src/random.c and the fork handling in src/init.c: secrets from libsodium,
 * independent page keys, fresh secrets in a forked child, the read-only seal. */
#include "../check.h"
#include "internal.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_page_keys_differ(void) {
    /* blocks of two classes live in two pages: their keys must not be equal */
    void *a = malloc(24), *b = malloc(3000);
    sg_page_t *pa = sg_page_of((uintptr_t)a), *pb = sg_page_of((uintptr_t)b);
    if (SG_ENCODE_FREELIST) {
        CHECK(pa->keys.xor_key != pb->keys.xor_key, "two pages share a link key");
        CHECK(pa->keys.xor_key != pa->keys.add_key, "the two link keys of a page are equal");
    }
    if (SG_CANARY) {
        CHECK(pa->canary_key != pa->keys.xor_key && pa->canary_key != pb->canary_key, "canary keys");
        CHECK(pa->canary_mul != pa->canary_key && pa->canary_mul != pb->canary_mul && (pa->canary_mul & 1),
              "canary multipliers");
    }
    unsigned char zero[32] = { 0 };
    CHECK(memcmp(sg_ro.secret, zero, sizeof zero) != 0, "the process secret is zero");
    free(a);
    free(b);
}

static void test_child_gets_new_secret_and_keeps_old_pages(void) {
    unsigned char parent[32];
    memcpy(parent, sg_ro.secret, sizeof parent);
    char *before = malloc(100);
    strcpy(before, "made before fork");
    int fds[2];
    REQUIRE(pipe(fds) == 0, "pipe");
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
        /* the child frees and reuses the parent's page, and makes pages of its own */
        int ok = strcmp(before, "made before fork") == 0;
        free(before);
        void *p[1000];
        for (int i = 0; i < 1000; i++) p[i] = malloc(100);
        for (int i = 0; i < 1000; i++) free(p[i]);
        char *fresh = malloc(5000);
        ok = ok && fresh != NULL;
        ssize_t w = write(fds[1], sg_ro.secret, 32);
        w += write(fds[1], &ok, sizeof ok);
        _exit(w == 32 + (ssize_t)sizeof ok ? 0 : 1);
    }
    close(fds[1]);
    unsigned char child[32];
    int ok = 0;
    ssize_t r = read(fds[0], child, 32);
    r += read(fds[0], &ok, sizeof ok);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0 && r == 32 + (ssize_t)sizeof ok, "child failed");
    CHECK(ok, "the child could not use the parent's blocks");
    if (SG_SECURE) CHECK(memcmp(parent, child, 32) != 0, "the child kept the parent's secret");
    CHECK(memcmp(parent, sg_ro.secret, 32) == 0, "the parent's secret changed");
    free(before);
}

static sigjmp_buf jump;
static void on_segv(int sig) { (void)sig; siglongjmp(jump, 1); }

static void test_secrets_are_read_only(void) {
    struct sigaction sa = { .sa_handler = on_segv }, old;
    sigaction(SIGSEGV, &sa, &old);
    volatile int faulted = 0;
    if (sigsetjmp(jump, 1) == 0) {
        ((volatile unsigned char *)sg_ro.secret)[0] ^= 1;
    } else {
        faulted = 1;
    }
    sigaction(SIGSEGV, &old, NULL);
    CHECK(faulted, "the secret page is writable after start-up");
}

int main(void) {
    free(opaque_ptr(malloc(opaque_size(1)))); /* start-up */
    RUN(test_page_keys_differ);
    RUN(test_child_gets_new_secret_and_keeps_old_pages);
    RUN(test_secrets_are_read_only);
    return check_exit();
}
