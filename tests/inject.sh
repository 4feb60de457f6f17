#!/bin/sh
# A fault for scripts/test to catch (scripts/test --selfcheck): registered
# in the suite "inject", which runs only when RIPCORD_INJECT is set.
#   fail  a failing TAP test        hang  a test that never ends
#   leak  a passing test that leaves a detached process behind
#   skip  a skip that does not say what is missing
#   leftout  a program that leaves tests out without saying why
echo "1..1"
case ${RIPCORD_INJECT:-} in
fail) echo "not ok 1 - injected failure"; exit 1 ;;
hang) exec sleep 600 ;;
leak) setsid sleep 300 </dev/null >/dev/null 2>&1 &
      echo "ok 1 - passes, and leaves 'sleep 300' running" ;;
skip) echo "ok 1 # SKIP" ;;
leftout) echo "# SKIP 1"; echo "ok 1 - passes, and one test left out" ;;
*) echo "not ok 1 - RIPCORD_INJECT is '${RIPCORD_INJECT:-}': want fail, hang, leak, skip or leftout"; exit 1 ;;
esac
