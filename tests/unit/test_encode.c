/* Unit tests of src/encode.h: free-link encoding. */
#include "../check.h"
#include "internal.h"

static uint64_t rnd = 88172645463325252ULL;
static uint64_t next_rand(void) { rnd ^= rnd << 13; rnd ^= rnd >> 7; rnd ^= rnd << 17; return rnd; }

static void test_round_trip(void) {
    for (int i = 0; i < 100000; i++) {
        sg_keys_t k = { next_rand(), next_rand() | 1 };
        void *where = (void *)(uintptr_t)(next_rand() & ~(uintptr_t)15);
        void *next = (i % 7 == 0) ? NULL : (void *)(uintptr_t)(next_rand() & ~(uintptr_t)15);
        sg_link_t l = sg_encode(&k, where, next);
        REQUIRE(sg_decode(&k, where, l) == next, "round trip failed at %d", i);
    }
}

static void test_secure_links_are_not_plain(void) {
    sg_keys_t k = { 0x1234567890abcdefULL, 0x0fedcba987654321ULL };
    int x, y;
    sg_link_t a = sg_encode(&k, &x, &y), b = sg_encode(&k, &y, &y), n = sg_encode(&k, &x, NULL);
    if (SG_ENCODE_FREELIST) {
        CHECK(a.bits != (uintptr_t)&y, "link stored in plain text");
        CHECK(a.bits != b.bits, "link does not depend on where it is stored");
        CHECK(n.bits != 0, "NULL stored as zero");
        sg_keys_t k2 = { k.xor_key ^ 1, k.add_key };
        CHECK(sg_decode(&k2, &x, a) != (void *)&y, "another page key decodes the link");
    } else {
        CHECK(a.bits == (uintptr_t)&y, "fast build: link should be the pointer");
    }
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_secure_links_are_not_plain);
    return check_exit();
}
