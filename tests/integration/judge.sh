#!/usr/bin/env bash
# The canary judge (Kayenta's) end to end, against real loopback servers
# whose health answers take the time their release's health.conf says,
# with jitter: a canary a few milliseconds slower than its baseline, within
# effect_tolerance, is promoted; a canary ten times slower is aborted by
# the latency comparison, and the numbers that decided (samples, U,
# p-value, Hodges-Lehmann shift, ratio, score) are in `rollout status
# --json`, in the report and in state.db's verdicts table; the same small
# difference under a tolerance of 2% is aborted, so it was the tolerance
# that let it pass.
. "$(dirname "$0")/lib.sh"

shop_fleet 4
cat "$WORK/base.ini" > ripcord.ini
cat >> ripcord.ini <<'INI'
[rollout]
steps = 50%, 100%
bake = 2s
probe_interval = 100ms
probe_timeout = 1s
max_error_rate = 1%
max_p99_ms = 2000
min_samples = 10
compare_baseline = yes
require_drill = no
INI
cp ripcord.ini "$WORK/judge.ini"

# a health server that answers after delay_ms +- jitter_ms (uniform), as
# the health.conf of the release its target runs says
cat > "$WORK/jitter.py" <<'PY'
import http.server, os, random, sys, time
root = sys.argv[2]
def conf():
    v = {"delay_ms": "0", "jitter_ms": "0"}
    try:
        for line in open(os.path.join(root, "health.conf")):
            if "=" in line:
                k, x = line.split("=", 1)
                v[k.strip()] = x.strip()
    except OSError:
        pass
    return float(v["delay_ms"]), float(v["jitter_ms"])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        d, j = conf()
        time.sleep(max(0.0, d + random.uniform(-j, j)) / 1000)
        self.send_response(200); self.send_header("Content-Length", "3")
        self.end_headers(); self.wfile.write(b"ok\n")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY

release() { # ID DELAY_MS JITTER_MS
  printf '%s\n' "$1" > VERSION
  printf 'status = 200\ndelay_ms = %s\njitter_ms = %s\n' "$2" "$3" > health.conf
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1
}
release v1 40 4
release v2 44 4      # 4 ms (10%) slower: noise a user would not notice
release v3 400 4     # ten times slower
release v4 48 4      # 4 ms slower than v2
check "four releases cut" test "$(rc releases | grep -cE '^v[1-4] ')" -eq 4
expect_exit 1 "deploy v1 (its closing probes fail: nothing serves yet)" rc deploy v1
check "and every target runs v1" sh -c "for i in 1 2 3 4; do [ \"\$(readlink targets/web-\$i/current)\" = releases/v1 ] || exit 1; done"
pids=""
for i in 1 2 3 4; do
  python3 "$WORK/jitter.py" $((port1 + i - 1)) "$repo/targets/web-$i/current" >/dev/null 2>&1 &
  pids="$pids $!"
done
trap 'kill $pids 2>/dev/null; rm -rf "$WORK"' EXIT
for i in 1 2 3 4; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$((port1 + i - 1))/healthz" && break; sleep 0.1; done
done
runs() { local i s=""; for i in 1 2 3 4; do s="$s $(readlink targets/web-$i/current | sed 's|releases/||')"; done; echo "${s# }"; }
# st PYTHON: the python expression over d = `rollout status --json`'s
# rollout holds
st() {
  "$RIPCORD" --json rollout status > "$WORK/status.json" 2>/dev/null
  python3 - "$WORK/status.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))['rollout']
lat = lambda m: [x for x in m if x['metric'] == 'latency'][0]
err = lambda m: [x for x in m if x['metric'] == 'errors'][0]
assert eval('(' + sys.argv[2] + ')'), json.dumps(d, indent=1)
PY
}

# ---- 1. noisy but healthy: promoted ------------------------------------
expect_exit 0 "1. v2, 4 ms slower with jitter, is promoted" rc rollout start v2
check "every target runs v2" test "$(runs)" = "v2 v2 v2 v2"
check "status --json: step 1 was compared and passed with score 100" st "
[v for v in d['verdicts'] if v['step'] == 1 and v['final']][-1]['verdict'] == 'pass' and
[v for v in d['verdicts'] if v['step'] == 1 and v['final']][-1]['score'] == 100"
check "with the latency numbers: a shift of a few ms, under the 20% tolerance" st "
(lambda m: m['classification'] == 'pass' and 1 < m['hl_ms'] < 8 and m['ratio'] < 1.2
 and m['canary_n'] >= 8 and m['baseline_n'] >= 8 and m['u'] >= 0 and 0 <= m['p_value'] <= 1
 and m['effect_tolerance'] == 0.2 and m['test'] == 'mann-whitney')(lat(d['verdicts'][0]['metrics']))"
check "and the errors metric (none on either side)" st "
(lambda m: m['classification'] == 'pass' and m['canary_rate'] == 0 and m['baseline_rate'] == 0
 and m['weight'] == 50)(err(d['verdicts'][0]['metrics']))"
check "the last step (no baseline left) is not compared" st "
not [v for v in d['verdicts'] if v['step'] == 2]"

# ---- 2. ten times slower: aborted with the numbers -----------------------
expect_exit 1 "2. v3, ten times slower, is aborted" rc --json rollout start v3
check "every target is back on v2" test "$(runs)" = "v2 v2 v2 v2"
check "aborted by the latency comparison" python3 -c "
import json, sys
a = [e for e in map(json.loads, open('$WORK/last.out')) if e['event'] == 'aborting']
assert len(a) == 1 and a[0]['gate'] == 'baseline_latency', a"
check "the reason has the shift, U, p and the score" grep -qE 'canary slower than baseline: median [0-9.]+ ms vs [0-9.]+ ms, shift \+[0-9.]+ ms \(ratio [0-9.]+\), mann-whitney U [0-9.]+, p [0-9.e-]+ < alpha 0.05; score 50 < marginal_score 75' "$WORK/last.err"
check "status --json: aborted, the figures carry the judge" st "
d['state'] == 'aborted' and d['judge']['score'] == 50 and d['judge']['pass_score'] == 95
and d['judge']['marginal_score'] == 75 and d['judge']['confidence'] == 0.95
and lat(d['judge']['metrics'])['classification'] == 'high'"
check "status --json: the verdict row, with samples, U, p, shift and ratio" st "
(lambda v, m: v['verdict'] == 'fail' and v['gate'] == 'baseline_latency' and v['score'] == 50
 and v['step'] == 1 and v['final'] and m['classification'] == 'high'
 and m['canary_n'] >= 8 and m['baseline_n'] >= 8 and m['u'] == m['canary_n'] * m['baseline_n']
 and m['p_value'] < 0.001 and m['hl_ms'] > 300 and m['ratio'] > 5
 and m['canary_median_ms'] > 300 and m['baseline_median_ms'] < 100)(d['verdicts'][-1], lat(d['verdicts'][-1]['metrics']))"
expect_exit 0 "rollout status" rc rollout status
check "shows the judge's numbers under the abort" grep -qE '^  judge:    score 50 \(pass 95, marginal 75\): latency high \(shift \+[0-9.e+]+ ms, ratio [0-9.]+, p [0-9.e-]+\), errors pass \(p 1\)$' "$WORK/last.out"
check "state.db's verdicts table has the fail" test "$(sqlite3 .ripcord/state.db "SELECT v.verdict, v.gate, v.score, json_extract(v.metrics, '\$[0].classification') FROM verdicts v JOIN rollouts r ON r.seq = v.rollout WHERE r.release = 'v3'")" = "fail|baseline_latency|50.0|high"
expect_exit 0 "report" rc report -o "$WORK/report.html"
check "the report's judge section shows the abort and its numbers" python3 - "$WORK/report.html" <<'PY'
import re, sys
h = open(sys.argv[1]).read()
s = h[h.index('<section id="judge">'):]
s = s[:s.index('</section>')]
rows = re.findall(r'<tr>.*?</tr>', s, re.S)
fail = [r for r in rows if '<code>v3</code>' in r]
assert fail, s
r = fail[0]
assert 'fail (baseline_latency)' in r and '>50<' in r, r
assert re.search(r'<b>latency</b> <span class="bad">high</span> \(weight 50\): shift \+[0-9.]+ ms \(ratio [0-9.]+, tolerance 20%\)', r), r
assert re.search(r'U [0-9]+, p [0-9.e-]+ \(alpha 0.05, mann-whitney\), n [0-9]+/[0-9]+', r), r
assert [r for r in rows if '<code>v2</code>' in r and '>pass<' in r and '>100<' in r], rows
PY
expect_exit 0 "report --json" rc report --json
check "has the judge's verdicts with score and metrics, and the abort" python3 - "$WORK/last.out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v = [x for x in r['verdicts'] if x['release'] == 'v3']
assert len(v) == 1 and v[0]['verdict'] == 'fail' and v[0]['gate'] == 'baseline_latency', v
assert v[0]['score'] == 50 and v[0]['final'] and v[0]['step'] == 1, v
m = {x['metric']: x for x in v[0]['metrics']}
assert m['latency']['classification'] == 'high' and m['latency']['p_value'] < 0.001, m
assert m['latency']['u'] == m['latency']['canary_n'] * m['latency']['baseline_n'], m
assert m['errors']['classification'] == 'pass', m
assert [x for x in r['verdicts'] if x['release'] == 'v2' and x['verdict'] == 'pass' and x['score'] == 100], r['verdicts']
a = r['aborts']
assert len(a) == 1 and a[0]['release'] == 'v3' and a[0]['gate'] == 'baseline_latency', a
assert 'rollout start v3' in a[0]['audit']['command'], a
PY

# ---- 3. the tolerance decided: 2% makes the same small shift abort --------
sed -i 's/^require_drill = no/require_drill = no\neffect_tolerance = 2%\neffect_min_ms = 1/' ripcord.ini
expect_exit 1 "3. v4, 4 ms slower, with effect_tolerance = 2% is aborted" rc rollout start v4
err_has "by the latency comparison" "canary slower than baseline"
check "every target is back on v2" test "$(runs)" = "v2 v2 v2 v2"
check "the row says the tolerance it was judged by" test "$(sqlite3 .ripcord/state.db "SELECT json_extract(v.metrics, '\$[0].effect_tolerance') FROM verdicts v JOIN rollouts r ON r.seq = v.rollout WHERE r.release = 'v4'")" = 0.02

# ---- config: the judge's keys are checked --------------------------------
cp "$WORK/judge.ini" ripcord.ini
printf 'pass_score = 70\nmarginal_score = 80\n' >> ripcord.ini
expect_exit 2 "marginal_score above pass_score is refused" rc rollout status
err_has "naming both" "marginal_score 80 is above pass_score 70"
cp "$WORK/judge.ini" ripcord.ini
printf 'latency_weight = 0\nerrors_weight = 0\n' >> ripcord.ini
expect_exit 2 "two zero weights are refused" rc rollout status
err_has "saying why" "nothing to score"
cp "$WORK/judge.ini" ripcord.ini
printf 'confidence = 100%%\n' >> ripcord.ini
expect_exit 2 "confidence 100% is refused" rc rollout status
err_has "saying what fits" "confidence must be above 0% and below 100%"

done_testing
