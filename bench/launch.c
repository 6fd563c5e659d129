/* launch: run one benchmark command with an allocator preloaded into it alone, and measure it.
 *
 * Usage: launch [-t seconds] [-c cpu] [-e NAME=VALUE]... LIBRARY|- PROGRAM [ARGS...]
 *   LIBRARY  the allocator to put in LD_PRELOAD for the child ("-": none, the libc malloc)
 *   -t       kill the child (its whole process group) after this many seconds (default 300)
 *   -c       run the child on this CPU only (its threads and children too)
 *   -e       set a variable in the child's environment
 * The child's stdout and stderr pass through; its stdin is /dev/null. When it has ended,
 * launch prints one line on stdout:
 *   launch wall_s=<seconds> peak_rss_kb=<KiB> status=<ok|exit:N|signal:NAME|timeout>
 * Wall time is taken around fork and wait4; peak RSS is the child's ru_maxrss from wait4.
 * launch exits 0 whenever it could run the child, whatever the child did. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void)
{
    fputs("usage: launch [-t seconds] [-c cpu] [-e NAME=VALUE]... LIBRARY|- PROGRAM [ARGS...]\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned timeout = 300;
    int cpu = -1;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            timeout = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            cpu = atoi(argv[++i]);
        } else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc && strchr(argv[i + 1], '=')) {
            if (putenv(argv[++i]) != 0)
                usage();
        } else {
            usage();
        }
    }
    if (argc - i < 2)
        usage();
    const char *library = argv[i];
    char **command = &argv[i + 1];
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) { // inherited by the child
            fprintf(stderr, "launch: cannot run on CPU %d: %s\n", cpu, strerror(errno));
            return 1;
        }
    }
    fflush(stdout);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; // no SA_RESTART: wait4 returns EINTR at the deadline
    sigaction(SIGALRM, &sa, NULL);

    double start = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        perror("launch: fork");
        return 1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, 0);
            close(null);
        }
        if (strcmp(library, "-") == 0)
            unsetenv("LD_PRELOAD");
        else
            setenv("LD_PRELOAD", library, 1);
        execvp(command[0], command);
        fprintf(stderr, "launch: cannot run %s: %s\n", command[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); // also here, so that the group exists before any kill below
    alarm(timeout);

    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("launch: wait4");
            return 1;
        }
        if (timed_out)
            kill(-pid, SIGKILL);
    }
    double wall = now_s() - start;
    alarm(0);
    kill(-pid, SIGKILL); // leftovers of the group, if the child forked

    char what[64];
    if (timed_out)
        snprintf(what, sizeof what, "timeout");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        snprintf(what, sizeof what, "ok");
    else if (WIFEXITED(status))
        snprintf(what, sizeof what, "exit:%d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(what, sizeof what, "signal:%s", sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
    else
        snprintf(what, sizeof what, "unknown");
    printf("launch wall_s=%.6f peak_rss_kb=%ld status=%s\n", wall, ru.ru_maxrss, what);
    return 0;
}
