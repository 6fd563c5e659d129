#!/usr/bin/env bash
# tests/build/compilers.sh: the library builds warning-free (-Werror) with clang as well as gcc,
# and exports nothing but the malloc family, setrlimit and prlimit (a limit on address space set
# after start-up, src/override.c) and the sg_ API.
set -u
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
allowed='^(malloc|free|cfree|free_sized|free_aligned_sized|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|mallinfo|mallinfo2|malloc_trim|malloc_stats|malloc_info|setrlimit|setrlimit64|prlimit|prlimit64|__libc_(malloc|free|calloc|realloc|memalign|valloc|pvalloc)|sg_[a-z0-9_]+)$'
for cc in gcc clang; do
    if ! command -v "$cc" >/dev/null; then echo "ok build $cc # skip: $cc not installed"; continue; fi
    if make -s -j2 CC="$cc" BUILD="$out/$cc" >"$out/$cc.log" 2>&1; then
        echo "ok build $cc: both variants build with -Wall -Wextra -Werror"
    else
        echo "not ok build $cc: $(grep -m1 -E 'error:|warning:' "$out/$cc.log")"
        continue
    fi
    for lib in libslabguard.so libslabguard-fast.so; do
        extra=$(nm -D --defined-only "$out/$cc/$lib" | awk '$2 ~ /^[TWiV]$/ {print $3}' | sed 's/@.*//' | grep -vE "$allowed" | tr '\n' ' ')
        if [ -z "$extra" ]; then echo "ok build $cc $lib: exports only the malloc family, setrlimit, prlimit and sg_*"
        else echo "not ok build $cc $lib: also exports $extra"; fi
        # a program linked against glibc 2.41 calls C23's free_sized by name: it must be ours
        missing=$(for f in malloc free free_sized free_aligned_sized __libc_free; do
            nm -D --defined-only "$out/$cc/$lib" | awk '{print $3}' | sed 's/@.*//' | grep -qx "$f" || printf '%s ' "$f"; done)
        if [ -z "$missing" ]; then echo "ok build $cc $lib: exports free_sized and free_aligned_sized"
        else echo "not ok build $cc $lib: does not export $missing"; fi
        if readelf -lW "$out/$cc/$lib" | grep -q GNU_RELRO && readelf -dW "$out/$cc/$lib" | grep -qE 'BIND_NOW|FLAGS.*NOW'; then
            echo "ok build $cc $lib: full RELRO (-z relro -z now)"
        else
            echo "not ok build $cc $lib: not linked with -z relro -z now"
        fi
    done
done
