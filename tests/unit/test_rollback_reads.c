/* SPDX-License-Identifier: MIT */
/*
 * test_rollback_reads.c: what a rollback's planner reads, on real releases cut
 * from a real git repository into a store in a temp dir, deployed to two
 * local targets with the real plans, and a real SQLite database for the
 * migrations. inotify counts the opens of every artifact of the store
 * while a rollback is planned and applied: a warm rollback reads none,
 * one that extracts reads its destination's, and the downs read only the
 * releases they need, newest first, on to the release a migration was
 * applied from when newer ones carry a changed version of it. The
 * rollback target is found past the newest few switches of the journal
 * when they are all the release that runs or ones a rollback fled.
 */
#include "helpers.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ripcord/config.h"
#include "ripcord/deploy.h"
#include "ripcord/fsutil.h"
#include "ripcord/migrate.h"
#include "ripcord/release.h"
#include "ripcord/store.h"
#include "ripcord/target.h"

#define MAX_REL 8

/* The fixture; tmp first, so helpers.h's tpath() works on it too. */
struct fx {
	struct tmpdir tmp;
	char *dir;
	struct rip_config *cfg;
	struct rip_store *store;
	char cwd[1024];
	int in;                   /* inotify, one watch per artifact */
	int wd[MAX_REL];
	const char *ids[MAX_REL];
	size_t nids;
};

static struct fx *fx_of(void **state)
{
	return *state;
}

static void load(struct fx *f, bool migrations)
{
	struct rip_err err = { 0 };
	char text[1024];

	snprintf(text, sizeof(text), "[project]\nname = app\n%s"
		"[target \"web-1\"]\nroot = targets/web-1\n"
		"[target \"web-2\"]\nroot = targets/web-2\n", migrations ?
		"[migrations]\ndir = db\nformat = golang-migrate\n"
		"driver = sqlite\ndatabase = var/app.db\n" : "");
	rip_config_free(f->cfg);
	f->cfg = NULL;
	if (rip_config_parse(&f->cfg, text, "ripcord.ini", f->dir, &err) < 0)
		fail_msg("config: %s", err.msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct rip_err err = { 0 };

	snprintf(f->tmp.path, sizeof(f->tmp.path), "/tmp/ripcord-test-XXXXXX");
	if (!mkdtemp(f->tmp.path)) {
		free(f);
		return -1;
	}
	f->dir = f->tmp.path;
	*state = f;
	assert_non_null(getcwd(f->cwd, sizeof(f->cwd)));
	/* cut opens the repository around the working folder first */
	assert_int_equal(chdir(f->dir), 0);
	git_quiet(f->dir, "init", "-q", ".");
	write_text(tpath(state, ".gitignore"), ".ripcord/\ntargets/\nvar/\n");
	assert_int_equal(mkdir(tpath(state, "db"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "var"), 0755), 0);
	load(f, true);
	if (rip_store_open(&f->store, f->cfg->project.store, true, &err) < 0)
		fail_msg("store: %s", err.msg);
	f->in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(f->in >= 0);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = fx_of(state);

	close(f->in);
	assert_int_equal(chdir(f->cwd), 0);
	rip_store_free(f->store);
	rip_config_free(f->cfg);
	nftw(f->tmp.path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Migration db/<id>.up.sql and .down.sql. */
static void migration(void **state, const char *id, const char *up,
	const char *down)
{
	char path[128];

	snprintf(path, sizeof(path), "db/%s.up.sql", id);
	write_text(tpath(state, path), up);
	snprintf(path, sizeof(path), "db/%s.down.sql", id);
	write_text(tpath(state, path), down);
}

/* Commits the tree and cuts it as release id, its artifact watched. */
static void cut(void **state, const char *id)
{
	struct fx *f = fx_of(state);
	struct rip_cut_opts opts = { .id = id };
	struct rip_cut_result res;
	struct rip_err err = { 0 };
	char *art;

	write_text(tpath(state, "VERSION"), id);
	git_quiet(f->dir, "add", "-A", NULL);
	git_quiet(f->dir, "commit", "-qm", id);
	if (rip_cut(&res, f->cfg, &opts, &err) < 0)
		fail_msg("cut %s: %s", id, err.msg);
	rip_cut_result_release(&res);
	assert_true(f->nids < MAX_REL);
	art = rip_store_artifact_path(f->store, id);
	/* closes too: identical events in a row would be merged into one */
	f->wd[f->nids] = inotify_add_watch(f->in, art, IN_OPEN | IN_CLOSE);
	assert_true(f->wd[f->nids] >= 0);
	f->ids[f->nids++] = id;
	free(art);
}

/* Opens of each artifact since the last call, "v1:0 v2:1 ...". */
static const char *opens(struct fx *f)
{
	static char out[256];
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n[MAX_REL] = { 0 };
	ssize_t len;
	size_t at = 0;

	while ((len = read(f->in, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + len; ) {
			const struct inotify_event *ev = (const void *)p;

			for (size_t i = 0; i < f->nids; i++)
				n[i] += ev->wd == f->wd[i] && (ev->mask & IN_OPEN);
			p += sizeof(*ev) + ev->len;
		}
	out[0] = '\0';
	for (size_t i = 0; i < f->nids; i++)
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%s:%d",
			i ? " " : "", f->ids[i], n[i]);
	return out;
}

static void deploy(struct fx *f, const char *id)
{
	struct rip_plan p;
	struct rip_err err = { 0 };

	if (rip_plan_deploy(&p, f->cfg, f->store, id, NULL, 0, &err) < 0 ||
	    rip_plan_apply(&p, f->cfg, f->store, NULL, NULL, &err) < 0)
		fail_msg("deploy %s: %s", id, err.msg);
	rip_plan_release(&p);
}

/* A rollback (to NULL: the journal's previous) planned and applied. */
static int rollback(struct fx *f, const char *to, struct rip_err *err)
{
	struct rip_plan p;
	int rc;

	memset(err, 0, sizeof(*err));
	if ((rc = rip_plan_rollback(&p, f->cfg, f->store, to, false, err)) < 0)
		return rc;
	rc = rip_plan_apply(&p, f->cfg, f->store, NULL, NULL, err);
	rip_plan_release(&p);
	return rc;
}

static void assert_current(void **state, const char *target,
	const char *id)
{
	struct rip_root_state st;
	struct rip_err err = { 0 };
	char root[64];

	snprintf(root, sizeof(root), "targets/%s", target);
	if (rip_root_inspect(&st, tpath(state, root), &err) < 0)
		fail_msg("%s", err.msg);
	assert_non_null(st.current);
	assert_string_equal(st.current, id);
	rip_root_state_release(&st);
}

/* The migrations applied to var/app.db, "a b ...". */
static const char *applied(struct fx *f)
{
	static char out[256];
	struct rip_migrations none = { 0 };
	struct rip_mig_status st;
	struct rip_migrate *m;
	struct rip_err err = { 0 };
	size_t at = 0;

	if (rip_migrate_open(&m, f->cfg, &err) < 0 ||
	    rip_migrate_status(&st, m, &none, &err) < 0)
		fail_msg("%s", err.msg);
	out[0] = '\0';
	for (size_t i = 0; i < st.n; i++)
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%s",
			i ? " " : "", st.v[i].id);
	rip_mig_status_release(&st);
	rip_migrate_free(m);
	return out;
}

/* Both releases extracted everywhere, no migrations: no artifact read;
 * one target pruned: the destination's, verified before it is used. */
static void test_warm_reads_nothing(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_err err;

	load(f, false);
	cut(state, "v1");
	cut(state, "v2");
	deploy(f, "v1");
	deploy(f, "v2");
	opens(f);
	if (rollback(f, NULL, &err) < 0)
		fail_msg("rollback: %s", err.msg);
	assert_current(state, "web-1", "v1");
	assert_current(state, "web-2", "v1");
	assert_string_equal(opens(f), "v1:0 v2:0");

	/* an unknown release is still refused, naming it */
	assert_int_equal(rollback(f, "v9", &err), RIP_ENOTFOUND);
	assert_err_contains(&err, "v9");

	/* v2 pruned on one target: extracted again, from a verified artifact */
	deploy(f, "v1");
	assert_int_equal(rip_remove_tree(tpath(state,
		"targets/web-2/releases/v2")), 0);
	opens(f);
	if (rollback(f, "v2", &err) < 0)
		fail_msg("rollback: %s", err.msg);
	assert_current(state, "web-2", "v2");
	/* verified (one open), then extracted (its two passes) */
	assert_string_equal(opens(f), "v1:0 v2:3");
}

/* v3's down is needed: v3 carries it with the checksum applied, so v1 is
 * never read (v2 is the destination: what it keeps). */
static void test_downs_read_what_they_need(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_err err;

	migration(state, "0001_a", "CREATE TABLE a (x int);\n",
		"DROP TABLE a;\n");
	cut(state, "v1");
	migration(state, "0002_b", "CREATE TABLE b (x int);\n",
		"DROP TABLE b;\n");
	cut(state, "v2");
	migration(state, "0003_c", "CREATE TABLE c (x int);\n",
		"DROP TABLE c;\n");
	cut(state, "v3");
	deploy(f, "v1");
	deploy(f, "v2");
	deploy(f, "v3");
	assert_string_equal(applied(f), "0001_a 0002_b 0003_c");
	opens(f);
	if (rollback(f, NULL, &err) < 0)
		fail_msg("rollback: %s", err.msg);
	assert_current(state, "web-1", "v2");
	assert_string_equal(applied(f), "0001_a 0002_b");
	/* planned, then applied: v2 and v3 read twice each, v1 never */
	assert_string_equal(opens(f), "v1:0 v2:2 v3:2");

	/* nothing left to undo going forward again: only the destination */
	deploy(f, "v3");
	opens(f);
	assert_int_equal(rollback(f, "v3", &err), 0);
	assert_string_equal(opens(f), "v1:0 v2:0 v3:1");
}

/*
 * 0002_b applied from v2, then changed in v3 (cut, never deployed): the
 * newest release carries 0002_b, but not with the checksum applied, so
 * the sources read on to v2, whose down is the one that undoes it; v3's
 * would fail (no table b2).
 */
static void test_changed_migration_reads_on(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_err err;

	migration(state, "0001_a", "CREATE TABLE a (x int);\n",
		"DROP TABLE a;\n");
	cut(state, "v1");
	migration(state, "0002_b", "CREATE TABLE b (x int);\n",
		"DROP TABLE b;\n");
	cut(state, "v2");
	deploy(f, "v1");
	deploy(f, "v2");
	migration(state, "0002_b", "CREATE TABLE b2 (x int);\n",
		"DROP TABLE b2;\n");
	cut(state, "v3");
	assert_string_equal(applied(f), "0001_a 0002_b");
	opens(f);
	if (rollback(f, "v1", &err) < 0)
		fail_msg("rollback: %s", err.msg);
	assert_current(state, "web-1", "v1");
	assert_string_equal(applied(f), "0001_a");
	assert_string_equal(opens(f), "v1:2 v2:2 v3:2");
}

/* v1, then x1..x5 each deployed and rolled back: the newest ten
 * switches are v1 or fled releases; the rollback goes back to v0. */
static void test_target_past_newest_switches(void **state)
{
	static const char *const xs[] = { "x1", "x2", "x3", "x4", "x5" };
	struct fx *f = fx_of(state);
	struct rip_err err;

	load(f, false);
	cut(state, "v0");
	cut(state, "v1");
	for (size_t i = 0; i < RIP_ARRAY_SIZE(xs); i++)
		cut(state, xs[i]);
	deploy(f, "v0");
	deploy(f, "v1");
	for (size_t i = 0; i < RIP_ARRAY_SIZE(xs); i++) {
		deploy(f, xs[i]);
		if (rollback(f, NULL, &err) < 0)
			fail_msg("rollback from %s: %s", xs[i], err.msg);
		assert_current(state, "web-1", "v1");
	}
	if (rollback(f, NULL, &err) < 0)
		fail_msg("rollback: %s", err.msg);
	assert_current(state, "web-1", "v0");
	assert_current(state, "web-2", "v0");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_warm_reads_nothing),
		T(test_downs_read_what_they_need),
		T(test_changed_migration_reads_on),
		T(test_target_past_newest_switches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
