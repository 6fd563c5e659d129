/* Unit tests of src/slot.h: zeroing a freed small slot and checking it on the way out, by
 * both of its ways (the loop, taken while slot sizes repeat, and the clamped 64-byte steps,
 * taken when the size changed), for every size up to 512 bytes and every byte of the slot;
 * the canary where only 4..7 bytes are left before the size word. The fake slot is followed by
 * a sentinel that nothing may read as zero or write. */
#include "../check.h"
#include "internal.h"
#include "slot.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_BS = 512 };

/* A fake slot of bs bytes on a fake page: the helpers read only block_size and the keys. */
typedef struct {
    sg_page_t page;
    sg_heap_t heap;
    _Alignas(16) unsigned char slot[MAX_BS + 64];   /* the slot, then a sentinel */
} fake_t;

static fake_t fake;

static void fake_setup(size_t bs) {
    memset(&fake.page, 0, sizeof fake.page);
    memset(&fake.heap, 0, sizeof fake.heap);
    fake.page.block_size = (uint32_t)bs;
    fake.page.canary_key = 0x9e3779b97f4a7c15ULL;
    fake.page.canary_mul = 0xbf58476d1ce4e5b9ULL;
    memset(fake.slot + bs, 0xee, sizeof fake.slot - bs);   /* sentinel: a read of it is not zero */
}

/* The bytes after the slot are still the sentinel. */
static size_t sentinel_changed(size_t bs) {
    size_t n = 0;
    for (size_t i = bs; i < sizeof fake.slot; i++) n += fake.slot[i] != 0xee;
    return n;
}

/* changed: make the helper see a new size (the clamped way); else the same size as last time */
static void set_last(uint32_t *last, size_t bs, bool changed) { *last = changed ? 0 : (uint32_t)bs; }

/* Every byte up to the size word reads zero after sg_slot_zero; the size word is kept. */
static void test_zero_clears_all_but_the_size_word(void) {
    if (!SG_ZERO_ON_FREE) return;
    for (size_t bs = 16; bs <= MAX_BS; bs += 16) {
        for (int changed = 0; changed < 2; changed++) {
            fake_setup(bs);
            set_last(&fake.heap.zero_size, bs, changed);
            memset(fake.slot, 0xa5, bs);
            sg_slot_zero(&fake.heap, &fake.page, fake.slot, bs - 8);
            size_t left = 0, first = bs;
            for (size_t i = 0; i < bs - SG_SIZE_WORD; i++) {
                if (fake.slot[i] && first == bs) first = i;
                left += fake.slot[i] != 0;
            }
            CHECK(left == 0, "bs %zu (%s): %zu bytes left, the first at %zu", bs,
                  changed ? "size changed" : "same size", left, first);
            for (size_t i = bs - SG_SIZE_WORD; i < bs; i++)
                CHECK(fake.slot[i] == 0xa5, "bs %zu (%s): size word byte %zu cleared", bs,
                      changed ? "size changed" : "same size", i);
            CHECK(sentinel_changed(bs) == 0, "bs %zu (%s): %zu bytes written past the slot", bs,
                  changed ? "size changed" : "same size", sentinel_changed(bs));
        }
    }
}

/* A large slot's zeroing (sg_slot_zero_large) on memory the program touched here and there: a
 * slot of 100000 bytes, 16 bytes into a fresh mapping, the bytes before it a neighbour's.
 * Written: the neighbours' 16 bytes on either side, the block's first bytes (page 0), page 5,
 * and the partial page at its end. Every byte of the block reads zero afterwards, the neighbour's are kept, and
 * while the page still asks (zero_asks) the untouched whole pages stay out of memory (mincore);
 * once it no longer asks, they are read (in memory, as the kernel's zero page). */
static unsigned resident_pages(const unsigned char *base, size_t from, size_t to) {
    unsigned char vec[64];
    unsigned n = 0;
    if (mincore((void *)(base + from * SG_OS_PAGE), (to - from) * SG_OS_PAGE, vec) != 0) return ~0u;
    for (size_t i = 0; i < to - from; i++) n += vec[i] & 1;
    return n;
}
static void test_zero_large_leaves_untouched_pages(void) {
    enum { N = 100000, MAP = 26 * 4096 };
    for (int asks = 1; asks >= 0; asks--) {
        unsigned char *base = mmap(NULL, MAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(base != MAP_FAILED, "mmap");
        unsigned char *slot = base + 16;
        memset(base, 0x11, 16);
        memset(slot, 0xa5, 100);
        memset(base + 5 * SG_OS_PAGE + 100, 0xa5, 3000);
        memset(slot + N - 300, 0xa5, 300);   /* page 24, shared with what follows the block */
        memset(slot + N, 0x22, 16);           /* what follows: another slot's */
        sg_page_t page;
        memset(&page, 0, sizeof page);
        atomic_store(&page.zero_asks, asks);
        sg_slot_zero_large(&page, slot, N);
        /* pages 1..4 and 6..23 were never touched (asked first: reading the block faults them in) */
        unsigned in = resident_pages(base, 1, 5) + resident_pages(base, 6, 24);
        if (asks)
            CHECK(in == 0, "asks 1: %u untouched pages faulted in (read, not asked)", in);
        else
            CHECK(in == 22, "asks 0: %u of 22 untouched pages read", in);
        size_t left = 0;
        for (size_t i = 0; i < N; i++) left += slot[i] != 0;
        CHECK(left == 0, "asks %d: %zu bytes of the block not zeroed", asks, left);
        CHECK(memcmp(base, "\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11", 16) == 0,
              "asks %d: the neighbour's bytes before the slot changed", asks);
        size_t after = 0;
        for (size_t i = N; i < N + 16; i++) after += slot[i] != 0x22;
        CHECK(after == 0, "asks %d: %zu bytes after the block changed", asks, after);
        CHECK(atomic_load(&page.zero_asks) == 0, "asks %d: zero_asks now %d", asks,
              (int)atomic_load(&page.zero_asks));
        munmap(base, MAP);
    }
}

/* Run fn(arg) in a child: true when it died by SIGABRT. For checks of a real slot's state. */
static bool aborts(void (*fn)(size_t), size_t arg) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2);
        fn(arg);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/* Run a check of the fake slot here: true when it reported (abort() raised SIGABRT, whose
 * handler jumps back). The checks read only the fake slot and hold no lock, and glibc's abort()
 * lets a handler leave and abort() be called again, so thousands of checks need no fork each
 * (one child per byte took most of make check's time for this program). stderr, where the
 * report goes, is /dev/null meanwhile. */
static sigjmp_buf report_jump;
static void on_abort(int sig) { (void)sig; siglongjmp(report_jump, 1); }
static bool reports(void (*check)(size_t), size_t arg) {
    static int null = -1;
    if (null < 0) null = open("/dev/null", O_WRONLY);
    int saved_err = dup(2);
    dup2(null, 2);
    struct sigaction sa = { .sa_handler = on_abort }, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGABRT, &sa, &old);
    volatile bool reported = false;
    if (sigsetjmp(report_jump, 1) == 0) check(arg);
    else reported = true;
    sigaction(SIGABRT, &old, NULL);
    dup2(saved_err, 2);
    close(saved_err);
    return reported;
}

static bool scan_changed;
static void scan(size_t bs) {
    set_last(&fake.heap.scan_size, bs, scan_changed);
    sg_slot_check_zero(&fake.heap, &fake.page, (sg_block_t *)fake.slot);
}
static bool check_reports(size_t bs, bool changed) {
    scan_changed = changed;
    return reports(scan, bs);
}

/* A non-zero byte anywhere between the link word (cleared after the check) and the size word
 * is a write after free, found by both ways; the link and the size word are not. Sizes with
 * canaries only (the size word is the canary's). */
static void test_check_finds_every_byte(void) {
    if (!SG_WRITE_AFTER_FREE || !SG_CANARY) return;
    for (size_t bs = 16; bs <= MAX_BS; bs += 16) {
        for (int changed = 0; changed < 2; changed++) {
            const char *how = changed ? "size changed" : "same size";
            fake_setup(bs);
            memset(fake.slot, 0, bs);
            memset(fake.slot + bs - 4, 0xff, 4);   /* a size word */
            CHECK(!check_reports(bs, changed), "bs %zu (%s): a clean slot reported (or the sentinel after it read)", bs, how);
            memset(fake.slot, 0xff, 8);   /* the free-list link, cleared after the check */
            CHECK(!check_reports(bs, changed), "bs %zu (%s): the link word reported", bs, how);
            memset(fake.slot, 0, 8);
            for (size_t i = 8; i < bs - 4; i++) {
                fake.slot[i] = 0x01;
                CHECK(check_reports(bs, changed), "bs %zu (%s): byte %zu written, not reported", bs, how, i);
                fake.slot[i] = 0;
            }
            if (CHECK_FAILED()) return;
        }
    }
}

static void canary(size_t unused) {
    (void)unused;
    sg_canary_check(&fake.page, fake.slot);
}

/* The canary right after r requested bytes: every checked byte (8, or 4 when only 4..7 bytes
 * are left before the size word) is watched, the user's bytes and the sentinel are not
 * touched, and an intact canary passes. */
static void test_canary_every_byte(void) {
    if (!SG_CANARY) return;
    for (size_t bs = 16; bs <= MAX_BS; bs += 16) {
        for (size_t r = bs - 12 > bs ? 0 : bs - 12; r <= bs - 8; r++) {
            fake_setup(bs);
            memset(fake.slot, 0x3c, bs);
            sg_canary_write(&fake.page, fake.slot, r);
            size_t user = 0;
            for (size_t i = 0; i < r; i++) user += fake.slot[i] != 0x3c;
            CHECK(user == 0 && sentinel_changed(bs) == 0, "bs %zu r %zu: canary wrote outside [r, bs)", bs, r);
            CHECK(fake.slot[r] == 0, "bs %zu r %zu: canary's first byte %#x", bs, r, fake.slot[r]);
            CHECK(sg_canary_size(&fake.page, fake.slot) == r, "bs %zu r %zu: stored size %zu", bs, r,
                  sg_canary_size(&fake.page, fake.slot));
            CHECK(!reports(canary, 0), "bs %zu r %zu: intact canary reported", bs, r);
            size_t watched = bs - 4 - r >= 8 ? 8 : 4;
            for (size_t i = r; i < r + watched; i++) {
                fake.slot[i] ^= 0x01;
                CHECK(reports(canary, 0), "bs %zu r %zu: byte %zu of the canary changed, not reported", bs, r, i);
                fake.slot[i] ^= 0x01;
            }
            if (CHECK_FAILED()) return;
        }
    }
}

/* ---- slot states: a free by the page's owner racing another thread's ---------------------- */
/* A block of this thread's page, its state driven through the helpers in a child (the parent's
 * heap never sees the states set there). */
static void *state_block;
static void state_slot(sg_page_t **page, uint32_t *idx) {
    *page = sg_page_of((uintptr_t)state_block);
    *idx = sg_slot_index_of(*page, state_block);
}

/* Another thread's free takes the slot between the owner's load and store (sg_slot_claim), and
 * the owner's store lands after it: the other thread's quarantine exit reports, whether the
 * owner's exit came first (owner_first) or not; the owner's own exit passes. */
static void owner_overwrites(size_t owner_first) {
    sg_page_t *page;
    uint32_t idx;
    state_slot(&page, &idx);
    if (sg_slot_claim(page, idx, SG_SLOT_QUARANTINED_REMOTE) != SG_SLOT_ALLOCATED) _exit(3);
    sg_slot_set_state(page, idx, SG_SLOT_QUARANTINED);
    if (owner_first) sg_slot_unquarantine(page, state_block, false);
    sg_slot_unquarantine(page, state_block, true);
    _exit(0);
}

/* Frees in sequence: the second one finds the first one's state (owner then other thread, other
 * thread then owner); a single free of either kind leaves the quarantine to FREE. */
static void in_sequence(size_t remote_first) {
    sg_page_t *page;
    uint32_t idx;
    state_slot(&page, &idx);
    uint8_t first = remote_first ? SG_SLOT_QUARANTINED_REMOTE : SG_SLOT_QUARANTINED;
    uint8_t second = remote_first ? SG_SLOT_QUARANTINED : SG_SLOT_QUARANTINED_REMOTE;
    if (sg_slot_claim(page, idx, first) != SG_SLOT_ALLOCATED) _exit(3);
    if (sg_slot_claim(page, idx, second) != first) _exit(4);
    sg_slot_unquarantine(page, state_block, remote_first);
    if (sg_slot_state(page, idx) != SG_SLOT_FREE) _exit(5);
    _exit(0);
}
static bool exits_zero(void (*fn)(size_t), size_t arg) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) fn(arg);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_owner_free_racing_another(void) {
    if (!SG_EXACT_FREE_CHECKS || !SG_QUARANTINE) return;
    state_block = malloc(64);
    REQUIRE(state_block != NULL, "malloc(64)");
    CHECK(aborts(owner_overwrites, 0), "the other thread's exit passed after the owner's store");
    CHECK(aborts(owner_overwrites, 1), "the other thread's exit passed after the owner's exit");
    CHECK(exits_zero(in_sequence, 0), "owner then other thread: wrong states");
    CHECK(exits_zero(in_sequence, 1), "other thread then owner: wrong states");
    free(state_block);
}

int main(void) {
    RUN(test_zero_clears_all_but_the_size_word);
    RUN(test_check_finds_every_byte);
    RUN(test_canary_every_byte);
    RUN(test_owner_free_racing_another);
    RUN(test_zero_large_leaves_untouched_pages);
    return check_exit();
}
