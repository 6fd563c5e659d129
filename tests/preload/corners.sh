#!/usr/bin/env bash
# tests/preload/corners.sh: the corners a drop-in allocator meets in real services, each run
# under glibc and under LD_PRELOAD of each variant, outputs compared (programs in src/, built here):
#   dlopen            a library loaded late whose constructor, destructor and functions allocate;
#                     blocks cross the boundary both ways; threads load it too (dlopen_main.c)
#   fork-threads      fork without exec while four threads allocate; children free the parent
#                     threads' blocks, start threads, fork again, exit 0 (fork_threads.c)
#   spawn             vfork + exec, posix_spawn, posix_spawnp, popen, system from a threaded
#                     program; the children run on the same allocator (spawn.c)
#   glibc-api-*       __libc_* names, cfree, malloc_usable_size, mallinfo2, malloc_trim,
#                     malloc_stats, mallopt, blocks the C library allocates (glibc_api.c)
# and the launcher, build/slabguard: where it finds the library, LD_PRELOAD, options, exit status.
. "$(dirname "$0")/common.bash"

SRC=$(cd "$(dirname "$0")/src" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CC_PROGRAM=$(real_program cc || true)
[ -n "$CC_PROGRAM" ] || CC_PROGRAM=$(real_program gcc)
if [ -z "$CC_PROGRAM" ]; then echo "# skip corners: no C compiler"; exit 0; fi
BIN=$WORK/bin
mkdir -p "$BIN"
export BIN

build() { # build OUTPUT ARGS...: one line of "not ok" when it fails
    local out=$1
    shift
    if ! "$CC_PROGRAM" -std=c11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread "$@" -o "$BIN/$out" 2>"$WORK/build.err"; then
        echo "not ok corners: $out does not build: $(grep -m1 error "$WORK/build.err")"
        return 1
    fi
}

# ---- programs under the preload, compared with glibc ----
if build plugin.so -fPIC -shared "$SRC/plugin.c" && build dlopen_main "$SRC/dlopen_main.c" -ldl; then
    dlopen_workload() { "$BIN/dlopen_main" "$BIN/plugin.so"; }
    compare dlopen dlopen_workload
fi
if build fork_threads "$SRC/fork_threads.c"; then
    fork_workload() { "$BIN/fork_threads"; }
    compare fork-threads fork_workload
fi
if build spawn "$SRC/spawn.c" -ldl; then
    spawn_workload() { "$BIN/spawn"; }
    compare spawn spawn_workload
fi
if build glibc_api "$SRC/glibc_api.c" -ldl; then
    for part in libc-names libc-page-names usable-size malloc-extras libc-allocations; do
        eval "glibc_api_$part() { \"\$BIN/glibc_api\" $part; }"
        compare "glibc-api-$part" "glibc_api_$part"
    done
fi

# ---- the launcher ----
LAUNCHER=$BUILD/slabguard
VERSION=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
result() { # result OK-STATUS NAME [WHY]
    if [ "$1" -eq 0 ]; then echo "ok launcher: $2"; else echo "not ok launcher: $2: $3"; fi
}
if [ ! -x "$LAUNCHER" ]; then
    echo "not ok launcher: $LAUNCHER not built (make launcher)"
    exit 0
fi
unset SLABGUARD_LIB
secure_lib=$(realpath "$(lib_path secure)" 2>/dev/null)
fast_lib=$(realpath "$(lib_path fast)" 2>/dev/null)
cd "$WORK" || exit 1
WORKC=$(pwd -P) # the launcher reports canonical directories

got=$("$LAUNCHER" --version)
[ "$got" = "slabguard $VERSION" ]; result $? "--version prints 'slabguard $VERSION'" "got '$got'"
"$LAUNCHER" --help | grep -q '^Usage: slabguard '; result $? "--help prints the usage" "no 'Usage: slabguard' line"

"$LAUNCHER" sh -c 'exit 3'; rc=$?
[ "$rc" -eq 3 ]; result $? "the command's exit status comes back (3)" "got $rc"
# (in a bash of its own, which prints "Terminated" to a stderr that goes nowhere)
rc=$(bash -c '"$1" -- sh -c "kill -TERM \$\$"; echo $?' _ "$LAUNCHER" 2>/dev/null)
[ "$rc" -eq 143 ]; result $? "a command killed by SIGTERM is seen killed by it (execvp, same pid)" "status $rc, want 143"

for v in $VARIANTS; do
    case $v in secure) lib=$secure_lib flag= ;; fast) lib=$fast_lib flag=--fast ;; *) continue ;; esac
    if [ -z "$lib" ]; then echo "not ok launcher: $v: $(lib_path "$v") not built"; continue; fi
    got=$("$LAUNCHER" ${flag:+"$flag"} sh -c 'printf %s "$LD_PRELOAD"')
    [ "$got" = "$lib" ]; result $? "${flag:-no option}: LD_PRELOAD=$lib (absolute)" "got '$got'"
    "$LAUNCHER" ${flag:+"$flag"} cat /proc/self/maps | grep -q "$lib"; result $? "${flag:-no option}: the command maps $lib" "not in /proc/self/maps"
    "$LAUNCHER" ${flag:+"$flag"} --verbose "$BIN/spawn" child launcher >/dev/null 2>err.txt
    grep -q "^slabguard $VERSION ($v)" err.txt; result $? "${flag:-no option} --verbose: the library names itself ($v)" "$(head -n 2 err.txt | tr '\n' ' ')"
    "$LAUNCHER" ${flag:+"$flag"} --stats "$BIN/spawn" child launcher >/dev/null 2>err.txt
    grep -q '^slabguard stats: mapped bytes [0-9]' err.txt; result $? "${flag:-no option} --stats: a report at exit" "$(head -n 2 err.txt | tr '\n' ' ')"
done

# an existing LD_PRELOAD is kept after the library, without the library twice
got=$(LD_PRELOAD="$BIN/plugin.so $secure_lib" "$LAUNCHER" sh -c 'printf %s "$LD_PRELOAD"' 2>/dev/null)
[ "$got" = "$secure_lib:$BIN/plugin.so" ]; result $? "an existing LD_PRELOAD is kept, after slabguard" "got '$got'"

# where the library is found
mkdir -p alone prefix/bin prefix/lib sym
cp "$LAUNCHER" alone/slabguard
"alone/slabguard" true 2>err.txt; rc=$?
[ "$rc" -eq 127 ] && grep -q "$WORKC/alone/libslabguard.so" err.txt
result $? "library missing: status 127 and the paths looked at" "status $rc: $(head -n 2 err.txt | tr '\n' ' ')"
got=$(SLABGUARD_LIB=$BUILD alone/slabguard sh -c 'printf %s "$LD_PRELOAD"')
[ "$got" = "$secure_lib" ]; result $? "SLABGUARD_LIB=directory" "got '$got'"
got=$(SLABGUARD_LIB=$secure_lib alone/slabguard sh -c 'printf %s "$LD_PRELOAD"')
[ "$got" = "$secure_lib" ]; result $? "SLABGUARD_LIB=file" "got '$got'"
SLABGUARD_LIB=$WORK/nowhere.so "$LAUNCHER" true 2>err.txt; rc=$?
[ "$rc" -eq 127 ] && grep -q "$WORK/nowhere.so" err.txt; result $? "SLABGUARD_LIB naming a missing file: status 127, named" "status $rc"
cp "$LAUNCHER" prefix/bin/slabguard
cp "$(lib_path secure)" prefix/lib/libslabguard.so.9.9.9
ln -s libslabguard.so.9.9.9 prefix/lib/libslabguard.so # as make install links it
got=$(prefix/bin/slabguard sh -c 'printf %s "$LD_PRELOAD"')
[ "$got" = "$WORKC/prefix/lib/libslabguard.so" ]
result $? "installed layout: PREFIX/bin finds PREFIX/lib/libslabguard.so (the link, not its target)" "got '$got'"
ln -s "$LAUNCHER" sym/slabguard
got=$(sym/slabguard sh -c 'printf %s "$LD_PRELOAD"')
[ "$got" = "$secure_lib" ]; result $? "through a symlink to the launcher" "got '$got'"

# its own failures, as env(1) reports them
"$LAUNCHER" no-such-command-here 2>/dev/null; rc=$?
[ "$rc" -eq 127 ]; result $? "command not found: status 127" "got $rc"
: >not-executable
"$LAUNCHER" ./not-executable 2>/dev/null; rc=$?
[ "$rc" -eq 126 ]; result $? "command not executable: status 126" "got $rc"
"$LAUNCHER" 2>/dev/null; rc=$?
[ "$rc" -eq 125 ]; result $? "no command: status 125" "got $rc"
"$LAUNCHER" --no-such-option true 2>/dev/null; rc=$?
[ "$rc" -eq 125 ]; result $? "unknown option: status 125" "got $rc"
