#!/usr/bin/env bash
# Phases proven and visible (issue 16): the drill round-trips expand and
# contract migrations alike and names each one's phase; with [drill] smoke
# a compatibility drill runs the previous release's smoke test (activate
# + health) against a scratch database at the drilled release's expand
# level: an expand that adds a nullable column passes, one that renames a
# column the previous release reads fails the drill (exit 1) naming the
# previous release, the level and what the probe said. status, releases,
# rollout status, the report and the metrics show what is applied by
# phase (and since when), what the schema is ahead by, and whether a
# rollback is lossless (ripcord_rollback_lossless).
. "$(dirname "$0")/lib.sh"

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
REPO=$WORK/app
mkdir -p "$REPO/db/migrations" "$REPO/hooks" && cd "$REPO" && git init -q .
printf 'var/\n.ripcord/\ntargets/\n' > .gitignore
smoke_port=$(free_ports 2)
cat > ripcord.ini <<INI
[project]
name = app
[migrations]
dir = db/migrations
driver = sqlite
database = var/app.db
[target "web-1"]
root = targets/web-1
activate = hooks/activate
[drill]
smoke = yes
smoke_health = http://127.0.0.1:$smoke_port/healthz
metrics_file = var/ripcord.prom
INI
# the app answers /healthz by reading the columns its release reads
# (columns.conf) from the database it is given
cat > app.py <<'PY'
import http.server, os, sqlite3, sys
here = os.path.dirname(os.path.abspath(__file__))
cols = open(os.path.join(here, 'columns.conf')).read().strip()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            sqlite3.connect(sys.argv[2]).execute('SELECT %s FROM users' % cols).fetchall()
            code, body = 200, b'ok\n'
        except Exception as e:
            code, body = 500, str(e).encode() + b'\n'
        self.send_response(code); self.send_header('Content-Length', str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
# in a drill, the hook (re)starts the release's app on the scratch database
cat > hooks/activate <<'SH'
#!/bin/sh
[ "$RIPCORD_DRILL" = 1 ] || exit 0
echo "$RIPCORD_RELEASE ${RIPCORD_DATABASE:-none}" >> "$HOOK_LOG"
[ -f "$APP_PID" ] && kill "$(cat "$APP_PID")" 2>/dev/null && sleep 0.2
python3 "$RIPCORD_RELEASE_DIR/app.py" "$SMOKE_PORT" "$RIPCORD_DATABASE" >/dev/null 2>&1 </dev/null &
echo $! > "$APP_PID"; echo $! >> "$APP_PIDS"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$SMOKE_PORT/" && exit 0; sleep 0.1; done
exit 1
SH
chmod +x hooks/activate
export HOOK_LOG=$WORK/hook.log APP_PID=$WORK/app.pid APP_PIDS=$WORK/app.pids SMOKE_PORT=$smoke_port
# alive PID: a process that is not a zombie
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$s" ] && [ "${s#Z}" = "$s" ]; }
apps_gone() { local p; for p in $(cat "$APP_PIDS"); do ! alive "$p" || { echo "app $p lives"; return 1; }; done; }
trap 'kill "$(cat "$APP_PID" 2>/dev/null)" 2>/dev/null; rm -rf "$WORK"' EXIT
d=db/migrations
printf 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n' > $d/0001_users.up.sql
printf 'DROP TABLE users;\n' > $d/0001_users.down.sql
echo name > columns.conf
git add -A && git commit -qm v1 && rc -q cut --id v1 >/dev/null 2>&1
# v2: expand, a nullable column; v2 reads both
printf 'ALTER TABLE users ADD COLUMN email TEXT;\n' > $d/0002_add_email.up.sql
printf 'ALTER TABLE users DROP COLUMN email;\n' > $d/0002_add_email.down.sql
echo name, email > columns.conf
git add -A && git commit -qm v2 && rc -q cut --id v2 >/dev/null 2>&1
# v3: contract, the old column goes; v3 reads email alone
printf -- '-- ripcord: contract\nALTER TABLE users DROP COLUMN name;\n' > $d/0003_drop_name.up.sql
printf 'ALTER TABLE users ADD COLUMN name TEXT;\n' > $d/0003_drop_name.down.sql
echo email > columns.conf
git add -A && git commit -qm v3 && rc -q cut --id v3 >/dev/null 2>&1
check "three releases cut" test "$(rc releases | grep -cE '^v[123] ')" -eq 3

# ---- drills -------------------------------------------------------------
expect_exit 0 "drill v2: an expand that adds a nullable column passes" rc drill v2
check "PASS" grep -qE '^v2 +PASS ' "$WORK/last.out"
err_has "the compatibility step ran" "drill v2: compatibility ok"
check "the output names the phase of the migration under test" grep -qE '^ +phases: 0002_add_email expand$' "$WORK/last.out"
check "and the compatibility drill: v1 at v2's expand level, pass" grep -qE '^ +compatible with v1 at its expand level \(0002_add_email\): pass$' "$WORK/last.out"
check "v1's activate ran on a scratch database, after v2's own smoke" sh -c \
  "grep -qE '^v2 /.*/ripcord-drill-[^/]+/smoke.db$' '$HOOK_LOG' && grep -qE '^v1 /.*/ripcord-drill-[^/]+/compat.db$' '$HOOK_LOG'"
check "the production database was never created" test ! -e var/app.db
check "(the hook started two apps: v2's for smoke, v1's for compatibility)" test "$(wc -l < "$APP_PIDS")" -eq 2
check "neither outlives the drill" apps_gone
mkdir -p rel-tmp
expect_exit 0 "with a relative TMPDIR the hook still gets paths it can use" env TMPDIR=rel-tmp "$RIPCORD" drill v2
check "(absolute ones)" sh -c "tail -2 '$HOOK_LOG' | grep -qE '^v1 /.*/rel-tmp/ripcord-drill-[^/]+/compat.db$'"
rm -rf rel-tmp

expect_exit 0 "drill v3: a contract drills, its up held back from the expand level" rc --json drill v3
check "--json: each migration under test with its phase, the compatibility step" python3 -c "
import json; d = json.load(open('$WORK/last.out'))[0]
assert d['result'] == 'pass', d
assert d['phases'] == [{'migration': '0003_drop_name', 'phase': 'contract'}], d['phases']
assert d['round_trip']['checked'] == 1 and d['round_trip']['failures'] == [], d
c = d['compatibility']
assert c['previous'] == 'v2' and c['level'] == '0002_add_email' and c['ok'], c
assert [s['step'] for s in d['steps']] == ['integrity', 'fidelity', 'round trip', 'smoke', 'compatibility'], d['steps']"
check "the round trip undid and redid the contract migration too" python3 -c "
import json; d = json.load(open('$WORK/last.out'))[0]
rt = [s for s in d['steps'] if s['step'] == 'round trip'][0]
assert rt['ok'] and '1 migration undone and redone' in rt['detail'], rt"

# v4: an expand that renames the column v3 reads: v3 breaks on it
printf 'ALTER TABLE users RENAME COLUMN email TO mail;\n' > $d/0004_rename_email.up.sql
printf 'ALTER TABLE users RENAME COLUMN mail TO email;\n' > $d/0004_rename_email.down.sql
echo mail > columns.conf
git add -A && git commit -qm v4 && rc -q cut --id v4 >/dev/null 2>&1
expect_exit 1 "drill v4: an expand that breaks the previous release fails (exit 1)" rc drill v4
check "FAIL, naming v3, the expand level and what the probe said" grep -qE \
  "^v4 +FAIL .*compatibility: v3 on the schema of v4 at its expand level \(0004_rename_email\): smoke_health http://127.0.0.1:$smoke_port/healthz: HTTP 500: no such column: email" "$WORK/last.out"
check "its own round trip and smoke passed: only compatibility failed" sh -c \
  "grep -q 'drill v4: round trip ok' '$WORK/last.err' && grep -q 'drill v4: smoke      ok' '$WORK/last.err' && grep -q 'drill v4: compatibility FAILED' '$WORK/last.err'"
check "recorded as fail, the step in its steps" test "$(sqlite3 .ripcord/state.db "SELECT result || ' ' || json_extract(steps, '\$[4].step') || ' ' || json_extract(steps, '\$[4].previous') FROM drills WHERE release = 'v4'")" = "fail compatibility v3"

# ---- visible: status and the metrics ------------------------------------
prom=var/ripcord.prom
gauge() { sed -n "s/^$1{project=\"app\",target=\"web-1\"} //p" "$prom"; }
expect_exit 0 "deploy v2 (its expand ups)" rc deploy v2
expect_exit 0 "status" rc status
check "v2: both expand migrations applied, nothing to roll back to" sh -c   "grep -qx 'schema: v2 on web-1: 2 expand applied' '$WORK/last.out' && ! grep -q 'rollback to' '$WORK/last.out'"
check "the gauges: lossless (nothing to lose), nothing pending, nothing ahead" \
  test "$(gauge ripcord_rollback_lossless) $(gauge ripcord_schema_contract_pending) $(gauge ripcord_schema_ahead)" = "1 0 0"
expect_exit 0 "deploy v3" rc deploy v3
# whether or not deploy held the contract up back, it is pending now
expect_exit 0 "its contract undone by hand (migrate down --to v2)" rc migrate down --to v2
expect_exit 0 "status" rc status
check "v3: expand applied, its contract pending" grep -qx 'schema: v3 on web-1: 2 expand applied, 1 contract pending' "$WORK/last.out"
check "a rollback to v2 is lossless, and proven compatible by v3's drill" grep -qx \
  '  rollback to v2: lossless; compatible with v2 at its expand level (0002_add_email): pass' "$WORK/last.out"
check "the gauges: lossless, one contract pending" \
  test "$(gauge ripcord_rollback_lossless) $(gauge ripcord_schema_contract_pending)" = "1 1"
expect_exit 0 "releases" rc releases
check "SCHEMA: v3's contract pending, v2 and v1 applied, v4's rename pending" sh -c \
  "grep -qE '^v3 .* 2 expand applied, 1 contract pending\$' '$WORK/last.out' && grep -qE '^v2 .* 2 expand applied\$' '$WORK/last.out' && grep -qE '^v1 .* 1 expand applied\$' '$WORK/last.out' && grep -qE '^v4 .* 3 expand \(1 pending\), 1 contract pending\$' '$WORK/last.out'"
expect_exit 0 "the contract applied (migrate up v3)" rc migrate up v3
expect_exit 0 "status" rc status
check "v3: the contract applied, and since when" grep -qE '^schema: v3 on web-1: 2 expand applied, 1 contract applied [0-9]+s ago$' "$WORK/last.out"
check "a rollback to v2 now loses data: LOSSY, naming the migration" grep -qE \
  '^  rollback to v2: LOSSY \(0003_drop_name applied [0-9]+s ago\); compatible with v2 at its expand level \(0002_add_email\): pass$' "$WORK/last.out"
check "ripcord_rollback_lossless 0, nothing pending" \
  test "$(gauge ripcord_rollback_lossless) $(gauge ripcord_schema_contract_pending)" = "0 0"
check "and since when, as the database says" test "$(gauge ripcord_schema_contract_applied_timestamp_seconds)" = \
  "$(sqlite3 var/app.db "SELECT applied_at FROM ripcord_migrations WHERE name = 'drop_name'")"
check "ripcord_rollback_compatible 1: the downs would bring the column back" test "$(gauge ripcord_rollback_compatible)" = 1
# [rollback] schema = keep: a rollback runs no down, so it loses nothing,
# but v2's code then runs without the column 0003_drop_name dropped
cp ripcord.ini "$WORK/ini.down"
printf '[rollback]\nschema = keep\n' >> ripcord.ini
expect_exit 0 "status with [rollback] schema = keep" rc status
check "lossless (schema kept), but v2's code runs without what 0003_drop_name dropped" grep -qx \
  "  rollback to v2: lossless (schema kept), but v2's code runs on a schema without what 0003_drop_name (contract) dropped; compatible with v2 at its expand level (0002_add_email): pass" "$WORK/last.out"
check "ripcord_rollback_lossless 1 (no data lost), ripcord_rollback_compatible 0" \
  test "$(gauge ripcord_rollback_lossless) $(gauge ripcord_rollback_compatible)" = "1 0"
check "the compatible gauge is typed and explained" sh -c "grep -qx '# TYPE ripcord_rollback_compatible gauge' $prom && grep -q '^# HELP ripcord_rollback_compatible ' $prom"
expect_exit 0 "status --json with keep" rc --json status
check "--json: lossless, rollback_schema keep, not rollback_compatible" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
s = d['schema'][0]
assert s['lossless'] is True and s['rollback_schema'] == 'keep' and s['rollback_compatible'] is False and s['lossy'] == ['0003_drop_name'], s
t = d['targets'][0]
assert t['rollback_lossless'] is True and t['rollback_compatible'] is False, t"
expect_exit 0 "rollback --dry-run with keep" rc rollback --dry-run
err_has "warns that v2's code runs without what the contract dropped" "the schema is kept (lossless), but v2's code runs on a schema without what 0003_drop_name (contract) dropped"
cp "$WORK/ini.down" ripcord.ini
expect_exit 0 "status with schema = down again" rc status
check "LOSSY again, both gauges as before" sh -c "grep -q '^  rollback to v2: LOSSY (0003_drop_name' '$WORK/last.out' && test \"\$(sed -n 's/^ripcord_rollback_lossless{.*} //p' $prom) \$(sed -n 's/^ripcord_rollback_compatible{.*} //p' $prom)\" = '0 1'"
expect_exit 0 "releases --json" rc --json releases
check "releases --json: v3's contract applied at the database's applied_at, lossy against its parent" python3 -c "
import json, sqlite3
at = dict(sqlite3.connect('var/app.db').execute('SELECT version || \'_\' || name, applied_at FROM ripcord_migrations'))
r = {x['id']: x for x in json.load(open('$WORK/last.out'))}
s = r['v3']['schema']
assert s['contract_applied'] == 1 and s['contract_since'] == at['0003_drop_name'], s
assert s['previous'] == 'v2' and s['lossy'] == ['0003_drop_name'], s
v2 = r['v2']['schema']
# v2 against v1: the schema is ahead of v2 by a contract v1 lacks as well
assert v2['expand_applied'] == 2 and [m['migration'] for m in v2['ahead']] == ['0003_drop_name'], v2
assert not v2['lossless'] and v2['lossy'] == ['0003_drop_name'], v2
assert r['v3']['last_drill']['compatibility'] == {'previous': 'v2', 'level': '0002_add_email', 'ok': True, 'result': 'pass'}, r['v3']
assert r['v4']['last_drill']['compatibility'] == {'previous': 'v3', 'level': '0004_rename_email', 'ok': False, 'result': 'fail'}, r['v4']
assert r['v1']['last_drill'] is None, r['v1']"
check "the gauge is typed and explained" sh -c "grep -qx '# TYPE ripcord_rollback_lossless gauge' $prom && grep -q '^# HELP ripcord_rollback_lossless ' $prom"
expect_exit 0 "status --json" rc --json status
check "--json: each migration by phase with its applied_at from the database, lossy, compatible" python3 -c "
import json, sqlite3
d = json.load(open('$WORK/last.out'))
at = dict(sqlite3.connect('var/app.db').execute('SELECT version || \'_\' || name, applied_at FROM ripcord_migrations'))
s = d['schema'][0]
assert s['release'] == 'v3' and s['previous'] == 'v2', s
assert [(m['migration'], m['phase'], m['applied']) for m in s['migrations']] == [('0001_users', 'expand', True), ('0002_add_email', 'expand', True), ('0003_drop_name', 'contract', True)], s
assert all(m['applied_at'] == at[m['migration']] for m in s['migrations']), (s, at)
assert s['contract_since'] == at['0003_drop_name'] and not s['lossless'] and s['lossy'] == ['0003_drop_name'], s
t = d['targets'][0]
assert t['compatible'] == 'pass' and t['rollback_lossless'] is False, t"
expect_exit 0 "the code back to v2, the schema kept (rollback --no-migrate)" rc rollback --no-migrate
expect_exit 0 "status" rc status
check "v2 runs on a schema ahead of it by v3's contract" grep -qx 'schema: v2 on web-1: 2 expand applied; ahead by 0003_drop_name' "$WORK/last.out"
check "ripcord_schema_ahead 1" test "$(gauge ripcord_schema_ahead)" = 1
expect_exit 0 "status --json" rc --json status
check "--json: ahead, with its phase and applied_at" python3 -c "
import json; s = json.load(open('$WORK/last.out'))['schema'][0]
assert s['release'] == 'v2' and [(m['migration'], m['phase'], m['applied']) for m in s['ahead']] == [('0003_drop_name', 'contract', True)], s
assert s['ahead'][0]['applied_at'] > 0, s"

# ---- rollout status ------------------------------------------------------
hport=$((smoke_port + 1))
mkdir -p "$WORK/www" && echo ok > "$WORK/www/index.html"
python3 -m http.server "$hport" --bind 127.0.0.1 --directory "$WORK/www" >/dev/null 2>&1 & webpid=$!
trap 'kill $webpid "$(cat "$APP_PID" 2>/dev/null)" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$hport/" && break; sleep 0.1; done
sed -i "s|^activate = hooks/activate|activate = hooks/activate\nhealth = http://127.0.0.1:$hport/|" ripcord.ini
printf '[rollout]\nsteps = 100%%\nbake = 1s\nprobe_interval = 200ms\nmin_samples = 3\ncompare_baseline = no\n' >> ripcord.ini
expect_exit 0 "a rollout of v3 from v2" rc rollout start v3
expect_exit 0 "rollout status" rc rollout status
check "names the schema's phase and the rollback's loss" grep -qE \
  '^  schema: +2 expand applied, 1 contract applied [0-9]+s ago; rollback to v2: LOSSY \(0003_drop_name applied [0-9]+s ago\)$' "$WORK/last.out"
expect_exit 0 "rollout status --json" rc --json rollout status
check "--json: the schema of the rollout's release against its previous one" python3 -c "
import json; s = json.load(open('$WORK/last.out'))['rollout']['schema']
assert s['release'] == 'v3' and s['previous'] == 'v2' and s['contract_applied'] == 1 and s['lossy'] == ['0003_drop_name'], s"

# ---- the report -----------------------------------------------------------
expect_exit 0 "report" rc report -o "$WORK/r.html"
check "a schema section: web-1 runs v3, its phases, a LOSSY rollback to v2, compatible" python3 -c "
import re; h = open('$WORK/r.html').read()
sec = re.search(r'<section id=\"schema\">(.*?)</section>', h, re.S).group(1)
row = re.search(r'<tr><td>web-1</td>(.*?)</tr>', sec).group(1)
assert '<code>v3</code>' in row and '2 expand applied, 1 contract applied' in row, row
assert '<code>v2</code>' in row and 'class=\"bad\">LOSSY (0003_drop_name applied' in row, row
assert 'class=\"ok\">pass at <code>0002_add_email</code>' in row, row"
expect_exit 0 "report --json" rc --json report
check "report --json: schema per target" python3 -c "
import json; d = json.load(open('$WORK/last.out'))['schema']
assert len(d) == 1 and d[0]['target'] == 'web-1' and d[0]['release'] == 'v3' and d[0]['previous'] == 'v2', d
assert d[0]['compatible'] == 'pass' and d[0]['level'] == '0002_add_email' and d[0]['schema']['lossy'] == ['0003_drop_name'], d"
# ---- a compatibility drill with nothing to probe is not run, never ok ----
cp ripcord.ini "$WORK/ini.bak"
sed -i '/^smoke_health/d' ripcord.ini
: > "$APP_PIDS"
expect_exit 0 "drill v3 without smoke_health" rc drill v3
err_has "the compatibility step says it did not run" "drill v3: compatibility - 0.00s: not run: no smoke_health"
check "the output says not run, never pass or answered" sh -c "grep -qE '^ +compatible with v2: not run: no smoke_health\$' '$WORK/last.out' && ! grep -qE 'pass\$|answered' '$WORK/last.out' '$WORK/last.err'"
check "the apps its hook started are gone all the same" apps_gone
check "recorded as not run" test "$(sqlite3 .ripcord/state.db "SELECT json_extract(steps, '\$[4].step') || ' ' || json_extract(steps, '\$[4].not_run') || ' ' || json_extract(steps, '\$[4].ok') FROM drills WHERE release = 'v3' ORDER BY seq DESC LIMIT 1")" = "compatibility 1 0"
expect_exit 0 "status" rc status
check "status: compatible ... not run" grep -qE '^  rollback to v2: .*; compatible with v2 at its expand level: not run$' "$WORK/last.out"
expect_exit 0 "status --json" rc --json status
check "--json: compatible is 'not run'" python3 -c "
import json; t = json.load(open('$WORK/last.out'))['targets'][0]
assert t['compatible'] == 'not run', t"
expect_exit 0 "drill --json" rc --json drill v3
check "--json: the step not_run, the compatibility result 'not run'" python3 -c "
import json; d = json.load(open('$WORK/last.out'))[0]
c = d['compatibility']
assert c['result'] == 'not run' and c['ok'] is False and c['detail'] == 'not run: no smoke_health', c
s = [s for s in d['steps'] if s['step'] == 'compatibility'][0]
assert s['not_run'] is True and s['ok'] is False, s
assert d['result'] == 'pass', d"
expect_exit 0 "releases --json" rc --json releases
check "releases --json: v3's last drill's compatibility, not run" python3 -c "
import json; r = {x['id']: x for x in json.load(open('$WORK/last.out'))}
assert r['v3']['last_drill']['compatibility']['result'] == 'not run', r['v3']"
# ---- a smoke step with neither hook nor smoke_health is not run either ----
sed -i '/^activate = /d' ripcord.ini
: > "$HOOK_LOG"
expect_exit 0 "drill v3 without an activate hook or smoke_health" rc drill v3
err_has "the smoke step says it did not run" "drill v3: smoke      - 0.00s: not run: no activate hook and no smoke_health"
check "never ok" sh -c "! grep -q 'smoke      ok' '$WORK/last.err'"
check "the output says the smoke test was not run" grep -qE '^ +smoke: not run: no activate hook and no smoke_health$' "$WORK/last.out"
check "and nothing ran" test ! -s "$HOOK_LOG"
check "recorded as not run" test "$(sqlite3 .ripcord/state.db "SELECT json_extract(steps, '\$[3].step') || ' ' || json_extract(steps, '\$[3].not_run') || ' ' || json_extract(steps, '\$[3].ok') FROM drills WHERE release = 'v3' ORDER BY seq DESC LIMIT 1")" = "smoke 1 0"
expect_exit 0 "drill --json" rc --json drill v3
check "--json: the smoke step not_run, the drill passes" python3 -c "
import json; d = json.load(open('$WORK/last.out'))[0]
s = [s for s in d['steps'] if s['step'] == 'smoke'][0]
assert s['not_run'] is True and s['ok'] is False and s['detail'] == 'not run: no activate hook and no smoke_health', s
assert d['result'] == 'pass', d"
cp "$WORK/ini.bak" ripcord.ini
done_testing
