#!/usr/bin/env bash
# cut and verify on a real tree: a copy of /usr/include (thousands of
# files) plus symlinks, executables and migrations. The payload must equal
# `git archive`, two cuts must be byte-identical, and every kind of
# tampering must be caught with exit 3.
. "$(dirname "$0")/lib.sh"

repo=$WORK/big
mkdir -p "$repo" && cd "$repo" && git init -q .
cp -r /usr/include/linux /usr/include/openssl /usr/include/sys /usr/include/*.h . 2>/dev/null
# /usr/include has links pointing outside it; git keeps them as links
find . -xtype l -delete
ln -s stdio.h stdio-link.h
ln -s ../outside/target escape-link
mkdir -p bin db/migrations && printf '#!/bin/sh\necho hi\n' > bin/run && chmod +x bin/run
printf 'CREATE TABLE orders (id INTEGER PRIMARY KEY);\n' > db/migrations/0001_orders.up.sql
printf 'DROP TABLE orders;\n' > db/migrations/0001_orders.down.sql
printf 'ALTER TABLE orders ADD COLUMN note TEXT;\n' > db/migrations/0002_note.up.sql
printf 'ALTER TABLE orders DROP COLUMN note;\n' > db/migrations/0002_note.down.sql
printf '# docs\n' > NOTES.md
printf 'non-ascii\n' > "$(printf 'caf\303\251 r\303\251sum\303\251.txt')"
git add -A && git commit -qm base
nfiles=$(git ls-files | wc -l)
printf '[project]\nname = big\n[migrations]\ndir = db/migrations\n' > ripcord.ini

expect_exit 0 "cut a tree of $nfiles files" rc cut --id r1
err_has "the escaping link is warned about" "link 'escape-link' points outside the payload"
art=$repo/.ripcord/artifacts/r1.tar.zst
check "the artifact exists under its real name" test -f "$art"
check "no temporary file is left" test -z "$(ls -A "$repo/.ripcord/artifacts" | grep -v '^r1.tar.zst$')"

mkdir -p "$WORK/x" "$WORK/ga"
tar --zstd -xf "$art" -C "$WORK/x"
git archive HEAD | tar -x -C "$WORK/ga"
check "payload equals git archive (diff -r --no-dereference)" diff -r --no-dereference "$WORK/x/payload" "$WORK/ga"
check "sha256sum -c ripcord/SHA256SUMS passes in the extracted artifact" sh -c "cd '$WORK/x' && sha256sum -c --quiet ripcord/SHA256SUMS"
check "a non-ASCII file name comes through byte for byte" test -f "$WORK/x/payload/$(printf 'caf\303\251 r\303\251sum\303\251.txt')"
check "the executable bit is kept" test -x "$WORK/x/payload/bin/run"
check "symlinks stay symlinks" test -L "$WORK/x/payload/stdio-link.h"
check "LINKS lists the links" grep -qP '^stdio.h\tpayload/stdio-link.h$' "$WORK/x/ripcord/LINKS"
check "MANIFEST tree is the commit's tree" grep -qx "tree = $(git rev-parse 'HEAD^{tree}')" "$WORK/x/ripcord/MANIFEST"
check "MANIFEST lists the migrations in order" grep -qx "ids = 0001_orders, 0002_note" "$WORK/x/ripcord/MANIFEST"
check "the migrations are normalised" test -f "$WORK/x/ripcord/migrations/0002_note.down.sql"
check "entries are owned by 0/0 with no names" sh -c "tar --zstd -tvf '$art' | awk '{print \$2}' | sort -u | grep -qx 0/0"
check "mtime is the commit time" sh -c "tar --zstd -tvf '$art' --full-time | awk '{print \$4\"T\"\$5}' | sort -u | grep -qx '2026-01-02T03:04:05'"

# reproducible: a second store, and with one zstd worker thread
cp ripcord.ini other.ini && sed -i 's|^name = big|name = big\nstore = '"$WORK"'/store2|' other.ini
git add other.ini >/dev/null 2>&1; git reset -q other.ini
taskset -c 0 "$RIPCORD" -q -c other.ini cut --id r1 >/dev/null 2>&1
check "a second cut into another store is byte-identical (1 cpu vs all)" cmp "$art" "$WORK/store2/artifacts/r1.tar.zst"
expect_exit 0 "cutting the same id and commit again is a no-op" rc cut --id r1
check "and says unchanged" grep -q unchanged "$WORK/last.err"
expect_exit 0 "another id on the same commit" rc cut --id r1b
check "does not take r1 (same commit) as its parent" grep -q "parent (none)" "$WORK/last.err"
expect_exit 0 "r1 recut after r1b is still a no-op" rc cut --id r1
check "(unchanged, unsigned as recorded)" grep -q "unchanged release r1:.*unsigned" "$WORK/last.err"

# exclude: the tree id is of the selection
printf '[project]\nname = big\nstore = %s/store3\n[package]\nexclude = *.md, openssl\n' "$WORK" > sel.ini
expect_exit 0 "cut with exclude" rc -c sel.ini cut --id sel
mkdir -p "$WORK/sel" && tar --zstd -xf "$WORK/store3/artifacts/sel.tar.zst" -C "$WORK/sel"
check "excluded files are not packaged" test ! -e "$WORK/sel/payload/NOTES.md" -a ! -e "$WORK/sel/payload/openssl"
want_tree=$(GIT_INDEX_FILE=$WORK/idx sh -c "git read-tree HEAD && git rm -q --cached -r NOTES.md openssl && git write-tree")
check "MANIFEST tree equals git's tree of the same selection" grep -qx "tree = $want_tree" "$WORK/sel/ripcord/MANIFEST"

# verify and tampering
expect_exit 0 "verify passes" rc verify r1
cp "$art" "$WORK/good.tar.zst"
python3 - "$art" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[len(b) // 2] ^= 0x01
open(p, 'wb').write(b)
PY
expect_exit 3 "a flipped byte gives exit 3" rc verify r1
cp "$WORK/good.tar.zst" "$art"

# a rebuilt artifact with one payload file changed and SHA256SUMS left alone
mkdir -p "$WORK/evil" && tar --zstd -xf "$art" -C "$WORK/evil"
echo "/* evil */" >> "$WORK/evil/payload/stdio.h"
(cd "$WORK/evil" && tar --zstd -cf "$WORK/evil.tar.zst" payload ripcord)
expect_exit 3 "a changed payload file is caught (verify FILE)" rc verify "$WORK/evil.tar.zst"
err_has "naming the entry with both digests" "file 'payload/stdio.h': sha256 expected"
# ... and with SHA256SUMS rewritten to match, state.db still knows better
(cd "$WORK/evil" && sha256sum payload/stdio.h > /dev/null && python3 - <<'PY'
import hashlib
lines = open('ripcord/SHA256SUMS').read().splitlines()
d = hashlib.sha256(open('payload/stdio.h', 'rb').read()).hexdigest()
out = [(d + '  payload/stdio.h') if l.endswith('  payload/stdio.h') else l for l in lines]
open('ripcord/SHA256SUMS', 'w').write('\n'.join(out) + '\n')
PY
)
(cd "$WORK/evil" && tar --zstd -cf "$art" payload ripcord)
expect_exit 3 "a consistent forgery is caught by the state.db digest" rc verify r1
err_has "saying so" "(state.db)"
cp "$WORK/good.tar.zst" "$art"
# an unlisted extra file
mkdir -p "$WORK/extra" && tar --zstd -xf "$art" -C "$WORK/extra" && echo x > "$WORK/extra/payload/extra.txt"
(cd "$WORK/extra" && tar --zstd -cf "$WORK/extra.tar.zst" payload ripcord)
expect_exit 3 "an unlisted file is refused" rc verify "$WORK/extra.tar.zst"
err_has "and named" "'payload/extra.txt' is not listed in SHA256SUMS"
(cd "$WORK/x" && tar -cf "$WORK/plain.tar" payload ripcord)
expect_exit 3 "an uncompressed tar is not an artifact" rc verify "$WORK/plain.tar"
err_has "saying so" "not a zstd-compressed artifact"

# signing
rc keygen -o "$WORK/keys/rel" >/dev/null 2>&1
rc keygen -o "$WORK/keys/other" >/dev/null 2>&1
printf '[project]\nname = big\nstore = %s/signed\n[package]\nsigning_key = %s/keys/rel.key\nverify_key = %s/keys/rel.pub\n' "$WORK" "$WORK" "$WORK" > signed.ini
expect_exit 0 "a signed cut" rc -c signed.ini cut --id s1
sart=$WORK/signed/artifacts/s1.tar.zst
check "the signature file exists" test -f "$sart.sig"
openssl dgst -sha256 -binary "$sart" > "$WORK/d.bin"
base64 -d "$sart.sig" > "$WORK/sig.bin"
check "stock openssl verifies the signature" openssl pkeyutl -verify -pubin -inkey "$WORK/keys/rel.pub" -rawin -in "$WORK/d.bin" -sigfile "$WORK/sig.bin"
expect_exit 0 "verify checks the signature" rc -c signed.ini verify s1
check "and says it did" grep -q "signature verified" "$WORK/last.out"
cp "$sart.sig" "$WORK/good.sig"
# forged: a valid signature by another key
openssl pkeyutl -sign -inkey "$WORK/keys/other.key" -rawin -in "$WORK/d.bin" | base64 -w0 > "$sart.sig"; echo >> "$sart.sig"
expect_exit 3 "a signature by another key gives exit 3" rc -c signed.ini verify s1
err_has "saying the signature does not match" "signature does not match"
rm "$sart.sig"
expect_exit 3 "an unsigned artifact is refused when verify_key is set" rc -c signed.ini verify s1
err_has "and says why" "unsigned artifact refused"
cp "$WORK/good.sig" "$sart.sig"
expect_exit 0 "verify FILE --key works outside the store" rc verify "$sart" --key "$WORK/keys/rel.pub"

# a lost or damaged artifact is rebuilt by cutting it again, proven by
# the recorded digest; a lost signature is made again
good_sum=$(sha256sum < "$sart")
rm "$sart" "$sart.sig"
expect_exit 3 "a missing artifact fails verify" rc -c signed.ini verify s1
err_has "with the command that rebuilds it" "ripcord cut $(git rev-parse --short=12 HEAD) --id s1"
expect_exit 0 "cutting it again restores it" rc -c signed.ini cut HEAD --id s1
err_has "and says so" "restored release s1"
check "byte for byte" test "$(sha256sum < "$sart")" = "$good_sum"
expect_exit 0 "and it verifies, signature included" rc -c signed.ini verify s1
printf 'X' | dd of="$sart" bs=1 seek=100 conv=notrunc status=none
expect_exit 0 "a damaged artifact is restored the same way" rc -c signed.ini cut HEAD --id s1
check "byte for byte" test "$(sha256sum < "$sart")" = "$good_sum"

# secrets: refused with exit 3, every path named, nothing left behind
mkdir -p conf && printf 'DB_PASSWORD=hunter2\n' > conf/.env
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n' > deploy_key
git add -A && git commit -qm secrets
before=$(ls "$repo/.ripcord/artifacts" | sort)
expect_exit 3 "a committed private key is refused" rc cut --id r2
err_has "naming the key" "deploy_key (a PEM or OpenSSH private key)"
err_has "and the .env file" "conf/.env (an .env file)"
check "nothing new is left in the store" test "$(ls -A "$repo/.ripcord/artifacts" | sort)" = "$before"
printf '[package]\nallow_secrets = yes\n' >> ripcord.ini
expect_exit 0 "allow_secrets = yes lets it through" rc cut --id r2
git rm -q -r conf deploy_key && git commit -qm clean

# a name that is not UTF-8 cannot go into a pax header: refused, named
latin=$(printf 'lat\351n.txt')
echo x > "$latin" && git add "$latin" && git commit -qm latin1
expect_exit 2 "a file name that is not UTF-8 is refused" rc cut --id bad-name
err_has "naming the path and what to do" "is not valid UTF-8"
git rm -q "$latin" && git commit -qm "no latin1"

# a submodule and an LFS pointer: warned about, never silently dropped
git update-index --add --cacheinfo "160000,$(git rev-parse HEAD),vendor/lib"
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n' > big.psd
git add big.psd && git commit -qm "submodule and lfs"
expect_exit 0 "a tree with a submodule and an LFS pointer is cut" rc cut --id sub1
err_has "the submodule is warned about" "'vendor/lib' is a submodule"
err_has "the LFS pointer is warned about" "'big.psd' is a Git LFS pointer"
mkdir -p "$WORK/sub" && tar --zstd -xf "$repo/.ripcord/artifacts/sub1.tar.zst" -C "$WORK/sub"
check "the submodule is an empty folder, as git archive makes it" test -d "$WORK/sub/payload/vendor/lib"
check "MANIFEST records the submodule and its commit" grep -q "^submodules = vendor/lib $(git rev-parse HEAD~1)" "$WORK/sub/ripcord/MANIFEST"
check "MANIFEST tree is still the commit's tree" grep -qx "tree = $(git rev-parse 'HEAD^{tree}')" "$WORK/sub/ripcord/MANIFEST"
expect_exit 0 "and it verifies" rc verify sub1
git rm -q --cached vendor/lib && git rm -q big.psd && git commit -qm "no submodule"

# ids
expect_exit 2 "an id taken by another commit is refused" rc cut --id r1
err_has "saying which commit" "release 'r1' already exists for commit"
expect_exit 0 "cut --tag creates release/<id>" rc cut --id r3 --tag
check "the tag is annotated and on HEAD" test "$(git cat-file -t release/r3)" = tag -a "$(git rev-parse 'release/r3^{commit}')" = "$(git rev-parse HEAD)"
expect_exit 0 "on a release/<id> tag the default id is that id" rc cut
check "(r3, unchanged)" test "$(cat "$WORK/last.out")" = r3
echo more > more.txt && git add more.txt && git commit -qm more
expect_exit 0 "past it, describe counts from it" rc cut --tag
check "(r3-1-g<abbrev>)" grep -qx "r3-1-g$(git rev-parse --short=7 HEAD)" "$WORK/last.out"
check "and --tag tags a describe-style id too" test "$(git rev-parse "release/r3-1-g$(git rev-parse --short=7 HEAD)^{commit}")" = "$(git rev-parse HEAD)"
echo again > more.txt && git commit -qam again && git tag -a app/v9.9 -m v9.9
expect_exit 0 "default id is git describe --tags" rc cut
check "with '/' made '-'" test "$(cat "$WORK/last.out")" = app-v9.9
check "parent is the newest ancestor release" grep -q "parent r3-1-g" "$WORK/last.err"

done_testing
