/* random.c: the process secret, drawn from libsodium, and everything derived from it: page keys
 * (SipHash of the page address and a counter, so one leaked key reveals no other) and the seeds
 * of the per-thread generators that drive hot-path choices. */
#include "internal.h"

#include <sodium.h>

static _Atomic(uint64_t) derive_counter;

bool sg_random_init(void) {
    if (sodium_init() < 0) return false;
    randombytes_buf(sg_ro.secret, sizeof sg_ro.secret);
    return true;
}

/* After fork(): the child draws a fresh secret for the pages it creates (sg_ro is unsealed by
 * the caller). Pages made before the fork keep the keys stored in their descriptors. */
void sg_random_rekey(void) {
    randombytes_buf(sg_ro.secret, sizeof sg_ro.secret);
}

static uint64_t derive(uint64_t a, uint64_t b) {
    uint64_t in[3] = { a, b, atomic_fetch_add_explicit(&derive_counter, 1, memory_order_relaxed) };
    unsigned char out[crypto_shorthash_BYTES];
    _Static_assert(crypto_shorthash_BYTES == 8 && crypto_shorthash_KEYBYTES <= sizeof sg_ro.secret, "siphash sizes");
    crypto_shorthash(out, (const unsigned char *)in, sizeof in, sg_ro.secret);
    uint64_t v;
    __builtin_memcpy(&v, out, sizeof v);
    return v;
}

/* Four independent secrets per page, two for the links and two for the canaries: reading a
 * canary (an over-read) tells nothing about the link keys, and the reverse. */
void sg_random_page_keys(sg_keys_t *out, uint64_t *canary_key, uint64_t *canary_mul, uintptr_t page_addr) {
    out->xor_key = out->add_key = 0;
    *canary_key = *canary_mul = 0;
    if (SG_ENCODE_FREELIST) {
        out->xor_key = derive(page_addr, 1);
        out->add_key = derive(page_addr, 2) | 1u; /* never zero: the rotation must move bits */
    }
    if (SG_CANARY) {
        *canary_key = derive(page_addr, 4);
        *canary_mul = derive(page_addr, 6) | 1u;   /* odd: the multiply loses no bit of the slot */
    }
}

/* The canary key of one large block (large.c). */
uint64_t sg_random_block_key(uintptr_t block) {
    return derive(block, 5);
}

uint64_t sg_random_seed_thread(const void *salt) {
    return derive((uintptr_t)salt, 3);
}
