#!/bin/sh
# The main job, from a fresh clone: install what is missing, build both variants and the
# launcher, then
#   1. attack a toy server with two heap bugs (demo/vuln.c, inputs from demo/exploits.sh): under
#      glibc's malloc each attack takes over an admin session; under slabguard (secure, through
#      build/slabguard) each one ends in slabguard's one-line report and SIGABRT;
#   2. run real programs under each variant (python3 and sqlite3) and compare what they print
#      with glibc's malloc.
# Exits 0 when everything behaved as described, 1 otherwise.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh demo
make -s -j"$(nproc 2>/dev/null || echo 2)" all demo-programs
status=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slabguard-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- 1. an exploit, with and without slabguard ----------------------------------------------
# attack NAME WHAT-GLIBC-LOST WHAT-SLABGUARD-SAW DETECTION: run the exploit under both allocators.
attack() {
  name=$1 lost=$2 saw=$3 want=$4
  demo/exploits.sh "$name" >"$tmp/$name.in"
  rc=0
  env -u LD_PRELOAD timeout 20 build/demo/vuln <"$tmp/$name.in" >"$tmp/glibc.out" 2>"$tmp/glibc.err" || rc=$?
  if [ "$rc" -eq 0 ] && grep -q '^root: access granted$' "$tmp/glibc.out"; then
    echo "   glibc:     root: access granted   <- hijacked: $lost"
  else
    echo "   glibc:     UNEXPECTED (exit $rc): $(tail -n 1 "$tmp/glibc.out") $(head -n 1 "$tmp/glibc.err")"
    echo "              (the exploit is laid out for glibc 2.36 on x86-64 with the default tunables)"
    status=1
  fi
  rc=0
  env -u LD_PRELOAD timeout 20 build/slabguard build/demo/vuln <"$tmp/$name.in" >"$tmp/sg.out" 2>"$tmp/sg.err" || rc=$?
  line=$(grep -m1 '^slabguard: ' "$tmp/sg.err" || true)
  if [ "$rc" -eq 134 ] && echo "$line" | grep -Eq "^slabguard: $want of 0x[0-9a-f]+ \(size [0-9]+\)$" &&
      ! grep -q 'access granted' "$tmp/sg.out"; then
    echo "   slabguard: $line   <- stopped: $saw; SIGABRT"
  else
    echo "   slabguard: UNEXPECTED (exit $rc, want SIGABRT with '$want'): ${line:-$(tail -n 1 "$tmp/sg.out")}"
    status=1
  fi
}

echo "== A heap exploit with and without slabguard: demo/vuln.c, a toy session server with two bugs"
echo "-- attack 1, heap overflow: EDIT copies 104 bytes into a 48-byte note, over the session behind it"
attack overflow "the overflow rewrote the neighbouring session: user root, is_admin 1" \
  "the canary after the note was damaged, caught when the note was freed" "heap overflow"
echo "-- attack 2, use after free: a freed request is written through (RETRY), then freed again (CLOSE)"
attack uaf "the chunk was freed twice, handed out as the session and as a note that rewrote it" \
  "the second free of the request, before anything reused it" "double free"

# ---- 2. real programs, compared with glibc's malloc -----------------------------------------
echo "== Real programs under each variant, compared with glibc's malloc"
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
for lib in build/libslabguard.so build/libslabguard-fast.so; do
  echo "-- $lib"
  got_py=$(SLABGUARD_VERBOSE=1 LD_PRELOAD="$PWD/$lib" python3 -c "$py" 2>"$tmp/py.err") || status=1
  head -n 1 "$tmp/py.err"
  got_sql=$(LD_PRELOAD="$PWD/$lib" sqlite3 :memory: "$sql") || status=1
  if [ "$got_py" = "$ref_py" ]; then echo "python3: same output as glibc: $got_py"; else echo "python3: DIFFERENT: $got_py"; status=1; fi
  if [ "$got_sql" = "$ref_sql" ]; then echo "sqlite3: same output as glibc: $got_sql"; else echo "sqlite3: DIFFERENT: $got_sql"; status=1; fi
done
if [ "$status" -eq 0 ]; then
  echo "== Done: both attacks stopped by slabguard, real programs unchanged. Your own program: build/slabguard ./program"
else
  echo "== Something did not behave as described above"
fi
exit $status
