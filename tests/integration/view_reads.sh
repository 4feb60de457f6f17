#!/usr/bin/env bash
# The views read no artifact (release_view.c): status, releases and the
# report show each release's schema phase from what state.db keeps of its
# migrations since its cut, so a damaged or missing artifact changes
# nothing they show, while verify and a rollback still read the artifact
# and refuse it. A store from before state.db schema 10 (no rows) still
# shows the phase, read from the verified artifacts once and kept (and
# cut again, unchanged, a release gains its row); a release removed
# (releases rm, gc) takes its row with it.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo/db/migrations" && cd "$repo" && git init -q .
printf 'var/\n.ripcord/\ntargets/\n' > .gitignore
cat > ripcord.ini <<'INI'
[project]
name = app
keep = 1
[migrations]
dir = db/migrations
driver = sqlite
database = var/app.db
[target "web-1"]
root = targets/web-1
INI
d=db/migrations
echo 0 > VERSION && git add -A && git commit -qm v0 && rc -q cut --id v0 >/dev/null 2>&1
printf 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n' > $d/0001_users.up.sql
printf 'DROP TABLE users;\n' > $d/0001_users.down.sql
git add -A && git commit -qm v1 && rc -q cut --id v1 >/dev/null 2>&1
printf 'ALTER TABLE users ADD COLUMN email TEXT;\n' > $d/0002_add_email.up.sql
printf 'ALTER TABLE users DROP COLUMN email;\n' > $d/0002_add_email.down.sql
git add -A && git commit -qm v2 && rc -q cut --id v2 >/dev/null 2>&1
rc -q deploy v1 >/dev/null 2>&1 && rc -q deploy v2 >/dev/null 2>&1
rows() { sqlite3 .ripcord/state.db "SELECT group_concat(release, ' ') FROM (SELECT release FROM release_migrations ORDER BY release)"; }
check "cut kept each release's migrations in state.db" test "$(rows)" = "v0 v1 v2"
art=.ripcord/artifacts
cp $art/v2.tar.zst "$WORK/v2.good"

phase_shown() {
  expect_exit 0 "status $1" rc status --no-probe
  check "shows v2's phase ($1)" grep -qx 'schema: v2 on web-1: 2 expand applied' "$WORK/last.out"
  check "and a rollback to v1 lossless ($1)" grep -q '^  rollback to v1: lossless' "$WORK/last.out"
  check "with no word on stderr ($1)" test ! -s "$WORK/last.err"
  expect_exit 0 "status --json $1" rc --json status --no-probe
  check "--json: the phase, v1 carrying 0001_users ($1)" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
s = d['schema'][0]
assert s['known'] and s['release'] == 'v2' and s['expand_applied'] == 2, s
assert [(m['migration'], m['applied']) for m in s['migrations']] == [('0001_users', True), ('0002_add_email', True)], s
assert s['lossless'] and d['targets'][0]['rollback_lossless'] is True, d['targets']"
  expect_exit 0 "releases $1" rc releases
  check "SCHEMA of each release ($1)" sh -c "grep -qE '^v2 .* 2 expand applied\$' '$WORK/last.out' && grep -qE '^v1 .* 1 expand applied\$' '$WORK/last.out' && grep -qE '^v0 .* no migrations\$' '$WORK/last.out'"
  check "with no word on stderr (releases, $1)" test ! -s "$WORK/last.err"
}
phase_shown "as cut"

# what runs damaged, where a rollback goes gone
printf 'garbage!' | dd of=$art/v2.tar.zst bs=1 seek=4096 conv=notrunc 2>/dev/null
mv $art/v1.tar.zst "$WORK/v1.moved"
phase_shown "with v2's artifact damaged and v1's gone"
expect_exit 0 "the report too" rc --json report
check "report --json: v2's phase on web-1" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
s = [x for x in d['schema'] if x['target'] == 'web-1'][0]
assert s['schema']['known'] and s['schema']['expand_applied'] == 2, s"
# the trust boundary: what checks or runs migrations reads the artifact
mv "$WORK/v1.moved" $art/v1.tar.zst
expect_exit 3 "verify still reads v2's artifact, and refuses it" rc verify v2
expect_exit 1 "rollback --dry-run reads v2's verified artifact for its downs: refused" rc rollback --dry-run
err_has "v2's artifact is refused as a source of downs" "release v2 is not used as a source of downs: artifact"
err_has "so the down of 0002_add_email is unknown" "no release in the store carries migration '0002_add_email'"
cp "$WORK/v2.good" $art/v2.tar.zst

# a store from before schema 10: no rows
sqlite3 .ripcord/state.db "DROP TABLE release_migrations; PRAGMA user_version = 9"
phase_shown "of a schema 9 store"
check "upgraded to schema 10" test "$(sqlite3 .ripcord/state.db 'PRAGMA user_version')" = 10
check "what the views read from the verified artifacts was kept" test "$(rows)" = "v0 v1 v2"
printf 'garbage!' | dd of=$art/v2.tar.zst bs=1 seek=4096 conv=notrunc 2>/dev/null
phase_shown "from the rows kept, v2's artifact damaged"
cp "$WORK/v2.good" $art/v2.tar.zst
# a row for another artifact than the record's is not believed
sqlite3 .ripcord/state.db "UPDATE release_migrations SET migrations = '[]', sha256 = 'ab' WHERE release = 'v2'"
phase_shown "with v2's row naming another artifact"
check "(read again from the artifact, and kept)" test "$(sqlite3 .ripcord/state.db "SELECT m.sha256 = r.sha256 FROM release_migrations m JOIN releases r ON r.id = m.release WHERE r.id = 'v2'")" = 1

# cutting an old release again (same commit, same bytes) keeps its row
sqlite3 .ripcord/state.db "DELETE FROM release_migrations WHERE release = 'v2'"
expect_exit 0 "v2 cut again, unchanged" rc cut HEAD --id v2
check "its row is back" test "$(rows)" = "v0 v1 v2"

# a release removed takes its row
expect_exit 0 "releases rm v0" rc releases rm v0
check "its row is gone with it" test "$(rows)" = "v1 v2"
done_testing
