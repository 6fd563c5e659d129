# fuzz/lib.sh: shared by the fuzz/*.sh scripts (sourced, not run). Builds the plain (non-AFL)
# fuzz drivers with $CC against a variant's static archive, or against glibc.
#   FUZZ_ROOT   the repository      BUILD   the build directory (absolute; default build)
#   FUZZ_BIN    $BUILD/fuzz         CC      the compiler (default cc)

FUZZ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$FUZZ_ROOT/$BUILD ;; esac
FUZZ_BIN=$BUILD/fuzz
export BUILD
CC=${CC:-cc}
FUZZ_CFLAGS="-std=c11 -O2 -g -pthread -Wall -Wextra -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free -I$FUZZ_ROOT/fuzz -I$FUZZ_ROOT/include"
FUZZ_CORE="$FUZZ_ROOT/fuzz/harness.c $FUZZ_ROOT/fuzz/shadow.c $FUZZ_ROOT/fuzz/exec.c"

# fuzz_archive VARIANT: the static archive of a variant ("" for glibc).
fuzz_archive() {
    case $1 in
        glibc) echo "" ;;
        secure) echo "$BUILD/libslabguard.a" ;;
        *) echo "$BUILD/libslabguard-$1.a" ;;
    esac
}

# fuzz_need_lib VARIANT...: make sure the archives exist (builds them with make if missing).
fuzz_need_lib() {
    local v missing=0
    for v in "$@"; do
        [ "$v" = glibc ] && continue
        [ -f "$(fuzz_archive "$v")" ] || missing=1
    done
    [ "$missing" = 0 ] && return 0
    make -s -C "$FUZZ_ROOT" BUILD="$BUILD" lib >"$FUZZ_BIN/make.log" 2>&1
}

# fuzz_build NAME VARIANT SOURCES...: $FUZZ_BIN/NAME-VARIANT from the core + SOURCES, rebuilt
# when any fuzz source or the archive is newer. Against slabguard, -DSGF_HAVE_HEAPS: the heap
# ops call sg_heap_*; the glibc build emulates heaps (fuzz/exec.c). Prints the compiler's errors on failure.
fuzz_build() {
    local name=$1 variant=$2 out=$FUZZ_BIN/$1-$2 lib
    shift 2
    lib=$(fuzz_archive "$variant")
    local newest f
    newest=$(ls -t "$FUZZ_ROOT"/fuzz/*.[ch] $lib 2>/dev/null | head -n 1)
    if [ -x "$out" ] && [ -n "$newest" ] && [ "$out" -nt "$newest" ]; then
        return 0
    fi
    # shellcheck disable=SC2086
    $CC $FUZZ_CFLAGS ${lib:+-DSGF_HAVE_HEAPS} $FUZZ_CORE "$@" $lib ${lib:+-lsodium} -lpthread -o "$out.tmp" && mv "$out.tmp" "$out"
}
