/* SPDX-License-Identifier: MIT */
/*
 * migration.c: the normalised migration and its marker lines.
 *
 * Markers are plain SQL comments, so a normalised up file still runs as
 * it is in any database; they live in the file rather than in MANIFEST so
 * that format 1 needs no new keys and the checksum covers the flags, all
 * but contract: a phase is a deploy-time choice a project may make after
 * the migration ran (lint's advice), and must not make it "changed".
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/migration.h"
#include "banned.h"

static const struct {
	const char *line;
	size_t off;
} markers[] = {
	{ "-- ripcord:baseline", offsetof(struct rip_migration, baseline) },
	{ "-- ripcord:irreversible",
	  offsetof(struct rip_migration, irreversible) },
	{ "-- ripcord:no-transaction",
	  offsetof(struct rip_migration, no_transaction) },
	{ "-- ripcord:contract", offsetof(struct rip_migration, contract) },
};

struct rip_migration *rip_migrations_add(struct rip_migrations *m)
{
	RIP_ALLOC_GROW(m->v, m->n + 1, m->alloc);
	memset(&m->v[m->n], 0, sizeof(m->v[m->n]));
	return &m->v[m->n++];
}

void rip_sql_set(struct rip_sql *s, const char *text, size_t len,
	const char *file)
{
	rip_sql_release(s);
	s->text = rip_xstrndup(text, len);
	s->len = len;
	s->file = file ? rip_xstrdup(file) : NULL;
}

void rip_sql_release(struct rip_sql *s)
{
	free(s->text);
	free(s->file);
	memset(s, 0, sizeof(*s));
}

void rip_migrations_release(struct rip_migrations *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct rip_migration *g = &m->v[i];

		free(g->version);
		free(g->name);
		free(g->id);
		rip_sql_release(&g->up);
		rip_sql_release(&g->down);
		rip_sql_release(&g->verify);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

struct rip_migration *rip_migrations_find(const struct rip_migrations *m,
	const char *id)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].id, id))
			return &m->v[i];
	return NULL;
}

/*
 * Whether text (len bytes) starts with the marker `line`, alone on its
 * line or followed by white space and a reason ("-- ripcord:irreversible
 * backfills from the old column"); spaces or tabs may follow the colon
 * ("-- ripcord: contract").
 */
static bool starts_line(const char *text, size_t len, const char *line)
{
	const char *colon = strchr(line, ':') + 1, *name = colon;
	size_t pre = (size_t)(colon - line), at, nl;

	if (len < pre || memcmp(text, line, pre))
		return false;
	at = pre;
	while (at < len && (text[at] == ' ' || text[at] == '\t'))
		at++;
	nl = strlen(name);
	if (len - at < nl || memcmp(text + at, name, nl))
		return false;
	at += nl;
	return at == len || text[at] == '\n' || text[at] == '\r' ||
		text[at] == ' ' || text[at] == '\t';
}

void rip_migration_normalise(struct rip_buf *out,
	const struct rip_migration *m)
{
	const char *text = m->up.text ? m->up.text : "";
	size_t len = m->up.len;

	for (size_t i = 0; i < RIP_ARRAY_SIZE(markers); i++) {
		const bool *flag = (const bool *)((const char *)m +
			markers[i].off);

		/* a project's own first-line marker is kept, not doubled */
		if (*flag && !starts_line(text, len, markers[i].line))
			rip_buf_addf(out, "%s\n", markers[i].line);
	}
	rip_buf_add(out, text, len);
}

/* The marker of markers[] that the line p[0..len) is, or
 * RIP_ARRAY_SIZE(markers) when it is none. */
static size_t marker_of(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < RIP_ARRAY_SIZE(markers); i++)
		if (starts_line(p, len, markers[i].line))
			break;
	return i;
}

void rip_migration_checksum(unsigned char out[RIP_SHA256_LEN],
	const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct rip_sha256 s;

	rip_sha256_init(&s);
	/* the contract line of the leading markers is left out: marking an
	 * applied migration contract later must not make it "changed" */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		size_t k = marker_of(p, (size_t)((nl ? nl : end) - p));

		if (k == RIP_ARRAY_SIZE(markers))
			break;
		if (markers[k].off != offsetof(struct rip_migration, contract))
			rip_sha256_update(&s, p, (size_t)(next - p));
		p = next;
	}
	rip_sha256_update(&s, p, (size_t)(end - p));
	rip_sha256_final(out, &s);
}

void rip_migration_read_markers(struct rip_migration *m, const char *text,
	size_t len)
{
	const char *p = text, *end = text + len;

	rip_migration_checksum(m->checksum, text, len);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t i = marker_of(p, ll);

		if (i == RIP_ARRAY_SIZE(markers))
			break;
		*(bool *)((char *)m + markers[i].off) = true;
		if (!nl)
			break;
		p = nl + 1;
	}
}

bool rip_migration_id_valid(const char *id)
{
	size_t len = strlen(id);

	if (!len || len > 200 || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	return !strpbrk(id, "/,\t\n\r\\");
}
