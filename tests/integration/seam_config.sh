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

done_testing
