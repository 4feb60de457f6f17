/* SPDX-License-Identifier: MIT */
/*
 * layout.c: migration folder layouts, normalised (see layout.h): the
 * reader every layout shares, telling which layout a folder uses, and
 * the rules every layout's migrations are held to.
 *
 * Each layout turns the folder's files into migrations in its own apply
 * order; the shared rules (reversibility, baseline, valid ids) are applied
 * afterwards, in one place, so every layout enforces DESIGN.md §5 the same
 * way at cut, where a missing down is cheapest to fix. A down without its
 * up is left out with a warning naming the up it likely belongs to
 * (drop_orphans), since only an up without its down is refused.
 *
 * The file-per-script layouts (golang-migrate, dbmate, diesel, flyway)
 * are read by layout_scripts.c, sqitch by layout_sqitch.c, which takes
 * its order from sqitch.plan instead: both share the reader and its
 * helpers through layout_internal.h and find scripts through the
 * reader's index of the paths, sorted once here.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ripcord/layout.h"
#include "ripcord/log.h"
#include "ripcord/suggest.h"
#include "layout_internal.h"
#include "sqltok.h"
#include "banned.h"

static const char *const names[] = {
	[RIP_LAYOUT_AUTO] = "auto",
	[RIP_LAYOUT_GOLANG] = "golang-migrate",
	[RIP_LAYOUT_DBMATE] = "dbmate",
	[RIP_LAYOUT_SQITCH] = "sqitch",
	[RIP_LAYOUT_DIESEL] = "diesel",
	[RIP_LAYOUT_FLYWAY] = "flyway",
};

const char *rip_layout_name(enum rip_layout_format f)
{
	return (size_t)f < RIP_ARRAY_SIZE(names) ? names[f] : "unknown";
}

int rip_layout_parse(enum rip_layout_format *out, const char *name)
{
	for (size_t i = 0; i < RIP_ARRAY_SIZE(names); i++)
		if (!strcmp(names[i], name)) {
			*out = (enum rip_layout_format)i;
			return 0;
		}
	return -1;
}

int rip_version_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			size_t la, lb;
			int c;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			la = strspn(a, "0123456789");
			lb = strspn(b, "0123456789");
			if (la != lb)
				return la < lb ? -1 : 1;
			c = strncmp(a, b, la);
			if (c)
				return c;
			a += la;
			b += lb;
		} else if (*a != *b) {
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		} else {
			a++;
			b++;
		}
	}
	return *a ? 1 : *b ? -1 : 0;
}

const char *rip_layout_fdata(const struct rip_layout_file *f)
{
	return f->data ? f->data : "";
}

const char *rip_layout_base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

const char *rip_layout_skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Placeholders that keep an empty folder in git: silently fine. */
bool rip_layout_is_keep(const char *path)
{
	const char *b = rip_layout_base_name(path);

	return !strcmp(b, ".keep") || !strcmp(b, ".gitkeep");
}

/* Warns about the file at path: "<dir>/<path> <what follows>". */
RIP_PRINTF(3, 4) void rip_layout_warnf(const struct rip_layout_reader *r,
	const char *path, const char *fmt, ...)
{
	struct rip_buf msg = RIP_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rip_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	rip_warn("%s%s %s", r->pre, path, msg.buf);
	rip_buf_release(&msg);
}

static int cmp_path(const void *a, const void *b)
{
	const struct rip_layout_file *const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/* The file at path; NULL when there is none. */
const struct rip_layout_file *rip_layout_find_file(
	const struct rip_layout_reader *r, const char *path)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->idx[mid]->path, path);

		if (!c)
			return r->idx[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void rip_layout_set_sql(const struct rip_layout_reader *r, struct rip_sql *s,
	const struct rip_layout_file *f, const char *text, size_t len)
{
	char *fn = rip_xasprintf("%s%s", r->pre, f->path);

	rip_sql_set(s, text, len, fn);
	free(fn);
}

const char *rip_layout_piece_file(const struct rip_migration *mg)
{
	return mg->up.file ? mg->up.file : mg->down.file ? mg->down.file : "";
}

static int resolve_baseline(struct rip_layout_reader *r)
{
	const char *b = r->o->baseline;

	if (!b)
		return 0;
	if (r->f == RIP_LAYOUT_SQITCH)
		return rip_layout_sqitch_baseline(r, b);
	r->baseline = rip_xstrdup(b);
	/* flyway writes V1_2 for 1.2 */
	for (char *p = r->baseline; r->f == RIP_LAYOUT_FLYWAY && *p; p++)
		if (*p == '_')
			*p = '.';
	return 0;
}

static void warn_unknown(const struct rip_layout_reader *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (!rip_layout_is_keep(r->files[i].path)) {
			rip_warn("no migration layout recognised in %s (%zu files, "
				"e.g. '%s'); no migrations read (set [migrations] "
				"format to hear about each file)", r->dir,
				r->n, r->files[i].path);
			return;
		}
}

static int detect(struct rip_layout_reader *r, enum rip_layout_format *out)
{
	const char *ex[RIP_ARRAY_SIZE(names)] = { 0 };
	struct rip_buf b = RIP_BUF_INIT;
	size_t found = 0;
	int rc = 0;

	for (size_t i = 0; i < r->n; i++) {
		enum rip_layout_format f = rip_layout_guess(&r->files[i]);

		if (f != RIP_LAYOUT_AUTO && !ex[f]) {
			ex[f] = r->files[i].path;
			found++;
		}
	}
	*out = RIP_LAYOUT_AUTO;
	for (size_t f = 1; f < RIP_ARRAY_SIZE(names); f++) {
		if (!ex[f])
			continue;
		*out = (enum rip_layout_format)f;
		rip_buf_addf(&b, "%s%s ('%s')", b.len ? ", " : "", names[f],
			ex[f]);
	}
	if (found > 1)
		rc = rip_err_set(r->err, RIP_ECONFIG, "%s mixes migration layouts: "
			"%s; set [migrations] format to the one it uses", r->dir,
			b.buf);
	else if (!found)
		warn_unknown(r);
	rip_buf_release(&b);
	return rc;
}

/* The script that would pair with mg's lone one, for messages. */
static char *pair_hint(const struct rip_layout_reader *r,
	const struct rip_migration *mg, bool want_down)
{
	const char *have = (want_down ? mg->up.file : mg->down.file) +
		strlen(r->pre);
	const char *b = rip_layout_base_name(have), *ext = strrchr(b, '.');

	switch (r->f) {
	case RIP_LAYOUT_GOLANG:
		return rip_xasprintf("%s_%s.%s%s", mg->version, mg->name,
			want_down ? "down" : "up", ext ? ext : ".sql");
	case RIP_LAYOUT_DBMATE:
		return rip_xstrdup("SQL under a '-- migrate:down' line");
	case RIP_LAYOUT_SQITCH:
		return rip_xasprintf("revert/%s", strchr(have, '/') ?
			strchr(have, '/') + 1 : have);
	case RIP_LAYOUT_DIESEL:
		return rip_xasprintf("%s/%s.sql", mg->id,
			want_down ? "down" : "up");
	default:
		return rip_xasprintf("%.*s%c%s", (int)(b - have), have,
			want_down ? 'U' : 'V', b + 1);
	}
}

/* Whether list l names mg (id, version, or a sqitch change's name). */
static bool listed(const struct rip_layout_reader *r,
	const struct rip_strlist *l, const struct rip_migration *mg)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->v[i], mg->id) || !strcmp(l->v[i], mg->version) ||
		    (r->f == RIP_LAYOUT_SQITCH && !strcmp(l->v[i], mg->name)))
			return true;
	return false;
}

static int check_down(const struct rip_layout_reader *r,
	const struct rip_migration *mg)
{
	char *hint;
	int rc;

	if (mg->down.text && rip_sqltok_has_statement(mg->down.text,
			mg->down.len))
		return 0;
	/* nothing to undo: an up with no statement, a down the same */
	if (mg->down.text && !rip_sqltok_has_statement(mg->up.text, mg->up.len))
		return 0;
	if (mg->down.text)
		return rip_err_set(r->err, RIP_ECONFIG, "%s is empty or only "
			"comments (or a lone ';'); a rollback would silently do "
			"nothing (write the down, or mark the up irreversible)",
			mg->down.file);
	hint = pair_hint(r, mg, true);
	rc = rip_err_set(r->err, RIP_ECONFIG, "%s has no down migration (add "
		"%s, or mark it irreversible: first line '-- ripcord:"
		"irreversible', or [migrations] irreversible = %s)", mg->up.file,
		hint, mg->id);
	free(hint);
	return rc;
}

/*
 * The up an orphan down was likely meant for: among the ups that lack a
 * down, one of the same version (the nearest name), else the nearest id
 * within reach of a typo. NULL when none is near.
 */
static const struct rip_migration *likely_up(const struct rip_layout_reader *r,
	const struct rip_migration *down)
{
	const struct rip_migrations *m = r->out;
	const char **ids = rip_xcalloc(m->n + 1, sizeof(*ids));
	const struct rip_migration *best = NULL;
	size_t n = 0, best_d = (size_t)-1;
	const char *id;

	for (size_t i = 0; i < m->n; i++) {
		const struct rip_migration *u = &m->v[i];
		size_t d;

		if (!u->up.text || u->down.text)
			continue;
		ids[n++] = u->id;
		if (strcmp(u->version, down->version))
			continue;
		d = rip_edit_distance(u->name, down->name);
		if (d < best_d) {
			best_d = d;
			best = u;
		}
	}
	if (!best && (id = rip_suggest(down->id, ids, n)))
		best = rip_migrations_find(m, id);
	free(ids);
	return best;
}

/*
 * A down without its up is left out with a warning (DESIGN.md §5 asks a
 * down of every up, not an up of every down): most often the up's name
 * has a typo, so the warning names the up it likely belongs to, and that
 * up is then refused for lacking its down unless it may.
 */
static void drop_orphans(struct rip_layout_reader *r)
{
	struct rip_migrations *m = r->out;
	size_t k = 0;

	/* every warning first, over the whole list: likely_up reads it all */
	for (size_t i = 0; i < m->n; i++) {
		const struct rip_migration *mg = &m->v[i];
		const struct rip_migration *u;
		char *hint;

		if (mg->up.text)
			continue;
		if ((u = likely_up(r, mg))) {
			hint = pair_hint(r, u, true);
			rip_warn("%s is a down migration without its up; left out "
				"(did you mean it for %s? then name it %s)",
				mg->down.file, u->up.file, hint);
		} else {
			hint = pair_hint(r, mg, false);
			rip_warn("%s is a down migration without its up; left out "
				"(add %s beside it, or remove the down)",
				mg->down.file, hint);
		}
		free(hint);
	}
	for (size_t i = 0; i < m->n; i++) {
		struct rip_migration *mg = &m->v[i];

		if (mg->up.text) {
			if (k != i)
				m->v[k] = *mg;
			k++;
			continue;
		}
		free(mg->version);
		free(mg->name);
		free(mg->id);
		rip_sql_release(&mg->up);
		rip_sql_release(&mg->down);
		rip_sql_release(&mg->verify);
	}
	if (k < m->n)
		memset(&m->v[k], 0, (m->n - k) * sizeof(*m->v));
	m->n = k;
}

/* The shared rules of DESIGN.md §5, for one migration of any layout. */
static int check_rules(struct rip_layout_reader *r, struct rip_migration *mg)
{
	struct rip_migration top = { 0 };
	struct rip_buf norm = RIP_BUF_INIT;
	int rc;

	if (!rip_migration_id_valid(mg->id))
		return rip_err_set(r->err, RIP_ECONFIG, "%s: migration '%s' has a "
			"name ripcord cannot carry (no '/', ',', '\\\\', tabs or "
			"newlines; at most 200 bytes); rename it", rip_layout_piece_file(mg),
			mg->id);
	/* the flags the artifact will read back from the normalised up */
	rip_migration_read_markers(&top, mg->up.text, mg->up.len);
	mg->baseline = mg->baseline || top.baseline || (r->baseline &&
		rip_version_cmp(mg->version, r->baseline) <= 0);
	mg->irreversible = mg->irreversible || top.irreversible ||
		listed(r, r->o->irreversible, mg);
	mg->no_transaction = mg->no_transaction || top.no_transaction;
	mg->contract = mg->contract || top.contract ||
		listed(r, r->o->contract, mg);
	if (!mg->irreversible && !mg->baseline) {
		if ((rc = check_down(r, mg)) < 0)
			return rc;
	} else {
		if (!mg->baseline && mg->down.text &&
		    rip_sqltok_has_code(mg->down.text, mg->down.len))
			rip_warn("%s is irreversible, so its down %s is left out",
				mg->up.file, mg->down.file);
		rip_sql_release(&mg->down);
	}
	rip_migration_normalise(&norm, mg);
	rip_migration_checksum(mg->checksum, norm.buf, norm.len);
	rip_buf_release(&norm);
	return 0;
}

static int read_layout(struct rip_layout_reader *r)
{
	switch (r->f) {
	case RIP_LAYOUT_AUTO:
		return 0;         /* nothing recognised: no migrations */
	case RIP_LAYOUT_SQITCH:
		return rip_layout_sqitch_read(r);
	case RIP_LAYOUT_GOLANG:
	case RIP_LAYOUT_DBMATE:
	case RIP_LAYOUT_DIESEL:
	case RIP_LAYOUT_FLYWAY:
		return rip_layout_read_scripts(r);
	}
	return rip_err_set(r->err, RIP_ECONFIG, "unknown migration layout %d",
		(int)r->f);
}

int rip_layout_read(struct rip_migrations *out,
	enum rip_layout_format *detected, const struct rip_layout_file *files,
	size_t n, const struct rip_layout_opts *o, struct rip_err *err)
{
	bool dir = o->dir && o->dir[0];
	struct rip_layout_reader r = { .o = o, .f = o->format,
		.files = files, .n = n, .dir = dir ? o->dir : ".", .out = out,
		.err = err };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	r.pre = dir ? rip_xasprintf("%s/", o->dir) : rip_xstrdup("");
	r.idx = rip_xcalloc(n + 1, sizeof(const struct rip_layout_file *));
	for (size_t i = 0; i < n; i++)
		r.idx[i] = &files[i];
	if (n > 1)
		qsort(r.idx, n, sizeof(const struct rip_layout_file *), cmp_path);
	if (r.f == RIP_LAYOUT_AUTO) {
		if ((rc = detect(&r, &r.f)) < 0)
			goto done;
	}
	if ((rc = read_layout(&r)) < 0)
		goto done;
	drop_orphans(&r);
	if ((rc = resolve_baseline(&r)) < 0)
		goto done;
	for (size_t i = 0; i < out->n; i++)
		if ((rc = check_rules(&r, &out->v[i])) < 0)
			goto done;
done:
	if (rc < 0)
		rip_migrations_release(out);
	*detected = r.f;
	free(r.pre);
	free(r.idx);
	free(r.used);
	free(r.baseline);
	return rc;
}
