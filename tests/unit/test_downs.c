/* SPDX-License-Identifier: MIT */
/*
 * test_downs.c: what `rollback --dry-run` says of the downs it would run
 * (downs.h), on real releases cut from a real git repository, deployed to
 * a local target with the real plans and a real SQLite database, and
 * drills recorded in state.db as rip_drill_run records them: the release
 * each down came with, the statements that lose data, and which drill ran
 * each down and exactly the path (a newer one wins, whatever its result;
 * one that started at or after a down's release, one of a release before
 * it, the destination's own and one without a round trip do not count).
 */
#include "helpers.h"

#include <sys/stat.h>

#include "ripcord/config.h"
#include "ripcord/deploy.h"
#include "ripcord/downs.h"
#include "ripcord/drill.h"
#include "ripcord/release.h"
#include "ripcord/store.h"

/* The fixture; tmp first, so helpers.h's tpath() works on it too. */
struct fx {
	struct tmpdir tmp;
	struct rip_config *cfg;
	struct rip_store *store;
	char cwd[1024];
};

static int setup(void **state)
{
	static const char ini[] = "[project]\nname = app\n"
		"[migrations]\ndir = db\nformat = golang-migrate\n"
		"driver = sqlite\ndatabase = var/app.db\n"
		"[target \"web\"]\nroot = targets/web\n";
	struct fx *f = calloc(1, sizeof(*f));
	struct rip_err err = { 0 };

	snprintf(f->tmp.path, sizeof(f->tmp.path), "/tmp/ripcord-test-XXXXXX");
	if (!mkdtemp(f->tmp.path)) {
		free(f);
		return -1;
	}
	*state = f;
	assert_non_null(getcwd(f->cwd, sizeof(f->cwd)));
	/* cut opens the repository around the working folder first */
	assert_int_equal(chdir(f->tmp.path), 0);
	git_quiet(f->tmp.path, "init", "-q", ".");
	write_text(tpath(state, ".gitignore"), ".ripcord/\ntargets/\nvar/\n");
	assert_int_equal(mkdir(tpath(state, "db"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "var"), 0755), 0);
	if (rip_config_parse(&f->cfg, ini, "ripcord.ini", f->tmp.path,
			&err) < 0 ||
	    rip_store_open(&f->store, f->cfg->project.store, true, &err) < 0)
		fail_msg("%s", err.msg);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	assert_int_equal(chdir(f->cwd), 0);
	rip_store_free(f->store);
	rip_config_free(f->cfg);
	nftw(f->tmp.path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Migration db/<id>.up.sql and .down.sql, committed and cut as release
 * id, then deployed. */
static void release(void **state, const char *id, const char *mig,
	const char *up, const char *down)
{
	struct fx *f = *state;
	struct rip_cut_opts opts = { .id = id };
	struct rip_cut_result res;
	struct rip_err err = { 0 };
	struct rip_plan p;
	char path[128];

	snprintf(path, sizeof(path), "db/%s.up.sql", mig);
	write_text(tpath(state, path), up);
	snprintf(path, sizeof(path), "db/%s.down.sql", mig);
	write_text(tpath(state, path), down);
	write_text(tpath(state, "VERSION"), id);
	git_quiet(f->tmp.path, "add", "-A", NULL);
	git_quiet(f->tmp.path, "commit", "-qm", id);
	if (rip_cut(&res, f->cfg, &opts, &err) < 0)
		fail_msg("cut %s: %s", id, err.msg);
	rip_cut_result_release(&res);
	if (rip_plan_deploy(&p, f->cfg, f->store, id, NULL, 0, &err) < 0 ||
	    rip_plan_apply(&p, f->cfg, f->store, NULL, NULL, &err) < 0)
		fail_msg("deploy %s: %s", id, err.msg);
	rip_plan_release(&p);
}

/* A drill of release at started whose round trip started from from (a
 * JSON list; NULL: no round trip ran); returns its seq. */
static int64_t drill(struct fx *f, const char *release, int64_t started,
	const char *result, const char *from)
{
	char steps[256];
	struct rip_drill_rec r = { .release = (char *)release,
		.started = started, .seconds = 0.25, .result = (char *)result,
		.steps = steps };
	struct rip_err err = { 0 };
	int64_t seq;

	if (from)
		snprintf(steps, sizeof(steps), "[{\"step\": \"integrity\", \"ok\": "
			"true, \"seconds\": 0.1}, {\"step\": \"round trip\", \"ok\": "
			"true, \"seconds\": 0.1, \"from\": %s, \"unexercised\": null}]",
			from);
	else
		snprintf(steps, sizeof(steps), "[{\"step\": \"integrity\", \"ok\": "
			"false, \"seconds\": 0.1}]");
	if (rip_drill_record(&seq, f->store->state, &r, &err) < 0)
		fail_msg("%s", err.msg);
	return seq;
}

/* rip_downs_read of a rollback to to, planned, never applied. */
static void read_downs(struct fx *f, struct rip_downs *d,
	struct rip_plan *p, const char *to)
{
	struct rip_err err = { 0 };

	if (rip_plan_rollback(p, f->cfg, f->store, to, false, &err) < 0 ||
	    rip_downs_read(d, f->store, p, NULL, &err) < 0)
		fail_msg("%s", err.msg);
}

static void test_downs_path(void **state)
{
	struct fx *f = *state;
	struct rip_downs d;
	struct rip_plan p;
	int64_t a, b, c;

	release(state, "v1", "0001_orders", "CREATE TABLE orders (id int);\n",
		"DROP TABLE orders;\n");
	release(state, "v2", "0002_note", "ALTER TABLE orders ADD note text;\n",
		"-- the note goes\nALTER TABLE orders DROP COLUMN note;\n");
	release(state, "v3", "0003_rating", "ALTER TABLE orders ADD rating int;"
		"\n", "ALTER   TABLE orders\n\tDROP COLUMN rating;\n");

	read_downs(f, &d, &p, "v1");
	assert_string_equal(d.from, "v3");
	assert_string_equal(d.to, "v1");
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].mig->id, "0003_rating");
	assert_string_equal(d.v[0].release, "v3");
	assert_string_equal(d.v[1].mig->id, "0002_note");
	assert_string_equal(d.v[1].release, "v2");
	assert_int_equal(d.v[0].nloss, 1);
	assert_int_equal(d.v[0].loss[0].line, 1);
	assert_string_equal(d.v[0].loss[0].statement,
		"ALTER TABLE orders DROP COLUMN rating");
	assert_string_equal(d.v[0].loss[0].rule, "drop-column");
	assert_int_equal(d.v[1].loss[0].line, 2);
	assert_int_equal(d.path.seq + d.v[0].drill.seq + d.v[1].drill.seq, 0);
	rip_downs_release(&d);
	rip_plan_release(&p);

	/* v2 from v1 ran 0002's down; v3 from v2 ran 0003's, not 0002's */
	a = drill(f, "v2", 100, "pass", "[\"v1\"]");
	b = drill(f, "v3", 200, "pass", "[\"v2\"]");
	read_downs(f, &d, &p, "v1");
	assert_int_equal(d.v[0].drill.seq, b);
	assert_int_equal(d.v[1].drill.seq, a);
	assert_int_equal(d.path.seq, 0);
	rip_downs_release(&d);
	rip_plan_release(&p);

	/* v3 from v1 is exactly the path: newer, it wins everywhere, even
	 * failed; the destination's own drill, v1 from an empty schema, and
	 * a drill without a round trip run none of these downs */
	c = drill(f, "v3", 300, "fail", "[\"v2\", \"v1\"]");
	drill(f, "v1", 400, "pass", "[\"\"]");
	drill(f, "v3", 500, "integrity", NULL);
	drill(f, "v2", 600, "pass", "[\"v2\"]");
	read_downs(f, &d, &p, "v1");
	assert_int_equal(d.path.seq, c);
	assert_string_equal(d.path.result, "fail");
	assert_int_equal(d.v[0].drill.seq, c);
	assert_int_equal(d.v[1].drill.seq, c);
	rip_downs_release(&d);
	rip_plan_release(&p);

	/* the rollback to v2: one down, the path v3 back to v2 */
	read_downs(f, &d, &p, "v2");
	assert_int_equal(d.n, 1);
	assert_string_equal(d.from, "v3");
	assert_int_equal(d.path.seq, c);
	assert_int_equal(d.v[0].drill.seq, c);
	rip_downs_release(&d);
	rip_plan_release(&p);
}

/* A plan without downs reads nothing. */
static void test_downs_none(void **state)
{
	struct fx *f = *state;
	struct rip_downs d;
	struct rip_plan p;

	release(state, "v1", "0001_orders", "CREATE TABLE orders (id int);\n",
		"DROP TABLE orders;\n");
	release(state, "v2", "0002_idx", "CREATE INDEX o ON orders (id);\n",
		"DROP INDEX o;\n");
	read_downs(f, &d, &p, "v1");
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].nloss, 0);   /* an index holds no data */
	rip_downs_release(&d);
	rip_plan_release(&p);
	p = (struct rip_plan){ .op = "rollback" };
	assert_int_equal(rip_downs_read(&d, f->store, &p, NULL, NULL), 0);
	assert_int_equal(d.n, 0);
	assert_null(d.from);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_downs_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_downs_none, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
