/* report.c: the fatal reporters. One line with write(2), then abort(). Nothing here allocates
 * or takes a lock, and the internal locks the reporting thread holds are released first, so a
 * SIGABRT handler that calls malloc afterwards runs to its end. */
#include "internal.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static size_t put_str(char *buf, size_t at, size_t cap, const char *s) {
    while (*s && at < cap) buf[at++] = *s++;
    return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, uintptr_t v, unsigned base) {
    char tmp[24];
    size_t n = 0;
    do { tmp[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    while (n && at < cap) buf[at++] = tmp[--n];
    return at;
}

static void write_all(const char *buf, size_t len) {
    while (len) {
        ssize_t w = write(STDERR_FILENO, buf, len);
        if (w <= 0) return;
        buf += w;
        len -= (size_t)w;
    }
}

/* ---- the locks a thread holds ------------------------------------------------------------- */
/* Nesting is shallow (fork's prepare handler takes the most: six); a lock past the record is
 * still taken, only not released by a report. */
#define HELD_MAX 12
static _Thread_local pthread_mutex_t *held[HELD_MAX];
static _Thread_local unsigned held_count;

void sg_mutex_lock(pthread_mutex_t *m) {
    pthread_mutex_lock(m);
    if (held_count < HELD_MAX) held[held_count] = m;
    held_count++;
}

void sg_mutex_unlock(pthread_mutex_t *m) {
    unsigned n = held_count < HELD_MAX ? held_count : HELD_MAX;
    for (unsigned i = n; i-- > 0;) {   /* usually the last one taken */
        if (held[i] != m) continue;
        for (; i + 1 < n; i++) held[i] = held[i + 1];
        break;
    }
    held_count--;
    pthread_mutex_unlock(m);
}

/* Newest first. The structures a lock guarded may be half-updated: a handler's malloc may then
 * fail or crash, which ends the process as surely and faster than waiting for ever. */
static void release_held(void) {
    while (held_count) {
        unsigned n = held_count < HELD_MAX ? held_count : HELD_MAX;
        held_count = n - 1;
        pthread_mutex_unlock(held[n - 1]);
    }
}

/* "slabguard: <what> of 0x<addr> (size <n>)\n" */
_Noreturn void sg_report_fatal(const char *what, const void *p, size_t size) {
    release_held();
    char line[256];
    size_t at = put_str(line, 0, sizeof line - 1, "slabguard: ");
    at = put_str(line, at, sizeof line - 1, what);
    at = put_str(line, at, sizeof line - 1, " of 0x");
    at = put_num(line, at, sizeof line - 1, (uintptr_t)p, 16);
    at = put_str(line, at, sizeof line - 1, " (size ");
    at = put_num(line, at, sizeof line - 1, size, 10);
    at = put_str(line, at, sizeof line - 1, ")");
    line[at++] = '\n';
    write_all(line, at);
    abort();
}

_Noreturn void sg_report_double_free(const void *p, size_t size) { sg_report_fatal("double free", p, size); }
_Noreturn void sg_report_invalid_free(const void *p, size_t size) { sg_report_fatal("invalid free", p, size); }
_Noreturn void sg_report_corrupt_list(const void *p, size_t size) { sg_report_fatal("corrupted free list", p, size); }
_Noreturn void sg_report_overflow(const void *p, size_t size) { sg_report_fatal("heap overflow", p, size); }
_Noreturn void sg_report_write_after_free(const void *p, size_t size) { sg_report_fatal("write after free", p, size); }

void sg_report_warning(const char *msg) {
    char line[256];
    size_t at = put_str(line, 0, sizeof line - 1, "slabguard: warning: ");
    at = put_str(line, at, sizeof line - 1, msg);
    line[at++] = '\n';
    write_all(line, at);
}
