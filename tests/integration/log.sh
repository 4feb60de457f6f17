#!/usr/bin/env bash
# `ripcord log`: the audit log end to end: nothing before the first cut, one
# entry per cut with its command line, JSON, the hash chain checked by
# `log --verify` and by hand (the recipe of ripcord-log(1): sqlite3 and
# sha256sum), and an edit or a deletion made with sqlite3 caught with exit 3.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
echo hi > README && git add -A && git commit -qm one
printf '[project]\nname = shop\n' > ripcord.ini
db=$repo/.ripcord/state.db

# before anything was done
expect_exit 0 "log without a store" rc log
check "says there are no entries" grep -qx "no audit entries yet" "$WORK/last.out"
check "and makes no store" test ! -e .ripcord
expect_exit 0 "log --verify without a store" rc log --verify
check "says the same" grep -qx "no audit entries yet" "$WORK/last.out"
expect_exit 0 "--json log without a store" rc --json log
check "is an empty array" test "$(cat "$WORK/last.out")" = "[]"
mkdir .ripcord
expect_exit 0 "log on an empty store" rc log
check "says there are no entries" grep -qx "no audit entries yet" "$WORK/last.out"
rmdir .ripcord 2>/dev/null || rm -rf .ripcord

# usage
expect_exit 2 "-n 0 is a usage error" rc log -n 0
err_has "naming the value" "not '0'"
expect_exit 2 "-n x is a usage error" rc log -n x
expect_exit 2 "-n with --verify is a usage error" rc log -n 1 --verify
expect_exit 2 "an argument is a usage error" rc log extra
expect_exit 0 "--help" rc log --help

# one cut, one entry
# SUDO_USER names the person behind sudo (ripcord(1), ENVIRONMENT)
expect_exit 0 "cut v1" env SUDO_USER=auditor "$RIPCORD" cut --id v1
expect_exit 0 "log after the cut" rc log
check "a header and one entry" test "$(wc -l < "$WORK/last.out")" -eq 2
check "the header names the columns" grep -qE '^WHEN UTC +USER@HOST +EXIT +SECONDS +COMMAND +RESULT$' "$WORK/last.out"
check "the entry has the command line and ok" grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} auditor@$(uname -n) +0 +[0-9]+\\.[0-9]{3} ripcord cut --id v1 +ok\$" "$WORK/last.out"
expect_exit 0 "--json log" rc --json log
cp "$WORK/last.out" "$WORK/one.json"
check "--json parses, with the fields of the page" python3 -c "
import json; d = json.load(open('$WORK/one.json')); assert len(d) == 1, d
e = d[0]
assert e['seq'] == 1 and e['command'] == 'ripcord cut --id v1', e
assert e['result'] == 'ok' and e['exit_code'] == 0 and e['prev_sha256'] == '', e
assert len(e['sha256']) == 64 and e['seconds'] >= 0 and e['at'] > 0, e
assert e['uid'] == $(id -u) and e['user'] == 'auditor', e
assert e['host'] == '$(uname -n)', e"
check "seconds keeps its milliseconds and no float noise" grep -qE '"seconds":[0-9]+(\.[0-9]{1,3})?,' "$WORK/one.json"
expect_exit 0 "log --json after the command" rc log --json
check "is the same document" cmp -s "$WORK/last.out" "$WORK/one.json"
expect_exit 0 "log --verify passes" rc log --verify
check "and counts the entry" grep -qx "audit log intact (1 entry)" "$WORK/last.out"

# a second cut links to the first
echo two > TWO && git add TWO && git commit -qm two
expect_exit 0 "cut v2" rc cut --id v2
expect_exit 0 "log -n 1" rc log -n 1
check "shows only the newest" sh -c "grep -q 'ripcord cut --id v2' '$WORK/last.out' && ! grep -q 'cut --id v1' '$WORK/last.out'"
expect_exit 0 "--json log" rc --json log
check "entry 2 carries entry 1's sha256" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert [e['seq'] for e in d] == [1, 2] and d[1]['prev_sha256'] == d[0]['sha256'], d"
expect_exit 0 "log --verify passes" rc log --verify
check "and counts both" grep -qx "audit log intact (2 entries)" "$WORK/last.out"

if ! command -v sqlite3 >/dev/null; then
  ok "# SKIP the hand check and the tampering need sqlite3"
  done_testing; exit
fi

# the recipe of ripcord-log(1), by hand
recipe() {
  sqlite3 -newline '' "$db" "SELECT printf(replace(
    'ripcord-audit-1|seq %d|at %d|user %d:%s|uid %d|host %d:%s|' ||
    'command %d:%s|result %d:%s|exit_code %d|seconds %.3f|' ||
    'prev_sha256 %s|', '|', char(10)), seq, at,
    length(CAST(user AS BLOB)), user, uid, length(CAST(host AS BLOB)),
    host, length(CAST(command AS BLOB)), command,
    length(CAST(result AS BLOB)), result, exit_code, seconds,
    prev_sha256) FROM audit WHERE seq = $1" | sha256sum | cut -d' ' -f1
}
for n in 1 2; do
  check "sqlite3 and sha256sum recompute entry $n" test "$(recipe $n)" = "$(sqlite3 "$db" "SELECT sha256 FROM audit WHERE seq = $n")"
done

# an edited history
sqlite3 "$db" "UPDATE audit SET result = 'failed' WHERE seq = 1"
expect_exit 3 "an edited result breaks log --verify with exit 3" rc log --verify
err_has "naming the entry" "audit entry 1: its fields do not match its sha256"
expect_exit 3 "--json log --verify" rc --json log --verify
check "reports intact false" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert d['intact'] is False and d['entries'] == 0 and 'audit entry 1' in d['error'], d"
expect_exit 0 "log still lists an edited history" rc log
sqlite3 "$db" "UPDATE audit SET result = 'ok' WHERE seq = 1"
expect_exit 0 "put back, the chain verifies again" rc log --verify
sqlite3 "$db" "DELETE FROM audit WHERE seq = 1"
expect_exit 3 "a deleted entry breaks log --verify" rc log --verify
err_has "naming the missing entry" "audit entry 1: missing"
sqlite3 "$db" "DELETE FROM audit"
expect_exit 3 "an emptied log is caught too" rc log --verify
err_has "naming the first missing entry" "audit entry 1: missing (deleted: the log is empty but had 2 entries)"

done_testing
