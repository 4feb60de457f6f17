#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""help.py: `ripcord CMD --help` and the man pages cannot drift (TAP).

For every command of main.c's table: `ripcord CMD --help`, `-h` and
`ripcord help CMD` print the same help, exit 0, with the synopsis, the
options and (but for the hidden agent) an example. Every option the
command's getopt parser accepts (read from src/cli/cmd_*.c) is in the
OPTIONS of its man page and in its help, and every option the man page
lists is one the parser accepts. -h/--help is main.c's, for all of them.
Then every man page that src/, README.md, man/ and hooks/ name exists,
and so does each page a usage error points to (cli_usage's 'man
ripcord-CMD').
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.environ['SOURCE_ROOT']
RIPCORD = os.environ['RIPCORD']
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
import manhelp  # noqa: E402

n = failed = 0


def check(ok, what, detail=''):
    global n, failed
    n += 1
    if ok:
        print('ok %d - %s' % (n, what))
    else:
        failed += 1
        print('not ok %d - %s' % (n, what))
        for line in str(detail).splitlines():
            print('# ' + line)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def commands():
    main = read(os.path.join(ROOT, 'src/cli/main.c'))
    return re.findall(r'\{ "([a-z]+)", cmd_[a-z]+,', main)


def parser_options():
    """{command: set of '--long' and '-s'} from the getopt parsers."""
    out = {}
    for path in glob.glob(os.path.join(ROOT, 'src/cli/cmd_*.c')):
        src = read(path)
        defs = [(m.start(), m.group(1)) for m in
                re.finditer(r'^int cmd_([a-z]+)\(struct cli', src, re.M)]
        arrays = {}
        for m in re.finditer(r'struct option (\w+)\[\] = \{(.*?)\n\t*\};',
                             src, re.S):
            arrays.setdefault(m.group(1), []).append(
                (m.start(), re.findall(r'\{ "([a-z0-9-]+)",', m.group(2))))
        for m in re.finditer(r'getopt_long\(\w+, \w+, "([^"]*)", (\w+)',
                             src):
            at = m.start()
            # the cmd_ function it is in, or the file's only one (a
            # static parse() helper of cmd_log, cmd_report)
            before = [name for pos, name in defs if pos < at]
            cmd = defs[0][1] if len(defs) == 1 else before[-1]
            longs = [v for pos, v in arrays.get(m.group(2), []) if pos < at]
            opts = out.setdefault(cmd, set())
            opts |= {'--' + o for o in (longs[-1] if longs else [])}
            opts |= {'-' + c for c in m.group(1) if c != ':'}
    for opts in out.values():
        opts -= {'-h', '--help'}
    return out


def man_options(cmd):
    sec = manhelp.sections(read(os.path.join(ROOT, 'man',
                                             'ripcord-%s.1.scd' % cmd)))
    lines = sec.get('OPTIONS') or sec.get('## Options') or []
    found = set()
    for term, _ in manhelp.options(lines):
        found |= set(re.findall(r'(?:^|[ ,])(--?[a-z0-9][a-z0-9-]*)', term))
    return found - {'-h', '--help'}


def run(*args):
    p = subprocess.run([RIPCORD] + list(args), capture_output=True,
                       text=True)
    return p.returncode, p.stdout, p.stderr


def main():
    cmds = commands()
    check(len(cmds) >= 16, 'main.c lists the commands (%d)' % len(cmds))
    parsed = parser_options()
    for cmd in cmds:
        code, out, err = run(cmd, '--help')
        check(code == 0 and out.startswith('usage: ') and
              'options:' in out and not err,
              '%s --help: usage and options, exit 0' % cmd, out + err)
        if cmd != 'agent':
            check('example:' in out and '    $ ripcord' in out,
                  '%s --help has an example' % cmd, out)
        check(run(cmd, '-h')[1] == out and run('help', cmd)[1] == out,
              '%s -h and ripcord help %s print the same' % (cmd, cmd))
        want, have = parsed.get(cmd, set()), man_options(cmd)
        check(want <= have, '%s: every option its parser takes is in '
              'ripcord-%s(1) OPTIONS' % (cmd, cmd),
              'missing from the man page: %s' % sorted(want - have))
        check(have <= want, '%s: every option ripcord-%s(1) lists is one '
              'its parser takes' % (cmd, cmd),
              'not taken by the parser: %s' % sorted(have - want))
        shown = set(re.findall(r'^  (.*)$', out, re.M))
        missing = [o for o in sorted(want)
                   if not any(re.search(r'(^|[ ,])%s\b' % re.escape(o), s)
                              for s in shown)]
        check(not missing, '%s --help shows every option' % cmd,
              'missing: %s' % missing)

    # the pages that are named exist
    pages = {os.path.basename(p)[:-4] for p in
             glob.glob(os.path.join(ROOT, 'man', '*.scd'))}
    named = {}
    files = glob.glob(os.path.join(ROOT, 'src/**/*.[ch]'), recursive=True) \
        + glob.glob(os.path.join(ROOT, 'man', '*.scd')) \
        + glob.glob(os.path.join(ROOT, 'hooks', '*')) \
        + [os.path.join(ROOT, 'README.md')]
    for path in files:
        text = read(path)
        rel = os.path.relpath(path, ROOT)
        for m in re.finditer(r'\bripcord((?:-[a-z]+)?(?:\.ini)?)\(([1-8])\)',
                             text):
            named.setdefault('ripcord%s.%s' % m.groups(), rel)
        for m in re.finditer(r"man (?:\./man/)?(ripcord[-a-z.]*[a-z])\b",
                             text):
            page = m.group(1)
            if page.endswith('.scd'):
                page = page[:-4]
            if page in ('ripcord-CMD', 'ripcord-COMMAND'):
                continue
            if not re.search(r'\.[1-8]$', page):
                page += '.1'
            named.setdefault(page, rel)
        if rel.startswith('src/cli/'):
            for m in re.finditer(r'cli_usage\("([a-z]+)"', text):
                named.setdefault('ripcord-%s.1' % m.group(1), rel)
    named.pop('ripcord-COMMAND.1', None)
    bad = sorted('%s (named in %s)' % (p, w) for p, w in named.items()
                 if p not in pages)
    check(len(named) >= 20 and not bad,
          'every man page named (%d) exists in man/' % len(named),
          '\n'.join(bad))
    print('1..%d' % n)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
