/* SPDX-License-Identifier: MIT */
/*
 * fp_read.h: the two catalog readers that build a structural fingerprint
 * (fingerprint.h) of a live database, and the helpers they share. Internal
 * to the library: the drivers reach them through rip_db_ops.fingerprint.
 *
 * Both read catalogs, never stored SQL text, except where the database
 * keeps no catalog for a definition (SQLite triggers, views, CHECK
 * constraints and the WHERE of a partial index). Names are
 * printed bare when they are plain identifiers and double-quoted otherwise;
 * SQLite names are folded to lower case first (SQLite ignores their case),
 * PostgreSQL names keep theirs and drop the "public." qualification. An
 * empty value prints as the key alone ("table orders"), and as "plain" in
 * a diff line. Parts in [] appear only when they apply.
 *
 * Keys and values, SQLite (fp_sqlite.c):
 *   table T               "" | "without rowid" | "strict" | "virtual"
 *                         (joined by ", ")
 *   column T.C            "type TEXT" (declared type, upper case) or
 *                         "no type" [", not null"] [", default 'new'"]
 *                         [", collate NOCASE"] [", primary key" [" N" in
 *                         a composite key | " autoincrement"]]
 *                         [", hidden" | ", generated virtual|stored"]
 *                         and, strict only, ", position N" (from 1)
 *   index I               "on T (a, b COLLATE NOCASE DESC)" [", unique"]
 *                         [", where EXPR"] (a partial index's WHERE,
 *                         canonical); "(expression)" for an expression
 *   unique T(a, b)        "(a, b COLLATE NOCASE)": the automatic index of
 *   primary key T(a)      a UNIQUE or PRIMARY KEY, keyed by what it
 *                         enforces (sqlite_autoindex_* names change)
 *   foreign key T(a, b)   "references P(x, y)" [", on update X"]
 *                         [", on delete X"] [", match X"], actions in
 *                         lower case; "REFERENCES P" alone is spelled out
 *                         with P's primary key columns
 *   check T(EXPR)         "": a CHECK without a name, on a column or the
 *                         table, EXPR canonical ("check orders(qty>0)")
 *   check T.K             "EXPR": a CHECK named K (CONSTRAINT K CHECK)
 *   trigger G             "on T: <canonical CREATE TRIGGER text>"
 *   view V                "<canonical CREATE VIEW text>"
 *                         (rip_fp_sql with fold: lower case, no comments,
 *                         no space next to punctuation)
 *
 * Keys and values, PostgreSQL (fp_pg.c):
 *   schema S              ""
 *   extension E           "version 1.3" [", schema S"]; its members are
 *                         left out
 *   table T               "" or ", "-joined: "partitioned by RANGE (c)",
 *                         "unlogged", "partition of P FOR VALUES ..." |
 *                         "inherits P, Q", "[forced ]row level security",
 *                         "options fillfactor=70"
 *   foreign table T       as table
 *   view V                pg_get_viewdef(V, true), white space collapsed
 *   materialized view V   the same
 *   column T.C            "type text" (format_type) [", not null"]
 *                         [", default 'new'::text" | ", generated as
 *                         (expr) stored"] [", identity always|by default"]
 *                         [", collate \"C\""] and, strict only,
 *                         ", position N" (among live columns, from 1)
 *   index I               pg_get_indexdef() without the name: "CREATE
 *                         UNIQUE INDEX ON public.t USING btree (a)"; only
 *                         indexes that back no constraint
 *   constraint T.K        pg_get_constraintdef(): "FOREIGN KEY (a)
 *                         REFERENCES p(id) ON DELETE CASCADE" (p, u, f,
 *                         c and x constraints; NOT NULL is on the column)
 *   sequence S            "type bigint, start 1, increment 1, min 1,
 *                         max M, cache 1, no cycle" [", owned by T.C"];
 *                         identity sequences are left out
 *   function F(args)      "returns R, language L, volatile|stable|
 *   procedure F(args)     immutable" [", strict"] [", security definer"]
 *   aggregate F(args)     [", parallel safe|restricted"] [", set k=v"]
 *                         ", source <first 16 hex of SHA-256 of the body>"
 *   trigger G on T        pg_get_triggerdef() without "CREATE TRIGGER G ":
 *                         "AFTER INSERT ON public.t FOR EACH ROW EXECUTE
 *                         FUNCTION f()" ("CONSTRAINT ..." for a constraint
 *                         trigger) [", disabled" | ", enabled replica" |
 *                         ", enabled always"]
 *   type T                "enum ('a', 'b')" | "composite (a integer)" |
 *                         "range of integer"
 *   domain D              "type integer" [", not null"] [", default X"]
 *                         [", constraint K CHECK ((VALUE > 0))"]
 * Strict mode also adds ", comment 'text'" (quotes doubled) to every
 * object that has a comment. Non-strict mode loosens views and defaults
 * (both readers; rip_fp_view_columns, rip_fp_frozen_now): a view's
 * top-level select list is sorted, and a date or timestamp literal that
 * could be a "now" frozen at creation reads RIP_FP_NOW ('<now>').
 */
#ifndef RIPCORD_FP_READ_H
#define RIPCORD_FP_READ_H

#include "ripcord/err.h"
#include "ripcord/fingerprint.h"

struct rip_db;
struct rip_pg;  /* pg.h */

/*
 * Reads the schema "main" of db (opened by rip_db_sqlite) into out (which
 * must be empty or released), without ripcord_migrations, sqlite_sequence
 * and sqlite_stat*. Runs in one read transaction unless db is in one.
 * strict adds column positions. out is sorted on return; on error it is
 * released and err says which catalog could not be read (RIP_EFAIL).
 */
RIP_MUST_CHECK int rip_fp_read_sqlite(struct rip_fingerprint *out,
	struct rip_db *db, bool strict, struct rip_err *err);

/*
 * Reads every schema of the connected database except pg_catalog,
 * information_schema, pg_toast* and pg_temp*, without ripcord_migrations
 * (and what hangs off it) and without the members of extensions. strict
 * adds column positions and comments. Runs in one read-only snapshot when
 * conn is idle; inside the caller's transaction otherwise. Session
 * settings it needs (search_path, DateStyle, ...) are restored. out is
 * sorted on return; on error it is released (RIP_EFAIL).
 */
RIP_MUST_CHECK int rip_fp_read_pg(struct rip_fingerprint *out,
	struct rip_pg *conn, bool strict, struct rip_err *err);

/* Helpers for the readers (fingerprint.c). */

/*
 * Appends name bare when it is a plain identifier ([a-z_][a-z0-9_$]*)
 * and double-quoted (quotes doubled) otherwise. fold lowers ASCII letters
 * first, for SQLite, whose names ignore case.
 */
void rip_fp_ident(struct rip_buf *out, const char *name, bool fold);

/*
 * Appends sql in a canonical form: comments dropped, white space collapsed
 * outside literals and quoted names. fold (for SQLite-written text) also
 * lowers letters outside string literals, unquotes plain quoted names and
 * drops the space next to punctuation, so that text typed differently but
 * meaning the same compares equal.
 */
void rip_fp_sql(struct rip_buf *out, const char *sql, bool fold);

/*
 * Loose comparison, for non-strict mode only.
 *
 * A "now" frozen into a definition when it was created ('now'::timestamp,
 * CURRENT_DATE written into a view or a default as a literal) differs
 * between two runs of the same migration. The window is when that can
 * have happened: from when it opened (rip_fp_window_open, ripcord's start
 * otherwise) to the reading, in the database's clock, a second either
 * side. A literal timestamp is frozen when it falls in the window read in
 * UTC or in offset (the session's zone: seconds east of UTC); one with a
 * zone when the instant does; a date when the window touches that day.
 */
struct rip_fp_window {
	double lo, hi;  /* seconds since the epoch, UTC */
	long offset[2]; /* 0 and the session's zone */
};

/* What a frozen "now" reads as. */
#define RIP_FP_NOW "'<now>'"

/* The window up to server_now (the database's clock, epoch seconds). */
void rip_fp_window_init(struct rip_fp_window *w, double server_now,
	long offset);
/* The window up to now in this process's clock and local zone (SQLite). */
void rip_fp_window_local(struct rip_fp_window *w);

/*
 * Appends text with every string literal that is a date or timestamp in
 * w replaced by RIP_FP_NOW; other literals, dates outside w included, are
 * kept as they are.
 */
void rip_fp_frozen_now(struct rip_buf *out, const char *text,
	const struct rip_fp_window *w);

/*
 * Appends canonical view text with the select list of its top-level
 * SELECT sorted, so that a column-order-only change compares equal. Text
 * whose column order means something is kept as it is: a set operation
 * (UNION, INTERSECT, EXCEPT), ORDER BY or GROUP BY by position, a
 * CREATE VIEW v(a, b) column list.
 */
void rip_fp_view_columns(struct rip_buf *out, const char *text);

#endif
