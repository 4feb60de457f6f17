#!/usr/bin/env bash
# `ripcord report`: the self-contained HTML report end to end. A real repo
# with releases cut, deployed, failed (an activate hook that exits 3) and
# rolled back on two local targets, drills run and others written into
# state.db; then the page: no external reference, well-formed HTML, loaded
# in headless Chromium (the rendered DOM holds the sections and the SVG
# points; a screenshot is a real picture), nothing from the data injected
# (a release id "<script>...", a user name with an <img>), --json figures
# against the audit log read with sqlite3, usage errors, and that it
# changes nothing.
. "$(dirname "$0")/lib.sh"

need() { command -v "$1" >/dev/null || { not_ok "$1 is installed (scripts/deps.sh installs it)"; done_testing; exit; }; }
need sqlite3
need python3

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
mkdir -p hooks && cat > hooks/activate <<'SH'
#!/bin/sh
[ -f "$RIPCORD_RELEASE_DIR/FAIL_ACTIVATE" ] && exit 3
exit 0
SH
chmod +x hooks/activate
cat > ripcord.ini <<'INI'
[project]
name = shop
[target "a"]
root = targets/a
activate = hooks/activate
[target "b"]
root = targets/b
activate = hooks/activate
[drill]
every = 24h
INI
printf '.ripcord/\ntargets/\n*.html\n' > .gitignore
db=$repo/.ripcord/state.db

# before anything was cut: an empty report, and no store made
expect_exit 0 "report before anything was cut" rc report -o empty.html
check "says where it wrote" grep -qx "report written to empty.html ([0-9]* bytes)" "$WORK/last.out"
check "says there is nothing yet" grep -q "No releases in the store" empty.html
check "with n/a figures" test "$(grep -o '>n/a<' empty.html | wc -l)" -eq 3
check "and made no store" test ! -e .ripcord

# usage
expect_exit 2 "an argument is a usage error" rc report extra
err_has "with a hint" "did you mean -o extra?"
expect_exit 2 "--days 0 is a usage error" rc report --days 0
err_has "naming the value" "not '0'"
expect_exit 2 "--days x too" rc report --days x
expect_exit 2 "--json with -o" rc report --json -o x.html
check "writes no file" test ! -e x.html
expect_exit 2 "an unknown option" rc report --frob
expect_exit 0 "--help" rc report --help

# four releases; v4 fails its activate hook
for v in 1 2 3 4; do
  echo "$v" > VERSION
  [ "$v" = 4 ] && touch FAIL_ACTIVATE
  git add -A && git commit -qm "v$v" && rc -q cut --id "v$v" >/dev/null 2>&1
done
check "four releases cut" test "$(sqlite3 "$db" "SELECT count(*) FROM releases")" -eq 4
expect_exit 2 "a release id with markup is refused by cut" rc cut --id '<script>'

expect_exit 0 "deploy v1" rc deploy v1
expect_exit 0 "deploy v2" rc deploy v2
sleep 1
expect_exit 0 "rollback from v2" rc rollback
# a user name with markup, as sudo would record it
expect_exit 0 "deploy v3 (SUDO_USER with markup)" env SUDO_USER='<img src=x onerror=alert(1)>' "$RIPCORD" deploy v3
expect_exit 1 "deploy v4 fails its activate hook" rc deploy v4
sleep 2
expect_exit 0 "rollback from v4" rc rollback
expect_exit 2 "a deploy of an unknown release is refused" rc deploy v9
check "a runs v3 again" test "$(readlink targets/a/current)" = "releases/v3"

# drills: the real command when this version has it, and rows by hand
now=$(date +%s)
if rc drill --help >/dev/null 2>&1; then
  expect_exit 0 "ripcord drill v1 v3" rc drill v1 v3
else
  for r in v1 v3; do
    sqlite3 "$db" "INSERT INTO drills (release, started, seconds, result, detail, steps) VALUES ('$r', $now - 60, 0.5, 'pass', NULL, '[]')"
  done
fi
i=0
for spec in "v1 2 1.25 pass" "v1 5 1.5 pass" "v2 4 2.5 fail" "v2 3 2.25 pass" "v3 6 1.75 pass" "v2 9 2 integrity"; do
  set -- $spec
  sqlite3 "$db" "INSERT INTO drills (release, started, seconds, result, detail, steps) VALUES ('$1', $now - $2 * 86400, $3, '$4', CASE '$4' WHEN 'pass' THEN NULL ELSE 'down of 0003_add_note leaves a column' END, '[]')"
  i=$((i + 1))
done
# a release id with markup can only come from an edited state.db
evil='<script>alert(1)</script>'
sqlite3 "$db" "INSERT INTO releases (id, project, commit_id, tree, parent, created, cut_at, size, sha256, signed, files, bytes) VALUES ('$evil', 'shop', 'c0ffee', '7ree', NULL, $now - 86400, $now - 86400, 1, '00', 0, 1, 1)"
sqlite3 "$db" "INSERT INTO drills (release, started, seconds, result, detail, steps) VALUES ('$evil', $now - 7200, 3, 'fail', '\"><script>alert(2)</script>', '[]')"
passes=$(sqlite3 "$db" "SELECT count(*) FROM drills WHERE result = 'pass'")
fails=$(sqlite3 "$db" "SELECT count(*) FROM drills WHERE result = 'fail'")

before=$(sqlite3 "$db" "SELECT count(*) FROM audit; SELECT count(*) FROM switches; SELECT count(*) FROM operations")
expect_exit 0 "report -o r.html" rc report -o r.html
check "says where it wrote" grep -qx "report written to r.html ([0-9]* bytes)" "$WORK/last.out"
check "the report changed nothing in state.db" test "$(sqlite3 "$db" "SELECT count(*) FROM audit; SELECT count(*) FROM switches; SELECT count(*) FROM operations")" = "$before"
check "and left no temporary file" test "$(ls -A | grep -c '^\.\?r\.html.')" -eq 0
html=$repo/r.html

# self-contained: nothing to fetch
for pat in 'http://' 'https://' '//' '@import' 'url(' '<link' '<script' '<iframe' '<object' '<embed' '<img'; do
  check "no '$pat' in the page" sh -c "! grep -qiF -- '$pat' '$html'"
done
# a '<' from the data is escaped, so a src or href here would be ours
check "no element has a src or href attribute" sh -c "! grep -qiE '<[^>]*[[:space:]](src|href|xlink:href)=' '$html'"
check "the data is there, escaped" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$html"
check "the user name too" grep -qF '&lt;img src=x onerror=alert(1)&gt;@' "$html"

# well-formed: every element closed in order, no script, the sections once
check "python's html.parser reads it as well-formed" python3 - "$html" "$passes" "$fails" <<'PY'
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
SVG_EMPTY = {"line", "circle", "path", "rect", "polyline"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.ids, self.classes = [], [], {}, [], []
        self.doctype = None
    def handle_decl(self, d): self.doctype = d
    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "title" and self.stack[-1:] == ["head"]: self.tags["head title"] = 1 + self.tags.get("head title", 0)
        a = dict(attrs)
        if "id" in a: self.ids.append(a["id"])
        self.classes.append((tag, a.get("class", "")))
        for k, v in attrs:
            if k.startswith("on"): self.errors.append("event handler attribute %s" % k)
            if v and "javascript:" in v.lower(): self.errors.append("javascript: URL")
        if tag not in VOID: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.classes.append((tag, dict(attrs).get("class", "")))
        if tag not in SVG_EMPTY | VOID: self.errors.append("self-closed <%s/>" % tag)
    def handle_endtag(self, tag):
        if tag in VOID: return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
        else: self.stack.pop()
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); p.close()
assert p.doctype and p.doctype.lower() == "doctype html", p.doctype
assert not p.errors, p.errors[:5]
assert not p.stack, "unclosed: %s" % p.stack
assert "script" not in p.tags and "img" not in p.tags, p.tags
for t in ("html", "head", "body", "head title", "style"): assert p.tags.get(t) == 1, (t, p.tags.get(t))
assert p.ids == ["summary", "dora", "drills", "readiness", "history", "judge", "aborts"], p.ids
assert p.tags.get("svg") == 4, p.tags.get("svg")
drill = lambda c: sum(1 for t, k in p.classes if k == "drill " + c)
assert drill("pass") == int(sys.argv[2]), (drill("pass"), sys.argv[2])
assert drill("fail") == int(sys.argv[3]), (drill("fail"), sys.argv[3])
assert drill("integrity") == 1, drill("integrity")
PY

# --json: the figures against the audit log, by hand
expect_exit 0 "--json report" rc --json report
cp "$WORK/last.out" "$WORK/report.json"
check "--json has the DORA figures of the audit log" python3 - "$WORK/report.json" "$db" <<'PY'
import json, sqlite3, sys, statistics
d = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
at = {}
for cmd, code, t in db.execute("SELECT command, exit_code, at FROM audit ORDER BY seq"):
    at.setdefault((cmd.replace("'", ""), code), []).append(t)
dep = lambda v, code=0: at[("ripcord deploy " + v, code)][0]
rb = at[("ripcord rollback", 0)]
f = d["dora"]
assert d["project"] == "shop" and f["window_days"] == 30, d
assert f["deploys"] == 4 and f["successful_deploys"] == 3, f
assert f["change_failures"] == 2 and f["restored"] == 2 and f["rollbacks"] == 2, f
assert abs(f["change_failure_rate"] - 0.5) < 1e-9, f
assert abs(f["deployment_frequency_per_day"] - 3 / 30) < 1e-9, f
ttr = statistics.median([rb[0] - dep("v2"), rb[1] - dep("v4", 1)])
assert f["time_to_restore_seconds"] == ttr and ttr >= 1, (f, ttr)
created = dict(db.execute("SELECT id, created FROM releases"))
lead = statistics.median([max(0, dep(v) - created[v]) for v in ("v1", "v2", "v3")])
assert f["lead_time_seconds"] == lead and f["lead_time_releases"] == 3, (f, lead)
r = {x["release"]: x for x in d["readiness"]}
assert set(r) == {"v1", "v2", "v3", "v4", "<script>alert(1)</script>"}, r.keys()
assert r["v1"]["ready"] and r["v3"]["ready"] and r["v1"]["artifact"], r
assert not r["v2"]["ready"] and r["v2"]["last_drill"]["result"] == "pass", r["v2"]
assert not r["v4"]["ready"] and r["v4"]["last_drill"] is None, r["v4"]
assert not r["<script>alert(1)</script>"]["artifact"], r
assert [x["release"] for x in d["readiness"]][:1] == ["<script>alert(1)</script>"], d["readiness"]
PY
expect_exit 0 "--days 1 --json" rc report --days 1 --json
check "narrows the window" python3 -c "
import json; f = json.load(open('$WORK/last.out'))['dora']
assert f['window_days'] == 1 and f['deploys'] == 4, f"

# stdout, and a file that cannot be written
expect_exit 0 "-o - writes the page to stdout" rc report -o -
check "and only the page" sh -c "head -c 16 '$WORK/last.out' | grep -qx '<!DOCTYPE html>' && tail -n 1 '$WORK/last.out' | grep -qx '</html>'"
expect_exit 1 "-o into a missing folder fails" rc report -o nowhere/r.html
err_has "naming the file" "nowhere/r.html"
check "and writes nothing there" test ! -e nowhere
rc report -o r2.html >/dev/null 2>&1
check "a second report has the same sections" test "$(grep -c '<section id=' r2.html)" -eq 7

# in a browser: Debian's chromium, headless
if ! command -v chromium >/dev/null; then
  not_ok "chromium is installed (scripts/deps.sh installs it): the page is checked in a browser"
  done_testing; exit
fi
chrome() { timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" "$@" 2>>"$WORK/chrome.log"; }
chrome --dump-dom "file://$html" > "$WORK/dom.html"
check "Chromium renders the page" test -s "$WORK/dom.html"
for title in "Summary" "DORA figures" "Drill duration over time" "Rollback readiness" "Rollout and rollback history" "Canary verdicts" "Aborted rollouts"; do
  check "the rendered page has the section '$title'" grep -qF "<h2>$title</h2>" "$WORK/dom.html"
done
check "the rendered DOM has the four charts and every drill point" python3 - "$WORK/dom.html" "$passes" "$fails" <<'PY'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
assert len(re.findall(r"<svg\b", dom)) == 4, len(re.findall(r"<svg\b", dom))
assert len(re.findall(r'<circle class="drill pass"', dom)) == int(sys.argv[2])
assert len(re.findall(r'<path class="drill fail"', dom)) == int(sys.argv[3])
assert len(re.findall(r'<path class="drill integrity"', dom)) == 1
assert len(re.findall(r'<g class="event deploy', dom)) == 4
assert len(re.findall(r'<g class="event rollback ok"', dom)) == 2
assert len(re.findall(r'<line class="restore"', dom)) == 2
# the browser built no script and no image out of the data
assert not re.search(r"<script\b", dom) and not re.search(r"<img\b", dom)
assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
PY
chrome --screenshot="$WORK/r.png" --window-size=1200,2000 "file://$html" >/dev/null
check "a screenshot is a 1200x2000 PNG" python3 - "$WORK/r.png" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", d[:8]
w, h = struct.unpack(">II", d[16:24])
assert (w, h) == (1200, 2000), (w, h)
PY
check "of a real picture, not a blank page" python3 - "$WORK/r.png" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert len(d) > 30000, len(d)
pos, idat = 8, b""
while pos < len(d):
    n, kind = struct.unpack(">I4s", d[pos:pos + 8])
    if kind == b"IDAT": idat += d[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
# bit depth 8, RGB(A): many distinct bytes means many colours were drawn
assert len(set(raw)) > 100, len(set(raw))
PY

done_testing
