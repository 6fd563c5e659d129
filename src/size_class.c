/* size_class.c: the size-class table (16 B .. 128 KiB) and how many arena units a page of each
 * class spans. Checked against sg_size_class() once at start-up. */
#include "internal.h"

/* 16-byte steps up to 128 B (the finest that keeps 16-byte alignment), then eight classes per
 * doubling, so a request above 128 B wastes at most 1/8 of its block. */
#define STEP8(base, step) \
    base + 1 * step, base + 2 * step, base + 3 * step, base + 4 * step, \
    base + 5 * step, base + 6 * step, base + 7 * step, base + 8 * step
const uint32_t sg_class_size[SG_CLASS_COUNT] = {
    STEP8(0, 16), STEP8(128, 16), STEP8(256, 32), STEP8(512, 64), STEP8(1024, 128),
    STEP8(2048, 256), STEP8(4096, 512), STEP8(8192, 1024), STEP8(16384, 2048),
    STEP8(32768, 4096), STEP8(65536, 8192),
};

/* Units (64 KiB) per page: one up to 8 KiB blocks, then enough for at least eight blocks. */
#define U1 1, 1, 1, 1, 1, 1, 1, 1
const uint8_t sg_class_units[SG_CLASS_COUNT] = {
    U1, U1, U1, U1, U1, U1, U1,                 /* 16 B .. 8 KiB */
    2, 2, 2, 2, 2, 2, 2, 2,                     /* 9 KiB .. 16 KiB */
    3, 3, 4, 4, 4, 4, 4, 4,                     /* 18 KiB .. 32 KiB */
    5, 6, 7, 7, 8, 8, 8, 8,                     /* 36 KiB .. 64 KiB */
    10, 12, 13, 14, 15, 16, 16, 16,             /* 72 KiB .. 128 KiB */
};

/* Class of every size up to 1 KiB in 16-byte steps: sg_class_small[(need + 15) >> 4]. */
const uint8_t sg_class_small[65] = { 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 24, 24, 24, 24, 25, 25, 25, 25, 26, 26, 26, 26, 27, 27, 27, 27, 28, 28, 28, 28, 29, 29, 29, 29, 30, 30, 30, 30, 31, 31, 31, 31 };

_Static_assert(sizeof(sg_class_size) / sizeof(sg_class_size[0]) == SG_CLASS_COUNT, "class table");

void sg_size_class_check(void) {
    for (unsigned c = 0; c < SG_CLASS_COUNT; c++) {
        size_t sz = sg_class_size[c], span = (size_t)sg_class_units[c] << SG_UNIT_SHIFT;
        if (sz % SG_MIN_ALIGN || sg_size_class(sz) != c || (c && sg_size_class(sg_class_size[c - 1] + 1) != c) ||
            sg_class_units[c] > SG_MAX_SPAN_UNITS || span / sz < 4 || span / sz > SG_MAX_SLOTS)
            sg_report_fatal("size-class table inconsistent", NULL, sz);
    }
    if (sg_class_size[SG_CLASS_COUNT - 1] != SG_MAX_CLASS) sg_report_fatal("size-class table inconsistent", NULL, 0);
    for (size_t n = 0; n <= 1024; n++)
        if (sg_class_small[(n + 15) >> 4] != sg_size_class(n)) sg_report_fatal("size-class table inconsistent", NULL, n);
}
