/* SPDX-License-Identifier: MIT */
/*
 * state_internal.h: what state.c lends journal.c. The two share one SQLite
 * handle per state.db and one way of turning SQLite's errors into ours, so
 * a damaged file reads the same whichever table found it.
 */
#ifndef RIPCORD_STATE_INTERNAL_H
#define RIPCORD_STATE_INTERNAL_H

#include <sqlite3.h>

#include "ripcord/state.h"

struct rip_state {
	sqlite3 *db;
	char *path;
	int schema;
};

/*
 * The error of the last SQLite call on st, as RIP_EDB "state database
 * '<path>': <what>: <sqlite message>", or RIP_EINTEGRITY with advice when
 * the file is damaged. Returns the code.
 */
int rip_state_fail(struct rip_state *st, struct rip_err *err,
	const char *what);
/* Runs one or more statements without results; errors as rip_state_fail. */
int rip_state_exec(struct rip_state *st, const char *sql,
	struct rip_err *err);
/*
 * Ends a transaction begun with rip_state_exec: COMMIT when rc is 0 (and
 * returns its result), else, or when COMMIT fails, ROLLBACK (returning rc).
 */
int rip_state_finish(struct rip_state *st, int rc, struct rip_err *err);

/* Binds v (NULL binds SQL NULL) as parameter i, copied. */
void rip_state_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Column i as a new string, NULL for SQL NULL. */
char *rip_state_col_text(sqlite3_stmt *s, int i);

#endif
