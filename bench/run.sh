#!/bin/sh
# bench/run.sh: run the workloads under each allocator, interleaved, and report (bench/README.md).
#
# Usage: bench/run.sh [--full|--quick|--mitigations] [options]
#   --full         every workload, full sizes, 5 runs each (make bench)
#   --quick        every workload, small sizes, 3 runs each (make bench-quick)
#   --mitigations  the secure build against itself with one mitigation off at a time
#                  (bench/mitigations.txt; make bench-mitigations builds the variants first)
#   --reps N       runs per allocator and workload (at least 3 for a median that means something)
#   --only LIST    workloads to run, comma separated (default: all of the mode)
#   --allocators LIST   allocators to run, comma separated (default: all of the mode)
#   --build DIR    where the libraries and build/bench/ tools are (default: build)
#   --out DIR      where results go (default: bench/results)
#   --timeout S    kill a run after S seconds (default: 300 full, 120 otherwise)
# Writes DIR/<mode>.txt (the tables), <mode>.csv (medians and ratios), <mode>-runs.csv (every
# run) and <mode>.png (chart); logs of failed runs go to DIR/logs/<mode>/.
# Needs only a POSIX shell, awk, and gnuplot for the chart (skipped with a note without it).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
mode=full reps="" only="" pick="" build=build out="$here/results" timeout=""
while [ $# -gt 0 ]; do
    case $1 in
    --full) mode=full ;;
    --quick) mode=quick ;;
    --mitigations) mode=mitigations ;;
    --reps) reps=$2; shift ;;
    --only) only=$2; shift ;;
    --allocators) pick=$2; shift ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --timeout) timeout=$2; shift ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (--help)" >&2; exit 2 ;;
    esac
    shift
done
case $build in /*) ;; *) build="$root/$build" ;; esac
case $out in /*) ;; *) out="$(pwd)/$out" ;; esac
bin="$build/bench"
python=${PYTHON:-/usr/bin/python3}
sqlite=${SQLITE:-/usr/bin/sqlite3}
libdir=/usr/lib/x86_64-linux-gnu
scudo_lib=${SCUDO_LIB:-$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.scudo_standalone-x86_64.so 2>/dev/null | sort -V | tail -n 1)}

case $mode in
full) size=full ref=mimalloc def_reps=5 def_timeout=300
    workloads="seed-burst larson xmalloc cache-scratch alloc-churn big shrink threads python sqlite" ;;
quick) size=quick ref=mimalloc def_reps=3 def_timeout=120
    workloads="seed-burst larson xmalloc cache-scratch alloc-churn big shrink threads python sqlite" ;;
mitigations) size=quick ref=sg-secure def_reps=5 def_timeout=120
    workloads="seed-burst larson xmalloc alloc-churn big threads python sqlite" ;;
esac
reps=${reps:-$def_reps}
timeout=${timeout:-$def_timeout}
[ -n "$only" ] && workloads=$(echo "$only" | tr ',' ' ')
case $reps in '' | *[!0-9]*) echo "run.sh: --reps wants a number" >&2; exit 2 ;; esac

# ---- the workloads: one command each, sized by mode -------------------------------------------
# sz FULL QUICK: the size argument for this mode.
sz() { if [ "$size" = full ]; then echo "$1"; else echo "$2"; fi; }
seed_n=$(sz 50000 10000)          # bursts
larson_n=$(sz 2000000 400000)     # replacements per thread
xmalloc_n=$(sz 6000000 1200000)   # blocks
scratch_n=$(sz 4000 800)          # objects per thread
churn_n=$(sz 12000000 1600000)    # steps
big_n=$(sz 12000 1500)            # steps
shrink_n=$(sz 1024 128)           # MiB
threads_n=$(sz 16000000 2400000)  # operations per phase
python_n=$(sz 150000 30000)       # records
sqlite_n=$(sz 200000 40000)       # rows

describe() {
    case $1 in
    seed-burst) echo "1000 x malloc(128) then 1000 x free, repeated $seed_n times; metric: ns per burst" ;;
    larson) echo "2 threads replace random 16..1024 B blocks in a shared array ($larson_n each): cross-thread frees" ;;
    xmalloc) echo "producer/consumer pair: one thread allocates $xmalloc_n blocks of 16..512 B, the other frees them" ;;
    cache-scratch) echo "false sharing: 2 threads free an object from the main thread, then malloc/write/free 8 B objects" ;;
    alloc-churn) echo "$churn_n random malloc/free/realloc-growth, 8 B..64 KiB power-law sizes, 4000 live slots" ;;
    big) echo "$big_n malloc/free/realloc-growth of 64 KiB..8 MiB blocks, every page written, 24 live slots" ;;
    shrink) echo "allocate $shrink_n MiB in 16..512 B blocks, free 90% at random; metric: RSS after (then RSS once all freed)" ;;
    threads) echo "small-object churn with 1, 2, 4, 8 threads, $threads_n ops per phase; metrics: 1-thread Mop/s, speedups" ;;
    python) echo "python3 object-heavy script (dicts, lists, strings, sort, tree), $python_n records, PYTHONMALLOC=malloc" ;;
    sqlite) echo "sqlite3 shell, in memory: insert $sqlite_n rows, 2 indexes, update, delete, group, lookups, join" ;;
    *) return 1 ;;
    esac
}

# run_workload NAME LIBRARY: one run under the launcher; its output is the workload's stdout
# followed by the launcher's "launch wall_s=... peak_rss_kb=... status=..." line.
# Single-threaded workloads run on one CPU, the same for every allocator: on the bench's VM one
# of the two CPUs ran everything 1.7x slower than the other for long stretches (seed-burst 0.78 s
# against 1.32 s, mimalloc 0.26 s against 0.43 s; later the other way round), and where the
# scheduler put a run decided its time.
# SG_BENCH_CPU=N picks the CPU, SG_BENCH_CPU=none leaves them unpinned; default: the first
# CPU this script may run on.
pin=${SG_BENCH_CPU:-$(awk '/^Cpus_allowed_list/ { split($2, a, /[-,]/); print a[1] }' /proc/self/status 2>/dev/null)}
[ "$pin" = none ] && pin=""
launch() { "$bin/launch" -t "$timeout" "$@"; }
solo() { "$bin/launch" -t "$timeout" ${pin:+-c "$pin"} "$@"; }
run_workload() {
    case $1 in
    seed-burst) solo "$2" "$bin/seed-burst" "$seed_n" ;;
    larson) launch "$2" "$bin/larson" 2 "$larson_n" 20000 ;;
    xmalloc) launch "$2" "$bin/xmalloc" 1 "$xmalloc_n" ;;
    cache-scratch) launch "$2" "$bin/cache-scratch" 2 "$scratch_n" 20000 8 ;;
    alloc-churn) solo "$2" "$bin/alloc-churn" "$churn_n" 4000 ;;
    big) solo "$2" "$bin/big" "$big_n" 24 ;;
    shrink) solo "$2" "$bin/shrink" "$shrink_n" 10 150 ;;
    threads) launch "$2" "$bin/threads" "$threads_n" ;;
    python) solo -e PYTHONMALLOC=malloc -e PYTHONHASHSEED=0 -e PYTHONDONTWRITEBYTECODE=1 \
        "$2" "$python" -S -s -B "$here/workloads/objects.py" "$python_n" ;;
    sqlite) solo "$2" "$sqlite" -batch -init /dev/null :memory: \
        ".parameter set @n $sqlite_n" ".read $here/workloads/sqlite.sql" ;;
    esac
}

for w in $workloads; do
    describe "$w" >/dev/null || { echo "run.sh: unknown workload $w" >&2; exit 2; }
done

# ---- the allocators ---------------------------------------------------------------------------
# Lines of "name library" ("-" = no preload, the libc malloc).
allocator_list() {
    if [ "$mode" = mitigations ]; then
        echo "sg-secure $build/libslabguard.so"
        grep -v '^[[:space:]]*#' "$here/mitigations.txt" | awk 'NF { print $1, B "/libslabguard-" $1 ".so" }' B="$build"
    else
        echo "glibc -"
        echo "jemalloc $libdir/libjemalloc.so.2"
        echo "tcmalloc $libdir/libtcmalloc_minimal.so.4"
        echo "mimalloc $libdir/libmimalloc.so.2"
        echo "scudo ${scudo_lib:-libclang_rt.scudo_standalone-x86_64.so}"
        echo "sg-secure $build/libslabguard.so"
        echo "sg-fast $build/libslabguard-fast.so"
    fi
}

# ---- set up -----------------------------------------------------------------------------------
for t in launch probe seed-burst larson xmalloc cache-scratch alloc-churn big shrink threads; do
    if [ ! -x "$bin/$t" ]; then
        echo "run.sh: $bin/$t is missing; building the bench tools (make bench-build)" >&2
        ${MAKE:-make} --no-print-directory -C "$root" BUILD="$build" bench-build >&2
        break
    fi
done
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slabguard-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
runs="$out/$mode-runs.csv"
logs="$out/logs/$mode"
rm -rf "$logs"

# Probe each allocator: its library exists, loads, and serves malloc.
allocator_list | while read -r name lib; do
    if [ -n "$pick" ] && ! echo ",$pick," | grep -q ",$name,"; then continue; fi
    if [ "$lib" != - ] && [ ! -f "$lib" ]; then
        hint=""
        case $name in
        sg-secure | sg-fast) hint=" (not built: make lib)" ;;
        no-*) hint=" (variant not built: see $bin/variant-$name.log)" ;;
        esac
        printf '%s\t%s\tmissing\t%s not found%s\n' "$name" "$lib" "$lib" "$hint"
        continue
    fi
    # Our own libraries are copied, so that a rebuild during the run cannot change what is measured.
    case $lib in "$build"/*) cp "$lib" "$tmp/$name.so" && lib="$tmp/$name.so" ;; esac
    got=$("$bin/launch" -t 30 "$lib" "$bin/probe" 2>"$tmp/probe.err" || true)
    served=$(echo "$got" | sed -n 's/^malloc //p')
    status=$(echo "$got" | sed -n 's/^launch .*status=//p')
    want=$lib
    [ "$lib" = - ] && want=$(ldd "$bin/probe" | awk '$1 ~ /^libc\.so/ { print $3 }')
    if [ "$status" != ok ]; then
        printf '%s\t%s\tbroken\tprobe failed (%s): %s\n' "$name" "$lib" "${status:-no status}" "$(head -c 200 "$tmp/probe.err" | tr '\t\n' '  ')"
    elif [ "$(readlink -f "$served")" != "$(readlink -f "$want")" ]; then
        printf '%s\t%s\tbroken\tmalloc is served by %s, not by %s\n' "$name" "$lib" "$served" "$want"
    else
        printf '%s\t%s\tok\t\n' "$name" "$lib"
    fi
done >"$tmp/allocators"
active=$(awk -F '\t' '$3 == "ok" { printf "%s%s", s, $1; s = " " }' "$tmp/allocators")

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
{
    echo "slabguard bench, mode $mode: $reps runs per allocator and workload, allocators alternating run by run"
    echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu:      $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), nproc $(nproc)"
    echo "kernel:   $(uname -sr), THP $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo ?)"
    echo "libc:     $(ldd --version 2>&1 | head -n 1)"
    echo "peers:    jemalloc $(pkgver libjemalloc2), tcmalloc $(pkgver libtcmalloc-minimal4), mimalloc $(pkgver libmimalloc2.0), scudo from clang-rt $(pkgver libclang-rt-14-dev)"
    echo "programs: $("$python" --version 2>&1), sqlite3 $("$sqlite" --version 2>/dev/null | cut -d' ' -f1)"
    echo "tree:     $(git -C "$root" describe --always --dirty 2>/dev/null || echo ?)"
    echo "pinned:   single-threaded workloads on CPU ${pin:-(none: SG_BENCH_CPU=none)}"
    echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) at the start$(awk '$1 > 0.5 { printf ": other processes are running, timings will be noisy" }' /proc/loadavg)"
} >"$tmp/machine"
cat "$tmp/machine"
awk -F '\t' '$3 != "ok" { printf "allocator %s: %s: %s\n", $1, toupper($3), $4 }' "$tmp/allocators"
[ -n "$active" ] || { echo "run.sh: no allocator can run" >&2; exit 1; }
case " $active " in *" $ref "*) ;; *) echo "run.sh: the reference $ref cannot run: no ratios in this report" >&2 ;; esac

# ---- the runs ---------------------------------------------------------------------------------
# For each workload, rep after rep; inside a rep every allocator runs once, starting one further
# along the list each rep, so drift in the machine's speed spreads over all of them.
echo "workload,allocator,rep,status,wall_s,peak_rss_kb,check,metrics" >"$runs"
: >"$tmp/workloads"
nact=$(echo "$active" | wc -w)
start_all=$(date +%s)
for w in $workloads; do
    printf '%s\t%s\n' "$w" "$(describe "$w")" >>"$tmp/workloads"
    start=$(date +%s)
    rep=1
    while [ "$rep" -le "$reps" ]; do
        order=$(echo "$active" | awk -v k="$rep" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + k - 1) % NF + 1) }')
        for a in $order; do
            lib=$(awk -F '\t' -v a="$a" '$1 == a { print $2 }' "$tmp/allocators")
            run_workload "$w" "$lib" >"$tmp/out" 2>"$tmp/err" || true
            check=$(grep '^check ' "$tmp/out" | cksum | cut -d' ' -f1)
            grep -q '^check ' "$tmp/out" || check=none
            line=$(awk -v w="$w" -v a="$a" -v rep="$rep" -v check="$check" '
                $1 == "metric" { m = m sep $2 ":" $3 ":" $4 ":" $5; sep = ";" }
                $1 == "launch" { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
                END {
                    st = ("status" in v) ? v["status"] : "launch-failed"
                    if (st == "ok" && check == "none") st = "no-check"
                    print w "," a "," rep "," st "," v["wall_s"] "," v["peak_rss_kb"] "," check "," m
                }' "$tmp/out")
            if grep -q 'cannot be preloaded' "$tmp/err"; then
                line=$(echo "$line" | awk -F, -v OFS=, '{ $4 = "preload-failed"; print }')
            fi
            echo "$line" >>"$runs"
            case $line in
            *,ok,*) ;;
            *)
                mkdir -p "$logs"
                cat "$tmp/out" "$tmp/err" >"$logs/$w-$a-$rep.log"
                echo "  $w under $a, run $rep: $(echo "$line" | cut -d, -f4) (log: $logs/$w-$a-$rep.log)" >&2 ;;
            esac
        done
        rep=$((rep + 1))
    done
    echo "  $w: $((reps * nact)) runs in $(($(date +%s) - start)) s" >&2
done
echo "  all runs: $(($(date +%s) - start_all)) s" >&2

# ---- the report -------------------------------------------------------------------------------
{
    cat "$tmp/machine"
    echo
    awk -f "$here/report.awk" -v mode="$mode" -v ref="$ref" -v reps="$reps" \
        -v allocfile="$tmp/allocators" -v workfile="$tmp/workloads" \
        -v mitfile="$here/mitigations.txt" -v csv="$out/$mode.csv" -v plot="$tmp/plot.dat" -v logdir="$logs" "$runs"
} >"$out/$mode.txt"
echo
sed '1,/^$/d' "$out/$mode.txt"

if command -v gnuplot >/dev/null 2>&1; then
    title="slabguard bench ($mode): $(sed -n 's/^cpu: *//p' "$tmp/machine"), $(sed -n 's/^kernel: *\([^,]*\).*/\1/p' "$tmp/machine")"
    title=$(echo "$title" | tr -d "\\\"'") # it goes inside a gnuplot string
    ncols=$(head -n 1 "$tmp/plot.dat" | awk '{ print NF - 1 }')
    if gnuplot -e "datafile='$tmp/plot.dat'; outfile='$out/$mode.png'; ref='$ref'; heading='$title'; ncols=$ncols" \
        "$here/plot.gp" 2>"$tmp/gnuplot.err"; then
        echo "chart: $out/$mode.png"
    else
        echo "chart: gnuplot failed: $(head -n 3 "$tmp/gnuplot.err")" >&2
    fi
else
    echo "chart: skipped, gnuplot not installed (scripts/deps.sh bench)" >&2
fi
echo "results: $out/$mode.txt $out/$mode.csv $runs"
