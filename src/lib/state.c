/* SPDX-License-Identifier: MIT */
/*
 * state.c: state.db through SQLite: opening, the schema and its upgrades,
 * and the releases table. journal.c keeps the switch journal and the audit
 * log in the same file through state_internal.h; the two are the only files
 * that call SQLite for the store (the migration drivers have their own
 * connections).
 *
 * Durability over speed: WAL with synchronous=FULL, because a record that
 * says a release exists must survive a power cut. The schema version lives
 * in PRAGMA user_version and each upgrade step runs in one transaction, so
 * a later ripcord opens an older store without losing anything and a newer
 * store is refused, never misread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "state_internal.h"
#include "banned.h"

/*
 * upgrades[i] takes a database from version i to i + 1. A step, once
 * released, never changes: stores made by that version have run it.
 */
static const char *const upgrades[] = {
	"CREATE TABLE releases ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  id TEXT NOT NULL UNIQUE,"
	"  project TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  tree TEXT NOT NULL,"
	"  parent TEXT,"
	"  created INTEGER NOT NULL,"
	"  cut_at INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  signed INTEGER NOT NULL,"
	"  files INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL);",

	/* 2: the switch journal and the audit log (journal.h) */
	"CREATE TABLE switches ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  target TEXT NOT NULL,"
	"  release TEXT NOT NULL,"
	"  previous TEXT,"
	"  op TEXT NOT NULL,"
	"  result TEXT NOT NULL,"
	"  started INTEGER NOT NULL,"
	"  finished INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX switches_target ON switches (target, seq);"
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  at INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  host TEXT NOT NULL,"
	"  command TEXT NOT NULL,"
	"  result TEXT NOT NULL,"
	"  exit_code INTEGER NOT NULL,"
	"  seconds REAL NOT NULL,"
	"  prev_sha256 TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL);",

	/* 3: who holds <store>/lock (store.h); operations and the activate
	 * hook's state per switch (journal.h) */
	"ALTER TABLE switches ADD COLUMN activate TEXT;"
	"CREATE TABLE operations ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  op TEXT NOT NULL,"
	"  release TEXT,"
	"  result TEXT NOT NULL,"
	"  started INTEGER NOT NULL,"
	"  finished INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE lock_holder ("
	"  one INTEGER PRIMARY KEY CHECK (one = 1),"
	"  pid INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  command TEXT NOT NULL,"
	"  since INTEGER NOT NULL);",

	/* 4: drills (drill.h) */
	"CREATE TABLE drills ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  release TEXT NOT NULL,"
	"  started INTEGER NOT NULL,"
	"  seconds REAL NOT NULL,"
	"  result TEXT NOT NULL,"
	"  detail TEXT,"
	"  steps TEXT NOT NULL);"
	"CREATE INDEX drills_release ON drills (release, seq);",

	/* 5: canary rollouts (rollout.h) */
	"CREATE TABLE rollouts ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  release TEXT NOT NULL,"
	"  previous TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  phase TEXT NOT NULL,"
	"  request TEXT,"
	"  reason TEXT,"
	"  step INTEGER NOT NULL,"
	"  counts TEXT NOT NULL,"
	"  percents TEXT NOT NULL,"
	"  bake_ms INTEGER NOT NULL,"
	"  manual INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  host TEXT NOT NULL,"
	"  started INTEGER NOT NULL,"
	"  step_started INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  finished INTEGER NOT NULL DEFAULT 0,"
	"  figures TEXT);",
};

_Static_assert(RIP_ARRAY_SIZE(upgrades) == RIP_STATE_SCHEMA,
	"RIP_STATE_SCHEMA must name the last step of upgrades[]");

/* A damaged state.db is an integrity problem with its own advice. */
static int db_error(struct rip_state *st, struct rip_err *err,
	const char *what, const char *detail)
{
	int ec = sqlite3_errcode(st->db);

	if (ec == SQLITE_NOTADB || ec == SQLITE_CORRUPT)
		return rip_err_set(err, RIP_EINTEGRITY, "state database '%s' is "
			"damaged: %s (restore it from a backup; the artifacts next to "
			"it are not affected)", st->path, detail);
	return rip_err_set(err, RIP_EDB, "state database '%s': %s%s%s",
		st->path, what, what[0] ? ": " : "", detail);
}

int rip_state_fail(struct rip_state *st, struct rip_err *err,
	const char *what)
{
	return db_error(st, err, what, sqlite3_errmsg(st->db));
}

int rip_state_exec(struct rip_state *st, const char *sql,
	struct rip_err *err)
{
	char *msg = NULL;
	int rc = 0;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		rc = db_error(st, err, "", msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return rc;
}

int rip_state_begin(struct rip_state *st, struct rip_err *err)
{
	return rip_state_exec(st, "BEGIN IMMEDIATE", err);
}

int rip_state_end(struct rip_state *st, int rc, struct rip_err *err)
{
	return rip_state_finish(st, rc, err);
}

int rip_state_finish(struct rip_state *st, int rc, struct rip_err *err)
{
	if (rc == 0 && (rc = rip_state_exec(st, "COMMIT", err)) == 0)
		return 0;
	/* the error that made us roll back is the one worth reporting; a
	 * failed COMMIT may have ended the transaction already */
	(void)rip_state_exec(st, "ROLLBACK", NULL);
	return rc;
}

static int read_version(struct rip_state *st, int *out, struct rip_err *err)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL))
		return rip_state_fail(st, err, "cannot read the schema version");
	*out = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	return 0;
}

static int upgrade(struct rip_state *st, struct rip_err *err)
{
	int v = 0, rc;

	if ((rc = rip_state_exec(st, "BEGIN IMMEDIATE", err)) < 0)
		return rc;
	if ((rc = read_version(st, &v, err)) < 0)
		goto fail;
	if (v > (int)RIP_ARRAY_SIZE(upgrades)) {
		rc = rip_err_set(err, RIP_EDB, "state database '%s' has schema "
			"version %d, newer than this ripcord knows (%d); upgrade "
			"ripcord", st->path, v, (int)RIP_ARRAY_SIZE(upgrades));
		goto fail;
	}
	for (; v < (int)RIP_ARRAY_SIZE(upgrades); v++) {
		char pragma[64];

		if ((rc = rip_state_exec(st, upgrades[v], err)) < 0)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if ((rc = rip_state_exec(st, pragma, err)) < 0)
			goto fail;
	}
	st->schema = v;
	return rip_state_exec(st, "COMMIT", err);
fail:
	(void)rip_state_exec(st, "ROLLBACK", NULL);
	return rc;
}

int rip_state_open(struct rip_state **out, const char *path,
	struct rip_err *err)
{
	struct rip_state *st = rip_xcalloc(1, sizeof(*st));
	int rc;

	*out = NULL;
	st->path = rip_xstrdup(path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
			SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)) {
		rc = rip_state_fail(st, err, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if ((rc = rip_state_exec(st, "PRAGMA journal_mode = WAL; "
			"PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
			err)) < 0)
		goto fail;
	if ((rc = upgrade(st, err)) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	rip_state_free(st);
	return rc;
}

void rip_state_free(struct rip_state *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

int rip_state_schema(const struct rip_state *st)
{
	return st->schema;
}

void rip_state_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

int rip_state_release_add(struct rip_state *st,
	const struct rip_release_rec *r, struct rip_err *err)
{
	sqlite3_stmt *s;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db, "INSERT INTO releases (id, project, "
			"commit_id, tree, parent, created, cut_at, size, sha256, "
			"signed, files, bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			-1, &s, NULL))
		return rip_state_fail(st, err, "cannot record the release");
	rip_state_bind_text(s, 1, r->id);
	rip_state_bind_text(s, 2, r->project);
	rip_state_bind_text(s, 3, r->commit);
	rip_state_bind_text(s, 4, r->tree);
	rip_state_bind_text(s, 5, r->parent);
	sqlite3_bind_int64(s, 6, r->created);
	sqlite3_bind_int64(s, 7, r->cut_at);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)r->size);
	rip_state_bind_text(s, 9, r->sha256);
	sqlite3_bind_int(s, 10, r->is_signed);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)r->files);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)r->bytes);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = rip_state_fail(st, err, "cannot record the release");
	sqlite3_finalize(s);
	return rc;
}

char *rip_state_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? rip_xstrdup((const char *)t) : NULL;
}

static void read_row(struct rip_release_rec *r, sqlite3_stmt *s)
{
	r->id = rip_state_col_text(s, 0);
	r->project = rip_state_col_text(s, 1);
	r->commit = rip_state_col_text(s, 2);
	r->tree = rip_state_col_text(s, 3);
	r->parent = rip_state_col_text(s, 4);
	r->created = sqlite3_column_int64(s, 5);
	r->cut_at = sqlite3_column_int64(s, 6);
	r->size = (uint64_t)sqlite3_column_int64(s, 7);
	r->sha256 = rip_state_col_text(s, 8);
	r->is_signed = sqlite3_column_int(s, 9) != 0;
	r->files = (uint64_t)sqlite3_column_int64(s, 10);
	r->bytes = (uint64_t)sqlite3_column_int64(s, 11);
}

#define RELEASE_COLS "id, project, commit_id, tree, parent, created, " \
	"cut_at, size, sha256, signed, files, bytes"

int rip_state_release_get(struct rip_release_rec *out, struct rip_state *st,
	const char *id, struct rip_err *err)
{
	sqlite3_stmt *s;
	int rc = 0, step;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(st->db, "SELECT " RELEASE_COLS " FROM releases "
			"WHERE id = ?", -1, &s, NULL))
		return rip_state_fail(st, err, "cannot read releases");
	rip_state_bind_text(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		read_row(out, s);
	else if (step == SQLITE_DONE)
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' not found in "
			"the store (see 'ripcord releases')", id);
	else
		rc = rip_state_fail(st, err, "cannot read releases");
	sqlite3_finalize(s);
	return rc;
}

int rip_state_release_delete(struct rip_state *st, const char *id,
	struct rip_err *err)
{
	sqlite3_stmt *s;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db, "DELETE FROM releases WHERE id = ?", -1,
			&s, NULL))
		return rip_state_fail(st, err, "cannot delete a release");
	rip_state_bind_text(s, 1, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = rip_state_fail(st, err, "cannot delete a release");
	else if (!sqlite3_changes(st->db))
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' not found in "
			"the store (see 'ripcord releases')", id);
	sqlite3_finalize(s);
	return rc;
}

int rip_state_release_list(struct rip_release_rec **out, size_t *n,
	struct rip_state *st, struct rip_err *err)
{
	struct rip_release_rec *v = NULL;
	size_t alloc = 0, count = 0;
	sqlite3_stmt *s;
	int step;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT " RELEASE_COLS " FROM releases "
			"ORDER BY seq", -1, &s, NULL))
		return rip_state_fail(st, err, "cannot read releases");
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		RIP_ALLOC_GROW(v, count + 1, alloc);
		memset(&v[count], 0, sizeof(v[count]));
		read_row(&v[count++], s);
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		rip_release_recs_free(v, count);
		return rip_state_fail(st, err, "cannot read releases");
	}
	*out = v;
	*n = count;
	return 0;
}

void rip_release_rec_release(struct rip_release_rec *r)
{
	free(r->id);
	free(r->project);
	free(r->commit);
	free(r->tree);
	free(r->parent);
	free(r->sha256);
	memset(r, 0, sizeof(*r));
}

void rip_release_recs_free(struct rip_release_rec *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rip_release_rec_release(&v[i]);
	free(v);
}
