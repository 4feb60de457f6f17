/* SPDX-License-Identifier: MIT */
/*
 * test_dora.c: the DORA figures (dora.c) against values worked out by
 * hand, from a real state.db filled through the journal and state APIs
 * (times then set with SQL, as the APIs stamp the clock): deploys per day,
 * the median lead time, the failure rate with rollbacks found through the
 * switch journal, the time to restore, rollouts, the window, commands that
 * were refused, command lines with global options and quotes, and no data
 * at all. Then the report page (report.c): escaping (a release id
 * "<script>" cannot inject), no external reference, the sections, and
 * the same bytes for the same data.
 */
#include "helpers.h"

#include <math.h>

#include "ripcord/config.h"
#include "ripcord/dora.h"
#include "ripcord/drill.h"
#include "ripcord/journal.h"
#include "ripcord/report.h"
#include "ripcord/state.h"
#include "ripcord/store.h"
#include "json_internal.h"
#include "state_internal.h"

#define NOW 1800000000LL   /* 2027-01-15 08:00 UTC */
#define DAY 86400LL
#define HOUR 3600LL

/* ---- fixtures ---------------------------------------------------------- */

struct fx {
	struct tmpdir t;          /* first: tmpdir_teardown frees the struct */
	struct rip_store *store;
	struct rip_state *st;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct rip_err err = { 0 };
	char dir[300];

	snprintf(f->t.path, sizeof(f->t.path), "/tmp/ripcord-test-XXXXXX");
	if (!mkdtemp(f->t.path)) {
		free(f);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/store", f->t.path);
	if (rip_store_open(&f->store, dir, true, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		rmdir(f->t.path);
		free(f);
		return -1;
	}
	f->st = f->store->state;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	rip_store_free(f->store);
	return tmpdir_teardown(state);
}

static void sql(struct rip_state *st, const char *text)
{
	struct rip_err err = { 0 };

	if (rip_state_exec(st, text, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
}

static void release(struct rip_state *st, const char *id, int64_t created)
{
	struct rip_release_rec r = { .id = (char *)id, .project = "shop",
		.commit = "c0ffee", .tree = "7ree", .created = created,
		.cut_at = created + 60, .size = 1, .sha256 = "00" };
	struct rip_err err = { 0 };

	if (rip_state_release_add(st, &r, &err) < 0)
		fail_msg("%s", err.msg);
}

/* An audit entry for argv that ended at at with exit_code. */
static void audit_argv(struct rip_state *st, int argc, char *const *argv,
	int exit_code, int64_t at)
{
	struct rip_err err = { 0 };
	char *q;

	if (rip_audit_append(st, argc, argv, exit_code, exit_code ? "failed: "
			"it broke" : NULL, 0.5, &err) < 0)
		fail_msg("%s", err.msg);
	q = rip_xasprintf("UPDATE audit SET at = %lld WHERE seq = (SELECT "
		"max(seq) FROM audit)", (long long)at);
	sql(st, q);
	free(q);
}

/* The same for a command line of words separated by single spaces. */
static void audit(struct rip_state *st, const char *line, int exit_code,
	int64_t at)
{
	struct rip_strlist w = { 0 };
	char *copy = rip_xstrdup(line), *p = copy, *sp;

	while ((sp = strchr(p, ' '))) {
		*sp = '\0';
		rip_strlist_push(&w, p);
		p = sp + 1;
	}
	rip_strlist_push(&w, p);
	audit_argv(st, (int)w.n, w.v, exit_code, at);
	rip_strlist_release(&w);
	free(copy);
}

static void operation(struct rip_state *st, const char *op,
	const char *rel, const char *result, int64_t started, int64_t finished)
{
	struct rip_err err = { 0 };
	int64_t seq;
	char *q;

	if (rip_op_begin(&seq, st, op, rel, &err) < 0 ||
	    rip_op_end(st, seq, result, &err) < 0)
		fail_msg("%s", err.msg);
	q = rip_xasprintf("UPDATE operations SET started = %lld, finished = "
		"%lld WHERE seq = %lld", (long long)started, (long long)finished,
		(long long)seq);
	sql(st, q);
	free(q);
}

static void switched(struct rip_state *st, const char *target,
	const char *rel, const char *previous, const char *op, int64_t at)
{
	struct rip_err err = { 0 };
	int64_t seq;
	char *q;

	if (rip_journal_begin(&seq, st, target, rel, previous, op, false,
			&err) < 0 || rip_journal_end(st, seq, "ok", &err) < 0)
		fail_msg("%s", err.msg);
	q = rip_xasprintf("UPDATE switches SET started = %lld, finished = %lld "
		"WHERE seq = %lld", (long long)at, (long long)at, (long long)seq);
	sql(st, q);
	free(q);
}

/* `ripcord deploy rel` ending at at: the audit entry, its operation and,
 * when it worked, the switch of target a. */
static void deploy(struct rip_state *st, const char *rel, int64_t at,
	int exit_code)
{
	char *line = rip_xasprintf("ripcord deploy %s", rel);

	audit(st, line, exit_code, at);
	operation(st, "deploy", rel, exit_code ? "failed: it broke" : "ok",
		at - 1, at);
	if (!exit_code)
		switched(st, "a", rel, NULL, "deploy", at - 1);
	free(line);
}

/* `ripcord rollback` (no --to) ending at at that took target a from left
 * to entered. */
static void rollback(struct rip_state *st, const char *left,
	const char *entered, int64_t at, int exit_code)
{
	audit(st, "ripcord rollback", exit_code, at);
	operation(st, "rollback", entered, exit_code ? "failed: probe" : "ok",
		at - 1, at);
	switched(st, "a", entered, left, "rollback", at - 1);
}

static void read_ok(struct rip_dora *d, struct rip_state *st, int64_t now,
	unsigned days)
{
	struct rip_err err = { 0 };

	if (rip_dora_read(d, st, now, days, &err) < 0)
		fail_msg("%s", err.msg);
}

#define assert_near(a, b) do { \
	double a_ = (a), b_ = (b); \
	if (fabs(a_ - b_) > 1e-9) \
		fail_msg("%s is %.9g, want %.9g", #a, a_, b_); \
} while (0)

/* ---- the figures ------------------------------------------------------- */

static void test_no_data(void **state)
{
	struct fx *f = *state;
	struct rip_dora d;

	read_ok(&d, f->st, NOW, 30);
	assert_int_equal(d.n_events, 0);
	assert_int_equal(d.changes, 0);
	assert_true(d.deployment_frequency.known);
	assert_near(d.deployment_frequency.value, 0);
	assert_false(d.lead_time.known);
	assert_false(d.change_failure_rate.known);
	assert_false(d.time_to_restore.known);
	assert_int_equal(d.since, NOW - 30 * DAY);
	rip_dora_release(&d);

	/* no store at all */
	read_ok(&d, NULL, NOW, 7);
	assert_int_equal(d.days, 7);
	assert_false(d.change_failure_rate.known);
	rip_dora_release(&d);

	/* releases but no deploy: still n/a, not zero */
	release(f->st, "v1", NOW - DAY);
	audit(f->st, "ripcord cut --id v1", 0, NOW - DAY);
	read_ok(&d, f->st, NOW, 30);
	assert_false(d.lead_time.known);
	assert_false(d.change_failure_rate.known);
	assert_int_equal(d.n_events, 0);
	rip_dora_release(&d);
}

static void test_frequency_and_lead_time(void **state)
{
	struct fx *f = *state;
	struct rip_dora d;
	struct rip_err err = { 0 };
	struct rip_dora_input none = { 0 };

	/* v0 went live 45 days ago, outside the window; v1 45 days ago too,
	 * redeployed inside it: both count as deploys only when in the
	 * window, and neither as a lead time */
	release(f->st, "v0", NOW - 46 * DAY);
	release(f->st, "v1", NOW - 45 * DAY - HOUR);
	release(f->st, "v2", NOW - 10 * DAY - HOUR);       /* lead 1 h */
	release(f->st, "v3", NOW - 5 * DAY - 2 * HOUR);    /* lead 2 h */
	release(f->st, "v4", NOW - 2 * DAY - 600);         /* lead 10 min */
	release(f->st, "v5", NOW - DAY);                   /* never deployed */
	deploy(f->st, "v0", NOW - 45 * DAY, 0);
	deploy(f->st, "v1", NOW - 45 * DAY + 60, 0);
	deploy(f->st, "v1", NOW - 20 * DAY, 0);
	deploy(f->st, "v2", NOW - 10 * DAY, 0);
	deploy(f->st, "v3", NOW - 5 * DAY, 0);
	deploy(f->st, "v4", NOW - 2 * DAY, 0);
	deploy(f->st, "v4", NOW - DAY, 0);             /* a redeploy */
	deploy(f->st, "v5", NOW + HOUR, 0);            /* after now: unseen */
	read_ok(&d, f->st, NOW, 30);
	assert_int_equal(d.n_events, 7);
	assert_int_equal(d.changes, 5);
	assert_int_equal(d.successful, 5);
	assert_near(d.deployment_frequency.value, 5.0 / 30);
	assert_int_equal(d.deployment_frequency.samples, 5);
	assert_true(d.lead_time.known);
	assert_int_equal(d.lead_time.samples, 3);
	assert_near(d.lead_time.value, (double)HOUR);   /* of 10 min, 1 h, 2 h */
	assert_true(d.change_failure_rate.known);
	assert_near(d.change_failure_rate.value, 0);
	assert_false(d.time_to_restore.known);
	assert_string_equal(d.events[6].release, "v4");
	assert_false(d.events[0].in_window);
	assert_true(d.events[2].in_window);
	rip_dora_release(&d);

	/* a week: v4 twice (its lead 10 min) and v3 (2 h): an even count
	 * takes the mean of the middle two */
	read_ok(&d, f->st, NOW, 7);
	assert_int_equal(d.changes, 3);
	assert_near(d.deployment_frequency.value, 3.0 / 7);
	assert_int_equal(d.lead_time.samples, 2);
	assert_near(d.lead_time.value, (600.0 + 2 * HOUR) / 2);
	rip_dora_release(&d);

	/* the window is checked */
	assert_int_equal(rip_dora_compute(&d, &none, NOW, 0, &err), RIP_EUSAGE);
	assert_int_equal(rip_dora_compute(&d, &none, NOW, RIP_DORA_MAX_DAYS + 1,
		&err), RIP_EUSAGE);
}

/*
 * Five changes: v1 fine; v2 rolled back after 10 min; v3 failed and
 * rolled back after 30 min; v4 failed and was fixed forward by deploying
 * v4 again (no restore). Commands refused before they began count for
 * nothing. Failure rate 3/5, time to restore the median of 10 and 30 min.
 */
static void test_failures_and_restores(void **state)
{
	struct fx *f = *state;
	int64_t t = NOW - 10 * DAY;
	struct rip_dora d;

	release(f->st, "v1", t - DAY);
	release(f->st, "v2", t - DAY);
	release(f->st, "v3", t - DAY);
	release(f->st, "v4", t - DAY);
	deploy(f->st, "v1", t, 0);
	deploy(f->st, "v2", t + DAY, 0);
	rollback(f->st, "v2", "v1", t + DAY + 600, 0);
	deploy(f->st, "v3", t + 2 * DAY, 1);
	rollback(f->st, "v3", "v1", t + 2 * DAY + 1800, 0);
	audit(f->st, "ripcord deploy nope", 2, t + 3 * DAY);    /* refused */
	deploy(f->st, "v4", t + 4 * DAY, 1);
	deploy(f->st, "v4", t + 5 * DAY, 0);
	/* refused while planning: exit 1 but no operation; and busy */
	audit(f->st, "ripcord rollback", 1, t + 5 * DAY + 60);
	audit(f->st, "ripcord rollback", 4, t + 5 * DAY + 90);
	read_ok(&d, f->st, NOW, 30);
	assert_int_equal(d.changes, 5);
	assert_int_equal(d.successful, 3);       /* v1, v2 (it was live), v4 */
	assert_int_equal(d.failures, 3);
	assert_int_equal(d.restored, 2);
	assert_int_equal(d.rollbacks, 2);
	assert_near(d.change_failure_rate.value, 3.0 / 5);
	assert_int_equal(d.change_failure_rate.samples, 5);
	assert_near(d.time_to_restore.value, (600.0 + 1800) / 2);
	assert_int_equal(d.time_to_restore.samples, 2);
	assert_near(d.deployment_frequency.value, 3.0 / 30);
	assert_int_equal(d.n_events, 7);
	/* the rollback's releases come from its records */
	assert_int_equal(d.events[2].kind, RIP_DORA_ROLLBACK);
	assert_string_equal(d.events[2].release, "v1");
	assert_string_equal(d.events[2].left, "v2");
	assert_int_equal(d.events[2].change, 2);
	assert_true(d.events[1].rolled_back);
	assert_int_equal(d.events[1].restored_at, t + DAY + 600);
	assert_false(d.events[3].rolled_back);   /* failed on its own */
	assert_true(d.events[3].failed);
	assert_true(d.events[5].failed);
	assert_int_equal(d.events[5].restored_at, 0);
	assert_false(d.events[6].failed);        /* not hit by refused ones */
	rip_dora_release(&d);
}

/* A rollback's switches say what it left: one that left another release
 * than the change's (a second, older target) does not blame it. */
static void test_rollback_away_by_journal(void **state)
{
	struct fx *f = *state;
	int64_t t = NOW - DAY;
	struct rip_dora d;

	release(f->st, "v1", t - DAY);
	release(f->st, "v2", t - DAY);
	deploy(f->st, "v2", t, 0);
	/* rollback --to v1, but what it switched away from was v0 (target b
	 * never got v2): v2 is not the release it left */
	audit(f->st, "ripcord rollback --to v1", 0, t + 100);
	operation(f->st, "rollback", "v1", "ok", t + 99, t + 100);
	switched(f->st, "b", "v1", "v0", "rollback", t + 99);
	read_ok(&d, f->st, NOW, 30);
	assert_int_equal(d.n_events, 2);
	assert_string_equal(d.events[1].left, "v0");
	assert_false(d.events[0].failed);
	assert_near(d.change_failure_rate.value, 0);
	rip_dora_release(&d);

	/* a rollback that switched nothing but was not to v2 does */
	audit(f->st, "ripcord rollback --to v1", 0, t + 200);
	operation(f->st, "rollback", "v1", "ok", t + 199, t + 200);
	read_ok(&d, f->st, NOW, 30);
	assert_null(d.events[2].left);
	assert_true(d.events[0].failed);
	assert_int_equal(d.events[0].restored_at, t + 200);
	assert_near(d.time_to_restore.value, 200);
	rip_dora_release(&d);
}

/* Rollouts, before they record operations: start, promote, abort. */
static void test_rollouts(void **state)
{
	struct fx *f = *state;
	int64_t t = NOW - 3 * DAY;
	struct rip_dora d;

	release(f->st, "v5", t - HOUR);
	release(f->st, "v6", t - HOUR);
	audit(f->st, "ripcord rollout start v5 --steps 10%,100% --manual", 0, t);
	audit(f->st, "ripcord rollout status", 0, t + 50);
	audit(f->st, "ripcord rollout promote", 0, t + 100);
	audit(f->st, "ripcord rollout start --bake 5m v6", 0, t + DAY);
	audit(f->st, "ripcord rollout abort", 0, t + DAY + 300);
	audit(f->st, "ripcord rollout start v7", 4, t + 2 * DAY);   /* busy */
	read_ok(&d, f->st, NOW, 30);
	assert_int_equal(d.n_events, 4);
	assert_int_equal(d.changes, 2);
	assert_int_equal(d.successful, 1);
	assert_int_equal(d.failures, 1);
	assert_string_equal(d.events[0].release, "v5");
	assert_int_equal(d.events[0].live_at, t + 100);
	assert_string_equal(d.events[2].release, "v6");
	assert_int_equal(d.events[2].live_at, 0);
	assert_int_equal(d.events[3].kind, RIP_DORA_ABORT);
	assert_near(d.change_failure_rate.value, 0.5);
	assert_near(d.time_to_restore.value, 300);
	assert_int_equal(d.lead_time.samples, 1);
	assert_near(d.lead_time.value, HOUR + 100);
	rip_dora_release(&d);
}

/* Global options, quoting, --dry-run and a release only the command line
 * names (no operation: an older store). */
static void test_command_lines(void **state)
{
	struct fx *f = *state;
	char *const quoted[] = { "/usr/bin/ripcord", "-qC", "/srv/app",
		"--json", "deploy", "--target", "web 1", "v 8", NULL };
	struct rip_dora d;

	audit_argv(f->st, 8, quoted, 0, NOW - 300);
	audit(f->st, "ripcord deploy --dry-run v9", 0, NOW - 200);
	audit(f->st, "ripcord -c x.ini deploy --target=web-2 v10", 0, NOW - 100);
	read_ok(&d, f->st, NOW, 1);
	assert_int_equal(d.n_events, 2);
	assert_string_equal(d.events[0].release, "v 8");
	assert_string_equal(d.events[0].command,
		"ripcord -qC /srv/app --json deploy --target 'web 1' 'v 8'");
	assert_string_equal(d.events[1].release, "v10");
	assert_near(d.deployment_frequency.value, 2);
	rip_dora_release(&d);
}

static void test_json(void **state)
{
	struct fx *f = *state;
	struct rip_dora d;
	json_t *j;

	deploy(f->st, "v1", NOW - 100, 0);
	read_ok(&d, f->st, NOW, 30);
	j = rip_dora_json(&d);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "lead_time_seconds")));
	assert_true(json_is_null(json_object_get(j,
		"time_to_restore_seconds")));
	assert_near(json_real_value(json_object_get(j,
		"change_failure_rate")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "deploys")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "window_days")),
		30);
	json_decref(j);
	rip_dora_release(&d);
}

static void test_format_duration(void **state)
{
	char out[32];

	(void)state;
	rip_dora_format_duration(out, sizeof(out), 42);
	assert_string_equal(out, "42 s");
	rip_dora_format_duration(out, sizeof(out), 720);
	assert_string_equal(out, "12 min");
	rip_dora_format_duration(out, sizeof(out), 3.5 * HOUR);
	assert_string_equal(out, "3.5 h");
	rip_dora_format_duration(out, sizeof(out), 4.25 * DAY);
	assert_string_equal(out, "4.2 days");
	rip_dora_format_duration(out, sizeof(out), -1);
	assert_string_equal(out, "n/a");
}

/* ---- the report -------------------------------------------------------- */

#define EVIL "<script>alert(1)</script>"

static struct rip_config *config(struct fx *f)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };
	char *text = rip_xasprintf("[project]\nname = shop<b>\nstore = "
		"%s/store\n[drill]\nevery = 24h\n", f->t.path);

	if (rip_config_parse(&cfg, text, "ripcord.ini", f->t.path, &err) < 0)
		fail_msg("%s", err.msg);
	free(text);
	return cfg;
}

static void drill(struct rip_state *st, const char *rel, int64_t started,
	double seconds, const char *result, const char *detail)
{
	struct rip_drill_rec r = { .release = (char *)rel, .started = started,
		.seconds = seconds, .result = (char *)result,
		.detail = (char *)detail };
	struct rip_err err = { 0 };
	int64_t seq;

	if (rip_drill_record(&seq, st, &r, &err) < 0)
		fail_msg("%s", err.msg);
}

static void page(struct rip_buf *out, struct fx *f, int64_t now)
{
	struct rip_config *cfg = config(f);
	struct rip_err err = { 0 };
	struct rip_report r;

	if (rip_report_load(&r, cfg, f->store, now, 30, &err) < 0)
		fail_msg("%s", err.msg);
	rip_report_html(out, &r);
	rip_report_release(&r);
	rip_config_free(cfg);
}

static void assert_lacks(const char *html, const char *needle)
{
	if (strstr(html, needle))
		fail_msg("the page holds '%s':\n%s", needle, strstr(html, needle));
}

static void assert_has(const char *html, const char *needle)
{
	if (!strstr(html, needle))
		fail_msg("the page lacks '%s'", needle);
}

static size_t count(const char *html, const char *needle)
{
	size_t n = 0;

	for (const char *p = html; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void fill(struct fx *f)
{
	char *artifact = rip_xasprintf("%s/store/artifacts/v2.tar.zst",
		f->t.path);

	write_text(artifact, "not really an artifact");
	free(artifact);
	release(f->st, "v1", NOW - 9 * DAY);
	release(f->st, "v2", NOW - 3 * DAY);
	release(f->st, EVIL, NOW - 2 * DAY);
	deploy(f->st, "v1", NOW - 8 * DAY, 0);
	deploy(f->st, "v2", NOW - 2 * DAY, 0);
	rollback(f->st, "v2", "v1", NOW - 2 * DAY + 900, 0);
	deploy(f->st, EVIL, NOW - DAY, 1);
	drill(f->st, "v1", NOW - 5 * DAY, 1.5, RIP_DRILL_PASS, NULL);
	drill(f->st, "v2", NOW - 4 * DAY, 2.5, RIP_DRILL_FAIL,
		"down of 0003 incomplete\"><img src=x onerror=alert(1)>");
	drill(f->st, "v2", NOW - HOUR, 2.0, RIP_DRILL_PASS, NULL);
	drill(f->st, EVIL, NOW - 2 * HOUR, 3.0, RIP_DRILL_INTEGRITY, EVIL);
}

static void test_report_escapes(void **state)
{
	struct fx *f = *state;
	struct rip_buf html = RIP_BUF_INIT;

	fill(f);
	page(&html, f, NOW);
	/* nothing from the data becomes markup */
	assert_lacks(html.buf, "<script");
	assert_lacks(html.buf, "<img");
	assert_lacks(html.buf, "<b>");
	assert_has(html.buf, "&lt;script&gt;alert(1)&lt;/script&gt;");
	assert_has(html.buf, "shop&lt;b&gt;");
	assert_has(html.buf, "incomplete&quot;&gt;&lt;img src=x");
	/* self-contained */
	assert_lacks(html.buf, "http://");
	assert_lacks(html.buf, "https://");
	assert_lacks(html.buf, "@import");
	assert_lacks(html.buf, "url(");
	assert_lacks(html.buf, " src=\"");
	assert_lacks(html.buf, " href=");
	rip_buf_release(&html);
}

static void test_report_sections(void **state)
{
	struct fx *f = *state;
	struct rip_buf html = RIP_BUF_INIT;

	fill(f);
	page(&html, f, NOW);
	assert_true(strncmp(html.buf, "<!DOCTYPE html>\n", 16) == 0);
	assert_has(html.buf, "</html>\n");
	assert_has(html.buf, "<section id=\"summary\">");
	assert_has(html.buf, "<section id=\"dora\">");
	assert_has(html.buf, "<section id=\"drills\">");
	assert_has(html.buf, "<section id=\"readiness\">");
	assert_has(html.buf, "<section id=\"history\">");
	assert_has(html.buf, "2027-01-15 08:00 UTC");
	/* per day, drills, readiness, timeline */
	assert_int_equal(count(html.buf, "<svg "), 4);
	assert_int_equal(count(html.buf, "<circle class=\"drill pass\""), 2);
	assert_int_equal(count(html.buf, "<path class=\"drill fail\""), 1);
	assert_int_equal(count(html.buf, "<path class=\"drill integrity\""), 1);
	assert_int_equal(count(html.buf, "<g class=\"event deploy"), 3);
	assert_int_equal(count(html.buf, "<g class=\"event rollback ok\""), 1);
	assert_int_equal(count(html.buf, "<line class=\"restore\""), 1);
	/* the figures: 3 changes, 2 failed (v2 rolled back, EVIL failed) */
	assert_has(html.buf, "2 of 3 changes");
	assert_has(html.buf, "67%");
	assert_has(html.buf, ">15 min<");
	/* readiness: v2 (artifact, fresh pass) is the only one ready */
	assert_has(html.buf, "1 of 3");
	assert_has(html.buf, "no: its artifact is not in the store");
	assert_int_equal(count(html.buf, "<rect class=\"age fresh\""), 1);
	rip_buf_release(&html);
}

static void test_report_deterministic(void **state)
{
	struct fx *f = *state;
	struct rip_buf a = RIP_BUF_INIT, b = RIP_BUF_INIT;

	fill(f);
	page(&a, f, NOW);
	page(&b, f, NOW);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	rip_buf_reset(&b);
	page(&b, f, NOW + 60);
	assert_true(a.len != b.len || memcmp(a.buf, b.buf, a.len));
	rip_buf_release(&a);
	rip_buf_release(&b);
}

static void test_report_empty(void **state)
{
	struct fx *f = *state;
	struct rip_config *cfg = config(f);
	struct rip_buf html = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	struct rip_report r;

	assert_int_equal(rip_report_load(&r, cfg, NULL, NOW, 30, &err), 0);
	rip_report_html(&html, &r);
	assert_has(html.buf, "No drills in the last 30 days");
	assert_has(html.buf, "No releases in the store");
	assert_has(html.buf, "No deploys, rollouts or rollbacks");
	assert_int_equal(count(html.buf, ">n/a<"), 3);
	assert_int_equal(count(html.buf, "<svg "), 1);
	rip_report_release(&r);
	rip_config_free(cfg);
	rip_buf_release(&html);
}

static void test_html_escape(void **state)
{
	struct rip_buf b = RIP_BUF_INIT;

	(void)state;
	rip_html_escape(&b, "a&b<c>d\"e'f\tg\x01h\xff" "i\xc3\xa9j\xe2\x82");
	assert_string_equal(b.buf, "a&amp;b&lt;c&gt;d&quot;e&#39;f\tg\xef\xbf\xbd"
		"h\xef\xbf\xbdi\xc3\xa9j\xef\xbf\xbd\xef\xbf\xbd");
	rip_buf_reset(&b);
	rip_html_escape(&b, NULL);
	assert_int_equal(b.len, 0);
	rip_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_data, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_frequency_and_lead_time,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_failures_and_restores,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rollback_away_by_journal,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rollouts, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_command_lines, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_json, fx_setup, fx_teardown),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test_setup_teardown(test_report_escapes, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_report_sections, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(test_report_deterministic,
			fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_report_empty, fx_setup,
			fx_teardown),
		cmocka_unit_test(test_html_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
