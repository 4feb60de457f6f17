#!/usr/bin/env bash
# Crash safety: ripcord killed with SIGKILL at several points of a deploy
# and of a rollback. Afterwards no current link dangles, `status` says
# what was left (exit 5), a second operation is never locked out by the
# dead one, and rerunning the same command converges: a rollback goes on
# to where it was going (never a step further back), owed activate hooks
# run again, and journal rows left pending are settled against the links.
. "$(dirname "$0")/lib.sh"

repo=$WORK/shop
cp -r "$SOURCE_ROOT/examples/shop" "$repo"
cd "$repo" && git init -q .
printf 'keys/\n.ripcord/\nvar/\ntargets/\n*.log\nslow\nhookpids\n' > .gitignore
sed -i '/signing_key\|verify_key/d; /^health = /d' ripcord.ini
printf '\n[target "web-3"]\nroot = targets/web-3\n' >> ripcord.ini
sed -i 's|^root   = targets/web-\([12]\)$|root = targets/web-\1|' ripcord.ini
# the activate hook: logs, and when ./slow exists, sleeps in the hook
mkdir -p hooks && cat > hooks/activate <<'SH'
#!/bin/sh
echo "$RIPCORD_TARGET $RIPCORD_RELEASE started" >> "$RIPCORD_ROOT/../activations.log"
echo $$ >> "$RIPCORD_ROOT/../hookpids"
[ -f "$RIPCORD_ROOT/../../slow" ] && sleep 60
echo "$RIPCORD_TARGET $RIPCORD_RELEASE done" >> "$RIPCORD_ROOT/../activations.log"
exit 0
SH
chmod +x hooks/activate
sed -i 's|^\(root = targets/web-[123]\)$|\1\nactivate = hooks/activate|' ripcord.ini
check "three targets with hooks" test "$(grep -c '^activate' ripcord.ini)" -eq 3
git add -A && git commit -qm v0 && rc -q cut --id v0 >/dev/null 2>&1
echo 1 > VERSION && git commit -qam v1 && rc -q cut --id v1 >/dev/null 2>&1
echo 2 > VERSION
printf 'ALTER TABLE orders ADD COLUMN note TEXT;\n' > db/migrations/0003_add_note.up.sql
printf 'ALTER TABLE orders DROP COLUMN note;\n' > db/migrations/0003_add_note.down.sql
git add -A && git commit -qm v2 && rc -q cut --id v2 >/dev/null 2>&1
check "three releases" test "$(rc releases | grep -c '^v[012] ')" -eq 3

links_whole() { # every current is a symlink into releases/ that resolves
  local t
  for t in web-1 web-2 web-3; do
    [ -L "targets/$t/current" ] && [ -d "targets/$t/current/" ] || {
      echo "targets/$t/current: $(readlink "targets/$t/current" 2>&1)"; return 1; }
  done
}
runs() { echo "$(readlink targets/web-1/current) $(readlink targets/web-2/current) $(readlink targets/web-3/current)"; }
# wait_for N PATTERN: until the activations log has N lines matching (a
# wait with a generous cap, not a timing check)
wait_for() {
  local i
  for i in $(seq 1 300); do
    [ "$(grep -c "$2" targets/activations.log 2>/dev/null)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
kill_hooks() { local p; for p in $(cat targets/hookpids 2>/dev/null); do kill -9 -- "-$p" 2>/dev/null; done; rm -f targets/hookpids; }
trap 'kill_hooks; rm -rf "$WORK"' EXIT

for r in v0 v1 v2; do rc -q deploy $r >/dev/null 2>&1; done
check "all three run v2" test "$(runs)" = "releases/v2 releases/v2 releases/v2"
sqlite3 var/shop.db "INSERT INTO orders (item, note) VALUES ('pear', 'ripe');"
expect_exit 0 "status is clean" rc status

# --- 1. a rollback killed while its activate hooks run -------------------
: > targets/activations.log
touch slow
"$RIPCORD" rollback >"$WORK/rb.out" 2>&1 &
rb=$!
check "the rollback reaches its hooks" wait_for 3 "v1 started"
expect_exit 0 "status while it runs exits 0" rc status
check "and says it is in progress, by whom" grep -q "in progress: pid $rb, user .*'ripcord rollback'" "$WORK/last.out"
expect_exit 4 "a deploy meanwhile is busy (exit 4)" rc deploy v2
err_has "naming the rollback that holds the lock" "'ripcord rollback'"
kill -9 "$rb"; wait "$rb" 2>/dev/null; kill_hooks; rm -f slow
check "no current link dangles" links_whole
check "every target was already switched to v1" test "$(runs)" = "releases/v1 releases/v1 releases/v1"
expect_exit 5 "status after the kill exits 5" rc status
check "it names the interrupted rollback and how to finish it" grep -q "interrupted: rollback of v1.*run 'ripcord rollback' again" "$WORK/last.out"
expect_exit 5 "status --json" rc --json status
check "says needs_resume, the operation and the owed hooks" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert d['needs_resume'] and not d['busy'], d
assert d['unfinished']['op'] == 'rollback' and d['unfinished']['release'] == 'v1', d
assert all(t['activate_owed'] for t in d['targets']), d"
check "the schema was not touched yet (downs come after the switches)" sqlite3 var/shop.db "SELECT note FROM orders"
expect_exit 0 "rerunning the rollback finishes it" rc rollback
check "it went on to v1, not a step further back" test "$(runs)" = "releases/v1 releases/v1 releases/v1"
check "it said it resumed" grep -q "resuming the interrupted rollback to v1" "$WORK/last.err"
check "the owed hooks ran to the end" test "$(grep -c 'v1 done' targets/activations.log)" -eq 3
check "the down ran: the column is gone" sh -c "! sqlite3 var/shop.db 'SELECT note FROM orders' 2>/dev/null"
check "the row survived" test "$(sqlite3 var/shop.db "SELECT count(*) FROM orders WHERE item = 'pear'")" = 1
expect_exit 0 "status is clean again" rc status
expect_exit 0 "a second rollback plan goes further back, to v0" rc rollback --dry-run
check "(not forward to v2, which the first rollback fled)" grep -q "switch .*web-1 .*v0 (from v1)" "$WORK/last.out"

# --- 2. a deploy killed while its activate hooks run ---------------------
: > targets/activations.log
touch slow
"$RIPCORD" deploy v2 >"$WORK/dep.out" 2>&1 &
dep=$!
check "the deploy reaches its hooks" wait_for 3 "v2 started"
kill -9 "$dep"; wait "$dep" 2>/dev/null; kill_hooks; rm -f slow
check "no current link dangles" links_whole
expect_exit 5 "status exits 5" rc status
check "every target owes its hook" test "$(grep -c 'activate hook never finished' "$WORK/last.out")" -eq 3
expect_exit 0 "rerunning the deploy converges" rc deploy v2
check "every target runs v2" test "$(runs)" = "releases/v2 releases/v2 releases/v2"
check "every hook ran again, to the end" test "$(grep -c 'v2 done' targets/activations.log)" -eq 3
expect_exit 0 "status is clean" rc status
expect_exit 0 "a third deploy has nothing to do" rc deploy v2 --dry-run
check "(nothing to do)" grep -q "nothing to do" "$WORK/last.out"

# --- 3. killed between the rename and its record -------------------------
# The state a SIGKILL leaves right after rename(2): the link moved, the
# journal row still 'pending'. Made by hand, as the kill would leave it.
rc -q deploy v1 --target web-1 >/dev/null 2>&1
sqlite3 .ripcord/state.db "UPDATE switches SET result = 'pending', finished = 0 WHERE seq = (SELECT max(seq) FROM switches)"
# ... and one that never got to its rename
sqlite3 .ripcord/state.db "INSERT INTO switches (target, release, previous, op, result, started) VALUES ('web-2', 'v1', 'v2', 'deploy', 'pending', 1)"
expect_exit 5 "status exits 5" rc status
check "web-1: switched, not recorded" grep -q "^web-1 .*interrupted deploy to v1: switched, not recorded" "$WORK/last.out"
check "web-2: not switched" grep -q "^web-2 .*interrupted deploy to v1: not switched" "$WORK/last.out"
expect_exit 0 "rerunning the deploy settles both" rc deploy v1
err_has "saying what it found" "web-1: the interrupted switch to v1"
check "web-1's row became ok, web-2's failed" test "$(sqlite3 .ripcord/state.db "SELECT result FROM switches WHERE result != 'ok'")" = "failed: interrupted before the link was switched"
check "all on v1" test "$(runs)" = "releases/v1 releases/v1 releases/v1"
expect_exit 0 "status is clean" rc status

# --- 4. killed at random points of a deploy that extracts ----------------
python3 -c "
import os, base64
os.makedirs('big')
for i in range(1, 801):
    open('big/f%d.txt' % i, 'w').write(base64.b64encode(os.urandom(6000)).decode())"
echo 4 > VERSION && git add -A && git commit -qm v4 && rc -q cut --id v4 >/dev/null 2>&1
for d in 0.02 0.05 0.08 0.12 0.18 0.25 0.35 0.5; do
  "$RIPCORD" -q deploy v4 >/dev/null 2>&1 &
  p=$!; sleep "$d"; kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null
  links_whole >/dev/null || { check "after a kill at ${d}s no link dangles" links_whole; break; }
done
check "after eight kills no current link dangles" links_whole
check "no release folder is half there (only dot-folders may be)" sh -c '
  for t in targets/web-*; do for d in "$t"/releases/v4; do
    [ -d "$d" ] || continue
    [ "$(find "$d/big" -type f | wc -l)" -eq 800 ] || { echo "$d is partial"; exit 1; }
  done; done'
expect_exit 0 "rerunning the deploy converges" rc deploy v4
check "all run v4" test "$(runs)" = "releases/v4 releases/v4 releases/v4"
git archive v4 >/dev/null 2>&1 || git tag v4
mkdir -p "$WORK/want" && git archive HEAD | tar -x -C "$WORK/want" && rm -f "$WORK/want"/*.md
check "and web-3's payload is exactly the commit" diff -r "$WORK/want" targets/web-3/releases/v4
expect_exit 0 "status is clean" rc status
expect_exit 0 "log --verify passes after all the kills" rc log --verify

done_testing
