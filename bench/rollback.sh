#!/usr/bin/env bash
# Benchmark (not a test): `ripcord rollback` and `ripcord deploy` over N=200
# local targets, side by side in one run with what they are measured against:
#   - rollback (warm: both releases extracted everywhere, no hooks, no
#     health URLs, no migrations) against the floor it cannot beat, a Python
#     loop doing symlink + rename + fsync of the root folder per target,
#     and against the shell loop `ln -sfn` + `mv -T` over 200 roots laid
#     out the same way (no fsync: nothing it does is made durable);
#   - where a process start goes: `ripcord --version` against tiny programs
#     (an empty main) linked with each of ripcord's dependencies, alone and
#     in sets (all of them; all but libcurl and libpq, what loading those
#     two lazily would leave), wall and CPU time, plus the dynamic loader's
#     own count (LD_DEBUG=statistics);
#   - deploy of a fresh release (never extracted) against `tar -I zstd -x`
#     of the same artifact into N folders, the same followed by `sync`
#     (ripcord makes what it writes durable; tar does not), and
#     one `tar -x` plus `cp -a` to the N-1 others.
# The steps run in interleaved rounds (not hyperfine's one command after
# the other): on a shared machine, load comes and goes, and each fsync
# feels it. Peak RSS from /usr/bin/time; the fsync/fdatasync share of a
# rollback from `strace -f -w -c`. Writes its section of bench/RESULTS.md
# (and prints it).
#
#   bench/rollback.sh [BUILD_DIR]   (default: build-release)
#   N=200 targets, RUNS=7 (rollback), DEPLOY_RUNS=3 (deploy),
#   SRC=/usr/include/git2 (the tree committed as the release: libgit2-dev's
#   headers, 91 files in 2 folders, 0.7 MiB; the deploy steps grow with
#   the number of files: 200 copies of a big tree take long)
set -euo pipefail
trap 'echo "bench/rollback.sh: line $LINENO failed (exit $?)" >&2' ERR
cd "$(dirname "$0")/.."
. bench/lib.sh
ripcord_install_deps time strace pkg-config
build=${1:-build-release}
bench_build "$build"
buildtype=$(meson introspect "$build" --buildoptions |
  python3 -c "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == 'buildtype'))")
RIP=$(realpath "$build/src/cli/ripcord")
N=${N:-200} RUNS=${RUNS:-7} DEPLOY_RUNS=${DEPLOY_RUNS:-3}
SRC=${SRC:-/usr/include/git2}
W=$(mktemp -d "${TMPDIR:-/tmp}/ripcord-bench-XXXXXX")
trap 'rm -rf "$W"' EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@example.invalid
# the share of time some task waited for I/O over the last minute (PSI):
# other work on the machine shows up here, and in every fsync
psi() { awk '/^some/ { sub("avg60=", "", $3); print $3 "%" }' /proc/pressure/io 2>/dev/null || echo n/a; }
psi_start=$(psi)

# 1. a repository: SRC plus a VERSION file, three commits cut as v1, v2, v3
repo=$W/app
mkdir -p "$repo" && cp -a "$SRC/." "$repo/"
cd "$repo"
find . -xtype l -delete
echo 1 > VERSION
git init -q . && git add -A && git commit -qm v1 && git gc -q
files=$(git ls-files | wc -l)
size=$(du -sb --exclude=.git . | cut -f1)
ini=$W/ripcord.ini
{
  printf '[project]\nname = bench\nstore = %s/store\nkeep = 10\n' "$W"
  for i in $(seq -f %03g 1 "$N"); do
    printf '\n[target "t%s"]\nroot = %s/roots/t%s\n' "$i" "$W" "$i"
  done
} > "$ini"
rc() { "$RIP" -q -c "$ini" "$@"; }
rc cut --id v1 >/dev/null
for v in 2 3; do
  echo $v > VERSION && git commit -qam "v$v" && rc cut --id "v$v" >/dev/null
done
cd - >/dev/null
art=$W/store/artifacts/v3.tar.zst
art_size=$(stat -c %s "$art")
fs="$(findmnt -n -o FSTYPE --target "$W") on $(findmnt -n -o SOURCE --target "$W")"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; } # KiB
# runs named steps in interleaved rounds: each step's preparation untimed,
# its command timed around the process with a monotonic clock; each round
# runs every step once, in order, so load from other work on the machine
# falls on every step alike. '@floor' is the in-process floor.
cat > "$W/rounds.py" <<'PY'
import json, os, resource, shlex, statistics, subprocess, sys, time
out, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
steps = [sys.argv[i:i + 3] for i in range(4, len(sys.argv), 3)]
roots = []
if any(c.startswith("@floor") for _, _, c in steps):
    base, n = os.environ["FLOOR_DIR"], int(os.environ["N"])
    roots = ["%s/t%03d" % (base, i) for i in range(1, n + 1)]
    for r in roots:
        os.makedirs(r + "/releases/a"); os.makedirs(r + "/releases/b")
        os.symlink("releases/a", r + "/current")
    os.sync()
def floor(sync):  # symlink + rename (+ fsync of the root) per target
    t = time.perf_counter()
    for r in roots:
        new = "releases/b" if os.readlink(r + "/current") == "releases/a" else "releases/a"
        os.symlink(new, r + "/.current.tmp")
        os.replace(r + "/.current.tmp", r + "/current")
        if sync:
            fd = os.open(r, os.O_RDONLY | os.O_DIRECTORY)
            os.fsync(fd)
            os.close(fd)
    return time.perf_counter() - t
def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
times = {name: [] for name, _, _ in steps}
cpus = {name: [] for name, _, _ in steps}
for k in range(warmup + runs):
    for name, prep, cmd in steps:
        if prep:
            subprocess.run(prep, shell=True, check=True, stdout=subprocess.DEVNULL)
        cpu = 0.0
        if cmd.startswith("@floor"):
            dt = floor(cmd == "@floor")
        else:
            argv = shlex.split(cmd)
            c = children_cpu()
            t = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            dt = time.perf_counter() - t
            cpu = children_cpu() - c
        if k >= warmup:
            times[name].append(dt)
            cpus[name].append(cpu)
json.dump({n: {"median": statistics.median(v), "times": v,
               "cpu": statistics.median(cpus[n])} for n, v in times.items()},
          open(out, "w"), indent=1)
PY
med() { python3 -c "import json; r=json.load(open('$W/$1.json')); print(' '.join('%.4f' % r[n]['median'] for n in '${*:2}'.split()))"; }
cpu() { python3 -c "import json; r=json.load(open('$W/$1.json')); print(' '.join('%.4f' % r[n]['cpu'] for n in '${*:2}'.split()))"; }
R="$RIP -q -c $ini"

# 2. warm targets: v1 then v2 extracted and switched on every target (the
#    v2 deploy is a fresh one: its peak RSS is the deploy figure)
rc deploy v1 >/dev/null
rss_dep=$(rss "$RIP" -q -c "$ini" deploy v2)

# the shell loop of the issue: ln -sfn + mv -T per root, over N roots laid
# out like a target's (releases/a, releases/b, current), each run switching
# every root to the release the run before did not
sh_roots=$W/shloop
for i in $(seq -f %03g 1 "$N"); do
  mkdir -p "$sh_roots/t$i/releases/a" "$sh_roots/t$i/releases/b"
  ln -s releases/a "$sh_roots/t$i/current"
done
cat > "$W/shloop.sh" <<'SH'
d=$1
if [ -e "$d/.to-a" ]; then to=a; rm "$d/.to-a"; else to=b; : > "$d/.to-a"; fi
for r in "$d"/t*; do
  ln -sfn "releases/$to" "$r/.current.tmp" && mv -T "$r/.current.tmp" "$r/current"
done
SH

# tiny programs: an empty main linked with each dependency and each set
# (--no-as-needed: linked whether or not main uses them), the loader's
# work of a process start without ripcord's own
printf 'int main(void) { return 0; }\n' > "$W/empty.c"
all="libgit2 libarchive libcurl inih sqlite3 libcrypto jansson libpq"
link_sets=("none:" "libgit2:libgit2" "libarchive:libarchive" "libcurl:libcurl"
  "libpq:libpq" "small:inih sqlite3 libcrypto jansson" "all:$all"
  "nocurl:libgit2 libarchive inih sqlite3 libcrypto jansson libpq"
  "nopq:libgit2 libarchive libcurl inih sqlite3 libcrypto jansson"
  "lean:libgit2 libarchive inih sqlite3 libcrypto jansson")
start_steps=()
for ls in "${link_sets[@]}"; do
  name=${ls%%:*} pkgs=${ls#*:}
  # shellcheck disable=SC2086
  cc -O2 -o "$W/t_$name" "$W/empty.c" -Wl,--no-as-needed \
    ${pkgs:+$(pkg-config --libs $pkgs)} -pthread
  eval "libs_$name=$(ldd "$W/t_$name" | wc -l)"
  start_steps+=("t_$name" "" "$W/t_$name")
done
libs_ripcord=$(ldd "$RIP" | wc -l)
ld_cycles=$(LD_DEBUG=statistics "$RIP" --version 2>&1 >/dev/null |
  awk '/total startup time in dynamic loader/ { print $(NF - 1); exit }')

# 3. rounds of: the plan of a rollback alone (--dry-run: reads the journal,
#    switches nothing), the rollback v2 -> v1 (the journal's previous),
#    deploy v2 again (a switch only, v2 is extracted), the floor with and
#    without its fsync, the shell loop, the start of a process (ripcord,
#    git, the tiny programs)
FLOOR_DIR=$W/floor N=$N python3 "$W/rounds.py" "$W/rollback.json" "$RUNS" 1 \
  dry "" "$R rollback --dry-run" \
  rollback "" "$R rollback" \
  warm "" "$R deploy v2" \
  floor "" @floor \
  nosync "" @floor-nosync \
  shloop "" "sh $W/shloop.sh $sh_roots" \
  start "" "$RIP --help" \
  version "" "$RIP --version" \
  git "" "git --version" \
  "${start_steps[@]}"
read -r t_dry t_rb t_warm t_floor t_nosync t_shloop t_start t_version t_git < <(med rollback dry rollback warm floor nosync shloop start version git)
read -r c_dry c_rb c_version < <(cpu rollback dry rollback version)
start_rows=$(python3 - "$W/rollback.json" <<PY
import json, sys
r = json.load(open(sys.argv[1]))
rows = [("empty main, libc only", "none", $libs_none),
        ("+ libgit2 (and what it pulls in)", "libgit2", $libs_libgit2),
        ("+ libarchive", "libarchive", $libs_libarchive),
        ("+ libcurl", "libcurl", $libs_libcurl),
        ("+ libpq", "libpq", $libs_libpq),
        ("+ inih, sqlite3, libcrypto, jansson", "small", $libs_small),
        ("+ all eight, as ripcord links them", "all", $libs_all),
        ("+ all but libcurl", "nocurl", $libs_nocurl),
        ("+ all but libpq", "nopq", $libs_nopq),
        ("+ all but libcurl and libpq (both loaded lazily)", "lean", $libs_lean)]
for what, n, libs in rows:
    x = r["t_" + n]
    print("| %s | %d | %.1f ms | %.1f ms |" % (what, libs, x["median"] * 1000, x["cpu"] * 1000))
x = r["version"]
print("| \`ripcord --version\` | $libs_ripcord | %.1f ms | %.1f ms |" % (x["median"] * 1000, x["cpu"] * 1000))
PY
)
rss_rb=$(rss "$RIP" -q -c "$ini" rollback)
rc deploy v2 >/dev/null
strace -f -w -c -o "$W/strace.txt" -e trace=all "$RIP" -q -c "$ini" rollback >/dev/null
rc deploy v2 >/dev/null
# artifacts a warm rollback opens (it needs none)
strace -f -e trace=openat -o "$W/opens.txt" "$RIP" -q -c "$ini" rollback >/dev/null
n_art=$(grep -c '\.tar\.zst", ' "$W/opens.txt" || true)
read -r n_fsync n_fdatasync n_syncfs t_sync < <(awk '$NF ~ /^(fsync|fdatasync|syncfs)$/ { n[$NF] = $4; s += $2 }
  END { printf "%d %d %d %.4f\n", n["fsync"], n["fdatasync"], n["syncfs"], s }' "$W/strace.txt")

# 4. rounds of a deploy of a fresh release: v3, whose folders are removed
#    (and the removal synced) before each run, after a switch back to v2;
#    the peers extract the same artifact into new folders; the sync that
#    follows the tar loop is timed on its own (tar + sync = the two)
cat > "$W/tar.sh" <<'SH'
set -e
d=$1 art=$2 n=$3 mode=${4:-}
mkdir "$d"
if [ "$mode" = cp ]; then
  mkdir "$d/d1" && tar -I zstd -xf "$art" -C "$d/d1"
  for i in $(seq 2 "$n"); do cp -a "$d/d1" "$d/d$i"; done
else
  for i in $(seq "$n"); do mkdir "$d/d$i" && tar -I zstd -xf "$art" -C "$d/d$i"; done
fi
SH
clean="rm -rf $W/tar && sync"
python3 "$W/rounds.py" "$W/deploy.json" "$DEPLOY_RUNS" 0 \
  deploy "$R deploy v2 && rm -rf $W/roots/*/releases/v3 && sync" "$R deploy v3" \
  tar "$clean" "sh $W/tar.sh $W/tar $art $N" \
  sync "" sync \
  cp "$clean" "sh $W/tar.sh $W/tar $art $N cp"
read -r t_dep t_tar t_sync_after t_cp < <(med deploy deploy tar sync cp)
t_tarsync=$(python3 -c "print($t_tar + $t_sync_after)")
rm -rf "$W/tar"

export N RUNS DEPLOY_RUNS SRC files size art_size fs buildtype rss_rb rss_dep \
  t_dry t_rb t_warm t_floor t_nosync t_shloop t_start t_version t_git n_fsync n_fdatasync n_syncfs t_sync \
  t_dep t_tar t_tarsync t_sync_after t_cp psi_start c_dry c_rb c_version n_art ld_cycles start_rows
psi_end=$(psi) whole=$SECONDS python3 - <<'PY' | tee "$W/table.md"
import datetime, os, platform
e = os.environ
n = int(e["N"])
f = {k: float(e[k]) for k in "t_dry t_rb t_warm t_floor t_nosync t_shloop t_start t_version t_git t_sync t_dep t_tar t_tarsync t_sync_after t_cp c_dry c_rb c_version".split()}
ms = lambda k: "%.1f ms" % (f[k] * 1000)
s = lambda k: "%.3f s" % f[k]
x = lambda a, b: "%.2f×" % (f[a] / f[b])
mib = lambda k: "%d MiB" % (int(e[k]) // 1024)
print(f"""## rollback and deploy, {n} targets ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d}, {os.cpu_count()} cores, {platform.machine()})

{n} local targets (`[target "t001"]` ... each with its `root = ...`, on {e["fs"]}), no hooks, no health URLs, no migrations, keep = 10; \
ripcord's {e["buildtype"]} build. Release: {e["SRC"]} committed into git with a VERSION file, \
{e["files"]} files, {int(e["size"]) // 1024} KiB; artifact {int(e["art_size"]) // 1024} KiB. \
Rollback is warm (v1 and v2 extracted on every target): plain `ripcord rollback` from v2 to v1, then `deploy v2` again (a switch only). \
The floor is a Python loop over {n} roots of the same filesystem doing symlink + rename + fsync of the root, timed inside the process. \
Fresh deploy: `deploy v3`, every releases/v3 removed and synced before each run, against the same artifact extracted by `tar -I zstd -x` into {n} new folders. \
The steps run in interleaved rounds (every step once per round, its preparation untimed), timed around each process with a monotonic clock; \
medians of {e["RUNS"]} rounds (rollback, after one warm-up round) and {e["DEPLOY_RUNS"]} (deploy).

| operation | ripcord | peer | ratio | peak RSS ripcord |
|---|---|---|---|---|
| `rollback` (target < 100 ms) vs the floor: symlink + rename + fsync per target | {ms("t_rb")} | {ms("t_floor")} | {x("t_rb", "t_floor")} | {mib("rss_rb")} |
| the same per target | {f["t_rb"] * 1000 / n:.2f} ms | {f["t_floor"] * 1000 / n:.2f} ms | | |
| `rollback` vs the shell loop `ln -sfn` + `mv -T` per root (no fsync) | {ms("t_rb")} | {ms("t_shloop")} | {x("t_rb", "t_shloop")} | |
| `rollback`'s CPU time (user + system) | {ms("c_rb")} | | | |
| `deploy v2` when v2 is extracted (a switch only) vs the same floor | {ms("t_warm")} | {ms("t_floor")} | {x("t_warm", "t_floor")} | - |
| of which fixed: `rollback --dry-run` (the plan alone, nothing switched; CPU {ms("c_dry")}) | {ms("t_dry")} | - | | |
| of which fixed: process start, `ripcord --help` vs `git --version` | {ms("t_start")} | {ms("t_git")} | {x("t_start", "t_git")} | |
| of which fixed: process start, `ripcord --version` (CPU {ms("c_version")}) | {ms("t_version")} | | | |
| `deploy v3` (fresh) vs `tar -I zstd -x` into {n} folders | {s("t_dep")} | {s("t_tar")} | {x("t_dep", "t_tar")} | {mib("rss_dep")} |
| `deploy v3` vs the same tar loop, then `sync` (timed on its own: {ms("t_sync_after")}) | {s("t_dep")} | {s("t_tarsync")} | {x("t_dep", "t_tarsync")} | |
| `deploy v3` vs one `tar -I zstd -x`, then `cp -a` to {n - 1} folders | {s("t_dep")} | {s("t_cp")} | {x("t_dep", "t_cp")} | |

The floor without its fsync: {ms("t_nosync")} for {n} targets. The shell loop starts two processes a root and makes nothing durable. \
One rollback of the {n} targets under `strace -f -w -c`: {e["n_fsync"]} fsync, {e["n_fdatasync"]} fdatasync and {e["n_syncfs"]} syncfs calls, {ms("t_sync")} blocked in them; \
it opens {e["n_art"]} artifacts (a warm rollback reads none). \
ripcord's deploy verifies the artifact, checks every entry against SHA256SUMS while it extracts, and makes every release folder durable before it switches; tar does none of these. \
Whole script: {e["whole"]} s; I/O pressure (PSI some avg60) {e["psi_start"]} at the start, {e["psi_end"]} at the end: other work on the machine shows in every fsync.

Where a process start goes: an empty `main` linked with each dependency (`-Wl,--no-as-needed`, so the loader maps and relocates it whether or not it is used), timed like the steps above, in the same rounds; CPU is the child's user + system time. \
The dynamic loader reports {e["ld_cycles"]} cycles for `ripcord --version` (LD_DEBUG=statistics).

| what the program links | shared objects (ldd) | wall | CPU |
|---|---|---|---|
{e["start_rows"]}
""")
PY
bench/put-section.py "rollback and deploy" bench/RESULTS.md < "$W/table.md"
