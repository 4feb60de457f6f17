#!/usr/bin/env bash
# Which rollback a drill tests (issue 13, finding 3). v1.0 is deployed;
# v1.1 is cut with migration 0004 but never deployed; v1.2 carries 0004
# and nothing new. Its cut-parent v1.1 already has 0004, so a round trip
# from the cut-parent alone undoes nothing ("0 migrations undone and
# redone"), yet a rollback of v1.2 goes back to v1.0 and runs 0004's down.
# The drill must start from where a rollback goes (the journal), and from
# the cut-parent; a rollback it cannot drill leaves its downs unexercised
# and the release not rollback-ready.
. "$(dirname "$0")/lib.sh"

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

# project NAME DOWN4 [nodeploy]: v1.0 deployed (unless nodeploy), v1.1
# (0004 with down DOWN4) cut, v1.2 cut
project() {
  local repo=$WORK/$1
  mkdir -p "$repo/db/migrations" && cd "$repo" && git init -q .
  cat > ripcord.ini <<'INI'
[project]
name = shop
[migrations]
dir = db/migrations
format = golang-migrate
driver = sqlite
database = var/app.db
[drill]
metrics_file = var/drill.prom
[target "web"]
root = targets/web
INI
  printf 'var/\n.ripcord/\ntargets/\n' > .gitignore
  printf 'CREATE TABLE orders (id INTEGER PRIMARY KEY);\n' > db/migrations/0001_orders.up.sql
  printf 'DROP TABLE orders;\n' > db/migrations/0001_orders.down.sql
  echo 1.0 > VERSION
  git add -A && git commit -qm v1.0 && rc -q cut --id v1.0 >/dev/null 2>&1
  [ "${3:-}" = nodeploy ] || rc -q deploy v1.0 >/dev/null 2>&1
  printf 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n' > db/migrations/0004_notes.up.sql
  printf '%s\n' "$2" > db/migrations/0004_notes.down.sql
  echo 1.1 > VERSION
  git add -A && git commit -qm v1.1 && rc -q cut --id v1.1 >/dev/null 2>&1
  echo 1.2 > VERSION
  git add -A && git commit -qm v1.2 && rc -q cut --id v1.2 >/dev/null 2>&1
}

# --- a bad down that only the rollback to v1.0 would run ---------------
project bad "-- forgets the notes table
SELECT 1;"
check "v1.0 runs, v1.1 and v1.2 are cut" test "$(readlink targets/web/current)" = releases/v1.0
expect_exit 1 "13.3: drill v1.2 fails: the rollback to v1.0 runs 0004's bad down" rc drill v1.2
check "13.3: the failure names 0004's down and the path it came from" sh -c "
  grep -q '0004_notes: down differs' '$WORK/last.out' &&
  grep -q 'from v1.0 (the rollback of web)' '$WORK/last.out'"
check "13.3: ripcord_rollback_ready is 0 for v1.2" \
  grep -q 'ripcord_rollback_ready{project="shop",release="v1.2"} 0' var/drill.prom
# its last drill failed: deploy refuses it without --force (issue 15)
rc -q deploy v1.2 --force >/dev/null 2>&1
expect_exit 1 "13.3: drilled again once deployed, v1.2 still fails from v1.0" rc drill v1.2
check "13.3: ... the rollback's path is the release before the deploy" \
  grep -q 'from v1.0 (the rollback of web)' "$WORK/last.out"
# the premise: that down is what a rollback of v1.2 runs
check "v1.2's deploy applied 0004" test "$(sqlite3 var/app.db 'SELECT count(*) FROM ripcord_migrations')" = 2
expect_exit 0 "rollback of v1.2" rc rollback
check "it went back to v1.0 and ran 0004's down" sh -c "
  test \"\$(readlink targets/web/current)\" = releases/v1.0 &&
  test \"\$(sqlite3 var/app.db 'SELECT count(*) FROM ripcord_migrations')\" = 1"

# --- a good down: the drill passes, and says where it started from ---
project good "DROP TABLE notes;"
expect_exit 0 "drill v1.2 passes" rc drill v1.2
err_has "13.3: the rollback's path undid and redid 0004" "from v1.0 (the rollback of web): 1 migration undone and redone"
err_has "13.3: the cut-parent's path ran too" "from v1.1 (the cut-parent): 0 migrations undone and redone"
check "13.3: the result line says where it started from" grep -qE '^v1.2 +PASS +[0-9.]+s +drilled from v1.0 and v1.1$' "$WORK/last.out"
expect_exit 0 "drill v1.2 --json" rc --json drill v1.2
check "13.3: --json lists the paths, rollback first, and no unexercised downs" python3 -c "
import json, sys
d = json.load(open('$WORK/last.out'))[0]
p = d['paths']
assert [(x['from'], x['rollback'], x['parent'], x['checked']) for x in p] == [('v1.0', True, False, 1), ('v1.1', False, True, 0)], p
assert d['unexercised'] is None, d
"
check "13.3: the drills row records the releases it started from" test \
  "$(sqlite3 .ripcord/state.db "SELECT json_extract(value, '\$.from') FROM drills, json_each(drills.steps) WHERE json_extract(value, '\$.step') = 'round trip' ORDER BY seq DESC LIMIT 1")" = '["v1.0","v1.1"]'
check "v1.2 is rollback-ready" grep -q 'ripcord_rollback_ready{project="shop",release="v1.2"} 1' var/drill.prom
expect_exit 0 "releases --json" rc --json releases
check "13.3: releases --json says where v1.2's last drill started from" python3 -c "
import json
r = [x for x in json.load(open('$WORK/last.out')) if x['id'] == 'v1.2'][0]
assert r['last_drill']['from'] == ['v1.0', 'v1.1'], r
"
expect_exit 0 "report --json" rc --json report
check "13.3: the report's readiness says where v1.2's drill started from" python3 -c "
import json
r = [x for x in json.load(open('$WORK/last.out'))['readiness'] if x['release'] == 'v1.2'][0]
assert r['ready'] and r['last_drill']['from'] == ['v1.0', 'v1.1'], r
"

# a rollback whose release cannot be read: its downs were never exercised
rc -q deploy v1.2 >/dev/null 2>&1
mv .ripcord/artifacts/v1.0.tar.zst "$WORK/v1.0.tar.zst"
expect_exit 1 "13.3: v1.0's artifact gone, drill v1.2 fails" rc drill v1.2
check "13.3: ... naming the rollback whose downs were never exercised" sh -c "
  grep -q 'downs never exercised: the downs a rollback of web from v1.2 to v1.0 would run' '$WORK/last.out'"
check "13.3: ... and v1.2 is not rollback-ready" \
  grep -q 'ripcord_rollback_ready{project="shop",release="v1.2"} 0' var/drill.prom
expect_exit 0 "report" rc report -o "$WORK/report.html"
check "13.3: the report's readiness says its downs were never exercised" \
  grep -q 'no: its last drill left downs a rollback runs unexercised' "$WORK/report.html"
mv "$WORK/v1.0.tar.zst" .ripcord/artifacts/v1.0.tar.zst

# drilled before anything was deployed: from the cut-parent alone; then
# v1.0 and v1.2 are deployed, and a rollback of v1.2 goes to v1.0
project late "DROP TABLE notes;" nodeploy
expect_exit 0 "a first release with nothing deployed drills" rc --json drill v1.0
check "13.3: ... from an empty schema alone" python3 -c "
import json
d = json.load(open('$WORK/last.out'))[0]
assert [(x['from'], x['parent']) for x in d['paths']] == [(None, True)], d['paths']
"
expect_exit 0 "drill v1.2, nothing deployed" rc --json drill v1.2
check "13.3: ... from its cut-parent alone" python3 -c "
import json
d = json.load(open('$WORK/last.out'))[0]
assert [(x['from'], x['parent'], x['rollback']) for x in d['paths']] == [('v1.1', True, False)], d['paths']
"
rc -q deploy v1.0 >/dev/null 2>&1 && rc -q deploy v1.2 >/dev/null 2>&1
expect_exit 0 "status after deploying v1.0, then v1.2" rc status
check "13.3: status says the rollback to v1.0 was never drilled" grep -qE \
  "^web +v1.2 +v1.2 +v1.0 .*rollback to v1.0 never drilled: v1.2 was drilled from v1.1 \(run 'ripcord drill v1.2'\)" "$WORK/last.out"
expect_exit 0 "status --json" rc --json status
check "13.3: status --json: drilled_from and rollback_unexercised" python3 -c "
import json
t = json.load(open('$WORK/last.out'))['targets'][0]
assert t['drilled_from'] == ['v1.1'] and t['rollback_unexercised'] is True, t
"
expect_exit 0 "drill --due" rc drill --due
check "13.3: --due drills v1.2 again: its drill did not start where rollback goes" \
  grep -qE '^v1.2 +PASS' "$WORK/last.out"
expect_exit 0 "status after that drill" rc --json status
check "13.3: status --json: drilled from v1.0 and v1.1, nothing unexercised" python3 -c "
import json
t = json.load(open('$WORK/last.out'))['targets'][0]
assert t['drilled_from'] == ['v1.0', 'v1.1'] and t['rollback_unexercised'] is False, t
"
expect_exit 0 "drill --due once more" rc drill --due
check "now nothing is due" grep -q "no release is due" "$WORK/last.out"
check "no scratch folder is left behind" sh -c "! ls -d '$TMPDIR'/ripcord-drill-* 2>/dev/null | grep -q ."

done_testing
