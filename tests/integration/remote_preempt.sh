#!/usr/bin/env bash
# rollback preempts a deploy held in a REMOTE activate hook (preempt.sh
# does it for local ones; ripcord-deploy(1), ripcord-rollback(1)): two
# "hosts" reached through tests/fakessh, which runs `ripcord agent` here
# in a session of its own, as sshd does (FAKESSH_SETSID), so killing ssh
# does not kill the agent: the agent must see its session end. The hook
# starts a child and waits for it (30 s). A rollback started meanwhile
# asks the deploy to stop: the deploy ends its sessions, whose agents end
# the hooks' process groups, records where it stopped and exits 5 within
# a few seconds; the rollback then converges. The hooks' processes are on
# this machine, so the test sees them go.
. "$(dirname "$0")/lib.sh"

export RT_WORK=$WORK
hosts="host1 host2"
hroot() { printf '%s/hosts/%s/srv' "$WORK" "$1"; }
cat > "$WORK/ssh" <<SH
#!/usr/bin/env bash
FAKESSH_SETSID=1 exec "$SOURCE_ROOT/tests/fakessh" "\$@"
SH
chmod +x "$WORK/ssh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
printf '.ripcord/\n' > .gitignore
mkdir -p hooks
# with $RT_WORK/slow: a child that sleeps 30 s, both pids written, and a wait
cat > hooks/activate <<'SH'
#!/bin/sh
echo "$RIPCORD_RELEASE $RIPCORD_PREVIOUS $RIPCORD_TARGET started" >> "$RIPCORD_ROOT/activate.log"
if [ -e "$RT_WORK/slow" ]; then
	sleep 30 &
	echo $! > "$RIPCORD_ROOT/child.tmp" && mv "$RIPCORD_ROOT/child.tmp" "$RIPCORD_ROOT/child.pid"
	echo $$ > "$RIPCORD_ROOT/hook.tmp" && mv "$RIPCORD_ROOT/hook.tmp" "$RIPCORD_ROOT/hook.pid"
	wait
fi
echo "$RIPCORD_RELEASE done" >> "$RIPCORD_ROOT/activate.log"
SH
chmod +x hooks/activate
{
  printf '[project]\nname = app\nkeep = 5\n\n'
  for h in $hosts; do
    printf '[target "%s"]\nhost = deploy@%s\nroot = %s\nactivate = hooks/activate\nhook_timeout = 10m\n\n' "$h" "$h" "$(hroot "$h")"
  done
  printf '[ssh]\ncommand = %s\nagent_path = %s\nconnect_timeout = 1s\n' "$WORK/ssh" "$RIPCORD"
} > ripcord.ini
for v in v1 v2; do
  echo "$v" > VERSION && git add -A && git commit -qm "$v" && rc -q cut --id "$v" >/dev/null 2>&1
done
check "v1 and v2 cut" test -f .ripcord/artifacts/v2.tar.zst

cur() { readlink "$(hroot "$1")/current" 2>/dev/null || echo none; }
all_on() { local h; for h in $hosts; do [ "$(cur "$h")" = "releases/$1" ] || { echo "$h: $(cur "$h")"; return 1; }; done; }
# gone PID: no such process (or a zombie nobody waits for)
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# within SECONDS COMMAND...: COMMAND succeeds within SECONDS
within() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -ge "$end" ] && return 1; sleep 0.1; done
}
pids() { local h; for h in $hosts; do cat "$(hroot "$h")/hook.pid" "$(hroot "$h")/child.pid" 2>/dev/null; done; }
all_gone() { local p; for p in $(pids); do gone "$p" || { echo "$p lives: $(ps -o pid,pgid,args -p "$p")"; return 1; }; done; }
held() { local h; for h in $hosts; do [ -s "$(hroot "$h")/hook.pid" ] && [ -s "$(hroot "$h")/child.pid" ] || return 1; done; }
trap 'for p in $(pids); do kill -9 "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT

expect_exit 0 "deploy v1" rc deploy v1
check "both hosts run v1" all_on v1

# --- a deploy of v2 held in its remote hooks, preempted by a rollback ---
touch "$WORK/slow"
"$RIPCORD" deploy v2 >"$WORK/dep.out" 2>"$WORK/dep.err" &   # not rc: $! must be ripcord
dep=$!
check "the hooks and their children run on both hosts" within 30 held
rm -f "$WORK/slow"
check "the deploy waits in them" kill -0 "$dep"
"$RIPCORD" rollback >"$WORK/rb.out" 2>"$WORK/rb.err" &
rb=$!
t0=$SECONDS
check "the deploy ends within a few seconds" within 8 gone "$dep"
wait "$dep"; code=$?
check "exiting 5 (interrupted, state saved)" test "$code" -eq 5
[ -n "${PREEMPT_SHOW:-}" ] && cat "$WORK/dep.out" "$WORK/dep.err" >&2
check "the hooks and their children are gone on the hosts" within 5 all_gone
check "no hook ran to its end" sh -c "! grep -q 'v2 done' $(hroot host1)/activate.log $(hroot host2)/activate.log"
check "the deploy named the rollback that preempted it" grep -q "deploy of v2 was preempted by 'ripcord rollback' (pid $rb, user" "$WORK/dep.err"
check "and where it stopped" grep -q "it stopped after switching host1, host2; activate hook stopped on host1, host2" "$WORK/dep.err"
check "the journal holds the stopped hooks" test "$(sqlite3 -cmd ".timeout 10000" .ripcord/state.db "SELECT count(*) FROM switches WHERE release = 'v2' AND activate LIKE 'failed: stopped%'")" -eq 2
check "the deploy's record says preempted, and where" test "$(sqlite3 -cmd ".timeout 10000" .ripcord/state.db "SELECT count(*) FROM operations WHERE op = 'deploy' AND result LIKE 'preempted: deploy of v2 was preempted by%activate hook stopped on host1, host2%'")" = 1
wait "$rb"; code=$?
[ -n "${PREEMPT_SHOW:-}" ] && cat "$WORK/rb.out" "$WORK/rb.err" >&2
check "the rollback succeeds (exit 0)" test "$code" -eq 0
check "well before the hooks would have ended" test $((SECONDS - t0)) -lt 25
check "saying what became of the deploy" grep -q "preempted deploy of v2 (pid $dep, started .*activate hook stopped on host1, host2" "$WORK/rb.err"
check "both hosts are back on v1" all_on v1
for h in $hosts; do
  check "$h: v1's hook ran to its end" grep -q "^v1 done" "$(hroot "$h")/activate.log"
done
check "no switch is left pending" test "$(sqlite3 -cmd ".timeout 10000" .ripcord/state.db "SELECT count(*) FROM switches WHERE result = 'pending'")" -eq 0
expect_exit 0 "status exits 0" rc status
expect_exit 0 "deploy v2 again, not held, runs to its end" rc deploy v2
check "both hosts run v2" all_on v2
check "whose hooks ran to their end" test "$(cat "$(hroot host1)/activate.log" "$(hroot host2)/activate.log" | grep -c 'v2 done')" -eq 2

done_testing
