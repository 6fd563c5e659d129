-- sqlite.sql: an insert / index / select workload for the sqlite3 shell, in memory.
-- The runner starts: sqlite3 :memory: ".parameter set @n ROWS" ".read bench/workloads/sqlite.sql"
-- Prints "check ..." lines: counts and sums that must be the same for every allocator, and
-- "index=ok" when every indexed lookup agrees with a full scan.
.mode list
.separator " "
PRAGMA cache_size = -262144;
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, payload TEXT);
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < @n)
INSERT INTO t SELECT i, (i * 7919) % 100003, printf('name-%08d', (i * 31) % 1000003),
                     printf('%0*d', 16 + i % 200, i) FROM c;
COMMIT;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_name ON t(name);
UPDATE t SET k = k + 1, payload = payload || 'u' WHERE id % 3 = 0;
DELETE FROM t WHERE id % 10 = 0;
CREATE TABLE g AS SELECT k % 1000 AS grp, count(*) AS cnt, max(name) AS top, group_concat(id) AS ids
  FROM t GROUP BY grp;
SELECT 'check rows', count(*), sum(k), sum(length(payload)) FROM t;
SELECT 'check groups', count(*), sum(cnt), sum(length(ids)) FROM g;
SELECT 'check index=' || CASE WHEN
    (SELECT count(*) FROM t WHERE k BETWEEN 1000 AND 60000) =
    (SELECT count(*) FROM t NOT INDEXED WHERE k BETWEEN 1000 AND 60000) AND
    (SELECT count(*) FROM t WHERE name >= 'name-0005' AND name < 'name-0007') =
    (SELECT count(*) FROM t NOT INDEXED WHERE name >= 'name-0005' AND name < 'name-0007')
  THEN 'ok' ELSE 'MISMATCH' END;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < @n / 2)
SELECT 'check lookups', sum((SELECT count(*) FROM t WHERE name = printf('name-%08d', (c.i * 37) % 1000003)))
  FROM c;
SELECT 'check join', count(*) FROM t JOIN g ON g.grp = t.k % 1000 WHERE t.id % 7 = 0;
