/* os.h: the kernel seam. Every mmap-family call of slabguard goes through these primitives.
 * Contract: a primitive returns success or NULL/false for ENOMEM; any other failure is fatal
 * inside the primitive (reported, abort), so callers never handle EINVAL-style surprises. */
#ifndef SG_OS_H
#define SG_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reserve size bytes of address space (PROT_NONE, nothing committed). align is a power of two
 * >= the OS page; the result is aligned to it. NULL when the kernel refuses. */
void *sg_os_reserve(size_t size, size_t align);
/* The same, but what sg_os_commit later makes writable in it counts against the kernel's
 * overcommit limit: a commit larger than the kernel allows fails (false) instead. The address
 * lead bytes into the result is aligned, not the result. */
void *sg_os_reserve_accounted(size_t size, size_t align, size_t lead);
/* A read-write zero-filled mapping aligned to align. NULL when the kernel refuses. */
void *sg_os_map_aligned(size_t size, size_t align);
/* Transparent huge pages: their size, and asking for them on a range (best effort). */
#define SG_OS_HUGE ((size_t)2 << 20)
void sg_os_huge(void *p, size_t size);
/* Map size bytes read-write, zero-filled. NULL on ENOMEM. */
void *sg_os_map(size_t size);
/* Unmap a range obtained from the functions above (or part of one); where the mapping budget
 * does not allow the split, purge it instead (it stays mapped, reading zero). */
void sg_os_unmap(void *p, size_t size);
/* Make [p, p+size) read-write (commit) or inaccessible (guard). false on ENOMEM or when the
 * mapping budget (vm.max_map_count) is exhausted. */
bool sg_os_commit(void *p, size_t size);
bool sg_os_protect_none(void *p, size_t size);
bool sg_os_protect_ro(void *p, size_t size);
/* Give the physical memory of [p, p+size) back; the range stays mapped and reads zero after. */
void sg_os_purge(void *p, size_t size);
/* Grow or move a read-write mapping (no guards). NULL on failure, old mapping intact then. */
void *sg_os_remap(void *p, size_t old_size, size_t new_size);
/* Page recycling (recycle.c): move pages out of a range to a new address (the range stays
 * mapped, empty), move pages onto a range, ask which pages are resident. */
void *sg_os_move_out(void *p, size_t size, bool *unsupported);
void *sg_os_congruent_hint(const void *p, size_t size);
bool sg_os_move_to(void *from, size_t size, void *to, bool *unsure);
bool sg_os_resident(void *p, size_t size, unsigned char *vec);
/* Give [p, p+size) the settings of a fresh read-write mapping (protection key, fork, dump,
 * lock). false on ENOMEM. */
bool sg_os_reset(void *p, size_t size);
/* Only the protection part of that: read-write, no protection key. false on ENOMEM. */
bool sg_os_reset_protection(void *p, size_t size);
/* Guard markers (Linux 6.13): whether the kernel has them, install (pages freed, any access
 * faults), remove (empty pages). false on ENOMEM; errno is the kernel's then. */
bool sg_os_markers(void);
bool sg_os_guard(void *p, size_t size);
bool sg_os_unguard(void *p, size_t size);
/* Markers on [p, p+size) where the kernel may refuse them for this range alone (locked pages):
 * false then, and nothing is concluded for later blocks. */
bool sg_os_guard_here(void *p, size_t size);
/* Fault a read-write range in now, in one call (best effort). */
void sg_os_populate(void *p, size_t size);
/* Name a mapping in /proc/self/maps (best effort). */
void sg_os_name(void *p, size_t size, const char *name);
/* A monotonic clock in milliseconds, for purge delays. */
uint64_t sg_os_now_ms(void);
/* vm.max_map_count, read once without allocating (65530 when it cannot be read). */
size_t sg_os_mapping_count(void);
size_t sg_os_max_map_count(void);
/* Address space the process may still map under its RLIMIT_AS (the limit less VmSize, read
 * without allocating); SIZE_MAX when there is no limit or it cannot be read. */
size_t sg_os_address_space_left(void);
size_t sg_os_address_space_used(void);
bool sg_os_address_limited(void);
void sg_os_address_limit_set(bool limited);

#endif
