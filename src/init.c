/* init.c: process and thread start-up. Lazy: the first malloc of the process (which may come
 * from the dynamic loader or from libsodium's own start-up) sets everything up; a malloc made
 * from inside that set-up is served by the large path instead of recursing. Thread heaps come
 * from a pool that is never unmapped, so a stale heap pointer is never a dangling one. */
#include "internal.h"
#include "os.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

/* Until start-up, no address is in the arena: (a - base) wraps for every user address. */
sg_ro_t sg_ro __attribute__((aligned(4096))) = { .arena_base = (uintptr_t)0 - SG_ARENA_SIZE,
                                                  .arena_size = SG_ARENA_SIZE };
_Thread_local sg_heap_t *sg_tls_heap = &sg_heap_empty;
_Thread_local bool sg_tls_exited;
_Atomic(size_t) sg_stat_pages, sg_stat_threads;

enum { INIT_NONE, INIT_RUNNING, INIT_DONE, INIT_FAILED };
static _Atomic(int) init_state;
static _Thread_local int in_start_up;
static _Thread_local unsigned exit_rounds;   /* rounds of thread-specific destructors seen */
static pthread_key_t thread_key;
static sg_heap_t main_heap;
static _Atomic(int) main_heap_taken;

/* ---- the read-only page -------------------------------------------------------------------- */
void sg_ro_seal(void) { (void)sg_os_protect_ro(&sg_ro, sizeof sg_ro); }
/* false when the kernel refuses (vm.max_map_count reached): the page stays read-only */
bool sg_ro_unseal(void) { return sg_os_commit(&sg_ro, sizeof sg_ro); }

/* ---- heap pool ------------------------------------------------------------------------------ */
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static sg_heap_t *pool_free;

sg_heap_t *sg_init_pool_get(void) {
    sg_mutex_lock(&pool_mutex);
    if (!pool_free) {
        size_t chunk = 256 * 1024, n = chunk / sizeof(sg_heap_t);
        sg_heap_t *h = sg_os_map(chunk);
        if (h) {
            sg_os_name(h, chunk, "slabguard-heaps");
            for (size_t i = 0; i < n; i++) { h[i].pool_next = pool_free; pool_free = &h[i]; }
        }
    }
    sg_heap_t *heap = pool_free;
    if (heap) pool_free = heap->pool_next;
    sg_mutex_unlock(&pool_mutex);
    return heap;
}

void sg_init_pool_put(sg_heap_t *heap) {
    sg_mutex_lock(&pool_mutex);
    heap->pool_next = pool_free;
    pool_free = heap;
    sg_mutex_unlock(&pool_mutex);
}

/* Thread heaps in use, listed so that a forked child finds those of the parent's other
 * threads, which it does not have. Under pool_mutex. */
static sg_heap_t *live_first;

static void live_add(sg_heap_t *heap) {
    sg_mutex_lock(&pool_mutex);
    heap->live_prev = NULL;
    heap->live_next = live_first;
    if (live_first) live_first->live_prev = heap;
    live_first = heap;
    sg_mutex_unlock(&pool_mutex);
}

/* A thread heap given up (its thread exited, or is not in a forked child): off the list, back
 * to the pool. */
static void thread_heap_release(sg_heap_t *heap) {
    atomic_fetch_sub_explicit(&sg_stat_threads, 1, memory_order_relaxed);
    sg_mutex_lock(&pool_mutex);
    if (heap->live_prev) heap->live_prev->live_next = heap->live_next;
    else live_first = heap->live_next;
    if (heap->live_next) heap->live_next->live_prev = heap->live_prev;
    sg_mutex_unlock(&pool_mutex);
    if (heap == &main_heap) atomic_store(&main_heap_taken, 0);
    else sg_init_pool_put(heap);
}

/* ---- thread exit ---------------------------------------------------------------------------- */
/* The C library calls thread-specific destructors in rounds, at most
 * PTHREAD_DESTRUCTOR_ITERATIONS of them, a new round only while some key is set again. Another
 * library's destructor may allocate after this one ran: the thread then gets a new heap, and
 * this key, set again, hands it on in the next round. So that the last round is known, the key
 * is set again every round (to the empty heap: nothing to hand on) and the rounds are counted;
 * a request made after this destructor's last round is served by the large path
 * (sg_init_thread), since no round would come to hand a new heap on. */
#ifndef PTHREAD_DESTRUCTOR_ITERATIONS
#define PTHREAD_DESTRUCTOR_ITERATIONS 4
#endif
static void thread_done(void *arg) {
    sg_heap_t *heap = arg;
    if (++exit_rounds < PTHREAD_DESTRUCTOR_ITERATIONS) pthread_setspecific(thread_key, &sg_heap_empty);
    sg_tls_exited = true;
    if (!heap || heap->is_empty) return;
    sg_heap_abandon(heap);
    sg_tls_heap = &sg_heap_empty;
    thread_heap_release(heap);
}

/* ---- fork ----------------------------------------------------------------------------------- */
/* Every global lock is taken before fork and released on both sides, so the child never finds
 * a lock held by a thread that does not exist there. */
unsigned sg_fork_epoch;

/* Held while a forked child settles its orphans (sg_orphans_settle), and by fork: a fork never
 * catches a settle halfway. */
static pthread_mutex_t settle_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool orphans_pending;

static void fork_prepare(void) {
    sg_mutex_lock(&settle_mutex);
    sg_free_lock();
    sg_heaps_lock();
    sg_mutex_lock(&pool_mutex);
    sg_heap_lock_all();
    sg_arena_lock();
    sg_large_lock();
    sg_recycle_lock();
}
static void fork_parent(void) {
    sg_recycle_unlock();
    sg_large_unlock();
    sg_arena_unlock();
    sg_heap_unlock_all();
    sg_mutex_unlock(&pool_mutex);
    sg_heaps_unlock();
    sg_free_unlock();
    sg_mutex_unlock(&settle_mutex);
}
/* The child has one thread, the one that forked: the heaps of the parent's others have no
 * owner here. Their pages become orphans, and what the heaps held back goes to them
 * (sg_heap_orphan_pages, heap.c): a child that frees what those threads allocated gets the
 * memory back (before, it kept every such page). The fork only marks those heaps; the work,
 * which writes into every page their quarantines reach (copies of the parent's pages), waits
 * for the child's first sweep, trim or statistics call, or its 256th slow-path malloc: a child
 * that goes on to exec never does it (done in the fork, it took a child of a parent with 64
 * threads 0.4 to 0.9 s to start). */
static void mark_other_threads(void) {
    sg_heap_t *self = sg_tls_heap;
    bool any = false;
    sg_mutex_lock(&pool_mutex);
    for (sg_heap_t *h = live_first; h; h = h->live_next)
        if (h != self) h->orphaned = 1, any = true;
    sg_mutex_unlock(&pool_mutex);
    if (any) atomic_store_explicit(&orphans_pending, true, memory_order_relaxed);
}

void sg_orphans_settle(void) {
    if (sg_likely(!atomic_load_explicit(&orphans_pending, memory_order_relaxed))) return;
    sg_mutex_lock(&settle_mutex);   /* a thread that comes while another settles waits for it */
    if (atomic_load_explicit(&orphans_pending, memory_order_relaxed)) {
        /* the child's own threads may be freeing into these pages meanwhile (heap.c,
         * orphan_page); nobody else touches the marked heaps */
        sg_heap_orphan_pages();
        for (;;) {
            sg_mutex_lock(&pool_mutex);
            sg_heap_t *h = live_first;
            while (h && !h->orphaned) h = h->live_next;
            sg_mutex_unlock(&pool_mutex);
            if (!h) break;
            sg_heap_orphan(h);   /* clears orphaned */
            thread_heap_release(h);
        }
        atomic_store_explicit(&orphans_pending, false, memory_order_relaxed);
    }
    sg_mutex_unlock(&settle_mutex);
}

static void fork_child(void) {
    sg_recycle_child_reset();
    fork_parent();   /* the same unlocks, in the same order */
    sg_free_child_end_deliveries();
    mark_other_threads();
    if (SG_SECURE) {
        /* new secrets for the pages the child creates from now on, and generators seeded from
         * them: slot order, quarantine exits and guard places differ from the parent's and
         * from every sibling's (other heaps reseed in their slow path) */
        if (sg_ro_unseal()) {
            sg_random_rekey();
            sg_ro_seal();
        } else {
            sg_report_warning("cannot draw new secrets after fork (vm.max_map_count reached)");
        }
        sg_fork_epoch++;
        sg_arena_lock();
        sg_arena_reseed();
        sg_arena_unlock();
        sg_heap_t *heap = sg_tls_heap;
        if (!heap->is_empty) sg_heap_reseed(heap);
        sg_free_child_reseed();
    }
}

/* ---- options -------------------------------------------------------------------------------- */
/* Read SLABGUARD_* without allocating. Options only ever tighten, and setuid programs
 * (AT_SECURE) get none at all. */
/* A decimal number, or -1 when v is not one (or too large). */
static long parse_number(const char *v) {
    long n = 0;
    if (!v || !*v) return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > 100000000) return -1;
        n = n * 10 + (*v - '0');
    }
    return n;
}

/* Unknown SLABGUARD_* names: one warning each, so a typo does not silently leave a process
 * less protected than its operator thinks. */
static void warn_unknown_options(void) {
    static const char *const known[] = { "VERBOSE", "STATS", "QUARANTINE", "GUARD_EVERY", "PURGE_DELAY", "THP", "LIB" };
    extern char **environ;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "SLABGUARD_", 10) != 0) continue;
        const char *name = *e + 10;
        size_t len = strcspn(name, "=");
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (strlen(known[i]) == len && strncmp(known[i], name, len) == 0) ok = true;
        if (ok) continue;
        char msg[128] = "unknown option ";
        size_t at = strlen(msg), n = len + 10 < sizeof msg - at - 1 ? len + 10 : sizeof msg - at - 1;
        memcpy(msg + at, *e, n);
        msg[at + n] = 0;
        sg_report_warning(msg);
    }
}

static void read_options(void) {
    if (getauxval(AT_SECURE)) return;
    const char *v = getenv("SLABGUARD_VERBOSE");
    sg_ro.verbose = v && *v && *v != '0';
    v = getenv("SLABGUARD_STATS");
    sg_ro.stats_at_exit = v && *v && *v != '0';
    /* a power of two above the compiled size, up to 1M: only ever a longer delay before reuse */
    long n = parse_number(getenv("SLABGUARD_QUARANTINE"));
    if (SG_QUARANTINE && n > (long)SG_QUARANTINE_SLOTS && n <= (1L << 20) && !(n & (n - 1)))
        sg_ro.quarantine_slots = (size_t)n;
    /* 1..8: only ever more guards than the default of one in eight */
    n = parse_number(getenv("SLABGUARD_GUARD_EVERY"));
    if (SG_GUARD_PAGES && n >= 1 && n <= 8) sg_ro.guard_every = (size_t)n;
    /* milliseconds a free page stays resident before it is purged (0..60000; default 1000) */
    n = parse_number(getenv("SLABGUARD_PURGE_DELAY"));
    if (n >= 0 && n <= 60000) sg_ro.purge_delay_ms = (uint64_t)n + 1; /* 0 in sg_ro means unset */
    /* large blocks ask for transparent huge pages where the system leaves it to programs */
    v = getenv("SLABGUARD_THP");
    sg_ro.thp = v && *v && *v != '0';
    warn_unknown_options();
}

/* SLABGUARD_VERBOSE=1: one start-up line naming the build. */
static void announce(void) {
    char line[512];
    size_t at = 0;
    const char *parts[] = { "slabguard ", SG_VERSION, SG_SECURE ? " (secure): " : " (fast): ", sg_mitigations(), "\n" };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t n = strlen(parts[i]);
        if (at + n >= sizeof line) break;
        memcpy(line + at, parts[i], n);
        at += n;
    }
    ssize_t w = write(STDERR_FILENO, line, at);
    (void)w;
}

/* SLABGUARD_STATS=1: the report when the process exits (a destructor, not atexit: atexit
 * may allocate). */
__attribute__((destructor)) static void stats_at_exit(void) {
    if (sg_ro.stats_at_exit) sg_stats_print(STDERR_FILENO);
}

/* ---- process start-up ----------------------------------------------------------------------- */
/* Start-up runs when the library is loaded, unless a malloc came first: its fork handlers are
 * then registered before those of the libraries and the program that load after it (linked
 * statically, before the program's own constructors: the priority). glibc runs
 * prepare handlers last registered first and child handlers first registered first, so a
 * handler of theirs that allocates runs while slabguard's locks are free, not held (it
 * deadlocked when slabguard registered at a malloc after them). */
__attribute__((constructor(101))) static void start_up_at_load(void) { (void)sg_init_process(); }

bool sg_init_process(void) {
    int st = atomic_load_explicit(&init_state, memory_order_acquire);
    if (sg_likely(st == INIT_DONE)) return true;
    if (st == INIT_FAILED || in_start_up) return false;
    int expected = INIT_NONE;
    if (!atomic_compare_exchange_strong(&init_state, &expected, INIT_RUNNING)) {
        while ((st = atomic_load_explicit(&init_state, memory_order_acquire)) == INIT_RUNNING) sched_yield();
        return st == INIT_DONE;
    }
    in_start_up = 1;
    /* atfork first: no slabguard lock can be taken before the handlers exist */
    bool ok = pthread_atfork(fork_prepare, fork_parent, fork_child) == 0;
    ok = ok && sg_random_init();
    if (ok) sg_size_class_check();
    read_options();
    /* one guard per 8 units (512 KiB) on average keeps the secure heap within one kernel
     * mapping per 256 KiB; SLABGUARD_GUARD_EVERY=n (1..8) asks for more */
    if (SG_GUARD_PAGES && !sg_ro.guard_every) sg_ro.guard_every = 8;
    ok = ok && sg_arena_init();
    ok = ok && pthread_key_create(&thread_key, thread_done) == 0;
    if (ok) sg_ro_seal();
    else sg_report_warning("start-up failed; every allocation is mapped directly");
    if (sg_ro.verbose) announce();
    in_start_up = 0;
    atomic_store_explicit(&init_state, ok ? INIT_DONE : INIT_FAILED, memory_order_release);
    return ok;
}

/* Start-up has finished and the arena exists. */
bool sg_init_done(void) { return atomic_load_explicit(&init_state, memory_order_acquire) == INIT_DONE; }

/* Give the calling thread its heap. NULL while the process is starting up on this thread, or
 * once the thread's last round of destructors has begun (the caller then serves the request
 * from the large path). */
sg_heap_t *sg_init_thread(void) {
    if (sg_tls_heap != &sg_heap_empty) return sg_tls_heap;
    if (exit_rounds >= PTHREAD_DESTRUCTOR_ITERATIONS) return NULL;
    if (!sg_init_process()) return NULL;
    sg_heap_t *heap = NULL;
    int expected = 0;
    if (atomic_compare_exchange_strong(&main_heap_taken, &expected, 1)) heap = &main_heap;
    else heap = sg_init_pool_get();
    if (!heap) return NULL;
    sg_heap_init(heap);
    live_add(heap);
    sg_tls_heap = heap;
    pthread_setspecific(thread_key, heap);
    atomic_fetch_add_explicit(&sg_stat_threads, 1, memory_order_relaxed);
    return heap;
}

/* ---- the build -------------------------------------------------------------------------------- */
const char *sg_version(void) { return SG_VERSION; }
int sg_is_secure(void) { return SG_SECURE; }
const char *sg_mitigations(void) {
    static char out[256];
    if (!out[0]) {
        size_t at = 0;
        const struct { int on; const char *name; } list[] = {
            { 1, "range-check" },
            { SG_ENCODE_FREELIST, "encode-freelist" },
            { SG_EXACT_FREE_CHECKS, "exact-free-checks" },
            { SG_RANDOM_SLOTS, "random-slots" },
            { SG_CANARY, "canary" },
            { SG_ZERO_ON_FREE, "zero-on-free" },
            { SG_WRITE_AFTER_FREE, "write-after-free-check" },
            { SG_WAF_WHOLE, "write-after-free-whole-block" },
            { SG_QUARANTINE, "quarantine" },
            { SG_GUARD_PAGES, "guard-pages" },
            { SG_LARGE_QUARANTINE, "large-quarantine" },
        };
        for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
            if (!list[i].on) continue;
            size_t n = strlen(list[i].name);
            if (at + n + 2 > sizeof out) break;
            if (at) out[at++] = ' ';
            memcpy(out + at, list[i].name, n);
            at += n;
        }
        out[at] = 0;
    }
    return out;
}
