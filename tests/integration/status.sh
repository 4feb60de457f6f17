#!/usr/bin/env bash
# `ripcord status`: the truth (current links) against the record (the
# switch journal): before anything was cut, clean, drift made by hand,
# rollback readiness (warm, cold, missing), a root that is not ours, JSON,
# and that status itself changes nothing. Killed operations (exit 5) are
# in crash.sh. Health: a probe that cannot be set up is warned about.
. "$(dirname "$0")/lib.sh"

repo=$WORK/app
mkdir -p "$repo" && cd "$repo" && git init -q .
echo one > VERSION && git add -A && git commit -qm one
cat > ripcord.ini <<'INI'
[project]
name = app
[target "a"]
root = targets/a
[target "b"]
root = targets/b
INI

expect_exit 0 "status before anything was cut" rc status
check "lists both targets, running nothing" sh -c "grep -qE '^a +- +- +- +none' '$WORK/last.out' && grep -qE '^b +- +- +- +none' '$WORK/last.out'"
check "and made no store" test ! -e .ripcord
expect_exit 2 "an argument is a usage error" rc status extra
expect_exit 2 "an unknown option too" rc status --frob

rc -q cut --id v1 >/dev/null 2>&1
echo two > VERSION && git commit -qam two && rc -q cut --id v2 >/dev/null 2>&1
echo three > VERSION && git commit -qam three && rc -q cut --id v3 >/dev/null 2>&1
rc -q deploy v1 >/dev/null 2>&1 && rc -q deploy v2 >/dev/null 2>&1
expect_exit 0 "status after two deploys" rc status
check "the store line names the newest release" grep -q "^project app: 3 releases in the store, newest v3$" "$WORK/last.out"
check "a runs v2, recorded v2, rollback v1, warm" grep -qE '^a +v2 +v2 +v1 +warm +never *$' "$WORK/last.out"
before=$(sqlite3 .ripcord/state.db "SELECT count(*) FROM switches; SELECT count(*) FROM audit")
rc status >/dev/null 2>&1; rc --json status >/dev/null 2>&1
check "status writes nothing (no journal, no audit entry)" test "$(sqlite3 .ripcord/state.db "SELECT count(*) FROM switches; SELECT count(*) FROM audit")" = "$before"

# drift: someone moved b's link by hand
ln -sfn releases/v1 targets/b/current.tmp && mv -T targets/b/current.tmp targets/b/current
expect_exit 1 "drift exits 1" rc status
check "b runs v1, the journal says v2" grep -qE '^b +v1 +v2 .*DRIFT: journal says v2' "$WORK/last.out"
check "and says the link is what runs" grep -q "the link is what runs" "$WORK/last.out"
expect_exit 1 "--json with drift" rc --json status
check "flags b, not a" python3 -c "
import json; d = json.load(open('$WORK/last.out'))
t = {x['target']: x for x in d['targets']}
assert d['drift'] and not d['needs_resume'] and not d['busy'], d
assert t['b']['drift'] and t['b']['current'] == 'v1' and t['b']['recorded'] == 'v2', t
assert not t['a']['drift'] and t['a']['rollback_to'] == 'v1' and t['a']['rollback_ready'] == 'warm', t
assert t['a']['extracted'] == 2 and t['a']['root'].endswith('/targets/a'), t
assert d['dora']['deploys'] == 2 and d['dora']['change_failure_rate'] == 0 and d['dora']['time_to_restore_seconds'] is None, d['dora']"
rc -q deploy v2 >/dev/null 2>&1
expect_exit 0 "a deploy settles the drift" rc status

# readiness: a pruned rollback release is cold, a lost artifact missing
rm -rf targets/a/releases/v1
expect_exit 0 "a's rollback release removed from the target" rc status
check "is cold (the artifact can be extracted)" grep -qE '^a +v2 +v2 +v1 +cold' "$WORK/last.out"
mv .ripcord/artifacts/v1.tar.zst "$WORK/"
expect_exit 0 "its artifact gone too" rc status
check "is missing, and said so" grep -qE '^a +v2 +v2 +v1 +missing +never +rollback artifact v1 is gone' "$WORK/last.out"
mv "$WORK/v1.tar.zst" .ripcord/artifacts/

# a root that is not ours is reported, not failed on; but it is not
# where the journal says it is: exit 1, as for a host that did not answer
# (it was 0: a script reading the exit code saw all was well)
rm targets/b/current && echo "not a link" > targets/b/current
expect_exit 1 "a current that is not a symlink: exit 1" rc status
check "is reported on its line" grep -qE '^b .*cannot read: .*current' "$WORK/last.out"
check "with what the journal recorded (v2)" grep -qE '^b +- +v2 +' "$WORK/last.out"
check "and said under the table" grep -q "^cannot read: the root of 1 target could not be read" "$WORK/last.out"
check "and left alone" test "$(cat targets/b/current)" = "not a link"
expect_exit 1 "--json: the same exit" rc --json status
check "b has its error and its record" python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); t=[t for t in d['targets'] if t['target']=='b'][0]
assert t['error'] and 'current' in t['error'] and t['recorded'] == 'v2' and not t['unreachable'], t" "$WORK/last.out"

# the note is shown whole, however long the root's path (it was cut at
# 640 bytes)
long=$(printf 'd%.0s' $(seq 200))
deep="$WORK/$long/$long/$long/$long"
mkdir -p "$deep/releases" && echo "not a link" > "$deep/current"
printf '[target "c"]\nroot = %s\n' "$deep" >> ripcord.ini
expect_exit 1 "a root with an 800-byte path whose current is not a link" rc status
check "its note names the whole path" grep -qF "$deep/current" "$WORK/last.out"
# both put back: the rest reads every root
sed -i '/^\[target "c"\]$/,$d' ripcord.ini
rm targets/b/current && ln -s releases/v2 targets/b/current
expect_exit 0 "every root read again: exit 0" rc status

# health: a libcurl that cannot be loaded is each probe's finding; when
# probing cannot be set up at all (libcurl cannot make a multi handle: out
# of memory, which a stand-in library named libcurl.so.4 first on
# LD_LIBRARY_PATH plays, its URL functions answering "http" and
# "127.0.0.1"), status warns once, HEALTH shows "-", and the exit is what
# it would be
sed -i '/^root = targets\/a$/a health = http://127.0.0.1:1/healthz' ripcord.ini
expect_exit 0 "status probes a's health URL" rc status
check "HEALTH says it does not answer" grep -qE '^a +v2 +connection refused +v2' "$WORK/last.out"
mkdir -p "$WORK/nocurl" && cat > "$WORK/nocurl/c.c" <<'C'
#include <stddef.h>
static char scheme[] = "http", host[] = "127.0.0.1";
static int u;
int curl_global_init(long f) { (void)f; return 0; }
void *curl_url(void) { return &u; }
int curl_url_set(void *h, int w, const char *s, unsigned f) { (void)h; (void)w; (void)s; (void)f; return 0; }
int curl_url_get(void *h, int w, char **p, unsigned f) { (void)h; (void)f; *p = w == 1 ? scheme : host; return 0; }
void curl_free(void *p) { (void)p; }
void curl_url_cleanup(void *h) { (void)h; }
void *curl_multi_init(void) { return NULL; }
void *curl_multi_cleanup(void *m) { (void)m; return NULL; }
#define STUB(f) void *f(void) { return NULL; }
STUB(curl_easy_cleanup) STUB(curl_easy_getinfo) STUB(curl_easy_init)
STUB(curl_easy_perform) STUB(curl_easy_setopt) STUB(curl_easy_strerror)
STUB(curl_getdate) STUB(curl_multi_add_handle) STUB(curl_multi_info_read)
STUB(curl_multi_perform) STUB(curl_multi_poll) STUB(curl_multi_remove_handle)
STUB(curl_multi_strerror) STUB(curl_slist_append) STUB(curl_slist_free_all)
C
cc -shared -fPIC -o "$WORK/nocurl/libcurl.so.4" "$WORK/nocurl/c.c"
expect_exit 0 "when probing cannot be set up status still works, same exit" env LD_LIBRARY_PATH="$WORK/nocurl" "$RIPCORD" status
err_has "warning that it cannot probe, and why" "warning: cannot probe the health URLs: libcurl: cannot make a multi handle for 1 requests; HEALTH shows '-'"
check "once" test "$(grep -c 'cannot probe' "$WORK/last.err")" = 1
check "HEALTH shows '-'" grep -qE '^a +v2 +- +v2' "$WORK/last.out"
expect_exit 0 "--json too" env LD_LIBRARY_PATH="$WORK/nocurl" "$RIPCORD" --json status
check "(health and healthy null)" python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); t=[t for t in d['targets'] if t['target']=='a'][0]
assert t['health'] is None and t['healthy'] is None, t" "$WORK/last.out"

done_testing
