#!/usr/bin/env bash
# What a drill's fingerprints compare (issue 13, findings 11 and 12), end
# to end: on SQLite a down that forgets a CHECK (a table rebuilt without
# it) or brings a partial index back with another WHERE fails the drill,
# naming the table and the constraint or the index; in non-strict mode a
# down that only changes a view's column order passes, and on PostgreSQL
# (RIPCORD_TEST_PG) so does one whose views and defaults froze "now" when
# they were created ('now'::timestamp written into the definition).
. "$(dirname "$0")/lib.sh"

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

# mig N NAME UP DOWN: writes db/migrations/000N_NAME.{up,down}.sql
mig() {
  printf '%s\n' "$3" > "db/migrations/000$1_$2.up.sql"
  printf '%s\n' "$4" > "db/migrations/000$1_$2.down.sql"
}
# release ID: commits and cuts it
release() { git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1; }

# ---- SQLite -------------------------------------------------------------
repo=$WORK/sq
mkdir -p "$repo/db/migrations" && cd "$repo" && git init -q .
printf '[project]\nname = shop\n[migrations]\ndir = db/migrations\ndriver = sqlite\ndatabase = var/shop.db\n' > ripcord.ini
printf 'var/\n.ripcord/\n' > .gitignore
mig 1 orders "CREATE TABLE orders (id INTEGER PRIMARY KEY, qty INTEGER CONSTRAINT qty_positive CHECK (qty > 0), created TEXT);
CREATE INDEX orders_big ON orders (qty) WHERE qty > 10;
CREATE VIEW big_orders AS SELECT id, qty FROM orders WHERE qty > 10 AND created > '2020-01-01';" \
  "DROP VIEW big_orders; DROP TABLE orders;"
release r1
# r2: the down rebuilds the table (to drop a column) and forgets the CHECK
mig 2 note "ALTER TABLE orders ADD COLUMN note TEXT;" \
  "DROP VIEW big_orders;
CREATE TABLE orders_new (id INTEGER PRIMARY KEY, qty INTEGER, created TEXT);
INSERT INTO orders_new SELECT id, qty, created FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_big ON orders (qty) WHERE qty > 10;
CREATE VIEW big_orders AS SELECT id, qty FROM orders WHERE qty > 10 AND created > '2020-01-01';"
release r2
# r3: the down brings the partial index back with another WHERE
mig 3 big_index "DROP INDEX orders_big; CREATE INDEX orders_big ON orders (qty, id) WHERE qty > 10;" \
  "DROP INDEX orders_big; CREATE INDEX orders_big ON orders (qty) WHERE qty > 1;"
release r3
# r4: the down brings the view back with its columns in another order
mig 4 view_note "DROP VIEW big_orders; CREATE VIEW big_orders AS SELECT id, qty, note FROM orders WHERE qty > 10 AND created > '2020-01-01';" \
  "DROP VIEW big_orders; CREATE VIEW big_orders AS SELECT qty, id FROM orders WHERE qty > 10 AND created > '2020-01-01';"
release r4
# r5: the down changes a literal date in the view: not a frozen "now"
mig 5 view_date "DROP VIEW big_orders; CREATE VIEW big_orders AS SELECT id, qty FROM orders WHERE qty > 10 AND created > '2021-06-01';" \
  "DROP VIEW big_orders; CREATE VIEW big_orders AS SELECT id, qty FROM orders WHERE qty > 10 AND created > '2020-01-02';"
release r5
check "five releases cut" test "$(rc releases | grep -cE '^r[1-5] ')" -eq 5

expect_exit 1 "13.12: a down that rebuilds a table without its CHECK fails the drill" rc drill r2
check "13.12: the failure names the migration, the table and the CHECK" \
  sh -c "grep -qE '^r2 +FAIL .*0002_note' '$WORK/last.out' && grep -q 'check orders.qty_positive' '$WORK/last.out' '$WORK/last.err'"
expect_exit 1 "13.12: a down that brings a partial index back with another WHERE fails the drill" rc drill r3
check "13.12: the failure names the index" grep -q "orders_big" "$WORK/last.out"
expect_exit 0 "13.11: a down that only changes a view's column order passes (strict = no)" rc drill r4
expect_exit 1 "a down that changes a literal date in a view still fails" rc drill r5
check "naming the view" grep -q "big_orders" "$WORK/last.out"
printf '[drill]\nstrict = yes\n' >> ripcord.ini
expect_exit 1 "with strict = yes the view's column order counts" rc drill r4

# ---- PostgreSQL ---------------------------------------------------------
if [ -z "${RIPCORD_TEST_PG:-}" ]; then
  ok "# SKIP postgres: RIPCORD_TEST_PG is not set (scripts/test starts a server)"
  done_testing; exit
fi
repo=$WORK/pg
mkdir -p "$repo/db/migrations" && cd "$repo" && git init -q .
db=ripcord_it_seam_fp_$$
psql "$RIPCORD_TEST_PG" -Xqc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
trap 'psql "$RIPCORD_TEST_PG" -Xqc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
PGURL=$(printf '%s' "$RIPCORD_TEST_PG" | sed "s/dbname=[^ ]*/dbname=$db/")
printf '[project]\nname = shop\n[migrations]\ndir = db/migrations\ndriver = postgres\ndatabase = %s\n[drill]\ndatabase = %s\n' \
  "$PGURL" "$RIPCORD_TEST_PG" > ripcord.ini
printf '.ripcord/\n' > .gitignore
mig 1 orders "CREATE TABLE orders (id integer PRIMARY KEY, qty integer, note text);
CREATE VIEW v AS SELECT *, 'now'::timestamp AS built, 'today'::date AS day FROM orders;" \
  "DROP VIEW v; DROP TABLE orders;"
release p1
# the down puts qty back at the end, so v's SELECT * has another order, and
# every view and default written with 'now' is frozen anew
mig 2 stamped "DROP VIEW v; ALTER TABLE orders DROP COLUMN qty;
ALTER TABLE orders ADD COLUMN stamped timestamptz DEFAULT 'now', ADD COLUMN since date DEFAULT 'today';
CREATE VIEW v AS SELECT *, 'now'::timestamp AS built, 'today'::date AS day FROM orders;" \
  "DROP VIEW v; ALTER TABLE orders DROP COLUMN stamped, DROP COLUMN since;
ALTER TABLE orders ADD COLUMN qty integer;
CREATE VIEW v AS SELECT *, 'now'::timestamp AS built, 'today'::date AS day FROM orders;"
release p2
expect_exit 0 "13.11: postgres: a correct down whose views and defaults froze 'now' passes the drill" rc drill p2
check "postgres: the production database was not touched" \
  test "$(psql "$PGURL" -XAtqc "SELECT count(*) FROM pg_class WHERE relname = 'orders'")" = 0
done_testing
