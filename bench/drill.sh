#!/usr/bin/env bash
# Benchmark (not a test): `ripcord drill` of a release with no migrations
# (integrity + fidelity: verify the artifact, extract it, hash every file
# as a git blob and rebuild the tree id) against what the standard tools
# need for the same proof: `sha256sum` of the artifact, `tar -I zstd -x`,
# and `git hash-object` of every extracted file (plus `git mktree`-free
# tree reading: the blob hashes alone, which is less work than a tree id);
# and against the bare floor of reading the artifact once and unpacking it
# once: `openssl dgst -sha256` + `tar -I zstd -x` (no per-file proof).
# Side by side on the same artifact in one run; peak RSS from /usr/bin/time.
# Writes its section of bench/RESULTS.md.
#
#   bench/drill.sh [BUILD_DIR]     (default: build-release)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
ripcord_install_deps hyperfine time strace
build=${1:-build-release}
bench_build "$build"
RIP=$(realpath "$build/src/cli/ripcord")
W=$(mktemp -d /tmp/ripcord-bench-XXXXXX)
trap 'rm -rf "$W"' EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@example.invalid
export TMPDIR=$W

# the tree of the cut benchmark: /usr/include in git
repo=$W/include
mkdir -p "$repo" && cp -a /usr/include/. "$repo/"
cd "$repo"
find . -xtype l -delete
git init -q . && git add -A && git commit -qm include && git gc -q
files=$(git ls-files | wc -l)
size=$(du -sb --exclude=.git . | cut -f1)
printf '[project]\nname = bench\nstore = %s/store\n' "$W" > ripcord.ini
"$RIP" -q cut --id b1 >/dev/null
art=$W/store/artifacts/b1.tar.zst

# the peer: digest, extract, hash every file as a git blob
cat > "$W/peer.sh" <<SH
set -e
rm -rf "$W/x" && mkdir "$W/x"
sha256sum "$art" > /dev/null
tar -I zstd -xf "$art" -C "$W/x"
cd "$W/x/payload" && find . -type f -print0 | git hash-object --no-filters --stdin-paths -z 2>/dev/null >/dev/null || find . -type f | git hash-object --no-filters --stdin-paths > /dev/null
SH
# the floor: one digest of the artifact, one extraction
cat > "$W/floor.sh" <<SH
set -e
rm -rf "$W/y" && mkdir "$W/y"
openssl dgst -sha256 "$art" > /dev/null
tar -I zstd -xf "$art" -C "$W/y"
SH
hf() { hyperfine --style basic --warmup 1 --runs "${RUNS:-7}" --export-json "$W/$1.json" "${@:2}" >/dev/null; }
med() { python3 -c "import json,sys; r=json.load(open('$W/$1.json'))['results']; print(' '.join('%.3f' % x['median'] for x in r))"; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; } # KiB

hf drill "$RIP -q drill b1" "sh $W/peer.sh" "sh $W/floor.sh"
read -r t_drill t_peer t_floor < <(med drill)
rss_drill=$(rss "$RIP" -q drill b1)
rss_peer=$(rss sh "$W/peer.sh")
rss_floor=$(rss sh "$W/floor.sh")
ratio=$(python3 -c "print('%.2f' % ($t_drill / $t_peer))")
ratio_floor=$(python3 -c "print('%.2f' % ($t_drill / $t_floor))")
# how many times a drill opens its artifact (each open is one read; the
# drill decompresses it once)
opens=$(strace -f -e trace=openat -o "$W/opens.txt" "$RIP" -q drill b1 >/dev/null 2>&1; grep -c "b1.tar.zst\", " "$W/opens.txt" || true)
# where a drill's time goes, from its own record
steps=$("$RIP" --json drill b1 | python3 -c "
import json, sys
d = json.load(sys.stdin)[0]
print(', '.join('%s %.3f s' % (s['step'], s['seconds']) for s in d['steps']))")

cd - >/dev/null
{
  echo "## drill ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))"
  echo
  echo "Artifact of the cut benchmark's tree (/usr/include in git, $files files, $((size / 1048576)) MiB), no migrations: integrity and fidelity. Medians of ${RUNS:-7} runs (hyperfine); peak RSS from /usr/bin/time."
  echo
  echo "| operation | ripcord | standard tools | ratio | peak RSS ripcord | peak RSS tools |"
  echo "|---|---|---|---|---|---|"
  echo "| \`ripcord drill\` vs \`sha256sum\` + \`tar -I zstd -x\` + \`git hash-object\` of every file | ${t_drill} s | ${t_peer} s | ${ratio}× | $((rss_drill / 1024)) MiB | $((rss_peer / 1024)) MiB |"
  echo "| \`ripcord drill\` vs \`openssl dgst -sha256\` + \`tar -I zstd -x\` (one read, one extraction, no per-file proof) | ${t_drill} s | ${t_floor} s | ${ratio_floor}× | $((rss_drill / 1024)) MiB | $((rss_floor / 1024)) MiB |"
  echo
  echo "One drill's steps, from its own record: $steps; it opens its artifact $opens time(s) (strace). The drill does more than the peer: it checks every entry against SHA256SUMS and LINKS, verifies the signature when there is one, rebuilds the tree id and checks it against MANIFEST and the repository, and it removes its scratch folder (which it does not make durable: it is thrown away). Target: within 1.5× of the peer."
} | tee "$W/table.md"
bench/put-section.py "drill" bench/RESULTS.md < "$W/table.md"
