#!/usr/bin/env bash
# node: Node.js with a bigger load on its malloc users: many Buffers of all sizes, zlib (gzip,
# deflate, brotli) streams, crypto hashes and ciphers, JSON, strings, and worker threads that
# send buffers to the main thread.
. "$(dirname "$0")/../../preload/common.bash"
NODE=$(command -v node || command -v nodejs || true)
[ -n "$NODE" ] || { echo "# skip node: not installed"; exit 0; }
export NODE
cat >"$WORK/work.js" <<'JSEOF'
const crypto = require("crypto"), zlib = require("zlib");
const { Worker, isMainThread, parentPort, workerData } = require("worker_threads");
function rng(seed) { let x = seed; return () => (x = (x * 1103515245 + 12345) % 2147483648); }
if (!isMainThread) {
    const next = rng(workerData), h = crypto.createHash("sha1");
    for (let i = 0; i < 3000; i++) {
        const b = Buffer.alloc(next() % 30000, i % 251);
        h.update(zlib.deflateSync(b));
        if (i % 100 === 0) parentPort.postMessage(b);
    }
    parentPort.postMessage(h.digest("hex"));
    return;
}
const next = rng(1), h = crypto.createHash("sha256");
const workers = [1, 2, 3].map(seed => new Promise(resolve => {
    const w = new Worker(__filename, { workerData: seed });
    let bytes = 0, digest = "";
    w.on("message", m => { if (typeof m === "string") digest = m; else bytes += m.length; });
    w.on("exit", code => resolve([seed, code, bytes, digest]));
}));
const bufs = [];
for (let i = 0; i < 20000; i++) {
    bufs.push(Buffer.alloc(next() % 9000, i % 256));
    if (bufs.length > 500) bufs.splice(next() % bufs.length, 1);
}
const big = Buffer.concat(bufs);
h.update(zlib.gunzipSync(zlib.gzipSync(big)));
h.update(zlib.brotliDecompressSync(zlib.brotliCompressSync(big.subarray(0, 2000000))));
const key = crypto.createHash("sha256").update("k").digest(), iv = Buffer.alloc(16, 1);
const c = crypto.createCipheriv("aes-256-cbc", key, iv);
const enc = Buffer.concat([c.update(big), c.final()]);
const d = crypto.createDecipheriv("aes-256-cbc", key, iv);
h.update(Buffer.concat([d.update(enc), d.final()]));
const objs = [];
for (let i = 0; i < 100000; i++) objs.push({ i, s: "x".repeat(next() % 30), a: [x => x, i % 7] });
const json = JSON.stringify(objs);
h.update(json);
Promise.all(workers).then(ws => {
    for (const w of ws) console.log(w.join(" "));
    console.log(big.length, enc.length, json.length);
    console.log(h.digest("hex"));
});
JSEOF
node_workload() { "$NODE" "$WORK/work.js"; }
compare node node_workload
