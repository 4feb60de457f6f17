#!/usr/bin/env bash
# Where deploy, rollback, rollout and the audit log meet (issue 13): a
# failed up names its migration and leaves every target where it was, an
# abort undoes exactly what its rollout applied and says so, a probe that
# fails after a good rollback is not called a failed rollback, downs are
# named wherever they run, and the audit log says from, to, targets and
# migrations.
. "$(dirname "$0")/lib.sh"

repo=$WORK/shop
cp -r "$SOURCE_ROOT/examples/shop" "$repo"
cd "$repo" && git init -q .
printf 'keys/\n.ripcord/\nvar/\ntargets/\n' > .gitignore
port1=$((20000 + RANDOM % 20000))
sed '/signing_key\|verify_key/d; /^\[target/,$d' ripcord.ini > "$WORK/base.ini"
for i in 1 2 3 4; do
  printf '[target "web-%s"]\nroot = targets/web-%s\nhealth = http://127.0.0.1:%s/healthz\n\n' \
    "$i" "$i" $((port1 + i - 1)) >> "$WORK/base.ini"
done
printf '[rollout]\nsteps = 25%%, 100%%\nbake = 1s\nprobe_interval = 250ms\nprobe_timeout = 1s\nmax_error_rate = 1%%\nmin_samples = 3\ncompare_baseline = no\nrequire_drill = no\n' >> "$WORK/base.ini"
cp "$WORK/base.ini" ripcord.ini
# release ID VERSION [health.conf lines]: commit, then cut release ID
release() {
  echo "$2" > VERSION
  printf 'status = 200\ndelay_ms = 0\n%b' "${3:-}" > health.conf
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1
}
db() { sqlite3 var/shop.db "$1"; }
runs() { local i s=""; for i in 1 2 3 4; do s="$s $(readlink targets/web-$i/current | sed 's|releases/||')"; done; echo "${s# }"; }

release v1 1.0.0
# v2's up fails in the database: a column that already exists
printf 'ALTER TABLE orders ADD COLUMN item TEXT;\n' > db/migrations/0003_dup.up.sql
printf 'SELECT 1;\n' > db/migrations/0003_dup.down.sql
release v2 2.0.0
git rm -q db/migrations/0003_dup.*
printf 'ALTER TABLE orders ADD COLUMN note TEXT;\n' > db/migrations/0003_add_note.up.sql
printf 'ALTER TABLE orders DROP COLUMN note;\n' > db/migrations/0003_add_note.down.sql
release v3 3.0.0
printf 'ALTER TABLE orders ADD COLUMN rating INTEGER;\n' > db/migrations/0004_rating.up.sql
printf 'ALTER TABLE orders DROP COLUMN rating;\n' > db/migrations/0004_rating.down.sql
release v4 4.0.0
printf 'ALTER TABLE orders ADD COLUMN gift INTEGER;\n' > db/migrations/0005_gift.up.sql
printf 'ALTER TABLE orders DROP COLUMN gift;\n' > db/migrations/0005_gift.down.sql
release v5 5.0.0 'status = 500\n'

expect_exit 0 "deploy v1" rc deploy v1
serve() { python3 "$1/current/server.py" "$2" "$1/current" >/dev/null 2>&1 & echo $!; }
pids=""
for i in 1 2 3 4; do pids="$pids $(serve targets/web-$i $((port1 + i - 1)))"; done
trap 'kill $pids 2>/dev/null; rm -rf "$WORK"' EXIT
for i in 1 2 3 4; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$((port1 + i - 1))/healthz" && break; sleep 0.1; done
done

# ---- 13.1: a deploy whose up fails -----------------------------------
expect_exit 1 "a deploy whose up-migration fails exits 1" rc deploy v2
check "no target switched" test "$(runs)" = "v1 v1 v1 v1"
check "13.1: the table says every target is unchanged, still on v1" sh -c "
  grep -E '^web-1 +v1 +v1 .*unchanged' '$WORK/last.out' && grep -E '^web-4 +v1 +v1 .*unchanged' '$WORK/last.out'"
err_has "13.1: the error names the migration, its version and file" "migration '0003_dup' (version 0003, v2.tar.zst:ripcord/migrations/0003_dup.up.sql)"
err_has "and the database's own message" "duplicate column name: item"
err_has "13.1: and says where the targets are" "switched: 0/4; ups run: 0; web-1 unchanged (still on v1)"
check "13.1: no empty field in the error" sh -c "! grep -q 'migrate up :' '$WORK/last.err'"
"$RIPCORD" --json deploy v2 > "$WORK/d.json" 2>/dev/null
check "13.1: --json says no target went to v2 and none is ok" python3 -c "
import json
d = json.load(open('$WORK/d.json'))
assert d['ok'] is False, d
for t in d['targets']:
    assert t['to'] == 'v1' and t['from'] == 'v1' and t['ok'] is False, t
    assert t['switched'] is False, t
assert '0003_dup' in d['error'], d"

done_testing
