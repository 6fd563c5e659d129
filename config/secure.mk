# slabguard secure preset (the default build, build/libslabguard.so).
# Every knob is true, false or a number; the Makefile rejects anything else.
# Each mitigation can be switched off alone to measure what it costs.
SG_CONFIG_SECURE := true
# XOR-encrypt free-list links with a per-page key and the link's own address.
SG_CONFIG_ENCODE_FREELIST := true
# Exact double-free / invalid-free detection with a per-page allocation bitmap.
SG_CONFIG_EXACT_FREE_CHECKS := true
# Hand out free slots in an unpredictable order.
SG_CONFIG_RANDOM_SLOTS := true
# Secret canary after each small allocation, checked at free and realloc.
SG_CONFIG_CANARY := true
# Zero freed small blocks; check they are still zero when handed out again.
SG_CONFIG_ZERO_ON_FREE := true
SG_CONFIG_WRITE_AFTER_FREE_CHECK := true
# The check reads the whole freed block, not only the slot's first 4 KiB (off with the check).
SG_CONFIG_WRITE_AFTER_FREE_WHOLE := true
# Freed small blocks wait in a per-thread ring before they can be reused (0 = off).
SG_CONFIG_QUARANTINE_SLOTS := 256
# PROT_NONE guards after slab pages, around large blocks and around metadata.
SG_CONFIG_GUARD_PAGES := true
# Freed large blocks are kept PROT_NONE for a while instead of being reused at once.
SG_CONFIG_LARGE_QUARANTINE := true
# A span of the arena serves one size class for good: a page given back is reused only for its
# own size (other sizes only once the arena is out of room).
SG_CONFIG_CLASS_ISOLATION := true
