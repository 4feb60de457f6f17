/* SPDX-License-Identifier: MIT */
/*
 * layout_scripts.c: the file-per-script layouts (golang-migrate, dbmate,
 * diesel, flyway): what each names a script, the near misses it warns
 * about, and folding each up with its down.
 *
 * They first make one migration per script, then sort them and fold the
 * up and down of each version+name together: pairing and duplicate
 * detection cost one sort, so folders of thousands of migrations read in
 * O(n log n). Files that do not fit are named in a warning rather than
 * dropped in silence, with the name that was expected when one small fix
 * gives it (fix_script). The seam with layout.c is the list of
 * migrations: the rules every layout shares are applied there, after
 * rip_layout_read_scripts returns.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ripcord/layout.h"
#include "ripcord/suggest.h"
#include "layout_internal.h"
#include "sqltok.h"
#include "banned.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), sl = strlen(suffix);

	return l >= sl && !memcmp(s + l - sl, suffix, sl);
}

/*
 * Whether the text has a line "key = false": how diesel's metadata.toml
 * and flyway's <script>.sql.conf turn the transaction off.
 */
static bool says_false(const char *s, size_t len, const char *key)
{
	const char *p = s, *end = s + len;
	size_t kl = strlen(key);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *q = rip_layout_skip_blank(p, e);

		p = nl ? nl + 1 : end;
		if ((size_t)(e - q) <= kl || memcmp(q, key, kl))
			continue;
		q = rip_layout_skip_blank(q + kl, e);
		if (q == e || *q != '=')
			continue;
		q = rip_layout_skip_blank(q + 1, e);
		if (e - q >= 5 && !memcmp(q, "false", 5) &&
		    (q + 5 == e || isspace((unsigned char)q[5]) || q[5] == '#'))
			return true;
	}
	return false;
}

/* One script of a file-per-script layout, as its path names it. */
struct piece {
	const char *version, *name; /* into the path */
	size_t vl, nl;
	bool up;
};

/* A migration holding what one script gave; merge() folds them up. */
static struct rip_migration *add_piece(struct rip_layout_reader *r,
	const struct piece *p)
{
	struct rip_migration *mg = rip_migrations_add(r->out);

	mg->version = rip_xstrndup(p->version, p->vl);
	/* only flyway versions hold '_': V2_1 is 2.1 */
	for (char *s = mg->version; *s; s++)
		if (*s == '_')
			*s = '.';
	mg->name = rip_xstrndup(p->name, p->nl);
	mg->id = rip_xasprintf("%s_%s", mg->version, mg->name);
	return mg;
}

/* The apply order of every file-per-script layout: version, then name. */
static int cmp_order(const struct rip_migration *x,
	const struct rip_migration *y)
{
	int c = rip_version_cmp(x->version, y->version);

	return c ? c : strcmp(x->name, y->name);
}

static int cmp_piece(const void *a, const void *b)
{
	const struct rip_migration *x = a, *y = b;
	int c = cmp_order(x, y);

	if (!c)
		c = strcmp(x->version, y->version);
	if (!c)
		c = (y->up.file != NULL) - (x->up.file != NULL);
	return c ? c : strcmp(rip_layout_piece_file(x), rip_layout_piece_file(y));
}

static int fold_sql(struct rip_layout_reader *r, struct rip_sql *to,
	struct rip_sql *from, const char *what)
{
	if (!from->file)
		return 0;
	if (to->file)
		return rip_err_set(r->err, RIP_ECONFIG, "%s duplicates %s (one %s "
			"script per version and name; remove or rename one)",
			from->file, to->file, what);
	*to = *from;
	memset(from, 0, sizeof(*from));
	return 0;
}

/* Folds piece b into a, which has the same version and name. */
static int fold(struct rip_layout_reader *r, struct rip_migration *a,
	struct rip_migration *b)
{
	int rc;

	if (strcmp(a->version, b->version))
		return rip_err_set(r->err, RIP_ECONFIG, "%s and %s are one "
			"migration with its version written two ways ('%s', '%s'); "
			"rename one", rip_layout_piece_file(a),
			rip_layout_piece_file(b), a->version, b->version);
	if ((rc = fold_sql(r, &a->up, &b->up, "up")) < 0 ||
	    (rc = fold_sql(r, &a->down, &b->down, "down")) < 0)
		return rc;
	a->no_transaction = a->no_transaction || b->no_transaction;
	a->irreversible = a->irreversible || b->irreversible;
	a->contract = a->contract || b->contract;
	free(b->version);
	free(b->name);
	free(b->id);
	memset(b, 0, sizeof(*b));
	return 0;
}

/* Sorts the pieces into apply order and pairs each up with its down. */
static int merge(struct rip_layout_reader *r)
{
	struct rip_migrations *m = r->out;
	size_t k = 0;
	int rc;

	if (m->n > 1)
		qsort(m->v, m->n, sizeof(*m->v), cmp_piece);
	for (size_t i = 0; i < m->n; i++) {
		if (k && !cmp_order(&m->v[k - 1], &m->v[i])) {
			if ((rc = fold(r, &m->v[k - 1], &m->v[i])) < 0)
				return rc;
			continue;
		}
		if (k != i) {
			m->v[k] = m->v[i];
			memset(&m->v[i], 0, sizeof(m->v[i]));
		}
		k++;
	}
	m->n = k;
	return 0;
}

/*
 * "up" or "down" when w[0..l) is one of them but for its case or a typo
 * (one edit for "up", two for "down", never the whole word); NULL if not.
 */
static const char *near_kind(const char *w, size_t l)
{
	static const char *const kinds[] = { "up", "down" };
	char low[8];

	if (!l || l >= sizeof(low))
		return NULL;
	for (size_t i = 0; i < l; i++)
		low[i] = (char)tolower((unsigned char)w[i]);
	low[l] = '\0';
	for (size_t k = 0; k < RIP_ARRAY_SIZE(kinds); k++) {
		size_t d = rip_edit_distance(low, kinds[k]);

		if (d <= k + 1 && d < l)
			return kinds[k];
	}
	return NULL;
}

/* Whether ext (after its '.') looks like a file extension: 1-5 letters. */
static bool is_ext(const char *ext)
{
	size_t l = strlen(ext);

	for (size_t i = 0; i < l; i++)
		if (!isalpha((unsigned char)ext[i]))
			return false;
	return l && l <= 5;
}

static int script_piece(enum rip_layout_format f, struct piece *p,
	const char *path);

/*
 * The name a near-miss script was meant to have, when one small fix makes
 * it a script of the layout: ".sql" in another case or missing, and "up"
 * or "down" in another case or with a typo (golang-migrate's
 * "<v>_<name>.dwon.sql", diesel's "<id>/Up.sql"). NULL when none does.
 */
static char *fix_script(enum rip_layout_format f, const char *path,
	struct piece *p)
{
	struct rip_buf s = RIP_BUF_INIT;
	const char *b = rip_layout_base_name(path), *dot = strrchr(b, '.');
	const char *kind;
	size_t stem, w;

	rip_buf_adds(&s, path);
	if (dot && !strcasecmp(dot, ".sql"))
		memcpy(s.buf + (dot - path), ".sql", 4);
	else if (!dot || !is_ext(dot + 1) || near_kind(dot + 1,
			strlen(dot + 1)))
		rip_buf_adds(&s, ".sql");
	else
		goto none;
	/* the word before ".sql" within the base name */
	stem = s.len - 4;
	for (w = stem; w > (size_t)(b - path) && s.buf[w - 1] != '.'; w--)
		;
	kind = near_kind(s.buf + w, stem - w);
	if (kind) {
		char *t = rip_xasprintf("%.*s%s%s", (int)w, s.buf, kind,
			s.buf + stem);

		rip_buf_reset(&s);
		rip_buf_adds(&s, t);
		free(t);
	}
	if (strcmp(s.buf, path) && !script_piece(f, p, s.buf))
		return rip_buf_detach(&s, NULL);
none:
	rip_buf_release(&s);
	return NULL;
}

/* Warns about a near miss that fix_script mends; false if it mends none. */
static bool warn_near_miss(const struct rip_layout_reader *r, const char *path)
{
	struct piece p = { 0 };
	char *fix = fix_script(r->f, path, &p);

	if (!fix)
		return false;
	rip_layout_warnf(r, path, "looks like %s; ignored (did you mean %s?)",
		r->f == RIP_LAYOUT_DBMATE ? "a dbmate migration" : p.up ?
		"an up migration" : "a down migration", fix);
	free(fix);
	return true;
}

/* golang-migrate: "<digits>_<name>.<up|down>.<ext>", ext without dots. */
static int golang_piece(struct piece *p, const char *path)
{
	const char *ext = strrchr(path, '.');
	size_t before;

	p->vl = strspn(path, "0123456789");
	if (!p->vl || path[p->vl] != '_' || strchr(path, '/') || !ext ||
	    !ext[1] || ext < path + p->vl + 1)
		return -1;
	p->version = path;
	p->name = path + p->vl + 1;
	before = (size_t)(ext - p->name);
	p->up = before > 3 && !memcmp(ext - 3, ".up", 3);
	if (p->up)
		p->nl = before - 3;
	else if (before > 5 && !memcmp(ext - 5, ".down", 5))
		p->nl = before - 5;
	else
		return -1;
	return 0;
}

static void golang_stray(const struct rip_layout_reader *r, const char *path)
{
	static const char *const sfx[] = { "_up", "-up", "_down", "-down" };
	size_t vl = strspn(path, "0123456789");
	const char *ext = strrchr(path, '.');
	size_t stem = ext ? (size_t)(ext - path) : 0;
	bool named = vl && path[vl] == '_' && ext && !strchr(path, '/');

	if (vl && path[vl] == '.') {
		/* the kind it names, so 0157.down.sql is told of a down */
		const char *k = strstr(path + vl, ".down") ? "down" : "up";

		rip_layout_warnf(r, path, "has no name; ignored (expected "
			"%.*s_<name>.%s.sql)", (int)vl, path, k);
		return;
	}
	for (size_t i = 0; named && i < RIP_ARRAY_SIZE(sfx); i++) {
		size_t sl = strlen(sfx[i]);

		if (stem > vl + 1 + sl && !memcmp(ext - sl, sfx[i], sl)) {
			rip_layout_warnf(r, path, "is not a golang-migrate "
				"file; ignored (did you mean %.*s.%s%s?)",
				(int)(stem - sl), path, sfx[i] + 1, ext);
			return;
		}
	}
	if (!named || !warn_near_miss(r, path))
		rip_layout_warnf(r, path, "is not a golang-migrate file "
			"(expected <version>_<name>.up.sql or .down.sql); "
			"ignored");
}

/* dbmate: "<digits>_<name>.sql" at the top of the folder. */
static int dbmate_piece(struct piece *p, const char *path)
{
	size_t len = strlen(path);

	p->vl = strspn(path, "0123456789");
	if (!p->vl || path[p->vl] != '_' || strchr(path, '/') ||
	    !ends_with(path, ".sql") || len <= p->vl + 1 + 4)
		return -1;
	p->version = path;
	p->name = path + p->vl + 1;
	p->nl = len - p->vl - 1 - 4;
	p->up = true;
	return 0;
}

static void dbmate_stray(const struct rip_layout_reader *r, const char *path)
{
	size_t vl = strspn(path, "0123456789");

	if (vl && !strcmp(path + vl, ".sql"))
		rip_layout_warnf(r, path, "has no name; ignored (expected "
			"%.*s_<name>.sql)", (int)vl, path);
	else if (!warn_near_miss(r, path))
		rip_layout_warnf(r, path, "is not a dbmate migration (expected "
			"<version>_<name>.sql); ignored");
}

enum { SEC_UP, SEC_DOWN };

/* Whether w is one of the blank-separated words of s. */
static bool has_word(const char *s, size_t len, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; i + wl <= len; i++)
		if (!memcmp(s + i, w, wl) &&
		    (!i || isspace((unsigned char)s[i - 1])) &&
		    (i + wl == len || isspace((unsigned char)s[i + wl])))
			return true;
	return false;
}

/*
 * Which dbmate marker the line p[0..ll) is ("--migrate:up", "-- migrate:down
 * transaction:false"): SEC_UP, SEC_DOWN or -1; *notx when it turns the
 * transaction off.
 */
static int dbmate_marker(const char *p, size_t ll, bool *notx)
{
	static const char *const kw[] = { "migrate:up", "migrate:down" };
	size_t i = 2;

	if (ll < 2 || p[0] != '-' || p[1] != '-')
		return -1;
	while (i < ll && (p[i] == ' ' || p[i] == '\t'))
		i++;
	for (int k = SEC_UP; k <= SEC_DOWN; k++) {
		size_t kl = strlen(kw[k]);

		if (ll - i < kl || memcmp(p + i, kw[k], kl) ||
		    (ll - i > kl && !isspace((unsigned char)p[i + kl])))
			continue;
		*notx = has_word(p + i + kl, ll - i - kl, "transaction:false");
		return k;
	}
	return -1;
}

struct dbmate {
	bool seen[2];
	size_t at[2];             /* where the marker line starts */
	size_t body[2];           /* where the line after it starts */
	bool notx;
	size_t again;             /* the line of a second marker of a kind */
};

static void dbmate_scan(struct dbmate *d, const struct rip_layout_file *f)
{
	const char *s = rip_layout_fdata(f), *p = s, *end = s + f->len;
	size_t line = 0;

	memset(d, 0, sizeof(*d));
	while (p < end && !d->again) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		bool notx = false;
		int k = dbmate_marker(p, (size_t)((nl ? nl : end) - p), &notx);

		line++;
		if (k >= 0 && d->seen[k])
			d->again = line;
		if (k >= 0) {
			d->seen[k] = true;
			d->at[k] = (size_t)(p - s);
			d->body[k] = (size_t)(next - s);
			d->notx = d->notx || notx;
		}
		p = next;
	}
}

/* Section k of d: from the line after its marker to the other or EOF. */
static size_t dbmate_section(const struct dbmate *d, int k, size_t len,
	size_t *start)
{
	int o = k == SEC_UP ? SEC_DOWN : SEC_UP;

	*start = d->body[k];
	return (d->seen[o] && d->at[o] > d->at[k] ? d->at[o] : len) - *start;
}

static int dbmate_file(struct rip_layout_reader *r,
	const struct rip_layout_file *f, const struct piece *p)
{
	struct rip_migration top = { 0 }, *mg;
	const char *s = rip_layout_fdata(f);
	size_t pre, b, len;
	struct dbmate d;

	dbmate_scan(&d, f);
	if (d.again)
		return rip_err_set(r->err, RIP_ECONFIG, "%s%s:%zu: a second "
			"'-- migrate:' line of the same kind (a dbmate migration has "
			"one up and one down section)", r->pre, f->path, d.again);
	if (!d.seen[SEC_UP] && !d.seen[SEC_DOWN]) {
		rip_layout_warnf(r, f->path, "has no '-- migrate:up' line; "
			"ignored (a dbmate migration has '-- migrate:up' and "
			"'-- migrate:down' sections)");
		return 0;
	}
	if (!d.seen[SEC_UP])
		return rip_err_set(r->err, RIP_ECONFIG, "%s%s has a '-- migrate:"
			"down' section but no '-- migrate:up' (put '-- migrate:up' "
			"above the up SQL)", r->pre, f->path);
	pre = d.seen[SEC_DOWN] && d.at[SEC_DOWN] < d.at[SEC_UP] ?
		d.at[SEC_DOWN] : d.at[SEC_UP];
	if (rip_sqltok_has_code(s, pre))
		rip_layout_warnf(r, f->path, "has SQL before its first "
			"'-- migrate:' line; that SQL is ignored");
	/* a ripcord marker may also sit above "-- migrate:up" */
	rip_migration_read_markers(&top, s, pre);
	mg = add_piece(r, p);
	mg->no_transaction = d.notx || top.no_transaction;
	mg->irreversible = top.irreversible;
	mg->contract = top.contract;
	len = dbmate_section(&d, SEC_UP, f->len, &b);
	rip_layout_set_sql(r, &mg->up, f, s + b, len);
	len = dbmate_section(&d, SEC_DOWN, f->len, &b);
	if (d.seen[SEC_DOWN] && rip_sqltok_has_code(s + b, len))
		rip_layout_set_sql(r, &mg->down, f, s + b, len);
	return 0;
}

/* diesel: "<version>_<name>/<up|down>.sql", version digits and dashes. */
static int diesel_piece(struct piece *p, const char *path)
{
	const char *slash = strchr(path, '/');

	p->vl = strspn(path, "0123456789-");
	if (!slash || !isdigit((unsigned char)path[0]) || path[p->vl] != '_' ||
	    path + p->vl + 1 >= slash)
		return -1;
	p->version = path;
	p->name = path + p->vl + 1;
	p->nl = (size_t)(slash - p->name);
	p->up = !strcmp(slash + 1, "up.sql");
	return p->up || !strcmp(slash + 1, "down.sql") ? 0 : -1;
}

static void diesel_stray(const struct rip_layout_reader *r, const char *path)
{
	struct piece p = { 0 };
	char *up;

	diesel_piece(&p, path);
	if (!p.nl) {
		rip_layout_warnf(r, path, "is not in a diesel migration folder "
			"(expected <version>_<name>/up.sql and down.sql); "
			"ignored");
	} else if (strcmp(p.name + p.nl + 1, "metadata.toml")) {
		if (!warn_near_miss(r, path))
			rip_layout_warnf(r, path, "is not a diesel migration "
				"script (expected up.sql, down.sql or "
				"metadata.toml); ignored");
	} else {
		/* without an up.sql beside it, it would be lost silently */
		up = rip_xasprintf("%.*s/up.sql", (int)(p.name + p.nl - path),
			path);
		if (!rip_layout_find_file(r, up))
			rip_layout_warnf(r, path, "has no up.sql beside it; "
				"ignored");
		free(up);
	}
}

/*
 * flyway, at any depth: "<V|U><version>__<name>.sql", the version digits
 * separated by '.' or '_'.
 */
static int flyway_piece(struct piece *p, const char *path)
{
	const char *b = rip_layout_base_name(path), *sep = strstr(b, "__");
	size_t len = strlen(b);

	if ((b[0] != 'V' && b[0] != 'U') || !sep || sep == b + 1 ||
	    !ends_with(b, ".sql") || sep + 2 >= b + len - 4)
		return -1;
	for (const char *s = b + 1; s < sep; s++)
		if (!isdigit((unsigned char)*s) && ((*s != '.' && *s != '_') ||
		    s == b + 1 || !isdigit((unsigned char)s[-1]) ||
		    !isdigit((unsigned char)s[1])))
			return -1;
	p->version = b + 1;
	p->vl = (size_t)(sep - p->version);
	p->name = sep + 2;
	p->nl = len - 4 - (size_t)(p->name - b);
	p->up = b[0] == 'V';
	return 0;
}

static void flyway_stray(const struct rip_layout_reader *r, const char *path)
{
	const char *b = rip_layout_base_name(path);
	bool digit = b[0] && isdigit((unsigned char)b[1]);

	if (ends_with(b, ".sql.conf"))
		return;
	if (!strncmp(b, "R__", 3))
		rip_layout_warnf(r, path, "is a repeatable migration, which "
			"ripcord cannot roll back; ignored (make it a "
			"V<version>__<name>.sql)");
	else if ((b[0] == 'v' || b[0] == 'u') && digit)
		rip_layout_warnf(r, path, "is not a flyway migration; ignored "
			"(did you mean %c%s?)", toupper((unsigned char)b[0]),
			b + 1);
	else if (warn_near_miss(r, path))
		return;
	else if ((b[0] == 'V' || b[0] == 'U') && digit && !strstr(b, "__"))
		rip_layout_warnf(r, path, "is not a flyway migration; ignored "
			"(expected %c<version>__<name>.sql, with two "
			"underscores)", b[0]);
	else if (b[0] == 'B' && digit)
		rip_layout_warnf(r, path, "is a flyway baseline migration, "
			"which ripcord does not read; ignored (use "
			"[migrations] baseline)");
	else
		rip_layout_warnf(r, path, "is not a flyway migration (expected "
			"V<version>__<name>.sql or U<version>__<name>.sql); "
			"ignored");
}

/* diesel's <id>/metadata.toml and flyway's <up>.conf: no transaction. */
static void side_flags(struct rip_layout_reader *r)
{
	bool diesel = r->f == RIP_LAYOUT_DIESEL;

	for (size_t i = 0; i < r->out->n; i++) {
		struct rip_migration *mg = &r->out->v[i];
		const struct rip_layout_file *f;
		char *p;

		if (!mg->up.file)
			continue;
		p = diesel ? rip_xasprintf("%s/metadata.toml", mg->id) :
			rip_xasprintf("%s.conf", mg->up.file + strlen(r->pre));
		f = rip_layout_find_file(r, p);
		if (f && says_false(rip_layout_fdata(f), f->len, diesel ?
				"run_in_transaction" : "executeInTransaction"))
			mg->no_transaction = true;
		free(p);
	}
}

static const struct {
	int (*piece)(struct piece *p, const char *path);
	void (*stray)(const struct rip_layout_reader *r, const char *path);
} scripts[] = {
	[RIP_LAYOUT_GOLANG] = { golang_piece, golang_stray },
	[RIP_LAYOUT_DBMATE] = { dbmate_piece, dbmate_stray },
	[RIP_LAYOUT_DIESEL] = { diesel_piece, diesel_stray },
	[RIP_LAYOUT_FLYWAY] = { flyway_piece, flyway_stray },
};

static int script_piece(enum rip_layout_format f, struct piece *p,
	const char *path)
{
	return (size_t)f < RIP_ARRAY_SIZE(scripts) && scripts[f].piece ?
		scripts[f].piece(p, path) : -1;
}

/* golang-migrate reads any extension (.psql is common); ".sql" in
 * another case is a near miss worth a word, though it is read all the same. */
static void golang_ext_note(const struct rip_layout_reader *r,
	const char *path)
{
	const char *ext = strrchr(path, '.');

	if (!strcasecmp(ext, ".sql") && strcmp(ext, ".sql"))
		rip_layout_warnf(r, path, "has the extension '%s', not "
			"'.sql'; read as SQL all the same (rename it "
			"%.*s.sql)", ext, (int)(ext - path), path);
}

/* golang-migrate, dbmate, diesel, flyway: one migration per name. */
int rip_layout_read_scripts(struct rip_layout_reader *r)
{
	int rc;

	for (size_t i = 0; i < r->n; i++) {
		const struct rip_layout_file *f = &r->files[i];
		struct rip_migration *mg;
		struct piece p = { 0 };

		if (rip_layout_is_keep(f->path))
			continue;
		if (scripts[r->f].piece(&p, f->path) < 0) {
			scripts[r->f].stray(r, f->path);
		} else if (r->f == RIP_LAYOUT_DBMATE) {
			if ((rc = dbmate_file(r, f, &p)) < 0)
				return rc;
		} else {
			if (r->f == RIP_LAYOUT_GOLANG)
				golang_ext_note(r, f->path);
			mg = add_piece(r, &p);
			rip_layout_set_sql(r, p.up ? &mg->up : &mg->down, f,
				rip_layout_fdata(f), f->len);
		}
	}
	if ((rc = merge(r)) < 0)
		return rc;
	if (r->f == RIP_LAYOUT_DIESEL || r->f == RIP_LAYOUT_FLYWAY)
		side_flags(r);
	return 0;
}

/* Which layout one file is clearly part of; AUTO when none. */
enum rip_layout_format rip_layout_guess(const struct rip_layout_file *f)
{
	struct dbmate d;
	struct piece p;

	if (!strcmp(f->path, "sqitch.plan"))
		return RIP_LAYOUT_SQITCH;
	if (!diesel_piece(&p, f->path))
		return RIP_LAYOUT_DIESEL;
	if (!flyway_piece(&p, f->path))
		return RIP_LAYOUT_FLYWAY;
	if (!golang_piece(&p, f->path))
		return RIP_LAYOUT_GOLANG;
	if (dbmate_piece(&p, f->path) < 0)
		return RIP_LAYOUT_AUTO;
	dbmate_scan(&d, f);
	return d.seen[SEC_UP] ? RIP_LAYOUT_DBMATE : RIP_LAYOUT_AUTO;
}
