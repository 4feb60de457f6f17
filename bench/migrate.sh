#!/usr/bin/env bash
# Benchmark (not a test): ripcord migrate up/down against sqitch deploy,
# verify and revert of the same N-change plan on SQLite, side by side in
# one run, using the shared peer script (../shared/peers/sqitch.sh).
# Writes its section of bench/RESULTS.md.
#
#   bench/migrate.sh [BUILD_DIR]   (default: build-release); N=100 by default
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
ripcord_install_deps time
build=${1:-build-release}
bench_build "$build"
peer=$(realpath ../shared/peers/sqitch.sh)
N=${N:-100}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# median of RUNS runs of the whole side-by-side script
for r in $(seq "${RUNS:-3}"); do
  N=$N RIPCORD=$(realpath "$build/src/cli/ripcord") bash "$peer" >> "$out"
done
python3 - "$out" "$N" <<'PY' | tee /dev/stderr | bench/put-section.py "migrate up and down vs sqitch" bench/RESULTS.md
import re, statistics, sys, datetime
lines = open(sys.argv[1]).read().splitlines()
n = sys.argv[2]
vals = {}
for l in lines:
    m = re.match(r"(.*) (\d+): ([0-9.]+) s", l)
    if m:
        vals.setdefault(m.group(1), []).append(float(m.group(3)))
med = {k: statistics.median(v) for k, v in vals.items()}
runs = len(next(iter(vals.values())))
def row(what, r, p):
    a, b = med.get(r), med.get(p)
    ratio = "%.2fx" % (a / b) if a and b else "-"
    return "| %s | %.3f s | %.3f s | %s |" % (what, a or 0, b or 0, ratio)
new = "\n".join([
    "## migrate up and down vs sqitch (%s)" % datetime.date.today(),
    "",
    "%s changes on SQLite (each: a table and an index), the plan of ../shared/peers/sqitch.sh; medians of %d runs." % (n, runs),
    "",
    "| operation | ripcord | sqitch | ratio |",
    "|---|---|---|---|",
    row("apply all (`migrate up` / `sqitch deploy`)", "ripcord migrate up", "sqitch deploy"),
    row("undo all (`migrate down --to` / `sqitch revert`)", "ripcord migrate down", "sqitch revert"),
    "| verify (`sqitch verify`; ripcord runs each verify script inside `migrate up`) | - | %.3f s | - |" % med.get("sqitch verify", 0),
    "",
    "ripcord's times include verifying the signed artifact(s) the migrations come from before anything runs.",
    "",
])
print(new)
PY
