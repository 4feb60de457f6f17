#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# fleetlab.sh: N fake remote hosts for tests, each a Linux network namespace
# with its own veth link, hostname, /etc (overlay), small disk (tmpfs, seen
# as /srv inside it) and OpenSSH sshd on port 22, reachable from the root
# namespace with `ssh -F DIR/ssh_config hostK` (user deploy, or root@hostK).
# Faults can be injected per host.
#
#   fleetlab.sh up N DIR           create host1..hostN (N <= 250), files in DIR
#   fleetlab.sh fault KIND HOST DIR
#         KIND: down | up        link of HOST down / up again
#               hang | resume    SIGSTOP / SIGCONT every process of HOST
#               drop             firewall in HOST drops every packet
#               loss:PCT         firewall drops PCT% of packets at random
#               slow:RATE        tbf rate limit both ways (e.g. slow:256kbit)
#               refuse           stop HOST's sshd listener (connection refused)
#               full             fill HOST's disk (writes get ENOSPC)
#               heal             undo every fault on HOST
#         HOST: hostK or K
#   fleetlab.sh exec HOST DIR CMD...   run CMD as root inside HOST (its
#                                      network, /etc and /srv view)
#   fleetlab.sh status DIR         one line per host
#   fleetlab.sh down DIR           remove everything `up` made (idempotent)
#
# What `up` makes, for a run id ID (random, 6 hex digits):
#   network namespaces rclab-ID-K, a bridge flIDbr holding 10.77.X.1/24 in
#   the root namespace (X picked so it overlaps no existing route), veth
#   links flIDhK (root side, enslaved to the bridge) / eth0 (in the host) with
#   10.77.X.(K+1)/24, and an `unreachable 10.77.0.0/16` safety route (its own
#   metric) so nothing for the lab ever leaves the machine;
#   per host, DIR/hostK/: disk/ (a tmpfs of FLEETLAB_DISK, seen as /srv inside
#   the host), etc/ (upper layer of the host's /etc overlay: passwd, group,
#   shadow with the login user), sshd_config, host key, sshd.pid, sshd.log;
#   DIR/ssh_config, DIR/known_hosts, DIR/id_ed25519, DIR/hosts (name ip ns).
# Nothing has a fixed global name, so concurrent runs with different DIRs do
# not clash; the only shared things are a lock file in /run/lock (or $TMPDIR)
# held while a subnet is picked, and /run/sshd, which sshd needs.
#
# Environment:
#   FLEETLAB_USER=deploy   login user on the hosts (root works too); a user
#                          missing from /etc/passwd exists only in the hosts
#   FLEETLAB_DISK=256m     size of each host's tmpfs disk; 0 = plain folder
#   FLEETLAB_SRV=/srv      where the disk appears inside each host; empty = not
#   FLEETLAB_NET=10.77     first two octets of the lab's addresses
#   FLEETLAB_ETC=binds     bind only passwd/group/shadow instead of overlaying
#                          /etc (automatic where overlayfs cannot be used)
#   FLEETLAB_SSHD_CONFIG   extra sshd_config lines for every host, e.g.
#                          $'ClientAliveInterval 5\nClientAliveCountMax 2'
#   FLEETLAB_KEEP=1        `down` keeps DIR's files (logs) and removes the rest
#
# Needs: root (CAP_NET_ADMIN + CAP_SYS_ADMIN), iproute2, openssh-server,
# openssh-client; nftables or iptables for drop/loss; util-linux (nsenter,
# unshare, flock, mount). No network access is needed.
# Notes: the ssh_config sets no timeouts: pass -o ConnectTimeout=N and
# -o ServerAliveInterval=N on the command that creates the ControlMaster,
# or a hung host blocks forever. There is no netem here, so no added latency:
# slow:RATE limits bandwidth only. sshd keeps the defaults a real server has
# (no ClientAlive), so a session whose client vanished during a fault stays
# on the host until `down` (see FLEETLAB_SSHD_CONFIG).
set -euo pipefail

PREFIX=rclab
ME=fleetlab

die() { printf '%s: %s\n' "$ME" "$*" >&2; exit 1; }
log() { [ -n "${FLEETLAB_QUIET:-}" ] || printf '%s: %s\n' "$ME" "$*" >&2; }

usage() {
	sed -n '/^# fleetlab.sh:/,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

# --- checks ----------------------------------------------------------------

need_root() {
	local cap
	[ "$(id -u)" = 0 ] || die "must run as root (needs CAP_NET_ADMIN and CAP_SYS_ADMIN for network namespaces, veth links and mounts); try: sudo $0 ..."
	cap=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
	if (( ((16#$cap >> 12) & 1) == 0 || ((16#$cap >> 21) & 1) == 0 )); then
		die "root here lacks CAP_NET_ADMIN or CAP_SYS_ADMIN (CapEff=$cap): run on a host or a --privileged container"
	fi
	[ -e /proc/self/ns/net ] || die "no network namespace support in this kernel (CONFIG_NET_NS)"
}

find_sbin() {  # find_sbin NAME: absolute path of a program, also in sbin dirs
	local d
	for d in ${PATH//:/ } /usr/sbin /usr/local/sbin /sbin; do
		[ -x "$d/$1" ] && { printf '%s\n' "$d/$1"; return 0; }
	done
	return 1
}

need_tools() {
	local t
	for t in ip ssh ssh-keygen nsenter unshare setsid mount umount awk find; do
		command -v "$t" >/dev/null || find_sbin "$t" >/dev/null ||
			die "'$t' not found (apt-get install iproute2 openssh-client util-linux mount gawk)"
	done
	SSHD=$(find_sbin sshd) || die "'sshd' not found: apt-get install openssh-server (no service needs to run)"
	case "$SSHD" in /*) ;; *) SSHD=$(cd "$(dirname "$SSHD")" && pwd)/sshd ;; esac
}

check_dir() {  # paths go into sshd/ssh configs and mount options unquoted
	case "$1" in *[!A-Za-z0-9._/+@-]*) die "dir '$1' has characters ssh configs or mount options cannot take (use [A-Za-z0-9._/+@-])" ;; esac
}

# --- state -----------------------------------------------------------------

load_state() {  # load_state DIR: sets FL_* or returns 1
	local st="$1/.fleetlab/state"
	[ -f "$st" ] || return 1
	# shellcheck disable=SC1090
	. "$st"
}

save_state() {
	local v
	mkdir -p "$FL_DIR/.fleetlab"
	: >"$FL_DIR/.fleetlab/state.tmp"
	for v in FL_ID FL_DIR FL_N FL_NET FL_BR FL_METRIC FL_USER FL_DISK FL_SRV FL_CP FL_CPTMP FL_SSHD; do
		printf '%s=%q\n' "$v" "${!v-}" >>"$FL_DIR/.fleetlab/state.tmp"
	done
	mv -f "$FL_DIR/.fleetlab/state.tmp" "$FL_DIR/.fleetlab/state"
}

host_index() {  # host_index HOST -> K, checked against FL_N
	local k=${1#host}
	case "$k" in ''|*[!0-9]*) die "unknown host '$1' (use hostK or K, 1..$FL_N)" ;; esac
	k=$((10#$k))
	(( k >= 1 && k <= FL_N )) || die "unknown host '$1' (this fleet has host1..host$FL_N)"
	printf '%s\n' "$k"
}

ns_of()   { printf '%s-%s-%s\n' "$PREFIX" "$FL_ID" "$1"; }
veth_of() { printf 'fl%sh%s\n' "$FL_ID" "$1"; }
ip_of()   { printf '%s.%s\n' "$FL_NET" "$(( $1 + 1 ))"; }
hdir_of() { printf '%s/host%s\n' "$FL_DIR" "$1"; }

anchor_pid() {  # pid of the process that holds HOST's mount namespace
	local f p
	f="$(hdir_of "$1")/anchor.pid"
	[ -s "$f" ] || return 1
	p=$(cat "$f")
	[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "net:[$(stat -c %i "/run/netns/$(ns_of "$1")" 2>/dev/null)]" ] || return 1
	printf '%s\n' "$p"
}

# --- subnet choice ---------------------------------------------------------

ip2int() { local a b c d; IFS=. read -r a b c d <<<"$1"; echo $(( (a << 24) | (b << 16) | (c << 8) | d )); }

# overlaps CAND_INT CAND_LEN: 0 if any IPv4 route (all tables) overlaps, other
# than default routes and the lab safety routes (proto 177).
overlaps() {
	local cand=$1 clen=$2 line pfx len net m
	while read -r line; do
		case "$line" in *"proto 177"*) continue ;; esac
		set -- $line
		case "$1" in unicast|local|broadcast|multicast|throw|unreachable|prohibit|blackhole|nat|anycast) shift ;; esac
		pfx=$1
		[ "$pfx" = default ] && continue
		case "$pfx" in */*) len=${pfx#*/}; pfx=${pfx%/*} ;; *) len=32 ;; esac
		case "$pfx" in *.*.*.*) ;; *) continue ;; esac
		(( len == 0 )) && continue
		net=$(ip2int "$pfx")
		(( len < clen )) && m=$len || m=$clen
		m=$(( (0xffffffff << (32 - m)) & 0xffffffff ))
		(( (net & m) == (cand & m) )) && return 0
	done < <(ip -4 route show table all 2>/dev/null)
	return 1
}

pick_subnet() {  # sets FL_NET=A.B.X; caller holds the lock
	local base=${FLEETLAB_NET:-10.77} start x i
	case "$base" in [0-9]*.[0-9]*) ;; *) die "FLEETLAB_NET='$base' must be two octets like 10.77" ;; esac
	start=$(( $(od -An -N1 -tu1 /dev/urandom) % 254 + 1 ))
	for (( i = 0; i < 254; i++ )); do
		x=$(( (start + i - 1) % 254 + 1 ))
		overlaps "$(ip2int "$base.$x.0")" 24 || { FL_NET=$base.$x; return 0; }
	done
	die "no free /24 left in $base.0.0/16 (every one overlaps a route); set FLEETLAB_NET"
}

# --- up --------------------------------------------------------------------

# Runs inside the host's new network, mount and UTS namespaces (ip netns exec
# + unshare --uts): brings up its link, sets its hostname, gives it its own
# /etc (an overlay, or bind-mounted user files where overlayfs cannot be used)
# and /srv, starts its sshd, then becomes an idle anchor (sleep) that keeps
# those namespaces alive.
ANCHOR_SH='
h=$1 srv=$2 mode=$3 addr=$4 ipcmd=$5 sshd=$6 name=$7
echo "$name" >/proc/sys/kernel/hostname || exit 1
printf "addr add %s/24 dev eth0\nlink set lo up\nlink set eth0 up\n" "$addr" | "$ipcmd" -b - || exit 1
if [ "$mode" != binds ] && mount -t overlay fleetlab-etc -o "lowerdir=/etc,upperdir=$h/etc,workdir=$h/.etcwork" /etc 2>/dev/null; then
	echo overlay >"$h/etcmode"
else
	for f in passwd group shadow; do mount --bind "$h/etc/$f" "/etc/$f" || exit 1; done
	echo binds >"$h/etcmode"
fi
if [ -n "$srv" ]; then mount --bind "$h/disk" "$srv" || exit 1; fi
echo $$ >"$h/anchor.pid.tmp" && mv "$h/anchor.pid.tmp" "$h/anchor.pid"
"$sshd" -f "$h/sshd_config" -E "$h/sshd.log" </dev/null || exit 1
exec sleep infinity
'

write_userdb() {  # write_userdb ETCDIR HOME: passwd/group/shadow with FL_USER
	local e=$1 home=$2
	mkdir -p "$e"
	if awk -F: -v u="$FL_USER" '$1 == u {f = 1} END {exit !f}' /etc/passwd; then
		awk -F: -v OFS=: -v u="$FL_USER" -v home="$home" \
			'$1 == u && u != "root" { $6 = home } 1' /etc/passwd >"$e/passwd"
		cp /etc/group "$e/group"
	else
		{ cat /etc/passwd; printf '%s:x:%s:%s:fleetlab:%s:%s\n' "$FL_USER" "$FL_UID" "$FL_UID" "$home" "$FL_SHELL"; } >"$e/passwd"
		{ cat /etc/group; printf '%s:x:%s:\n' "$FL_USER" "$FL_UID"; } >"$e/group"
	fi
	# only the users that may log in; '*' = no password but not locked
	( umask 077; printf 'root:*:19000:0:99999:7:::\n' >"$e/shadow"
	  [ "$FL_USER" = root ] || printf '%s:*:19000:0:99999:7:::\n' "$FL_USER" >>"$e/shadow" )
	chmod 0644 "$e/passwd" "$e/group"
}

write_sshd_config() {  # write_sshd_config K HDIR ADDR (builtins only: no fork)
	printf '%s\n' \
		"# fleetlab host$1 ($PREFIX-$FL_ID-$1)" \
		"Port 22" \
		"ListenAddress $3" \
		"AddressFamily inet" \
		"HostKey $2/ssh_host_ed25519_key" \
		"PidFile $2/sshd.pid" \
		"AuthorizedKeysFile none" \
		"AuthorizedKeysCommand /bin/cat $FL_DIR/.fleetlab/authorized_keys" \
		"AuthorizedKeysCommandUser root" \
		"PubkeyAuthentication yes" \
		"PasswordAuthentication no" \
		"KbdInteractiveAuthentication no" \
		"PermitRootLogin prohibit-password" \
		"AllowUsers root $FL_USER" \
		"UsePAM no" \
		"UseDNS no" \
		"StrictModes no" \
		"MaxStartups 1000" \
		"MaxSessions 1000" \
		"LoginGraceTime 30" \
		"X11Forwarding no" \
		"PrintMotd no" \
		"PrintLastLog no" \
		"Subsystem sftp internal-sftp" \
		"$FL_SSHD_EXTRA" "${FLEETLAB_SSHD_CONFIG-}" >"$2/sshd_config"
}

cmd_up() {
	[ $# -eq 2 ] || usage
	local n=$1 dir=$2 k h ns addr lockf tries owner='' t key kh='' hl='' ipcmd
	case "$n" in ''|*[!0-9]*) die "N must be a number 1..250, got '$n'" ;; esac
	(( n >= 1 && n <= 250 )) || die "N must be 1..250 (one /24 per run), got '$n'"
	need_root
	need_tools
	ipcmd=$(command -v ip || find_sbin ip)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	check_dir "$dir"
	if load_state "$dir"; then die "'$dir' already holds fleet $FL_ID: run '$0 down $dir' first"; fi
	ip netns add "$PREFIX-probe-$$" 2>/dev/null && ip netns del "$PREFIX-probe-$$" ||
		die "cannot create network namespaces here ('ip netns add' failed): needs root with CAP_SYS_ADMIN on a kernel with CONFIG_NET_NS"

	FL_DIR=$dir FL_N=$n FL_USER=${FLEETLAB_USER:-deploy} FL_DISK=${FLEETLAB_DISK:-256m}
	FL_SRV=${FLEETLAB_SRV-/srv} FL_SSHD=$SSHD FL_CPTMP='' FL_NET='' FL_BR='' FL_METRIC=''
	case "$FL_USER" in ''|*[!a-z0-9_-]*) die "FLEETLAB_USER='$FL_USER' is not a plain user name" ;; esac
	if [ -n "$FL_SRV" ]; then
		[ -d "$FL_SRV" ] || die "FLEETLAB_SRV='$FL_SRV' is not a folder on this machine (set FLEETLAB_SRV= to skip it)"
		check_dir "$FL_SRV"
	fi
	while :; do
		FL_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
		ip netns list | grep -q "^$PREFIX-$FL_ID-" || ip link show "fl${FL_ID}br" >/dev/null 2>&1 || break
	done
	FL_BR=fl${FL_ID}br
	FL_METRIC=$(( 16#$FL_ID + 1000 ))
	# ControlPath must fit a unix socket path (108 bytes) with %C (40) + 17
	FL_CP=$dir/cm
	if (( ${#FL_CP} > 48 )); then FL_CP=$(mktemp -d "${TMPDIR:-/tmp}/flcm.XXXXXX"); FL_CPTMP=$FL_CP; fi
	save_state
	UP_DONE=0 FL_BG=()
	trap 'up_abort' EXIT
	trap 'exit 130' INT TERM HUP

	# subnet + bridge under a lock so concurrent runs pick different /24s
	lockf=/run/lock/fleetlab.lock
	[ -d /run/lock ] && [ -w /run/lock ] || lockf=${TMPDIR:-/tmp}/fleetlab.lock
	exec 9>>"$lockf"
	if command -v flock >/dev/null; then flock -w 60 9 || die "timed out waiting for $lockf"; fi
	pick_subnet
	save_state
	ip link add "$FL_BR" type bridge
	ip addr add "$FL_NET.1/24" dev "$FL_BR"
	ip link set "$FL_BR" up
	exec 9>&-
	ip route add unreachable "${FL_NET%.*}.0.0/16" metric "$FL_METRIC" proto 177 2>/dev/null || true

	# keys: the client's, then every host's in parallel
	mkdir -p "$dir/.fleetlab" "$FL_CP"
	chmod 0700 "$FL_CP"
	rm -f "$dir/id_ed25519" "$dir/id_ed25519.pub"
	ssh-keygen -q -t ed25519 -N '' -C "fleetlab-$FL_ID" -f "$dir/id_ed25519"
	cp "$dir/id_ed25519.pub" "$dir/.fleetlab/authorized_keys"
	chmod 0644 "$dir/.fleetlab/authorized_keys"
	local mk=()
	for (( k = 1; k <= n; k++ )); do
		h=$dir/host$k
		[ ! -e "$h" ] || rm -rf --one-file-system "$h"
		mk+=("$h/disk" "$h/.etcwork")
	done
	mkdir -p "${mk[@]}"
	for (( k = 1; k <= n; k++ )); do
		ssh-keygen -q -t ed25519 -N '' -C "host$k" -f "$dir/host$k/ssh_host_ed25519_key" &
	done
	wait
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd   # sshd's privsep dir

	# the login user; one missing from /etc/passwd gets a free uid >= 30000
	FL_UID=$(awk -F: 'BEGIN {u = 30000} {seen[$3] = 1} END {while (u in seen) u++; print u}' /etc/passwd)
	FL_SHELL=/bin/sh; [ -x /bin/bash ] && FL_SHELL=/bin/bash
	[ -z "$FL_SRV" ] || write_userdb "$dir/.fleetlab/etc" "$FL_SRV"
	FL_SSHD_EXTRA=
	# options of newer OpenSSH (9.8+) that would penalise a test's failures
	if "$SSHD" -t -f /dev/null -o PerSourcePenalties=no -o HostKey="$dir/id_ed25519" >/dev/null 2>&1; then
		FL_SSHD_EXTRA=$'PerSourcePenalties no\nPerSourceMaxStartups none'
	fi

	# links, in one ip process: namespace, veth pair, bridge port
	for (( k = 1; k <= n; k++ )); do
		printf 'netns add %s\nlink add fl%sh%s type veth peer name eth0 netns %s\nlink set fl%sh%s master %s up\n' \
			"$PREFIX-$FL_ID-$k" "$FL_ID" "$k" "$PREFIX-$FL_ID-$k" "$FL_ID" "$k" "$FL_BR"
	done | ip -b -

	if [ "$FL_USER" != root ]; then
		[ -n "$FL_SRV" ] || write_userdb "$dir/.fleetlab/etc" /
		owner=$(awk -F: -v u="$FL_USER" '$1 == u {print $3 ":" $4}' "$dir/.fleetlab/etc/passwd")
	fi
	# per host: the main loop only forks; each host's job mounts its disk,
	# fills its /etc layer, then enters its namespace (ANCHOR_SH)
	FL_BG=()
	for (( k = 1; k <= n; k++ )); do
		h=$dir/host$k ns=$PREFIX-$FL_ID-$k addr=$FL_NET.$(( k + 1 ))
		read -r t key _ <"$h/ssh_host_ed25519_key.pub"
		kh+="host$k,$addr $t $key"$'\n'
		hl+="host$k $addr $ns"$'\n'
		write_sshd_config "$k" "$h" "$addr"
		if (( k == 1 )); then
			"$SSHD" -t -f "$h/sshd_config" || die "sshd rejects its config $h/sshd_config"
		fi
		(
			set -e
			if [ "$FL_DISK" != 0 ]; then
				mount -t tmpfs -o "size=$FL_DISK,mode=0755${owner:+,uid=${owner%:*},gid=${owner#*:}}" \
					"fleetlab-$FL_ID-$k" "$h/disk"
			elif [ -n "$owner" ]; then
				chown "$owner" "$h/disk"
			fi
			if [ -n "$FL_SRV" ]; then cp -r "$dir/.fleetlab/etc" "$h/etc"; else write_userdb "$h/etc" "$h/disk"; fi
			exec setsid ip netns exec "$ns" unshare --uts /bin/sh -c "$ANCHOR_SH" fleetlab-anchor \
				"$h" "$FL_SRV" "${FLEETLAB_ETC:-overlay}" "$addr" "$ipcmd" "$SSHD" "host$k"
		) </dev/null >>"$h/anchor.log" 2>&1 &
		FL_BG[k]=$!
	done
	printf '%s' "$kh" >"$dir/known_hosts"
	printf '%s' "$hl" >"$dir/hosts"
	# sshd writes its pid file once it listens
	tries=0
	for (( k = 1; k <= n; k++ )); do
		h=$dir/host$k
		while [ ! -s "$h/sshd.pid" ]; do
			if (( tries++ > 1200 )) || ! kill -0 "${FL_BG[k]}" 2>/dev/null; then
				die "host$k did not come up: $(cat "$h/anchor.log" "$h/sshd.log" 2>/dev/null)"
			fi
			sleep 0.05
		done
	done

	{
		printf '# fleetlab %s: %s host(s) in %s.0/24; ssh -F %s/ssh_config hostK\n' "$FL_ID" "$n" "$FL_NET" "$dir"
		for (( k = 1; k <= n; k++ )); do
			printf 'Host host%s\n  HostName %s\n  HostKeyAlias host%s\n' "$k" "$FL_NET.$(( k + 1 ))" "$k"
		done
		cat <<-EOF
		Host *
		  User $FL_USER
		  Port 22
		  IdentityFile $dir/id_ed25519
		  IdentitiesOnly yes
		  IdentityAgent none
		  UserKnownHostsFile $dir/known_hosts
		  GlobalKnownHostsFile /dev/null
		  StrictHostKeyChecking yes
		  UpdateHostKeys no
		  CheckHostIP no
		  BatchMode yes
		  AddressFamily inet
		  ControlMaster auto
		  ControlPath $FL_CP/%C
		  ControlPersist 60
		EOF
	} >"$dir/ssh_config"
	save_state
	UP_DONE=1
	trap - EXIT INT TERM HUP
	log "up: $n host(s) in $FL_NET.0/24 as '$FL_USER' (etc: $(cat "$dir/host1/etcmode")); try: ssh -F $dir/ssh_config host1 true"
}

start_sshd() {  # start_sshd K: sshd in the anchor's net + mount namespaces
	local k=$1 h a
	h=$(hdir_of "$k")
	a=$(cat "$h/anchor.pid")
	rm -f "$h/sshd.pid"
	nsenter -t "$a" -n -m -u -- "$FL_SSHD" -f "$h/sshd_config" -E "$h/sshd.log" </dev/null ||
		die "sshd of host$k failed to start: $(tail -3 "$h/sshd.log" 2>/dev/null)"
}

wait_sshd() {  # the pid file is written once sshd listens
	local k=$1 h tries
	h=$(hdir_of "$k")
	for (( tries = 0; tries < 200; tries++ )); do [ -s "$h/sshd.pid" ] && return 0; sleep 0.05; done
	die "sshd of host$k did not start listening: $(tail -3 "$h/sshd.log" 2>/dev/null)"
}

up_abort() {
	local rc=$?
	local k t
	[ "${UP_DONE:-1}" = 1 ] && return
	printf '%s: up failed (exit %s); removing what it made\n' "$ME" "$rc" >&2
	# let each host's job settle (inside its namespace, or gone) first
	for k in "${!FL_BG[@]}"; do
		for (( t = 0; t < 100; t++ )); do
			kill -0 "${FL_BG[k]}" 2>/dev/null && [ ! -s "$FL_DIR/host$k/anchor.pid" ] || break
			sleep 0.05
		done
	done
	FLEETLAB_QUIET=1 cmd_down "$FL_DIR" || true
}

# --- faults ----------------------------------------------------------------

# ns_pids NS...: pids of every process in those namespaces (one /proc scan)
ns_pids() {
	local ns ino expr=()
	for ns in "$@"; do
		ino=$(stat -c %i "/run/netns/$ns" 2>/dev/null) || continue
		expr+=(${expr[0]+-o} -lname "net:\\[$ino\\]")
	done
	[ ${#expr[@]} -gt 0 ] || return 0
	find /proc/[0-9]*/ns/net -maxdepth 0 \( "${expr[@]}" \) 2>/dev/null | cut -d/ -f3 || true
}

signal_host() {  # signal_host SIG NS: every process in the namespace
	local sig=$1 ns=$2 pids round
	for round in 1 2 3; do   # again, for processes forked meanwhile
		pids=$(ns_pids "$ns")
		[ -n "$pids" ] || return 0
		kill "-$sig" $pids 2>/dev/null || true
	done
}

fw() {  # fw NS MODE [ARG]: MODE = clear | drop | loss
	local ns=$1 mode=$2 arg=${3-}
	if command -v nft >/dev/null || find_sbin nft >/dev/null; then
		local nft; nft=$(command -v nft || find_sbin nft)
		ip netns exec "$ns" "$nft" delete table inet fleetlab 2>/dev/null || true
		case "$mode" in
		clear) return 0 ;;
		drop) ip netns exec "$ns" "$nft" -f - <<-EOF
			table inet fleetlab {
			  chain in { type filter hook input priority -10; policy drop; }
			  chain out { type filter hook output priority -10; policy drop; }
			}
			EOF
			;;
		loss) ip netns exec "$ns" "$nft" -f - <<-EOF
			table inet fleetlab {
			  chain in { type filter hook input priority -10; meta iifname "eth0" numgen random mod 100 < $arg drop; }
			  chain out { type filter hook output priority -10; meta oifname "eth0" numgen random mod 100 < $arg drop; }
			}
			EOF
			;;
		esac
	elif command -v iptables >/dev/null || find_sbin iptables >/dev/null; then
		local ipt; ipt=$(command -v iptables || find_sbin iptables)
		ip netns exec "$ns" "$ipt" -w -F INPUT 2>/dev/null || true
		ip netns exec "$ns" "$ipt" -w -F OUTPUT 2>/dev/null || true
		case "$mode" in
		clear) return 0 ;;
		drop) ip netns exec "$ns" "$ipt" -w -A INPUT -j DROP
		      ip netns exec "$ns" "$ipt" -w -A OUTPUT -j DROP ;;
		loss) ip netns exec "$ns" "$ipt" -w -A INPUT -i eth0 -m statistic --mode random --probability "0.$(printf '%02d' "$arg")" -j DROP
		      ip netns exec "$ns" "$ipt" -w -A OUTPUT -o eth0 -m statistic --mode random --probability "0.$(printf '%02d' "$arg")" -j DROP ;;
		esac
	else
		[ "$mode" = clear ] && return 0
		die "fault '$mode' needs nftables or iptables: apt-get install nftables"
	fi
}

cmd_fault() {
	[ $# -eq 3 ] || usage
	local kind=$1 host=$2 dir=$3 k ns veth h arg=
	need_root
	load_state "$dir" || die "no fleet in '$dir' (run '$0 up N $dir' first)"
	k=$(host_index "$host")
	ns=$(ns_of "$k") veth=$(veth_of "$k") h=$(hdir_of "$k")
	case "$kind" in *:*) arg=${kind#*:}; kind=${kind%%:*} ;; esac
	case "$kind" in
	down)   ip link set "$veth" down ;;
	up)     ip link set "$veth" up ;;
	hang)   signal_host STOP "$ns" ;;
	resume) signal_host CONT "$ns" ;;
	drop)   fw "$ns" drop ;;
	loss)   case "$arg" in [0-9]|[0-9][0-9]) ;; *) die "loss needs a percentage 0..99: loss:30" ;; esac
	        fw "$ns" loss "$arg" ;;
	slow)   [ -n "$arg" ] || die "slow needs a rate: slow:256kbit"
	        tc qdisc replace dev "$veth" root tbf rate "$arg" burst 16kb latency 500ms
	        tc -n "$ns" qdisc replace dev eth0 root tbf rate "$arg" burst 16kb latency 500ms ;;
	refuse) [ -s "$h/sshd.pid" ] && kill -TERM "$(cat "$h/sshd.pid")" 2>/dev/null || true
	        rm -f "$h/sshd.pid" ;;
	full)   [ "$FL_DISK" != 0 ] || die "host$k has no tmpfs disk (FLEETLAB_DISK=0)"
	        fallocate -l "$(df --output=avail -B1 "$h/disk" | tail -1)" "$h/disk/.fleetlab-fill" 2>/dev/null || true
	        dd if=/dev/zero of="$h/disk/.fleetlab-fill2" bs=4k 2>/dev/null || true ;;
	heal)
	        ip link set "$veth" up
	        signal_host CONT "$ns"
	        fw "$ns" clear
	        tc qdisc del dev "$veth" root 2>/dev/null || true
	        tc -n "$ns" qdisc del dev eth0 root 2>/dev/null || true
	        rm -f "$h/disk/.fleetlab-fill" "$h/disk/.fleetlab-fill2"
	        if ! { [ -s "$h/sshd.pid" ] && kill -0 "$(cat "$h/sshd.pid")" 2>/dev/null; }; then
	        	start_sshd "$k"; wait_sshd "$k"
	        fi ;;
	*) die "unknown fault '$kind' (down up hang resume drop loss:PCT slow:RATE refuse full heal)" ;;
	esac
	mark "$h" "$kind" "$arg"
}

mark() {  # mark HDIR KIND ARG: keep HDIR/faults (one active fault a line)
	local f=$1/faults cur
	cur=$(cat "$f" 2>/dev/null || true)
	case "$2" in
	heal)   : >"$f"; return ;;
	up)     cur=$(grep -vx down <<<"$cur" || true) ;;
	resume) cur=$(grep -vx hang <<<"$cur" || true) ;;
	drop|loss) cur=$(grep -v '^fw:' <<<"$cur" || true); cur+=$'\n'"fw:$2${3:+:$3}" ;;
	slow)   cur=$(grep -v '^slow:' <<<"$cur" || true); cur+=$'\n'"slow:$3" ;;
	*)      grep -qx "$2" <<<"$cur" || cur+=$'\n'"$2" ;;
	esac
	grep -v '^$' <<<"$cur" >"$f" || true
}

cmd_exec() {
	[ $# -ge 3 ] || usage
	local host=$1 dir=$2 k a
	shift 2
	need_root
	load_state "$dir" || die "no fleet in '$dir'"
	k=$(host_index "$host")
	a=$(anchor_pid "$k") || die "host$k has no running anchor process"
	exec nsenter -t "$a" -n -m -u -- "$@"
}

cmd_status() {
	[ $# -eq 1 ] || usage
	local dir=$1 k h p state
	load_state "$dir" || { echo "no fleet in '$dir'"; return 0; }
	for (( k = 1; k <= FL_N; k++ )); do
		h=$(hdir_of "$k")
		p=$(cat "$h/sshd.pid" 2>/dev/null || echo -)
		state=$(ip -o link show "$(veth_of "$k")" 2>/dev/null | grep -o 'state [A-Z]*' || echo 'no link')
		printf 'host%s %s %s sshd=%s %s faults=%s\n' "$k" "$(ip_of "$k")" "$(ns_of "$k")" "$p" "$state" \
			"$(paste -sd, "$h/faults" 2>/dev/null | grep . || echo none)"
	done
}

# --- down ------------------------------------------------------------------

# recover_state DIR: DIR/.fleetlab is gone (a test removed DIR first); find
# the fleet from its tmpfs disks or its sshds and rebuild what down needs
recover_state() {
	local dir=$1 id='' p
	id=$(awk -v d="$dir/" 'index($5, d) == 1 { split($0, a, " - "); split(a[2], b, " ")
		if (b[2] ~ /^fleetlab-[0-9a-f]+-[0-9]+$/) { sub(/^fleetlab-/, "", b[2]); sub(/-[0-9]+$/, "", b[2]); print b[2]; exit } }' \
		/proc/self/mountinfo)
	if [ -z "$id" ]; then
		for p in $(grep -las -- "-f $dir/host[0-9]*/sshd_config" /proc/[0-9]*/cmdline | cut -d/ -f3); do
			id=$(ip netns identify "$p" 2>/dev/null | sed -n "s/^$PREFIX-\([0-9a-f]*\)-[0-9]*$/\1/p")
			[ -z "$id" ] || break
		done
	fi
	[ -n "$id" ] || return 1
	FL_ID=$id FL_DIR=$dir FL_CP=$dir/cm FL_CPTMP='' FL_METRIC=$(( 16#$id + 1000 ))
	FL_N=$(ip netns list | sed -n "s/^$PREFIX-$id-\([0-9]*\).*/\1/p" | sort -n | tail -1)
	FL_N=${FL_N:-0}
	FL_NET=$(ip -4 -o addr show dev "fl${id}br" 2>/dev/null | awk '{print $4}' | sed 's/\.1\/24$//')
	log "no state in '$dir'; found fleet $id from what still runs"
}

cmd_down() {
	[ $# -eq 1 ] || usage
	local dir=$1 s ns nss m round pids=''
	need_root
	if [ -d "$dir" ]; then dir=$(cd "$dir" && pwd -P); else dir=$(realpath -m "$dir"); fi
	if ! load_state "$dir" && ! recover_state "$dir"; then
		log "no fleet in '$dir'; nothing to do"
		return 0
	fi
	# client masters first: `-O exit` talks to the local socket only
	for s in "$FL_CP"/*; do
		[ -S "$s" ] && timeout 5 ssh -F /dev/null -o ControlPath="$s" -O exit fleetlab >/dev/null 2>&1 || true
	done
	# reopen faulted links and firewalls first, so that the FIN of every
	# session killed below reaches its client (masters then exit at once)
	for (( round = 1; round <= FL_N; round++ )); do
		[ -s "$dir/host$round/faults" ] || continue
		ip link set "fl${FL_ID}h$round" up 2>/dev/null || true
		if grep -q '^fw:' "$dir/host$round/faults"; then fw "$PREFIX-$FL_ID-$round" clear 2>/dev/null || true; fi
	done
	# every process in the lab's namespaces (sshd, sessions, what they left);
	# SIGKILL also ends stopped ones
	nss=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-$FL_ID-" || true)
	for round in 1 2 3 4 5 6 7 8 9 10; do
		# shellcheck disable=SC2086
		pids=$(ns_pids $nss)
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
	[ -z "$pids" ] || log "processes still in the lab's namespaces: $pids"
	for ns in $nss; do printf 'netns del %s\n' "$ns"; done | ip -b - 2>/dev/null || true
	ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^fl$FL_ID" |
		sed 's/^/link del /' | ip -b - 2>/dev/null || true
	[ -z "$FL_NET" ] || ip route del unreachable "${FL_NET%.*}.0.0/16" metric "$FL_METRIC" proto 177 2>/dev/null || true
	# mounts under DIR (tmpfs disks), deepest first
	m=$(awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
	if [ -n "$m" ]; then
		# shellcheck disable=SC2086
		umount $m 2>/dev/null || for s in $m; do umount "$s" 2>/dev/null || umount -l "$s" 2>/dev/null || true; done
	fi
	if awk -v d="$dir/" 'index($5, d) == 1 {f = 1} END {exit !f}' /proc/self/mountinfo; then
		die "mounts under '$dir' are still there; files kept"
	fi
	[ -z "$FL_CPTMP" ] || rm -rf --one-file-system "$FL_CPTMP"
	if [ -z "${FLEETLAB_KEEP:-}" ]; then
		m=()
		for (( round = 1; round <= FL_N; round++ )); do m+=("$dir/host$round"); done
		rm -rf --one-file-system "${m[@]}" "$dir/cm"
		rm -f "$dir/ssh_config" "$dir/known_hosts" "$dir/hosts" "$dir/id_ed25519" "$dir/id_ed25519.pub"
	fi
	rm -rf --one-file-system "$dir/.fleetlab"
	log "down: fleet $FL_ID removed"
}

# --- main ------------------------------------------------------------------

[ $# -ge 1 ] || usage
cmd=$1; shift
case "$cmd" in
up)     cmd_up "$@" ;;
fault)  cmd_fault "$@" ;;
exec)   cmd_exec "$@" ;;
status) cmd_status "$@" ;;
down)   cmd_down "$@" ;;
-h|--help|help) usage ;;
*) die "unknown command '$cmd' (up, fault, exec, status, down)" ;;
esac
