#!/usr/bin/env bash
# Where deploy, rollback, rollout and the audit log meet (issue 13): a
# failed up names its migration and leaves every target where it was, an
# abort undoes exactly what its rollout applied and says so, a probe that
# fails after a good rollback is not called a failed rollback, downs are
# named wherever they run, and the audit log says from, to, targets and
# migrations.
. "$(dirname "$0")/lib.sh"

shop_fleet 4
printf '[rollout]\nsteps = 25%%, 100%%\nbake = 1s\nprobe_interval = 250ms\nprobe_timeout = 1s\nmax_error_rate = 1%%\nmin_samples = 3\ncompare_baseline = no\nrequire_drill = no\n' >> "$WORK/base.ini"
# these aborts undo what their rollout applied (the default keeps it)
printf '[rollback]\nabort_schema = down\n' >> "$WORK/base.ini"
cp "$WORK/base.ini" ripcord.ini
# release ID VERSION [health.conf lines]: commit, then cut release ID
release() {
  echo "$2" > VERSION
  printf 'status = 200\ndelay_ms = 0\n%b' "${3:-}" > health.conf
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1
}
db() { sqlite3 var/shop.db "$1"; }
runs() { local i s=""; for i in 1 2 3 4; do s="$s $(readlink targets/web-$i/current | sed 's|releases/||')"; done; echo "${s# }"; }

release v1 1.0.0
# v2's up fails in the database: a column that already exists
printf 'ALTER TABLE orders ADD COLUMN item TEXT;\n' > db/migrations/0003_dup.up.sql
printf 'SELECT 1;\n' > db/migrations/0003_dup.down.sql
release v2 2.0.0
git rm -q db/migrations/0003_dup.*
printf 'ALTER TABLE orders ADD COLUMN note TEXT;\n' > db/migrations/0003_add_note.up.sql
printf 'ALTER TABLE orders DROP COLUMN note;\n' > db/migrations/0003_add_note.down.sql
release v3 3.0.0
printf 'ALTER TABLE orders ADD COLUMN rating INTEGER;\n' > db/migrations/0004_rating.up.sql
printf 'ALTER TABLE orders DROP COLUMN rating;\n' > db/migrations/0004_rating.down.sql
release v4 4.0.0
printf 'ALTER TABLE orders ADD COLUMN gift INTEGER;\n' > db/migrations/0005_gift.up.sql
printf 'ALTER TABLE orders DROP COLUMN gift;\n' > db/migrations/0005_gift.down.sql
release v5 5.0.0

# nothing serves yet: the deploy's closing probes fail (issue 15), exit 1
expect_exit 1 "deploy v1 (nothing serves yet)" rc deploy v1
check "15.2: ... every target switched, its probe failed" sh -c "grep -c '^web-[1-4] .* v1 .*connection refused\$' '$WORK/last.out' | grep -qx 4"
serve() { python3 "$1/current/server.py" "$2" "$1/current" >/dev/null 2>&1 & echo $!; }
pids=""
for i in 1 2 3 4; do pids="$pids $(serve targets/web-$i $((port1 + i - 1)))"; done
trap 'kill $pids 2>/dev/null; rm -rf "$WORK"' EXIT
for i in 1 2 3 4; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$((port1 + i - 1))/healthz" && break; sleep 0.1; done
done

# ---- 13.1: a deploy whose up fails -----------------------------------
expect_exit 1 "a deploy whose up-migration fails exits 1" rc deploy v2
check "no target switched" test "$(runs)" = "v1 v1 v1 v1"
check "13.1: the table says every target is unchanged, still on v1" sh -c "
  grep -E '^web-1 +v1 +v1 .*unchanged' '$WORK/last.out' && grep -E '^web-4 +v1 +v1 .*unchanged' '$WORK/last.out'"
err_has "13.1: the error names the migration, its version and file" "migration '0003_dup' (version 0003, v2.tar.zst:ripcord/migrations/0003_dup.up.sql)"
err_has "and the database's own message" "duplicate column name: item"
err_has "13.1: and says where the targets are" "switched: 0/4; ups run: 0; web-1 unchanged (still on v1)"
check "13.1: no empty field in the error" sh -c "! grep -q 'migrate up :' '$WORK/last.err'"
"$RIPCORD" --json deploy v2 > "$WORK/d.json" 2>/dev/null
check "13.1: --json says no target went to v2 and none is ok" python3 -c "
import json
d = json.load(open('$WORK/d.json'))
assert d['ok'] is False, d
for t in d['targets']:
    assert t['to'] == 'v1' and t['from'] == 'v1' and t['ok'] is False, t
    assert t['switched'] is False, t
assert '0003_dup' in d['error'], d"

# ---- 13.4: a release older than the schema ----------------------------
expect_exit 0 "deploy v4 (ups 0003, 0004)" rc deploy v4
check "the schema is at 0004" test "$(db 'SELECT count(*) FROM ripcord_migrations')" = 4
expect_exit 0 "deploy v3, which carries up to 0003" rc deploy v3
err_has "13.4: deploying an older release says the schema is ahead" "schema is at 0004_rating, v3 carries up to 0003_add_note: the running code will see 0004_rating's columns; 'ripcord migrate down --to v3' would drop them"
check "and 0004 stays" test "$(db 'SELECT count(*) FROM ripcord_migrations')" = 4
"$RIPCORD" --json deploy v3 --dry-run > "$WORK/ahead.json" 2>/dev/null
check "13.4: --json carries the warning" python3 -c "
import json; d = json.load(open('$WORK/ahead.json')); assert 'schema is at 0004_rating' in d['warning'], d"

# ---- 13.4 and 13.2: an abort undoes what its rollout applied, no more, and
# a probe that fails after every target is back is not a failed rollback --
expect_exit 0 "rollout start v5 --manual: step 1 passes and pauses" rc rollout start v5 --manual
check "v5's up ran" test "$(db 'SELECT count(*) FROM ripcord_migrations')" = 5
check "web-1 runs v5" test "$(runs)" = "v5 v3 v3 v3"
# web-3's health URL goes wrong: only its final probe can fail
sed -i "s|127.0.0.1:$((port1 + 2))/healthz|127.0.0.1:$((port1 + 50))/healthz|" ripcord.ini
expect_exit 1 "rollout abort exits 1: a probe failed" rc rollout abort
check "every target is back on v3" test "$(runs)" = "v3 v3 v3 v3"
all="$WORK/last.out $WORK/last.err"
check "13.2: the abort says what happened" sh -c "cat $all | grep -qF 'switched back: 4/4; downs run: 1 (0005_gift); probe failed on web-3: '"
check "13.2: naming the URL that failed" sh -c "cat $all | grep -qF '(http://127.0.0.1:$((port1 + 50))/healthz)'"
check "13.2: and does not say the rollback failed" sh -c "! cat $all | grep -q 'back on v3 failed\|rollback failed'"
check "13.4: the abort undid 0005 only: 0004 was there before the rollout" test "$(db "SELECT group_concat(version || '_' || name) FROM ripcord_migrations")" = "0001_create_orders,0002_add_status,0003_add_note,0004_rating"
check "13.4: 0004's column is still there" db "SELECT rating FROM orders"
check "13.4: the output names the down it ran" sh -c "cat $all | grep -E 'migrate down .*0005_gift'"
check "13.2: rollout status says rolled back" sh -c "'$RIPCORD' --json rollout status | grep -q 'rolled back, unhealthy'"

# ---- 13.2 and 13.4: rollback's summary, its downs by name ----------------
"$RIPCORD" --json rollback --to v1 > "$WORK/rb.json" 2>"$WORK/rb.err"; rbrc=$?
check "rollback with web-3's probe failing exits 1" test "$rbrc" = 1
check "13.4: rollback --json names each down it ran, newest first" python3 -c "
import json; d = json.load(open('$WORK/rb.json'))
assert d['downs'] == ['0004_rating', '0003_add_note'], d"
check "13.2: its error says every target went back and which probe failed" python3 -c "
import json; d = json.load(open('$WORK/rb.json'))
assert 'switched back: 4/4; downs run: 2 (0004_rating, 0003_add_note); probe failed on web-3' in d['error'], d"
sed -i "s|127.0.0.1:$((port1 + 50))/healthz|127.0.0.1:$((port1 + 2))/healthz|" ripcord.ini
expect_exit 0 "rollback --to v3 (healthy again)" rc rollback --to v3 --no-migrate

# a rollout that applies nothing (the schema was ahead already): its abort
# runs no down at all
expect_exit 0 "deploy v4, then v3 again: the schema is ahead" sh -c "'$RIPCORD' -q deploy v4 && '$RIPCORD' -q deploy v3"
expect_exit 0 "rollout start v4 --manual applies no up" rc rollout start v4 --manual
expect_exit 0 "rollout abort" rc rollout abort
check "13.4: an abort of a rollout that applied nothing leaves 0004" test "$(db 'SELECT count(*) FROM ripcord_migrations')" = 4
check "every target is back on v3" test "$(runs)" = "v3 v3 v3 v3"

# an abort whose rollback cannot even be planned (the release it goes back
# to was yanked) fails with a JSON document, not a crash (it dereferenced
# the empty plan), and changes nothing
expect_exit 0 "rollout start v4 --manual, once more" rc rollout start v4 --manual
expect_exit 0 "yank v3, where an abort would go" rc releases yank v3 --reason "a test"
"$RIPCORD" --json rollout abort >"$WORK/ab.json" 2>"$WORK/ab.err"; code=$?
check "rollout abort --json that cannot plan its rollback exits 1, not a crash" test "$code" = 1
check "... printing JSON documents only" python3 -c "
import json
for l in open('$WORK/ab.json'):
    json.loads(l)"
check "... and no target moved" test "$(runs)" = "v4 v3 v3 v3"
check "... saying the rollback failed and what to run" grep -q "putting the targets back on v3 failed: .*run 'ripcord rollback --to v3'" "$WORK/ab.err"
expect_exit 0 "unyank v3" rc releases unyank v3
expect_exit 0 "then rollback --to v3 puts web-1 back" rc rollback --to v3 --no-migrate
check "every target is back on v3 again" test "$(runs)" = "v3 v3 v3 v3"

# ---- 13.8: deploy while a rollout is interrupted ---------------------------
"$RIPCORD" rollout start v5 --bake 60s >/dev/null 2>&1 & bgpid=$!
pids="$pids $bgpid"
for _ in $(seq 1 300); do
  "$RIPCORD" --json rollout status 2>/dev/null | grep -q '"phase": *"baking"' && break; sleep 0.1
done
kill -9 "$bgpid"; { wait "$bgpid"; } 2>/dev/null
expect_exit 5 "deploy while a rollout is interrupted exits 5" rc deploy v4
err_has "13.8: and says what to run" "its process is gone and its state is saved; run 'ripcord rollout resume' to go on with it, or 'ripcord rollout abort' to put every target back on v3"
check "ripcord(1) gives deploy exit 5 for it" grep -q "\*deploy\*, \*rollout start\* and \*promote\* refuse with 5" "$SOURCE_ROOT/man/ripcord.1.scd"
expect_exit 0 "rollout abort ends it" rc rollout abort
check "13.4: that abort undid 0005, the one up its rollout applied" test "$(db "SELECT group_concat(version || '_' || name) FROM ripcord_migrations")" = "0001_create_orders,0002_add_status,0003_add_note,0004_rating"

expect_exit 0 "deploy v4 again" rc deploy v4
expect_exit 0 "migrate down --to v3" rc migrate down --to v3
check "names its down" grep -qE "^ok +down +0004_rating" "$WORK/last.out"

# ---- 13.5: the audit log names releases, targets and migrations -----------
rc --json log > "$WORK/log.json"
check "13.4: migrate down's audit entry names its down" python3 -c "
import json; d = json.load(open('$WORK/log.json'))
e = [e for e in d if e['command'] == 'ripcord migrate down --to v3'][0]
assert e['migrations'] == 'down 0004_rating', e"
check "13.5: log --json: a deploy says from, to, targets and its ups" python3 -c "
import json; d = json.load(open('$WORK/log.json'))
e = [e for e in d if e['command'] == 'ripcord deploy v4'][0]
assert e['from'] == 'v1' and e['to'] == 'v4', e
assert e['targets'] == 'web-1,web-2,web-3,web-4', e
assert e['migrations'] == 'up 0003_add_note,0004_rating', e"
check "13.5: the older release's deploy records the schema ahead" python3 -c "
import json; d = json.load(open('$WORK/log.json'))
e = [e for e in d if e['command'] == 'ripcord deploy v3'][0]
assert 'schema ahead' in e['migrations'] and '0004_rating' in e['migrations'], e"
check "13.5: the abort names its down" python3 -c "
import json; d = json.load(open('$WORK/log.json'))
e = [e for e in d if e['command'] == 'ripcord rollout abort'][0]
assert e['from'] == 'v5' and e['to'] == 'v3' and e['migrations'] == 'down 0005_gift', e
assert e['targets'] == 'web-1,web-2,web-3,web-4', e"
check "13.5: as does the rollback" python3 -c "
import json; d = json.load(open('$WORK/log.json'))
e = [e for e in d if e['command'] == 'ripcord --json rollback --to v1'][0]
assert e['migrations'] == 'down 0004_rating,0003_add_note' and e['to'] == 'v1', e"
rc log > "$WORK/log.txt"
check "13.5: ripcord log shows them" grep -qF "v1 -> v4 on web-1,web-2,web-3,web-4; up 0003_add_note,0004_rating" "$WORK/log.txt"
expect_exit 0 "the chain verifies" rc log --verify

# an old store (schema 6, entries without the new columns) upgraded
mkdir -p "$WORK/old" && cd "$WORK/old" && git init -q . && echo hi > index.html
printf '[project]\nstore = .ripcord\n[target "a"]\nroot = t/a\n' > ripcord.ini
printf '.ripcord/\nt/\n' > .gitignore
git add -A && git commit -qm o1 && rc -q cut --id o1 >/dev/null 2>&1
rc -q deploy o1 >/dev/null 2>&1
sqlite3 .ripcord/state.db "DELETE FROM audit WHERE seq > 1; UPDATE sqlite_sequence SET seq = 1 WHERE name = 'audit';
  ALTER TABLE audit DROP COLUMN from_release; ALTER TABLE audit DROP COLUMN to_release;
  ALTER TABLE audit DROP COLUMN targets; ALTER TABLE audit DROP COLUMN migrations;
  ALTER TABLE rollouts DROP COLUMN applied; ALTER TABLE lock_holder DROP COLUMN release;
  ALTER TABLE lock_holder DROP COLUMN preemptible; ALTER TABLE lock_holder DROP COLUMN request;
  ALTER TABLE lock_holder DROP COLUMN request_pid; ALTER TABLE lock_holder DROP COLUMN request_host;
  DROP TABLE verdicts; DROP TABLE release_migrations; PRAGMA user_version = 6;"
expect_exit 0 "a schema 6 store verifies" rc log --verify
git commit -qm o2 --allow-empty && rc -q cut --id o2 >/dev/null 2>&1
expect_exit 0 "deploy o2 upgrades it" rc deploy o2
check "13.5: to the current schema (10)" test "$(sqlite3 .ripcord/state.db 'PRAGMA user_version')" = 10
expect_exit 0 "and log --verify passes across the upgrade" rc log --verify
check "13.5: the new entry names its move" sh -c "'$RIPCORD' --json log | grep -q '\"from\": *\"o1\", *\"to\": *\"o2\"\|\"to\": *\"o2\"'"
cd "$repo"

done_testing
