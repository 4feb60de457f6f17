/* SPDX-License-Identifier: MIT */
/*
 * test_release_view.c: what views read of a release's migrations
 * (release_view.c), on real releases cut from a real git repository into
 * a store in a temp dir, deployed to a local target with a real SQLite
 * database. inotify counts the opens of every artifact: cut keeps the
 * migrations in state.db, so the views (rip_schema_phase) open none, and
 * still show the phase when the artifacts are damaged or gone, while the
 * verified read that deploy and rollback use still reads and refuses them.
 * A release without a row (cut before state.db schema 10) or with a row
 * for another artifact is read from its verified artifact once, and kept.
 */
#include "helpers.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include "ripcord/config.h"
#include "ripcord/deploy.h"
#include "ripcord/release.h"
#include "ripcord/schema_phase.h"
#include "ripcord/store.h"
#include "state_internal.h"

#define MAX_REL 4

/* The fixture; tmp first, so helpers.h's tpath() works on it too. */
struct fx {
	struct tmpdir tmp;
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

static int setup(void **state)
{
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
	if (rip_config_parse(&f->cfg, "[project]\nname = app\n[migrations]\n"
			"dir = db\nformat = golang-migrate\ndriver = sqlite\n"
			"database = var/app.db\n[target \"web-1\"]\n"
			"root = targets/web-1\n", "ripcord.ini", f->tmp.path,
			&err) < 0)
		fail_msg("config: %s", err.msg);
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

/* Migration db/<id>.up.sql, and .down.sql unless down is NULL. */
static void migration(void **state, const char *id, const char *up,
	const char *down)
{
	char path[128];

	snprintf(path, sizeof(path), "db/%s.up.sql", id);
	write_text(tpath(state, path), up);
	if (!down)
		return;
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
	git_quiet(f->tmp.path, "add", "-A", NULL);
	git_quiet(f->tmp.path, "commit", "-qm", id);
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

/* Runs sql on the store's state.db or fails the test. */
static void sql(struct fx *f, const char *text)
{
	struct rip_err err = { 0 };

	if (rip_state_exec(f->store->state, text, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
}

/* The release_migrations rows, "v1 v2" (by release), and whether each
 * describes its release's artifact: "v1 v2!" when v2's does not. */
static const char *rows(struct fx *f)
{
	static char out[256];
	struct rip_state_stmt *s;
	struct rip_err err = { 0 };
	size_t at = 0;

	out[0] = '\0';
	if (rip_state_prepare(&s, f->store->state, "rows", "SELECT m.release, "
			"m.sha256 = r.sha256 FROM release_migrations m JOIN releases "
			"r ON r.id = m.release ORDER BY m.release", &err) < 0)
		fail_msg("%s", err.msg);
	while (rip_state_step(s, &err) == RIP_STATE_ROW)
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%s%s",
			at ? " " : "", rip_state_col_str(s, 0),
			rip_state_col_int64(s, 1) ? "" : "!");
	rip_state_stmt_free(s);
	return out;
}

/* Overwrites the middle of release id's artifact with garbage. */
static void damage(struct fx *f, const char *id)
{
	char *art = rip_store_artifact_path(f->store, id);
	int fd = open(art, O_WRONLY);
	struct stat sb;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(pwrite(fd, "garbage!", 8, sb.st_size / 2), 8);
	close(fd);
	free(art);
}

/* v1: an expand, a contract, an irreversible one. */
static void three_kinds(void **state)
{
	migration(state, "0001_a", "CREATE TABLE a (x int);\n",
		"DROP TABLE a;\n");
	migration(state, "0002_b", "-- ripcord: contract\nDROP TABLE a;\n",
		"CREATE TABLE a (x int);\n");
	migration(state, "0003_c", "-- ripcord:irreversible\n"
		"CREATE TABLE c (x int);\n", NULL);
}

/* The view is the verified read without its SQL, and opens nothing. */
static void test_view_is_the_verified_read(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_migrations view, full;
	struct rip_err err = { 0 };

	three_kinds(state);
	cut(state, "v1");
	assert_string_equal(rows(f), "v1");
	opens(f);
	if (rip_release_view_migrations(&view, f->store, "v1", NULL, &err) < 0)
		fail_msg("view: %s", err.msg);
	assert_string_equal(opens(f), "v1:0");
	if (rip_release_migrations(&full, f->store, "v1", NULL, &err) < 0)
		fail_msg("verified: %s", err.msg);
	assert_string_equal(opens(f), "v1:1");
	assert_int_equal(view.n, 3);
	assert_int_equal(full.n, 3);
	for (size_t i = 0; i < view.n; i++) {
		const struct rip_migration *a = &view.v[i], *b = &full.v[i];

		assert_string_equal(a->id, b->id);
		assert_string_equal(a->version, b->version);
		assert_string_equal(a->name, b->name);
		assert_int_equal(a->baseline, b->baseline);
		assert_int_equal(a->irreversible, b->irreversible);
		assert_int_equal(a->no_transaction, b->no_transaction);
		assert_int_equal(a->contract, b->contract);
		assert_memory_equal(a->checksum, b->checksum, RIP_SHA256_LEN);
		/* no SQL: nothing could be run from a view */
		assert_null(a->up.text);
		assert_null(a->down.text);
		assert_non_null(b->up.text);
	}
	assert_true(view.v[1].contract && !view.v[0].contract);
	assert_true(view.v[2].irreversible && !view.v[0].irreversible);
	rip_migrations_release(&view);
	rip_migrations_release(&full);
	assert_int_equal(rip_release_view_migrations(&view, f->store, "v9",
		NULL, &err), RIP_ENOTFOUND);
	assert_err_contains(&err, "release 'v9' not found");
	assert_int_equal(view.n, 0);
}

/* v2 (two expand, one contract) against v1, as status reads it. */
static void phase(struct fx *f, struct rip_schema_phase *p)
{
	struct rip_err err = { 0 };

	if (rip_schema_phase(p, f->cfg, f->store, "v2", "v1", &err) < 0)
		fail_msg("phase: %s", err.msg);
	assert_true(p->known);
	assert_int_equal(p->n, 3);
	assert_int_equal(p->expand_applied, 2);
	assert_int_equal(p->contract_applied + p->contract_pending, 1);
	assert_true(p->v[2].contract);
	assert_true(p->v[0].previous && p->v[1].previous && !p->v[2].previous);
}

static void two_releases(void **state)
{
	migration(state, "0001_a", "CREATE TABLE a (x int);\n",
		"DROP TABLE a;\n");
	migration(state, "0002_b", "CREATE TABLE b (x int);\n",
		"DROP TABLE b;\n");
	cut(state, "v1");
	migration(state, "0003_c", "-- ripcord: contract\nDROP TABLE b;\n",
		"CREATE TABLE b (x int);\n");
	cut(state, "v2");
}

/* The phase reads no artifact, and still shows with both damaged or
 * gone; the verified read deploy and rollback use refuses them. */
static void test_phase_reads_no_artifact(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_schema_phase p;
	struct rip_migrations m;
	struct rip_err err = { 0 };
	char *art;

	two_releases(state);
	deploy(f, "v1");
	deploy(f, "v2");
	opens(f);
	phase(f, &p);
	rip_schema_phase_release(&p);
	assert_string_equal(opens(f), "v1:0 v2:0");

	damage(f, "v2");
	art = rip_store_artifact_path(f->store, "v1");
	assert_int_equal(rename(art, tpath(state, "v1.moved")), 0);
	phase(f, &p);
	rip_schema_phase_release(&p);
	assert_int_equal(rip_release_migrations(&m, f->store, "v2", NULL,
		&err), RIP_EINTEGRITY);
	assert_int_equal(rip_release_migrations(&m, f->store, "v1", NULL,
		&err), RIP_EINTEGRITY);
	assert_err_contains(&err, "its artifact");
	assert_int_equal(rename(tpath(state, "v1.moved"), art), 0);
	free(art);
}

/* No rows (a store upgraded from schema 9): the first view reads each
 * verified artifact once and keeps what it read; the next reads none.
 * A row for another artifact, or one that does not parse, is read again;
 * a damaged artifact is an error then, and nothing is kept. */
static void test_without_rows(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_schema_phase p;
	struct rip_err err = { 0 };

	two_releases(state);
	deploy(f, "v1");
	deploy(f, "v2");
	assert_string_equal(rows(f), "v1 v2");
	sql(f, "DELETE FROM release_migrations");
	opens(f);
	phase(f, &p);
	rip_schema_phase_release(&p);
	assert_string_equal(opens(f), "v1:1 v2:1");
	assert_string_equal(rows(f), "v1 v2");
	phase(f, &p);
	rip_schema_phase_release(&p);
	assert_string_equal(opens(f), "v1:0 v2:0");

	/* a row for another artifact (v2 cut again under its id, say) */
	sql(f, "UPDATE release_migrations SET sha256 = 'ab', migrations = "
		"'[]' WHERE release = 'v2'");
	assert_string_equal(rows(f), "v1 v2!");
	phase(f, &p);
	rip_schema_phase_release(&p);
	assert_string_equal(opens(f), "v1:0 v2:1");
	assert_string_equal(rows(f), "v1 v2");
	sql(f, "UPDATE release_migrations SET migrations = '[{\"id\": "
		"\"../x\"}]' WHERE release = 'v1'");
	phase(f, &p);
	rip_schema_phase_release(&p);
	assert_string_equal(opens(f), "v1:1 v2:0");

	sql(f, "DELETE FROM release_migrations WHERE release = 'v2'");
	damage(f, "v2");
	assert_int_equal(rip_schema_phase(&p, f->cfg, f->store, "v2", "v1",
		&err), RIP_EINTEGRITY);
	rip_schema_phase_release(&p);
	assert_string_equal(rows(f), "v1");
}

/* What the schema is ahead by: each id's newest copy, from the rows. */
static void test_newest(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_strlist ids = { 0 };
	struct rip_migrations out;
	struct rip_err err = { 0 };

	migration(state, "0001_a", "CREATE TABLE a (x int);\n",
		"DROP TABLE a;\n");
	cut(state, "v1");
	/* v2 marks it contract: a phase chosen later, same checksum */
	migration(state, "0001_a", "-- ripcord: contract\n"
		"CREATE TABLE a (x int);\n", "DROP TABLE a;\n");
	cut(state, "v2");
	rip_strlist_push(&ids, "0009_none");
	rip_strlist_push(&ids, "0001_a");
	opens(f);
	if (rip_release_view_newest(&out, f->store, NULL, &ids, &err) < 0)
		fail_msg("newest: %s", err.msg);
	assert_string_equal(opens(f), "v1:0 v2:0");
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0].id, "0001_a");
	assert_true(out.v[0].contract);
	rip_migrations_release(&out);
	rip_strlist_release(&ids);
	assert_int_equal(rip_release_view_newest(&out, f->store, NULL, &ids,
		&err), 0);
	assert_int_equal(out.n, 0);
}

/* A row goes with its release, and on its own before gc's unlink; one
 * for a release the store does not record is refused. */
static void test_rows_go_with_the_release(void **state)
{
	struct fx *f = fx_of(state);
	struct rip_migrations none = { 0 };
	struct rip_err err = { 0 };

	two_releases(state);
	assert_string_equal(rows(f), "v1 v2");
	assert_int_equal(rip_release_view_forget(f->store, "v1", &err), 0);
	assert_string_equal(rows(f), "v2");
	assert_int_equal(rip_release_view_forget(f->store, "v1", &err), 0);
	assert_int_equal(rip_state_release_delete(f->store->state, "v2", &err),
		0);
	assert_string_equal(rows(f), "");
	assert_int_equal(rip_release_view_record(f->store, "v9", "ab", &none,
		&err), RIP_EDB);
	assert_err_contains(&err, "FOREIGN KEY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_view_is_the_verified_read,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_phase_reads_no_artifact,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_rows, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_go_with_the_release,
			setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
