#!/usr/bin/env bash
# The rollout judge's flow, against real loopback servers whose answers a
# file scripts, probe by probe: one failed probe does not abort, a canary
# failing failure_threshold rounds in a row does, and so does one that
# fails on and off past failure_limit; a Prometheus query that returns no
# data (or NaN), or a gate_command that times out, makes the step
# inconclusive: paused (the default, with a status line and a webhook),
# aborted or passed as [rollout] inconclusive says; a preflight refuses a
# rollout whose baseline already fails; `log --aborts` lists every abort;
# a gate_command that cannot start fails the step (not "cannot judge"),
# and an abort whose command left no audit entry gets none in the ledger.
. "$(dirname "$0")/lib.sh"

shop_fleet 2
base=$port1 port2=$((port1 + 1)) prom=$((port1 + 2)) hook=$((port1 + 3))
cat >> "$WORK/base.ini" <<INI
[rollout]
steps = 50%, 100%
bake = 1s
probe_interval = 100ms
probe_timeout = 1s
max_error_rate = 1%
max_p99_ms = 500
compare_baseline = no
min_samples = 3
require_drill = no
INI
cp "$WORK/base.ini" ripcord.ini
release() {
  printf '%s\n' "$1" > VERSION
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1
}
runs() { readlink targets/web-1/current targets/web-2/current | sed 's|releases/||' | paste -sd' '; }
waitfile() { for _ in $(seq 1 100); do [ -s "$1" ] && grep -q "$2" "$1" && return 0; sleep 0.1; done; return 1; }
release v1 && release v2
rc -q deploy v1 >/dev/null 2>&1

# a health server per target: each GET takes the first line of its plan
# file as its status (a line "*500" stays: every later answer is 500);
# an empty plan answers 200. It counts the GETs in its plan file's .n.
cat > "$WORK/health.py" <<'PY'
import http.server, sys
plan = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        lines = open(plan).read().split()
        status = 200
        if lines:
            status = int(lines[0].lstrip('*'))
            if not lines[0].startswith('*'):
                open(plan, 'w').write('\n'.join(lines[1:]) + '\n')
        with open(plan + '.n', 'a') as f:
            f.write('.')
        self.send_response(status); self.send_header('Content-Length', '0'); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
# a Prometheus stand-in answering the body in $WORK/prom.json
cat > "$WORK/prom.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = open(sys.argv[2], 'rb').read()
        self.send_response(200); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
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
vector() { printf '{"status":"success","data":{"resultType":"vector","result":[%s]}}' "$1" > "$WORK/prom.json"; }
: > "$WORK/plan1"; : > "$WORK/plan2"; vector ''
python3 "$WORK/health.py" "$base" "$WORK/plan1" & h1=$!
python3 "$WORK/health.py" "$port2" "$WORK/plan2" & h2=$!
python3 "$WORK/prom.py" "$prom" "$WORK/prom.json" & promsrv=$!
python3 "$WORK/hook.py" "$hook" "$WORK/posts" & hooksrv=$!
trap 'kill $h1 $h2 $promsrv $hooksrv 2>/dev/null; rm -rf "$WORK"' EXIT
for p in "$base" "$port2" "$prom" "$hook"; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.1; done
done
plan() { printf '%s\n' "${@:2}" > "$WORK/plan$1"; : > "$WORK/plan$1.n"; }
gets() { wc -c < "$WORK/plan$1.n"; }
back() { # the rollout is over: every target back on v1 (a rollback if needed)
  [ "$(runs)" = "v1 v1" ] || rc -q rollback --to v1 >/dev/null 2>&1
  plan 1; plan 2
}

# ---- failure_threshold and failure_limit -------------------------------
# web-1's third GET fails: the preflight takes one, step 1's rounds the rest
plan 1 200 200 500
expect_exit 0 "one failed probe of a canary does not abort the step" rc --json rollout start v2
check "(the canary's probe did fail once, in step 1)" sh -c "grep '\"event\":\"round\"' '$WORK/last.out' | grep -q '\"canary\":{\"probes\":[0-9]*,\"errors\":1'"
check "both run v2" test "$(runs)" = "v2 v2"
rc -q rollback --to v1 >/dev/null 2>&1; back

# a dead canary: with failure_limit 10 the error rate waits, and the
# canary fails the step on its own at its 3rd failed round in a row
cp "$WORK/base.ini" ripcord.ini
printf 'failure_limit = 10\n' >> ripcord.ini
plan 1 200 500 500 500
expect_exit 1 "a canary failing 3 rounds in a row aborts" rc --json rollout start v2
check "by failure_threshold, naming web-1, the count and the error" sh -c "grep '\"event\":\"aborting\"' '$WORK/last.out' | grep '\"gate\":\"failure_threshold\"' | grep '\"target\":\"web-1\"' | grep -q '3 probe rounds failed in a row (failure_threshold 3): HTTP 500'"
check "at its third probe of step 1" sh -c "grep '\"event\":\"round\"' '$WORK/last.out' | tail -1 | grep -q '\"canary\":{\"probes\":3,\"errors\":3'"
check "every target is back on v1" test "$(runs)" = "v1 v1"
back

# on and off, never 3 in a row: past failure_limit (2) the error rate judges
cp "$WORK/base.ini" ripcord.ini
plan 1 200 200 500 200 500 200 500
expect_exit 1 "a canary failing on and off aborts once more than failure_limit rounds failed" rc --json rollout start v2
check "by the error rate, at its third failed round" sh -c "grep '\"event\":\"aborting\"' '$WORK/last.out' | grep '\"gate\":\"error_rate\"' | grep -q '3 of 6 probes'"
back

# a bake of two rounds ends before failure_threshold can: a canary whose
# every probe of the step failed is no blip to forgive, and the error
# rate judges the step at its end
cp "$WORK/base.ini" ripcord.ini
sed -i 's/^probe_interval = .*/probe_interval = 1s/; s/^min_samples = .*/min_samples = 2/' ripcord.ini
plan 1 200 '*500'
expect_exit 1 "a canary whose every probe of a short step failed aborts" rc --json rollout start v2
check "by the error rate, every probe of it failed" sh -c "grep '\"event\":\"aborting\"' '$WORK/last.out' | grep '\"gate\":\"error_rate\"' | grep -q '(2 of 2 probes)'"
check "every target is back on v1" test "$(runs)" = "v1 v1"
back

# ---- preflight ---------------------------------------------------------
check "(4 rollouts so far)" test "$(sqlite3 .ripcord/state.db 'SELECT count(*) FROM rollouts')" = 4
plan 2 '*503'
expect_exit 1 "a baseline target that already fails refuses the rollout" rc rollout start v2
err_has "naming it and why" "preflight: baseline target 'web-2' failed 3 probe rounds in a row (failure_threshold; web-2: HTTP 503)"
check "nothing was switched" test "$(runs)" = "v1 v1"
check "after 3 probe rounds of it, no more" test "$(gets 2)" = 3
rc log -n 1 > "$WORK/log.txt" 2>&1
check "no rollout was recorded" test "$(sqlite3 .ripcord/state.db 'SELECT count(*) FROM rollouts')" = 4
check "the refusal is in the audit log" sh -c "grep -q 'rollout start v2' '$WORK/log.txt' && grep -q 'preflight: baseline target' '$WORK/log.txt'"
plan 2 500 200
expect_exit 0 "a baseline that fails once and answers passes the preflight" rc -q rollout start v2 --steps 100%
back

# ---- inconclusive: a Prometheus query that returns no data --------------
cp "$WORK/base.ini" ripcord.ini
printf 'gate_query = http://127.0.0.1:%s/api/v1/query?query=rate(errors[1m])\ngate_query_max = 0.01\n[notify]\nwebhook = http://127.0.0.1:%s/hook\n' "$prom" "$hook" >> ripcord.ini
vector ''
expect_exit 1 "a query that returns no data pauses the rollout" rc rollout start v2
err_has "saying it is inconclusive and the gate" "inconclusive: gate_query could not judge 3 rounds in a row: gate query"
err_has "and why" "the query returned no series"
err_has "and what to run" "ripcord rollout resume"
check "the canary still runs v2, the baseline v1" test "$(runs)" = "v2 v1"
check "the webhook hears rollout_inconclusive, with the gate" waitfile "$WORK/posts" '"event":"rollout_inconclusive".*"gate":"gate_query"'
expect_exit 0 "rollout status shows the pause" rc rollout status
check "(paused, inconclusive)" grep -q "paused, step 1/2 (50%), inconclusive" "$WORK/last.out"
check "(the verdict says inconclusive once)" sh -c "grep -q '  verdict:  inconclusive: gate_query could not judge' '$WORK/last.out' && ! grep -q 'inconclusive: inconclusive' '$WORK/last.out'"
check "(a line saying what could not judge and what to run)" grep -q "inconclusive: gate_query could not judge step 1/2: run 'ripcord rollout resume'" "$WORK/last.out"
expect_exit 0 "rollout status --json too" rc rollout status --json
check "(phase inconclusive, gate gate_query)" python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))['rollout']
assert d['state']=='paused' and d['phase']=='inconclusive' and d['gate']=='gate_query', d
assert 'no series' in d['reason'], d" "$WORK/last.out"
expect_exit 4 "a deploy is refused meanwhile" rc deploy v2
vector '{"metric":{},"value":[1795800000.0,"0.001"]}'
expect_exit 0 "once the query answers, rollout resume judges step 1 again and completes" rc rollout resume
check "both run v2" test "$(runs)" = "v2 v2"
back

# NaN is no data either; inconclusive = abort aborts, = pass goes on
sed -i '/^\[notify\]/i inconclusive = abort' ripcord.ini
vector '{"metric":{},"value":[1795800000.0,"NaN"]}'
expect_exit 1 "a NaN answer with inconclusive = abort aborts" rc rollout start v2
err_has "saying why" "is NaN"
check "every target is back on v1" test "$(runs)" = "v1 v1"
back
sed -i 's/^inconclusive = abort/inconclusive = pass/' ripcord.ini
vector ''
expect_exit 0 "with inconclusive = pass the rollout completes without the query" rc rollout start v2
err_has "warning that it went on without it" "the step goes on without it (inconclusive = pass)"
check "both run v2" test "$(runs)" = "v2 v2"
back

# ---- inconclusive: a gate_command that times out -----------------------
cp "$WORK/base.ini" ripcord.ini
mkdir -p hooks
printf '#!/bin/sh\nsleep 5\n' > hooks/gate && chmod +x hooks/gate
printf 'gate_command = hooks/gate\nfailure_threshold = 1\n' >> ripcord.ini
expect_exit 1 "a gate_command that times out pauses the rollout" rc rollout start v2
err_has "naming it" "inconclusive: gate_command could not judge 1 rounds in a row: gate_command"
err_has "(timed out)" "timed out after 1000 ms"
expect_exit 0 "rollout abort ends the paused rollout" rc rollout abort
check "every target is back on v1" test "$(runs)" = "v1 v1"
back

# promote counts an inconclusive step as passed and goes on
cp "$WORK/base.ini" ripcord.ini
printf 'gate_query = http://127.0.0.1:%s/api/v1/query?query=up\n' "$prom" >> ripcord.ini
vector ''
expect_exit 1 "(paused at step 1 again, no data)" rc rollout start v2
expect_exit 1 "rollout promote goes past the inconclusive step 1, to step 2, which pauses too" rc rollout promote
err_has "warning that it promotes past it" "promoting past the inconclusive step 1/2"
check "both run v2" test "$(runs)" = "v2 v2"
expect_exit 0 "(status)" rc rollout status
check "(paused, step 2/2, inconclusive)" grep -q "paused, step 2/2 (100%), inconclusive" "$WORK/last.out"
expect_exit 0 "(rollout abort)" rc rollout abort
check "every target is back on v1" test "$(runs)" = "v1 v1"
back

# ---- the aborts ledger --------------------------------------------------
cp "$WORK/base.ini" ripcord.ini
expect_exit 0 "log --aborts lists every aborted rollout" rc log --aborts
check "six of them" test "$(grep -c '^[0-9].* v2 -> v1 at step' "$WORK/last.out")" = 6
check "with the gate that fired, the target" grep -q "v2 -> v1 at step 1/2: gate failure_threshold on web-1" "$WORK/last.out"
check "why, with the numbers" grep -q "why: *step 1/2: web-1: 3 probe rounds failed in a row" "$WORK/last.out"
check "the figures of the step" grep -q "numbers: *canary 3 probes, 3 errors (100.0%)" "$WORK/last.out"
check "what was undone" grep -q "undone: *switched back: 2/2; lossless (schema kept at [0-9a-z_]*, [a-z0-9 ]*) (rolled back)" "$WORK/last.out"
check "and the command that aborted it" grep -q "by: .*ripcord --json rollout start v2 (exit 1, audit #" "$WORK/last.out"
check "(each abort its own command)" test "$(grep -c 'by: ' "$WORK/last.out" )" = "$(grep 'by: ' "$WORK/last.out" | sort -u | wc -l)"
check "(the paused one aborted by hand, by rollout abort)" grep -q "gate abort" "$WORK/last.out"
expect_exit 0 "log --aborts --json" rc log --aborts --json
check "(one object per abort, with gate, numbers, undone and audit)" python3 -c "
import json,sys; v=json.load(open(sys.argv[1]))
assert len(v)==6, v
a=v[0]
assert a['gate']=='failure_threshold' and a['target']=='web-1', a
assert a['canary']['errors']==3 and a['phase']=='rolled back', a
assert a['undone']['targets']==['web-1','web-2'] and 'switched back' in a['undone']['summary'], a
assert 'rollout start v2' in a['audit']['command'] and a['audit']['exit_code']==1, a
assert v[1]['gate']=='error_rate' and v[2]['gate']=='error_rate' and v[2]['canary']['errors']==2, v
assert v[3]['gate']=='gate_query' and v[4]['gate']=='abort', v
assert v[5]['gate']=='abort' and v[5]['step']==2, v" "$WORK/last.out"
expect_exit 0 "log --aborts -n 1: the newest only" rc log --aborts -n 1
check "(one)" test "$(grep -c ' at step ' "$WORK/last.out")" = 1
expect_exit 2 "--aborts with --verify is a usage error" rc log --aborts --verify
expect_exit 0 "the report lists them too" rc report -o "$WORK/report.html"
check "(a section of aborts, with the gate and what was undone)" sh -c "grep -q 'id=\"aborts\"' '$WORK/report.html' && grep -q 'failure_threshold' '$WORK/report.html' && grep -q 'switched back: 2/2' '$WORK/report.html'"
rc --json log --aborts > "$WORK/aborts.json" 2>&1
expect_exit 0 "report --json has the verdicts and the aborts" rc report --json
check "(the aborts are log --aborts --json's, the verdicts carry score and metrics)" python3 -c "
import json,sys; r=json.load(open(sys.argv[1])); log=json.load(open(sys.argv[2]))
assert len(log)==6 and r['aborts']==log, (r['aborts'], log)
assert all(a['audit'] and a['gate'] for a in r['aborts']), r['aborts']
v=r['verdicts']; assert v and all('score' in x and isinstance(x['metrics'], list) for x in v), v
assert [x['seq'] for x in v]==sorted(x['seq'] for x in v), v
assert v[0]['gate']=='failure_threshold' and v[0]['verdict']=='fail' and v[0]['score'] is None and v[0]['metrics']==[], v[0]
assert {'error_rate','gate_query'} <= {x['gate'] for x in v}, v" "$WORK/last.out" "$WORK/aborts.json"

# ---- a release yanked while it rolls out goes no further ----------------
cp "$WORK/base.ini" ripcord.ini
back
release v3
expect_exit 0 "(a manual rollout of v3: step 1 bakes, then it pauses)" rc rollout start v3 --manual
check "(web-1 runs v3)" test "$(runs)" = "v3 v1"
expect_exit 0 "(v3 is yanked meanwhile)" rc releases yank v3 --reason "leaks memory"
expect_exit 1 "promote of a release yanked since fails its step" rc rollout promote
err_has "saying it is yanked" "yanked"
check "and every target is back on v1" test "$(runs)" = "v1 v1"
rc --json log --aborts -n 1 > "$WORK/yank.json" 2>&1
check "the aborts ledger names the gate" python3 -c "
import json,sys; v=json.load(open(sys.argv[1])); assert v[-1]['gate']=='yanked' and v[-1]['release']=='v3', v" "$WORK/yank.json"

# ---- a gate_command that cannot start is a failed step, not "cannot judge"
# (a missing file is refused with the config, exit 2; one whose #! names
# no interpreter, or not executable, is found only when it runs)
cp "$WORK/base.ini" ripcord.ini
back
printf '#!/no/such/sh\nexit 0\n' > hooks/nogate && chmod +x hooks/nogate
printf 'gate_command = hooks/nogate\ninconclusive = pass\n' >> ripcord.ini
expect_exit 1 "a gate_command that cannot start aborts, even with inconclusive = pass" rc rollout start v2
err_has "naming the path and why" "gate_command: cannot run hook '$repo/hooks/nogate': No such file or directory"
check "(no 'cannot judge', no 'goes on without it')" sh -c "! grep -q 'cannot judge\|goes on without it' '$WORK/last.err'"
check "every target is back on v1" test "$(runs)" = "v1 v1"
rc --json log --aborts -n 1 > "$WORK/nogate.json" 2>&1
check "the aborts ledger names gate_command" python3 -c "
import json,sys; v=json.load(open(sys.argv[1])); assert v[-1]['gate']=='gate_command' and 'No such file' in v[-1]['reason'], v" "$WORK/nogate.json"
back
db=.ripcord/state.db
lost=$(sqlite3 $db "SELECT max(seq) FROM audit WHERE command LIKE '%rollout start v2'")
sleep 2  # the next rollout starts in a later second than this abort's entry
chmod -x hooks/nogate
expect_exit 1 "one that is not executable aborts too" rc rollout start v2
err_has "naming the path and why" "gate_command: cannot run hook '$repo/hooks/nogate': Permission denied"
check "every target is back on v1" test "$(runs)" = "v1 v1"

# ---- log --aborts: an abort whose command left no audit entry ----------
# (its process killed midway: here its entry is deleted, which log --verify
# would report, as it should) gets none, not the next abort's
last=$(sqlite3 $db "SELECT max(seq) FROM audit WHERE command LIKE '%rollout start v2'")
sqlite3 $db "DELETE FROM audit WHERE seq = $lost"
expect_exit 0 "log --aborts --json with an entry lost" rc --json log --aborts -n 2
check "the abort that lost it has none; the next has its own" python3 -c "
import json,sys; v=json.load(open(sys.argv[1]))
assert v[0]['gate']=='gate_command' and v[0]['audit'] is None, v[0]
assert v[1]['audit'] and v[1]['audit']['seq']==$last, v[1]" "$WORK/last.out"
done_testing
