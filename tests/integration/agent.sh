#!/usr/bin/env bash
# ripcord agent end to end over plain pipes: two real releases deployed
# into a root with `ripcord deploy`, then driven through the agent's
# protocol: handshake, inspect, switch, remove, agent.ini's roots, garbage
# and oversized lines (answered, and the agent goes on), and the end of
# input (exit 0, nothing on stdout but answers). Then a fresh host root
# filled the way a remote deploy does it: the store's artifacts put (raw
# bytes after the line), extracted, switched to and activated with real
# hook scripts; refused puts (digest, signature, a full disk) whose bytes
# are still read; clean; and every op refused outside agent.ini's roots.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
printf '.ripcord/\ntargets/\n' > .gitignore
printf '[project]\nname = app\n\n[target "web-1"]\nroot = targets/web-1\n' > ripcord.ini
mkdir -p bin
cat > bin/activate <<'HOOK'
#!/bin/sh
{ echo "target=$RIPCORD_TARGET"; echo "release=$RIPCORD_RELEASE"
  echo "dir=$RIPCORD_RELEASE_DIR"; echo "previous=$RIPCORD_PREVIOUS"
  echo "root=$RIPCORD_ROOT"; echo "cwd=$(pwd)"; } > "$HOOK_OUT"
echo "activated $RIPCORD_RELEASE"
HOOK
printf '#!/bin/sh\necho "broken on purpose" >&2\nexit 3\n' > bin/fail
printf '#!/bin/sh\necho "slow start"\nsleep 30\n' > bin/slow
chmod 755 bin/activate bin/fail bin/slow
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
# bash closes AGENT's descriptors once the coprocess has exited, which may
# come before the answer to bye is read: read and write through copies
pid=$AGENT_PID
exec {ain}>&"${AGENT[1]}" {aout}<&"${AGENT[0]}"
echo "$hello" >&"$ain"
got=
IFS= read -r -t 10 got <&"$aout"
check "a coprocess gets its hello answered at once" sh -c "printf '%s' '$got' | grep -q '\"ok\":true'"
req bye 1 >&"$ain"
line=
IFS= read -r -t 10 line <&"$aout"
wait "$pid"; code=$?
exec {ain}>&- {aout}<&-
check "bye ends it with exit 0" test "$code" = 0 -a "$line" = '{"id":1,"ok":true}'

# --- a fresh host root, filled as a remote deploy fills it ---
hosts=$WORK/hosts && mkdir -p "$hosts"
printf '[agent]\nroots = %s\n' "$hosts" >"$WORK/agent.ini"
r1=$hosts/new/r1
art=$repo/.ripcord/artifacts
sum() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
d1=$(sum "$art/v1.tar.zst") d2=$(sum "$art/v2.tar.zst")
# on ROOT: the "root" member; with ID, "release" too
on() { printf '"root":"%s"%s' "$1" "${2:+,\"release\":\"$2\"}"; }
# put ID ROOT DIGEST FILE [EXTRA]: the request line, then FILE's bytes
put() {
  printf '{"op":"put","id":%s,%s,"digest":"%s","size":%s%s}\n' "$1" \
    "$(on "$3" "$2")" "$4" "$(size "$5")" "${6:+,$6}"
  cat "$5"
}
export HOOK_OUT=$WORK/hook.out
{
  echo "$hello"
  req inspect 1 "$(on "$hosts/fresh/r0")"
  req inspect 2 "$(on "$hosts/fresh/r0"),\"check\":true"
  req has 3 "$(on "$r1" v1),\"digest\":\"$d1\""
  put 4 v1 "$r1" "$d1" "$art/v1.tar.zst"
  req has 5 "$(on "$r1" v1),\"digest\":\"$d1\""
  put 6 v2 "$r1" "$d1" "$art/v2.tar.zst"
  put 7 ../v2 "$r1" "$d2" "$art/v2.tar.zst"
  req inspect 8 "$(on "$r1")"
  req extract 9 "$(on "$r1" v1),\"digest\":\"$d1\""
  req extract 10 "$(on "$r1" v1),\"digest\":\"$d1\""
  req extract 11 "$(on "$r1" v2),\"digest\":\"$d2\""
  req switch 12 "$(on "$r1" v1)"
  req activate 13 "$(on "$r1" v1),\"previous\":\"v0\",\"target\":\"web-9\",\"command\":\"bin/activate\",\"timeout_ms\":10000"
  req activate 14 "$(on "$r1" v1),\"previous\":\"\",\"target\":\"web-9\",\"command\":\"bin/fail\",\"timeout_ms\":10000"
  req activate 15 "$(on "$r1" v1),\"previous\":\"\",\"target\":\"web-9\",\"command\":\"bin/slow\",\"timeout_ms\":300"
  put 16 v2 "$r1" "$d2" "$art/v2.tar.zst"
  req extract 17 "$(on "$r1" v2),\"digest\":\"$d2\""
  req switch 18 "$(on "$r1" v2)"
  req bye 19
} >"$WORK/d.in"
agent d
check "d: exit 0 after bye" test "$(cat "$WORK/d.rc")" = 0
check "d: one answer per request, nothing else on stdout" test "$(wc -l <"$WORK/d.out")" = 20
check "inspect of a missing root below an allowed one" has d 1 '"ok":true,"root":"'"$hosts/fresh/r0"'","exists":false,"current":null,"releases":[],"free_bytes":'
check "free bytes of a missing root: its nearest folder's" sh -c "grep '^{\"id\":1,' '$WORK/d.out' | grep -qE '\"free_bytes\":[1-9][0-9]*\\}'"
check "inspect with check of a missing root" has d 2 '"ok":true,"root":"'"$hosts/fresh/r0"'","exists":false'
check "inspect created nothing" test ! -e "$hosts/fresh"
check "has before put: false" has d 3 '"ok":true,"has":false'
check "put stores the artifact" has d 4 '"ok":true,"stored":true,"bytes":'"$(size "$art/v1.tar.zst")"'}'
check "under <id>@<digest>.tar.zst, the same bytes" cmp "$r1/.ripcord/artifacts/v1@$d1.tar.zst" "$art/v1.tar.zst"
check "the cache folder is 0700" test "$(stat -c %a "$r1/.ripcord/artifacts")" = 700
check "has after put: true" has d 5 '"ok":true,"has":true'
check "a put whose bytes do not match its digest is refused" has d 6 '"ok":false,"error":"the artifact of release '\''v2'\'' arrived with sha256 '"$d2"', not '"$d1"
check "with RIP_EINTEGRITY" has d 6 '"code":-6'
check "a bad release id in a put is refused" has d 7 '"ok":false,"error":"bad release id '\''../v2'\''","code":-2'
check "and its bytes were read: the next request is answered" has d 8 '"ok":true,"root":"'"$r1"'","exists":true,"current":null,"releases":[]'
check "extract unpacks the cached artifact" has d 9 '"ok":true,"files":'
check "extract says files and bytes" sh -c "grep '^{\"id\":9,' '$WORK/d.out' | grep -qE '\"files\":[1-9][0-9]*,\"bytes\":[1-9][0-9]*,\"already\":false'"
check "the payload is in releases/v1" test "$(cat "$r1/releases/v1/app/main.txt")" = "payload of v1"
check "extract again: already" has d 10 '"ok":true,"files":0,"bytes":0,"already":true'
check "extract of an artifact never sent" has d 11 '"ok":false,"error":"no artifact of release '\''v2'\'' with sha256 '"$d2"
check "says send it first, RIP_ENOTFOUND" has d 11 'send it first (put)","code":-4'
check "switch" has d 12 '"ok":true,"current":"v1"'
check "activate runs the hook: exit 0, its output" has d 13 '"ok":true,"exit_code":0,"signal":0,"timed_out":false,"seconds":'
check "its output is in the answer" has d 13 '"output":"activated v1\n"'
check "the hook's environment and folder" test "$(cat "$HOOK_OUT")" = "target=web-9
release=v1
dir=$r1/releases/v1
previous=v0
root=$r1
cwd=$r1/releases/v1"
check "a hook that fails: ok, with its exit code and output" has d 14 '"ok":true,"exit_code":3,"signal":0,"timed_out":false'
check "its stderr is in the output" has d 14 '"output":"broken on purpose\n"'
check "a hook past its timeout: an error with the result" has d 15 '"ok":false,"error":"'
check "... timed out, code RIP_EFAIL, its output kept" sh -c "grep '^{\"id\":15,' '$WORK/d.out' | grep -F '\"code\":-1' | grep -F '\"timed_out\":true' | grep -qF 'slow start'"
check "put, extract, switch to v2" sh -c "grep -q '^{\"id\":16,\"ok\":true,\"stored\":true' '$WORK/d.out' && grep -q '^{\"id\":17,\"ok\":true' '$WORK/d.out' && grep -q '^{\"id\":18,\"ok\":true,\"current\":\"v2\"' '$WORK/d.out'"
check "current is releases/v2" test "$(readlink "$r1/current")" = releases/v2
check "no temp file left by the refused puts" sh -c "test -z \"\$(ls -A '$r1/.ripcord/artifacts' | grep -v '^v[12]@')\" && test \$(ls '$r1/.ripcord/artifacts' | wc -l) = 2"
check "and d.err is empty" test ! -s "$WORK/d.err"

# clean: old artifacts, put temps and extraction leftovers; nothing else
mkdir -p "$r1/releases/.v9.tmp-AbC123/x" "$r1/releases/.keep-me"
: >"$r1/.ripcord/artifacts/.put-Zz9Yy8"
: >"$r1/.ripcord/artifacts/notes.txt"
{
  echo "$hello"
  req clean 1 "$(on "$r1"),\"keep\":[\"v2\"]"
  req clean 2 "$(on "$r1"),\"keep\":[\"v2\"]"
  req clean 3 "$(on "$r1"),\"keep\":[\"../x\"]"
  req clean 4 "$(on "$hosts/none"),\"keep\":[]"
} >"$WORK/e.in"
agent e
check "clean removes the old artifact, the temp and the leftover" has e 1 '"ok":true,"removed":3'
check "v1's artifact is gone, v2's stays" test ! -e "$r1/.ripcord/artifacts/v1@$d1.tar.zst" -a -f "$r1/.ripcord/artifacts/v2@$d2.tar.zst"
check "the leftover extraction folder is gone" test ! -e "$r1/releases/.v9.tmp-AbC123"
check "what is not ours stays: releases, other files" test -d "$r1/releases/v1" -a -d "$r1/releases/.keep-me" -a -f "$r1/.ripcord/artifacts/notes.txt"
check "clean again: nothing" has e 2 '"ok":true,"removed":0'
check "a keep that is not an id is refused" has e 3 '"ok":false,"error":"'\''clean'\'': '\''keep'\'' holds'
check "clean of a missing root: nothing" has e 4 '"ok":true,"removed":0'

# the framing: a size that cannot be trusted ends the session; so does
# input that ends inside a put's bytes (no answer, no temp left)
{
  echo "$hello"
  req put 1 "$(on "$r1" v1),\"digest\":\"$d1\",\"size\":-5"
  req inspect 2 "$(on "$r1")"
} >"$WORK/f.in"
agent f
check "a put without a valid size is answered" has f 1 '"ok":false,"error":"'\''put'\'' needs an integer '\''size'\'' of 1 to 68719476736 bytes'
check "then nothing more is served (exit 2)" sh -c "test \$(wc -l <'$WORK/f.out') = 2 && test \$(cat '$WORK/f.rc') = 2"
{
  echo "$hello"
  printf '{"op":"put","id":1,%s,"digest":"%s","size":%s}\n' "$(on "$r1" v1)" "$d1" "$(size "$art/v1.tar.zst")"
  head -c 100 "$art/v1.tar.zst"
} >"$WORK/g.in"
agent g
check "input that ends inside a put: no answer, exit 1" sh -c "test \$(wc -l <'$WORK/g.out') = 1 && test \$(cat '$WORK/g.rc') = 1"
check "naming how far it got" grep -q "input ended 100 bytes into a put of" "$WORK/g.err"
check "and no temp file left" sh -c "! ls -A '$r1/.ripcord/artifacts' | grep -q '^\.put-'"

# signatures: agent.ini pins verify_key
rc keygen -o "$WORK/keys/rel" >/dev/null 2>&1
rc keygen -o "$WORK/keys/other" >/dev/null 2>&1
printf '[package]\nsigning_key = %s\n' "$WORK/keys/rel.key" >>ripcord.ini
release v3
d3=$(sum "$art/v3.tar.zst")
sig=$(tr -d '\n' <"$art/v3.tar.zst.sig")
check "the store's signature verifies with openssl" sh -c "openssl dgst -sha256 -binary '$art/v3.tar.zst' >'$WORK/v3.dgst' && base64 -d '$art/v3.tar.zst.sig' >'$WORK/v3.sigbin' && openssl pkeyutl -verify -pubin -inkey '$WORK/keys/rel.pub' -rawin -in '$WORK/v3.dgst' -sigfile '$WORK/v3.sigbin'"
printf '[agent]\nroots = %s\nverify_key = %s\n' "$hosts" "$WORK/keys/other.pub" >"$WORK/agent.ini"
{
  echo "$hello"
  put 1 v3 "$r1" "$d3" "$art/v3.tar.zst" "\"sig\":\"$sig\""
  put 2 v3 "$r1" "$d3" "$art/v3.tar.zst"
  req has 3 "$(on "$r1" v3),\"digest\":\"$d3\""
} >"$WORK/h.in"
agent h
check "a signature by another key is refused (RIP_ESECURITY)" sh -c "grep '^{\"id\":1,\"ok\":false' '$WORK/h.out' | grep -qF '\"code\":-7'"
check "an unsigned put is refused when verify_key is pinned" has h 2 '"ok":false,"error":"the artifact of release '\''v3'\'' is not signed, and this host'\''s agent.ini pins verify_key'
check "nothing was stored" has h 3 '"ok":true,"has":false'
check "and no temp left" sh -c "! ls -A '$r1/.ripcord/artifacts' | grep -q '^\.put-'"
printf '[agent]\nroots = %s\nverify_key = %s\n' "$hosts" "$WORK/keys/rel.pub" >"$WORK/agent.ini"
{
  echo "$hello"
  put 1 v3 "$r1" "$d3" "$art/v3.tar.zst" "\"sig\":\"$(printf '%s' "$sig" | tr 'A-Za-z' 'B-ZAb-za')\""
  put 2 v3 "$r1" "$d3" "$art/v3.tar.zst" "\"sig\":\"$sig\""
} >"$WORK/i.in"
agent i
check "a tampered signature is refused" has i 1 '"ok":false,"error":"the artifact of release '\''v3'\'' (checked with verify_key '\'"$WORK/keys/rel.pub"\''): the signature does not match'
check "... with RIP_ESECURITY" has i 1 '"code":-7}'
check "the right key's signature is accepted" has i 2 '"ok":true,"stored":true'
printf '[agent]\nverify_key = %s\n' "$WORK/keys/none.pub" >"$WORK/agent.ini"
expect_exit 2 "an unreadable verify_key: exit 2 before serving" sh -c "echo '$hello' | '$RIPCORD' agent"
err_has "naming file:line and the key" "$WORK/agent.ini:2: cannot read verify_key '$WORK/keys/none.pub'"

# outside agent.ini's roots, every op is refused, and nothing is written
printf '[agent]\nroots = %s\n' "$hosts" >"$WORK/agent.ini"
out=$WORK/outside && mkdir -p "$out/releases/v1" && ln -s releases/v1 "$out/current"
{
  echo "$hello"
  req inspect 1 "$(on "$out")"
  req prepare 2 "$(on "$WORK/outside-new")"
  req has 3 "$(on "$out" v1),\"digest\":\"$d1\""
  put 4 v1 "$out" "$d1" "$art/v1.tar.zst"
  req extract 5 "$(on "$out" v1),\"digest\":\"$d1\""
  req switch 6 "$(on "$out" v1)"
  req activate 7 "$(on "$out" v1),\"previous\":\"\",\"target\":\"x\",\"command\":\"/bin/true\",\"timeout_ms\":0"
  req remove 8 "$(on "$out" v1)"
  req clean 9 "$(on "$out"),\"keep\":[]"
  put 10 v1 "$hosts/../outside" "$d1" "$art/v1.tar.zst"
  req inspect 11 "$(on "$r1")"
} >"$WORK/j.in"
agent j
for i in 1 2 3 4 5 6 7 8 9 10; do
  check "op $i outside the roots is refused" has j "$i" '"ok":false,"error":"root '
done
check "the put's bytes were still read: the next request is answered" has j 11 '"ok":true,"root":"'"$r1"'","exists":true,"current":"v2"'
check "nothing written outside" sh -c "test ! -e '$out/.ripcord' -a ! -e '$WORK/outside-new' && test \"\$(readlink '$out/current')\" = releases/v1 -a -d '$out/releases/v1'"

# --- links out of a root: the agent follows none ---
printf '[agent]\nroots = %s\n' "$hosts" >"$WORK/agent.ini"
esc=$WORK/esc && mkdir -p "$esc/victim/bin" "$esc/art" && echo precious >"$esc/victim/data"
printf '#!/bin/sh\necho ran outside\n' >"$esc/victim/bin/activate" && chmod 755 "$esc/victim/bin/activate"
: >"$esc/art/old@$d1.tar.zst"
# a release whose payload holds x/releases, a link out: extracted as any
# release, then x named as a root of its own
evil=$WORK/evil && mkdir -p "$evil/x" && cd "$evil" && git init -q .
printf '.ripcord/\n' >.gitignore
printf '[project]\nname = evil\n\n[target "t"]\nroot = /nonexistent\n' >ripcord.ini
ln -s "$esc" x/releases && echo hi >x/f
git add -A && git commit -qm e1 && rc -q cut --id e1 >/dev/null 2>&1
cd "$repo"
ea=$evil/.ripcord/artifacts/e1.tar.zst de=$(sum "$ea")
srv=$hosts/srv nest=$hosts/srv/releases/e1/x
{
  echo "$hello"
  put 1 e1 "$srv" "$de" "$ea"
  req extract 2 "$(on "$srv" e1),\"digest\":\"$de\""
  req inspect 3 "$(on "$nest"),\"check\":true"
  req remove 4 "$(on "$nest" victim)"
  put 5 e1 "$nest" "$de" "$ea"
  req extract 6 "$(on "$nest" e1),\"digest\":\"$de\""
  req prepare 7 "$(on "$nest/deeper")"
  req switch 8 "$(on "$nest" victim)"
  req clean 9 "$(on "$nest"),\"keep\":[]"
  req inspect 10 "$(on "$srv")"
} >"$WORK/m.in"
agent m
check "m: the release with a link in its payload is stored and extracted" sh -c "grep -q '^{\"id\":1,\"ok\":true' '$WORK/m.out' && grep -q '^{\"id\":2,\"ok\":true' '$WORK/m.out' && test -L '$nest/releases'"
for i in 3 4 5 6 7 8 9; do
  check "m: op $i on a root inside a release's folder is refused (RIP_ESECURITY)" has m "$i" "\"ok\":false,\"error\":\"root '$nest"
  check "m: ... naming the releases/ folder it lies in, code -7" has m "$i" "lies inside '$srv/releases/': a release's payload is never a root"
done
check "m: the put's bytes were read: the next request is answered" has m 10 '"ok":true,"root":"'"$srv"'","exists":true'
check "m: nothing outside was removed or written" sh -c "test \"\$(cat '$esc/victim/data')\" = precious && test ! -e '$esc/e1' -a ! -e '$esc/.ripcord' -a ! -e '$nest/.ripcord' && test \"\$(ls '$esc')\" = 'art
victim'"

# roots whose own folders are links: releases/, .ripcord/, .ripcord/artifacts,
# a release, the release current points at
lr=$hosts/lr && mkdir -p "$lr" && ln -s "$esc" "$lr/releases"
lc=$hosts/lc && mkdir -p "$lc/releases" && ln -s "$esc" "$lc/.ripcord"
la=$hosts/la && mkdir -p "$la/releases" "$la/.ripcord" && ln -s "$esc/art" "$la/.ripcord/artifacts"
ls_=$hosts/ls && mkdir -p "$ls_/releases" && cp -a "$r1/releases/v1" "$ls_/releases/v1"
ln -s releases/v1 "$ls_/current" && ln -s "$esc/victim" "$ls_/releases/e9"
lk=$hosts/lk && mkdir -p "$lk/releases" && ln -s "$esc/victim" "$lk/releases/e9" && ln -s releases/e9 "$lk/current"
act() { printf '%s,"previous":"","target":"t","command":"%s","timeout_ms":10000' "$(on "$1" "$2")" "$3"; }
{
  echo "$hello"
  req inspect 1 "$(on "$lr")"
  req remove 2 "$(on "$lr" victim)"
  req extract 3 "$(on "$lr" v1),\"digest\":\"$d1\""
  req switch 4 "$(on "$lr" victim)"
  req activate 5 "$(act "$lr" victim bin/activate)"
  req clean 6 "$(on "$lr"),\"keep\":[]"
  req has 7 "$(on "$lc" old),\"digest\":\"$d1\""
  put 8 v1 "$lc" "$d1" "$art/v1.tar.zst"
  req clean 9 "$(on "$lc"),\"keep\":[]"
  req clean 10 "$(on "$la"),\"keep\":[]"
  put 11 v1 "$la" "$d1" "$art/v1.tar.zst"
  req switch 12 "$(on "$ls_" e9)"
  req remove 13 "$(on "$ls_" e9)"
  req activate 14 "$(act "$ls_" e9 bin/activate)"
  req extract 15 "$(on "$ls_" e9),\"digest\":\"$d1\""
  req inspect 16 "$(on "$lk")"
  req switch 17 "$(on "$lk" e9)"
  req inspect 18 "$(on "$ls_")"
} >"$WORK/n.in"
agent n
for i in 1 2 3 4 5 6; do
  check "n: op $i on a root whose releases/ is a link is refused" has n "$i" "\"ok\":false,\"error\":\"'$lr/releases' is a symbolic link"
done
for i in 7 8 9; do
  check "n: op $i on a root whose .ripcord is a link is refused" has n "$i" "\"ok\":false,\"error\":\"'$lc/.ripcord' is a symbolic link"
done
for i in 10 11; do
  check "n: op $i on a root whose .ripcord/artifacts is a link is refused" has n "$i" "\"ok\":false,\"error\":\"'$la/.ripcord/artifacts' is a symbolic link"
done
for i in 12 13 14 15; do
  check "n: op $i on a release that is a link is refused" has n "$i" "\"ok\":false,\"error\":\"'$ls_/releases/e9' is a symbolic link"
done
for i in 16 17; do
  check "n: op $i on a root whose current leads through a link is refused" has n "$i" "\"ok\":false,\"error\":\"'$lk/releases/e9' is a symbolic link"
done
check "n: every refusal is RIP_ESECURITY" sh -c "test \$(grep -c '\"code\":-7}' '$WORK/n.out') = 17"
check "n: a root with a linked release is still served otherwise" has n 18 '"ok":true,"root":"'"$ls_"'","exists":true,"current":"v1"'
check "n: nothing outside was removed, written or run" sh -c "test \"\$(cat '$esc/victim/data')\" = precious && test -f '$esc/art/old@$d1.tar.zst' && test \"\$(ls '$esc')\" = 'art
victim' && test \"\$(ls '$esc/art')\" = 'old@$d1.tar.zst' && test \"\$(readlink '$ls_/current')\" = releases/v1 && test -L '$ls_/releases/e9'"

# activate with agent.ini roots: a path inside the release, nothing else
ln -s /bin/true "$r1/releases/v1/bin/out"
{
  echo "$hello"
  req activate 1 "$(act "$r1" v1 /bin/true)"
  req activate 2 "$(act "$r1" v1 ../v2/bin/activate)"
  req activate 3 "$(act "$r1" v1 bin/../bin/activate)"
  req activate 4 "$(act "$r1" v1 bin/out)"
  req activate 5 "$(act "$r1" v1 ./bin/activate)"
} >"$WORK/o.in"
agent o
check "o: an absolute activate command is refused" has o 1 "\"ok\":false,\"error\":\"activate command '/bin/true' is an absolute path: with agent.ini roots, activate must be a path inside the release"
check "o: ... with RIP_ESECURITY" has o 1 '"code":-7}'
check "o: one with .. is refused" has o 2 "\"ok\":false,\"error\":\"activate command '../v2/bin/activate' has a '..' component: with agent.ini roots, activate must be a path inside the release"
check "o: even one that would come back in" has o 3 "\"ok\":false,\"error\":\"activate command 'bin/../bin/activate' has a '..' component"
check "o: a link that leads out of the release is refused" has o 4 "\"ok\":false,\"error\":\"activate command 'bin/out' resolves to '/"
check "o: ... naming where it leads" has o 4 "outside release 'v1': with agent.ini roots, activate must be a path inside the release\",\"code\":-7}"
check "o: a path inside the release runs" has o 5 '"ok":true,"exit_code":0'
rm -f "$WORK/agent.ini"
{
  echo "$hello"
  req activate 1 "$(act "$r1" v1 "$r1/releases/v1/bin/fail")"
  req activate 2 "$(act "$r1" v1 bin/out)"
  req remove 3 "$(on "$nest" victim)"
} >"$WORK/p.in"
agent p
check "p: without roots too, a root inside a releases/ folder is refused" has p 3 "lies inside '$srv/releases/'"
check "p: without agent.ini roots, an absolute command runs as before" has p 1 '"ok":true,"exit_code":3'
check "p: and so does a link out of the release" has p 2 '"ok":true,"exit_code":0'
rm "$r1/releases/v1/bin/out"

# a switch whose rename is made but whose fsync fails is a switch: ok,
# with synced false and a warning (an LD_PRELOAD shim fails the fsync)
if cc -shared -fPIC -o "$WORK/fsync_shim.so" "$SOURCE_ROOT/tests/integration/fsync_shim.c" -ldl 2>"$WORK/cc.err"; then
  { echo "$hello"; req switch 1 "$(on "$r1" v1)"; } >"$WORK/q.in"
  RIPCORD_SHIM_FSYNC_FAIL=$r1 LD_PRELOAD=$WORK/fsync_shim.so \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" agent q
  check "q: a switch whose fsync failed answers ok" has q 1 '"ok":true,"current":"v1","synced":false'
  check "q: ... with a warning naming the root and the error" has q 1 "\"warning\":\"cannot fsync folder '$r1': Input/output error"
  check "q: current was switched" test "$(readlink "$r1/current")" = releases/v1
  { echo "$hello"; req switch 1 "$(on "$r1" v2)"; } >"$WORK/r.in"
  agent r
  check "r: a switch that synced says so" sh -c "grep -qx '{\"id\":1,\"ok\":true,\"current\":\"v2\",\"synced\":true}' '$WORK/r.out'"
else
  echo "ok $((T_N + 1)) # SKIP no C compiler for the fsync shim: $(head -1 "$WORK/cc.err")"; T_N=$((T_N + 1))
fi

# a full disk: a small tmpfs (root only)
if [ "$(id -u)" = 0 ] && mkdir -p "$WORK/tiny" && mount -t tmpfs -o size=1m tmpfs "$WORK/tiny" 2>/dev/null; then
  trap 'umount "$WORK/tiny" 2>/dev/null; rm -rf "$WORK"' EXIT
  tiny=$WORK/tiny/r
  head -c $((3 << 20)) /dev/urandom >"$WORK/big.bin"
  printf '[agent]\nroots = %s\n' "$WORK/tiny" >"$WORK/agent.ini"
  {
    echo "$hello"
    put 1 big "$tiny" "$(sum "$WORK/big.bin")" "$WORK/big.bin"
    put 2 v1 "$tiny" "$d1" "$art/v1.tar.zst"
  } >"$WORK/k.in"
  agent k
  check "a put onto a full disk: RIP_EIO naming the file" has k 1 '"ok":false,"error":"cannot write '\'"$tiny"'/.ripcord/artifacts/.put-'
  check "... and why" has k 1 'No space left on device","code":-10'
  check "its bytes were still read: the next put is stored" has k 2 '"ok":true,"stored":true'
  check "no temp left on the full disk" sh -c "! ls -A '$tiny/.ripcord/artifacts' | grep -q '^\.put-'"
  head -c $((2 << 20)) /dev/zero >"$WORK/tiny/filler" 2>/dev/null
  {
    echo "$hello"
    req extract 1 "$(on "$tiny" v1),\"digest\":\"$d1\""
    req inspect 2 "$(on "$tiny")"
  } >"$WORK/l.in"
  agent l
  check "an extract onto a full disk fails with RIP_EIO" has l 1 '"code":-10'
  check "leaving no release and no temp folder" sh -c "test -z \"\$(ls -A '$tiny/releases')\""
  check "and the agent goes on" has l 2 '"ok":true,"root":"'"$tiny"'","exists":true,"current":null,"releases":[]'
  umount "$WORK/tiny"
else
  echo "ok $((T_N + 1)) # SKIP needs root for a small tmpfs"; T_N=$((T_N + 1))
fi
rm -f "$WORK/agent.ini"

expect_exit 2 "arguments are refused" rc agent extra
check "--help does not list agent" sh -c "! '$RIPCORD' --help | grep -q agent"
done_testing
