/* SPDX-License-Identifier: MIT */
/*
 * test_config.c: ripcord.ini parsing: defaults, every class of bad input
 * with its FILE:LINE message, and discovery.
 */
#include "helpers.h"

#include <sys/stat.h>

#include "ripcord/config.h"

static int parse(struct rip_config **cfg, const char *text,
	struct rip_err *err)
{
	return rip_config_parse(cfg, text, "ripcord.ini", "/srv/app", err);
}

/* Parses text expecting failure; checks the message contains needle. */
static void expect_bad(const char *text, const char *needle)
{
	struct rip_config *cfg = (void *)1;
	struct rip_err err = { 0 };

	assert_int_equal(parse(&cfg, text, &err), RIP_ECONFIG);
	assert_null(cfg);
	assert_int_equal(err.code, RIP_ECONFIG);
	assert_err_contains(&err, needle);
}

static void test_defaults(void **state)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(parse(&cfg, "", &err), 0);
	assert_string_equal(cfg->project.name, "app");
	assert_string_equal(cfg->project.store, "/srv/app/.ripcord");
	assert_int_equal(cfg->project.keep, 5);
	assert_int_equal(cfg->package.include.n, 1);
	assert_string_equal(cfg->package.include.v[0], ".");
	assert_int_equal(cfg->package.exclude.n, 0);
	assert_false(cfg->package.allow_secrets);
	assert_null(cfg->package.signing_key);
	assert_string_equal(cfg->migrations.format, "auto");
	assert_string_equal(cfg->migrations.driver, "sqlite");
	assert_int_equal(cfg->migrations.command_timeout_ms, 10 * 60 * 1000);
	assert_int_equal(cfg->rollout.steps.n, 3);
	assert_true(cfg->rollout.steps.v[0] == 0.25);
	assert_true(cfg->rollout.steps.v[2] == 1.0);
	assert_int_equal(cfg->rollout.bake_ms, 30000);
	assert_int_equal(cfg->rollout.probe_interval_ms, 1000);
	assert_true(cfg->rollout.max_error_rate == 0.01);
	assert_int_equal(cfg->rollout.max_p99_ms, 500);
	assert_true(cfg->rollout.compare_baseline);
	assert_true(cfg->rollout.require_drill);
	assert_int_equal(cfg->rollout.min_samples, 20);
	assert_int_equal(cfg->rollout.failure_threshold, 3);
	assert_int_equal(cfg->rollout.failure_limit, 2);
	assert_string_equal(cfg->rollout.inconclusive, "pause");
	assert_int_equal(cfg->drill.every_ms, 24ull * 3600 * 1000);
	assert_string_equal(cfg->drill.database, "scratch");
	assert_int_equal(cfg->notify.retries, 5);
	assert_int_equal(cfg->n_targets, 0);
	rip_config_free(cfg);
}

static void test_full(void **state)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };
	const char *text =
		"; comment\n"
		"# another\n"
		"[project]\n"
		"name  = shop\n"
		"store = state   ; inline comment\n"
		"keep  = 7\n"
		"[package]\n"
		"include = src, lib\n"
		"exclude = docs, *.md\n"
		"[migrations]\n"
		"dir = db/migrations\n"
		"format = golang-migrate\n"
		"irreversible = 0033_alter, 0040\n"
		"[target \"web-1\"]\n"
		"root = /srv/shop/web-1\n"
		"health = http://127.0.0.1:8001/healthz\n"
		"hook_timeout = 1m30s\n"
		"  group = web\n"
		"[target \"web-2\"]  ; second\n"
		"root = roots/web-2\n"
		"[rollout]\n"
		"steps = 10%, 50%, 100%\n"
		"bake = 500ms\n"
		"max_error_rate = 0.5%\n"
		"auto_promote = no\n"
		"gate_query_max = 0.25\n"
		"[drill]\n"
		"every = 12h\n"
		"strict = on\n"
		"[notify]\n"
		"webhook = https://chat.example/hook\n";

	(void)state;
	assert_int_equal(parse(&cfg, text, &err), 0);
	assert_string_equal(cfg->project.name, "shop");
	assert_string_equal(cfg->project.store, "/srv/app/state");
	assert_int_equal(cfg->project.keep, 7);
	assert_int_equal(cfg->package.include.n, 2);
	assert_string_equal(cfg->package.include.v[1], "lib");
	assert_int_equal(cfg->package.exclude.n, 2);
	assert_string_equal(cfg->package.exclude.v[1], "*.md");
	assert_string_equal(cfg->migrations.dir, "db/migrations");
	assert_int_equal(cfg->migrations.irreversible.n, 2);
	assert_int_equal(cfg->n_targets, 2);
	assert_string_equal(cfg->targets[0].name, "web-1");
	assert_string_equal(cfg->targets[0].root, "/srv/shop/web-1");
	assert_int_equal(cfg->targets[0].hook_timeout_ms, 90000);
	assert_string_equal(cfg->targets[0].group, "web");
	assert_int_equal(cfg->targets[0].line, 14);
	assert_string_equal(cfg->targets[1].root, "/srv/app/roots/web-2");
	assert_int_equal(cfg->targets[1].hook_timeout_ms, 60000);
	assert_null(cfg->targets[1].health);
	assert_true(cfg->rollout.steps.v[0] == 0.10);
	assert_int_equal(cfg->rollout.bake_ms, 500);
	assert_true(cfg->rollout.max_error_rate == 0.005);
	assert_false(cfg->rollout.auto_promote);
	assert_true(cfg->rollout.gate_query_max == 0.25);
	assert_int_equal(cfg->drill.every_ms, 12ull * 3600 * 1000);
	assert_true(cfg->drill.strict);
	assert_string_equal(cfg->notify.webhook, "https://chat.example/hook");
	rip_config_free(cfg);
}

static void test_unknown(void **state)
{
	(void)state;
	expect_bad("[project]\nstroe = x\n",
		"ripcord.ini:2: unknown key 'stroe' in [project] "
		"(did you mean 'store'?)");
	expect_bad("[projet]\n", "ripcord.ini:1: unknown section [projet] "
		"(did you mean 'project'?)");
	expect_bad("[project]\nname = a\n[wibble]\n",
		"ripcord.ini:3: unknown section [wibble]");
	expect_bad("[rollout]\nbake = 1s\nmax_p999_ms = 3\n",
		"ripcord.ini:3: unknown key 'max_p999_ms' in [rollout] "
		"(did you mean 'max_p99_ms'?)");
	expect_bad("name = x\n", "ripcord.ini:1: 'name' outside any section");
	expect_bad("[target \"a\"]\nroot = /x\nhealthz = http://x\n",
		"ripcord.ini:3: unknown key 'healthz' in [target] "
		"(did you mean 'health'?)");
	/* an empty unknown section is still caught */
	expect_bad("[project]\n[nope]\n[package]\n",
		"ripcord.ini:2: unknown section [nope]");
}

/* A message quoting a long key is not cut short of its end before
 * rip_err's own buffer is full. */
static void test_unknown_long_key(void **state)
{
	struct rip_buf text = RIP_BUF_INIT;

	(void)state;
	rip_buf_adds(&text, "[project]\n");
	for (int i = 0; i < 950; i++)
		rip_buf_addch(&text, 'k');
	rip_buf_adds(&text, " = x\n");
	expect_bad(text.buf, "kkkk' in [project]");
	rip_buf_release(&text);
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_bad("[rollout]\nbake = 30\n",
		"ripcord.ini:2: bad value '30' for bake (expected a duration");
	expect_bad("[rollout]\nbake = 5 minutes\n", "bad value '5 minutes'");
	expect_bad("[rollout]\nbake = 1x\n", "ripcord.ini:2: bad value '1x'");
	expect_bad("[rollout]\nmax_error_rate = 5\n",
		"ripcord.ini:2: bad value '5' for max_error_rate (expected a "
		"percentage");
	expect_bad("[rollout]\nmax_error_rate = 150%\n", "bad value '150%'");
	expect_bad("[rollout]\nauto_promote = maybe\n",
		"ripcord.ini:2: bad value 'maybe' for auto_promote (expected yes "
		"or no)");
	expect_bad("[rollout]\nfailure_threshold = 0\n",
		"ripcord.ini:2: failure_threshold must be at least 1");
	expect_bad("[rollout]\ninconclusive = wait\n",
		"ripcord.ini:2: 'wait' is not a valid inconclusive (expected one of "
		"pause|abort|pass)");
	expect_bad("[project]\nkeep = -1\n",
		"ripcord.ini:2: bad value '-1' for keep (expected a whole number");
	expect_bad("[project]\nkeep = 5x\n", "bad value '5x' for keep");
	expect_bad("[project]\nkeep = 99999999999999999999999\n",
		"bad value '99999999999999999999999' for keep");
	expect_bad("[project]\nkeep =\n", "ripcord.ini:2: keep needs a value "
		"(default: 5; remove the line to use the default)");
	expect_bad("[project]\nstore =\n", "ripcord.ini:2: store needs a value");
	expect_bad("[rollout]\nsteps = 50%, 25%, 100%\n",
		"ripcord.ini:2: bad value '50%, 25%, 100%' for steps");
	expect_bad("[rollout]\nsteps = 25%, 50%\n", "for steps (expected "
		"increasing percentages ending at 100%");
	expect_bad("[rollout]\ngate_query_max = lots\n",
		"bad value 'lots' for gate_query_max (expected a number");
	expect_bad("[migrations]\nformat = rails\n",
		"ripcord.ini:2: 'rails' is not a valid format (expected one of "
		"auto|golang-migrate|dbmate|sqitch|diesel|flyway)");
	expect_bad("[target \"a\"]\nroot = /x\nhealth = 127.0.0.1:8000\n",
		"ripcord.ini:3: health '127.0.0.1:8000' is not a URL");
}

static void test_structure(void **state)
{
	(void)state;
	expect_bad("[target \"web\"]\nroot = /a\n[target \"web\"]\nroot = /b\n",
		"ripcord.ini:3: target 'web' is defined twice (first at line 1)");
	expect_bad("[target \"web\"]\nhealth = http://x/\n",
		"ripcord.ini:1: [target \"web\"] has no 'root' (required");
	expect_bad("[target]\nroot = /a\n",
		"ripcord.ini:1: [target] needs a name");
	expect_bad("[target \"a b\"]\nroot = /a\n",
		"ripcord.ini:1: bad target header");
	expect_bad("[target web]\nroot = /a\n", "bad target header");
	expect_bad("[project]\nkeep = 3\nkeep = 4\n",
		"ripcord.ini:3: 'keep' is set twice in [project] (first at line 2)");
	expect_bad("[project\nkeep = 3\n",
		"ripcord.ini:1: malformed section header");
	expect_bad("[project] trailing\n", "malformed section header");
	expect_bad("[project]\njust words\n",
		"ripcord.ini:2: expected 'key = value'");
}

static void test_found_by_fuzzing(void **state)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };

	(void)state;
	/* a required key may not be emptied */
	expect_bad("[target \"a\"]\nroot =\n", "ripcord.ini:2: root needs a "
		"value");
	/* a UTF-8 BOM before the first header */
	assert_int_equal(parse(&cfg, "\xEF\xBB\xBF[project]\nname = bom\n",
		&err), 0);
	assert_string_equal(cfg->project.name, "bom");
	rip_config_free(cfg);
	/* a header after a vertical tab starts its section for us as for
	 * inih: keys never land in the section before it */
	assert_int_equal(parse(&cfg, "[drill]\n\v[migrations]\n"
		"database = postgres://prod\n", &err), 0);
	assert_string_equal(cfg->drill.database, "scratch");
	assert_string_equal(cfg->migrations.database, "postgres://prod");
	rip_config_free(cfg);
}

static void test_long_line(void **state)
{
	struct rip_buf text = RIP_BUF_INIT;

	(void)state;
	rip_buf_adds(&text, "[project]\nname = ");
	for (int i = 0; i < 5000; i++)
		rip_buf_addch(&text, 'x');
	rip_buf_adds(&text, "\nkeep = 3\n");
	expect_bad(text.buf, "ripcord.ini:2: line longer than 4096 bytes");
	rip_buf_release(&text);
}

static void test_long_value_ok(void **state)
{
	struct rip_buf text = RIP_BUF_INIT;
	struct rip_config *cfg;
	struct rip_err err = { 0 };

	(void)state;
	/* 1000 bytes: far beyond inih's default 200, within ours */
	rip_buf_adds(&text, "[project]\nname = ");
	for (int i = 0; i < 1000; i++)
		rip_buf_addch(&text, 'n');
	rip_buf_adds(&text, "\n");
	assert_int_equal(parse(&cfg, text.buf, &err), 0);
	assert_int_equal(strlen(cfg->project.name), 1000);
	rip_config_free(cfg);
	rip_buf_release(&text);
}

static void test_paths_must_exist(void **state)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };
	struct tmpdir *t = *state;
	char text[512];

	/* the keys are checked by their users (cut, verify.c), so a lost
	 * key stops no rollback: the config loads, the path resolved */
	snprintf(text, sizeof(text), "[package]\nsigning_key = keys/r.key\n"
		"verify_key = keys/r.pub\n");
	assert_int_equal(rip_config_parse(&cfg, text, "x.ini", t->path, &err), 0);
	assert_string_equal(cfg->package.signing_key, tpath(state, "keys/r.key"));
	assert_string_equal(cfg->package.verify_key, tpath(state, "keys/r.pub"));
	rip_config_free(cfg);

	rip_err_clear(&err);
	assert_int_equal(rip_config_parse(&cfg, "[target \"a\"]\nroot = r\n"
		"activate = hooks/activate\n", "x.ini", t->path, &err),
		RIP_ECONFIG);
	assert_err_contains(&err, "x.ini:3: activate 'hooks/activate' does not "
		"exist");
}

/* Parses two targets' roots in t's folder; the message, or "" when fine. */
static const char *two_roots(void **state, const char *a, const char *b)
{
	static struct rip_err err;
	struct rip_config *cfg = NULL;
	struct tmpdir *t = *state;
	char text[512];

	rip_err_clear(&err);
	snprintf(text, sizeof(text), "[target \"a\"]\nroot = %s\n\n"
		"[target \"b\"]\nroot = %s\n", a, b);
	if (rip_config_parse(&cfg, text, "x.ini", t->path, &err) == 0) {
		rip_config_free(cfg);
		return "";
	}
	assert_null(cfg);
	assert_int_equal(err.code, RIP_ECONFIG);
	return err.msg;
}

/* 13.6: two targets in one folder, however it is spelt, are refused. */
static void test_roots_clash(void **state)
{
	struct tmpdir *t = *state;
	char want[1024], *base = realpath(t->path, NULL);
	const char *msg;

	mkdir(tpath(state, "real"), 0755);
	mkdir(tpath(state, "real/deep"), 0755);
	assert_int_equal(symlink("real", tpath(state, "link")), 0);
	assert_int_equal(symlink("real/deep", tpath(state, "dlink")), 0);

	snprintf(want, sizeof(want), "x.ini:5: targets 'a' (x.ini:2) and 'b' "
		"(x.ini:5) have the same root: both resolve to '%s/real'; give "
		"each target a folder of its own", base);
	assert_string_equal(two_roots(state, "real", "real/"), want);
	assert_string_equal(two_roots(state, "real", "link"), want);
	assert_string_equal(two_roots(state, "./link/.", "real/deep/.."), want);
	/* a link is followed before "..": dlink/.. is real, not t->path */
	assert_string_equal(two_roots(state, "dlink/..", "real"), want);
	assert_true(two_roots(state, "real", t->path)[0] != '\0');

	/* roots that do not exist yet */
	snprintf(want, sizeof(want), "both resolve to '%s/real/new/web'",
		base);
	msg = two_roots(state, "link/new/web", "real/new/x/../web");
	assert_non_null(strstr(msg, want));
	msg = two_roots(state, "none/../real", "link");
	assert_non_null(strstr(msg, "both resolve to"));

	/* one inside the other, either way round */
	snprintf(want, sizeof(want), "x.ini:5: the root of target 'b' (x.ini:5, "
		"resolved '%s/real/deep/new') is inside the root of target 'a' "
		"(x.ini:2, resolved '%s/real'): the releases/ of one would be "
		"inside the tree of the other", base, base);
	assert_non_null(strstr(two_roots(state, "link", "dlink/new"), want));
	msg = two_roots(state, "dlink", "real");
	assert_non_null(strstr(msg, "the root of target 'a' (x.ini:2"));
	assert_non_null(strstr(msg, "inside the root of target 'b' (x.ini:5"));

	/* side by side is fine, even when one name starts the other */
	assert_string_equal(two_roots(state, "targets/a", "targets/a-b"), "");
	assert_string_equal(two_roots(state, "real/deep", "link/deeper"), "");
	assert_string_equal(two_roots(state, "/", "/"),
		"x.ini:5: targets 'a' (x.ini:2) and 'b' (x.ini:5) have the same "
		"root: both resolve to '/'; give each target a folder of its own");
	assert_non_null(strstr(two_roots(state, "/", "real"), "resolved '/')"));
	free(base);
}

/* A target on another host: host as written, ssh_dest and ssh_port. */
static void expect_host(const char *host, const char *dest, unsigned port)
{
	struct rip_config *cfg = NULL;
	struct rip_err err = { 0 };
	char text[512];

	snprintf(text, sizeof(text), "[target \"web-1\"]\nhost = %s\n"
		"root = /srv/shop\n", host);
	if (parse(&cfg, text, &err) < 0)
		fail_msg("host '%s' refused: %s", host, err.msg);
	assert_string_equal(cfg->targets[0].host, host);
	assert_string_equal(cfg->targets[0].ssh_dest, dest);
	assert_int_equal(cfg->targets[0].ssh_port, port);
	assert_string_equal(cfg->targets[0].root, "/srv/shop");
	rip_config_free(cfg);
}

static void test_host_forms(void **state)
{
	(void)state;
	expect_host("deploy@web-1.example", "deploy@web-1.example", 0);
	expect_host("web-1", "web-1", 0);
	expect_host("web_1.internal", "web_1.internal", 0);
	expect_host("ssh://deploy@10.0.0.5:2222", "deploy@10.0.0.5", 2222);
	expect_host("ssh://web-1", "web-1", 0);
	expect_host("ssh://web-1/", "web-1", 0);
	expect_host("ssh://deploy@web-1:65535", "deploy@web-1", 65535);
	expect_host("ssh://[fe80::1]:22", "fe80::1", 22);
	expect_host("ssh://deploy@[2001:db8::5]", "deploy@2001:db8::5", 0);
	expect_host("ssh://[fe80::1%eth0]:2200", "fe80::1%eth0", 2200);
	expect_host("fe80::1", "fe80::1", 0);
	expect_host("deploy@::1", "deploy@::1", 0);
}

/* Parses a target whose host line (line 2) is host, expecting needle. */
static void expect_bad_host(const char *host, const char *needle)
{
	char text[512];

	snprintf(text, sizeof(text), "[target \"web-1\"]\nhost = %s\n"
		"root = /srv/shop\n", host);
	expect_bad(text, needle);
}

static void test_host_refused(void **state)
{
	(void)state;
	expect_bad("[target \"web-1\"]\nhost =\nroot = /srv\n",
		"ripcord.ini:2: host needs a value (USER@HOST, HOST or "
		"ssh://[USER@]HOST[:PORT]; leave host out for a root on this "
		"machine)");
	expect_bad_host("-oProxyCommand=sh", "ripcord.ini:2: host "
		"'-oProxyCommand=sh' starts with '-', which ssh would take for an "
		"option (expected USER@HOST, HOST or ssh://[USER@]HOST[:PORT])");
	expect_bad_host("web 1", "ripcord.ini:2: host 'web 1' holds white "
		"space or a control character");
	expect_bad_host("web\t1", "holds white space or a control character");
	expect_bad_host("web\0331", "holds white space or a control character");
	expect_bad_host("\"web-1\"", "ripcord.ini:2: host '\"web-1\"' holds a "
		"quote");
	expect_bad_host("it's", "holds a quote");
	expect_bad_host("ssh://web-1/srv/shop", "ripcord.ini:2: host "
		"'ssh://web-1/srv/shop' has a path or query after the host "
		"(expected ssh://[USER@]HOST[:PORT] and nothing after it: root "
		"names the folder on the host)");
	expect_bad_host("ssh://web-1?x=1", "has a path or query");
	expect_bad_host("ssh://web-1:0", "ripcord.ini:2: host 'ssh://web-1:0' "
		"has a bad port '0' (expected a number from 1 to 65535)");
	expect_bad_host("ssh://web-1:65536", "bad port '65536'");
	expect_bad_host("ssh://web-1:22x", "bad port '22x'");
	expect_bad_host("ssh://web-1:", "bad port ''");
	expect_bad_host("ssh://[fe80::1]:http", "bad port 'http'");
	expect_bad_host("http://web-1", "ripcord.ini:2: host 'http://web-1' "
		"has the scheme 'http', which ripcord does not know (expected "
		"ssh://[USER@]HOST[:PORT])");
	expect_bad_host("sftp://web-1", "the scheme 'sftp'");
	expect_bad_host("web-1:2222", "ripcord.ini:2: host 'web-1:2222' has a "
		"':' but is not an ssh:// URL (for a port, write "
		"ssh://[USER@]HOST:PORT)");
	expect_bad_host("ssh://[web-1]:22", "has a bad IPv6 address");
	expect_bad_host("ssh://[fe80::1", "has a bad IPv6 address");
	expect_bad_host("ssh://[fe80::1]x", "has 'x' after the IPv6 address");
	expect_bad_host("@web-1", "has a bad user ''");
	expect_bad_host("ssh://-oX@web-1", "has a bad user '-oX'");
	expect_bad_host("deploy@", "has a bad host name ''");
	expect_bad_host("deploy@-web", "has a bad host name '-web'");
	expect_bad_host("ssh://deploy@:22", "has a bad host name ''");
	expect_bad_host("web;rm", "has a bad host name 'web;rm'");
	expect_bad_host("u:pw@web-1", "has a bad user 'u:pw'");
}

/* With host, root and activate are paths on that host: kept as written,
 * never looked for here; root must be absolute, in any key order. */
static void test_host_paths(void **state)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(parse(&cfg, "[target \"web-1\"]\nroot = /srv/shop\n"
		"activate = hooks/activate\nhost = web-1\n"
		"[target \"web-2\"]\nactivate = /opt/shop/activate\n"
		"host = web-2\nroot = /srv/shop/\n", &err), 0);
	assert_string_equal(cfg->targets[0].root, "/srv/shop");
	assert_string_equal(cfg->targets[0].activate, "hooks/activate");
	assert_string_equal(cfg->targets[1].activate, "/opt/shop/activate");
	assert_string_equal(cfg->targets[1].root, "/srv/shop/");
	rip_config_free(cfg);

	/* the message names the root's line, host before or after it */
	expect_bad("[target \"web-1\"]\nhost = deploy@web-1\nroot = srv/shop\n",
		"ripcord.ini:3: target 'web-1' has host 'deploy@web-1': its root "
		"is a path on that host and must be absolute (not 'srv/shop')");
	expect_bad("[target \"web-1\"]\nroot = srv/shop\nhost = web-1\n"
		"[project]\nkeep = 3\n", "ripcord.ini:2: target 'web-1' has host");
	expect_bad("[target \"web-1\"]\nroot = ./x\nhost = web-1\n",
		"ripcord.ini:2: target 'web-1' has host 'web-1': its root");

	/* without host, a relative root resolves against the config's folder
	 * as before, and activate must exist here */
	assert_int_equal(parse(&cfg, "[target \"a\"]\nroot = roots/a\n", &err),
		0);
	assert_string_equal(cfg->targets[0].root, "/srv/app/roots/a");
	assert_null(cfg->targets[0].host);
	assert_null(cfg->targets[0].ssh_dest);
	rip_config_free(cfg);
	expect_bad("[target \"a\"]\nactivate = hooks/none\nroot = /x\n",
		"ripcord.ini:2: activate 'hooks/none' does not exist");
}

/* Roots clash only on one machine: the same path on two hosts is fine. */
static void test_host_roots(void **state)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(parse(&cfg, "[target \"a\"]\nhost = web-1\n"
		"root = /srv/shop\n[target \"b\"]\nhost = web-2\n"
		"root = /srv/shop\n[target \"c\"]\nroot = /srv/shop\n"
		"[target \"d\"]\nhost = ssh://web-1:2201\nroot = /srv/shop\n"
		"[target \"e\"]\nhost = web-1\nroot = /srv/shop-2\n", &err), 0);
	assert_int_equal(cfg->n_targets, 5);
	rip_config_free(cfg);

	expect_bad("[target \"a\"]\nhost = deploy@web-1\nroot = /srv/shop\n"
		"[target \"b\"]\nhost = ssh://other@WEB-1:22\n"
		"root = /srv/x/../shop/\n",
		"ripcord.ini:6: targets 'a' (ripcord.ini:3) and 'b' "
		"(ripcord.ini:6) have the same root on host 'web-1': both resolve "
		"to '/srv/shop'");
	expect_bad("[target \"a\"]\nhost = web-1\nroot = /srv\n"
		"[target \"b\"]\nroot = /srv/shop/b\nhost = web-1\n",
		"ripcord.ini:5: the root of target 'b' (ripcord.ini:5, resolved "
		"'/srv/shop/b') is inside the root of target 'a' (ripcord.ini:3, "
		"resolved '/srv') on host 'web-1'");
}

static void test_ssh_section(void **state)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(parse(&cfg, "", &err), 0);
	assert_int_equal(cfg->ssh.command.n, 1);
	assert_string_equal(cfg->ssh.command.v[0], "ssh");
	assert_int_equal(cfg->ssh.parallel, 20);
	assert_int_equal(cfg->ssh.connect_timeout_ms, 5000);
	assert_string_equal(cfg->ssh.agent_path, "ripcord");
	rip_config_free(cfg);

	assert_int_equal(parse(&cfg, "[ssh]\ncommand = /usr/bin/ssh  -F\t"
		"ssh/config -o BatchMode=yes\nparallel = 1\n"
		"connect_timeout = 1500ms\nagent_path = /opt/ripcord/bin/ripcord\n",
		&err), 0);
	assert_int_equal(cfg->ssh.command.n, 5);
	assert_string_equal(cfg->ssh.command.v[0], "/usr/bin/ssh");
	assert_string_equal(cfg->ssh.command.v[1], "-F");
	assert_string_equal(cfg->ssh.command.v[2], "ssh/config");
	assert_string_equal(cfg->ssh.command.v[4], "BatchMode=yes");
	assert_int_equal(cfg->ssh.parallel, 1);
	assert_int_equal(cfg->ssh.connect_timeout_ms, 1500);
	assert_string_equal(cfg->ssh.agent_path, "/opt/ripcord/bin/ripcord");
	rip_config_free(cfg);

	expect_bad("[ssh]\ncommand =\n", "ripcord.ini:2: command needs a value "
		"(default: ssh; remove the line to use the default)");
	expect_bad("[ssh]\ncommand = ssh -o 'ProxyJump a b'\n",
		"ripcord.ini:2: command 'ssh -o 'ProxyJump a b'' holds a quote or "
		"a backslash: it is split on spaces, without quoting");
	expect_bad("[ssh]\ncommand = ssh\\ x\n", "holds a quote or a backslash");
	expect_bad("[ssh]\nparallel = 0\n", "ripcord.ini:2: parallel must be "
		"at least 1 (hosts worked on at once)");
	expect_bad("[ssh]\nparallel = many\n", "ripcord.ini:2: bad value "
		"'many' for parallel (expected a whole number");
	expect_bad("[ssh]\nconnect_timeout = 0s\n", "ripcord.ini:2: "
		"connect_timeout must be more than 0");
	expect_bad("[ssh]\nconnect_timeout = 5\n", "ripcord.ini:2: bad value "
		"'5' for connect_timeout (expected a duration");
	expect_bad("[ssh]\nagent_path =\n", "ripcord.ini:2: agent_path needs a "
		"value (default: ripcord");
	expect_bad("[ssh]\nagent_path = /opt/rip\033cord\n", "ripcord.ini:2: "
		"agent_path '/opt/rip\033cord' holds a control character");
	expect_bad("[ssh]\nparalel = 4\n", "ripcord.ini:2: unknown key "
		"'paralel' in [ssh] (did you mean 'parallel'?)");
	expect_bad("[ssh]\nconnect_timeout = 1s\nconnect_timeout = 2s\n",
		"ripcord.ini:3: 'connect_timeout' is set twice in [ssh]");
	expect_bad("[shh]\n", "ripcord.ini:1: unknown section [shh] (did you "
		"mean 'ssh'?)");
}

static void test_load_and_find(void **state)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };
	char *found;

	mkdir(tpath(state, "a"), 0755);
	mkdir(tpath(state, "a/b"), 0755);
	write_text(tpath(state, "ripcord.ini"), "[project]\nname = top\n");
	assert_int_equal(rip_config_find(&found, tpath(state, "a/b"), &err), 0);
	assert_non_null(strstr(found, "/ripcord.ini"));
	assert_int_equal(rip_config_load(&cfg, found, &err), 0);
	assert_string_equal(cfg->project.name, "top");
	rip_config_free(cfg);
	free(found);

	write_text(tpath(state, "bad.ini"), "[project]\nname = a\nnmae = b\n");
	assert_int_equal(rip_config_load(&cfg, tpath(state, "bad.ini"), &err),
		RIP_ECONFIG);
	assert_err_contains(&err, "bad.ini:3: unknown key 'nmae' in [project] "
		"(did you mean 'name'?)");

	assert_int_equal(rip_config_load(&cfg, tpath(state, "none.ini"), &err),
		RIP_ECONFIG);
	assert_err_contains(&err, "none.ini");
}

static void test_value_parsers(void **state)
{
	uint64_t ms;
	double pc;
	bool b;

	(void)state;
	assert_int_equal(rip_parse_duration(&ms, "500ms"), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(rip_parse_duration(&ms, "5m"), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(rip_parse_duration(&ms, "1h30m"), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(rip_parse_duration(&ms, "2d"), 0);
	assert_int_equal(ms, 172800000);
	assert_int_equal(rip_parse_duration(&ms, ""), -1);
	assert_int_equal(rip_parse_duration(&ms, "s"), -1);
	assert_int_equal(rip_parse_duration(&ms, "10"), -1);
	assert_int_equal(rip_parse_duration(&ms, "1.5s"), -1);
	assert_int_equal(rip_parse_duration(&ms, "99999999999999999999h"), -1);
	assert_int_equal(rip_parse_percent(&pc, "5%"), 0);
	assert_true(pc == 0.05);
	assert_int_equal(rip_parse_percent(&pc, "100%"), 0);
	assert_int_equal(rip_parse_percent(&pc, "5"), -1);
	assert_int_equal(rip_parse_percent(&pc, "-1%"), -1);
	assert_int_equal(rip_parse_percent(&pc, "5%%"), -1);
	assert_int_equal(rip_parse_bool(&b, "Yes"), 0);
	assert_true(b);
	assert_int_equal(rip_parse_bool(&b, "off"), 0);
	assert_false(b);
	assert_int_equal(rip_parse_bool(&b, "nope"), -1);
	assert_int_equal(rip_edit_distance("stroe", "store"), 2);
	assert_int_equal(rip_edit_distance("", "abc"), 3);
}

static void test_template_parses(void **state)
{
	struct rip_buf text = RIP_BUF_INIT;
	struct rip_config *cfg;
	struct rip_err err = { 0 };

	(void)state;
	rip_config_template(&text, "demo", ".ripcord");
	/* every key is in the template, commented out, with its default */
	for (size_t i = 0; i < rip_config_nkeys; i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "%s = ", rip_config_keys[i].name);
		if (!strstr(text.buf, needle))
			fail_msg("template lacks '%s'", rip_config_keys[i].name);
	}
	assert_int_equal(parse(&cfg, text.buf, &err), 0);
	assert_string_equal(cfg->project.name, "demo");
	rip_config_free(cfg);
	rip_buf_release(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_unknown_long_key),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_found_by_fuzzing),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_long_value_ok),
		cmocka_unit_test_setup_teardown(test_paths_must_exist,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_roots_clash, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test(test_host_forms),
		cmocka_unit_test(test_host_refused),
		cmocka_unit_test(test_host_paths),
		cmocka_unit_test(test_host_roots),
		cmocka_unit_test(test_ssh_section),
		cmocka_unit_test_setup_teardown(test_load_and_find,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_value_parsers),
		cmocka_unit_test(test_template_parses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
