/* Unit tests of src/size_class.c: the class table and sg_size_class(). */
#include "../check.h"
#include "internal.h"

static void test_every_size_maps_to_the_smallest_fitting_class(void) {
    for (size_t n = 1; n <= SG_MAX_CLASS; n++) {
        unsigned c = sg_size_class(n);
        REQUIRE(c < SG_CLASS_COUNT, "size %zu -> class %u out of range", n, c);
        REQUIRE(sg_class_size[c] >= n, "size %zu -> class %u of %u bytes", n, c, sg_class_size[c]);
        REQUIRE(c == 0 || sg_class_size[c - 1] < n, "size %zu fits the smaller class %u", n, c - 1);
    }
}

static void test_waste_is_bounded(void) {
    for (size_t n = 129; n <= SG_MAX_CLASS; n++) {
        size_t bs = sg_class_size[sg_size_class(n)];
        REQUIRE((bs - n) * 8 < bs, "size %zu in %zu-byte blocks wastes more than 12.5%%", n, bs);
    }
    for (size_t n = 1; n <= 128; n++) {
        size_t bs = sg_class_size[sg_size_class(n)];
        REQUIRE(bs - n < 16, "size %zu in %zu-byte blocks wastes a whole step", n, bs);
    }
}

static void test_classes_are_aligned_and_increasing(void) {
    for (unsigned c = 0; c < SG_CLASS_COUNT; c++) {
        CHECK(sg_class_size[c] % 16 == 0, "class %u size %u", c, sg_class_size[c]);
        if (c) CHECK(sg_class_size[c] > sg_class_size[c - 1], "class %u not increasing", c);
        size_t span = (size_t)sg_class_units[c] << SG_UNIT_SHIFT;
        CHECK(span / sg_class_size[c] >= 8 || sg_class_units[c] == SG_MAX_SPAN_UNITS,
              "class %u has only %zu slots", c, span / sg_class_size[c]);
    }
    CHECK(sg_class_size[SG_CLASS_COUNT - 1] == SG_MAX_CLASS, "largest class %u", sg_class_size[SG_CLASS_COUNT - 1]);
    sg_size_class_check(); /* aborts if inconsistent */
}

static void test_powers_of_two_are_classes(void) {
    /* aligned allocations rely on them */
    for (size_t p = 16; p <= SG_MAX_CLASS; p *= 2)
        CHECK(sg_class_size[sg_size_class(p)] == p, "%zu is not a class", p);
}

int main(void) {
    RUN(test_every_size_maps_to_the_smallest_fitting_class);
    RUN(test_waste_is_bounded);
    RUN(test_classes_are_aligned_and_increasing);
    RUN(test_powers_of_two_are_classes);
    return check_exit();
}
