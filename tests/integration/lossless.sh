#!/usr/bin/env bash
# Issue 16's "done when", end to end on the quickstart app (examples/shop)
# with its SQLite database and two real HTTP servers: a column renamed the
# safe way, orders.qty to orders.quantity.
#   v1  reads and writes qty (its code, server.py below, selects the
#       column by the release's app.conf);
#   v2  expand: adds quantity, backfills it and keeps both columns in step
#       with triggers; its code reads and writes quantity;
#   v3  contract ("-- ripcord: contract"): drops qty; its code as v2's;
#   v2u the unsafe way, on a branch from v1: renames qty in place.
# A rollout of v2 aborted by its failing gate keeps the schema and every
# row its canary wrote, which v1's code reads back, and says lossless; v2
# is then promoted, v3 rolled out with its contract held back, `migrate
# contract` refused before contract_after and run with --now; a rollback
# of v3 is refused without --accept-data-loss naming orders.qty and
# changing nothing, and runs with it, the audit entry recording the flag;
# the compatibility drill ([drill] smoke) fails for v2u naming v1, and
# passes for v2. Every claim is read from the database, the links,
# --json or the audit log.
. "$(dirname "$0")/lib.sh"

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
shop_fleet 2 "activate = hooks/activate"
db=$repo/var/shop.db
export SMOKE_PORT=$((port1 + 2)) SMOKE_PID=$WORK/smoke.pid CANARY_PORT=$port1
export FAIL_GATE=$WORK/fail-gate CANARY_LOG=$WORK/canary.log
sed "s|^database = var/shop.db|&\ncontract_after = 1h|" "$WORK/base.ini" > ripcord.ini
cat >> ripcord.ini <<INI
[rollout]
steps = 50%, 100%
bake = 400ms
probe_interval = 100ms
probe_timeout = 1s
min_samples = 2
compare_baseline = no
gate_command = hooks/gate
[drill]
smoke = yes
smoke_health = http://127.0.0.1:$SMOKE_PORT/healthz
INI

# the app: the quickstart's server, which does not touch the database,
# made to keep its orders there (this copy only; examples/ is unchanged)
cat > server.py <<'PY'
#!/usr/bin/env python3
"""The quickstart's service with its orders in the database (lossless.sh).

    server.py PORT RELEASE_DIR DATABASE
The release's app.conf names the column its code keeps an order's quantity
in ("column = qty"); RELEASE_DIR is a target's current link, so every
request follows the switches. GET /healthz answers health.conf's status
once the release's query works, else 500 and the database's message; GET
/orders lists "id item quantity"; POST /orders?item=X&qty=N takes an
order and answers its id; GET / answers VERSION.
"""
import http.server
import os
import sqlite3
import sys
import time
import urllib.parse

root, database = sys.argv[2], sys.argv[3]


def conf(name, values):
    try:
        with open(os.path.join(root, name)) as f:
            for line in f:
                if "=" in line:
                    k, v = line.split("=", 1)
                    values[k.strip()] = v.strip()
    except OSError:
        pass
    return values


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body):
        body = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def orders(self, sql, args=()):
        col = conf("app.conf", {"column": "qty"})["column"]
        with sqlite3.connect(database, timeout=5) as db:
            return db.execute(sql % col, args).fetchall()

    def do_GET(self):
        if self.path == "/":
            return self.answer(200, open(os.path.join(root, "VERSION")).read())
        try:
            rows = self.orders("SELECT id, item, %s FROM orders ORDER BY id")
        except sqlite3.Error as e:
            return self.answer(500, "%s\n" % e)
        if self.path == "/healthz":
            c = conf("health.conf", {"status": "200", "delay_ms": "0"})
            time.sleep(int(c["delay_ms"]) / 1000)
            return self.answer(int(c["status"]), "ok\n")
        self.answer(200, "".join("%s %s %s\n" % r for r in rows))

    def do_POST(self):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        try:
            r = self.orders("INSERT INTO orders (item, %s) VALUES (?, ?) RETURNING id",
                            (q["item"], int(q["qty"])))
        except sqlite3.Error as e:
            return self.answer(500, "%s\n" % e)
        self.answer(200, "%d\n" % r[0][0])

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
echo "column = qty" > app.conf
mkdir -p hooks
# activate: the servers follow the current links; in a drill, (re)start the
# release's server on the scratch database it is given
cat > hooks/activate <<'SH'
#!/bin/sh
[ "${RIPCORD_DRILL:-}" = 1 ] || exit 0
[ -f "$SMOKE_PID" ] && kill "$(cat "$SMOKE_PID")" 2>/dev/null && sleep 0.2
python3 "$RIPCORD_RELEASE_DIR/server.py" "$SMOKE_PORT" "$RIPCORD_RELEASE_DIR" "$RIPCORD_DATABASE" >/dev/null 2>&1 </dev/null &
echo $! > "$SMOKE_PID"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$SMOKE_PORT/" && exit 0; sleep 0.1; done
exit 1
SH
# the gate: the canary (web-1) takes two orders through its own code, each
# logged "id qty", then the gate fails while $FAIL_GATE exists
cat > hooks/gate <<'SH'
#!/bin/sh
for n in 3 4; do
  id=$(curl -sf -X POST "http://127.0.0.1:$CANARY_PORT/orders?item=canary-$RIPCORD_RELEASE&qty=$n") || exit 2
  echo "$id $n" >> "$CANARY_LOG"
done
[ -e "$FAIL_GATE" ] && { echo "canary checkout errors above budget"; exit 1; }
exit 0
SH
chmod +x hooks/activate hooks/gate

q() { sqlite3 "$db" "$1" 2>&1; }
cols() { q "SELECT group_concat(name, ',') FROM pragma_table_info('orders')"; }
triggers() { q "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"; }
applied() { q "SELECT group_concat(version || '_' || name, ' ') FROM (SELECT * FROM ripcord_migrations ORDER BY version)"; }
links() { echo "$(readlink targets/web-1/current) $(readlink targets/web-2/current)" | sed 's|releases/||g'; }
order() { curl -sf -X POST "http://127.0.0.1:$1/orders?item=$2&qty=$3"; }
audit() { # COMMAND: the newest audit entry of that command, as JSON
  rc log --json | python3 -c "import json, sys
e = [x for x in json.load(sys.stdin) if x['command'] == sys.argv[1]]
print(json.dumps(e[-1]) if e else '{}')" "$1"; }
release() { # ID COLUMN
  printf '%s\n' "$1" > VERSION && echo "column = $2" > app.conf
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1; }
m=db/migrations

release v1 qty
# v2u: the rename done in place, on a branch from v1 (its lint warning
# ignored): v1's code reads a column that is gone
git checkout -q -b unsafe
printf 'ALTER TABLE orders RENAME COLUMN qty TO quantity;\n' > $m/0009_rename_qty.up.sql
printf 'ALTER TABLE orders RENAME COLUMN quantity TO qty;\n' > $m/0009_rename_qty.down.sql
release v2u quantity
git checkout -q -
# v2: expand. quantity added and backfilled; the insert trigger fills
# whichever column the writer left out (v1 writes qty and leaves quantity
# NULL, v2 writes quantity and leaves qty at its default); the update
# triggers carry a change of either into the other
cat > $m/0003_add_quantity.up.sql <<'SQL'
ALTER TABLE orders ADD COLUMN quantity INTEGER;
UPDATE orders SET quantity = qty;
CREATE TRIGGER orders_sync_insert AFTER INSERT ON orders BEGIN
	UPDATE orders SET qty = coalesce(NEW.quantity, NEW.qty),
		quantity = coalesce(NEW.quantity, NEW.qty) WHERE id = NEW.id;
END;
CREATE TRIGGER orders_sync_qty AFTER UPDATE OF qty ON orders
WHEN NEW.quantity IS NOT NEW.qty BEGIN
	UPDATE orders SET quantity = NEW.qty WHERE id = NEW.id;
END;
CREATE TRIGGER orders_sync_quantity AFTER UPDATE OF quantity ON orders
WHEN NEW.qty IS NOT NEW.quantity BEGIN
	UPDATE orders SET qty = NEW.quantity WHERE id = NEW.id;
END;
SQL
cat > $m/0003_add_quantity.down.sql <<'SQL'
DROP TRIGGER orders_sync_quantity;
DROP TRIGGER orders_sync_qty;
DROP TRIGGER orders_sync_insert;
ALTER TABLE orders DROP COLUMN quantity;
SQL
release v2 quantity
# v3: contract. The triggers and qty go; its down brings qty back empty
sed -n '/^CREATE TRIGGER/,$p' $m/0003_add_quantity.up.sql > "$WORK/triggers.sql"
{ printf -- '-- ripcord: contract\n'
  printf 'DROP TRIGGER orders_sync_quantity;\nDROP TRIGGER orders_sync_qty;\nDROP TRIGGER orders_sync_insert;\n'
  printf 'ALTER TABLE orders DROP COLUMN qty;\n'; } > $m/0004_drop_qty.up.sql
{ printf 'ALTER TABLE orders ADD COLUMN qty INTEGER NOT NULL DEFAULT 1;\n'
  cat "$WORK/triggers.sql"; } > $m/0004_drop_qty.down.sql
release v3 quantity
check "v1, v2u, v2 and v3 are cut" test "$(rc releases | grep -cE '^(v1|v2u|v2|v3) ')" -eq 4

# ---- v1 runs, on two real servers ----------------------------------------
# The servers run the app's server.py, which every release carries
# unchanged, on each target's current link: which column the code uses is
# the running release's app.conf, read at each request, so they follow
# every switch. They are up before the first deploy, which probes them.
python3 server.py "$port1" "$repo/targets/web-1/current" "$db" >/dev/null 2>&1 & srv1=$!
python3 server.py $((port1 + 1)) "$repo/targets/web-2/current" "$db" >/dev/null 2>&1 & srv2=$!
trap 'kill $srv1 $srv2 "$(cat "$SMOKE_PID" 2>/dev/null)" 2>/dev/null; rm -rf "$WORK"' EXIT
for p in $port1 $((port1 + 1)); do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$p/healthz" && break; sleep 0.1; done
done
expect_exit 0 "deploy v1: both servers healthy on it" rc deploy v1
check "every release carries that server.py unchanged" sh -c \
  "for r in v1 v2u v2 v3; do tar --zstd -xOf .ripcord/artifacts/\$r.tar.zst payload/server.py | cmp -s - server.py || exit 1; done"
check "v1's code on web-1 takes an order into qty" test -n "$(order "$port1" tea 2)"
check "... and on web-2" test -n "$(order $((port1 + 1)) jam 5)"
check "... read back from the database" test "$(q "SELECT group_concat(item || '=' || qty) FROM orders")" = "tea=2,jam=5"

# ---- the compatibility drill ------------------------------------------------
expect_exit 0 "drill v2: the safe expand passes" rc --json drill v2
check "--json: its compatibility step ran v1 at v2's expand level and passed" python3 -c "
import json; d = json.load(open('$WORK/last.out'))[0]
assert d['result'] == 'pass', d
assert d['phases'] == [{'migration': '0003_add_quantity', 'phase': 'expand'}], d['phases']
assert d['compatibility']['previous'] == 'v1' and d['compatibility']['level'] == '0003_add_quantity' and d['compatibility']['ok'], d['compatibility']
assert d['round_trip']['failures'] == [], d['round_trip']"
expect_exit 1 "drill v2u: the rename in place fails (exit 1)" rc drill v2u
check "... naming v1, the expand level and what v1's code said" grep -qE \
  "^v2u +FAIL .*compatibility: v1 on the schema of v2u at its expand level \(0009_rename_qty\): smoke_health http://127.0.0.1:$SMOKE_PORT/healthz: HTTP 500: no such column: qty" "$WORK/last.out"
check "... v2u's own smoke passed: only the previous code broke" sh -c \
  "grep -q 'drill v2u: smoke      ok' '$WORK/last.err' && grep -q 'drill v2u: compatibility FAILED' '$WORK/last.err'"
check "the drills are recorded: v2 pass, v2u fail on compatibility with v1" test \
  "$(sqlite3 .ripcord/state.db "SELECT group_concat(release || ' ' || result || ' ' || coalesce((SELECT json_extract(s.value, '\$.previous') FROM json_each(steps) s WHERE json_extract(s.value, '\$.step') = 'compatibility'), '-'), ', ') FROM (SELECT * FROM drills ORDER BY seq)")" = "v2 pass v1, v2u fail v1"
check "the production database never saw the drills" test "$(cols)" = "id,item,qty,status"

# ---- a rollout of v2, aborted by its failing gate ------------------------------
touch "$FAIL_GATE"
expect_exit 1 "a rollout of v2 is aborted when its gate fails" rc --json rollout start v2
check "both targets run v1 again" test "$(links)" = "v1 v1"
check "the expand stays: quantity and the three triggers" test "$(cols)/$(triggers)/$(applied)" = \
  "id,item,qty,status,quantity/3/0001_create_orders 0002_add_status 0003_add_quantity"
check "the canary (web-1, v2's code) wrote orders before the gate failed" test "$(grep -c . "$CANARY_LOG")" -ge 2
check "every order the canary wrote is in the database, its quantity in both columns" python3 -c "
import sqlite3
rows = {r[0]: r[1:] for r in sqlite3.connect('$db').execute('SELECT id, item, qty, quantity FROM orders')}
for line in open('$CANARY_LOG'):
    i, n = map(int, line.split())
    assert rows.get(i) == ('canary-v2', n, n), (i, n, rows.get(i))"
check "v1's code on web-1 reads every one of them back, with its quantity" python3 -c "
import urllib.request
got = urllib.request.urlopen('http://127.0.0.1:$port1/orders').read().decode().split('\n')
for line in open('$CANARY_LOG'):
    i, n = line.split()
    assert '%s canary-v2 %s' % (i, n) in got, (i, n, got)"
check "--json: the aborted event says lossless, schema kept at 0003_add_quantity, no down" python3 -c "
import json
ev = [json.loads(l) for l in open('$WORK/last.out')]
a = [e for e in ev if e['event'] == 'aborted'][0]
s = a['schema']
assert s['mode'] == 'keep' and s['lossless'] is True and s['kept'] == ['0003_add_quantity'], s
assert s['downs'] == [] and s['data_loss'] == [], s"
check "the audit entry says the schema was kept (lossless)" sh -c \
  "'$RIPCORD' log --json | grep -q 'schema kept (lossless): 0003_add_quantity'"
rc --json rollout status > "$WORK/st.json" 2>&1
check "rollout status --json: the abort undid the code, kept the schema, lossless" python3 -c "
import json; r = json.load(open('$WORK/st.json'))['rollout']
u = r['undone']
assert u['schema']['mode'] == 'keep' and u['schema']['lossless'] is True and u['schema']['kept'] == ['0003_add_quantity'], u
assert 'lossless (schema kept at 0003_add_quantity, 1 expand migration)' in u['summary'], u"
check "v1's code keeps working on the expanded schema: an order into qty" test -n "$(order "$port1" scone 7)"
check "... and the trigger put it in quantity too" test "$(q "SELECT qty || '/' || quantity FROM orders WHERE item = 'scone'")" = "7/7"

# ---- v2 promoted; v3 rolled out, its contract held back ---------------------
rm -f "$FAIL_GATE"
expect_exit 0 "the rollout of v2 again: its gate passes and it completes" rc rollout start v2
check "both targets run v2" test "$(links)" = "v2 v2"
check "it applied no up: the abort had kept 0003_add_quantity" \
  test "$(sqlite3 .ripcord/state.db 'SELECT applied FROM rollouts ORDER BY seq DESC LIMIT 1')" = ""
check "v2's code on web-2 reads every order through quantity: v1's, the aborted canary's" python3 -c "
import urllib.request
got = urllib.request.urlopen('http://127.0.0.1:$((port1 + 1))/orders').read().decode().split('\n')
want = [l for l in got if ' tea 2' in l or ' jam 5' in l or ' scone 7' in l]
assert len(want) == 3, got
for line in open('$CANARY_LOG'):
    i, n = line.split()
    assert '%s canary-v2 %s' % (i, n) in got, (i, n, got)"
check "qty and quantity agree on every order, whichever code wrote it" \
  test "$(q "SELECT count(*) FROM orders WHERE qty IS NOT quantity")/$(q "SELECT count(DISTINCT item) FROM orders")" = "0/4"
expect_exit 0 "drill v3" rc --json drill v3
check "--json: v3's contract round-trips, and v2 works at v3's expand level" python3 -c "
import json; d = json.load(open('$WORK/last.out'))[0]
assert d['result'] == 'pass', d
assert d['phases'] == [{'migration': '0004_drop_qty', 'phase': 'contract'}], d['phases']
c = d['compatibility']
assert c['previous'] == 'v2' and c['level'] == '0003_add_quantity' and c['ok'], c"
expect_exit 0 "a rollout of v3" rc rollout start v3
check "both targets run v3" test "$(links)" = "v3 v3"
err_has "it held the contract back, saying what to run" \
  "held back: 0004_drop_qty (contract): run 'ripcord migrate contract v3'"
check "qty is still there, 0004_drop_qty not applied" test "$(cols)/$(applied)" = \
  "id,item,qty,status,quantity/0001_create_orders 0002_add_status 0003_add_quantity"
check "migrate status: 0004_drop_qty pending, contract" sh -c \
  "'$RIPCORD' migrate status v3 | grep -q '^pending .*0004_drop_qty \[contract\]\$'"

# ---- migrate contract: refused before contract_after, then --now -----------
sqlite3 "$db" 'SELECT id, item, quantity FROM orders ORDER BY id' > "$WORK/orders.before"
expect_exit 1 "migrate contract v3 before contract_after (1h) is refused" rc migrate contract v3
err_has "... naming the wait and --now" "contract_after (1h) has"
check "... nothing changed: qty is there" test "$(cols)/$(applied)" = \
  "id,item,qty,status,quantity/0001_create_orders 0002_add_status 0003_add_quantity"
expect_exit 1 "--json migrate contract v3: refused" rc --json migrate contract v3
check "--json: only the contract_after check fails" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert d['ok'] is False and d['held_back'] == ['0004_drop_qty'] and d['applied'] == [], d
assert [(c['check'], c['ok']) for c in d['checks']] == [('rollout', True), ('targets', True), ('contract_after', False)], d['checks']
assert d['may_run_at'] - d['reached_at'] == 3600, d"
expect_exit 0 "migrate contract v3 --now" rc migrate contract v3 --now
check "... says so" grep -qx 'contract of v3: 1 migration applied' "$WORK/last.out"
check "qty and the triggers are gone, 0004_drop_qty applied" test "$(cols)/$(triggers)/$(applied)" = \
  "id,item,status,quantity/0/0001_create_orders 0002_add_status 0003_add_quantity 0004_drop_qty"
check "every order kept its quantity" sh -c \
  "sqlite3 '$db' 'SELECT id, item, quantity FROM orders ORDER BY id' | cmp -s - '$WORK/orders.before'"
check "the audit entry names the up it ran" python3 -c "
import json, sys; e = json.loads(sys.argv[1])
assert e['migrations'] == 'up 0004_drop_qty' and e['exit_code'] == 0, e" "$(audit 'ripcord migrate contract v3 --now')"
check "v3's code serves on the contracted schema" sh -c \
  "curl -sf http://127.0.0.1:$port1/healthz >/dev/null && curl -sf http://127.0.0.1:$((port1 + 1))/orders | grep -q ' scone 7\$'"

# ---- a rollback of v3 across its contract: the one lossy path ---------------
expect_exit 1 "rollback --dry-run: refused as the rollback would be (exit 1)" rc --json rollback --dry-run
check "--json: down, not lossless, the loss is orders.qty by 0004_drop_qty" python3 -c "
import json; s = json.load(open('$WORK/last.out'))['schema']
assert s['mode'] == 'down' and s['lossless'] is False and s['downs'] == ['0004_drop_qty'], s
assert [(x['object'], x['migration']) for x in s['data_loss']] == [('orders.qty', '0004_drop_qty')], s"
cp "$db" "$WORK/db.before"
sw=$(sqlite3 .ripcord/state.db "SELECT count(*) FROM switches")
expect_exit 1 "rollback without --accept-data-loss is refused" rc rollback
err_has "... naming the column and the migration that dropped it" \
  "orders.qty: its data was dropped by 0004_drop_qty (contract) and the down only re-creates the column empty"
err_has "... and the two ways on" "pass --accept-data-loss to run it anyway, or --keep-schema"
check "nothing changed: both targets on v3" test "$(links)" = "v3 v3"
check "nothing changed: the database, byte for byte (schema and rows)" cmp -s "$db" "$WORK/db.before"
check "nothing changed: no switch in the journal" \
  test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM switches")" = "$sw"
check "the audit entry records the refusal, naming the column" python3 -c "
import json, sys; e = json.loads(sys.argv[1])
assert e['exit_code'] == 1 and 'data loss refused (no --accept-data-loss): orders.qty (0004_drop_qty)' in json.dumps(e), e" \
  "$(audit 'ripcord rollback')"

expect_exit 0 "rollback --accept-data-loss runs" rc --json rollback --accept-data-loss
check "both targets run v2" test "$(links)" = "v2 v2"
check "0004_drop_qty undone: qty and the triggers are back" test "$(cols)/$(triggers)/$(applied)" = \
  "id,item,status,quantity,qty/3/0001_create_orders 0002_add_status 0003_add_quantity"
check "... qty came back empty (its default), as it said: the loss was real" \
  test "$(q "SELECT count(*) FROM orders WHERE qty != 1")" = 0
check "quantity kept every order, and v2's code reads them" sh -c \
  "sqlite3 '$db' 'SELECT id, item, quantity FROM orders ORDER BY id' | cmp -s - '$WORK/orders.before' && curl -sf http://127.0.0.1:$port1/orders | grep -q ' scone 7\$'"
check "--json: the flag and the loss it accepted" python3 -c "
import json; s = json.load(open('$WORK/last.out'))['schema']
assert s['accept_data_loss'] is True and s['lossless'] is False and s['downs'] == ['0004_drop_qty'], s
assert [x['object'] for x in s['data_loss']] == ['orders.qty'], s"
check "the audit entry records the flag and the loss" python3 -c "
import json, sys; e = json.loads(sys.argv[1])
assert e['exit_code'] == 0 and 'data loss accepted (--accept-data-loss): orders.qty (0004_drop_qty)' in json.dumps(e), e" \
  "$(audit 'ripcord --json rollback --accept-data-loss')"

done_testing
