#!/usr/bin/env python3
"""Replaces one "## TITLE..." section of bench/RESULTS.md with stdin.

    put-section.py "cut and verify" bench/RESULTS.md < table.md

Each bench script owns the section whose heading starts with its title;
the other sections are kept as they are.
"""
import re
import sys

title, path = sys.argv[1], sys.argv[2]
new = sys.stdin.read()
try:
    old = open(path).read()
except FileNotFoundError:
    old = "# Benchmarks\n\nEach section is written by its script in bench/; rerun it to refresh.\n\n"
old = re.sub(r"## " + re.escape(title) + r".*?(?=\n## |\Z)", "", old, flags=re.S)
open(path, "w").write(old.rstrip() + "\n\n" + new)
