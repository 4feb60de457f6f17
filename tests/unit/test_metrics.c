/* SPDX-License-Identifier: MIT */
/*
 * test_metrics.c: the Prometheus textfile writer: exact bytes for a fresh
 * file, other releases, projects and families kept, replacement, label and
 * HELP escaping, value spelling, removal, corrupt files rewritten with a
 * warning and a copy, invalid samples refused, the lock (two processes
 * updating at once lose nothing; a held lock is waited for, then EBUSY),
 * and atomicity (a reader in another process only ever sees whole files).
 *
 * Every file written is checked by check_text() below, a strict checker of
 * the text exposition format written from the spec independently of
 * metrics.c's parser, and by prometheus_client's parser when python3 has
 * it (skipped otherwise).
 */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ripcord/fsutil.h"
#include "ripcord/metrics.h"

/* --- an independent strict checker ---------------------------------------- */

#define CHK_MAX 4096

struct chk {
	char fam[256][128];        /* families in order of appearance */
	bool help[256], type[256], samples[256];
	char type_of[256][16];
	int nf;
	int cur;                   /* family of the previous sample, -1 */
	char *seen[CHK_MAX];       /* "name{labels}" of every series */
	int ns;
};

static int chk_fam(struct chk *c, const char *name, size_t len)
{
	for (int i = 0; i < c->nf; i++)
		if (strlen(c->fam[i]) == len && !memcmp(c->fam[i], name, len))
			return i;
	if (c->nf == 256 || len >= 128)
		return -1;
	memcpy(c->fam[c->nf], name, len);
	c->fam[c->nf][len] = '\0';
	return c->nf++;
}

static size_t chk_name(const char *s, bool metric)
{
	size_t n = 0;

	for (;; n++) {
		char ch = s[n];
		bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			ch == '_' || (metric && ch == ':');

		if (!alpha && !(n && ch >= '0' && ch <= '9'))
			return n;
	}
}

/* The spellings our writer may use: NaN, +Inf, -Inf, or a decimal. */
static bool chk_value(const char *s, size_t len)
{
	size_t i = 0, d = 0;

	if ((len == 3 && !memcmp(s, "NaN", 3)) ||
		(len == 4 && (!memcmp(s, "+Inf", 4) || !memcmp(s, "-Inf", 4))))
		return true;
	if (i < len && s[i] == '-')
		i++;
	for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == d)
		return false;
	if (i < len && s[i] == '.') {
		for (d = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return false;
	}
	if (i < len && s[i] == 'e') {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return false;
	}
	return i == len;
}

/* "# HELP name text" or "# TYPE name type"; other comments pass. */
static const char *chk_comment(struct chk *c, const char *l, size_t len)
{
	bool help = len > 7 && !memcmp(l, "# HELP ", 7);
	bool type = len > 7 && !memcmp(l, "# TYPE ", 7);
	size_t n;
	int f;

	if (!help && !type)
		return NULL;
	if (!(n = chk_name(l + 7, true)) || (f = chk_fam(c, l + 7, n)) < 0)
		return "bad name in HELP or TYPE";
	l += 7 + n;
	len -= 7 + n;
	if (help) {
		if (c->help[f])
			return "second HELP";
		c->help[f] = true;
		for (size_t i = 0; i < len; i++)
			if (l[i] == '\\' && (i + 1 == len ||
				(l[i + 1] != '\\' && l[i + 1] != 'n')))
				return "bad escape in HELP";
			else if (l[i] == '\\')
				i++;
		return len && l[0] != ' ' ? "no space after HELP name" : NULL;
	}
	if (c->type[f] || c->samples[f])
		return "second TYPE, or TYPE after samples";
	c->type[f] = true;
	if (len < 2 || l[0] != ' ' || len - 1 >= 16)
		return "bad TYPE";
	memcpy(c->type_of[f], l + 1, len - 1);
	c->type_of[f][len - 1] = '\0';
	if (strcmp(c->type_of[f], "gauge") && strcmp(c->type_of[f], "counter") &&
		strcmp(c->type_of[f], "untyped") &&
		strcmp(c->type_of[f], "histogram") &&
		strcmp(c->type_of[f], "summary"))
		return "unknown TYPE";
	return NULL;
}

/* The family of a sample: its name, or the histogram or summary it is
 * the _bucket, _sum or _count of. */
static int chk_sample_fam(struct chk *c, const char *name, size_t n)
{
	static const char *const suffix[] = { "_bucket", "_sum", "_count" };

	for (size_t k = 0; k < 3; k++) {
		size_t sl = strlen(suffix[k]);

		if (n <= sl || memcmp(name + n - sl, suffix[k], sl))
			continue;
		for (int i = 0; i < c->nf; i++)
			if (strlen(c->fam[i]) == n - sl &&
				!memcmp(c->fam[i], name, n - sl) &&
				(!strcmp(c->type_of[i], "histogram") ||
					!strcmp(c->type_of[i], "summary")))
				return i;
	}
	return chk_fam(c, name, n);
}

static const char *chk_labels(const char **pp, const char *end)
{
	const char *p = *pp + 1;

	while (p < end && *p != '}') {
		size_t n = chk_name(p, false);

		if (!n || p + n + 2 > end || p[n] != '=' || p[n + 1] != '"')
			return "bad label";
		for (p += n + 2; p < end && *p != '"'; p++)
			if (*p == '\\' && (p + 1 == end || !strchr("\\\"n", p[1])))
				return "bad escape in a label value";
			else if (*p == '\\')
				p++;
		if (p == end)
			return "unterminated label value";
		p++;
		if (p < end && *p == ',')
			p++;
	}
	if (p == end)
		return "unterminated labels";
	*pp = p + 1;
	return NULL;
}

static const char *chk_sample(struct chk *c, const char *l, size_t len)
{
	const char *p = l, *end = l + len, *v;
	size_t n = chk_name(l, true);
	int f;

	if (!n || (f = chk_sample_fam(c, l, n)) < 0)
		return "bad metric name";
	if (!c->type[f])
		return "sample before its TYPE (our writer always writes one)";
	if (c->samples[f] && c->cur != f)
		return "family not contiguous";
	c->samples[f] = true;
	c->cur = f;
	p += n;
	if (p < end && *p == '{' && (v = chk_labels(&p, end)))
		return v;
	if (p == end || *p++ != ' ')
		return "no space before the value";
	for (v = p; p < end && *p != ' '; p++)
		;
	if (!chk_value(v, (size_t)(p - v)))
		return "bad value";
	if (p < end)
		return "a timestamp, or text after the value";
	for (int i = 0; i < c->ns; i++)
		if (strlen(c->seen[i]) == (size_t)(v - 1 - l) &&
			!memcmp(c->seen[i], l, (size_t)(v - 1 - l)))
			return "duplicate series";
	if (c->ns == CHK_MAX)
		return "too many series";
	c->seen[c->ns++] = strndup(l, (size_t)(v - 1 - l));
	return NULL;
}

/* Returns the number of samples in text, or -1 with why filled in. */
static int check_text(const char *text, char *why, size_t wlen)
{
	struct chk *c = calloc(1, sizeof(*c));
	const char *p = text, *bad = NULL;
	int line = 0, n;

	c->cur = -1;
	while (*p && !bad) {
		const char *e = strchr(p, '\n');

		line++;
		if (!e)
			bad = "no line feed at the end";
		else if (e == p)
			bad = "empty line";
		else if (*p == '#')
			bad = chk_comment(c, p, (size_t)(e - p));
		else
			bad = chk_sample(c, p, (size_t)(e - p));
		p = e ? e + 1 : p;
	}
	if (bad)
		snprintf(why, wlen, "line %d: %s", line, bad);
	n = bad ? -1 : c->ns;
	for (int i = 0; i < c->ns; i++)
		free(c->seen[i]);
	free(c);
	return n;
}

/* --- helpers --------------------------------------------------------------- */

static char *slurp(const char *path)
{
	struct rip_buf b = RIP_BUF_INIT;
	struct rip_err err = { 0 };

	if (rip_read_file(&b, path, 1 << 24, &err) < 0)
		fail_msg("cannot read '%s': %s", path, err.msg);
	return rip_buf_detach(&b, NULL);
}

/* Reads path and asserts it passes the checker with want samples. */
static char *assert_valid(const char *path, int want)
{
	char *text = slurp(path), why[128];
	int n = check_text(text, why, sizeof(why));

	if (n < 0)
		fail_msg("'%s' is not valid: %s\n%s", path, why, text);
	if (want >= 0 && n != want)
		fail_msg("'%s' has %d samples, expected %d\n%s", path, n, want,
			text);
	return text;
}

static void update1(const char *path, const char *name, const char *project,
	const char *release, double value)
{
	struct rip_err err = { 0 };
	struct rip_metric_sample s = { .name = name, .help = "Help.",
		.labels = { { "project", project }, { "release", release } },
		.value = value };

	if (rip_metrics_update(path, &s, 1, &err) < 0)
		fail_msg("update: %s", err.msg);
}

static void drill(const char *path, const char *project, const char *release,
	bool ok, double seconds, int64_t last)
{
	struct rip_err err = { 0 };
	struct rip_drill_metrics m = { project, release, ok, seconds, last, ok };

	if (rip_metrics_update_drill(path, &m, 1, &err) < 0)
		fail_msg("update_drill: %s", err.msg);
}

/* --- tests ----------------------------------------------------------------- */

static void test_fresh(void **state)
{
	struct tmpdir *t = *state;
	char path[600], *text;
	struct stat st;

	snprintf(path, sizeof(path), "%s", tpath(state, "ripcord.prom"));
	drill(path, "shop", "v1", true, 12.5, 1767323045);
	text = assert_valid(path, 4);
	assert_string_equal(text,
		"# HELP ripcord_drill_duration_seconds How long the last drill "
		"of the release took.\n"
		"# TYPE ripcord_drill_duration_seconds gauge\n"
		"ripcord_drill_duration_seconds{project=\"shop\",release=\"v1\"} "
		"12.5\n"
		"# HELP ripcord_drill_last_success_timestamp_seconds When the "
		"last passing drill of the release started, in unix seconds; 0: "
		"never.\n"
		"# TYPE ripcord_drill_last_success_timestamp_seconds gauge\n"
		"ripcord_drill_last_success_timestamp_seconds{project=\"shop\","
		"release=\"v1\"} 1767323045\n"
		"# HELP ripcord_drill_success 1 when the last drill of the "
		"release passed, 0 when it failed.\n"
		"# TYPE ripcord_drill_success gauge\n"
		"ripcord_drill_success{project=\"shop\",release=\"v1\"} 1\n"
		"# HELP ripcord_rollback_ready 1 when the release's artifact "
		"verifies and its last drill passed within [drill] every.\n"
		"# TYPE ripcord_rollback_ready gauge\n"
		"ripcord_rollback_ready{project=\"shop\",release=\"v1\"} 1\n");
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* the file and its lock; no temporary file left */
	assert_int_equal(count_entries(t->path), 2);
	assert_true(rip_path_exists(tpath(state, "ripcord.prom.lock")));
}

static void test_keeps_others(void **state)
{
	char path[600], *text;

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	write_text(path, "# HELP other_thing Someone's.\n"
		"# TYPE other_thing counter\n"
		"other_thing{a=\"1\"} 7\n"
		"# TYPE lat histogram\n"
		"lat_bucket{le=\"0.5\"} 1\n"
		"lat_bucket{le=\"+Inf\"} 3\n"
		"lat_sum 4.5\n"
		"lat_count 3\n");
	drill(path, "shop", "v1", true, 1, 100);
	drill(path, "shop", "v2", false, 2, 100);
	drill(path, "blog", "v1", true, 3, 200);
	update1(path, "ripcord_rollout_step", "shop", "v2", 2);
	drill(path, "shop", "v1", false, 4, 100);
	text = assert_valid(path, 4 + 1 + 3 * 4 + 1);
	/* v1 of shop changed; v2 of shop, blog's v1 and the rest kept */
	assert_non_null(strstr(text, "ripcord_drill_success{project=\"shop\","
		"release=\"v1\"} 0\n"));
	assert_non_null(strstr(text, "ripcord_drill_duration_seconds{project="
		"\"shop\",release=\"v1\"} 4\n"));
	assert_non_null(strstr(text, "ripcord_drill_duration_seconds{project="
		"\"shop\",release=\"v2\"} 2\n"));
	assert_non_null(strstr(text, "ripcord_drill_duration_seconds{project="
		"\"blog\",release=\"v1\"} 3\n"));
	assert_non_null(strstr(text, "# TYPE ripcord_rollout_step gauge\n"
		"ripcord_rollout_step{project=\"shop\",release=\"v2\"} 2\n"));
	assert_non_null(strstr(text, "# HELP other_thing Someone's.\n"
		"# TYPE other_thing counter\nother_thing{a=\"1\"} 7\n"));
	/* the histogram stays one family, buckets in numeric order */
	assert_non_null(strstr(text, "# TYPE lat histogram\n"
		"lat_bucket{le=\"0.5\"} 1\nlat_bucket{le=\"+Inf\"} 3\n"
		"lat_count 3\nlat_sum 4.5\n"));
	/* families by name, blog before shop */
	assert_true(strstr(text, "# TYPE lat ") < strstr(text, "other_thing"));
	assert_true(strstr(text, "other_thing") < strstr(text, "ripcord_"));
	assert_true(strstr(text, "success{project=\"blog\"") <
		strstr(text, "success{project=\"shop\""));
	free(text);
}

static void test_replace_and_stable(void **state)
{
	char path[600], *a, *b;
	struct stat s1, s2;

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	update1(path, "x", "p", "r2", 1);
	update1(path, "x", "p", "r10", 2);
	update1(path, "x", "p", "r2", 3);
	a = assert_valid(path, 2);
	assert_string_equal(a, "# HELP x Help.\n# TYPE x gauge\n"
		"x{project=\"p\",release=\"r10\"} 2\n"
		"x{project=\"p\",release=\"r2\"} 3\n");
	/* the same update again: the same bytes, as a new file */
	assert_int_equal(stat(path, &s1), 0);
	update1(path, "x", "p", "r2", 3);
	b = assert_valid(path, 2);
	assert_string_equal(a, b);
	assert_int_equal(stat(path, &s2), 0);
	assert_true(s1.st_ino != s2.st_ino);
	free(a);
	free(b);
}

static void test_escaping(void **state)
{
	struct rip_err err = { 0 };
	char path[600], *text;
	struct rip_metric_sample s = { .name = "esc", .help = "a \\ b\nc",
		.labels = { { "v", "q\"uo\\te\nnl" } }, .value = 1 };

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	assert_int_equal(rip_metrics_update(path, &s, 1, &err), 0);
	text = assert_valid(path, 1);
	assert_string_equal(text, "# HELP esc a \\\\ b\\nc\n# TYPE esc gauge\n"
		"esc{v=\"q\\\"uo\\\\te\\nnl\"} 1\n");
	free(text);
	/* read back: the same series again replaces it (not a second one),
	 * and the help survives a rewrite by another family's update */
	s.value = 2;
	assert_int_equal(rip_metrics_update(path, &s, 1, &err), 0);
	update1(path, "other", "p", "r", 1);
	text = assert_valid(path, 2);
	assert_non_null(strstr(text, "# HELP esc a \\\\ b\\nc\n# TYPE esc "
		"gauge\nesc{v=\"q\\\"uo\\\\te\\nnl\"} 2\n"));
	free(text);
}

static void test_values(void **state)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 1767323045, "1767323045" }, { 0.25, "0.25" }, { 0.1, "0.1" },
		{ -3, "-3" }, { -0.0, "0" }, { 1e20, "1e+20" },
		{ 123456789012345, "123456789012345" }, { 1e-7, "1e-07" },
		{ 0.30000000000000004, "0.30000000000000004" },
	};
	char path[600], *text, want[128];

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		update1(path, "v", "p", "r", cases[i].v);
		text = assert_valid(path, 1);
		snprintf(want, sizeof(want), "} %s\n", cases[i].want);
		if (!strstr(text, want))
			fail_msg("%g: expected '%s' in\n%s", cases[i].v,
				cases[i].want, text);
		free(text);
	}
	update1(path, "v", "p", "nan", NAN);
	update1(path, "v", "p", "pinf", INFINITY);
	update1(path, "v", "p", "ninf", -INFINITY);
	text = assert_valid(path, 4);
	assert_non_null(strstr(text, "release=\"nan\"} NaN\n"));
	assert_non_null(strstr(text, "release=\"pinf\"} +Inf\n"));
	assert_non_null(strstr(text, "release=\"ninf\"} -Inf\n"));
	free(text);
	/* a third, say, survives reading back exactly */
	update1(path, "w", "p", "r", 1.0 / 3);
	update1(path, "v", "p", "r", 5);
	text = assert_valid(path, 5);
	assert_non_null(strstr(text, "w{project=\"p\",release=\"r\"} "
		"0.33333333333333331\n"));
	free(text);
}

static void test_remove(void **state)
{
	struct rip_err err = { 0 };
	const struct rip_metric_label shop_v1[] = {
		{ "project", "shop" }, { "release", "v1" } };
	char path[600], *text;
	struct stat s1, s2;
	size_t removed = 99;

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	/* a missing file: nothing removed, nothing created */
	assert_int_equal(rip_metrics_remove(&removed, path, shop_v1, 2, &err),
		0);
	assert_int_equal(removed, 0);
	assert_false(rip_path_exists(path));
	drill(path, "shop", "v1", true, 1, 1);
	drill(path, "shop", "v2", true, 1, 1);
	drill(path, "blog", "v1", true, 1, 1);
	update1(path, "only_v1", "shop", "v1", 1);
	assert_int_equal(rip_metrics_remove(&removed, path, shop_v1, 2, &err),
		0);
	assert_int_equal(removed, 5);
	text = assert_valid(path, 8);
	assert_null(strstr(text, "project=\"shop\",release=\"v1\""));
	assert_non_null(strstr(text, "project=\"blog\",release=\"v1\""));
	assert_non_null(strstr(text, "project=\"shop\",release=\"v2\""));
	/* the emptied family loses its HELP and TYPE */
	assert_null(strstr(text, "only_v1"));
	free(text);
	/* nothing left to remove: the file is not rewritten */
	assert_int_equal(stat(path, &s1), 0);
	assert_int_equal(rip_metrics_remove(&removed, path, shop_v1, 2, &err),
		0);
	assert_int_equal(removed, 0);
	assert_int_equal(stat(path, &s2), 0);
	assert_true(s1.st_ino == s2.st_ino);
	/* a single label matches across projects */
	assert_int_equal(rip_metrics_remove(&removed, path, &shop_v1[1], 1,
		&err), 0);
	assert_int_equal(removed, 4);
	assert_int_equal(rip_metrics_remove(NULL, path, shop_v1, 0, &err),
		RIP_EUSAGE);
	assert_err_contains(&err, "at least one label");
}

/* Runs fn with stderr going to a file; returns what it printed. */
static char *capture_stderr(void **state, int (*fn)(const char *),
	const char *path, int *rc)
{
	char log[600];
	int saved = dup(2), fd;

	snprintf(log, sizeof(log), "%s", tpath(state, "stderr.log"));
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	*rc = fn(path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	return slurp(log);
}

static int update_v1(const char *path)
{
	struct rip_err err = { 0 };
	struct rip_metric_sample s = { .name = "x", .help = "Help.",
		.labels = { { "release", "v1" } }, .value = 9 };

	return rip_metrics_update(path, &s, 1, &err);
}

static void test_corrupt(void **state)
{
	static const char bad[] = "# TYPE x gauge\n"
		"x{release=\"v0\"} 1\n"
		"x{release=\"v2\" 2\n"
		"y 1\n"
		"w 1 1767323045000\n"
		"x{release=\"v0\"} 5\n"
		"z 3";
	char path[600], corrupt[700], *log, *text;
	int rc;

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	snprintf(corrupt, sizeof(corrupt), "%s.corrupt", path);
	write_text(path, bad);
	log = capture_stderr(state, update_v1, path, &rc);
	assert_int_equal(rc, 0);
	/* the warning names the first bad line and the copy */
	if (!strstr(log, "m.prom:3: expected ',' or '}'") ||
		!strstr(log, "without its 4 bad lines") ||
		!strstr(log, "m.prom.corrupt"))
		fail_msg("warning: %s", log);
	free(log);
	/* the original whole, beside it; the file rewritten with what parsed */
	text = slurp(corrupt);
	assert_string_equal(text, bad);
	free(text);
	text = assert_valid(path, 3);
	assert_string_equal(text, "# HELP x Help.\n# TYPE x gauge\n"
		"x{release=\"v0\"} 1\nx{release=\"v1\"} 9\n"
		"# TYPE y untyped\ny 1\n");
	free(text);
	/* now whole again: no warning the next time */
	log = capture_stderr(state, update_v1, path, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(log, "");
	free(log);
}

static void test_check(void **state)
{
	static const struct {
		const char *text;
		const char *want;   /* NULL: valid */
	} cases[] = {
		{ "", NULL },
		{ "# just a comment\n\n  \n", NULL },
		{ "a 1\n", NULL },
		{ "a{} 1\n", NULL },
		{ "a{b=\"c\",} 1\n", NULL },
		{ "a 1 -1700000000000\n", "t:1: a timestamp (node_exporter" },
		{ "#HELP a x\n# TYPE a GAUGE\na 1\n", NULL },
		{ "# HELP a\n", NULL },
		{ "a Nan\nb -inf\nc 1e3\n", NULL },
		{ "a 1", "t:1: no line feed" },
		{ "a\n", "t:1: expected a value" },
		{ "a x\n", "t:1: the value is not a number" },
		{ "a 1 2 3\n", "t:1: unexpected text after the timestamp" },
		{ "a 1 1.5\n", "t:1: the timestamp is not an integer" },
		{ "a{b=1} 1\n", "t:1: expected '\"'" },
		{ "a{b=\"\\x\"} 1\n", "t:1: unterminated label value or bad "
			"escape" },
		{ "a{b=\"1\",b=\"2\"} 1\n", "t:1: a label appears twice" },
		{ "a{1=\"1\"} 1\n", "t:1: expected a label name" },
		{ "-a 1\n", "t:1: expected a metric name" },
		{ "a-b 1\n", "t:1: invalid character" },
		{ "a 1\na 2\n", "t:2: series 'a' again (first at line 1)" },
		{ "a 1\n# TYPE a gauge\n", "t:2: TYPE after the family's samples" },
		{ "# TYPE a gauge\n# TYPE a gauge\n", "t:2: a second TYPE" },
		{ "# HELP a x\n# HELP a y\n", "t:2: a second HELP" },
		{ "# TYPE a sideways\n", "t:1: unknown TYPE" },
		{ "# TYPE a gauge x\n", "t:1: unexpected text after the TYPE" },
		{ "# HELP a \\t\n", "t:1: bad escape in HELP" },
		{ "# HELP\n", "t:1: expected a metric name after # HELP" },
		{ "a 1\nb{c=\"\xff\"} 1\n", "t:2: not UTF-8" },
		{ "a 1\n\0b 1\n", "t:2: not UTF-8" },
		{ "a 1\r\n", "t:1: the value is not a number" },
	};
	struct rip_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		size_t len = strlen(cases[i].text);
		int rc;

		if (i == RIP_ARRAY_SIZE(cases) - 2)
			len = 9;    /* the one with a NUL in it */
		rip_err_clear(&err);
		rc = rip_metrics_check(cases[i].text, len, "t", &err);
		if (!cases[i].want && rc)
			fail_msg("case %zu: '%s' refused: %s", i, cases[i].text,
				err.msg);
		if (cases[i].want && (rc != RIP_EINTEGRITY ||
			strncmp(err.msg, cases[i].want, strlen(cases[i].want))))
			fail_msg("case %zu: got %d '%s', expected '%s'", i, rc,
				err.msg, cases[i].want);
	}
}

static void test_invalid_samples(void **state)
{
	struct rip_err err = { 0 };
	char path[600];
	const struct {
		struct rip_metric_sample s[2];
		size_t n;
		const char *want;
	} cases[] = {
		{ { { .name = "1x" } }, 1, "invalid metric name '1x'" },
		{ { { .name = NULL } }, 1, "invalid metric name '(null)'" },
		{ { { .name = "x", .type = "histogram" } }, 1,
			"type 'histogram' is not gauge" },
		{ { { .name = "x", .labels = { { "__r", "v" } } } }, 1,
			"invalid label name '__r'" },
		{ { { .name = "x", .labels = { { "a-b", "v" } } } }, 1,
			"invalid label name 'a-b'" },
		{ { { .name = "x", .labels = { { "r", "\xc0\xaf" } } } }, 1,
			"label 'r' has no UTF-8 value" },
		{ { { .name = "x", .labels = { { "r", NULL } } } }, 1,
			"label 'r' has no UTF-8 value" },
		{ { { .name = "x", .labels = { { "r", "1" }, { "r", "2" } } } },
			1, "label 'r' twice" },
		{ { { .name = "x", .help = "\xff" } }, 1, "help is not UTF-8" },
		{ { { .name = "x", .labels = { { "a", "1" }, { "b", "2" } } },
			{ .name = "x", .labels = { { "b", "2" }, { "a", "1" } } } },
			2, "the same series given twice" },
		{ { { .name = "x" }, { .name = "x", .type = "counter",
			.labels = { { "a", "1" } } } }, 2, "two types or helps" },
	};

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		rip_err_clear(&err);
		assert_int_equal(rip_metrics_update(path, cases[i].s, cases[i].n,
			&err), RIP_EUSAGE);
		assert_err_contains(&err, cases[i].want);
		assert_false(rip_path_exists(path));
	}
}

static void test_file_kinds(void **state)
{
	struct rip_err err = { 0 };
	char path[600], link[600], *text;
	struct stat st;

	/* a folder in the way */
	snprintf(path, sizeof(path), "%s", tpath(state, "dir.prom"));
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(update_v1(path), RIP_EIO);
	/* a mode set by the operator stays */
	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	update1(path, "x", "p", "r", 1);
	assert_int_equal(chmod(path, 0640), 0);
	update1(path, "x", "p", "r", 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* a symlink stays a symlink; its target is what changes */
	snprintf(link, sizeof(link), "%s", tpath(state, "link.prom"));
	assert_int_equal(symlink(path, link), 0);
	update1(link, "x", "p", "r", 3);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	text = assert_valid(path, 1);
	assert_non_null(strstr(text, "} 3\n"));
	free(text);
	/* over 16 MiB is refused, not parsed */
	snprintf(path, sizeof(path), "%s", tpath(state, "big.prom"));
	write_text(path, "");
	assert_int_equal(truncate(path, (16 << 20) + 1), 0);
	assert_int_equal(rip_metrics_update_drill(path, &(struct
		rip_drill_metrics){ "p", "r", true, 1, 1, true }, 1, &err),
		RIP_EINTEGRITY);
	assert_err_contains(&err, "larger than");
}

/* Child: updates n series of its own, then exits 0 (1 on a failure). */
static void writer(const char *path, const char *who, int n)
{
	for (int i = 0; i < n; i++) {
		char rel[32];
		struct rip_err err = { 0 };
		struct rip_metric_sample s = { .name = "c", .help = "h",
			.labels = { { "who", who }, { "release", rel } },
			.value = i };

		snprintf(rel, sizeof(rel), "r%d", i);
		if (rip_metrics_update(path, &s, 1, &err) < 0)
			_exit(1);
	}
}

static void test_two_writers(void **state)
{
	struct tmpdir *t = *state;
	char path[600], *text;
	pid_t pid[2];
	int status;

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	for (int k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0) {
			writer(path, k ? "b" : "a", 60);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* every update of both processes is there */
	text = assert_valid(path, 120);
	assert_non_null(strstr(text, "c{release=\"r59\",who=\"a\"} 59\n"));
	assert_non_null(strstr(text, "c{release=\"r59\",who=\"b\"} 59\n"));
	free(text);
	assert_int_equal(count_entries(t->path), 2);
}

/* Child: reads path until stop exists; exit 0 when every read was a whole
 * file of want samples, 1 on a bad read, 2 when it never read one. */
static void reader(const char *path, const char *stop, int want)
{
	int reads = 0;

	while (!rip_path_exists(stop)) {
		struct rip_buf b = RIP_BUF_INIT;

		if (rip_read_file(&b, path, 1 << 24, NULL) == 0) {
			char why[128] = "";

			if (check_text(b.buf, why, sizeof(why)) != want) {
				fprintf(stderr, "bad read: %s\n%s", why, b.buf);
				_exit(1);
			}
			reads++;
		}
		rip_buf_release(&b);
	}
	_exit(reads ? 0 : 2);
}

static void test_readers_see_whole_files(void **state)
{
	struct tmpdir *t = *state;
	char path[600], stop[600], rel[32];
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	snprintf(stop, sizeof(stop), "%s", tpath(state, "stop"));
	for (int i = 0; i < 50; i++) {
		snprintf(rel, sizeof(rel), "old%02d", i);
		drill(path, "shop", rel, true, i, 1000 + i);
	}
	drill(path, "shop", "new", true, 0, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		reader(path, stop, 51 * 4);
	for (int i = 0; i < 300; i++)
		drill(path, "shop", "new", i % 2, i * 0.5, 2000 + i);
	write_text(stop, "");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(assert_valid(path, 51 * 4));
	/* the file, its lock, stop: no temporary file */
	assert_int_equal(count_entries(t->path), 3);
}

/* Forks a child that holds path's lock for ms, returning once it has it. */
static pid_t hold_lock(const char *lock, long ms)
{
	int ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
		int fd = open(lock, O_RDWR | O_CREAT, 0644);

		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		nanosleep(&ts, NULL);
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static long elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void test_lock(void **state)
{
	struct rip_err err = { 0 };
	struct rip_metric_sample s = { .name = "other", .value = 1 };
	char path[600], lock[700], *before, *after;
	struct timespec a;
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	snprintf(lock, sizeof(lock), "%s.lock", path);
	/* a short hold is waited for */
	pid = hold_lock(lock, 300);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(update_v1(path), 0);
	assert_true(elapsed_ms(&a) >= 250);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* a long one is EBUSY after 5 s, and the file is untouched */
	before = slurp(path);
	pid = hold_lock(lock, 8000);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(rip_metrics_update(path, &s, 1, &err), RIP_EBUSY);
	assert_true(elapsed_ms(&a) >= 4900);
	assert_err_contains(&err, "cannot update metrics file '");
	assert_err_contains(&err, ".lock' is held by another process for "
		"over 5 s; try again");
	after = slurp(path);
	assert_string_equal(before, after);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(before);
	free(after);
}

static void test_rollback_ready(void **state)
{
	const uint64_t day = 24 * 3600 * 1000ULL;

	(void)state;
	assert_true(rip_metrics_rollback_ready(true, 1000, 1000 + 86400, day));
	assert_false(rip_metrics_rollback_ready(true, 1000, 1001 + 86400, day));
	assert_false(rip_metrics_rollback_ready(false, 1000, 1000, day));
	assert_false(rip_metrics_rollback_ready(true, 0, 1000, day));
	/* a clock that went back does not make it stale */
	assert_true(rip_metrics_rollback_ready(true, 2000, 1000, day));
}

/* The python3 that has prometheus_client: the one on PATH, else Debian's
 * (python3-prometheus-client installs for /usr/bin/python3 only, which a
 * pyenv or venv python3 on PATH does not see); NULL: none. */
static const char *python;

static bool python_has_parser(const char *exe)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0) {
		const char *argv[] = { exe, "-c", "import prometheus_client",
			NULL };
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp(exe, (char *const *)argv);
		_exit(127);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		WEXITSTATUS(status) == 0;
}

/* prometheus_client's parser reads what we write, escapes and NaN too. */
static void test_python_parser(void **state)
{
	static const char script[] =
		"import sys\n"
		"from prometheus_client.parser import text_string_to_metric_families\n"
		"fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))\n"
		"n = sum(len(f.samples) for f in fams)\n"
		"assert n == int(sys.argv[2]), n\n"
		"assert any(s.labels.get('release') == 'v\"1\\\\\\n'\n"
		"    for f in fams for s in f.samples)\n";
	char path[600];
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s", tpath(state, "m.prom"));
	drill(path, "shop", "v\"1\\\n", true, 0.5, 1);
	update1(path, "v", "p", "nan", NAN);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[] = { python, "-c", script, path, "5", NULL };

		execvp(python, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The schema gauges: one series per target and family, a phase not
 * known writes nothing, a target's series is replaced on the next run. */
static void test_schema(void **state)
{
	struct rip_schema_phase lossy = { .release = "v3", .known = true,
		.lossless = false, .compatible = true, .contract_pending = 0,
		.nahead = 0, .contract_since = 1767323045 };
	struct rip_schema_phase fine = { .release = "v2", .known = true,
		.lossless = true, .compatible = false, .contract_pending = 2,
		.nahead = 1 };
	struct rip_schema_phase unknown = { .release = "v1", .lossless = true };
	struct rip_schema_metrics m[] = { { "web-1", &lossy },
		{ "web-2", &fine }, { "web-3", &unknown } };
	struct rip_err err = { 0 };
	char path[600], *text;

	snprintf(path, sizeof(path), "%s", tpath(state, "s.prom"));
	assert_int_equal(rip_metrics_update_schema(path, "shop", m, 3, &err), 0);
	text = assert_valid(path, 10);
	assert_non_null(strstr(text, "# TYPE ripcord_rollback_lossless gauge\n"));
	assert_non_null(strstr(text, "# TYPE ripcord_rollback_compatible "
		"gauge\n"));
	assert_non_null(strstr(text, "ripcord_rollback_compatible{project="
		"\"shop\",target=\"web-1\"} 1\n"));
	/* keep across a contract: lossless, but not compatible */
	assert_non_null(strstr(text, "ripcord_rollback_compatible{project="
		"\"shop\",target=\"web-2\"} 0\n"));
	assert_non_null(strstr(text, "ripcord_schema_contract_applied_timestamp_"
		"seconds{project=\"shop\",target=\"web-1\"} 1767323045\n"));
	assert_non_null(strstr(text, "ripcord_rollback_lossless{project=\"shop\","
		"target=\"web-1\"} 0\n"));
	assert_non_null(strstr(text, "ripcord_rollback_lossless{project=\"shop\","
		"target=\"web-2\"} 1\n"));
	assert_non_null(strstr(text, "ripcord_schema_contract_pending{project="
		"\"shop\",target=\"web-2\"} 2\n"));
	assert_non_null(strstr(text, "ripcord_schema_ahead{project=\"shop\","
		"target=\"web-2\"} 1\n"));
	assert_null(strstr(text, "web-3"));
	free(text);
	lossy.lossless = true;
	assert_int_equal(rip_metrics_update_schema(path, "shop", m, 1, &err), 0);
	text = assert_valid(path, 10);
	assert_non_null(strstr(text, "ripcord_rollback_lossless{project=\"shop\","
		"target=\"web-1\"} 1\n"));
	free(text);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fresh),
		T(test_keeps_others),
		T(test_replace_and_stable),
		T(test_escaping),
		T(test_values),
		T(test_remove),
		T(test_corrupt),
		cmocka_unit_test(test_check),
		T(test_invalid_samples),
		T(test_file_kinds),
		T(test_two_writers),
		T(test_readers_see_whole_files),
		T(test_lock),
		cmocka_unit_test(test_rollback_ready),
		T(test_schema),
		T(test_python_parser),    /* last: left out without python */
	};
	size_t n = RIP_ARRAY_SIZE(tests);

	/* cmocka prints skip() as "not ok # SKIP", which meson counts as a
	 * failure (see test_fingerprint.c) */
	if (python_has_parser("python3"))
		python = "python3";
	else if (python_has_parser("/usr/bin/python3"))
		python = "/usr/bin/python3";
	if (!python) {
		printf("# SKIP 1 test: python3 has no prometheus_client (Debian: "
			"python3-prometheus-client)\n");
		fflush(stdout);
		n--;
	}
	return _cmocka_run_group_tests("metrics", tests, n, NULL, NULL);
}
