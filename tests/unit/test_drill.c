/* SPDX-License-Identifier: MIT */
/*
 * test_drill.c: the record of drills in state.db (history, the last one,
 * the last passing one), --due's rule with its slack, and the rollout gate
 * ([rollout] require_drill). Running drills end to end is drill.sh's;
 * here, that a drill reads its artifact once: a real release is cut from
 * a git repository with a migration, and inotify counts the opens of its
 * artifact while it is drilled (integrity, fidelity, round trip). And the
 * paths of its round trip (issue 13, finding 3): from where a rollback
 * goes on each target by the switch journal, and from its cut-parent.
 */
#include "helpers.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/wait.h>

#include "ripcord/config.h"
#include "ripcord/drill.h"
#include "ripcord/journal.h"
#include "ripcord/release.h"
#include "ripcord/store.h"

static struct rip_config *config(const char *extra)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };
	char text[512];

	snprintf(text, sizeof(text), "[project]\nname = t\n%s", extra);
	if (rip_config_parse(&cfg, text, "ripcord.ini", "/tmp", &err) < 0)
		fail_msg("%s", err.msg);
	return cfg;
}

static void add(struct rip_store *s, const char *release, int64_t started,
	const char *result)
{
	struct rip_drill_rec r = { .release = (char *)release,
		.started = started, .seconds = 1.5, .result = (char *)result,
		.detail = strcmp(result, RIP_DRILL_PASS) ? (char *)"broke" : NULL,
		.steps = (char *)"[]" };
	struct rip_err err = { 0 };
	int64_t seq;

	assert_int_equal(rip_drill_record(&seq, s->state, &r, &err), 0);
	assert_true(seq > 0);
}

static void test_record_and_gate(void **state)
{
	struct tmpdir *t = *state;
	struct rip_config *cfg = config("");
	struct rip_drill_rec *v, last;
	struct rip_err err = { 0 };
	struct rip_store *s;
	size_t n;

	assert_int_equal(rip_store_open(&s, t->path, true, &err), 0);
	/* never drilled: the gate says how to get through it */
	assert_int_equal(rip_drill_gate(cfg, s, "v1", &err), RIP_EFAIL);
	assert_non_null(strstr(err.msg, "never drilled: run 'ripcord drill v1'"));

	add(s, "v1", 1000, RIP_DRILL_PASS);
	add(s, "v2", 1100, RIP_DRILL_PASS);
	add(s, "v1", 1200, RIP_DRILL_FAIL);
	assert_int_equal(rip_drill_history(&v, &n, s->state, "v1", 0, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].result, RIP_DRILL_FAIL);   /* newest first */
	assert_string_equal(v[0].detail, "broke");
	assert_int_equal(v[1].started, 1000);
	rip_drill_recs_free(v, n);
	assert_int_equal(rip_drill_history(&v, &n, s->state, NULL, 2, &err), 0);
	assert_int_equal(n, 2);
	rip_drill_recs_free(v, n);

	assert_int_equal(rip_drill_last(&last, s->state, "v1", false, &err), 0);
	assert_string_equal(last.result, RIP_DRILL_FAIL);
	rip_drill_rec_release(&last);
	assert_int_equal(rip_drill_last(&last, s->state, "v1", true, &err), 0);
	assert_int_equal(last.started, 1000);
	rip_drill_rec_release(&last);
	assert_int_equal(rip_drill_last(&last, s->state, "v9", false, &err), 0);
	assert_int_equal(last.seq, 0);

	/* the gate looks at the release's own last drill */
	assert_int_equal(rip_drill_gate(cfg, s, "v2", &err), 0);
	assert_int_equal(rip_drill_gate(cfg, s, "v1", &err), RIP_EFAIL);
	assert_non_null(strstr(err.msg, "failed its last drill"));
	assert_non_null(strstr(err.msg, "broke"));
	rip_config_free(cfg);
	cfg = config("[rollout]\nrequire_drill = no\n");
	assert_int_equal(rip_drill_gate(cfg, s, "v1", &err), 0);
	assert_int_equal(rip_drill_gate(cfg, s, "never", &err), 0);
	rip_config_free(cfg);
	rip_store_free(s);
}

static void test_due(void **state)
{
	struct tmpdir *t = *state;
	struct rip_config *cfg = config("[drill]\nevery = 24h\n");
	struct rip_err err = { 0 };
	struct rip_store *s;
	int64_t now = 10 * 86400;
	bool due;

	assert_int_equal(rip_store_open(&s, t->path, true, &err), 0);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1", now, &err), 0);
	assert_true(due);                       /* never drilled */
	add(s, "v1", now - 3600, RIP_DRILL_PASS);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1", now, &err), 0);
	assert_false(due);                      /* an hour ago */
	add(s, "v1", now - 60, RIP_DRILL_FAIL);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1", now, &err), 0);
	assert_false(due);                      /* a failure does not reset it */
	add(s, "v2", now - 86400 + 30, RIP_DRILL_PASS);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v2", now, &err), 0);
	assert_true(due);                       /* a day less 30 s: the slack */
	add(s, "v3", now - 22 * 3600, RIP_DRILL_PASS);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v3", now, &err), 0);
	assert_false(due);                      /* 22 h: not yet */
	add(s, "v4", now + 3600, RIP_DRILL_PASS);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v4", now, &err), 0);
	assert_true(due);                       /* from the future: redo */
	rip_config_free(cfg);
	rip_store_free(s);
}

static void cut_rec(struct rip_store *s, const char *id, const char *parent)
{
	struct rip_release_rec r = { .id = (char *)id, .project = "t",
		.commit = "c0ffee", .tree = "7ree", .parent = (char *)parent,
		.created = 1000, .cut_at = 1000, .size = 1, .sha256 = "00" };
	struct rip_err err = { 0 };

	if (rip_state_release_add(s->state, &r, &err) < 0)
		fail_msg("%s", err.msg);
}

static void switched(struct rip_store *s, const char *target,
	const char *rel, const char *previous, const char *op)
{
	struct rip_err err = { 0 };
	int64_t seq;

	if (rip_journal_begin(&seq, s->state, target, rel, previous, op, false,
			&err) < 0 || rip_journal_end(s->state, seq, "ok", &err) < 0)
		fail_msg("%s", err.msg);
}

/* The paths of a drill of id as "from:flags:target, ..." (r rollback, p
 * cut-parent; "-" for an empty schema). */
static char *paths_of(const struct rip_config *cfg, struct rip_store *s,
	const char *id, const char *parent)
{
	struct rip_buf b = RIP_BUF_INIT;
	struct rip_drill_path *v;
	struct rip_err err = { 0 };
	size_t n;

	if (rip_drill_paths(&v, &n, cfg, s, id, parent, &err) < 0)
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < n; i++)
		rip_buf_addf(&b, "%s%s:%s%s:%s", i ? ", " : "",
			v[i].from ? v[i].from : "-", v[i].rollback ? "r" : "",
			v[i].parent ? "p" : "", v[i].target ? v[i].target : "");
	rip_drill_paths_free(v, n);
	return rip_buf_detach(&b, NULL);
}

static void test_paths(void **state)
{
	struct tmpdir *t = *state;
	struct rip_config *cfg = config("[target \"a\"]\nroot = /tmp/a\n"
		"[target \"b\"]\nroot = /tmp/b\n[target \"c\"]\nroot = /tmp/c\n");
	struct rip_err err = { 0 };
	struct rip_store *s;
	char *p;

	assert_int_equal(rip_store_open(&s, t->path, true, &err), 0);
	cut_rec(s, "v1.0", NULL);
	cut_rec(s, "v1.1", "v1.0");
	cut_rec(s, "v1.2", "v1.1");
	cut_rec(s, "v1.3", "v1.2");

	/* nothing deployed anywhere: the cut-parent alone */
	p = paths_of(cfg, s, "v1.2", "v1.1");
	assert_string_equal(p, "v1.1:p:");
	free(p);
	p = paths_of(cfg, s, "v1.0", NULL);
	assert_string_equal(p, "-:p:");
	free(p);

	/* the finding: v1.0 runs, v1.1 was never deployed; v1.2 not yet
	 * deployed goes back to what runs now, and the cut-parent too */
	switched(s, "a", "v1.0", NULL, "deploy");
	p = paths_of(cfg, s, "v1.2", "v1.1");
	assert_string_equal(p, "v1.0:r:a, v1.1:p:");
	free(p);
	/* the first release deployed has nothing to go back to */
	p = paths_of(cfg, s, "v1.0", NULL);
	assert_string_equal(p, "-:p:");
	free(p);

	/* b runs v1.2 since a deploy over v1.0: rollback's own answer */
	switched(s, "b", "v1.0", NULL, "deploy");
	switched(s, "b", "v1.2", "v1.0", "deploy");
	/* c ran v1.2 (over v1.1) and runs v1.3: what it ran before it first
	 * switched to v1.2, not what it runs now */
	switched(s, "c", "v1.1", NULL, "deploy");
	switched(s, "c", "v1.2", "v1.1", "deploy");
	switched(s, "c", "v1.3", "v1.2", "deploy");
	p = paths_of(cfg, s, "v1.2", "v1.1");
	assert_string_equal(p, "v1.0:r:a, v1.1:rp:c");
	free(p);

	/* v1.3: a runs v1.0 (cut before it), b runs v1.2, c runs v1.3 and
	 * goes back to v1.2, its cut-parent */
	p = paths_of(cfg, s, "v1.3", "v1.2");
	assert_string_equal(p, "v1.0:r:a, v1.2:rp:b");
	free(p);

	/* v1.1: a runs v1.0, cut before it; b runs v1.2, cut after it and
	 * never ran v1.1: no rollback from v1.1 goes forward to v1.2; c ran
	 * v1.1 first of all: nothing before it */
	p = paths_of(cfg, s, "v1.1", "v1.0");
	assert_string_equal(p, "v1.0:rp:a");
	free(p);

	/* after a rollback of c from v1.3 to v1.2, then again: v1.1 */
	switched(s, "c", "v1.2", "v1.3", "rollback");
	p = paths_of(cfg, s, "v1.2", "v1.1");
	assert_string_equal(p, "v1.0:r:a, v1.1:rp:c");
	free(p);
	rip_config_free(cfg);
	rip_store_free(s);
}

/* A passing drill of release started at started, its round trip from from
 * (a JSON array; NULL: a drill recorded before paths). */
static void add_from(struct rip_store *s, const char *release,
	int64_t started, const char *from)
{
	char *steps = from ? rip_xasprintf("[{\"step\": \"round trip\", "
		"\"ok\": true, \"from\": %s}]", from) :
		rip_xstrdup("[{\"step\": \"round trip\", \"ok\": true}]");
	struct rip_drill_rec r = { .release = (char *)release,
		.started = started, .seconds = 1, .result = (char *)RIP_DRILL_PASS,
		.steps = steps };
	struct rip_err err = { 0 };
	int64_t seq;

	assert_int_equal(rip_drill_record(&seq, s->state, &r, &err), 0);
	free(steps);
}

/* --due: a passing drill that did not start where a rollback goes now is
 * due again, with [migrations]; without, paths do not matter. */
static void test_due_paths(void **state)
{
	struct tmpdir *t = *state;
	struct rip_config *cfg = config("[migrations]\ndir = db\n"
		"format = golang-migrate\ndriver = sqlite\n[drill]\nevery = 24h\n"
		"[target \"a\"]\nroot = /tmp/a\n");
	struct rip_config *bare = config("[drill]\nevery = 24h\n"
		"[target \"a\"]\nroot = /tmp/a\n");
	struct rip_err err = { 0 };
	struct rip_store *s;
	int64_t now = 10 * 86400;
	bool due;

	assert_int_equal(rip_store_open(&s, t->path, true, &err), 0);
	cut_rec(s, "v1.0", NULL);
	cut_rec(s, "v1.1", "v1.0");
	cut_rec(s, "v1.2", "v1.1");
	cut_rec(s, "v1.3", "v1.2");
	/* drilled with nothing deployed: from the cut-parent v1.1 */
	add_from(s, "v1.2", now - 60, "[\"v1.1\"]");
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1.2", now, &err), 0);
	assert_false(due);
	/* v1.0 deployed: a rollback from v1.2 would now go to v1.0 */
	switched(s, "a", "v1.0", NULL, "deploy");
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1.2", now, &err), 0);
	assert_true(due);
	assert_int_equal(rip_drill_due(&due, bare, s, "v1.2", now, &err), 0);
	assert_false(due);
	add_from(s, "v1.2", now - 30, "[\"v1.0\", \"v1.1\"]");
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1.2", now, &err), 0);
	assert_false(due);
	/* a drill from before paths started from the cut-parent: v1.1 for
	 * v1.2, which is not v1.0; v1.0 itself for v1.1 */
	add_from(s, "v1.2", now - 10, NULL);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1.2", now, &err), 0);
	assert_true(due);
	add_from(s, "v1.1", now - 10, NULL);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1.1", now, &err), 0);
	assert_false(due);
	rip_config_free(cfg);
	rip_config_free(bare);
	rip_store_free(s);
}

static void test_rec_from(void **state)
{
	struct rip_drill_rec r = { .steps = (char *)"[{\"step\": \"integrity\"},"
		"{\"step\": \"round trip\", \"from\": [\"v1.0\", \"v1.1\", \"\"]}]" };
	struct rip_strlist from = { 0 };
	char *text;

	(void)state;
	assert_true(rip_drill_rec_from(&from, &r));
	assert_int_equal(from.n, 3);
	text = rip_drill_from_text(&from);
	assert_string_equal(text, "v1.0, v1.1 and an empty schema");
	free(text);
	rip_strlist_release(&from);
	text = rip_drill_rec_unexercised(&r);
	assert_null(text);
	/* a drill from before paths: it started from the cut-parent alone */
	r.steps = (char *)"[{\"step\": \"round trip\", \"ok\": true}]";
	assert_true(rip_drill_rec_from(&from, &r));
	assert_int_equal(from.n, 0);
	/* no round trip at all */
	r.steps = (char *)"[{\"step\": \"integrity\", \"ok\": false}]";
	assert_false(rip_drill_rec_from(&from, &r));
	r.steps = (char *)"[{\"step\": \"round trip\", \"from\": [], "
		"\"unexercised\": \"the downs ...\"}]";
	text = rip_drill_rec_unexercised(&r);
	assert_string_equal(text, "the downs ...");
	free(text);
	rip_strlist_push(&from, "v1.0");
	rip_strlist_push(&from, "v1.1");
	text = rip_drill_from_text(&from);
	assert_string_equal(text, "v1.0 and v1.1");
	free(text);
	rip_strlist_release(&from);
}

/* Opens of path reported by the inotify instance fd since the last call. */
static int opens(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n = 0;
	ssize_t len;

	while ((len = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + len; ) {
			const struct inotify_event *ev = (const void *)p;

			n += (ev->mask & IN_OPEN) != 0;
			p += sizeof(*ev) + ev->len;
		}
	return n;
}

static void test_one_read(void **state)
{
	struct tmpdir *t = *state;
	struct rip_cut_opts opts = { .id = "r1" };
	struct rip_drill_outcome o;
	struct rip_cut_result res;
	struct rip_err err = { 0 };
	struct rip_config *cfg;
	struct rip_store *s;
	char cwd[512], text[512], *art;
	int in;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(t->path), 0);  /* cut finds the repository */
	git_quiet(t->path, "init", "-q", ".");
	write_text(tpath(state, ".gitignore"), ".ripcord/\n");
	write_text(tpath(state, "app.txt"), "hello\n");
	assert_int_equal(mkdir(tpath(state, "db"), 0755), 0);
	write_text(tpath(state, "db/1_init.up.sql"), "CREATE TABLE t (id int);\n");
	write_text(tpath(state, "db/1_init.down.sql"), "DROP TABLE t;\n");
	git_quiet(t->path, "add", "-A", NULL);
	git_quiet(t->path, "commit", "-qm", "r1");
	snprintf(text, sizeof(text), "[project]\nname = t\n[migrations]\n"
		"dir = db\nformat = golang-migrate\ndriver = sqlite\n");
	if (rip_config_parse(&cfg, text, "ripcord.ini", t->path, &err) < 0)
		fail_msg("%s", err.msg);
	if (rip_cut(&res, cfg, &opts, &err) < 0)
		fail_msg("cut: %s", err.msg);
	rip_cut_result_release(&res);
	assert_int_equal(rip_store_open(&s, cfg->project.store, false, &err), 0);

	art = rip_store_artifact_path(s, "r1");
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	/* closes too: identical events in a row would be merged into one */
	assert_true(inotify_add_watch(in, art, IN_OPEN | IN_CLOSE) >= 0);
	if (rip_drill_run(&o, cfg, s, "r1", NULL, NULL, &err) < 0)
		fail_msg("drill: %s", err.msg);
	assert_string_equal(o.result, RIP_DRILL_PASS);
	assert_true(o.steps[RIP_STEP_INTEGRITY].ok);
	assert_true(o.steps[RIP_STEP_FIDELITY].ok);
	assert_true(o.steps[RIP_STEP_ROUNDTRIP].ran);
	assert_true(o.steps[RIP_STEP_ROUNDTRIP].ok);
	/* integrity, fidelity and the round trip's migrations: one open */
	assert_int_equal(opens(in), 1);
	rip_drill_outcome_release(&o);

	close(in);
	free(art);
	rip_store_free(s);
	rip_config_free(cfg);
	assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_and_gate,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_due, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_one_read, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_paths, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_due_paths, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test(test_rec_from),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
