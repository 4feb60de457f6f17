#!/usr/bin/env bash
# The command line end to end: init, keygen, config errors with FILE:LINE,
# usage errors, exit codes, the lock, JSON output.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
printf '[project]\nstore = %s/empty-store\n' "$WORK" > "$WORK/empty.ini"
expect_exit 2 "a repository without commits" rc -c "$WORK/empty.ini" cut
err_has "is explained" "the repository has no commits yet"
echo hi > README && git add -A && git commit -qm one

expect_exit 2 "no config anywhere is a usage error" rc releases
err_has "it says what to do" "run 'ripcord init'"

expect_exit 0 "init writes a config" rc init
check "ripcord.ini exists" test -f ripcord.ini
check "hooks/activate is executable" test -x hooks/activate
check "the store is ignored by git" grep -qx '/.ripcord/' .gitignore
expect_exit 2 "init refuses to overwrite" rc init
err_has "and says so" "refusing to overwrite"
check "init's config is valid" rc releases

expect_exit 0 "keygen makes a pair" rc keygen -o keys/release
check "private key is 0600" test "$(stat -c %a keys/release.key)" = 600
check "openssl reads the private key" openssl pkey -in keys/release.key -noout
check "openssl reads the public key" openssl pkey -pubin -in keys/release.pub -noout
expect_exit 2 "keygen refuses to overwrite" rc keygen -o keys/release

# config errors: exit 2, FILE:LINE, nothing changes
cp ripcord.ini good.ini
printf '[project]\nstroe = x\n' > ripcord.ini
expect_exit 2 "a typo in the config is exit 2" rc releases
err_has "with file:line and a suggestion" "ripcord.ini:2: unknown key 'stroe' in [project] (did you mean 'store'?)"
printf '[rollout]\nbake = soon\n' > ripcord.ini
expect_exit 2 "a bad duration is exit 2" rc releases
err_has "naming the line and what was expected" "ripcord.ini:2: bad value 'soon' for bake (expected a duration"
printf '[target "a"]\nroot = /tmp/a\n[target "a"]\nroot = /tmp/b\n' > ripcord.ini
expect_exit 2 "a duplicated target is exit 2" rc releases
err_has "naming both lines" "ripcord.ini:3: target 'a' is defined twice (first at line 1)"
printf '[package]\nsigning_key = keys/nope.key\n' > ripcord.ini
expect_exit 0 "a missing key file stops no other command" rc releases
expect_exit 2 "but cut, exit 2" rc cut
err_has "naming the path" "signing_key '$repo/keys/nope.key' does not exist"
check "a failed cut left no store" test ! -e .ripcord
cp good.ini ripcord.ini

# -C and -c
mkdir -p sub/deeper
expect_exit 0 "the config is found walking up" rc -C sub/deeper releases
expect_exit 2 "-c names a missing file" rc -c /nonexistent.ini releases
err_has "by name" "/nonexistent.ini"

# usage errors
expect_exit 2 "an unknown command is exit 2" rc cutt
err_has "with a suggestion" "did you mean 'cut'?"
err_has "and the list of commands" "commands: init keygen cut verify"
expect_exit 0 "cut --help needs no config" rc -c /nonexistent.ini cut --help
check "and prints the options of its man page" grep -q "^  --tag" "$WORK/last.out"
expect_exit 0 "help CMD is the same" rc help cut
expect_exit 2 "help of an unknown command" rc help cutt
err_has "suggests one" "did you mean 'cut'?"
expect_exit 2 "an unknown option is exit 2" rc cut --bogus
expect_exit 2 "a command without its subcommand is exit 2" rc rollout
err_has "naming the subcommands" "expected start, status, promote, abort or resume"
expect_exit 0 "--version" rc --version
expect_exit 0 "--help" rc --help

# cut, releases, JSON
expect_exit 0 "cut the first release" rc cut --id v1
rc releases > "$WORK/rel.txt"
check "releases shows v1" grep -q '^v1 ' "$WORK/rel.txt"
rc --json releases > "$WORK/rel.json"
check "releases --json is JSON with v1" python3 -c "import json,sys; d=json.load(open('$WORK/rel.json')); assert d[0]['id']=='v1' and len(d[0]['sha256'])==64"
echo two > TWO && git add TWO && git commit -qm two
rc cut --id v2 --json > "$WORK/cut.json"
check "cut --json reports parent v1" python3 -c "import json; d=json.load(open('$WORK/cut.json')); assert d['parent']=='v1' and d['id']=='v2'"
expect_exit 2 "a bad release id is refused" rc cut --id ../x
err_has "and named" "'../x' is not a valid release id"
expect_exit 2 "an unknown revision is refused" rc cut nosuchrev
err_has "and named" "revision 'nosuchrev' not found"
expect_exit 2 "verifying an unknown release" rc verify nope
err_has "names it" "release 'nope' not found"
cp .ripcord/artifacts/v1.tar.zst "$WORK/v1.tar.zst"
cp ripcord.ini good.ini && printf '[package]\nverify_kye = x\n' >> ripcord.ini
expect_exit 2 "verify FILE with a broken config fails, not skips the key" rc verify "$WORK/v1.tar.zst"
err_has "naming the config line" "unknown key 'verify_kye'"
cp good.ini ripcord.ini
cd "$WORK" && expect_exit 0 "verify FILE needs no config at all" rc verify "$WORK/v1.tar.zst"
cd "$repo"

# a damaged state.db: exit 3 and what to do
cp .ripcord/state.db "$WORK/state.bak"
rm -f .ripcord/state.db-wal .ripcord/state.db-shm
echo "not sqlite at all, just some bytes that fill a page or so...." > .ripcord/state.db
expect_exit 3 "a damaged state.db is an integrity error" rc releases
err_has "with advice" "is damaged: file is not a database (restore it from a backup"
cp "$WORK/state.bak" .ripcord/state.db

# the lock: a second writer is refused at once with exit 4
exec 9>"$repo/.ripcord/lock"
flock -n 9
echo "pid 1, user someone, host h, 'cut', since 0" >&9
expect_exit 4 "a held lock gives exit 4" rc cut --id v3
err_has "naming the holder" "holds"
exec 9>&-
expect_exit 0 "after release the cut goes through" rc cut --id v3

# a repository owned by another user: libgit2's misleading message explained
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
  other=$WORK/other && mkdir -p "$other" && cd "$other" && git init -q . && echo a > a && git add a && git commit -qm a
  printf '[project]\nstore = %s/other-store\n' "$WORK" > "$WORK/other.ini"
  chown -R nobody "$other"
  expect_exit 2 "another user's repository is refused" env HOME="$WORK/home" "$RIPCORD" -c "$WORK/other.ini" cut
  err_has "with the safe.directory advice" "owned by another user and libgit2 refuses it"
  mkdir -p "$WORK/home" && HOME="$WORK/home" git config --global --add safe.directory "$other"
  expect_exit 0 "once trusted it is cut" env HOME="$WORK/home" "$RIPCORD" -c "$WORK/other.ini" cut
  cd "$repo"
else
  ok "# SKIP ownership check needs root"
fi

# bash completion (contrib/) offers the commands and the store's releases
comp() { bash -c "PATH='$(dirname "$RIPCORD")':\$PATH; source '$SOURCE_ROOT/contrib/completions/ripcord.bash'; COMP_WORDS=($1); COMP_CWORD=$2; _ripcord; echo \"\${COMPREPLY[*]}\""; }
check "completion offers commands" test "$(comp 'ripcord mig' 1)" = migrate
check "completion offers migrate subcommands" test "$(comp 'ripcord migrate st' 2)" = status
check "completion offers release ids after --to" sh -c "echo '$(comp 'ripcord migrate down --to v' 4)' | grep -q v1"

done_testing
