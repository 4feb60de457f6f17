#!/usr/bin/env bash
# `ripcord rollout` end to end: four targets on loopback, each with a real
# server answering its current release's health.conf. A healthy release is
# promoted 1, 2, 4 targets at a time with every bake honoured; an undrilled
# one is refused; a release answering 500, one answering in 800 ms and one
# that hangs are aborted at step 1 with every target back and the schema
# undone; --manual pauses after each step; a rollout killed with SIGKILL
# mid-bake is resumed; `rollback` preempts a rollout, `rollout abort` and
# SIGTERM abort it, and deploy is kept out while it runs. Every --json line
# is JSON and the last one says how it ended.
. "$(dirname "$0")/lib.sh"

# the quickstart's config without signing and with four targets, each
# activated by a hook that records which release reached which target
shop_fleet 4 "activate = hooks/activate"
# rollout_ini [key=value]...: ripcord.ini = the base, a short [rollout]
# and these overrides
rollout_ini() {
  cp "$WORK/base.ini" ripcord.ini
  printf '[rollout]\nsteps = 25%%, 50%%, 100%%\nbake = 1s\nprobe_interval = 500ms\nprobe_timeout = 1s\nmax_error_rate = 1%%\nmax_p99_ms = 1000\nmin_samples = 3\ncompare_baseline = no\nrequire_drill = yes\n' >> ripcord.ini
  local kv
  for kv in "$@"; do sed -i "s|^${kv%%=*} = .*|${kv%%=*} = ${kv#*=}|" ripcord.ini; done
}
rollout_ini
mkdir -p hooks && cat > hooks/activate <<'SH'
#!/bin/sh
echo "$RIPCORD_TARGET $RIPCORD_RELEASE" >> "$RIPCORD_ROOT/../activations.log"
SH
chmod +x hooks/activate

# release ID VERSION [health.conf lines]: commit, then cut release ID
release() {
  echo "$2" > VERSION
  printf 'status = 200\ndelay_ms = 0\n%b' "${3:-}" > health.conf
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1
}
release v1 1.0.0
printf 'ALTER TABLE orders ADD COLUMN note TEXT;\n' > db/migrations/0003_add_note.up.sql
printf 'ALTER TABLE orders DROP COLUMN note;\n' > db/migrations/0003_add_note.down.sql
release v2 2.0.0
# (its up leaves a row behind, so the test sees that it ran)
printf "CREATE TABLE refunds (id INTEGER PRIMARY KEY);\nINSERT INTO orders (item) VALUES ('v3 was here');\n" > db/migrations/0004_refunds.up.sql
printf 'DROP TABLE refunds;\n' > db/migrations/0004_refunds.down.sql
release v3 3.0.0 'status = 500\n'
git rm -q db/migrations/0004_refunds.*
release v4 4.0.0 'delay_ms = 800\n'
release v5 5.0.0 'delay_ms = 600000\n'
release v6 6.0.0
release v7 7.0.0
release v8 8.0.0
check "eight releases cut" test "$(rc releases | grep -cE '^v[1-8] ')" -eq 8

# nothing serves yet: the deploy's closing probes fail (issue 15), exit 1
expect_exit 1 "deploy v1 to the four targets (nothing serves yet)" rc deploy v1
check "... every target switched" sh -c "grep -c '^web-[1-4] .* v1 .*connection refused\$' '$WORK/last.out' | grep -qx 4"
# servers answer from whatever each target's current release says
serve() { python3 "$1/current/server.py" "$2" "$1/current" >/dev/null 2>&1 & echo $!; }
pids=""
for i in 1 2 3 4; do pids="$pids $(serve targets/web-$i $((port1 + i - 1)))"; done
trap 'kill $pids 2>/dev/null; rm -rf "$WORK"' EXIT
answers() { local _; for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.1; done; return 1; }
for i in 1 2 3 4; do check "(web-$i's server answers)" answers $((port1 + i - 1)); done

# runs: where every target's current points, in target order
runs() { local i s=""; for i in 1 2 3 4; do s="$s $(readlink targets/web-$i/current | sed 's|releases/||')"; done; echo "${s# }"; }
all_on() { test "$(runs)" = "$1 $1 $1 $1"; }
# json_ok FILE ENDS...: every line of FILE is a JSON object with an event,
# and the last event is one of ENDS
json_ok() {
  python3 - "$@" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, 'no output'
ev = [json.loads(l) for l in lines]
assert all(isinstance(e, dict) and 'event' in e for e in ev), ev
assert ev[-1]['event'] in sys.argv[2:], ev[-1]
PY
}
# st EXPR: python EXPR over d = `rollout status --json`'s rollout is true
st() {
  "$RIPCORD" --json rollout status 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)['rollout']
sys.exit(0 if ($1) else 1)"
}
# wait_for EXPR: until st EXPR holds (gives up after 60 s); one poller,
# so it sees a state within a status call of its start, even on a busy
# machine
wait_for() {
  python3 - "$RIPCORD" "$1" <<'PY'
import json, subprocess, sys, time
end = time.monotonic() + 60
while time.monotonic() < end:
    p = subprocess.run([sys.argv[1], '--json', 'rollout', 'status'],
                       capture_output=True, text=True)
    d = json.loads(p.stdout)['rollout'] if p.stdout.strip() else None
    if d and eval(sys.argv[2]):
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
}
# bg_start NAME ARGS...: `ripcord --json rollout start ARGS` in the
# background, its events in $WORK/NAME.out and its stderr in NAME.err
bg_start() {
  local name=$1; shift
  "$RIPCORD" --json rollout start "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  bgpid=$!
  pids="$pids $bgpid"
}
# bg_exit CODE "description" NAME: the background rollout ends with CODE
bg_exit() {
  local got=0
  # (quietly: bash would report a SIGKILL on stderr)
  { wait "$bgpid"; } 2>/dev/null || got=$?
  if [ "$got" -eq "$1" ]; then ok "$2"; else
    not_ok "$2 (exit $got, expected $1)" "$(cat "$WORK/$3.out" "$WORK/$3.err")"; fi
}

# ---- before any rollout -----------------------------------------------
expect_exit 0 "rollout -h" rc rollout -h
expect_exit 0 "rollout status with no rollout" rc rollout status
check "says no rollout" grep -qx "no rollout" "$WORK/last.out"
expect_exit 0 "--json rollout status with no rollout" rc --json rollout status
check "is {\"rollout\": null}" python3 -c "import json; assert json.load(open('$WORK/last.out')) == {'rollout': None}"
expect_exit 1 "rollout abort with no rollout" rc rollout abort
err_has "says there is none" "no rollout in progress"
expect_exit 1 "rollout resume with nothing to resume" rc rollout resume

# ---- refusals before anything changes -----------------------------------
expect_exit 1 "an undrilled release is refused" rc rollout start v2
err_has "telling to drill it" "ripcord drill v2"
expect_exit 0 "drill the releases to roll out" rc -q drill v2 v4 v5 v6 v7 v8
expect_exit 2 "a bad --bake is a usage error" rc rollout start v2 --bake soon
expect_exit 2 "a bad --steps is a usage error" rc rollout start v2 --steps lots
sed "/:$((port1 + 3))\/healthz/d" ripcord.ini > nohealth.ini
expect_exit 2 "a target without a health URL is a configuration error" rc -c nohealth.ini rollout start v2
err_has "naming it" "target 'web-4'"
check "nothing switched, nothing migrated" sh -c "test \"\$(sqlite3 var/shop.db 'SELECT count(*) FROM ripcord_migrations')\" = 2 && ! grep -q ' v2' targets/activations.log"
check "(all four run v1)" all_on v1

# ---- 1. a healthy release, promoted through every step -------------------
expect_exit 0 "1. rollout of the healthy v2" rc --json rollout start v2
check "every target runs v2" all_on v2
check "the schema is migrated (3 migrations)" test "$(sqlite3 var/shop.db 'SELECT count(*) FROM ripcord_migrations')" = 3
check "--json: every line is an event, the last one complete" json_ok "$WORK/last.out" complete
cp "$WORK/last.out" "$WORK/v2.json"
check "the events: start, steps of 1, 2, 4 canaries, promoted, complete" python3 - "$WORK/v2.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
s = ev[0]
assert s['event'] == 'start' and s['release'] == 'v2' and s['previous'] == 'v1', s
assert [x['percent'] for x in s['steps']] == [25, 50, 100], s
assert s['bake_ms'] == 1000 and s['manual'] is False, s
steps = [e for e in ev if e['event'] == 'step']
assert [(e['step'], e['of'], e['percent']) for e in steps] == [(1, 3, 25), (2, 3, 50), (3, 3, 100)], steps
assert [len(e['canaries']) for e in steps] == [1, 2, 4], steps
assert [e['targets'] for e in steps] == [['web-1'], ['web-2'], ['web-3', 'web-4']], steps
assert {1, 2} <= {e['step'] for e in ev if e['event'] == 'promoted'}, ev
assert ev[-1]['release'] == 'v2', ev[-1]
assert not [e for e in ev if e['event'] in ('aborting', 'aborted', 'paused')], ev
PY
check "each step's bake is honoured before the next step" python3 - "$WORK/v2.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
bake = ev[0]['bake_ms']
step, rounds = None, []
def done(step, rounds):
    assert rounds, 'step %s had no round' % step
    assert all(r['step'] == step for r in rounds), rounds
    assert max(r['elapsed_ms'] for r in rounds) >= bake, (step, rounds)
    assert rounds[-1]['verdict'] == 'pass', rounds[-1]
for e in ev:
    if e['event'] in ('step', 'complete'):
        if step is not None:
            done(step, rounds)
        step, rounds = e.get('step'), []
    elif e['event'] == 'round':
        rounds.append(e)
assert step is None, 'no complete after the last step'
PY
check "the round events carry the canary and the baseline" python3 -c "
import json
r = [json.loads(l) for l in open('$WORK/v2.json') if '\"round\"' in l]
a = [x for x in r if x['step'] == 1][-1]
assert a['canary']['probes'] >= 1 and a['canary']['errors'] == 0 and a['canary']['error_rate'] == 0, a
assert a['baseline']['probes'] >= 3 and a['baseline']['errors'] == 0, a
assert a['left_ms'] >= 0 and a['of'] == 3, a"
expect_exit 0 "status after it" rc rollout status
check "says completed" grep -q "^last rollout of v2 (from v1): completed" "$WORK/last.out"

# ---- 2. an undrilled release -------------------------------------------
: > targets/activations.log
expect_exit 1 "2. the undrilled v3 is refused" rc rollout start v3
err_has "telling to drill it" "ripcord drill v3"
check "nothing switched" all_on v2
check "no hook ran" test ! -s targets/activations.log
check "nothing migrated" test "$(sqlite3 var/shop.db 'SELECT count(*) FROM ripcord_migrations')" = 3
expect_exit 0 "drill v3 (its health is not the drill's business)" rc -q drill v3

# ---- 3. a release answering 500 -----------------------------------------
expect_exit 1 "3. the rollout of v3 (HTTP 500) fails (abort: --schema-down)" rc rollout start v3 --schema-down
check "aborted at step 1 by the error-rate gate, naming web-1 and the numbers" grep -qE "step 1/3: canary error rate 100(\.0)?% .*> max_error_rate 1(\.0)?% \(web-1: [0-9]+ of [0-9]+ probes failed, HTTP 500\)" "$WORK/last.err"
check "it never reached step 2" sh -c "! grep -q 'step 2/3' '$WORK/last.err'"
check "every target runs v2 again" all_on v2
check "only web-1 ever received v3" sh -c "grep -qx 'web-1 v3' targets/activations.log && test \"\$(grep -c ' v3\$' targets/activations.log)\" = 1"
check "web-1 was activated back on v2" grep -qx "web-1 v2" targets/activations.log
check "v3's up ran (step 1)" test "$(sqlite3 var/shop.db "SELECT count(*) FROM orders WHERE item = 'v3 was here'")" = 1
check "and its down undid it" sh -c "test \"\$(sqlite3 var/shop.db 'SELECT count(*) FROM ripcord_migrations')\" = 3 && ! sqlite3 var/shop.db .tables | grep -qw refunds"
check "the rollback's table is on stdout" grep -qE "^web-1 .*v3 .*v2 .*ok" "$WORK/last.out"
check "web-1 serves v2" test "$(curl -s "http://127.0.0.1:$port1/")" = 2.0.0
expect_exit 0 "status after it" rc rollout status
check "says aborted, with its reason" grep -q "^last rollout of v3 (from v2): aborted.*max_error_rate" "$WORK/last.out"
expect_exit 0 "a rollback now would go back to v1, never forward to the aborted v3" rc rollback --dry-run
check "(its plan switches all four to v1)" test "$(grep -cE '^switch .*web-[1-4].*v1' "$WORK/last.out")" = 4

# the same release judged by the baseline comparison alone: the canary is
# compared once it has min_samples probes, and its errors are significant
rollout_ini compare_baseline=yes min_samples=5 max_error_rate=100%
printf 'failure_threshold = 100\n' >> ripcord.ini   # no fast path either
expect_exit 1 "3b. v3 against the baseline (no absolute error gate) fails" rc --json rollout start v3 --schema-down
check "--json: every line is an event, the last one aborted" json_ok "$WORK/last.out" aborted
check "inconclusive until min_samples, then failed by the comparison" python3 - "$WORK/last.out" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
r = [e for e in ev if e['event'] == 'round']
assert r and all(e['step'] == 1 for e in r), r
assert all(e['verdict'] == 'inconclusive' for e in r if e['canary']['probes'] < 5), r
assert r[0]['verdict'] == 'inconclusive', r[0]
assert r[-1]['verdict'] == 'fail' and r[-1]['canary']['probes'] >= 5, r[-1]
assert r[-1]['baseline']['probes'] >= 5 and r[-1]['baseline']['errors'] == 0, r[-1]
a = [e for e in ev if e['event'] == 'aborting']
assert len(a) == 1 and a[0]['gate'] == 'baseline_errors' and a[0]['target'] == 'web-1', a
assert 'above baseline' in a[0]['message'], a
assert ev[-1]['release'] == 'v2' and ev[-1]['ok'] is True, ev[-1]
PY
check "every target runs v2 again" all_on v2
check "v3's up ran again, and its down" sh -c "test \"\$(sqlite3 var/shop.db \"SELECT count(*) FROM orders WHERE item = 'v3 was here'\")\" = 2 && test \"\$(sqlite3 var/shop.db 'SELECT count(*) FROM ripcord_migrations')\" = 3 && ! sqlite3 var/shop.db .tables | grep -qw refunds"

# ---- 4. a release answering in 800 ms ----------------------------------
# probes of 2 s so an 800 ms answer is slow, not a timeout
rollout_ini probe_interval=2s probe_timeout=2s max_p99_ms=300
expect_exit 1 "4. the rollout of v4 (800 ms) fails" rc --json rollout start v4
check "--json: every line is an event, the last one aborted" json_ok "$WORK/last.out" aborted
check "aborting names the p99 gate, web-1 and the numbers" python3 - "$WORK/last.out" <<'PY'
import json, re, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
a = [e for e in ev if e['event'] == 'aborting']
assert len(a) == 1 and a[0]['step'] == 1 and a[0]['target'] == 'web-1', a
assert 'p99' in a[0]['gate'], a
m = re.search(r'step 1/3: canary p99 ([0-9.]+) ms > max_p99_ms 300 \(web-1: p99 ([0-9.]+) ms\)', a[0]['message'])
assert m and float(m.group(1)) >= 800 and float(m.group(2)) >= 800, a
d = ev[-1]
assert d['release'] == 'v2' and d['ok'] is True, d
assert {t['target'] for t in d['targets']} >= {'web-1'}, d
PY
check "every target runs v2 again" all_on v2
rollout_ini

# ---- 5. a release whose health endpoint hangs ----------------------------
expect_exit 1 "5. the rollout of v5 (hangs) fails, and returns" timeout 60 "$RIPCORD" rollout start v5
check "aborted by the error-rate gate on web-1" sh -c "grep -q 'max_error_rate' '$WORK/last.err' && grep -q 'web-1' '$WORK/last.err'"
check "every target runs v2 again" all_on v2

# ---- 6. --manual ---------------------------------------------------------
expect_exit 0 "6. rollout start v6 --manual pauses after step 1" rc rollout start v6 --manual
err_has "announces its steps" "rollout of v6 from v2: 3 steps (1, 2, 4 of 4 targets)"
err_has "and its switches" "step 1/3 (25%): switching web-1 to v6"
check "web-1 runs v6, the others v2" test "$(runs)" = "v6 v2 v2 v2"
expect_exit 0 "rollout status" rc rollout status
check "says paused, step 1/3" grep -q "^rollout of v6 (from v2): paused, step 1/3" "$WORK/last.out"
check "--json: paused at 1/3, baked, pass" st "d['state'] == 'paused' and d['step'] == 1 and d['steps'] == 3 and not d['interrupted'] and d['canary']['probes'] >= 1 and d['canary']['errors'] == 0 and d['verdict'] == 'pass' and d['targets'] == {'web-1': 'v6', 'web-2': 'v2', 'web-3': 'v2', 'web-4': 'v2'}"
expect_exit 1 "resume is not for a paused rollout" rc rollout resume
err_has "it says to promote or abort" "promote"
expect_exit 0 "rollout promote: step 2" rc rollout promote
check "web-1 and web-2 run v6" test "$(runs)" = "v6 v6 v2 v2"
expect_exit 0 "rollout status" rc rollout status
check "says paused, step 2/3" grep -q "^rollout of v6 (from v2): paused, step 2/3" "$WORK/last.out"
expect_exit 0 "rollout promote: the last step completes" rc rollout promote
check "every target runs v6" all_on v6
expect_exit 0 "rollout status" rc rollout status
check "says completed" grep -q "^last rollout of v6 (from v2): completed" "$WORK/last.out"

# ---- 7. SIGKILL mid-bake, then resume ----------------------------------
bg_start kill v7 --bake 3s
check "7. the rollout of v7 reaches step 2's bake" wait_for "d['state'] == 'running' and d['step'] == 2 and d['phase'] == 'baking' and d['pid'] == $bgpid"
kill -9 "$bgpid"
bg_exit 137 "it is killed with SIGKILL" kill
expect_exit 5 "rollout status exits 5" rc rollout status
check "and says interrupted, and what to do" sh -c "grep -qi 'interrupted' '$WORK/last.out' && grep -q 'ripcord rollout resume' '$WORK/last.out'"
check "--json says interrupted, at step 2" st "d['interrupted'] and d['step'] == 2 and d['release'] == 'v7'"
expect_exit 5 "a new rollout is refused while one is interrupted" rc rollout start v8
err_has "saying what to do" "ripcord rollout resume"
expect_exit 0 "rollout resume completes it" rc rollout resume
check "every target runs v7" all_on v7
expect_exit 0 "status says completed" rc rollout status
check "(completed)" grep -q "^last rollout of v7 (from v6): completed" "$WORK/last.out"
expect_exit 0 "the audit log's chain is intact" rc log --verify

# ---- 8. rollback preempts a rollout ------------------------------------
bg_start preempt v8 --bake 60s
check "8. the rollout of v8 bakes step 1" wait_for "d['state'] == 'running' and d['step'] == 1 and d['phase'] == 'baking'"
expect_exit 0 "ripcord rollback while it bakes" rc rollback
check "every target runs v7 again" all_on v7
bg_exit 1 "the rollout exits 1" preempt
check "saying it was preempted" grep -q "preempted by 'ripcord rollback'" "$WORK/preempt.err"
check "--json: every line is an event, the last one preempted" json_ok "$WORK/preempt.out" preempted
check "it switched nothing after the rollback" all_on v7
expect_exit 0 "rollout status" rc rollout status
check "says preempted" grep -q "^last rollout of v8 (from v7): preempted" "$WORK/last.out"

# ---- 9 and 11. rollout abort from another shell; deploy kept out ----------
bg_start abort v8 --bake 60s
check "9. the rollout of v8 bakes step 1" wait_for "d['state'] == 'running' and d['step'] == 1 and d['phase'] == 'baking'"
expect_exit 0 "ripcord status" rc status
check "shows the rollout" grep -q "rollout: v8 step 1/3 running" "$WORK/last.out"
expect_exit 4 "11. a deploy during the rollout is refused" rc deploy v8
err_has "naming the rollout" "a rollout of v8 is in progress (step 1/3, pid $bgpid)"
expect_exit 4 "so is a second rollout" rc rollout start v8
check "web-1 runs v8, the others v7" test "$(runs)" = "v8 v7 v7 v7"
expect_exit 0 "ripcord rollout abort" rc rollout abort
bg_exit 1 "the rollout exits 1" abort
check "every target runs v7 again" all_on v7
check "--json: every line is an event, the last one aborted" json_ok "$WORK/abort.out" aborted

# ---- 10. SIGTERM --------------------------------------------------------
bg_start term v8 --bake 60s
check "10. the rollout of v8 bakes step 1" wait_for "d['state'] == 'running' and d['step'] == 1 and d['phase'] == 'baking'"
kill -TERM "$bgpid"
bg_exit 1 "SIGTERM: it exits 1" term
check "every target runs v7 again" all_on v7
check "--json: every line is an event, the last one aborted" json_ok "$WORK/term.out" aborted
expect_exit 0 "rollout status" rc rollout status
check "says aborted, interrupted" sh -c "grep -q '^last rollout of v8 (from v7): aborted' '$WORK/last.out' && grep -q 'interrupted' '$WORK/last.out'"
check "--json: aborted, the reason says SIGTERM" st "d['state'] == 'aborted' and 'interrupted by SIGTERM' in d['reason']"
expect_exit 0 "a deploy works again" rc deploy v8
check "every target runs v8" all_on v8
expect_exit 0 "and the audit log's chain is intact" rc log --verify

done_testing
