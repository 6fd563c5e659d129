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
    sg_ro.fork_generation++;
}

static uint64_t derive(uint64_t a, uint64_t b) {
    uint64_t in[2] = { a, atomic_fetch_add_explicit(&derive_counter, 1, memory_order_relaxed) ^ b };
    unsigned char out[crypto_shorthash_BYTES];
    _Static_assert(crypto_shorthash_BYTES == 8 && crypto_shorthash_KEYBYTES <= sizeof sg_ro.secret, "siphash sizes");
    crypto_shorthash(out, (const unsigned char *)in, sizeof in, sg_ro.secret);
    uint64_t v;
    __builtin_memcpy(&v, out, sizeof v);
    return v;
}

void sg_random_page_keys(sg_keys_t *out, uintptr_t page_addr) {
    if (!SG_ENCODE_FREELIST && !SG_CANARY) {
        out->xor_key = out->add_key = 0;
        return;
    }
    out->xor_key = derive(page_addr, 1);
    out->add_key = derive(page_addr, 2) | 1u; /* never zero: the rotation must move bits */
}

uint64_t sg_random_seed_thread(const void *salt) {
    return derive((uintptr_t)salt, 3);
}
