/* SPDX-License-Identifier: MIT */
/*
 * db_pg.c: the PostgreSQL migration driver.
 *
 * A migration and its record commit in one transaction. Statements that
 * PostgreSQL refuses inside a transaction block (CREATE/DROP INDEX
 * CONCURRENTLY, REINDEX CONCURRENTLY, ALTER TYPE ... ADD VALUE, VACUUM),
 * and migrations marked no-transaction (dbmate's transaction:false), run
 * one statement at a time instead, with the record marked dirty first and
 * cleaned only when all of them passed: a failure halfway leaves a dirty
 * level that blocks every later migration until a human has looked.
 * PostgreSQL itself is reached through pg.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ripcord/db.h"
#include "fp_read.h"
#include "pg.h"
#include "sqltok.h"
#include "banned.h"

struct rip_db {
	struct rip_pg *pg;
};

static int pg_exec(struct rip_db *db, const char *sql, struct rip_err *err)
{
	if (rip_pg_exec(db->pg, sql, err) < 0)
		return rip_err_prefix(err, "postgres");
	return 0;
}

static void pg_close(struct rip_db *db)
{
	if (!db)
		return;
	rip_pg_free(db->pg);
	free(db);
}

static int pg_open(struct rip_db **out, const struct rip_db_target *t,
	struct rip_err *err)
{
	struct rip_db *db;
	int rc;

	*out = NULL;
	if (!t->database || !t->database[0])
		return rip_err_set(err, RIP_ECONFIG, "[migrations] database is "
			"not set (a postgres conninfo or URI)");
	db = rip_xcalloc(1, sizeof(*db));
	if ((rc = rip_pg_connect(&db->pg, t->database, err)) < 0 ||
	    (rc = pg_exec(db, "CREATE TABLE IF NOT EXISTS ripcord_migrations ("
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
	struct rip_pg_res *r;

	memset(out, 0, sizeof(*out));
	if (rip_pg_query(&r, db->pg, "SELECT version, name, checksum, "
			"applied_at, dirty FROM ripcord_migrations ORDER BY seq",
			0, NULL, err) < 0)
		return rip_err_prefix(err, "postgres: cannot read "
			"ripcord_migrations");
	for (size_t i = 0; i < rip_pg_rows(r); i++)
		rip_applied_add(out, rip_pg_value(r, i, 0), rip_pg_value(r, i, 1),
			rip_pg_value(r, i, 2),
			strtoll(rip_pg_value(r, i, 3), NULL, 10),
			rip_pg_flag(r, i, 4));
	rip_pg_res_free(r);
	return 0;
}

/* Runs text as one query string; a failure names file:line. */
static int run_text(struct rip_db *db, const struct rip_sql *sql,
	size_t base, const char *text, struct rip_err *err)
{
	size_t pos;
	int rc;

	if ((rc = rip_pg_exec_script(&pos, db->pg, text, err)) < 0)
		rip_err_prefix(err, "%s:%d", sql->file ? sql->file : "migration",
			rip_sql_line(sql->text, base + (pos ? pos - 1 : 0)));
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

	rip_hex(hex, m->checksum, RIP_SHA256_LEN);
	snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
	params[0] = m->version;
	params[1] = m->name;
	params[2] = hex;
	params[3] = when;
	params[4] = dirty ? "true" : "false";
	if (rip_pg_query(NULL, db->pg, dir == RIP_DB_UP ?
			"INSERT INTO ripcord_migrations (version, name, checksum, "
			"applied_at, dirty) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
			"(version, name) DO UPDATE SET dirty = $5" :
			"DELETE FROM ripcord_migrations WHERE version = $1 AND "
			"name = $2", dir == RIP_DB_UP ? 5 : 2, params, err) < 0)
		return rip_err_prefix(err, "postgres: cannot record the "
			"migration");
	return 0;
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
		rip_pg_rollback(db->pg);
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
	if (rip_pg_tx(db->pg) != RIP_PG_IDLE)
		rip_pg_rollback(db->pg);
	return rc;
}

static int pg_update(struct rip_db *db, const char *sql, const char *id,
	const char *a, struct rip_err *err)
{
	const char *params[2] = { id, a };
	struct rip_pg_res *r;
	int rc = 0;

	if (rip_pg_query(&r, db->pg, sql, a ? 2 : 1, params, err) < 0)
		return rip_err_prefix(err, "postgres: cannot update "
			"ripcord_migrations");
	if (rip_pg_changed(r) != 1)
		rc = rip_err_set(err, RIP_ENOTFOUND, "migration '%s' is not "
			"recorded in the database", id);
	rip_pg_res_free(r);
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
	return rip_fp_read_pg(out, db->pg, strict, err);
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
