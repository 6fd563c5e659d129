#!/usr/bin/env bash
# tests/preload/redis.sh: a real service under LD_PRELOAD. redis-server (Debian's) listens on
# 127.0.0.1 at a free random port; redis-benchmark runs set, get, lpush, lpop, sadd and incr
# (20000 requests each, 50 connections); redis-cli stores and reads back values from a few bytes
# to 1 MiB, lists, sets and counters; then the server is shut down and must exit 0. Server,
# benchmark and client all run preloaded. Debian's redis-server links jemalloc, but its malloc,
# free, calloc and realloc bind to the preloaded library (the server must map it, checked here).
. "$(dirname "$0")/common.bash"

redis_programs || exit 0

redis_workload() {
    REDIS_CLI_TIMEOUT=20
    trap '[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null' EXIT
    redis_start || return 1

    timeout 90 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" -n 20000 -q -t set,get,lpush,lpop,sadd,incr >bench.out 2>bench.err
    echo "redis-benchmark exit status: $?"
    tr '\r' '\n' <bench.out >bench.txt
    for t in SET GET LPUSH LPOP SADD INCR; do
        if grep -Eq "^$t: [0-9.]+ requests per second" bench.txt; then echo "benchmark $t: completed"
        else echo "benchmark $t: NO RESULT"; fi
    done

    # values of many sizes, written and read back byte for byte
    for n in 1 15 100 4000 70000 300000 1048576; do
        head -c "$n" /dev/zero | tr '\0' "$(printf '\\%03o' $((97 + n % 26)))" >"value.$n"
        cli -x SET "value:$n" <"value.$n" >/dev/null
        cli --raw GET "value:$n" | head -c "$n" >"got.$n"
        if cmp -s "value.$n" "got.$n"; then echo "SET/GET of $n bytes: same value"; else echo "SET/GET of $n bytes: DIFFERENT"; fi
    done
    cli APPEND value:15 "-and-more" >/dev/null
    cli --raw STRLEN value:15
    for i in $(seq 1 300); do echo "INCR roundtrip:counter"; echo "RPUSH roundtrip:list item$i"; echo "SADD roundtrip:set m$((i % 37))"; done |
        cli >/dev/null
    cli --raw GET roundtrip:counter
    cli --raw LLEN roundtrip:list
    cli --raw LRANGE roundtrip:list 100 102 | tr '\n' ' '
    echo
    cli --raw SCARD roundtrip:set
    cli --raw SMEMBERS roundtrip:set | sort | head -n 3 | tr '\n' ' '
    echo
    cli --raw LPOP roundtrip:list
    cli --raw DEL roundtrip:list roundtrip:set

    redis_stop
}
compare redis redis_workload
