/* Unit tests of src/slot.h: zeroing a freed small slot and checking it on the way out, by
 * both of its ways (the loop, taken while slot sizes repeat, and the sixteen clamped accesses,
 * taken when the size changed), for every size up to 512 bytes and every byte of the slot. */
#include "../check.h"
#include "internal.h"
#include "slot.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_BS = 512 };

/* A fake slot of bs bytes on a fake page: the helpers read only block_size and the keys. */
typedef struct {
    sg_page_t page;
    sg_heap_t heap;
    _Alignas(16) unsigned char slot[MAX_BS];
} fake_t;

static fake_t fake;

static void fake_setup(size_t bs) {
    memset(&fake.page, 0, sizeof fake.page);
    memset(&fake.heap, 0, sizeof fake.heap);
    fake.page.block_size = (uint32_t)bs;
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
            sg_slot_zero(&fake.heap, &fake.page, fake.slot);
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
        }
    }
}

/* Run sg_slot_check_zero on the fake slot in a child: true when it aborted with the report. */
static bool check_reports(size_t bs, bool changed) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2);
        set_last(&fake.heap.scan_size, bs, changed);
        sg_slot_check_zero(&fake.heap, &fake.page, (sg_block_t *)fake.slot);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/* A non-zero byte anywhere between the link word (cleared after the check) and the size word
 * is a write after free, found by both ways; the link and the size word are not. Sizes with
 * canaries only (the size word is the canary's). */
static void test_check_finds_every_byte(void) {
    if (!SG_WRITE_AFTER_FREE || !SG_CANARY) return;
    for (size_t bs = 16; bs <= MAX_BS; bs += 16) {
        /* every byte for the clamped sizes and a sample above them: one child per byte */
        size_t step = bs <= SG_SLOT_BRANCHLESS_MAX ? 1 : 7;
        for (int changed = 0; changed < 2; changed++) {
            const char *how = changed ? "size changed" : "same size";
            fake_setup(bs);
            memset(fake.slot, 0, bs);
            memset(fake.slot + bs - 4, 0xff, 4);   /* a size word */
            CHECK(!check_reports(bs, changed), "bs %zu (%s): a clean slot reported", bs, how);
            memset(fake.slot, 0xff, 8);   /* the free-list link, cleared after the check */
            CHECK(!check_reports(bs, changed), "bs %zu (%s): the link word reported", bs, how);
            memset(fake.slot, 0, 8);
            for (size_t i = 8; i < bs - 4; i += step) {
                fake.slot[i] = 0x01;
                CHECK(check_reports(bs, changed), "bs %zu (%s): byte %zu written, not reported", bs, how, i);
                fake.slot[i] = 0;
            }
            if (CHECK_FAILED()) return;
        }
    }
}

int main(void) {
    RUN(test_zero_clears_all_but_the_size_word);
    RUN(test_check_finds_every_byte);
    return check_exit();
}
