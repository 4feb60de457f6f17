/* SPDX-License-Identifier: MIT */
/*
 * lint_parse.c: lint's reading of a script, from text to actions.
 *
 * sqltok's careful reading turns the text into tokens: comments, string
 * literals and dollar-quoted bodies are dropped whole (so a function body
 * is never linted), quoted identifiers are unquoted with their case kept,
 * unquoted words are lowercased, and ';' ends a statement. A parser that
 * knows only the statements that matter to lint (CREATE, DROP, ALTER
 * with a type change's new type, RENAME, the targets of INSERT/UPDATE/
 * DELETE/TRUNCATE and the columns an UPDATE sets to NULL) turns each
 * statement into actions such as "drops column orders.status"; anything
 * it does not know yields no action, so it can never yield a finding.
 *
 * Tuned for no false positives from text that is not SQL being run, over
 * completeness. Not handled: MySQL backslash escapes in plain '...'
 * strings (E'...' is), '#' comments, [bracketed] identifiers, and
 * BEGIN ... END bodies outside dollar quotes, which are split on their ';'.
 */
#include <stdlib.h>
#include <string.h>

#include "lint_internal.h"
#include "sqltok.h"
#include "banned.h"

/* ---- tokens ---- */

enum tok_kind {
	T_WORD,   /* unquoted word, lowercased */
	T_IDENT,  /* "quoted" or `quoted` identifier, unquoted, case kept */
	T_OTHER,  /* a string, a number (its text kept) or a dollar-quoted
		     body */
	T_PUNCT,  /* one character of anything else */
	T_END,    /* ';' or the end of the text */
};

struct tok {
	enum tok_kind kind;
	char *s;  /* T_WORD, T_IDENT and a number only */
	char ch;  /* T_PUNCT only */
	int line;
};

struct toks {
	struct tok *v;
	size_t n, alloc;
};

static void push(struct toks *out, enum tok_kind kind, char *s, char ch,
	int line)
{
	struct tok *t;

	RIP_ALLOC_GROW(out->v, out->n + 1, out->alloc);
	t = &out->v[out->n++];
	t->kind = kind;
	t->s = s;
	t->ch = ch;
	t->line = line;
}

/* The quoted identifier q[0..n), unquoted: a doubled quote stands for one. */
static char *unquote(const char *q, size_t n)
{
	struct rip_buf b = RIP_BUF_INIT;

	for (size_t i = 1; i < n; i++) {
		if (q[i] == q[0] && (i + 1 == n || q[i + 1] != q[0]))
			break;
		if (q[i] == q[0])
			i++;
		rip_buf_addch(&b, q[i]);
	}
	return rip_buf_detach(&b, NULL);
}

static char *lower_dup(const char *s, size_t n)
{
	char *w = rip_xstrndup(s, n);

	for (size_t i = 0; i < n; i++)
		if (w[i] >= 'A' && w[i] <= 'Z')
			w[i] = (char)(w[i] - 'A' + 'a');
	return w;
}

/* Tokens of text[0..len) on sqltok's careful reading, ending in T_END. */
static void lex(struct toks *out, const char *text, size_t len)
{
	struct rip_sqltok s;

	rip_sqltok_init(&s, text, len, 0, true);
	while (rip_sqltok_next(&s)) {
		const char *p = text + s.start;
		size_t n = s.end - s.start;

		if (s.kind == RIP_SQLTOK_WORD)
			push(out, T_WORD, lower_dup(p, n), 0, s.line);
		else if (s.kind == RIP_SQLTOK_QUOTED)
			push(out, T_IDENT, unquote(p, n), 0, s.line);
		else if (s.kind == RIP_SQLTOK_CHAR)
			push(out, *p == ';' ? T_END : T_PUNCT, NULL, *p,
				s.line);
		else if (s.kind == RIP_SQLTOK_NUMBER)  /* a type's size */
			push(out, T_OTHER, rip_xstrndup(p, n), 0, s.line);
		else if (s.kind != RIP_SQLTOK_SPACE &&
				s.kind != RIP_SQLTOK_COMMENT)
			push(out, T_OTHER, NULL, 0, s.line);
	}
	push(out, T_END, NULL, 0, s.line);
}

static void toks_release(struct toks *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].s);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- actions ---- */

static char *xdup(const char *s)
{
	return s ? rip_xstrdup(s) : NULL;
}

void rip_lint_actions_release(struct rip_lint_actions *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].table);
		free(a->v[i].column);
		free(a->v[i].name);
		free(a->v[i].to);
		free(a->v[i].type);
		free(a->v[i].from_type);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* ---- the parser ---- */

/* A statement (or one action of an ALTER TABLE): v[i..end). */
struct cur {
	const struct tok *v;
	size_t i, end;
	int line;
	bool if_exists;    /* ALTER TABLE IF EXISTS: each action inherits it */
	struct rip_lint_actions *out;
};

static struct rip_lint_action *emit(struct cur *c, enum rip_lint_act kind,
	const char *table, const char *column)
{
	struct rip_lint_actions *out = c->out;
	struct rip_lint_action *a;

	RIP_ALLOC_GROW(out->v, out->n + 1, out->alloc);
	a = &out->v[out->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->line = c->line;
	a->if_exists = c->if_exists;
	a->table = xdup(table);
	a->column = xdup(column);
	return a;
}

static const struct tok *at(const struct cur *c, size_t k)
{
	return c->i + k < c->end ? &c->v[c->i + k] : NULL;
}

static bool kw_at(const struct cur *c, size_t k, const char *kw)
{
	const struct tok *t = at(c, k);

	return t && t->kind == T_WORD && !strcmp(t->s, kw);
}

static bool punct_at(const struct cur *c, size_t k, char ch)
{
	const struct tok *t = at(c, k);

	return t && t->kind == T_PUNCT && t->ch == ch;
}

static bool name_at(const struct cur *c, size_t k)
{
	const struct tok *t = at(c, k);

	return t && (t->kind == T_WORD || t->kind == T_IDENT);
}

/* Whether the next words are kws (NULL-terminated); consumes them if so. */
static bool match_words(struct cur *c, const char *const *kws, bool consume)
{
	size_t k = 0;

	for (; kws[k]; k++)
		if (!kw_at(c, k, kws[k]))
			return false;
	if (consume)
		c->i += k;
	return true;
}

#define ACCEPT(c, ...) \
	match_words((c), (const char *const[]){ __VA_ARGS__, NULL }, true)
#define LOOKING_AT(c, ...) \
	match_words((c), (const char *const[]){ __VA_ARGS__, NULL }, false)

/* Whether the next word is one of list (NULL-terminated). */
static bool word_in(const struct cur *c, const char *const *list)
{
	for (; *list; list++)
		if (kw_at(c, 0, *list))
			return true;
	return false;
}

static bool accept_punct(struct cur *c, char ch)
{
	if (!punct_at(c, 0, ch))
		return false;
	c->i++;
	return true;
}

/* A possibly qualified name ("public.orders"), or NULL; caller frees. */
static char *read_name(struct cur *c)
{
	struct rip_buf b = RIP_BUF_INIT;

	while (name_at(c, 0)) {
		rip_buf_adds(&b, c->v[c->i++].s);
		if (!punct_at(c, 0, '.') || !name_at(c, 1))
			break;
		rip_buf_addch(&b, '.');
		c->i++;
	}
	if (!b.len) {
		rip_buf_release(&b);
		return NULL;
	}
	return rip_buf_detach(&b, NULL);
}

/* Skips a parenthesised group (a function's arguments), if one is next. */
static void skip_parens(struct cur *c)
{
	int depth = 0;

	if (!punct_at(c, 0, '('))
		return;
	for (; c->i < c->end; c->i++) {
		if (punct_at(c, 0, '('))
			depth++;
		else if (punct_at(c, 0, ')') && --depth == 0)
			break;
	}
	if (c->i < c->end)
		c->i++;
}

/*
 * The type named next, as written and lowercased: words, a size in
 * parentheses, array brackets ("character varying(200)", "numeric(10,2)",
 * "int[]"), up to what follows a type (USING, COLLATE, NOT NULL, DEFAULT,
 * ...). NULL when no type is named. Caller frees.
 */
static char *read_type(struct cur *c)
{
	static const char *const after[] = { "using", "collate", "not",
		"null", "default", "constraint", "check", "references", "primary",
		"unique", "generated", "comment", "after", "first", "charset",
		"auto_increment", "identity", NULL };
	struct rip_buf b = RIP_BUF_INIT;
	bool word = false;

	while (c->i < c->end && !word_in(c, after) &&
	       !LOOKING_AT(c, "character", "set")) {
		const struct tok *t = &c->v[c->i];

		if (t->kind == T_WORD || t->kind == T_IDENT) {
			rip_buf_addf(&b, "%s%s", word ? " " : "", t->s);
			word = true;
		} else if (t->kind == T_PUNCT && strchr("()[],.", t->ch)) {
			rip_buf_addch(&b, t->ch);
			word = false;
		} else if (t->kind == T_OTHER && t->s) {
			rip_buf_adds(&b, t->s);
			word = false;
		} else {
			break;
		}
		c->i++;
	}
	if (!b.len) {
		rip_buf_release(&b);
		return NULL;
	}
	return rip_buf_detach(&b, NULL);
}

/* Where the action that starts at c->i ends: a ',' outside parentheses. */
static size_t action_end(const struct cur *c)
{
	int depth = 0;

	for (size_t k = c->i; k < c->end; k++) {
		const struct tok *t = &c->v[k];

		if (t->kind != T_PUNCT)
			continue;
		if (t->ch == '(')
			depth++;
		else if (t->ch == ')' && depth > 0)
			depth--;
		else if (t->ch == ',' && !depth)
			return k;
	}
	return c->end;
}

static bool value_word(const char *s)
{
	static const char *const words[] = { "generated", "identity",
		"auto_increment", "autoincrement", "serial", "bigserial",
		"smallserial", "serial2", "serial4", "serial8" };

	for (size_t i = 0; i < RIP_ARRAY_SIZE(words); i++)
		if (!strcmp(s, words[i]))
			return true;
	return false;
}

/* Whether the word before k's token, inside c, is kw. */
static bool after_word(const struct cur *c, const struct cur *k,
	const char *kw)
{
	const struct tok *p = k->i > c->i ? &k->v[k->i - 1] : NULL;

	return p && p->kind == T_WORD && !strcmp(p->s, kw);
}

/*
 * Reads a column definition's NOT NULL and whether rows get a value
 * without naming it. "IS NOT NULL" belongs to a CHECK, and neither
 * "DEFAULT NULL" nor "ON DELETE SET DEFAULT" is a default.
 */
static void scan_column_def(const struct cur *c, bool *not_null,
	bool *has_default)
{
	int depth = 0;

	for (struct cur k = *c; k.i < k.end; k.i++) {
		const struct tok *t = &k.v[k.i];

		if (t->kind == T_PUNCT && (t->ch == '(' || t->ch == ')'))
			depth += t->ch == '(' ? 1 : -1;
		if (depth || t->kind != T_WORD)
			continue;
		if (!strcmp(t->s, "not") && kw_at(&k, 1, "null") &&
				!after_word(c, &k, "is"))
			*not_null = true;
		else if ((!strcmp(t->s, "default") && !kw_at(&k, 1, "null") &&
				!after_word(c, &k, "set")) || value_word(t->s))
			*has_default = true;
	}
}

static const char *const table_level_words[] = { "constraint", "primary",
	"foreign", "unique", "check", "index", "key", "fulltext", "spatial",
	"exclude", "partition", NULL };

static void parse_add(struct cur *c, const char *table)
{
	bool not_null = false, has_default = false;
	struct rip_lint_action *a;
	char *col;

	if (!ACCEPT(c, "column") && word_in(c, table_level_words)) {
		emit(c, RIP_ACT_ALTER_TABLE, table, NULL);
		return;
	}
	ACCEPT(c, "if", "not", "exists");
	col = read_name(c);
	if (!col) {
		emit(c, RIP_ACT_ALTER_TABLE, table, NULL);
		return;
	}
	scan_column_def(c, &not_null, &has_default);
	a = emit(c, RIP_ACT_ADD_COLUMN, table, col);
	a->not_null = not_null;
	a->has_default = has_default;
	free(col);
}

static void parse_drop_action(struct cur *c, const char *table)
{
	struct rip_lint_action *a;
	bool if_exists;
	char *col;

	if (!ACCEPT(c, "column") && word_in(c, table_level_words)) {
		c->i++;
		if_exists = ACCEPT(c, "if", "exists");
		emit(c, RIP_ACT_ALTER_TABLE, table, NULL)->if_exists |=
			if_exists;
		return;
	}
	if_exists = ACCEPT(c, "if", "exists");
	col = read_name(c);
	if (!col)
		return;
	a = emit(c, RIP_ACT_DROP_COLUMN, table, col);
	a->if_exists |= if_exists;
	free(col);
}

static void parse_rename_action(struct cur *c, const char *table)
{
	static const char *const others[] = { "constraint", "index", "key",
		NULL };
	char *from = NULL, *to = NULL;
	bool column;

	if (ACCEPT(c, "to") || ACCEPT(c, "as")) {
		to = read_name(c);
		if (to)
			emit(c, RIP_ACT_RENAME_TABLE, table, NULL)->to = to;
		return;
	}
	column = ACCEPT(c, "column");
	from = column || !word_in(c, others) ? read_name(c) : NULL;
	if (from && ACCEPT(c, "to"))
		to = read_name(c);
	if (from && to)
		emit(c, RIP_ACT_RENAME_COLUMN, table, from)->to = xdup(to);
	else if (from && !column)  /* MySQL: RENAME new_name */
		emit(c, RIP_ACT_RENAME_TABLE, table, NULL)->to = xdup(from);
	else
		emit(c, RIP_ACT_ALTER_TABLE, table, NULL);
	free(from);
	free(to);
}

static void parse_alter_column(struct cur *c, const char *table)
{
	static const char *const subcommands[] = { "set", "drop", "add",
		"reset", "restart", "options", NULL };
	enum rip_lint_act kind = RIP_ACT_ALTER_COLUMN;
	struct rip_lint_action *a;
	const char *how = NULL;
	char *col, *type = NULL;

	ACCEPT(c, "column");
	col = LOOKING_AT(c, "constraint") ? NULL : read_name(c);
	if (!col) {
		emit(c, RIP_ACT_ALTER_TABLE, table, NULL);
		return;
	}
	if (ACCEPT(c, "type") || ACCEPT(c, "set", "data", "type")) {
		kind = RIP_ACT_TYPE_COLUMN;
		type = read_type(c);
	} else if (ACCEPT(c, "set", "not", "null")) {
		kind = RIP_ACT_SET_NOT_NULL;
	} else if (ACCEPT(c, "set", "default")) {
		kind = RIP_ACT_SET_DEFAULT;
	} else if (at(c, 0) && at(c, 0)->kind == T_WORD &&
			!word_in(c, subcommands)) {
		/* T-SQL: ALTER COLUMN c int NOT NULL restates the type */
		kind = RIP_ACT_TYPE_COLUMN;
		how = "ALTER COLUMN";
		type = read_type(c);
	}
	a = emit(c, kind, table, col);
	a->how = how;
	a->type = type;
	free(col);
}

static void parse_modify(struct cur *c, const char *table)
{
	char *col;

	struct rip_lint_action *a;

	ACCEPT(c, "column");
	col = read_name(c);
	if (col) {
		a = emit(c, RIP_ACT_TYPE_COLUMN, table, col);
		a->how = "MODIFY";
		a->type = read_type(c);
	}
	free(col);
}

/* MySQL's CHANGE old new type: a rename when the names differ. */
static void parse_change(struct cur *c, const char *table)
{
	struct rip_lint_action *a;
	char *from, *to;

	ACCEPT(c, "column");
	from = read_name(c);
	to = from ? read_name(c) : NULL;
	if (from && to && strcmp(from, to)) {
		a = emit(c, RIP_ACT_RENAME_COLUMN, table, from);
		a->to = xdup(to);
		a->how = "CHANGE";
	} else if (from) {
		a = emit(c, RIP_ACT_TYPE_COLUMN, table, from);
		a->how = "CHANGE";
		a->type = to ? read_type(c) : NULL;
	}
	free(from);
	free(to);
}

static const struct {
	const char *kw;
	void (*fn)(struct cur *c, const char *table);
} alter_actions[] = {
	{ "add", parse_add },
	{ "drop", parse_drop_action },
	{ "rename", parse_rename_action },
	{ "alter", parse_alter_column },
	{ "modify", parse_modify },
	{ "change", parse_change },
};

static void parse_alter_action(struct cur *c, const char *table)
{
	for (size_t k = 0; k < RIP_ARRAY_SIZE(alter_actions); k++) {
		if (ACCEPT(c, alter_actions[k].kw)) {
			alter_actions[k].fn(c, table);
			return;
		}
	}
	emit(c, RIP_ACT_ALTER_TABLE, table, NULL);
}

static void parse_alter_table(struct cur *c)
{
	char *table;

	c->if_exists = ACCEPT(c, "if", "exists");
	ACCEPT(c, "only");
	table = read_name(c);
	if (!table)
		return;
	accept_punct(c, '*');
	while (c->i < c->end) {
		struct cur one = *c;

		one.end = action_end(c);
		parse_alter_action(&one, table);
		c->i = one.end + 1;
	}
	free(table);
}

struct object_kind {
	const char *word;
	bool on_table;  /* names its table after ON */
};

static const struct object_kind object_kinds[] = {
	{ "materialized view", false }, /* first: two words */
	{ "index", true }, { "trigger", true }, { "policy", true },
	{ "rule", true }, { "view", false }, { "sequence", false },
	{ "type", false }, { "function", false }, { "procedure", false },
	{ "schema", false }, { "extension", false }, { "domain", false },
	{ "aggregate", false }, { "collation", false }, { "event", false },
};

/* The kind of object named next (consumed), or NULL. */
static const struct object_kind *read_object_kind(struct cur *c)
{
	if (ACCEPT(c, "materialized", "view"))
		return &object_kinds[0];
	for (size_t k = 1; k < RIP_ARRAY_SIZE(object_kinds); k++)
		if (ACCEPT(c, object_kinds[k].word))
			return &object_kinds[k];
	return NULL;
}

/* The table after the statement's first ON outside parentheses. */
static char *table_after_on(struct cur *c)
{
	struct cur k = *c;

	while (k.i < k.end && !kw_at(&k, 0, "on")) {
		if (punct_at(&k, 0, '('))
			skip_parens(&k);
		else
			k.i++;
	}
	if (!ACCEPT(&k, "on"))
		return NULL;
	ACCEPT(&k, "only");
	return read_name(&k);
}

static void parse_create_object(struct cur *c, const struct object_kind *kind)
{
	struct rip_lint_action *a;
	char *name, *table;

	ACCEPT(c, "concurrently");
	ACCEPT(c, "if", "not", "exists");
	name = LOOKING_AT(c, "on") ? NULL : read_name(c);
	table = kind->on_table ? table_after_on(c) : NULL;
	if (name || table) {
		a = emit(c, RIP_ACT_CREATE_OBJ, table, NULL);
		a->what = kind->word;
		a->name = name;
		name = NULL;
	}
	free(name);
	free(table);
}

static void parse_create(struct cur *c)
{
	static const char *const modifiers[] = { "or", "replace", "temp",
		"temporary", "unlogged", "global", "local", "unique",
		"fulltext", "spatial", "recursive", NULL };
	const struct object_kind *kind;
	char *table;

	while (word_in(c, modifiers))
		c->i++;
	if (ACCEPT(c, "table")) {
		ACCEPT(c, "if", "not", "exists");
		table = read_name(c);
		if (table)
			emit(c, RIP_ACT_CREATE_TABLE, table, NULL);
		free(table);
		return;
	}
	kind = read_object_kind(c);
	if (kind)
		parse_create_object(c, kind);
}

static void parse_drop_objects(struct cur *c, const struct object_kind *kind)
{
	struct rip_lint_action *a;
	bool if_exists;
	char *name, *table;

	ACCEPT(c, "concurrently");
	if_exists = ACCEPT(c, "if", "exists");
	do {
		name = read_name(c);
		if (!name)
			return;
		skip_parens(c);
		table = ACCEPT(c, "on") ? read_name(c) : NULL;
		a = emit(c, RIP_ACT_DROP_OBJ, table, NULL);
		a->what = kind->word;
		a->name = name;
		a->if_exists = if_exists;
		free(table);
	} while (accept_punct(c, ','));
}

static void parse_drop(struct cur *c)
{
	const struct object_kind *kind;
	bool if_exists;
	char *table;

	ACCEPT(c, "temporary");
	if (!ACCEPT(c, "table")) {
		kind = read_object_kind(c);
		if (kind)
			parse_drop_objects(c, kind);
		return;
	}
	if_exists = ACCEPT(c, "if", "exists");
	do {
		table = read_name(c);
		if (!table)
			return;
		emit(c, RIP_ACT_DROP_TABLE, table, NULL)->if_exists = if_exists;
		free(table);
	} while (accept_punct(c, ','));
}

static void parse_alter(struct cur *c)
{
	const struct object_kind *kind;
	struct rip_lint_action *a;
	bool if_exists;
	char *name;

	if (ACCEPT(c, "table")) {
		parse_alter_table(c);
		return;
	}
	kind = read_object_kind(c);
	if (!kind)
		return;
	if_exists = ACCEPT(c, "if", "exists");
	name = read_name(c);
	if (!name)
		return;
	skip_parens(c);
	a = emit(c, RIP_ACT_ALTER_OBJ, NULL, NULL);
	a->what = kind->word;
	a->name = name;
	a->if_exists = if_exists;
	if (ACCEPT(c, "rename", "to"))
		a->to = read_name(c);
}

/* MySQL's RENAME TABLE a TO b[, c TO d]. */
static void parse_rename(struct cur *c)
{
	char *from, *to;

	if (!ACCEPT(c, "table"))
		return;
	do {
		from = read_name(c);
		to = from && ACCEPT(c, "to") ? read_name(c) : NULL;
		if (to)
			emit(c, RIP_ACT_RENAME_TABLE, from, NULL)->to = to;
		free(from);
	} while (to && accept_punct(c, ','));
}

static const char *const write_noise[] = { "ignore", "into", "from",
	"table", "only", "low_priority", "quick", NULL };

/* The tables INSERT, REPLACE, DELETE or TRUNCATE write to; what a DELETE
 * or TRUNCATE does to their rows. */
static void parse_rows(struct cur *c, enum rip_lint_write w)
{
	char *table;

	while (word_in(c, write_noise))
		c->i++;
	do {
		table = read_name(c);
		if (!table)
			return;
		accept_punct(c, '*');
		emit(c, RIP_ACT_WRITE, table, NULL)->write = w;
		free(table);
	} while (accept_punct(c, ','));
}

static void parse_insert(struct cur *c)
{
	parse_rows(c, RIP_WRITE_OTHER);
}

static void parse_truncate(struct cur *c)
{
	parse_rows(c, RIP_WRITE_TRUNCATE);
}

/* Whether the word kw is in c outside parentheses. */
static bool has_word(const struct cur *c, const char *kw)
{
	int depth = 0;

	for (struct cur k = *c; k.i < k.end; k.i++) {
		if (punct_at(&k, 0, '(') || punct_at(&k, 0, ')'))
			depth += punct_at(&k, 0, '(') ? 1 : -1;
		else if (!depth && kw_at(&k, 0, kw))
			return true;
	}
	return false;
}

static void parse_delete(struct cur *c)
{
	size_t from = c->out->n;

	parse_rows(c, RIP_WRITE_DELETE);
	for (size_t i = from; i < c->out->n; i++)
		c->out->v[i].where = has_word(c, "where");
}

/* UPDATE t [alias] SET a = x, b = NULL ...: a write to t, and a SET_NULL
 * action for each column set to a bare NULL. */
static void parse_update(struct cur *c)
{
	static const char *const ends[] = { "where", "from", "returning",
		NULL };
	bool where = has_word(c, "where");
	struct rip_lint_action *a;
	char *table, *col;

	while (word_in(c, write_noise))
		c->i++;
	table = read_name(c);
	if (!table)
		return;
	emit(c, RIP_ACT_WRITE, table, NULL)->where = where;
	while (c->i < c->end && !kw_at(c, 0, "set"))
		c->i++;
	if (!ACCEPT(c, "set")) {
		free(table);
		return;
	}
	while (c->i < c->end && !word_in(c, ends)) {
		struct cur one = *c;

		one.end = action_end(c);
		col = read_name(&one);
		if (col && accept_punct(&one, '=') && ACCEPT(&one, "null") &&
		    (one.i == one.end || word_in(&one, ends))) {
			a = emit(c, RIP_ACT_WRITE, table, strrchr(col, '.') ?
				strrchr(col, '.') + 1 : col);
			a->write = RIP_WRITE_SET_NULL;
			a->where = where;
		}
		free(col);
		if (one.i < one.end && word_in(&one, ends))
			break;
		c->i = one.end + 1;
	}
	free(table);
}

static const struct {
	const char *kw;
	void (*fn)(struct cur *c);
} statements[] = {
	{ "create", parse_create },
	{ "drop", parse_drop },
	{ "alter", parse_alter },
	{ "rename", parse_rename },
	{ "insert", parse_insert },
	{ "replace", parse_insert },
	{ "update", parse_update },
	{ "delete", parse_delete },
	{ "truncate", parse_truncate },
};

static void parse_statement(struct cur *c)
{
	for (size_t k = 0; k < RIP_ARRAY_SIZE(statements); k++) {
		if (ACCEPT(c, statements[k].kw)) {
			statements[k].fn(c);
			return;
		}
	}
}

void rip_lint_parse(struct rip_lint_actions *out, const struct rip_sql *sql)
{
	struct toks toks = { 0 };
	size_t start = 0;

	if (!sql->text)
		return;
	lex(&toks, sql->text, sql->len);
	for (size_t k = 0; k < toks.n; k++) {
		struct cur c = { .v = toks.v, .i = start, .end = k,
			.out = out };

		if (toks.v[k].kind != T_END)
			continue;
		if (k > start) {
			c.line = toks.v[start].line;
			parse_statement(&c);
		}
		start = k + 1;
	}
	toks_release(&toks);
}
