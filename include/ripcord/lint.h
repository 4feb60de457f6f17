/* SPDX-License-Identifier: MIT */
/*
 * lint.h: finding migrations that will hurt during a canary or a rollback.
 *
 * Ups run while the previous release still serves traffic, so anything
 * that breaks old code is flagged: DROP TABLE, DROP COLUMN, RENAME, a
 * column type change, NOT NULL without a default on an existing table.
 * Downs are checked against their up: a down that touches objects its up
 * never created, and IF EXISTS in a down (it hides a difference the drill
 * should see). Baseline migrations are not linted.
 */
#ifndef RIPCORD_LINT_H
#define RIPCORD_LINT_H

#include "ripcord/migration.h"

struct rip_lint_finding {
	char *id;                 /* the migration */
	char *file;               /* the file, as in struct rip_sql */
	int line;                 /* 1-based line in that file */
	const char *rule;         /* "drop-table", "drop-column", "rename",
				     "type-change", "not-null-no-default",
				     "down-foreign-object", "down-if-exists",
				     "destructive-not-contract",
				     "expand-contract-together" */
	char *message;            /* what and why, one line */
};

struct rip_lint {
	struct rip_lint_finding *v;
	size_t n;
	size_t alloc;
};

/*
 * Lints every migration of m; appends findings in migration order. A
 * type change that widens (the old type read from the migration's other
 * script) is no finding. A contract up is spared drop-table, drop-column,
 * rename, type-change, delete-rows, truncate and set-null (it runs only
 * once its release runs everywhere).
 */
void rip_lint_run(struct rip_lint *out, const struct rip_migrations *m);

/*
 * The phase rules, appended in migration order: destructive-not-contract
 * for each expand up parent does not carry (parent NULL: every one) with
 * a destructive statement (drop-table, drop-column, rename, type-change,
 * delete-rows, truncate, set-null: once, at the first, with the fix), and
 * expand-contract-together for each contract migration parent (the
 * release's parent) does not carry when an expand migration also new
 * against parent touches one of its tables. parent NULL (a first release,
 * an artifact file): that second rule is skipped.
 */
void rip_lint_phases(struct rip_lint *out, const struct rip_migrations *m,
	const struct rip_migrations *parent);
void rip_lint_release(struct rip_lint *l);

/*
 * The statements of m's down that lose data when a rollback runs it, for
 * `rollback --dry-run`: DROP TABLE (every row), DROP COLUMN (its values),
 * a column type change that does not widen (values the old type cannot
 * hold). A SQLite
 * rebuild (new_x, copy, drop x, rename) is not a drop. Appended to out,
 * rules "drop-table", "drop-column", "type-change"; a baseline or
 * irreversible migration, or one without a down, adds nothing.
 */
void rip_lint_data_loss(struct rip_lint *out, const struct rip_migration *m);

#endif
