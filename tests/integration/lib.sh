# shellcheck shell=bash
# TAP helpers for the integration scripts. Each check prints one
# "ok N - what" or "not ok N - what" line; done_testing prints the plan.
set -u
: "${RIPCORD:?set RIPCORD to the built binary}"
T_N=0 T_FAILED=0
WORK=$(mktemp -d /tmp/ripcord-it-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=t@example.invalid
export GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=t@example.invalid
export GIT_AUTHOR_DATE="2026-01-02T03:04:05Z" GIT_COMMITTER_DATE="2026-01-02T03:04:05Z"
export NO_COLOR=1

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $1"; }
not_ok() {
  T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/# /'
  return 0
}
# check "description" command...: ok when the command exits 0
check() { local d=$1; shift; local out; if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "$out"; fi; }
# expect_exit CODE "description" command...: ok when it exits with CODE;
# its stderr is kept in $WORK/last.err and stdout in $WORK/last.out
expect_exit() {
  local want=$1 d=$2; shift 2
  "$@" >"$WORK/last.out" 2>"$WORK/last.err"; local got=$?
  if [ "$got" -eq "$want" ]; then ok "$d"; else
    not_ok "$d (exit $got, expected $want)" "$(cat "$WORK/last.out" "$WORK/last.err")"; fi
}
# err_has "description" needle: the last command's stderr contains needle
err_has() {
  if grep -qF -- "$2" "$WORK/last.err"; then ok "$1"; else
    not_ok "$1" "stderr lacks '$2': $(cat "$WORK/last.err")"; fi
}
done_testing() { echo "1..$T_N"; [ "$T_FAILED" -eq 0 ]; }
rc() { "$RIPCORD" "$@"; }

# free_ports N: a base port B with B .. B+N-1 all free on 127.0.0.1 now;
# tests run side by side, and a random pick alone can land on a port
# another test's server holds
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    b = random.randrange(20000, 40000 - n)
    held = []
    try:
        for p in range(b, b + n):
            s = socket.socket()
            held.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in held:
            s.close()
    print(b)
    break
PY
}

# shop_fleet N [LINE]: the quickstart app (examples/shop) as a git repo in
# $repo, the current folder from then on, and $WORK/base.ini: its config
# without signing and with N targets web-1..web-N, each with a health URL
# on port $port1 + K - 1 (picked at random) and LINE, when given.
shop_fleet() {
  local n=$1 line=${2:-} i
  repo=$WORK/shop
  cp -r "$SOURCE_ROOT/examples/shop" "$repo"
  cd "$repo" && git init -q .
  printf 'keys/\n.ripcord/\nvar/\ntargets/\n' > .gitignore
  port1=$(free_ports $((n + 4)))
  sed '/signing_key\|verify_key/d; /^\[target/,$d' ripcord.ini > "$WORK/base.ini"
  for i in $(seq 1 "$n"); do
    printf '[target "web-%s"]\nroot = targets/web-%s\nhealth = http://127.0.0.1:%s/healthz\n%s\n' \
      "$i" "$i" $((port1 + i - 1)) "${line:+$line
}" >> "$WORK/base.ini"
  done
}

# fake_ssh FILE [SNIPPET]: writes FILE, an executable stand-in for ssh(1)
# to name in [ssh] command. It skips ssh's options, takes the host of the
# destination (user@ dropped) as $dest, answers for a host marked down
# ($WORK/down.HOST) as ssh does for a dead route (exit 255), runs SNIPPET
# (bash; $dest, the array args and $last, the index of the remote command
# in it, are set), then tests/fakessh, which runs the remote command here
# with FAKE_HOST set to the host.
fake_ssh() {
  {
    cat <<SH
#!/usr/bin/env bash
args=("\$@")
while [ \$# -gt 0 ]; do
	case "\$1" in
	--) shift; break ;;
	-o|-p|-F|-i|-l|-J|-E|-S|-b|-c|-m|-O) shift 2 ;;
	-?*) shift ;;
	*) break ;;
	esac
done
dest=\${1:-}
dest=\${dest##*@}
last=\$((\${#args[@]} - 1))
if [ -n "\$dest" ] && [ -e "$WORK/down.\$dest" ]; then
	echo "ssh: connect to host \$dest port 22: No route to host" >&2
	exit 255
fi
SH
    printf '%s\n' "${2:-}"
    printf 'FAKE_HOST=$dest exec %q "${args[@]}"\n' "$SOURCE_ROOT/tests/fakessh"
  } > "$1"
  chmod +x "$1"
}
