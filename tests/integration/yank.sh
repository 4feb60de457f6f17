#!/usr/bin/env bash
# `ripcord releases yank|unyank|rm` end to end (issue 13, finding 15: a bad
# release could be neither removed nor yanked). A yanked release is
# refused by deploy, rollout start and rollback (exit 1, naming it, the
# reason, who and what to do), skipped by drill --due, left out of the
# rollback readiness of status and report, listed as yanked, and still
# rolled back FROM; unyank undoes it. rm refuses a release that runs, is a
# rollback target or is within keep of what runs (gc's rules), and
# otherwise deletes its artifact, signature, extracted folders and row.
# Every one of them is in the audit log.
. "$(dirname "$0")/lib.sh"

# expect_err CODE "description" NEEDLE command...: exits CODE, stderr has NEEDLE
expect_err() {
  local want=$1 d=$2 needle=$3; shift 3
  "$@" >"$WORK/last.out" 2>"$WORK/last.err"; local got=$?
  if [ "$got" -eq "$want" ] && grep -qF -- "$needle" "$WORK/last.err"; then ok "$d"; else
    not_ok "$d (exit $got, expected $want and '$needle')" "$(cat "$WORK/last.out" "$WORK/last.err")"; fi
}
# jcheck "description" PYTHON: asserts on d, the JSON document of the last command
jcheck() {
  local out
  if out=$(python3 -c "import json,sys
d = json.load(open(sys.argv[1]))
$2" "$WORK/last.out" 2>&1); then ok "$1"; else not_ok "$1" "$out"; fi
}
release() {
  echo "$1" > VERSION && mkdir -p app && echo "payload of $1" > app/main.txt
  git add -A && git commit -qm "$1" && rc -q cut --id "$1" >/dev/null 2>&1
}
runs() { echo "$(readlink targets/web-1/current) $(readlink targets/web-2/current)"; }
ids() { sqlite3 .ripcord/state.db 'SELECT id FROM releases ORDER BY seq' | tr '\n' ' '; }
listing() {
  find targets .ripcord/artifacts -printf '%p %y %s %l\n' 2>/dev/null | sort
  sqlite3 .ripcord/state.db 'SELECT * FROM releases ORDER BY seq'
}
me=$(id -un)

mkdir -p "$WORK/a" && cd "$WORK/a" && git init -q .
printf '.ripcord/\ntargets/\nkeys/\n*.ini.rollout\n*.prom\n' > .gitignore
rc -q keygen -o keys/release >/dev/null 2>&1
cat > ripcord.ini <<EOF
[project]
name = app
keep = 3

[package]
signing_key = keys/release.key
verify_key  = keys/release.pub

[drill]
metrics_file = ripcord.prom

[target "web-1"]
root = targets/web-1

[target "web-2"]
root = targets/web-2
EOF
# the same project with health URLs, which rollout start requires
sed '/^root = /a health = http://127.0.0.1:9/health' ripcord.ini > rollout.ini.rollout
for v in v1 v2 v3; do release $v; rc -q deploy $v >/dev/null 2>&1; done
release v4
check "setup: both targets run v3, v4 is cut and not deployed" test "$(runs)" = "releases/v3 releases/v3"

# ---- yank: refused by deploy and rollout start ---------------------------
expect_exit 0 "13.15: releases yank v4 --reason" rc releases yank v4 --reason "leaks memory"
check "13.15: yank says how to undo it" grep -q "ripcord releases unyank v4" "$WORK/last.out"
expect_err 1 "13.15: deploy of a yanked release is refused with exit 1" "cannot deploy 'v4': it was yanked by $me on " rc deploy v4
err_has "13.15: ... with the reason" "(leaks memory)"
err_has "13.15: ... and what to do" "cut a fix, or 'ripcord releases unyank v4'"
check "13.15: ... and nothing switched" test "$(runs)" = "releases/v3 releases/v3"
expect_err 1 "13.15: rollout start of a yanked release is refused with exit 1" "cannot roll out 'v4': it was yanked by $me" rc -c rollout.ini.rollout rollout start v4
check "... and no rollout was recorded" test "$(sqlite3 .ripcord/state.db 'SELECT count(*) FROM rollouts')" = 0

# ---- listed as yanked ----------------------------------------------------
expect_exit 0 "releases" rc releases
check "13.15: releases lists v4 as yanked, with who and the reason" grep -qE "^v4 .* YANKED by $me: leaks memory$" "$WORK/last.out"
check "... and v3 as it was (its parent)" grep -qE '^v3 .* v2$' "$WORK/last.out"
expect_exit 0 "--json releases" rc --json releases
jcheck "13.15: --json releases carries yanked, reason, by, at" "r = {x['id']: x for x in d}
assert r['v4']['yanked'] is True and r['v4']['reason'] == 'leaks memory' and r['v4']['by'] == '$me', r['v4']
assert isinstance(r['v4']['at'], int) and r['v4']['at'] > 1700000000, r['v4']
assert r['v3']['yanked'] is False and r['v3']['reason'] is None and r['v3']['at'] is None, r['v3']"

# ---- drill --due skips it ------------------------------------------------
expect_exit 0 "drill --due passes with a yanked release in the store" rc --json drill --due
jcheck "13.15: drill --due drilled v1..v3, not the yanked v4" "assert sorted(x['release'] for x in d) == ['v1', 'v2', 'v3'], d"
check "13.15: no drill of v4 was recorded" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM drills WHERE release = 'v4'")" = 0
expect_exit 0 "a yanked release can still be drilled by name" rc drill v4
check "13.15: ... but its metric says it is no rollback destination" sh -c "grep -qx 'ripcord_rollback_ready{project=\"app\",release=\"v4\"} 0' ripcord.prom && grep -qx 'ripcord_rollback_ready{project=\"app\",release=\"v3\"} 1' ripcord.prom"

# ---- readiness: report leaves a yanked release out -----------------------
expect_exit 0 "report --json" rc report --json
jcheck "13.15: report readiness leaves the yanked v4 out" "ids = sorted(x['release'] for x in d['readiness']); assert ids == ['v1', 'v2', 'v3'], ids"

# ---- unyank --------------------------------------------------------------
expect_exit 0 "13.15: releases unyank v4" rc --json releases unyank v4
jcheck "13.15: --json unyank says it is no longer yanked" "assert d['operation'] == 'unyank' and d['release'] == 'v4' and d['yanked'] is False and d['reason'] is None, d"
expect_exit 0 "after unyank, deploy v4 works" rc deploy v4
check "... both targets run v4" test "$(runs)" = "releases/v4 releases/v4"

# ---- a yanked rollback target: status, rollback, report ------------------
expect_exit 0 "13.15: yank v3, the targets' rollback target" rc --json releases yank v3 --reason "bad schema"
jcheck "13.15: --json yank carries yanked, reason, by, at" "assert d['operation'] == 'yank' and d['release'] == 'v3' and d['yanked'] and d['reason'] == 'bad schema' and d['by'] == '$me' and d['at'] > 0, d"
expect_exit 0 "status" rc status
check "13.15: status says the rollback is not ready: yanked" grep -qE '^web-1 +v4 +v4 +v3 +yanked .*rollback target v3 was yanked' "$WORK/last.out"
expect_exit 0 "status --json" rc --json status
jcheck "13.15: status --json: rollback_ready is 'yanked' on both" "assert [t['rollback_ready'] for t in d['targets']] == ['yanked', 'yanked'], d['targets']"
expect_exit 0 "report --json" rc report --json
jcheck "13.15: report readiness leaves v3 out, v4 back in" "ids = sorted(x['release'] for x in d['readiness']); assert ids == ['v1', 'v2', 'v4'], ids"
expect_err 1 "13.15: rollback onto a yanked release is refused with exit 1" "cannot roll back to 'v3': it was yanked by $me" rc rollback
err_has "13.15: ... saying to pass --to another release" "(bad schema): pass --to another release, or 'ripcord releases unyank v3'"
expect_err 1 "13.15: rollback --to a yanked release is refused with exit 1" "cannot roll back to 'v3'" rc rollback --to v3
check "13.15: ... and nothing switched" test "$(runs)" = "releases/v4 releases/v4"

# ---- rm: refused by gc's rules --------------------------------------------
expect_err 1 "13.15: rm of a release that runs is refused with exit 1" "cannot remove release 'v4': it is kept (runs on web-1, runs on web-2)" rc releases rm v4
expect_err 1 "13.15: rm of a rollback target is refused with exit 1" "cannot remove release 'v3': it is kept (rollback target of web-1, rollback target of web-2" rc releases rm v3
expect_err 1 "13.15: rm of a release within keep of what runs is refused" "cannot remove release 'v2': it is kept (within keep of v4, which runs)" rc releases rm v2
expect_err 2 "13.15: rm of an unknown id is exit 2" "release 'nosuch' not found in the store" rc releases rm nosuch
expect_err 2 "13.15: rm of a bad id is exit 2" "'../v1' is not a release id" rc releases rm ../v1
expect_err 2 "13.15: yank of an unknown id is exit 2" "release 'nosuch' not found in the store" rc releases yank nosuch

# ---- rm: deletes artifact, signature, extracted copies, row ---------------
check "setup: v1 is extracted on both targets and in the store" test -d targets/web-1/releases/v1 -a -d targets/web-2/releases/v1 -a -f .ripcord/artifacts/v1.tar.zst.sig
listing > "$WORK/before"
expect_exit 0 "13.15: releases rm v1 --dry-run" rc releases rm v1 --dry-run
listing > "$WORK/after"
check "13.15: --dry-run says what would go and changes nothing" sh -c "grep -q '^would delete web-1 .*/releases/v1 ' '$WORK/last.out' && cmp -s '$WORK/before' '$WORK/after'"
expect_exit 0 "13.15: releases rm v1" rc --json releases rm v1
jcheck "13.15: --json rm lists the folders and the release, all done" "assert d['operation'] == 'rm' and d['release'] == 'v1' and d['ok'] and not d['dry_run'], d
assert [(x['where'], x['kind']) for x in d['deleted']] == [('web-1', 'folder'), ('web-2', 'folder'), ('store', 'release')], d['deleted']
assert all(x['done'] for x in d['deleted']) and d['bytes_freed'] > 0, d"
check "13.15: rm deleted the artifact and its signature" test ! -e .ripcord/artifacts/v1.tar.zst -a ! -e .ripcord/artifacts/v1.tar.zst.sig
check "13.15: ... its extracted copies on both targets" test ! -e targets/web-1/releases/v1 -a ! -e targets/web-2/releases/v1
check "13.15: ... and its row, nothing else" test "$(ids)" = "v2 v3 v4 "
expect_exit 0 "what is left verifies" rc verify

# ---- a yanked release is still rolled back FROM, then removable -----------
expect_exit 0 "13.15: yank v4 while it runs" rc releases yank v4 --reason "crashes"
check "13.15: rollback --to v2 from the yanked v4 works" sh -c "test \"\$(sqlite3 .ripcord/state.db \"SELECT yank_reason FROM releases WHERE id = 'v4'\")\" = crashes && '$RIPCORD' rollback --to v2"
check "... both targets run v2" test "$(runs)" = "releases/v2 releases/v2"
expect_exit 0 "13.15: rm of the yanked v4, which nothing holds now" rc releases rm v4
check "13.15: ... v4 is gone from the store and the targets" test "$(ids)" = "v2 v3 " -a ! -e .ripcord/artifacts/v4.tar.zst -a ! -e targets/web-1/releases/v4

# ---- audited ---------------------------------------------------------------
audited() { sqlite3 .ripcord/state.db "SELECT exit_code FROM audit WHERE command = '$1' ORDER BY seq LIMIT 1"; }
check "13.15: the audit log has the yank, naming the release and its reason" test "$(audited "ripcord releases yank v4 --reason ''leaks memory''")" = 0
check "13.15: ... the unyank and the rm" test "$(audited 'ripcord --json releases unyank v4')$(audited 'ripcord --json releases rm v1')" = 00
check "13.15: ... and a refused rm, as failed (exit 1)" test "$(audited 'ripcord releases rm v4')" = 1
check "a dry run and a listing are not audited" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM audit WHERE command LIKE '%dry-run%' OR command = 'releases'")" = 0

done_testing
