# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# lib.sh: sourced by the fleet tests (tests/fleet/*.sh), on top of the
# integration scripts' TAP helpers and $WORK (tests/integration/lib.sh).
# It brings up lab hosts (tests/fleet/fleetlab.sh: network namespaces with
# their own sshd, /etc and small /srv disk) in $WORK/lab, and always takes
# them down again: on exit, on a failure and on SIGTERM/SIGINT/SIGHUP, the
# lab goes, every ssh ControlMaster this run started is told to exit and
# every process left of this run (marked in its environment, or naming
# $WORK on its command line) is killed, then $WORK is removed.
#
# A machine that cannot run the lab skips the whole script, naming what is
# missing. Traffic goes only to loopback and the lab's own addresses.
#
#   fleet_up N          hosts host1..hostN; sets LAB_ID, LAB_NET, HOST_IP[K]
#   fleet_exec K CMD..  CMD as root inside hostK (its network, /etc, /srv)
#   fleet_srv K         the path of hostK's /srv as seen from here
#   fleet_ssh K CMD..   ssh to hostK as the deploy user, bounded in time
#   fleet_serve K       an HTTP server inside hostK on HOST_IP[K]:8080,
#                       serving /srv/www (health: /srv/www/healthz)
#   fleet_shop N        the shop app ($repo, the current folder) with a
#                       hooks/activate and $WORK/base.ini; then
#   fleet_ini N [AGENT] ripcord.ini with targets web-1..web-N on host1..hostN
#   fleet_teardown      the lab down and what this run left killed
#                       (idempotent; the exit trap runs it too)

. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

FLEETLAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fleetlab.sh
lab=$WORK/lab
LAB_ID='' LAB_NET=''
declare -a HOST_IP=()
# every process this run starts carries it (ssh masters included): what
# still carries it at the end was left behind
FLEET_RUN=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
export RIPCORD_FLEET_RUN=$FLEET_RUN
SSH_T=(-o ConnectTimeout=2 -o ServerAliveInterval=1 -o ServerAliveCountMax=3)

fleet_skip() { echo "1..0 # SKIP fleet tests need $1"; rm -rf "$WORK"; exit 0; }

fleet_require() {
	local cap have=''
	[ "$(id -u)" = 0 ] && cap=$(awk '/^CapEff:/ {print $2}' /proc/self/status) &&
		(( ((16#$cap >> 12) & 1) && ((16#$cap >> 21) & 1) )) &&
		[ -e /proc/self/ns/net ] && command -v ip >/dev/null &&
		ip netns add "rclab-probe-$$" 2>/dev/null && ip netns del "rclab-probe-$$" && have=1
	[ -n "$have" ] || fleet_skip "root with CAP_NET_ADMIN/CAP_SYS_ADMIN and network namespaces"
	fleet_has sshd || fleet_skip "sshd (openssh-server)"
	fleet_has ssh || fleet_skip "ssh (openssh-client)"
	local t
	for t in nsenter unshare setsid curl python3; do
		fleet_has "$t" || fleet_skip "'$t' (util-linux, curl, python3)"
	done
}

# fleet_has NAME: an executable file NAME in PATH or a sbin folder (bash's
# command -v also names files that cannot be run)
fleet_has() {
	local d
	for d in ${PATH//:/ } /usr/sbin /usr/local/sbin /sbin; do
		[ -f "$d/$1" ] && [ -x "$d/$1" ] && return 0
	done
	return 1
}

# fleet_pids: this run's processes but this shell: marked in their
# environment, or naming $WORK on their command line (a ControlMaster's
# title is "ssh: SOCKET [mux]")
fleet_pids() {
	local p
	for p in $({ grep -lasF "RIPCORD_FLEET_RUN=$FLEET_RUN" /proc/[0-9]*/environ
		grep -lasF -- "$WORK/" /proc/[0-9]*/cmdline; } 2>/dev/null | cut -d/ -f3 | sort -u); do
		[ "$p" != "$$" ] && [ "$p" != "$BASHPID" ] && [ -d "/proc/$p" ] && echo "$p"
	done
	return 0
}

fleet_teardown() {
	local s p round
	# the masters first, each through its socket: the store's ssh/ folder,
	# the lab's cm/ (a long path's fallback folder is found through the state)
	while IFS= read -r s; do
		timeout 5 ssh -F /dev/null -o ControlPath="$s" -O exit fleetlab >/dev/null 2>&1 || true
	done < <(find "$WORK" -xdev -type s 2>/dev/null)
	if [ -d "$lab" ]; then
		FLEETLAB_QUIET=1 timeout 120 "$FLEETLAB" down "$lab" >&2 || echo "# fleetlab down failed" >&2
	fi
	for round in 1 2 3; do
		p=$(fleet_pids)
		[ -n "$p" ] || break
		# shellcheck disable=SC2086
		kill -CONT $p 2>/dev/null
		# shellcheck disable=SC2086
		kill -KILL $p 2>/dev/null
		sleep 0.1
	done
	return 0
}

fleet_cleanup() {
	local rc=$?
	trap - EXIT TERM INT HUP
	fleet_teardown
	rm -rf "$WORK" 2>/dev/null || { sleep 0.5; rm -rf "$WORK"; }
	exit "$rc"
}
trap fleet_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

fleet_up() {
	local n=$1 k name ip ns
	fleet_require
	if ! FLEETLAB_DISK=${FLEETLAB_DISK:-64m} FLEETLAB_QUIET=1 "$FLEETLAB" up "$n" "$lab" >"$WORK/lab.log" 2>&1; then
		echo "Bail out! fleetlab up $n failed: $(tr '\n' ' ' <"$WORK/lab.log")"
		exit 1
	fi
	LAB_ID=$(sed -n 's/^FL_ID=//p' "$lab/.fleetlab/state")
	LAB_NET=$(sed -n 's/^FL_NET=//p' "$lab/.fleetlab/state")
	while read -r name ip ns; do HOST_IP[${name#host}]=$ip; done <"$lab/hosts"
	# each host serves /srv below its roots only, as a real agent.ini says;
	# written through the host's own /etc (an overlay), never the machine's
	if [ "$(cat "$lab/host1/etcmode")" = overlay ]; then
		for (( k = 1; k <= n; k++ )); do
			fleet_exec "$k" sh -c 'mkdir -p /etc/ripcord && printf "[agent]\nroots = /srv\n" >/etc/ripcord/agent.ini'
		done
	fi
}

fleet_exec() { local k=$1; shift; "$FLEETLAB" exec "host$k" "$lab" "$@"; }
fleet_srv() { echo "$lab/host$1/disk"; }
fleet_ssh() {
	local k=$1; shift
	timeout 30 ssh -F "$lab/ssh_config" "${SSH_T[@]}" "host$k" "$@"
}

# fleet_serve K: python's http.server inside hostK, on its own address
fleet_serve() {
	local k=$1 i
	mkdir -p "$(fleet_srv "$k")/www"
	[ -e "$(fleet_srv "$k")/www/healthz" ] || echo none >"$(fleet_srv "$k")/www/healthz"
	chown -R --reference="$(fleet_srv "$k")" "$(fleet_srv "$k")/www"
	fleet_exec "$k" setsid python3 -m http.server --bind "${HOST_IP[k]}" \
		--directory /srv/www 8080 </dev/null >/dev/null 2>&1 &
	for i in $(seq 1 100); do
		curl -s -m 1 -o /dev/null "http://${HOST_IP[k]}:8080/healthz" && return 0
		sleep 0.1
	done
	echo "Bail out! no HTTP server in host$k"
	exit 1
}

# fleet_shop: the quickstart app (shop_fleet, no local targets) with an
# activate hook that runs on the host: it appends its RIPCORD_* variables
# to /srv/activate.log and puts the release id in /srv/www/healthz. When
# /srv/activate.sleep exists, it sleeps that many seconds first.
fleet_shop() {
	shop_fleet 0
	mkdir -p hooks
	cat >hooks/activate <<-'EOF'
	#!/bin/sh
	# activate: runs on the host, in the release's folder
	[ -f /srv/activate.sleep ] && sleep "$(cat /srv/activate.sleep)"
	echo "target=$RIPCORD_TARGET release=$RIPCORD_RELEASE dir=$RIPCORD_RELEASE_DIR previous=$RIPCORD_PREVIOUS root=$RIPCORD_ROOT pwd=$(pwd)" >>/srv/activate.log
	mkdir -p /srv/www && echo "$RIPCORD_RELEASE" >/srv/www/.healthz.tmp && mv /srv/www/.healthz.tmp /srv/www/healthz
	EOF
	chmod +x hooks/activate
}

# host_of K [N]: the ssh destination of target web-K, in the three forms
# ripcord.ini takes: user@name (host1), ssh://user@ip:22 (the last of N
# when N >= 3), a plain ssh_config Host name (the others)
host_of() {
	local k=$1 n=${2:-0}
	if (( k == 1 )); then echo "deploy@host1"
	elif (( n >= 3 && k == n )); then echo "ssh://deploy@${HOST_IP[k]}:22"
	else echo "host$k"; fi
}

# fleet_ini N [AGENT]: ripcord.ini from $WORK/base.ini with targets
# web-1..web-N on host1..hostN (root /srv/shop there, health served inside
# the host) and [ssh]; AGENT is agent_path (default: the built ripcord,
# which every host sees)
fleet_ini() {
	local n=$1 agent=${2:-$RIPCORD} k
	{
		cat "$WORK/base.ini"
		for (( k = 1; k <= n; k++ )); do
			printf '[target "web-%s"]\nhost = %s\nroot = /srv/shop\nhealth = http://%s:8080/healthz\nactivate = hooks/activate\n\n' \
				"$k" "$(host_of "$k" "$n")" "${HOST_IP[k]}"
		done
		printf '[ssh]\ncommand = ssh -F %s/ssh_config\nparallel = 20\nconnect_timeout = 2s\nagent_path = %s\n' \
			"$lab" "$agent"
	} >ripcord.ini
}

# ---- what the scripts check on the hosts (N hosts, the shop in /srv/shop) ----

# every ripcord command is bounded
rcx() { timeout 120 "$RIPCORD" "$@"; }
srv() { fleet_srv "$1"; }
# the shop's current release on hostK; runs: every host's, in order;
# all_on ID: what runs says when every host runs ID
cur() { readlink "$(srv "$1")/shop/current" 2>/dev/null | sed 's|^releases/||'; }
runs() { local k s=''; for k in $(seq 1 "$N"); do s+=" $(cur "$k")"; done; echo "${s# }"; }
all_on() { local s='' k; for k in $(seq 1 "$N"); do s+=" $1"; done; echo "${s# }"; }
acts() { wc -l <"$(srv "$1")/activate.log" 2>/dev/null || echo 0; }

# whole K [ID...]: hostK's current is a link releases/<id> to a folder
# that exists with the release's files, and each ID is still there
whole() {
	local k=$1 r c id; shift
	r=$(srv "$k")/shop
	c=$(readlink "$r/current") || { echo "host$k: no current link"; return 1; }
	case "$c" in releases/*) ;; *) echo "host$k: current -> '$c'"; return 1 ;; esac
	id=${c#releases/}
	[ -d "$r/$c" ] || { echo "host$k: current -> $c, which does not exist (dangling)"; return 1; }
	[ "$(cat "$r/$c/VERSION" 2>/dev/null)" = "$id" ] && [ -x "$r/$c/hooks/activate" ] ||
		{ echo "host$k: $c lacks its files: $(ls -A "$r/$c")"; return 1; }
	for id in "$@"; do
		[ "$(cat "$r/releases/$id/VERSION" 2>/dev/null)" = "$id" ] ||
			{ echo "host$k: release $id is lost"; return 1; }
	done
}
# pending_only K RUNS TO: in the `status --json` in $WORK/last.out, web-K
# runs RUNS with its switch to TO pending, and every other target runs TO,
# owes nothing and does not drift
pending_only() {
	python3 - "$WORK/last.out" "web-$1" "$2" "$3" <<-'PY'
	import json, sys
	path, name, runs, to = sys.argv[1:]
	t = {x['target']: x for x in json.load(open(path))['targets']}
	w = t.pop(name)
	assert w['current'] == runs and w['pending'] is not None, w
	assert w['pending']['release'] == to, w
	for x in t.values():
	    assert x['current'] == to and x['pending'] is None and not x['drift'], x
	PY
}
# all_whole WHAT [ID...]: whole on every host (names which are not)
all_whole() {
	local what=$1 k out='' o; shift
	for k in $(seq 1 "$N"); do o=$(whole "$k" "$@") || out+="$o"$'\n'; done
	if [ -z "$out" ]; then ok "$what: every host on a whole release ($(runs)), none lost"
	else not_ok "$what: every host on a whole release, none lost" "$out"; fi
}
