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

#endif
