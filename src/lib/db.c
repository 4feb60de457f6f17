/* SPDX-License-Identifier: MIT */
/*
 * db.c: what the migration drivers share: the driver table, the list of
 * applied rows, and an SQL statement splitter that knows enough SQL
 * (quotes, dollar quotes, comments) to find where one statement ends, for
 * drivers that must run statements one at a time or say on which line a
 * statement failed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/db.h"
#include "banned.h"

const struct rip_db_ops *rip_db_find(const char *name)
{
	static const struct rip_db_ops *const all[] = {
		&rip_db_sqlite, &rip_db_postgres, &rip_db_command,
	};

	for (size_t i = 0; i < RIP_ARRAY_SIZE(all); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

void rip_applied_add(struct rip_applied_list *l, const char *version,
	const char *name, const char *checksum, int64_t applied_at, bool dirty)
{
	struct rip_applied *a;

	RIP_ALLOC_GROW(l->v, l->n + 1, l->alloc);
	a = &l->v[l->n++];
	memset(a, 0, sizeof(*a));
	a->version = rip_xstrdup(version);
	a->name = rip_xstrdup(name);
	a->id = rip_xasprintf("%s_%s", version, name);
	snprintf(a->checksum, sizeof(a->checksum), "%s", checksum);
	a->applied_at = applied_at;
	a->dirty = dirty;
}

void rip_applied_list_release(struct rip_applied_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].version);
		free(l->v[i].name);
		free(l->v[i].id);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int rip_sql_line(const char *text, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && text[i]; i++)
		line += text[i] == '\n';
	return line;
}

/* Skips white space and comments from i; returns the new offset. */
static size_t skip_blank(const char *t, size_t len, size_t i)
{
	for (;;) {
		while (i < len && isspace((unsigned char)t[i]))
			i++;
		if (i + 1 < len && t[i] == '-' && t[i + 1] == '-') {
			while (i < len && t[i] != '\n')
				i++;
		} else if (i + 1 < len && t[i] == '/' && t[i + 1] == '*') {
			const char *e = memmem(t + i + 2, len - i - 2, "*/", 2);

			i = e ? (size_t)(e - t) + 2 : len;
		} else {
			return i;
		}
	}
}

/* At a '$': the length of a dollar-quote tag "$tag$", or 0. */
static size_t dollar_tag(const char *t, size_t len, size_t i)
{
	size_t j = i + 1;

	while (j < len && (isalnum((unsigned char)t[j]) || t[j] == '_'))
		j++;
	if (j < len && t[j] == '$' && !(j > i + 1 && isdigit((unsigned char)
			t[i + 1])))
		return j - i + 1;
	return 0;
}

/* Offset just past the quoted thing starting at i. */
static size_t skip_quoted(const char *t, size_t len, size_t i)
{
	char q = t[i];
	size_t tag;

	if (q == '$') {
		tag = dollar_tag(t, len, i);
		const char *e = memmem(t + i + tag, len - i - tag, t + i, tag);

		return e ? (size_t)(e - t) + tag : len;
	}
	for (i++; i < len; i++) {
		if (t[i] == q && i + 1 < len && t[i + 1] == q)
			i++;  /* '' or "" escape */
		else if (t[i] == q)
			return i + 1;
	}
	return len;
}

char *rip_sql_scrub(const char *t, size_t len)
{
	char *out = rip_xmalloc(len + 1);
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		if (t[i] == '\'' || t[i] == '"' || t[i] == '`' ||
		    (t[i] == '$' && dollar_tag(t, len, i)))
			j = skip_quoted(t, len, i);
		else if ((t[i] == '-' && i + 1 < len && t[i + 1] == '-') ||
			 (t[i] == '/' && i + 1 < len && t[i + 1] == '*'))
			j = skip_blank(t, len, i);
		if (j > i) {
			memset(out + i, ' ', j - i);
			i = j;
			continue;
		}
		out[i] = isspace((unsigned char)t[i]) ? ' ' :
			(char)tolower((unsigned char)t[i]);
		i++;
	}
	out[len] = '\0';
	return out;
}

/* Whether the statement t[0..len) starts with the word w. */
static bool starts_word(const char *t, size_t len, const char *w)
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
			in_trigger = !starts_word(s, n, "end");
			continue;
		}
		if (starts_word(s, n, "create")) {
			in_trigger = trigger_with_body(s, n);
			continue;
		}
		for (size_t i = 0; i < RIP_ARRAY_SIZE(words); i++)
			if (starts_word(s, n, words[i]))
				return true;
	}
	return false;
}

bool rip_sql_next(const char *t, size_t len, size_t *pos, size_t *start,
	size_t *end)
{
	size_t i = skip_blank(t, len, *pos);

	while (i < len && t[i] == ';')
		i = skip_blank(t, len, i + 1);
	if (i >= len) {
		*pos = len;
		return false;
	}
	*start = i;
	while (i < len && t[i] != ';') {
		if (t[i] == '\'' || t[i] == '"' || t[i] == '`' ||
		    (t[i] == '$' && dollar_tag(t, len, i)))
			i = skip_quoted(t, len, i);
		else if ((t[i] == '-' && i + 1 < len && t[i + 1] == '-') ||
			 (t[i] == '/' && i + 1 < len && t[i + 1] == '*'))
			i = skip_blank(t, len, i);
		else
			i++;
	}
	*end = i;
	while (*end > *start && isspace((unsigned char)t[*end - 1]))
		(*end)--;
	*pos = i < len ? i + 1 : len;
	return true;
}
