/* vuln.c: a toy session server with two classic heap bugs, for `make demo` (scripts/demo.sh).
 *
 * It reads one command per line on stdin:
 *   LOGIN <name>     open a session (never an admin one: only the console grants that)
 *   WHOAMI           "<name>: access granted" for an admin session, "access denied" otherwise
 *   NOTE <hex>       keep a note of up to 48 bytes
 *   EDIT <hex>       replace the note's bytes
 *   REQ <path>       queue a request; a path not starting with '/' is rejected
 *   RETRY <path>     give the last rejected request a new path
 *   CLOSE            drop the last request
 *
 * The bugs (both on purpose):
 *   1. heap overflow: EDIT copies the decoded bytes into the 48-byte note *before* it checks
 *      their length. A long EDIT writes over whatever follows the note on the heap.
 *   2. use after free + double free: a rejected request is freed, but `last_request` keeps
 *      pointing at it; RETRY writes through that dangling pointer and CLOSE frees it again.
 *
 * The session, the note and the request are all 48 bytes, so with glibc's allocator they come
 * from the same bin: the attacker can place a note right before the session (overflow), or get
 * the freed request handed out twice, once as the session and once as a note (tcache dup). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OBJECT_SIZE = 48, NOTE_MAX = 48 };

struct session {            /* 48 bytes */
    char user[32];
    long is_admin;
    long logins;
};

struct request {            /* 48 bytes: the same size class as a session */
    char path[40];
    long flags;
};

_Static_assert(sizeof(struct session) == OBJECT_SIZE, "one size for every object");
_Static_assert(sizeof(struct request) == OBJECT_SIZE, "one size for every object");

static struct session *session;
static unsigned char *note;
static struct request *last_request;

/* Hex text to bytes; returns how many, or -1 on a bad digit. */
static long decode_hex(const char *hex, unsigned char *out, size_t cap) {
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned hi, lo;
        if (sscanf(hex, "%1x%1x", &hi, &lo) != 2) return -1;
        out[n++] = (unsigned char)(hi << 4 | lo);
    }
    return (long)n;
}

static void login(const char *name) {
    session = malloc(sizeof *session);
    memset(session, 0, sizeof *session);
    snprintf(session->user, sizeof session->user, "%s", name);
    session->is_admin = 0; /* only the console grants admin */
    session->logins = 1;
    printf("logged in as %s\n", session->user);
}

static void whoami(void) {
    if (!session) {
        puts("not logged in");
        return;
    }
    printf("%.32s: %s\n", session->user, session->is_admin ? "access granted" : "access denied");
}

static void new_note(const char *hex) {
    unsigned char buf[512];
    long n = decode_hex(hex, buf, sizeof buf);
    if (n < 0 || n > NOTE_MAX) {
        puts("bad note");
        return;
    }
    note = malloc(NOTE_MAX);
    memset(note, 0, NOTE_MAX);
    memcpy(note, buf, (size_t)n);
    printf("note saved (%ld bytes)\n", n);
}

static void edit_note(const char *hex) {
    unsigned char buf[512];
    long n = decode_hex(hex, buf, sizeof buf);
    if (!note || n < 0) {
        puts("nothing to edit");
        return;
    }
    memcpy(note, buf, (size_t)n); /* BUG 1: copied before the length is checked */
    if (n > NOTE_MAX) {
        puts("note too long: discarded");
        free(note);
        note = malloc(NOTE_MAX);
        memset(note, 0, NOTE_MAX);
        return;
    }
    puts("note edited");
}

static void request(const char *path) {
    struct request *r = malloc(sizeof *r);
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    last_request = r;
    if (path[0] != '/') {
        puts("request rejected: bad path");
        free(r); /* BUG 2: last_request still points here */
        return;
    }
    printf("request queued: %s\n", r->path);
}

static void retry(const char *path) {
    if (!last_request) {
        puts("nothing to retry");
        return;
    }
    snprintf(last_request->path, sizeof last_request->path, "%s", path); /* write after free */
    printf("request retried: %s\n", path);
}

static void close_request(void) {
    if (!last_request) {
        puts("nothing to close");
        return;
    }
    free(last_request); /* a double free when the request was rejected */
    last_request = NULL;
    puts("request closed");
}

int main(void) {
    /* the banner comes first, so stdout's buffer is on the heap before any session object */
    puts("vuln: toy session server; commands LOGIN WHOAMI NOTE EDIT REQ RETRY CLOSE");
    fflush(stdout);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        char *arg = strchr(line, ' ');
        if (arg) *arg++ = '\0';
        else arg = line + strlen(line);
        if (strcmp(line, "LOGIN") == 0) login(arg);
        else if (strcmp(line, "WHOAMI") == 0) whoami();
        else if (strcmp(line, "NOTE") == 0) new_note(arg);
        else if (strcmp(line, "EDIT") == 0) edit_note(arg);
        else if (strcmp(line, "REQ") == 0) request(arg);
        else if (strcmp(line, "RETRY") == 0) retry(arg);
        else if (strcmp(line, "CLOSE") == 0) close_request();
        else if (line[0]) printf("unknown command %s\n", line);
        fflush(stdout);
    }
    puts("bye");
    return 0; /* no clean-up: the process ends here */
}
