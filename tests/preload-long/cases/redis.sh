#!/usr/bin/env bash
# redis: redis-server (Debian's) on 127.0.0.1 at a free random port, redis-benchmark with a
# bounded number of requests (SG_REDIS_REQUESTS, 100000 per test; 50 connections, also with
# pipelining and 1 KiB values) over set, get, incr, lpush, rpush, lpop, rpop, sadd, hset, spop,
# zadd, lrange and mset, then redis-cli checks values of many sizes, DEBUG RELOAD-free data and
# a clean SHUTDOWN (exit 0). Server, benchmark and client all run preloaded. The logic is
# tests/preload/redis.sh's, with larger settings.
. "$(dirname "$0")/../../preload/common.bash"
redis_programs preload || exit 0
export REDIS_N=${SG_REDIS_REQUESTS:-100000}
redis_workload() {
    REDIS_CLI_TIMEOUT=30
    trap '[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null' EXIT
    redis_start || return 1

    local tests=set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset
    bench() {
        timeout 240 "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" -r 100000 -q "$@" >bench.out 2>bench.err
        echo "redis-benchmark $*: exit status $?"
        tr '\r' '\n' <bench.out >bench.txt
        for t in SET GET INCR LPUSH RPUSH LPOP RPOP SADD HSET SPOP ZADD LRANGE_100 MSET; do
            if grep -Eq "^$t( \(.*\))?: [0-9.]+ requests per second" bench.txt; then echo "  $t: completed"
            else echo "  $t: NO RESULT"; fi
        done
    }
    bench -n "$REDIS_N" -c 50 -t "$tests"
    bench -n "$REDIS_N" -c 20 -P 16 -d 1024 -t "$tests"
    cli --raw DBSIZE | sed 's/^[0-9]\+$/keys: some/'
    cli FLUSHALL >/dev/null

    for n in 1 15 100 4000 70000 300000 1048576 4194304; do
        head -c "$n" /dev/zero | tr '\0' "$(printf '\\%03o' $((97 + n % 26)))" >"value.$n"
        cli -x SET "value:$n" <"value.$n" >/dev/null
        cli --raw GET "value:$n" | head -c "$n" >"got.$n"
        if cmp -s "value.$n" "got.$n"; then echo "SET/GET of $n bytes: same value"; else echo "SET/GET of $n bytes: DIFFERENT"; fi
    done
    for i in $(seq 1 3000); do
        echo "INCR rt:counter"; echo "RPUSH rt:list item$i"; echo "SADD rt:set m$((i % 37))"
        echo "HSET rt:hash f$((i % 500)) v$i"; echo "ZADD rt:zset $((i % 1000)) z$i"
    done | cli >/dev/null
    cli --raw GET rt:counter
    cli --raw LLEN rt:list
    cli --raw LRANGE rt:list 1000 1002 | tr '\n' ' '; echo
    cli --raw SCARD rt:set
    cli --raw HLEN rt:hash
    cli --raw HGET rt:hash f123
    cli --raw ZCARD rt:zset
    cli --raw ZRANGE rt:zset 0 4 | tr '\n' ' '; echo
    cli --raw LTRIM rt:list 0 9
    cli --raw DEL rt:list rt:set rt:hash rt:zset

    redis_stop
}
compare redis redis_workload
