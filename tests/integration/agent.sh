#!/usr/bin/env bash
# ripcord agent end to end over plain pipes: two real releases deployed
# into a root with `ripcord deploy`, then driven through the agent's
# protocol: handshake, inspect, switch, remove, agent.ini's roots, garbage
# and oversized lines (answered, and the agent goes on), and the end of
# input (exit 0, nothing on stdout but answers).
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
printf '.ripcord/\ntargets/\n' > .gitignore
printf '[project]\nname = app\n\n[target "web-1"]\nroot = targets/web-1\n' > ripcord.ini
release() {
  echo "$1" > VERSION && mkdir -p app && echo "payload of $1" > app/main.txt
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1
}
release v1 && release v2
expect_exit 0 "deploy v1" rc deploy v1
expect_exit 0 "deploy v2" rc deploy v2
root=$repo/targets/web-1
check "the root runs v2 with v1 warm" test "$(readlink "$root/current")" = releases/v2 -a -d "$root/releases/v1"

ver=$("$RIPCORD" --version | cut -d' ' -f2)
hello='{"op":"hello","id":0,"protocol":1,"version":"'"$ver"'"}'
export RIPCORD_AGENT_INI=$WORK/agent.ini   # none yet: no restriction

# agent NAME: runs the agent on $WORK/NAME.in; answers in NAME.out, stderr
# in NAME.err, exit status in NAME.rc
agent() {
  "$RIPCORD" agent <"$WORK/$1.in" >"$WORK/$1.out" 2>"$WORK/$1.err"
  echo $? >"$WORK/$1.rc"
}
# has NAME ID TEXT: the answer with that id holds TEXT
has() { grep -E "^\{\"id\":$2," "$WORK/$1.out" | grep -qF -- "$3"; }
# req OP ID [JSON MEMBERS]: one request line
req() { printf '{"op":"%s","id":%s%s}\n' "$1" "$2" "${3:+,$3}"; }
at() { printf '"root":"%s"%s' "$root" "${1:+,\"release\":\"$1\"}"; }

{
  req inspect 1 "$(at)"
  echo "$hello"
  req inspect 2 "$(at)"
  req switch 3 "$(at v1)"
  req remove 4 "$(at v1)"
  req switch 5 "$(at v9)"
  req inspect 6 "$(at)"
  req bye 7
  req inspect 8 "$(at)"
} >"$WORK/a.in"
agent a
check "after bye: exit 0" test "$(cat "$WORK/a.rc")" = 0
check "a request before hello is refused" has a 1 '"ok":false,"error":"request '\''inspect'\'' before the handshake'
check "hello answers with the protocol and version" has a 0 '"ok":true,"protocol":1,"version":"'"$ver"'"'
check "inspect shows current and both releases" has a 2 '"current":"v2","releases":["v1","v2"],"free_bytes":'
check "free bytes is a number above 0" sh -c "grep '^{\"id\":2,' '$WORK/a.out' | grep -qE '\"free_bytes\":[1-9][0-9]*\\}'"
check "switch to v1 answers ok" has a 3 '"ok":true,"current":"v1"'
check "remove of the current release is refused" has a 4 "\"ok\":false,\"error\":\"release 'v1' is what"
check "switch to a release not extracted is refused" has a 5 "release 'v9' is not extracted"
check "inspect after: current is v1, both still there" has a 6 '"current":"v1","releases":["v1","v2"]'
check "current is a whole link to v1" test "$(readlink "$root/current")" = releases/v1 -a -f "$root/current/app/main.txt"
check "nothing is answered after bye" sh -c "! grep -q '\"id\":8' '$WORK/a.out'"
check "stdout holds only answers, one per request" sh -c "test \$(wc -l <'$WORK/a.out') = 8 && python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' '$WORK/a.out'"
check "and stderr is empty" test ! -s "$WORK/a.err"

# garbage, an oversized line, a protocol mismatch; then it still serves
{
  echo '{"op":"hello","id":0,"protocol":2,"version":"9.9.9"}'
  echo 'garbage'
  printf '\x00\xff\xfe\n'
  echo '{"op":"hello"}'
  python3 -c 'import sys; sys.stdout.write("{\"op\":\"" + "x" * (2 << 20) + "\",\"id\":9}\n")'
  echo "$hello"
  req remove 11 "$(at v2)"
  req inspect 12 "$(at)"
} >"$WORK/b.in"
agent b
check "EOF without bye: exit 0" test "$(cat "$WORK/b.rc")" = 0
check "another protocol is refused naming both" has b 0 'protocol 2 (ripcord 9.9.9) is not spoken here: this agent speaks protocol 1 (ripcord '"$ver"')'
check "garbage lines get errors without an id" sh -c "test \$(grep -c '^{\"id\":null,\"ok\":false,\"error\":\"request is not JSON' '$WORK/b.out') = 2"
check "a request without an id is refused" grep -q "^{\"id\":null,\"ok\":false,\"error\":\"request has no 'id'" "$WORK/b.out"
check "the oversized line is refused naming the limit" grep -q '^{"id":null,"ok":false,"error":"request line longer than the limit of 1048576 bytes' "$WORK/b.out"
check "and the agent goes on: hello, then remove v2" has b 11 '"ok":true,"removed":true'
check "v2 is gone, v1 runs" sh -c "test ! -e '$root/releases/v2' && test \"\$(readlink '$root/current')\" = releases/v1"
check "8 lines in, 8 answers out" test "$(wc -l <"$WORK/b.out")" = 8

# agent.ini's roots
other=$WORK/other && mkdir -p "$other/releases/v1" && ln -s releases/v1 "$other/current"
mkdir -p "$WORK/allowed"
printf '; the roots this host serves\n[agent]\nroots = %s, %s\n' "$WORK/allowed" "$repo/targets" >"$WORK/agent.ini"
{
  echo "$hello"
  req inspect 1 "$(at)"
  req inspect 2 "\"root\":\"$other\""
  req switch 3 "\"root\":\"$root/../../../other\",\"release\":\"v1\""
  req inspect 4 "\"root\":\"$WORK/allowed/../other\""
  req bye 5
} >"$WORK/c.in"
agent c
check "a root below a listed one is served" has c 1 '"ok":true,"root":'
check "a root outside agent.ini's roots is refused" has c 2 "\"ok\":false,\"error\":\"root '$other' is not allowed here"
check "also through .." has c 3 '"ok":false,"error":"root '
check "also through a listed root's .." has c 4 '"ok":false,"error":"root '
check "the refused root is untouched" test "$(readlink "$other/current")" = releases/v1

printf '[agent]\nroots = /srv\nverify = x\n' >"$WORK/agent.ini"
expect_exit 2 "a bad agent.ini: exit 2 before serving" sh -c "echo '$hello' | '$RIPCORD' agent"
err_has "naming file:line" "$WORK/agent.ini:3: unknown key 'verify' in [agent]"
check "and nothing on stdout" test ! -s "$WORK/last.out"
rm "$WORK/agent.ini"

# interactive: an answer comes before the input ends (a coprocess)
coproc AGENT { "$RIPCORD" agent 2>/dev/null; }
pid=$AGENT_PID
echo "$hello" >&"${AGENT[1]}"
got=
IFS= read -r -t 10 got <&"${AGENT[0]}"
check "a coprocess gets its hello answered at once" sh -c "printf '%s' '$got' | grep -q '\"ok\":true'"
req bye 1 >&"${AGENT[1]}"
line=
IFS= read -r -t 10 line <&"${AGENT[0]}"
wait "$pid"; code=$?
check "bye ends it with exit 0" test "$code" = 0 -a "$line" = '{"id":1,"ok":true}'

expect_exit 2 "arguments are refused" rc agent extra
check "--help does not list agent" sh -c "! '$RIPCORD' --help | grep -q agent"
done_testing
