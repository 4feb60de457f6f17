#!/usr/bin/env bash
# What cut says before a release engineer ships the wrong thing (issue 15):
# a dirty work tree (the artifact holds the commit, not the edits), a
# commit already in the store under another id (the default id reuses it,
# --id makes a second release and says so), the count of lint findings and
# where to read them; migrate lint of any release or artifact file; keygen
# inside a git work tree keeps the private key out of git.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo/db/migrations" "$repo/docs" && cd "$repo" && git init -q .
printf '.ripcord/\n' > .gitignore
printf '[project]\nname = app\n[package]\nexclude = docs\n[migrations]\ndir = db/migrations\n' > ripcord.ini
printf 'CREATE TABLE t (x INTEGER, y TEXT);\n' > db/migrations/0001_t.up.sql
printf 'DROP TABLE t;\n' > db/migrations/0001_t.down.sql
echo one > app.txt && echo doc > docs/a.txt
git add -A && git commit -qm one
expect_exit 0 "a clean tree is cut" rc cut --id v1
check "without a word about the work tree" sh -c "! grep -q 'work tree' '$WORK/last.err'"
sha1=$(sqlite3 .ripcord/state.db "SELECT sha256 FROM releases WHERE id = 'v1'")

# a dirty work tree
echo edited >> app.txt && echo untracked > new.txt && echo doc2 >> docs/a.txt
expect_exit 0 "a dirty tree is cut" rc cut --id v1
err_has "with a warning naming the changed file" "uncommitted changes to 1 packaged file ('app.txt'); the artifact holds commit $(git rev-parse --short=12 HEAD) as committed, not the work tree"
check "the untracked file and the excluded docs are not named" sh -c "! grep -q 'new.txt\|docs/a.txt' '$WORK/last.err'"
check "the artifact is the commit's: the same bytes as before" test "$(sqlite3 .ripcord/state.db "SELECT sha256 FROM releases WHERE id = 'v1'")" = "$sha1"
git add app.txt
expect_exit 0 "a staged change counts too" rc cut --id v1
err_has "and is named" "('app.txt')"
git commit -qm two && rm new.txt
expect_exit 0 "HEAD~1 is not the checked out commit" rc cut HEAD~1 --id v1
check "so there is no warning" sh -c "! grep -q 'work tree' '$WORK/last.err'"
git checkout -q docs/a.txt

# the same commit under another id
c1=$(git rev-parse HEAD~1)
git tag t1 HEAD~1
expect_exit 0 "the default id of a commit cut as v1 reuses v1" rc cut HEAD~1
check "it prints v1" test "$(cat "$WORK/last.out")" = v1
err_has "and says so" "commit ${c1:0:12} is already release 'v1', so it is not cut again as 't1'"
err_has "the release is unchanged" "unchanged release v1"
check "no second release was recorded" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM releases")" = 1
expect_exit 0 "yank v1" rc releases yank v1 --reason "leaks memory"
expect_exit 1 "a yanked release is not handed back" rc cut HEAD~1
err_has "naming it, who yanked it and why, and what to do" "commit ${c1:0:12} is already release 'v1', which was yanked by $(id -un)"
err_has "... the reason and what to do" "(leaks memory), so it is not handed back as 't1': cut it again with --id NEW to make a new release of this commit, or 'ripcord releases unyank v1'"
check "nothing on stdout" test ! -s "$WORK/last.out"
expect_exit 0 "unyank v1" rc releases unyank v1
expect_exit 0 "--id makes a second release of it" rc cut HEAD~1 --id t1
err_has "and says so" "commit ${c1:0:12} is already release 'v1'; cutting it again as 't1', as --id asks"
check "two releases now" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM releases")" = 2
expect_exit 0 "a recut of the same id is the usual no-op" rc cut HEAD~1 --id v1
check "without the notice" sh -c "! grep -q 'already release' '$WORK/last.err'"

# lint: the count, where to read them, any release, any artifact file
printf 'ALTER TABLE t DROP COLUMN y;\n' > db/migrations/0002_y.up.sql
printf 'ALTER TABLE t ADD COLUMN y TEXT;\n' > db/migrations/0002_y.down.sql
git add -A && git commit -qm three
expect_exit 0 "cut of a release with a destructive up" rc cut --id v2
err_has "warns about the finding" "0002_y.up.sql:1: drop-column"
err_has "... and that it is not marked contract" "0002_y.up.sql:1: destructive-not-contract"
err_has "and counts them, saying where to read them" "2 lint findings in the migrations of v2 (above); list them again with 'ripcord migrate lint v2'"
rc --json -q cut --id v2 > "$WORK/cut.json" 2>/dev/null
check "cut --json has the count" python3 -c "import json; assert json.load(open('$WORK/cut.json'))['lint'] == 2"
expect_exit 1 "migrate lint v2 lists it" rc migrate lint v2
expect_exit 0 "migrate lint of an older release" rc migrate lint v1
check "lints that release" grep -q "no findings in 1 migrations of release v1" "$WORK/last.out"
cp .ripcord/artifacts/v2.tar.zst "$WORK/v2.tar.zst"
cd "$WORK" && expect_exit 1 "migrate lint FILE, away from any config" rc migrate lint ./v2.tar.zst
check "names the finding in the file" grep -q "^v2.tar.zst:ripcord/migrations/0002_y.up.sql:1: drop-column" "$WORK/last.out"
cd "$repo"
printf 'garbage' > "$WORK/bad.tar.zst"
expect_exit 3 "a damaged artifact file is refused" rc migrate lint "$WORK/bad.tar.zst"

# keygen in a git work tree
expect_exit 0 "keygen inside the work tree" rc keygen -o keys/release
err_has "says it keeps the key out of git" "added '/keys/release.key' to its .gitignore"
check ".gitignore has the private key" grep -qx '/keys/release.key' .gitignore
check "git does not see the private key" sh -c "! git status --porcelain --untracked-files=all | grep -q release.key"
check "but sees the public one" sh -c "git status --porcelain --untracked-files=all | grep -q keys/release.pub"
printf 'secrets/\n' >> .gitignore
expect_exit 0 "keygen into an ignored folder" rc keygen -o secrets/k
check "leaves .gitignore alone" sh -c "! grep -q 'secrets/k' .gitignore"
# names git would read as a pattern are escaped (gitignore(5))
for name in 'keys/[prod]' 'keys/a*b' 'keys/c?d' 'keys/#e' 'keys/!f' 'keys/g\h' 'keys/i  j'; do
  expect_exit 0 "keygen -o '$name'" rc keygen -o "$name"
  check "git ignores '$name.key'" git check-ignore -q --no-index "$name.key"
  check "... and not a look-alike" sh -c "! git check-ignore --no-index 'keys/p.key' 'keys/aXb.key' 'keys/cXd.key' 'keys/f.key'"
done
check ".gitignore holds the escaped patterns" grep -qxF '/keys/\[prod\].key' .gitignore
check "git status shows none of the private keys" sh -c "! git status --porcelain --untracked-files=all | grep -q '\.key'"
cp .gitignore "$WORK/gitignore.before"
printf 'pub' > keys/half.pub
expect_exit 2 "keygen that fails (the public key exists)" rc keygen -o keys/half
check "leaves .gitignore as it was" cmp .gitignore "$WORK/gitignore.before"
expect_exit 1 "a name no pattern can hold is refused" rc keygen -o "keys/new
line"
err_has "naming the file and the .gitignore" "git still does not ignore it after '/keys/new"
check "and leaves .gitignore as it was" cmp .gitignore "$WORK/gitignore.before"
check "no key was written" test ! -e "keys/new
line.key"
mkdir -p "$WORK/outside"
cd "$WORK/outside" && expect_exit 0 "keygen outside any repository" rc keygen -o k
check "writes no .gitignore" test ! -e "$WORK/outside/.gitignore"

done_testing
