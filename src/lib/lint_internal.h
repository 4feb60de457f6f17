/* SPDX-License-Identifier: MIT */
/*
 * lint_internal.h: what lint's parser (lint_parse.c) hands its rules
 * (lint.c): the actions of a script, one for each thing a statement does
 * that a rule may care about, in script order.
 */
#ifndef RIPCORD_LINT_INTERNAL_H
#define RIPCORD_LINT_INTERNAL_H

#include "ripcord/migration.h"

/*
 * Column actions sit between RIP_ACT_ADD_COLUMN and RIP_ACT_ALTER_COLUMN,
 * object actions (an index, a view, a type...) from RIP_ACT_CREATE_OBJ on.
 */
enum rip_lint_act {
	RIP_ACT_CREATE_TABLE, RIP_ACT_DROP_TABLE, RIP_ACT_RENAME_TABLE,
	RIP_ACT_ALTER_TABLE, RIP_ACT_WRITE,
	RIP_ACT_ADD_COLUMN, RIP_ACT_DROP_COLUMN, RIP_ACT_RENAME_COLUMN,
	RIP_ACT_TYPE_COLUMN, RIP_ACT_SET_NOT_NULL, RIP_ACT_SET_DEFAULT,
	RIP_ACT_ALTER_COLUMN,
	RIP_ACT_CREATE_OBJ, RIP_ACT_DROP_OBJ, RIP_ACT_ALTER_OBJ,
};

/* What a RIP_ACT_WRITE does to the rows already there. */
enum rip_lint_write {
	RIP_WRITE_OTHER,          /* INSERT, REPLACE, an UPDATE to values */
	RIP_WRITE_DELETE,         /* DELETE: rows removed */
	RIP_WRITE_TRUNCATE,       /* TRUNCATE: every row removed */
	RIP_WRITE_SET_NULL,       /* UPDATE ... SET column = NULL */
};

/* One thing a statement does; every string is owned but `what`/`how`. */
struct rip_lint_action {
	enum rip_lint_act kind;
	int line;          /* of the statement's first token */
	char *table;       /* NULL for an object not on a table */
	char *column;      /* column actions only */
	char *name;        /* an object's name; NULL for an unnamed index */
	char *to;          /* a rename's new name */
	const char *what;  /* an object's kind: "index", "view", ... */
	const char *how;   /* "MODIFY", "CHANGE", "ALTER COLUMN": MySQL/T-SQL
			      redefinitions that may change a type */
	char *type;        /* a type change: the new type as written,
			      lowercased ("varchar(500)", "bigint"); NULL
			      when not read */
	char *from_type;   /* a type change: the type it had, when the
			      other script of the migration restores it
			      (rip_lint_pair_types); else NULL */
	enum rip_lint_write write;   /* RIP_ACT_WRITE only; SET_NULL names
					its column */
	bool where;        /* a DELETE or UPDATE with a WHERE */
	bool if_exists;
	bool not_null;     /* an added column: declared NOT NULL */
	bool has_default;  /* an added column: DEFAULT, identity, serial... */
};

struct rip_lint_actions {
	struct rip_lint_action *v;
	size_t n, alloc;
};

/*
 * Appends the actions of every statement of sql to out; a statement the
 * parser does not know adds none.
 */
void rip_lint_parse(struct rip_lint_actions *out, const struct rip_sql *sql);
/* Frees what a holds and leaves it empty. */
void rip_lint_actions_release(struct rip_lint_actions *a);

/*
 * Sets from_type of each type change of a to the type the matching type
 * change of b (the same table and column; the last one) sets: a
 * migration's down restores what its up changed, and the other way round.
 */
void rip_lint_pair_types(struct rip_lint_actions *a,
	const struct rip_lint_actions *b);

/*
 * Whether a column of type from holds every value it held once changed
 * to type to: the same type larger (varchar(200) to varchar(500),
 * numeric(10,2) to numeric(12,2)), a larger integer (int to bigint), any
 * character type to text or to an unbounded varchar. Unknown types: no.
 */
bool rip_lint_widens(const char *from, const char *to);

#endif
