#!/usr/bin/env bash
# `ripcord targets [--check] [--json]`: the list from the config alone (a
# host target listed without ssh being run), and --check on local roots:
# one deployed to, one not created yet, one that is not ours (exit 1);
# --json read back. With tests/fakessh (the remote client's stand-in for
# ssh), a remote target reached through `ripcord agent` on this machine,
# and one whose host is down.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
echo one > VERSION && git add -A && git commit -qm one
# the ssh of [ssh] command leaves a mark when anything runs it
cat > "$WORK/marking-ssh" <<SH
#!/bin/sh
touch "$WORK/ssh-ran"
exit 255
SH
chmod +x "$WORK/marking-ssh"
cat > ripcord.ini <<INI
[project]
name = app
[target "a"]
root = targets/a
group = web
health = http://127.0.0.1:1/healthz
[target "b"]
root = targets/b
[target "far"]
host = ssh://deploy@far.invalid:2222
root = /srv/app
[ssh]
command = $WORK/marking-ssh
INI

expect_exit 0 "targets lists the config" rc targets
check "a: local, its root resolved, group and health" grep -qE "^a +local +$repo/targets/a +web +http://127.0.0.1:1/healthz\$" "$WORK/last.out"
check "b: local, no group, no health" grep -qE "^b +local +$repo/targets/b +- +-\$" "$WORK/last.out"
check "far: its host as written, its root as written" grep -qE '^far +ssh://deploy@far.invalid:2222 +/srv/app +- +-$' "$WORK/last.out"
check "without --check no ssh ran" test ! -e "$WORK/ssh-ran"
check "and no store was made" test ! -e .ripcord
expect_exit 0 "targets --json" rc targets --json
check "one document, one object per target" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
assert list(t) == ['a', 'b', 'far'], d
assert t['a']['where'] == 'local' and t['a']['host'] is None and t['a']['group'] == 'web', t
assert t['far']['where'] == t['far']['host'] == 'ssh://deploy@far.invalid:2222', t
assert t['far']['root'] == '/srv/app' and t['b']['health'] is None, t
assert 'reachable' not in t['a'], t"
check "still no ssh" test ! -e "$WORK/ssh-ran"
expect_exit 2 "an argument is a usage error" rc targets extra
expect_exit 2 "an unknown option too" rc targets --frob

# --check on local targets only: a deployed, b not created yet
sed -i '/^\[target "far"\]/,/^root = \/srv\/app/d' ripcord.ini
rc -q cut --id v1 >/dev/null 2>&1 && rc -q deploy v1 --target a >/dev/null 2>&1
expect_exit 0 "--check: a deployed, b missing" rc targets --check
check "a: reachable, runs v1, one release kept, free space in units" grep -qE '^a +local +yes +- +v1 +1 +[0-9.]+ (B|KiB|MiB|GiB|TiB) +-$' "$WORK/last.out"
check "b: reachable, nothing there" grep -qE '^b +local +yes +- +- +0 +[0-9.]+ (B|KiB|MiB|GiB|TiB) +-$' "$WORK/last.out"
check "b's root does not exist yet, said below the table" grep -qF "b: root '$repo/targets/b' does not exist yet (the first deploy creates it)" "$WORK/last.out"
expect_exit 0 "--check --json" rc targets --check --json
check "the JSON says the same" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
a, b = t['a'], t['b']
assert a['reachable'] and a['readable'] and a['exists'] and a['error'] is None, a
assert a['current'] == 'v1' and a['releases'] == ['v1'], a
assert isinstance(a['free_bytes'], int) and a['free_bytes'] > 0, a
assert a['agent_version'] is None and a['clock_skew_s'] is None and not a['clock_skewed'], a
assert b['reachable'] and b['readable'] and b['exists'] is False, b
assert b['current'] is None and b['releases'] == [] and b['free_bytes'] > 0, b"
check "a check changes nothing: b still missing" test ! -e targets/b

# a root that is not ours: its current is a file, not ripcord's link
mkdir -p targets/b/releases && echo hi > targets/b/current
expect_exit 1 "--check with an unreadable root exits 1" rc targets --check
check "b: reached, its root not read, the reason below" grep -qE '^b +local +yes +- +- +- ' "$WORK/last.out"
check "the reason names the root" grep -qE "^b: cannot read its root: .*$repo/targets/b" "$WORK/last.out"
check "a is still fine" grep -qE '^a +local +yes +- +v1 +1 ' "$WORK/last.out"
expect_exit 1 "--check --json exits 1 too" rc --json targets --check
check "b: readable false, with the error" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
b = [x for x in d['targets'] if x['target'] == 'b'][0]
assert b['reachable'] and not b['readable'] and 'targets/b' in b['error'], b
assert b['exists'] is None and b['current'] is None, b"
rm -rf targets/b

# remote targets through the stand-in for ssh and the agent on this machine
fakessh=$SOURCE_ROOT/tests/fakessh
if [ -x "$fakessh" ]; then
  # a root on the "host" holding one release, made by hand
  mkdir -p "$WORK/host/srv/app/releases/v7"
  ln -s releases/v7 "$WORK/host/srv/app/current"
  cat >> ripcord.ini <<INI
[target "web-9"]
host = deploy@web-9
root = $WORK/host/srv/app
INI
  sed -i "s|^command = .*|command = $fakessh\\nagent_path = $RIPCORD|" ripcord.ini
  expect_exit 0 "--check reaches a remote target" rc targets --check
  check "web-9: reachable, our version, runs v7, one kept, its free space and clock" grep -qE "^web-9 +deploy@web-9 +yes +$("$RIPCORD" --version | awk '{print $2}') +v7 +1 +[0-9.]+ [KMGT]?i?B +[+-]0\.[0-9]{2}s\$" "$WORK/last.out"
  check "the store's ssh folder is used only when the store exists" test -d .ripcord/ssh
  expect_exit 0 "--check --json with a remote target" rc targets --check --json
  check "web-9 in the JSON" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
w = [x for x in d['targets'] if x['target'] == 'web-9'][0]
assert w['reachable'] and w['readable'] and w['exists'], w
assert w['current'] == 'v7' and w['releases'] == ['v7'] and w['free_bytes'] > 0, w
assert w['agent_version'] and abs(w['clock_skew_s']) < 2 and not w['clock_skewed'], w"
  FAKESSH_STDERR="ssh: connect to host web-9 port 22: Connection refused" \
    expect_exit 1 "a host that refuses: exit 1" rc targets --check
  check "web-9 unreachable, with what ssh said" grep -qE '^web-9: unreachable: .*Connection refused' "$WORK/last.out"
  check "the local targets are still checked" grep -qE '^a +local +yes +- +v1 ' "$WORK/last.out"
else
  ok "# SKIP remote targets: no tests/fakessh in this tree"
fi

done_testing
