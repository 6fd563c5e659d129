#!/usr/bin/env bash
# tests/preload/node.sh: Node.js under LD_PRELOAD (V8 keeps its own heap, but buffers, the
# parser, zlib and libuv use malloc): objects, Maps, JSON, Buffers, zlib and a SHA-256 digest.
. "$(dirname "$0")/common.bash"

NODE=$(command -v node || command -v nodejs || true)
if [ -z "$NODE" ]; then echo "# skip node: not installed (apt-get install nodejs)"; exit 0; fi
export NODE
node_workload() {
    "$NODE" -e '
        const crypto = require("crypto"), zlib = require("zlib");
        const h = crypto.createHash("sha256");
        let x = 1;
        const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
        const m = new Map(), objs = [];
        for (let i = 0; i < 200000; i++) {
            m.set("k" + (next() % 50000), "v".repeat(x % 40));
            if (i % 10 === 0) objs.push({ id: i, tags: [x % 7, x % 11], name: "n" + x });
        }
        const json = JSON.stringify(objs);
        const back = JSON.parse(json);
        h.update(json);
        const bufs = [];
        for (let i = 0; i < 2000; i++) bufs.push(Buffer.alloc(next() % 70000, i % 256));
        const big = Buffer.concat(bufs);
        const z = zlib.gzipSync(big, { level: 6 });
        h.update(zlib.gunzipSync(z));
        h.update([...m.keys()].sort().join(","));
        console.log(m.size, back.length, big.length);
        console.log(h.digest("hex"));
    '
}
compare node node_workload
