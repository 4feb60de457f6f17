#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Counts one `meson test` run from its JSON log (meson-logs/testlog.json).

Prints the programs that did not pass, with why, to stderr, and one line
"PASSED FAILED SKIPPED TIMEDOUT" to stdout for scripts/test to add up.

A TAP program's subtests count one by one: "ok" passes, "not ok" fails,
either with a "# SKIP" directive is skipped, and a comment line
"# SKIP N ..." counts N skipped. A program that prints no TAP
line counts as one test. meson's own verdict on the program wins over its
subtests: a program that timed out counts as one timeout, one that meson
failed (a crash after "ok" lines, a wrong plan, an exit code) counts at
least one failure, and one that meson skipped (exit 77) counts as one skip.
"""
import json
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b(.*)$')
SKIP = re.compile(r'#\s*skip\b', re.I)
# a cmocka program that leaves tests out says so on a comment line:
# "# SKIP 3 postgres tests: RIPCORD_TEST_PG is not set"
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
            if m:
                skip += int(m.group(1))
                print(f'skipped: {name}: {m.group(1)}{m.group(2)}',
                      file=sys.stderr)
            m = TAP.match(l)
            if not m:
                continue
            if SKIP.search(m.group(2)):
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
            skipped += 1
            last = out.strip().splitlines()[-1:] or ['(no reason printed)']
            print(f'skipped: {name}: {last[0]}', file=sys.stderr)
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
