#!/usr/bin/env bash
# Benchmark (not a test): remote targets over ssh on lab hosts
# (tests/fleet/fleetlab.sh: network namespaces of this machine, each with its
# own sshd and /srv), 10 and 50 hosts side by side in one run, each step
# against what it is measured against:
#   - `ripcord rollback` (warm: both releases extracted on every host, the
#     ControlMasters warm from the command before, no hooks, no health URLs,
#     no migrations) and its way back, `ripcord deploy` of the release that
#     ran (a switch only), against the plain parallel ssh loop
#       for h: ssh -F cfg h 'ln -sfn releases/P /srv/app/current.tmp &&
#              mv -T /srv/app/current.tmp /srv/app/current' &; wait
#     through warm ControlMasters of its own (same ControlMaster/Path/Persist
#     options), and against Capistrano's `deploy:rollback` to the same hosts;
#   - what the loop's time is made of: the same loop running `true`, and
#     running `ripcord --version` (the agent's process start) on every host;
#   - `ripcord deploy` of a new release (transfer + extract on every host),
#     with its ssh masters warm and with them closed first, against
#     Capistrano's `deploy` of the same tree (a new commit) to the same hosts.
# Steps run in interleaved rounds (every step of both host counts once a
# round, preparations untimed), medians. Peak RSS from /usr/bin/time; where a
# rollback's and a deploy's time goes on 50 hosts from an `strace -f -ttt`
# timeline of the agent protocol (per request kind: first sent, last
# answered, per-host latency). Writes its section of bench/RESULTS.md (and
# prints it). Needs root (the lab); installs capistrano (Debian) if missing.
# The labs are always taken down and every ssh master of the run told to
# exit, on any exit.
#
#   bench/fleet.sh [BUILD_DIR]   (default: build-release)
#   SIZES="10 50" host counts, RUNS=5 rounds (after one warm-up round),
#   REPS=3 rollbacks (and loops) per round and host count,
#   SRC=/usr/include/linux (the tree committed as the release: linux-libc-dev's
#   headers, ~760 files, ~4.6 MiB), PARALLEL_MAX=50 ([ssh] parallel is the
#   host count, at least the default 20)
#   The whole run takes ~5-10 minutes on 2 cores; a round of 50 hosts is
#   dominated by Capistrano (~25 s).
set -euo pipefail
trap 'echo "bench/fleet.sh: line $LINENO failed (exit $?)" >&2' ERR
cd "$(dirname "$0")/.."
. bench/lib.sh
ripcord_install_deps time strace capistrano linux-perf
build=${1:-build-release}
bench_build "$build"
buildtype=$(meson introspect "$build" --buildoptions |
  python3 -c "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == 'buildtype'))")
RIP=$(realpath "$build/src/cli/ripcord")
FLEETLAB=$(realpath tests/fleet/fleetlab.sh)
SIZES=${SIZES:-10 50} RUNS=${RUNS:-5} REPS=${REPS:-3} SRC=${SRC:-/usr/include/linux}
PARALLEL_MAX=${PARALLEL_MAX:-50}
[ "$(id -u)" = 0 ] || { echo "bench/fleet.sh: needs root (the lab's network namespaces)" >&2; exit 2; }
W=$(mktemp -d /tmp/ripcord-fleet-XXXXXX)
chmod 0755 "$W"   # the hosts' deploy user reads the git repository here
# every process this run starts carries it: what still does at the end was
# left behind (as tests/fleet/lib.sh)
RUN_MARK=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
export RIPCORD_BENCH_RUN=$RUN_MARK
cleanup() {
  local rc=$? s p pids
  trap - EXIT INT TERM HUP
  set +e
  # the masters first, each through its socket (ripcord's stores, the
  # loops' folders, the labs' cm/)
  while IFS= read -r s; do
    timeout 5 ssh -F /dev/null -o ControlPath="$s" -O exit bench >/dev/null 2>&1
  done < <(find "$W" -xdev -type s 2>/dev/null)
  for s in $SIZES; do
    [ -d "$W/l$s" ] && FLEETLAB_QUIET=1 timeout 120 "$FLEETLAB" down "$W/l$s" >&2
  done
  for _ in 1 2 3; do
    pids=''
    for p in $(grep -lasF "RIPCORD_BENCH_RUN=$RUN_MARK" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
      [ "$p" != "$$" ] && [ "$p" != "$BASHPID" ] && [ -d "/proc/$p" ] && pids+=" $p"
    done
    [ -n "$pids" ] || break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    sleep 0.1
  done
  rm -rf --one-file-system "$W" "/dev/shm/ripcord-fleet-${W##*-}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@example.invalid
load() { cut -d' ' -f1-3 /proc/loadavg; }
psi() { awk '/^some/ { sub("avg60=", "", $3); print $3 "%" }' /proc/pressure/cpu 2>/dev/null || echo n/a; }
load_start=$(load) psi_start=$(psi)

# 1. the release: SRC plus a VERSION file, one git repository that both
#    ripcord (cut) and Capistrano (its hosts clone it over file://) use
repo=$W/app
mkdir -p "$repo" && cp -a "$SRC/." "$repo/"
cd "$repo"
find . -xtype l -delete
echo v1 > VERSION
git init -q -b main . && git add -A && git commit -qm v1
files=$(git ls-files | wc -l)
size=$(du -sb --exclude=.git . | cut -f1)
cd - >/dev/null

# 2. the labs, a ripcord.ini and a Capistrano stage for each
mkdir -p "$W/cap/config/deploy"
cat > "$W/cap/Capfile" <<'C'
require "capistrano/setup"
require "capistrano/deploy"
require "capistrano/scm/git"
install_plugin Capistrano::SCM::Git
C
cat > "$W/cap/config/deploy.rb" <<C
set :application, "app"
set :repo_url, "file://$repo"
set :branch, "main"
set :deploy_to, "/srv/cap"
set :tmp_dir, "/srv/tmp"
set :keep_releases, 5
C
for s in $SIZES; do
  L=$W/l$s
  FLEETLAB_QUIET=1 "$FLEETLAB" up "$s" "$L" >"$W/lab$s.log" 2>&1 ||
    { cat "$W/lab$s.log" >&2; exit 1; }
  par=$(( s > 20 ? (s < PARALLEL_MAX ? s : PARALLEL_MAX) : 20 ))
  eval "par_$s=$par"
  {
    printf '[project]\nname = bench\nstore = %s/s%s\nkeep = 5\n\n' "$W" "$s"
    for k in $(seq 1 "$s"); do printf '[target "h%s"]\nhost = host%s\nroot = /srv/app\n\n' "$k" "$k"; done
    printf '[ssh]\ncommand = ssh -F %s/ssh_config\nparallel = %s\nagent_path = %s\n' "$L" "$par" "$RIP"
  } > "$W/r$s.ini"
  # Capistrano: net-ssh with the lab's key, user deploy, the hosts' addresses
  {
    awk '{ printf "server \"%s\", user: \"deploy\", roles: %%w{app}\n", $2 }' "$L/hosts"
    printf 'set :ssh_options, { keys: ["%s/id_ed25519"], keys_only: true, user: "deploy", auth_methods: ["publickey"], verify_host_key: :never }\n' "$L"
  } > "$W/cap/config/deploy/s$s.rb"
  # the hosts' git trusts the repository (owned by root here, read by the
  # deploy user there, whose HOME is the host's /srv)
  for k in $(seq 1 "$s"); do
    printf '[safe]\n\tdirectory = *\n' > "$L/host$k/disk/.gitconfig"
    chown --reference="$L/host$k/disk" "$L/host$k/disk/.gitconfig"
  done
done

R() { local s=$1; shift; "$RIP" -q -c "$W/r$s.ini" "$@"; }
# next S [cold]: a new commit and its release cut into S's store (printed);
# ids.S holds "previous current"
cat > "$W/next.sh" <<SH
set -e
s=\$1 mode=\${2:-}
n=\$(( \$(cat "$W/n.\$s" 2>/dev/null || echo 0) + 1 )); echo "\$n" > "$W/n.\$s"
id=s\$s-r\$n
if [ "\$mode" = cold ]; then
  for c in "$W/s\$s/ssh"/*; do [ -S "\$c" ] && ssh -F /dev/null -o ControlPath="\$c" -O exit bench >/dev/null 2>&1 || true; done
fi
cd "$repo"
echo "\$id" > VERSION && git commit -qam "\$id"
"$RIP" -q -c "$W/r\$s.ini" gc >/dev/null
"$RIP" -q -c "$W/r\$s.ini" cut --id "\$id" >/dev/null
echo "\$(cut -d' ' -f2 "$W/ids.\$s" 2>/dev/null || echo v1) \$id" > "$W/ids.\$s"
echo "\$id"
SH
# loop CFG CPDIR N switch REL | true | agent: the plain parallel ssh loop
cat > "$W/loop.sh" <<SH
cfg=\$1 cp=\$2 n=\$3 mode=\$4 rel=\${5:-}
case \$mode in
switch) cmd="ln -sfn releases/\$rel /srv/app/current.tmp && mv -T /srv/app/current.tmp /srv/app/current" ;;
true) cmd=true ;;
agent) cmd="$RIP --version" ;;
esac
for k in \$(seq 1 "\$n"); do
  ssh -F "\$cfg" -o ControlMaster=auto -o ControlPath="\$cp/%C" -o ControlPersist=60 "host\$k" "\$cmd" >/dev/null &
done
fail=0
for k in \$(seq 1 "\$n"); do wait -n || fail=1; done
exit \$fail
SH
for s in $SIZES; do
  mkdir -p "$W/cm$s" && chmod 0700 "$W/cm$s"
  (cd "$repo" && R "$s" cut --id v1 >/dev/null)
  R "$s" deploy v1 >/dev/null
  (cd "$W/cap" && cap "s$s" deploy >>"$W/cap.log" 2>&1) ||
    { tail -30 "$W/cap.log" >&2; exit 1; }   # first deploy: clones the repository
done

# 3. the rounds: steps given as NAME PREP CMD; PREP's last line of output
#    (if any) replaces {id} in CMD; each step's output goes to steps.log
cat > "$W/rounds.py" <<'PY'
import json, resource, shlex, statistics, subprocess, sys, time
out, runs, warmup, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
steps = [sys.argv[i:i + 3] for i in range(5, len(sys.argv), 3)]
logf = open(log, "a")
def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
fails = {}
def run(argv, what):
    p = subprocess.run(argv, stdout=logf, stderr=logf)
    if p.returncode and what.startswith(("cap", "loop")):
        # Capistrano (net-ssh) now and then loses a connection under load
        # ("closed stream"), and a plain loop's ssh a session through its
        # master: counted, and the step run again once (ripcord's own
        # steps are never run again: a failure of theirs stops the bench)
        fails[what] = fails.get(what, 0) + 1
        return False
    if p.returncode:
        logf.flush()
        sys.exit("%s failed (exit %d): %s; see the tail of %s:\n%s" % (
            what, p.returncode, " ".join(argv), log, open(log).read()[-3000:]))
times = {name: [] for name, _, _ in steps}
cpus = {name: [] for name, _, _ in steps}
for k in range(warmup + runs):
    for name, prep, cmd in steps:
        ident = ""
        if prep:
            p = subprocess.run(prep, shell=True, stdout=subprocess.PIPE, stderr=logf, text=True)
            if p.returncode:
                sys.exit("preparing %s failed (exit %d): %s" % (name, p.returncode, prep))
            lines = p.stdout.split()
            ident = lines[-1] if lines else ""
        argv = shlex.split(cmd.replace("{id}", ident))
        for attempt in (1, 2):
            c = children_cpu()
            t = time.perf_counter()
            if run(argv, name if attempt == 1 else "again: " + name) is not False:
                break
        dt = time.perf_counter() - t
        if k >= warmup:
            times[name].append(dt)
            cpus[name].append(children_cpu() - c)
    print("round %d of %d done" % (k + 1, warmup + runs), file=sys.stderr, flush=True)
res = {n: {"median": statistics.median(v), "times": v, "n": len(v),
           "cpu": statistics.median(cpus[n])} for n, v in times.items() if v}
res["fails"] = fails
json.dump(res, open(out, "w"), indent=1)
PY
steps=()
for s in $SIZES; do
  r="$RIP -q -c $W/r$s.ini"
  lp="bash $W/loop.sh $W/l$s/ssh_config $W/cm$s $s"
  steps+=("deploy$s" "bash $W/next.sh $s" "$r deploy {id}"
    "coldcm$s" "bash $W/next.sh $s cold" "$r deploy {id}"
    "dry$s" "" "$r rollback --dry-run")
  for _ in $(seq 1 "$REPS"); do
    steps+=("rollback$s" "" "$r rollback"
      "back$s" "cut -d' ' -f2 $W/ids.$s" "$r deploy {id}")
  done
  # the loop's own masters are opened (or kept) by an untimed `true` first
  steps+=("looptrue$s" "$lp true" "$lp true"
    "loopagent$s" "" "$lp agent")
  for _ in $(seq 1 "$REPS"); do
    steps+=("loop$s" "cut -d' ' -f1 $W/ids.$s" "$lp switch {id}"
      "loopback$s" "cut -d' ' -f2 $W/ids.$s" "$lp switch {id}")
  done
  steps+=("capdeploy$s" "" "env -C $W/cap cap s$s deploy"
    "caprollback$s" "" "env -C $W/cap cap s$s deploy:rollback")
done
python3 "$W/rounds.py" "$W/rounds.json" "$RUNS" 1 "$W/steps.log" "${steps[@]}"

# 4. every host on the release it should be on: the timed steps did their work
for s in $SIZES; do
  want=$(cut -d' ' -f2 "$W/ids.$s")
  for k in $(seq 1 "$s"); do
    got=$(readlink "$W/l$s/host$k/disk/app/current")
    [ "$got" = "releases/$want" ] || { echo "bench/fleet.sh: host$k of $s: current -> $got, not releases/$want" >&2; exit 1; }
    [ -L "$W/l$s/host$k/disk/cap/current" ] || { echo "bench/fleet.sh: host$k of $s: no Capistrano current" >&2; exit 1; }
  done
done

# 5. peak RSS (KiB) of a rollback, its way back and a new release's deploy;
#    then where the time goes on the largest fleet: a timeline of the agent
#    protocol from strace (which slows every call: the shares count, not
#    the sums)
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; }
for s in $SIZES; do
  eval "rss_rb_$s=$(rss "$RIP" -q -c "$W/r$s.ini" rollback)"
  eval "rss_back_$s=$(rss "$RIP" -q -c "$W/r$s.ini" deploy "$(cut -d' ' -f2 "$W/ids.$s")")"
  id=$(bash "$W/next.sh" "$s" 2>>"$W/steps.log")
  eval "rss_dep_$s=$(rss "$RIP" -q -c "$W/r$s.ini" deploy "$id")"
done
big=${SIZES##* }
cat > "$W/timeline.py" <<'PY'
# reads `strace -f -ttt -T -e trace=execve,read,write,fsync,fdatasync -s 200`: the agent
# requests ripcord writes ({"op":...,"id":N}) and the answers it reads
# ({"id":N,"ok":...}), paired by thread and id; prints one JSON object
import json, re, statistics, sys
req = re.compile(r'\\"op\\":\\"(\w+)\\"')
rid = re.compile(r'\\"id\\":(\d+)')
ans = re.compile(r'\{\\"id\\":(\d+),\\"ok\\"')
sync = re.compile(r'(fsync|fdatasync)\(')
dur = re.compile(r'<(\d+\.\d+)>\s*$')
start = end = first_ssh = None
pending, ops, ssh_pids, ssh_exits, syncs, sync_s = {}, {}, set(), [], [], []
for line in open(sys.argv[1]):
    f = line.split(None, 2)
    if len(f) < 3:
        continue
    tid, t, rest = f[0], float(f[1]), f[2]
    if start is None and rest.startswith("execve("):
        start, main = t, tid
    if rest.startswith("+++ exited") and tid == main:
        end = t
    if first_ssh is None and rest.startswith("execve(") and tid != main:
        first_ssh = t
    if rest.startswith("execve(") and tid != main and " = 0" in rest:
        ssh_pids.add(tid)
    if rest.startswith("+++ exited") and tid in ssh_pids:
        ssh_exits.append(t)
    sc = sync.match(rest)
    if sc:
        syncs.append(t)
    d = dur.search(rest)
    if d and (sc or "fsync resumed>" in rest or "fdatasync resumed>" in rest):
        sync_s.append(float(d.group(1)))
    if "write(" in rest or "<... write resumed>" in rest:
        m = req.search(rest)
        if m:
            i = rid.search(rest)
            pending.setdefault(tid, []).append([m.group(1), i and int(i.group(1)), t])
            ops.setdefault(m.group(1), {"sent": [], "lat": [], "answered": []})["sent"].append(t)
    elif "read(" in rest or "<... read resumed>" in rest:
        for a in ans.finditer(rest):
            n = int(a.group(1))
            for p in pending.get(tid, []):
                if p[1] == n:
                    pending[tid].remove(p)
                    o = ops[p[0]]
                    o["lat"].append(t - p[2]); o["answered"].append(t)
                    break
res = {"total": end - start, "spawn": first_ssh - start, "ops": {}}
last = start
for name, o in sorted(ops.items(), key=lambda kv: min(kv[1]["sent"])):
    r = {"n": len(o["sent"]), "first_sent": min(o["sent"]) - start}
    if o["lat"]:
        r.update(last_answer=max(o["answered"]) - start, lat_med=statistics.median(o["lat"]),
                 lat_max=max(o["lat"]))
        last = max(last, max(o["answered"]))
    res["ops"][name] = r
res["tail"] = end - last
res["last_answer"] = last - start
res["ssh_exit"] = max(ssh_exits) - start if ssh_exits else None
res["syncs"] = len(syncs)
res["sync_s"] = sum(sync_s)
res["last_sync"] = max(syncs) - start if syncs else None
json.dump(res, sys.stdout)
PY
st() { local s=$1; shift; strace -f -ttt -T -e trace=execve,read,write,fsync,fdatasync -s 200 -o "$W/strace.txt" "$RIP" -q -c "$W/r$s.ini" "$@" >/dev/null; }
for s in $SIZES; do
  st "$s" rollback
  python3 "$W/timeline.py" "$W/strace.txt" > "$W/tl_rollback$s.json"
  R "$s" deploy "$(cut -d' ' -f2 "$W/ids.$s")" >/dev/null
  id=$(bash "$W/next.sh" "$s" 2>>"$W/steps.log")
  st "$s" deploy "$id"
  python3 "$W/timeline.py" "$W/strace.txt" > "$W/tl_deploy$s.json"
done
art_size=$(stat -c %s "$W/s$big/artifacts/$id.tar.zst")

# 5b. whose CPU a deploy spends: every core sampled (perf record -a) during one
#     deploy of a new release per host count, each sample put to its process
#     (ripcord itself, an agent, an ssh client it started, an ssh master,
#     sshd, the hosts' login shells, the rest), and the machine's busy time
#     against the wall time (/proc/stat): a deploy that keeps every core busy
#     is bound by CPU, and on the lab every host's CPU is this machine's
cat > "$W/cpu.py" <<'PY'
# cpu.py SCRIPT_OUT CLIENT_PID MASTERS WALL BUSY: perf script -F pid,comm
# lines -> JSON {kind: ms of the cores}, wall (ms of the deploy), busy (ms
# the cores were busy during it, whatever ran)
import collections, json, sys
lines, client, masters = sys.argv[1], sys.argv[2], set(sys.argv[3].split())
kinds = collections.Counter()
for line in open(lines):
    f = line.rsplit(None, 1)   # "COMM PID" (a comm may hold spaces)
    if len(f) < 2:
        continue
    comm, pid = f[0].strip(), f[1]
    if pid == client:
        k = "ripcord (the client)"
    elif comm == "ripcord":
        k = "ripcord agent"
    elif comm == "ssh":
        k = "ssh master (its host's connection)" if pid in masters else "ssh client (one per session)"
    elif comm.startswith("sshd"):
        k = "sshd"
    elif comm in ("bash", "sh", "dash"):
        k = "the hosts' login shell"
    elif comm == "swapper" or pid == "0":
        k = "idle"
    else:
        k = "other"
    kinds[k] += 1
# at 2 kHz on every core, a sample is 0.5 ms of one core's time
json.dump({"ms": {k: v * 0.5 for k, v in kinds.items()}, "wall": float(sys.argv[4]),
           "busy": float(sys.argv[5])}, sys.stdout)
PY
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
for s in $SIZES; do
  id=$(bash "$W/next.sh" "$s" 2>>"$W/steps.log")
  masters=$(pgrep -d' ' -f "^ssh: $W/s$s/ssh/.*\[mux\]" || true)
  # the shell under perf times the deploy alone (not perf's start) and
  # writes the deploy's pid (the client) and the machine's busy ticks
  # before and after it
  export -f busy
  perf record -q -a -e cpu-clock -F 2000 -o "$W/perf$s.data" -- \
    bash -c 'd=$0; busy > "$d/b0"; t0=$(date +%s%N); "$@" & echo $! > "$d/client.pid"
      wait $!; rc=$?; t1=$(date +%s%N); busy > "$d/b1"; echo $(( (t1 - t0) / 1000000 )) > "$d/wall"; exit $rc' \
    "$W" "$RIP" -q -c "$W/r$s.ini" deploy "$id" >/dev/null 2>>"$W/steps.log"
  perf script -i "$W/perf$s.data" -F pid,comm 2>/dev/null > "$W/perf$s.txt"
  python3 "$W/cpu.py" "$W/perf$s.txt" "$(cat "$W/client.pid")" "$masters" "$(cat "$W/wall")" \
    "$(( ($(cat "$W/b1") - $(cat "$W/b0")) * 1000 / $(getconf CLK_TCK) ))" > "$W/cpu$s.json"
done

# 6. one host's work alone, on this machine, no ssh: what N hosts of the lab
#    cost the shared cores at least. ripcord: `ripcord agent` fed what a
#    deploy of a new release sends a host (hello, put of the artifact,
#    extract, switch, bye) into a root on tmpfs: the agent's code, process
#    start included; Capistrano: its git strategy's `git archive BRANCH |
#    tar -x` from a mirror into a new folder, and its rollback's `tar -czf`
#    of a release
hw=/dev/shm/ripcord-fleet-${W##*-}
mkdir -p "$hw"
git clone -q --mirror "$repo" "$hw/mirror"
printf '[project]\nname = one\nstore = %s/store\nkeep = 50\n' "$hw" > "$hw/r.ini"
cat > "$hw/cut.sh" <<SH
set -e
n=\$(( \$(cat "$hw/n" 2>/dev/null || echo 0) + 1 )); echo "\$n" > "$hw/n"
cd "$repo" && "$RIP" -q -c "$hw/r.ini" cut --id "one\$n" >/dev/null
a="$hw/store/artifacts/one\$n.tar.zst"
{ printf '{"op":"hello","id":0,"protocol":1,"version":"bench"}\n'
  printf '{"op":"put","id":1,"root":"%s","release":"one%s","digest":"%s","size":%s}\n' \
    "$hw/root" "\$n" "\$(sha256sum "\$a" | cut -c1-64)" "\$(stat -c %s "\$a")"
  cat "\$a"
  printf '{"op":"extract","id":2,"root":"%s","release":"one%s","digest":"%s"}\n' \
    "$hw/root" "\$n" "\$(sha256sum "\$a" | cut -c1-64)"
  printf '{"op":"switch","id":3,"root":"%s","release":"one%s"}\n{"op":"bye","id":4}\n' \
    "$hw/root" "\$n"; } > "$hw/in"
echo "one\$n"
SH
# the agent's five answers must all be ok, or the sample is not one
cat > "$hw/agent.sh" <<SH
"$RIP" agent < "$hw/in" > "$hw/out" && [ "\$(grep -c '"ok":true' "$hw/out")" = 5 ]
SH
python3 "$W/rounds.py" "$W/onehost.json" 5 1 "$W/steps.log" \
  onerip "bash $hw/cut.sh" "bash $hw/agent.sh" \
  onecap "rm -rf $hw/cap && mkdir $hw/cap" "sh -c 'git -C $hw/mirror archive main | tar -x -f - -C $hw/cap'" \
  onetgz "rm -f $hw/rb.tgz" "tar -czf $hw/rb.tgz -C $hw cap"
rm -rf "$hw"
cap_ver=$(cap --version 2>/dev/null | head -1)
libs=$(ldd "$RIP" | wc -l)

for s in $SIZES; do export "rss_rb_$s" "rss_back_$s" "rss_dep_$s" "par_$s"; done
export SIZES RUNS REPS SRC files size art_size buildtype load_start psi_start W big cap_ver libs
load_end=$(load) psi_end=$(psi) whole=$SECONDS python3 - <<'PY' | tee "$W/table.md"
import datetime, json, os, platform
e = os.environ
r = json.load(open(e["W"] + "/rounds.json"))
sizes = [int(x) for x in e["SIZES"].split()]
big = int(e["big"])
med = lambda k: r[k]["median"]
ms = lambda k: "%.0f ms" % (med(k) * 1000)
s_ = lambda k: "%.2f s" % med(k)
def t(k):  # ms below 10 s, s above
    return ms(k) if med(k) < 10 else s_(k)
x = lambda a, b: "%.2f×" % (med(a) / med(b))
kib = lambda k: "%.0f MiB" % (int(e[k]) / 1024)
out = []
p = out.append
p(f"""## fleet: rollback and deploy over ssh, {' and '.join(map(str, sizes))} lab hosts vs a plain ssh loop and Capistrano ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d}, {os.cpu_count()} cores, {platform.machine()})

Hosts: tests/fleet/fleetlab.sh labs of {' and '.join(map(str, sizes))} hosts, each a network namespace of this machine with its own sshd, \
/etc and tmpfs /srv, user deploy, reached as `host = hostK` through the lab's ssh_config; they share this machine's {os.cpu_count()} cores with the client \
(what each host does runs on the same cores: on a real fleet it runs in parallel on the hosts). \
Release: {e["SRC"]} committed into git with a VERSION file, {e["files"]} files, {int(e["size"]) / 1048576:.1f} MiB, artifact {int(e["art_size"]) / 1048576:.1f} MiB. \
ripcord's {e["buildtype"]} build, `ripcord agent` on every host (the same binary), keep = 5, no hooks, no health URLs, no migrations; \
[ssh] parallel = {', '.join('%s for %s hosts' % (e['par_%d' % s], s) for s in sizes)} (the default is 20). \
{e["cap_ver"]} (Debian's), net-ssh with the lab's key, verify_host_key :never, deploy_to /srv/cap, the git strategy cloning the same repository over file:// \
(a path every host sees: Capistrano's hosts fetch the tree locally, ripcord sends its artifact over ssh). \
Rounds: one warm-up, then {e["RUNS"]}; each round runs every step below for every host count once (rollback, its way back and the loops {e["REPS"]} times), \
preparations untimed (a new commit and `ripcord cut` before each deploy; the rollback's previous and current releases both extracted on every host), \
timed around each process with a monotonic clock; medians.

- `rollback`: warm, from the release just deployed to the one before; `deploy back`: `deploy` of the release it left (extracted: a switch only).
- plain ssh loop: the issue's loop (`ln -sfn releases/P /srv/app/current.tmp && mv -T ...` on every host, `&`, then `wait`) through ControlMasters of its own, kept warm; \
the same loop running `true` (the floor: an ssh session through a warm master and the login shell) and `ripcord --version` (the agent's process start on every host).
- `deploy` (new release): transfer + extract + switch on every host, the masters warm from the command before; with masters closed first: every host's ssh connection made in the deploy too, as Capistrano makes its own on every run.
- Capistrano: `cap deploy` of a new commit (fetch into its repo mirror, `git archive` into a new release, switch; its default tasks), and `cap deploy:rollback` \
(switch to the previous release, then by default archive the rolled-back release as a .tar.gz and remove it).
""")
for s in sizes:
    S = str(s)
    p(f"""### {s} hosts

| operation | ripcord | plain ssh loop | Capistrano | ripcord vs loop | Capistrano / ripcord | peak RSS ripcord |
|---|---|---|---|---|---|---|
| rollback (warm) | {t('rollback' + S)} | {t('loop' + S)} | {t('caprollback' + S)} | {x('rollback' + S, 'loop' + S)} | {x('caprollback' + S, 'rollback' + S)} | {kib('rss_rb_' + S)} |
| the way back: `deploy` of the release it left (a switch) | {t('back' + S)} | {t('loopback' + S)} | | {x('back' + S, 'loopback' + S)} | | {kib('rss_back_' + S)} |
| `rollback --dry-run` (the plan: connect, inspect every host) | {t('dry' + S)} | | | | | |
| the loop running `true` / `ripcord --version` on every host | | {t('looptrue' + S)} / {t('loopagent' + S)} | | | | |
| deploy of a new release, masters warm | {t('deploy' + S)} | | {t('capdeploy' + S)} | | {x('capdeploy' + S, 'deploy' + S)} | {kib('rss_dep_' + S)} |
| deploy of a new release, masters closed first | {t('coldcm' + S)} | | {t('capdeploy' + S)} | | {x('capdeploy' + S, 'coldcm' + S)} | |

CPU of the client side (ripcord or cap and the ssh clients they start; not the hosts'), medians: rollback {ms('rollback' + S).replace(' ms', '')} ms wall / {r['rollback' + S]['cpu'] * 1000:.0f} ms CPU, \
plain loop {r['loop' + S]['cpu'] * 1000:.0f} ms CPU, Capistrano rollback {r['caprollback' + S]['cpu'] * 1000:.0f} ms CPU; \
deploy {r['deploy' + S]['cpu'] * 1000:.0f} ms CPU, Capistrano deploy {r['capdeploy' + S]['cpu'] * 1000:.0f} ms CPU. \
Samples: {r['rollback' + S]['n']} rollbacks, {r['loop' + S]['n']} loops, {r['deploy' + S]['n']} deploys, {r['capdeploy' + S]['n']} Capistrano deploys and rollbacks; \
Capistrano runs that failed and were run again (the timed sample is the second): {r['fails'].get('capdeploy' + S, 0)} deploys, {r['fails'].get('caprollback' + S, 0)} rollbacks; \
plain loops likewise: {sum(v for k, v in r['fails'].items() if k.startswith('loop') and k.endswith(S))}.
""")
B = str(big)
rb, lp, cd, dp, cc = med("rollback" + B), med("loop" + B), med("capdeploy" + B), med("deploy" + B), med("coldcm" + B)
def verdict(ok, txt):
    return ("met: " if ok else "**missed**: ") + txt
pairs = sorted(a / b for a, b in zip(r["rollback" + B]["times"], r["loop" + B]["times"]))
g1 = verdict(rb <= 1.5 * lp, f"rollback of {big} warm hosts {rb * 1000:.0f} ms is {rb / lp:.2f}× the plain ssh loop ({lp * 1000:.0f} ms; \
each rollback over the loop of its round: {pairs[0]:.2f}× to {pairs[-1]:.2f}×, {sum(p > 1.5 for p in pairs)} of {len(pairs)} above 1.5×); the goal is 1.5× or less" +
             ("" if rb <= 1.5 * lp else f", missed by {(rb - 1.5 * lp) * 1000:.0f} ms ({rb / (1.5 * lp):.2f}× the bound)"))
g2 = verdict(rb < 1, f"rollback of {big} warm hosts in {rb * 1000:.0f} ms; the goal is under 1 s" +
             ("" if rb < 1 else f", missed by {(rb - 1) * 1000:.0f} ms"))
g3 = []
for s in sizes:
    S = str(s)
    for name, label in (("deploy", "masters warm"), ("coldcm", "masters closed first")):
        f = med("capdeploy" + S) / med(name + S)
        g3.append(f"{s} hosts, {label}: {f:.1f}×" + ("" if f >= 10 else f" (missed: {10 / f:.1f}× short of 10×)"))
g3ok = all(med("capdeploy%d" % s) / med("coldcm%d" % s) >= 10 for s in sizes)
p(f"""### the issue's goals

- {g1}.
- {g2}.
- {verdict(g3ok, "deploy faster than Capistrano by 10× or more: " + "; ".join(g3))}.
""")
def tl(name, what):
    d = json.load(open(e["W"] + "/tl_%s.json" % name))
    tls[name] = d
    rows = [f"| start to the first ssh started (config, state.db, plan) | {d['spawn'] * 1000:.0f} ms | | |"]
    for op, o in d["ops"].items():
        if "lat_med" in o:
            rows.append(f"| `{op}` ×{o['n']} | {o['first_sent'] * 1000:.0f} ms | {o['last_answer'] * 1000:.0f} ms | {o['lat_med'] * 1000:.0f} ms / {o['lat_max'] * 1000:.0f} ms |")
        else:
            rows.append(f"| `{op}` ×{o['n']} (no answer read) | {o['first_sent'] * 1000:.0f} ms | | |")
    if d["ssh_exit"] is not None:
        rows.append(f"| the last ssh client exited (its agent gone) | {d['ssh_exit'] * 1000:.0f} ms | | |")
    if d["syncs"]:
        rows.append(f"| fsync + fdatasync in ripcord: {d['syncs']} calls, {d['sync_s'] * 1000:.0f} ms blocked in them, the last started at | {d['last_sync'] * 1000:.0f} ms | | |")
    rows.append(f"| exit: {d['tail'] * 1000:.0f} ms after the last answer (journal, summary, sessions closed) | {d['total'] * 1000:.0f} ms | | |")
    return f"""{what}, under strace (total {d['total'] * 1000:.0f} ms):

| phase / request kind | first sent | last answered | per host: median / max |
|---|---|---|---|
""" + "\n".join(rows) + "\n"
tls = {}
p(f"""### where ripcord's time goes

From an `strace -f -ttt` timeline of the agent protocol (times from ripcord's start; `hello` is answered once the ssh session is open through the master, \
the host's login shell has run `ripcord agent` and the agent is loaded; strace slows every system call, so the shares count more than the sums).
""")
for s in sizes:
    p(tl("rollback%d" % s, f"One warm rollback, {s} hosts"))
    p(tl("deploy%d" % s, f"One deploy of a new release, masters warm, {s} hosts"))
o = json.load(open(e["W"] + "/onehost.json"))
om = lambda k: o[k]["median"] * 1000
oc = lambda k: o[k]["cpu"] * 1000
cores = os.cpu_count()
p(f"""One host's work alone, on this machine without ssh (medians of 5, wall / CPU): ripcord's on a root on tmpfs \
(`ripcord agent` fed a new release's hello, put, extract and switch: the agent's whole work, process start included) {om('onerip'):.0f} / {oc('onerip'):.0f} ms; Capistrano's `git archive | tar -x` into a new release {om('onecap'):.0f} / {oc('onecap'):.0f} ms, \
and its rollback's `tar -czf` of the rolled-back release {om('onetgz'):.0f} / {oc('onetgz'):.0f} ms. \
On the lab, {big} hosts' extractions alone take {big} × {oc('onerip'):.0f} ms / {cores} cores = {big * oc('onerip') / cores:.0f} ms of the shared cores \
before any transfer (ssh encrypts and decrypts every artifact on these same cores) or agent start.
""")
c = {s: json.load(open(e["W"] + "/cpu%d.json" % s)) for s in sizes}
order = ["ripcord agent", "ripcord (the client)", "ssh client (one per session)", "ssh master (its host's connection)",
         "sshd", "the hosts' login shell"]
def cms(s, k):
    return c[s]["ms"].get(k, 0)
def ssh_side(s):  # what OpenSSH and the login shell cost per host
    return sum(cms(s, k) for k in order[2:]) / s
rows = [f"| {k} | " + " | ".join(f"{cms(s, k):.0f} ms | {cms(s, k) / s:.1f} ms" for s in sizes) + " |" for k in order]
rows.append("| all of these | " + " | ".join(f"{sum(cms(s, k) for k in order):.0f} ms | {sum(cms(s, k) for k in order) / s:.1f} ms" for s in sizes) + " |")
p(f"""Whose CPU one deploy of a new release spends (every core sampled with `perf record -a` at 2 kHz, each sample, 0.5 ms of a core, put to its process):

| process | """ + " | ".join(f"{s} hosts: CPU | per host" for s in sizes) + """ |
|---|""" + "---|---|" * len(sizes) + "\n" + "\n".join(rows) + "\n\n" + \
"; ".join(f"{s} hosts: the deploy took {c[s]['wall']:.0f} ms, the machine was busy {c[s]['busy']:.0f} ms of the {cores * c[s]['wall']:.0f} ms its {cores} cores had "
          f"({c[s]['busy'] / (cores * c[s]['wall']) * 100:.0f}%)" for s in sizes) + \
". " + " ".join(
    f"With {s} hosts, 10× Capistrano ({med('capdeploy%d' % s) * 1000:.0f} ms) is a deploy in {med('capdeploy%d' % s) * 100:.0f} ms, "
    f"{med('capdeploy%d' % s) * 100 * cores / s:.1f} ms of the cores per host: OpenSSH and the login shell took {ssh_side(s):.1f} ms of it here, "
    f"leaving {med('capdeploy%d' % s) * 100 * cores / s - ssh_side(s):.1f} ms for ripcord's agent and client, which took {(cms(s, order[0]) + cms(s, order[1])) / s:.1f} ms "
    f"(the agent alone, above: {oc('onerip'):.0f} ms)." for s in sizes) + "\n")
# findings, from this run's numbers
lt, la = med("looptrue" + B), med("loopagent" + B)
trb = tls["rollback" + B]
tdp = tls["deploy" + B]
# what N hosts cost the shared cores at least: each one's agent work
# (alone, above) and OpenSSH's per session (the CPU table)
def floor_of(s):
    return s * (oc('onerip') + ssh_side(s)) / 1000 / cores
floor = floor_of(big)
goal_note = ("10× here would leave ripcord's agent and client %.1f ms of the cores a host, where its agent alone takes %.0f ms "
             "(decompress, write and check %s files, process start included): the goal can only be checked on hosts with cores of their own. "
             % (med("capdeploy" + B) * 100 * cores / big - ssh_side(big), oc("onerip"), e["files"])
             if med("capdeploy" + B) / floor < 10 else "")
others = "".join(" (%.1f× with %d hosts)" % (med("capdeploy%d" % s) / floor_of(s), s) for s in sizes if s != big)
ext = tdp["ops"].get("extract", {})
put = tdp["ops"].get("put", {})
p(f"""### findings ({big} hosts)

- Rollback: ripcord takes {(rb - lp) * 1000:.0f} ms more than the plain loop. The same loop running `ripcord --version` instead of `true` on every host costs \
{(la - lt) * 1000:.0f} ms more: the agent's process start (the loader mapping and relocating the {e['libs']} shared objects ripcord links, ~5 ms of CPU each time, \
times {big} hosts on {cores} shared cores) is {'as much as the whole gap' if la - lt >= rb - lp else 'most of the gap' if la - lt >= 0.5 * (rb - lp) else 'part of the gap'}; the rest is ripcord's own start before the first ssh ({trb['spawn'] * 1000:.0f} ms under strace: \
config, state.db, the plan), one more round trip per host (`hello` and `inspect` in one, then `switch`, where the loop sends one command), and the end \
({trb['tail'] * 1000:.0f} ms under strace from the last answer to the exit: `bye`, waiting for every ssh client to exit, then the journal). \
What would close it (not done here: src/ is not this bench's to change): an agent that loads only what it serves (jansson, libcrypto; \
libarchive on the first `extract`, libgit2/sqlite/libcurl/libpq never), or a smaller binary for it; starting the ssh sessions before reading state.db and planning; \
writing the journal while the sessions close rather than after the last ssh client exits.
- Deploy: the per-host `hello` median is {tdp['ops'].get('hello', {}).get('lat_med', 0) * 1000:.0f} ms, `put` {put.get('lat_med', 0) * 1000:.0f} ms, `extract` {ext.get('lat_med', 0) * 1000:.0f} ms \
({big} extractions at once on {cores} cores). On the lab the hosts' work runs on the client's cores (the machine was busy {c[big]['busy'] / (cores * c[big]['wall']) * 100:.0f}% \
of the deploy, above): a deploy to {big} hosts spends at least {floor * 1000:.0f} ms of them on the agents' own work ({oc('onerip'):.0f} ms a host, alone above) and OpenSSH's \
({ssh_side(big):.1f} ms a host: client, master, sshd and login shell, measured above), so a ripcord whose client cost nothing would be at most \
{med("capdeploy" + B) / floor:.1f}× faster than Capistrano here{others}; measured: {med("capdeploy" + B) / dp:.1f}×. \
{goal_note}\
Capistrano's own per-host work costs {oc('onecap'):.0f} ms of CPU against ripcord's {oc('onerip'):.0f} ms (above); what separates them is Capistrano's fixed cost \
(Ruby and rake start, a new SSH connection to every host, then task after task of remote commands, each waiting for the slowest host). \
On ripcord's side, the agent reads a new artifact twice: `put` hashes it as it arrives, and `extract` checks the cached file's digest and signature again, \
then decompresses it once, checking every entry as it writes it (rip_extract_verify_file).
""")
p(f"""Whole script: {e["whole"]} s. Load average (1, 5, 15 min) {e["load_start"]} at the start, {e["load_end"]} at the end; \
CPU pressure (PSI some avg60) {e["psi_start"]} at the start, {e["psi_end"]} at the end: other work on the machine shows in every step (the rounds spread it over all of them).
""")
print("\n".join(out))
PY
bench/put-section.py "fleet:" bench/RESULTS.md < "$W/table.md"
