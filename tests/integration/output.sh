#!/usr/bin/env bash
# Output that cannot be written is a failure: every command that prints
# checks its writes to stdout and the closing of it, and exits 1 naming the
# error (as coreutils and git do), in text and with --json. /dev/full
# fails every write with ENOSPC. A command that changed things says that
# it completed all the same. A reader that stops early (a broken pipe)
# fails quietly.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
mkdir db var && echo one > VERSION
echo 'CREATE TABLE t (x);' > db/0001_t.up.sql
echo 'DROP TABLE t;' > db/0001_t.down.sql
git add -A && git commit -qm one
cat > ripcord.ini <<'INI'
[project]
name = app
[migrations]
dir = db
driver = sqlite
database = var/app.db
[target "a"]
root = targets/a
INI
rc -q cut --id v1 >/dev/null 2>&1
echo two > VERSION && git commit -qam two && rc -q cut --id v2 >/dev/null 2>&1
echo three > VERSION && git commit -qam three && rc -q cut --id v3 >/dev/null 2>&1
rc -q deploy v1 >/dev/null 2>&1 && rc -q deploy v2 >/dev/null 2>&1

full() { # "description" args...: exit 1 and the message, stdout to /dev/full
  local d=$1; shift
  "$RIPCORD" "$@" >/dev/full 2>"$WORK/last.err"; local got=$?
  if [ "$got" -eq 1 ] && grep -q "^ripcord: error writing to standard output" "$WORK/last.err"; then
    ok "$d > /dev/full: exit 1, says so"
  else
    not_ok "$d > /dev/full: exit $got, expected 1 and the message" "$(cat "$WORK/last.err")"
  fi
}

full "--version" --version
full "status" status
err_has "naming the cause" "error writing to standard output: No space left on device"
full "--help" --help
for cmd in "status" "releases" "log" "verify" "verify v1" "migrate status" \
    "gc --dry-run" "rollout status" "drill v1" "deploy v3 --dry-run" \
    "rollback --dry-run" "report -o -"; do
  # shellcheck disable=SC2086
  full "$cmd" $cmd
  [ "$cmd" = "report -o -" ] && continue
  # shellcheck disable=SC2086
  full "--json $cmd" --json $cmd
done
full "report --json" report --json

# a command that changed things did so: the message says it completed
full "deploy v3" deploy v3
err_has "the deploy itself completed, and the message says so" "(the command itself completed: see 'ripcord log')"
check "a runs v3" test "$(readlink targets/a/current)" = releases/v3
full "rollback" rollback
check "a is back on v2" test "$(readlink targets/a/current)" = releases/v2
full "cut" cut --id v4

# a reader that stops early: no message, not exit 0
"$RIPCORD" --json log 2>"$WORK/pipe.err" | head -c 1 >/dev/null
check "a broken pipe prints no error" test ! -s "$WORK/pipe.err"

# and output that could be written is still exit 0
expect_exit 0 "status to a file" rc status
check "wrote the table" grep -q '^a ' "$WORK/last.out"
done_testing
