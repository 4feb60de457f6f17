/* SPDX-License-Identifier: MIT */
/*
 * lint.c: migrations that will hurt during a canary or a rollback.
 *
 * Three stages. A lexer turns a script into tokens: comments, string
 * literals and dollar-quoted bodies are dropped whole (so a function body
 * is never linted), quoted identifiers are unquoted with their case kept,
 * unquoted words are lowercased, and ';' ends a statement. A parser that
 * knows only the statements that matter here (CREATE, DROP, ALTER, RENAME
 * and the targets of INSERT/UPDATE/DELETE/TRUNCATE) turns each statement
 * into actions such as "drops column orders.status"; anything it does not
 * know yields no action, so it can never yield a finding. Last, an up's
 * actions are checked in order against what the same up did before them
 * (a table it created is not "existing"), and a down's actions against
 * everything its up did.
 *
 * Tuned for no false positives from text that is not SQL being run, over
 * completeness. Not handled: MySQL backslash escapes in plain '...'
 * strings (E'...' is), '#' comments, [bracketed] identifiers, and
 * BEGIN ... END bodies outside dollar quotes, which are split on their ';'.
 * Names are compared as written, except that public.orders matches orders.
 */
#include <stdlib.h>
#include <string.h>

#include "ripcord/lint.h"
#include "banned.h"

/* ---- tokens ---- */

enum tok_kind {
	T_WORD,   /* unquoted word, lowercased */
	T_IDENT,  /* "quoted" or `quoted` identifier, unquoted, case kept */
	T_OTHER,  /* a string, a number or a dollar-quoted body */
	T_PUNCT,  /* one character of anything else */
	T_END,    /* ';' or the end of the text */
};

struct tok {
	enum tok_kind kind;
	char *s;  /* T_WORD and T_IDENT only */
	char ch;  /* T_PUNCT only */
	int line;
};

struct toks {
	struct tok *v;
	size_t n, alloc;
};

struct lexer {
	const char *p, *end;
	int line;
	struct toks *out;
};

static void push(struct lexer *lx, enum tok_kind kind, char *s, char ch,
	int line)
{
	struct tok *t;

	RIP_ALLOC_GROW(lx->out->v, lx->out->n + 1, lx->out->alloc);
	t = &lx->out->v[lx->out->n++];
	t->kind = kind;
	t->s = s;
	t->ch = ch;
	t->line = line;
}

static size_t left(const struct lexer *lx)
{
	return (size_t)(lx->end - lx->p);
}

/* Moves past n bytes (or to the end), counting newlines. */
static void step(struct lexer *lx, size_t n)
{
	for (; n && lx->p < lx->end; n--, lx->p++)
		if (*lx->p == '\n')
			lx->line++;
}

/* Moves past the first `close` (len bytes) from here, or to the end. */
static void skip_past(struct lexer *lx, const char *close, size_t len)
{
	const char *hit = memmem(lx->p, left(lx), close, len);

	step(lx, hit ? (size_t)(hit - lx->p) + len : left(lx));
}

static bool at2(const struct lexer *lx, char a, char b)
{
	return left(lx) >= 2 && lx->p[0] == a && lx->p[1] == b;
}

/* Block comments nest, as in PostgreSQL and the standard. */
static void lex_block_comment(struct lexer *lx)
{
	int depth = 0;

	while (lx->p < lx->end) {
		if (at2(lx, '/', '*')) {
			depth++;
			step(lx, 2);
		} else if (at2(lx, '*', '/')) {
			step(lx, 2);
			if (--depth == 0)
				return;
		} else {
			step(lx, 1);
		}
	}
}

/* A string literal: '' stands for a quote, and so does \' in E'...'. */
static void lex_string(struct lexer *lx, bool backslash)
{
	int line = lx->line;

	step(lx, 1);
	while (lx->p < lx->end) {
		if ((backslash && *lx->p == '\\') || at2(lx, '\'', '\'')) {
			step(lx, 2);
		} else if (*lx->p != '\'') {
			step(lx, 1);
		} else {
			step(lx, 1);
			break;
		}
	}
	push(lx, T_OTHER, NULL, 0, line);
}

/* "ident" or `ident`; a doubled quote stands for one. */
static void lex_quoted(struct lexer *lx)
{
	struct rip_buf b = RIP_BUF_INIT;
	char q = *lx->p;
	int line = lx->line;

	step(lx, 1);
	while (lx->p < lx->end) {
		if (*lx->p == q && !at2(lx, q, q)) {
			step(lx, 1);
			break;
		}
		if (*lx->p == q)
			step(lx, 1);
		rip_buf_addch(&b, *lx->p);
		step(lx, 1);
	}
	push(lx, T_IDENT, rip_buf_detach(&b, NULL), 0, line);
}

static bool word_start(char c)
{
	unsigned char u = (unsigned char)c;

	return u == '_' || u >= 0x80 || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool word_char(char c)
{
	return word_start(c) || is_digit(c) || c == '$';
}

/* $$...$$ or $tag$...$tag$, skipped whole; false when '$' opens neither. */
static bool lex_dollar(struct lexer *lx)
{
	const char *tag = lx->p;
	int line = lx->line;
	size_t n = 1;

	while (n < left(lx) && (word_start(tag[n]) ||
			(n > 1 && is_digit(tag[n]))))
		n++;
	if (n >= left(lx) || tag[n] != '$')
		return false;
	n++;
	step(lx, n);
	skip_past(lx, tag, n);
	push(lx, T_OTHER, NULL, 0, line);
	return true;
}

static void lex_word(struct lexer *lx)
{
	const char *s = lx->p;
	size_t n = 0;
	char *w;

	while (n < left(lx) && word_char(s[n]))
		n++;
	if (n == 1 && (*s == 'e' || *s == 'E') && n < left(lx) &&
			s[n] == '\'') {
		step(lx, 1);
		lex_string(lx, true);
		return;
	}
	w = rip_xstrndup(s, n);
	for (size_t i = 0; i < n; i++)
		if (w[i] >= 'A' && w[i] <= 'Z')
			w[i] = (char)(w[i] - 'A' + 'a');
	push(lx, T_WORD, w, 0, lx->line);
	step(lx, n);
}

static void lex_number(struct lexer *lx)
{
	int line = lx->line;

	while (lx->p < lx->end && (word_char(*lx->p) || *lx->p == '.'))
		step(lx, 1);
	push(lx, T_OTHER, NULL, 0, line);
}

static void lex_one(struct lexer *lx)
{
	char c = *lx->p;

	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
			c == '\v')
		step(lx, 1);
	else if (at2(lx, '-', '-'))
		skip_past(lx, "\n", 1);
	else if (at2(lx, '/', '*'))
		lex_block_comment(lx);
	else if (c == '\'')
		lex_string(lx, false);
	else if (c == '"' || c == '`')
		lex_quoted(lx);
	else if (word_start(c))
		lex_word(lx);
	else if (is_digit(c))
		lex_number(lx);
	else if (c == '$' && lex_dollar(lx))
		return;
	else {
		push(lx, c == ';' ? T_END : T_PUNCT, NULL, c, lx->line);
		step(lx, 1);
	}
}

/* Tokens of text[0..len), always ending in T_END. */
static void lex(struct toks *out, const char *text, size_t len)
{
	struct lexer lx = { text, text + len, 1, out };

	while (lx.p < lx.end)
		lex_one(&lx);
	push(&lx, T_END, NULL, 0, lx.line);
}

static void toks_release(struct toks *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].s);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- actions ---- */

/* Column actions sit between A_ADD_COLUMN and A_ALTER_COLUMN. */
enum act {
	A_CREATE_TABLE, A_DROP_TABLE, A_RENAME_TABLE, A_ALTER_TABLE, A_WRITE,
	A_ADD_COLUMN, A_DROP_COLUMN, A_RENAME_COLUMN, A_TYPE_COLUMN,
	A_SET_NOT_NULL, A_SET_DEFAULT, A_ALTER_COLUMN,
	A_CREATE_OBJ, A_DROP_OBJ, A_ALTER_OBJ,
};

static const char *const verbs[] = {
	[A_CREATE_TABLE] = "creates", [A_DROP_TABLE] = "drops",
	[A_RENAME_TABLE] = "renames", [A_ALTER_TABLE] = "alters",
	[A_WRITE] = "writes to", [A_ADD_COLUMN] = "adds",
	[A_DROP_COLUMN] = "drops", [A_RENAME_COLUMN] = "renames",
	[A_TYPE_COLUMN] = "changes the type of",
	[A_SET_NOT_NULL] = "sets NOT NULL on",
	[A_SET_DEFAULT] = "sets a default on", [A_ALTER_COLUMN] = "alters",
	[A_CREATE_OBJ] = "creates", [A_DROP_OBJ] = "drops",
	[A_ALTER_OBJ] = "alters",
};

/* One thing a statement does; every string is owned but `what`/`how`. */
struct action {
	enum act kind;
	int line;          /* of the statement's first token */
	char *table;       /* NULL for an object not on a table */
	char *column;      /* column actions only */
	char *name;        /* an object's name; NULL for an unnamed index */
	char *to;          /* a rename's new name */
	const char *what;  /* an object's kind: "index", "view", ... */
	const char *how;   /* "MODIFY", "CHANGE", "ALTER COLUMN": MySQL/T-SQL
			      redefinitions that may change a type */
	bool if_exists;
	bool not_null;     /* A_ADD_COLUMN: declared NOT NULL */
	bool has_default;  /* A_ADD_COLUMN: DEFAULT, identity, serial... */
};

struct actions {
	struct action *v;
	size_t n, alloc;
};

static bool is_column_act(enum act k)
{
	return k >= A_ADD_COLUMN && k <= A_ALTER_COLUMN;
}

static bool is_object_act(enum act k)
{
	return k >= A_CREATE_OBJ;
}

static char *xdup(const char *s)
{
	return s ? rip_xstrdup(s) : NULL;
}

static void actions_release(struct actions *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].table);
		free(a->v[i].column);
		free(a->v[i].name);
		free(a->v[i].to);
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
	struct actions *out;
};

static struct action *emit(struct cur *c, enum act kind, const char *table,
	const char *column)
{
	struct actions *out = c->out;
	struct action *a;

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
	struct action *a;
	char *col;

	if (!ACCEPT(c, "column") && word_in(c, table_level_words)) {
		emit(c, A_ALTER_TABLE, table, NULL);
		return;
	}
	ACCEPT(c, "if", "not", "exists");
	col = read_name(c);
	if (!col) {
		emit(c, A_ALTER_TABLE, table, NULL);
		return;
	}
	scan_column_def(c, &not_null, &has_default);
	a = emit(c, A_ADD_COLUMN, table, col);
	a->not_null = not_null;
	a->has_default = has_default;
	free(col);
}

static void parse_drop_action(struct cur *c, const char *table)
{
	struct action *a;
	bool if_exists;
	char *col;

	if (!ACCEPT(c, "column") && word_in(c, table_level_words)) {
		c->i++;
		if_exists = ACCEPT(c, "if", "exists");
		emit(c, A_ALTER_TABLE, table, NULL)->if_exists |= if_exists;
		return;
	}
	if_exists = ACCEPT(c, "if", "exists");
	col = read_name(c);
	if (!col)
		return;
	a = emit(c, A_DROP_COLUMN, table, col);
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
			emit(c, A_RENAME_TABLE, table, NULL)->to = to;
		return;
	}
	column = ACCEPT(c, "column");
	from = column || !word_in(c, others) ? read_name(c) : NULL;
	if (from && ACCEPT(c, "to"))
		to = read_name(c);
	if (from && to)
		emit(c, A_RENAME_COLUMN, table, from)->to = xdup(to);
	else if (from && !column)  /* MySQL: RENAME new_name */
		emit(c, A_RENAME_TABLE, table, NULL)->to = xdup(from);
	else
		emit(c, A_ALTER_TABLE, table, NULL);
	free(from);
	free(to);
}

static void parse_alter_column(struct cur *c, const char *table)
{
	static const char *const subcommands[] = { "set", "drop", "add",
		"reset", "restart", "options", NULL };
	enum act kind = A_ALTER_COLUMN;
	const char *how = NULL;
	char *col;

	ACCEPT(c, "column");
	col = LOOKING_AT(c, "constraint") ? NULL : read_name(c);
	if (!col) {
		emit(c, A_ALTER_TABLE, table, NULL);
		return;
	}
	if (ACCEPT(c, "type") || ACCEPT(c, "set", "data", "type")) {
		kind = A_TYPE_COLUMN;
	} else if (ACCEPT(c, "set", "not", "null")) {
		kind = A_SET_NOT_NULL;
	} else if (ACCEPT(c, "set", "default")) {
		kind = A_SET_DEFAULT;
	} else if (at(c, 0) && at(c, 0)->kind == T_WORD &&
			!word_in(c, subcommands)) {
		/* T-SQL: ALTER COLUMN c int NOT NULL restates the type */
		kind = A_TYPE_COLUMN;
		how = "ALTER COLUMN";
	}
	emit(c, kind, table, col)->how = how;
	free(col);
}

static void parse_modify(struct cur *c, const char *table)
{
	char *col;

	ACCEPT(c, "column");
	col = read_name(c);
	if (col)
		emit(c, A_TYPE_COLUMN, table, col)->how = "MODIFY";
	free(col);
}

/* MySQL's CHANGE old new type: a rename when the names differ. */
static void parse_change(struct cur *c, const char *table)
{
	struct action *a;
	char *from, *to;

	ACCEPT(c, "column");
	from = read_name(c);
	to = from ? read_name(c) : NULL;
	if (from && to && strcmp(from, to)) {
		a = emit(c, A_RENAME_COLUMN, table, from);
		a->to = xdup(to);
		a->how = "CHANGE";
	} else if (from) {
		emit(c, A_TYPE_COLUMN, table, from)->how = "CHANGE";
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
	emit(c, A_ALTER_TABLE, table, NULL);
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
	struct action *a;
	char *name, *table;

	ACCEPT(c, "concurrently");
	ACCEPT(c, "if", "not", "exists");
	name = LOOKING_AT(c, "on") ? NULL : read_name(c);
	table = kind->on_table ? table_after_on(c) : NULL;
	if (name || table) {
		a = emit(c, A_CREATE_OBJ, table, NULL);
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
			emit(c, A_CREATE_TABLE, table, NULL);
		free(table);
		return;
	}
	kind = read_object_kind(c);
	if (kind)
		parse_create_object(c, kind);
}

static void parse_drop_objects(struct cur *c, const struct object_kind *kind)
{
	struct action *a;
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
		a = emit(c, A_DROP_OBJ, table, NULL);
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
		emit(c, A_DROP_TABLE, table, NULL)->if_exists = if_exists;
		free(table);
	} while (accept_punct(c, ','));
}

static void parse_alter(struct cur *c)
{
	const struct object_kind *kind;
	struct action *a;
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
	a = emit(c, A_ALTER_OBJ, NULL, NULL);
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
			emit(c, A_RENAME_TABLE, from, NULL)->to = to;
		free(from);
	} while (to && accept_punct(c, ','));
}

/* The tables INSERT, REPLACE, UPDATE, DELETE or TRUNCATE write to. */
static void parse_write(struct cur *c)
{
	static const char *const noise[] = { "ignore", "into", "from",
		"table", "only", "low_priority", NULL };
	char *table;

	while (word_in(c, noise))
		c->i++;
	do {
		table = read_name(c);
		if (!table)
			return;
		emit(c, A_WRITE, table, NULL);
		free(table);
	} while (accept_punct(c, ','));
}

static const struct {
	const char *kw;
	void (*fn)(struct cur *c);
} statements[] = {
	{ "create", parse_create },
	{ "drop", parse_drop },
	{ "alter", parse_alter },
	{ "rename", parse_rename },
	{ "insert", parse_write },
	{ "replace", parse_write },
	{ "update", parse_write },
	{ "delete", parse_write },
	{ "truncate", parse_write },
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

/* Appends the actions of every statement of sql to out. */
static void parse_script(struct actions *out, const struct rip_sql *sql)
{
	struct toks toks = { 0 };
	size_t start = 0;

	if (!sql->text)
		return;
	lex(&toks, sql->text, sql->len);
	for (size_t k = 0; k < toks.n; k++) {
		struct cur c = { .v = toks.v, .i = start, .end = k, .out = out };

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

/* ---- the rules ---- */

static const char rule_drop_table[] = "drop-table";
static const char rule_drop_column[] = "drop-column";
static const char rule_rename[] = "rename";
static const char rule_type_change[] = "type-change";
static const char rule_not_null[] = "not-null-no-default";
static const char rule_foreign[] = "down-foreign-object";
static const char rule_if_exists[] = "down-if-exists";

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

static bool same_column(const struct action *a, const char *table,
	const char *column)
{
	return is_column_act(a->kind) && names_match(a->table, table) &&
		column && ((a->column && !strcmp(a->column, column)) ||
		(a->to && !strcmp(a->to, column)));
}

/* Whether the actions before n create table t: then it is not existing. */
static bool created_before(const struct actions *acts, size_t n,
	const char *t)
{
	for (size_t j = 0; j < n; j++)
		if (acts->v[j].kind == A_CREATE_TABLE &&
				names_match(acts->v[j].table, t))
			return true;
	return false;
}

/* Whether nothing before this up can know column t.c (the up made it). */
static bool new_before(const struct actions *acts, size_t n, const char *t,
	const char *c)
{
	if (created_before(acts, n, t))
		return true;
	for (size_t j = 0; j < n; j++)
		if (acts->v[j].kind == A_ADD_COLUMN &&
				same_column(&acts->v[j], t, c))
			return true;
	return false;
}

static bool default_before(const struct actions *acts, size_t n,
	const char *t, const char *c)
{
	for (size_t j = 0; j < n; j++) {
		const struct action *a = &acts->v[j];

		if (((a->kind == A_ADD_COLUMN && a->has_default) ||
				a->kind == A_SET_DEFAULT) && same_column(a, t, c))
			return true;
	}
	return false;
}

static char *column_finding(const char **rule, const struct action *a)
{
	const char *t = a->table, *c = a->column;

	if (a->kind == A_DROP_COLUMN) {
		*rule = rule_drop_column;
		return rip_xasprintf("drops column %s.%s %s read it (drop it "
			"one release later)", t, c, old_release);
	}
	if (a->kind == A_RENAME_COLUMN) {
		*rule = rule_rename;
		return rip_xasprintf("renames column %s.%s to %s %s use the "
			"old name (add the new column, backfill it, and drop the "
			"old one a release later)", t, c, a->to, old_release);
	}
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

static char *not_null_finding(const char **rule, const struct actions *acts,
	size_t i)
{
	const struct action *a = &acts->v[i];

	if (created_before(acts, i, a->table))
		return NULL;
	*rule = rule_not_null;
	if (a->kind == A_ADD_COLUMN && a->not_null && !a->has_default)
		return rip_xasprintf("adds column %s.%s NOT NULL without a "
			"default %s insert rows without it (add a default, or "
			"set NOT NULL a release later)", a->table, a->column,
			old_release);
	if (a->kind == A_SET_NOT_NULL &&
			!default_before(acts, i, a->table, a->column))
		return rip_xasprintf("sets column %s.%s NOT NULL without a "
			"default %s insert rows without it (add a default "
			"first, or set NOT NULL a release later)", a->table,
			a->column, old_release);
	return NULL;
}

/* The finding action i of an up deserves, or NULL; sets *rule. */
static char *up_check(const char **rule, const struct actions *acts,
	size_t i)
{
	const struct action *a = &acts->v[i];

	switch (a->kind) {
	case A_DROP_TABLE:
		if (created_before(acts, i, a->table))
			return NULL;
		*rule = rule_drop_table;
		return rip_xasprintf("drops table %s %s read it (drop it one "
			"release later)", a->table, old_release);
	case A_RENAME_TABLE:
		if (created_before(acts, i, a->table))
			return NULL;
		*rule = rule_rename;
		return rip_xasprintf("renames table %s to %s %s use the old "
			"name (keep the old name working, e.g. as a view, until "
			"a release later)", a->table, a->to, old_release);
	case A_DROP_COLUMN:
	case A_RENAME_COLUMN:
	case A_TYPE_COLUMN:
		if (new_before(acts, i, a->table, a->column))
			return NULL;
		return column_finding(rule, a);
	case A_ADD_COLUMN:
	case A_SET_NOT_NULL:
		return not_null_finding(rule, acts, i);
	default:
		return NULL;
	}
}

static bool up_touched_table(const struct actions *up, const char *t)
{
	for (size_t j = 0; j < up->n; j++)
		if (names_match(up->v[j].table, t) ||
				(up->v[j].kind == A_RENAME_TABLE &&
				names_match(up->v[j].to, t)))
			return true;
	return false;
}

static bool up_touched_column(const struct actions *up, const char *t,
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
static bool up_touched_object(const struct actions *up,
	const struct action *a)
{
	for (size_t j = 0; j < up->n; j++) {
		const struct action *u = &up->v[j];

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
static bool down_in_up(const struct actions *up, const struct action *a)
{
	switch (a->kind) {
	case A_DROP_TABLE:
		return created_before(up, up->n, a->table);
	case A_RENAME_TABLE:
		return up_touched_table(up, a->table) ||
			up_touched_table(up, a->to);
	case A_CREATE_TABLE:
	case A_ALTER_TABLE:
	case A_WRITE:
		return up_touched_table(up, a->table);
	case A_RENAME_COLUMN:
		return up_touched_column(up, a->table, a->column) ||
			up_touched_column(up, a->table, a->to);
	case A_CREATE_OBJ:
	case A_DROP_OBJ:
	case A_ALTER_OBJ:
		return up_touched_object(up, a);
	default:
		return up_touched_column(up, a->table, a->column);
	}
}

/* "drops column orders.note", "creates index orders_idx", ... */
static char *describe(const struct action *a)
{
	const char *verb = verbs[a->kind];

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
	f->id = xdup(g->id);
	f->file = xdup(sql->file);
	f->line = line;
	f->rule = rule;
	f->message = message;
}

static void lint_up(struct rip_lint *out, const struct rip_migration *g,
	const struct actions *up)
{
	for (size_t i = 0; i < up->n; i++) {
		const char *rule = NULL;
		char *msg = up_check(&rule, up, i);

		if (msg)
			add_finding(out, g, &g->up, up->v[i].line, rule, msg);
	}
}

static void lint_down(struct rip_lint *out, const struct rip_migration *g,
	const struct actions *up, const struct actions *down)
{
	for (size_t i = 0; i < down->n; i++) {
		const struct action *a = &down->v[i];
		char *what = describe(a);

		if (a->kind == A_DROP_TABLE && !down_in_up(up, a) &&
				up_touched_table(up, a->table))
			add_finding(out, g, &g->down, a->line, rule_foreign,
				rip_xasprintf("%s, which its up did not create (a "
				"rollback would lose the whole table; undo only "
				"what the up changed)", what));
		else if (!down_in_up(up, a))
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
	struct actions up = { 0 }, down = { 0 };

	if (g->baseline)
		return;
	parse_script(&up, &g->up);
	lint_up(out, g, &up);
	if (!g->irreversible && g->down.text) {
		parse_script(&down, &g->down);
		lint_down(out, g, &up, &down);
	}
	actions_release(&up);
	actions_release(&down);
}

void rip_lint_run(struct rip_lint *out, const struct rip_migrations *m)
{
	for (size_t i = 0; i < m->n; i++)
		lint_migration(out, &m->v[i]);
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
