#!/usr/bin/env bash
# ripcord agent whose session ends while an activate hook runs: its stdin
# closed (the client closed the session, as a preempting rollback does),
# or its stdout's reader gone (ssh died). The hook's process group is
# ended (SIGTERM, then SIGKILL after 2 s): the hook and the child it left
# are gone within a few seconds, and the agent exits.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
printf '.ripcord/\n' > .gitignore
printf '[project]\nname = app\n\n[target "t"]\nroot = /nonexistent\n' > ripcord.ini
mkdir -p bin
# a hook that starts a child, says both pids, and waits
cat > bin/slow <<'HOOK'
#!/bin/sh
sleep 120 &
echo $! > "$HOOK_PIDS/child.tmp" && mv "$HOOK_PIDS/child.tmp" "$HOOK_PIDS/child"
echo $$ > "$HOOK_PIDS/hook.tmp" && mv "$HOOK_PIDS/hook.tmp" "$HOOK_PIDS/hook"
echo started
wait
HOOK
chmod 755 bin/slow
echo v1 > VERSION && git add -A && git commit -qm v1 && rc -q cut --id v1 >/dev/null 2>&1
art=$repo/.ripcord/artifacts/v1.tar.zst
check "a release with a slow hook" test -f "$art"

ver=$("$RIPCORD" --version | cut -d' ' -f2)
hello='{"op":"hello","id":0,"protocol":1,"version":"'"$ver"'"}'
export RIPCORD_AGENT_INI=$WORK/agent.ini   # none: no restriction
root=$WORK/host/srv
d1=$(sha256sum "$art" | cut -d' ' -f1)
on() { printf '"root":"%s","release":"v1"' "$root"; }
{
  echo "$hello"
  printf '{"op":"put","id":1,%s,"digest":"%s","size":%s}\n' "$(on)" "$d1" "$(stat -c %s "$art")"
  cat "$art"
  printf '{"op":"extract","id":2,%s,"digest":"%s"}\n' "$(on)" "$d1"
} >"$WORK/stage.in"
"$RIPCORD" agent <"$WORK/stage.in" >"$WORK/stage.out" 2>&1
check "the release is staged on the host" test -x "$root/releases/v1/bin/slow"
activate='{"op":"activate","id":3,'"$(on)"',"previous":"","target":"t","command":"bin/slow","timeout_ms":600000}'

# gone PID: no such process (or a zombie nobody waits for)
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# within SECONDS COMMAND...: COMMAND succeeds within SECONDS
within() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -ge "$end" ] && return 1; sleep 0.1; done
}
# stop_all AGENT HOOK: what a failed check left running, killed
stop_all() { kill -KILL "$1" -- "-$2" 2>/dev/null; }
# session NAME: the agent reading fifo NAME.in, pids in NAME.pids/
session() {
  mkdir -p "$WORK/$1.pids" && mkfifo "$WORK/$1.in"
  export HOOK_PIDS=$WORK/$1.pids
}

# 1. stdin closed while the hook runs; stdout (a file) stays
session a
"$RIPCORD" agent <"$WORK/a.in" >"$WORK/a.out" 2>"$WORK/a.err" &
agent=$!
exec {w}>"$WORK/a.in"
printf '%s\n%s\n' "$hello" "$activate" >&"$w"
check "a: the hook and its child started" within 20 test -s "$WORK/a.pids/hook" -a -s "$WORK/a.pids/child"
hook=$(cat "$WORK/a.pids/hook") child=$(cat "$WORK/a.pids/child")
sleep 0.3
check "a: and run while the session is open" kill -0 "$hook"
exec {w}>&-
t0=$SECONDS
check "a: stdin closed: the hook is gone within 4 s" within 4 gone "$hook"
check "a: so is the child it left" within 4 gone "$child"
check "a: the agent exits" within 4 sh -c "! kill -0 $agent 2>/dev/null"
stop_all "$agent" "$hook"
wait "$agent"; code=$?
check "a: with 0 (the end of its input)" test "$code" = 0
check "a: the activate is answered: the hook was stopped (code -9)" sh -c "grep '^{\"id\":3,\"ok\":false' '$WORK/a.out' | grep -F 'was stopped' | grep -qF '\"code\":-9'"
check "a: within the bound" test $((SECONDS - t0)) -le 5

# 2. stdout's reader gone (ssh died) while the hook runs; stdin stays open
session b
mkfifo "$WORK/b.outfifo"
cat "$WORK/b.outfifo" >"$WORK/b.out" &
reader=$!
"$RIPCORD" agent <"$WORK/b.in" >"$WORK/b.outfifo" 2>"$WORK/b.err" &
agent=$!
exec {w}>"$WORK/b.in"
printf '%s\n%s\n' "$hello" "$activate" >&"$w"
check "b: the hook and its child started" within 20 test -s "$WORK/b.pids/hook" -a -s "$WORK/b.pids/child"
hook=$(cat "$WORK/b.pids/hook") child=$(cat "$WORK/b.pids/child")
kill "$reader"; wait "$reader" 2>/dev/null
check "b: output gone: the hook is gone within 4 s" within 4 gone "$hook"
check "b: so is the child it left" within 4 gone "$child"
check "b: the agent exits, though its stdin is still open" within 4 sh -c "! kill -0 $agent 2>/dev/null"
stop_all "$agent" "$hook"
wait "$agent"
exec {w}>&-

# 3. a session that stays open: the hook runs to its end, answered
session c
printf '#!/bin/sh\nsleep 1\necho done\n' >"$WORK/quick" && chmod 755 "$WORK/quick"
"$RIPCORD" agent <"$WORK/c.in" >"$WORK/c.out" 2>"$WORK/c.err" &
agent=$!
exec {w}>"$WORK/c.in"
printf '%s\n%s\n' "$hello" "${activate/bin\/slow/$WORK/quick}" >&"$w"
check "c: the hook runs to its end and is answered" within 10 grep -q '^{"id":3,"ok":true,"exit_code":0' "$WORK/c.out"
exec {w}>&-
wait "$agent"; code=$?
check "c: then the end of input ends the agent with 0" test "$code" = 0

done_testing
