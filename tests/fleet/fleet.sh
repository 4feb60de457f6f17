#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# fleet.sh: remote targets over ssh end to end (issue 14), on four lab hosts
# (tests/fleet/lib.sh) reached as deploy@host1, host2, host3 and
# ssh://deploy@IP:22, each running `ripcord agent` from this build and an
# HTTP health endpoint inside its own network namespace. Deploy v1 then v2
# (two phases: stage everywhere, then switch and activate), status, targets
# --check, rollback; then one block per fault, each ending with every host
# on a whole release (current -> releases/<id> that exists, with its
# files) and no release lost:
#   (a) host2's link goes down while its artifact is on the wire: the
#       deploy fails naming host2, exit 1, and no host switched;
#   (b) host2's sshd and everything on it hangs (SIGSTOP) for a rollback:
#       the others roll back, exit 1 naming host2; once it resumes, a
#       second rollback converges on host2 alone;
#   (c) host3's disk is full: the deploy fails before any switch naming
#       host3 and 'No space left'; healed, the deploy succeeds;
#   (d) host3 runs an agent of protocol 99: refused, naming host3 and both
#       protocols and versions, before any switch; then `targets --install`
#       leaves that script alone, and with --force puts this ripcord on
#       every host over ssh;
#   (e) ripcord is SIGKILLed while it switches (host4's activate hook
#       sleeps): no current link dangles anywhere, and deploying again
#       converges.
. "$(dirname "$0")/lib.sh"

N=4
fleet_up "$N"
ok "fleetlab up: $N hosts in $LAB_NET.0/24 (lab $LAB_ID)"
fleet_shop
fleet_ini "$N"
for k in $(seq 1 "$N"); do fleet_serve "$k"; done
ver=$("$RIPCORD" --version | cut -d' ' -f2)

# release ID [BIG_BYTES]: commit, then cut release ID; VERSION holds the
# id; BIG_BYTES of random data in big.bin (none: no big.bin)
release() {
	echo "$1" >VERSION
	rm -f big.bin
	[ -z "${2:-}" ] || head -c "$2" /dev/urandom >big.bin
	git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>"$WORK/cut.err" ||
		not_ok "cut $1" "$(cat "$WORK/cut.err")"
}
health() { curl -s -m 2 "http://${HOST_IP[$1]}:8080/healthz"; }
# names_host K: the last command's stderr names hostK (its name or address)
names_host() {
	if grep -qE -- "host$1([^0-9]|$)|${HOST_IP[$1]//./\\.}([^0-9]|$)" "$WORK/last.err"; then
		ok "stderr names host$1"
	else not_ok "stderr names host$1" "$(cat "$WORK/last.err")"; fi
}
# wait_for SECONDS CMD...: until CMD succeeds, polling every 0.1 s
wait_for() {
	local n=$(( $1 * 10 )) i; shift
	for (( i = 0; i < n; i++ )); do "$@" && return 0; sleep 0.1; done
	return 1
}

# ---- deploy, status, targets --check, rollback --------------------------
release v1
release v2
expect_exit 0 "deploy v1 to $N hosts over ssh" rcx deploy v1
check "every host runs v1" test "$(runs)" = "$(all_on v1)"
for k in $(seq 1 "$N"); do
	check "web-$k's activate ran on host$k in the release with every variable" grep -qx \
		"target=web-$k release=v1 dir=/srv/shop/releases/v1 previous= root=/srv/shop pwd=/srv/shop/releases/v1" \
		"$(srv "$k")/activate.log"
done
expect_exit 0 "deploy v2" rcx deploy v2
check "every host runs v2" test "$(runs)" = "$(all_on v2)"
for k in $(seq 1 "$N"); do
	check "host$k: activate ran for v2 with previous=v1, and its health says v2" sh -c "
		grep -qx 'target=web-$k release=v2 dir=/srv/shop/releases/v2 previous=v1 root=/srv/shop pwd=/srv/shop/releases/v2' '$(srv "$k")/activate.log' &&
		test \"\$(curl -s -m 2 http://${HOST_IP[k]}:8080/healthz)\" = v2"
done
all_whole "after deploy v2" v1 v2
check "the artifact was staged on every host (its cache holds v2)" sh -c "
	for k in \$(seq 1 $N); do ls '$lab'/host\$k/disk/shop/.ripcord/artifacts/ | grep -q '^v2@[0-9a-f]\\{64\\}\\.tar\\.zst\$' || exit 1; done"

expect_exit 0 "status: exit 0" rcx status
for k in $(seq 1 "$N"); do
	check "status shows web-$k running v2, answering its health URL, recorded v2" grep -qE "^web-$k +v2 +ok [0-9]+ ms +v2 " "$WORK/last.out"
done
check "status flags no drift and no unreachable host" sh -c "! grep -qiE 'drift|unreachable' '$WORK/last.out'"
# drift: host3's link moved by hand (read through its agent)
r3=$(srv 3)/shop
ln -sfn releases/v1 "$r3/current.tmp" && mv -T "$r3/current.tmp" "$r3/current"
expect_exit 1 "status with host3's link moved by hand: exit 1 (drift)" rcx status
check "web-3 runs v1, the journal says v2: DRIFT" grep -qE '^web-3 +v1 +ok [0-9]+ ms +v2 .*DRIFT: journal says v2' "$WORK/last.out"
check "the others do not drift" sh -c "test \$(grep -c DRIFT '$WORK/last.out') = 1"
ln -sfn releases/v2 "$r3/current.tmp" && mv -T "$r3/current.tmp" "$r3/current"
expect_exit 0 "status with the link back: exit 0" rcx status

expect_exit 0 "targets --check: exit 0" rcx targets --check
for k in $(seq 1 "$N"); do
	check "targets --check: web-$k on $(host_of "$k" "$N"), reachable, agent $ver, v2, a FREE and a SKEW" sh -c "
		grep -E '^web-$k +' '$WORK/last.out' | grep -F '$(host_of "$k" "$N") ' | grep -F ' $ver ' | grep -E ' yes ' |
			grep -E ' v2 ' | grep -qE '[0-9.]+ ?[KMG]iB .*[-+]?[0-9.]+ ?s( |\$)'"
done
expect_exit 0 "targets --check --json: exit 0" rcx targets --check --json
check "targets --check --json: each host reachable, its agent $ver, root state, free space of its 64 MiB disk, clock skew" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
assert sorted(t) == ['web-%d' % k for k in range(1, $N + 1)], t
for x in t.values():
    assert x['reachable'] and x['readable'] and x['error'] is None, x
    assert x['agent_version'] == '$ver' and x['exists'] is True, x
    assert x['current'] == 'v2' and x['releases'] == ['v1', 'v2'], x
    assert 0 < x['free_bytes'] <= 64 << 20, x
    assert abs(x['clock_skew_s']) < 2 and not x['clock_skewed'], x
assert t['web-1']['where'] == 'deploy@host1' and t['web-2']['where'] == 'host2', t"

expect_exit 0 "rollback: exit 0" rcx rollback
check "every host back on v1" test "$(runs)" = "$(all_on v1)"
for k in $(seq 1 "$N"); do
	check "host$k: activate ran for v1 with previous=v2, its health says v1" sh -c "
		tail -1 '$(srv "$k")/activate.log' | grep -q 'release=v1 dir=/srv/shop/releases/v1 previous=v2 ' &&
		test \"\$(curl -s -m 2 http://${HOST_IP[k]}:8080/healthz)\" = v1"
done
all_whole "after rollback" v1 v2

# ---- (a) host2's link goes down during the transfer ----------------------
# 4 MiB of random data at 2 Mbit/s to host2: ~16 s on the wire, so the
# link goes down while the artifact arrives (its .put- temp is there)
release v3 $((4 << 20))
"$FLEETLAB" fault slow:2mbit host2 "$lab"
"$RIPCORD" deploy v3 >"$WORK/last.out" 2>"$WORK/last.err" &
pid=$!
art=$(srv 2)/shop/.ripcord/artifacts
if wait_for 30 sh -c "ls -A '$art' 2>/dev/null | grep -q '^\\.put-'"; then
	ok "(a) v3's artifact is on its way to host2"
else
	not_ok "(a) v3's artifact is on its way to host2 (no .put- temp in 30 s)" "$(ls -lA "$art" 2>&1)"
fi
"$FLEETLAB" fault down host2 "$lab"
wait_for 90 sh -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null
wait "$pid"; code=$?
check "(a) the deploy fails with exit 1 (got $code)" test "$code" = 1
names_host 2
check "(a) no host switched: all still on v1" test "$(runs)" = "$(all_on v1)"
"$FLEETLAB" fault heal host2 "$lab"
all_whole "(a) after the link is back" v1 v2

# ---- (c) host3's disk is full -------------------------------------------
release v4
"$FLEETLAB" fault full host3 "$lab"
expect_exit 1 "(c) deploy v4 with host3's disk full: exit 1" rcx deploy v4
names_host 3
err_has "(c) and says the disk is full" "No space left"
check "(c) no host switched: all still on v1" test "$(runs)" = "$(all_on v1)"
"$FLEETLAB" fault heal host3 "$lab"
expect_exit 0 "(c) healed: deploy v4 succeeds" rcx deploy v4
check "(c) every host runs v4" test "$(runs)" = "$(all_on v4)"
all_whole "(c) after the deploy" v1 v2 v4

# ---- (b) host2 hangs during a rollback ----------------------------------
"$FLEETLAB" fault hang host2 "$lab"
start=$SECONDS
expect_exit 1 "(b) rollback with host2 hung: exit 1" rcx rollback
check "(b) bounded: it took $((SECONDS - start)) s (connect_timeout 2s)" test $((SECONDS - start)) -le 60
names_host 2
check "(b) the others rolled back, host2 stays on v4" test "$(runs)" = "v1 v4 v1 v1"
check "(b) their activate ran, their health says v1" sh -c "
	for k in 1 3 4; do test \"\$(curl -s -m 2 http://$LAB_NET.\$((k + 1)):8080/healthz)\" = v1 || exit 1; done"
rcx status >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "(b) status with host2 hung ends by itself, exit 1 or 5 (got $code)" test "$code" = 1 -o "$code" = 5
check "(b) status: web-2's line names host2" grep -qE '^web-2 .*host2' "$WORK/last.out"
check "(b) status shows the others on v1" sh -c "grep -qE '^web-1 +v1 ' '$WORK/last.out' && grep -qE '^web-3 +v1 ' '$WORK/last.out'"
rcx --json status >"$WORK/last.out" 2>"$WORK/last.err"
check "(b) status --json: web-2 unreachable with ssh's error naming host2, the others read" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
assert t['web-2']['unreachable'] is True and 'host2' in t['web-2']['error'], t['web-2']
for k in ('web-1', 'web-3', 'web-4'):
    assert t[k]['unreachable'] is False and t[k]['current'] == 'v1', t[k]"
rcx targets --check --json >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "(b) targets --check with host2 hung: exit 1 (got $code)" test "$code" = 1
check "(b) targets --check: web-2 unreachable, naming host2; the others reachable" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
assert not t['web-2']['reachable'] and 'host2' in t['web-2']['error'], t['web-2']
assert all(t[k]['reachable'] and t[k]['current'] == 'v1' for k in ('web-1', 'web-3', 'web-4')), t"
"$FLEETLAB" fault resume host2 "$lab"
rcx --json status >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "(b) status once host2 is back: work left, exit 5 (got $code)" test "$code" = 5
check "(b) the journal keeps web-2's rollback pending, and only web-2's" pending_only 2 v4 v1
for k in $(seq 1 "$N"); do mid[k]=$(acts "$k"); done
expect_exit 0 "(b) rollback again once host2 is back: exit 0" rcx rollback
check "(b) converged: every host on v1" test "$(runs)" = "$(all_on v1)"
check "(b) host2's activate ran for v1 (previous v4)" sh -c "tail -1 '$(srv 2)/activate.log' | grep -q 'release=v1 .*previous=v4 '"
check "(b) the second rollback touched host2 alone" sh -c "
	test $(acts 1) = ${mid[1]} && test $(acts 3) = ${mid[3]} && test $(acts 4) = ${mid[4]} && test $(acts 2) -gt ${mid[2]}"
check "(b) host2's health says v1" test "$(health 2)" = v1
all_whole "(b) after the second rollback" v1 v2 v4

# ---- (d) an agent of another protocol on host3 --------------------------
# agent_path = /srv/bin/ripcord: each host's own disk; host3's is a fake
# that speaks protocol 99
for k in $(seq 1 "$N"); do
	mkdir -p "$(srv "$k")/bin"
	if [ "$k" = 3 ]; then
		cat >"$(srv "$k")/bin/ripcord" <<-'EOF'
		#!/usr/bin/env python3
		# a ripcord agent of protocol 99 (ripcord 9.9.9)
		import json, sys
		if sys.argv[1:] == ["--version"]:
		    print("ripcord 9.9.9")
		    sys.exit(0)
		for line in sys.stdin:
		    req = json.loads(line)
		    # a terse refusal: naming both sides is the client's job
		    print(json.dumps({"id": req.get("id"), "ok": False, "code": -2,
		        "error": "unsupported", "protocol": 99, "version": "9.9.9"}), flush=True)
		EOF
	else
		printf '#!/bin/sh\nexec %s "$@"\n' "'$RIPCORD'" >"$(srv "$k")/bin/ripcord"
	fi
	chmod 0755 "$(srv "$k")/bin/ripcord"
done
fleet_ini "$N" /srv/bin/ripcord
release v5
rcx deploy v5 >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "(d) deploy v5 with host3's agent of protocol 99 is refused: exit 1 or 2 (got $code)" test "$code" = 1 -o "$code" = 2
names_host 3
check "(d) the refusal names both protocols and versions" sh -c "
	grep -q 99 '$WORK/last.err' && grep -qF 9.9.9 '$WORK/last.err' &&
	grep -qE 'protocol:? 1([^0-9]|\$)' '$WORK/last.err' && grep -qF '$ver' '$WORK/last.err'"
check "(d) no host switched: all still on v1" test "$(runs)" = "$(all_on v1)"
all_whole "(d) after the refusal" v1 v2 v4
# (d2) targets --install, through each host's own sshd as its deploy
# user: host3's agent of protocol 99 is a script, left alone without
# --force (a wrapper may set the agent up), and the others (this version
# answers through them) are current; with --force every host gets this
# very ripcord at agent_path
for k in $(seq 1 "$N"); do chown -R --reference="$(srv "$k")" "$(srv "$k")/bin"; done
old3=$(sha256sum < "$(srv 3)/bin/ripcord")
expect_exit 1 "(d2) targets --install over ssh: host3's script refused" rcx targets --install
check "(d2) host3 failed, three current" sh -c "
	test \$(grep -c ' current\$' '$WORK/last.out') = 3 &&
	grep -qE '^host3 +web-3 +9\.9\.9 +failed\$' '$WORK/last.out' &&
	grep -q '^host3: .*is a script (a wrapper may set up the agent): not replaced' '$WORK/last.out'"
check "(d2) host3's script untouched" test "$(sha256sum < "$(srv 3)/bin/ripcord")" = "$old3"
expect_exit 0 "(d2) targets --install --force over ssh" rcx targets --install --force
check "(d2) every host installed" test "$(grep -c ' installed$' "$WORK/last.out")" = "$N"
for k in $(seq 1 "$N"); do
	check "(d2) host$k's agent_path holds this very ripcord" cmp -s "$RIPCORD" "$(srv "$k")/bin/ripcord"
done
check "(d2) no temporary file left on any host" sh -c "! ls -a $(for k in $(seq 1 "$N"); do printf "'%s' " "$(srv "$k")/bin"; done) | grep -q ripcord-new"
expect_exit 0 "(d2) targets --check: every host reached" rcx targets --check --json
check "(d2) every agent answers with this version" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert [t['agent_version'] for t in d['targets']] == ['$ver'] * $N, d"
fleet_ini "$N"

# ---- (e) ripcord SIGKILLed while it switches -----------------------------
echo 10 >"$(srv 4)/activate.sleep"
"$RIPCORD" deploy v5 >"$WORK/e.out" 2>"$WORK/e.err" &
pid=$!
cur_is() { [ "$(cur "$1")" = "$2" ]; }
if wait_for 60 cur_is 4 v5; then
	ok "(e) host4 switched to v5, its activate hook sleeps"
else
	not_ok "(e) host4 switched to v5 (not in 60 s)" "$(cat "$WORK/e.err")"
fi
sleep 0.5
kill -9 "$pid" 2>/dev/null
wait "$pid"; code=$?
check "(e) ripcord was killed mid-deploy (exit $code = 128 + 9)" test "$code" = 137
rm -f "$(srv 4)/activate.sleep"
all_whole "(e) right after the SIGKILL" v1
rcx --json status >"$WORK/last.out" 2>"$WORK/last.err"; code=$?
check "(e) status after the SIGKILL: work left, exit 5 (got $code)" test "$code" = 5
check "(e) status --json: the killed deploy of v5 is unfinished, to be repeated" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert d['needs_resume'] and d['unfinished']['op'] == 'deploy' and d['unfinished']['release'] == 'v5', d"
acts4=$(acts 4)
expect_exit 0 "(e) deploy v5 again converges: exit 0" rcx deploy v5
check "(e) every host runs v5" test "$(runs)" = "$(all_on v5)"
check "(e) host4's activate, cut short, ran again" test "$(acts 4)" -gt "$acts4"
check "(e) every host's health says v5 (activate ran everywhere)" sh -c "
	for k in \$(seq 1 $N); do test \"\$(curl -s -m 2 http://$LAB_NET.\$((k + 1)):8080/healthz)\" = v5 || exit 1; done"
all_whole "(e) after the rerun" v1 v4 v5
expect_exit 0 "(e) status: exit 0, no drift" rcx status
check "(e) status: every target on v5" sh -c "test \$(grep -cE '^web-[0-9]+ +.*v5' '$WORK/last.out') = $N"

done_testing
