/* SPDX-License-Identifier: MIT */
/*
 * test_roundtrip.c: the migration round trip on scratch databases: the
 * realworld corpora (tests/data/realworld/, read with the layout loader)
 * pass whole and split at a parent; the broken sets fail naming the
 * migration and the objects; strict compares column order; a failing
 * migration still removes its scratch; the [migrations] database is never
 * created or touched. SQLite always; PostgreSQL when RIPCORD_TEST_PG holds
 * a conninfo (tests/pg.sh start DIR prints one), left out otherwise.
 */
#include "helpers.h"

#include <sys/stat.h>
#include <libpq-fe.h>

#include "ripcord/config.h"
#include "ripcord/fsutil.h"
#include "ripcord/layout.h"
#include "ripcord/roundtrip.h"
#include "ripcord/state.h"
#include "pg.h"

/* ------------------------------------------------------------------ */
/* migrations */

/* Adds every file of tests/data/realworld/<sub> to files, data to keep. */
static void add_dir(struct rip_layout_file **files, size_t *n,
	struct rip_buf **data, const char *sub)
{
	const char *root = getenv("SOURCE_ROOT");
	struct rip_buf dir = RIP_BUF_INIT;
	struct dirent *e;
	DIR *d;

	rip_buf_addf(&dir, "%s/tests/data/realworld/%s", root ? root : ".",
		sub);
	d = opendir(dir.buf);
	if (!d) {
		fail_msg("cannot open '%s'", dir.buf);
		return;
	}
	while ((e = readdir(d))) {
		struct rip_err err = { 0 };
		char *path;

		if (e->d_name[0] == '.')
			continue;
		*files = realloc(*files, (*n + 1) * sizeof(**files));
		*data = realloc(*data, (*n + 1) * sizeof(**data));
		assert_non_null(*files);
		assert_non_null(*data);
		path = rip_path_join(dir.buf, e->d_name);
		rip_buf_init(&(*data)[*n], 0);
		if (rip_read_file(&(*data)[*n], path, 1 << 20, &err) < 0)
			fail_msg("%s", err.msg);
		free(path);
		(*files)[*n].path = strdup(e->d_name);
		(*files)[*n].data = (*data)[*n].buf;
		(*files)[*n].len = (*data)[*n].len;
		(*n)++;
	}
	closedir(d);
	rip_buf_release(&dir);
}

/* Reads the golang-migrate folders subs (NULL-terminated) as one set. */
static void load(struct rip_migrations *out, const char *const *subs)
{
	struct rip_layout_opts o = { .format = RIP_LAYOUT_GOLANG,
		.dir = "realworld" };
	struct rip_layout_file *files = NULL;
	struct rip_buf *data = NULL;
	enum rip_layout_format got;
	struct rip_err err = { 0 };
	size_t n = 0;

	for (; *subs; subs++)
		add_dir(&files, &n, &data, *subs);
	memset(out, 0, sizeof(*out));
	if (rip_layout_read(out, &got, files, n, &o, &err) < 0)
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < n; i++) {
		free((char *)files[i].path);
		rip_buf_release(&data[i]);
	}
	free(files);
	free(data);
}

static void load1(struct rip_migrations *out, const char *sub)
{
	const char *subs[] = { sub, NULL };

	load(out, subs);
}

/* A migration written in a test: 000N_name.up.sql and .down.sql. */
struct mig {
	const char *name;
	const char *up;
	const char *down;         /* NULL: none */
};

/* Reads v[0..n) as migrations 0001, 0002, ... of the folder "t". */
static void inline_set(struct rip_migrations *out, const struct mig *v,
	size_t n)
{
	struct rip_layout_opts o = { .format = RIP_LAYOUT_GOLANG, .dir = "t" };
	struct rip_layout_file files[16];
	char names[16][96];
	enum rip_layout_format got;
	struct rip_err err = { 0 };
	size_t k = 0;

	assert_true(n * 2 <= 16);
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < 2; j++) {
			const char *text = j ? v[i].down : v[i].up;

			if (!text)
				continue;
			snprintf(names[k], sizeof(names[k]), "%04zu_%s.%s.sql",
				i + 1, v[i].name, j ? "down" : "up");
			files[k].path = names[k];
			files[k].data = text;
			files[k].len = strlen(text);
			k++;
		}
	}
	memset(out, 0, sizeof(*out));
	if (rip_layout_read(out, &got, files, k, &o, &err) < 0)
		fail_msg("%s", err.msg);
}

/* The first n of all, borrowed. */
static struct rip_migrations prefix(const struct rip_migrations *all,
	size_t n)
{
	struct rip_migrations p = { all->v, n, 0 };

	assert_true(n <= all->n);
	return p;
}

/* ------------------------------------------------------------------ */
/* watching the engine */

struct watch {
	const struct rip_roundtrip *out;
	PGconn *admin;          /* postgres: to see the scratch exist */
	int ups;
	int downs;
	int seen;               /* steps during which the scratch existed */
};

static bool pg_has_db(PGconn *c, const char *name);

static void on_step(void *data, const struct rip_migration *mg,
	enum rip_db_direction dir, int rc, double seconds)
{
	struct watch *w = data;

	(void)mg;
	(void)seconds;
	if (rc != 1)
		return;
	if (dir == RIP_DB_UP)
		w->ups++;
	else
		w->downs++;
	if (!w->out->scratch)
		return;
	if (w->admin ? pg_has_db(w->admin, w->out->scratch) :
			rip_path_exists(w->out->scratch))
		w->seen++;
}

static void sqlite_opts(struct rip_roundtrip_opts *o, struct watch *w,
	const char *tmpdir)
{
	memset(o, 0, sizeof(*o));
	o->driver = "sqlite";
	o->scratch = "scratch";
	o->tmpdir = tmpdir;
	o->on_step = on_step;
	o->data = w;
}

static void expect_failure(const struct rip_roundtrip *r, size_t i,
	const char *migration, const char *phase, const char *needle)
{
	const struct rip_roundtrip_failure *f;
	const char *text;

	if (i >= r->nfail)
		fail_msg("failure %zu of %zu expected", i, r->nfail);
	f = &r->fail[i];
	assert_string_equal(f->migration, migration);
	assert_string_equal(f->phase, phase);
	/* a script failed (error) or a schema differed (diff), not both */
	assert_true((f->diff == NULL) != (f->error == NULL));
	text = f->diff ? f->diff : f->error;
	if (!text || !strstr(text, needle))
		fail_msg("failure %zu (%s, %s) is\n%s\nwhich lacks '%s'", i,
			migration, phase, text, needle);
}

/* Prints the failures of r, for a test about to fail. */
static void show(const struct rip_roundtrip *r, const struct rip_err *err)
{
	printf("# %s\n", err->msg);
	for (size_t i = 0; i < r->nfail; i++)
		printf("# %s (%s):\n# %s\n", r->fail[i].migration,
			r->fail[i].phase, r->fail[i].diff ? r->fail[i].diff :
			r->fail[i].error);
}

static void expect_pass(int rc, const struct rip_roundtrip *r,
	const struct rip_err *err)
{
	if (rc != 0)
		show(r, err);
	assert_int_equal(rc, 0);
	assert_int_equal(r->nfail, 0);
}

/* ------------------------------------------------------------------ */
/* SQLite */

static void test_sqlite_corpus(void **state, bool strict)
{
	struct rip_migrations all;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;
	int rc;

	load1(&all, "sqlite");
	assert_true(all.n >= 30);
	sqlite_opts(&o, &w, t->path);
	o.strict = strict;
	rc = rip_roundtrip_run(&r, &o, NULL, &all, &err);
	expect_pass(rc, &r, &err);
	printf("# sqlite%s: %zu migrations round-tripped in %.2f s\n",
		strict ? " (strict)" : "", all.n, r.seconds);
	assert_int_equal(r.ups, all.n);
	assert_int_equal(r.checked, all.n);
	assert_int_equal(r.skipped, 0);
	assert_null(r.floor);
	assert_true(r.release_checked);
	/* up, down, up again of each; then all downs and all ups again */
	assert_int_equal(w.ups, 3 * (int)all.n);
	assert_int_equal(w.downs, 2 * (int)all.n);
	assert_string_not_equal(r.parent_fp, r.release_fp);
	assert_int_equal(strlen(r.release_fp), 64);
	/* the scratch file was there while it ran, and is gone */
	assert_int_equal(w.seen, w.ups + w.downs);
	assert_non_null(strstr(r.scratch, t->path));
	assert_false(rip_path_exists(r.scratch));
	assert_int_equal(count_entries(t->path), 0);
	rip_roundtrip_release(&r);
	rip_migrations_release(&all);
}

static void test_sqlite_realworld(void **state)
{
	test_sqlite_corpus(state, false);
}

/* Every rebuild of the corpus keeps its columns in place: strict passes. */
static void test_sqlite_realworld_strict(void **state)
{
	test_sqlite_corpus(state, true);
}

static void test_sqlite_parent_split(void **state)
{
	struct rip_migrations all, parent;
	struct rip_roundtrip r, whole;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;
	int rc, n;

	load1(&all, "sqlite");
	parent = prefix(&all, 20);
	n = (int)all.n - 20;
	sqlite_opts(&o, &w, t->path);
	rc = rip_roundtrip_run(&r, &o, &parent, &all, &err);
	expect_pass(rc, &r, &err);
	assert_int_equal(r.ups, n);
	assert_int_equal(r.checked, n);
	assert_true(r.release_checked);
	/* the parent's 20 ups once; only the new ones go down */
	assert_int_equal(w.ups, 20 + 3 * n);
	assert_int_equal(w.downs, 2 * n);
	assert_int_equal(count_entries(t->path), 0);

	/* A of the split is B of the first 20 alone */
	o.on_step = NULL;
	rc = rip_roundtrip_run(&whole, &o, NULL, &parent, &err);
	expect_pass(rc, &whole, &err);
	assert_string_equal(whole.release_fp, r.parent_fp);
	assert_string_not_equal(r.parent_fp, r.release_fp);
	rip_roundtrip_release(&whole);
	rip_roundtrip_release(&r);
	rip_migrations_release(&all);
}

static void test_sqlite_broken(void **state)
{
	static const char *const subs[] = { "sqlite", "broken-sqlite", NULL };
	struct rip_migrations all, parent;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;

	load(&all, subs);
	load1(&parent, "sqlite");
	assert_int_equal(all.n, parent.n + 2);
	sqlite_opts(&o, &w, t->path);
	assert_int_equal(rip_roundtrip_run(&r, &o, &parent, &all, &err),
		RIP_EFAIL);
	assert_int_equal(r.ups, 2);
	expect_failure(&r, 0, "0101_index_tasks_by_creator", "down",
		"index execution_tasks_created_by exists only after down");
	expect_failure(&r, 1, "0102_create_task_labels", "down",
		"table task_labels exists only after down");
	expect_failure(&r, 1, "0102_create_task_labels", "down",
		"column task_labels.label exists only after down");
	expect_failure(&r, 2, "0102_create_task_labels", "up again",
		"already exists");
	assert_int_equal(r.nfail, 3);
	assert_int_equal(r.failed, 2);
	assert_false(r.release_checked);
	assert_int_equal(err.code, RIP_EFAIL);
	/* the error counts and names the first; the objects are in r, whole */
	assert_err_contains(&err, "2 of 2 migrations failed; the "
		"first: migration '0101_index_tasks_by_creator': its down does "
		"not undo its up (1 object differs)");
	assert_int_equal(r.fail[0].nobj, 1);
	assert_string_equal(r.fail[0].obj[0].key,
		"index execution_tasks_created_by");
	assert_null(r.fail[0].obj[0].a);
	assert_non_null(strstr(r.fail[0].obj[0].b, "execution_tasks"));
	assert_string_equal(r.fail[0].a_label, "before up");
	assert_string_equal(r.fail[0].b_label, "after down");
	assert_true(w.seen > 0);
	assert_false(rip_path_exists(r.scratch));
	assert_int_equal(count_entries(t->path), 0);
	rip_roundtrip_release(&r);
	rip_migrations_release(&all);
	rip_migrations_release(&parent);
}

static const struct mig drop_mid_sqlite[] = {
	{ "create_t",
	  "CREATE TABLE t (a INTEGER PRIMARY KEY, mid TEXT, c TEXT);\n",
	  "DROP TABLE t;\n" },
	{ "drop_mid",
	  "CREATE TABLE t_new (a INTEGER PRIMARY KEY, c TEXT);\n"
	  "INSERT INTO t_new (a, c) SELECT a, c FROM t;\n"
	  "DROP TABLE t;\nALTER TABLE t_new RENAME TO t;\n",
	  "-- puts mid back, at the end\nALTER TABLE t ADD COLUMN mid TEXT;\n" },
};

static void test_sqlite_column_order(void **state)
{
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;

	inline_set(&m, drop_mid_sqlite, RIP_ARRAY_SIZE(drop_mid_sqlite));
	sqlite_opts(&o, &w, t->path);
	expect_pass(rip_roundtrip_run(&r, &o, NULL, &m, &err), &r, &err);
	rip_roundtrip_release(&r);

	o.strict = true;
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &m, &err), RIP_EFAIL);
	expect_failure(&r, 0, "0002_drop_mid", "down", "column t.c: type TEXT, "
		"position 3 before up, type TEXT, position 2 after down\n");
	expect_failure(&r, 0, "0002_drop_mid", "down", "column t.mid: type TEXT, "
		"position 2 before up, type TEXT, position 3 after down\n");
	assert_int_equal(r.nfail, 1);
	assert_int_equal(count_entries(t->path), 0);
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

static void test_sqlite_failing_halfway(void **state)
{
	static const struct mig v[] = {
		{ "create_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n",
		  "DROP TABLE a;\n" },
		{ "fill_b", "CREATE TABLE c (id INTEGER);\n"
		  "INSERT INTO b (id) VALUES (1);\n", "DROP TABLE c;\n" },
		{ "create_d", "CREATE TABLE d (id INTEGER);\n",
		  "DROP TABLE d;\n" },
	};
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;

	inline_set(&m, v, RIP_ARRAY_SIZE(v));
	sqlite_opts(&o, &w, t->path);
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &m, &err), RIP_EFAIL);
	expect_failure(&r, 0, "0002_fill_b", "up", "t/0002_fill_b.up.sql:2: "
		"no such table: b");
	assert_int_equal(r.nfail, 1);
	assert_int_equal(r.checked, 1);
	assert_int_equal(r.ups, 3);
	assert_err_contains(&err, "the up of migration '0002_fill_b' failed");
	assert_true(w.seen > 0);
	assert_false(rip_path_exists(r.scratch));
	assert_int_equal(count_entries(t->path), 0);
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

/* 13.10b: a bad down does not hide the ones after it */
static void test_sqlite_goes_on(void **state)
{
	static const struct mig v[] = {
		{ "create_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n",
		  "DROP TABLE a;\n" },
		{ "bad_down", "CREATE TABLE b (id INTEGER);\n",
		  "DROP TABLE nosuch;\n" },
		{ "create_c", "CREATE TABLE c (id INTEGER);\n",
		  "DROP TABLE c;\n" },
		{ "forgets_index", "CREATE INDEX a_id ON a (id);\n",
		  "-- forgets it\nSELECT 1;\n" },
		{ "create_e", "CREATE TABLE e (id INTEGER);\n",
		  "DROP TABLE e;\n" },
		{ "keeps_f", "CREATE TABLE f (id INTEGER);\n", "SELECT 1;\n" },
	};
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;

	inline_set(&m, v, RIP_ARRAY_SIZE(v));
	sqlite_opts(&o, &w, t->path);
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &m, &err), RIP_EFAIL);
	expect_failure(&r, 0, "0002_bad_down", "down", "no such table: nosuch");
	expect_failure(&r, 1, "0004_forgets_index", "down",
		"index a_id exists only after down");
	expect_failure(&r, 2, "0004_forgets_index", "up again",
		"already exists");
	expect_failure(&r, 3, "0006_keeps_f", "down",
		"table f exists only after down");
	expect_failure(&r, 4, "0006_keeps_f", "up again", "already exists");
	assert_int_equal(r.nfail, 5);
	assert_int_equal(r.failed, 3);
	assert_int_equal(r.ups, 6);
	/* 0002 never reached its up again, 0004 and 0006 failed theirs */
	assert_int_equal(r.checked, 3);
	assert_false(r.release_checked);
	assert_err_contains(&err, "3 of 6 migrations failed; the "
		"first: the down of migration '0002_bad_down' failed");
	assert_false(rip_path_exists(r.scratch));
	assert_int_equal(count_entries(t->path), 0);
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

/* 13.10c: nothing to undo is no irreversible migration */
static void test_sqlite_empty(void **state)
{
	static const struct mig v[] = {
		{ "create_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n",
		  "DROP TABLE a;\n" },
		{ "placeholder", "-- ripcord:irreversible\n-- kept for its "
		  "number\n", NULL },
		{ "create_c", "CREATE TABLE c (id INTEGER);\n",
		  "DROP TABLE c;\n" },
		{ "noop", "-- nothing\n;\n", "-- nothing either\n;\n" },
		{ "create_e", "CREATE TABLE e (id INTEGER);\n",
		  "DROP TABLE e;\n" },
	};
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;
	char *text;

	inline_set(&m, v, RIP_ARRAY_SIZE(v));
	sqlite_opts(&o, &w, t->path);
	expect_pass(rip_roundtrip_run(&r, &o, NULL, &m, &err), &r, &err);
	assert_int_equal(r.ups, 5);
	assert_int_equal(r.checked, 5);
	assert_int_equal(r.skipped, 0);
	assert_null(r.floor);
	assert_true(r.release_checked);
	text = rip_roundtrip_summary(&r);
	assert_string_equal(text, "5 migrations undone and redone");
	free(text);
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

/* 13.10: a view's definitions come back whole, however long */
static void test_sqlite_long_view(void **state)
{
	struct mig v[3] = {
		{ "create_t", "CREATE TABLE t (id INTEGER PRIMARY KEY);\n",
		  "DROP TABLE t;\n" },
		{ "view", NULL, "DROP VIEW wide;\n" },
		{ "narrow", "DROP VIEW wide;\nCREATE VIEW wide AS SELECT id, "
		  "1 AS one FROM t;\n", NULL },
	};
	struct rip_buf up = RIP_BUF_INIT, down = RIP_BUF_INIT;
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;
	const struct rip_roundtrip_object *ob;

	rip_buf_adds(&up, "CREATE VIEW wide AS SELECT id");
	for (int i = 0; i < 150; i++)
		rip_buf_addf(&up, ", id + %d AS column_number_%04d", i, i);
	rip_buf_adds(&up, " FROM t;\n");
	/* the down of 0003 puts back another view under the same name */
	rip_buf_adds(&down, "DROP VIEW wide;\nCREATE VIEW wide AS SELECT id "
		"FROM t;\n");
	v[1].up = up.buf;
	v[2].down = down.buf;
	inline_set(&m, v, RIP_ARRAY_SIZE(v));
	sqlite_opts(&o, &w, t->path);
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &m, &err), RIP_EFAIL);
	expect_failure(&r, 0, "0003_narrow", "down", "view wide");
	assert_int_equal(r.nfail, 1);
	assert_int_equal(r.fail[0].nobj, 1);
	ob = &r.fail[0].obj[0];
	assert_string_equal(ob->key, "view wide");
	/* whole: the last column is there (non-strict comparison sorts a
	 * view's select list, so it need not come last) */
	assert_non_null(strstr(ob->a, "column_number_0149"));
	assert_true(strlen(ob->a) > 4000);
	assert_non_null(strstr(ob->b, "select id from t"));
	assert_non_null(strstr(r.fail[0].diff, "column_number_0149"));
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
	rip_buf_release(&up);
	rip_buf_release(&down);
}

static void test_sqlite_irreversible(void **state)
{
	static const struct mig v[] = {
		{ "create_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n",
		  "DROP TABLE a;\n" },
		{ "backfill", "-- ripcord:irreversible folds old rows\n"
		  "CREATE TABLE b (id INTEGER);\n", NULL },
		{ "create_c", "CREATE TABLE c (id INTEGER);\n",
		  "DROP TABLE c;\n" },
		{ "create_d", "CREATE TABLE d (id INTEGER);\n",
		  "DROP TABLE d;\n" },
	};
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;

	inline_set(&m, v, RIP_ARRAY_SIZE(v));
	assert_true(m.v[1].irreversible);
	sqlite_opts(&o, &w, t->path);
	expect_pass(rip_roundtrip_run(&r, &o, NULL, &m, &err), &r, &err);
	assert_int_equal(r.ups, 4);
	assert_int_equal(r.checked, 3);
	assert_int_equal(r.skipped, 1);
	assert_string_equal(r.floor, "0002_backfill");
	assert_true(r.release_checked);
	/* per migration: up, down, up of 3 and the up of 0002; then the
	 * release's downs and ups, which stop above the floor (0003, 0004) */
	assert_int_equal(w.downs, 3 + 2);
	assert_int_equal(w.ups, 3 * 2 + 1 + 2);
	rip_roundtrip_release(&r);

	/* nothing above the floor: no release-level round trip */
	m.n = 2;
	w.ups = w.downs = 0;
	expect_pass(rip_roundtrip_run(&r, &o, NULL, &m, &err), &r, &err);
	assert_false(r.release_checked);
	assert_int_equal(w.downs, 1);
	m.n = 4;
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

static void test_sqlite_nothing_new(void **state)
{
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;

	inline_set(&m, drop_mid_sqlite, RIP_ARRAY_SIZE(drop_mid_sqlite));
	sqlite_opts(&o, &w, t->path);
	expect_pass(rip_roundtrip_run(&r, &o, &m, &m, &err), &r, &err);
	assert_int_equal(r.ups, 0);
	assert_false(r.release_checked);
	assert_string_equal(r.parent_fp, r.release_fp);
	assert_int_equal(w.ups, 2);
	assert_int_equal(w.downs, 0);
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

/* A relative tmpdir is taken from the working folder, once. */
static void test_sqlite_relative_tmpdir(void **state)
{
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct tmpdir *t = *state;
	char cwd[4096];

	inline_set(&m, drop_mid_sqlite, RIP_ARRAY_SIZE(drop_mid_sqlite));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(t->path), 0);
	assert_int_equal(mkdir("rel", 0755), 0);
	sqlite_opts(&o, &w, "rel");
	expect_pass(rip_roundtrip_run(&r, &o, NULL, &m, &err), &r, &err);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(strncmp(r.scratch, t->path, strlen(t->path)), 0);
	assert_true(w.seen > 0);
	assert_int_equal(w.seen, w.ups + w.downs);
	assert_int_equal(count_entries(tpath(state, "rel")), 0);
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

/* The config's [migrations] database is never created, even by accident. */
static void test_sqlite_config_database_untouched(void **state)
{
	static const char text[] =
		"[project]\nname = shop\n"
		"[migrations]\ndriver = sqlite\ndatabase = prod/app.db\n"
		"[drill]\nstrict = yes\n";
	static const struct mig v[] = {
		{ "create_a", "CREATE TABLE a (id INTEGER PRIMARY KEY, b TEXT);\n",
		  "DROP TABLE a;\n" },
		{ "index_a", "CREATE INDEX a_b ON a (b);\n", "DROP INDEX a_b;\n" },
	};
	struct rip_migrations all;
	struct rip_config *cfg;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct tmpdir *t = *state;
	char *scratch = rip_path_join(t->path, "scratch");

	assert_int_equal(rip_config_parse(&cfg, text, "ripcord.ini", t->path,
		&err), 0);
	rip_roundtrip_opts_init(&o, cfg);
	assert_string_equal(o.driver, "sqlite");
	assert_string_equal(o.scratch, "scratch");
	assert_true(o.strict);
	assert_int_equal(mkdir(scratch, 0755), 0);
	o.tmpdir = scratch;
	inline_set(&all, v, RIP_ARRAY_SIZE(v));
	expect_pass(rip_roundtrip_run(&r, &o, NULL, &all, &err), &r, &err);
	assert_int_equal(r.checked, 2);
	assert_false(rip_path_exists(tpath(state, "prod")));
	assert_int_equal(count_entries(scratch), 0);
	assert_int_equal(count_entries(t->path), 1);
	rip_roundtrip_release(&r);
	rip_migrations_release(&all);
	rip_config_free(cfg);
	free(scratch);
}

static void expect_refused(void **state, const char *driver,
	const char *scratch, int code, const char *needle)
{
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct tmpdir *t = *state;

	inline_set(&m, drop_mid_sqlite, RIP_ARRAY_SIZE(drop_mid_sqlite));
	sqlite_opts(&o, NULL, t->path);
	o.on_step = NULL;
	o.driver = driver;
	o.scratch = scratch;
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &m, &err), code);
	assert_int_equal(err.code, code);
	assert_err_contains(&err, needle);
	assert_int_equal(r.nfail, 0);
	assert_int_equal(count_entries(t->path), 0);
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

static void test_refusals(void **state)
{
	expect_refused(state, "command", NULL, RIP_ECONFIG,
		"migrations of the 'command' driver cannot be drilled");
	expect_refused(state, "sqlite", "host=/tmp dbname=x", RIP_ECONFIG,
		"set [drill] database = scratch");
	expect_refused(state, "postgres", "scratch", RIP_ECONFIG,
		"cannot be drilled on a scratch SQLite file");
	expect_refused(state, "postgres", NULL, RIP_ECONFIG,
		"cannot be drilled on a scratch SQLite file");
	expect_refused(state, "mysql", NULL, RIP_ECONFIG,
		"unknown migration driver 'mysql'");
	expect_refused(state, "postgres", "host='unterminated", RIP_ECONFIG,
		"[drill] database is not a postgres conninfo or URI");
	expect_refused(state, "postgres", "host=/nonexistent/ripcord-rt "
		"dbname=x connect_timeout=2", RIP_EIO,
		"[drill] database: cannot connect to postgres '");
}

/* The conninfo in the message has its password masked. */
static void test_refusal_masks_password(void **state)
{
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct tmpdir *t = *state;

	inline_set(&m, drop_mid_sqlite, RIP_ARRAY_SIZE(drop_mid_sqlite));
	sqlite_opts(&o, NULL, t->path);
	o.on_step = NULL;
	o.driver = "postgres";
	o.scratch = "host=/nonexistent/ripcord-rt dbname=x password=hunter2 "
		"connect_timeout=2";
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &m, &err), RIP_EIO);
	assert_err_contains(&err, "host='/nonexistent/ripcord-rt'");
	assert_err_contains(&err, "password=***");
	assert_null(strstr(err.msg, "hunter2"));
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

static void test_sqlite_no_tmpdir(void **state)
{
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };

	(void)state;
	inline_set(&m, drop_mid_sqlite, RIP_ARRAY_SIZE(drop_mid_sqlite));
	sqlite_opts(&o, NULL, "/nonexistent/ripcord-rt");
	o.on_step = NULL;
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &m, &err), RIP_EIO);
	assert_err_contains(&err, "cannot make a scratch folder in "
		"'/nonexistent/ripcord-rt'");
	assert_null(r.scratch);
	rip_roundtrip_release(&r);
	rip_roundtrip_release(&r); /* twice: still fine */
	rip_roundtrip_release(NULL);
	rip_migrations_release(&m);
}

/* ------------------------------------------------------------------ */
/* PostgreSQL */

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static PGconn *pg_connect(const char *dbname)
{
	const char *keys[] = { "dbname", "dbname", NULL };
	const char *vals[] = { getenv("RIPCORD_TEST_PG"), dbname, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect: %s", PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static PGconn *pg_admin(void)
{
	return pg_connect(NULL);
}

static void pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("postgres: %s\nin: %s", PQerrorMessage(c), sql);
	PQclear(r);
}

static long pg_count(PGconn *c, const char *sql, const char *arg)
{
	PGresult *r = PQexecParams(c, sql, arg ? 1 : 0, NULL, &arg, NULL,
		NULL, 0);
	long n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("postgres: %s\nin: %s", PQerrorMessage(c), sql);
	n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return n;
}

static bool pg_has_db(PGconn *c, const char *name)
{
	return pg_count(c, "SELECT count(*) FROM pg_database WHERE datname = $1",
		name) == 1;
}

struct pgstate {
	PGconn *admin;
};

static int pg_setup(void **state)
{
	struct pgstate *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->admin = pg_admin();
	*state = p;
	return 0;
}

static int pg_teardown(void **state)
{
	struct pgstate *p = *state;

	PQfinish(p->admin);
	free(p);
	return 0;
}

static void pg_opts(struct rip_roundtrip_opts *o, struct watch *w,
	struct pgstate *p)
{
	memset(o, 0, sizeof(*o));
	o->driver = "postgres";
	o->scratch = getenv("RIPCORD_TEST_PG");
	o->on_step = on_step;
	o->data = w;
	w->admin = p->admin;
}

/* The scratch database was there while it ran, under its pattern name,
 * and is gone. (A round trip uses that one name throughout, rebuilds
 * included. Counting every ripcord_drill_% database instead raced with
 * the drills other tests run on the same server at the same time.) */
static void expect_dropped(struct pgstate *p, const struct rip_roundtrip *r,
	const struct watch *w)
{
	const char *hex;

	assert_non_null(r->scratch);
	assert_int_equal(strncmp(r->scratch, "ripcord_drill_", 14), 0);
	hex = r->scratch + 14;
	assert_int_equal(strlen(hex), 16);
	assert_int_equal(strspn(hex, "0123456789abcdef"), 16);
	assert_true(w->seen > 0);
	assert_false(pg_has_db(p->admin, r->scratch));
}

static void test_pg_realworld(void **state)
{
	struct pgstate *p = *state;
	struct rip_migrations all;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	int rc;

	load1(&all, "postgres");
	assert_true(all.n >= 30);
	pg_opts(&o, &w, p);
	rc = rip_roundtrip_run(&r, &o, NULL, &all, &err);
	expect_pass(rc, &r, &err);
	printf("# postgres: %zu migrations round-tripped in %.2f s\n", all.n,
		r.seconds);
	assert_int_equal(r.ups, all.n);
	assert_int_equal(r.checked, all.n);
	assert_true(r.release_checked);
	assert_int_equal(w.ups, 3 * (int)all.n);
	assert_int_equal(w.downs, 2 * (int)all.n);
	assert_int_equal(w.seen, w.ups + w.downs);
	expect_dropped(p, &r, &w);
	rip_roundtrip_release(&r);
	rip_migrations_release(&all);
}

/* PostgreSQL adds a column back only at the end: 0016's down passes
 * without strict (above) and fails with it, naming the column. */
static void test_pg_realworld_strict(void **state)
{
	struct pgstate *p = *state;
	struct rip_migrations all;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };

	load1(&all, "postgres");
	pg_opts(&o, &w, p);
	o.strict = true;
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &all, &err),
		RIP_EFAIL);
	if (r.nfail != 1)
		show(&r, &err);
	expect_failure(&r, 0, "0016_split_user_profiles", "down",
		"column users.full_name: type text, position 3 before up, type "
		"text, position 5 after down\n");
	assert_int_equal(r.nfail, 1);
	assert_int_equal(r.checked, all.n);
	assert_false(r.release_checked);
	expect_dropped(p, &r, &w);
	rip_roundtrip_release(&r);
	rip_migrations_release(&all);
}

static void test_pg_parent_split(void **state)
{
	struct pgstate *p = *state;
	struct rip_migrations all, parent;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	int n;

	load1(&all, "postgres");
	parent = prefix(&all, 20);
	n = (int)all.n - 20;
	pg_opts(&o, &w, p);
	expect_pass(rip_roundtrip_run(&r, &o, &parent, &all, &err), &r, &err);
	assert_int_equal(r.ups, n);
	assert_int_equal(r.checked, n);
	assert_true(r.release_checked);
	assert_int_equal(w.ups, 20 + 3 * n);
	assert_int_equal(w.downs, 2 * n);
	expect_dropped(p, &r, &w);
	rip_roundtrip_release(&r);
	rip_migrations_release(&all);
}

static void test_pg_broken(void **state)
{
	static const char *const subs[] = { "postgres", "broken-postgres",
		NULL };
	struct pgstate *p = *state;
	struct rip_migrations all, parent;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };

	load(&all, subs);
	load1(&parent, "postgres");
	assert_int_equal(all.n, parent.n + 2);
	pg_opts(&o, &w, p);
	assert_int_equal(rip_roundtrip_run(&r, &o, &parent, &all, &err),
		RIP_EFAIL);
	assert_int_equal(r.ups, 2);
	expect_failure(&r, 0, "0101_index_tasks_by_creator", "down",
		"index execution_tasks_created_by_idx exists only after down");
	expect_failure(&r, 1, "0102_task_labels", "down",
		"column execution_tasks.labels exists only after down");
	expect_failure(&r, 2, "0102_task_labels", "up again", "already exists");
	assert_int_equal(r.nfail, 3);
	assert_err_contains(&err, "2 of 2 migrations failed; the "
		"first: migration '0101_index_tasks_by_creator': its down does "
		"not undo its up (1 object differs)");
	assert_string_equal(r.fail[0].obj[0].key,
		"index execution_tasks_created_by_idx");
	expect_dropped(p, &r, &w);
	rip_roundtrip_release(&r);
	rip_migrations_release(&all);
	rip_migrations_release(&parent);
}

static void test_pg_failing_halfway(void **state)
{
	static const struct mig v[] = {
		{ "create_a", "CREATE TABLE a (id bigint PRIMARY KEY);\n",
		  "DROP TABLE a;\n" },
		{ "index_b", "-- ripcord:no-transaction\n"
		  "CREATE INDEX CONCURRENTLY a_id ON a (id);\n"
		  "CREATE INDEX CONCURRENTLY b_id ON b (id);\n",
		  "DROP INDEX CONCURRENTLY IF EXISTS b_id;\n"
		  "DROP INDEX CONCURRENTLY IF EXISTS a_id;\n" },
		{ "create_c", "CREATE TABLE c (id int);\n", "DROP TABLE c;\n" },
	};
	struct pgstate *p = *state;
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };

	inline_set(&m, v, RIP_ARRAY_SIZE(v));
	assert_true(m.v[1].no_transaction);
	pg_opts(&o, &w, p);
	/* the second statement fails outside a transaction: a dirty level,
	 * a half-built schema, and still the database goes */
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &m, &err), RIP_EFAIL);
	expect_failure(&r, 0, "0002_index_b", "up", "relation \"b\" does not "
		"exist");
	assert_int_equal(r.nfail, 1);
	assert_err_contains(&err, "the up of migration '0002_index_b' failed");
	expect_dropped(p, &r, &w);
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

static void test_pg_column_order(void **state)
{
	static const struct mig v[] = {
		{ "create_t",
		  "CREATE TABLE t (a int PRIMARY KEY, mid text, c text);\n"
		  "COMMENT ON COLUMN t.c IS 'kept';\n", "DROP TABLE t;\n" },
		{ "drop_mid", "ALTER TABLE t DROP COLUMN mid;\n",
		  "ALTER TABLE t ADD COLUMN mid text;\n" },
		{ "comment", "COMMENT ON TABLE t IS 'the t';\n",
		  "COMMENT ON TABLE t IS 'the t, once';\n" },
	};
	struct pgstate *p = *state;
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };

	inline_set(&m, v, RIP_ARRAY_SIZE(v));
	pg_opts(&o, &w, p);
	expect_pass(rip_roundtrip_run(&r, &o, NULL, &m, &err), &r, &err);
	expect_dropped(p, &r, &w);
	rip_roundtrip_release(&r);

	o.strict = true;
	w.seen = 0;
	assert_int_equal(rip_roundtrip_run(&r, &o, NULL, &m, &err), RIP_EFAIL);
	expect_failure(&r, 0, "0002_drop_mid", "down", "column t.mid: type "
		"text, position 2 before up, type text, position 3 after down\n");
	/* the comment's down leaves another comment: strict sees it too */
	expect_failure(&r, 1, "0003_comment", "down", "table t: plain before "
		"up, comment 'the t, once' after down\n");
	assert_int_equal(r.nfail, 2);
	expect_dropped(p, &r, &w);
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
}

/* [migrations] database is neither created nor opened: an existing one
 * stays empty (the engine would have made ripcord_migrations in it), an
 * absent one stays absent. */
static void test_pg_config_database_untouched(void **state)
{
	static const struct mig v[] = {
		{ "create_t", "CREATE TABLE t (a int);\n", "DROP TABLE t;\n" },
	};
	struct pgstate *p = *state;
	struct rip_migrations m;
	struct rip_config *cfg;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct rip_buf text = RIP_BUF_INIT, sql = RIP_BUF_INIT;
	char prod[64], absent[64];
	PGconn *c;

	snprintf(prod, sizeof(prod), "ripcord_rt_prod_%ld", (long)getpid());
	snprintf(absent, sizeof(absent), "ripcord_rt_absent_%ld",
		(long)getpid());
	rip_buf_addf(&sql, "DROP DATABASE IF EXISTS %s", prod);
	pg_exec(p->admin, sql.buf);
	rip_buf_reset(&sql);
	rip_buf_addf(&sql, "CREATE DATABASE %s", prod);
	pg_exec(p->admin, sql.buf);
	inline_set(&m, v, RIP_ARRAY_SIZE(v));
	for (int i = 0; i < 2; i++) {
		rip_buf_reset(&text);
		rip_buf_addf(&text, "[project]\nname = shop\n[migrations]\n"
			"driver = postgres\ndatabase = %s dbname=%s\n[drill]\n"
			"database = %s\n", getenv("RIPCORD_TEST_PG"),
			i ? absent : prod, getenv("RIPCORD_TEST_PG"));
		assert_int_equal(rip_config_parse(&cfg, text.buf, "ripcord.ini",
			"/tmp", &err), 0);
		rip_roundtrip_opts_init(&o, cfg);
		assert_string_equal(o.driver, "postgres");
		assert_string_equal(o.scratch, getenv("RIPCORD_TEST_PG"));
		o.on_step = on_step;
		o.data = &w;
		w.admin = p->admin;
		expect_pass(rip_roundtrip_run(&r, &o, NULL, &m, &err), &r, &err);
		expect_dropped(p, &r, &w);
		rip_roundtrip_release(&r);
		rip_config_free(cfg);
	}
	assert_false(pg_has_db(p->admin, absent));
	c = pg_connect(prod);
	assert_int_equal(pg_count(c, "SELECT count(*) FROM pg_class c JOIN "
		"pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
		"'public'", NULL), 0);
	PQfinish(c);
	rip_buf_reset(&sql);
	rip_buf_addf(&sql, "DROP DATABASE %s", prod);
	pg_exec(p->admin, sql.buf);
	rip_buf_release(&sql);
	rip_buf_release(&text);
	rip_migrations_release(&m);
}

/* 13.13: a scratch database is recorded while it lives; one recorded by a
 * dead drill on this server is dropped, one never recorded is not, nor
 * one a live drill recorded */
static void test_pg_leftovers(void **state)
{
	static const struct mig v[] = {
		{ "create_a", "CREATE TABLE a (id int);\n", "DROP TABLE a;\n" },
	};
	static const char *const names[] = {
		"ripcord_drill_00000000000dead1",   /* dead drill: dropped */
		"ripcord_drill_00000000000a11e1",   /* live drill: kept */
		"ripcord_drill_000000000000fee1",   /* never recorded: kept */
		"ripcord_drill_0000000000000ff1",   /* another server's: kept */
	};
	struct pgstate *p = *state;
	struct rip_migrations m;
	struct rip_roundtrip r;
	struct rip_roundtrip_opts o;
	struct rip_err err = { 0 };
	struct watch w = { &r, NULL, 0, 0, 0 };
	struct rip_scratch_rec rec = { 0 }, *left;
	struct rip_state *st;
	struct rip_buf sql = RIP_BUF_INIT;
	char dir[] = "/tmp/ripcord-rt-XXXXXX", host[256] = "", *path, *admin;
	size_t n;

	assert_non_null(mkdtemp(dir));
	path = rip_path_join(dir, "state.db");
	assert_int_equal(rip_state_open(&st, path, &err), 0);
	assert_int_equal(rip_pg_conninfo_with_db(&admin,
		getenv("RIPCORD_TEST_PG"), NULL, &err), 0);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(names); i++) {
		rip_buf_reset(&sql);
		rip_buf_addf(&sql, "CREATE DATABASE %s", names[i]);
		pg_exec(p->admin, sql.buf);
	}
	rec.server = rip_pg_mask(admin);
	rec.host = host;
	rec.created = 1;
	rec.name = (char *)names[0];
	rec.pid = 999999999;      /* above any pid_max: no such process */
	assert_int_equal(rip_state_scratch_add(st, &rec, &err), 0);
	rec.name = (char *)names[1];
	rec.pid = (int64_t)getppid();
	assert_int_equal(rip_state_scratch_add(st, &rec, &err), 0);
	free(rec.server);
	rec.server = rip_xstrdup("host='elsewhere' dbname='postgres'");
	rec.name = (char *)names[3];
	rec.pid = 999999999;
	assert_int_equal(rip_state_scratch_add(st, &rec, &err), 0);

	inline_set(&m, v, RIP_ARRAY_SIZE(v));
	pg_opts(&o, &w, p);
	o.state = st;
	expect_pass(rip_roundtrip_run(&r, &o, NULL, &m, &err), &r, &err);
	assert_false(pg_has_db(p->admin, names[0]));
	assert_true(pg_has_db(p->admin, names[1]));
	assert_true(pg_has_db(p->admin, names[2]));
	assert_true(pg_has_db(p->admin, names[3]));
	assert_false(pg_has_db(p->admin, r.scratch));
	/* the dead one and this run's are forgotten, the others kept */
	assert_int_equal(rip_state_scratch_list(&left, &n, st, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(left[0].name, names[3]);   /* by name */
	assert_string_equal(left[1].name, names[1]);
	rip_scratch_recs_free(left, n);

	for (size_t i = 1; i < RIP_ARRAY_SIZE(names); i++) {
		rip_buf_reset(&sql);
		rip_buf_addf(&sql, "DROP DATABASE %s", names[i]);
		pg_exec(p->admin, sql.buf);
	}
	rip_roundtrip_release(&r);
	rip_migrations_release(&m);
	rip_state_free(st);
	assert_int_equal(rip_remove_tree(dir), 0);
	free(rec.server);
	free(admin);
	free(path);
	rip_buf_release(&sql);
}

#define TMP(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
#define PG(f) cmocka_unit_test_setup_teardown(f, pg_setup, pg_teardown)

/*
 * The postgres tests come last and are left out without a server: cmocka
 * 1.1.5 prints a skip() as "not ok N # SKIP", which meson counts as a
 * failure.
 */
int main(void)
{
	const struct CMUnitTest tests[] = {
		TMP(test_sqlite_realworld),
		TMP(test_sqlite_realworld_strict),
		TMP(test_sqlite_parent_split),
		TMP(test_sqlite_broken),
		TMP(test_sqlite_column_order),
		TMP(test_sqlite_failing_halfway),
		TMP(test_sqlite_irreversible),
		TMP(test_sqlite_goes_on),
		TMP(test_sqlite_empty),
		TMP(test_sqlite_long_view),
		TMP(test_sqlite_nothing_new),
		TMP(test_sqlite_relative_tmpdir),
		TMP(test_sqlite_config_database_untouched),
		TMP(test_refusals),
		TMP(test_refusal_masks_password),
		cmocka_unit_test(test_sqlite_no_tmpdir),
		PG(test_pg_realworld),
		PG(test_pg_realworld_strict),
		PG(test_pg_parent_split),
		PG(test_pg_broken),
		PG(test_pg_failing_halfway),
		PG(test_pg_column_order),
		PG(test_pg_config_database_untouched),
		PG(test_pg_leftovers),
	};
	return run_group_pg_last("roundtrip", tests, RIP_ARRAY_SIZE(tests),
		pg_setup);
}
