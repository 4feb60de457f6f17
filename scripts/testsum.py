#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Counts one `meson test` run from its JSON log (meson-logs/testlog.json).

Prints the programs that did not pass, with why, to stderr, and one line
"PASSED FAILED SKIPPED TIMEDOUT" to stdout for scripts/test to add up.

A TAP program's subtests count one by one: "ok" passes, "not ok" fails,
either with a "# SKIP reason" directive is skipped (with no reason, it
fails: a skip names what this machine lacks), and a comment line
"# SKIP N ..." counts N skipped. A program that prints no TAP
line counts as one test. meson's own verdict on the program wins over its
subtests: a program that timed out counts as one timeout, one that meson
failed (a crash after "ok" lines, a wrong plan, an exit code) counts at
least one failure, and one that meson skipped ("1..0 # SKIP why", exit 77)
counts as one skip.
"""
import json
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b(.*)$')
SKIP = re.compile(r'#\s*skip\b', re.I)
# a cmocka program that leaves tests out says so on a comment line:
# "# SKIP 3 postgres tests: RIPCORD_TEST_PG is not set"
PLAN_SKIP = re.compile(r'^1\.\.0\s*#\s*skip\b(.*)$', re.I | re.M)
LEFT_OUT = re.compile(r'^#\s*SKIP\s+(\d+)\b(.*)$')


def count(log):
    passed = failed = skipped = timedout = 0
    for line in open(log, encoding='utf-8', errors='replace'):
        if not line.strip():
            continue
        t = json.loads(line)
        name, result = t['name'], t['result']
        out = t.get('stdout') or ''
        ok = bad = skip = 0
        for l in out.splitlines():
            m = LEFT_OUT.match(l)
            if m and not m.group(2).strip(' -:'):
                bad += int(m.group(1))
                print(f'failed: {name}: {l.strip()}: a skip that names no '
                      'reason', file=sys.stderr)
            elif m:
                skip += int(m.group(1))
                print(f'skipped: {name}: {m.group(1)}{m.group(2)}',
                      file=sys.stderr)
            m = TAP.match(l)
            if not m:
                continue
            if SKIP.search(m.group(2)):
                why = SKIP.split(m.group(2), 1)[1].strip(' -:')
                if not why:
                    # a skip must say what is missing on this machine
                    bad += 1
                    print(f'failed: {name}: a skip that names no reason:'
                          f'{m.group(2)}', file=sys.stderr)
                    continue
                skip += 1
                print(f'skipped: {name}:{m.group(2).strip()}', file=sys.stderr)
            elif m.group(1) == 'ok':
                ok += 1
            else:
                bad += 1
        if result == 'TIMEOUT':
            timedout += 1
            passed += ok
            print(f'timed out: {name} after {t["duration"]:.0f} s', file=sys.stderr)
        elif result == 'SKIP':
            # "1..0 # SKIP why", or every subtest skipped (counted above)
            plan = PLAN_SKIP.search(out)
            if bad:
                failed += bad
            elif skip:
                skipped += skip
            elif plan and plan.group(1).strip():
                skipped += 1
                print(f'skipped: {name}: {plan.group(1).strip()}',
                      file=sys.stderr)
            else:
                failed += 1
                print(f'failed: {name}: skipped without saying why',
                      file=sys.stderr)
        elif result in ('OK', 'EXPECTEDFAIL'):
            passed += ok if ok + bad + skip else 1
            failed += bad
            skipped += skip
        else:
            passed += ok
            skipped += skip
            failed += max(bad, 1)
            print(f'failed: {name} ({result}, exit {t.get("returncode")})',
                  file=sys.stderr)
    return passed, failed, skipped, timedout


if __name__ == '__main__':
    print(*count(sys.argv[1]))
