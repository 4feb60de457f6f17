#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# pg.sh: a throw-away PostgreSQL server for the tests, owned by one folder.
#
#   tests/pg.sh start DIR   initdb into DIR/data (trust auth), start postgres
#                           with its unix socket in DIR and no TCP at all,
#                           create the database ripcord_test, and print its
#                           conninfo on stdout:
#                             host=DIR dbname=ripcord_test user=postgres
#   tests/pg.sh stop DIR    stop that server (pg_ctl -m fast).
#
# Everything but the conninfo goes to stderr; the server log is DIR/log.
# Run as root, the server runs as the `postgres` OS user (postgres refuses
# root) and DIR is chowned to it. Starting an already initialised DIR only
# starts it again. Typical use:
#   export RIPCORD_TEST_PG="$(tests/pg.sh start /tmp/ripcord-pg)"
#   meson test -C build fingerprint
#   tests/pg.sh stop /tmp/ripcord-pg
set -euo pipefail

die() {
	printf 'pg.sh: %s\n' "$*" >&2
	exit 1
}

usage() {
	printf 'usage: pg.sh start DIR | pg.sh stop DIR\n' >&2
	exit 2
}

# The newest server binaries Debian installed, or those on PATH.
find_bindir() {
	local d best=""
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] || continue
		if [ -z "$best" ] ||
			[ "$(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n 1)" = "$d" ]; then
			best=$d
		fi
	done
	if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then
		best=$(dirname "$(command -v initdb)")
	fi
	[ -n "$best" ] || die "no PostgreSQL server found (install the postgresql package)"
	printf '%s\n' "$best"
}

# Runs a command as the server's owner: postgres when we are root.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u postgres -- "$@"
		else
			# setpriv does not change HOME; postgres does not need it
			setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
		fi
	else
		"$@"
	fi
}

# Absolute path of DIR, created when missing; rejects what the socket
# path or pg_ctl's own shell line cannot carry.
abs_dir() {
	local dir=$1
	mkdir -p -- "$dir"
	dir=$(cd -- "$dir" && pwd -P)
	case $dir in
	*\'* | *\"* | *\\* | *' '*)
		die "folder '$dir' has quotes, backslashes or spaces (pg_ctl passes it through a shell); pick another" ;;
	esac
	# sockaddr_un holds 107 bytes: DIR + "/.s.PGSQL.5432.lock"
	[ "${#dir}" -le 85 ] || die "folder '$dir' is too long for a unix socket path; pick a shorter one"
	printf '%s\n' "$dir"
}

cmd_start() {
	local dir bin i
	dir=$(abs_dir "$1")
	bin=$(find_bindir)
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || die "there is no 'postgres' user to run the server as"
		chown postgres: "$dir"
		as_owner test -w "$dir" -a -x "$dir" ||
			die "user 'postgres' cannot reach '$dir' (a parent folder is private); pick a folder under /tmp"
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres \
			-E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
			die "initdb failed; see $dir/initdb.log"
	fi
	if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
			-o "-k '$dir' -c listen_addresses='' -c fsync=off" start >&2 ||
			die "postgres did not start; see $dir/log"
	fi
	for i in $(seq 1 60); do
		if "$bin/pg_isready" -q -h "$dir" -U postgres; then
			break
		fi
		[ "$i" -lt 60 ] || die "postgres did not answer within 30 s; see $dir/log"
		sleep 0.5
	done
	if [ "$("$bin/psql" -h "$dir" -U postgres -d postgres -XAtq -c \
		"SELECT count(*) FROM pg_database WHERE datname = 'ripcord_test'")" = 0 ]; then
		"$bin/createdb" -h "$dir" -U postgres ripcord_test ||
			die "cannot create the database ripcord_test"
	fi
	printf 'host=%s dbname=ripcord_test user=postgres\n' "$dir"
}

cmd_stop() {
	local dir bin
	[ -d "$1" ] || die "no folder '$1'"
	dir=$(cd -- "$1" && pwd -P)
	bin=$(find_bindir)
	[ -f "$dir/data/PG_VERSION" ] || die "'$dir' holds no server started by pg.sh"
	if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
	else
		printf 'pg.sh: the server in %s is not running\n' "$dir" >&2
	fi
}

[ $# -eq 2 ] || usage
case $1 in
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
*) usage ;;
esac
