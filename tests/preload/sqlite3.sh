#!/usr/bin/env bash
# tests/preload/sqlite3.sh: the sqlite3 shell under LD_PRELOAD: create a table, insert 20000
# rows one statement at a time in a transaction, index it, update and delete, then aggregate.
. "$(dirname "$0")/common.bash"

SQLITE=$(real_program sqlite3)
if [ -z "$SQLITE" ]; then echo "# skip sqlite3: not installed"; exit 0; fi
export SQLITE
sqlite_workload() {
    awk 'BEGIN {
        print "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INT, val REAL, data BLOB);"
        print "BEGIN;"
        x = 1
        for (i = 1; i <= 20000; i++) {
            x = (x * 1103515245 + 12345) % 2147483648
            printf "INSERT INTO t VALUES(%d, '\''name-%d-%s'\'', %d, %d.%d, zeroblob(%d));\n",
                   i, x % 100000, substr("abcdefghijklmnopqrstuvwxyz", x % 26 + 1, x % 7 + 1),
                   x % 97, x % 1000, i % 10, x % 700
        }
        print "COMMIT;"
    }' >load.sql
    "$SQLITE" test.db <load.sql || return 1
    "$SQLITE" test.db <<'SQL'
CREATE INDEX t_name ON t(name);
CREATE INDEX t_grp_val ON t(grp, val);
UPDATE t SET val = val * 2 WHERE grp % 3 = 0;
DELETE FROM t WHERE id % 11 = 0;
SELECT count(*), sum(val), min(name), max(name), sum(length(data)) FROM t;
SELECT grp, count(*), round(sum(val), 2), min(name), max(name) FROM t GROUP BY grp ORDER BY grp;
SELECT name, id FROM t WHERE name LIKE 'name-9%' ORDER BY name, id LIMIT 20;
SELECT group_concat(name, ',') FROM (SELECT name FROM t ORDER BY name DESC LIMIT 200);
WITH r AS (SELECT grp, val, row_number() OVER (PARTITION BY grp ORDER BY val DESC, id) AS k FROM t)
  SELECT grp, val FROM r WHERE k <= 2 ORDER BY grp, val;
PRAGMA integrity_check;
VACUUM;
SELECT count(*) FROM t;
SQL
}
compare sqlite3 sqlite_workload
