#!/usr/bin/env bash
# Aborts and rollbacks by schema phase, on the quickstart app with its
# SQLite database: a rollout of a release with an expand up (a new column)
# is aborted by a failing gate after its canary wrote rows into that
# column. With abort_schema = keep (the default) the code goes back and
# every row and the column stay, readable by the old code, and it says
# "lossless"; with --schema-down the down runs. A rollback across a
# contract migration that ran (orders.qty dropped) is refused without
# --accept-data-loss, naming the column, and changes nothing; with it, it
# runs and the audit entry says so; [rollback] schema = keep runs no down.
# An abort killed mid-way (--keep-schema against abort_schema = down) is
# finished by `rollout resume` with the choice it began with.
. "$(dirname "$0")/lib.sh"

shop_fleet 1
cat >> "$WORK/base.ini" <<INI
[rollout]
steps = 100%
bake = 400ms
probe_interval = 100ms
probe_timeout = 1s
min_samples = 2
compare_baseline = no
gate_command = hooks/gate
INI
cp "$WORK/base.ini" ripcord.ini
db=$repo/var/shop.db
q() { sqlite3 "$db" "$1" 2>&1; }
runs() { readlink targets/web-1/current | sed 's|releases/||'; }
applied() { q "SELECT group_concat(version || '_' || name, ' ') FROM (SELECT * FROM ripcord_migrations ORDER BY version)"; }
release() { # id
  printf '%s\n' "$1" > VERSION
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1 &&
    rc -q drill "$1" >/dev/null 2>&1
}

# the canary: each gate round writes an order that uses the new column, and
# the gate fails once the canary has written two
mkdir -p hooks
cat > hooks/gate <<SH
#!/bin/sh
sqlite3 "$db" "INSERT INTO orders (item, email) VALUES ('canary', 'c@example.invalid')" || exit 2
n=\$(sqlite3 "$db" "SELECT count(*) FROM orders WHERE email IS NOT NULL")
[ "\$n" -ge 2 ] && { echo "canary error budget burnt"; exit 1; }
exit 0
SH
chmod +x hooks/gate

release v1
printf 'ALTER TABLE orders ADD COLUMN email TEXT;\n' > db/migrations/0003_add_email.up.sql
printf 'ALTER TABLE orders DROP COLUMN email;\n' > db/migrations/0003_add_email.down.sql
release v2
check "v1 and v2 are cut and drilled" sh -c "\"\$RIPCORD\" releases | grep -q v2"
rc -q deploy v1 >/dev/null 2>&1
python3 "targets/web-1/current/server.py" "$port1" "$repo/targets/web-1/current" >/dev/null 2>&1 & srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port1/" && break; sleep 0.1; done
q "INSERT INTO orders (item) VALUES ('before')" >/dev/null

# ---- abort, schema kept -------------------------------------------------
expect_exit 1 "a rollout of v2 is aborted by its failing gate" rc rollout start v2
check "web-1 runs v1 again" test "$(runs)" = v1
check "the expand migration stays applied" test "$(applied)" = "0001_create_orders 0002_add_status 0003_add_email"
check "every row the canary wrote is still there, with its email" test "$(q "SELECT count(*) FROM orders WHERE item = 'canary' AND email = 'c@example.invalid'")" -ge 2
check "the old code's query reads every row" test "$(q "SELECT count(*) FROM orders WHERE id > 0 AND qty = 1 AND status = 'new'")" -ge 3
check "the abort says lossless, kept at 0003_add_email" grep -q "lossless (schema kept at 0003_add_email, 1 expand migration)" "$WORK/last.out"
rc rollout status --json > "$WORK/st.json" 2>&1
check "rollout status --json: the undone schema is keep, lossless, kept 0003_add_email" python3 - "$WORK/st.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def find(o):
    if isinstance(o, dict):
        if "undone" in o: return o["undone"]
        for v in o.values():
            r = find(v)
            if r: return r
    return None
u = find(d)
s = u["schema"]
assert s["mode"] == "keep" and s["lossless"] is True, s
assert s["kept"] == ["0003_add_email"] and s["downs"] == [], s
assert "lossless (schema kept at 0003_add_email" in u["summary"], u
PY
rc log --json > "$WORK/log.json" 2>&1
check "the audit entry says the schema was kept" grep -q "schema kept (lossless): 0003_add_email" "$WORK/log.json"
expect_exit 0 "a later deploy of v2 plans no up: its ups are applied" rc deploy v2 --dry-run
check "(no migrate up in the plan)" sh -c "! grep -q 'migrate up' '$WORK/last.out'"

# ---- abort, schema down ---------------------------------------------------
rc -q migrate down --to v1 >/dev/null 2>&1
check "(back at v1's schema for the next rollout)" test "$(applied)" = "0001_create_orders 0002_add_status"
q "DELETE FROM orders WHERE item = 'canary'" >/dev/null
expect_exit 1 "a rollout of v2 with --schema-down is aborted by its gate" rc rollout start v2 --schema-down --json
check "web-1 runs v1 again" test "$(runs)" = v1
check "the down ran: 0003_add_email is undone" test "$(applied)" = "0001_create_orders 0002_add_status"
check "and the email column is gone" sh -c "! sqlite3 '$db' 'SELECT email FROM orders' 2>/dev/null"
check "--json: the aborted event's schema is down, downs 0003_add_email" python3 - "$WORK/last.out" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "aborted":
        s = e["schema"]
        assert s["mode"] == "down" and s["downs"] == ["0003_add_email"], s
        assert s["lossless"] is True and s["data_loss"] == [], s
        break
else:
    raise SystemExit("no aborted event")
PY
expect_exit 2 "--keep-schema and --schema-down together are a usage error" rc rollout start v2 --keep-schema --schema-down

# `rollout abort --schema-down` of a rollout another process runs: the
# flag travels in the request, and that process's abort runs the down
sed '/^gate_command/d; s/^bake = .*/bake = 60s/' "$WORK/base.ini" > ripcord.ini
"$RIPCORD" rollout start v2 >"$WORK/bg.out" 2>&1 & bg=$!
for _ in $(seq 1 100); do test "$(runs)" = v2 && break; sleep 0.1; done
check "(the rollout of v2 runs its step, 0003_add_email applied)" test "$(applied)" = "0001_create_orders 0002_add_status 0003_add_email"
expect_exit 0 "rollout abort --schema-down asks the running process" rc rollout abort --schema-down
wait $bg
check "web-1 runs v1 again" test "$(runs)" = v1
check "that process ran the down the asker chose" test "$(applied)" = "0001_create_orders 0002_add_status"
check "and its abort said so" grep -q "downs run: 1 (0003_add_email)" "$WORK/bg.out"
cp "$WORK/base.ini" ripcord.ini

# ---- a rollback across a contract migration that ran --------------------
printf -- '-- ripcord: contract\nALTER TABLE orders DROP COLUMN qty;\n' > db/migrations/0004_drop_qty.up.sql
printf 'ALTER TABLE orders ADD COLUMN qty INTEGER NOT NULL DEFAULT 1;\n' > db/migrations/0004_drop_qty.down.sql
release v3
rc -q deploy v2 >/dev/null 2>&1
rc -q deploy v3 >/dev/null 2>&1
rc -q migrate up v3 >/dev/null 2>&1
check "v3 runs with its contract applied (orders.qty dropped)" sh -c "test '$(runs)' = v3 && ! sqlite3 '$db' 'SELECT qty FROM orders' 2>/dev/null"
check "(and 0004_drop_qty recorded)" test "$(applied)" = "0001_create_orders 0002_add_status 0003_add_email 0004_drop_qty"

# [rollback] schema = keep: no down, across the contract too
printf '[rollback]\nschema = keep\n' >> ripcord.ini
expect_exit 0 "rollback with [rollback] schema = keep" rc rollback
check "web-1 runs v2" test "$(runs)" = v2
check "no down ran: every migration is still applied" test "$(applied)" = "0001_create_orders 0002_add_status 0003_add_email 0004_drop_qty"
check "it says lossless, kept at 0004_drop_qty (a contract)" grep -q "lossless (schema kept at 0004_drop_qty, 1 contract migration)" "$WORK/last.out"
cp "$WORK/base.ini" ripcord.ini
rc -q deploy v3 >/dev/null 2>&1
check "(v3 again, schema unchanged)" sh -c "test '$(runs)' = v3 && test '$(applied)' = '0001_create_orders 0002_add_status 0003_add_email 0004_drop_qty'"

sqlite3 .ripcord/state.db "SELECT count(*) FROM switches" > "$WORK/sw.dry"
cp "$db" "$WORK/db.dry"
expect_exit 1 "rollback --dry-run exits as the rollback would: refused (exit 1)" rc rollback --dry-run
err_has "with the rollback's refusal" "refusing the rollback to v2: its downs undo 1 contract migration that ran and cannot bring the data back (orders.qty: its data was dropped by 0004_drop_qty"
check "the whole plan printed all the same" grep -q "migrate down" "$WORK/last.out"
check "names the data loss: orders.qty, by 0004_drop_qty" grep -q "data loss: orders.qty: its data was dropped by 0004_drop_qty (contract) and the down only re-creates the column empty" "$WORK/last.out"
check "and the flag it needs" grep -q -- "--accept-data-loss" "$WORK/last.out"
expect_exit 1 "rollback --dry-run --json: refused (exit 1)" rc rollback --dry-run --json
check "--json: schema.data_loss names orders.qty, lossless false; ok false" python3 -c "
import json,sys; d=json.load(open('$WORK/last.out')); s=d['schema']
assert d['dry_run'] is True and d['ok'] is False, d
assert s['mode']=='down' and s['lossless'] is False, s
assert s['data_loss'][0]['object']=='orders.qty' and s['data_loss'][0]['migration']=='0004_drop_qty', s
assert s['downs']==['0004_drop_qty'], s"
expect_exit 0 "rollback --dry-run --accept-data-loss: it would run (exit 0)" rc rollback --dry-run --accept-data-loss
check "the same plan, the same data-loss lines" sh -c "grep -q 'migrate down' '$WORK/last.out' && grep -q 'data loss: orders.qty' '$WORK/last.out' && ! grep -q 'refusing' '$WORK/last.err'"
expect_exit 0 "rollback --dry-run --accept-data-loss --json" rc rollback --dry-run --accept-data-loss --json
check "--json: ok, the loss listed" python3 -c "
import json; d=json.load(open('$WORK/last.out'))
assert d['dry_run'] is True and d['ok'] is True and d['schema']['data_loss'][0]['object']=='orders.qty', d"
check "the dry runs changed nothing: web-1 on v3, the database the same" sh -c "test '$(runs)' = v3 && cmp -s '$db' '$WORK/db.dry'"
check "... and no switch recorded" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM switches")" = "$(cat "$WORK/sw.dry")"

expect_exit 0 "rollback --dry-run --keep-schema" rc rollback --dry-run --keep-schema
check "says lossless, runs no down, and lists what stays" sh -c "grep -q '^schema: lossless (schema kept at 0004_drop_qty, 1 contract migration)' '$WORK/last.out' && grep -q 'kept, ahead of v2: 0004_drop_qty' '$WORK/last.out' && ! grep -q 'migrate down' '$WORK/last.out'"
sqlite3 .ripcord/state.db "SELECT count(*) FROM switches" > "$WORK/sw.before"
cp "$db" "$WORK/db.before"
expect_exit 1 "rollback is refused without --accept-data-loss" rc rollback
err_has "naming the column" "orders.qty: its data was dropped by 0004_drop_qty"
check "nothing changed: web-1 still on v3" test "$(runs)" = v3
check "nothing changed: the database is byte for byte the same" cmp -s "$db" "$WORK/db.before"
check "nothing changed: the switch journal" test "$(sqlite3 .ripcord/state.db 'SELECT count(*) FROM switches')" = "$(cat "$WORK/sw.before")"
rc log --json > "$WORK/log.json" 2>&1
check "the audit entry records the refusal" grep -q "data loss refused (no --accept-data-loss): orders.qty (0004_drop_qty)" "$WORK/log.json"

expect_exit 0 "rollback --accept-data-loss runs" rc rollback --accept-data-loss
check "web-1 runs v2" test "$(runs)" = v2
check "0004_drop_qty is undone, the column back (empty: default)" sh -c "test '$(applied)' = '0001_create_orders 0002_add_status 0003_add_email' && sqlite3 '$db' 'SELECT qty FROM orders' >/dev/null"
check "the summary names the loss" grep -q "data lost: orders.qty (0004_drop_qty)" "$WORK/last.out"
rc log --json > "$WORK/log.json" 2>&1
check "the audit entry records the flag" sh -c "grep -q 'data loss accepted (--accept-data-loss): orders.qty (0004_drop_qty)' '$WORK/log.json' && grep -q 'accept-data-loss' '$WORK/log.json'"

# ---- a rollout never applies a contract up, so no abort can undo one ----
# (an abort undoes exactly the ups its rollout applied: rollouts.applied;
# the fallback for a record that holds one, from before contract ups were
# held back, is covered by test_plan_schema and test_rollout)
q "DELETE FROM orders WHERE item = 'canary'" >/dev/null
expect_exit 1 "an automatic abort with --schema-down of a rollout of v3" rc rollout start v3 --schema-down
check "the rollout held 0004_drop_qty back: it is not among what it applied" sh -c "! sqlite3 .ripcord/state.db 'SELECT applied FROM rollouts ORDER BY seq DESC LIMIT 1' | grep -q 0004_drop_qty"
check "so orders.qty was never dropped, and the abort lost nothing" sh -c "sqlite3 '$db' 'SELECT qty FROM orders' >/dev/null"
check "web-1 runs v2 again" test "$(runs)" = v2

# ---- an abort interrupted, then resumed, keeps the schema choice it began
# with: abort_schema = down in the config, the rollout started with
# --keep-schema, its abort held in web-1's activate hook (a fifo) and
# killed with SIGKILL there; `rollout resume` finishes it keeping the
# schema, and a resume that contradicts the choice is exit 2
q "DELETE FROM orders WHERE item = 'canary'" >/dev/null
rc -q migrate down --to v1 >/dev/null 2>&1
rc -q deploy v1 >/dev/null 2>&1
check "(v1 runs at v1's schema)" sh -c "test '$(runs)' = v1 && test '$(applied)' = '0001_create_orders 0002_add_status'"
mkfifo "$WORK/hold"
cat > hooks/hold <<SH
#!/bin/sh
if [ "\$RIPCORD_RELEASE" = v1 ] && [ -f "$WORK/holding" ]; then
  echo \$\$ > "$WORK/holdpid"; cat "$WORK/hold" > /dev/null
fi
exit 0
SH
chmod +x hooks/hold
sed 's|^root = targets/web-1$|&\nactivate = hooks/hold\nhook_timeout = 10m|' "$WORK/base.ini" > ripcord.ini
printf '[rollback]\nabort_schema = down\n' >> ripcord.ini
wait_until() { local i; for i in $(seq 1 300); do "$@" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
ro_state() { sqlite3 .ripcord/state.db "SELECT state FROM rollouts ORDER BY seq DESC LIMIT 1"; }
touch "$WORK/holding"
"$RIPCORD" rollout start v2 --keep-schema >"$WORK/ab.out" 2>&1 & ab=$!
check "the gate fails and the abort reaches web-1's activate hook, held" wait_until test -s "$WORK/holdpid"
check "(the rollout is aborting)" test "$(ro_state)" = aborting
kill -9 "$ab"; wait "$ab" 2>/dev/null
kill -9 -- "-$(cat "$WORK/holdpid")" 2>/dev/null; rm -f "$WORK/holding"
check "killed mid-abort: still aborting, 0003_add_email applied" sh -c "test '$(ro_state)' = aborting && test '$(applied)' = '0001_create_orders 0002_add_status 0003_add_email'"
check "(the canary wrote rows into the new column)" test "$(q "SELECT count(*) FROM orders WHERE item = 'canary' AND email IS NOT NULL")" -ge 2
expect_exit 2 "rollout resume --schema-down contradicts the abort's --keep-schema" rc rollout resume --schema-down
err_has "naming both" "began with --keep-schema (no downs) and goes on with it; --schema-down contradicts it"
check "and changed nothing: still aborting, 0003_add_email applied" sh -c "test '$(ro_state)' = aborting && test '$(applied)' = '0001_create_orders 0002_add_status 0003_add_email'"
expect_exit 0 "rollout resume finishes the abort" rc rollout resume
check "web-1 runs v1 again" test "$(runs)" = v1
check "the abort kept the schema it began with: no down ran" test "$(applied)" = "0001_create_orders 0002_add_status 0003_add_email"
check "every canary row survives, with its email" test "$(q "SELECT count(*) FROM orders WHERE item = 'canary' AND email = 'c@example.invalid'")" -ge 2
check "it says lossless, kept at 0003_add_email" grep -q "lossless (schema kept at 0003_add_email, 1 expand migration)" "$WORK/last.err" "$WORK/last.out"
cp "$WORK/base.ini" ripcord.ini

# ---- a contract the parser names nothing in is lossy all the same --------
# (an UPDATE to other values drops nothing: the down of any contract that
# ran cannot bring back what it changed)
rc -q deploy v3 >/dev/null 2>&1
rc -q migrate up v3 >/dev/null 2>&1
printf -- '-- ripcord:contract\nUPDATE orders SET status = %s WHERE item = %s;\n' "'gone'" "'canary'" > db/migrations/0005_purge.up.sql
printf 'SELECT 1;\n' > db/migrations/0005_purge.down.sql
release v4
rc -q deploy v4 >/dev/null 2>&1
rc -q migrate up v4 >/dev/null 2>&1
check "(v4 runs with 0005_purge applied)" sh -c "test '$(runs)' = v4 && test '$(applied)' = '0001_create_orders 0002_add_status 0003_add_email 0004_drop_qty 0005_purge'"
expect_exit 1 "rollback --dry-run across 0005_purge: refused (exit 1)" rc rollback --dry-run
check "names the loss by the migration, not 'no contract migration'" sh -c "grep -q '^schema: data lost: data changed by 0005_purge (contract)\$' '$WORK/last.out' && grep -q 'data loss: data changed by 0005_purge (contract): its down cannot bring it back' '$WORK/last.out' && ! grep -q 'no contract migration' '$WORK/last.out'"
rc status > "$WORK/st.out" 2>&1
check "status agrees: LOSSY (0005_purge ...)" grep -q "LOSSY (0005_purge applied" "$WORK/st.out"
cp "$db" "$WORK/db.before"
expect_exit 1 "the rollback is refused without --accept-data-loss" rc rollback
err_has "naming the migration" "data changed by 0005_purge (contract): its down cannot bring it back"
check "nothing changed: v4 still runs, the database is the same" sh -c "test '$(runs)' = v4 && cmp -s '$db' '$WORK/db.before'"

# ---- deploying an older release across applied contracts ----------------
expect_exit 0 "deploy v2 --dry-run, across 0004_drop_qty and 0005_purge" rc deploy v2 --dry-run
err_has "says what v2's code runs without, by phase" "schema is at 0005_purge, v2 carries up to 0003_add_email: v2's code will run on a schema without what 0004_drop_qty (contract) dropped (orders.qty); its down re-creates it empty; v2's code will run on a schema 0005_purge (contract) changed; its down cannot bring the data back"
check "... and not that it will see their columns" sh -c "! grep -q 'will see' '$WORK/last.err'"

done_testing
