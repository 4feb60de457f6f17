/* SPDX-License-Identifier: MIT */
/*
 * fingerprint.c: the schema fingerprint as data: adding, sorting, the
 * canonical text and its digest, the diff of two fingerprints, and the
 * identifier and SQL-text canonicalisers the catalog readers share.
 *
 * Invariants: after rip_fp_sort the items are in strcmp order of key, then
 * value, and keys are unique (a repeated key gets " (2)", " (3)" appended
 * in value order, so two identical constraints stay two items). The
 * canonical text escapes backslash and control characters in keys and
 * values, and ':' in keys, so that one text means one list of items and
 * the digest of equal lists, and only of equal lists, is equal.
 *
 * Tuned for schemas of hundreds to a few thousand objects: everything is
 * in memory and sorted once.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/fingerprint.h"
#include "fp_read.h"
#include "banned.h"

void rip_fp_add(struct rip_fingerprint *fp, const char *key,
	const char *fmt, ...)
{
	struct rip_fp_item *it;
	va_list ap, cp;
	int len;

	va_start(ap, fmt);
	va_copy(cp, ap);
	len = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (len < 0)
		abort();
	RIP_ALLOC_GROW(fp->v, fp->n + 1, fp->alloc);
	it = &fp->v[fp->n++];
	it->key = rip_xstrdup(key);
	it->value = rip_xmalloc((size_t)len + 1);
	vsnprintf(it->value, (size_t)len + 1, fmt, ap);
	va_end(ap);
}

static int item_cmp(const void *pa, const void *pb)
{
	const struct rip_fp_item *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	return c ? c : strcmp(a->value, b->value);
}

void rip_fp_sort(struct rip_fingerprint *fp)
{
	size_t i, run = 1;
	bool renamed = false;

	if (fp->n < 2)
		return;
	qsort(fp->v, fp->n, sizeof(*fp->v), item_cmp);
	for (i = 1; i < fp->n; i++) {
		char *key;

		if (strcmp(fp->v[i].key, fp->v[i - run].key)) {
			run = 1;
			continue;
		}
		run++;
		key = rip_xasprintf("%s (%zu)", fp->v[i].key, run);
		free(fp->v[i].key);
		fp->v[i].key = key;
		renamed = true;
	}
	if (renamed)
		qsort(fp->v, fp->n, sizeof(*fp->v), item_cmp);
}

void rip_fp_release(struct rip_fingerprint *fp)
{
	size_t i;

	for (i = 0; i < fp->n; i++) {
		free(fp->v[i].key);
		free(fp->v[i].value);
	}
	free(fp->v);
	fp->v = NULL;
	fp->n = fp->alloc = 0;
}

/* Appends s with backslash, control characters and (in keys) ':' escaped. */
static void add_escaped(struct rip_buf *out, const char *s, bool key)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			rip_buf_adds(out, "\\\\");
		else if (c == '\n')
			rip_buf_adds(out, "\\n");
		else if (c == '\t')
			rip_buf_adds(out, "\\t");
		else if (c < 0x20 || c == 0x7f || (key && c == ':'))
			rip_buf_addf(out, "\\x%02x", c);
		else
			rip_buf_addch(out, (char)c);
	}
}

void rip_fp_format(struct rip_buf *out, const struct rip_fingerprint *fp)
{
	size_t i;

	for (i = 0; i < fp->n; i++) {
		add_escaped(out, fp->v[i].key, true);
		if (fp->v[i].value[0]) {
			rip_buf_adds(out, ": ");
			add_escaped(out, fp->v[i].value, false);
		}
		rip_buf_addch(out, '\n');
	}
}

void rip_fp_digest(unsigned char out[RIP_SHA256_LEN],
	const struct rip_fingerprint *fp)
{
	struct rip_buf text = RIP_BUF_INIT;

	rip_fp_format(&text, fp);
	rip_sha256(out, text.buf, text.len);
	rip_buf_release(&text);
}

/* An empty value still has to read as something in a diff line. */
static void add_value(struct rip_buf *out, const char *value)
{
	if (value[0])
		add_escaped(out, value, false);
	else
		rip_buf_adds(out, "plain");
}

size_t rip_fp_diff(struct rip_buf *out, const struct rip_fingerprint *a,
	const struct rip_fingerprint *b, const char *a_label,
	const char *b_label)
{
	size_t i = 0, j = 0, n = 0;

	while (i < a->n || j < b->n) {
		int c;

		if (i == a->n)
			c = 1;
		else if (j == b->n)
			c = -1;
		else
			c = strcmp(a->v[i].key, b->v[j].key);
		if (c == 0 && !strcmp(a->v[i].value, b->v[j].value)) {
			i++;
			j++;
			continue;
		}
		add_escaped(out, c <= 0 ? a->v[i].key : b->v[j].key, true);
		if (c < 0) {
			rip_buf_addf(out, " exists only %s\n", a_label);
			i++;
		} else if (c > 0) {
			rip_buf_addf(out, " exists only %s\n", b_label);
			j++;
		} else {
			rip_buf_adds(out, ": ");
			add_value(out, a->v[i++].value);
			rip_buf_addf(out, " %s, ", a_label);
			add_value(out, b->v[j++].value);
			rip_buf_addf(out, " %s\n", b_label);
		}
		n++;
	}
	return n;
}

static bool is_plain(const char *s, bool fold)
{
	const char *p;

	if (!*s || isdigit((unsigned char)*s) || *s == '$')
		return false;
	for (p = s; *p; p++) {
		char c = fold ? (char)tolower((unsigned char)*p) : *p;

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				c == '_' || c == '$'))
			return false;
	}
	return true;
}

void rip_fp_ident(struct rip_buf *out, const char *name, bool fold)
{
	const char *p;

	if (is_plain(name, fold)) {
		for (p = name; *p; p++)
			rip_buf_addch(out, fold ? (char)tolower((unsigned char)*p) :
				*p);
		return;
	}
	rip_buf_addch(out, '"');
	for (p = name; *p; p++) {
		char c = fold ? (char)tolower((unsigned char)*p) : *p;

		if (c == '"')
			rip_buf_addch(out, '"');
		rip_buf_addch(out, c);
	}
	rip_buf_addch(out, '"');
}

/*
 * The SQL canonicaliser: a small scanner that knows literals, quoted names
 * and comments of both dialects, and nothing of the grammar.
 */
struct sqlscan {
	struct rip_buf *out;
	size_t start; /* where this text starts in out */
	bool fold;
	bool space; /* white space or a comment since the last token */
};

static bool is_punct(char c)
{
	return c && strchr("(),;=<>+-*/%|&~!.[]", c) != NULL;
}

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* Emits the separator owed before a token that starts with c. */
static void sep(struct sqlscan *s, char c)
{
	if (s->space && s->out->len > s->start) {
		char last = s->out->buf[s->out->len - 1];

		if (!s->fold || (!is_punct(last) && !is_punct(c)))
			rip_buf_addch(s->out, ' ');
	}
	s->space = false;
}

/* Copies a literal quoted by q (doubled q inside); returns what follows. */
static const char *copy_quoted(struct sqlscan *s, const char *p, char q,
	bool backslash)
{
	rip_buf_addch(s->out, *p++);
	while (*p) {
		if (backslash && *p == '\\' && p[1]) {
			rip_buf_add(s->out, p, 2);
			p += 2;
			continue;
		}
		rip_buf_addch(s->out, *p);
		if (*p++ == q) {
			if (*p != q)
				return p;
			rip_buf_addch(s->out, *p++);
		}
	}
	return p;
}

/* A quoted name (q is its closing quote); folded and unquoted when plain. */
static const char *quoted_name(struct sqlscan *s, const char *p, char q)
{
	struct rip_buf name = RIP_BUF_INIT;

	for (p++; *p; p++) {
		if (*p == q) {
			if (q == ']' || p[1] != q) {
				p++;
				break;
			}
			p++;
		}
		rip_buf_addch(&name, *p);
	}
	if (s->fold) {
		rip_fp_ident(s->out, name.buf, true);
	} else {
		/* PostgreSQL: "Name" is not name; keep the quotes as written */
		const char *c;

		rip_buf_addch(s->out, '"');
		for (c = name.buf; *c; c++) {
			if (*c == '"')
				rip_buf_addch(s->out, '"');
			rip_buf_addch(s->out, *c);
		}
		rip_buf_addch(s->out, '"');
	}
	rip_buf_release(&name);
	return p;
}

/* Length of a PostgreSQL dollar-quote tag at p ("$$", "$body$"), or 0. */
static size_t dollar_tag(const char *p)
{
	size_t n = 1;

	if (*p != '$')
		return 0;
	if (p[1] && !isdigit((unsigned char)p[1]))
		while (isalnum((unsigned char)p[n]) || p[n] == '_')
			n++;
	return p[n] == '$' ? n + 1 : 0;
}

static const char *copy_dollar(struct sqlscan *s, const char *p, size_t tag)
{
	struct rip_buf t = RIP_BUF_INIT;
	const char *end;

	rip_buf_add(&t, p, tag);
	end = strstr(p + tag, t.buf);
	rip_buf_release(&t);
	end = end ? end + tag : p + strlen(p);
	rip_buf_add(s->out, p, (size_t)(end - p));
	return end;
}

void rip_fp_sql(struct rip_buf *out, const char *sql, bool fold)
{
	struct sqlscan s = { out, out->len, fold, false };
	const char *p = sql;
	size_t tag;

	while (*p) {
		if (isspace((unsigned char)*p)) {
			s.space = true;
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
			s.space = true;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");

			p = end ? end + 2 : p + strlen(p);
			s.space = true;
		} else if (*p == '\'') {
			bool e = !fold && p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
				(p - 1 == sql || !is_word(p[-2]));

			/* a quoted token is a token boundary even without space:
			 * select"a"from is select a from */
			s.space |= fold;
			sep(&s, *p);
			p = copy_quoted(&s, p, '\'', e);
			s.space = fold;
		} else if (*p == '"' || (fold && (*p == '`' || *p == '['))) {
			s.space |= fold;
			sep(&s, '"');
			p = quoted_name(&s, p, *p == '[' ? ']' : *p);
			s.space = fold;
		} else if (!fold && (tag = dollar_tag(p)) &&
				(p == sql || !is_word(p[-1]))) {
			sep(&s, *p);
			p = copy_dollar(&s, p, tag);
		} else {
			sep(&s, *p);
			rip_buf_addch(out, fold ? (char)tolower((unsigned char)*p) :
				*p);
			p++;
		}
	}
}
