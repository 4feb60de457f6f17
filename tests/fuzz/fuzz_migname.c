/* SPDX-License-Identifier: MIT */
/*
 * fuzz_migname.c: the migration file name parsers of layout_scripts.c,
 * which read "<version>_<name>.up.sql" (golang-migrate),
 * "<version>_<name>.sql" (dbmate), "<version>_<name>/up.sql" (diesel) and
 * "V<version>__<name>.sql" (flyway) into a version, a name and an id.
 *
 * Those parsers are static; fuzz_layout reaches them only among whole
 * folders, where most mutations go to the contents. Here every mutation
 * goes to one name: the input's first line is the path of the only file
 * of a folder, whose content is fixed (an up marked irreversible, with a
 * dbmate "-- migrate:up" line, so every layout takes it alone). The folder
 * is read with each layout and with AUTO. Contracts checked:
 *   - a migration read from the name has a non-empty version and name,
 *     an id "<version>_<name>" that rip_migration_id_valid accepts, and
 *     the path is exactly what its layout spells from them (so the
 *     version and name are the path's, nothing dropped or invented);
 *   - the path of the down that pairs with an up (golang .down., diesel
 *     down.sql, flyway U) is read as that up's down: one migration, same
 *     id, with a down;
 *   - AUTO detects a layout exactly when one of them read the name, and
 *     then reads what that layout read.
 * The next three lines are versions a, b and c for rip_version_cmp, the
 * order of golang-migrate and flyway versions: reflexive, antisymmetric
 * and transitive, as qsort needs. The first line also goes to
 * rip_layout_parse: a format it accepts is one rip_layout_name spells.
 */
#include <ctype.h>

#include "ripcord/layout.h"
#include "fuzz.h"

#define ALONE "-- ripcord:irreversible\n-- migrate:up\nCREATE TABLE t (x int);\n"
#define UP "-- migrate:up\nCREATE TABLE t (x int);\n"
#define DOWN "DROP TABLE t;\n"

static const enum rip_layout_format formats[] = {
	RIP_LAYOUT_GOLANG, RIP_LAYOUT_DBMATE, RIP_LAYOUT_DIESEL,
	RIP_LAYOUT_FLYWAY, RIP_LAYOUT_SQITCH,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static int read_folder(struct rip_migrations *m, enum rip_layout_format *det,
	const struct rip_layout_file *files, size_t n,
	enum rip_layout_format f)
{
	struct rip_layout_opts o = { .format = f };
	struct rip_err err = { 0 };
	int rc = rip_layout_read(m, det, files, n, &o, &err);

	if (fuzz_verbose())
		fprintf(stderr, "rip_layout_read as %s: %d %s (%zu migrations)\n",
			rip_layout_name(f), rc, rc ? err.msg : "ok", m->n);
	FUZZ_CHECK(rc == 0 || (err.code == RIP_ECONFIG && m->n == 0));
	FUZZ_CHECK(f == RIP_LAYOUT_AUTO || *det == f);
	return rc;
}

static bool all_of(const char *s, size_t len, const char *set)
{
	return strspn(s, set) >= len;
}

/* s starts with prefix; the rest is in *rest. */
static bool starts(const char *s, const char *prefix, const char **rest)
{
	size_t l = strlen(prefix);

	if (strncmp(s, prefix, l))
		return false;
	*rest = s + l;
	return true;
}

/* flyway's V<version>__ with '_' for some of the version's dots */
static bool flyway_spells(const char *b, const char *version,
	const char **rest)
{
	size_t i;

	for (i = 0; version[i]; i++)
		if (b[i] != version[i] && !(version[i] == '.' && b[i] == '_'))
			return false;
	return starts(b + i, "__", rest);
}

/* The path is what layout f spells from g's version and name. */
static void check_name(const struct rip_migration *g, const char *path,
	enum rip_layout_format f)
{
	size_t vl = strlen(g->version), il = strlen(g->id);
	const char *rest, *b = strrchr(path, '/');

	FUZZ_CHECK(vl > 0 && g->name[0]);
	FUZZ_CHECK(il == vl + 1 + strlen(g->name) && !strncmp(g->id,
		g->version, vl) && g->id[vl] == '_' &&
		!strcmp(g->id + vl + 1, g->name));
	FUZZ_CHECK(rip_migration_id_valid(g->id));
	FUZZ_CHECK(g->up.text && g->irreversible && !g->down.text);
	switch (f) {
	case RIP_LAYOUT_GOLANG:
		FUZZ_CHECK(all_of(g->version, vl, "0123456789"));
		FUZZ_CHECK(starts(path, g->id, &rest) && starts(rest, ".up.",
			&rest) && rest[0] && !strchr(rest, '.'));
		break;
	case RIP_LAYOUT_DBMATE:
		FUZZ_CHECK(all_of(g->version, vl, "0123456789"));
		FUZZ_CHECK(starts(path, g->id, &rest) && !strcmp(rest, ".sql"));
		break;
	case RIP_LAYOUT_DIESEL:
		FUZZ_CHECK(isdigit((unsigned char)g->version[0]) &&
			all_of(g->version, vl, "0123456789-"));
		FUZZ_CHECK(starts(path, g->id, &rest) &&
			!strcmp(rest, "/up.sql"));
		break;
	case RIP_LAYOUT_FLYWAY:
		b = b ? b + 1 : path;
		FUZZ_CHECK(isdigit((unsigned char)g->version[0]) &&
			isdigit((unsigned char)g->version[vl - 1]) &&
			all_of(g->version, vl, "0123456789.") &&
			!strstr(g->version, ".."));
		FUZZ_CHECK(b[0] == 'V' && flyway_spells(b + 1, g->version,
			&rest) && starts(rest, g->name, &rest) &&
			!strcmp(rest, ".sql"));
		break;
	default:
		break;
	}
}

/* The path of the down that pairs with the up at path; NULL if none. */
static char *down_path(const char *path, enum rip_layout_format f)
{
	const char *ext = strrchr(path, '.'), *slash = strchr(path, '/');
	const char *b = strrchr(path, '/');
	char *d;

	switch (f) {
	case RIP_LAYOUT_GOLANG:
		return rip_xasprintf("%.*s.down%s", (int)(ext - 3 - path), path,
			ext);
	case RIP_LAYOUT_DIESEL:
		return rip_xasprintf("%.*s/down.sql", (int)(slash - path), path);
	case RIP_LAYOUT_FLYWAY:
		d = rip_xstrdup(path);
		d[b ? (size_t)(b + 1 - path) : 0] = 'U';
		return d;
	default:
		return NULL;
	}
}

/* The up at path and the down that pairs with it make one migration. */
static void check_pair(const char *path, const char *id,
	enum rip_layout_format f)
{
	char *down = down_path(path, f);
	struct rip_layout_file files[2] = {
		{ .path = path, .data = UP, .len = strlen(UP) },
		{ .path = down, .data = DOWN, .len = strlen(DOWN) },
	};
	struct rip_migrations m;
	enum rip_layout_format det;

	if (!down)
		return;
	FUZZ_CHECK(read_folder(&m, &det, files, 2, f) == 0);
	FUZZ_CHECK(m.n == 1 && !strcmp(m.v[0].id, id) && m.v[0].down.text &&
		!m.v[0].irreversible);
	rip_migrations_release(&m);
	free(down);
}

static bool same_ids(const struct rip_migrations *a,
	const struct rip_migrations *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].id, b->v[i].id))
			return false;
	return true;
}

static void names(const char *path)
{
	struct rip_layout_file file = { .path = path, .data = ALONE,
		.len = strlen(ALONE) };
	struct rip_migrations m[RIP_ARRAY_SIZE(formats)], autom;
	enum rip_layout_format det, autodet;
	int rc[RIP_ARRAY_SIZE(formats)], autorc;
	bool any = false;

	for (size_t i = 0; i < RIP_ARRAY_SIZE(formats); i++) {
		rc[i] = read_folder(&m[i], &det, &file, 1, formats[i]);
		FUZZ_CHECK(m[i].n <= 1);
		if (formats[i] == RIP_LAYOUT_SQITCH)
			continue;
		/* a refusal means a name was read, and then refused */
		any = any || m[i].n || rc[i] < 0;
		if (m[i].n) {
			check_name(&m[i].v[0], path, formats[i]);
			check_pair(path, m[i].v[0].id, formats[i]);
		}
	}
	autorc = read_folder(&autom, &autodet, &file, 1, RIP_LAYOUT_AUTO);
	if (autodet == RIP_LAYOUT_AUTO) {
		FUZZ_CHECK(!any && autorc == 0 && autom.n == 0);
	} else {
		for (size_t i = 0; i < RIP_ARRAY_SIZE(formats); i++)
			if (formats[i] == autodet)
				FUZZ_CHECK(autorc == rc[i] && same_ids(&autom, &m[i]));
	}
	rip_migrations_release(&autom);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(formats); i++)
		rip_migrations_release(&m[i]);
}

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

static void versions(const char *a, const char *b, const char *c)
{
	int ab = sign(rip_version_cmp(a, b)), bc = sign(rip_version_cmp(b, c));
	int ac = sign(rip_version_cmp(a, c));

	FUZZ_CHECK(rip_version_cmp(a, a) == 0);
	FUZZ_CHECK(ab == -sign(rip_version_cmp(b, a)));
	FUZZ_CHECK(bc == -sign(rip_version_cmp(c, b)));
	FUZZ_CHECK(ac == -sign(rip_version_cmp(c, a)));
	if (ab <= 0 && bc <= 0)
		FUZZ_CHECK(ac <= 0);
	if (ab >= 0 && bc >= 0)
		FUZZ_CHECK(ac >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), *line[4] = { 0 }, *p = text;
	enum rip_layout_format f;

	/* up to four lines; a missing one is "" */
	for (size_t i = 0; i < 4; i++) {
		char *nl = strchr(p, '\n');

		line[i] = p;
		if (nl) {
			*nl = '\0';
			p = nl + 1;
		} else {
			p += strlen(p);
		}
	}
	names(line[0]);
	versions(line[1], line[2], line[3]);
	if (rip_layout_parse(&f, line[0]) == 0)
		FUZZ_CHECK(!strcmp(rip_layout_name(f), line[0]));
	free(text);
	return 0;
}
