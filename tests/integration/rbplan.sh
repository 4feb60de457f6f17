#!/usr/bin/env bash
# The emergency path (issue 15): `rollback --dry-run` lists every down it
# would run, the statements in each that lose data (a SQLite DROP COLUMN),
# and the last drill of that down and of exactly that path, with its age;
# the real rollback prints the same list as it runs them. `deploy` refuses
# a release whose last drill failed, or that is yanked, without --force,
# and ends with one probe per target. `status` probes every target (real
# HTTP servers on loopback) and sizes its columns to a 40-character id.
. "$(dirname "$0")/lib.sh"

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
# jcheck "description" PYTHON: asserts on d, the JSON document of the last command
jcheck() {
  local out
  if out=$(python3 -c "import json,sys
d = json.load(open(sys.argv[1]))
$2" "$WORK/last.out" 2>&1); then ok "$1"; else not_ok "$1" "$out"; fi
}
out_has() {
  if grep -qF -- "$2" "$WORK/last.out"; then ok "$1"; else
    not_ok "$1" "stdout lacks '$2': $(cat "$WORK/last.out")"; fi
}

# two targets, each with a real HTTP server: web-1 answers /healthz, web-2
# answers 404 (it serves a folder without it)
port1=$(free_ports 2); port2=$((port1 + 1))
mkdir -p "$WORK/www1" "$WORK/www2" && echo ok > "$WORK/www1/healthz"
python3 -m http.server "$port1" --bind 127.0.0.1 --directory "$WORK/www1" >/dev/null 2>&1 & pid1=$!
python3 -m http.server "$port2" --bind 127.0.0.1 --directory "$WORK/www2" >/dev/null 2>&1 & pid2=$!
trap 'kill $pid1 $pid2 2>/dev/null; rm -rf "$WORK"' EXIT
for p in "$port1" "$port2"; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.1; done
done

repo=$WORK/app
mkdir -p "$repo/db/migrations" && cd "$repo" && git init -q .
cat > ripcord.ini <<INI
[project]
name = shop
[migrations]
dir = db/migrations
format = golang-migrate
driver = sqlite
database = var/app.db
[drill]
metrics_file = var/drill.prom
[rollout]
probe_timeout = 2s
[target "web-1"]
root = targets/web-1
health = http://127.0.0.1:$port1/healthz
[target "web-2"]
root = targets/web-2
health = http://127.0.0.1:$port2/healthz
INI
printf 'var/\n.ripcord/\ntargets/\n' > .gitignore
m() { printf '%s\n' "$2" > "db/migrations/$1.up.sql"; printf '%s\n' "$3" > "db/migrations/$1.down.sql"; }
release() { echo "$1" > VERSION && git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1; }
m 0001_orders 'CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT);' 'DROP TABLE orders;'
release v1.0
m 0004_note 'ALTER TABLE orders ADD COLUMN note TEXT;' 'ALTER TABLE orders DROP COLUMN note;'
release v1.1
m 0005_rating 'ALTER TABLE orders ADD COLUMN rating INTEGER;' '-- the rating goes
ALTER TABLE orders
  DROP COLUMN rating;'
release v1.2
for v in v1.0 v1.1 v1.2; do rc -q deploy "$v" >/dev/null 2>&1; done
check "setup: both targets run v1.2, the schema has 3 migrations" sh -c "
  test \"\$(readlink targets/web-1/current) \$(readlink targets/web-2/current)\" = 'releases/v1.2 releases/v1.2' &&
  test \"\$(sqlite3 var/app.db 'SELECT count(*) FROM ripcord_migrations')\" = 3"

# ---- 1. rollback --dry-run: the downs, what they lose, their drills ------
expect_exit 0 "rollback --dry-run before any drill" rc rollback --dry-run
out_has "15.1: lists the down it would run, with the release it came with" "  0005_rating (v1.2)  never drilled"
out_has "15.1: flags its DROP COLUMN with its line and statement" "    destructive, line 2: ALTER TABLE orders DROP COLUMN rating"
out_has "15.1: ... and says what is lost" "drops column orders.rating: the values in it are lost"
out_has "15.1: the path, never drilled" "downs, newest first, from v1.2 back to v1.1; this path never drilled"
expect_exit 0 "drill v1.2 (it starts from v1.1: where a rollback goes)" rc drill v1.2
expect_exit 0 "rollback --dry-run after the drill" rc rollback --dry-run
out_has "15.1: the down's last drill and its age" "  0005_rating (v1.2)  drilled 0m ago: pass"
out_has "15.1: the path's last drill and its age" "from v1.2 back to v1.1; this path drilled 0m ago: pass (the drill took "

expect_exit 0 "rollback --dry-run --to v1.0: two downs" rc rollback --dry-run --to v1.0
out_has "15.1: 0005 was drilled (v1.2 from v1.1 ran it)" "  0005_rating (v1.2)  drilled 0m ago: pass"
out_has "15.1: 0004 never was" "  0004_note (v1.1)  never drilled"
out_has "15.1: ... its DROP COLUMN flagged" "    destructive, line 1: ALTER TABLE orders DROP COLUMN note"
out_has "15.1: and no drill ran exactly v1.2 back to v1.0" "from v1.2 back to v1.0; this path never drilled"
# on a terminal (a pty), without NO_COLOR: "never drilled" in a warning colour
NO_COLOR= script -qec "'$RIPCORD' rollback --dry-run --to v1.0" /dev/null > "$WORK/tty.out" 2>&1
check "15.1: on a terminal, 'never drilled' is in a warning colour" grep -qF "$(printf '\033[33mnever drilled\033[0m')" "$WORK/tty.out"
check "15.1: ... a passing drill is not coloured" grep -qF "(v1.2)  drilled 0m ago: pass" "$WORK/tty.out"
NO_COLOR=1 script -qec "'$RIPCORD' rollback --dry-run --to v1.0" /dev/null > "$WORK/tty.out" 2>&1
check "15.1: ... and with NO_COLOR, nothing is" sh -c "grep -q 'never drilled' '$WORK/tty.out' && ! grep -q \"\$(printf '\\033')\" '$WORK/tty.out'"
check "15.1: newest first" sh -c "grep -n '^  000' '$WORK/last.out' | cut -d' ' -f3 | tr '\n' ' ' | grep -qx '0005_rating 0004_note '"
expect_exit 0 "drill v1.1 (from v1.0)" rc drill v1.1
expect_exit 0 "rollback --json --dry-run --to v1.0" rc --json rollback --dry-run --to v1.0
jcheck "15.1: --json: down_plan has version, release, destructive, drill; path drill null" "
dp = d['down_plan']
assert [x['id'] for x in dp] == ['0005_rating', '0004_note'], dp
assert [x['version'] for x in dp] == ['0005', '0004'] and [x['release'] for x in dp] == ['v1.2', 'v1.1'], dp
assert dp[1]['destructive'] == [{'line': 1, 'statement': 'ALTER TABLE orders DROP COLUMN note', 'why': 'drops column orders.note: the values in it are lost', 'rule': 'drop-column'}], dp[1]
assert dp[0]['destructive'][0]['line'] == 2, dp[0]
for x in dp:
    assert x['drill']['result'] == 'pass' and x['drill']['age_s'] >= 0 and x['drill']['at'] > 1700000000 and not x['ran'], x
assert dp[0]['drill']['release'] == 'v1.2' and dp[1]['drill']['release'] == 'v1.1', dp
assert d['path'] == {'from': 'v1.2', 'to': 'v1.0', 'drill': None}, d['path']
assert d['downs'] == [] and d['dry_run'], d"
check "15.1: the dry run changed nothing" sh -c "
  test \"\$(sqlite3 var/app.db 'SELECT count(*) FROM ripcord_migrations')\" = 3 &&
  test \"\$(readlink targets/web-1/current)\" = releases/v1.2"

# ---- the real rollback prints the same list as it runs them --------------
expect_exit 1 "rollback --to v1.0 (web-2 answers 404: exit 1)" rc rollback --to v1.0
err_has "15.1: it heads the downs as it runs them" "ripcord: downs, newest first, from v1.2 back to v1.0; this path never drilled"
err_has "15.1: ... each down with its drill" "ripcord:   0004_note (v1.1)  drilled 0m ago: pass"
err_has "15.1: ... and what it loses" "ripcord:     destructive, line 1: ALTER TABLE orders DROP COLUMN note"
check "15.1: ... each one before it runs (0005 first, then its progress line)" sh -c "
  grep -n '0005_rating (v1.2)\|0004_note (v1.1)\|migrate down' '$WORK/last.err' | cut -d: -f1 | tr '\n' ' ' | awk '{ exit !(\$1 < \$2 && \$2 < \$3) }'"
check "15.1: the downs ran" test "$(sqlite3 var/app.db 'SELECT count(*) FROM ripcord_migrations')" = 1
out_has "15.1: the table probed both targets: web-2 404" "HTTP 404"

# ---- 2. deploy: a failed last drill or a yank refuses without --force -----
rm -f "$WORK/www2/x"; echo ok > "$WORK/www2/healthz"
m 0006_tag 'CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);' '-- forgets the tags table
SELECT 1;'
release v1.3
expect_exit 1 "drill v1.3 fails (its down forgets the table)" rc drill v1.3
expect_exit 1 "15.2: deploy v1.3 is refused: its last drill failed" rc deploy v1.3
err_has "15.2: ... naming the drill and what to do" "release 'v1.3' failed its last drill ("
err_has "15.2: ... and --force" "or pass --force to deploy it anyway"
check "15.2: ... nothing switched" test "$(readlink targets/web-1/current)" = releases/v1.0
expect_exit 0 "15.2: deploy v1.3 --force" rc deploy v1.3 --force
err_has "15.2: ... warns" "release 'v1.3' failed its last drill ("
err_has "15.2: ... and says it goes on" "deploying it anyway (--force)"
check "15.2: ... both run v1.3" test "$(readlink targets/web-1/current) $(readlink targets/web-2/current)" = "releases/v1.3 releases/v1.3"
check "15.2: the audit entry records --force" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM audit WHERE command = 'ripcord deploy v1.3 --force' AND exit_code = 0")" = 1
check "15.2: deploy ends with one probe per target in its table" sh -c "
  grep -cE '^web-[12] .* ok [0-9]+ ms\$' '$WORK/last.out' | grep -qx 2"
m 0007_x 'CREATE TABLE x (id INTEGER);' 'DROP TABLE x;'
release v1.4
expect_exit 0 "15.2: a release never drilled is not refused" rc deploy v1.4
rc -q releases yank v1.3 --reason "loses tags" >/dev/null 2>&1
expect_exit 1 "15.2: a yanked release (whose drill failed too) is refused" rc deploy v1.3
err_has "15.2: ... naming the yank" "cannot deploy 'v1.3': it was yanked by"
err_has "15.2: ... and the failed drill" "; and release 'v1.3' failed its last drill"
expect_exit 0 "15.2: --force deploys it anyway" rc --json deploy v1.3 --force
err_has "15.2: ... warning of the yank" "(loses tags): cut a fix, or 'ripcord releases unyank v1.3'; deploying it anyway (--force)"
jcheck "15.2: --json: every target probed" "
assert [(t['target'], t['health'][:2]) for t in d['targets']] == [('web-1', 'ok'), ('web-2', 'ok')], d['targets']"
kill "$pid2"; wait "$pid2" 2>/dev/null
expect_exit 1 "15.2: deploy to a target that does not answer exits 1" rc deploy v1.4
check "15.2: ... its table says so" grep -qE '^web-2 .* connection refused$' "$WORK/last.out"
check "15.2: ... and the summary names the probe" grep -q "probe failed on web-2: connection refused" "$WORK/last.out"

# ---- 3. status probes every target --------------------------------------
expect_exit 0 "15.3: status: web-2 does not answer, the exit code stays 0" rc status
check "15.3: a HEALTH column after RUNS" grep -qE '^TARGET +RUNS +HEALTH +RECORDED' "$WORK/last.out"
check "15.3: web-1 answers" grep -qE '^web-1 +v1.4 +ok [0-9]+ ms +v1.4' "$WORK/last.out"
check "15.3: web-2 does not" grep -qE '^web-2 +v1.4 +connection refused +v1.4' "$WORK/last.out"
out_has "15.3: and a line says so" "unhealthy: 1 target did not answer"
expect_exit 0 "15.3: status --json" rc --json status
jcheck "15.3: --json has health and healthy" "
t = {x['target']: x for x in d['targets']}
assert t['web-1']['healthy'] is True and t['web-1']['health'].startswith('ok '), t['web-1']
assert t['web-2']['healthy'] is False and t['web-2']['health'] == 'connection refused', t['web-2']"
expect_exit 0 "15.3: status --no-probe" rc status --no-probe
check "15.3: ... has no HEALTH column" sh -c "! grep -q HEALTH '$WORK/last.out' && grep -qE '^TARGET +RUNS +RECORDED' '$WORK/last.out'"
expect_exit 0 "15.3: status --no-probe --json" rc --json status --no-probe
jcheck "15.3: ... health null" "assert all(x['health'] is None and x['healthy'] is None for x in d['targets']), d"
# probes run at once, each within probe_timeout: a target that hangs costs one wait
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port2)); s.listen(8); time.sleep(30)" & hang=$!
sleep 0.3
sed -i 's/^probe_timeout = 2s/probe_timeout = 1s/' ripcord.ini
t0=$(date +%s%N)
expect_exit 0 "15.3: status with web-2 hanging" rc status
t1=$(date +%s%N)
kill $hang 2>/dev/null
check "15.3: ... web-2 timed out" grep -qE '^web-2 +v1.4 +timed out' "$WORK/last.out"
check "15.3: ... within probe_timeout (1s), not more than 2.5s in all" test $(( (t1 - t0) / 1000000 )) -lt 2500

# ---- 4. columns sized to their content: a 40-character describe id -------
git tag -a shop-service-release-v2026.12 -m rc
echo 1.5 > VERSION && git commit -qam one && echo 1.6 > VERSION && git commit -qam two
long=$(git describe --tags --always)
check "setup: git describe is 40 characters" test ${#long} -eq 40
expect_exit 0 "cut with the default id" rc cut
expect_exit 0 "deploy it" rc deploy "$long" --target web-1
expect_exit 0 "15.4: status" rc status --no-probe
check "15.4: the id is whole, and the next column is apart" \
  awk -v id="$long" '$1 == "web-1" { ok = ($2 == id && $3 == id && $4 == "v1.4") } END { exit !ok }' "$WORK/last.out"
check "15.4: every column starts where its header does" python3 -c "
lines = open('$WORK/last.out').read().splitlines()
h = [l for l in lines if l.startswith('TARGET')][0]
rows = [l for l in lines if l.startswith('web-')]
for col in ('RUNS', 'RECORDED', 'ROLLBACK', 'READY'):
    at = h.index(col)
    for r in rows:
        assert r[at - 2:at] == '  ' and r[at] != ' ', (col, r)
assert len(h) == len(h.rstrip())"
expect_exit 0 "15.4: releases" rc releases
check "15.4: releases shows the id whole, the commit after it" \
  awk -v id="$long" '$1 == id && length($2) == 12 { ok = 1 } END { exit !ok }' "$WORK/last.out"
expect_exit 1 "15.4: the deploy table too (web-2 still does not answer)" rc deploy "$long"
check "15.4: ... FROM and TO whole" \
  awk -v id="$long" '$1 == "web-2" && $2 == "v1.4" && $3 == id { ok = 1 } END { exit !ok }' "$WORK/last.out"

done_testing
