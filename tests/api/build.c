/* tests/api/build.c: what the library says about itself (version, variant, mitigations) and
 * its statistics. The variant under test is known from SG_CONFIG_SECURE in the -D flags. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "slabguard.h"

#ifndef SG_CONFIG_SECURE
#error "tests are built with the preset's -D flags (SG_CONFIG_SECURE missing)"
#endif

static void test_version(void)
{
    const char *v = sg_version();
    REQUIRE(v != NULL, "sg_version() = NULL");
#ifdef SG_TEST_VERSION
    CHECK(strcmp(v, SG_TEST_VERSION) == 0, "sg_version() = \"%s\", Makefile says \"%s\"", v,
          SG_TEST_VERSION);
#endif
    /* major.minor.patch */
    int dots = 0, ok = isdigit((unsigned char)v[0]) != 0;
    for (const char *c = v; *c; c++) {
        if (*c == '.')
            dots++, ok = ok && isdigit((unsigned char)c[1]);
        else
            ok = ok && isdigit((unsigned char)*c);
    }
    CHECK(ok && dots == 2, "sg_version() = \"%s\", not N.N.N", v);
}

static void test_is_secure(void)
{
    CHECK(sg_is_secure() == (SG_CONFIG_SECURE ? 1 : 0), "sg_is_secure() = %d in the %s variant",
          sg_is_secure(), SG_CONFIG_SECURE ? "secure" : "fast");
}

static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return 1;
    return 0;
}

static void test_mitigations(void)
{
    const char *m = sg_mitigations();
    REQUIRE(m != NULL, "sg_mitigations() = NULL");
    for (const char *c = m; *c; c++)
        CHECK(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-' || *c == ' ',
              "sg_mitigations() = \"%s\": unexpected character '%c'", m, *c);
    /* Each knob of the preset is reflected: the header's own example names two of them. */
    CHECK(has_word(m, "encode-freelist") == (SG_CONFIG_ENCODE_FREELIST != 0),
          "sg_mitigations() = \"%s\" but SG_CONFIG_ENCODE_FREELIST=%d", m,
          SG_CONFIG_ENCODE_FREELIST);
    CHECK(has_word(m, "canary") == (SG_CONFIG_CANARY != 0),
          "sg_mitigations() = \"%s\" but SG_CONFIG_CANARY=%d", m, SG_CONFIG_CANARY);
    if (SG_CONFIG_SECURE)
        CHECK(strlen(m) > 0, "secure variant lists no mitigation");
    CHECK(strcmp(sg_mitigations(), m) == 0, "sg_mitigations() changes between calls");
}

static void test_stats_large(void)
{
    sg_stats_t before, during, after;
    sg_stats_get(&before);
    void *p = malloc(opaque_size(8u << 20));
    REQUIRE(p != NULL, "malloc(8 MiB) = NULL");
    memset(p, 1, 8u << 20);
    sg_stats_get(&during);
    CHECK(during.large_count == before.large_count + 1, "large_count %zu -> %zu after malloc(8 MiB)",
          before.large_count, during.large_count);
    CHECK(during.large_bytes >= before.large_bytes + (8u << 20),
          "large_bytes %zu -> %zu after malloc(8 MiB)", before.large_bytes, during.large_bytes);
    CHECK(during.mapped >= (8u << 20), "mapped = %zu with 8 MiB live", during.mapped);
    CHECK(during.threads >= 1, "threads = %zu", during.threads);
    free(p);
    sg_stats_get(&after);
    CHECK(after.large_count == before.large_count, "large_count %zu after free, was %zu",
          after.large_count, before.large_count);
}

int main(void)
{
    RUN(test_version);
    RUN(test_is_secure);
    RUN(test_mitigations);
    RUN(test_stats_large);
    return check_exit();
}
