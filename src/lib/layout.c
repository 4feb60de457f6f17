/* SPDX-License-Identifier: MIT */
/*
 * layout.c: migration folder layouts, normalised.
 *
 * golang-migrate names each file <version>_<name>.<up|down>.<ext>, where
 * version is digits. Several migrations may share a version; identity is
 * version + name. Files that do not fit are named in a warning rather than
 * dropped in silence, and the reversibility rules of DESIGN.md §5 are
 * enforced here, at cut, where a missing down is cheapest to fix.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/layout.h"
#include "ripcord/log.h"
#include "banned.h"

int rip_version_cmp(const char *a, const char *b)
{
	const char *da = a, *db = b;
	size_t la, lb;

	while (*da == '0' && isdigit((unsigned char)da[1]))
		da++;
	while (*db == '0' && isdigit((unsigned char)db[1]))
		db++;
	la = strspn(da, "0123456789");
	lb = strspn(db, "0123456789");
	if (la && lb && la != lb)
		return la < lb ? -1 : 1;
	return strcmp(da, db);
}

/* Splits "<digits>_<name>.<up|down>.<ext>"; returns 0 or -1. */
static int parse_name(const char *file, char **version, char **name,
	bool *up)
{
	size_t vl = strspn(file, "0123456789");
	const char *rest, *dot;

	if (!vl || file[vl] != '_')
		return -1;
	rest = file + vl + 1;
	dot = strstr(rest, ".up.");
	*up = dot != NULL;
	if (!dot)
		dot = strstr(rest, ".down.");
	if (!dot || dot == rest)
		return -1;
	if (strchr(dot + (*up ? 4 : 6), '.') || !dot[*up ? 4 : 6])
		return -1;
	*version = rip_xstrndup(file, vl);
	*name = rip_xstrndup(rest, (size_t)(dot - rest));
	return 0;
}

static struct rip_migration *find(struct rip_migrations *m,
	const char *version, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].version, version) &&
		    !strcmp(m->v[i].name, name))
			return &m->v[i];
	return NULL;
}

static int cmp_mig(const void *a, const void *b)
{
	const struct rip_migration *x = a, *y = b;
	int c = rip_version_cmp(x->version, y->version);

	return c ? c : strcmp(x->name, y->name);
}

/* Whether the text has anything but white space and SQL comments. */
static bool has_sql(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (isspace((unsigned char)s[i])) {
			i++;
		} else if (i + 1 < len && s[i] == '-' && s[i + 1] == '-') {
			while (i < len && s[i] != '\n')
				i++;
		} else if (i + 1 < len && s[i] == '/' && s[i + 1] == '*') {
			const char *end = memmem(s + i + 2, len - i - 2, "*/", 2);

			i = end ? (size_t)(end - s) + 2 : len;
		} else {
			return true;
		}
	}
	return false;
}

static bool marked_irreversible(const struct rip_layout_file *f)
{
	static const char mark[] = "-- ripcord:irreversible";

	return f->len >= sizeof(mark) - 1 &&
		!memcmp(f->data, mark, sizeof(mark) - 1);
}

static bool listed(const struct rip_strlist *l, const char *id,
	const char *version)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->v[i], id) || !strcmp(l->v[i], version))
			return true;
	return false;
}

static int check_reversible(struct rip_migration *mg,
	const struct rip_strlist *irreversible, const char *baseline,
	const char *dir, struct rip_err *err)
{
	bool in_baseline = baseline && rip_version_cmp(mg->version,
		baseline) <= 0;

	if (!mg->up)
		return rip_err_set(err, RIP_ECONFIG, "%s/%s: a down migration "
			"without its up (expected %s_%s.up.sql beside it)", dir,
			mg->down->name, mg->version, mg->name);
	mg->irreversible = marked_irreversible(mg->up) ||
		listed(irreversible, mg->id, mg->version);
	if (mg->irreversible || in_baseline)
		return 0;
	if (!mg->down)
		return rip_err_set(err, RIP_ECONFIG, "%s/%s has no down "
			"migration (add %s_%s.down.sql, or mark it irreversible: "
			"first line '-- ripcord:irreversible', or [migrations] "
			"irreversible = %s)", dir, mg->up->name, mg->version,
			mg->name, mg->id);
	if (!has_sql(mg->down->data, mg->down->len))
		return rip_err_set(err, RIP_ECONFIG, "%s/%s is empty or only "
			"comments; a rollback would silently do nothing (write the "
			"down, or mark the up irreversible)", dir, mg->down->name);
	return 0;
}

int rip_layout_read(struct rip_migrations *out,
	const struct rip_layout_file *files, size_t n,
	const struct rip_strlist *irreversible, const char *baseline,
	const char *dir, struct rip_err *err)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		char *version, *name;
		struct rip_migration *mg;
		bool up;

		if (parse_name(files[i].name, &version, &name, &up) < 0) {
			rip_warn("%s/%s is not a migration file (expected "
				"<version>_<name>.up.sql or .down.sql); ignored", dir,
				files[i].name);
			continue;
		}
		mg = find(out, version, name);
		if (!mg) {
			RIP_ALLOC_GROW(out->v, out->n + 1, out->alloc);
			mg = &out->v[out->n++];
			memset(mg, 0, sizeof(*mg));
			mg->version = version;
			mg->name = name;
			mg->id = rip_xasprintf("%s_%s", version, name);
		} else {
			free(version);
			free(name);
		}
		if (up ? mg->up != NULL : mg->down != NULL) {
			rc = rip_err_set(err, RIP_ECONFIG, "%s/%s duplicates %s (one "
				"%s file per migration)", dir, files[i].name,
				(up ? mg->up : mg->down)->name, up ? "up" : "down");
			goto fail;
		}
		if (up)
			mg->up = &files[i];
		else
			mg->down = &files[i];
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_mig);
	for (size_t i = 0; i < out->n; i++)
		if ((rc = check_reversible(&out->v[i], irreversible, baseline,
				dir, err)) < 0)
			goto fail;
	return 0;
fail:
	rip_migrations_release(out);
	return rc;
}

void rip_migrations_release(struct rip_migrations *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].version);
		free(m->v[i].name);
		free(m->v[i].id);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}
