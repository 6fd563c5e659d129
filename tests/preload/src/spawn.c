/* spawn.c: starting programs from a threaded program under the preload: vfork + exec,
 * posix_spawn, posix_spawnp through the shell, popen and system, while two threads allocate.
 * Each child is this program again ("spawn child HOW"): it allocates, and checks that it runs
 * on the same allocator as its parent (the preload is inherited through exec). */
#include <dlfcn.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static atomic_int stop;
static char *held[5]; /* not a local: gcc cannot follow a vfork that returns twice */

static void *churn(void *arg) {
    size_t base = (size_t)(uintptr_t)arg;
    void *p[32] = { 0 };
    for (unsigned long i = 0; !atomic_load(&stop); i++) {
        free(p[i % 32]);
        p[i % 32] = malloc(base + i % 3000);
    }
    for (int i = 0; i < 32; i++) free(p[i]);
    return NULL;
}

/* Under slabguard the sg_ names are there; they must be exactly when the preload names it. */
static int same_allocator(void) {
    const char *pre = getenv("LD_PRELOAD");
    int want = pre && strstr(pre, "slabguard");
    int have = dlsym(RTLD_DEFAULT, "sg_is_secure") != NULL;
    return want == have;
}

static int child_main(const char *how) {
    char *s = NULL;
    size_t len = 0;
    for (int i = 0; i < 500; i++) {
        s = realloc(s, len + 17);
        len += (size_t)snprintf(s + len, 17, "%d;", i);
    }
    char *big = calloc(1, 300000);
    int ok = same_allocator() && len > 1000 && big && !big[299999];
    free(big);
    free(s);
    printf("child (%s): %s\n", how, ok ? "ran on its parent's allocator" : "WRONG allocator");
    return ok ? 0 : 3;
}

static int wait_ok(pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid) return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "child") == 0) return child_main(argv[2]);
    alarm(60);
    setvbuf(stdout, NULL, _IONBF, 0); /* children write to the same stdout: keep order */
    pthread_t th[2];
    pthread_create(&th[0], NULL, churn, (void *)(uintptr_t)16);
    pthread_create(&th[1], NULL, churn, (void *)(uintptr_t)4000);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = '\0';
    int good = 0;

    for (int i = 0; i < 5; i++) {
        held[i] = malloc(1000); /* allocated around the vfork, freed after */
        pid_t pid = vfork();
        if (pid == 0) {
            char *args[] = { self, "child", "vfork", NULL };
            execv(self, args);
            _exit(127);
        }
        free(held[i]);
        good += pid > 0 && wait_ok(pid);
    }
    printf("vfork + exec: %d of 5 exited 0\n", good);

    good = 0;
    for (int i = 0; i < 5; i++) {
        pid_t pid;
        char *args[] = { self, "child", "posix_spawn", NULL };
        if (posix_spawn(&pid, self, NULL, NULL, args, environ) == 0) good += wait_ok(pid);
    }
    printf("posix_spawn: %d of 5 exited 0\n", good);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDOUT_FILENO);
    pid_t pid;
    char *sh_args[] = { "sh", "-c", "echo posix_spawnp: sh says hello", NULL };
    int sh_ok = posix_spawnp(&pid, "sh", &fa, NULL, sh_args, environ) == 0 && wait_ok(pid);
    posix_spawn_file_actions_destroy(&fa);
    printf("posix_spawnp of sh: %s\n", sh_ok ? "exited 0" : "FAILED");

    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' child popen", self);
    FILE *f = popen(cmd, "r");
    char line[200] = "";
    if (f && fgets(line, sizeof line, f)) printf("popen read: %s", line);
    if (f) printf("pclose: %d\n", pclose(f));

    int st = system("exit 7");
    printf("system(\"exit 7\"): %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    atomic_store(&stop, 1);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    return 0;
}
