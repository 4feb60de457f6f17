#!/usr/bin/env bash
# Issue 13's configuration seams, end to end: targets that share a root
# (13.6), migration file names that are near misses and downs without
# their up (13.7), and the command driver's timeout (13.14).
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
echo one > VERSION && git add -A && git commit -qm one

# --- 13.6: two targets with the same root -------------------------------
mkdir -p targets/real/deep
ln -s real targets/link
roots() { printf '[project]\nname = app\n\n[target "a"]\nroot = %s\n\n[target "b"]\nroot = %s\n' "$1" "$2" > ripcord.ini; }

roots targets/a targets/a
expect_exit 2 "13.6: two targets with the same root are refused" rc releases
err_has "13.6: ... naming both targets with file:line and the resolved path" \
  "$repo/ripcord.ini:8: targets 'a' ($repo/ripcord.ini:5) and 'b' ($repo/ripcord.ini:8) have the same root: both resolve to '$(realpath "$repo")/targets/a'"
roots targets/real targets/link/
expect_exit 2 "13.6: the same root through a symlink is refused" rc releases
err_has "13.6: ... resolved through the link" "both resolve to '$(realpath "$repo")/targets/real'"
roots targets/new/web targets/real/../new/./web
expect_exit 2 "13.6: the same root through '..', not yet existing, is refused" rc releases
err_has "13.6: ... resolved by hand below what exists" "both resolve to '$(realpath "$repo")/targets/new/web'"
roots targets/link/deep/x targets/real/deep/x
expect_exit 2 "13.6: a missing root below a link is compared through the link" rc releases
roots targets/real targets/link/deep/web-2
expect_exit 2 "13.6: a root nested inside another target's root is refused" rc releases
err_has "13.6: ... and the message says why" "the releases/ of one would be inside the tree of the other"
err_has "13.6: ... naming both roots" "the root of target 'b' ($repo/ripcord.ini:8, resolved '$(realpath "$repo")/targets/real/deep/web-2') is inside the root of target 'a' ($repo/ripcord.ini:5, resolved '$(realpath "$repo")/targets/real')"
roots targets/a targets/a-b
expect_exit 0 "13.6: side-by-side roots whose names share a prefix are fine" rc releases
rm ripcord.ini

# --- 13.7: orphan downs and near-miss names warn; the cut goes on -------
m=$WORK/mig
mkdir -p "$m/db/migrations" && cd "$m" && git init -q .
d=db/migrations
printf 'CREATE TABLE a (x int);\n' > $d/0001_a.up.sql
printf 'DROP TABLE a;\n' > $d/0001_a.down.sql
printf -- '-- ripcord:irreversible\nCREATE TABLE b (x int);\n' > $d/0002_add_b.up.sql
printf 'DROP TABLE b;\n' > $d/0002_add_bb.down.sql
printf 'DROP TABLE c;\n' > $d/0003_c.dwon.sql
printf 'CREATE TABLE d (x int);\n' > $d/0004_d.up.SQL
printf 'DROP TABLE d;\n' > $d/0004_d.down.sql
printf 'CREATE TABLE e (x int);\n' > $d/0005_e.up
printf 'DROP TABLE q;\n' > $d/0157.down.sql
printf '[project]\nname = mig\n[migrations]\ndir = db/migrations\nformat = golang-migrate\n' > ripcord.ini
git add -A && git commit -qm migrations
expect_exit 0 "13.7: a cut whose only problems are warnings succeeds" rc cut --id w1
err_has "13.7: an orphan down is a warning naming the up it was likely meant for" \
  "warning: db/migrations/0002_add_bb.down.sql is a down migration without its up; left out (did you mean it for db/migrations/0002_add_b.up.sql? then name it 0002_add_b.down.sql)"
err_has "13.7: a misspelt .down is a did-you-mean warning" \
  "warning: db/migrations/0003_c.dwon.sql looks like a down migration; ignored (did you mean 0003_c.down.sql?)"
err_has "13.7: an .up.SQL is read, with a warning naming the expected name" \
  "warning: db/migrations/0004_d.up.SQL has the extension '.SQL', not '.sql'; read as SQL all the same (rename it 0004_d.up.sql)"
err_has "13.7: a missing .sql is a did-you-mean warning" \
  "warning: db/migrations/0005_e.up looks like an up migration; ignored (did you mean 0005_e.up.sql?)"
err_has "13.7: (10c) an unnamed down is told of the down it expected" \
  "warning: db/migrations/0157.down.sql has no name; ignored (expected 0157_<name>.down.sql)"
check "13.7: ... and the release carries 0001_a, 0002_add_b and 0004_d" \
  sh -c "tar --zstd -xOf .ripcord/artifacts/w1.tar.zst ripcord/MANIFEST | grep -qx 'ids = 0001_a, 0002_add_b, 0004_d'"

printf 'CREATE TABLE f (x int);\n' > $d/0006_add_f.up.sql
printf 'DROP TABLE f;\n' > $d/0006_add_ff.down.sql
git add -A && git commit -qm f
expect_exit 2 "13.7: an up whose down has a typo is still refused" rc cut --id w2
err_has "13.7: ... after the warning that names it" \
  "db/migrations/0006_add_ff.down.sql is a down migration without its up; left out (did you mean it for db/migrations/0006_add_f.up.sql? then name it 0006_add_f.down.sql)"
err_has "13.7: ... for lacking its down" "error: db/migrations/0006_add_f.up.sql has no down migration"
git rm -q $d/0006_add_f.up.sql $d/0006_add_ff.down.sql && git commit -qm 'no f'

mkdir -p fly && printf 'CREATE TABLE a (x int);\n' > fly/V1__a.sql && printf 'DROP TABLE a;\n' > fly/U1__a.sql
printf 'DROP TABLE b;\n' > fly/U2__b.sql
printf 'CREATE TABLE c (x int);\n' > fly/V3__c.SQL
printf '[project]\nname = mig\nstore = .ripcord-fly\n[migrations]\ndir = fly\nformat = flyway\n' > fly.ini
git add -A && git commit -qm flyway
expect_exit 0 "13.7: flyway: an undo script without its up is a warning" rc -c fly.ini cut --id f1
err_has "13.7: ... saying what to add" "warning: fly/U2__b.sql is a down migration without its up; left out (add V2__b.sql beside it, or remove the down)"
err_has "13.7: flyway: a .SQL is a did-you-mean warning" "warning: fly/V3__c.SQL looks like an up migration; ignored (did you mean V3__c.sql?)"
cd "$repo"

# --- 13.14: the command driver's timeout ---------------------------------
mkdir -p db/migrations
printf 'CREATE TABLE t (x int);\n' > db/migrations/0001_init.up.sql
printf 'DROP TABLE t;\n' > db/migrations/0001_init.down.sql
git add -A && git commit -qm migrations
cmd_ini() { printf '[project]\nname = app\n[migrations]\ndir = db/migrations\ndriver = command\napply = %s {file}\n%b' "$1" "${2:-}" > ripcord.ini; }
cmd_ini /bin/true
expect_exit 0 "13.14: cut a release with one migration" rc cut --id r1
# gone PID: the process is not there (or a zombie left for init to reap)
gone() { ! [ -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# bounded: an old binary that hangs must not hang the test run
bounded() { timeout -k 5 40 "$RIPCORD" "$@"; }

cat > "$WORK/slow.sh" <<EOF
#!/bin/sh
echo "slow.sh: applying \$1"
sleep 60 &
echo \$! > "$WORK/slow.pid"
wait
EOF
chmod +x "$WORK/slow.sh"
cmd_ini "$WORK/slow.sh" 'command_timeout = 1s\n'
start=$(date +%s)
expect_exit 1 "13.14: a command past command_timeout fails the migration" bounded migrate up r1
took=$(( $(date +%s) - start ))
check "13.14: ... within the timeout, not after the command's 60 s (took ${took}s)" test "$took" -le 10
err_has "13.14: ... naming the migration, its file and version, and the timeout" \
  "the level of '0001_init' is now dirty: r1.tar.zst:ripcord/migrations/0001_init.up.sql (the up of migration '0001_init', version 0001): '$WORK/slow.sh' ran past [migrations] command_timeout = 1s; its process group was killed (SIGTERM)"
err_has "13.14: ... after showing the command's output" "slow.sh: applying"
pid=$(cat "$WORK/slow.pid" 2>/dev/null)
check "13.14: ... and no process of it is left behind" gone "${pid:-0}"
[ -n "$pid" ] && { gone "$pid" || kill "$pid" 2>/dev/null; }
expect_exit 0 "13.14: migrate status" rc migrate status r1
check "13.14: ... lists the migration as dirty" grep -q '^dirty .* 0001_init$' "$WORK/last.out"
rc migrate mark 0001_init not-applied >/dev/null 2>&1

cat > "$WORK/bg.sh" <<EOF
#!/bin/sh
# starts a child that keeps the output open, then exits 0
sleep 20 &
echo \$! > "$WORK/bg.pid"
exit 0
EOF
chmod +x "$WORK/bg.sh"
cmd_ini "$WORK/bg.sh"
expect_exit 0 "13.14: a command that leaves a child holding its output: applied" bounded migrate up r1
pid=$(cat "$WORK/bg.pid" 2>/dev/null)
check "13.14: ... and the child is not left behind" gone "${pid:-0}"
[ -n "$pid" ] && { gone "$pid" || kill "$pid" 2>/dev/null; }
err_has "13.14: ... with a warning that says so" "left processes holding its output; they were killed"
# again, with ripcord's output on a pipe the child would hold open
rm .ripcord/migrations-ledger.db
start=$(date +%s)
out=$(bounded migrate up r1 2>&1); code=$?
took=$(( $(date +%s) - start ))
d="13.14: ... nor does it hang ripcord's caller reading its output"
if [ "$code" -eq 0 ] && [ "$took" -le 10 ]; then ok "$d (took ${took}s)"
else not_ok "$d (exit $code, took ${took}s)" "$out"; fi
pid=$(cat "$WORK/bg.pid" 2>/dev/null)
[ -n "$pid" ] && { gone "$pid" || kill "$pid" 2>/dev/null; }
rm ripcord.ini

done_testing
