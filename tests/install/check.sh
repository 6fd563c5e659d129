#!/usr/bin/env bash
# tests/install/check.sh: `make install` into a temporary DESTDIR (PREFIX=/usr/local), then use
# what was installed the way a user would: build tests/install/hello.c with pkg-config against
# the shared library and against the static archive and run it, follow the soname links, read
# the man pages, run the installed launcher; then `make uninstall` must leave no file behind.
# Usage: tests/install/check.sh [BUILD_DIR]   (tests/run.sh passes it; default build)
# Prints "ok <case>" / "not ok <case>: <reason>" lines. SG_TEST_VARIANTS picks the variants
# installed (MODE). Everything happens in a temporary directory, removed at exit.
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
VARIANTS=${SG_TEST_VARIANTS:-secure fast}
CC=${CC:-cc}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/slabguard-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# Only the command line decides where things go: no install variable from the caller's
# environment, no jobserver of an outer make.
unset PREFIX EXEC_PREFIX BINDIR LIBDIR INCLUDEDIR DATAROOTDIR MANDIR PKGCONFIGDIR DESTDIR SOVERSION \
    MAKEFLAGS MFLAGS MAKELEVEL PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR LD_PRELOAD LD_LIBRARY_PATH
export LC_ALL=C

VERSION=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile)
MAJOR=${VERSION%%.*}
DEST=$TMP/root
PREFIX=/usr/local
LIB=$DEST$PREFIX/lib
PC=$LIB/pkgconfig
MAN=$DEST$PREFIX/share/man

failed=0
ok() { echo "ok $1"; }
not_ok() { echo "not ok $1: $2"; failed=$((failed + 1)); }
case_() { echo "# case $1"; }
# the last lines of a log, as comments, after a failure
tail_log() { [ -s "$1" ] && tail -n "${2:-5}" "$1" | sed 's/^/#   /'; return 0; }

has_variant() { [[ " $VARIANTS " == *" $1 "* ]]; }
mode=""
for v in secure fast; do has_variant "$v" && mode="$mode $v"; done
case $mode in " secure fast") MODE=all ;; " secure") MODE=secure ;; " fast") MODE=fast ;;
    *) echo "# skip: SG_TEST_VARIANTS ($VARIANTS) names neither secure nor fast"; exit 0 ;; esac
libname() { if [ "$1" = secure ]; then echo libslabguard; else echo "libslabguard-$1"; fi; }
pcname() { local l; l=$(libname "$1"); echo "${l#lib}"; }

run_make() { # run_make LOG TARGET VAR=VALUE...
    local log=$1
    shift
    make --no-print-directory -C "$ROOT" BUILD="$BUILD" MODE="$MODE" "$@" >"$log" 2>&1
}

# ---- install ------------------------------------------------------------------------------------
case_ install
if run_make "$TMP/install.log" install PREFIX=$PREFIX DESTDIR="$DEST" &&
    run_make "$TMP/reinstall.log" install PREFIX=$PREFIX DESTDIR="$DEST"; then
    ok "install: make install PREFIX=$PREFIX DESTDIR=... (twice: a reinstall replaces the files)"
else
    not_ok install "make install failed"
    tail_log "$TMP/install.log" 10
    tail_log "$TMP/reinstall.log" 10
    exit 1
fi

# ---- the files and their links ------------------------------------------------------------------
case_ files
missing=""
want="$DEST$PREFIX/include/slabguard.h $MAN/man1/slabguard.1 $MAN/man3/slabguard.3 $MAN/man3/sg_malloc.3"
for v in $mode; do
    l=$(libname "$v")
    want="$want $LIB/$l.so.$VERSION $LIB/$l.a $PC/$(pcname "$v").pc"
done
for f in $want; do [ -f "$f" ] || missing="$missing ${f#"$DEST"}"; done
if [ -z "$missing" ]; then ok "files: libraries, archives, header, pkg-config files and man pages in place"
else not_ok files "missing:$missing"; fi

for v in $mode; do
    l=$(libname "$v")
    case_ "links $v"
    dev=$(readlink "$LIB/$l.so" 2>/dev/null) so=$(readlink "$LIB/$l.so.$MAJOR" 2>/dev/null)
    if [ "$dev" = "$l.so.$MAJOR" ] && [ "$so" = "$l.so.$VERSION" ] && [ -f "$LIB/$l.so.$VERSION" ] && [ ! -L "$LIB/$l.so.$VERSION" ]; then
        ok "links $v: $l.so -> $l.so.$MAJOR -> $l.so.$VERSION"
    else
        not_ok "links $v" "$l.so -> '${dev}', $l.so.$MAJOR -> '${so}' (want $l.so -> $l.so.$MAJOR -> $l.so.$VERSION, a file)"
    fi
    case_ "soname $v"
    soname=$(readelf -dW "$LIB/$l.so.$VERSION" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
    if [ "$soname" = "$l.so.$MAJOR" ]; then ok "soname $v: $soname"
    else not_ok "soname $v" "$l.so.$VERSION has soname '$soname', want $l.so.$MAJOR (the Makefile links with -Wl,-soname,<name>.so.\$(SOVERSION))"; fi
done

# ---- pkg-config -----------------------------------------------------------------------------------
export PKG_CONFIG_PATH=$PC
pkgc() { pkg-config --define-prefix "$@"; }
for v in $mode; do
    n=$(pcname "$v")
    case_ "pkg-config $v"
    if ! command -v pkg-config >/dev/null; then echo "ok pkg-config $v # skip: pkg-config not installed"; continue; fi
    why=""
    got=$(pkgc --modversion "$n" 2>&1) || why="$why; --modversion failed: $got"
    [ "$got" = "$VERSION" ] || why="$why; version '$got', want $VERSION"
    got=$(pkg-config --variable=prefix "$n" 2>&1)
    [ "$got" = "$PREFIX" ] || why="$why; prefix '$got', want $PREFIX"
    got=$(pkgc --cflags "$n" 2>&1)
    [[ " $got " == *" -I$DEST$PREFIX/include "* ]] || why="$why; --cflags '$got' lacks -I$DEST$PREFIX/include"
    got=$(pkgc --libs "$n" 2>&1)
    [[ " $got " == *" -L$LIB -l${n} "* ]] || why="$why; --libs '$got', want -L$LIB -l$n"
    [[ " $got " == *" -lsodium "* ]] && why="$why; --libs '$got' names -lsodium (only --static should)"
    got=$(pkgc --static --libs "$n" 2>&1)
    [[ " $got " == *" -lsodium "* && " $got " == *" -lpthread "* ]] || why="$why; --static --libs '$got' lacks -lsodium -lpthread"
    if [ -z "$why" ]; then ok "pkg-config $v: $n $VERSION, -I and -L into DESTDIR with --define-prefix, -lsodium -lpthread when --static"
    else not_ok "pkg-config $v" "${why#; }"; fi
done

# ---- a program built against the installed library ----------------------------------------------
# expect VARIANT: the lines hello prints
expect() {
    printf '%s\n' "version $VERSION" "variant $1" "sg_malloc usable ok" "malloc is slabguard's: yes" "stats ok"
}
# check_run CASE VARIANT BINARY [ENV...]: run it, compare its output
check_run() {
    local name=$1 v=$2 bin=$3 rc
    shift 3
    env "$@" timeout 30 "$bin" >"$TMP/run.out" 2>"$TMP/run.err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        not_ok "$name" "$(basename "$bin") exited with status $rc: $(head -c 300 "$TMP/run.err" | tr '\n' ' ')"
        return 1
    fi
    if ! expect "$v" | diff - "$TMP/run.out" >"$TMP/run.diff"; then
        not_ok "$name" "unexpected output: $(grep '^[<>]' "$TMP/run.diff" | head -n 4 | tr '\n' ' ')"
        return 1
    fi
    return 0
}
needed() { readelf -dW "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' '; }
CFLAGS_HELLO="-std=c11 -O1 -Wall -Wextra -Werror"

for v in $mode; do
    n=$(pcname "$v") l=$(libname "$v")
    case_ "shared $v"
    bin=$TMP/hello-$v
    # shellcheck disable=SC2046,SC2086 # pkg-config's words are meant to split
    if ! $CC $CFLAGS_HELLO tests/install/hello.c -o "$bin" $(pkgc --cflags --libs "$n") >"$TMP/cc.log" 2>&1; then
        not_ok "shared $v" "cannot build hello with \$(pkg-config --cflags --libs $n): $(head -n 3 "$TMP/cc.log" | tr '\n' ' ')"
        continue
    fi
    if check_run "shared $v" "$v" "$bin" LD_LIBRARY_PATH="$LIB"; then
        # the soname case checks which name is recorded; here: it is the installed one that loads
        resolved=$(LD_LIBRARY_PATH="$LIB" ldd "$bin" 2>/dev/null | awk -v l="$l.so" 'index($1, l) == 1 {print $3}')
        if [[ $resolved == "$LIB/"* ]]; then
            ok "shared $v: built with pkg-config, $(needed "$bin" | awk '{print $1}') loaded from DESTDIR, plain malloc is slabguard's"
        else
            not_ok "shared $v" "NEEDED: $(needed "$bin"); $l resolved to '$resolved', not into $LIB"
        fi
    fi

    # libsodium is linked in with its symbols hidden (Makefile: LIBS): the preloaded library
    # maps no libsodium.so and exports none of its names
    case_ "self-contained $v"
    so=$LIB/$l.so
    leaked=$(nm -D --defined-only "$so" 2>/dev/null | awk '$3 ~ /sodium|randombytes|crypto_/ {print $3}' | head -n 3 | tr '\n' ' ')
    if [[ " $(needed "$so") " == *" libsodium"* ]]; then
        not_ok "self-contained $v" "$l.so needs $(needed "$so")"
    elif [ -n "$leaked" ]; then
        not_ok "self-contained $v" "$l.so exports libsodium's names: $leaked"
    else
        ok "self-contained $v: $l.so needs $(needed "$so")and exports no libsodium name"
    fi

    case_ "static $v"
    bin=$TMP/hello-static-$v
    libs=$(pkgc --static --libs "$n")
    libs=" $libs "
    libs=${libs// -l$n / }  # the archive, named below, instead of the shared library
    # shellcheck disable=SC2046,SC2086
    if ! $CC $CFLAGS_HELLO tests/install/hello.c -o "$bin" $(pkgc --cflags "$n") "$LIB/$l.a" $libs >"$TMP/cc.log" 2>&1; then
        not_ok "static $v" "cannot build hello with $l.a \$(pkg-config --static --libs $n): $(head -n 3 "$TMP/cc.log" | tr '\n' ' ')"
        continue
    fi
    if [[ " $(needed "$bin") " == *" libslabguard"* ]]; then
        not_ok "static $v" "the static build still needs $(needed "$bin")"
    elif check_run "static $v" "$v" "$bin"; then
        ok "static $v: $l.a + \$(pkg-config --static --libs $n), no shared slabguard needed, plain malloc is slabguard's"
    fi
done

# ---- man pages ----------------------------------------------------------------------------------
case_ "man render"
if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
    echo "ok man render # skip: groff or man not installed"
else
    why=""
    for page in "$MAN/man1/slabguard.1" "$MAN/man3/slabguard.3"; do
        err=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
        [ -z "$err" ] || why="$why; groff -ww ${page#"$DEST"}: $(echo "$err" | head -n 2 | tr '\n' ' ')"
        err=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >"$TMP/page.txt")
        [ -z "$err" ] || why="$why; man -l ${page#"$DEST"}: $(echo "$err" | head -n 2 | tr '\n' ' ')"
        grep -q "slabguard $VERSION" "$TMP/page.txt" || why="$why; ${page#"$DEST"} does not say version $VERSION"
    done
    # the stubs lead to the page: man finds sg_malloc in the installed tree
    MANWIDTH=80 man -M "$MAN" 3 sg_malloc >"$TMP/stub.txt" 2>"$TMP/stub.err"
    grep -q "sg_malloc_usable_size" "$TMP/stub.txt" || why="$why; man -M ... 3 sg_malloc: $(head -c 200 "$TMP/stub.err")"
    if [ -z "$why" ]; then ok "man render: both pages render without warnings (groff -ww, man -l); man 3 sg_malloc finds slabguard(3)"
    else not_ok "man render" "${why#; }"; fi
fi

# What the pages must document, taken from the sources they describe (the raw roff with its
# escaped hyphens made plain, so that this case needs no groff).
case_ "man contents"
page3=$(sed 's/\\-/-/g' man/slabguard.3)
page1=$(sed 's/\\-/-/g' man/slabguard.1)
why=""
# each sg_ function: in NAME, in SYNOPSIS, and described
while read -r f; do
    [ "$(grep -c "$f\b" <<<"$page3")" -ge 3 ] || why="$why; slabguard.3 does not describe $f"
done < <(sed -n 's/^SG_API.*[ *]\(sg_[a-z0-9_]*\)(.*/\1/p' include/slabguard.h)
# each SLABGUARD_ variable the README and SECURITY.md name: in one of the pages
while read -r var; do
    grep -q "$var" <<<"$page3$page1" || why="$why; neither page names $var"
done < <(grep -ohE 'SLABGUARD_[A-Z_]+' README.md SECURITY.md | sort -u)
# each message the library can print (fatal reports and warnings)
while read -r msg; do
    grep -qF "$msg" <<<"$page3" || why="$why; slabguard.3 lacks the message '$msg'"
done < <(grep -hE '(sg_report_fatal|os_fail|bad_pointer|guards_off|sg_report_warning)\(' src/*.c |
    grep -oE '"[^"]+"' | tr -d '"' | sort -u)
# each option of the launcher's --help
if [ -f tools/slabguard.c ]; then
    while read -r opt; do
        grep -q -- "$opt" <<<"$page1" || why="$why; slabguard.1 lacks $opt"
    done < <(grep -oE '^ *"  --[a-z]+' tools/slabguard.c | grep -oE -- '--[a-z]+' | sort -u)
fi
if [ -z "$why" ]; then ok "man contents: every sg_ function and message in slabguard(3), every SLABGUARD_ variable and launcher option documented"
else not_ok "man contents" "${why#; }"; fi

# ---- the launcher ---------------------------------------------------------------------------------
case_ launcher
if [ ! -x "$BUILD/slabguard" ]; then
    echo "ok launcher # skip: $BUILD/slabguard is not built"
elif [ ! -x "$DEST$PREFIX/bin/slabguard" ]; then
    not_ok launcher "$BUILD/slabguard exists but $PREFIX/bin/slabguard was not installed"
else
    why=""
    for v in $mode; do
        flag=""
        [ "$v" = fast ] && flag=--fast
        want=$(realpath "$LIB/$(libname "$v").so.$VERSION")
        # shellcheck disable=SC2016 # the inner shell expands it
        got=$(env -u SLABGUARD_LIB "$DEST$PREFIX/bin/slabguard" $flag sh -c 'echo "$LD_PRELOAD"' 2>"$TMP/launcher.err")
        # the launcher may name the library by its link or by the file: the same file either way
        [ -n "$got" ] && [ "$(realpath "$got" 2>/dev/null)" = "$want" ] ||
            why="$why; slabguard $flag preloads '$got' (want $want): $(head -c 200 "$TMP/launcher.err")"
    done
    if [ -z "$why" ]; then ok "launcher: $PREFIX/bin/slabguard installed, preloads the installed library (../lib from it)"
    else not_ok launcher "${why#; }"; fi
fi

# ---- uninstall ----------------------------------------------------------------------------------
case_ uninstall
if ! run_make "$TMP/uninstall.log" uninstall PREFIX=$PREFIX DESTDIR="$DEST"; then
    not_ok uninstall "make uninstall failed"
    tail_log "$TMP/uninstall.log" 10
else
    left=$(cd "$DEST" && find . ! -type d | sed 's|^\.||' | head -n 8 | tr '\n' ' ')
    if [ -n "$left" ]; then not_ok uninstall "files left behind: $left"
    elif ! run_make "$TMP/uninstall2.log" uninstall PREFIX=$PREFIX DESTDIR="$DEST"; then
        not_ok uninstall "a second make uninstall (nothing installed) failed"
    else ok "uninstall: no file left in DESTDIR; a second uninstall is harmless"; fi
fi

# ---- another LIBDIR -------------------------------------------------------------------------------
case_ "libdir"
DEST2=$TMP/root2
why=""
if ! run_make "$TMP/install2.log" install PREFIX=$PREFIX LIBDIR=$PREFIX/lib64 DESTDIR="$DEST2"; then
    why="make install LIBDIR=$PREFIX/lib64 failed: $(tail -n 2 "$TMP/install2.log" | tr '\n' ' ')"
else
    first=${mode# } && first=${first%% *}
    [ -f "$DEST2$PREFIX/lib64/$(libname "$first").so.$VERSION" ] || why="$why; no library in $PREFIX/lib64"
    [ -e "$DEST2$PREFIX/lib" ] && why="$why; $PREFIX/lib was created"
    # shellcheck disable=SC2016 # the literal text of the .pc file
    grep -qx 'libdir=${exec_prefix}/lib64' "$DEST2$PREFIX/lib64/pkgconfig/$(pcname "$first").pc" ||
        why="$why; $(pcname "$first").pc: $(grep '^libdir=' "$DEST2$PREFIX/lib64/pkgconfig/$(pcname "$first").pc" 2>&1)"
    run_make "$TMP/uninstall3.log" uninstall PREFIX=$PREFIX LIBDIR=$PREFIX/lib64 DESTDIR="$DEST2" ||
        why="$why; make uninstall LIBDIR=... failed"
    left=$(cd "$DEST2" && find . ! -type d | sed 's|^\.||' | head -n 8 | tr '\n' ' ')
    [ -z "$left" ] || why="$why; left behind: $left"
fi
if [ -z "$why" ]; then ok "libdir: LIBDIR=$PREFIX/lib64 installs there (pkg-config libdir=\${exec_prefix}/lib64) and uninstalls cleanly"
else not_ok libdir "${why#; }"; fi
[ "$failed" -eq 0 ]
