#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# rollout.sh: `ripcord rollout` across four lab hosts over ssh
# (tests/fleet/lib.sh), each answering its health URL from inside its own
# network namespace: a small HTTP server there serves /srv/www, whose
# healthz the activate hook rewrites with the release id, and answers 500
# to everything while /srv/www/broken exists (the hook of a release that
# carries a BROKEN file makes it; every other release's hook removes it).
#   1. v2 in steps of 25%, 50%, 100%: during step 1's bake exactly one host
#      (web-1) has its current link on v2, the others on v1; it completes
#      with every host on v2; `rollout status` and `status` agree;
#   2. the broken v3 is aborted at step 1 by the error-rate gate naming
#      web-1: exit 1, every host back on v2 (their links), host1's activate
#      ran again for v2 and its health answers 200 again;
#   3. host2 hangs (SIGSTOP of everything on it) while step 2 of v4 bakes,
#      host2 being a canary: the rollout must not claim success; ripcord
#      aborts (the error-rate gate, naming web-2), cannot put host2 back,
#      says the rollback failed and names the command that finishes it,
#      exit 1; once host2 resumes, that command converges with every host
#      on v2, whole;
#   4. host4 hangs while step 2 of v5 bakes, host4 being in the baseline:
#      step 3 cannot switch it, so ripcord aborts (gate switch, naming
#      web-4, which it did not change), exit 1, every host on v2; once
#      host4 resumes, status owes nothing and a rollback --to v2 is whole.
. "$(dirname "$0")/lib.sh"

N=4
fleet_up "$N"
ok "fleetlab up: $N hosts in $LAB_NET.0/24 (lab $LAB_ID)"
fleet_shop
# the BROKEN marker: made or removed by every activate, in the release's
# folder (the hook's working directory)
cat >>hooks/activate <<-'EOF'
if [ -f BROKEN ]; then : >/srv/www/broken; else rm -f /srv/www/broken; fi
EOF
fleet_ini "$N"
# short bakes: probes every 250 ms, each bounded by 1 s; judged on the
# canaries alone (compare_baseline needs more probes than a test has time)
cat >>ripcord.ini <<-'EOF'

[rollout]
steps = 25%, 50%, 100%
bake = 2s
probe_interval = 250ms
probe_timeout = 1s
max_error_rate = 1%
max_p99_ms = 1000
min_samples = 3
compare_baseline = no
require_drill = no
EOF

# the health server of each host: http.server's files, but 500 while
# /srv/www/broken exists
cat >"$WORK/healthsrv.py" <<-'EOF'
import functools, http.server, os, sys
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists('/srv/www/broken'):
            self.send_response(500)
            self.send_header('Content-Length', '7')
            self.end_headers()
            self.wfile.write(b'broken\n')
            return
        super().do_GET()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], 8080),
    functools.partial(H, directory='/srv/www')).serve_forever()
EOF
serve() {
	local k=$1 i
	mkdir -p "$(fleet_srv "$k")/www"
	echo none >"$(fleet_srv "$k")/www/healthz"
	chown -R --reference="$(fleet_srv "$k")" "$(fleet_srv "$k")/www"
	fleet_exec "$k" setsid python3 "$WORK/healthsrv.py" "${HOST_IP[k]}" </dev/null >/dev/null 2>&1 &
	for (( i = 0; i < 100; i++ )); do
		curl -s -m 1 -o /dev/null "http://${HOST_IP[k]}:8080/healthz" && return 0
		sleep 0.1
	done
	echo "Bail out! no HTTP server in host$k"
	exit 1
}
for k in $(seq 1 "$N"); do serve "$k"; done

# release ID [BROKEN]: commit, then cut release ID; BROKEN: with the file
# that makes its activate break the host's health
release() {
	echo "$1" >VERSION
	rm -f BROKEN
	[ -z "${2:-}" ] || echo "this release's health answers 500" >BROKEN
	git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>"$WORK/cut.err" ||
		not_ok "cut $1" "$(cat "$WORK/cut.err")"
}
health() { curl -s -m 2 -w ' %{http_code}' "http://${HOST_IP[$1]}:8080/healthz"; }
# st EXPR: python EXPR over d = `rollout status --json`'s rollout holds
st() {
	rcx --json rollout status 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)['rollout']
sys.exit(0 if ($1) else 1)"
}
# wait_st SECONDS EXPR: until st EXPR holds, one poller (bounded)
wait_st() {
	python3 - "$RIPCORD" "$1" "$2" <<-'PY'
	import json, subprocess, sys, time
	end = time.monotonic() + float(sys.argv[2])
	while time.monotonic() < end:
	    p = subprocess.run([sys.argv[1], '--json', 'rollout', 'status'],
	                       capture_output=True, text=True, timeout=30)
	    d = json.loads(p.stdout)['rollout'] if p.stdout.strip() else None
	    if d and eval(sys.argv[3]):
	        sys.exit(0)
	    time.sleep(0.05)
	sys.exit(1)
	PY
}
# bg NAME ARGS...: `ripcord ARGS` in the background (bounded), its stdout
# in $WORK/NAME.out and its stderr in NAME.err; bg_wait: its exit code
# in $code (in this shell: the background job is its child)
bg() {
	local name=$1; shift
	timeout 120 "$RIPCORD" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	bgpid=$!
}
bg_wait() { code=0; { wait "$bgpid"; } 2>/dev/null || code=$?; }

release v1
release v2
release v3 broken
release v4
expect_exit 0 "deploy v1 to $N hosts" rcx deploy v1
check "every host runs v1 and answers v1" sh -c "test '$(runs)' = '$(all_on v1)' &&
	for k in \$(seq 1 $N); do test \"\$(curl -s -m 2 http://$LAB_NET.\$((k + 1)):8080/healthz)\" = v1 || exit 1; done"

# ---- 1. a healthy rollout, 25% -> 50% -> 100% ----------------------------
expect_exit 2 "--steps 25,50,100 (no %) is a usage error, as the man page says" \
	rcx rollout start v2 --steps 25,50,100 --bake 2s
check "(nothing switched)" test "$(runs)" = "$(all_on v1)"
bg v2 --json rollout start v2 --steps 25%,50%,100% --bake 5s
if wait_st 60 "d['release'] == 'v2' and d['state'] == 'running' and d['step'] == 1 and d['phase'] == 'baking'"; then
	ok "1. the rollout of v2 bakes step 1"
else
	not_ok "1. the rollout of v2 bakes step 1" "$(cat "$WORK/v2.out" "$WORK/v2.err")"
fi
# read at once, while step 1 bakes (5 s): what the hosts answer, then links
h1=$(curl -s -m 2 "http://${HOST_IP[1]}:8080/healthz") h2=$(curl -s -m 2 "http://${HOST_IP[2]}:8080/healthz")
step1=$(runs)
check "step 1 (25% of 4): web-1's link on host1 says v2, the other three v1 (got $step1)" \
	test "$step1" = "v2 v1 v1 v1"
check "rollout status --json agrees on each target while step 1 bakes" \
	st "d['step'] == 1 and d['steps'] == 3 and d['targets'] == {'web-1': 'v2', 'web-2': 'v1', 'web-3': 'v1', 'web-4': 'v1'}"
check "host1 answers v2, host2 still v1 (got $h1, $h2)" test "$h1" = v2 -a "$h2" = v1
bg_wait
check "the rollout of v2 completes: exit 0 (got $code)" test "$code" = 0
check "every host's link says v2" test "$(runs)" = "$(all_on v2)"
check "--json: steps of web-1, web-2, then web-3 and web-4; promoted twice; complete" python3 - "$WORK/v2.out" <<-'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
steps = [e for e in ev if e['event'] == 'step']
assert [e['targets'] for e in steps] == [['web-1'], ['web-2'], ['web-3', 'web-4']], steps
assert [len(e['canaries']) for e in steps] == [1, 2, 4], steps
assert [e['step'] for e in ev if e['event'] == 'promoted'] == [1, 2], ev
assert not [e for e in ev if e['event'] in ('aborting', 'aborted', 'paused')], ev
assert ev[-1]['event'] == 'complete' and ev[-1]['release'] == 'v2', ev[-1]
PY
for k in $(seq 1 "$N"); do
	check "host$k: activate ran for v2 (previous v1), its health answers v2" sh -c "
		tail -1 '$(srv "$k")/activate.log' | grep -q 'target=web-$k release=v2 dir=/srv/shop/releases/v2 previous=v1 ' &&
		test \"\$(curl -s -m 2 http://${HOST_IP[k]}:8080/healthz)\" = v2"
done
expect_exit 0 "rollout status: exit 0" rcx rollout status
check "rollout status says completed" grep -q "^last rollout of v2 (from v1): completed" "$WORK/last.out"
check "rollout status --json: completed, every target on v2" \
	st "d['state'] == 'completed' and not d['interrupted'] and d['targets'] == {'web-%d' % k: 'v2' for k in range(1, 5)}"
expect_exit 0 "status: exit 0" rcx status
for k in $(seq 1 "$N"); do
	check "status: web-$k runs v2, answers its health URL, recorded v2" grep -qE "^web-$k +v2 +ok [0-9]+ ms +v2 " "$WORK/last.out"
done
check "status flags no drift, nothing unreachable or pending" sh -c "! grep -qiE 'drift|unreachable|pending|interrupted' '$WORK/last.out'"
all_whole "1. after the rollout of v2"

# ---- 2. the broken v3 is aborted -----------------------------------------
for k in $(seq 1 "$N"); do before[k]=$(acts "$k"); done
start=$SECONDS
expect_exit 1 "2. the rollout of v3 (its activate breaks health: HTTP 500) is aborted: exit 1" \
	rcx rollout start v3 --steps 25%,50%,100% --bake 2s
check "2. bounded: it took $((SECONDS - start)) s" test $((SECONDS - start)) -le 30
check "aborted at step 1 by the error-rate gate, naming web-1 and HTTP 500" \
	grep -qE "step 1/3: canary error rate 100(\.0)?% .*> max_error_rate 1(\.0)?% \(web-1: [0-9]+ of [0-9]+ probes failed, HTTP 500\)" "$WORK/last.err"
check "it never reached step 2" sh -c "! grep -q 'step 2/3' '$WORK/last.err'"
check "it says every target is back on v2" grep -q "every target is back on v2" "$WORK/last.err"
check "every host's link says v2 again" test "$(runs)" = "$(all_on v2)"
check "only host1 ever ran v3's activate, then v2's (previous v3)" sh -c "
	tail -2 '$(srv 1)/activate.log' | head -1 | grep -q 'target=web-1 release=v3 .*previous=v2 ' &&
	tail -1 '$(srv 1)/activate.log' | grep -q 'target=web-1 release=v2 dir=/srv/shop/releases/v2 previous=v3 ' &&
	test $(acts 1) = $((before[1] + 2)) &&
	! grep -q 'release=v3' '$(srv 2)/activate.log' '$(srv 3)/activate.log' '$(srv 4)/activate.log'"
h1=$(health 1)
if [ "$h1" = $'v2\n 200' ]; then ok "host1's health answers 200 again, v2 (the marker is gone)"
else not_ok "host1's health answers 200 again, v2 (the marker is gone)" "got '$h1'; /srv/www: $(ls -A "$(srv 1)/www")"; fi
check "the rollback's table is on stdout" grep -qE "^web-1 .*v3 .*v2 .*ok" "$WORK/last.out"
expect_exit 0 "rollout status: exit 0" rcx rollout status
check "rollout status says aborted, with its reason" grep -q "^last rollout of v3 (from v2): aborted.*max_error_rate" "$WORK/last.out"
check "rollout status --json: aborted, every target on v2" \
	st "d['state'] == 'aborted' and d['targets'] == {'web-%d' % k: 'v2' for k in range(1, 5)}"
expect_exit 0 "status: exit 0" rcx status
check "status: every target runs v2, answers, recorded v2" sh -c "test \$(grep -cE '^web-[1-4] +v2 +ok [0-9]+ ms +v2 ' '$WORK/last.out') = 4"
all_whole "2. after the abort of v3"

# ---- 3. a canary host hangs while step 2 bakes ---------------------------
bg v4 --json rollout start v4 --steps 25%,50%,100% --bake 5s
if wait_st 60 "d['release'] == 'v4' and d['state'] == 'running' and d['step'] == 2 and d['phase'] == 'baking'"; then
	ok "3. the rollout of v4 bakes step 2"
else
	not_ok "3. the rollout of v4 bakes step 2" "$(cat "$WORK/v4.out" "$WORK/v4.err")"
fi
check "step 2 (50%): host1 and host2 on v4, host3 and host4 on v2" test "$(runs)" = "v4 v4 v2 v2"
"$FLEETLAB" fault hang host2 "$lab"
start=$SECONDS
bg_wait
check "3. the rollout with host2 hung ends by itself in $((SECONDS - start)) s (bake 5s)" test $((SECONDS - start)) -le 60
check "it does not claim success: exit 1, as for an abort (got $code)" test "$code" = 1
check "no complete event, and not every step promoted" python3 - "$WORK/v4.out" <<-'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert not [e for e in ev if e['event'] == 'complete'], ev[-1]
assert 2 not in [e['step'] for e in ev if e['event'] == 'promoted'], ev
PY
check "it aborted step 2 by the error-rate gate, naming web-2" python3 - "$WORK/v4.out" <<-'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
a = [e for e in ev if e['event'] == 'aborting']
assert len(a) == 1 and a[0]['step'] == 2 and a[0]['gate'] == 'error_rate', a
assert a[0]['target'] == 'web-2' and 'web-2' in a[0]['message'], a
d = ev[-1]
assert d['event'] == 'aborted' and d['release'] == 'v2' and d['ok'] is False, d
t = {x['target']: x for x in d['targets']}
assert t['web-1']['ok'] and t['web-1']['to'] == 'v2', t
assert not t['web-2']['ok'], t
PY
# web-2 was never put back (unreachable, its switch left owed): the abort
# says its rollback failed and names the command that finishes it
# (ripcord-rollout(1), Abort)
check "stderr says putting the targets back failed (host2) and names the command that finishes it" sh -c "
	grep -qE 'host2|web-2' '$WORK/v4.err' && grep -q 'putting the targets back on v2 failed' '$WORK/v4.err' &&
	grep -q \"run 'ripcord rollback --to v2'\" '$WORK/v4.err' || { cat '$WORK/v4.err'; exit 1; }"
check "stderr does not say the rollback worked" sh -c "! grep -q 'rollback to v2 worked' '$WORK/v4.err' || { cat '$WORK/v4.err'; exit 1; }"
check "host1 is back on v2, host2 (hung) still on v4, host3 and host4 never left v2" test "$(runs)" = "v2 v4 v2 v2"
rcx rollout status >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "rollout status with host2 hung: exit 0 (the rollout is finished), not completed (got $code)" sh -c "
	test $code = 0 && grep -q '^last rollout of v4 (from v2): aborted' '$WORK/last.out'"
# and the record's phase says so too
check "rollout status --json: aborted, phase 'rollback failed' (web-2 is not back)" \
	st "d['release'] == 'v4' and d['state'] == 'aborted' and d['phase'] == 'rollback failed' or print(d['state'], repr(d['phase']))"
rcx status >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "status with host2 hung does not say all is well: exit 1 (got $code)" test "$code" = 1
check "status: web-2's line names host2" grep -qE '^web-2 .*host2' "$WORK/last.out"
"$FLEETLAB" fault resume host2 "$lab"
rcx --json status >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "status once host2 is back: work left, exit 5 (got $code)" test "$code" = 5
check "status --json: web-2 runs v4 with its switch back to v2 pending; the others v2" pending_only 2 v4 v2
for k in $(seq 1 "$N"); do mid[k]=$(acts "$k"); done
expect_exit 0 "the command it named, ripcord rollback --to v2: exit 0" rcx rollback --to v2
check "converged: every host's link says v2" test "$(runs)" = "$(all_on v2)"
check "host2's activate ran for v2 (previous v4), its health answers v2" sh -c "
	tail -1 '$(srv 2)/activate.log' | grep -q 'target=web-2 release=v2 dir=/srv/shop/releases/v2 previous=v4 ' &&
	test \"\$(curl -s -m 2 http://${HOST_IP[2]}:8080/healthz)\" = v2"
check "it touched host2 alone" sh -c "
	test $(acts 1) = ${mid[1]} && test $(acts 3) = ${mid[3]} && test $(acts 4) = ${mid[4]} && test $(acts 2) -gt ${mid[2]}"
expect_exit 0 "status: exit 0" rcx status
check "status: every target runs v2, answers, recorded v2" sh -c "test \$(grep -cE '^web-[1-4] +v2 +ok [0-9]+ ms +v2 ' '$WORK/last.out') = 4"
check "rollout status --json: the v4 rollout aborted, every target on v2" \
	st "d['release'] == 'v4' and d['state'] == 'aborted' and d['targets'] == {'web-%d' % k: 'v2' for k in range(1, 5)}"
all_whole "3. after host2 resumed and the rollback"

# ---- 4. a baseline host hangs before the step that switches it -----------
# host4 hangs while step 2 of v5 bakes (host4 still on v2, judged by no
# gate): step 3 cannot switch it, so the rollout must abort, not complete
release v5
bg v5 --json rollout start v5 --steps 25%,50%,100% --bake 3s
if wait_st 60 "d['release'] == 'v5' and d['state'] == 'running' and d['step'] == 2 and d['phase'] == 'baking'"; then
	ok "4. the rollout of v5 bakes step 2"
else
	not_ok "4. the rollout of v5 bakes step 2" "$(cat "$WORK/v5.out" "$WORK/v5.err")"
fi
"$FLEETLAB" fault hang host4 "$lab"
check "step 2 (50%): host1 and host2 on v5, host3 and host4 (hung) on v2" test "$(runs)" = "v5 v5 v2 v2"
start=$SECONDS
bg_wait
check "4. the rollout with host4 hung ends by itself in $((SECONDS - start)) s" test $((SECONDS - start)) -le 60
check "it does not claim success: exit 1, as for an abort (got $code)" test "$code" = 1
check "it aborted at step 3 by its switch, naming web-4; no complete event" python3 - "$WORK/v5.out" <<-'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert not [e for e in ev if e['event'] == 'complete'], ev[-1]
a = [e for e in ev if e['event'] == 'aborting']
assert len(a) == 1 and a[0]['step'] == 3 and a[0]['gate'] == 'switch', a
assert 'web-4' in a[0]['message'] or a[0]['target'] == 'web-4', a
assert ev[-1]['event'] == 'aborted' and ev[-1]['release'] == 'v2', ev[-1]
PY
check "stderr: aborted at step 3, web-4's switch changed nothing, every target is on v2 (switched back: 4/4)" sh -c "
	grep -q \"the rollout of v5 was aborted (step 3/3: target 'web-4' .*nothing was changed\" '$WORK/v5.err' &&
	grep -q 'switched back: 4/4' '$WORK/v5.err' || { cat '$WORK/v5.err'; exit 1; }"
check "host1..host3 back on v2; host4 never left v2" test "$(runs)" = "$(all_on v2)"
"$FLEETLAB" fault resume host4 "$lab"
rcx --json status >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "status once host4 is back: exit 0, nothing owed (got $code)" test "$code" = 0
check "status --json: every target on v2, none pending or drifting" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
for t in d['targets']:
    assert t['current'] == 'v2' and t['pending'] is None and not t['drift'] and not t['unreachable'], t"
for k in $(seq 1 "$N"); do mid[k]=$(acts "$k"); done
expect_exit 0 "ripcord rollback --to v2 once host4 is back: exit 0" rcx rollback --to v2
check "converged: every host's link says v2" test "$(runs)" = "$(all_on v2)"
check "host4 only ever ran v2's activate in this block" sh -c "! grep -q 'release=v5' '$(srv 4)/activate.log'"
expect_exit 0 "status: exit 0" rcx status
check "status: every target runs v2, answers, recorded v2" sh -c "test \$(grep -cE '^web-[1-4] +v2 +ok [0-9]+ ms +v2 ' '$WORK/last.out') = 4"
check "every host's health answers v2" sh -c "
	for k in \$(seq 1 $N); do test \"\$(curl -s -m 2 http://$LAB_NET.\$((k + 1)):8080/healthz)\" = v2 || exit 1; done"
all_whole "4. after host4 resumed and the rollback"

done_testing
