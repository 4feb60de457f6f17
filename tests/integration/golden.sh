#!/usr/bin/env bash
# Artifacts cut by earlier versions must still verify and read the same:
# a rollback may need one cut long ago. See artifacts/golden/README.md.
. "$(dirname "$0")/lib.sh"

G=${SOURCE_ROOT:?}/artifacts/golden
art=$G/shop-1.0.0.tar.zst

expect_exit 0 "the format 1 golden artifact verifies, signature included" rc verify "$art" --key "$G/format1.pub"
check "and says the signature was checked" grep -q "signature verified" "$WORK/last.out"
check "its digest has not changed" test "$(sha256sum < "$art" | cut -c1-64)" = "$(cat "$G/shop-1.0.0.sha256")"
rc --json verify "$art" --key "$G/format1.pub" > "$WORK/v.json"
check "--json reports it ok" python3 -c "import json; d=json.load(open('$WORK/v.json')); assert d[0]['ok'] and d[0]['signature_checked']"

mkdir -p "$WORK/x" && tar --zstd -xf "$art" -C "$WORK/x" 2> "$WORK/tar.err"
check "GNU tar extracts it without a warning" test ! -s "$WORK/tar.err"
check "sha256sum -c passes" sh -c "cd '$WORK/x' && sha256sum -c --quiet ripcord/SHA256SUMS"
check "MANIFEST is format 1" grep -qx "format = 1" "$WORK/x/ripcord/MANIFEST"
check "the link is a link" test "$(readlink "$WORK/x/payload/app.py")" = server.py
check "the executable bit is kept" test -x "$WORK/x/payload/server.py"
check "both migrations are there" test -f "$WORK/x/ripcord/migrations/0002_add_status.down.sql"

# a key that did not sign it is refused
rc keygen -o "$WORK/other" >/dev/null 2>&1
expect_exit 3 "another key is refused" rc verify "$art" --key "$WORK/other.pub"

done_testing
