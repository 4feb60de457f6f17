/* SPDX-License-Identifier: MIT */
/*
 * sqltok.c: the SQL scanner (sqltok.h), and on it what the drivers read
 * scripts with: the statement splitter, the scrubber, the line of an offset
 * and the test for scripts that manage their own transaction.
 *
 * Invariants: tokens are never empty and tile the text, so every scan
 * ends and every byte belongs to one token; an unterminated quote or
 * comment takes the rest of the text. The plain reading is frozen: the
 * drivers split and classify scripts with it, and a different split would
 * run an applied migration differently. Lint's careful reading may grow
 * (it only ever changes findings). Tuned for one pass without allocation;
 * character classes are the C locale's, as ripcord never sets another.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "sqltok.h"
#include "banned.h"

void rip_sqltok_init(struct rip_sqltok *s, const char *text, size_t len,
	size_t pos, bool careful)
{
	memset(s, 0, sizeof(*s));
	s->text = text;
	s->len = len;
	s->careful = careful;
	s->pos = s->start = s->end = pos;
	s->line = 1;
}

bool rip_sqltok_is(const struct rip_sqltok *s, char c)
{
	return s->kind == RIP_SQLTOK_CHAR && s->start < s->end &&
		s->text[s->start] == c;
}

static bool at2(const struct rip_sqltok *s, size_t i, char a, char b)
{
	return i + 1 < s->len && s->text[i] == a && s->text[i + 1] == b;
}

/* Offset just past the first close[0..n) at or after i, or the end. */
static size_t past(const struct rip_sqltok *s, size_t i, const char *close,
	size_t n)
{
	const char *hit = memmem(s->text + i, s->len - i, close, n);

	return hit ? (size_t)(hit - s->text) + n : s->len;
}

/* The end of the block comment at i: careful ones nest, as in PostgreSQL. */
static size_t block_comment(const struct rip_sqltok *s, size_t i)
{
	int depth = 1;

	if (!s->careful)
		return past(s, i + 2, "*/", 2);
	for (i += 2; i < s->len;) {
		if (at2(s, i, '/', '*')) {
			depth++;
			i += 2;
		} else if (at2(s, i, '*', '/')) {
			i += 2;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	return s->len;
}

/*
 * The end of the quote that opens at i: a doubled quote stands for one,
 * and with backslash (E'...') a backslash escapes the byte after it.
 */
static size_t quote_end(const struct rip_sqltok *s, size_t i, bool backslash)
{
	char q = s->text[i];

	for (i++; i < s->len; i++) {
		/* a backslash escape, or a doubled quote: skip one more */
		if ((backslash && s->text[i] == '\\') || at2(s, i, q, q))
			i++;
		else if (s->text[i] == q)
			return i + 1;
	}
	return s->len;
}

static bool word_start(const struct rip_sqltok *s, char c)
{
	unsigned char u = (unsigned char)c;

	return u == '_' || isalpha(u) || (s->careful && u >= 0x80);
}

static bool word_char(const struct rip_sqltok *s, char c)
{
	return word_start(s, c) || isdigit((unsigned char)c) || c == '$';
}

/* At a '$': the length of the "$tag$" that opens a dollar quote, or 0. */
static size_t dollar_tag(const struct rip_sqltok *s, size_t i)
{
	size_t j = i + 1;

	while (j < s->len && (word_start(s, s->text[j]) ||
			(j > i + 1 && isdigit((unsigned char)s->text[j]))))
		j++;
	return j < s->len && s->text[j] == '$' ? j - i + 1 : 0;
}

/* Careful: a word, or E'...' (a lone e before a quote). */
static size_t word_end(struct rip_sqltok *s, size_t i)
{
	size_t j = i;

	while (j < s->len && word_char(s, s->text[j]))
		j++;
	if (j == i + 1 && (s->text[i] == 'e' || s->text[i] == 'E') &&
			j < s->len && s->text[j] == '\'') {
		s->kind = RIP_SQLTOK_STRING;
		return quote_end(s, j, true);
	}
	s->kind = RIP_SQLTOK_WORD;
	return j;
}

static size_t number_end(const struct rip_sqltok *s, size_t i)
{
	while (i < s->len && (word_char(s, s->text[i]) || s->text[i] == '.'))
		i++;
	return i;
}

/* Reads the kind and returns the end of the token that starts at i. */
static size_t token_end(struct rip_sqltok *s, size_t i)
{
	const char *t = s->text, *nl;
	size_t tag;

	if (at2(s, i, '-', '-') || at2(s, i, '/', '*')) {
		s->kind = RIP_SQLTOK_COMMENT;
		if (t[i] == '/')
			return block_comment(s, i);
		nl = memchr(t + i, '\n', s->len - i);
		return nl ? (size_t)(nl - t) : s->len;
	}
	if (t[i] == '\'' || t[i] == '"' || t[i] == '`') {
		s->kind = t[i] == '\'' ? RIP_SQLTOK_STRING : RIP_SQLTOK_QUOTED;
		return quote_end(s, i, false);
	}
	tag = t[i] == '$' ? dollar_tag(s, i) : 0;
	if (tag) {
		s->kind = RIP_SQLTOK_DOLLAR;
		return past(s, i + tag, t + i, tag);
	}
	if (s->careful && word_start(s, t[i]))
		return word_end(s, i);
	if (s->careful && isdigit((unsigned char)t[i])) {
		s->kind = RIP_SQLTOK_NUMBER;
		return number_end(s, i);
	}
	s->kind = RIP_SQLTOK_CHAR;
	return i + 1;
}

bool rip_sqltok_next(struct rip_sqltok *s)
{
	for (size_t i = s->start; i < s->end; i++)
		s->line += s->text[i] == '\n';
	s->start = s->end = s->pos;
	if (s->pos >= s->len)
		return false;
	if (isspace((unsigned char)s->text[s->pos])) {
		s->kind = RIP_SQLTOK_SPACE;
		while (s->end < s->len &&
				isspace((unsigned char)s->text[s->end]))
			s->end++;
	} else {
		s->end = token_end(s, s->pos);
	}
	s->pos = s->end;
	return true;
}

bool rip_sqltok_has_code(const char *text, size_t len)
{
	struct rip_sqltok s;

	rip_sqltok_init(&s, text, len, 0, false);
	while (rip_sqltok_next(&s))
		if (s.kind != RIP_SQLTOK_SPACE && s.kind != RIP_SQLTOK_COMMENT)
			return true;
	return false;
}

bool rip_sqltok_has_statement(const char *text, size_t len)
{
	struct rip_sqltok s;

	rip_sqltok_init(&s, text, len, 0, false);
	while (rip_sqltok_next(&s))
		if (s.kind != RIP_SQLTOK_SPACE && s.kind != RIP_SQLTOK_COMMENT &&
		    !rip_sqltok_is(&s, ';'))
			return true;
	return false;
}

/* ---- the drivers' helpers (ripcord/db.h), on the plain reading ---- */

int rip_sql_line(const char *text, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && text[i]; i++)
		line += text[i] == '\n';
	return line;
}

bool rip_sql_next(const char *t, size_t len, size_t *pos, size_t *start,
	size_t *end)
{
	struct rip_sqltok s;
	bool found = false;

	rip_sqltok_init(&s, t, len, *pos, false);
	while (rip_sqltok_next(&s)) {
		if (rip_sqltok_is(&s, ';')) {
			if (found)
				break;
		} else if (!found && s.kind != RIP_SQLTOK_SPACE &&
				s.kind != RIP_SQLTOK_COMMENT) {
			found = true;
			*start = s.start;
		}
	}
	if (!found) {
		*pos = len;
		return false;
	}
	/* at the ';', or at the end of the text */
	*end = s.start;
	while (*end > *start && isspace((unsigned char)t[*end - 1]))
		(*end)--;
	*pos = s.start < len ? s.start + 1 : len;
	return true;
}

char *rip_sql_scrub(const char *t, size_t len)
{
	char *out = rip_xmalloc(len + 1);
	struct rip_sqltok s;

	rip_sqltok_init(&s, t, len, 0, false);
	while (rip_sqltok_next(&s)) {
		if (s.kind == RIP_SQLTOK_CHAR)
			out[s.start] = (char)tolower((unsigned char)t[s.start]);
		else
			memset(out + s.start, ' ', s.end - s.start);
	}
	out[len] = '\0';
	return out;
}

bool rip_sql_starts_word(const char *t, size_t len, const char *w)
{
	size_t wl = strlen(w);

	return len >= wl && !strncasecmp(t, w, wl) &&
		(len == wl || !isalnum((unsigned char)t[wl]));
}

/* Whether a CREATE statement makes a trigger with a BEGIN ... END body. */
static bool trigger_with_body(const char *s, size_t n)
{
	char *low = rip_xstrndup(s, n);
	char *trig;
	bool body;

	for (char *p = low; *p; p++)
		*p = isspace((unsigned char)*p) ? ' ' : (char)tolower(
			(unsigned char)*p);
	trig = strstr(low, " trigger ");
	body = trig && strstr(trig, " begin") != NULL;
	free(low);
	return body;
}

bool rip_sql_controls_tx(const char *text, size_t len)
{
	static const char *const words[] = {
		"begin", "commit", "end", "rollback", "savepoint", "release",
		"start",
	};
	size_t pos = 0, start, end;
	bool in_trigger = false;

	while (rip_sql_next(text, len, &pos, &start, &end)) {
		const char *s = text + start;
		size_t n = end - start;

		/* SQLite trigger bodies hold ';' up to their END */
		if (in_trigger) {
			in_trigger = !rip_sql_starts_word(s, n, "end");
			continue;
		}
		if (rip_sql_starts_word(s, n, "create")) {
			in_trigger = trigger_with_body(s, n);
			continue;
		}
		for (size_t i = 0; i < RIP_ARRAY_SIZE(words); i++)
			if (rip_sql_starts_word(s, n, words[i]))
				return true;
	}
	return false;
}
