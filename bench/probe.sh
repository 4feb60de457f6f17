#!/usr/bin/env bash
# Benchmark (not a test): the probe round of a rollout's bake over N=1000
# local health endpoints. ripcord's side is rip_probe_run itself (the call
# the bake makes every probe_interval: one process, libcurl multi, every
# URL at once), driven by bench/probe_bench.c in one long-lived process;
# the peer is `curl --parallel --parallel-max 1000` over the same URLs, one
# process per round. The server is one Python process (selectors, epoll)
# serving N loopback ports. The two run in interleaved rounds (one of each
# per round), so load from other work on the machine falls on both alike.
# Measured per round: wall time, probes/s, CPU time (the driver's own
# getrusage; curl's from wait4), latency as each prober reports it, and
# the most connections the server saw open at once. Also: the same URLs by
# host name (the resolver's cost), rounds with 5% and with all endpoints
# hanging (the probe timeout bounds a round), and 2N probes under the usual
# soft RLIMIT_NOFILE of 1024. Writes its section of bench/RESULTS.md (and
# prints it).
#
#   bench/probe.sh [BUILD_DIR]   (default: build-release)
#   N=1000 endpoints, RUNS=7 rounds (after one warm-up), NAME_RUNS=3,
#   HANG_RUNS=3, TIMEOUT_MS=2000 (probe_timeout's default)
set -euo pipefail
trap 'echo "bench/probe.sh: line $LINENO failed (exit $?)" >&2' ERR
cd "$(dirname "$0")/.."
. bench/lib.sh
ripcord_install_deps time curl
build=${1:-build-release}
bench_build "$build" bench/probe_bench
DRIVER=$(realpath "$build/bench/probe_bench")
N=${N:-1000} RUNS=${RUNS:-7} NAME_RUNS=${NAME_RUNS:-3} HANG_RUNS=${HANG_RUNS:-3}
TIMEOUT_MS=${TIMEOUT_MS:-2000}
W=$(mktemp -d "${TMPDIR:-/tmp}/ripcord-bench-XXXXXX")
server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null; rm -rf "$W"' EXIT
load() { cut -d' ' -f1 /proc/loadavg; }
load_start=$(load)

# 1. the server: N ports plus a control port (the last line of ports)
cat > "$W/server.py" <<'PY'
# GET /health: 200 "ok", Connection: close, then close. GET /hang...: reads
# the request, never answers (the client's timeout ends it). The control
# port answers GET /stats with the counts since the last /stats: requests,
# the most connections open at once, hung ones, the server's CPU seconds.
import json, os, resource, selectors, socket, sys
n, portfile = int(sys.argv[1]), sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
sel = selectors.DefaultSelector()
OK = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
      b"Connection: close\r\n\r\nok\n")
listeners = []
for i in range(n + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i == n)  # True: the control port
    listeners.append(s)
with open(portfile + ".tmp", "w") as f:
    f.writelines("%d\n" % s.getsockname()[1] for s in listeners)
os.rename(portfile + ".tmp", portfile)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def fresh():
    return {"requests": 0, "max_open": 0, "hung": 0, "cpu0": cpu()}
stats, open_now = fresh(), 0
def close(c):
    global open_now
    sel.unregister(c)
    c.close()
    open_now -= 1
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if isinstance(key.data, bool):  # a listener
            while True:
                try:
                    c, _ = s.accept()
                except BlockingIOError:
                    break
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, [bytearray(), key.data, False])
                open_now += 1
                if not key.data:
                    stats["max_open"] = max(stats["max_open"], open_now)
            continue
        buf, ctl, hung = key.data
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            close(s)
            continue
        if hung:
            continue
        buf += data
        if b"\r\n\r\n" not in buf:
            continue
        path = bytes(buf).split(b" ", 2)[1]
        if ctl:
            out = dict(stats, cpu=cpu() - stats["cpu0"])
            body = json.dumps(out).encode()
            stats = fresh()
            s.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                   % (len(body), body))
            close(s)
            continue
        stats["requests"] += 1
        if path.startswith(b"/hang"):
            key.data[2] = True
            stats["hung"] += 1
            continue
        try:
            s.send(OK)
        except OSError:
            pass
        close(s)
PY
python3 "$W/server.py" "$N" "$W/ports" &
server=$!
for _ in $(seq 100); do [ -f "$W/ports" ] && break; sleep 0.1; done
[ -f "$W/ports" ] || { echo "bench/probe.sh: the server did not start" >&2; exit 1; }
ctl=$(tail -n1 "$W/ports")
head -n "$N" "$W/ports" > "$W/endpoints"

# 2. the URL lists: by address; by host name when the machine's name is
#    loopback in /etc/hosts (libcurl resolves it in a thread per probe;
#    'localhost' it answers itself); every 20th endpoint hanging; all
#    hanging; every endpoint twice
host=$(hostname)
getent ahostsv4 "$host" 2>/dev/null | grep -q '^127\.' || host=""
awk '{ print "http://127.0.0.1:" $1 "/health" }' "$W/endpoints" > "$W/ip"
[ -z "$host" ] || awk -v h="$host" '{ print "http://" h ":" $1 "/health" }' "$W/endpoints" > "$W/name"
awk '{ print "http://127.0.0.1:" $1 (NR % 20 ? "/health" : "/hang") }' "$W/endpoints" > "$W/hang5"
awk '{ print "http://127.0.0.1:" $1 "/hang" }' "$W/endpoints" > "$W/hangall"
cat "$W/ip" "$W/ip" > "$W/twice"
head -n1 "$W/ip" > "$W/one"

# 3. interleaved rounds: for each round, one rip_probe_run (a line to the
#    driver's stdin) then one curl process; the server's counts after each
cat > "$W/rounds.py" <<'PY'
import json, os, statistics, subprocess, sys, time, urllib.request
driver, ctl, out, t_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
phases = [a.split(":") for a in sys.argv[5:]]  # name:urlfile:runs:warmup:tools
def stats():
    with urllib.request.urlopen("http://127.0.0.1:%s/stats" % ctl) as r:
        return json.load(r)
def pct(v, p):
    v = sorted(v)
    return v[max(0, (len(v) * p + 99) // 100 - 1)] if v else 0.0
def curl_round(urlfile):
    cfg = urlfile + ".curl"
    if not os.path.exists(cfg):
        with open(urlfile) as f, open(cfg, "w") as c:
            for u in f.read().split():
                c.write('url = "%s"\noutput = "/dev/null"\n' % u)
    t = "%.3f" % (t_ms / 1000)
    argv = ["curl", "-s", "--no-progress-meter", "--parallel", "--parallel-max", "1000",
            "--max-time", t, "--connect-timeout", t,
            "-w", "%{http_code} %{time_total}\n", "-K", cfg]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    body = p.stdout.read().decode()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = status
    lines = [l.split() for l in body.splitlines() if l.strip()]
    lat = [float(x[1]) * 1000 for x in lines]
    failed = sum(1 for x in lines if not x[0].startswith("2"))
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_kib": ru.ru_maxrss,
            "n": len(lines), "failed": failed, "p50": pct(lat, 50), "p99": pct(lat, 99)}
class Driver:
    def __init__(self, urlfile):
        self.p = subprocess.Popen([driver, urlfile, "0", str(t_ms)], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    def round(self):
        t0 = time.perf_counter()
        self.p.stdin.write("go\n")
        self.p.stdin.flush()
        fails = {}
        for line in self.p.stdout:
            if line.startswith("fail "):
                head, reason = line.rstrip("\n").split(" reason=", 1)
                fails[reason] = fails.get(reason, 0) + int(head.split("count=")[1])
            elif line.startswith("round="):
                break
        else:
            sys.exit("probe_bench ended early")
        outer = time.perf_counter() - t0
        f = dict(kv.split("=") for kv in line.split())
        return {"wall": float(f["wall_s"]), "outer": outer, "cpu": float(f["cpu_s"]),
                "n": int(f["n"]), "failed": int(f["failed"]), "p50": float(f["p50_ms"]),
                "p99": float(f["p99_ms"]), "fails": fails}
    def close(self):
        self.p.stdin.close()
        total = dict(kv.split("=") for kv in self.p.stdout.read().split()[1:])
        self.p.wait()
        return total
res = {}
for name, urlfile, runs, warmup, tools in phases:
    runs, warmup = int(runs), int(warmup)
    d = Driver(urlfile) if "r" in tools else None
    got = {"ripcord": [], "curl": []}
    stats()
    for k in range(warmup + runs):
        for tool in tools:
            r = d.round() if tool == "r" else curl_round(urlfile)
            r["server"] = stats()
            if k >= warmup:
                got["ripcord" if tool == "r" else "curl"].append(r)
    if d:
        got["total"] = d.close()
    res[name] = got
    print("%s: %s" % (name, ", ".join("%s %.3f s" % (t, statistics.median(x["wall"] for x in v))
                                     for t, v in got.items() if t != "total" and v)),
          file=sys.stderr)
json.dump(res, open(out, "w"), indent=1)
PY

# the clients run under the soft limit most machines give a process
ulimit -Sn 1024
phases=("ip:$W/ip:$RUNS:1:rc" "one:$W/one:$RUNS:1:c" "hang5:$W/hang5:$HANG_RUNS:0:rc"
  "hangall:$W/hangall:1:0:rc" "twice:$W/twice:1:0:r")
[ -z "$host" ] || phases+=("name:$W/name:$NAME_RUNS:1:rc")
python3 "$W/rounds.py" "$DRIVER" "$ctl" "$W/res.json" "$TIMEOUT_MS" "${phases[@]}"

export N RUNS NAME_RUNS HANG_RUNS TIMEOUT_MS buildtype host load_start
load_end=$(load) whole=$SECONDS curl_version=$(curl --version | head -n1 | cut -d' ' -f2) \
  python3 - "$W/res.json" <<'PY' | tee "$W/table.md"
import datetime, json, os, platform, statistics, sys
e, r = os.environ, json.load(open(sys.argv[1]))
n, t_ms = int(e["N"]), int(e["TIMEOUT_MS"])
med = lambda v, k: statistics.median(x[k] for x in v)
def srv(v, k):
    return statistics.median(x["server"][k] for x in v)
ip_r, ip_c = r["ip"]["ripcord"], r["ip"]["curl"]
def row(what, a, b, fmt, ratio=True):
    x = fmt(a) if a is not None else "-"
    y = fmt(b) if b is not None else "-"
    q = "%.2f×" % (a / b) if ratio and a is not None and b else ""
    return "| %s | %s | %s | %s |" % (what, x, y, q)
ms = lambda s: "%.1f ms" % (s * 1000)
sec = lambda s: "%.2f s" % s
pps = lambda s: "%.0f" % (n / s)
us = lambda s: "%.0f µs" % (s / n * 1e6)
lat = lambda v: "%.0f / %.0f ms" % (med(v, "p50"), med(v, "p99"))
def fails(v):
    return "%d of %d" % (round(med(v, "failed")), v[0]["n"])
rss_r = int(r["ip"]["total"]["maxrss_kib"]) // 1024
rss_c = max(x["rss_kib"] for x in ip_c) // 1024
lines = [
    "## probe rounds, %d endpoints (%s, %d cores, %s)" % (
        n, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        os.cpu_count(), platform.machine()),
    "",
    ("One round = every one of %d local health endpoints probed once, all at once, timeout %d ms "
     "(probe_timeout's default) for connecting and in all. ripcord: `rip_probe_run` (src/lib/probe.c), "
     "the call a rollout's bake makes every probe_interval, in one long-lived process "
     "(bench/probe_bench.c, ripcord's %s build), each round timed and its CPU taken with getrusage "
     "inside that process. Peer: curl %s, one `curl -s --no-progress-meter --parallel --parallel-max 1000 "
     "--max-time T --connect-timeout T -w '%%{http_code} %%{time_total}\\n'` per round with each URL's "
     "output to /dev/null (a -K file), timed around the process, CPU and RSS from wait4. Server: one Python "
     "process (selectors/epoll) on %d loopback ports, `200 ok` and `Connection: close` at once. "
     "Rounds interleaved (a ripcord round, then a curl round, then the server's counts), medians of %d "
     "rounds after one warm-up; the clients run under the usual soft RLIMIT_NOFILE of 1024.") % (
        n, t_ms, e["buildtype"], e["curl_version"], n, int(e["RUNS"])),
    "",
    "| per round of %d probes | ripcord (`rip_probe_run`) | `curl --parallel` | ratio |" % n,
    "|---|---|---|---|",
    row("wall time, every endpoint healthy", med(ip_r, "wall"), med(ip_c, "wall"), ms),
    row("probes per second", med(ip_r, "wall"), med(ip_c, "wall"), pps, ratio=False),
    row("CPU time (user + system)", med(ip_r, "cpu"), med(ip_c, "cpu"), ms),
    row("CPU per probe", med(ip_r, "cpu"), med(ip_c, "cpu"), us, ratio=False),
    "| latency p50 / p99, as each prober measures it | %s | %s | |" % (lat(ip_r), lat(ip_c)),
    "| most connections open at once (the server's count) | %d | %d | |" % (
        srv(ip_r, "max_open"), srv(ip_c, "max_open")),
    "| failed probes | %s | %s | |" % (fails(ip_r), fails(ip_c)),
    "| peak RSS (the driver over all its rounds; curl's largest) | %d MiB | %d MiB | |" % (rss_r, rss_c),
]
if "name" in r:
    nr, nc = r["name"]["ripcord"], r["name"]["curl"]
    lines += [
        row("by host name (`http://%s:PORT/`, /etc/hosts): wall time" % e["host"], med(nr, "wall"), med(nc, "wall"), ms),
        row("by host name: CPU time", med(nr, "cpu"), med(nc, "cpu"), ms),
        "| by host name: latency p50 / p99 | %s | %s | |" % (lat(nr), lat(nc)),
    ]
h5r, h5c = r["hang5"]["ripcord"], r["hang5"]["curl"]
har, hac = r["hangall"]["ripcord"], r["hangall"]["curl"]
lines += [
    row("5% of the endpoints hang (accept, never answer): wall time", med(h5r, "wall"), med(h5c, "wall"), sec),
    "| 5%% hang: failed probes | %s | %s | |" % (fails(h5r), fails(h5c)),
    row("every endpoint hangs: wall time (one round)", med(har, "wall"), med(hac, "wall"), sec),
    "| every endpoint hangs: most connections open at once | %d | %d | |" % (
        srv(har, "max_open"), srv(hac, "max_open")),
    "| %d probes (each endpoint twice) under soft RLIMIT_NOFILE 1024: failed | %s | - | |" % (
        2 * n, fails(r["twice"]["ripcord"])),
    "",
]
reasons = {}
for x in h5r:
    for k, v in x["fails"].items():
        reasons[k] = reasons.get(k, 0) + v
reasons = ", ".join("'%s' × %d" % kv for kv in sorted(reasons.items()))
one = r["one"]["curl"]
srv_cpu = srv(ip_r, "cpu")
name_cpu = ""
if "name" in r:
    name_cpu = (" By host name the CPU per round is %s: libcurl resolves each name in a thread of its "
                "own, and `rip_probe_run`'s multi handle (with its DNS cache) lives for one call, so every "
                "round starts and stops %d threads; starting and stopping them is most of that CPU (perf), "
                "and each probe's latency includes the wait for its thread.") % (
        ms(med(r["name"]["ripcord"], "cpu")), n)
lines += [
    ("A round that probes hanging endpoints lasts the probe timeout and no longer: with 5%% hanging, "
     "ripcord's rounds took %s against a timeout of %d ms (its probes' verdicts over %d rounds: %s); "
     "with every endpoint hanging, %s. "
     "The curl peer is capped: curl %s clamps --parallel-max to 300 (asked for 1000, the server never saw "
     "more than %d of its connections open at once), so with every endpoint hanging it takes "
     "⌈%d / 300⌉ timeouts where `rip_probe_run` takes one. "
     "Part of curl's figures is fixed: the same curl over one URL takes %s wall and %s CPU "
     "(process start, libcurl and TLS set-up, reading the -K file).") % (
        sec(med(h5r, "wall")), t_ms, len(h5r), reasons, sec(med(har, "wall")), e["curl_version"],
        srv(ip_c, "max_open"), n, ms(med(one, "wall")), ms(med(one, "cpu"))),
    "",
    ("Latency is what each prober reports (libcurl's total time of the transfer, from its start). "
     "`rip_probe_run` starts all %d connections at once and then handles the answers one after the "
     "other in one thread, so the last ones are reported late, by up to the length of the round; curl, with "
     "at most 300 in flight, starts each clock later. On a %d-target rollout, max_p99_ms is judged on "
     "numbers that include this spread.%s At the default probe_interval of 1 s, the probe rounds of a "
     "bake over %d targets keep %.0f%% of a core busy by address%s.") % (
        n, n, name_cpu, n, 100 * med(ip_r, "cpu"),
        " and %.0f%% by name" % (100 * med(r["name"]["ripcord"], "cpu")) if "name" in r else ""),
    "",
    ("The machine has %d cores and is shared with other work (load average %s at the start, %s at the "
     "end); the server, a Python process on the same cores, used %s of CPU per ripcord round. "
     "`rip_probe_run` raises the soft RLIMIT_NOFILE for the call when its sockets would not fit and "
     "restores it after%s. Whole script: %s s.") % (
        os.cpu_count(), e["load_start"], e["load_end"], ms(srv_cpu),
        "; before it did, the 2000 probes under the limit of 1024 left 983 failing with "
        "\"couldn't connect to server\" (measured when it was added)" if n == 1000 else "", e["whole"]),
    "",
]
print("\n".join(lines))
PY
bench/put-section.py "probe rounds" bench/RESULTS.md < "$W/table.md"
