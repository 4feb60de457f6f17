#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and fuzzes each for
# FUZZ_SECONDS seconds, FUZZ_JOBS at a time, each on a fresh temporary copy
# of its seeds with its dictionary. Prints TAP, one line per target with
# its executions, exec/s and coverage; a finding is "not ok", with the
# path of the input and its stack, and makes the exit status 1.
#
#   tests/fuzz/run.sh [BUILD-DIR]        (default: build-fuzz in the source tree)
#
#   FUZZ_SECONDS  seconds per target (20)
#   FUZZ_JOBS     targets at a time (2)
#   FUZZ_TARGETS  which targets ("config lint"; default all)
#   FUZZ_MERGE=1  afterwards, merge what added coverage into
#                 tests/fuzz/corpus/ (what nightly.sh does)
#
# The working corpora go to a temporary folder removed at the end;
# findings go to one of their own, kept only when there is one.
set -uo pipefail
# BUILD-DIR is relative to where we are called from; the default sits in
# the source tree, where the rest of this script works
build=${1:+$(realpath -m "$1")}
cd "$(dirname "$0")/../.." || exit 2
build=${build:-$PWD/build-fuzz}
secs=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-2}
merge=${FUZZ_MERGE:-0}
read -r -a targets <<<"${FUZZ_TARGETS:-agent_proto artifact config extract gate layout lint manifest migname value}"

corpus_of() { case $1 in extract) echo artifact ;; *) echo "$1" ;; esac; }
dict_of() {
  case $1 in
    artifact | extract | manifest) echo manifest ;;
    lint) echo sql ;;
    *) echo "$1" ;;
  esac
}

if [ ! -f "$build/build.ninja" ]; then
  echo "# configuring $build (clang, -Dfuzz=enabled)"
  mkdir -p "$build"
  if ! CC=clang meson setup "$build" -Dfuzz=enabled -Db_lundef=false \
    -Dtests=disabled -Dman=disabled >"$build/fuzz-setup.log" 2>&1; then
    cat "$build/fuzz-setup.log"
    echo "Bail out! could not configure $build (see $build/fuzz-setup.log)"
    exit 2
  fi
fi
exes=()
for t in "${targets[@]}"; do exes+=("tests/fuzz/fuzz_$t"); done
echo "# building ${#exes[@]} targets in $build"
if ! ninja -C "$build" "${exes[@]}" >"$build/fuzz-ninja.log" 2>&1; then
  tail -n 40 "$build/fuzz-ninja.log"
  echo "Bail out! could not build the fuzz targets in $build (a build" \
    "dir made with -Dfuzz=enabled and clang; see $build/fuzz-ninja.log)"
  exit 2
fi

# in memory when it can be; fuzz_extract's roots go there too, so that
# an input that kills it leaves nothing behind
work=$(mktemp -d /dev/shm/ripcord-fuzz-XXXXXX 2>/dev/null ||
  mktemp -d /tmp/ripcord-fuzz-XXXXXX)
export RIPCORD_FUZZ_TMPDIR=$work
findings=$(mktemp -d /tmp/ripcord-fuzz-findings-XXXXXX)
declare -A target_of=()
cleanup() {
  # timeout passes the signal on to its fuzzer
  for pid in "${!target_of[@]}"; do kill "$pid" 2>/dev/null; done
  wait
  rm -rf "$work"
  rmdir "$findings" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts fuzzing target $1 in $work/$1 (its log, corpus and exit status).
start() {
  local t=$1 d="$work/$1"
  mkdir -p "$d/corpus" "$findings/$t"
  cp -R "tests/fuzz/corpus/$(corpus_of "$t")/." "$d/corpus/"
  timeout -k 10 $((secs + 120)) "$build/tests/fuzz/fuzz_$t" "$d/corpus" \
    -dict="tests/fuzz/$(dict_of "$t").dict" -max_total_time="$secs" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/$t/" >"$d/log" 2>&1 &
  target_of[$!]=$t
}

# Waits for one fuzzer to end and keeps its exit status.
reap() {
  local pid rc
  wait -n -p pid "${!target_of[@]}"
  rc=$?
  echo "$rc" >"$work/${target_of[$pid]}/rc"
  unset "target_of[$pid]"
}

for t in "${targets[@]}"; do
  while [ "${#target_of[@]}" -ge "$jobs" ]; do reap; done
  start "$t"
done
while [ "${#target_of[@]}" -gt 0 ]; do reap; done

# "N runs, N exec/s, cov: N ft: N, corpus N" from libFuzzer's log
stats() {
  local log=$1 runs eps status
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  status=$(grep -E '^#[0-9]+.* cov: ' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$status")
  [ -n "$eps" ] || eps=$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$status")
  printf '%s runs, %s exec/s, cov: %s ft: %s, corpus %s' "${runs:-?}" \
    "${eps:-?}" "$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status")" \
    "$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status")" \
    "$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$status")"
}

echo "1..${#targets[@]}"
n=0 failed=0
for t in "${targets[@]}"; do
  n=$((n + 1))
  d="$work/$t"
  rc=$(cat "$d/rc" 2>/dev/null || echo 2)
  found=$(find "$findings/$t" -type f | sort)
  if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
    rmdir "$findings/$t"
    echo "ok $n fuzz_$t: $(stats "$d/log") (${secs}s)"
    continue
  fi
  failed=$((failed + 1))
  echo "not ok $n fuzz_$t: exit status $rc, $(stats "$d/log") (${secs}s)"
  for f in $found; do
    echo "# finding: $f"
    echo "# replay:  $build/tests/fuzz/fuzz_$t $f"
  done
  cp "$d/log" "$findings/$t/fuzz.log"
  echo "# log: $findings/$t/fuzz.log; the report:"
  # from the first report line to where libFuzzer wrote the input
  awk '/invariant broken|runtime error|ERROR: |^==[0-9]+==|^SUMMARY|deadly signal/ { on = 1 }
    on { print "#   " $0; if (++k == 60 || /Test unit written/) exit }' "$d/log"
done

if [ "$merge" = 1 ] && [ "$failed" -eq 0 ]; then
  # one target at a time: extract and artifact share corpus/artifact
  for t in "${targets[@]}"; do
    c="tests/fuzz/corpus/$(corpus_of "$t")"
    "$build/tests/fuzz/fuzz_$t" -merge=1 -rss_limit_mb=2048 -timeout=10 \
      "$c" "$work/$t/corpus" >"$work/$t/merge.log" 2>&1 ||
      { echo "# fuzz_$t: merge failed:"; tail -n 5 "$work/$t/merge.log"; }
    echo "# fuzz_$t: $(grep -o 'MERGE-OUTER: [0-9]* new files.*' \
      "$work/$t/merge.log" | tail -n 1)"
  done
  echo "# new seeds for a human to review and commit:"
  git status --short tests/fuzz/corpus | sed 's/^/#   /'
fi
[ "$failed" -eq 0 ]
