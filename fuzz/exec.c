/* fuzz/exec.c: run a decoded program on a schedule fixed by the input, judging each answer.
 *
 * The calling thread is a scheduler: it hands each run of consecutive ops of one logical thread
 * to that thread's OS thread and waits for it, so every interleaving is decided by the input and
 * a crash replays. Blocks move between threads through the shared slots, so frees from other
 * threads, and frees into pages of threads that have exited, happen at fixed points. Only BURST
 * sections (with burst on) run several threads at once; their ops touch disjoint slots, so the
 * answers and the digest stay the same, only the allocator's internal interleaving varies. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"

/* First-class heaps: the sg_heap_ API when slabguard is linked (SGF_HAVE_HEAPS, set by fuzz.mk
 * and lib.sh for every build against a slabguard archive). Without it (the glibc build) a heap is
 * emulated: its calls are the plain ones, and destroying it frees the blocks it still owns, which
 * are exactly the slots tagged with it (every block the harness holds is in a slot). Both make
 * the same calls in the same order, so their digests compare. */
#if defined(SGF_USE_SG_API) && !defined(SGF_HAVE_HEAPS)
#define SGF_HAVE_HEAPS 1
#endif
#ifdef SGF_HAVE_HEAPS
#include "slabguard.h"
#endif

typedef struct sgf_heap {
    void *h;      /* sg_heap_t *, or a non-NULL marker when emulated */
    size_t limit; /* 0: unlimited */
    uint8_t alive;
} sgf_heap_t;

static sgf_heap_t heaps[SGF_NHEAPS + 1];

static sgf_program_t program;
static unsigned nthreads;
static FILE *trace;
static char sentinel; /* what posix_memalign must leave untouched when it fails */

// ---- one op ------------------------------------------------------------------------------------

static void slot_clear(sgf_slot_t *sl)
{
    memset(sl, 0, sizeof *sl);
}

/* The answer p to an allocation of op->size bytes into the empty slot sl; filled with the new
 * block's pattern unless the caller still has to check what realloc moved there. */
static void take_as(sgf_op_t *op, sgf_slot_t *sl, void *p, size_t align, size_t zero_bytes,
                    int fill)
{
    int err = errno;
    if (sl->occ)
        sgf_fail("internal: slot is not empty");
    if (!p) {
        if (op->size)
            sgf_fail("returned NULL (errno %d) for a request that must succeed", err);
        op->result = SGF_NULL + err; /* allowed for size 0, but glibc answers a unique pointer */
        sl->occ = 1;
        return;
    }
    sl->usable = sgf_shadow_new(p, op->size, align, zero_bytes);
    if (fill)
        sgf_shadow_fill(p, sl->usable, op->id);
    sl->p = p;
    sl->req = op->size;
    sl->id = op->id;
    sl->occ = 1;
    sl->align = align;
    /* the size slabguard records is the request: calloc's and reallocarray's only when the
     * harness's total divides evenly (op->size / op->n is what they ask for); pvalloc rounds */
    switch (op->kind) {
    case SGF_X_MALLOC:
    case SGF_X_REALLOC: sl->sized = 1; break;
    case SGF_X_CALLOC:
    case SGF_X_REALLOCARRAY: sl->sized = op->n && op->size % op->n == 0; break;
    case SGF_X_POSIX_MEMALIGN:
    case SGF_X_ALIGNED_ALLOC:
    case SGF_X_MEMALIGN:
    case SGF_X_VALLOC: sl->sized = 2; break;
    default: sl->sized = 0; break;
    }
}

/* C23's sized frees (harness.h): NULL only with a C library that lacks them */
static void (*volatile sized_free)(void *, size_t) = SGF_FN(free_sized);
static void (*volatile aligned_sized_free)(void *, size_t, size_t) = SGF_FN(free_aligned_sized);

/* Free the block of sl (already released): blocks of odd id go back through free_sized or
 * free_aligned_sized with the size and alignment they were made with, which every variant must
 * take as a plain free (secure builds check both). */
static void free_slot_block(const sgf_slot_t *sl, void *p)
{
    if (p && (sl->id & 1) && sl->sized == 1 && sized_free)
        sized_free(p, sl->req);
    else if (p && (sl->id & 1) && sl->sized == 2 && aligned_sized_free)
        aligned_sized_free(p, sl->align, sl->req);
    else
        SGF_FN(free)(p);
}

static void take(sgf_op_t *op, sgf_slot_t *sl, void *p, size_t align, size_t zero_bytes)
{
    take_as(op, sl, p, align, zero_bytes, 1);
}

/* Check the block in sl and take it out of the live set before giving it back. */
static void *release(sgf_slot_t *sl)
{
    void *p = sl->p;
    sgf_shadow_check(p, sl->usable, sl->id);
    sgf_shadow_forget(p);
    return p;
}

static void run_realloc(sgf_op_t *op, sgf_slot_t *sl)
{
    int was_occ = sl->occ;
    sgf_slot_t old = *sl;
    void *p = was_occ ? release(sl) : NULL;
    slot_clear(sl);
    errno = 0;
    void *q = op->kind == SGF_X_REALLOC ? SGF_FN(realloc)(p, op->size)
                                        : SGF_FN(reallocarray)(p, op->n, op->size / op->n);
    if (was_occ && op->size == 0) { /* realloc(p, 0) frees p (glibc answers NULL) */
        op->result = q ? 0 : SGF_NULL;
        if (q) {
            sgf_shadow_new(q, 0, 0, 0);
            sgf_shadow_forget(q);
            SGF_FN(free)(q);
        }
        return;
    }
    if (!q && op->size)
        sgf_fail("realloc(%p, %zu) returned NULL (errno %d)", p, op->size, errno);
    take_as(op, sl, q, 0, 0, !p);
    if (q && p) { /* the old contents up to the smaller request moved along */
        sgf_shadow_pattern(q, old.req < op->size ? old.req : op->size, old.id);
        sgf_shadow_fill(q, sl->usable, op->id);
    }
}

static void run_aligned(sgf_op_t *op, sgf_slot_t *sl)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *p = NULL;
    errno = 0;
    switch (op->kind) {
    case SGF_X_POSIX_MEMALIGN: {
        p = &sentinel;
        int rc = SGF_FN(posix_memalign)(&p, op->n, op->size);
        if (rc && p != &sentinel)
            sgf_fail("posix_memalign changed *memptr to %p while failing with %d", p, rc);
        if (rc && op->size)
            sgf_fail("posix_memalign(%zu, %zu) failed with %d", op->n, op->size, rc);
        if (rc) {
            op->result = rc;
            sl->occ = 1;
            return;
        }
        take(op, sl, p, op->n, 0);
        return;
    }
    case SGF_X_ALIGNED_ALLOC:
        p = SGF_FN(aligned_alloc)(op->n, op->size);
        break;
    case SGF_X_MEMALIGN:
        p = SGF_FN(memalign)(op->n, op->size);
        break;
    case SGF_X_VALLOC:
        p = SGF_FN(valloc)(op->size);
        op->n = page;
        break;
    default:
        p = SGF_FN(pvalloc)(op->size);
        op->n = page;
        break;
    }
    take(op, sl, p, op->n, 0);
}

/* Requests that must fail: NULL (or an error code), and an old block left intact. */
static void run_impossible(sgf_op_t *op, sgf_slot_t *sl)
{
    void *old = sl->occ ? sl->p : NULL, *p = NULL;
    errno = 0;
    switch (op->kind) {
    case SGF_X_FAIL_MALLOC: p = SGF_FN(malloc)(op->size); break;
    case SGF_X_FAIL_CALLOC: p = SGF_FN(calloc)(op->n, op->size); break;
    case SGF_X_FAIL_REALLOC: p = SGF_FN(realloc)(old, op->size); break;
    case SGF_X_FAIL_REALLOCARRAY: p = SGF_FN(reallocarray)(old, op->n, op->size); break;
    case SGF_X_FAIL_ALIGNED_ALLOC: p = SGF_FN(aligned_alloc)(op->n, op->size); break;
    case SGF_X_FAIL_MEMALIGN: p = SGF_FN(memalign)(op->n, op->size); break;
    case SGF_X_FAIL_VALLOC: p = SGF_FN(valloc)(op->size); break;
    case SGF_X_FAIL_PVALLOC: p = SGF_FN(pvalloc)(op->size); break;
    default: { /* SGF_X_FAIL_POSIX_MEMALIGN */
        p = &sentinel;
        int rc = SGF_FN(posix_memalign)(&p, op->n, op->size);
        if (!rc)
            sgf_fail("posix_memalign(%zu, %zu) succeeded with %p", op->n, op->size, p);
        if (p != &sentinel)
            sgf_fail("posix_memalign changed *memptr to %p while failing with %d", p, rc);
        op->result = rc;
        return;
    }
    }
    if (p)
        sgf_fail("an impossible request succeeded with %p", p);
    op->result = SGF_NULL + errno;
    if (old)
        sgf_shadow_check(old, sl->usable, sl->id);
}

// ---- first-class heaps ------------------------------------------------------------------------

static sgf_heap_t *heap_of(const sgf_op_t *op)
{
    sgf_heap_t *H = &heaps[op->hp];
    if (!op->hp || op->hp > SGF_NHEAPS || !H->alive)
        sgf_fail("internal: heap %u is not alive", op->hp);
    return H;
}

#ifdef SGF_HAVE_HEAPS
#define HEAP_MALLOC(H, size) sg_heap_malloc((H)->h, size)
#define HEAP_CALLOC(H, n, m) sg_heap_calloc((H)->h, n, m)
#define HEAP_REALLOC(H, p, size) sg_heap_realloc((H)->h, p, size)
#define HEAP_FREE(H, p) sg_heap_free((H)->h, p)
#else
#define HEAP_MALLOC(H, size) ((void)(H), SGF_FN(malloc)(size))
#define HEAP_CALLOC(H, n, m) ((void)(H), SGF_FN(calloc)(n, m))
#define HEAP_REALLOC(H, p, size) ((void)(H), SGF_FN(realloc)(p, size))
#define HEAP_FREE(H, p) ((void)(H), SGF_FN(free)(p))
#endif

/* A limited heap may refuse (ENOMEM) anything; what it maps never passes its limit. Its answers
 * (NULL or not) depend on the allocator's page accounting, so they stay out of the digest. */
static void heap_limit_check(const sgf_heap_t *H)
{
#ifdef SGF_HAVE_HEAPS
    if (H->limit) {
        size_t m = sg_heap_mapped(H->h);
        if (m > H->limit)
            sgf_fail("sg_heap_mapped = %zu is past the heap's limit %zu", m, H->limit);
    }
#else
    (void)H;
#endif
}

static void take_heap(sgf_op_t *op, sgf_slot_t *sl, sgf_heap_t *H, void *p, size_t zero_bytes,
                      int fill)
{
    if (!p && H->limit && op->size) {
        if (errno != ENOMEM)
            sgf_fail("a limited heap refused with errno %d, not ENOMEM", errno);
        if (sl->occ)
            sgf_fail("internal: slot is not empty");
        sl->occ = 1;
    } else {
        take_as(op, sl, p, 0, zero_bytes, fill);
    }
    sl->hp = op->hp;
    if (H->limit)
        op->result = 0;
    heap_limit_check(H);
}

static void run_heap_realloc(sgf_op_t *op, sgf_slot_t *sl)
{
    sgf_heap_t *H = heap_of(op);
    int was_occ = sl->occ;
    sgf_slot_t old = *sl;
    if (was_occ && sl->hp != op->hp)
        sgf_fail("internal: heap_realloc of a block of heap %u", sl->hp);
    void *p = was_occ ? release(sl) : NULL;
    slot_clear(sl);
    errno = 0;
    void *q = HEAP_REALLOC(H, p, op->size);
    if (was_occ && op->size == 0) { /* frees p (NULL answered) */
        op->result = q && !H->limit ? 0 : SGF_NULL;
        if (q) { /* p was NULL: realloc(NULL, 0) allocated */
            sgf_shadow_new(q, 0, 0, 0);
            sgf_shadow_forget(q);
            SGF_FN(free)(q);
        }
        if (H->limit)
            op->result = 0;
        return;
    }
    if (!q && op->size && H->limit && p) { /* refused: the old block is still there, intact */
        if (errno != ENOMEM)
            sgf_fail("a limited heap refused with errno %d, not ENOMEM", errno);
        sgf_shadow_new(p, old.req, 0, 0);
        sgf_shadow_check(p, old.usable, old.id);
        *sl = old;
        op->result = 0;
        heap_limit_check(H);
        return;
    }
    if (!q && op->size && !H->limit)
        sgf_fail("heap_realloc(%p, %zu) returned NULL (errno %d)", p, op->size, errno);
    take_heap(op, sl, H, q, 0, !p);
    if (q && p) { /* the old contents up to the smaller request moved along */
        sgf_shadow_pattern(q, old.req < op->size ? old.req : op->size, old.id);
        sgf_shadow_fill(q, sl->usable, op->id);
    }
}

static void run_heap_new(sgf_op_t *op)
{
    sgf_heap_t *H = &heaps[op->hp];
    if (!op->hp || op->hp > SGF_NHEAPS || H->alive)
        sgf_fail("internal: heap %u is already alive", op->hp);
#ifdef SGF_HAVE_HEAPS
    H->h = op->n ? sg_heap_new_limited(op->n) : sg_heap_new();
    if (!H->h)
        sgf_fail("sg_heap_new%s(%zu) returned NULL (errno %d)", op->n ? "_limited" : "", op->n,
                 errno);
    if (sg_heap_mapped(H->h) != 0)
        sgf_fail("a new heap has %zu bytes mapped", sg_heap_mapped(H->h));
#else
    H->h = H;
#endif
    H->limit = op->n;
    H->alive = 1;
}

/* The heap's blocks leave the shadow model untouched (the emulation frees them), then it goes. */
static void heap_destroy(sgf_heap_t *H, unsigned hp)
{
    for (unsigned t = 0; t < SGF_LTHREADS; t++)
        for (unsigned s = 0; s < SGF_SLOTS; s++) {
            sgf_slot_t *sl = &sgf_slots[t][s];
            if (!sl->occ || sl->hp != hp)
                continue;
#ifdef SGF_HAVE_HEAPS
            sgf_shadow_forget(sl->p);
#else
            SGF_FN(free)(release(sl));
#endif
            slot_clear(sl);
        }
#ifdef SGF_HAVE_HEAPS
    sg_heap_destroy(H->h);
#endif
    memset(H, 0, sizeof *H);
}

/* fork() with the other threads idle (not in a burst): the child, where only this thread lives,
 * checks every live block of every logical thread, frees this one's, allocates, fills and frees
 * blocks of sizes across the classes and a large one, and exits 0. The parent waits up to 20 s
 * (a lock held across fork hangs the child) and fails on any other end. Nothing of it reaches
 * the digest: the parent's state is unchanged. */
static void run_fork(sgf_op_t *op)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        sgf_fail("fork: errno %d", errno);
    if (pid == 0) {
        alarm(20);
        for (unsigned t = 0; t < SGF_LTHREADS; t++)
            for (unsigned s = 0; s < SGF_SLOTS; s++)
                if (sgf_slots[t][s].occ && sgf_slots[t][s].p)
                    sgf_shadow_check(sgf_slots[t][s].p, sgf_slots[t][s].usable, sgf_slots[t][s].id);
        for (unsigned s = 0; s < SGF_SLOTS; s++)
            if (sgf_slots[op->t][s].occ && sgf_slots[op->t][s].p)
                SGF_FN(free)(sgf_slots[op->t][s].p);
        void *keep[40];
        for (unsigned i = 0; i < 40; i++) {
            size_t n = i == 39 ? ((size_t)1 << 20) : 1 + (size_t)i * i * 37;
            unsigned char *q = SGF_FN(malloc)(n);
            if (!q)
                _exit(3);
            memset(q, (int)i + 1, n);
            keep[i] = q;
        }
        for (unsigned i = 0; i < 40; i++) {
            size_t n = i == 39 ? ((size_t)1 << 20) : 1 + (size_t)i * i * 37;
            const unsigned char *q = keep[i];
            if (q[0] != i + 1 || q[n - 1] != i + 1)
                _exit(4);
            SGF_FN(free)(keep[i]);
        }
        _exit(0);
    }
    int status = 0;
    for (unsigned waited = 0;; waited++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            sgf_fail("waitpid: errno %d", errno);
        if (waited == 2000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            sgf_fail("the child of fork() did not finish in 20 s");
        }
        nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        sgf_fail("the child of fork() ended with status %#x", (unsigned)status);
}

static void run_op(sgf_op_t *op)
{
    sgf_slot_t *sl = &sgf_slots[op->t][op->s];
    sgf_shadow_set_op(op);
    errno = 0;
    switch (op->kind) {
    case SGF_X_MALLOC:
        take(op, sl, SGF_FN(malloc)(op->size), 0, 0);
        break;
    case SGF_X_CALLOC:
        take(op, sl, SGF_FN(calloc)(op->n, op->size / op->n), 0, op->size);
        break;
    case SGF_X_REALLOC:
    case SGF_X_REALLOCARRAY:
        run_realloc(op, sl);
        break;
    case SGF_X_FREE:
        if (sl->occ) {
            free_slot_block(sl, release(sl));
            slot_clear(sl);
        } else {
            SGF_FN(free)(NULL);
        }
        break;
    case SGF_X_POSIX_MEMALIGN:
    case SGF_X_ALIGNED_ALLOC:
    case SGF_X_MEMALIGN:
    case SGF_X_VALLOC:
    case SGF_X_PVALLOC:
        run_aligned(op, sl);
        break;
    case SGF_X_USABLE: {
        size_t u = SGF_FN(malloc_usable_size)(sl->p);
        if (u != (sl->p ? sl->usable : 0))
            sgf_fail("malloc_usable_size(%p) = %zu, expected %zu", sl->p, u, sl->usable);
        break;
    }
    case SGF_X_CHECK:
        sgf_shadow_check(sl->p, sl->usable, sl->id);
        break;
    case SGF_X_HANDOFF: {
        sgf_slot_t *to = &sgf_slots[op->t2][op->s2];
        if (!sl->occ || to->occ)
            sgf_fail("internal: bad handoff");
        sgf_shadow_check(sl->p, sl->usable, sl->id);
        *to = *sl;
        slot_clear(sl);
        break;
    }
    case SGF_X_EXIT:
        break; /* the scheduler ends the OS thread */
    case SGF_X_FORK:
        run_fork(op);
        break;
    case SGF_X_HEAP_NEW:
        run_heap_new(op);
        break;
    case SGF_X_HEAP_DESTROY:
        heap_destroy(heap_of(op), op->hp);
        break;
    case SGF_X_HEAP_MALLOC: {
        sgf_heap_t *H = heap_of(op);
        take_heap(op, sl, H, HEAP_MALLOC(H, op->size), 0, 1);
        break;
    }
    case SGF_X_HEAP_CALLOC: {
        sgf_heap_t *H = heap_of(op);
        take_heap(op, sl, H, HEAP_CALLOC(H, op->n, op->size / op->n), op->size, 1);
        break;
    }
    case SGF_X_HEAP_REALLOC:
        run_heap_realloc(op, sl);
        break;
    case SGF_X_HEAP_FREE: {
        sgf_heap_t *H = heap_of(op);
        if (!sl->occ || sl->hp != op->hp)
            sgf_fail("internal: heap_free of a block of heap %u", sl->hp);
        HEAP_FREE(H, release(sl));
        slot_clear(sl);
        break;
    }
    default:
        run_impossible(op, sl);
        break;
    }
    if (trace)
        fprintf(trace, "%zu r%u t%u %s t%u.s%u size=%zu n=%zu%s%.0u -> %d\n",
                (size_t)(op - program.ops), op->record, op->exec, sgf_kind_name(op->kind), op->t,
                op->s, op->size, op->n, op->hp ? " heap=" : "", op->hp, op->result);
    sgf_shadow_set_op(NULL);
}

// ---- the schedule ------------------------------------------------------------------------------

enum { CMD_RUN, CMD_BURST, CMD_EXIT };

typedef struct worker {
    pthread_t thread;
    sem_t go;
    int alive, cmd;
    unsigned index;
    size_t lo, hi;
} worker_t;

static worker_t workers[SGF_LTHREADS];
static sem_t done;

static void sem_wait_intr(sem_t *s)
{
    while (sem_wait(s) != 0)
        if (errno != EINTR)
            sgf_fail("sem_wait: errno %d", errno);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        sem_wait_intr(&w->go);
        if (w->cmd == CMD_EXIT)
            return NULL;
        for (size_t i = w->lo; i < w->hi; i++)
            if (w->cmd == CMD_RUN || program.ops[i].exec % nthreads == w->index)
                run_op(&program.ops[i]);
        sem_post(&done);
    }
}

static void dispatch(unsigned index, int cmd, size_t lo, size_t hi)
{
    worker_t *w = &workers[index];
    if (!w->alive) {
        if (sem_init(&w->go, 0, 0))
            sgf_fail("sem_init: errno %d", errno);
        w->index = index;
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc)
            sgf_fail("pthread_create failed with %d", rc);
        w->alive = 1;
    }
    w->cmd = cmd;
    w->lo = lo;
    w->hi = hi;
    sem_post(&w->go);
}

static void stop(unsigned index)
{
    worker_t *w = &workers[index];
    if (!w->alive)
        return;
    w->cmd = CMD_EXIT;
    sem_post(&w->go);
    int rc = pthread_join(w->thread, NULL);
    if (rc)
        sgf_fail("pthread_join failed with %d", rc);
    sem_destroy(&w->go);
    w->alive = 0;
}

static void run_threads(int burst)
{
    size_t n = program.n, i = 0;
    sgf_op_t *ops = program.ops;
    while (i < n) {
        sgf_op_t *op = &ops[i];
        if (op->kind == SGF_X_EXIT) {
            stop(op->exec % nthreads);
            run_op(op);
            i++;
            continue;
        }
        size_t j = i + 1;
        if (burst && op->burst) {
            unsigned mask = 0, count = 0;
            while (j < n && ops[j].burst == op->burst)
                j++;
            for (size_t k = i; k < j; k++)
                mask |= 1u << (ops[k].exec % nthreads);
            for (unsigned w = 0; w < nthreads; w++)
                if (mask & (1u << w)) {
                    dispatch(w, CMD_BURST, i, j);
                    count++;
                }
            while (count--)
                sem_wait_intr(&done);
        } else {
            unsigned w = op->exec % nthreads;
            while (j < n && ops[j].exec % nthreads == w && ops[j].kind != SGF_X_EXIT &&
                   !(burst && ops[j].burst))
                j++;
            dispatch(w, CMD_RUN, i, j);
            sem_wait_intr(&done);
        }
        i = j;
    }
    for (unsigned w = 0; w < nthreads; w++)
        stop(w);
}

// ---- one input ---------------------------------------------------------------------------------

/* Memory lost by the allocator (a free that never reaches its page) shows nowhere in the answers:
 * every LEAK_EVERY inputs, with nothing live, no large block may be left, and the pages still in
 * use after a trim must stay within LEAK_SLACK of the first count (a thread's quarantine and the
 * shared one pin at most 256 pages each; about 140 pages are in use at each check here, and a
 * build that dropped every cross-thread free added 170 per check). The input that trips it is
 * not the culprit alone: the inputs since the first check share the blame. */
#define LEAK_EVERY 64
#define LEAK_SLACK 1024   /* pages of 64 KiB or more: 64 MiB at least */
static void leak_watch(void)
{
#ifdef SGF_HAVE_HEAPS
    static unsigned runs;
    static size_t first;
    if (++runs % LEAK_EVERY)
        return;
    sg_malloc_trim(0);
    sg_stats_t st;
    sg_stats_get(&st);
    if (!first)
        first = st.pages + 1;
    if (st.large_count)
        sgf_fail("%zu large blocks still live with nothing allocated", st.large_count);
    if (st.pages > first + LEAK_SLACK)
        sgf_fail("%zu pages in use with nothing allocated (%zu after the first %u inputs): memory leaks",
                 st.pages, first - 1, LEAK_EVERY);
#endif
}

static uint64_t digest(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < program.n; i++) {
        const sgf_op_t *op = &program.ops[i];
        uint32_t v[2] = {op->kind, (uint32_t)op->result};
        const uint8_t *b = (const uint8_t *)v;
        for (size_t k = 0; k < sizeof v; k++)
            h = (h ^ b[k]) * 0x100000001b3ull;
    }
    return h;
}

uint64_t sgf_run(const uint8_t *data, size_t size, const sgf_options_t *opt)
{
    static const sgf_options_t none;
    if (!opt)
        opt = &none;
    nthreads = opt->threads > 0 ? (unsigned)opt->threads : FUZZ_THREADS;
    if (nthreads > SGF_LTHREADS)
        nthreads = SGF_LTHREADS;
    trace = opt->trace;
    memset(sgf_slots, 0, sizeof sgf_slots);
    memset(heaps, 0, sizeof heaps);
    sgf_shadow_reset();
    sgf_decode(data, size, &program);

    if (nthreads == 1) {
        for (size_t i = 0; i < program.n; i++)
            run_op(&program.ops[i]);
    } else {
        static int once;
        if (!once && sem_init(&done, 0, 0))
            sgf_fail("sem_init: errno %d", errno);
        once = 1;
        run_threads(opt->burst);
    }
    if (!opt->keep) /* the scheduler frees what is left: blocks of threads long gone */
        for (unsigned t = 0; t < SGF_LTHREADS; t++)
            for (unsigned s = 0; s < SGF_SLOTS; s++)
                if (sgf_slots[t][s].occ) {
                    SGF_FN(free)(release(&sgf_slots[t][s]));
                    slot_clear(&sgf_slots[t][s]);
                }
    if (!opt->keep) /* the heaps left, now empty (their threads are gone: one user at a time) */
        for (unsigned hp = 1; hp <= SGF_NHEAPS; hp++)
            if (heaps[hp].alive)
                heap_destroy(&heaps[hp], hp);
    if (!opt->keep && !opt->no_leak_watch)
        leak_watch();
    return digest();
}
