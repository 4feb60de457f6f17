/* SPDX-License-Identifier: MIT */
/*
 * pg.h: PostgreSQL as the library sees it (pg.c, the one file that calls
 * libpq). A connection, statements with text parameters, results read as
 * text by row and column, and the CREATE/DROP DATABASE of a scratch
 * database. Failures come back as struct rip_err holding the server's own
 * message; a conninfo is never printed with its password.
 *
 * Used by the migration driver (db_pg.c), the catalog reader (fp_pg.c)
 * and the drill's round trip (roundtrip.c). Internal to the library.
 */
#ifndef RIPCORD_PG_H
#define RIPCORD_PG_H

#include <stddef.h>
#include <stdint.h>

#include "ripcord/err.h"

struct rip_pg;
struct rip_pg_res;

/* Where a connection stands with respect to a transaction. */
enum rip_pg_tx {
	RIP_PG_IDLE,              /* no transaction open */
	RIP_PG_INTRANS,           /* inside a healthy transaction */
	RIP_PG_INERROR,           /* inside a failed one: roll it back */
	RIP_PG_BROKEN,            /* busy, or the connection is bad */
};

/*
 * A copy of conninfo (key=value pairs or a postgres:// URI) with every
 * password in it replaced by "***", for messages. The caller frees it.
 */
char *rip_pg_mask(const char *conninfo);

/*
 * Sets *out to conninfo with its database replaced by dbname; a NULL
 * dbname keeps conninfo's own, or "postgres" when it names none. The
 * result is key='value' pairs. RIP_ECONFIG when conninfo cannot be
 * parsed, err holding libpq's reason alone; *out is then NULL.
 */
RIP_MUST_CHECK int rip_pg_conninfo_with_db(char **out, const char *conninfo,
	const char *dbname, struct rip_err *err);

/*
 * Connects to conninfo; the server's notices are dropped. On failure *out
 * is NULL and err says "cannot connect to postgres '<conninfo, password
 * masked>': <libpq's reason>" (RIP_EFAIL).
 */
RIP_MUST_CHECK int rip_pg_connect(struct rip_pg **out, const char *conninfo,
	struct rip_err *err);

/* Closes the connection; NULL does nothing. */
void rip_pg_free(struct rip_pg *pg);

/*
 * Runs sql: one or more statements when nparams is 0, else one statement
 * with $1..$n bound to params (NULL binds SQL NULL). When out is not NULL
 * it receives the result, which the caller frees with rip_pg_res_free.
 * On failure *out is NULL and err holds the server's message (RIP_EFAIL).
 */
RIP_MUST_CHECK int rip_pg_query(struct rip_pg_res **out, struct rip_pg *pg,
	const char *sql, size_t nparams, const char *const *params,
	struct rip_err *err);

/* rip_pg_query without parameters or result. */
int rip_pg_exec(struct rip_pg *pg, const char *sql, struct rip_err *err);

/*
 * Runs a migration's text (empty text is fine). On failure err holds the
 * server's primary message alone, without "ERROR:" and detail lines, and
 * *pos the 1-based character offset in sql the server blamed, or 0 when
 * it named none (RIP_EFAIL).
 */
RIP_MUST_CHECK int rip_pg_exec_script(size_t *pos, struct rip_pg *pg,
	const char *sql, struct rip_err *err);

/* Ends whatever transaction is open, ignoring errors. */
void rip_pg_rollback(struct rip_pg *pg);

enum rip_pg_tx rip_pg_tx(const struct rip_pg *pg);

/* The server's version as a number: 160002 for 16.2. */
int rip_pg_server_version(const struct rip_pg *pg);

/* Rows in a result. */
size_t rip_pg_rows(const struct rip_pg_res *r);

/* Field col of row as text, NULL for SQL NULL; borrowed from r. */
const char *rip_pg_get(const struct rip_pg_res *r, size_t row, size_t col);

/* The same, "" for SQL NULL. */
const char *rip_pg_value(const struct rip_pg_res *r, size_t row, size_t col);

/* Whether a boolean field is true. */
bool rip_pg_flag(const struct rip_pg_res *r, size_t row, size_t col);

/* Rows an INSERT, UPDATE or DELETE touched. */
uint64_t rip_pg_changed(const struct rip_pg_res *r);

/* Frees a result; NULL does nothing. */
void rip_pg_res_free(struct rip_pg_res *r);

/*
 * CREATE DATABASE name over admin (a connection to another database of
 * the server). err holds the server's message (RIP_EFAIL).
 */
RIP_MUST_CHECK int rip_pg_database_create(struct rip_pg *admin,
	const char *name, struct rip_err *err);

/*
 * DROP DATABASE IF EXISTS name over admin, reconnecting admin first when
 * its connection broke, and ending the sessions still on name (13+).
 */
RIP_MUST_CHECK int rip_pg_database_drop(struct rip_pg *admin,
	const char *name, struct rip_err *err);

#endif
