#!/usr/bin/env bash
# sqlite3: the sqlite3 shell runs a bigger script: 200000 rows from a recursive CTE, indexes,
# joins, GROUP BY, window functions, JSON, a transaction rolled back, UPDATE/DELETE, VACUUM and
# an integrity check, on a file database with a small page cache (more malloc traffic).
. "$(dirname "$0")/../../preload/common.bash"
SQLITE=$(real_program sqlite3)
[ -n "$SQLITE" ] || { echo "# skip sqlite3: not installed"; exit 0; }
export SQLITE
sqlite_workload() {
    "$SQLITE" -batch -bail big.db <<'SQL'
PRAGMA cache_size = 200;
PRAGMA journal_mode = WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, payload BLOB, score REAL);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200000)
INSERT INTO t SELECT i, (i * 7919) % 997, 'name-' || ((i * 104729) % 50000),
    zeroblob((i * 31) % 700), ((i * 2654435761) % 100000) / 100.0 FROM c;
CREATE INDEX t_grp ON t(grp);
CREATE INDEX t_name ON t(name, score);
CREATE TABLE g(grp INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 996)
INSERT INTO g SELECT i, printf('group %04d %s', i, substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26)) FROM c;
SELECT count(*), sum(length(payload)), round(avg(score), 4) FROM t;
SELECT g.label, count(*), round(sum(t.score), 2) FROM t JOIN g USING(grp)
    GROUP BY g.label ORDER BY 3 DESC, 1 LIMIT 10;
SELECT name, count(*) AS n FROM t GROUP BY name HAVING n > 4 ORDER BY n DESC, name LIMIT 10;
SELECT id, grp, rank() OVER (PARTITION BY grp ORDER BY score DESC, id) AS r FROM t
    WHERE grp < 3 ORDER BY grp, r LIMIT 15;
SELECT json_group_array(json_object('id', id, 'n', name)) FROM (SELECT id, name FROM t WHERE grp = 5 ORDER BY id LIMIT 20);
BEGIN; DELETE FROM t WHERE grp % 2 = 0; SELECT count(*) FROM t; ROLLBACK;
UPDATE t SET name = name || '-' || printf('%08d', id), payload = zeroblob(length(payload) * 2) WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), sum(length(name)), sum(length(payload)) FROM t;
SELECT group_concat(name, ',') FROM (SELECT name FROM t WHERE id BETWEEN 1000 AND 1030 ORDER BY name);
PRAGMA wal_checkpoint(TRUNCATE);
VACUUM;
PRAGMA integrity_check;
SELECT count(*) FROM t INDEXED BY t_name WHERE name > 'name-4';
SQL
}
compare sqlite3 sqlite_workload
