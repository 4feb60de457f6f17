/* SPDX-License-Identifier: MIT */
/*
 * db_internal.h: what one driver lends another inside the library. The
 * command driver keeps its record in a SQLite ledger through these, and
 * the SQLite catalog reader (fp_sqlite.c) reads a schema through the
 * SQLite driver's connection, so that db_sqlite.c is the one file of the
 * migration side that calls SQLite.
 *
 * Errors of the statement helpers hold SQLite's message alone (RIP_EFAIL):
 * the caller knows what it was reading and adds that.
 */
#ifndef RIPCORD_DB_INTERNAL_H
#define RIPCORD_DB_INTERNAL_H

#include "ripcord/db.h"

/* Writes (up: inserts or updates dirty) or deletes (down) m's record in a
 * database opened by rip_db_sqlite. */
int rip_db_sqlite_record(struct rip_db *db, const struct rip_migration *m,
	enum rip_db_direction dir, bool dirty, struct rip_err *err);

/*
 * Opens (creating it when missing) the SQLite file path as rip_db_sqlite
 * does, without creating ripcord_migrations: for reading or building a
 * schema. Close it with rip_db_sqlite.close. On failure *out is NULL.
 */
RIP_MUST_CHECK int rip_db_sqlite_open_file(struct rip_db **out,
	const char *path, struct rip_err *err);

/* Runs one or more statements of sql on a SQLite db, rows ignored. */
int rip_db_sqlite_exec(struct rip_db *db, const char *sql,
	struct rip_err *err);

/* Whether a transaction is open on a SQLite db. */
bool rip_db_sqlite_in_tx(struct rip_db *db);

/* The SQLite library's version as a number: 3045001 for 3.45.1. */
int rip_db_sqlite_version(void);

/* A prepared statement on a SQLite db. */
struct rip_db_sqlite_stmt;

/* rip_db_sqlite_step's answer when a row is ready. */
#define RIP_DB_SQLITE_ROW 1

/*
 * Prepares the one statement sql on db and, when arg1 is not NULL, binds
 * it (copied) to ?1. On failure *out is NULL.
 */
RIP_MUST_CHECK int rip_db_sqlite_prepare(struct rip_db_sqlite_stmt **out,
	struct rip_db *db, const char *sql, const char *arg1,
	struct rip_err *err);

/* RIP_DB_SQLITE_ROW when a row is ready, 0 when done, or the error. */
RIP_MUST_CHECK int rip_db_sqlite_step(struct rip_db_sqlite_stmt *s,
	struct rip_err *err);

/* Column i of the current row as text, "" for NULL; borrowed until the
 * next step or free. */
const char *rip_db_sqlite_col(struct rip_db_sqlite_stmt *s, int i);
int rip_db_sqlite_col_int(struct rip_db_sqlite_stmt *s, int i);
bool rip_db_sqlite_col_null(struct rip_db_sqlite_stmt *s, int i);

/* Finalizes s; NULL does nothing. */
void rip_db_sqlite_stmt_free(struct rip_db_sqlite_stmt *s);

/*
 * What pragma table_xinfo does not say about column of table in schema
 * main: its collation (borrowed from db, NULL for none) and whether it is
 * an AUTOINCREMENT key. RIP_ENOTFOUND when SQLite keeps no such metadata
 * (a virtual table's columns).
 */
int rip_db_sqlite_column_meta(const char **coll, bool *autoinc,
	struct rip_db *db, const char *table, const char *column);

#endif
