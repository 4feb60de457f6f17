/* SPDX-License-Identifier: MIT */
/*
 * state_internal.h: what state.c lends the modules that keep their records
 * in state.db (journal.c, store.c, rollout_rec.c, drill.c): plain
 * statements, transactions, and prepared statements with bind, step and
 * column helpers. state.c is the only one of them that calls SQLite, so
 * the handle's settings (WAL, synchronous=FULL, the busy timeout) and the
 * way SQLite's errors become ours are in one place: a damaged file reads
 * the same whichever table found it.
 */
#ifndef RIPCORD_STATE_INTERNAL_H
#define RIPCORD_STATE_INTERNAL_H

#include "ripcord/state.h"

/* A prepared statement on a state.db; one row at a time. */
struct rip_state_stmt;

/* What a column of the current row holds, asked before reading it. */
enum rip_state_type {
	RIP_STATE_NULL,
	RIP_STATE_INTEGER,
	RIP_STATE_FLOAT,
	RIP_STATE_TEXT,
	RIP_STATE_BLOB,
};

/* rip_state_step's answer when a row is ready. */
#define RIP_STATE_ROW 1

/* The path st was opened on; borrowed. */
const char *rip_state_path(const struct rip_state *st);

/*
 * Runs one or more statements without results. Errors are RIP_EDB "state
 * database '<path>': <sqlite message>", or RIP_EINTEGRITY with advice when
 * the file is damaged.
 */
int rip_state_exec(struct rip_state *st, const char *sql,
	struct rip_err *err);
/*
 * Ends a transaction begun with rip_state_exec: COMMIT when rc is 0 (and
 * returns its result), else, or when COMMIT fails, ROLLBACK (returning rc).
 */
int rip_state_finish(struct rip_state *st, int rc, struct rip_err *err);

/*
 * Prepares one statement of sql on st. what names the job in errors
 * ("cannot read the audit log"): a failure here or in rip_state_step is
 * RIP_EDB "state database '<path>': <what>: <sqlite message>" (or
 * RIP_EINTEGRITY for a damaged file). On failure *out is NULL.
 */
RIP_MUST_CHECK int rip_state_prepare(struct rip_state_stmt **out,
	struct rip_state *st, const char *what, const char *sql,
	struct rip_err *err);

/* Binds parameter i (from 1): text copied, NULL binds SQL NULL. */
void rip_state_bind_text(struct rip_state_stmt *s, int i, const char *v);
void rip_state_bind_int64(struct rip_state_stmt *s, int i, int64_t v);
void rip_state_bind_double(struct rip_state_stmt *s, int i, double v);

/*
 * Runs s to its next row: RIP_STATE_ROW when one is ready, 0 when the
 * statement is done, or the error (see rip_state_prepare).
 */
RIP_MUST_CHECK int rip_state_step(struct rip_state_stmt *s,
	struct rip_err *err);

/* Runs a statement that returns no rows: 0 once it is done. */
RIP_MUST_CHECK int rip_state_run(struct rip_state_stmt *s,
	struct rip_err *err);

/* Columns of the current row, i from 0. */
enum rip_state_type rip_state_col_type(struct rip_state_stmt *s, int i);
int64_t rip_state_col_int64(struct rip_state_stmt *s, int i);
double rip_state_col_double(struct rip_state_stmt *s, int i);
/* Text, NULL for SQL NULL; borrowed until the next step or free. */
const char *rip_state_col_str(struct rip_state_stmt *s, int i);
/* Text as a new string the caller frees, NULL for SQL NULL. */
char *rip_state_col_text(struct rip_state_stmt *s, int i);
/* Length in bytes of the column as text. */
size_t rip_state_col_bytes(struct rip_state_stmt *s, int i);

/* Finalizes s; NULL does nothing. */
void rip_state_stmt_free(struct rip_state_stmt *s);

/* Rows the last INSERT, UPDATE or DELETE on st changed. */
int64_t rip_state_changes(struct rip_state *st);
/* The seq (rowid) of the last row inserted on st. */
int64_t rip_state_last_id(struct rip_state *st);

#endif
