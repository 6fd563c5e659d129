# tests/preload/common.bash: sourced by tests/preload/*.sh (not run by itself).
#
# A preload test defines a bash function (the workload) that prints what a real program computed,
# then calls `compare NAME FUNCTION`: the workload runs once under glibc's malloc and once per
# variant with LD_PRELOAD of that variant's library, each time in a fresh, empty directory of the
# same path, and the outputs must be the same. Results are "ok <variant> <name>: ..." lines.
# A run also fails when its exit status differs from glibc's, when slabguard reported an error
# on stderr, or when the dynamic loader did not preload the library.
#
# Usage of a script: tests/preload/NAME.sh [BUILD_DIR]; SG_TEST_VARIANTS picks the variants.
set -u

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
VARIANTS=${SG_TEST_VARIANTS:-secure fast}
PRELOAD_TIMEOUT=${SG_PRELOAD_TIMEOUT:-150}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slabguard-preload.XXXXXX")
export WORK
trap 'rm -rf "$WORK"' EXIT
# Same answers from every run: no locale, no user configuration, fixed hash seeds.
export LC_ALL=C TZ=UTC PYTHONHASHSEED=0 PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
export HOME=$WORK/home
mkdir -p "$HOME"

lib_path() {
    if [ "$1" = secure ]; then echo "$BUILD/libslabguard.so"; else echo "$BUILD/libslabguard-$1.so"; fi
}

# The first program of a name in PATH that is not a pyenv/rbenv-style shim, else the plain name.
real_program() {
    local p
    for p in "/usr/bin/$1" "/bin/$1"; do
        [ -x "$p" ] && { echo "$p"; return 0; }
    done
    command -v "$1" 2>/dev/null
}

# run_once OUT ERR PRELOAD FUNCTION: the function in a fresh $WORK/run, under timeout.
run_once() {
    local out=$1 err=$2 preload=$3 fn=$4
    rm -rf "$WORK/run"
    mkdir -p "$WORK/run"
    (
        cd "$WORK/run" || exit 99
        [ -n "$preload" ] && export LD_PRELOAD="$preload"
        exec timeout -k 5 "$PRELOAD_TIMEOUT" bash -c "$fn" </dev/null
    ) >"$out" 2>"$err"
}

status_text() {
    local rc=$1
    if [ "$rc" -eq 124 ]; then echo "timed out after ${PRELOAD_TIMEOUT}s"
    elif [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then echo "SIG$(kill -l $((rc - 128)) 2>/dev/null)"
    else echo "exit $rc"
    fi
}

compare() {
    local name=$1 fn=$2 rc ref_rc
    export -f "$fn"
    run_once "$WORK/ref.out" "$WORK/ref.err" "" "$fn"
    ref_rc=$?
    if [ "$ref_rc" -ne 0 ]; then
        echo "not ok glibc $name: the reference run without slabguard failed ($(status_text $ref_rc)): $(tail -n 1 "$WORK/ref.err")"
        return
    fi
    for v in $VARIANTS; do
        local lib
        lib=$(lib_path "$v")
        if [ ! -f "$lib" ]; then
            echo "not ok $v $name: $lib not built"
            continue
        fi
        run_once "$WORK/$v.out" "$WORK/$v.err" "$lib" "$fn"
        rc=$?
        local why=""
        if grep -q 'cannot be preloaded' "$WORK/$v.err"; then
            why="the loader did not preload $lib: $(grep -m1 'cannot be preloaded' "$WORK/$v.err")"
        elif grep -q '^slabguard:' "$WORK/$v.err"; then
            why="slabguard reported: $(grep -m1 '^slabguard:' "$WORK/$v.err")"
        elif [ "$rc" -ne "$ref_rc" ]; then
            why="$(status_text $rc) (glibc: exit $ref_rc): $(tail -n 1 "$WORK/$v.err")"
        elif ! cmp -s "$WORK/ref.out" "$WORK/$v.out"; then
            why="output differs from glibc's: $(diff "$WORK/ref.out" "$WORK/$v.out" | head -n 3 | tr '\n' ' ')"
        fi
        if [ -z "$why" ]; then
            echo "ok $v $name: same output as glibc ($(wc -l <"$WORK/ref.out") lines)"
        else
            echo "not ok $v $name: $why"
            tail -n 5 "$WORK/$v.err" | sed 's/^/#   /' >&2
        fi
    done
}

# redis_programs [DEPS_TASK]: find redis-server, redis-cli and redis-benchmark (REDIS_SERVER, REDIS_CLI,
# REDIS_BENCHMARK, exported); returns 1 after a skip line when one is missing.
redis_programs() {
    REDIS_SERVER=$(real_program redis-server)
    REDIS_CLI=$(real_program redis-cli)
    REDIS_BENCHMARK=$(real_program redis-benchmark)
    if [ -z "$REDIS_SERVER" ] || [ -z "$REDIS_CLI" ] || [ -z "$REDIS_BENCHMARK" ]; then
        echo "# skip redis: redis-server, redis-cli or redis-benchmark not installed (scripts/deps.sh ${1:-check})"
        return 1
    fi
    export REDIS_SERVER REDIS_CLI REDIS_BENCHMARK
}

# git_identity: a git that reads no system or user configuration and commits as a fixed author
# (the repository's history, and so the output, is the same in every run).
git_identity() {
    export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=slabguard GIT_AUTHOR_EMAIL=t@example.invalid \
        GIT_COMMITTER_NAME=slabguard GIT_COMMITTER_EMAIL=t@example.invalid HOME=$PWD
}
export -f git_identity

# redis_start: start $REDIS_SERVER on 127.0.0.1 at a free random port (tries up to five ports),
# set the globals port and pid, and define cli (redis-cli with REDIS_CLI_TIMEOUT seconds, 20 by
# default); print whether the server maps slabguard exactly when it is preloaded. Returns 1 (with
# the server log's tail on stderr) when the server does not start.
redis_start() {
    pid=""
    cli() { timeout "${REDIS_CLI_TIMEOUT:-20}" "$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@"; }
    # start on a port nobody listens on; try again elsewhere if another process took it first
    for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
        "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$PWD" \
            --logfile "$PWD/server.log" --daemonize no &
        pid=$!
        for _ in $(seq 1 100); do
            [ "$(cli ping 2>/dev/null)" = PONG ] && break 2
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=""
    done
    if [ -z "$pid" ]; then
        echo "redis-server did not start" >&2
        tail -n 5 server.log >&2
        return 1
    fi
    if [ -n "${LD_PRELOAD:-}" ]; then want=yes; else want=no; fi
    if grep -q libslabguard "/proc/$pid/maps"; then have=yes; else have=no; fi
    echo "server maps slabguard exactly when it is preloaded: $([ "$want" = "$have" ] && echo yes || echo "NO (mapped: $have)")"
}
export -f redis_start

# redis_stop: shut the server of redis_start down, print its exit status, and hand what its log
# says of a detection or a crash to the comparison (stderr).
redis_stop() {
    cli shutdown nosave >/dev/null 2>&1
    local rc
    wait "$pid"
    rc=$?
    pid=""
    echo "redis-server exit status after SHUTDOWN: $rc"
    grep '^slabguard:' server.log >&2
    grep -i -E 'crashed|assert' server.log | head -n 3 >&2
    return 0
}
export -f redis_stop
