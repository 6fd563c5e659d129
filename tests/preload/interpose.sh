#!/usr/bin/env bash
# tests/preload/interpose.sh: under LD_PRELOAD the C library's own calls to malloc bind to
# slabguard (the loader says so; LD_BIND_NOW makes it resolve every reference at start), and
# the preloaded library is the variant it claims to be.
. "$(dirname "$0")/common.bash"

PY=$(real_program python3)
for v in $VARIANTS; do
    lib=$(lib_path "$v")
    if [ ! -f "$lib" ]; then echo "not ok $v interpose: $lib not built"; continue; fi
    for sym in malloc free calloc realloc; do
        if LD_BIND_NOW=1 LD_DEBUG=bindings LD_PRELOAD=$lib /bin/true 2>&1 |
            grep -q "libc\.so\.6 .* to $lib \[[0-9]*\]: normal symbol \`$sym'"; then
            echo "ok $v interpose: libc's $sym binds to slabguard"
        else
            echo "not ok $v interpose: libc's $sym does not bind to $lib (LD_BIND_NOW=1 LD_DEBUG=bindings)"
        fi
    done
    if [ -n "$PY" ]; then
        want=0
        [ "$v" = secure ] && want=1
        got=$(LD_PRELOAD=$lib "$PY" -c 'import ctypes; print(ctypes.CDLL(None).sg_is_secure())' 2>&1)
        if [ "$got" = "$want" ]; then
            echo "ok $v interpose: the preloaded library says sg_is_secure() = $want"
        else
            echo "not ok $v interpose: sg_is_secure() through the preloaded library = $got, want $want"
        fi
    fi
done
