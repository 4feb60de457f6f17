/* SPDX-License-Identifier: MIT */
/*
 * db_pg.c: the PostgreSQL migration driver, through libpq.
 *
 * A migration and its record commit in one transaction. Statements that
 * PostgreSQL refuses inside a transaction block (CREATE/DROP INDEX
 * CONCURRENTLY, REINDEX CONCURRENTLY, ALTER TYPE ... ADD VALUE, VACUUM),
 * and migrations marked no-transaction (dbmate's transaction:false), run
 * one statement at a time instead, with the record marked dirty first and
 * cleaned only when all of them passed: a failure halfway leaves a dirty
 * level that blocks every later migration until a human has looked.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "ripcord/db.h"
#include "ripcord/fp_read.h"
#include "banned.h"

struct rip_db {
	PGconn *conn;
};

/* Copies libpq's message without its trailing newline. */
static int pg_msg(struct rip_err *err, const char *prefix, const char *msg)
{
	size_t len = msg ? strlen(msg) : 0;

	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	return rip_err_set(err, RIP_EFAIL, "%s%.*s", prefix, (int)len,
		msg ? msg : "");
}

static int pg_exec(struct rip_db *db, const char *sql, struct rip_err *err)
{
	PGresult *r = PQexec(db->conn, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pg_msg(err, "postgres: ", PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

static void pg_close(struct rip_db *db)
{
	if (!db)
		return;
	PQfinish(db->conn);
	free(db);
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;  /* NOTICEs ("relation exists, skipping") are noise */
}

static int pg_open(struct rip_db **out, const struct rip_db_target *t,
	struct rip_err *err)
{
	struct rip_db *db = rip_xcalloc(1, sizeof(*db));
	int rc;

	*out = NULL;
	if (!t->database || !t->database[0]) {
		free(db);
		return rip_err_set(err, RIP_ECONFIG, "[migrations] database is "
			"not set (a postgres conninfo or URI)");
	}
	db->conn = PQconnectdb(t->database);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		rc = pg_msg(err, "cannot connect to postgres: ",
			PQerrorMessage(db->conn));
		pg_close(db);
		return rc;
	}
	PQsetNoticeProcessor(db->conn, quiet, NULL);
	if ((rc = pg_exec(db, "CREATE TABLE IF NOT EXISTS ripcord_migrations ("
			"seq bigserial PRIMARY KEY, version text NOT NULL, "
			"name text NOT NULL, checksum text NOT NULL, "
			"applied_at bigint NOT NULL, "
			"dirty boolean NOT NULL DEFAULT false, "
			"UNIQUE (version, name))", err)) < 0) {
		pg_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

static int pg_applied(struct rip_db *db, struct rip_applied_list *out,
	struct rip_err *err)
{
	PGresult *r = PQexec(db->conn, "SELECT version, name, checksum, "
		"applied_at, dirty FROM ripcord_migrations ORDER BY seq");
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pg_msg(err, "postgres: cannot read ripcord_migrations: ",
			PQresultErrorMessage(r));
	} else {
		for (int i = 0; i < PQntuples(r); i++)
			rip_applied_add(out, PQgetvalue(r, i, 0),
				PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
				strtoll(PQgetvalue(r, i, 3), NULL, 10),
				PQgetvalue(r, i, 4)[0] == 't');
	}
	PQclear(r);
	return rc;
}

/* Runs text as one query string; a failure names file:line. */
static int run_text(struct rip_db *db, const struct rip_sql *sql,
	size_t base, const char *text, struct rip_err *err)
{
	PGresult *r = PQexec(db->conn, text);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK &&
	    PQresultStatus(r) != PGRES_EMPTY_QUERY) {
		const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		size_t at = base + (pos ? strtoul(pos, NULL, 10) - 1 : 0);

		rc = rip_err_set(err, RIP_EFAIL, "%s:%d: %s", sql->file ?
			sql->file : "migration", rip_sql_line(sql->text, at),
			msg ? msg : PQresultErrorMessage(r));
	}
	PQclear(r);
	return rc;
}

/*
 * Statement by statement, so that an error without a position (say,
 * "relation already exists") still names the line of its statement.
 */
static int run_each(struct rip_db *db, const struct rip_sql *sql,
	struct rip_err *err)
{
	size_t pos = 0, start, end;
	int rc = 0;

	while (!rc && rip_sql_next(sql->text, sql->len, &pos, &start, &end)) {
		char *stmt = rip_xstrndup(sql->text + start, end - start);

		rc = run_text(db, sql, start, stmt, err);
		free(stmt);
	}
	return rc;
}


/* Whether a statement cannot run inside a transaction block. */
static bool needs_autocommit(const char *s, size_t len)
{
	char *w = rip_sql_scrub(s, len);
	const char *p = w + strspn(w, " ");
	size_t n = strlen(p);
	bool yes = ((rip_sql_starts_word(p, n, "create") ||
		     rip_sql_starts_word(p, n, "drop") ||
		     rip_sql_starts_word(p, n, "reindex")) &&
		    strstr(p, " concurrently ")) ||
		rip_sql_starts_word(p, n, "vacuum") ||
		(rip_sql_starts_word(p, n, "alter type") &&
		 strstr(p, " add value"));

	free(w);
	return yes;
}

static bool script_needs_autocommit(const struct rip_sql *sql)
{
	size_t pos = 0, start, end;

	while (rip_sql_next(sql->text, sql->len, &pos, &start, &end))
		if (needs_autocommit(sql->text + start, end - start))
			return true;
	return false;
}

static int record(struct rip_db *db, const struct rip_migration *m,
	enum rip_db_direction dir, bool dirty, struct rip_err *err)
{
	char hex[RIP_SHA256_HEX], when[32];
	const char *params[5];
	PGresult *r;
	int rc = 0;

	rip_hex(hex, m->checksum, RIP_SHA256_LEN);
	snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
	params[0] = m->version;
	params[1] = m->name;
	params[2] = hex;
	params[3] = when;
	params[4] = dirty ? "true" : "false";
	r = dir == RIP_DB_UP ?
		PQexecParams(db->conn, "INSERT INTO ripcord_migrations (version, "
			"name, checksum, applied_at, dirty) VALUES ($1, $2, $3, $4, "
			"$5) ON CONFLICT (version, name) DO UPDATE SET dirty = $5",
			5, NULL, params, NULL, NULL, 0) :
		PQexecParams(db->conn, "DELETE FROM ripcord_migrations WHERE "
			"version = $1 AND name = $2", 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_msg(err, "postgres: cannot record the migration: ",
			PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

/* One statement at a time, outside any transaction, dirty until done. */
static int apply_autocommit(struct rip_db *db, const struct rip_migration *m,
	enum rip_db_direction dir, const struct rip_sql *sql,
	struct rip_err *err)
{
	int rc;

	if ((rc = record(db, m, RIP_DB_UP, true, err)) < 0)
		return rc;
	if (run_each(db, sql, err) < 0)
		return rip_err_prefix(err, "(outside a transaction: the level of "
			"'%s' is now dirty)", m->id);
	return dir == RIP_DB_UP ? record(db, m, RIP_DB_UP, false, err) :
				  record(db, m, RIP_DB_DOWN, false, err);
}

static int pg_apply(struct rip_db *db, const struct rip_migration *m,
	enum rip_db_direction dir, struct rip_err *err)
{
	const struct rip_sql *sql = dir == RIP_DB_UP ? &m->up : &m->down;
	int rc;

	if (!sql->text)
		return rip_err_set(err, RIP_EFAIL, "migration '%s' has no %s "
			"script", m->id, dir == RIP_DB_UP ? "up" : "down");
	/* outside our transaction: what PostgreSQL refuses inside one, and
	 * scripts that bring their own BEGIN/COMMIT (sqitch's templates) */
	if (m->no_transaction || script_needs_autocommit(sql) ||
	    rip_sql_controls_tx(sql->text, sql->len))
		return apply_autocommit(db, m, dir, sql, err);
	if ((rc = pg_exec(db, "BEGIN", err)) < 0)
		return rc;
	if ((rc = run_each(db, sql, err)) < 0 ||
	    (rc = record(db, m, dir, false, err)) < 0 ||
	    (rc = pg_exec(db, "COMMIT", err)) < 0)
		PQclear(PQexec(db->conn, "ROLLBACK"));
	return rc;
}

static int pg_verify(struct rip_db *db, const struct rip_migration *m,
	struct rip_err *err)
{
	int rc;

	if (!m->verify.text)
		return 0;
	/* sqitch's verify template brings its own BEGIN ... ROLLBACK */
	if (!rip_sql_controls_tx(m->verify.text, m->verify.len) &&
	    (rc = pg_exec(db, "BEGIN", err)) < 0)
		return rc;
	rc = run_text(db, &m->verify, 0, m->verify.text, err);
	if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		PQclear(PQexec(db->conn, "ROLLBACK"));
	return rc;
}

static int pg_update(struct rip_db *db, const char *sql, const char *id,
	const char *a, struct rip_err *err)
{
	const char *params[2] = { id, a };
	PGresult *r = PQexecParams(db->conn, sql, a ? 2 : 1, NULL, params,
		NULL, NULL, 0);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_msg(err, "postgres: cannot update ripcord_migrations: ",
			PQresultErrorMessage(r));
	else if (strcmp(PQcmdTuples(r), "1"))
		rc = rip_err_set(err, RIP_ENOTFOUND, "migration '%s' is not "
			"recorded in the database", id);
	PQclear(r);
	return rc;
}

static int pg_clear_dirty(struct rip_db *db, const char *id, bool remove,
	struct rip_err *err)
{
	return pg_update(db, remove ?
		"DELETE FROM ripcord_migrations WHERE version || '_' || name = $1" :
		"UPDATE ripcord_migrations SET dirty = false WHERE "
		"version || '_' || name = $1", id, NULL, err);
}

static int pg_set_checksum(struct rip_db *db, const char *id,
	const char *checksum, struct rip_err *err)
{
	return pg_update(db, "UPDATE ripcord_migrations SET checksum = $2 "
		"WHERE version || '_' || name = $1", id, checksum, err);
}

static int pg_fingerprint(struct rip_db *db, struct rip_fingerprint *out,
	bool strict, struct rip_err *err)
{
	return rip_fp_read_pg(out, db->conn, strict, err);
}

const struct rip_db_ops rip_db_postgres = {
	.name = "postgres",
	.open = pg_open,
	.close = pg_close,
	.applied = pg_applied,
	.apply = pg_apply,
	.verify = pg_verify,
	.clear_dirty = pg_clear_dirty,
	.set_checksum = pg_set_checksum,
	.fingerprint = pg_fingerprint,
};
