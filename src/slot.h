/* slot.h: the per-slot hardening done when a slot is handed out (arm) and when it comes back
 * (disarm): slot state, canary, requested size, zero-on-free and the write-after-free check.
 * Every helper is a no-op when its mitigation is compiled out. */
#ifndef SG_SLOT_H
#define SG_SLOT_H

#include <string.h>
#include "internal.h"
#include "vg.h"

/* ---- slot state (exact double-free / invalid-free detection) -------------------------- */
SG_INLINE uint8_t sg_slot_state(sg_page_t *page, uint32_t idx) {
#if SG_SLOT_STATES
    return atomic_load_explicit(&page->state[idx], memory_order_relaxed);
#else
    (void)page; (void)idx;
    return SG_SLOT_ALLOCATED;
#endif
}
SG_INLINE void sg_slot_set_state(sg_page_t *page, uint32_t idx, uint8_t s) {
#if SG_SLOT_STATES
    atomic_store_explicit(&page->state[idx], s, memory_order_relaxed);
#else
    (void)page; (void)idx; (void)s;
#endif
}
SG_INLINE uint32_t sg_slot_index_of(const sg_page_t *page, const void *p) {
    return sg_page_slot_index(page, (uintptr_t)p - page->start);
}

/* ---- canary ------------------------------------------------------------------------- */
/* Layout of a small slot of block_size bs holding a request of r bytes (r <= bs - 8):
 *   [0, r) user data | [r, r+8) canary (4 bytes when only 4..7 are left) | ... | [bs-4, bs) r, encoded
 * The canary sits right after the requested bytes, so a 1-byte overflow changes it; its first
 * byte is zero so a string read running off the end stops there. */
/* The slot's secret: its address mixed with the page's two keys, a 64x64->128-bit multiply
 * folded to 64 bits. Not linear: one canary read through an over-read, with its slot's
 * address, does not give the canary of any other slot (with the page key XORed with the
 * shifted address, it gave every other slot's of the page). The canary is its bits 8..63 (the
 * first byte zero), the size word's key its low 32 bits. */
SG_INLINE uint64_t sg_slot_secret(const sg_page_t *page, const void *slot) {
    unsigned __int128 m = (unsigned __int128)((uintptr_t)slot ^ page->canary_key) * page->canary_mul;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}
SG_INLINE uint64_t sg_canary_value(const sg_page_t *page, const void *slot) {
    return sg_slot_secret(page, slot) & ~(uint64_t)0xff;
}
SG_INLINE uint32_t sg_size_key(const sg_page_t *page, const void *slot) {
    return (uint32_t)sg_slot_secret(page, slot);
}
/* The size word: the request XORed with the slot's key, then multiplied by an odd constant
 * (undone by its inverse mod 2^32). With the XOR alone, a dangling write of one byte changed
 * only those 8 bits of the decoded size, which often still fitted the slot: a smaller size that
 * made the write-after-free check stop short of a second, deeper write (found by a red-team
 * helper). Multiplied, a change to any one byte moves the decoded size past 128 KiB, whatever
 * the byte, the key and the size (every one of 204 million tried); changes to more bytes pass
 * about once in 2^32 / slot size. */
#define SG_SIZE_MUL 0x9e3779b1u
#define SG_SIZE_MUL_INV 0x0e8b2f51u
_Static_assert((uint32_t)(SG_SIZE_MUL * SG_SIZE_MUL_INV) == 1u, "the size word's multiplier and its inverse");
SG_INLINE uint32_t sg_size_encode(size_t r, uint32_t key) { return ((uint32_t)r ^ key) * SG_SIZE_MUL; }
SG_INLINE size_t sg_size_decode(uint32_t enc, uint32_t key) { return (enc * SG_SIZE_MUL_INV) ^ key; }
/* secret: sg_slot_secret(page, slot), when the caller has it already */
SG_INLINE void sg_canary_write_secret(const sg_page_t *page, void *slot, size_t r, uint64_t secret) {
    if (!SG_CANARY) return;
    char *s = slot;
    size_t bs = page->block_size;
    uint64_t c = secret & ~(uint64_t)0xff;
    /* always 8 bytes (r + 8 <= bs): with only 4..7 bytes of room the last ones land on the
     * size word, written next. No branch on the size: random sizes made it a coin toss. */
    memcpy(s + r, &c, 8);
    uint32_t enc = sg_size_encode(r, (uint32_t)secret);
    memcpy(s + bs - 4, &enc, 4);
}
SG_INLINE void sg_canary_write(const sg_page_t *page, void *slot, size_t r) {
    if (SG_CANARY) sg_canary_write_secret(page, slot, r, sg_slot_secret(page, slot));
}
/* The size word as stored (0 in a slot never handed out), and the request size it encodes. */
SG_INLINE uint32_t sg_size_word(const sg_page_t *page, const void *slot) {
    uint32_t enc;
    memcpy(&enc, (const char *)slot + page->block_size - 4, 4);
    return enc;
}
SG_INLINE size_t sg_stored_size(const sg_page_t *page, const void *slot) {
    return sg_size_decode(sg_size_word(page, slot), sg_size_key(page, slot));
}
/* The requested size stored in the slot, or reports an overflow when the tail was trampled. */
SG_INLINE size_t sg_canary_size(const sg_page_t *page, const void *slot) {
    size_t r = sg_stored_size(page, slot);
    if (sg_unlikely(r + 8 > page->block_size)) sg_report_overflow(slot, page->block_size);
    return r;
}
SG_INLINE size_t sg_canary_check(const sg_page_t *page, const void *slot) {
    if (!SG_CANARY) return page->block_size;
    size_t r = sg_canary_size(page, slot), room = page->block_size - 4 - r;
    uint64_t c = sg_canary_value(page, slot), seen;
    memcpy(&seen, (const char *)slot + r, 8);
    /* room 4..7: only the first 4 bytes are canary (the rest is the size word), masked
     * without a branch */
    uint64_t mask = ~(uint64_t)0 >> ((room < 8) * 32);
    if (sg_unlikely((seen ^ c) & mask)) sg_report_overflow(slot, r);
    return r;
}

/* ---- valgrind (make VALGRIND=1) ----------------------------------------------------------- */
/* The allocator's own words inside a slot (the free-list link, the canary and size word) are
 * opened (made defined) just before slabguard touches them. */
/* The bytes of a slot the program may use: the request where it is stored, else the slot. */
SG_INLINE size_t sg_vg_user_size(const sg_page_t *page, size_t r) { return SG_CANARY ? r : page->block_size; }

/* Make the allocator's own bytes of an allocated slot (canary, size word) readable. */
SG_INLINE void sg_vg_open_tail(const sg_page_t *page, const void *p) {
    if (!SG_CANARY) return;
    const char *s = p;
    VALGRIND_MAKE_MEM_DEFINED(s + page->block_size - 4, 4);
    size_t r = sg_stored_size(page, p);
    if (r + 8 <= page->block_size) VALGRIND_MAKE_MEM_DEFINED(s + r, page->block_size - 4 - r);
    (void)s; (void)r;
}

SG_INLINE void sg_vg_open(const void *p, size_t n) { VALGRIND_MAKE_MEM_DEFINED(p, n); (void)p; (void)n; }

/* A slot handed out for r bytes. */
SG_INLINE void sg_vg_alloc(const sg_page_t *page, void *p, size_t r, int zeroed) {
    size_t u = sg_vg_user_size(page, r);
    VALGRIND_MALLOCLIKE_BLOCK(p, u, 0, zeroed);
    if (u < page->block_size) VALGRIND_MAKE_MEM_NOACCESS((char *)p + u, page->block_size - u);
    (void)p; (void)u; (void)zeroed;
}

/* A slot given back: nothing of it is the program's any more; its first word is the link. */
SG_INLINE void sg_vg_free(const sg_page_t *page, void *p) {
    VALGRIND_FREELIKE_BLOCK(p, 0);
    VALGRIND_MAKE_MEM_NOACCESS(p, page->block_size);
    VALGRIND_MAKE_MEM_DEFINED(p, sizeof(sg_block_t));
    (void)page; (void)p;
}


/* ---- zero on free / write after free ------------------------------------------------- */
/* The check reads a slot's first 4 KiB, and past them as far as the freed block reached (its
 * size word survives the free: page.c, freed_extent; without canaries, the whole slot); a slot
 * never handed out reads zero past its first 4 KiB, which is all the check reads of it. */
#define SG_WAF_CHECK_MAX 4096u

SG_NOINLINE void sg_slot_waf_scan(const sg_page_t *page, sg_block_t *b);

/* The encoded size word at the slot's end survives the free, so a later double free can name
 * the size; everything else is zeroed. */
#define SG_SIZE_WORD (SG_CANARY ? 4u : 0u)
void sg_slot_zero_large(sg_page_t *page, void *slot, size_t n);

/* Small slots are zeroed and scanned in one of two ways. A loop over the slot's 16-byte words
 * does exactly the work needed, and its exit is predicted while sizes repeat; when sizes vary
 * from one call to the next it is mispredicted almost every time (a random mix of 16..256-byte
 * blocks spent a third of its time there). So a slot of 32..272 bytes whose size differs from
 * the previous call's is done without a loop: four 64-byte steps at clamped offsets cover
 * [0, bs - 16) whatever the size (sg_zero_upto256), then the last 16 bytes. */
#define SG_SLOT_BRANCHLESS_MAX 272u
typedef uint64_t sg_v2 __attribute__((vector_size(16), aligned(16)));
SG_INLINE size_t sg_slot_clamp(size_t off, size_t last) { return off < last ? off : last; }
/* Zero / OR [p, p + n), p 16-byte aligned, n a multiple of 16 from 16 to 256, without a loop:
 * four 64-byte steps at offsets min(64j, n - 64), or below 64 bytes three words at 0,
 * min(16, n - 16) and n - 16 (whether n is below 64 is the one branch). */
SG_INLINE void sg_zero_upto256(char *p, size_t n) {
    const sg_v2 z = { 0, 0 };
    if (n < 64) {
        *(sg_v2 *)p = z;
        *(sg_v2 *)(p + sg_slot_clamp(16, n - 16)) = z;
        *(sg_v2 *)(p + n - 16) = z;
        return;
    }
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; j++) {
        sg_v2 *c = (sg_v2 *)(p + sg_slot_clamp(64 * j, n - 64));
        c[0] = z, c[1] = z, c[2] = z, c[3] = z;
    }
}
SG_INLINE sg_v2 sg_or_upto256(const char *p, size_t n) {
    if (n < 64)
        return *(const sg_v2 *)p | *(const sg_v2 *)(p + sg_slot_clamp(16, n - 16)) | *(const sg_v2 *)(p + n - 16);
    sg_v2 a = { 0, 0 }, b = a, c = a, d = a;
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; j++) {
        const sg_v2 *w = (const sg_v2 *)(p + sg_slot_clamp(64 * j, n - 64));
        a |= w[0], b |= w[1], c |= w[2], d |= w[3];
    }
    return a | b | c | d;
}
/* true (and remembered) when bs is in the branchless range and not the size of last time.
 * The shared not-yet-initialised heap (threads that only free, or are exiting) remembers
 * nothing: many threads would write it at once. */
SG_INLINE bool sg_slot_size_changed(sg_heap_t *heap, uint32_t *last, size_t bs) {
    if (!SG_CANARY || bs - 32 > SG_SLOT_BRANCHLESS_MAX - 32 || bs == *last) return false;
    if (!heap->is_empty) *last = (uint32_t)bs;
    return true;
}

/* Zero / OR the 16-byte words of [s, s + n): s 16-byte aligned, n a multiple of 16, at least
 * 16. 64 bytes a step, the last step ending at s + n (overlapping the one before); below 64
 * bytes, two or three words. */
SG_INLINE void sg_zero_words(char *s, size_t n) {
    const sg_v2 z = { 0, 0 };
    sg_v2 *w = (sg_v2 *)s, *e = (sg_v2 *)(s + n);
    if (n < 64) {
        w[0] = z, e[-1] = z;
        if (n > 32) w[1] = z;
        return;
    }
    for (; w + 4 < e; w += 4) w[0] = z, w[1] = z, w[2] = z, w[3] = z;
    e[-4] = z, e[-3] = z, e[-2] = z, e[-1] = z;
}
SG_INLINE sg_v2 sg_or_words(const char *s, size_t n) {
    const sg_v2 *w = (const sg_v2 *)s, *e = (const sg_v2 *)(s + n);
    if (n < 64) return w[0] | w[n > 32] | e[-1];
    sg_v2 a = e[-4], b = e[-3], c = e[-2], d = e[-1];
    for (; w + 4 < e; w += 4) a |= w[0], b |= w[1], c |= w[2], d |= w[3];
    return a | b | c | d;
}

SG_INLINE void sg_slot_zero(sg_heap_t *heap, sg_page_t *page, void *slot, size_t r) {
    if (!SG_ZERO_ON_FREE) return;
    size_t bs = page->block_size;
    char *s = slot;
    if (sg_slot_size_changed(heap, &heap->zero_size, bs)) {
        sg_zero_upto256(s, bs - 16);
    } else if (bs > 512 || !SG_CANARY) {
        /* above 512 bytes, only what the block used: its r bytes and the canary after them.
         * The rest of the slot reads zero already (it did when the slot was handed out: the
         * write-after-free check, and before it this same zeroing; a realloc that shrinks a
         * block in place clears what it gives up), unless an overflow jumped the canary */
        size_t n = SG_CANARY && r + 8 < bs - SG_SIZE_WORD ? r + 8 : bs - SG_SIZE_WORD;
        if (bs > 4096) sg_slot_zero_large(page, slot, n);
        else memset(slot, 0, n);
        return;
    } else if (bs > 16) {
        sg_zero_words(s, bs - 16);
    }
    memset(s + bs - 16, 0, 12);   /* the last 16 bytes up to the size word */
}

/* A slot being handed out was zeroed when it was freed: any non-zero byte other than the
 * free-list link (cleared after this check) and the size word was written after the free. */
SG_INLINE void sg_slot_check_zero(sg_heap_t *heap, const sg_page_t *page, sg_block_t *b) {
    size_t bs = page->block_size;
    const char *s = (const char *)b;
    if (!SG_CANARY || bs > 512) {
        sg_slot_waf_scan(page, b);
        return;
    }
    /* The first word without the link (still there: clearing it first made this load wait for
     * the store), the last without the size word; for a 16-byte slot they are the same. */
    const sg_v2 *w = (const sg_v2 *)s;
    sg_v2 acc = w[0] & (sg_v2){ 0, bs == 16 ? 0xffffffffu : ~(uint64_t)0 };
    if (bs == 16) goto done;
    acc |= *(const sg_v2 *)(s + bs - 16) & (sg_v2){ ~(uint64_t)0, 0xffffffffu };
    if (bs == 32) goto done;
    /* [16, bs - 16) */
    if (sg_slot_size_changed(heap, &heap->scan_size, bs)) {
        acc |= sg_or_upto256(s + 16, bs - 32);
    } else {
        acc |= sg_or_words(s + 16, bs - 32);
    }
done:
    if (sg_unlikely((acc[0] | acc[1]) != 0)) sg_report_write_after_free(b, bs - SG_CANARY_OVERHEAD);
}

/* The size word a free leaves in the slot (the block's request, encoded; 0 in a slot never
 * handed out) is not zeroed, so the scan skips it: a dangling write that changed it, and
 * nothing else, is caught here, as a word that no longer decodes to a size the slot can hold
 * (any change to one byte; a random value passes once in 2^32 / block size). A write of zeros
 * over the whole word makes the slot look never handed out: that passes (SECURITY.md). secret:
 * sg_slot_secret(page, slot). */
SG_INLINE void sg_slot_check_size_word(const sg_page_t *page, void *slot, uint64_t secret) {
    if (!SG_CANARY || !SG_WRITE_AFTER_FREE) return;
    uint32_t enc = sg_size_word(page, slot);
    if (sg_unlikely(enc != 0 && sg_size_decode(enc, (uint32_t)secret) + 8 > page->block_size))
        sg_report_write_after_free(slot, page->block_size - SG_CANARY_OVERHEAD);
}

/* A slot leaving the quarantine is about to get a free-list link in its first word, which the
 * write-after-free scan cannot see through: check that word now. */
SG_INLINE void sg_slot_check_first_word(const sg_page_t *page, void *slot) {
    if (!SG_WRITE_AFTER_FREE) return;
    uint64_t w;
    memcpy(&w, slot, 8);
    if (sg_unlikely(w != 0)) sg_report_write_after_free(slot, page->block_size - SG_CANARY_OVERHEAD);
}

/* Size to name in a report about slot p: the stored request if it looks sane. */
SG_INLINE size_t sg_slot_reported_size(const sg_page_t *page, const void *p) {
    if (!SG_CANARY) return page->block_size;
    size_t r = sg_stored_size(page, p);
    return r + 8 <= page->block_size ? r : page->block_size - 8;
}

/* Hand out slot b of page (popped from a free list) for a request of r bytes. */
SG_INLINE void sg_slot_arm(sg_heap_t *heap, sg_page_t *page, sg_block_t *b, size_t r) {
    sg_vg_open(b, page->block_size);
    if (SG_SLOT_STATES) {
        uint32_t idx = sg_slot_index_of(page, b);
        /* tamper evidence: a forged link to a slot that is not free never passes */
        if (SG_EXACT_FREE_CHECKS && sg_unlikely(sg_slot_state(page, idx) != SG_SLOT_FREE))
            sg_report_corrupt_pop(page, b);
        sg_slot_set_state(page, idx, SG_SLOT_ALLOCATED);
    }
    if (SG_WRITE_AFTER_FREE) sg_slot_check_zero(heap, page, b);
    if (SG_ZERO_ON_FREE) b->next.bits = 0;   /* no key material left in the slot */
    uint64_t secret = SG_CANARY ? sg_slot_secret(page, b) : 0;
    if (SG_WRITE_AFTER_FREE) sg_slot_check_size_word(page, b, secret);
    sg_canary_write_secret(page, b, r, secret);
    sg_vg_alloc(page, b, r, SG_ZERO_ON_FREE);
}

/* Move slot idx from ALLOCATED to state to; the state found (ALLOCATED when it moved). A free by
 * another thread, or one that skips the quarantine (to FREE), moves it with a compare-and-swap:
 * of two such frees at once, exactly one moves it. The page's owner freeing into its quarantine
 * (to QUARANTINED) moves it with a load and a store: a compare-and-swap waits for every store
 * before it to drain, the zeroing of the frees before (a tenth of seed-burst's time). Another
 * thread's free racing the owner's can land between that load and store: it leaves
 * QUARANTINED_REMOTE, which the owner's store overwrites, and when its block leaves that
 * thread's quarantine, sg_slot_unquarantine finds the state changed and reports the double free. */
SG_INLINE uint8_t sg_slot_claim(sg_page_t *page, uint32_t idx, uint8_t to) {
#if SG_SLOT_STATES
    uint8_t st = SG_SLOT_ALLOCATED;
    if (to == SG_SLOT_QUARANTINED) {
        st = sg_slot_state(page, idx);
        if (st == SG_SLOT_ALLOCATED) sg_slot_set_state(page, idx, to);
        return st;
    }
    atomic_compare_exchange_strong_explicit(&page->state[idx], &st, to, memory_order_relaxed, memory_order_relaxed);
    return st;
#else
    (void)page; (void)idx; (void)to;
    return SG_SLOT_ALLOCATED;
#endif
}

/* Was slot p, in state st (not ALLOCATED), never handed out? Uncarved, or carved and still free
 * with the size word every hand-out writes (and a free leaves) reading 0: a request encodes to
 * 0 once in 2^32. Without canaries there is no size word: a free slot counts as freed. */
SG_INLINE bool sg_slot_never_used(const sg_page_t *page, const void *p, uint8_t st) {
    return st == SG_SLOT_UNCARVED || (SG_CANARY && st == SG_SLOT_FREE && sg_size_word(page, p) == 0);
}

/* A free (or realloc) of slot p found it in state st, not ALLOCATED: never handed out, or freed. */
static SG_COLD _Noreturn void sg_slot_report_not_live(const sg_page_t *page, const void *p, uint8_t st) {
    if (sg_slot_never_used(page, p, st)) sg_report_invalid_free(p, page->block_size - SG_CANARY_OVERHEAD);
    sg_report_double_free(p, sg_slot_reported_size(page, p));
}

/* Check slot p (index idx) coming back through realloc: state, canary. Returns the requested
 * size (block size when canaries are off). Reports and aborts on any violation. */
SG_INLINE size_t sg_slot_check_live(sg_page_t *page, void *p, uint32_t idx) {
    if (SG_EXACT_FREE_CHECKS) {
        uint8_t st = sg_slot_state(page, idx);
        if (sg_unlikely(st != SG_SLOT_ALLOCATED)) sg_slot_report_not_live(page, p, st);
    }
    return sg_canary_check(page, p);
}

/* Slot p (index idx) given back through free: as sg_slot_check_live, its state moving to to
 * (QUARANTINED or FREE) in the same step (sg_slot_claim): the free that loses a race reports
 * the double free before it touches the block. */
SG_INLINE size_t sg_slot_check_release(sg_page_t *page, void *p, uint32_t idx, uint8_t to) {
    if (SG_EXACT_FREE_CHECKS) {
        uint8_t st = sg_slot_claim(page, idx, to);
        if (sg_unlikely(st != SG_SLOT_ALLOCATED)) sg_slot_report_not_live(page, p, st);
    } else {
        sg_slot_set_state(page, idx, to);
    }
    return sg_canary_check(page, p);
}

/* Slot q leaves the quarantine (remote: it was freed by a thread that did not own its page, or
 * into a first-class heap):
 * from the state its free left to FREE, with a compare-and-swap for a remote free (the one that
 * may have raced the owner's). Any other state means the block was freed twice. */
SG_INLINE void sg_slot_unquarantine(sg_page_t *page, void *q, bool remote) {
    uint32_t idx = sg_slot_index_of(page, q);
    if (!SG_EXACT_FREE_CHECKS) {
        sg_slot_set_state(page, idx, SG_SLOT_FREE);
        return;
    }
#if SG_SLOT_STATES
    uint8_t st = remote ? SG_SLOT_QUARANTINED_REMOTE : SG_SLOT_QUARANTINED;
    bool moved = remote ? atomic_compare_exchange_strong_explicit(&page->state[idx], &st, SG_SLOT_FREE,
                                                                  memory_order_relaxed, memory_order_relaxed)
                        : sg_slot_state(page, idx) == st;
    if (sg_unlikely(!moved)) sg_report_double_free(q, sg_slot_reported_size(page, q));
    if (!remote) sg_slot_set_state(page, idx, SG_SLOT_FREE);
#else
    (void)remote;
#endif
}

#endif
