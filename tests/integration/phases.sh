#!/usr/bin/env bash
# Expand and contract phases of migrations (issue 16): a migration is
# contract when its up's first line says so ("-- ripcord: contract", with
# or without the space, in every layout) or [migrations] contract lists
# it; every other is expand. The phase is carried in the artifact (the
# normalised up) and shown by `migrate status`, text and --json.
#
# Then the phases at work, on a second project with two targets served on
# loopback: deploy and rollout start apply expand ups only and hold the
# contract ones back (said in the output, --json and the audit log; never
# in a rollout's applied list); an expand up after a held-back contract up
# is applied all the same; `migrate contract` is refused while a rollout
# is paused, while a target runs another release and before
# contract_after (--now skips only that), --dry-run changes nothing, and
# it applies them with an audit entry; [rollout] auto_contract runs it
# when a rollout completes once contract_after is 0, and says when it may
# run otherwise. Every claim about the schema is read from the database.
. "$(dirname "$0")/lib.sh"

REPO=$WORK/app
mkdir -p "$REPO/db/migrations" "$REPO/var" && cd "$REPO" && git init -q .
printf '[project]\nname = app\n[migrations]\ndir = db/migrations\ndriver = sqlite\ndatabase = var/app.db\ncontract = 0003\n' > ripcord.ini
printf 'var/\n.ripcord/\n' > .gitignore
d=db/migrations
printf 'CREATE TABLE users (id INTEGER PRIMARY KEY, mail TEXT, email TEXT);\n' > $d/0001_add_email.up.sql
printf 'DROP TABLE users;\n' > $d/0001_add_email.down.sql
printf -- '-- ripcord: contract\nALTER TABLE users DROP COLUMN mail;\n' > $d/0002_drop_mail.up.sql
printf 'ALTER TABLE users ADD COLUMN mail TEXT;\n' > $d/0002_drop_mail.down.sql
printf 'CREATE TABLE pager (id INTEGER);\n' > $d/0003_listed.up.sql
printf 'DROP TABLE pager;\n' > $d/0003_listed.down.sql
git add -A && git commit -qm r1
expect_exit 0 "cut r1" rc cut --id r1
check "the listed contract up carries the mark in the artifact" sh -c \
  "tar --zstd -xOf .ripcord/artifacts/r1.tar.zst ripcord/migrations/0003_listed.up.sql | head -1 | grep -qx -- '-- ripcord:contract'"
check "the project's own mark is kept as written, not doubled" sh -c \
  "[ \"\$(tar --zstd -xOf .ripcord/artifacts/r1.tar.zst ripcord/migrations/0002_drop_mail.up.sql | grep -c 'ripcord')\" = 1 ]"
expect_exit 0 "migrate status" rc migrate status r1
check "status marks the contract migrations, not the expand one" sh -c \
  "grep -q '0001_add_email\$' '$WORK/last.out' && grep -q '0002_drop_mail \[contract\]\$' '$WORK/last.out' && grep -q '0003_listed \[contract\]\$' '$WORK/last.out'"
expect_exit 0 "migrate status --json" rc --json migrate status r1
check "--json gives every migration its phase" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert [m['phase'] for m in d['migrations']] == ['expand', 'contract', 'contract'], d"
expect_exit 0 "migrate up r1" rc migrate up r1
check "applied, they keep their phase" sh -c \
  "'$RIPCORD' migrate status r1 | grep -q '^applied .*0002_drop_mail \[contract\]\$'"

# ---- the phases at work ------------------------------------------------
P=$WORK/ph
mkdir -p "$P/db/migrations" "$P/var" "$P/www" && cd "$P" && git init -q .
echo ok > www/healthz
port=$(free_ports 1)
python3 -m http.server "$port" --bind 127.0.0.1 --directory www >/dev/null 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
# ph_ini [key=value]...: the config, with these [section] keys changed
ph_ini() {
  cat > ripcord.ini <<INI
[project]
name = ph
[migrations]
dir = db/migrations
driver = sqlite
database = var/app.db
contract_after = 1h
[target "a"]
root = targets/a
health = http://127.0.0.1:$port/healthz
[target "b"]
root = targets/b
health = http://127.0.0.1:$port/healthz
[rollout]
steps = 50%, 100%
bake = 500ms
probe_interval = 100ms
min_samples = 1
max_p99_ms = 2000
compare_baseline = no
require_drill = no
auto_contract = no
INI
  local kv
  for kv in "$@"; do sed -i "s|^${kv%%=*} = .*|${kv%%=*} = ${kv#*=}|" ripcord.ini; done
}
ph_ini
printf 'var/\n.ripcord/\ntargets/\n' > .gitignore
d=db/migrations
# cols TABLE: its columns, comma separated; tables: every table
cols() { python3 -c "import sqlite3,sys; print(','.join(r[1] for r in sqlite3.connect('var/app.db').execute('PRAGMA table_info(' + sys.argv[1] + ')')))" "$1"; }
tables() { python3 -c "import sqlite3; print(','.join(r[0] for r in sqlite3.connect('var/app.db').execute(\"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'ripcord%' AND name NOT LIKE 'sqlite%' ORDER BY name\")))"; }
q() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$@"; }
release() { git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1; }

printf "CREATE TABLE users (id INTEGER PRIMARY KEY, mail TEXT);\nINSERT INTO users (mail) VALUES ('ann@example.org');\nCREATE TABLE legacy (id INTEGER);\n" > $d/0001_users.up.sql
printf 'DROP TABLE legacy;\nDROP TABLE users;\n' > $d/0001_users.down.sql
release r1
# r2: the expand adds email and copies mail into it; the contract drops mail
printf 'ALTER TABLE users ADD COLUMN email TEXT;\nUPDATE users SET email = mail;\n' > $d/0002_add_email.up.sql
printf 'ALTER TABLE users DROP COLUMN email;\n' > $d/0002_add_email.down.sql
printf -- '-- ripcord: contract\nALTER TABLE users DROP COLUMN mail;\n' > $d/0003_drop_mail.up.sql
printf 'ALTER TABLE users ADD COLUMN mail TEXT;\n' > $d/0003_drop_mail.down.sql
git add -A && git commit -qm r2
expect_exit 0 "cut r2" rc cut --id r2
err_has "cut warns: r2 is the first to carry both the expand and the contract of users" \
  "0003_drop_mail.up.sql:2: expand-contract-together: contract migration 0003_drop_mail and expand migration 0002_add_email both touch table users"
err_has "... and counts it" "1 lint finding in the migrations of r2"
# r3: an expand up after r2's contract up, which is still held back
printf 'ALTER TABLE users ADD COLUMN phone TEXT;\n' > $d/0004_add_phone.up.sql
printf 'ALTER TABLE users DROP COLUMN phone;\n' > $d/0004_add_phone.down.sql
release r3
# r4: an expand and a contract of other tables; r5: one more contract
printf 'CREATE TABLE tmp (x INTEGER);\n' > $d/0005_add_tmp.up.sql
printf 'DROP TABLE tmp;\n' > $d/0005_add_tmp.down.sql
printf -- '-- ripcord:contract\nDROP TABLE legacy;\n' > $d/0006_drop_legacy.up.sql
printf 'CREATE TABLE legacy (id INTEGER);\n' > $d/0006_drop_legacy.down.sql
release r4
printf -- '-- ripcord:contract\nDROP TABLE tmp;\n' > $d/0007_drop_tmp.up.sql
printf 'CREATE TABLE tmp (x INTEGER);\n' > $d/0007_drop_tmp.down.sql
release r5
check "five releases cut" test "$(rc releases | grep -cE '^r[1-5] ')" -eq 5
expect_exit 1 "migrate lint r2" rc migrate lint r2
check "... names the rule and says expand and contract belong in two releases" grep -q \
  "0003_drop_mail.up.sql:2: expand-contract-together: .*expand and contract of one change belong in two releases" "$WORK/last.out"
expect_exit 0 "migrate lint r4: its contract drops are no finding, 0003 not new any more" rc migrate lint r4

expect_exit 0 "deploy r1" rc deploy r1
check "r1's schema: users with mail" test "$(cols users)" = "id,mail"

expect_exit 0 "deploy --dry-run r2" rc deploy --dry-run r2
check "--dry-run says the contract up is held back, and why" grep -qxF \
  "held back: 0003_drop_mail (contract): run 'ripcord migrate contract r2' once r2 has proven itself" "$WORK/last.out"
check "--dry-run changed nothing" test "$(cols users)" = "id,mail"
expect_exit 0 "--json deploy --dry-run r2" rc --json deploy --dry-run r2
check "--json names the held-back ups and says why" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert d['held_back'] == ['0003_drop_mail'], d
assert d['held_note'].startswith('held back: 0003_drop_mail (contract)'), d"
expect_exit 0 "deploy r2" rc deploy r2
check "deploy r2 applied the expand up only: email added and filled, mail still there" \
  test "$(cols users)/$(q var/app.db 'SELECT email FROM users')" = "id,mail,email/ann@example.org"
check "deploy r2 says what it held back" grep -qxF \
  "held back: 0003_drop_mail (contract): run 'ripcord migrate contract r2' once r2 has proven itself" "$WORK/last.out"
check "... and ran only the expand up" grep -q 'ups run: 1 (0002_add_email)' "$WORK/last.out"
check "the contract up is pending in the database" sh -c \
  "'$RIPCORD' migrate status r2 | grep -q '^pending .*0003_drop_mail \[contract\]\$'"
check "the audit entry records the held-back up" sh -c \
  "'$RIPCORD' log --json | python3 -c \"
import json, sys; e = [x for x in json.load(sys.stdin) if x['command'] == 'ripcord deploy r2'][-1]
assert e['migrations'] == 'up 0002_add_email; held back: 0003_drop_mail', e\""

# migrate contract: refused before contract_after (1h), changing nothing
expect_exit 1 "migrate contract before contract_after is refused" rc migrate contract
err_has "... naming the wait and --now" "contract_after (1h) has"
check "... mail is still there" test "$(cols users)" = "id,mail,email"
expect_exit 1 "migrate contract --dry-run: exit 1 as the command would" rc migrate contract --dry-run
check "... listing which checks pass and which does not" sh -c \
  "grep -qx 'held back in r2: 0003_drop_mail' '$WORK/last.out' && grep -q '^ok   rollout ' '$WORK/last.out' && grep -q '^ok   targets ' '$WORK/last.out' && grep -q '^FAIL contract_after .*has .* left' '$WORK/last.out' && grep -qx 'would be refused' '$WORK/last.out'"
expect_exit 0 "migrate contract --dry-run --now" rc migrate contract --dry-run --now
check "--dry-run lists the held-back up and every check" sh -c \
  "grep -qx 'held back in r2: 0003_drop_mail' '$WORK/last.out' && grep -q '^ok   rollout ' '$WORK/last.out' && grep -q '^ok   targets .*every target runs r2' '$WORK/last.out' && grep -q '^ok   contract_after .*--now' '$WORK/last.out' && grep -qx 'would apply them' '$WORK/last.out'"
check "--dry-run changed nothing" test "$(cols users)" = "id,mail,email"
expect_exit 1 "migrate contract r3 --now: no target runs r3" rc migrate contract r3 --now
err_has "... naming the targets and their releases" "not every target runs r3: 'a' runs r2, 'b' runs r2"

# rollout start r3, paused after step 1: the expand up after the held
# contract up is applied (a gap the engine allows), the contract up not
expect_exit 0 "rollout start --manual r3 pauses after step 1" rc rollout start --manual r3
check "rollout start said the contract up is held back" grep -qF \
  "held back: 0003_drop_mail (contract): run 'ripcord migrate contract r3'" "$WORK/last.err"
check "r3's expand up ran past the held contract up: phone added, mail kept" \
  test "$(cols users)" = "id,mail,email,phone"
check "the rollout's applied list has the expand up only" \
  test "$(q .ripcord/state.db 'SELECT applied FROM rollouts ORDER BY seq DESC')" = "0004_add_phone"
check "the database records the gap: 0004 applied, 0003 pending" sh -c \
  "'$RIPCORD' migrate status r3 | grep -q '^applied .*0004_add_phone\$' && '$RIPCORD' migrate status r3 | grep -q '^pending .*0003_drop_mail \[contract\]\$'"
expect_exit 4 "migrate contract --now while the rollout is paused is refused" rc migrate contract r2 --now
err_has "... naming the rollout" "rollout of r3"
expect_exit 4 "migrate contract with no ID while the rollout is paused is refused" rc migrate contract --now
err_has "... naming the rollout and where the targets are" "contract waits until it has ended; the targets do not all run one release (a: r3, b: r2)"
check "... mail is still there" test "$(cols users)" = "id,mail,email,phone"
expect_exit 0 "rollout abort" rc rollout abort
check "the abort left mail alone (it never ran its contract)" \
  test "$(cols users | cut -d, -f1-3)" = "id,mail,email"

# migrate contract --now: the wait skipped, the other checks passed
expect_exit 0 "migrate contract --now applies r2's contract up" rc migrate contract --now
check "mail is gone, email kept its data" \
  test "$(cols users | cut -d, -f1-2)/$(q var/app.db 'SELECT email FROM users')" = "id,email/ann@example.org"
check "... said" grep -qx 'contract of r2: 1 migration applied' "$WORK/last.out"
check "the audit entry names the up it applied" sh -c \
  "'$RIPCORD' log --json | python3 -c \"
import json, sys; e = json.load(sys.stdin)[-1]
assert e['command'] == 'ripcord migrate contract --now' and e['migrations'] == 'up 0003_drop_mail' and e['exit_code'] == 0, e\""
expect_exit 0 "migrate contract again: nothing held back" rc migrate contract
check "... says so" grep -qx 'nothing held back: every contract migration of r2 is applied' "$WORK/last.out"

# auto_contract with contract_after = 1h: the rollout completes, the
# contract waits and the rollout says until when
ph_ini auto_contract=yes
expect_exit 0 "rollout start r4 (auto_contract, contract_after 1h)" rc rollout start r4
check "it completed, its expand up ran (tmp), its contract up waits (legacy)" \
  test "$(tables)" = "legacy,tmp,users"
check "... and it says until when, and what to run" grep -qE \
  "auto_contract: 0006_drop_legacy held back until .* UTC \(contract_after\).*'ripcord migrate contract r4'" "$WORK/last.err"
# the periodic job: `migrate contract --due` applies what auto_contract
# may, once it is due; before that it says why and exits 0
expect_exit 0 "migrate contract --due before contract_after: not due, exit 0" rc migrate contract --due
err_has "... saying why" "ripcord: not due: "
err_has "... naming the wait" "contract_after"
check "... and nothing ran: legacy is still there" test "$(tables)" = "legacy,tmp,users"
ph_ini auto_contract=no contract_after=0s
expect_exit 0 "migrate contract --due with auto_contract off: not due" rc migrate contract --due
err_has "... saying auto_contract is off" "[rollout] auto_contract is off"
check "... legacy still there" test "$(tables)" = "legacy,tmp,users"
expect_exit 2 "--due with an ID is a usage error" rc migrate contract r4 --due
expect_exit 2 "--due with --now is a usage error" rc migrate contract --due --now
ph_ini auto_contract=yes contract_after=0s
expect_exit 0 "migrate contract --due once due applies r4's held-back contract" rc migrate contract --due
check "... legacy dropped; tmp (r5's contract) is not r4's" test "$(tables)" = "tmp,users"
check "... its audit entry names it" sh -c \
  "'$RIPCORD' log --json | python3 -c \"
import json, sys; e = json.load(sys.stdin)[-1]
assert 'migrate contract --due' in e['command'] and e['migrations'] == 'up 0006_drop_legacy', e\""
expect_exit 0 "migrate contract --due again: nothing held back" rc migrate contract --due
# auto_contract with contract_after = 0: run on completion
ph_ini auto_contract=yes contract_after=0s
expect_exit 0 "--json rollout start r5 (auto_contract, contract_after 0)" rc --json rollout start r5
check "its completion ran every held-back contract up: tmp dropped" \
  test "$(tables)" = "users"
check "--json has a contract event naming them" python3 -c "
import json; ev = [json.loads(l) for l in open('$WORK/last.out')]
c = [e for e in ev if e['event'] == 'contract']
assert c and c[0]['applied'] == ['0007_drop_tmp'] and c[0]['ok'], ev
assert [e['event'] for e in ev].index('complete') < [e['event'] for e in ev].index('contract'), ev"
check "the rollout's audit entry names them" sh -c \
  "'$RIPCORD' log --json | python3 -c \"
import json, sys; e = json.load(sys.stdin)[-1]
assert 'contract up 0007_drop_tmp' in e['migrations'], e\""
check "the rollout's applied list never has a contract up" \
  test "$(q .ripcord/state.db 'SELECT applied FROM rollouts ORDER BY seq DESC')" = ""

# a destructive up not marked contract: cut warns and counts it, lint
# names the fix
printf 'ALTER TABLE users DROP COLUMN phone;\n' > $d/0008_drop_phone.up.sql
printf 'ALTER TABLE users ADD COLUMN phone TEXT;\n' > $d/0008_drop_phone.down.sql
git add -A && git commit -qm r6
expect_exit 0 "cut r6" rc cut --id r6
err_has "cut warns about the destructive up not marked contract" \
  "0008_drop_phone.up.sql:1: destructive-not-contract: drops column users.phone, but is not marked contract"
err_has "... counting it with drop-column" "2 lint findings in the migrations of r6"
expect_exit 1 "migrate lint r6" rc migrate lint r6
check "... gives the fix" grep -qF \
  "mark it contract: first line '-- ripcord:contract' or [migrations] contract = 0008_drop_phone" "$WORK/last.out"

# auto_contract whose contract up fails: the rollout completed, exit 1
printf -- '-- ripcord:contract\nDROP TABLE nope;\n' > $d/0009_bad.up.sql
printf 'CREATE TABLE nope (x INTEGER);\n' > $d/0009_bad.down.sql
release r7
expect_exit 1 "rollout start r7 whose auto_contract fails exits 1" rc rollout start r7
err_has "... saying the rollout completed but its contract failed" "the rollout of r7 completed, but its contract failed"
check "... every target stays on r7, the bad up is still pending" sh -c \
  "[ \"\$(readlink targets/a/current)\$(readlink targets/b/current)\" = releases/r7releases/r7 ] && '$RIPCORD' migrate status r7 | grep -q '^pending .*0009_bad \[contract\]\$'"

# a remote target that cannot be reached has proven nothing
printf '#!/bin/sh\necho "ssh: connect to host nowhere port 22: No route to host" >&2\nexit 255\n' > "$WORK/nossh"
chmod +x "$WORK/nossh"
cp ripcord.ini "$WORK/ph.ini"
printf '[target "c"]\nhost = deploy@nowhere\nroot = /srv/ph\nhealth = http://127.0.0.1:%s/healthz\n[ssh]\ncommand = %s\nconnect_timeout = 1s\n' "$port" "$WORK/nossh" >> ripcord.ini
expect_exit 1 "migrate contract r7 --now with a remote target unreachable is refused" rc migrate contract r7 --now
err_has "... naming it as not proven" "not every target runs r7: 'c' cannot be read ("
check "... the contract up still pending" sh -c "'$RIPCORD' migrate status r7 | grep -q '^pending .*0009_bad \[contract\]\$'"
cp "$WORK/ph.ini" ripcord.ini

# ---- lint's advice on an applied migration breaks nothing ----------------
# r1 drops a column in an expand up and is deployed; lint of r2 (which
# only carries it) does not ask again; marking it contract in r3 after it
# ran, as the advice says, leaves its checksum alone: r3 deploys
L=$WORK/advice
mkdir -p "$L/db/migrations" "$L/var" && cd "$L" && git init -q .
printf '[project]\nname = adv\n[migrations]\ndir = db/migrations\ndriver = sqlite\ndatabase = var/app.db\n[target "a"]\nroot = targets/a\n' > ripcord.ini
printf 'var/\n.ripcord/\ntargets/\n' > .gitignore
d=db/migrations
printf 'CREATE TABLE users (id INTEGER PRIMARY KEY, mail TEXT, old TEXT);\n' > $d/0001_users.up.sql
printf 'DROP TABLE users;\n' > $d/0001_users.down.sql
printf 'ALTER TABLE users DROP COLUMN old;\n' > $d/0002_drop_old.up.sql
printf 'ALTER TABLE users ADD COLUMN old TEXT;\n' > $d/0002_drop_old.down.sql
git add -A && git commit -qm r1 && rc -q cut --id r1 >/dev/null 2>&1
expect_exit 0 "deploy r1 (0002_drop_old, an expand up that drops, runs)" rc deploy r1
printf 'CREATE INDEX users_mail ON users(mail);\n' > $d/0003_idx.up.sql
printf 'DROP INDEX users_mail;\n' > $d/0003_idx.down.sql
git add -A && git commit -qm r2 && rc -q cut --id r2 >/dev/null 2>&1
rc migrate lint r2 > "$WORK/lint.out" 2>&1
check "lint of r2 does not tell the carried 0002_drop_old to become contract" sh -c "! grep -q destructive-not-contract '$WORK/lint.out'"
sed -i 's|^database = var/app.db|database = var/app.db\ncontract = 0002_drop_old|' ripcord.ini
git add -A && git commit -qm r3 && rc -q cut --id r3 >/dev/null 2>&1
expect_exit 0 "migrate status r3, 0002_drop_old now listed contract" rc migrate status r3
check "... it is applied [contract], not changed" sh -c "grep -q '^applied .*0002_drop_old \\[contract\\]\$' '$WORK/last.out' && grep -q ' 0 changed' '$WORK/last.out'"
expect_exit 0 "deploy r3" rc deploy r3
check "... ran 0003_idx only" test "$(sqlite3 var/app.db "SELECT group_concat(version || '_' || name, ' ') FROM (SELECT * FROM ripcord_migrations ORDER BY version)")" = "0001_users 0002_drop_old 0003_idx"
printf -- '-- ripcord: contract\nALTER TABLE users DROP COLUMN old;\n' > $d/0002_drop_old.up.sql
sed -i '/^contract = /d' ripcord.ini
git add -A && git commit -qm r4 && rc -q cut --id r4 >/dev/null 2>&1
expect_exit 0 "migrate status r4, the project's own marker on 0002_drop_old" rc migrate status r4
check "... still applied, not changed" sh -c "grep -q '^applied .*0002_drop_old \\[contract\\]\$' '$WORK/last.out' && grep -q ' 0 changed' '$WORK/last.out'"
# ---- the schema ahead, with an id in several releases -------------------
# ahead by 0002_drop_x (contract, only r2 carries it: later releases
# deleted its file) and 0003_i, 0004_t, carried by r3 and r4 both: the
# newest copy of each is read, however many releases repeat the others
A=$WORK/ahead
mkdir -p "$A/db/migrations" "$A/var" && cd "$A" && git init -q .
printf '[project]\nname = ah\n[migrations]\ndir = db/migrations\ndriver = sqlite\ndatabase = var/app.db\ncontract_after = 0s\n[target "a"]\nroot = targets/a\n' > ripcord.ini
printf 'var/\n.ripcord/\ntargets/\n' > .gitignore
d=db/migrations
rel() { git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1; }
printf 'CREATE TABLE users (id INTEGER PRIMARY KEY, x TEXT);\n' > $d/0001_users.up.sql
printf 'DROP TABLE users;\n' > $d/0001_users.down.sql
rel r1
printf -- '-- ripcord:contract\nALTER TABLE users DROP COLUMN x;\n' > $d/0002_drop_x.up.sql
printf 'ALTER TABLE users ADD COLUMN x TEXT;\n' > $d/0002_drop_x.down.sql
rel r2
rc -q deploy r2 >/dev/null 2>&1; rc -q migrate contract --now >/dev/null 2>&1
git rm -q $d/0002_drop_x.up.sql $d/0002_drop_x.down.sql
printf 'CREATE INDEX i3 ON users(id);\n' > $d/0003_i.up.sql
printf 'DROP INDEX i3;\n' > $d/0003_i.down.sql
rel r3; rc -q deploy r3 >/dev/null 2>&1
printf 'CREATE TABLE t4 (id INTEGER);\n' > $d/0004_t.up.sql
printf 'DROP TABLE t4;\n' > $d/0004_t.down.sql
rel r4; rc -q deploy r4 >/dev/null 2>&1
expect_exit 0 "deploy r1, older than the schema" rc deploy r1
expect_exit 0 "status --json" rc --json status
check "... the ahead 0002_drop_x is contract, and the rollback LOSSY" python3 -c "
import json; s = json.load(open('$WORK/last.out'))['schema'][0]
assert [(a['migration'], a['phase']) for a in s['ahead']] == [('0002_drop_x', 'contract'), ('0003_i', 'expand'), ('0004_t', 'expand')], s
assert s['lossy'] == ['0002_drop_x'] and s['lossless'] is False, s"
done_testing
