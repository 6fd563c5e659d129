/* slabguard.c: the launcher. `slabguard [options] [--] COMMAND ARGS...` runs COMMAND with the
 * slabguard library preloaded, then gets out of the way (execvp: the command keeps the pid, so
 * its exit status and the signal that ends it are the caller's to see).
 *
 * The library is found, in order: $SLABGUARD_LIB (a file, or a directory holding it); next to the
 * launcher (build/slabguard finds build/libslabguard.so); ../lib/ from the launcher
 * (PREFIX/bin/slabguard finds PREFIX/lib/libslabguard.so); SG_LIBDIR if the build defines it.
 *
 * Exit status when the launcher itself fails, as env(1) and the shells do: 125 for a usage
 * error, 126 when COMMAND cannot be run, 127 when COMMAND or the library is not found. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SG_VERSION
#define SG_VERSION "unknown"
#endif

enum { EXIT_USAGE = 125, EXIT_CANNOT_RUN = 126, EXIT_NOT_FOUND = 127 };

static const char usage_text[] =
    "Usage: slabguard [--fast] [--stats] [--verbose] [--] COMMAND [ARGS...]\n"
    "Run COMMAND with the slabguard allocator preloaded (LD_PRELOAD).\n"
    "\n"
    "  --fast       the fast variant (libslabguard-fast.so) instead of the secure one\n"
    "  --stats      print allocator statistics on stderr when COMMAND exits (SLABGUARD_STATS=1)\n"
    "  --verbose    print the library's version and mitigations at start-up (SLABGUARD_VERBOSE=1)\n"
    "  --version    print the launcher's version and exit\n"
    "  --help       print this help and exit\n"
    "\n"
    "The library is looked up in $SLABGUARD_LIB (a file or a directory), then next to this\n"
    "program, then in ../lib/ from it. An existing LD_PRELOAD is kept, after slabguard.\n"
    "Exit status: COMMAND's; 125 usage error, 126 COMMAND not executable, 127 COMMAND or\n"
    "library not found.\n";

static int usage_error(const char *fmt, const char *arg) {
    fputs("slabguard: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'slabguard --help'.\n", stderr);
    return EXIT_USAGE;
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* dir + "/" + name into out; 0 when it does not fit. */
static int join(char *out, size_t cap, const char *dir, const char *name) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

/* ---- finding the library -------------------------------------------------------------------- */
/* The places searched, for the error message when none holds the library. */
static char tried[4][PATH_MAX];
static int n_tried;

/* path made absolute (the command may change directory before it loads anything more), its
 * directory canonical, its own name kept: an installed libslabguard.so is a symlink to the
 * current version, and the symlink is what should be preloaded. */
static int absolute(const char *path, char *out) {
    char dir[PATH_MAX], canon[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (len >= sizeof dir) return 0;
    if (slash && len == 0) strcpy(dir, "/");
    else if (slash) memcpy(dir, path, len), dir[len] = '\0';
    else strcpy(dir, ".");
    if (!realpath(dir, canon)) return 0;
    if (strcmp(canon, "/") == 0) canon[0] = '\0';
    return join(out, PATH_MAX, canon, name);
}

static int try_path(const char *path, char *out) {
    if (n_tried < 4) snprintf(tried[n_tried++], PATH_MAX, "%s", path);
    return is_file(path) && absolute(path, out);
}

/* The directory of the running launcher (/proc/self/exe, so a symlink to it resolves to the
 * real install); falls back to argv[0] when /proc is not mounted. */
static int launcher_dir(char *out, const char *argv0) {
    ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
    if (n > 0) {
        out[n] = '\0';
    } else if (strchr(argv0, '/') && realpath(argv0, out)) {
        /* resolved */
    } else {
        return 0;
    }
    char *slash = strrchr(out, '/');
    if (!slash) return 0;
    if (slash == out) slash[1] = '\0';
    else *slash = '\0';
    return 1;
}

static int find_library(const char *name, const char *argv0, char *out) {
    char path[PATH_MAX], dir[PATH_MAX];
    const char *env = getenv("SLABGUARD_LIB");
    if (env && *env) {
        /* an explicit choice is the only place looked at */
        if (is_dir(env)) return join(path, sizeof path, env, name) && try_path(path, out);
        return try_path(env, out);
    }
    if (launcher_dir(dir, argv0)) {
        if (join(path, sizeof path, dir, name) && try_path(path, out)) return 1;
        char lib[PATH_MAX];
        if (join(lib, sizeof lib, dir, "../lib") && join(path, sizeof path, lib, name) && try_path(path, out)) return 1;
    }
#ifdef SG_LIBDIR
    if (join(path, sizeof path, SG_LIBDIR, name) && try_path(path, out)) return 1;
#endif
    return 0;
}

/* ---- the environment ------------------------------------------------------------------------ */
/* LD_PRELOAD = the library, then whatever was preloaded already (minus the library itself).
 * First, so that slabguard's malloc is the one every object binds to. */
static int set_preload(const char *lib) {
    const char *old = getenv("LD_PRELOAD");
    size_t cap = strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *value = malloc(cap);
    if (!value) return 0;
    strcpy(value, lib);
    if (old) {
        /* the loader splits on spaces and colons */
        char *copy = strdup(old);
        if (!copy) {
            free(value);
            return 0;
        }
        for (char *save = NULL, *tok = strtok_r(copy, " :", &save); tok; tok = strtok_r(NULL, " :", &save)) {
            if (strcmp(tok, lib) == 0) continue;
            strcat(value, ":");
            strcat(value, tok);
        }
        free(copy);
    }
    int ok = setenv("LD_PRELOAD", value, 1) == 0;
    free(value);
    return ok;
}

int main(int argc, char **argv) {
    int fast = 0, stats = 0, verbose = 0, i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') break;
        if (strcmp(a, "--fast") == 0) fast = 1;
        else if (strcmp(a, "--stats") == 0) stats = 1;
        else if (strcmp(a, "--verbose") == 0) verbose = 1;
        else if (strcmp(a, "--version") == 0) {
            printf("slabguard %s\n", SG_VERSION);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    if (i >= argc) return usage_error("%s", "no command given");

    const char *name = fast ? "libslabguard-fast.so" : "libslabguard.so";
    char lib[PATH_MAX];
    if (!find_library(name, argv[0], lib)) {
        fprintf(stderr, "slabguard: cannot find %s; looked for:\n", name);
        for (int k = 0; k < n_tried; k++) fprintf(stderr, "  %s\n", tried[k]);
        fputs("Set SLABGUARD_LIB to the library (or its directory).\n", stderr);
        return EXIT_NOT_FOUND;
    }
    if (!set_preload(lib) || (stats && setenv("SLABGUARD_STATS", "1", 1) != 0) ||
        (verbose && setenv("SLABGUARD_VERBOSE", "1", 1) != 0)) {
        fprintf(stderr, "slabguard: cannot set the environment: %s\n", strerror(errno));
        return EXIT_CANNOT_RUN;
    }
    /* not "slabguard: ...": that prefix is the library's error reports */
    if (verbose) fprintf(stderr, "slabguard launcher: LD_PRELOAD=%s\n", getenv("LD_PRELOAD"));
    execvp(argv[i], argv + i);
    int err = errno;
    fprintf(stderr, "slabguard: cannot run %s: %s\n", argv[i], strerror(err));
    return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}
