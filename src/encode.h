/* encode.h: the free-link type and its encoding. The only code that touches page keys.
 *
 * A free slot's first word holds the link to the next free slot. In secure builds the link is
 * stored encrypted: XOR with a per-page secret and with the address where the link is stored,
 * then rotated and offset by a second secret. A heap overflow or a use-after-free write that
 * overwrites a link cannot aim it without both keys, and a decoded link is checked to be a slot
 * of the same page before it is followed. */
#ifndef SG_ENCODE_H
#define SG_ENCODE_H

#include <stdint.h>
#include "config.h"

typedef struct sg_link_s { uintptr_t bits; } sg_link_t;  /* never a plain pointer */
typedef struct sg_keys_s { uintptr_t xor_key, add_key; } sg_keys_t;

static inline uintptr_t sg_rotl(uintptr_t x, unsigned r) {
    r &= 63u;
    return r ? (x << r) | (x >> (64u - r)) : x;
}
static inline uintptr_t sg_rotr(uintptr_t x, unsigned r) {
    r &= 63u;
    return r ? (x >> r) | (x << (64u - r)) : x;
}

/* Encode `next` for storage at address `where`. In fast builds the link is the pointer. */
static inline sg_link_t sg_encode(const sg_keys_t *k, const void *where, const void *next) {
    uintptr_t v = (uintptr_t)next;
    if (SG_ENCODE_FREELIST)
        v = sg_rotl(v ^ k->xor_key ^ (uintptr_t)where, (unsigned)k->add_key) + k->add_key;
    return (sg_link_t){ v };
}

static inline void *sg_decode(const sg_keys_t *k, const void *where, sg_link_t link) {
    uintptr_t v = link.bits;
    if (SG_ENCODE_FREELIST)
        v = sg_rotr(v - k->add_key, (unsigned)k->add_key) ^ k->xor_key ^ (uintptr_t)where;
    return (void *)v;
}

#endif
