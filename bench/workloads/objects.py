"""objects.py: an object-heavy Python program for the allocator benchmark.

Run with PYTHONMALLOC=malloc (the runner does) so that every object comes from the allocator
under test rather than from pymalloc's arenas. Builds records (dicts, lists, tuples, strings,
class instances), indexes, sorts and joins them, drops half, rebuilds a tree, and prints
"check <n>": a checksum computed without hash() or set order, so it is the same in every run.
The program also checks itself: every structure is summed two ways.
Usage: python3 objects.py [records=200000]
"""
import sys


class Node:
    def __init__(self, key, left, right):
        self.key = key
        self.left = left
        self.right = right


def build(lo, hi):
    if lo >= hi:
        return None
    mid = (lo + hi) // 2
    return Node(mid, build(lo, mid), build(mid + 1, hi))


def walk(node):
    total, stack = 0, [node]
    while stack:
        n = stack.pop()
        if n is not None:
            total += n.key
            stack.append(n.left)
            stack.append(n.right)
    return total


def fail(what):
    sys.stderr.write("bench: objects.py: %s\n" % what)
    sys.exit(1)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    check = 0

    # Records: a dict per row with a list, a tuple and strings in it.
    rows = []
    for i in range(n):
        rows.append({"id": i, "name": "item-%07d" % i, "tags": [i % 7, i % 11, i % 13],
                     "pos": (i * 0.5, -i), "note": "x" * (i % 40)})
    by_name = {r["name"]: r for r in rows}
    if sum(r["id"] for r in by_name.values()) != n * (n - 1) // 2:
        fail("index lost records")

    # Sort by a computed key, group, join strings.
    rows.sort(key=lambda r: (r["tags"][2], -r["id"]))
    groups = {}
    for r in rows:
        groups.setdefault(r["tags"][0], []).append(r["name"])
    joined = ",".join(",".join(g) for _, g in sorted(groups.items()))
    if joined.count(",") != n - 1:
        fail("join lost names")
    check = (check * 31 + len(joined)) % (1 << 61)

    # Drop every other record, then rebuild strings from the survivors.
    for r in rows[::2]:
        del by_name[r["name"]]
    del rows[::2]
    words = [r["name"].split("-")[1] + r["note"] for r in rows]
    total = sum(int(w.rstrip("x")) for w in words)
    if total != sum(r["id"] for r in rows):
        fail("words do not match the survivors")
    check = (check * 31 + total) % (1 << 61)

    # A balanced tree of class instances, walked and dropped, twice.
    for _ in range(2):
        tree = build(0, n // 2)
        t = walk(tree)
        if t != (n // 2) * (n // 2 - 1) // 2:
            fail("tree walk sum")
        del tree
        check = (check * 31 + t) % (1 << 61)

    # Many short-lived tuples and small lists.
    acc = 0
    for i in range(n):
        pair = (i, [i, i + 1])
        acc += pair[1][1] - pair[0]
    if acc != n:
        fail("temporaries")
    check = (check * 31 + acc + len(by_name)) % (1 << 61)
    print("check %d" % check)


main()
