#!/usr/bin/env bash
# The drill's round trip at its seams (issue 13), on SQLite and, when the
# run started one (RIPCORD_TEST_PG), on PostgreSQL: every failing
# migration of a release is listed, in text and in --json, with the whole
# definitions of what differs (a view longer than any message buffer);
# one drill finds every bad down, not the first; the pass note counts what
# was really undone and redone; a migration with nothing to undo is
# round-tripped, not cut off as irreversible; and a PostgreSQL scratch
# database left by a drill killed with SIGKILL is dropped by the next
# drill, which never touches a database it did not record.
. "$(dirname "$0")/lib.sh"

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

m() { # m INDEX NAME UP [DOWN]: a golang-migrate migration (no DOWN: none)
  local f; f=db/migrations/$(printf %04d "$1")_$2
  mkdir -p db/migrations
  printf '%s\n' "$3" > "$f.up.sql"
  if [ $# -ge 4 ]; then printf '%s\n' "$4" > "$f.down.sql"; fi
}

# a view of 150 columns: its definition is far longer than 1,024 bytes
wide_view() {
  local cols="" i
  for i in $(seq 0 149); do cols="$cols, id + $i AS column_number_$(printf %04d "$i")"; done
  printf 'CREATE VIEW wide AS SELECT id%s FROM orders;' "$cols"
}

cut_release() { git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1; }

run_driver() {
  local driver=$1 t=$1 db_line="" drill_line=""
  local repo=$WORK/$driver
  mkdir -p "$repo" && cd "$repo" && git init -q .
  if [ "$driver" = postgres ]; then
    # the drill needs no [migrations] database: only a server to make
    # its scratch database on
    db_line="database = $RIPCORD_TEST_PG"
    drill_line=$(printf '[drill]\ndatabase = %s' "$RIPCORD_TEST_PG")
  else
    db_line="database = var/app.db"
  fi
  printf '[project]\nname = shop\n[migrations]\ndir = db/migrations\nformat = golang-migrate\ndriver = %s\n%s\n%s\n' \
    "$driver" "$db_line" "$drill_line" > ripcord.ini
  printf 'var/\n.ripcord/\n' > .gitignore
  m 1 create_orders "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL);" "DROP TABLE orders;"
  m 2 wide_view "$(wide_view)" "DROP VIEW wide;"
  cut_release r1
  check "$t: r1 cut" test -f .ripcord/artifacts/r1.tar.zst

  # r2: four bad downs among good migrations
  m 3 index_item "CREATE INDEX orders_item ON orders (item);" "-- forgets the index
SELECT 1;"
  m 4 notes "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);" "DROP TABLE notes;"
  m 5 narrow_view "DROP VIEW wide;
CREATE VIEW wide AS SELECT id, item FROM orders;" "DROP VIEW wide;
CREATE VIEW wide AS SELECT id FROM orders;"
  m 6 tags "CREATE TABLE tags (id INTEGER PRIMARY KEY);" "DROP TABLE no_such_table;"
  m 7 labels "CREATE TABLE labels (id INTEGER PRIMARY KEY);" "DROP TABLE labels;"
  m 8 audit "CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT);" "-- keeps audit
SELECT 1;"
  cut_release r2
  expect_exit 1 "$t: drill r2 fails" rc drill r2
  check "13.9: $t: every failing migration is printed, not the first alone" sh -c "
    grep -q '0003_index_item: down differs' '$WORK/last.out' &&
    grep -q '0005_narrow_view: down differs' '$WORK/last.out' &&
    grep -q '0006_tags: down failed' '$WORK/last.out' &&
    grep -q '0008_audit: down differs' '$WORK/last.out'"
  check "13.9: $t: each with the objects that differ" sh -c "
    grep -q 'index orders_item exists only after down' '$WORK/last.out' &&
    grep -q 'table audit exists only after down' '$WORK/last.out'"
  check "13.10: $t: the view's definition is printed whole" grep -q 'column_number_0149' "$WORK/last.out"
  check "13.10: $t: the count of failures is not lost" grep -qE '^r2 +FAIL .*round trip: 4 of 6 migrations failed' "$WORK/last.out"
  check "13.10b: $t: the drill went on past the first bad down to the last" grep -q '0008_audit: ' "$WORK/last.out"
  check "$t: the good migrations between the bad ones pass" sh -c "
    ! grep -qE '000[47]_[a-z]+: ' '$WORK/last.out'"
  check "$t: no scratch folder is left behind" sh -c "! ls -d '$TMPDIR'/ripcord-drill-* 2>/dev/null | grep -q ."

  expect_exit 1 "$t: drill r2 --json" rc --json drill r2
  check "13.9: $t: --json lists every failure, with both definitions" python3 -c "
import json
d = json.load(open('$WORK/last.out'))[0]
rt = d['round_trip']
f = rt['failures']
names = sorted({x['migration'] for x in f})
assert names == ['0003_index_item', '0005_narrow_view', '0006_tags', '0008_audit'], names
# 0004, 0005 (its up again still matched) and 0007 were undone and redone
assert rt['migrations'] == 6 and rt['checked'] == 3, rt
v = [x for x in f if x['migration'] == '0005_narrow_view' and x['phase'] == 'down'][0]
o = [x for x in v['objects'] if x['object'] == 'view wide'][0]
assert v['a'] == 'before up' and v['b'] == 'after down', v
assert 'column_number_0149' in o['a'] and len(o['a']) > 4000, o
assert 'column_number' not in o['b'], o
i = [x for x in f if x['migration'] == '0003_index_item' and x['phase'] == 'down'][0]
o = i['objects'][0]
assert o['object'] == 'index orders_item' and o['a'] is None and 'item' in o['b'], i
e = [x for x in f if x['migration'] == '0006_tags'][0]
assert e['phase'] == 'down' and 'no_such_table' in e['error'], e
"

  # r3: a placeholder and a no-op, with nothing to undo, between two
  # good migrations
  m 9 placeholder "-- ripcord:irreversible
-- kept so the numbers stay in step with the old tool"
  m 10 noop "-- nothing: the column came in 0004
;" "-- nothing to undo
;"
  m 11 flags "CREATE TABLE flags (id INTEGER PRIMARY KEY);" "DROP TABLE flags;"
  m 12 nothing "-- nothing to do here" "-- nor to undo"
  cut_release r3
  check "13.10c: $t: an up and a down of comments alone are accepted without an irreversible entry" test -f .ripcord/artifacts/r3.tar.zst
  expect_exit 0 "$t: drill r3 passes" rc drill r3
  err_has "$t: the pass note counts what was undone and redone" "4 migrations undone and redone"
  expect_exit 0 "$t: drill r3 --json" rc --json drill r3
  check "13.10c: $t: a migration with nothing to undo is round-tripped, not cut off as irreversible" python3 -c "
import json
rt = json.load(open('$WORK/last.out'))[0]['round_trip']
assert rt['migrations'] == 4 and rt['checked'] == 4 and rt['up_only'] == 0, rt
assert rt['floor'] is None and rt['release_checked'], rt
"
  # a real irreversible migration is counted out of the note
  m 13 backfill "-- ripcord:irreversible
CREATE TABLE archive (id INTEGER PRIMARY KEY);"
  cut_release r4
  expect_exit 0 "$t: drill r4 passes" rc drill r4
  err_has "13.10b: $t: an irreversible one is not counted as round-tripped" "0 of 1 migrations undone and redone"
  cd "$WORK" || return
}

# leftovers: a drill killed with SIGKILL on PostgreSQL
run_killed() {
  local repo=$WORK/killed pid name decoy=ripcord_drill_00000000deadbeef
  pg() { psql "$RIPCORD_TEST_PG" -XAtqc "$1" 2>/dev/null; }
  mkdir -p "$repo" && cd "$repo" && git init -q .
  printf '[project]\nname = shop\n[migrations]\ndir = db/migrations\nformat = golang-migrate\ndriver = postgres\ndatabase = %s\n[drill]\ndatabase = %s\n' \
    "$RIPCORD_TEST_PG" "$RIPCORD_TEST_PG" > ripcord.ini
  printf '.ripcord/\n' > .gitignore
  m 1 create_orders "CREATE TABLE orders (id INTEGER PRIMARY KEY);" "DROP TABLE orders;"
  cut_release k1
  m 2 slow "SELECT pg_sleep(60);
CREATE TABLE slow (id INTEGER PRIMARY KEY);" "DROP TABLE slow;"
  cut_release k2
  pg "DROP DATABASE IF EXISTS $decoy" && pg "CREATE DATABASE $decoy"
  "$RIPCORD" drill k2 >/dev/null 2>&1 & pid=$!
  # the scratch database is the one whose session sleeps in 0013's up
  name=""
  for _ in $(seq 1 300); do
    name=$(pg "SELECT datname FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid() LIMIT 1")
    [ -n "$name" ] && break
    sleep 0.1
  done
  kill -KILL "$pid"; wait "$pid" 2>/dev/null
  check "postgres: the killed drill left its scratch database behind" test -n "$name" -a -n "$(pg "SELECT 1 FROM pg_database WHERE datname = '$name'")"
  expect_exit 0 "postgres: the next drill passes" rc drill k1
  err_has "13.13: postgres: the next drill says it dropped the leftover" "dropped the scratch database '$name'"
  check "13.13: postgres: the leftover of the killed drill is gone" test -n "$name" -a -z "$(pg "SELECT 1 FROM pg_database WHERE datname = '$name'")"
  check "postgres: a database no drill recorded is left alone" test "$(pg "SELECT count(*) FROM pg_database WHERE datname = '$decoy'")" = 1
  check "13.13: postgres: nothing recorded is left in state.db" test "$(sqlite3 .ripcord/state.db 'SELECT count(*) FROM drill_scratch')" = 0
  pg "DROP DATABASE IF EXISTS $decoy"
  [ -n "$name" ] && pg "DROP DATABASE IF EXISTS $name WITH (FORCE)"
}

run_driver sqlite
if [ -n "${RIPCORD_TEST_PG:-}" ]; then
  # a server of its own: the drills here make ripcord_drill_* databases,
  # and test_roundtrip counts those on the shared server
  PGDIR=$(mktemp -d /tmp/ripcord-seam-pg-XXXXXX)
  trap '"$SOURCE_ROOT/tests/pg.sh" stop "$PGDIR" >/dev/null 2>&1; rm -rf "$PGDIR" "$WORK"' EXIT
  RIPCORD_TEST_PG=$("$SOURCE_ROOT/tests/pg.sh" start "$PGDIR" 2>"$WORK/pg.log") ||
    not_ok "postgres: a server of its own" "$(cat "$WORK/pg.log")"
fi
if [ -n "${RIPCORD_TEST_PG:-}" ]; then
  run_driver postgres
  run_killed
fi
done_testing
