#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# lab.sh: the fleet lab itself (tests/fleet/lib.sh, fleetlab.sh), before
# any ripcord command uses it: three hosts come up, each answers ssh as the
# deploy user with its own hostname and small /srv, `ripcord agent` runs
# there through ssh and answers a handshake and an inspect of a root on
# that disk, a link that goes down and an sshd that hangs are seen as such
# (bounded, exit 255) and come back, a full disk is full; and afterwards
# nothing of the lab is left: no namespace, sshd, ssh master, mount, link
# or route.
. "$(dirname "$0")/lib.sh"

N=3
fleet_up "$N"
ok "fleetlab up: $N hosts in $LAB_NET.0/24 (lab $LAB_ID)"

for k in $(seq 1 "$N"); do
	check "ssh host$k true" fleet_ssh "$k" true
	check "host$k has its own hostname" test "$(fleet_ssh "$k" hostname)" = "host$k"
	check "host$k logs in as deploy, who owns /srv there" \
		test "$(fleet_ssh "$k" 'id -un; stat -c %U /srv')" = "deploy
deploy"
done
check "a file in host2's /srv is seen by host2 alone" sh -c "
	echo two >'$(fleet_srv 2)/mark' &&
	test \"\$(timeout 30 ssh -F '$lab/ssh_config' -o ConnectTimeout=2 host2 cat /srv/mark)\" = two &&
	! timeout 30 ssh -F '$lab/ssh_config' -o ConnectTimeout=2 host1 test -e /srv/mark"

ver=$("$RIPCORD" --version | cut -d' ' -f2)
hello='{"op":"hello","id":0,"protocol":1,"version":"'"$ver"'"}'
for k in $(seq 1 "$N"); do
	printf '%s\n{"op":"inspect","id":1,"root":"/srv/shop"}\n{"op":"bye","id":2}\n' "$hello" |
		fleet_ssh "$k" "mkdir /srv/shop && exec '$RIPCORD' agent" >"$WORK/agent$k.out" 2>"$WORK/agent$k.err"
	code=$?
	check "ripcord agent through ssh host$k: exit 0, three answers" \
		test "$code" = 0 -a "$(wc -l <"$WORK/agent$k.out")" = 3
	check "host$k's agent answers hello with protocol 1 and its version" \
		grep -q '^{"id":0,"ok":true,"protocol":1,"version":"'"$ver"'"' "$WORK/agent$k.out"
	# the disk is 64 MiB: a free space of 1..64 MiB is the host's own /srv
	check "host$k's agent inspects the empty /srv/shop on its own small disk" python3 -c "
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])][1]
assert a['ok'] and a['current'] is None and a['releases'] == [], a
assert 0 < a['free_bytes'] <= 64 << 20, a" "$WORK/agent$k.out"
done
if [ "$(cat "$lab/host1/etcmode")" = overlay ]; then
	printf '%s\n{"op":"inspect","id":1,"root":"/tmp"}\n' "$hello" |
		fleet_ssh 1 "'$RIPCORD'" agent >"$WORK/agent-root.out" 2>&1
	check "the host's agent.ini (its own /etc) refuses a root outside /srv" \
		grep -q "^{\"id\":1,\"ok\":false,\"error\":\"root '/tmp' is not allowed here" "$WORK/agent-root.out"
	check "and this machine's /etc has no agent.ini of the lab" test ! -e /etc/ripcord/agent.ini
fi

# faults: a fresh connection (no master) and one through host2's master
fresh=(-F "$lab/ssh_config" -o ConnectTimeout=2 -o ControlPath=none)
"$FLEETLAB" fault down host2 "$lab"
start=$SECONDS
timeout 20 ssh "${fresh[@]}" host2 true 2>"$WORK/down.err"
code=$?
check "link down: ssh to host2 fails with 255 (got $code)" test "$code" = 255
check "within its connect timeout" test $((SECONDS - start)) -le 6
check "saying it timed out" grep -qi "timed out" "$WORK/down.err"
start=$SECONDS
fleet_ssh 2 true 2>"$WORK/down-master.err"
code=$?
check "through host2's master (ServerAlive 1s x3) it fails too (got $code)" test "$code" = 255
check "within a few seconds" test $((SECONDS - start)) -le 10
check "host1 and host3 still answer" sh -c "timeout 20 ssh -F '$lab/ssh_config' -o ConnectTimeout=2 host1 true && timeout 20 ssh -F '$lab/ssh_config' -o ConnectTimeout=2 host3 true"
"$FLEETLAB" fault up host2 "$lab"
check "link up: host2 answers again" fleet_ssh 2 true

"$FLEETLAB" fault hang host3 "$lab"
check "hang: host3's sshd is stopped (state T)" sh -c "grep -q '^State:.*T' /proc/\$(cat '$lab/host3/sshd.pid')/status"
start=$SECONDS
timeout 20 ssh "${fresh[@]}" host3 true 2>"$WORK/hang.err"
code=$?
check "hang: ssh to host3 fails with 255, not the timeout's 124 (got $code)" test "$code" = 255
check "within its connect timeout (it covers the banner)" test $((SECONDS - start)) -le 6
"$FLEETLAB" fault resume host3 "$lab"
check "resume: host3 answers again" timeout 20 ssh "${fresh[@]}" host3 true

"$FLEETLAB" fault full host1 "$lab"
check "full: host1's /srv has no room" test "$(fleet_ssh 1 "df --output=avail -B1 /srv | tail -1")" -lt 65536
fleet_ssh 1 'head -c 1048576 /dev/zero >/srv/big' 2>"$WORK/full.err"
check "full: a write there fails with ENOSPC" grep -q "No space left" "$WORK/full.err"
"$FLEETLAB" fault heal host1 "$lab"
check "heal: the write works" fleet_ssh 1 'head -c 1048576 /dev/zero >/srv/big'
check "fleetlab status lists no fault" sh -c "'$FLEETLAB' status '$lab' | grep -c 'faults=none' | grep -qx $N"

# a server inside a host, reached from here on its address only
fleet_serve 2
check "the HTTP server inside host2 answers on ${HOST_IP[2]}:8080" \
	test "$(curl -s -m 2 "http://${HOST_IP[2]}:8080/healthz")" = none
check "and not on host1's address" sh -c "! curl -s -m 2 -o /dev/null http://${HOST_IP[1]}:8080/healthz"

# everything goes
fleet_teardown
check "no namespace of lab $LAB_ID left" sh -c "! ip netns list | grep -q '^rclab-$LAB_ID-'"
check "no link of lab $LAB_ID left" sh -c "! ip -o link show | grep -q 'fl${LAB_ID}'"
check "no safety route of lab $LAB_ID left" sh -c "! ip -4 route show table all proto 177 | grep -qw 'metric $(( 16#$LAB_ID + 1000 ))'"
check "no sshd of this lab left" sh -c "! pgrep -f -- '$lab/host[0-9]*/sshd_config' >/dev/null"
check "no ssh master or other process of this run left" test -z "$(fleet_pids)"
check "no mount under the lab left" sh -c "! grep -qF ' $lab/' /proc/self/mountinfo"
check "fleetlab down again: nothing to do, exit 0" env FLEETLAB_QUIET=1 "$FLEETLAB" down "$lab"
done_testing
