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
#include <math.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ripcord/fingerprint.h"
#include "fp_read.h"
#include "sqltok.h"
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

/*
 * Loose comparison (non-strict mode): a frozen "now" and a view's column
 * order. Both rewrite canonical text, so they read it with the library's
 * SQL scanner (careful reading: words, numbers, strings).
 */

static struct timespec window_start;   /* zero: never opened */

void rip_fp_window_open(void)
{
	clock_gettime(CLOCK_REALTIME, &window_start);
}

void rip_fp_window_init(struct rip_fp_window *w, double server_now,
	long offset)
{
	struct timespec now;
	double local_now, opened;

	if (!window_start.tv_sec) {
		/* no round trip opened one: no literal is a frozen "now" */
		w->lo = INFINITY;
		w->hi = -INFINITY;
		w->offset[0] = w->offset[1] = 0;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	local_now = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	opened = (double)window_start.tv_sec +
		(double)window_start.tv_nsec / 1e9;
	/* how long ago the window opened, in the server's clock; a second
	 * either side for rounding and for seconds-only literals */
	w->lo = server_now - (local_now - opened) - 1.0;
	w->hi = server_now + 1.0;
	w->offset[0] = 0;
	w->offset[1] = offset;
}

void rip_fp_window_local(struct rip_fp_window *w)
{
	struct timespec now;
	struct tm tm;
	time_t t;

	clock_gettime(CLOCK_REALTIME, &now);
	t = now.tv_sec;
	localtime_r(&t, &tm);
	rip_fp_window_init(w, (double)now.tv_sec + (double)now.tv_nsec / 1e9,
		tm.tm_gmtoff);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n digits at p as a number, or -1. */
static long digits(const char *p, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

struct stamp {
	double wall;   /* seconds since the epoch, read as if UTC */
	bool has_time; /* a date alone is a whole day */
	bool has_zone;
	long zone;     /* seconds east of UTC, when has_zone */
};

/*
 * Reads "YYYY-MM-DD[( |T)HH:MM:SS[.ffffff][Z|(+|-)HH[:MM]]]", the whole of
 * s[0..n), as PostgreSQL and SQLite print a date or a timestamp.
 */
static bool read_stamp(struct stamp *out, const char *s, size_t n)
{
	long y, mo, d, h = 0, mi = 0, sec = 0;
	size_t i = 10;
	double frac = 0, scale = 0.1;

	memset(out, 0, sizeof(*out));
	if (n < 10 || (y = digits(s, 4)) < 0 || s[4] != '-' ||
			(mo = digits(s + 5, 2)) < 1 || mo > 12 || s[7] != '-' ||
			(d = digits(s + 8, 2)) < 1 || d > 31)
		return false;
	if (n > 10) {
		if (n < 19 || (s[10] != ' ' && s[10] != 'T') ||
				(h = digits(s + 11, 2)) < 0 || h > 23 || s[13] != ':' ||
				(mi = digits(s + 14, 2)) < 0 || mi > 59 || s[16] != ':' ||
				(sec = digits(s + 17, 2)) < 0 || sec > 60)
			return false;
		out->has_time = true;
		i = 19;
		if (i < n && s[i] == '.')
			for (i++; i < n && isdigit((unsigned char)s[i]); i++) {
				frac += (s[i] - '0') * scale;
				scale /= 10;
			}
		if (i < n && s[i] == 'Z' && i + 1 == n) {
			out->has_zone = true;
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			long zh = digits(s + i + 1, 2), zm = 0;
			size_t end = i + 3;

			if (i + 3 > n || zh < 0)
				return false;
			if (end < n && s[end] == ':') {
				if (end + 3 > n || (zm = digits(s + end + 1, 2)) < 0)
					return false;
				end += 3;
			}
			out->has_zone = true;
			out->zone = (s[i] == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
			i = end;
		}
		if (i != n)
			return false;
	}
	out->wall = (double)days_from_civil(y, mo, d) * 86400.0 +
		(double)(h * 3600 + mi * 60 + sec) + frac;
	return true;
}

/*
 * Whether a literal reading st could be a "now" frozen within w: an
 * instant with a zone inside it; a wall-clock time inside it in UTC or
 * the session's zone; a date on a day that the window touches there.
 */
static bool in_window(const struct stamp *st, const struct rip_fp_window *w)
{
	if (st->has_zone) {
		double at = st->wall - (double)st->zone;

		return at >= w->lo && at <= w->hi;
	}
	for (int i = 0; i < 2; i++) {
		double lo = w->lo + (double)w->offset[i];
		double hi = w->hi + (double)w->offset[i];

		if (!st->has_time) {
			/* a whole day: within it if the window touches it */
			if (st->wall <= hi && st->wall + 86400.0 > lo)
				return true;
		} else if (st->wall >= lo && st->wall <= hi) {
			return true;
		}
	}
	return false;
}

void rip_fp_frozen_now(struct rip_buf *out, const char *text,
	const struct rip_fp_window *w)
{
	struct rip_sqltok t;
	size_t len = strlen(text), done = 0;
	struct stamp st;

	rip_sqltok_init(&t, text, len, 0, true);
	while (rip_sqltok_next(&t)) {
		size_t n = t.end - t.start;

		if (t.kind != RIP_SQLTOK_STRING || text[t.start] != '\'' || n < 2 ||
				text[t.end - 1] != '\'' ||
				!read_stamp(&st, text + t.start + 1, n - 2) ||
				!in_window(&st, w))
			continue;
		rip_buf_add(out, text + done, t.start - done);
		rip_buf_adds(out, RIP_FP_NOW);
		done = t.end;
	}
	rip_buf_adds(out, text + done);
}

static bool is_word_tok(const struct rip_sqltok *t, const char *w)
{
	size_t n = strlen(w);

	return t->kind == RIP_SQLTOK_WORD && t->end - t->start == n &&
		!strncasecmp(t->text + t->start, w, n);
}

static bool is_list_end(const struct rip_sqltok *t)
{
	static const char *const words[] = { "from", "where", "group", "having",
		"window", "order", "limit", "offset", "fetch", "union", "intersect",
		"except", "into" };

	if (rip_sqltok_is(t, ';'))
		return true;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(words); i++)
		if (is_word_tok(t, words[i]))
			return true;
	return false;
}

/* The next token that is not white space or a comment; false at the end. */
static bool next_code(struct rip_sqltok *t)
{
	while (rip_sqltok_next(t))
		if (t->kind != RIP_SQLTOK_SPACE && t->kind != RIP_SQLTOK_COMMENT)
			return true;
	return false;
}

/* Tracks nesting in () and [] (ARRAY[a, b]); returns the new depth. */
static int nest(const struct rip_sqltok *t, int depth)
{
	if (rip_sqltok_is(t, '(') || rip_sqltok_is(t, '['))
		return depth + 1;
	if (rip_sqltok_is(t, ')') || rip_sqltok_is(t, ']'))
		return depth - 1;
	return depth;
}

/*
 * Whether what follows the select list could depend on its order: a set
 * operation pairs columns by position, and ORDER BY 2 or GROUP BY 1 name
 * them by it.
 */
static bool rest_is_positional(struct rip_sqltok *t)
{
	int depth = 0;
	bool after_by = false;

	do {
		if (t->kind == RIP_SQLTOK_SPACE || t->kind == RIP_SQLTOK_COMMENT)
			continue;
		if (depth == 0 && (is_word_tok(t, "union") ||
				is_word_tok(t, "intersect") || is_word_tok(t, "except")))
			return true;
		if (depth == 0 && after_by && t->kind == RIP_SQLTOK_NUMBER)
			return true;
		after_by = depth == 0 && (is_word_tok(t, "by") ||
			rip_sqltok_is(t, ','));
		depth = nest(t, depth);
	} while (rip_sqltok_next(t));
	return false;
}

static int str_cmp(const void *pa, const void *pb)
{
	return strcmp(*(char *const *)pa, *(char *const *)pb);
}

/* A copy of text[start..end) without the white space around it. */
static char *trimmed(const char *text, size_t start, size_t end)
{
	while (start < end && isspace((unsigned char)text[start]))
		start++;
	while (end > start && isspace((unsigned char)text[end - 1]))
		end--;
	return rip_xstrndup(text + start, end - start);
}

struct sel_list {
	size_t start, end; /* the list, from after SELECT [DISTINCT] */
	size_t *commas;    /* top-level commas in it */
	size_t n, alloc;
};

/* Skips DISTINCT, ALL and DISTINCT ON (...) after a SELECT. */
static void skip_distinct(struct rip_sqltok *t, struct sel_list *l)
{
	struct rip_sqltok peek = *t;

	while (next_code(&peek)) {
		if (is_word_tok(&peek, "distinct") || is_word_tok(&peek, "all")) {
			*t = peek;
			continue;
		}
		if (is_word_tok(&peek, "on") && next_code(&peek) &&
				rip_sqltok_is(&peek, '(')) {
			int depth = 1;

			while (depth > 0 && rip_sqltok_next(&peek))
				depth = nest(&peek, depth);
			*t = peek;
			continue;
		}
		break;
	}
	l->start = t->end;
}

/*
 * Finds the select list of the statement's top-level SELECT; false when
 * there is none or its order may matter (a column list before AS in
 * SQLite's CREATE VIEW v(a, b), a set operation, a positional ORDER BY).
 */
static bool find_select_list(struct sel_list *l, const char *text)
{
	struct rip_sqltok t;
	int depth = 0;
	bool seen_as = false, in_list = false;

	rip_sqltok_init(&t, text, strlen(text), 0, true);
	while (rip_sqltok_next(&t)) {
		if (t.kind == RIP_SQLTOK_SPACE || t.kind == RIP_SQLTOK_COMMENT)
			continue;
		if (in_list && depth == 0 && is_list_end(&t)) {
			l->end = t.start;
			return !rest_is_positional(&t);
		}
		if (in_list && depth == 0 && rip_sqltok_is(&t, ',')) {
			RIP_ALLOC_GROW(l->commas, l->n + 1, l->alloc);
			l->commas[l->n++] = t.start;
		} else if (!in_list && depth == 0 && is_word_tok(&t, "as")) {
			seen_as = true;
		} else if (!in_list && depth == 0 && !seen_as &&
				rip_sqltok_is(&t, '(') && rip_sql_starts_word(text,
				strlen(text), "create")) {
			return false; /* CREATE VIEW v(a, b) AS: names by position */
		} else if (!in_list && depth == 0 && is_word_tok(&t, "select")) {
			in_list = true;
			skip_distinct(&t, l);
			continue;
		}
		depth = nest(&t, depth);
	}
	l->end = strlen(text);
	return in_list;
}

void rip_fp_view_columns(struct rip_buf *out, const char *text)
{
	struct sel_list l = { 0 };
	char **items = NULL;
	const char *sep;
	size_t i, from;

	if (!find_select_list(&l, text) || l.n == 0) {
		rip_buf_adds(out, text);
		goto done;
	}
	items = rip_xmalloc((l.n + 1) * sizeof(*items));
	for (i = 0, from = l.start; i <= l.n; i++) {
		size_t to = i < l.n ? l.commas[i] : l.end;

		items[i] = trimmed(text, from, to);
		from = to + 1;
	}
	qsort(items, l.n + 1, sizeof(*items), str_cmp);
	/* the spelling around commas and the list as the text has it */
	sep = isspace((unsigned char)text[l.commas[0] + 1]) ? ", " : ",";
	for (from = l.start; from < l.end &&
			isspace((unsigned char)text[from]); from++)
		;
	rip_buf_add(out, text, from);
	for (i = 0; i <= l.n; i++) {
		if (i)
			rip_buf_adds(out, sep);
		rip_buf_adds(out, items[i]);
		free(items[i]);
	}
	for (from = l.end; from > l.start &&
			isspace((unsigned char)text[from - 1]); from--)
		;
	rip_buf_adds(out, text + from);
	free(items);
done:
	free(l.commas);
}
