#!/usr/bin/env bash
# rollback preempts a running deploy (ripcord-rollback(1), ripcord-deploy(1)):
# a deploy held in a slow activate hook (blocked on a fifo, hook_timeout 10m)
# is asked to stop, ends its hooks' process groups, records where it
# stopped and exits 5, and the rollback goes on and says what became of
# it; `rollback --wait=1s` behind the same deploy exits 4 naming it and
# changes nothing; a deploy held inside its extract phase (an LD_PRELOAD
# shim holds the extract's mkdtemp) stops before switching anything and
# the rollback leaves every target where it was; a deploy killed after
# being asked leaves no request that could stop the next one. Whether the
# rollback was quick is judged by state (the deploy and its hooks gone,
# the targets back), never by a clock.
. "$(dirname "$0")/lib.sh"

repo=$WORK/shop
cp -r "$SOURCE_ROOT/examples/shop" "$repo"
cd "$repo" && git init -q .
printf 'keys/\n.ripcord/\nvar/\ntargets/\nslow\n' > .gitignore
sed -i '/signing_key\|verify_key/d; /^health = /d' ripcord.ini
sed -i 's|^root   = targets/web-\([12]\)$|root = targets/web-\1\nactivate = hooks/activate\nhook_timeout = 10m|' ripcord.ini
printf '\n[target "web-3"]\nroot = targets/web-3\nactivate = hooks/activate\nhook_timeout = 10m\n' >> ripcord.ini
# the activate hook: logs, and when ./slow exists, records its pid (its
# process group) and blocks on the fifo targets/gate
mkdir -p hooks && cat > hooks/activate <<'SH'
#!/bin/sh
slow=
[ -f "$RIPCORD_ROOT/../../slow" ] && slow=1 && echo $$ >> "$RIPCORD_ROOT/../hookpids"
echo "$RIPCORD_TARGET $RIPCORD_RELEASE started" >> "$RIPCORD_ROOT/../activations.log"
[ -n "$slow" ] && cat "$RIPCORD_ROOT/../gate" > /dev/null
echo "$RIPCORD_TARGET $RIPCORD_RELEASE done" >> "$RIPCORD_ROOT/../activations.log"
SH
chmod +x hooks/activate
check "three targets with a 10 minute hook_timeout" test "$(grep -c '^hook_timeout = 10m' ripcord.ini)" -eq 3
git add -A && git commit -qm v0 && rc -q cut --id v0 >/dev/null 2>&1
echo 1 > VERSION && git commit -qam v1 && rc -q cut --id v1 >/dev/null 2>&1
echo 2 > VERSION
printf 'ALTER TABLE orders ADD COLUMN note TEXT;\n' > db/migrations/0003_add_note.up.sql
printf 'ALTER TABLE orders DROP COLUMN note;\n' > db/migrations/0003_add_note.down.sql
git add -A && git commit -qm v2 && rc -q cut --id v2 >/dev/null 2>&1
echo 3 > VERSION && git commit -qam v3 && rc -q cut --id v3 >/dev/null 2>&1
check "four releases" test "$(rc releases | grep -c '^v[0-3] ')" -eq 4
mkdir -p targets && mkfifo targets/gate

runs() { echo "$(readlink targets/web-1/current) $(readlink targets/web-2/current) $(readlink targets/web-3/current)"; }
# wait_until CMD...: until CMD succeeds (a generous cap, not a timing check)
wait_until() { local i; for i in $(seq 1 300); do "$@" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
started() { [ "$(grep -c "$2 started" targets/activations.log 2>/dev/null)" -ge "$1" ]; }
# a hook's process group is gone: no process has it as its group
group_gone() { ! ps -o pid= -g "$1" >/dev/null 2>&1; }
hooks_gone() { local p; for p in $(cat targets/hookpids); do group_gone "$p" || { echo "group $p lives: $(ps -o pid,args -g "$p")"; return 1; }; done; }
kill_hooks() { local p; for p in $(cat targets/hookpids 2>/dev/null); do kill -9 -- "-$p" 2>/dev/null; done; rm -f targets/hookpids; }
# release_gate N R: opens the fifo until N hooks of R are done (a hook
# not yet in its cat would miss a single opening)
release_gate() {
  local i
  for i in $(seq 1 50); do
    [ "$(grep -c "$2 done" targets/activations.log)" -ge "$1" ] && return 0
    timeout 1 sh -c 'echo go > targets/gate' 2>/dev/null; sleep 0.1
  done
  return 1
}
requested() { [ -n "$(sqlite3 .ripcord/state.db 'SELECT request FROM lock_holder WHERE request IS NOT NULL')" ]; }
trap 'kill_hooks; rm -rf "$WORK"' EXIT

for r in v0 v1; do rc -q deploy $r >/dev/null 2>&1; done
check "all three run v1" test "$(runs)" = "releases/v1 releases/v1 releases/v1"

# --- 1. rollback --wait=1s behind a deploy held in its hooks ------------
: > targets/activations.log
touch slow
"$RIPCORD" deploy v2 >"$WORK/dep.out" 2>"$WORK/dep.err" &
dep=$!
check "the deploy reaches its hooks, held" wait_until started 3 "v2"
expect_exit 4 "rollback --wait=1s behind it exits 4" rc rollback --wait=1s
err_has "naming the deploy's pid" "pid $dep"
err_has "and its command and release" "'ripcord deploy v2'"
err_has "saying it waited" "still busy after waiting 1s (--wait)"
check "it changed nothing: every target still on v2" test "$(runs)" = "releases/v2 releases/v2 releases/v2"
check "and asked nothing of the deploy" test -z "$(sqlite3 .ripcord/state.db 'SELECT request FROM lock_holder WHERE request IS NOT NULL')"
check "the deploy still runs" kill -0 "$dep"
rm -f slow
check "the gate opens" release_gate 3 v2
wait "$dep"; code=$?
check "released, the deploy finishes (exit 0)" test "$code" -eq 0
check "every hook ran to its end" test "$(grep -c 'v2 done' targets/activations.log)" -eq 3
rm -f targets/hookpids

# back to v1 for the next scene
rc -q rollback >/dev/null 2>&1
check "back on v1" test "$(runs)" = "releases/v1 releases/v1 releases/v1"

# --- 2. rollback preempts a deploy held in its activate hooks -----------
: > targets/activations.log
touch slow
"$RIPCORD" deploy v2 >"$WORK/dep.out" 2>"$WORK/dep.err" &
dep=$!
check "the deploy reaches its hooks, held" wait_until started 3 "v2"
rm -f slow
check "the ups ran: the column is there" sqlite3 var/shop.db "SELECT note FROM orders"
# generous bound only against a hang: the hooks would block for 10 min
expect_exit 0 "rollback preempts the deploy and succeeds" timeout 60 "$RIPCORD" rollback
[ -n "${PREEMPT_SHOW:-}" ] && cat "$WORK/last.out" "$WORK/last.err" >&2
wait "$dep"; code=$?
check "the deploy exited 5 (interrupted, state saved)" test "$code" -eq 5
[ -n "${PREEMPT_SHOW:-}" ] && cat "$WORK/dep.out" "$WORK/dep.err" >&2
check "the deploy named the rollback that preempted it" grep -q "deploy of v2 was preempted by 'ripcord rollback' (pid [0-9]*, user" "$WORK/dep.err"
check "and where it stopped" grep -q "it stopped after switching web-1, web-2, web-3; ups run: 0003_add_note; activate hook stopped on web-1, web-2, web-3" "$WORK/dep.err"
check "every hook's process group is gone" hooks_gone
check "no hook ran to its end" test "$(grep -c 'v2 done' targets/activations.log)" -eq 0
err_has "the rollback says it asked" "asking the deploy of v2 (pid $dep, started"
err_has "and what became of it" "preempted deploy of v2 (pid $dep, started"
err_has "naming the stopped hooks" "activate hook stopped on web-1, web-2, web-3"
check "every target is back on v1" test "$(runs)" = "releases/v1 releases/v1 releases/v1"
check "whose hooks ran" test "$(grep -c 'v1 done' targets/activations.log)" -eq 3
check "the down ran: the column is gone" sh -c "! sqlite3 var/shop.db 'SELECT note FROM orders' 2>/dev/null"
check "the journal holds the stopped hooks" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM switches WHERE release = 'v2' AND activate LIKE 'failed: stopped%'")" -eq 3
check "no switch is left pending" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM switches WHERE result = 'pending'")" -eq 0
check "the deploy's record says preempted" test "$(sqlite3 -cmd ".timeout 10000" .ripcord/state.db "SELECT count(*) FROM operations WHERE op = 'deploy' AND result LIKE 'preempted: deploy of v2 was preempted by%'")" = 1
check "the audit log holds the deploy, exit 5, and where it stopped" sh -c "'$RIPCORD' --json log | grep 'deploy v2' | grep '\"exit_code\": *5' | grep -q 'it stopped after switching web-1'"
expect_exit 0 "status exits 0" rc status
check "and shows v1 everywhere" test "$(grep -c '^web-[123] .*v1' "$WORK/last.out")" -eq 3
expect_exit 0 "rolling back to v1 again" rc rollback --to v1
check "changes nothing (no switch, no hook, no down)" sh -c "! grep -qE 'switch|activate|migrate down' '$WORK/last.err'"
check "the lock is free, its row gone" test "$(sqlite3 .ripcord/state.db 'SELECT count(*) FROM lock_holder')" -eq 0
rm -f targets/hookpids

# --- 3. preempted inside its extract phase -------------------------------
if cc -shared -fPIC -o "$WORK/hold_shim.so" "$SOURCE_ROOT/tests/integration/hold_shim.c" -ldl 2>"$WORK/cc.err"; then
  : > targets/activations.log
  RIPCORD_SHIM_HOLD=/releases/.v3.tmp- RIPCORD_SHIM_HELD=$WORK/held RIPCORD_SHIM_GATE=$WORK/open \
    LD_PRELOAD=$WORK/hold_shim.so ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$RIPCORD" deploy v3 >"$WORK/dep.out" 2>"$WORK/dep.err" &
  dep=$!
  check "the deploy is held inside its extract" wait_until test -e "$WORK/held"
  "$RIPCORD" --json rollback >"$WORK/rb.out" 2>"$WORK/rb.err" &
  rb=$!
  check "the rollback asks it to stop" wait_until requested
  check "and waits for it" kill -0 "$rb"
  touch "$WORK/open"
  wait "$dep"; code=$?
  check "the deploy exited 5" test "$code" -eq 5
  check "it stopped before switching any target" grep -q "deploy of v3 was preempted by 'ripcord rollback' (pid $rb, user [^)]*): it stopped before switching any target" "$WORK/dep.err"
  wait "$rb"; code=$?
  check "the rollback succeeded" test "$code" -eq 0
  check "it says so" grep -q "preempted deploy of v3 (pid $dep, started .*): it stopped before switching any target" "$WORK/rb.err"
  check "and so does its --json" python3 -c "
import json; d = json.load(open('$WORK/rb.out'))['preempted']
assert d['operation'] == 'deploy' and d['release'] == 'v3' and d['pid'] == $dep, d
assert d['outcome'].startswith('it stopped before switching any target'), d"
  check "it left every target on v1 (nothing of v3 to undo)" test "$(runs)" = "releases/v1 releases/v1 releases/v1"
  check "saying why" grep -q "the preempted deploy switched no target: every target stays on v1" "$WORK/rb.err"
  check "no hook ran" test "$(grep -c started targets/activations.log)" -eq 0
  check "v3 was extracted whole, or not at all" sh -c 'for t in targets/web-*; do [ ! -e "$t/releases/v3" ] || [ -f "$t/releases/v3/VERSION" ] || exit 1; done'
  expect_exit 0 "status exits 0" rc status
else
  echo "ok $((T_N + 1)) # SKIP no C compiler for the hold shim: $(head -1 "$WORK/cc.err")"; T_N=$((T_N + 1))
fi

# --- 4. a deploy killed after it was asked to stop -----------------------
: > targets/activations.log
touch slow
"$RIPCORD" deploy v2 >"$WORK/dep.out" 2>"$WORK/dep.err" &
dep=$!
check "the deploy reaches its hooks, held" wait_until started 3 "v2"
rm -f slow
kill -STOP "$dep"
"$RIPCORD" rollback >"$WORK/rb.out" 2>"$WORK/rb.err" &
rb=$!
check "the rollback asks the stopped deploy" wait_until requested
kill -9 "$dep"; wait "$dep" 2>/dev/null; kill_hooks
wait "$rb"; code=$?
check "killed, the deploy lets the rollback through (exit 0)" test "$code" -eq 0
check "which says it recorded nothing of where it stopped" grep -q "preempted deploy of v2 (pid $dep, started .*): it ended without recording where it stopped" "$WORK/rb.err"
check "every target is back on v1" test "$(runs)" = "releases/v1 releases/v1 releases/v1"
: > targets/activations.log
expect_exit 0 "the next deploy is not stopped by the old request" rc deploy v2
check "every target runs v2" test "$(runs)" = "releases/v2 releases/v2 releases/v2"
check "every hook ran to its end" test "$(grep -c 'v2 done' targets/activations.log)" -eq 3
expect_exit 0 "status exits 0" rc status

# --- 4b. a rollback that asked and then went (killed, or gave up) --------
: > targets/activations.log
touch slow
"$RIPCORD" deploy v3 >"$WORK/dep.out" 2>"$WORK/dep.err" &
dep=$!
check "a deploy of v3 reaches its hooks, held" wait_until started 3 "v3"
rm -f slow
kill -STOP "$dep"
"$RIPCORD" rollback >"$WORK/rb.out" 2>"$WORK/rb.err" &
rb=$!
check "a rollback asks it to stop" wait_until requested
kill -9 "$rb"; wait "$rb" 2>/dev/null
kill -CONT "$dep"
check "the gate opens" release_gate 3 v3
wait "$dep"; code=$?
check "with its asker gone, the deploy goes on to its end (exit 0)" test "$code" -eq 0
check "saying so" grep -q "'ripcord rollback' (pid $rb, user .*) asked this deploy to stop, but it has gone: the deploy goes on" "$WORK/dep.err"
check "every hook ran to its end" test "$(grep -c 'v3 done' targets/activations.log)" -eq 3
check "every target runs v3" test "$(runs)" = "releases/v3 releases/v3 releases/v3"
# the newest deploy by its row, not by its second (the deploy preempted
# just before may have started in the same second)
check "its record is not preempted" test "$(sqlite3 -cmd ".timeout 10000" .ripcord/state.db "SELECT count(*) FROM operations WHERE seq = (SELECT max(seq) FROM operations WHERE op = 'deploy') AND release = 'v3' AND result NOT LIKE 'preempted%'")" = 1
rm -f targets/hookpids
expect_exit 0 "(back to v2)" rc rollback --to v2

# --- 5. only a deploy is preempted: a rollback that holds the lock is not
: > targets/activations.log
touch slow
"$RIPCORD" rollback >"$WORK/rb.out" 2>"$WORK/rb.err" &
rb=$!
check "a rollback reaches its hooks, held" wait_until started 3 "v1"
rm -f slow
expect_exit 4 "a second rollback exits 4 at once" rc rollback
err_has "naming the holder" "'ripcord rollback', since"
err_has "saying why, and what to do" "only a deploy can be preempted: wait for it to finish, or run 'ripcord rollback --wait[=DUR]'"
check "the held rollback was not asked to stop" test -z "$(sqlite3 .ripcord/state.db 'SELECT request FROM lock_holder WHERE request IS NOT NULL')"
check "the gate opens" release_gate 3 v1
wait "$rb"; code=$?
check "released, the first rollback finishes (exit 0)" test "$code" -eq 0
check "every target is on v1" test "$(runs)" = "releases/v1 releases/v1 releases/v1"
rm -f targets/hookpids
expect_exit 0 "log --verify passes" rc log --verify

done_testing
