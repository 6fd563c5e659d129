#!/usr/bin/env bash
# tests/preload/python3.sh: CPython under LD_PRELOAD, with PYTHONMALLOC=malloc so that every
# object, not only the big ones, comes from malloc: dicts, lists, strings, bytearrays grown by
# realloc, and a part with 8 threads. Prints counts and a digest of everything it built. It
# first limits its own address space to 4 GiB (resource.setrlimit, after start-up: the arena
# had reserved 64 GiB by then, and before slabguard caught the call the next allocations
# failed with MemoryError).
. "$(dirname "$0")/common.bash"

PY=$(real_program python3)
if [ -z "$PY" ]; then echo "# skip python3: not installed"; exit 0; fi
export PY PYTHONMALLOC=malloc
cat >"$WORK/work.py" <<'PYEOF'
import collections, hashlib, json, random, re, resource, threading
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

rng = random.Random(12345)
h = hashlib.sha256()

d = {}
for i in range(150000):
    d["key%d" % rng.randrange(1000000)] = [i, str(i) * (i % 7), {"x": i, "y": (i, i + 1)}]
items = sorted(d.items())
h.update(json.dumps(items[::50]).encode())
for k in list(d)[::3]:
    del d[k]
h.update(str(len(d)).encode())

s = "".join(chr(97 + rng.randrange(26)) for _ in range(300000))
words = re.findall(r"[aeiou][^aeiou]{2,}", s)
h.update(repr(collections.Counter(words).most_common(40)).encode())
h.update(" ".join(sorted(set(words))).encode())

b = bytearray()
for i in range(20000):
    b += bytes([i % 251]) * (i % 300)
h.update(hashlib.md5(b).digest())

results = {}
def work(t):
    r = random.Random(t)
    local = {}
    chunks = []
    for i in range(30000):
        local[r.randrange(5000)] = "v" * r.randrange(300)
        if i % 100 == 0:
            chunks.append(bytes(r.randrange(100000)))
    results[t] = (sum(len(v) for v in local.values()), sum(len(c) for c in chunks))
threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
h.update(repr(sorted(results.items())).encode())

print(len(items), len(d), len(words), len(b))
print(sorted(results.items())[0])
print(h.hexdigest())
PYEOF
python_workload() { "$PY" "$WORK/work.py"; }
compare python3 python_workload
