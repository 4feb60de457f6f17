#!/usr/bin/env bash
# gc end to end: releases beyond keep go from the store (signature,
# artifact, row) and from every target; what runs, every rollback target,
# the keep newest good releases, the window of what runs and what was cut
# but not deployed yet all stay, each with its reason. A damaged artifact
# takes no slot; --dry-run changes nothing; a held lock is exit 4; an
# interrupted switch is exit 5 until the deploy is rerun.
. "$(dirname "$0")/lib.sh"

# new_repo DIR KEEP: a git repo whose ripcord.ini has two targets, signed
new_repo() {
  mkdir -p "$1" && cd "$1" && git init -q .
  printf '.ripcord/\ntargets/\nkeys/\n' > .gitignore
  rc -q keygen -o keys/release >/dev/null 2>&1
  cat > ripcord.ini <<EOF
[project]
name = app
keep = $2

[package]
signing_key = keys/release.key
verify_key  = keys/release.pub

[target "web-1"]
root = targets/web-1

[target "web-2"]
root = targets/web-2
EOF
}
# release ID: commit a change and cut it
release() {
  echo "$1" > VERSION && mkdir -p app && echo "payload of $1" > app/main.txt
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1
}
set_keep() { sed -i "s/^keep = .*/keep = $1/" ripcord.ini; }
ids() { sqlite3 .ripcord/state.db 'SELECT id FROM releases ORDER BY seq' | tr '\n' ' '; }
folders() { ls "targets/$1/releases" | tr '\n' ' '; }
artifacts() { ls .ripcord/artifacts | tr '\n' ' '; }
# everything gc could touch: files with sizes and contents, and the rows
listing() {
  find targets .ripcord/artifacts -printf '%p %y %s %l\n' 2>/dev/null | sort
  find targets .ripcord/artifacts -type f -exec sha256sum {} + 2>/dev/null | sort
  sqlite3 .ripcord/state.db 'SELECT seq, id, sha256 FROM releases ORDER BY seq'
  sqlite3 .ripcord/state.db 'SELECT seq, target, release, result FROM switches ORDER BY seq'
}
# jcheck "description" PYTHON: asserts on d, the JSON document of the last command
jcheck() {
  local out
  if out=$(python3 -c "import json,sys
d = json.load(open(sys.argv[1]))
store = lambda l: [x['release'] for x in d[l] if x['where'] == 'store']
on = lambda l, t: sorted(x['name'] for x in d[l] if x['where'] == t)
rules = lambda r: sorted(x['rule'] for x in [k for k in d['kept'] if k['where'] == 'store' and k['release'] == r][0]['reasons'])
$2" "$WORK/last.out" 2>&1); then ok "$1"; else not_ok "$1" "$out"; fi
}
flip_byte() {
  python3 -c "import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[len(b) // 2] ^= 1; open(p, 'wb').write(b)" "$1"
}

# ---- keep = 2, five releases deployed in turn to two targets ----------
new_repo "$WORK/a" 2
for v in v1 v2 v3 v4 v5; do release $v; rc -q deploy $v >/dev/null 2>&1; done
check "setup: both targets run v5 with five releases extracted" test "$(readlink targets/web-1/current)$(readlink targets/web-2/current)$(folders web-2)" = "releases/v5releases/v5v1 v2 v3 v4 v5 "

listing > "$WORK/before"
expect_exit 0 "gc --dry-run" rc gc --dry-run
cp "$WORK/last.out" "$WORK/dry.out"
listing > "$WORK/after"
check "--dry-run changes nothing (files, sizes, contents, rows, journal)" cmp "$WORK/before" "$WORK/after"
check "it says v1..v3 would go from the store" sh -c "grep -q '^would delete' '$WORK/dry.out' && grep -Eq '^  store +v1 ' '$WORK/dry.out' && grep -Eq '^  store +v3 ' '$WORK/dry.out' && ! grep -Eq '^  store +v4 ' '$WORK/dry.out'"
check "and from each target" sh -c "grep -Eq '^  web-1 +v2 ' '$WORK/dry.out' && grep -Eq '^  web-2 +v3 ' '$WORK/dry.out'"
check "why v5 stays: it runs on both targets" grep -Eq '^  v5 .*runs on web-1, runs on web-2' "$WORK/dry.out"
check "why v4 stays: the rollback target" grep -Eq '^  v4 .*rollback target of web-1, rollback target of web-2' "$WORK/dry.out"
check "and how much would be freed" grep -Eq '^would free [0-9.]+ (B|KiB)$' "$WORK/dry.out"

expect_exit 0 "gc --dry-run --json" rc gc --dry-run --json
jcheck "--json is one document: v1..v3 from the store, v4 and v5 kept" "assert d['operation'] == 'gc' and d['dry_run'] and d['ok'] and d['keep'] == 2; assert store('deleted') == ['v1', 'v2', 'v3'], store('deleted'); assert sorted(store('kept')) == ['v4', 'v5']; assert d['bytes'] > 0 and d['bytes_freed'] == 0"
jcheck "with the reasons as rules" "assert rules('v5') == ['newest', 'runs', 'runs'], rules('v5'); assert 'rollback' in rules('v4') and 'near' in rules('v4')"
jcheck "and the targets as gc read them" "t = {x['target']: x for x in d['targets']}; assert t['web-1']['current'] == 'v5' and t['web-1']['rollback'] == 'v4' and not t['web-2']['skipped']"

expect_exit 0 "gc" rc gc
cp "$WORK/last.out" "$WORK/gc.out"
check "the store keeps v4 and v5" test "$(ids)" = "v4 v5 "
check "their artifacts and signatures, nothing else" test "$(artifacts)" = "v4.tar.zst v4.tar.zst.sig v5.tar.zst v5.tar.zst.sig "
check "web-1 keeps v4 and v5" test "$(folders web-1)" = "v4 v5 "
check "web-2 keeps v4 and v5" test "$(folders web-2)" = "v4 v5 "
check "both still run v5" test "$(readlink targets/web-1/current)$(readlink targets/web-2/current)" = releases/v5releases/v5
check "the table says what was deleted" sh -c "grep -q '^deleted' '$WORK/gc.out' && grep -Eq '^  store +v2 ' '$WORK/gc.out' && grep -Eq '^freed [0-9.]+ (B|KiB)$' '$WORK/gc.out'"
expect_exit 0 "what is left verifies" rc verify
expect_exit 0 "a second gc" rc gc
check "has nothing to delete" grep -q '^nothing to delete' "$WORK/last.out"
expect_exit 0 "rollback still works (a symlink switch)" rc rollback --no-migrate
check "to v4" test "$(readlink targets/web-1/current)" = releases/v4
rc log > "$WORK/log.txt" 2>&1
check "the audit log has the gc" grep -Eq 'ripcord gc +ok' "$WORK/log.txt"
check "but not the dry runs" sh -c "! grep -q 'gc --dry-run' '$WORK/log.txt'"

# a target whose root is gone is skipped, not an error
printf '\n[target "web-3"]\nroot = targets/web-3\n' >> ripcord.ini
expect_exit 0 "a missing target root is skipped" rc gc
err_has "with a warning naming it" "target 'web-3': root"
check "and not created" test ! -e targets/web-3
sed -i '/web-3/d' ripcord.ini

# ---- keep = 1: what runs and the rollback targets survive though old ---
# web-1: r0, r1, r2 (runs r2, rolls back to r1); web-2: r0, r1, r3, r5
# (runs r5, rolls back to r3); r6 is cut, never deployed.
new_repo "$WORK/b" 1
for v in r0 r1 r2 r3 r4 r5 r6; do release $v; done
rc -q deploy r0 >/dev/null 2>&1 && rc -q deploy r1 >/dev/null 2>&1
rc -q deploy r2 --target web-1 >/dev/null 2>&1
rc -q deploy r3 --target web-2 >/dev/null 2>&1 && rc -q deploy r5 --target web-2 >/dev/null 2>&1
check "setup: web-1 runs r2, web-2 runs r5" test "$(readlink targets/web-1/current) $(readlink targets/web-2/current)" = "releases/r2 releases/r5"
expect_exit 0 "gc with keep = 1 (json)" rc gc --json
jcheck "only r0 and r4 went from the store" "assert store('deleted') == ['r0', 'r4'], store('deleted')"
jcheck "r2 stays: it runs on web-1 (old, and keep is 1)" "assert rules('r2') == ['runs'], rules('r2')"
jcheck "r1 stays: web-1's rollback target" "assert rules('r1') == ['rollback'], rules('r1')"
jcheck "r3 stays: web-2's rollback target" "assert rules('r3') == ['rollback'], rules('r3')"
jcheck "r6 stays: cut after what runs, and the newest good" "assert rules('r6') == ['newest', 'undeployed'], rules('r6')"
check "the store holds r1 r2 r3 r5 r6" test "$(ids)" = "r1 r2 r3 r5 r6 "
check "web-1 keeps r1 and r2" test "$(folders web-1)" = "r1 r2 "
check "web-2 keeps r1 r3 r5 (one kept set for all targets)" test "$(folders web-2)" = "r1 r3 r5 "
# everyone rolled back to the oldest release there is
expect_exit 0 "rollback --to r1" rc rollback --to r1 --no-migrate
expect_exit 0 "gc after rolling back to the oldest release" rc gc --json
jcheck "deletes nothing from the store" "assert store('deleted') == [], store('deleted')"
jcheck "r1 stays: it runs on both" "assert rules('r1') == ['runs', 'runs'], rules('r1')"
jcheck "r2 r5 r6 stay: newer than what runs" "assert all('undeployed' in rules(r) for r in ('r2', 'r5', 'r6'))"
jcheck "web-1 would roll back to r0, which the store lost: said" "assert any(\"'r0', is not in the store\" in w for w in d['warnings']), d['warnings']"
check "both still run r1" test "$(readlink targets/web-1/current)$(readlink targets/web-2/current)" = releases/r1releases/r1

# ---- damaged artifacts take no slot -----------------------------------
new_repo "$WORK/c" 2
for v in c1 c2 c3 c4 c5; do release $v; rc -q deploy $v >/dev/null 2>&1; done
flip_byte .ripcord/artifacts/c4.tar.zst
flip_byte .ripcord/artifacts/c2.tar.zst
expect_exit 3 "setup: c4 no longer verifies" rc verify c4
expect_exit 0 "gc with c4 (the rollback target) damaged" rc gc --json
jcheck "c3 stays among the 2 newest good: c4 takes no slot" "assert 'newest' in rules('c3'), rules('c3'); assert 'newest' not in rules('c4')"
jcheck "c4 stays (rollback target), reported as not verified" "k = [x for x in d['kept'] if x['where'] == 'store' and x['release'] == 'c4'][0]; assert rules('c4') == ['rollback', 'rollback'] and k['verified'] is False and k['problem']"
jcheck "with a warning that says how to rebuild it" "assert any(\"release 'c4' is kept\" in w and 'ripcord cut' in w for w in d['warnings']), d['warnings']"
jcheck "c1 and c2 went; c2 reported as not verified, c1 as verified" "x = {i['release']: i for i in d['deleted'] if i['where'] == 'store'}; assert sorted(x) == ['c1', 'c2'] and x['c2']['verified'] is False and x['c1']['verified'] is True and all(i['done'] for i in d['deleted'])"
check "the store holds c3 c4 c5" test "$(ids)" = "c3 c4 c5 "
expect_exit 0 "the human table" rc gc --dry-run
check "marks the damaged kept release" grep -Eq '^  c4 .*does not verify' "$WORK/last.out"
err_has "and warns on stderr" "release 'c4' is kept"
# a kept release whose artifact is missing keeps its row
rm .ripcord/artifacts/c5.tar.zst
expect_exit 0 "gc with the running release's artifact missing" rc gc
err_has "warns that it is missing" "release 'c5' is kept (runs on web-1"
check "and keeps its row and its folders" sh -c "test '$(ids)' = 'c3 c4 c5 ' && test -d targets/web-1/releases/c5"
expect_exit 0 "cut restores it, as the warning says" rc cut "$(git rev-parse HEAD)" --id c5
expect_exit 0 "and it verifies again" rc verify c5

# ---- leftovers on targets -----------------------------------------------
mkdir -p targets/web-1/releases/.c6.tmp-Ab12Cd/payload && echo half > targets/web-1/releases/.c6.tmp-Ab12Cd/payload/f
mkdir -p targets/web-2/releases/gone-long-ago && echo old > targets/web-2/releases/gone-long-ago/f
echo mine > targets/web-1/releases/NOTES
# a dot-folder ripcord never makes is someone else's (it was removed as
# an "unfinished extraction": only .<id>.tmp-XXXXXX is ripcord's)
mkdir -p targets/web-1/releases/.keep-me && echo theirs > targets/web-1/releases/.keep-me/f
echo log > targets/web-1/app.log && mkdir -p targets/web-1/shared && echo s > targets/web-1/shared/s
expect_exit 0 "gc --dry-run with leftovers" rc gc --dry-run --json
jcheck "plans the unfinished extraction and the unrecorded folder" "k = {(x['where'], x['name']): x['reason'] for x in d['deleted']}; assert k == {('web-1', '.c6.tmp-Ab12Cd'): 'unfinished extraction', ('web-2', 'gone-long-ago'): 'not in the store'}, k"
check "and leaves them for now" test -d targets/web-1/releases/.c6.tmp-Ab12Cd
expect_exit 0 "gc with leftovers" rc gc
check "the .tmp dot-folder of a killed extraction is removed" test ! -e targets/web-1/releases/.c6.tmp-Ab12Cd
check "a folder of a release the store forgot is removed" test ! -e targets/web-2/releases/gone-long-ago
check "files that are not release folders are left alone" sh -c "test -f targets/web-1/releases/NOTES && test -f targets/web-1/app.log && test -f targets/web-1/shared/s"
check "and so is a dot-folder that is not an extraction's" test "$(cat targets/web-1/releases/.keep-me/f)" = theirs

# ---- the lock, and interrupted switches -------------------------------
release c6
exec 9>"$WORK/c/.ripcord/lock"
flock -n 9
expect_exit 4 "gc while another operation holds the lock is exit 4" rc gc
err_has "naming the lock" "holds"
exec 9>&-
sqlite3 .ripcord/state.db "INSERT INTO switches (target, release, previous, op, result, started) VALUES ('web-1', 'c5', 'c4', 'deploy', 'pending', 1)"
listing > "$WORK/before"
expect_exit 5 "gc with a pending switch refuses (exit 5)" rc gc
err_has "naming it and what to rerun" "target 'web-1' has an interrupted switch to 'c5'"
err_has "(the deploy)" "rerun 'ripcord deploy c5' first"
expect_exit 5 "--dry-run refuses as well" rc gc --dry-run
check "nothing was touched meanwhile" cmp "$WORK/before" <(listing)
expect_exit 0 "rerunning the deploy settles the switch" rc deploy c5
expect_exit 0 "then gc runs" rc gc
check "and c6, cut but never deployed, survives" sh -c "test '$(ids)' = 'c3 c4 c5 c6 ' && test -f .ripcord/artifacts/c6.tar.zst"
# a rollback that died between its operation record and its first switch
sqlite3 .ripcord/state.db "INSERT INTO operations (op, release, result, started) VALUES ('rollback', 'c3', 'running', 1)"
expect_exit 5 "gc after an interrupted rollback refuses (exit 5)" rc gc
err_has "saying to rerun the rollback" "a rollback to 'c3' was interrupted (operation"
sqlite3 .ripcord/state.db "UPDATE operations SET result = 'failed: test', finished = 1 WHERE finished = 0"
expect_exit 0 "once it ended, gc runs" rc gc

# ---- a folder that cannot be removed keeps its release's row ---------
release c7 && rc -q deploy c7 >/dev/null 2>&1
stuck=$(find targets/web-1/releases/c3 -type f | head -n 1)
trap 'chattr -i "$stuck" 2>/dev/null; rm -rf "$WORK"' EXIT
if chattr +i "$stuck" 2>/dev/null; then
  expect_exit 1 "gc with a folder it cannot remove is exit 1" rc gc
  err_has "naming the target and the folder" "target 'web-1'"
  check "the table marks it FAILED" grep -Eq '^  web-1 +c3 .*FAILED' "$WORK/last.out"
  check "c3 keeps its row and artifact (the next gc finds it again)" sh -c "test '$(ids)' = 'c3 c5 c6 c7 ' && test -f .ripcord/artifacts/c3.tar.zst"
  check "the rest went on: c3 left web-2, c4 left the store" sh -c "test ! -e targets/web-2/releases/c3 && test ! -e .ripcord/artifacts/c4.tar.zst"
  chattr -i "$stuck"
  expect_exit 0 "once removable, gc finishes" rc gc
  check "c3 is gone everywhere" sh -c "test '$(ids)' = 'c5 c6 c7 ' && test ! -e targets/web-1/releases/c3"
else
  ok "gc with a folder it cannot remove # SKIP chattr +i is not available here"
fi

# ---- usage ----------------------------------------------------------------
expect_exit 2 "gc takes no release ids" rc gc c3
err_has "and says why" "gc takes no release ids"
expect_exit 0 "gc --help" rc gc --help

done_testing
