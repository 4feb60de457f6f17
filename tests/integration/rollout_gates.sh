#!/usr/bin/env bash
# The rollout's other judges and voices, against real loopback servers:
# the weight hook's calls, gate_command, a Prometheus query gate (a small
# server answering the HTTP API's JSON), the baseline comparison, a paused
# rollout with auto_rollback = no, the webhook's events and the metrics
# file, and refusals that change nothing.
. "$(dirname "$0")/lib.sh"

repo=$WORK/shop
cp -r "$SOURCE_ROOT/examples/shop" "$repo"
cd "$repo" && git init -q .
printf 'keys/\n.ripcord/\nvar/\ntargets/\n' > .gitignore
sed -i '/signing_key\|verify_key/d; /^\[target/,$d' ripcord.ini
base=$(free_ports 4)
port1=$base port2=$((base + 1)) prom=$((base + 2)) hook=$((base + 3))
for i in 1 2; do
  printf '[target "web-%s"]\nroot = targets/web-%s\nhealth = http://127.0.0.1:%s/healthz\n\n' \
    "$i" "$i" $((base + i - 1)) >> ripcord.ini
done
cat >> ripcord.ini <<INI
[rollout]
steps = 50%, 100%
bake = 600ms
probe_interval = 150ms
probe_timeout = 1s
max_error_rate = 1%
max_p99_ms = 500
compare_baseline = no
min_samples = 5
INI
cp ripcord.ini "$WORK/base.ini"

release() { # id [health.conf line]...
  local id=$1; shift
  printf '%s\n' "$id" > VERSION
  printf '%s\n' "status = 200" "$@" > health.conf
  git add -A && git commit -qm "$id" && rc -q cut --id "$id" >/dev/null 2>&1 &&
    rc -q drill "$id" >/dev/null 2>&1
}
runs() { readlink targets/web-1/current targets/web-2/current | sed 's|releases/||' | paste -sd' '; }
waitfile() { for _ in $(seq 1 200); do [ -s "$1" ] && grep -q "$2" "$1" && return 0; sleep 0.1; done; return 1; }

release v1 && release v2 && release v3 "status = 500" && release v4 "delay_ms = 120"
rc -q deploy v1 >/dev/null 2>&1
serve() { python3 "targets/$1/current/server.py" "$2" "$repo/targets/$1/current" >/dev/null 2>&1 & echo $!; }
s1=$(serve web-1 "$port1"); s2=$(serve web-2 "$port2")

# a Prometheus stand-in: /api/v1/query answers the vector in $WORK/prom.value
cat > "$WORK/prom.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        v = open(sys.argv[2]).read().strip()
        body = json.dumps({"status": "success", "data": {"resultType": "vector",
            "result": [{"metric": {"job": "shop"}, "value": [1795800000.0, v]}]}}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
echo 0.001 > "$WORK/prom.value"
python3 "$WORK/prom.py" "$prom" "$WORK/prom.value" & promsrv=$!
# the webhook receiver, one line per POST
cat > "$WORK/hook.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        with open(sys.argv[2], 'ab') as f:
            f.write(body + b'\n')
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/hook.py" "$hook" "$WORK/posts" & hooksrv=$!
trap 'kill $s1 $s2 $promsrv $hooksrv 2>/dev/null; rm -rf "$WORK"' EXIT
for p in "$port1" "$port2" "$prom" "$hook"; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.1; done
done

# refusals change nothing
expect_exit 2 "--steps that do not end at 100% are a usage error" rc rollout start v2 --steps 50%,80%
err_has "saying what is expected" "ending at 100%"
expect_exit 2 "--bake must be a duration" rc rollout start v2 --bake soon
sed -i "0,/^health = .*/s///" ripcord.ini
expect_exit 2 "a target without a health URL is a configuration error" rc rollout start v2
err_has "naming the file, line and target" "ripcord.ini:$(grep -n '^\[target "web-1"\]' ripcord.ini | cut -d: -f1): target 'web-1' has no health URL"
check "nothing was switched" test "$(runs)" = "v1 v1"
cp "$WORK/base.ini" ripcord.ini

# on a terminal the round line is a live line, rewritten in place
script -qefc "'$RIPCORD' rollout start v2 --steps 100%" "$WORK/tty.log" >/dev/null 2>&1
check "on a TTY the rollout completes" test "$(runs)" = "v2 v2"
check "with its round line rewritten in place (CR, ESC [ K)" grep -q $'\r\033\[K' "$WORK/tty.log"
check "and no line per round" test "$(grep -c 'canar' "$WORK/tty.log")" -le 2
rc -q rollback >/dev/null 2>&1

# weight_hook: told each step's weight, and 0 on an abort
mkdir -p hooks
cat > hooks/weight <<'SH'
#!/bin/sh
echo "$1 step=$RIPCORD_STEP/$RIPCORD_STEPS canaries=$RIPCORD_CANARIES $RIPCORD_PREVIOUS->$RIPCORD_RELEASE" >> "$WEIGHT_LOG"
SH
chmod +x hooks/weight
export WEIGHT_LOG=$WORK/weights
printf 'weight_hook = hooks/weight\n' >> ripcord.ini
expect_exit 0 "a rollout in traffic-weight mode completes" rc rollout start v2
check "the hook was told 50% with the canary, then 100% with both" test "$(cat "$WEIGHT_LOG")" = "$(printf '50 step=1/2 canaries=web-1 v1->v2\n100 step=2/2 canaries=web-1 web-2 v1->v2')"
check "both run v2" test "$(runs)" = "v2 v2"
: > "$WEIGHT_LOG"
expect_exit 1 "a bad release in weight mode is aborted" rc rollout start v3
check "the hook was told 50%, then 0% before the switch back" test "$(cat "$WEIGHT_LOG")" = "$(printf '50 step=1/2 canaries=web-1 v2->v3\n0 step=1/2 canaries= v2->v3')"
check "both run v2 again" test "$(runs)" = "v2 v2"
cat > hooks/weight <<'SH'
#!/bin/sh
echo "load balancer unreachable" >&2; exit 7
SH
expect_exit 1 "a weight hook that fails aborts the step" rc rollout start v4 --steps 100%
err_has "naming the hook and its exit" "weight_hook"
err_has "(exit 7)" "exited 7"
check "and every target is back" test "$(runs)" = "v2 v2"
cp "$WORK/base.ini" ripcord.ini

# gate_command: run every round with the figures; exit 1 fails the step
cat > hooks/gate <<'SH'
#!/bin/sh
echo "$RIPCORD_STEP $RIPCORD_CANARIES rate=$RIPCORD_ERROR_RATE" >> "$GATE_LOG"
[ "$RIPCORD_STEP" = 2 ] && { echo "error budget burnt"; exit 1; }
exit 0
SH
chmod +x hooks/gate
export GATE_LOG=$WORK/gates
printf 'gate_command = hooks/gate\n' >> ripcord.ini
expect_exit 1 "gate_command failing at step 2 aborts there" rc rollout start v4 --json
check "after passing step 1 for every round of it" sh -c "grep -c '^1 web-1 rate=0.000000' '$GATE_LOG' | awk '\$1 >= 3 {ok=1} END {exit !ok}'"
check "the abort names gate_command, its exit and what it printed" sh -c "grep '\"event\":\"aborting\"' '$WORK/last.out' | grep -q '\"gate\":\"gate_command\"' && grep -q 'exited 1: error budget burnt' '$WORK/last.err'"
check "the abort came at step 2" grep -q '"event":"aborting".*"step":2\|"step":2.*"event":"aborting"' "$WORK/last.out"
check "every target is back on v2" test "$(runs)" = "v2 v2"
# what it printed is quoted whole, not cut at 479 bytes
cat > hooks/gate <<'SH'
#!/bin/sh
printf 'budget:%0600d:END-OF-REASON\n' 0; exit 1
SH
expect_exit 1 "gate_command failing with a long reason aborts" rc rollout start v4 --steps 100%
err_has "the reason is quoted to its end" "0000:END-OF-REASON"
check "every target is back on v2 again" test "$(runs)" = "v2 v2"
cp "$WORK/base.ini" ripcord.ini

# gate_query: a Prometheus instant query stays at or below gate_query_max
printf 'gate_query = http://127.0.0.1:%s/api/v1/query?query=rate(errors[1m])\ngate_query_max = 0.01\n' "$prom" >> ripcord.ini
expect_exit 0 "a query under its maximum lets the rollout complete" rc rollout start v4
rc -q rollback >/dev/null 2>&1
echo 0.5 > "$WORK/prom.value"
expect_exit 1 "a query over its maximum aborts" rc rollout start v4
err_has "with both numbers" "gate_query value 0.5 > gate_query_max 0.01"
check "every target is back" test "$(runs)" = "v2 v2"
kill $promsrv; wait $promsrv 2>/dev/null
# (inconclusive = pause, the default, is judge_flow.sh's)
printf 'inconclusive = abort\n' >> ripcord.ini
expect_exit 1 "a query that cannot be read for 3 rounds aborts, inconclusive = abort" rc rollout start v4
err_has "saying so" "inconclusive: gate_query could not judge 3 rounds in a row"
err_has "and why" "connection refused"
check "every target is back" test "$(runs)" = "v2 v2"
cp "$WORK/base.ini" ripcord.ini

# compare_baseline: slower than the targets not yet switched, though
# under max_p99_ms, fails the latency comparison once min_samples are in
sed -i 's/^compare_baseline = no/compare_baseline = yes/' ripcord.ini
expect_exit 1 "a canary slower than its baseline is aborted" rc rollout start v4 --json
check "by the baseline latency gate" grep -q '"gate":"baseline_latency"' "$WORK/last.out"
check "only after min_samples probes of each side" sh -c "grep '\"event\":\"round\"' '$WORK/last.out' | head -1 | grep -q '\"verdict\":\"inconclusive\"'"
check "every target is back" test "$(runs)" = "v2 v2"
cp "$WORK/base.ini" ripcord.ini

# auto_rollback = no: a failed gate pauses for a human
printf 'auto_rollback = no\n[notify]\nwebhook = http://127.0.0.1:%s/hook\n' "$hook" >> ripcord.ini
expect_exit 1 "a failed gate pauses instead of aborting" rc rollout start v3
err_has "saying what to run" "ripcord rollout abort"
check "the webhook hears rollout_paused, with the gate" waitfile "$WORK/posts" '"event":"rollout_paused".*error rate'
check "the canary still runs the bad release" test "$(runs)" = "v3 v2"
expect_exit 0 "rollout status shows the pause" rc rollout status
check "(paused, with the failed gate)" grep -q "paused, step 1/2.*failed" "$WORK/last.out"
check "(and the reason)" grep -q "reason: .*error rate" "$WORK/last.out"
expect_exit 4 "deploy is refused meanwhile" rc deploy v2
expect_exit 0 "rollout abort puts every target back" rc rollout abort
check "both run v2" test "$(runs)" = "v2 v2"
# every delivery of this part is in before the next part listens
check "(its rollout_start arrived too)" waitfile "$WORK/posts" '"event":"rollout_start"'
check "(the abort)" waitfile "$WORK/posts" '"event":"rollout_abort"'
: > "$WORK/posts"
cp "$WORK/base.ini" ripcord.ini

# the webhook hears start, promotions, completion and aborts; the metrics
# file has the rollout's gauges
printf '[notify]\nwebhook = http://127.0.0.1:%s/hook\n[drill]\nmetrics_file = %s\n' "$hook" "$WORK/ripcord.prom" >> ripcord.ini
expect_exit 0 "a manual rollout pauses after step 1" rc rollout start v4 --manual
check "the metrics say step 1" grep -qx 'ripcord_rollout_step{project="shop",release="v4"} 1' "$WORK/ripcord.prom"
check "with the canary error rate" grep -qx 'ripcord_rollout_canary_error_rate{project="shop",release="v4"} 0' "$WORK/ripcord.prom"
check "and p99 in seconds" grep -Eq '^ripcord_rollout_canary_p99_seconds\{project="shop",release="v4"\} 0\.1[0-9]*' "$WORK/ripcord.prom"
expect_exit 0 "promote completes it" rc rollout promote
check "the metrics say step 0 once it ended" grep -qx 'ripcord_rollout_step{project="shop",release="v4"} 0' "$WORK/ripcord.prom"
check "the webhook got rollout_start" waitfile "$WORK/posts" '"event":"rollout_start"'
check "rollout_promote" waitfile "$WORK/posts" '"event":"rollout_promote"'
check "and rollout_complete" waitfile "$WORK/posts" '"event":"rollout_complete"'
rc -q rollback >/dev/null 2>&1
expect_exit 1 "an aborted rollout" rc rollout start v3
check "is announced as rollout_abort, with its reason" waitfile "$WORK/posts" '"event":"rollout_abort".*error rate'

# killed while aborting: the record says aborting, its process is gone
# (made by hand, exactly as a kill leaves it); resume finishes the abort
expect_exit 0 "a manual rollout pauses at step 1" rc rollout start v4 --manual
check "(the canary runs v4)" test "$(runs)" = "v4 v2"
dead=$(sh -c 'echo $$')
sqlite3 .ripcord/state.db "UPDATE rollouts SET state = 'aborting', reason = 'step 1/2: killed while aborting', pid = $dead WHERE finished = 0"
expect_exit 5 "status exits 5 for the interrupted abort" rc rollout status
check "and says so" grep -q "interrupted, step 1/2" "$WORK/last.out"
expect_exit 5 "a new rollout is refused meanwhile" rc rollout start v4
err_has "pointing to resume" "ripcord rollout resume"
expect_exit 0 "rollout resume finishes the abort" rc rollout resume
err_has "saying it goes on with the abort" "finishing its abort"
check "every target is back on v2" test "$(runs)" = "v2 v2"
expect_exit 0 "the record is aborted, with the first reason" rc rollout status
check "(aborted: killed while aborting)" grep -q "aborted .*killed while aborting" "$WORK/last.out"
expect_exit 0 "the audit chain holds every rollout" rc log --verify
rc log -n 100 > "$WORK/log.txt" 2>&1
check "(rollout start and promote are audited)" sh -c "grep -q 'ripcord rollout start v4 --manual' '$WORK/log.txt' && grep -q 'ripcord rollout promote' '$WORK/log.txt'"
done_testing
