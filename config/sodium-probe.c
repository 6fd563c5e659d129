/* config/sodium-probe.c: linked into a throw-away shared object by the Makefile to learn whether
 * libsodium's static archive can go into slabguard's shared libraries (it calls what
 * src/random.c calls). Not part of the library. */
#include <sodium.h>

int sg_sodium_probe(void);
int sg_sodium_probe(void) {
    unsigned char b[8], k[crypto_shorthash_KEYBYTES] = { 0 };
    if (sodium_init() < 0) return 1;
    randombytes_buf(b, sizeof b);
    return crypto_shorthash(b, b, sizeof b, k);
}
