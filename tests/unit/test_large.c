/* Unit tests of src/large.c: directly mapped blocks and their registry. */
#include "../check.h"
#include "internal.h"

#include <malloc.h>

static void test_registry_grows_and_finds_everything(void) {
    enum { N = 3000 };
    static void *p[N];
    static size_t sz[N];
    for (int i = 0; i < N; i++) {
        sz[i] = SG_MAX_CLASS + 1 + (size_t)i * 97;
        p[i] = malloc(sz[i]);
        REQUIRE(p[i] != NULL, "large malloc %d failed", i);
        ((char *)p[i])[0] = (char)i;
        ((char *)p[i])[sz[i] - 1] = (char)i;
        REQUIRE(!sg_in_arena((uintptr_t)p[i]), "large block inside the arena");
    }
    sg_stats_t s;
    sg_stats_get(&s);
    CHECK(s.large_count >= N, "registry counts %zu large blocks", s.large_count);
    /* free in a scrambled order: exercises backward-shift deletion */
    for (int k = 0; k < N; k++) {
        int i = (int)(((unsigned)k * 2654435761u) % N);
        if (!p[i]) continue;
        REQUIRE(malloc_usable_size(p[i]) >= sz[i], "usable size of %d", i);
        REQUIRE(((char *)p[i])[0] == (char)i && ((char *)p[i])[sz[i] - 1] == (char)i, "block %d changed", i);
        free(p[i]);
        p[i] = NULL;
    }
    for (int i = 0; i < N; i++) {
        if (p[i]) free(p[i]);
    }
    sg_stats_get(&s);
    CHECK(s.large_count == 0, "%zu large blocks left registered", s.large_count);
}

static void test_large_alignment(void) {
    for (size_t a = 4096; a <= ((size_t)1 << 22); a *= 2) {
        void *p = aligned_alloc(a, SG_MAX_CLASS * 2);
        REQUIRE(p && ((uintptr_t)p & (a - 1)) == 0, "aligned_alloc(%zu) = %p", a, p);
        memset(p, 1, SG_MAX_CLASS * 2);
        free(p);
    }
}

static void test_large_realloc_keeps_contents(void) {
    size_t n = SG_MAX_CLASS + 100;
    unsigned char *p = malloc(n);
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 7);
    for (int step = 0; step < 6; step++) {
        size_t m = n * 2;
        p = realloc(p, m);
        REQUIRE(p, "realloc to %zu", m);
        for (size_t i = 0; i < n; i++) REQUIRE(p[i] == (unsigned char)(i * 7), "byte %zu lost at step %d", i, step);
        for (size_t i = n; i < m; i++) p[i] = (unsigned char)(i * 7);
        n = m;
    }
    p = realloc(p, 1000); /* back to a small block */
    REQUIRE(p && sg_in_arena((uintptr_t)p), "realloc to a small size");
    for (size_t i = 0; i < 1000; i++) REQUIRE(p[i] == (unsigned char)(i * 7), "byte %zu lost shrinking", i);
    free(p);
}

int main(void) {
    RUN(test_registry_grows_and_finds_everything);
    RUN(test_large_alignment);
    RUN(test_large_realloc_keeps_contents);
    return check_exit();
}
