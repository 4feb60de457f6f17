#!/usr/bin/env bash
# The long run: every target for FUZZ_SECONDS (default 600) seconds, as
# run.sh does, then what added coverage is merged into tests/fuzz/corpus/
# (libFuzzer -merge=1) for a human to review and commit. A finding stops
# the merge and fails the run, as in run.sh.
#
#   tests/fuzz/nightly.sh [BUILD-DIR]    (default build-fuzz)
#
# Meant for an otherwise idle machine: with 9 targets, 2 at a time, the
# default takes about 50 minutes.
FUZZ_SECONDS=${FUZZ_SECONDS:-600} FUZZ_MERGE=1 exec "$(dirname "$0")/run.sh" "$@"
