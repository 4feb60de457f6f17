#!/usr/bin/env bash
# Expand and contract phases of migrations (issue 16): a migration is
# contract when its up's first line says so ("-- ripcord: contract", with
# or without the space, in every layout) or [migrations] contract lists
# it; every other is expand. The phase is carried in the artifact (the
# normalised up) and shown by `migrate status`, text and --json.
. "$(dirname "$0")/lib.sh"

REPO=$WORK/app
mkdir -p "$REPO/db/migrations" "$REPO/var" && cd "$REPO" && git init -q .
printf '[project]\nname = app\n[migrations]\ndir = db/migrations\ndriver = sqlite\ndatabase = var/app.db\ncontract = 0003\n' > ripcord.ini
printf 'var/\n.ripcord/\n' > .gitignore
d=db/migrations
printf 'CREATE TABLE users (id INTEGER PRIMARY KEY, mail TEXT, email TEXT);\n' > $d/0001_add_email.up.sql
printf 'DROP TABLE users;\n' > $d/0001_add_email.down.sql
printf -- '-- ripcord: contract\nALTER TABLE users DROP COLUMN mail;\n' > $d/0002_drop_mail.up.sql
printf 'ALTER TABLE users ADD COLUMN mail TEXT;\n' > $d/0002_drop_mail.down.sql
printf 'CREATE TABLE pager (id INTEGER);\n' > $d/0003_listed.up.sql
printf 'DROP TABLE pager;\n' > $d/0003_listed.down.sql
git add -A && git commit -qm r1
expect_exit 0 "cut r1" rc cut --id r1
check "the listed contract up carries the mark in the artifact" sh -c \
  "tar --zstd -xOf .ripcord/artifacts/r1.tar.zst ripcord/migrations/0003_listed.up.sql | head -1 | grep -qx -- '-- ripcord:contract'"
check "the project's own mark is kept as written, not doubled" sh -c \
  "[ \"\$(tar --zstd -xOf .ripcord/artifacts/r1.tar.zst ripcord/migrations/0002_drop_mail.up.sql | grep -c 'ripcord')\" = 1 ]"
expect_exit 0 "migrate status" rc migrate status r1
check "status marks the contract migrations, not the expand one" sh -c \
  "grep -q '0001_add_email\$' '$WORK/last.out' && grep -q '0002_drop_mail \[contract\]\$' '$WORK/last.out' && grep -q '0003_listed \[contract\]\$' '$WORK/last.out'"
expect_exit 0 "migrate status --json" rc --json migrate status r1
check "--json gives every migration its phase" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
assert [m['phase'] for m in d['migrations']] == ['expand', 'contract', 'contract'], d"
expect_exit 0 "migrate up r1" rc migrate up r1
check "applied, they keep their phase" sh -c \
  "'$RIPCORD' migrate status r1 | grep -q '^applied .*0002_drop_mail \[contract\]\$'"
done_testing
