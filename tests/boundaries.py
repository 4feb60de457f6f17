#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""STYLE rule 3 kept: one wrapper per dependency, and public headers free
of dependency types. Reads every file under src/ and include/ (comments and
string literals left out) and prints TAP: for each dependency, the files
that call it or include its header must be its owners; no public header
includes a dependency's header or names one of its types."""
import os
import re
import sys

ROOT = os.environ.get('SOURCE_ROOT') or os.path.join(os.path.dirname(__file__), '..')

# dependency: (its calls, types and headers; the files allowed to use them)
OWNERS = {
    'SQLite': (r'\bsqlite3_\w+|\bsqlite3\b|<sqlite3\.h>',
               {'src/lib/state.c', 'src/lib/db_sqlite.c'}),
    'libpq': (r'\bPQ\w+\s*\(|\bPG(conn|result)\b|<libpq-fe\.h>',
              {'src/lib/pg.c'}),
    'libcurl': (r'\bcurl_\w+\s*\(|\bCURL\w*\b|<curl/curl\.h>',
                {'src/lib/http.c'}),
    'libgit2': (r'\bgit_\w+\s*\(|<git2\.h>|<git2/', {'src/lib/gitsrc.c'}),
    # the writer and the reader of artifacts, and the header of the one
    # table of libarchive's functions they share (archive_lazy.c, which
    # loads it on first use, names the library only in a string)
    'libarchive': (r'\barchive_\w+\s*\(|<archive(_entry)?\.h>',
                   {'src/lib/artifact.c', 'src/lib/extract.c',
                    'src/lib/archive_internal.h'}),
    # digests and signatures
    'OpenSSL': (r'\b(EVP|OSSL|BIO|ERR|PEM)_\w+\s*\(|<openssl/',
                {'src/lib/digest.c', 'src/lib/sign.c'}),
    'inih': (r'\bini_parse\w*\s*\(|<ini\.h>', {'src/lib/ini.c'}),
}
PUBLIC_BANNED = (r'<(sqlite3|libpq-fe|jansson|curl/curl|git2|archive|'
                 r'archive_entry|ini)\.h>|<openssl/|<git2/|\bjson_t\b|'
                 r'\bsqlite3\b|\bPG(conn|result)\b|\bCURL\w*\b|\bgit_\w+|'
                 r'\bEVP_\w+|\bstruct archive\b')

COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*|"(\\.|[^"\\\n])*"', re.S)


def code(path):
    text = open(path, encoding='utf-8', errors='replace').read()
    # keep #include <...> lines: a <header> is not a string literal
    return COMMENT.sub(lambda m: '""' if m.group(0).startswith('"') else ' ',
                       text)


def sources():
    for top in ('src', 'include'):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if f.endswith(('.c', '.h')):
                    p = os.path.join(d, f)
                    yield os.path.relpath(p, ROOT), code(p)


def conflict_markers():
    """Lines a merge left behind ('<<<<<<< ', '>>>>>>> ') in the project's
    text: sources, tests, man pages, scripts, docs."""
    rx = re.compile(r'^(<{7}|>{7})( |$)', re.M)
    found = []
    for top in ('src', 'include', 'man', 'tests', 'scripts', 'bench',
                'examples', 'hooks', 'contrib', 'README.md', 'meson.build'):
        path = os.path.join(ROOT, top)
        walk = [(os.path.dirname(path), [], [top])] if os.path.isfile(path) \
            else os.walk(path)
        for d, _, fs in walk:
            for f in fs:
                p = os.path.join(d, f)
                if 'crashers' in p or 'corpus' in p:
                    continue   # fuzz inputs are bytes, not text
                try:
                    text = open(p, encoding='utf-8').read()
                except (UnicodeDecodeError, OSError):
                    continue
                for m in rx.finditer(text):
                    line = text.count('\n', 0, m.start()) + 1
                    found.append(f'{os.path.relpath(p, ROOT)}:{line}')
    return found


def main():
    files = list(sources())
    n = failed = 0

    def check(ok, what, detail=''):
        nonlocal n, failed
        n += 1
        print(('ok' if ok else 'not ok'), n, '-', what)
        if not ok:
            failed += 1
            for line in detail.splitlines():
                print('#', line)

    check(len(files) > 50, f'read {len(files)} files of src/ and include/')
    for dep, (pattern, owners) in OWNERS.items():
        rx = re.compile(pattern)
        users = {p for p, text in files if rx.search(text)}
        strays = sorted(users - owners)
        check(not strays, f'{dep} is used only by {", ".join(sorted(owners))}',
              '\n'.join(f'{p}: {rx.search(t).group(0)}' for p, t in files
                        if p in strays))
        check(owners <= users, f'{dep}: each owner still uses it (the list '
              'is current)', ', '.join(sorted(owners - users)))
    rx = re.compile(PUBLIC_BANNED)
    bad = [(p, rx.search(t).group(0)) for p, t in files
           if p.startswith('include/') and rx.search(t)]
    check(not bad, 'no public header includes a dependency or names its types',
          '\n'.join(f'{p}: {m}' for p, m in bad))
    marked = conflict_markers()
    check(not marked, 'no file holds a merge conflict marker',
          '\n'.join(marked))
    print(f'1..{n}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
