#!/usr/bin/env bash
# ripcord agent against someone who can write in the roots it serves (the
# application, another local user): a folder of the root swapped for a
# link out of it at the worst moment, after every check the agent made
# (swap_shim.c, an LD_PRELOAD shim): a put's temporary file, clean's
# listing of the cache, an extract's temporary folder, a folder of a
# release being removed. Nothing is written,
# renamed or removed outside the root.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
printf '.ripcord/\n' > .gitignore
printf '[project]\nname = app\n\n[target "t"]\nroot = /nonexistent\n' > ripcord.ini
mkdir -p bin && printf '#!/bin/sh\necho activated\n' > bin/activate && chmod 755 bin/activate
echo v1 > VERSION && git add -A && git commit -qm v1 && rc -q cut --id v1 >/dev/null 2>&1
art=$repo/.ripcord/artifacts/v1.tar.zst
check "a release to send" test -f "$art"

ver=$("$RIPCORD" --version | cut -d' ' -f2)
hello='{"op":"hello","id":0,"protocol":1,"version":"'"$ver"'"}'
hosts=$WORK/hosts && mkdir -p "$hosts"
printf '[agent]\nroots = %s\n' "$hosts" >"$WORK/agent.ini"
export RIPCORD_AGENT_INI=$WORK/agent.ini
d1=$(sha256sum "$art" | cut -d' ' -f1)
req() { printf '{"op":"%s","id":%s%s}\n' "$1" "$2" "${3:+,$3}"; }
on() { printf '"root":"%s"%s' "$1" "${2:+,\"release\":\"$2\"}"; }
put() {
  printf '{"op":"put","id":%s,%s,"digest":"%s","size":%s}\n' "$1" \
    "$(on "$3" "$2")" "$d1" "$(stat -c %s "$art")"
  cat "$art"
}
# agent NAME: the agent on $WORK/NAME.in, answers in NAME.out
agent() { "$RIPCORD" agent <"$WORK/$1.in" >"$WORK/$1.out" 2>"$WORK/$1.err"; }
has() { grep -E "^\{\"id\":$2," "$WORK/$1.out" | grep -qF -- "$3"; }
# attacked NAME FOLDER TO: agent NAME with FOLDER swapped for a link to TO
attacked() {
  RIPCORD_SHIM_SWAP=$2 RIPCORD_SHIM_TO=$3 RIPCORD_SHIM_SWAPPED=$WORK/$1.swapped \
    LD_PRELOAD=$WORK/swap_shim.so ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    agent "$1"
}
# empty DIR: DIR exists and holds nothing
empty() { test -d "$1" && test -z "$(ls -A "$1")"; }

if ! cc -shared -fPIC -o "$WORK/swap_shim.so" "$SOURCE_ROOT/tests/integration/swap_shim.c" -ldl 2>"$WORK/cc.err"; then
  echo "ok $((T_N + 1)) # SKIP no C compiler for the swap shim: $(head -1 "$WORK/cc.err")"; T_N=$((T_N + 1))
  done_testing; exit
fi
esc=$WORK/esc && mkdir -p "$esc/art" "$esc/old" "$esc/rel"

# put: .ripcord/artifacts becomes a link out as the temporary file is made
r1=$hosts/r1 && mkdir -p "$r1/releases" "$r1/.ripcord/artifacts"
{ echo "$hello"; put 1 v1 "$r1"; } >"$WORK/p.in"
attacked p "$r1/.ripcord/artifacts" "$esc/art"
check "p: the cache was swapped for a link as the put's file was made" test -e "$WORK/p.swapped" -a -L "$r1/.ripcord/artifacts"
check "p: the put was answered" has p 1 '"ok":'
check "p: nothing was written outside the root" empty "$esc/art"

# clean: .ripcord/artifacts becomes a link out as clean lists it; what it
# leads to holds a name that looks like a stale artifact
r2=$hosts/r2 && mkdir -p "$r2/releases"
{ echo "$hello"; put 1 v1 "$r2"; } >"$WORK/c0.in"
agent c0
check "c: a cache with v1 in it" test -f "$r2/.ripcord/artifacts/v1@$d1.tar.zst"
echo precious >"$esc/old/v0@$d1.tar.zst"
{ echo "$hello"; req clean 1 "$(on "$r2"),\"keep\":[]"; } >"$WORK/c.in"
attacked c "$r2/.ripcord/artifacts" "$esc/old"
check "c: the cache was swapped for a link as clean listed it" test -e "$WORK/c.swapped" -a -L "$r2/.ripcord/artifacts"
check "c: clean was answered" has c 1 '"ok":'
check "c: nothing outside the root was removed" test "$(cat "$esc/old/v0@$d1.tar.zst")" = precious

# extract: releases/ becomes a link out as the temporary folder is made
r3=$hosts/r3 && mkdir -p "$r3/releases"
{ echo "$hello"; put 1 v1 "$r3"; } >"$WORK/x0.in"
agent x0
{ echo "$hello"; req extract 1 "$(on "$r3" v1),\"digest\":\"$d1\""; } >"$WORK/x.in"
attacked x "$r3/releases" "$esc/rel"
check "x: releases/ was swapped for a link as the extract began" test -e "$WORK/x.swapped" -a -L "$r3/releases"
check "x: the extract was answered" has x 1 '"ok":'
check "x: nothing was extracted outside the root" empty "$esc/rel"

# remove: a folder inside the release (the application's own code, which it
# may write) becomes a link out as the removal lists it (the fd walk's
# fdopendir; the nftw(3) this replaced listed folders inside glibc, out of
# a shim's reach: test_fsutil's race shows what it did)
mkdir -p "$esc/victim" && echo precious >"$esc/victim/activate"
r4=$hosts/r4 && mkdir -p "$r4/releases"
{ echo "$hello"; put 1 v1 "$r4"; req extract 2 "$(on "$r4" v1),\"digest\":\"$d1\""; } >"$WORK/r0.in"
agent r0
check "r: v1 extracted, with bin/activate" test -f "$r4/releases/v1/bin/activate"
{ echo "$hello"; req remove 1 "$(on "$r4" v1)"; } >"$WORK/r.in"
attacked r "$r4/releases/v1/bin" "$esc/victim"
check "r: bin/ was swapped for a link as the removal listed it" test -e "$WORK/r.swapped"
check "r: the remove was answered" has r 1 '"ok":'
check "r: nothing outside the root was removed" test "$(cat "$esc/victim/activate")" = precious

done_testing
