#!/usr/bin/env bash
# `ripcord targets --install [--force] [--dry-run]`: this ripcord put on
# the hosts as their agent, through a stand-in for ssh (tests/fakessh runs
# the remote command here; each host's agent_path is its own file, the
# stand-in mapping the one absolute agent_path to the host's folder). One
# host with no agent, one with this version, one with an agent of another
# protocol: the dry run changes nothing, the install puts this very
# program on the two that need it (each proven by the handshake) and a
# deploy then works through them. Faults: an upload corrupted on the way
# (SHA-256 refused), a program that does not run on the host, a host that
# is down, a folder it cannot make: the host is named with what went
# wrong, its agent_path is as it was, no temporary file is left, and the
# others are installed. Usage errors change nothing.
. "$(dirname "$0")/lib.sh"

for h in h1 h2 h3; do mkdir -p "$WORK/hosts/$h"; done
# the ssh: down.H -> no route (exit 255); corrupt.H -> an install's
# upload has its 1001st byte changed on the way; small.H -> the host runs the command
# with 10 MB of address space (sh and coreutils run, ripcord's loader
# cannot map it: a program that does not run there); else fakessh, with
# /agents/here/ in the remote command being the host's own bin folder
fake_ssh "$WORK/ssh" "$(cat <<SH
args[last]=\${args[last]//\/agents\/here\//$WORK/hosts/\$dest/bin/}
# only an install's session carries the upload
if [ -e "$WORK/corrupt.\$dest" ] && [[ \${args[last]} == *"ripcord install"* ]]; then
	# exec: the session ends when the host's command does, as with ssh
	exec "$SOURCE_ROOT/tests/fakessh" "\${args[@]}" \\
		< <(head -c 1000; head -c 1 >/dev/null; printf Z; exec cat)
fi
[ -e "$WORK/small.\$dest" ] && ulimit -v 10000
[ -e "$WORK/slow.\$dest" ] && export PATH="$WORK/slowbin:\$PATH"
# cut.H: the session is lost mid-upload: 100000 bytes, then the end of
# input, and no reader left for what the host says (SIGPIPE there)
if [ -e "$WORK/cut.\$dest" ] && [[ \${args[last]} == *"ripcord install"* ]]; then
	exec "$SOURCE_ROOT/tests/fakessh" "\${args[@]}" < <(head -c 100000) 2> >(exec true)
fi
SH
)"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
printf '.ripcord/\n' > .gitignore
echo one > VERSION && git add -A && git commit -qm one
{
  printf '[project]\nname = app\n'
  for h in h1 h2 h3; do
    printf '[target "t-%s"]\nhost = %s\nroot = %s/hosts/%s/srv\n' "$h" "$h" "$WORK" "$h"
  done
  printf '[ssh]\ncommand = %s/ssh\nagent_path = /agents/here/ripcord\n' "$WORK"
} > ripcord.ini
bin() { printf '%s/hosts/%s/bin/ripcord' "$WORK" "$1"; }
leftovers() { find "$WORK/hosts" -name '*.ripcord-new.*' | grep -q . && return 1; return 0; }

# h2 runs this version; h3 an agent of protocol 9
mkdir -p "$WORK/hosts/h2/bin" "$WORK/hosts/h3/bin"
cp "$RIPCORD" "$(bin h2)"
# a ripcord of protocol 9: its --version, then its handshake's answer
# a ripcord of protocol 9, a program as ripcord is (a script or a link at
# agent_path is replaced only with --force): its --version, then its
# handshake's answer
cat > "$WORK/other9.c" <<'C'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version"))
		return puts("ripcord 9.9") < 0;
	puts("{\"id\":0,\"ok\":true,\"protocol\":9,\"version\":\"9.9\"}");
	return 0;
}
C
cc -o "$WORK/other9" "$WORK/other9.c"
other() { cp "$WORK/other9" "$1"; }
other "$(bin h3)"
old3=$(sha256sum < "$(bin h3)")
ino2=$(stat -c %i "$(bin h2)")
ver=$("$RIPCORD" --version | awk '{print $2}')

expect_exit 1 "before: --check finds h1 without an agent, h3 of another protocol" rc targets --check
check "h1: ssh exited 127, with the hint" grep -q "^t-h1: unreachable: .*ssh exited 127: .*not found (is ripcord installed there?" "$WORK/last.out"
check "h3: the protocols named" grep -q "^t-h3: .*protocol 9 (ripcord 9.9), this ripcord speaks protocol 1" "$WORK/last.out"

expect_exit 0 "--install --dry-run" rc targets --install --dry-run
check "h1: none there, to install" grep -qE '^h1 +t-h1 +none +to install$' "$WORK/last.out"
check "h2: this version, current" grep -qE "^h2 +t-h2 +$ver +current\$" "$WORK/last.out"
check "h3: 9.9, to install" grep -qE '^h3 +t-h3 +9\.9 +to install$' "$WORK/last.out"
check "the dry run installed nothing on h1" test ! -e "$(bin h1)"
check "nor on h3" test "$(sha256sum < "$(bin h3)")" = "$old3"
check "and made no store (nothing audited)" test ! -e .ripcord

# a store, so the install is audited
rc -q cut --id v1 >/dev/null 2>&1
expect_exit 0 "--install: h1 and h3 installed, h2 current" rc targets --install
check "the table says so" python3 -c "
import re; rows = dict((l.split()[0], l.split()[-1]) for l in open('$WORK/last.out').read().splitlines()[1:])
assert rows == {'h1': 'installed', 'h2': 'current', 'h3': 'installed'}, rows"
check "h1 has this very program" cmp -s "$RIPCORD" "$(bin h1)"
check "h3's agent was replaced by it" cmp -s "$RIPCORD" "$(bin h3)"
check "mode 0755" test "$(stat -c %a "$(bin h1)")" = 755
check "h2's agent was not touched (same file)" test "$(stat -c %i "$(bin h2)")" = "$ino2"
check "no temporary file left on any host" leftovers
expect_exit 0 "--check: every host answers with this version" rc targets --check --json
check "all three reachable, version $ver" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert [(t['target'], t['reachable'], t['agent_version']) for t in d['targets']] == [
    ('t-h1', True, '$ver'), ('t-h2', True, '$ver'), ('t-h3', True, '$ver')], d"
expect_exit 0 "a deploy goes through the installed agents" rc deploy v1
check "every host runs v1" test "$(readlink "$WORK/hosts/h1/srv/current")$(readlink "$WORK/hosts/h3/srv/current")" = releases/v1releases/v1
expect_exit 0 "the audit log" rc log
check "records the install" grep -q "targets --install" "$WORK/last.out"
expect_exit 0 "--install again: nothing to do" rc targets --install --json
check "every host current, none wanted" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert d['version'] == '$ver' and d['dry_run'] is False, d
assert [h['result'] for h in d['hosts']] == ['current'] * 3, d
assert all(h['error'] is None and h['agent_missing'] is False for h in d['hosts']), d"

# faults, with --force so every host is installed again; h2 has the
# agent of protocol 9 again
other "$(bin h2)"
old2=$(sha256sum < "$(bin h2)")
touch "$WORK/corrupt.h2"
expect_exit 1 "an upload corrupted on the way: exit 1" rc targets --install --force
check "h2 failed, named with the SHA-256 refusal" grep -q "^h2: .*ripcord install: the upload does not have the SHA-256 sent" "$WORK/last.out"
check "h2's agent_path is as it was" test "$(sha256sum < "$(bin h2)")" = "$old2"
check "h1 and h3 were installed all the same" grep -qE '^h1 +t-h1 +[^ ]+ +installed$' "$WORK/last.out"
check "no temporary file left" leftovers
rm "$WORK/corrupt.h2"
touch "$WORK/small.h2"
expect_exit 1 "a program that does not run on the host: exit 1" rc targets --install --force
check "h2 named: it does not run there" grep -q "^h2: .*ripcord install: this ripcord does not run on" "$WORK/last.out"
check "h2's agent_path is as it was" test "$(sha256sum < "$(bin h2)")" = "$old2"
check "no temporary file left" leftovers
rm "$WORK/small.h2"
touch "$WORK/down.h2"
expect_exit 1 "a host that is down: exit 1" rc targets --install
check "h2 named with what ssh said, not asked" grep -qE '^h2 +t-h2 +- +failed$' "$WORK/last.out"
check "the message" grep -q "^h2: .*No route to host" "$WORK/last.out"
rm "$WORK/down.h2"
rm -rf "$WORK/hosts/h2/bin" && echo file > "$WORK/hosts/h2/bin"
expect_exit 1 "a folder it cannot make: exit 1" rc targets --install
check "h2 named with mkdir's words" grep -q "^h2: .*mkdir: cannot create directory" "$WORK/last.out"
check "the file in the way is untouched" test "$(cat "$WORK/hosts/h2/bin")" = file
rm "$WORK/hosts/h2/bin"
expect_exit 0 "with the host mended, --install converges" rc targets --install
check "h2 installed now" grep -qE '^h2 +t-h2 +none +installed$' "$WORK/last.out"
# a program at agent_path that is not a ripcord agent is never replaced,
# not even with --force: ripcord removes nothing it did not bring
printf '#!/bin/sh\necho "some other tool"\n' > "$(bin h2)"
old2=$(sha256sum < "$(bin h2)")
expect_exit 1 "not a ripcord agent at agent_path: exit 1" rc targets --install --force
check "h2: no answer, failed" grep -qE '^h2 +t-h2 +no answer +failed$' "$WORK/last.out"
check "said: not replaced" grep -q "^h2: .*did not answer the handshake as a ripcord agent: not replaced" "$WORK/last.out"
check "that program is untouched" test "$(sha256sum < "$(bin h2)")" = "$old2"
check "the others were installed" grep -qE '^h3 +t-h3 +[^ ]+ +installed$' "$WORK/last.out"
# an operator's wrapper at agent_path whose program is gone exits 127, as
# when nothing is there: the install itself finds a script, and with
# --force that it is not ripcord, and leaves it (it was replaced)
printf '#!/bin/sh\nexec /nonexistent/ripcord-real "$@"\n' > "$(bin h2)"
chmod +x "$(bin h2)"
old2=$(sha256sum < "$(bin h2)")
expect_exit 1 "a wrapper whose program is gone: exit 1" rc targets --install
check "h2 failed" grep -qE '^h2 +t-h2 +none +failed$' "$WORK/last.out"
check "said: a script, not replaced" grep -q "^h2: .*ripcord install: .*/bin/ripcord is a script (a wrapper may set up the agent): not replaced" "$WORK/last.out"
check "the wrapper is untouched" test "$(sha256sum < "$(bin h2)")" = "$old2"
expect_exit 1 "with --force: exit 1" rc targets --install --force
check "said: there, not ripcord, not replaced" grep -q "^h2: .*ripcord install: .*/bin/ripcord is there and is not ripcord (its --version does not say so): not replaced" "$WORK/last.out"
check "the wrapper is untouched still" test "$(sha256sum < "$(bin h2)")" = "$old2"
check "no temporary file left" leftovers
# a wrapper that works, around a ripcord of protocol 9 (it may set the
# agent up: RIPCORD_AGENT_INI, a PATH): not replaced without --force
printf '#!/bin/sh\nexec %s "$@"\n' "$WORK/other9" > "$(bin h2)"
old2=$(sha256sum < "$(bin h2)")
expect_exit 1 "a working wrapper of another version: exit 1" rc targets --install
check "h2: 9.9, failed" grep -qE '^h2 +t-h2 +9\.9 +failed$' "$WORK/last.out"
check "said: a script" grep -q "^h2: .*is a script (a wrapper may set up the agent): not replaced; point agent_path at the program, or --force replaces it" "$WORK/last.out"
check "the wrapper is untouched" test "$(sha256sum < "$(bin h2)")" = "$old2"
# a link at agent_path (to a ripcord of protocol 9): left without
# --force, replaced by the program with it
rm "$(bin h2)" && ln -s "$WORK/other9" "$(bin h2)"
expect_exit 1 "a link at agent_path: exit 1" rc targets --install
check "said: a link, not replaced" grep -q "^h2: .*is a symbolic link (to $WORK/other9): not replaced; --force replaces the link with the program" "$WORK/last.out"
check "still the link" test "$(readlink "$(bin h2)")" = "$WORK/other9"
expect_exit 0 "--force replaces the link" rc targets --install --force
check "h2: now the program, not a link" sh -c "test ! -L '$(bin h2)' && cmp -s '$RIPCORD' '$(bin h2)'"
check "the link's target untouched" cmp -s "$WORK/other9" "$WORK/other9"
# the client gives up while the host checks the upload (a sha256sum that
# takes 10 s, connect_timeout 1s: the wait is 3 s + 5 s); the host's
# script goes on (sshd does not end a command without a terminal:
# FAKESSH_SETSID) and, never told to commit, leaves agent_path alone
other "$(bin h2)"
old2=$(sha256sum < "$(bin h2)")
mkdir -p "$WORK/slowbin" && printf '#!/bin/sh\nsleep 10\nexec /usr/bin/sha256sum "$@"\n' > "$WORK/slowbin/sha256sum"
chmod +x "$WORK/slowbin/sha256sum"
touch "$WORK/slow.h2"
cp ripcord.ini "$WORK/ini.slow" && printf 'connect_timeout = 1s\n' >> ripcord.ini
expect_exit 1 "the client gives up before the host is ready: exit 1" env FAKESSH_SETSID=1 "$RIPCORD" targets --install
check "h2 failed, not unknown (nothing was committed)" grep -qE '^h2 +t-h2 +9\.9 +failed$' "$WORK/last.out"
cp "$WORK/ini.slow" ripcord.ini
waited=0
while [ -n "$(find "$WORK/hosts/h2" -name '*.ripcord-new.*')" ] && [ $waited -lt 150 ]; do sleep 0.1; waited=$((waited + 1)); done
sleep 0.5
check "once the host's script ended: agent_path as it was" test "$(sha256sum < "$(bin h2)")" = "$old2"
check "and no temporary file left" leftovers
rm "$WORK/slow.h2"
# the session lost mid-upload: the partial upload is removed, agent_path
# is as it was
other "$(bin h2)"
old2=$(sha256sum < "$(bin h2)")
touch "$WORK/cut.h2"
expect_exit 1 "a session lost mid-upload: exit 1" rc targets --install
check "h2 failed" grep -qE '^h2 +t-h2 +9\.9 +failed$' "$WORK/last.out"
check "h2's agent_path is as it was" test "$(sha256sum < "$(bin h2)")" = "$old2"
check "no partial upload left" leftovers
rm "$WORK/cut.h2"
# a folder at agent_path: refused before a byte is sent, nothing left
rm "$(bin h2)" && mkdir "$(bin h2)"
expect_exit 1 "a folder at agent_path: exit 1" rc targets --install
check "said: a folder" grep -q "^h2: .*ripcord install: .*/bin/ripcord is a folder: nothing installed" "$WORK/last.out"
check "the folder is empty still" test -z "$(ls -A "$(bin h2)")"
rmdir "$(bin h2)"
# installed, but the new agent does not start (a broken agent.ini on
# the host): agent_path did change, and the result says so
printf 'roots = \n[oops\n' > "$WORK/bad-agent.ini"
expect_exit 1 "the new agent does not start: exit 1" env RIPCORD_AGENT_INI="$WORK/bad-agent.ini" "$RIPCORD" targets --install
check "h2: installed, fails" grep -qE '^h2 +t-h2 +none +installed, fails$' "$WORK/last.out"
check "said: installed, but the new agent does not answer" grep -q "^h2: installed at \[ssh\] agent_path, but the new agent does not answer" "$WORK/last.out"
check "agent_path holds this ripcord" cmp -s "$RIPCORD" "$(bin h2)"

# usage errors change nothing
cp ripcord.ini "$WORK/ini"
sed -i 's|^agent_path = .*|agent_path = ripcord|' ripcord.ini
expect_exit 2 "a relative agent_path is refused" rc targets --install --dry-run
err_has "saying what to set" "[ssh] agent_path 'ripcord' is not an absolute path"
cp "$WORK/ini" ripcord.ini
expect_exit 2 "--force without --install" rc targets --force
expect_exit 2 "--check with --install" rc targets --check --install
printf '[project]\nname = app\n[target "a"]\nroot = targets/a\n' > ripcord.ini
expect_exit 2 "no remote target: nothing to install" rc targets --install
err_has "said" "no target has a host"
cp "$WORK/ini" ripcord.ini

done_testing
