#!/bin/sh
# The main job, from a fresh clone: install what is missing, build both variants, then run real
# programs under each (python3 and sqlite3) and compare what they print with glibc's malloc.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh demo
make -s -j"$(nproc 2>/dev/null || echo 2)"
py='import json, threading
d = {str(i): [i] * (i % 7) for i in range(200000)}
def work(n):
    s = [str(j) * 3 for j in range(n)]
    return sum(len(x) for x in s)
out = []
ts = [threading.Thread(target=lambda n=n: out.append(work(n))) for n in range(20000, 100000, 20000)]
[t.start() for t in ts]; [t.join() for t in ts]
print(len(d), sum(map(len, d.values())), sorted(out), len(json.dumps(d)))'
sql='create table t(a integer, b text);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 50000)
insert into t select x, printf("%08d-%s", x * 7919 % 50000, hex(x)) from c;
create index tb on t(b);
select count(*), sum(a), min(b), max(b) from t where b > "00025000";'
ref_py=$(python3 -c "$py")
ref_sql=$(sqlite3 :memory: "$sql")
status=0
for lib in build/libslabguard.so build/libslabguard-fast.so; do
  echo "== $lib"
  got_py=$(SLABGUARD_VERBOSE=1 LD_PRELOAD="$PWD/$lib" python3 -c "$py" 2>/tmp/slabguard-demo.err) || status=1
  head -n 1 /tmp/slabguard-demo.err
  got_sql=$(LD_PRELOAD="$PWD/$lib" sqlite3 :memory: "$sql") || status=1
  if [ "$got_py" = "$ref_py" ]; then echo "python3: same output as glibc: $got_py"; else echo "python3: DIFFERENT: $got_py"; status=1; fi
  if [ "$got_sql" = "$ref_sql" ]; then echo "sqlite3: same output as glibc: $got_sql"; else echo "sqlite3: DIFFERENT: $got_sql"; status=1; fi
done
rm -f /tmp/slabguard-demo.err
exit $status
