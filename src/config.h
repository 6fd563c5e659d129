/* config.h: the only reader of -D values. Every mitigation becomes one named constant that code
 * tests with a plain `if`, so both variants always compile; nonsense combinations fail here. */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

/* Defaults are the secure preset, so a tool that compiles one file alone sees a real build. */
#ifndef SG_CONFIG_SECURE
#define SG_CONFIG_SECURE 1
#endif
#ifndef SG_CONFIG_ENCODE_FREELIST
#define SG_CONFIG_ENCODE_FREELIST SG_CONFIG_SECURE
#endif
#ifndef SG_CONFIG_EXACT_FREE_CHECKS
#define SG_CONFIG_EXACT_FREE_CHECKS SG_CONFIG_SECURE
#endif
#ifndef SG_CONFIG_RANDOM_SLOTS
#define SG_CONFIG_RANDOM_SLOTS SG_CONFIG_SECURE
#endif
#ifndef SG_CONFIG_CANARY
#define SG_CONFIG_CANARY SG_CONFIG_SECURE
#endif
#ifndef SG_CONFIG_ZERO_ON_FREE
#define SG_CONFIG_ZERO_ON_FREE SG_CONFIG_SECURE
#endif
#ifndef SG_CONFIG_WRITE_AFTER_FREE_CHECK
#define SG_CONFIG_WRITE_AFTER_FREE_CHECK SG_CONFIG_SECURE
#endif
#ifndef SG_CONFIG_WRITE_AFTER_FREE_WHOLE
#define SG_CONFIG_WRITE_AFTER_FREE_WHOLE SG_CONFIG_WRITE_AFTER_FREE_CHECK
#endif
#ifndef SG_CONFIG_QUARANTINE_SLOTS
#define SG_CONFIG_QUARANTINE_SLOTS (SG_CONFIG_SECURE ? 256 : 0)
#endif
#ifndef SG_CONFIG_GUARD_PAGES
#define SG_CONFIG_GUARD_PAGES SG_CONFIG_SECURE
#endif
#ifndef SG_CONFIG_LARGE_QUARANTINE
#define SG_CONFIG_LARGE_QUARANTINE SG_CONFIG_SECURE
#endif
#ifndef SG_CONFIG_CLASS_ISOLATION
#define SG_CONFIG_CLASS_ISOLATION SG_CONFIG_SECURE
#endif

/* ---- mitigations (each one switchable alone) ---------------------------------------------- */
#define SG_SECURE               (SG_CONFIG_SECURE != 0)
#define SG_ENCODE_FREELIST      (SG_CONFIG_ENCODE_FREELIST != 0)
#define SG_EXACT_FREE_CHECKS    (SG_CONFIG_EXACT_FREE_CHECKS != 0)
#define SG_RANDOM_SLOTS         (SG_CONFIG_RANDOM_SLOTS != 0)
#define SG_CANARY               (SG_CONFIG_CANARY != 0)
#define SG_ZERO_ON_FREE         (SG_CONFIG_ZERO_ON_FREE != 0)
#define SG_WRITE_AFTER_FREE     (SG_CONFIG_WRITE_AFTER_FREE_CHECK != 0)
/* how far the write-after-free check reads: without the check, nothing (switching the check off
 * alone switches this off too) */
#define SG_WAF_WHOLE            (SG_CONFIG_WRITE_AFTER_FREE_WHOLE != 0 && SG_WRITE_AFTER_FREE)
#define SG_QUARANTINE_SLOTS     (SG_CONFIG_QUARANTINE_SLOTS)
#define SG_QUARANTINE           (SG_QUARANTINE_SLOTS > 0)
#define SG_GUARD_PAGES          (SG_CONFIG_GUARD_PAGES != 0)
#define SG_LARGE_QUARANTINE     (SG_CONFIG_LARGE_QUARANTINE != 0)
#define SG_CLASS_ISOLATION      (SG_CONFIG_CLASS_ISOLATION != 0)

_Static_assert(!SG_WRITE_AFTER_FREE || SG_ZERO_ON_FREE,
               "the write-after-free check needs zero-on-free (it looks for non-zero bytes)");
_Static_assert(SG_QUARANTINE_SLOTS <= 65536 && (SG_QUARANTINE_SLOTS & (SG_QUARANTINE_SLOTS - 1)) == 0,
               "SG_CONFIG_QUARANTINE_SLOTS must be 0 or a power of two up to 65536");
/* The out-of-line slot-state array serves the exact free checks, random carving and the
 * quarantine; it exists when any of them is on. */
#define SG_SLOT_STATES (SG_EXACT_FREE_CHECKS || SG_RANDOM_SLOTS || SG_QUARANTINE)

/* ---- geometry ----------------------------------------------------------------------------- */
#define SG_UNIT_SHIFT   16                          /* arena unit: 64 KiB, one small page */
#define SG_UNIT_SIZE    ((size_t)1 << SG_UNIT_SHIFT)
#define SG_OS_PAGE      4096u
#define SG_MIN_ALIGN    16u                         /* every pointer is 16-byte aligned */
#define SG_CLASS_COUNT  88                          /* 16 B .. 128 KiB, see size_class.c */
#define SG_MAX_CLASS    ((size_t)128 * 1024)
#define SG_MAX_SPAN_UNITS 16                        /* the 128 KiB class: 8 slots in 1 MiB */
#define SG_MAX_SLOTS    (SG_UNIT_SIZE / SG_MIN_ALIGN) /* 4096 slots in a page of 16-byte slots */
#define SG_ARENA_SIZE   ((size_t)64 << 30)          /* address space reserved for pages */
#define SG_MAX_REQUEST  ((size_t)PTRDIFF_MAX - ((size_t)64 << 20)) /* larger never fits */

/* Bytes reserved at the end of each small slot for the canary and the requested size. */
#define SG_CANARY_OVERHEAD (SG_CANARY ? 8u : 0u)

#endif /* SG_CONFIG_H */
