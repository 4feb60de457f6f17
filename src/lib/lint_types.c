/* SPDX-License-Identifier: MIT */
/*
 * lint_types.c: whether a column's type change widens it (lint_internal.h).
 *
 * A type change loses nothing when the new type holds every value of the
 * old one: the same type larger, a larger integer or float, any character
 * type to text. An up's statement names only the new type; the old one is
 * read from the migration's other script (a down restores what its up
 * changed). Tuned to say "widens" only when sure: a type it does not know,
 * or an old type it cannot find, is a change as before.
 */
#include <stdlib.h>
#include <string.h>

#include "lint_internal.h"
#include "banned.h"

/* A type read into a family, a rank within it and its sizes. */
struct ty {
	enum { TY_UNKNOWN, TY_INT, TY_FLOAT, TY_NUMERIC, TY_CHAR,
	       TY_TEXT, TY_BINARY } family;
	int rank;        /* TY_INT, TY_FLOAT: bytes */
	long size[2];    /* (n) or (p,s); -1: not given */
	bool bounded;    /* TY_CHAR: a length limit (varchar(n), char(n)) */
};

static const struct {
	const char *name;
	int family, rank;
} names[] = {
	{ "tinyint", TY_INT, 1 }, { "smallint", TY_INT, 2 },
	{ "int2", TY_INT, 2 }, { "mediumint", TY_INT, 3 },
	{ "int", TY_INT, 4 }, { "integer", TY_INT, 4 }, { "int4", TY_INT, 4 },
	{ "bigint", TY_INT, 8 }, { "int8", TY_INT, 8 },
	{ "real", TY_FLOAT, 4 }, { "float4", TY_FLOAT, 4 },
	{ "float8", TY_FLOAT, 8 }, { "double precision", TY_FLOAT, 8 },
	{ "double", TY_FLOAT, 8 },
	{ "numeric", TY_NUMERIC, 0 }, { "decimal", TY_NUMERIC, 0 },
	{ "varchar", TY_CHAR, 0 }, { "character varying", TY_CHAR, 0 },
	{ "nvarchar", TY_CHAR, 0 }, { "varchar2", TY_CHAR, 0 },
	{ "char", TY_CHAR, 0 }, { "character", TY_CHAR, 0 },
	{ "nchar", TY_CHAR, 0 },
	{ "text", TY_TEXT, 0 }, { "mediumtext", TY_TEXT, 0 },
	{ "longtext", TY_TEXT, 0 }, { "clob", TY_TEXT, 0 },
	{ "varbinary", TY_BINARY, 0 }, { "binary", TY_BINARY, 0 },
};

/* Reads "(n)" or "(p,s)" at p into t->size; false when malformed. */
static bool read_sizes(struct ty *t, const char *p)
{
	char *end;

	for (int k = 0; k < 2; k++) {
		if (*p < '0' || *p > '9')
			return false;
		t->size[k] = strtol(p, &end, 10);
		p = end;
		if (*p == ')')
			return p[1] == '\0';
		if (*p != ',' || k == 1)
			return false;
		p++;
	}
	return false;
}

static struct ty read_ty(const char *s)
{
	struct ty t = { TY_UNKNOWN, 0, { -1, -1 }, false };
	const char *paren = s ? strchr(s, '(') : NULL;
	size_t n = paren ? (size_t)(paren - s) : s ? strlen(s) : 0;

	if (!s)
		return t;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(names); i++) {
		if (strlen(names[i].name) != n || memcmp(names[i].name, s, n))
			continue;
		t.family = names[i].family;
		t.rank = names[i].rank;
		if (paren && !read_sizes(&t, paren + 1))
			t.family = TY_UNKNOWN;
		/* char without a length is char(1) */
		t.bounded = t.family == TY_CHAR && (paren ||
			!strstr(names[i].name, "var"));
		if (t.family == TY_CHAR && !paren && t.bounded)
			t.size[0] = 1;
		return t;
	}
	return t;
}

bool rip_lint_widens(const char *from, const char *to)
{
	struct ty a = read_ty(from), b = read_ty(to);

	if (a.family == TY_UNKNOWN || b.family == TY_UNKNOWN)
		return false;
	if (b.family == TY_TEXT)
		return a.family == TY_CHAR || a.family == TY_TEXT;
	if (a.family != b.family)
		return a.family == TY_INT && b.family == TY_NUMERIC &&
			b.size[0] < 0;
	switch (a.family) {
	case TY_INT:
	case TY_FLOAT:
		return b.rank >= a.rank;
	case TY_NUMERIC:
		if (b.size[0] < 0)
			return true;
		if (a.size[0] < 0)
			return false;
		return b.size[1] >= (a.size[1] < 0 ? 0 : a.size[1]) &&
			b.size[0] - (b.size[1] < 0 ? 0 : b.size[1]) >=
			a.size[0] - (a.size[1] < 0 ? 0 : a.size[1]);
	case TY_CHAR:
		if (!b.bounded)
			return true;
		return a.bounded && b.size[0] >= a.size[0];
	case TY_BINARY:
		return a.size[0] >= 0 && b.size[0] >= a.size[0];
	default:
		return false;
	}
}

void rip_lint_pair_types(struct rip_lint_actions *a,
	const struct rip_lint_actions *b)
{
	for (size_t i = 0; i < a->n; i++) {
		struct rip_lint_action *x = &a->v[i];

		if (x->kind != RIP_ACT_TYPE_COLUMN)
			continue;
		for (size_t j = b->n; j-- > 0;) {
			const struct rip_lint_action *y = &b->v[j];

			if (y->kind != RIP_ACT_TYPE_COLUMN || !y->type ||
			    !x->table || !y->table || !x->column || !y->column ||
			    strcmp(x->column, y->column))
				continue;
			/* public.users is users */
			if (strcmp(strrchr(x->table, '.') ? strrchr(x->table,
				    '.') + 1 : x->table, strrchr(y->table, '.') ?
				    strrchr(y->table, '.') + 1 : y->table))
				continue;
			free(x->from_type);
			x->from_type = rip_xstrdup(y->type);
			break;
		}
	}
}
