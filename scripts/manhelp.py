#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""manhelp.py: `ripcord CMD --help` made from man/ripcord-CMD.1.scd.

The man page is the one source: this script takes from it the SYNOPSIS
lines, the OPTIONS section (or a "## Options" subsection: migrate's) with
the first sentence of each option's description, and the first example of
EXAMPLES with the sentence that leads it, strips scdoc's markup, and
writes a C file with one entry per command for src/cli/main.c. meson runs
it at build time (src/cli/meson.build), so help and man page cannot
drift; tests/help.py checks both against the options the parsers accept.

usage: manhelp.py OUTPUT.c man/ripcord-CMD.1.scd...
"""
import os
import re
import sys
import textwrap

WIDTH = 78


def strip_markup(s):
    """scdoc's *bold* and _underline_ as plain text, escapes undone."""
    s = re.sub(r'(?<!\\)\*(.+?)(?<!\\)\*', r'\1', s)
    s = re.sub(r'(?<![\w\\])_(.+?)(?<!\\)_(?!\w)', r'\1', s)
    return s.replace('\\_', '_').replace('\\*', '*').replace('\\\\', '\\')


def sections(text):
    """{name: [lines]} for '# NAME' sections and '## Name' subsections."""
    out, cur, sub = {}, None, None
    for line in text.split('\n'):
        m = re.match(r'^(#{1,2}) (.*)$', line)
        if m and m.group(1) == '#':
            cur, sub = m.group(2).strip(), None
            out.setdefault(cur, [])
            continue
        if m:
            sub = '## ' + m.group(2).strip()
            out.setdefault(sub, [])
        if cur is not None:
            out[cur].append(line)
        if sub is not None and not m:
            out[sub].append(line)
    return out


def first_sentence(text):
    m = re.search(r'^(.*?(?<!\.)\.)(\s+[A-Z(*"]|$)', text, re.S)
    return (m.group(1) if m else text).strip()


def options(lines):
    """[(term, first sentence)] of the option entries: a line starting
    with '*-' followed by tab-indented description lines."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith('*-') and i + 1 < len(lines) and \
                lines[i + 1].startswith('\t'):
            desc = []
            i += 1
            while i < len(lines) and lines[i].startswith('\t'):
                desc.append(lines[i].strip())
                i += 1
            out.append((strip_markup(line.strip()),
                        first_sentence(strip_markup(' '.join(desc)))))
            continue
        i += 1
    return out


def example(lines):
    """The first ``` block and the paragraph just before it."""
    lead, para, block, inside, ended = [], [], [], False, False
    for line in lines:
        if line.startswith('```'):
            if inside:
                return lead, block
            inside, lead = True, para
            continue
        if inside:
            block.append(line)
        elif line.strip():
            if ended:
                para, ended = [], False
            para.append(line.strip())
        else:
            ended = True
    return [], []


def help_text(name, text):
    sec = sections(text)
    lines = []
    synopsis = [strip_markup(l.strip()) for l in sec.get('SYNOPSIS', [])
                if l.strip()]
    for i, s in enumerate(synopsis):
        lines.append(('usage: ' if i == 0 else '       ') + s)
    summary = ' '.join(l.strip() for l in sec.get('NAME', []) if l.strip())
    if ' - ' in summary:
        lines += ['', summary.split(' - ', 1)[1]]
    opts = sec.get('OPTIONS') or sec.get('## Options') or []
    entries = [(t, d) for t, d in options(opts)
               if not re.match(r'^-h, --help$', t)]
    lines += ['', 'options:']
    for term, desc in entries:
        lines.append('  ' + term)
        lines += textwrap.wrap(desc, WIDTH, initial_indent='      ',
                               subsequent_indent='      ')
    lines.append('  -h, --help')
    lines.append('      Print this help (from ripcord-%s(1)) and exit 0.'
                 % name)
    lead, block = example(sec.get('EXAMPLES', []))
    if block:
        lines += ['', 'example:']
        if lead:
            lines += textwrap.wrap(strip_markup(' '.join(lead)), WIDTH,
                                   initial_indent='  ',
                                   subsequent_indent='  ')
            lines.append('')
        lines += ['    ' + l if l else '' for l in block]
    lines += ['', "the whole manual: man ripcord-%s (before installing: "
              "scdoc < man/ripcord-%s.1.scd | man -l -)" % (name, name)]
    return '\n'.join(lines) + '\n'


def c_string(s):
    out = []
    for line in s.splitlines(True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"') \
                  .replace('\n', '\\n').replace('\t', '\\t')
        out.append('\t\t"%s"' % esc)
    return '\n'.join(out) if out else '\t\t""'


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    entries = []
    for path in sorted(argv[2:]):
        m = re.match(r'^ripcord-([a-z]+)\.1\.scd$', os.path.basename(path))
        if not m:
            continue
        with open(path, encoding='utf-8') as f:
            entries.append((m.group(1), help_text(m.group(1), f.read())))
    with open(argv[1] + '.tmp', 'w', encoding='utf-8') as f:
        f.write('/* SPDX-License-Identifier: MIT */\n'
                '/* Generated by scripts/manhelp.py from man/ripcord-*.1.scd:'
                ' do not edit. */\n#include <stddef.h>\n\n'
                '#include "cli_help.h"\n\n'
                'const struct cli_help cli_help[] = {\n')
        for name, text in entries:
            f.write('\t{ "%s",\n%s },\n' % (name, c_string(text)))
        f.write('};\n\nconst size_t cli_help_n = %d;\n' % len(entries))
    os.replace(argv[1] + '.tmp', argv[1])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
