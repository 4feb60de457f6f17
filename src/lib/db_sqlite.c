/* SPDX-License-Identifier: MIT */
/*
 * db_sqlite.c: the SQLite migration driver, in process.
 *
 * Each migration runs in one transaction together with its record, with
 * foreign keys handled the way SQLite's documentation prescribes for table
 * rebuilds: foreign_keys off outside the transaction, foreign_key_check
 * before the commit, foreign_keys back on. Statements are prepared one by
 * one (SQLite's own parser finds their ends, trigger bodies included), so
 * a failure names the line of the statement that failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "ripcord/db.h"
#include "ripcord/fsutil.h"
#include "fp_read.h"
#include "db_internal.h"
#include "sqltok.h"
#include "banned.h"

struct rip_db {
	sqlite3 *conn;
	char *path;
};

static int sq_fail(struct rip_db *db, struct rip_err *err, const char *what)
{
	return rip_err_set(err, RIP_EFAIL, "sqlite '%s': %s: %s", db->path,
		what, sqlite3_errmsg(db->conn));
}

static int sq_exec(struct rip_db *db, const char *sql, struct rip_err *err)
{
	if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(db, err, sql);
	return 0;
}

static void sq_close(struct rip_db *db)
{
	if (!db)
		return;
	sqlite3_close(db->conn);
	free(db->path);
	free(db);
}

int rip_db_sqlite_open_file(struct rip_db **out, const char *path,
	struct rip_err *err)
{
	struct rip_db *db = rip_xcalloc(1, sizeof(*db));

	*out = NULL;
	db->path = rip_xstrdup(path);
	if (sqlite3_open_v2(path, &db->conn, SQLITE_OPEN_READWRITE |
			SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		int rc = sq_fail(db, err, "cannot open");

		sq_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db->conn, 10000);
	*out = db;
	return 0;
}

static int sq_open(struct rip_db **out, const struct rip_db_target *t,
	struct rip_err *err)
{
	struct rip_db *db = NULL;
	char *dir;
	int rc;

	*out = NULL;
	if (!t->database || !t->database[0])
		return rip_err_set(err, RIP_ECONFIG, "[migrations] database is not "
			"set (the SQLite file to migrate)");
	/* like the database file, its folder is made on first use */
	dir = rip_path_dirname(t->database);
	rc = rip_mkdir_p(dir, 0755, err);
	free(dir);
	if (rc < 0)
		return rc;
	if ((rc = rip_db_sqlite_open_file(&db, t->database, err)) < 0)
		return rc;
	if ((rc = sq_exec(db, "CREATE TABLE IF NOT EXISTS ripcord_migrations ("
			"seq INTEGER PRIMARY KEY AUTOINCREMENT, "
			"version TEXT NOT NULL, name TEXT NOT NULL, "
			"checksum TEXT NOT NULL, applied_at INTEGER NOT NULL, "
			"dirty INTEGER NOT NULL DEFAULT 0, "
			"UNIQUE (version, name))", err)) < 0) {
		sq_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

static int sq_applied(struct rip_db *db, struct rip_applied_list *out,
	struct rip_err *err)
{
	sqlite3_stmt *s;
	int step;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(db->conn, "SELECT version, name, checksum, "
			"applied_at, dirty FROM ripcord_migrations ORDER BY seq",
			-1, &s, NULL) != SQLITE_OK)
		return sq_fail(db, err, "cannot read ripcord_migrations");
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		rip_applied_add(out, (const char *)sqlite3_column_text(s, 0),
			(const char *)sqlite3_column_text(s, 1),
			(const char *)sqlite3_column_text(s, 2),
			sqlite3_column_int64(s, 3), sqlite3_column_int(s, 4) != 0);
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		rip_applied_list_release(out);
		return sq_fail(db, err, "cannot read ripcord_migrations");
	}
	return 0;
}

/* Runs every statement of sql; on failure names file:line. */
static int run_script(struct rip_db *db, const struct rip_sql *sql,
	struct rip_err *err)
{
	const char *p = sql->text, *end = sql->text + sql->len;

	while (p < end) {
		const char *tail = NULL;
		sqlite3_stmt *s = NULL;
		int rc = sqlite3_prepare_v2(db->conn, p, (int)(end - p), &s, &tail);
		int step = SQLITE_DONE;

		if (rc == SQLITE_OK && s)
			while ((step = sqlite3_step(s)) == SQLITE_ROW)
				;
		if (rc != SQLITE_OK || (step != SQLITE_DONE && s)) {
			int off = sqlite3_error_offset(db->conn);
			size_t at = (size_t)(p - sql->text) +
				(size_t)strspn(p, " \t\r\n") +
				(off > 0 && rc != SQLITE_OK ? (size_t)off : 0);

			rip_err_set(err, RIP_EFAIL, "%s:%d: %s", sql->file ?
				sql->file : "migration", rip_sql_line(sql->text, at),
				sqlite3_errmsg(db->conn));
			sqlite3_finalize(s);
			return RIP_EFAIL;
		}
		sqlite3_finalize(s);
		if (!tail || tail == p)
			break;
		p = tail;
	}
	return 0;
}

int rip_db_sqlite_record(struct rip_db *db, const struct rip_migration *m,
	enum rip_db_direction dir, bool dirty, struct rip_err *err)
{
	char hex[RIP_SHA256_HEX];
	sqlite3_stmt *s;
	int rc = 0;

	rip_hex(hex, m->checksum, RIP_SHA256_LEN);
	if (sqlite3_prepare_v2(db->conn, dir == RIP_DB_UP ?
			"INSERT INTO ripcord_migrations (version, name, checksum, "
			"applied_at, dirty) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT "
			"(version, name) DO UPDATE SET dirty = ?5" :
			"DELETE FROM ripcord_migrations WHERE version = ?1 AND "
			"name = ?2", -1, &s, NULL) != SQLITE_OK)
		return sq_fail(db, err, "cannot record the migration");
	sqlite3_bind_text(s, 1, m->version, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, m->name, -1, SQLITE_TRANSIENT);
	if (dir == RIP_DB_UP) {
		sqlite3_bind_text(s, 3, hex, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL));
		sqlite3_bind_int(s, 5, dirty);
	}
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sq_fail(db, err, "cannot record the migration");
	sqlite3_finalize(s);
	return rc;
}

/* Counts foreign key violations; the first one is described in first. */
static int fk_count(struct rip_db *db, long long *out, struct rip_buf *first,
	struct rip_err *err)
{
	sqlite3_stmt *s;

	*out = 0;
	if (sqlite3_prepare_v2(db->conn, "PRAGMA foreign_key_check", -1, &s,
			NULL) != SQLITE_OK)
		return sq_fail(db, err, "foreign_key_check");
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (!(*out)++ && first)
			rip_buf_addf(first, "table '%s' row %lld refers to '%s'",
				(const char *)sqlite3_column_text(s, 0),
				(long long)sqlite3_column_int64(s, 1),
				(const char *)sqlite3_column_text(s, 2));
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * A migration may not add foreign key violations; ones that were there
 * before it (SQLite enforces keys only where an app turns them on) are not
 * its fault and do not fail it.
 */
static int fk_check(struct rip_db *db, const struct rip_sql *sql,
	long long before, struct rip_err *err)
{
	struct rip_buf first = RIP_BUF_INIT;
	long long after;
	int rc;

	if ((rc = fk_count(db, &after, &first, err)) == 0 && after > before)
		rc = rip_err_set(err, RIP_EFAIL, "%s: leaves %lld new foreign key "
			"violation%s (%s)", sql->file ? sql->file : "migration",
			after - before, after - before == 1 ? "" : "s", first.buf);
	rip_buf_release(&first);
	return rc;
}

/*
 * A script that brings its own BEGIN/COMMIT, or is marked no-transaction,
 * runs as it is, its record dirty until it finished.
 */
static int apply_own_tx(struct rip_db *db, const struct rip_migration *m,
	enum rip_db_direction dir, const struct rip_sql *sql,
	struct rip_err *err)
{
	int rc;

	if ((rc = rip_db_sqlite_record(db, m, RIP_DB_UP, true, err)) < 0)
		return rc;
	/* table rebuilds need foreign keys off, as in our own transaction */
	if ((rc = sq_exec(db, "PRAGMA foreign_keys = OFF", err)) < 0)
		return rc;
	rc = run_script(db, sql, err);
	if (rc < 0 && !sqlite3_get_autocommit(db->conn))
		sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(db->conn, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc < 0)
		return rip_err_prefix(err, "(outside a transaction: the level of "
			"'%s' is now dirty)", m->id);
	return rip_db_sqlite_record(db, m, dir, false, err);
}

static int sq_apply(struct rip_db *db, const struct rip_migration *m,
	enum rip_db_direction dir, struct rip_err *err)
{
	const struct rip_sql *sql = dir == RIP_DB_UP ? &m->up : &m->down;
	long long before = 0;
	int rc;

	if (!sql->text)
		return rip_err_set(err, RIP_EFAIL, "migration '%s' has no %s "
			"script", m->id, dir == RIP_DB_UP ? "up" : "down");
	if (m->no_transaction || rip_sql_controls_tx(sql->text, sql->len))
		return apply_own_tx(db, m, dir, sql, err);
	if ((rc = sq_exec(db, "PRAGMA foreign_keys = OFF", err)) < 0)
		return rc;
	if ((rc = sq_exec(db, "BEGIN IMMEDIATE", err)) < 0)
		goto done;
	if ((rc = fk_count(db, &before, NULL, err)) < 0 ||
	    (rc = run_script(db, sql, err)) < 0 ||
	    (rc = fk_check(db, sql, before, err)) < 0 ||
	    (rc = rip_db_sqlite_record(db, m, dir, false, err)) < 0 ||
	    (rc = sq_exec(db, "COMMIT", err)) < 0)
		sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
done:
	sqlite3_exec(db->conn, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return rc;
}

static int sq_verify(struct rip_db *db, const struct rip_migration *m,
	struct rip_err *err)
{
	int rc;

	if (!m->verify.text)
		return 0;
	/* sqitch's verify template brings its own BEGIN ... ROLLBACK */
	if (!rip_sql_controls_tx(m->verify.text, m->verify.len) &&
	    (rc = sq_exec(db, "BEGIN", err)) < 0)
		return rc;
	rc = run_script(db, &m->verify, err);
	if (!sqlite3_get_autocommit(db->conn))
		sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int sq_update(struct rip_db *db, const char *sql, const char *a,
	const char *id, struct rip_err *err)
{
	sqlite3_stmt *s;
	int rc = 0;

	if (sqlite3_prepare_v2(db->conn, sql, -1, &s, NULL) != SQLITE_OK)
		return sq_fail(db, err, "cannot update ripcord_migrations");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (a)
		sqlite3_bind_text(s, 2, a, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sq_fail(db, err, "cannot update ripcord_migrations");
	else if (sqlite3_changes(db->conn) != 1)
		rc = rip_err_set(err, RIP_ENOTFOUND, "migration '%s' is not "
			"recorded in '%s'", id, db->path);
	sqlite3_finalize(s);
	return rc;
}

static int sq_clear_dirty(struct rip_db *db, const char *id, bool remove,
	struct rip_err *err)
{
	return sq_update(db, remove ?
		"DELETE FROM ripcord_migrations WHERE version || '_' || name = ?1" :
		"UPDATE ripcord_migrations SET dirty = 0 WHERE "
		"version || '_' || name = ?1", NULL, id, err);
}

static int sq_set_checksum(struct rip_db *db, const char *id,
	const char *checksum, struct rip_err *err)
{
	return sq_update(db, "UPDATE ripcord_migrations SET checksum = ?2 "
		"WHERE version || '_' || name = ?1", checksum, id, err);
}

/* ---- lent to the catalog reader (db_internal.h) ------------------------ */

struct rip_db_sqlite_stmt {
	sqlite3_stmt *s;
	struct rip_db *db;
};

/* SQLite's message alone: the caller knows what it was reading. */
static int raw_fail(struct rip_db *db, struct rip_err *err)
{
	return rip_err_set(err, RIP_EFAIL, "%s", sqlite3_errmsg(db->conn));
}

int rip_db_sqlite_exec(struct rip_db *db, const char *sql,
	struct rip_err *err)
{
	if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
		return raw_fail(db, err);
	return 0;
}

bool rip_db_sqlite_in_tx(struct rip_db *db)
{
	return !sqlite3_get_autocommit(db->conn);
}

int rip_db_sqlite_version(void)
{
	return sqlite3_libversion_number();
}

int rip_db_sqlite_prepare(struct rip_db_sqlite_stmt **out, struct rip_db *db,
	const char *sql, const char *arg1, struct rip_err *err)
{
	sqlite3_stmt *s = NULL;

	*out = NULL;
	if (sqlite3_prepare_v2(db->conn, sql, -1, &s, NULL) != SQLITE_OK ||
	    !s || (arg1 && sqlite3_bind_text(s, 1, arg1, -1,
			SQLITE_TRANSIENT) != SQLITE_OK)) {
		int rc = raw_fail(db, err);

		sqlite3_finalize(s);
		return rc;
	}
	*out = rip_xcalloc(1, sizeof(**out));
	(*out)->s = s;
	(*out)->db = db;
	return 0;
}

int rip_db_sqlite_step(struct rip_db_sqlite_stmt *s, struct rip_err *err)
{
	int step = sqlite3_step(s->s);

	if (step == SQLITE_ROW)
		return RIP_DB_SQLITE_ROW;
	if (step == SQLITE_DONE)
		return 0;
	return raw_fail(s->db, err);
}

const char *rip_db_sqlite_col(struct rip_db_sqlite_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s->s, i);

	return t ? (const char *)t : "";
}

int rip_db_sqlite_col_int(struct rip_db_sqlite_stmt *s, int i)
{
	return sqlite3_column_int(s->s, i);
}

bool rip_db_sqlite_col_null(struct rip_db_sqlite_stmt *s, int i)
{
	return sqlite3_column_type(s->s, i) == SQLITE_NULL;
}

void rip_db_sqlite_stmt_free(struct rip_db_sqlite_stmt *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->s);
	free(s);
}

int rip_db_sqlite_column_meta(const char **coll, bool *autoinc,
	struct rip_db *db, const char *table, const char *column)
{
	const char *type;
	int notnull, pk, ai = 0;

	*coll = NULL;
	*autoinc = false;
	if (sqlite3_table_column_metadata(db->conn, "main", table, column,
			&type, coll, &notnull, &pk, &ai) != SQLITE_OK)
		return RIP_ENOTFOUND;
	*autoinc = ai != 0;
	return 0;
}

static int sq_fingerprint(struct rip_db *db, struct rip_fingerprint *out,
	bool strict, struct rip_err *err)
{
	return rip_fp_read_sqlite(out, db, strict, err);
}

const struct rip_db_ops rip_db_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.applied = sq_applied,
	.apply = sq_apply,
	.verify = sq_verify,
	.clear_dirty = sq_clear_dirty,
	.set_checksum = sq_set_checksum,
	.fingerprint = sq_fingerprint,
};
