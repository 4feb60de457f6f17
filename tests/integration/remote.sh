#!/usr/bin/env bash
# Remote targets end to end, without root and without sshd: three "hosts"
# reached through a per-host stand-in for ssh ($WORK/ssh: a host can be
# down, or hang, or else tests/fakessh runs `ripcord agent` here) plus
# one local target, with SQLite migrations and an activate hook. Deploys,
# a deploy stopped by a host that is down or cannot stage (nothing
# switched, the schema untouched), rollbacks that leave a host owed and
# converge once it is back, a hung host, gc through the agents (and
# refused with a host down), and a deploy killed with SIGKILL mid-hook.
. "$(dirname "$0")/lib.sh"

export RT_WORK=$WORK
ver=$("$RIPCORD" --version | awk '{print $2}')
hosts="host1 host2 host3"
for h in $hosts; do mkdir -p "$WORK/hosts/$h"; done
hroot() { printf '%s/hosts/%s/srv' "$WORK" "$1"; }

# the ssh: down.hostK -> what ssh says for a dead route, exit 255;
# hang.hostK -> no answer (bounded, exec so a kill ends the sleeper);
# else fakessh, which runs the remote command here
fake_ssh "$WORK/ssh" "$(cat <<SH
echo "\$dest" >> "$WORK/ssh.log"
if [ -n "\$dest" ] && [ -e "$WORK/hang.\$dest" ]; then
	echo \$\$ >> "$WORK/hang.pids"
	exec sleep 30
fi
SH
)"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
printf '.ripcord/\ntargets/\nvar/\n' > .gitignore
mkdir -p hooks db && cp -r "$SOURCE_ROOT/examples/shop/db/migrations" db/
# the hook records its env; on host1 with $RT_WORK/slow it waits (the
# SIGKILL case), leaving its pid behind
cat > hooks/activate <<'SH'
#!/bin/sh
echo "$RIPCORD_RELEASE $RIPCORD_PREVIOUS $RIPCORD_TARGET" >> "$RIPCORD_ROOT/activate.log"
if [ "$RIPCORD_TARGET" = host1 ] && [ -e "$RT_WORK/slow" ]; then
	echo $$ > "$RT_WORK/hook.pid"
	touch "$RT_WORK/hook.started"
	exec sleep 20
fi
exit 0
SH
chmod +x hooks/activate
{
  printf '[project]\nname = app\nkeep = 5\n\n'
  printf '[migrations]\ndir = db/migrations\ndriver = sqlite\ndatabase = var/app.db\n\n'
  printf '[target "local"]\nroot = targets/local\nactivate = hooks/activate\n\n'
  for h in $hosts; do
    printf '[target "%s"]\nhost = deploy@%s\nroot = %s\nactivate = hooks/activate\n\n' "$h" "$h" "$(hroot "$h")"
  done
  printf '[ssh]\ncommand = %s\nagent_path = %s\nconnect_timeout = 1s\n' "$WORK/ssh" "$RIPCORD"
} > ripcord.ini
release() {  # release ID [MIGRATION-NUMBER]: commit and cut
  echo "$1" > VERSION
  if [ -n "${2:-}" ]; then
    printf 'ALTER TABLE orders ADD COLUMN c%s TEXT;\n' "$2" > "db/migrations/000${2}_c$2.up.sql"
    printf 'ALTER TABLE orders DROP COLUMN c%s;\n' "$2" > "db/migrations/000${2}_c$2.down.sql"
  fi
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1
}
release v1 && release v2 3 && release v3 4
check "v1, v2, v3 cut" test -f .ripcord/artifacts/v3.tar.zst

# cur T: what target T's current points at
cur() {
  local r
  if [ "$1" = local ]; then r=$repo/targets/local; else r=$(hroot "$1"); fi
  readlink "$r/current" 2>/dev/null || echo none
}
all_on() {  # all_on ID [TARGET...]: every target (or those named) runs ID
  local id=$1 t; shift
  for t in ${*:-local $hosts}; do
    [ "$(cur "$t")" = "releases/$id" ] || { echo "$t: $(cur "$t"), not releases/$id"; return 1; }
  done
}
# how many migrations the schema has applied, from the database itself
nmig() { python3 -c "
import sqlite3; print(sqlite3.connect('$repo/var/app.db').execute('SELECT count(*) FROM ripcord_migrations').fetchone()[0])"; }

# --- 1. deploy v1 then v2 to three hosts and one local target ---
expect_exit 0 "deploy v1" rc deploy v1
check "every target runs v1" all_on v1
expect_exit 0 "deploy v2" rc deploy v2
check "every target runs v2" all_on v2
check "the schema is at v2 (3 migrations)" test "$(nmig)" = 3
for h in $hosts; do
  check "$h: activate ran with the env (v2, previous v1, its name)" grep -qx "v2 v1 $h" "$(hroot "$h")/activate.log"
  check "$h: v1 stays extracted" test -d "$(hroot "$h")/releases/v1"
  check "$h: the artifact is cached under .ripcord/artifacts" sh -c "ls '$(hroot "$h")/.ripcord/artifacts/' | grep -qE '^v2@[0-9a-f]{64}\\.tar\\.zst\$'"
  check "$h: the cached bytes are the store's" cmp "$(hroot "$h")/.ripcord/artifacts/v2@$(sha256sum .ripcord/artifacts/v2.tar.zst | cut -d' ' -f1).tar.zst" .ripcord/artifacts/v2.tar.zst
done
check "local: activate ran too" grep -qx "v2 v1 local" targets/local/activate.log
check "the hosts were reached through our ssh" grep -qx host2 "$WORK/ssh.log"
expect_exit 0 "status: exit 0" rc status
expect_exit 0 "targets --check: exit 0" rc targets --check
for h in $hosts; do
  check "targets --check: $h reachable, agent $ver, runs v2" grep -qE "^$h +deploy@$h +yes +$ver +v2 +2 " "$WORK/last.out"
done

# --- 2. deploy v3 with host2 down: nothing changes ---
touch "$WORK/down.host2"
expect_exit 1 "deploy v3 with host2 down: exit 1" rc deploy v3
err_has "names the target" "host2"
err_has "and its host" "deploy@host2"
err_has "with what ssh said" "No route to host"
err_has "and that nothing was changed" "nothing was changed"
check "no target switched: all still on v2" all_on v2
check "the schema is not migrated (3 migrations)" test "$(nmig)" = 3
expect_exit 0 "migrate status runs" rc migrate status
check "migrate status: 3 applied" grep -qE '^3 applied, ' "$WORK/last.out"
check "and 0004 (v3's up) not among them" sh -c "! grep -qE '^applied .*0004_c4' '$WORK/last.out'"
rm "$WORK/down.host2"

# --- 3. deploy v3 where host3 cannot stage: a file where its cache goes ---
h3=$(hroot host3)
mv "$h3/.ripcord" "$WORK/h3-ripcord"
echo "not a folder" > "$h3/.ripcord"
rc deploy v3 >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "deploy v3 with host3 unable to stage fails (exit $code)" test "$code" -ne 0
err_has "naming host3 and its host" "target 'host3' (host deploy@host3)"
err_has "why: its cache folder is not a folder" "$h3/.ripcord' is not a folder"
err_has "and that nothing was switched" "switched: 0/4"
check "no target switched: all still on v2" all_on v2
check "v3 is not extracted on host3" test ! -e "$h3/releases/v3"
check "the schema is untouched (3 migrations)" test "$(nmig)" = 3
rm "$h3/.ripcord" && mv "$WORK/h3-ripcord" "$h3/.ripcord"

# --- 4. rollback with host2 down; again; then converge ---
touch "$WORK/down.host2"
expect_exit 1 "rollback with host2 down: exit 1" rc rollback
err_has "names host2" "host2"
err_has "as unreachable" "unreachable"
check "the others are back on v1" all_on v1 local host1 host3
check "host2 still runs v2 (its link never touched)" test "$(cur host2)" = releases/v2
# exit 1, not 5: the rollback was not interrupted, and repeating it cannot
# converge while the host is down (its pending row waits for it)
expect_exit 1 "status with host2 down: exit 1" rc status
check "status shows it UNREACHABLE" grep -qF "UNREACHABLE: target 'host2' (host deploy@host2)" "$WORK/last.out" "$WORK/last.err"
check "and the pending row" grep -qi "pending" "$WORK/last.out"
rc --json status >"$WORK/st.json" 2>/dev/null
check "status --json: host2 unreachable with its pending switch to v1" python3 -c "
import json; d = json.load(open('$WORK/st.json'))
t = {x['target']: x for x in d['targets']}
h = t['host2']; assert h['unreachable'], h
assert h['pending'] and 'v1' in json.dumps(h['pending']), h
assert not t['host1']['unreachable'] and not t['local']['unreachable'], t"
expect_exit 1 "a second rollback, host2 still down: exit 1" rc --json rollback
check "--json: host2 unreachable in targets[]" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
assert t['host2']['unreachable'] and 'No route to host' in t['host2']['unreachable'], t['host2']
assert not t['host1'].get('unreachable'), t['host1']"
check "the others did not move further back: still v1" all_on v1 local host1 host3
rm "$WORK/down.host2"
expect_exit 0 "host2 back: rollback converges, exit 0" rc rollback
check "every target runs v1, host2 too" all_on v1
check "the schema is at v1 (2 migrations)" test "$(nmig)" = 2
check "host2's activate.log shows the rollback (v1, previous v2)" grep -qx "v1 v2 host2" "$(hroot host2)/activate.log"
expect_exit 0 "status: exit 0" rc status

# --- 5. a hung host: rollback returns, says no answer, others done ---
expect_exit 0 "deploy v2" rc deploy v2
expect_exit 0 "deploy v3" rc deploy v3
check "every target runs v3" all_on v3
check "the schema is at v3 (4 migrations)" test "$(nmig)" = 4
touch "$WORK/hang.host1"
expect_exit 1 "rollback with host1 hanging returns: exit 1" rc rollback
err_has "says no answer, naming host1" "target 'host1' (host deploy@host1): no answer in"
err_has "and that the rollback is not done on every host" "not on every host"
check "the others are back on v2" all_on v2 local host2 host3
check "host1 still runs v3" test "$(cur host1)" = releases/v3
expect_exit 1 "status with host1 hanging returns: exit 1" rc status
check "and says no answer, naming host1" grep -qF "UNREACHABLE: target 'host1' (host deploy@host1): no answer in" "$WORK/last.out"
rm "$WORK/hang.host1"
expect_exit 0 "host1 answers again: rollback converges" rc rollback
check "every target runs v2" all_on v2

# --- 6. gc through the agents ---
release v4 && release v5
expect_exit 0 "deploy v4" rc deploy v4
expect_exit 0 "deploy v5" rc deploy v5
sed -i 's/^keep = 5$/keep = 1/' ripcord.ini
snap() { (cd "$WORK/hosts" && ls -d */srv/releases/*; ls "$repo/.ripcord/artifacts") | sort; }
before=$(snap)
touch "$WORK/down.host3"
expect_exit 1 "gc with host3 down refuses: exit 1" rc gc
err_has "saying gc needs every host, nothing deleted" "gc needs every host, nothing was deleted"
err_has "naming host3 and why" "target 'host3' (host deploy@host3): ssh exited 255: ssh: connect to host host3 port 22: No route to host"
check "deleting nothing, on the hosts and in the store" test "$(snap)" = "$before"
check "the store still has v1's artifact" test -f .ripcord/artifacts/v1.tar.zst
rm "$WORK/down.host3"
expect_exit 0 "gc with every host up" rc gc
for h in $hosts; do
  check "$h: v1..v3 deleted, v5 (current) and v4 (rollback target) kept" \
    test "$(cd "$(hroot "$h")/releases" && ls | tr '\n' ' ')" = "v4 v5 "
done
for h in $hosts; do
  check "$h: its artifact cache keeps v4 and v5 alone" \
    test "$(cd "$(hroot "$h")/.ripcord/artifacts" && ls | sed 's/@.*//' | tr '\n' ' ')" = "v4 v5 "
done
check "the store dropped v1's artifact" test ! -e .ripcord/artifacts/v1.tar.zst
check "and kept v4's" test -f .ripcord/artifacts/v4.tar.zst
check "every target still runs v5" all_on v5
expect_exit 0 "rollback after gc still works: to v4" rc rollback
check "every target runs v4" all_on v4
expect_exit 0 "deploy v5 again" rc deploy v5

# --- 7. rollouts across hosts: tests/fleet/rollout.sh, on real sshd hosts

# --- 8. SIGKILL mid-deploy: host1's hook waits ---
release v6
touch "$WORK/slow"
"$RIPCORD" deploy v6 >"$WORK/kill.out" 2>"$WORK/kill.err" &   # not rc: $! must be ripcord
dpid=$!
for _ in $(seq 1 100); do [ -e "$WORK/hook.started" ] && break; sleep 0.1; done
check "host1's hook started" test -e "$WORK/hook.started"
kill -9 "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null
rm -f "$WORK/slow"
[ -s "$WORK/hook.pid" ] && kill "$(cat "$WORK/hook.pid")" 2>/dev/null
dangling=
for t in local $hosts; do
  if [ "$t" = local ]; then r=$repo/targets/local; else r=$(hroot "$t"); fi
  l=$(readlink "$r/current")
  case "$l" in releases/*) [ -d "$r/$l" ] || dangling="$dangling $t:$l" ;; *) dangling="$dangling $t:$l" ;; esac
done
check "no dangling current on any target" test -z "$dangling"
expect_exit 5 "status says work is owed: exit 5" rc status
expect_exit 0 "the deploy rerun converges" rc deploy v6
check "every target runs v6" all_on v6
expect_exit 0 "status: exit 0" rc status
check "host1's hook ran for v6" grep -q "^v6 v5 host1" "$(hroot host1)/activate.log"

# --- 9. a host that refuses its switch (the others switched at the same
# moment), and [ssh] parallel = 1 honoured: the agent runs behind a proxy
# that logs each request's start and end per host, and answers a switch
# with an error where $WORK/refuse.HOST exists
cat > "$WORK/proxy" <<'PY'
#!/usr/bin/env python3
import json, os, subprocess, sys, time
work, host = os.environ["RT_WORK"], os.environ.get("FAKE_HOST", "?")
agent = subprocess.Popen([os.environ["RIPCORD"], "agent"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
inp, out = sys.stdin.buffer, sys.stdout.buffer
log = open(os.path.join(work, "ops.log"), "a")
for line in inp:
    req = json.loads(line)
    op, t0 = req.get("op"), time.monotonic()
    if op == "switch" and os.path.exists(os.path.join(work, "refuse." + host)):
        out.write(json.dumps({"id": req["id"], "ok": False, "code": -1,
                              "error": "refused by the test"}).encode() + b"\n")
        out.flush()
        continue
    agent.stdin.write(line)
    if op == "put":
        left = req["size"]
        while left:
            chunk = inp.read(min(left, 65536))
            if not chunk:
                sys.exit(1)
            agent.stdin.write(chunk)
            left -= len(chunk)
    agent.stdin.flush()
    ans = agent.stdout.readline()
    if op == "switch" and os.path.exists(os.path.join(work, "unsynced." + host)):
        a = json.loads(ans)
        a["synced"] = False    # as an agent whose fsync of the root failed
        ans = json.dumps(a).encode() + b"\n"
    log.write(f"{host} {op} {t0:.6f} {time.monotonic():.6f}\n")
    log.flush()
    out.write(ans)
    out.flush()
    if op == "bye":
        break
PY
chmod +x "$WORK/proxy"
export RIPCORD
sed -i "s|^agent_path = .*|agent_path = $WORK/proxy|" ripcord.ini
release v7
touch "$WORK/refuse.host3"
expect_exit 1 "deploy v7 with host3 refusing its switch: exit 1" rc deploy v7
err_has "names host3's refusal" "refused by the test"
err_has "says it did not reach every target" "not on every target"
check "the others switched to v7" all_on v7 local host1 host2
check "host3 still runs v6" test "$(cur host3)" = releases/v6
for h in host1 host2; do
  check "$h's hook ran for v7 (the switch of host3 did not stop it)" grep -q "^v7 v6 $h" "$(hroot "$h")/activate.log"
done
check "host3's hook did not run for v7" sh -c "! grep -q '^v7' '$(hroot host3)/activate.log'"
rm "$WORK/refuse.host3"
expect_exit 0 "deploy v7 again goes on with host3 alone" rc deploy v7
check "every target runs v7" all_on v7
# a host whose switch was made but not made durable (its fsync failed)
release v7b
touch "$WORK/unsynced.host2"
expect_exit 1 "deploy v7b with host2's fsync failing: exit 1" rc --json deploy v7b
rm "$WORK/unsynced.host2"
check "every target runs v7b (the link did move on host2)" all_on v7b
check "--json: host2 switched, not ok, health 'switched, not synced'; the others ok" python3 -c "
import json
d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
assert t['host2']['switched'] and not t['host2']['ok'] and t['host2']['health'] == 'switched, not synced', t['host2']
assert all(t[h]['ok'] for h in ('local', 'host1', 'host3')), t
assert 'host2 switched, not synced' in d['error'], d['error']"
check "host2's hook ran for v7b (it runs v7b)" grep -q "^v7b v7 host2" "$(hroot host2)/activate.log"
# parallel = 1: no two hosts are sent an artifact at the same time
printf 'parallel = 1\n' >> ripcord.ini
release v8
: > "$WORK/ops.log"
expect_exit 0 "deploy v8 with [ssh] parallel = 1" rc deploy v8
check "every host got a put" test "$(grep -c ' put ' "$WORK/ops.log")" = 3
check "and no two puts overlapped" python3 -c "
import sys
iv = sorted((float(a), float(b)) for h, op, a, b in (l.split() for l in open('$WORK/ops.log')) if op in ('put', 'extract'))
sys.exit(any(iv[i + 1][0] < iv[i][1] for i in range(len(iv) - 1)))"

# nothing left behind: the ssh of the hung host was ended by ripcord
left=
for p in $(cat "$WORK/hang.pids" 2>/dev/null); do
  kill -0 "$p" 2>/dev/null && { left="$left $p"; kill "$p"; }
done
check "the hung host's ssh was ended by ripcord" test -s "$WORK/hang.pids" -a -z "$left"

done_testing
