/* vg.h: memcheck client requests (make VALGRIND=1), so a program run under valgrind sees
 * slabguard's blocks as heap blocks: leaks, reads of freed or uninitialised memory, and
 * overflows into a slot's tail are reported. The requests are empty in other builds; the
 * helpers that use them are in slot.h. */
#ifndef SG_VG_H
#define SG_VG_H

#ifdef SG_VALGRIND
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MALLOCLIKE_BLOCK(p, n, rz, z) ((void)0)
#define VALGRIND_FREELIKE_BLOCK(p, rz) ((void)0)
#define VALGRIND_RESIZEINPLACE_BLOCK(p, o, n, rz) ((void)0)
#define VALGRIND_MAKE_MEM_NOACCESS(p, n) ((void)0)
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)0)
#endif

#endif
