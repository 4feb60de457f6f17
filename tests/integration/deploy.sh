#!/usr/bin/env bash
# deploy and rollback end to end: two targets on loopback with real health
# endpoints, a SQLite database, activate hooks; a rollback switches every
# target back, undoes the schema newest first, probes every target and
# says what it did. Roots that are not ours are refused, never touched.
. "$(dirname "$0")/lib.sh"

repo=$WORK/shop
cp -r "$SOURCE_ROOT/examples/shop" "$repo"
cd "$repo" && git init -q .
printf 'keys/\n.ripcord/\nvar/\ntargets/\n' > .gitignore
# the quickstart's config, without signing, with a hook that records its env
sed -i '/signing_key\|verify_key/d' ripcord.ini
mkdir -p hooks && cat > hooks/activate <<'SH'
#!/bin/sh
echo "$RIPCORD_TARGET $RIPCORD_RELEASE $RIPCORD_PREVIOUS $(pwd)" >> "$RIPCORD_ROOT/../activations.log"
[ -f "$RIPCORD_RELEASE_DIR/FAIL_ACTIVATE" ] && exit 3
exit 0
SH
chmod +x hooks/activate
port1=$(free_ports 4); port2=$((port1 + 1))
sed -i "s|^health = http://127.0.0.1:8101/healthz|health = http://127.0.0.1:$port1/healthz\nactivate = hooks/activate|; s|^health = http://127.0.0.1:8102/healthz|health = http://127.0.0.1:$port2/healthz\nactivate = hooks/activate|" ripcord.ini
git add -A && git commit -qm v1 && rc -q cut --id v1 >/dev/null 2>&1
echo 2.0.0 > VERSION
printf 'ALTER TABLE orders ADD COLUMN note TEXT;\n' > db/migrations/0003_add_note.up.sql
printf 'ALTER TABLE orders DROP COLUMN note;\n' > db/migrations/0003_add_note.down.sql
git add -A && git commit -qm v2 && rc -q cut --id v2 >/dev/null 2>&1

# servers answer from whatever each target's current release says
serve() { python3 "$1/current/server.py" "$2" "$1/current" >/dev/null 2>&1 & echo $!; }

expect_exit 0 "deploy v1 --dry-run" rc deploy v1 --dry-run
check "the plan names the ups, extracts and switches" sh -c "grep -q 'migrate up' '$WORK/last.out' && grep -q 'switch.*web-2.*v1' '$WORK/last.out'"
check "and nothing happened" test ! -e targets
# nothing serves yet: the deploy ends with a probe of each target
# (issue 15), which fails, so it exits 1 after switching both
expect_exit 1 "deploy v1 (no server answers yet)" rc deploy v1
check "15.2: its table probed both targets" sh -c "grep -c '^web-[12] .* ok  *connection refused\$' '$WORK/last.out' | grep -qx 2"
check "web-1 runs v1" test "$(readlink targets/web-1/current)" = releases/v1
check "web-2 runs v1" test "$(readlink targets/web-2/current)" = releases/v1
check "the payload is extracted" test -x targets/web-1/releases/v1/server.py
check "the schema is at v1 (2 migrations)" test "$(sqlite3 var/shop.db 'SELECT count(*) FROM ripcord_migrations')" = 2
check "activate ran with the documented environment, in the release" grep -q "web-1 v1  $repo/targets/web-1/releases/v1" targets/activations.log
check "the table says what happened" grep -q "^web-2 .* v1 .* ok" "$WORK/last.out"
pid1=$(serve targets/web-1 "$port1"); pid2=$(serve targets/web-2 "$port2")
trap 'kill $pid1 $pid2 2>/dev/null; rm -rf "$WORK"' EXIT
# until both listen (a fixed second was not enough on a loaded machine:
# the rollback's probe then found web-2's port closed); bounded, 20 s
for p in "$port1" "$port2"; do
  for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$p/healthz" && break; sleep 0.1; done
done

expect_exit 0 "deploy v2" rc deploy v2
check "the schema is at v2" test "$(sqlite3 var/shop.db 'SELECT count(*) FROM ripcord_migrations')" = 3
check "both run v2" test "$(readlink targets/web-1/current)$(readlink targets/web-2/current)" = releases/v2releases/v2
check "v1 stays extracted (warm)" test -d targets/web-1/releases/v1
check "activate saw the previous release" grep -q "web-2 v2 v1" targets/activations.log
expect_exit 0 "deploying it again changes nothing" rc deploy v2 --dry-run
check "(nothing to do)" grep -q "nothing to do" "$WORK/last.out"

sqlite3 var/shop.db "INSERT INTO orders (item, note) VALUES ('pear', 'ripe');"
expect_exit 0 "rollback --dry-run" rc rollback --dry-run
check "plans both switches, the down and the probes" sh -c "grep -c '^switch' '$WORK/last.out' | grep -qx 2 && grep -q 'migrate down' '$WORK/last.out' && grep -c '^probe' '$WORK/last.out' | grep -qx 2"
check "and changed nothing" test "$(readlink targets/web-1/current)" = releases/v2
expect_exit 0 "rollback" rc rollback
check "every target runs v1 again" test "$(readlink targets/web-1/current)$(readlink targets/web-2/current)" = releases/v1releases/v1
check "the schema is back at v1" test "$(sqlite3 var/shop.db 'SELECT count(*) FROM ripcord_migrations')" = 2
check "the row survived without its new column" test "$(sqlite3 var/shop.db 'SELECT item FROM orders')" = pear
check "every target was probed and is healthy" sh -c "grep -E '^web-1 .*v2 .*v1 .*ok .*ok [0-9]+ ms' '$WORK/last.out' && grep -E '^web-2 .*ok [0-9]+ ms' '$WORK/last.out'"
check "the server really serves v1 again" test "$(curl -s "http://127.0.0.1:$port1/")" = 1.0.0
expect_exit 2 "rollback --to an unknown release is refused" rc rollback --dry-run --to nosuch
err_has "naming it" "release 'nosuch' not found"

# a bad release's health is reported, and the command fails
printf 'status = 500\n' > health.conf
git add -A && git commit -qm v3 && rc -q cut --id v3 >/dev/null 2>&1
expect_exit 1 "deploy v3 (the bad one): its probes say HTTP 500" rc deploy v3
check "15.2: per target" sh -c "grep -c '^web-[12] .*HTTP 500\$' '$WORK/last.out' | grep -qx 2"
expect_exit 1 "rolling back to it reports the failing health" rc rollback --to v3 --no-migrate
check "with the HTTP status per target" grep -q "HTTP 500" "$WORK/last.out"
expect_exit 0 "rollback to v1 heals it" rc rollback --to v1 --no-migrate
check "healthy again" grep -q "ok [0-9]* ms" "$WORK/last.out"

# the audit log saw every deploy and rollback, chained
rc log > "$WORK/log.txt" 2>&1
check "the audit log has the deploys and rollbacks" sh -c "grep -q 'ripcord deploy v2' '$WORK/log.txt' && grep -q 'ripcord rollback --to v3 --no-migrate' '$WORK/log.txt'"
check "dry runs are not audited" sh -c "! grep -q -- '--dry-run' '$WORK/log.txt'"
expect_exit 0 "and its chain is intact" rc log --verify

# [notify] webhook: a JSON POST on every rollback and every failed deploy,
# delivered in the background; a webhook that is down changes nothing
port3=$((port2 + 1)); port4=$((port2 + 2))
cat > "$WORK/hook.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        with open(sys.argv[2], 'ab') as f:
            f.write(self.headers.get('Content-Type', '').encode() + b' ' + body + b'\n')
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/hook.py" "$port3" "$WORK/posts" & hookpid=$!
trap 'kill $pid1 $pid2 $hookpid 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port3/" && break; sleep 0.1; done
cp ripcord.ini "$WORK/plain.ini"
printf '[notify]\nwebhook = http://127.0.0.1:%s/hook?token=sekrit\nretries = 2\n' "$port3" >> ripcord.ini
waitfile() { for _ in $(seq 1 200); do [ -s "$1" ] && grep -q "$2" "$1" && return 0; sleep 0.1; done; return 1; }
rc -q deploy v2 >/dev/null 2>&1
check "a deploy that worked is not announced" sh -c "sleep 0.5; ! test -s '$WORK/posts'"
expect_exit 0 "rollback with a webhook" rc rollback --to v1 --no-migrate
err_has "says it notifies, with the token masked" "notifying http://127.0.0.1:$port3/hook?…"
check "the token is never printed" sh -c "! grep -q sekrit '$WORK/last.err'"
check "the webhook got the rollback" waitfile "$WORK/posts" '"event":"rollback"'
check "as JSON naming the release and every target" python3 -c "
import json
line = [l for l in open('$WORK/posts') if 'rollback' in l][0]
ctype, body = line.split(' ', 1)
assert ctype == 'application/json', ctype
d = json.loads(body)
assert d['project'] == 'shop' and d['release'] == 'v1' and d['ok'] is True, d
assert [t['target'] for t in d['targets']] == ['web-1', 'web-2'], d
assert d['targets'][0]['from'] == 'v2' and d['targets'][0]['to'] == 'v1', d
assert d['user'] and d['host'] and d['at'], d"
check "and notify.log says it was delivered" waitfile .ripcord/notify.log "rollback .* delivered attempts=1"
touch "$WORK/fail"
mkdir -p hooks && printf '#!/bin/sh\nexit 7\n' > hooks/fail && chmod +x hooks/fail
sed -i 's|^activate = hooks/activate|activate = hooks/fail|' ripcord.ini
expect_exit 1 "a deploy whose hook fails" rc deploy v2
check "is announced as deploy_failed" waitfile "$WORK/posts" '"event":"deploy_failed"'
sed -i 's|^activate = hooks/fail|activate = hooks/activate|' ripcord.ini
sed -i "s|^webhook = .*|webhook = http://127.0.0.1:$port4/down|" ripcord.ini
expect_exit 0 "a rollback with the webhook down still works" rc rollback --to v1 --no-migrate
check "every target runs v1" test "$(readlink targets/web-1/current)$(readlink targets/web-2/current)" = releases/v1releases/v1
check "and the failed delivery is logged after its retries" waitfile .ripcord/notify.log "/down delivered\|/down failed attempts=3"
check "(failed, not delivered)" grep -q "/down failed attempts=3 status=0" .ripcord/notify.log
cp "$WORK/plain.ini" ripcord.ini

# roots that are not ours
mkdir -p "$WORK/other" && echo "someone's" > "$WORK/other/index.html"
printf '[project]\nstore = %s/s2\n[target "x"]\nroot = %s/other\n' "$WORK" "$WORK" > "$WORK/other.ini"
rc -q -c "$WORK/other.ini" cut --id o1 >/dev/null 2>&1
expect_exit 2 "a non-empty root without releases/ is refused" rc -c "$WORK/other.ini" deploy o1
err_has "as not ours" "it is not ours"
check "and left alone" test "$(ls "$WORK/other")" = index.html

done_testing
