/* SPDX-License-Identifier: MIT */
/*
 * state.c: state.db through SQLite: opening, the schema and its upgrades,
 * the releases table and drill_scratch (the PostgreSQL scratch databases
 * of drills, roundtrip.c); and for the modules that keep their own tables
 * in the same file (journal.c, store.c, rollout_rec.c, drill.c,
 * verdicts.c, release_view.c),
 * the statement helpers of state_internal.h. This is the only file that
 * calls SQLite for the store (the SQLite migration driver, db_sqlite.c,
 * has its own connections).
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

#include <sqlite3.h>

#include "ripcord/buf.h"
#include "state_internal.h"
#include "banned.h"

struct rip_state {
	sqlite3 *db;
	char *path;
	int schema;
};

struct rip_state_stmt {
	sqlite3_stmt *s;
	struct rip_state *st;
	char *what;
};

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

	/* 6: yanked releases (releases yank): kept, never deployed again */
	"ALTER TABLE releases ADD COLUMN yanked_at INTEGER;"
	"ALTER TABLE releases ADD COLUMN yank_reason TEXT;"
	"ALTER TABLE releases ADD COLUMN yanked_by TEXT;",

	/* 7: what an audited command did (journal.h: NULL in the entries
	 * written before, which keep their ripcord-audit-1 hash), and the
	 * ups a rollout applied, which its abort undoes and nothing else
	 * (rollout.h: NULL for a rollout recorded before) */
	"ALTER TABLE audit ADD COLUMN from_release TEXT;"
	"ALTER TABLE audit ADD COLUMN to_release TEXT;"
	"ALTER TABLE audit ADD COLUMN targets TEXT;"
	"ALTER TABLE audit ADD COLUMN migrations TEXT;"
	"ALTER TABLE rollouts ADD COLUMN applied TEXT;",

	/* 8: a lock holder a rollback may preempt (a deploy: store.h), what
	 * it works on, and the request to stop that a rollback leaves it,
	 * with the process that asked (a request whose asker is gone is
	 * not obeyed) */
	"ALTER TABLE lock_holder ADD COLUMN release TEXT;"
	"ALTER TABLE lock_holder ADD COLUMN preemptible INTEGER NOT NULL "
	"DEFAULT 0;"
	"ALTER TABLE lock_holder ADD COLUMN request TEXT;"
	"ALTER TABLE lock_holder ADD COLUMN request_pid INTEGER;"
	"ALTER TABLE lock_holder ADD COLUMN request_host TEXT;",

	/* 9: the judgments of rollout steps, with their numbers (verdicts.h) */
	"CREATE TABLE verdicts ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  rollout INTEGER NOT NULL,"
	"  step INTEGER NOT NULL,"
	"  round INTEGER NOT NULL,"
	"  final INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  verdict TEXT NOT NULL,"
	"  gate TEXT,"
	"  score REAL,"
	"  metrics TEXT NOT NULL,"
	"  message TEXT);"
	"CREATE INDEX verdicts_rollout ON verdicts (rollout, seq);",

	/* 10: the migrations each release carries, as its artifact says, for
	 * views (release_view.c); a release cut before has no row. The row
	 * goes with its release. */
	"CREATE TABLE release_migrations ("
	"  release TEXT PRIMARY KEY REFERENCES releases (id) ON DELETE CASCADE,"
	"  sha256 TEXT NOT NULL,"
	"  migrations TEXT NOT NULL);",
};

_Static_assert(RIP_ARRAY_SIZE(upgrades) == RIP_STATE_SCHEMA,
	"RIP_STATE_SCHEMA must name the last step of upgrades[]");

/* A damaged state.db is an integrity problem with its own advice. */
static int db_error(struct rip_state *st, struct rip_err *err,
	const char *what, const char *detail)
{
	int ec = sqlite3_errcode(st->db);

	/* the codes are returned here, not from rip_err_set, so that callers
	 * (and the analyzer) see a negative code on every failure path */
	if (ec == SQLITE_NOTADB || ec == SQLITE_CORRUPT) {
		rip_err_set(err, RIP_EINTEGRITY, "state database '%s' is "
			"damaged: %s (restore it from a backup; the artifacts next to "
			"it are not affected)", st->path, detail);
		return RIP_EINTEGRITY;
	}
	rip_err_set(err, RIP_EDB, "state database '%s': %s%s%s", st->path, what,
		what[0] ? ": " : "", detail);
	return RIP_EDB;
}

/* The error of the last SQLite call on st, as db_error. */
static int state_fail(struct rip_state *st, struct rip_err *err,
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
		return state_fail(st, err, "cannot read the schema version");
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
		rc = state_fail(st, err, "cannot open");
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

const char *rip_state_path(const struct rip_state *st)
{
	return st->path;
}

/* ---- statements --------------------------------------------------------- */

int rip_state_prepare(struct rip_state_stmt **out, struct rip_state *st,
	const char *what, const char *sql, struct rip_err *err)
{
	sqlite3_stmt *s;

	*out = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return state_fail(st, err, what);
	}
	*out = rip_xcalloc(1, sizeof(**out));
	(*out)->s = s;
	(*out)->st = st;
	(*out)->what = rip_xstrdup(what);
	return 0;
}

void rip_state_bind_text(struct rip_state_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s->s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s->s, i);
}

void rip_state_bind_int64(struct rip_state_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(s->s, i, (sqlite3_int64)v);
}

void rip_state_bind_double(struct rip_state_stmt *s, int i, double v)
{
	sqlite3_bind_double(s->s, i, v);
}

int rip_state_step(struct rip_state_stmt *s, struct rip_err *err)
{
	int step = sqlite3_step(s->s);

	if (step == SQLITE_ROW)
		return RIP_STATE_ROW;
	if (step == SQLITE_DONE)
		return 0;
	return state_fail(s->st, err, s->what);
}

int rip_state_run(struct rip_state_stmt *s, struct rip_err *err)
{
	int rc;

	while ((rc = rip_state_step(s, err)) == RIP_STATE_ROW)
		;
	return rc;
}

enum rip_state_type rip_state_col_type(struct rip_state_stmt *s, int i)
{
	switch (sqlite3_column_type(s->s, i)) {
	case SQLITE_INTEGER:
		return RIP_STATE_INTEGER;
	case SQLITE_FLOAT:
		return RIP_STATE_FLOAT;
	case SQLITE_TEXT:
		return RIP_STATE_TEXT;
	case SQLITE_BLOB:
		return RIP_STATE_BLOB;
	default:
		return RIP_STATE_NULL;
	}
}

int64_t rip_state_col_int64(struct rip_state_stmt *s, int i)
{
	return sqlite3_column_int64(s->s, i);
}

double rip_state_col_double(struct rip_state_stmt *s, int i)
{
	return sqlite3_column_double(s->s, i);
}

const char *rip_state_col_str(struct rip_state_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s->s, i);
}

char *rip_state_col_text(struct rip_state_stmt *s, int i)
{
	const char *t = rip_state_col_str(s, i);

	return t ? rip_xstrdup(t) : NULL;
}

size_t rip_state_col_bytes(struct rip_state_stmt *s, int i)
{
	int n = sqlite3_column_bytes(s->s, i);

	return n > 0 ? (size_t)n : 0;
}

void rip_state_stmt_free(struct rip_state_stmt *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->s);
	free(s->what);
	free(s);
}

int64_t rip_state_changes(struct rip_state *st)
{
	return sqlite3_changes(st->db);
}

int64_t rip_state_last_id(struct rip_state *st)
{
	return sqlite3_last_insert_rowid(st->db);
}

/* ---- releases ----------------------------------------------------------- */

int rip_state_release_add(struct rip_state *st,
	const struct rip_release_rec *r, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot record the release",
			"INSERT INTO releases (id, project, commit_id, tree, parent, "
			"created, cut_at, size, sha256, signed, files, bytes) VALUES "
			"(?,?,?,?,?,?,?,?,?,?,?,?)", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, r->id);
	rip_state_bind_text(s, 2, r->project);
	rip_state_bind_text(s, 3, r->commit);
	rip_state_bind_text(s, 4, r->tree);
	rip_state_bind_text(s, 5, r->parent);
	rip_state_bind_int64(s, 6, r->created);
	rip_state_bind_int64(s, 7, r->cut_at);
	rip_state_bind_int64(s, 8, (int64_t)r->size);
	rip_state_bind_text(s, 9, r->sha256);
	rip_state_bind_int64(s, 10, r->is_signed);
	rip_state_bind_int64(s, 11, (int64_t)r->files);
	rip_state_bind_int64(s, 12, (int64_t)r->bytes);
	rc = rip_state_run(s, err);
	rip_state_stmt_free(s);
	return rc;
}

static void read_row(struct rip_release_rec *r, struct rip_state_stmt *s)
{
	r->id = rip_state_col_text(s, 0);
	r->project = rip_state_col_text(s, 1);
	r->commit = rip_state_col_text(s, 2);
	r->tree = rip_state_col_text(s, 3);
	r->parent = rip_state_col_text(s, 4);
	r->created = rip_state_col_int64(s, 5);
	r->cut_at = rip_state_col_int64(s, 6);
	r->size = (uint64_t)rip_state_col_int64(s, 7);
	r->sha256 = rip_state_col_text(s, 8);
	r->is_signed = rip_state_col_int64(s, 9) != 0;
	r->files = (uint64_t)rip_state_col_int64(s, 10);
	r->bytes = (uint64_t)rip_state_col_int64(s, 11);
	r->yanked_at = rip_state_col_int64(s, 12);
	r->yank_reason = rip_state_col_text(s, 13);
	r->yanked_by = rip_state_col_text(s, 14);
}

#define RELEASE_COLS "id, project, commit_id, tree, parent, created, " \
	"cut_at, size, sha256, signed, files, bytes, " \
	"coalesce(yanked_at, 0), yank_reason, yanked_by"

int rip_state_release_get(struct rip_release_rec *out, struct rip_state *st,
	const char *id, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, st, "cannot read releases", "SELECT "
			RELEASE_COLS " FROM releases WHERE id = ?", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, id);
	rc = rip_state_step(s, err);
	if (rc == RIP_STATE_ROW) {
		read_row(out, s);
		rc = 0;
	} else if (rc == 0) {
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' not found in "
			"the store (see 'ripcord releases')", id);
	}
	rip_state_stmt_free(s);
	return rc;
}

int rip_state_release_delete(struct rip_state *st, const char *id,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot delete a release",
			"DELETE FROM releases WHERE id = ?", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, id);
	if ((rc = rip_state_run(s, err)) == 0 && !rip_state_changes(st))
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' not found in "
			"the store (see 'ripcord releases')", id);
	rip_state_stmt_free(s);
	return rc;
}

/* Runs an UPDATE of the release id bound as parameter 1 (the others by
 * the caller through bind); RIP_ENOTFOUND when no row matched. */
static int update_release(struct rip_state *st, const char *id,
	const char *sql, const char *reason, const char *who, int64_t at,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot update a release", sql,
			err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, id);
	if (who) {
		rip_state_bind_int64(s, 2, at);
		rip_state_bind_text(s, 3, reason);
		rip_state_bind_text(s, 4, who);
	}
	if ((rc = rip_state_run(s, err)) == 0 && !rip_state_changes(st))
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' not found in "
			"the store (see 'ripcord releases')", id);
	rip_state_stmt_free(s);
	return rc;
}

int rip_state_release_yank(struct rip_state *st, const char *id,
	const char *reason, const char *who, int64_t at, struct rip_err *err)
{
	return update_release(st, id, "UPDATE releases SET yanked_at = ?2, "
		"yank_reason = ?3, yanked_by = ?4 WHERE id = ?1", reason,
		who ? who : "unknown", at, err);
}

int rip_state_release_unyank(struct rip_state *st, const char *id,
	struct rip_err *err)
{
	return update_release(st, id, "UPDATE releases SET yanked_at = NULL, "
		"yank_reason = NULL, yanked_by = NULL WHERE id = ?1", NULL, NULL,
		0, err);
}

int rip_state_release_list(struct rip_release_rec **out, size_t *n,
	struct rip_state *st, struct rip_err *err)
{
	struct rip_release_rec *v = NULL;
	size_t alloc = 0, count = 0;
	struct rip_state_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = rip_state_prepare(&s, st, "cannot read releases", "SELECT "
			RELEASE_COLS " FROM releases ORDER BY seq", err)) < 0)
		return rc;
	while ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		RIP_ALLOC_GROW(v, count + 1, alloc);
		memset(&v[count], 0, sizeof(v[count]));
		read_row(&v[count++], s);
	}
	rip_state_stmt_free(s);
	if (rc < 0) {
		rip_release_recs_free(v, count);
		return rc;
	}
	*out = v;
	*n = count;
	return 0;
}

ssize_t rip_release_index(const struct rip_release_rec *v, size_t n,
	const char *id)
{
	for (size_t i = 0; id && i < n; i++)
		if (!strcmp(v[i].id, id))
			return (ssize_t)i;
	return -1;
}

void rip_release_rec_release(struct rip_release_rec *r)
{
	free(r->id);
	free(r->project);
	free(r->commit);
	free(r->tree);
	free(r->parent);
	free(r->sha256);
	free(r->yank_reason);
	free(r->yanked_by);
	memset(r, 0, sizeof(*r));
}

void rip_release_recs_free(struct rip_release_rec *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rip_release_rec_release(&v[i]);
	free(v);
}

/* ---- scratch databases of drills ---------------------------------------- */

/*
 * Made on first use rather than by an upgrade step: the table only ever
 * holds names a drill is about to create, an older ripcord ignores it, and
 * a store it was never needed in does not carry it.
 */
#define SCRATCH_TABLE "CREATE TABLE IF NOT EXISTS drill_scratch (" \
	"  name TEXT PRIMARY KEY," \
	"  server TEXT NOT NULL," \
	"  pid INTEGER NOT NULL," \
	"  host TEXT NOT NULL," \
	"  created INTEGER NOT NULL);"

int rip_state_scratch_add(struct rip_state *st,
	const struct rip_scratch_rec *r, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_exec(st, SCRATCH_TABLE, err)) < 0 ||
	    (rc = rip_state_prepare(&s, st, "cannot record the scratch "
		    "database", "INSERT INTO drill_scratch (name, server, pid, "
		    "host, created) VALUES (?, ?, ?, ?, ?)", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, r->name);
	rip_state_bind_text(s, 2, r->server);
	rip_state_bind_int64(s, 3, r->pid);
	rip_state_bind_text(s, 4, r->host);
	rip_state_bind_int64(s, 5, r->created);
	rc = rip_state_run(s, err);
	rip_state_stmt_free(s);
	return rc;
}

int rip_state_scratch_forget(struct rip_state *st, const char *name,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_exec(st, SCRATCH_TABLE, err)) < 0 ||
	    (rc = rip_state_prepare(&s, st, "cannot forget the scratch "
		    "database", "DELETE FROM drill_scratch WHERE name = ?",
		    err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, name);
	rc = rip_state_run(s, err);
	rip_state_stmt_free(s);
	return rc;
}

int rip_state_scratch_list(struct rip_scratch_rec **out, size_t *n,
	struct rip_state *st, struct rip_err *err)
{
	struct rip_scratch_rec *v = NULL;
	size_t count = 0, alloc = 0;
	struct rip_state_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = rip_state_exec(st, SCRATCH_TABLE, err)) < 0 ||
	    (rc = rip_state_prepare(&s, st, "cannot read the scratch "
		    "databases", "SELECT name, server, pid, host, created FROM "
		    "drill_scratch ORDER BY created, name", err)) < 0)
		return rc;
	while ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		struct rip_scratch_rec *r;

		RIP_ALLOC_GROW(v, count + 1, alloc);
		r = &v[count++];
		r->name = rip_state_col_text(s, 0);
		r->server = rip_state_col_text(s, 1);
		r->pid = rip_state_col_int64(s, 2);
		r->host = rip_state_col_text(s, 3);
		r->created = rip_state_col_int64(s, 4);
	}
	rip_state_stmt_free(s);
	if (rc < 0) {
		rip_scratch_recs_free(v, count);
		return rc;
	}
	*out = v;
	*n = count;
	return 0;
}

void rip_scratch_recs_free(struct rip_scratch_rec *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].server);
		free(v[i].host);
	}
	free(v);
}
