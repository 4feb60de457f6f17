/* SPDX-License-Identifier: MIT */
/*
 * test_state.c: state.db: records, durability settings, upgrades from an
 * older schema, refusal of a newer one, the store lock, and the statement
 * helpers the other modules reach state.db through (state_internal.h).
 */
#include "helpers.h"

#include <sqlite3.h>
#include <sys/wait.h>

#include "ripcord/state.h"
#include "ripcord/fsutil.h"
#include "ripcord/store.h"
#include "state_internal.h"

static void rec_fill(struct rip_release_rec *r, const char *id)
{
	memset(r, 0, sizeof(*r));
	r->id = (char *)id;
	r->project = "shop";
	r->commit = "0123456789abcdef0123456789abcdef01234567";
	r->tree = "89abcdef0123456789abcdef0123456789abcdef";
	r->created = 1700000000;
	r->cut_at = 1700000100;
	r->size = 4096;
	r->sha256 = "ab";
	r->is_signed = true;
	r->files = 3;
	r->bytes = 300;
}

static void test_records(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };
	struct rip_release_rec r, back, *v;
	size_t n;

	assert_int_equal(rip_state_open(&st, tpath(state, "state.db"), &err), 0);
	assert_int_equal(rip_state_schema(st), RIP_STATE_SCHEMA);
	rec_fill(&r, "v1");
	assert_int_equal(rip_state_release_add(st, &r, &err), 0);
	rec_fill(&r, "v2");
	r.parent = "v1";
	r.is_signed = false;
	assert_int_equal(rip_state_release_add(st, &r, &err), 0);
	/* ids are unique */
	assert_int_equal(rip_state_release_add(st, &r, &err), RIP_EDB);

	assert_int_equal(rip_state_release_get(&back, st, "v2", &err), 0);
	assert_string_equal(back.parent, "v1");
	assert_false(back.is_signed);
	assert_int_equal(back.size, 4096);
	rip_release_rec_release(&back);
	assert_int_equal(rip_state_release_get(&back, st, "v9", &err),
		RIP_ENOTFOUND);
	assert_err_contains(&err, "release 'v9' not found");

	assert_int_equal(rip_state_release_list(&v, &n, st, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "v1");
	assert_null(v[0].parent);
	assert_string_equal(v[1].id, "v2");
	rip_release_recs_free(v, n);
	rip_state_free(st);

	/* reopening keeps everything */
	assert_int_equal(rip_state_open(&st, tpath(state, "state.db"), &err), 0);
	assert_int_equal(rip_state_release_list(&v, &n, st, &err), 0);
	assert_int_equal(n, 2);
	rip_release_recs_free(v, n);
	rip_state_free(st);
}

static void test_pragmas(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };
	sqlite3 *db;
	sqlite3_stmt *s;

	assert_int_equal(rip_state_open(&st, tpath(state, "s.db"), &err), 0);
	rip_state_free(st);
	assert_int_equal(sqlite3_open(tpath(state, "s.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
		NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };
	sqlite3 *db;

	assert_int_equal(sqlite3_open(tpath(state, "n.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL,
		NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(rip_state_open(&st, tpath(state, "n.db"), &err),
		RIP_EDB);
	assert_null(st);
	assert_err_contains(&err, "schema version 999, newer than this ripcord");
}

/* A release is yanked and unyanked in place; the store refuses it. */
static void test_yank(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };
	struct rip_release_rec r, back;
	struct rip_store *store;

	assert_int_equal(rip_store_open(&store, t->path, true, &err), 0);
	rec_fill(&r, "v1");
	assert_int_equal(rip_state_release_add(store->state, &r, &err), 0);
	assert_int_equal(rip_state_release_get(&back, store->state, "v1", &err),
		0);
	assert_int_equal(back.yanked_at, 0);
	assert_null(back.yank_reason);
	assert_null(back.yanked_by);
	rip_release_rec_release(&back);
	assert_int_equal(rip_store_refuse_yanked(store, "v1", "deploy", &err), 0);

	assert_int_equal(rip_state_release_yank(store->state, "v1", "leaks",
		"alice", 1790000000, &err), 0);
	assert_int_equal(rip_state_release_get(&back, store->state, "v1", &err),
		0);
	assert_int_equal(back.yanked_at, 1790000000);
	assert_string_equal(back.yank_reason, "leaks");
	assert_string_equal(back.yanked_by, "alice");
	rip_release_rec_release(&back);
	assert_int_equal(rip_store_refuse_yanked(store, "v1", "deploy", &err),
		RIP_EFAIL);
	assert_err_contains(&err, "cannot deploy 'v1': it was yanked by alice "
		"on 2026-09-21 14:13 UTC (leaks): cut a fix, or 'ripcord releases "
		"unyank v1'");
	assert_int_equal(rip_store_refuse_yanked(store, "v1", "roll back to",
		&err), RIP_EFAIL);
	assert_err_contains(&err, "(leaks): pass --to another release");
	/* no reason given */
	assert_int_equal(rip_state_release_yank(store->state, "v1", NULL, "bob",
		1790000000, &err), 0);
	assert_int_equal(rip_store_refuse_yanked(store, "v1", "roll out", &err),
		RIP_EFAIL);
	assert_err_contains(&err, "yanked by bob on 2026-09-21 14:13 UTC (no "
		"reason given)");

	assert_int_equal(rip_state_release_unyank(store->state, "v1", &err), 0);
	assert_int_equal(rip_state_release_get(&back, store->state, "v1", &err),
		0);
	assert_int_equal(back.yanked_at, 0);
	assert_null(back.yank_reason);
	rip_release_rec_release(&back);
	assert_int_equal(rip_store_refuse_yanked(store, "v1", "deploy", &err), 0);
	/* unyanking what is not yanked is no error */
	assert_int_equal(rip_state_release_unyank(store->state, "v1", &err), 0);

	assert_int_equal(rip_state_release_yank(store->state, "v9", "x", "a",
		1, &err), RIP_ENOTFOUND);
	assert_err_contains(&err, "release 'v9' not found");
	assert_int_equal(rip_state_release_unyank(store->state, "v9", &err),
		RIP_ENOTFOUND);
	/* an unknown release is the lookup's business, not a yank */
	assert_int_equal(rip_store_refuse_yanked(store, "v9", "deploy", &err), 0);
	rip_store_free(store);
}

/* A schema 5 store gains the yank columns; its releases are not yanked. */
static void test_upgrade_to_yank(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };
	struct rip_release_rec back;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(tpath(state, "five.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE releases (seq INTEGER "
		"PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, project TEXT "
		"NOT NULL, commit_id TEXT NOT NULL, tree TEXT NOT NULL, parent "
		"TEXT, created INTEGER NOT NULL, cut_at INTEGER NOT NULL, size "
		"INTEGER NOT NULL, sha256 TEXT NOT NULL, signed INTEGER NOT NULL, "
		"files INTEGER NOT NULL, bytes INTEGER NOT NULL);"
		"INSERT INTO releases (id, project, commit_id, tree, created, "
		"cut_at, size, sha256, signed, files, bytes) VALUES ('v1', 'shop', "
		"'c', 't', 1, 2, 3, 'ab', 1, 4, 5);"
		/* the tables schemas 7 and 8 add columns to */
		"CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT);"
		"CREATE TABLE rollouts (seq INTEGER PRIMARY KEY AUTOINCREMENT);"
		"CREATE TABLE lock_holder (one INTEGER PRIMARY KEY);"
		"PRAGMA user_version = 5", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(rip_state_open(&st, tpath(state, "five.db"), &err), 0);
	assert_int_equal(rip_state_schema(st), RIP_STATE_SCHEMA);
	assert_int_equal(rip_state_release_get(&back, st, "v1", &err), 0);
	assert_int_equal(back.size, 3);
	assert_int_equal(back.yanked_at, 0);
	assert_null(back.yanked_by);
	rip_release_rec_release(&back);
	assert_int_equal(rip_state_release_yank(st, "v1", "r", "a", 7, &err), 0);
	rip_state_free(st);
}

/* The rows of release_migrations, by SQL on st. */
static int64_t view_rows(struct rip_state *st)
{
	struct rip_state_stmt *s;
	struct rip_err err = { 0 };
	int64_t n;

	assert_int_equal(rip_state_prepare(&s, st, "count", "SELECT count(*) "
		"FROM release_migrations", &err), 0);
	assert_int_equal(rip_state_step(s, &err), RIP_STATE_ROW);
	n = rip_state_col_int64(s, 0);
	rip_state_stmt_free(s);
	return n;
}

/* A schema 9 store gains release_migrations (10), empty: its releases
 * have no row, so views read their artifacts (release_view.c). A row
 * goes with its release. */
static void test_upgrade_to_release_migrations(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };
	struct rip_release_rec r;
	sqlite3 *db;

	assert_int_equal(rip_state_open(&st, tpath(state, "nine.db"), &err), 0);
	rec_fill(&r, "v1");
	assert_int_equal(rip_state_release_add(st, &r, &err), 0);
	rip_state_free(st);
	assert_int_equal(sqlite3_open(tpath(state, "nine.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE release_migrations; "
		"PRAGMA user_version = 9", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(rip_state_open(&st, tpath(state, "nine.db"), &err), 0);
	assert_int_equal(rip_state_schema(st), 10);
	assert_int_equal(rip_state_schema(st), RIP_STATE_SCHEMA);
	assert_int_equal(view_rows(st), 0);
	assert_int_equal(rip_state_release_get(&r, st, "v1", &err), 0);
	rip_release_rec_release(&r);
	assert_int_equal(rip_state_exec(st, "INSERT INTO release_migrations "
		"VALUES ('v1', 'ab', '[]')", &err), 0);
	assert_int_equal(view_rows(st), 1);
	/* only for a release the store records */
	assert_int_equal(rip_state_exec(st, "INSERT INTO release_migrations "
		"VALUES ('v9', 'ab', '[]')", &err), RIP_EDB);
	assert_int_equal(rip_state_release_delete(st, "v1", &err), 0);
	assert_int_equal(view_rows(st), 0);
	rip_state_free(st);
}

static void test_lock(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };
	struct rip_store *store;
	struct rip_lock a, b;
	pid_t pid;
	int status;

	assert_int_equal(rip_store_open(&store, t->path, true, &err), 0);
	rip_lock_set_command("ripcord cut --id v1");
	assert_int_equal(rip_lock_acquire(&a, store, "cut", &err), 0);
	/* flock is per open file: a second open in another process is busy,
	 * and it reads the holder from state.db */
	pid = fork();
	if (pid == 0) {
		struct rip_store *s2;
		int rc = rip_store_open(&s2, t->path, false, &err);

		if (rc == 0)
			rc = rip_lock_acquire(&b, s2, "deploy", &err);
		_exit(rc == RIP_EBUSY &&
			strstr(err.msg, "'ripcord cut --id v1'") &&
			strstr(err.msg, "pid ") && strstr(err.msg, " UTC") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	rip_lock_release(&a);
	rip_lock_set_command(NULL);
	assert_int_equal(rip_lock_acquire(&b, store, "again", &err), 0);
	rip_lock_release(&b);
	rip_store_free(store);
}

/*
 * A preemptible holder (a deploy) is asked to stop through its own row:
 * only while that row names it, never a holder that is not preemptible,
 * and a request goes with the row, so the next holder starts clean.
 */
static void test_lock_preempt(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };
	struct rip_store *store;
	struct rip_lock_info h, stale;
	struct rip_lock a;
	bool asked;
	char *by;

	assert_int_equal(rip_store_open(&store, t->path, true, &err), 0);
	assert_int_equal(rip_lock_info_read(&h, store, &err), 0);
	assert_int_equal(h.pid, 0);
	rip_lock_info_release(&h);

	assert_int_equal(rip_lock_acquire_preemptible(&a, store, "deploy", "v2",
		&err), 0);
	assert_int_equal(rip_lock_info_read(&h, store, &err), 0);
	assert_int_equal(h.pid, getpid());
	assert_true(h.preemptible);
	assert_true(h.alive);
	assert_string_equal(h.release, "v2");
	assert_null(h.request);
	assert_null(rip_lock_stop_request(store));
	/* a holder read with another pid is not the one that holds it now */
	stale = h;
	stale.pid = h.pid + 1;
	assert_int_equal(rip_lock_ask_stop(&asked, store, &stale, "x", &err), 0);
	assert_false(asked);
	assert_null(rip_lock_stop_request(store));
	assert_int_equal(rip_lock_ask_stop(&asked, store, &h, "'ripcord "
		"rollback' (pid 7)", &err), 0);
	assert_true(asked);
	by = rip_lock_stop_request(store);
	assert_string_equal(by, "'ripcord rollback' (pid 7)");
	free(by);
	rip_lock_info_release(&h);
	/* the next holder replaces the row, and the request with it */
	rip_lock_release(&a);
	assert_int_equal(rip_lock_acquire(&a, store, "gc", &err), 0);
	assert_null(rip_lock_stop_request(store));
	assert_int_equal(rip_lock_info_read(&h, store, &err), 0);
	assert_false(h.preemptible);
	assert_null(h.release);
	/* one that is not preemptible is never asked */
	assert_int_equal(rip_lock_ask_stop(&asked, store, &h, "x", &err), 0);
	assert_false(asked);
	assert_null(rip_lock_stop_request(store));
	rip_lock_info_release(&h);
	rip_lock_release(&a);
	rip_store_free(store);
}

static void test_store(void **state)
{
	struct rip_store *s;
	struct rip_err err = { 0 };
	char *p;

	assert_int_equal(rip_store_open(&s, tpath(state, "store"), false, &err),
		RIP_ENOTFOUND);
	assert_err_contains(&err, "cut a release first");
	assert_int_equal(rip_store_open(&s, tpath(state, "store"), true, &err),
		0);
	assert_true(rip_is_dir(s->artifacts));
	p = rip_store_artifact_path(s, "v1");
	assert_non_null(strstr(p, "/store/artifacts/v1.tar.zst"));
	free(p);
	rip_store_free(s);
}

/* Binds, steps and columns of every type, changes and the last id. */
static void test_statements(void **state)
{
	struct rip_state *st;
	struct rip_state_stmt *s = (struct rip_state_stmt *)state;
	struct rip_err err = { 0 };
	char *t;

	assert_int_equal(rip_state_open(&st, tpath(state, "state.db"), &err), 0);
	assert_int_equal(rip_state_exec(st, "CREATE TABLE t (seq INTEGER "
		"PRIMARY KEY, k TEXT UNIQUE, n INTEGER, x REAL, b BLOB)", &err), 0);
	assert_int_equal(rip_state_prepare(&s, st, "cannot write t", "INSERT "
		"INTO t (k, n, x, b) VALUES (?, ?, ?, x'00ff')", &err), 0);
	rip_state_bind_text(s, 1, "a");
	rip_state_bind_int64(s, 2, INT64_MAX);
	rip_state_bind_double(s, 3, 1.25);
	assert_int_equal(rip_state_run(s, &err), 0);
	assert_int_equal(rip_state_last_id(st), 1);
	rip_state_stmt_free(s);
	assert_int_equal(rip_state_prepare(&s, st, "cannot write t", "INSERT "
		"INTO t (k) VALUES (?)", &err), 0);
	rip_state_bind_text(s, 1, NULL);
	assert_int_equal(rip_state_run(s, &err), 0);
	assert_int_equal(rip_state_last_id(st), 2);
	rip_state_stmt_free(s);

	assert_int_equal(rip_state_prepare(&s, st, "cannot read t", "SELECT k, "
		"n, x, b, seq FROM t ORDER BY seq", &err), 0);
	assert_int_equal(rip_state_step(s, &err), RIP_STATE_ROW);
	assert_int_equal(rip_state_col_type(s, 0), RIP_STATE_TEXT);
	assert_int_equal(rip_state_col_type(s, 1), RIP_STATE_INTEGER);
	assert_int_equal(rip_state_col_type(s, 2), RIP_STATE_FLOAT);
	assert_int_equal(rip_state_col_type(s, 3), RIP_STATE_BLOB);
	assert_string_equal(rip_state_col_str(s, 0), "a");
	assert_int_equal(rip_state_col_bytes(s, 0), 1);
	assert_true(rip_state_col_int64(s, 1) == INT64_MAX);
	assert_true(rip_state_col_double(s, 2) == 1.25);
	assert_int_equal(rip_state_col_bytes(s, 3), 2);
	t = rip_state_col_text(s, 0);
	assert_string_equal(t, "a");
	free(t);
	assert_int_equal(rip_state_step(s, &err), RIP_STATE_ROW);
	assert_int_equal(rip_state_col_type(s, 0), RIP_STATE_NULL);
	assert_null(rip_state_col_str(s, 0));
	assert_null(rip_state_col_text(s, 0));
	assert_int_equal(rip_state_col_bytes(s, 0), 0);
	assert_int_equal(rip_state_col_int64(s, 4), 2);
	assert_int_equal(rip_state_step(s, &err), 0);
	rip_state_stmt_free(s);

	assert_int_equal(rip_state_exec(st, "UPDATE t SET n = 7", &err), 0);
	assert_int_equal(rip_state_changes(st), 2);
	assert_string_equal(rip_state_path(st), tpath(state, "state.db"));
	rip_state_stmt_free(NULL);
	rip_state_free(st);
}

/* A failure names the file and the job, in RIP_EDB, at either end. */
static void test_statement_errors(void **state)
{
	struct rip_state *st;
	struct rip_state_stmt *s = (struct rip_state_stmt *)state;
	struct rip_err err = { 0 };
	char want[1024];

	assert_int_equal(rip_state_open(&st, tpath(state, "state.db"), &err), 0);
	assert_int_equal(rip_state_prepare(&s, st, "cannot read the things",
		"SELECT * FROM nosuch", &err), RIP_EDB);
	assert_null(s);
	snprintf(want, sizeof(want), "state database '%s': cannot read the "
		"things: no such table: nosuch", tpath(state, "state.db"));
	assert_string_equal(err.msg, want);

	assert_int_equal(rip_state_exec(st, "CREATE TABLE u (k TEXT UNIQUE);"
		"INSERT INTO u VALUES ('a')", &err), 0);
	assert_int_equal(rip_state_prepare(&s, st, "cannot add a thing",
		"INSERT INTO u VALUES (?)", &err), 0);
	rip_state_bind_text(s, 1, "a");
	assert_int_equal(rip_state_run(s, &err), RIP_EDB);
	assert_err_contains(&err, "': cannot add a thing: UNIQUE constraint "
		"failed: u.k");
	rip_state_stmt_free(s);

	assert_int_equal(rip_state_exec(st, "SELEC 1", &err), RIP_EDB);
	assert_err_contains(&err, "syntax error");
	rip_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_pragmas, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_yank, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_to_yank, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_to_release_migrations,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_lock, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_lock_preempt, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_store, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_statements, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_statement_errors,
			tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
