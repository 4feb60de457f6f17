#!/usr/bin/env bash
# The ready hooks of hooks/ against the real thing: ripcord deploys and
# rolls back with hooks/activate-signal as the activate hook of targets whose
# service is a real background process (it traps SIGHUP/SIGUSR1 and records
# which release its current link names); a missing or stale pid file fails
# the hook cleanly (exit 1, the table says so, the switch stays, the other
# target goes on); hooks/activate-wait-http waits for a real loopback HTTP
# server; hooks/activate-systemd fails with a clear message where systemctl
# cannot act (no systemd here, or an unknown unit); hooks/weight-nginx moves
# the share of requests a real nginx sends to the canaries. Every script
# passes sh -n, and shellcheck when it is installed.
. "$(dirname "$0")/lib.sh"

HOOKS=$SOURCE_ROOT/hooks
# wait_for FILE: up to 5 s for a pid file to appear
wait_for() { for _ in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
# the last command's stdout (the table) or stderr contains a line matching
out_has() { if grep -qE -- "$2" "$WORK/last.out"; then ok "$1"; else not_ok "$1" "$(cat "$WORK/last.out" "$WORK/last.err")"; fi; }

# 1. the scripts themselves
scripts=("$HOOKS"/*)
check "hooks/ holds the ready hooks" test "${#scripts[@]}" -ge 3 -a -x "$HOOKS/activate-signal" -a -x "$HOOKS/activate-systemd" -a -x "$HOOKS/activate-wait-http"
for s in "${scripts[@]}"; do
  n=${s##*/}
  check "$n: sh -n" sh -n "$s"
  check "$n: executable, #!/bin/sh, set -eu, says what it reads" sh -c \
    "test -x '$s' && head -n 1 '$s' | grep -qx '#!/bin/sh' && grep -qx 'set -eu' '$s' && grep -q 'ripcord-hooks(7)' '$s' && grep -q 'Exit status' '$s'"
  if command -v shellcheck >/dev/null 2>&1; then
    check "$n: shellcheck" shellcheck -s sh "$s"
  fi
done

# 2. a repo whose payload is the service itself: it writes its pid file,
# and on SIGHUP or SIGUSR1 records the release its root's current names
repo=$WORK/app
mkdir -p "$repo/hooks" && cd "$repo" && git init -q .
cat > app.py <<'PY'
import os, signal, sys
root, pidfile = sys.argv[1], os.path.join(sys.argv[1], sys.argv[2])
def reload(sig, _):
    rel = os.path.basename(os.readlink(os.path.join(root, "current")))
    with open(os.path.join(root, "reloads.log"), "a") as f:
        f.write("reloaded %s on %s\n" % (rel, signal.Signals(sig).name))
signal.signal(signal.SIGHUP, reload)
signal.signal(signal.SIGUSR1, reload)
os.makedirs(os.path.dirname(pidfile), exist_ok=True)
with open(pidfile + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(pidfile + ".tmp", pidfile)
while True:
    signal.pause()
PY
cp "$HOOKS"/activate-* hooks/
# web-2 shows the per-target wrapper of ripcord-hooks(7)
cat > hooks/activate-web-2 <<'SH'
#!/bin/sh
RIPCORD_SIGNAL=USR1 RIPCORD_PIDFILE=run/app.pid RIPCORD_SIGNAL_MATCH=app.py \
	exec "$(dirname "$0")/activate-signal"
SH
chmod +x hooks/activate-web-2
printf '.ripcord/\ntargets/\n' > .gitignore
cat > ripcord.ini <<'INI'
[project]
name = app
[package]
exclude = hooks
[target "web-1"]
root = targets/web-1
activate = hooks/activate-signal
hook_timeout = 20s
[target "web-2"]
root = targets/web-2
activate = hooks/activate-web-2
INI
for v in v1 v2 v3; do
  echo "$v" > VERSION && git add -A && git commit -qm "$v" && rc -q cut --id "$v" >/dev/null 2>&1
done
check "three releases cut" test "$(rc releases 2>/dev/null | grep -cE '^v[123] ')" = 3

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$WORK"' EXIT
start() { # start TARGET PIDFILE: the service of TARGET, detached from us
  python3 "targets/$1/current/app.py" "$repo/targets/$1" "$2" </dev/null >/dev/null 2>&1 &
  pids+=($!); wait_for "targets/$1/$2" || true
}

expect_exit 0 "first deploy: no service runs yet, nothing to reload" rc deploy v1
err_has "the hook says so" "no earlier release on this target: nothing to reload"
out_has "the table says ok" "^web-1 +- +v1 +ok"
start web-1 shared/app.pid; start web-2 run/app.pid
check "the service started from current writes its pid" test -s targets/web-1/shared/app.pid
check "(web-2 too, under run/)" test -s targets/web-2/run/app.pid
p1=$(cat targets/web-1/shared/app.pid) p2=$(cat targets/web-2/run/app.pid)

expect_exit 0 "deploy v2 with activate-signal" rc deploy v2
check "web-1's process got SIGHUP after the switch" grep -qx "reloaded v2 on SIGHUP" targets/web-1/reloads.log
check "web-2's wrapper sent SIGUSR1 from run/app.pid" grep -qx "reloaded v2 on SIGUSR1" targets/web-2/reloads.log
err_has "the hook's output reaches ripcord's log" "sent SIGHUP to process $p1 for release v2"
err_has "after the settle check" "process $p1 is still running after 1s"
out_has "the table says ok for both" "^web-2 +v1 +v2 +ok"

# the service stops and its pid file is gone: deploy reports it, goes on
kill "$p1"; wait "$p1" 2>/dev/null; rm targets/web-1/shared/app.pid
expect_exit 1 "deploy v3 with web-1's pid file missing exits 1" rc deploy v3
err_has "the hook names the missing file" "pid file '$repo/targets/web-1/shared/app.pid' does not exist"
out_has "the table says activate failed on web-1" "^web-1 +v2 +v3 +exit 1"
check "the switch stays done" test "$(readlink targets/web-1/current)" = releases/v3
check "web-2 went on and reloaded" grep -qx "reloaded v3 on SIGUSR1" targets/web-2/reloads.log
out_has "where all went well" "^web-2 +v2 +v3 +ok"
err_has "the command says why it failed" "an activate hook or a health probe failed"

# the service runs again, then dies and leaves its pid file: stale, on a
# rollback: reported, and the rollback goes on to every target
start web-1 shared/app.pid; p1=$(cat targets/web-1/shared/app.pid)
kill "$p1"; wait "$p1" 2>/dev/null
expect_exit 1 "rollback with a stale pid file on web-1 exits 1" rc rollback
err_has "the hook names the gone process" "process $p1 (from '$repo/targets/web-1/shared/app.pid') is not running: a stale pid file?"
out_has "the table says activate failed on web-1" "^web-1 +v3 +v2 +exit 1"
check "every target went back anyway" test "$(readlink targets/web-1/current) $(readlink targets/web-2/current)" = "releases/v2 releases/v2"
check "web-2 reloaded v2" sh -c "tail -n 1 targets/web-2/reloads.log | grep -qx 'reloaded v2 on SIGUSR1'"
check "web-2's process still runs" kill -0 "$p2"

check "a relative -c path still gives hooks absolute paths" \
  sh -c "'$RIPCORD' -c ripcord.ini deploy v3 --target web-2 >'$WORK/rel.out' 2>&1 && grep -q 'sent SIGUSR1' '$WORK/rel.out' || { cat '$WORK/rel.out'; exit 1; }"

# 3. activate-signal on its own: the refusals
export RIPCORD_ROOT=$WORK/svc RIPCORD_RELEASE=v9 RIPCORD_PREVIOUS=v8
mkdir -p "$RIPCORD_ROOT/shared"
hook() { expect_exit "$1" "$2" env "${@:3}" "$HOOKS/activate-signal"; }
echo "12ab" > "$RIPCORD_ROOT/shared/app.pid"
hook 1 "a pid file with no pid is refused"
err_has "naming what it holds" "holds '12ab', not a process id"
echo 1 > "$RIPCORD_ROOT/shared/app.pid"
hook 1 "pid 1 is never signalled"
err_has "saying so" "names process 1 (init); refusing"
sleep 30 >/dev/null 2>&1 & sp=$!; pids+=("$sp"); disown "$sp"
echo "$sp" > "$RIPCORD_ROOT/shared/app.pid"
hook 1 "RIPCORD_SIGNAL_MATCH refuses a process that is not the service" RIPCORD_SIGNAL_MATCH=app.py
err_has "saying what runs there" "which does not contain 'app.py'"
check "and did not signal it" kill -0 "$sp"
hook 1 "a process that dies of the signal fails the settle check" RIPCORD_SIGNAL=usr1
err_has "saying so" "process $sp died within 1s of SIGUSR1"
hook 1 "an invalid signal name is refused" RIPCORD_SIGNAL=7
err_has "saying what it expects" "expected a signal name such as HUP"
unset RIPCORD_ROOT RIPCORD_RELEASE RIPCORD_PREVIOUS

# 4. activate-wait-http against a real server on loopback
port=$(free_ports 1)
mkdir -p "$WORK/www" && echo '{"version": "v5"}' > "$WORK/www/health"
w() { expect_exit "$1" "$2" env RIPCORD_RELEASE=v5 RIPCORD_WAIT_URL="http://127.0.0.1:$port/${3:-health}" "${@:4}" "$HOOKS/activate-wait-http"; }
w 1 "wait-http: nothing listens, it gives up after RIPCORD_WAIT_TIMEOUT" health RIPCORD_WAIT_TIMEOUT=2
err_has "with curl's last error" "did not answer within 2s"
python3 -m http.server "$port" --bind 127.0.0.1 -d "$WORK/www" >/dev/null 2>&1 & pids+=($!)
w 0 "wait-http: waits until the server answers, with the release in the body" health 'RIPCORD_WAIT_EXPECT="version": "{release}"' RIPCORD_WAIT_TIMEOUT=10
out_has "and says when" "answered after [0-9]+s"
w 1 "wait-http: an old release in the body fails" health RIPCORD_WAIT_EXPECT=v6 RIPCORD_WAIT_TIMEOUT=2
err_has "naming the missing text" "the answer lacks 'v6'"
w 1 "wait-http: an HTTP error fails" nosuch RIPCORD_WAIT_TIMEOUT=2
err_has "with the status" "404"
expect_exit 1 "wait-http: no URL is a clear error" env -u RIPCORD_WAIT_URL "$HOOKS/activate-wait-http"
err_has "saying what to set" "RIPCORD_WAIT_URL is not set"

# 5. activate-systemd: only what this machine really does. Where systemd
# runs, an unknown unit; elsewhere, no systemd; nowhere a fake systemctl.
unit=ripcord-it-no-such-unit-$$.service
expect_exit 1 "systemd: no systemctl in PATH is a clear error" env PATH=/nonexistent RIPCORD_TARGET=web-1 /bin/sh "$HOOKS/activate-systemd"
err_has "saying so" "systemctl not found in PATH"
expect_exit 1 "systemd: a unit name that looks like an option is refused" env RIPCORD_UNIT=--force "$HOOKS/activate-systemd"
err_has "saying so" "invalid unit name '--force'"
if command -v systemctl >/dev/null 2>&1; then
  expect_exit 1 "systemd: an unknown unit (or no systemd) fails" env RIPCORD_UNIT="$unit" "$HOOKS/activate-systemd"
  if [ -d /run/systemd/system ]; then
    err_has "naming the unit and the failed action" "'systemctl restart $unit' failed"
  else
    err_has "saying systemd is not running" "systemd is not running on this machine"
  fi
  # the same through ripcord, for a target named after a unit that exists nowhere
  printf '[project]\nname = app\n[target "%s"]\nroot = targets/%s\nactivate = hooks/activate-systemd\n' "${unit%.service}" "${unit%.service}" > "$repo/systemd.ini"
  expect_exit 1 "deploy with activate-systemd where it cannot act exits 1" rc -c "$repo/systemd.ini" deploy v1
  out_has "the table says activate failed" "^${unit%.service} +- +v1 +exit 1"
  check "the switch is done" test "$(readlink "targets/${unit%.service}/current")" = releases/v1
fi

# 5. hooks/weight-nginx in front of a real nginx: the canaries get the
# share of the requests the step says (smooth weighted round robin, one
# worker: exact over a whole cycle), a 0 takes them out, and a file nginx
# refuses is put back and nginx is not reloaded
if command -v nginx >/dev/null 2>&1; then
  ng=$WORK/nginx; mkdir -p "$ng/logs"
  nport=$(free_ports 3); b1=$((nport + 1)); b2=$((nport + 2))
  cat > "$WORK/backend.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = sys.argv[2].encode() + b"\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  python3 "$WORK/backend.py" "$b1" web-1 & bk1=$!
  python3 "$WORK/backend.py" "$b2" web-2 & bk2=$!
  pids+=("$bk1" "$bk2")
  # one trap for all: the services and the file server above stay in it
  trap 'kill "${pids[@]}" 2>/dev/null; nginx -p "$ng" -c "$ng/nginx.conf" -s stop 2>/dev/null; rm -rf "$WORK"' EXIT
  # both answer before nginx sends them anything: a refused connection
  # would mark one failed for 10 s
  for p in "$b1" "$b2"; do
    for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.1; done
  done
  printf 'web-1 127.0.0.1:%s\nweb-2 127.0.0.1:%s\n' "$b1" "$b2" > "$ng/servers"
  cat > "$ng/nginx.conf" <<NG
worker_processes 1;
pid $ng/nginx.pid;
error_log $ng/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $ng/tmp; proxy_temp_path $ng/tmp;
  fastcgi_temp_path $ng/tmp; uwsgi_temp_path $ng/tmp; scgi_temp_path $ng/tmp;
  include $ng/upstream.conf;
  server { listen 127.0.0.1:$nport; location / { proxy_pass http://ripcord; } }
}
NG
  mkdir -p "$ng/tmp"
  export RIPCORD_NGINX_SERVERS=$ng/servers RIPCORD_NGINX_UPSTREAM=$ng/upstream.conf
  export RIPCORD_NGINX_TEST="nginx -t -q -p $ng -c $ng/nginx.conf"
  export RIPCORD_NGINX_RELOAD="nginx -p $ng -c $ng/nginx.conf -s reload"
  # the first file, before nginx runs: every server weight 1
  check "weight-nginx writes the upstream with no canary" env RIPCORD_CANARIES= RIPCORD_NGINX_RELOAD=true "$HOOKS/weight-nginx" 0
  check "nginx starts with it" nginx -p "$ng" -c "$ng/nginx.conf"
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$nport/" && break; sleep 0.1; done
  # share N: of N requests through nginx, how many reached web-1
  share() { local i n=0; for i in $(seq "$1"); do [ "$(curl -s "http://127.0.0.1:$nport/")" = web-1 ] && n=$((n + 1)); done; echo "$n"; }
  # workers: nginx's worker pids. A reload starts a new worker and lets
  # the old one finish: wait until the old one is gone
  workers() { pgrep -P "$(cat "$ng/nginx.pid")" | sort | paste -sd' '; }
  wait_reload() { for _ in $(seq 100); do w=$(workers); [ -n "$w" ] && [ "$w" != "$before" ] && [ "${w#* }" = "$w" ] && return 0; sleep 0.1; done; return 1; }
  before=$(workers)
  expect_exit 0 "weight-nginx 25 with web-1 the canary" env RIPCORD_CANARIES=web-1 RIPCORD_STEP=1 RIPCORD_STEPS=2 RIPCORD_RELEASE=v2 "$HOOKS/weight-nginx" 25
  check "the file gives web-1 weight 1 and web-2 weight 3" sh -c "grep -q 'server 127.0.0.1:$b1 weight=1;' '$ng/upstream.conf' && grep -q 'server 127.0.0.1:$b2 weight=3;' '$ng/upstream.conf'"
  check "nginx reloaded (a new worker)" wait_reload
  got=$(share 40)
  check "nginx sends web-1 exactly 10 of 40 requests (got $got)" test "$got" = 10
  before=$(workers)
  expect_exit 0 "weight-nginx 0 (an abort: no canary left)" env RIPCORD_CANARIES= "$HOOKS/weight-nginx" 0
  check "nginx reloaded again" wait_reload
  check "both share the requests again (20 of 40)" test "$(share 40)" = 20
  before=$(workers)
  expect_exit 0 "weight-nginx 100 with web-1 alone the canary" env RIPCORD_CANARIES=web-1 "$HOOKS/weight-nginx" 100
  check "and again" wait_reload
  check "web-2 is down: web-1 gets 20 of 20" test "$(share 20)" = 20
  cp "$ng/upstream.conf" "$WORK/good.conf"
  expect_exit 1 "a canary missing from the servers file is refused" env RIPCORD_CANARIES=web-9 "$HOOKS/weight-nginx" 50
  err_has "naming it" "canary 'web-9' is not in"
  expect_exit 1 "a bad PERCENT is refused" env RIPCORD_CANARIES=web-1 "$HOOKS/weight-nginx" 150
  printf 'web-1 127.0.0.1:%s\nweb-2 not:an:address:at:all\n' "$b1" > "$ng/servers"
  expect_exit 1 "an upstream nginx refuses is not loaded" env RIPCORD_CANARIES=web-1 "$HOOKS/weight-nginx" 50
  err_has "saying nginx refused it" "nginx refused the new upstream"
  check "and the previous file is back" cmp -s "$WORK/good.conf" "$ng/upstream.conf"
  check "nginx still serves with it" test "$(share 10)" = 10
fi

# 6. a hook's output in the log: one line per line it printed, no blank
# line after each, no CR of a CRLF; on b the last line has no newline
out=$WORK/out && mkdir -p "$out/hooks" && cd "$out" && git init -q .
cat > hooks/activate <<'SH'
#!/bin/sh
if [ "$RIPCORD_TARGET" = a ]; then printf 'first\nsecond\r\nthird\n'; else printf 'one\ntwo\r\nthree'; fi
SH
chmod +x hooks/activate
printf '[project]\nname = out\n' > ripcord.ini
for t in a b; do printf '[target "%s"]\nroot = targets/%s\nactivate = hooks/activate\n' $t $t >> ripcord.ini; done
echo x > x && git add -A && git commit -qm x && rc -q cut --id v1 >/dev/null 2>&1
expect_exit 0 "deploy with a hook that prints three lines" rc deploy v1
check "each is one line of the log, named by its target" sh -c "grep -qx 'ripcord: a: activate: first' '$WORK/last.err' && grep -qx 'ripcord: a: activate: second' '$WORK/last.err' && grep -qx 'ripcord: a: activate: third' '$WORK/last.err'"
check "the last line without its newline too" sh -c "grep -qx 'ripcord: b: activate: one' '$WORK/last.err' && grep -qx 'ripcord: b: activate: two' '$WORK/last.err' && grep -qx 'ripcord: b: activate: three' '$WORK/last.err'"
check "no blank line follows" sh -c "! grep -qx '' '$WORK/last.err'"
check "no CR is left" sh -c "! grep -q \"\$(printf '\\r')\" '$WORK/last.err'"

done_testing
