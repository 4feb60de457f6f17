#!/usr/bin/env bash
# `ripcord drill` end to end: a reversible release passes; a release whose
# down forgets an index fails (exit 1) naming the migration and the index;
# a one-byte corruption and a forged payload with rewritten SHA256SUMS
# (and a record to match) fail with exit 3; the production database is
# never created; --due skips fresh drills and redoes stale ones; results
# show in releases and status; a failed drill reaches the webhook; a drill
# is never kept out by the store lock.
. "$(dirname "$0")/lib.sh"

# scratch folders go here, so the check below sees only this test's
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
repo=$WORK/shop
cp -r "$SOURCE_ROOT/examples/shop" "$repo"
cd "$repo" && git init -q .
printf 'keys/\n.ripcord/\nvar/\ntargets/\n' > .gitignore
# no health URLs: nothing serves the targets here, and deploy and status
# probe them (issue 15)
sed -i '/signing_key\|verify_key/d; /^health = /d' ripcord.ini
git add -A && git commit -qm v1 && rc -q cut --id v1 >/dev/null 2>&1
echo 2.0.0 > VERSION
printf 'ALTER TABLE orders ADD COLUMN note TEXT;\n' > db/migrations/0003_add_note.up.sql
printf 'ALTER TABLE orders DROP COLUMN note;\n' > db/migrations/0003_add_note.down.sql
git add -A && git commit -qm v2 && rc -q cut --id v2 >/dev/null 2>&1
# v3: a down that forgets the index its up made
printf 'CREATE INDEX orders_note ON orders (note);\nCREATE TABLE refunds (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id));\n' > db/migrations/0004_refunds.up.sql
printf 'DROP TABLE refunds;\n' > db/migrations/0004_refunds.down.sql
echo 3.0.0 > VERSION
git add -A && git commit -qm v3 && rc -q cut --id v3 >/dev/null 2>&1
check "three releases cut" test "$(rc releases | grep -cE '^v[123] ')" -eq 3

expect_exit 0 "drill v2 passes" rc drill v2
check "one line: PASS" grep -qE '^v2 +PASS ' "$WORK/last.out"
err_has "integrity ran" "drill v2: integrity  ok"
err_has "fidelity ran against the repository" "as in the repository"
err_has "the round trip undid and redid its migration" "1 migration undone and redone"
check "the production database was never created" test ! -e var/shop.db
check "no scratch folder is left behind" sh -c "! ls -d \${TMPDIR:-/tmp}/ripcord-drill-* 2>/dev/null | grep -q ."
expect_exit 0 "releases shows the drill" rc releases
check "v2: pass, minutes ago" grep -qE '^v2 .* pass 0m ago ' "$WORK/last.out"
check "v1: never" grep -qE '^v1 .* never ' "$WORK/last.out"
expect_exit 0 "--json drill" rc --json drill v2
check "names every step and the result" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert len(d) == 1 and d[0]['release'] == 'v2' and d[0]['result'] == 'pass', d
assert [s['step'] for s in d[0]['steps']] == ['integrity', 'fidelity', 'round trip'], d
assert all(s['ok'] for s in d[0]['steps']), d"
check "state.db has both drills" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM drills WHERE release = 'v2' AND result = 'pass'")" = 2

expect_exit 1 "drill v3 (its down forgets an index) fails" rc drill v3
check "FAIL, naming the migration" grep -qE '^v3 +FAIL .*0004_refunds' "$WORK/last.out"
check "and the index left behind" grep -q "orders_note" "$WORK/last.out"
check "recorded as fail" test "$(sqlite3 .ripcord/state.db "SELECT result FROM drills WHERE release = 'v3'")" = fail

# a one-byte corruption: integrity, exit 3
cp .ripcord/artifacts/v1.tar.zst "$WORK/v1.good"
printf 'X' | dd of=.ripcord/artifacts/v1.tar.zst bs=1 seek=200 conv=notrunc status=none
expect_exit 3 "a corrupted artifact fails the drill with exit 3" rc drill v1
check "INTEGRITY" grep -qE '^v1 +INTEGRITY ' "$WORK/last.out"
cp "$WORK/v1.good" .ripcord/artifacts/v1.tar.zst

# a forged payload: a file changed, SHA256SUMS rewritten to match, and the
# store's record updated: integrity passes, fidelity catches it
cp .ripcord/artifacts/v2.tar.zst "$WORK/v2.good"
v2row=$(sqlite3 .ripcord/state.db "SELECT sha256 || ' ' || size FROM releases WHERE id = 'v2'")
python3 - "$repo/.ripcord/artifacts/v2.tar.zst" "$WORK/forged.tar" <<'PY'
import hashlib, io, subprocess, sys, tarfile
raw = subprocess.run(['zstd', '-dc', sys.argv[1]], check=True, capture_output=True).stdout
src = tarfile.open(fileobj=io.BytesIO(raw))
members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
files = {m.name: d for m, d in members}
old = files['payload/VERSION']
new = old.replace(b'2', b'9')
assert new != old and len(new) == len(old)
sums = files['ripcord/SHA256SUMS'].replace(hashlib.sha256(old).hexdigest().encode(), hashlib.sha256(new).hexdigest().encode())
out = tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT)
for m, d in members:
    if m.name == 'payload/VERSION': d = new
    if m.name == 'ripcord/SHA256SUMS': d = sums
    out.addfile(m, io.BytesIO(d) if d is not None else None)
out.close()
PY
zstd -q -f "$WORK/forged.tar" -o .ripcord/artifacts/v2.tar.zst
sqlite3 .ripcord/state.db "UPDATE releases SET sha256 = '$(sha256sum .ripcord/artifacts/v2.tar.zst | cut -c1-64)', size = $(stat -c %s .ripcord/artifacts/v2.tar.zst) WHERE id = 'v2'"
expect_exit 0 "the forged artifact passes verify (sums and record agree)" rc verify v2
expect_exit 3 "but the drill fails with exit 3" rc drill v2
check "INTEGRITY, from fidelity" grep -qE '^v2 +INTEGRITY +.*fidelity: .*hashes to tree' "$WORK/last.out"

# --due: fresh passing drills are skipped, stale ones redone
cp "$WORK/v2.good" .ripcord/artifacts/v2.tar.zst
sqlite3 .ripcord/state.db "UPDATE releases SET sha256 = '${v2row% *}', size = ${v2row#* } WHERE id = 'v2'"
expect_exit 0 "v2 is whole again" rc verify v2
sqlite3 .ripcord/state.db "DELETE FROM drills"
expect_exit 0 "drill v1 v2" rc drill v1 v2
expect_exit 1 "--due drills what never passed (v3)" rc drill --due
check "only v3" test "$(grep -cE '^v[0-9]+ ' "$WORK/last.out")" = 1
check "(v3)" grep -qE '^v3 ' "$WORK/last.out"
sqlite3 .ripcord/state.db "UPDATE drills SET started = started - 2 * 86400 WHERE release = 'v1'"
expect_exit 1 "a stale drill is due again" rc drill --due
check "v1 and v3 redone, not v2" test "$(grep -oE '^v[0-9]+' "$WORK/last.out" | tr '\n' ' ')" = "v1 v3 "
printf 'CREATE INDEX orders_qty ON orders (qty);\n' > db/migrations/0005_qty_index.up.sql
printf 'DROP INDEX orders_qty;\n' > db/migrations/0005_qty_index.down.sql
# v4 also mends v3's down: a rollback of v4 to v2 (below) runs it
printf 'DROP TABLE refunds;\nDROP INDEX orders_note;\n' > db/migrations/0004_refunds.down.sql
echo 4.0.0 > VERSION && git add -A && git commit -qm v4 && rc -q cut --id v4 >/dev/null 2>&1
rc -q drill v4 >/dev/null 2>&1
sqlite3 .ripcord/state.db "DELETE FROM drills WHERE release = 'v3'; INSERT INTO drills (release, started, seconds, result, steps) VALUES ('v3', strftime('%s','now'), 1, 'pass', '[]')"
expect_exit 0 "nothing due" rc drill --due
check "says so" grep -q "no release is due" "$WORK/last.out"
expect_exit 2 "--due with an id is a usage error" rc drill --due v1
expect_exit 2 "--due with --all too" rc drill --due --all
expect_exit 2 "an unknown release" rc drill nosuch

# status shows how proven each rollback is
rc -q deploy v2 >/dev/null 2>&1; rc -q deploy v4 >/dev/null 2>&1
expect_exit 0 "status" rc status
check "the rollback target v2 passed its drill" grep -qE '^web-1 +v4 +v4 +v2 +warm +pass [0-9]+m ago' "$WORK/last.out"

# a drill takes no store lock: it runs while another operation holds it
( flock -x 9; sleep 5 ) 9>.ripcord/lock & holder=$!
sleep 0.3
expect_exit 0 "a drill runs while the store lock is held" rc drill v4
kill $holder 2>/dev/null; wait $holder 2>/dev/null

# a failed drill reaches the webhook
port=$(free_ports 3)
cat > "$WORK/hook.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        open(sys.argv[2], 'ab').write(body + b'\n')
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/hook.py" "$port" "$WORK/posts" & hookpid=$!
trap 'kill $hookpid 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
printf '[notify]\nwebhook = http://127.0.0.1:%s/hook\n' "$port" >> ripcord.ini
printf 'X' | dd of=.ripcord/artifacts/v1.tar.zst bs=1 seek=200 conv=notrunc status=none
expect_exit 3 "a drill of the damaged v1" rc drill v1
waitfile() { for _ in $(seq 1 200); do [ -s "$1" ] && grep -q "$2" "$1" && return 0; sleep 0.1; done; return 1; }
check "posts drill_failed to the webhook" waitfile "$WORK/posts" '"event":"drill_failed"'
check "naming the release and the result" python3 -c "
import json
d = [json.loads(l) for l in open('$WORK/posts') if 'drill_failed' in l][0]
assert d['release'] == 'v1' and d['result'] == 'integrity' and d['project'] == 'shop', d"
expect_exit 0 "a passing drill posts nothing" rc drill v4
check "(still one post)" sh -c "sleep 0.5; test \$(wc -l < '$WORK/posts') -eq 1"
cp "$WORK/v1.good" .ripcord/artifacts/v1.tar.zst

# smoke: activate in a scratch root with RIPCORD_DRILL=1, then a probe;
# a slow one is a trend change, announced
mkdir -p "$WORK/www" && echo ok > "$WORK/www/index.html"
hport=$((port + 1))
python3 -m http.server "$hport" --bind 127.0.0.1 --directory "$WORK/www" >/dev/null 2>&1 & webpid=$!
trap 'kill $hookpid $webpid 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$hport/" && break; sleep 0.1; done
mkdir -p hooks && cat > hooks/smoke <<'SH'
#!/bin/sh
echo "$RIPCORD_DRILL $RIPCORD_RELEASE $RIPCORD_ROOT $(readlink "$RIPCORD_ROOT/current")" >> "$SMOKE_LOG"
sleep 1.3
SH
chmod +x hooks/smoke
sed -i "0,/^root   = targets\/web-1/s||root   = targets/web-1\nactivate = hooks/smoke|" ripcord.ini
printf '[drill]\nsmoke = yes\nsmoke_health = http://127.0.0.1:%s/\n' "$hport" >> ripcord.ini
for i in 1 2 3; do sqlite3 .ripcord/state.db "INSERT INTO drills (release, started, seconds, result, steps) VALUES ('v4', strftime('%s','now') - $i * 3600, 0.05, 'pass', '[]')"; done
export SMOKE_LOG=$WORK/smoke.log
expect_exit 0 "a drill with smoke passes" rc drill v4
check "activate ran in a scratch root, with RIPCORD_DRILL=1, on the release" grep -qE '^1 v4 /.*/ripcord-drill-[^/]+/target releases/v4$' "$SMOKE_LOG"
check "not on a real target" sh -c "! grep -q '$repo/targets' '$SMOKE_LOG'"
err_has "the smoke step ran" "drill v4: smoke      ok"
check "it was over 3x its median: SLOW" grep -qE '^ +SLOW +took [0-9.]+s, over 3x its median of [0-9.]+s' "$WORK/last.out"
check "and the webhook heard of the trend" waitfile "$WORK/posts" '"event":"drill_trend"'
sed -i "s|^smoke_health = .*|smoke_health = http://127.0.0.1:$((port + 2))/|" ripcord.ini
expect_exit 1 "a smoke probe that fails fails the drill (exit 1)" rc drill v4
check "naming the URL" grep -qE "^v4 +FAIL .*smoke: smoke_health http://127.0.0.1:$((port + 2))/: connection refused" "$WORK/last.out"
sed -i '/^smoke/d; /^activate = hooks\/smoke/d' ripcord.ini

# the metrics file keeps every release's series
printf '[drill]\nmetrics_file = var/ripcord.prom\n' >> ripcord.ini
mkdir -p var
rc -q drill v2 v4 >/dev/null 2>&1
expect_exit 1 "drill v3 with a metrics file" rc drill v3
prom=var/ripcord.prom
check "v2 and v4 succeeded, v3 did not" sh -c "grep -qx 'ripcord_drill_success{project=\"shop\",release=\"v2\"} 1' $prom && grep -qx 'ripcord_drill_success{project=\"shop\",release=\"v4\"} 1' $prom && grep -qx 'ripcord_drill_success{project=\"shop\",release=\"v3\"} 0' $prom"
check "all four families, typed" sh -c "for m in ripcord_drill_success ripcord_drill_duration_seconds ripcord_drill_last_success_timestamp_seconds ripcord_rollback_ready; do grep -qx \"# TYPE \$m gauge\" $prom || exit 1; done"
check "and the DORA figures of the project (two deploys today)" sh -c "grep -qE '^ripcord_dora_deployment_frequency_per_day\{project=\"shop\"\} 0\.0666' $prom && grep -q '^ripcord_dora_lead_time_seconds{project=\"shop\"} ' $prom"
check "v2 is ready to roll back to, v3 is not" sh -c "grep -qx 'ripcord_rollback_ready{project=\"shop\",release=\"v2\"} 1' $prom && grep -qx 'ripcord_rollback_ready{project=\"shop\",release=\"v3\"} 0' $prom"
check "its last success is now-ish" python3 -c "
import re, time
t = float(re.search(r'ripcord_drill_last_success_timestamp_seconds\{project=\"shop\",release=\"v2\"\} (\S+)', open('$prom').read()).group(1))
assert abs(time.time() - t) < 600, t"
sed -i 's/^keep  = 5/keep  = 1/' ripcord.ini
expect_exit 0 "gc with keep = 1" rc gc
check "deletes v1" sh -c "! rc releases | grep -q '^v1 '"
check "and forgets its series, keeping the others" sh -c "! grep -q 'release=\"v1\"' $prom && grep -q 'release=\"v2\"' $prom"
sed -i 's/^keep  = 1/keep  = 5/' ripcord.ini

done_testing
