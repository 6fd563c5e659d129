#!/usr/bin/env bash
# python-threads: a threaded CPython workload (PYTHONMALLOC=malloc): 12 threads build and drop
# dicts, lists, strings and bytes; producer/consumer queues hand objects from the thread that
# allocated them to another that frees them; a ThreadPoolExecutor runs json/zlib/re tasks.
. "$(dirname "$0")/../../preload/common.bash"
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "# skip python-threads: /usr/bin/python3 missing"; exit 0; }
export PY PYTHONMALLOC=malloc
cat >"$WORK/threads.py" <<'PYEOF'
import concurrent.futures, hashlib, json, queue, random, re, threading, zlib

results = {}
lock = threading.Lock()

def churn(t):
    r = random.Random(t)
    live = {}
    total = 0
    for i in range(60000):
        k = r.randrange(3000)
        kind = i % 4
        if kind == 0:
            live[k] = {"i": i, "s": "x" * r.randrange(200), "l": list(range(r.randrange(50)))}
        elif kind == 1:
            live[k] = bytearray(r.randrange(1, 20000))
        elif kind == 2:
            live[k] = "".join(chr(97 + (i + j) % 26) for j in range(r.randrange(64)))
        else:
            total += len(live.pop(k, ()))
    with lock:
        results[("churn", t)] = (len(live), total)

def producer(q, t, n):
    r = random.Random(100 + t)
    for i in range(n):
        q.put([bytes(r.randrange(4096)), {"p": t, "i": i}, "s%d" % i * (i % 9)])
    q.put(None)

def consumer(q, t):
    h = hashlib.sha256()
    count = 0
    while True:
        item = q.get()
        if item is None:
            break
        h.update(item[0]); h.update(item[2].encode()); count += 1
        del item
    with lock:
        results[("consumer", t)] = (count, h.hexdigest()[:16])

def task(n):
    r = random.Random(n)
    doc = [{"id": i, "v": [r.random() for _ in range(10)], "t": "w%d" % r.randrange(999)} for i in range(300)]
    s = json.dumps(doc, sort_keys=True)
    z = zlib.compress(s.encode(), 6)
    back = json.loads(zlib.decompress(z))
    return (len(back), len(re.findall(r'"w\d+7"', s)), hashlib.md5(s.encode()).hexdigest()[:12])

threads = [threading.Thread(target=churn, args=(t,)) for t in range(6)]
queues = [queue.Queue(maxsize=64) for _ in range(3)]
for t, q in enumerate(queues):
    threads.append(threading.Thread(target=producer, args=(q, t, 15000)))
    threads.append(threading.Thread(target=consumer, args=(q, t)))
for th in threads:
    th.start()
with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
    pool = list(ex.map(task, range(200)))
for th in threads:
    th.join()
for k in sorted(results):
    print(k, results[k])
print(len(pool), hashlib.sha256(repr(pool).encode()).hexdigest())
PYEOF
threads_workload() { "$PY" "$WORK/threads.py"; }
compare python-threads threads_workload
