#!/usr/bin/env bash
# Lost keys on the emergency path (issue 15): a missing signing_key stops
# only cut, which names it; a missing verify_key stops whatever would read
# or put forward an artifact it can no longer check (cut, deploy, verify,
# drill, gc, downs read from artifacts), never status or a rollback that
# only switches back to folders verified when they were extracted.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo/db/migrations" && cd "$repo" && git init -q .
printf 'keys/\n.ripcord/\nvar/\ntargets/\n' > .gitignore
cat > ripcord.ini <<'INI'
[project]
name = app
[package]
signing_key = keys/release.key
verify_key = keys/release.pub
[migrations]
dir = db/migrations
driver = sqlite
database = var/app.db
[target "a"]
root = targets/a
INI
printf 'CREATE TABLE t (x INTEGER);\n' > db/migrations/0001_t.up.sql
printf 'DROP TABLE t;\n' > db/migrations/0001_t.down.sql
rc -q keygen -o keys/release >/dev/null 2>&1
echo one > VERSION && git add -A && git commit -qm one && rc -q cut --id v1 >/dev/null 2>&1
printf 'ALTER TABLE t ADD COLUMN y TEXT;\n' > db/migrations/0002_y.up.sql
printf 'ALTER TABLE t DROP COLUMN y;\n' > db/migrations/0002_y.down.sql
echo two > VERSION && git add -A && git commit -qm two && rc -q cut --id v2 >/dev/null 2>&1
rc -q deploy v1 >/dev/null 2>&1 && rc -q deploy v2 >/dev/null 2>&1
check "the fixture runs v2, signed" test "$(readlink targets/a/current)" = releases/v2 -a -f .ripcord/artifacts/v2.tar.zst.sig

# the private key is gone (it lives on the release engineer's laptop)
mv keys/release.key "$WORK/release.key"
expect_exit 0 "status works without the signing key" rc status
check "and says nothing about it" test ! -s "$WORK/last.err"
expect_exit 0 "releases works" rc releases
check "silently" test ! -s "$WORK/last.err"
expect_exit 0 "rollback --dry-run works" rc rollback --dry-run
expect_exit 0 "verify works (the public key is there)" rc verify v2
echo three > VERSION && git commit -qam three
expect_exit 2 "cut refuses" rc cut --id v3
err_has "naming the key file" "signing_key '$repo/keys/release.key' does not exist"
check "and records nothing" test "$(sqlite3 .ripcord/state.db 'SELECT count(*) FROM releases')" = 2
expect_exit 0 "rollback works, downs and all" rc rollback
check "a runs v1 again" test "$(readlink targets/a/current)" = releases/v1
check "the schema is back at v1" test "$(sqlite3 var/app.db 'SELECT count(*) FROM ripcord_migrations')" = 1
expect_exit 0 "deploy works too" rc deploy v2
check "a runs v2" test "$(readlink targets/a/current)" = releases/v2
mv "$WORK/release.key" keys/release.key

# the public key is gone: nothing unchecked goes forward, status still works
mv keys/release.pub "$WORK/release.pub"
expect_exit 0 "status works without the verify key" rc status
# the phase is read from what state.db keeps since the cut, not from the
# artifact: no key is needed to show it (release_view.c)
check "and still shows the schema phase, without a warning" sh -c "grep -q '^schema: v2 on a: ' '$WORK/last.out' && test ! -s '$WORK/last.err'"
expect_exit 0 "log works" rc log
expect_exit 2 "verify refuses" rc verify v2
err_has "naming the key file" "verify_key '$repo/keys/release.pub' does not exist"
expect_exit 0 "verify --key with another copy still works" rc verify v2 --key "$WORK/release.pub"
expect_exit 2 "deploy refuses, even with nothing to extract" rc deploy v2
err_has "naming the key file" "verify_key '$repo/keys/release.pub' does not exist"
expect_exit 2 "cut refuses (nobody could check what it makes)" rc cut --id v3
err_has "naming the key file" "verify_key '$repo/keys/release.pub' does not exist"
expect_exit 2 "gc refuses rather than count every release bad" rc gc --dry-run
err_has "naming the key file" "release.pub' does not exist"
drills=$(sqlite3 .ripcord/state.db 'SELECT count(*) FROM drills')
expect_exit 2 "drill refuses" rc drill v2
err_has "naming the key file" "release.pub' does not exist"
check "and records no failed drill against the release" test "$(sqlite3 .ripcord/state.db 'SELECT count(*) FROM drills')" = "$drills"
expect_exit 2 "a rollback that reads downs from artifacts refuses" rc rollback
err_has "naming the key file" "release.pub' does not exist"
check "before switching anything" test "$(readlink targets/a/current)" = releases/v2
expect_exit 0 "a rollback that only switches back works" rc rollback --no-migrate
check "a runs v1" test "$(readlink targets/a/current)" = releases/v1
mv "$WORK/release.pub" keys/release.pub

done_testing
