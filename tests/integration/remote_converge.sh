#!/usr/bin/env bash
# Rollbacks whose switch on a host was made but not heard of, and what
# their rerun does: without root and without sshd, each "host" is reached
# through a stand-in for ssh ($WORK/ssh: down.HOST makes it unreachable)
# that runs, through tests/fakessh, a proxy ($WORK/proxy) in front of
# `ripcord agent`. The proxy loses a switch's answer after the rename
# (drop.HOST), before it (early.HOST), or lets it time out (hang.HOST);
# it also fails one inspect (dieinspect.HOST), answers one slowly
# (slowinspect.HOST, 2.5 s: a dead session is started again after 2 s)
# and answers a switch as not made durable (unsynced.HOST), and damages
# what a put stored once it is checked (rot.HOST). A rerun, as
# `status` and `gc` advise, must converge on the interrupted rollback's
# release and never go forward to the release it fled. Also: a host back
# in time but not synced is not ok, and a dry run shows the hosts it
# cannot reach and exits as the real rollback would; and a host's cached
# artifact damaged since it was sent is removed and sent again, once.
. "$(dirname "$0")/lib.sh"

export RT_WORK=$WORK RIPCORD

fake_ssh "$WORK/ssh"

# the flags are per host (FAKE_HOST); the one-shot ones are removed when used
cat > "$WORK/proxy" <<'PY'
#!/usr/bin/env python3
import json, os, subprocess, sys, time
work, host = os.environ["RT_WORK"], os.environ.get("FAKE_HOST", "?")
def flag(name, once=True):
    p = os.path.join(work, name + "." + host)
    if not os.path.exists(p):
        return False
    if once:
        os.unlink(p)
    return True
agent = subprocess.Popen([os.environ["RIPCORD"], "agent"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
inp, out = sys.stdin.buffer, sys.stdout.buffer
for line in inp:
    req = json.loads(line)
    op = req.get("op")
    if op == "inspect" and flag("dieinspect"):
        os._exit(255)
    if op == "inspect" and flag("slowinspect"):
        time.sleep(2.5)        # a slow host: the plan waits for it
    if op == "switch" and flag("early"):
        os._exit(0)            # the session ends before the switch is made
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
    if op == "put" and flag("rot", False):
        # the stored copy damaged on the "disk" right after it was checked
        with open("%s/.ripcord/artifacts/%s@%s.tar.zst" % (req["root"],
                  req["release"], req["digest"]), "r+b") as f:
            f.seek(100)
            f.write(b"RIPX")
    if op == "switch" and flag("drop"):
        os._exit(0)            # the switch is made, its answer never arrives
    if op == "switch" and flag("hang"):
        time.sleep(30)         # made, and answered too late
        os._exit(0)
    if op == "switch" and flag("unsynced", False):
        a = json.loads(ans)
        a["synced"] = False    # as an agent whose fsync of the root failed
        ans = json.dumps(a).encode() + b"\n"
    out.write(ans)
    out.flush()
    if op == "bye":
        break
PY
chmod +x "$WORK/proxy"

# app DIR TARGET...: a repo in DIR (the current folder from then on) with
# v0, v1, v2 cut and those targets ("local" is a local one, any other a
# host with its root under $WORK/hosts/<DIR's name>/)
app() {
  local dir=$1 t; shift
  mkdir -p "$dir" && cd "$dir" && git init -q .
  printf '.ripcord/\ntargets/\n' > .gitignore
  mkdir -p hooks
  printf '#!/bin/sh\necho "$RIPCORD_RELEASE $RIPCORD_PREVIOUS $RIPCORD_TARGET" >> "$RIPCORD_ROOT/activate.log"\n' > hooks/activate
  chmod +x hooks/activate
  {
    printf '[project]\nname = app\nkeep = 5\n\n'
    for t in "$@"; do
      if [ "$t" = local ]; then
        printf '[target "local"]\nroot = targets/local\nactivate = hooks/activate\n\n'
      else
        printf '[target "%s"]\nhost = deploy@%s\nroot = %s\nactivate = hooks/activate\n\n' \
          "$t" "$t" "$(hroot "$t")"
      fi
    done
    printf '[ssh]\ncommand = %s\nagent_path = %s\nconnect_timeout = 1s\n' "$WORK/ssh" "$WORK/proxy"
  } > ripcord.ini
  for v in v0 v1 v2; do
    echo "$v" > VERSION
    git add -A && git commit -qm "$v" && rc -q cut --id "$v" >/dev/null 2>&1
  done
}
hroot() { printf '%s/hosts/%s/%s/srv' "$WORK" "$(basename "$PWD")" "$1"; }
troot() { if [ "$1" = local ]; then echo "$PWD/targets/local"; else hroot "$1"; fi; }
cur() { readlink "$(troot "$1")/current" 2>/dev/null || echo none; }
all_on() {  # all_on ID TARGET...: every target named runs ID
  local id=$1 t; shift
  for t in "$@"; do
    [ "$(cur "$t")" = "releases/$id" ] || { echo "$t: $(cur "$t"), not releases/$id"; return 1; }
  done
}
# hook_ran T LINE: T's activate hook ran with "RELEASE PREVIOUS T" since mark_hooks
mark_hooks() { local t; for t in "$@"; do : > "$(troot "$t")/activate.log"; done; }
hook_ran() { grep -qx "$2 $1" "$(troot "$1")/activate.log"; }
never_on() {  # never_on ID T...: no hook ran for ID on them since mark_hooks
  local t; for t in "${@:2}"; do ! grep -q "^$1 " "$(troot "$t")/activate.log" || return 1; done
}
# the journal's rows of target T, "release op result" each, oldest first
rows() { python3 -c "
import sqlite3; c = sqlite3.connect('.ripcord/state.db')
for r in c.execute('SELECT release, op, result FROM switches WHERE target = ? ORDER BY seq', ('$1',)): print(*r)"; }
npending() { python3 -c "
import sqlite3; print(sqlite3.connect('.ripcord/state.db').execute(\"SELECT count(*) FROM switches WHERE result = 'pending'\").fetchone()[0])"; }

# --- 1. one host: its rollback's answer is lost after the rename ---
app "$WORK/one" host1
for v in v0 v1 v2; do expect_exit 0 "one host: deploy $v" rc deploy "$v"; done
touch "$WORK/drop.host1"
expect_exit 1 "one host: the rollback whose answer is lost: exit 1" rc rollback
check "the host did switch to v1 (the truth)" all_on v1 host1
check "its journal row stays pending" test "$(rows host1 | tail -1)" = "v1 rollback pending"
rc status >"$WORK/last.out" 2>"$WORK/last.err"
check "status says the rollback was interrupted" grep -qi "rollback" "$WORK/last.out" "$WORK/last.err"
rc gc --dry-run >"$WORK/last.out" 2>"$WORK/last.err"
check "gc refuses" test $? -ne 0
err_has "saying: rerun 'ripcord rollback' first" "rerun 'ripcord rollback' first"
mark_hooks host1
expect_exit 0 "the rerun converges: exit 0" rc rollback
check "the host stays on v1, never forward to v2" all_on v1 host1
check "its hook owed for v1 ran" hook_ran host1 "v1 v2"
check "and none for v2" never_on v2 host1
check "the pending row is settled ok" test "$(rows host1 | grep -c pending)" = 0
check "recorded as the rollback it was" grep -qx "v1 rollback ok" <(rows host1)
expect_exit 0 "status: exit 0" rc status
expect_exit 0 "gc --dry-run now runs" rc gc --dry-run
expect_exit 0 "a further rollback plans v0 (further back)" rc rollback --dry-run
check "switch host1 v0 (from v1)" grep -qE '^switch +host1 +v0 \(from v1\)' "$WORK/last.out"

# --- 2. a local target and two hosts ---
app "$WORK/fleet" local host1 host2
T="local host1 host2"
for v in v0 v1 v2; do expect_exit 0 "fleet: deploy $v" rc deploy "$v"; done

# 2a. host1 switched, its answer lost; the others recorded
touch "$WORK/drop.host1"
expect_exit 1 "2a: rollback, host1's answer lost after the rename: exit 1" rc rollback
check "2a: every target runs v1 (host1 too, unrecorded)" all_on v1 $T
mark_hooks $T
expect_exit 0 "2a: the rerun converges: exit 0" rc rollback
err_has "2a: it settles host1's row against its link" "had completed"
check "2a: every target on v1" all_on v1 $T
check "2a: host1's owed hook ran" hook_ran host1 "v1 v2"
check "2a: no target went to v2 or v0" sh -c "! grep -qE '^v[02] ' '$(troot local)/activate.log' '$(hroot host1)/activate.log' '$(hroot host2)/activate.log'"
check "2a: nothing pending" test "$(npending)" = 0
expect_exit 0 "2a: status exit 0" rc status
expect_exit 0 "deploy v2 again" rc deploy v2

# 2b. host1's session ends before the switch, host2's answer is lost after
touch "$WORK/early.host1" "$WORK/drop.host2"
expect_exit 1 "2b: rollback, host1 not switched, host2 not heard of: exit 1" rc rollback
check "2b: host1 still on v2" all_on v2 host1
check "2b: host2 and local on v1" all_on v1 local host2
mark_hooks $T
expect_exit 0 "2b: the rerun converges: exit 0" rc rollback
check "2b: every target on v1" all_on v1 $T
check "2b: host1 switched back from v2 and its hook ran" hook_ran host1 "v1 v2"
check "2b: host2's owed hook ran" hook_ran host2 "v1 v2"
check "2b: local untouched" test ! -s "$(troot local)/activate.log"
check "2b: nothing pending" test "$(npending)" = 0
expect_exit 0 "deploy v2 again" rc deploy v2

# 2c. host1's answer lost, then host1 unreachable on the rerun
touch "$WORK/drop.host1"
expect_exit 1 "2c: rollback, host1's answer lost: exit 1" rc rollback
touch "$WORK/down.host1"
mark_hooks local host2
expect_exit 1 "2c: the rerun with host1 down: exit 1" rc rollback
err_has "2c: names host1 unreachable" "No route to host"
check "2c: the others stay on v1 (not v0, not v2)" all_on v1 local host2
check "2c: and were not touched" sh -c "! test -s '$(troot local)/activate.log' && ! test -s '$(hroot host2)/activate.log'"
check "2c: host1's rollback stays pending" grep -qx "v1 rollback pending" <(rows host1)
rm "$WORK/down.host1"
mark_hooks $T
expect_exit 0 "2c: host1 back: the rerun converges" rc rollback
check "2c: every target on v1" all_on v1 $T
check "2c: host1's owed hook ran" hook_ran host1 "v1 v2"
check "2c: nothing pending" test "$(npending)" = 0
expect_exit 0 "deploy v2 again" rc deploy v2

# 2d. host2's answer does not come in time (5 s: 3 x connect_timeout, at least 5 s)
touch "$WORK/hang.host2"
expect_exit 1 "2d: rollback, host2's answer too late: exit 1" rc rollback
err_has "2d: says no answer" "no answer in"
mark_hooks $T
expect_exit 0 "2d: the rerun converges" rc rollback
check "2d: every target on v1" all_on v1 $T
check "2d: host2's owed hook ran" hook_ran host2 "v1 v2"
check "2d: nothing pending" test "$(npending)" = 0
expect_exit 0 "deploy v2 again" rc deploy v2

# --- 3. a host unreachable when planned, switched in time, not durably
# (host2's slow inspect gives host1's session the time to be started again)
touch "$WORK/dieinspect.host1" "$WORK/slowinspect.host2" "$WORK/unsynced.host1"
expect_exit 1 "3: rollback, host1 back in time but not synced: exit 1" rc --json rollback
rm -f "$WORK/unsynced.host1" "$WORK/dieinspect.host1"
check "3: host1 is on v1 (the link did move)" all_on v1 host1
check "3: --json: host1 not ok, switched, not synced; error names it" python3 -c "
import json
d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
h = t['host1']
assert h['switched'] and not h['ok'] and h['health'] == 'switched, not synced', h
assert 'host1 switched, not synced' in d['error'], d['error']
assert 'an activate hook or a health probe failed' not in d['error'], d['error']
assert not d['ok']"
expect_exit 0 "deploy v2 again" rc deploy v2

# --- 4. a dry run with a host down ---
touch "$WORK/down.host2"
expect_exit 1 "4: rollback --dry-run with host2 down: exit 1" rc rollback --dry-run
err_has "4: the error names host2" "1 of 3 targets cannot be reached (host2)"
check "4: a line names host2 unreachable, and where the journal saw it" \
  grep -qE "^host2: UNREACHABLE: .*No route to host.*; the journal last saw it on v2$" "$WORK/last.out"
check "4: the plan is still shown" grep -qE '^switch +host1 +v1 \(from v2\)' "$WORK/last.out"
expect_exit 1 "4: --json: exit 1" rc --json rollback --dry-run
check "4: --json: ok false, host2 unreachable" python3 -c "
import json
d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
assert d['ok'] is False and d['dry_run'], d
assert 'No route to host' in t['host2']['unreachable'], t['host2']"
check "4: the dry run changed nothing" all_on v2 $T
rm "$WORK/down.host2"
expect_exit 0 "4: with every host up, the dry run exits 0" rc rollback --dry-run
check "4: and names no host unreachable" sh -c "! grep -q UNREACHABLE '$WORK/last.out'"

# --- 5. a host's cached artifact damaged: sent again once, the deploy goes on
app "$WORK/cache" host1 host2 host3
H="host1 host2 host3"
expect_exit 0 "5: deploy v1" rc deploy v1
expect_exit 0 "5: deploy v2" rc deploy v2
expect_exit 0 "5: rollback to v1" rc rollback
check "5: every host on v1, v2 cached on each" all_on v1 $H
d2=$(sha256sum .ripcord/artifacts/v2.tar.zst | cut -d' ' -f1)
cached=$(hroot host2)/.ripcord/artifacts/v2@$d2.tar.zst
check "5: host2's cached copy of v2 is there" test -f "$cached"
# 4 bytes of it changed in the middle, and its extracted v2 gone
printf 'RIPX' | dd of="$cached" bs=1 seek=$(( $(stat -c %s "$cached") / 2 )) conv=notrunc status=none
check "5: host2's cached copy is damaged" sh -c "! cmp -s '$cached' .ripcord/artifacts/v2.tar.zst"
rm -rf "$(hroot host2)/releases/v2"
expect_exit 0 "5: deploy v2 again: exit 0" rc deploy v2
err_has "5: naming host2 and what happened" "target 'host2' (host deploy@host2): its cached copy of v2 was damaged: sent again"
check "5: every host runs v2" all_on v2 $H
check "5: host2's cache holds v2 again, the store's bytes" cmp "$cached" .ripcord/artifacts/v2.tar.zst
check "5: and nothing else of v2 (the damaged file is gone)" test "$(ls "$(hroot host2)/.ripcord/artifacts" | grep -c '^v2@')" = 1
check "5: no other host was named" sh -c "! grep -E 'deploy@host[13]\\): its cached' '$WORK/last.err'"
# a second failure fails the stage: the copy on host3 damaged, and every
# copy sent to it damaged once stored (rot.host3: a disk that garbles)
expect_exit 0 "5: rollback to v1" rc rollback
c3=$(hroot host3)/.ripcord/artifacts/v2@$d2.tar.zst
printf 'RIPX' | dd of="$c3" bs=1 seek=100 conv=notrunc status=none
rm -rf "$(hroot host3)/releases/v2"
touch "$WORK/rot.host3"
expect_exit 3 "5: deploy v2 with host3 damaging every copy: exit 3 (integrity)" rc deploy v2
rm -f "$WORK/rot.host3"
err_has "5: host3 was sent it again" "target 'host3' (host deploy@host3): its cached copy of v2 was damaged: sent again"
check "5: once" test "$(grep -c 'its cached copy of v2 was damaged: sent again' "$WORK/last.err")" = 1
err_has "5: then the stage failed: the copy sent was damaged too" "target 'host3' (host deploy@host3): the cached artifact of release 'v2' ('$(hroot host3)/.ripcord/artifacts/v2@$d2.tar.zst') has sha256"
err_has "5: in a host's words, saying what was done" "as when it was stored: it was damaged on this host; removed (stage it again to send it again)"
check "5: the damaged copy is gone from host3" test ! -e "$c3"
check "5: no word of state.db on a host" sh -c "! grep -q 'state.db' '$WORK/last.err'"
err_has "5: and nothing was switched" "switched: 0/3"
check "5: every host still on v1" all_on v1 $H
expect_exit 0 "5: deploy v2 once host3 keeps what it is sent" rc deploy v2
check "5: every host runs v2" all_on v2 $H

done_testing
