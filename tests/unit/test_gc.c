/* SPDX-License-Identifier: MIT */
/*
 * test_gc.c: the gc planner's rules and the applier's order, on real
 * releases cut from a real git repository into a store in a temp dir,
 * deployed with the real deploy plans.
 */
#include "helpers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ripcord/config.h"
#include "ripcord/deploy.h"
#include "ripcord/fsutil.h"
#include "ripcord/gc.h"
#include "ripcord/journal.h"
#include "ripcord/release.h"
#include "ripcord/store.h"

/* The fixture; tmp first, so helpers.h's tpath() works on it too. */
struct fx {
	struct tmpdir tmp;
	char *dir;
	struct rip_config *cfg;
	struct rip_store *store;
	char cwd[1024];
};

static void load(struct fx *f, unsigned keep)
{
	struct rip_err err = { 0 };
	char text[1024];

	snprintf(text, sizeof(text), "[project]\nname = app\nkeep = %u\n"
		"[target \"web-1\"]\nroot = targets/web-1\n"
		"[target \"web-2\"]\nroot = targets/web-2\n", keep);
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
	write_text(tpath(state, ".gitignore"), ".ripcord/\ntargets/\n");
	load(f, 2);
	if (rip_store_open(&f->store, f->cfg->project.store, true, &err) < 0)
		fail_msg("store: %s", err.msg);
	return 0;
}

static struct fx *fx_of(void **state)
{
	return *state;
}

static int teardown(void **state)
{
	struct fx *f = fx_of(state);

	assert_int_equal(chdir(f->cwd), 0);
	rip_store_free(f->store);
	rip_config_free(f->cfg);
	nftw(f->tmp.path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Commits a change and cuts it as release id. */
static void cut(struct fx *f, const char *id)
{
	struct rip_cut_opts opts = { .id = id };
	struct rip_cut_result res;
	struct rip_err err = { 0 };
	char path[512];

	snprintf(path, sizeof(path), "%s/VERSION", f->dir);
	write_text(path, id);
	git_quiet(f->dir, "add", "-A", NULL);
	git_quiet(f->dir, "commit", "-qm", id);
	if (rip_cut(&res, f->cfg, &opts, &err) < 0)
		fail_msg("cut %s: %s", id, err.msg);
	rip_cut_result_release(&res);
}

/* Deploys id to one target (or all when target is NULL). */
static void deploy(struct fx *f, const char *id, const char *target)
{
	const char *only[] = { target };
	struct rip_plan p;
	struct rip_err err = { 0 };

	if (rip_plan_deploy(&p, f->cfg, f->store, id, only, target ? 1 : 0,
			&err) < 0 ||
	    rip_plan_apply(&p, f->cfg, f->store, NULL, NULL, &err) < 0)
		fail_msg("deploy %s: %s", id, err.msg);
	rip_plan_release(&p);
}

static const struct rip_gc_item *find(const struct rip_gc_items *l,
	const char *where, const char *id)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *w = l->v[i].target ? l->v[i].target->name : "store";

		if (!strcmp(w, where) && !strcmp(l->v[i].id, id))
			return &l->v[i];
	}
	return NULL;
}

/* The reasons of a kept store release, as "rule rule ...". */
static const char *rules(const struct rip_gc_plan *p, const char *id)
{
	static char buf[256];
	const struct rip_gc_item *it = find(&p->kept, "store", id);

	buf[0] = '\0';
	if (!it)
		return "(deleted)";
	for (size_t i = 0; i < it->nwhy; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
			i ? " " : "", rip_gc_rule_name(it->why[i].rule));
	return buf;
}

static void plan(struct fx *f, struct rip_gc_plan *p)
{
	struct rip_err err = { 0 };

	if (rip_gc_plan(p, f->cfg, f->store, &err) < 0)
		fail_msg("gc plan: %s", err.msg);
}

/* Targets on different releases keep a window each. */
static void test_window_per_running_release(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_gc_plan p;
	const struct rip_gc_item *it;

	for (int i = 1; i <= 6; i++) {
		char id[8];

		snprintf(id, sizeof(id), "r%d", i);
		cut(f, id);
	}
	deploy(f, "r2", "web-1");
	deploy(f, "r5", "web-2");
	plan(f, &p);
	assert_string_equal(rules(&p, "r1"), "near");
	assert_string_equal(rules(&p, "r2"), "runs");
	assert_string_equal(rules(&p, "r3"), "(deleted)");
	assert_string_equal(rules(&p, "r4"), "near");
	assert_string_equal(rules(&p, "r5"), "runs newest");
	assert_string_equal(rules(&p, "r6"), "newest undeployed");
	it = find(&p.kept, "store", "r1");
	assert_string_equal(it->why[0].release, "r2");
	it = find(&p.kept, "store", "r4");
	assert_string_equal(it->why[0].release, "r5");
	/* web-1 has only r2 extracted: nothing to delete there */
	assert_null(find(&p.deleted, "web-1", "r2"));
	assert_non_null(find(&p.deleted, "store", "r3"));
	assert_int_equal(p.deleted.n, 1);
	rip_gc_plan_release(&p);
}

/* keep = 0 still keeps the newest good release; a bad one takes no slot. */
static void test_keep_zero_keeps_the_only_good(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_gc_plan p;
	const struct rip_gc_item *it;
	char *art;

	cut(f, "a1");
	cut(f, "a2");
	cut(f, "a3");
	deploy(f, "a3", NULL);
	art = rip_store_artifact_path(f->store, "a3");
	assert_int_equal(unlink(art), 0);
	free(art);
	load(f, 0);
	plan(f, &p);
	assert_string_equal(rules(&p, "a3"), "runs runs");
	assert_string_equal(rules(&p, "a2"), "newest");
	assert_string_equal(rules(&p, "a1"), "(deleted)");
	it = find(&p.kept, "store", "a3");
	assert_false(it->verified);
	assert_non_null(strstr(it->problem, "missing"));
	assert_int_equal(p.warnings.n, 1);
	assert_non_null(strstr(p.warnings.v[0], "release 'a3' is kept"));
	rip_gc_plan_release(&p);
}

/* Nothing deployed: the keep newest good stay, "undeployed" keeps nothing. */
static void test_nothing_runs(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_gc_plan p;

	cut(f, "n1");
	cut(f, "n2");
	cut(f, "n3");
	plan(f, &p);
	assert_string_equal(rules(&p, "n3"), "newest");
	assert_string_equal(rules(&p, "n2"), "newest");
	assert_string_equal(rules(&p, "n1"), "(deleted)");
	assert_true(p.targets[0].skipped && p.targets[1].skipped);
	rip_gc_plan_release(&p);
}

struct seen {
	char order[16][32];
	size_t n;
};

static void record(void *data, const struct rip_gc_item *it)
{
	struct seen *s = data;

	assert_true(it->done);
	snprintf(s->order[s->n++], sizeof(s->order[0]), "%s:%s",
		it->target ? it->target->name : "store", it->id);
}

/* Folders first, then the store's signature, artifact and row; the
 * target's current and everything kept stay. */
static void test_apply_order(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_release_rec rec;
	struct rip_gc_plan p;
	struct rip_err err = { 0 };
	struct seen s = { 0 };
	char path[512];

	load(f, 1);
	cut(f, "o1");
	deploy(f, "o1", NULL);
	cut(f, "o2");
	deploy(f, "o2", NULL);
	cut(f, "o3");
	deploy(f, "o3", NULL);
	snprintf(path, sizeof(path), "%s/targets/web-2/releases/.o4.tmp-Xy12Zw",
		f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	plan(f, &p);
	assert_int_equal(rip_gc_apply(&p, f->store, record, &s, &err), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.order[0], "web-1:o1");
	assert_string_equal(s.order[1], "web-2:o1");
	assert_string_equal(s.order[2], "web-2:.o4.tmp-Xy12Zw");
	assert_string_equal(s.order[3], "store:o1");
	assert_false(rip_path_exists(path));
	assert_int_equal(rip_state_release_get(&rec, f->store->state, "o1",
		&err), RIP_ENOTFOUND);
	snprintf(path, sizeof(path), "%s/.ripcord/artifacts/o1.tar.zst",
		f->dir);
	assert_false(rip_path_exists(path));
	snprintf(path, sizeof(path), "%s/targets/web-1/releases/o2", f->dir);
	assert_true(rip_is_dir(path));
	assert_true(p.freed > 0 && p.freed == p.bytes);
	rip_gc_plan_release(&p);
}

/* rm of one release: refused by runs and near, not by newest or
 * undeployed; the plan holds that release alone, applied like gc's. */
static void test_rm_one(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_release_rec rec;
	struct rip_gc_plan p;
	struct rip_err err = { 0 };
	char *art;

	for (int i = 1; i <= 6; i++) {
		char id[8];

		snprintf(id, sizeof(id), "m%d", i);
		cut(f, id);
	}
	deploy(f, "m2", "web-1");
	deploy(f, "m5", "web-2");
	assert_int_equal(rip_gc_plan_rm(&p, f->cfg, f->store, "m2", &err),
		RIP_EFAIL);
	assert_int_equal(p.deleted.n + p.kept.n, 0);
	assert_err_contains(&err, "cannot remove release 'm2': it is kept "
		"(runs on web-1)");
	assert_int_equal(rip_gc_plan_rm(&p, f->cfg, f->store, "m4", &err),
		RIP_EFAIL);
	assert_err_contains(&err, "(within keep of m5, which runs)");
	assert_int_equal(rip_gc_plan_rm(&p, f->cfg, f->store, "m9", &err),
		RIP_ENOTFOUND);

	/* the newest, not deployed yet: gc keeps it, rm may remove it */
	assert_int_equal(rip_gc_plan_rm(&p, f->cfg, f->store, "m6", &err), 0);
	assert_int_equal(p.kept.n, 0);
	assert_int_equal(p.deleted.n, 1);
	assert_non_null(find(&p.deleted, "store", "m6"));
	assert_true(p.bytes > 0);
	assert_int_equal(rip_gc_apply(&p, f->store, NULL, NULL, &err), 0);
	rip_gc_plan_release(&p);
	art = rip_store_artifact_path(f->store, "m6");
	assert_false(rip_path_exists(art));
	free(art);
	assert_int_equal(rip_state_release_get(&rec, f->store->state, "m6",
		&err), RIP_ENOTFOUND);
	/* the rest untouched: gc still plans only m3 */
	plan(f, &p);
	assert_int_equal(p.deleted.n, 1);
	assert_non_null(find(&p.deleted, "store", "m3"));
	rip_gc_plan_release(&p);
}

/* A switch left pending refuses the plan with RIP_EINTR. */
static void test_refuses_pending(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_gc_plan p;
	struct rip_err err = { 0 };
	int64_t seq;

	cut(f, "p1");
	assert_int_equal(rip_journal_begin(&seq, f->store->state, "web-1",
		"p1", NULL, "deploy", false, &err), 0);
	assert_int_equal(rip_gc_plan(&p, f->cfg, f->store, &err), RIP_EINTR);
	assert_err_contains(&err, "rerun 'ripcord deploy p1' first");
	assert_int_equal(p.deleted.n + p.kept.n, 0);
}

static void test_reason_text(void **state)
{
	struct rip_target t = { .name = "web-1" };
	struct rip_gc_reason r[] = {
		{ RIP_GC_RUNS, &t, NULL },
		{ RIP_GC_ROLLBACK, &t, NULL },
		{ RIP_GC_NEWEST, NULL, NULL },
		{ RIP_GC_NEAR, NULL, (char *)"v3" },
		{ RIP_GC_UNDEPLOYED, NULL, NULL },
	};
	struct rip_gc_item it = { .why = r, .nwhy = RIP_ARRAY_SIZE(r) };
	struct rip_buf b = RIP_BUF_INIT;

	(void)state;
	rip_gc_why_format(&b, &it, 5);
	assert_string_equal(b.buf, "runs on web-1, rollback target of web-1, "
		"among the 5 newest good, within keep of v3, which runs, newer "
		"than what runs (not deployed yet)");
	rip_buf_release(&b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_window_per_running_release),
		T(test_keep_zero_keeps_the_only_good),
		T(test_nothing_runs),
		T(test_apply_order),
		T(test_rm_one),
		T(test_refuses_pending),
		cmocka_unit_test(test_reason_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
