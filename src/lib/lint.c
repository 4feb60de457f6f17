/* SPDX-License-Identifier: MIT */
/*
 * lint.c: migrations that will hurt during a canary or a rollback: the
 * rules, applied to the actions lint_parse.c reads from each script.
 *
 * An up's actions are checked in order against what the same up did
 * before them (a table it created is not "existing"; a table it rebuilds,
 * SQLite's way, is not dropped), and a down's actions against everything
 * its up did. Every finding names its file and the line of its statement.
 * Names are compared as written, except that public.orders matches orders.
 *
 * The phases (issue 16): a contract up runs only once its release runs
 * everywhere, so it is spared the rules about the previous release; an
 * expand up that destroys is told to become contract; and a contract and
 * the expand it depends on (by table) new in one release are flagged.
 */
#include <stdlib.h>
#include <string.h>

#include "ripcord/lint.h"
#include "lint_internal.h"
#include "banned.h"

static const char *const verbs[] = {
	[RIP_ACT_CREATE_TABLE] = "creates", [RIP_ACT_DROP_TABLE] = "drops",
	[RIP_ACT_RENAME_TABLE] = "renames", [RIP_ACT_ALTER_TABLE] = "alters",
	[RIP_ACT_WRITE] = "writes to", [RIP_ACT_ADD_COLUMN] = "adds",
	[RIP_ACT_DROP_COLUMN] = "drops", [RIP_ACT_RENAME_COLUMN] = "renames",
	[RIP_ACT_TYPE_COLUMN] = "changes the type of",
	[RIP_ACT_SET_NOT_NULL] = "sets NOT NULL on",
	[RIP_ACT_SET_DEFAULT] = "sets a default on",
	[RIP_ACT_ALTER_COLUMN] = "alters",
	[RIP_ACT_CREATE_OBJ] = "creates", [RIP_ACT_DROP_OBJ] = "drops",
	[RIP_ACT_ALTER_OBJ] = "alters",
};

static bool is_column_act(enum rip_lint_act k)
{
	return k >= RIP_ACT_ADD_COLUMN && k <= RIP_ACT_ALTER_COLUMN;
}

static bool is_object_act(enum rip_lint_act k)
{
	return k >= RIP_ACT_CREATE_OBJ;
}

static const char rule_drop_table[] = "drop-table";
static const char rule_drop_column[] = "drop-column";
static const char rule_rename[] = "rename";
static const char rule_type_change[] = "type-change";
static const char rule_not_null[] = "not-null-no-default";
static const char rule_foreign[] = "down-foreign-object";
static const char rule_if_exists[] = "down-if-exists";
static const char rule_delete_rows[] = "delete-rows";
static const char rule_truncate[] = "truncate";
static const char rule_set_null[] = "set-null";
static const char rule_not_contract[] = "destructive-not-contract";
static const char rule_together[] = "expand-contract-together";

static const char old_release[] = "while the previous release may still";

/* public.orders names the same table as orders; NULL matches nothing. */
static bool names_match(const char *a, const char *b)
{
	const char *da, *db;

	if (!a || !b)
		return false;
	if (!strcmp(a, b))
		return true;
	da = strrchr(a, '.');
	db = strrchr(b, '.');
	if (da && db)
		return false;
	return !strcmp(da ? da + 1 : a, db ? db + 1 : b);
}

static bool same_column(const struct rip_lint_action *a, const char *table,
	const char *column)
{
	return is_column_act(a->kind) && names_match(a->table, table) &&
		column && ((a->column && !strcmp(a->column, column)) ||
		(a->to && !strcmp(a->to, column)));
}

/* Whether the actions before n create table t: then it is not existing. */
static bool created_before(const struct rip_lint_actions *acts, size_t n,
	const char *t)
{
	for (size_t j = 0; j < n; j++)
		if (acts->v[j].kind == RIP_ACT_CREATE_TABLE &&
				names_match(acts->v[j].table, t))
			return true;
	return false;
}

/*
 * For the DROP TABLE at i, the later rename that brings its table back
 * from a table created before the drop, or NULL: SQLite's rebuild (CREATE
 * new_x, copy the rows, DROP x, RENAME new_x TO x) replaces x, it does not
 * drop it.
 */
static const struct rip_lint_action *rebuild_rename(
	const struct rip_lint_actions *acts, size_t i)
{
	for (size_t j = i + 1; j < acts->n; j++) {
		const struct rip_lint_action *r = &acts->v[j];

		if (r->kind == RIP_ACT_RENAME_TABLE &&
				names_match(r->to, acts->v[i].table) &&
				created_before(acts, i, r->table))
			return r;
	}
	return NULL;
}

/* The table t stands for: x when t is the new_x of a rebuild of x. */
static char *standing_for(const struct rip_lint_actions *acts, char *t)
{
	for (size_t i = 0; i < acts->n; i++) {
		const struct rip_lint_action *r;

		if (acts->v[i].kind != RIP_ACT_DROP_TABLE)
			continue;
		r = rebuild_rename(acts, i);
		if (r && names_match(r->table, t))
			return r->to;
	}
	return t;
}

/* Whether nothing before this up can know column t.c (the up made it). */
static bool new_before(const struct rip_lint_actions *acts, size_t n,
	const char *t, const char *c)
{
	if (created_before(acts, n, t))
		return true;
	for (size_t j = 0; j < n; j++)
		if (acts->v[j].kind == RIP_ACT_ADD_COLUMN &&
				same_column(&acts->v[j], t, c))
			return true;
	return false;
}

static bool default_before(const struct rip_lint_actions *acts, size_t n,
	const char *t, const char *c)
{
	for (size_t j = 0; j < n; j++) {
		const struct rip_lint_action *a = &acts->v[j];

		if (((a->kind == RIP_ACT_ADD_COLUMN && a->has_default) ||
				a->kind == RIP_ACT_SET_DEFAULT) &&
				same_column(a, t, c))
			return true;
	}
	return false;
}

static char *column_finding(const char **rule, const struct rip_lint_action *a)
{
	const char *t = a->table, *c = a->column;

	if (a->kind == RIP_ACT_DROP_COLUMN) {
		*rule = rule_drop_column;
		return rip_xasprintf("drops column %s.%s %s read it (drop it "
			"one release later)", t, c, old_release);
	}
	if (a->kind == RIP_ACT_RENAME_COLUMN) {
		*rule = rule_rename;
		return rip_xasprintf("renames column %s.%s to %s %s use the "
			"old name (add the new column, backfill it, and drop the "
			"old one a release later)", t, c, a->to, old_release);
	}
	if (a->from_type && a->type && rip_lint_widens(a->from_type, a->type))
		return NULL;      /* widens: every old value still fits */
	*rule = rule_type_change;
	if (a->how)
		return rip_xasprintf("redefines column %s.%s with %s, which "
			"can change its type %s read and write it (add a new "
			"column, backfill it, and switch over a release later)",
			t, c, a->how, old_release);
	return rip_xasprintf("changes the type of column %s.%s %s read and "
		"write the old type (add a new column, backfill it, and "
		"switch over a release later)", t, c, old_release);
}

static char *not_null_finding(const char **rule,
	const struct rip_lint_actions *acts, size_t i)
{
	const struct rip_lint_action *a = &acts->v[i];

	if (created_before(acts, i, a->table))
		return NULL;
	*rule = rule_not_null;
	if (a->kind == RIP_ACT_ADD_COLUMN && a->not_null && !a->has_default)
		return rip_xasprintf("adds column %s.%s NOT NULL without a "
			"default %s insert rows without it (add a default, or "
			"set NOT NULL a release later)", a->table, a->column,
			old_release);
	if (a->kind == RIP_ACT_SET_NOT_NULL &&
			!default_before(acts, i, a->table, a->column))
		return rip_xasprintf("sets column %s.%s NOT NULL without a "
			"default %s insert rows without it (add a default "
			"first, or set NOT NULL a release later)", a->table,
			a->column, old_release);
	return NULL;
}

/* What a DELETE, TRUNCATE or UPDATE ... SET col = NULL of rows the up
 * did not make removes, or NULL. */
static char *rows_finding(const char **rule,
	const struct rip_lint_actions *acts, size_t i)
{
	const struct rip_lint_action *a = &acts->v[i];
	const char *which = a->where ? "the rows its WHERE matches" :
		"every row: it has no WHERE";

	if (created_before(acts, i, a->table))
		return NULL;
	switch (a->write) {
	case RIP_WRITE_DELETE:
		*rule = rule_delete_rows;
		return rip_xasprintf("deletes rows from table %s (%s) %s read "
			"them, and no down brings them back (delete them in a "
			"contract migration, a release later)", a->table, which,
			old_release);
	case RIP_WRITE_TRUNCATE:
		*rule = rule_truncate;
		return rip_xasprintf("truncates table %s, removing every row, %s "
			"read them, and no down brings them back (truncate it in a "
			"contract migration, a release later)", a->table,
			old_release);
	case RIP_WRITE_SET_NULL:
		if (new_before(acts, i, a->table, a->column))
			return NULL;
		*rule = rule_set_null;
		return rip_xasprintf("sets column %s.%s to NULL (%s) %s read "
			"it, and no down brings the values back (clear it in a "
			"contract migration, a release later)", a->table, a->column,
			a->where ? "in the rows its WHERE matches" : "in every row",
			old_release);
	default:
		return NULL;
	}
}

/* The finding action i of an up deserves, or NULL; sets *rule. */
static char *up_check(const char **rule, const struct rip_lint_actions *acts,
	size_t i)
{
	const struct rip_lint_action *a = &acts->v[i];

	switch (a->kind) {
	case RIP_ACT_DROP_TABLE:
		if (created_before(acts, i, a->table) ||
				rebuild_rename(acts, i))
			return NULL;
		*rule = rule_drop_table;
		return rip_xasprintf("drops table %s %s read it (drop it one "
			"release later)", a->table, old_release);
	case RIP_ACT_RENAME_TABLE:
		if (created_before(acts, i, a->table))
			return NULL;
		*rule = rule_rename;
		return rip_xasprintf("renames table %s to %s %s use the old "
			"name (keep the old name working, e.g. as a view, until "
			"a release later)", a->table, a->to, old_release);
	case RIP_ACT_DROP_COLUMN:
	case RIP_ACT_RENAME_COLUMN:
	case RIP_ACT_TYPE_COLUMN:
		if (new_before(acts, i, a->table, a->column))
			return NULL;
		return column_finding(rule, a);
	case RIP_ACT_ADD_COLUMN:
	case RIP_ACT_SET_NOT_NULL:
		return not_null_finding(rule, acts, i);
	case RIP_ACT_WRITE:
		return rows_finding(rule, acts, i);
	default:
		return NULL;
	}
}

static bool up_touched_table(const struct rip_lint_actions *up, const char *t)
{
	for (size_t j = 0; j < up->n; j++)
		if (names_match(up->v[j].table, t) ||
				(up->v[j].kind == RIP_ACT_RENAME_TABLE &&
				names_match(up->v[j].to, t)))
			return true;
	return false;
}

static bool up_touched_column(const struct rip_lint_actions *up, const char *t,
	const char *c)
{
	if (created_before(up, up->n, t))
		return true;
	for (size_t j = 0; j < up->n; j++)
		if (same_column(&up->v[j], t, c))
			return true;
	return false;
}

/* An index, view, type...: by name, or by its table when it has one. */
static bool up_touched_object(const struct rip_lint_actions *up,
	const struct rip_lint_action *a)
{
	for (size_t j = 0; j < up->n; j++) {
		const struct rip_lint_action *u = &up->v[j];

		if (!is_object_act(u->kind) || !a->name)
			continue;
		if (names_match(u->name, a->name) ||
				names_match(u->to, a->name) ||
				names_match(u->name, a->to))
			return true;
	}
	return a->table && up_touched_table(up, a->table);
}

/* Whether the down's action a stays within what its up did. */
static bool down_in_up(const struct rip_lint_actions *up,
	const struct rip_lint_action *a)
{
	switch (a->kind) {
	case RIP_ACT_DROP_TABLE:
		return created_before(up, up->n, a->table);
	case RIP_ACT_RENAME_TABLE:
		return up_touched_table(up, a->table) ||
			up_touched_table(up, a->to);
	case RIP_ACT_CREATE_TABLE:
	case RIP_ACT_ALTER_TABLE:
	case RIP_ACT_WRITE:
		return up_touched_table(up, a->table);
	case RIP_ACT_RENAME_COLUMN:
		return up_touched_column(up, a->table, a->column) ||
			up_touched_column(up, a->table, a->to);
	case RIP_ACT_CREATE_OBJ:
	case RIP_ACT_DROP_OBJ:
	case RIP_ACT_ALTER_OBJ:
		return up_touched_object(up, a);
	default:
		return up_touched_column(up, a->table, a->column);
	}
}

/*
 * Whether the down's action i stays within what its up did, a rebuild
 * included: it may rebuild a table its up touched, and its new_x stands
 * for that table.
 */
static bool down_step_in_up(const struct rip_lint_actions *up,
	const struct rip_lint_actions *down, size_t i)
{
	const struct rip_lint_action *a = &down->v[i];
	struct rip_lint_action as;

	if (down_in_up(up, a))
		return true;
	if (a->kind == RIP_ACT_DROP_TABLE && rebuild_rename(down, i))
		return up_touched_table(up, a->table);
	as = *a;
	as.table = standing_for(down, a->table);
	return as.table != a->table && down_in_up(up, &as);
}

/* "drops column orders.note", "creates index orders_idx", ... */
static char *describe(const struct rip_lint_action *a)
{
	const char *verb = verbs[a->kind];

	if (a->kind == RIP_ACT_WRITE && a->write == RIP_WRITE_DELETE)
		return rip_xasprintf("deletes rows from table %s", a->table);
	if (a->kind == RIP_ACT_WRITE && a->write == RIP_WRITE_TRUNCATE)
		return rip_xasprintf("truncates table %s", a->table);
	if (a->kind == RIP_ACT_WRITE && a->write == RIP_WRITE_SET_NULL)
		return rip_xasprintf("sets column %s.%s to NULL", a->table,
			a->column);
	if (is_column_act(a->kind))
		return rip_xasprintf("%s column %s.%s", verb, a->table,
			a->column);
	if (!is_object_act(a->kind))
		return rip_xasprintf("%s table %s", verb, a->table);
	if (a->name)
		return rip_xasprintf("%s %s %s", verb, a->what, a->name);
	return rip_xasprintf("%s an unnamed %s on table %s", verb, a->what,
		a->table);
}

static void add_finding(struct rip_lint *out, const struct rip_migration *g,
	const struct rip_sql *sql, int line, const char *rule, char *message)
{
	struct rip_lint_finding *f;

	RIP_ALLOC_GROW(out->v, out->n + 1, out->alloc);
	f = &out->v[out->n++];
	f->id = g->id ? rip_xstrdup(g->id) : NULL;
	f->file = sql->file ? rip_xstrdup(sql->file) : NULL;
	f->line = line;
	f->rule = rule;
	f->message = message;
}

/* Whether rule is one of the destructive up rules: what the contract
 * phase is for. */
static bool destructive(const char *rule)
{
	return rule == rule_drop_table || rule == rule_drop_column ||
		rule == rule_rename || rule == rule_type_change ||
		rule == rule_delete_rows || rule == rule_truncate ||
		rule == rule_set_null;
}

/* A contract up runs once every target runs its release, so the
 * destructive rules ("while the previous release may still read it") do
 * not apply to it. */
static void lint_up(struct rip_lint *out, const struct rip_migration *g,
	const struct rip_lint_actions *up)
{
	for (size_t i = 0; i < up->n; i++) {
		const char *rule = NULL;
		char *msg = up_check(&rule, up, i);

		if (msg && g->contract && destructive(rule))
			free(msg);
		else if (msg)
			add_finding(out, g, &g->up, up->v[i].line, rule, msg);
	}
}

/* destructive-not-contract: an expand up g (actions up) with destructive
 * statements, once, at the first, with the fix. */
static void lint_not_contract(struct rip_lint *out,
	const struct rip_migration *g, const struct rip_lint_actions *up)
{
	size_t first = 0, more = 0;
	char *what = NULL, *extra = NULL;

	for (size_t i = 0; i < up->n; i++) {
		const char *rule = NULL;
		char *msg = up_check(&rule, up, i);

		if (msg && destructive(rule) && what)
			more++;
		else if (msg && destructive(rule)) {
			what = describe(&up->v[i]);
			first = i;
		}
		free(msg);
	}
	if (!what)
		return;
	if (more)
		extra = rip_xasprintf(" (and %zu more destructive statement%s)",
			more, more == 1 ? "" : "s");
	add_finding(out, g, &g->up, up->v[first].line, rule_not_contract,
		rip_xasprintf("%s%s, but is not marked contract, so deploy and "
		"rollout run it before the switch %s need it: mark it contract: "
		"first line '-- ripcord:contract' or [migrations] contract = %s",
		what, extra ? extra : "", old_release, g->id ? g->id : "ID"));
	free(extra);
	free(what);
}

static void lint_down(struct rip_lint *out, const struct rip_migration *g,
	const struct rip_lint_actions *up, const struct rip_lint_actions *down)
{
	for (size_t i = 0; i < down->n; i++) {
		const struct rip_lint_action *a = &down->v[i];
		bool in_up;
		char *what;

		/* its UPDATE is checked as a write to the table */
		if (a->kind == RIP_ACT_WRITE && a->write == RIP_WRITE_SET_NULL)
			continue;
		in_up = down_step_in_up(up, down, i);
		what = describe(a);

		if (a->kind == RIP_ACT_DROP_TABLE && !in_up &&
				up_touched_table(up, a->table))
			add_finding(out, g, &g->down, a->line, rule_foreign,
				rip_xasprintf("%s, which its up did not create (a "
				"rollback would lose the whole table; undo only "
				"what the up changed)", what));
		else if (!in_up)
			add_finding(out, g, &g->down, a->line, rule_foreign,
				rip_xasprintf("%s, which its up never created or "
				"altered (a down should undo its own up and "
				"nothing else)", what));
		if (a->if_exists)
			add_finding(out, g, &g->down, a->line, rule_if_exists,
				rip_xasprintf("%s with IF EXISTS, which hides a "
				"down that no longer matches its up (leave IF "
				"EXISTS out so the drill sees the difference)",
				what));
		free(what);
	}
}

static void lint_migration(struct rip_lint *out,
	const struct rip_migration *g)
{
	struct rip_lint_actions up = { 0 }, down = { 0 };

	if (g->baseline)
		return;
	rip_lint_parse(&up, &g->up);
	rip_lint_parse(&down, &g->down);
	rip_lint_pair_types(&up, &down);
	lint_up(out, g, &up);
	if (!g->irreversible && g->down.text)
		lint_down(out, g, &up, &down);
	rip_lint_actions_release(&up);
	rip_lint_actions_release(&down);
}

void rip_lint_run(struct rip_lint *out, const struct rip_migrations *m)
{
	for (size_t i = 0; i < m->n; i++)
		lint_migration(out, &m->v[i]);
}

/* Whether parent carries migration id (NULL carries nothing). */
static bool carried(const struct rip_migrations *parent, const char *id)
{
	return parent && id && rip_migrations_find(parent, id);
}

/* The first table of actions a that some action of b touches, or NULL;
 * *line is a's statement. */
static const char *shared_table(const struct rip_lint_actions *a,
	const struct rip_lint_actions *b, int *line)
{
	for (size_t i = 0; i < a->n; i++) {
		const char *t = a->v[i].table;

		if (!t)
			continue;
		for (size_t j = 0; j < b->n; j++) {
			if (names_match(b->v[j].table, t) ||
			    (b->v[j].kind == RIP_ACT_RENAME_TABLE &&
			     names_match(b->v[j].to, t))) {
				*line = a->v[i].line;
				return t;
			}
		}
	}
	return NULL;
}

/* The first expand migration of m new against parent that touches a
 * table contract migration c (actions cu) touches; one finding. */
static void lint_together(struct rip_lint *out,
	const struct rip_migrations *m, const struct rip_migrations *parent,
	const struct rip_migration *c, const struct rip_lint_actions *cu)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct rip_migration *e = &m->v[i];
		struct rip_lint_actions eu = { 0 };
		const char *t;
		int line = 0;

		if (e->contract || e->baseline || carried(parent, e->id))
			continue;
		rip_lint_parse(&eu, &e->up);
		t = shared_table(cu, &eu, &line);
		if (t)
			add_finding(out, c, &c->up, line, rule_together,
				rip_xasprintf("contract migration %s and expand "
				"migration %s both touch table %s and are both new in "
				"this release: expand and contract of one change belong "
				"in two releases (ship %s first, %s in a later release)",
				c->id, e->id, t, e->id, c->id));
		rip_lint_actions_release(&eu);
		if (t)
			return;
	}
}

void rip_lint_phases(struct rip_lint *out, const struct rip_migrations *m,
	const struct rip_migrations *parent)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct rip_migration *g = &m->v[i];
		struct rip_lint_actions up = { 0 }, down = { 0 };

		if (g->baseline)
			continue;
		rip_lint_parse(&up, &g->up);
		rip_lint_parse(&down, &g->down);
		rip_lint_pair_types(&up, &down);
		/* one carried from the parent may have run long ago: marking
		 * it contract now changes nothing it did */
		if (!g->contract && !carried(parent, g->id))
			lint_not_contract(out, g, &up);
		else if (parent && !carried(parent, g->id))
			lint_together(out, m, parent, g, &up);
		rip_lint_actions_release(&up);
		rip_lint_actions_release(&down);
	}
}

void rip_lint_release(struct rip_lint *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].file);
		free(l->v[i].message);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* What a down's action a loses, or NULL when it loses nothing. */
static char *loss_of(const char **rule, const struct rip_lint_actions *acts,
	size_t i)
{
	const struct rip_lint_action *a = &acts->v[i];

	switch (a->kind) {
	case RIP_ACT_DROP_TABLE:
		if (rebuild_rename(acts, i))
			return NULL;
		*rule = rule_drop_table;
		return rip_xasprintf("drops table %s: every row in it is lost",
			a->table);
	case RIP_ACT_DROP_COLUMN:
		*rule = rule_drop_column;
		return rip_xasprintf("drops column %s.%s: the values in it are "
			"lost", a->table, a->column);
	case RIP_ACT_TYPE_COLUMN:
		if (a->from_type && a->type &&
		    rip_lint_widens(a->from_type, a->type))
			return NULL;
		*rule = rule_type_change;
		return rip_xasprintf("%s column %s.%s: values its old type "
			"cannot hold are lost or cut", a->how ? "redefines" :
			"changes the type of", a->table, a->column);
	default:
		return NULL;
	}
}

void rip_lint_data_loss(struct rip_lint *out, const struct rip_migration *m)
{
	struct rip_lint_actions down = { 0 }, up = { 0 };

	if (m->baseline || m->irreversible || !m->down.text)
		return;
	rip_lint_parse(&down, &m->down);
	rip_lint_parse(&up, &m->up);
	rip_lint_pair_types(&down, &up);
	for (size_t i = 0; i < down.n; i++) {
		const char *rule = NULL;
		char *msg = loss_of(&rule, &down, i);

		if (msg)
			add_finding(out, m, &m->down, down.v[i].line, rule, msg);
	}
	rip_lint_actions_release(&down);
	rip_lint_actions_release(&up);
}
