/* SPDX-License-Identifier: MIT */
/*
 * layout_sqitch.c: the sqitch layout. Order comes from sqitch.plan, not
 * from file names: each change's version is its 1-based position in the
 * plan ("0007"), and its scripts are deploy/, revert/ and verify/<name>.sql.
 *
 * The plan is checked line by line (a name, optional [dependencies], a
 * timestamp, the planner's <email>, a # note) and a bad line is an error
 * naming plan:line. A reworked change follows sqitch's own naming: the
 * earlier instance's scripts are <name>@<tag>.sql, <tag> being the newest
 * tag between it and its rework whose deploy script exists. Reworks are
 * found with one sort of the changes by name, and scripts through the
 * reader's sorted index of the paths, so a large plan needs no scan of
 * the folder per change. A script no change took is named in a warning,
 * with the script that was expected when its folder, extension or change
 * name is one slip away (sq_fix).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ripcord/log.h"
#include "ripcord/suggest.h"
#include "layout_internal.h"
#include "banned.h"

/* A change of sqitch.plan. */
struct sq_change {
	const char *name;
	size_t len;
	size_t line;
	size_t tag0, ntags;       /* its tags, in sq_plan.tags */
	const char *tag;          /* the rework tag its scripts carry, or NULL */
	size_t taglen;
};

struct sq_tag {
	const char *s;            /* "@v1.0" */
	size_t len;
};

struct sq_plan {
	struct sq_change *v;
	size_t n, alloc;
	struct sq_tag *tags;
	size_t ntags, tags_alloc;
	char *file;               /* "<dir>/sqitch.plan", for messages */
};

/* "2024-01-31T12:00:00Z" at p, then a blank or the end. */
static bool sq_timestamp(const char *p, const char *end)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

	if (end - p < 20)
		return false;
	for (size_t i = 0; i < 20; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)p[i]) :
				      p[i] != shape[i])
			return false;
	return end - p == 20 || p[20] == ' ' || p[20] == '\t';
}

/* Parses "name [deps] timestamp planner <email> # note"; NULL or why not. */
static const char *sq_change_line(struct sq_change *c, const char *p,
	const char *end)
{
	const char *q = p, *lt, *gt;

	while (q < end && *q != ' ' && *q != '\t' && *q != '[')
		q++;
	if (q == p)
		return "expected a change name first";
	if ((ispunct((unsigned char)*p) && *p != '_') ||
	    (ispunct((unsigned char)q[-1]) && q[-1] != '_'))
		return "a change name cannot start or end with punctuation";
	for (const char *s = p; s < q; s++)
		if (strchr(":@#\\", *s))
			return "a change name cannot hold ':', '@', '#' or '\\'";
	c->name = p;
	c->len = (size_t)(q - p);
	q = rip_layout_skip_blank(q, end);
	if (q < end && *q == '[') {
		const char *rb = memchr(q, ']', (size_t)(end - q));

		if (!rb)
			return "the '[' of the dependencies is never closed";
		q = rip_layout_skip_blank(rb + 1, end);
	}
	if (!sq_timestamp(q, end))
		return "expected a timestamp like 2024-01-31T12:00:00Z after the "
			"change name and its dependencies";
	q = rip_layout_skip_blank(q + 20, end);
	lt = memchr(q, '<', (size_t)(end - q));
	gt = lt ? memchr(lt, '>', (size_t)(end - lt)) : NULL;
	if (!lt || lt == q || !gt)
		return "expected the planner's name and <email> after the timestamp";
	q = rip_layout_skip_blank(gt + 1, end);
	return q == end || *q == '#' ? NULL : "unexpected text after the "
		"planner's <email> (a note starts with '#')";
}

/* Adds the plan line p[0..end) (not blank, comment or pragma). */
static const char *sq_line(struct sq_plan *pl, const char *p, const char *end,
	size_t line)
{
	struct sq_change c = { 0 };
	const char *why;

	if (*p == '@') {
		const char *q = p;

		while (q < end && *q != ' ' && *q != '\t')
			q++;
		if (q - p < 2)
			return "a tag line needs a name after '@'";
		if (!pl->n)
			return NULL;  /* a tag of nothing: sqitch's business */
		RIP_ALLOC_GROW(pl->tags, pl->ntags + 1, pl->tags_alloc);
		pl->tags[pl->ntags].s = p;
		pl->tags[pl->ntags++].len = (size_t)(q - p);
		pl->v[pl->n - 1].ntags++;
		return NULL;
	}
	why = sq_change_line(&c, p, end);
	if (why)
		return why;
	c.line = line;
	c.tag0 = pl->ntags;
	RIP_ALLOC_GROW(pl->v, pl->n + 1, pl->alloc);
	pl->v[pl->n++] = c;
	return NULL;
}

static int sq_parse(struct rip_layout_reader *r, struct sq_plan *pl,
	const struct rip_layout_file *f)
{
	const char *p = rip_layout_fdata(f), *end = p + f->len;
	size_t line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *q = rip_layout_skip_blank(p, e);
		const char *why;

		line++;
		p = nl ? nl + 1 : end;
		if (e > q && e[-1] == '\r')
			e--;
		if (q == e || *q == '#' || *q == '%')
			continue;
		why = sq_line(pl, q, e, line);
		if (why)
			return rip_err_set(r->err, RIP_ECONFIG, "%s:%zu: %s",
				pl->file, line, why);
	}
	return 0;
}

/*
 * Change a is reworked at b: its scripts carry the newest tag between
 * them (a's own tags last) whose deploy script exists, else the newest
 * one, which is how sqitch names them. No tag between them is an error.
 */
static int sq_rework(struct rip_layout_reader *r, struct sq_plan *pl, size_t a,
	size_t b)
{
	struct sq_change *c = &pl->v[a];
	const struct sq_tag *pick = NULL, *first = NULL;

	for (size_t j = b; j-- > a && !pick;) {
		for (size_t t = 0; t < pl->v[j].ntags && !pick; t++) {
			const struct sq_tag *tag = &pl->tags[pl->v[j].tag0 + t];
			char *p = rip_xasprintf("deploy/%.*s%.*s.sql", (int)c->len,
				c->name, (int)tag->len, tag->s);

			if (!first)
				first = tag;
			if (rip_layout_find_file(r, p))
				pick = tag;
			free(p);
		}
	}
	if (!first)
		return rip_err_set(r->err, RIP_ECONFIG, "%s:%zu: change '%.*s' "
			"appears again with no tag since line %zu (sqitch reworks a "
			"change only after a tag; tag the plan, or rename the change)",
			pl->file, pl->v[b].line, (int)c->len, c->name, c->line);
	pick = pick ? pick : first;
	c->tag = pick->s;
	c->taglen = pick->len;
	return 0;
}

static int cmp_change(const void *a, const void *b)
{
	const struct sq_change *const *x = a, *const *y = b;
	size_t l = (*x)->len < (*y)->len ? (*x)->len : (*y)->len;
	int c = memcmp((*x)->name, (*y)->name, l);

	if (!c && (*x)->len != (*y)->len)
		c = (*x)->len < (*y)->len ? -1 : 1;
	return c ? c : *x < *y ? -1 : *x > *y;
}

/* Finds every change that appears again later (a rework) by sorting. */
static int sq_reworks(struct rip_layout_reader *r, struct sq_plan *pl)
{
	const struct sq_change **by = rip_xcalloc(pl->n + 1,
		sizeof(const struct sq_change *));
	int rc = 0;

	for (size_t i = 0; i < pl->n; i++)
		by[i] = &pl->v[i];
	if (pl->n > 1)
		qsort(by, pl->n, sizeof(const struct sq_change *), cmp_change);
	for (size_t i = 1; i < pl->n; i++) {
		if (by[i - 1]->len != by[i]->len ||
		    memcmp(by[i - 1]->name, by[i]->name, by[i]->len))
			continue;
		if ((rc = sq_rework(r, pl, (size_t)(by[i - 1] - pl->v),
				(size_t)(by[i] - pl->v))) < 0)
			goto done;
	}
done:
	free(by);
	return rc;
}

/* Change i of the plan: version "%04zu" of its position; its scripts. */
static int sq_scripts(struct rip_layout_reader *r, const struct sq_plan *pl,
	size_t i)
{
	static const char *const dirs[] = { "deploy", "revert", "verify" };
	const struct sq_change *c = &pl->v[i];
	struct rip_migration *mg = rip_migrations_add(r->out);
	struct rip_sql *slot[] = { &mg->up, &mg->down, &mg->verify };
	int rc = 0;

	mg->version = rip_xasprintf("%04zu", i + 1);
	mg->name = rip_xstrndup(c->name, c->len);
	mg->id = rip_xasprintf("%s_%s", mg->version, mg->name);
	for (size_t k = 0; k < RIP_ARRAY_SIZE(dirs) && !rc; k++) {
		char *p = rip_xasprintf("%s/%s%.*s.sql", dirs[k], mg->name,
			(int)c->taglen, c->tag ? c->tag : "");
		const struct rip_layout_file *f = rip_layout_find_file(r, p);

		if (f) {
			r->used[f - r->files] = true;
			rip_layout_set_sql(r, slot[k], f, rip_layout_fdata(f),
				f->len);
		} else if (k == 0) {
			rc = rip_err_set(r->err, RIP_ECONFIG, "%s:%zu: change '%s' "
				"has no deploy script (expected %s%s)", pl->file,
				c->line, mg->name, r->pre, p);
		}
		free(p);
	}
	return rc;
}

/*
 * Whether the script of kind k (0 deploy, 1 revert, 2 verify) of mg is
 * missing: a stray script may be meant for it.
 */
static bool sq_lacks(const struct rip_migration *mg, size_t k)
{
	return k == 1 ? !mg->down.text : k == 2 ? !mg->verify.text : false;
}

static const char *const sq_dirs[] = { "deploy", "revert", "verify" };

/* Whether a and b hold the same letters (a transposition apart, say). */
static bool same_letters(const char *a, const char *b)
{
	int count[256] = { 0 };

	for (; *a; a++)
		count[(unsigned char)*a]++;
	for (; *b; b++)
		count[(unsigned char)*b]--;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(count); i++)
		if (count[i])
			return false;
	return true;
}

/*
 * Which of sq_dirs p's top folder is, but for case, one edit or two
 * letters swapped (Revert, reverts, deplyo; not report); or NULL.
 */
static const char *sq_dir(const char *p)
{
	const char *slash = strchr(p, '/');
	size_t tl = slash ? (size_t)(slash - p) : 0;
	char top[16];

	if (!tl || tl >= sizeof(top))
		return NULL;
	for (size_t i = 0; i < tl; i++)
		top[i] = (char)tolower((unsigned char)p[i]);
	top[tl] = '\0';
	for (size_t k = 0; k < RIP_ARRAY_SIZE(sq_dirs); k++) {
		size_t d = rip_edit_distance(top, sq_dirs[k]);

		if (d <= 1 || (d == 2 && same_letters(top, sq_dirs[k])))
			return sq_dirs[k];
	}
	return NULL;
}

/*
 * The script a stray p was likely meant to be: its folder one of deploy/,
 * revert/, verify/ but for case or a typo, ".sql" in another case or
 * missing, and its change named exactly or, among the changes lacking
 * that kind of script, within reach of a typo. NULL (and *change NULL)
 * when none fits or that script is there already.
 */
static char *sq_fix(const struct rip_layout_reader *r, const char *p,
	const char **change)
{
	const char *dir = sq_dir(p), *rest, *dot, **names;
	char *stem, *fix = NULL;
	size_t k, n = 0;

	*change = NULL;
	if (!dir)
		return NULL;
	for (k = 0; strcmp(sq_dirs[k], dir); k++)
		;
	rest = strchr(p, '/') + 1;
	dot = strrchr(rest, '.');
	if (dot && strcasecmp(dot, ".sql"))
		return NULL;
	stem = rip_xstrndup(rest, dot ? (size_t)(dot - rest) : strlen(rest));
	names = rip_xcalloc(r->out->n + 1, sizeof(*names));
	for (size_t i = 0; i < r->out->n && !*change; i++) {
		const struct rip_migration *mg = &r->out->v[i];

		if (!strcmp(mg->name, stem))
			*change = mg->name;
		else if (sq_lacks(mg, k))
			names[n++] = mg->name;
	}
	if (!*change)
		*change = rip_suggest(stem, names, n);
	if (*change)
		fix = rip_xasprintf("%s/%s.sql", dir, *change);
	/* p itself, or a near duplicate of a script that is there */
	if (fix && (!strcmp(fix, p) || rip_layout_find_file(r, fix))) {
		free(fix);
		fix = NULL;
		*change = NULL;
	}
	free(names);
	free(stem);
	return fix;
}

static void sq_strays(const struct rip_layout_reader *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const char *p = r->files[i].path, *change, *dir;
		char *fix;

		if (r->used[i] || rip_layout_is_keep(p))
			continue;
		if ((fix = sq_fix(r, p, &change))) {
			rip_layout_warnf(r, p, "looks like a script of change "
				"'%s'; ignored (did you mean %s?)", change, fix);
			free(fix);
			continue;
		}
		/* all of sq_dirs are 6 letters long */
		dir = sq_dir(p);
		if (dir && (strncmp(p, dir, 6) || p[6] != '/'))
			rip_layout_warnf(r, p, "is not in a sqitch script folder; "
				"ignored (did you mean %s/%s?)", dir,
				strchr(p, '/') + 1);
		else if (!strncmp(p, "deploy/", 7))
			rip_layout_warnf(r, p, "is not in sqitch.plan; ignored "
				"(add its change to the plan, or remove the "
				"script)");
		else if (!strncmp(p, "revert/", 7) || !strncmp(p, "verify/", 7))
			rip_layout_warnf(r, p, "belongs to no change of "
				"sqitch.plan; ignored");
	}
}

/* Without a plan there are no changes; deploy scripts make that an error. */
static int sq_no_plan(struct rip_layout_reader *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strncmp(r->files[i].path, "deploy/", 7))
			return rip_err_set(r->err, RIP_ECONFIG, "%s%s has no "
				"sqitch.plan beside it (sqitch keeps the plan at the "
				"top of the migrations folder: check [migrations] dir)",
				r->pre, r->files[i].path);
	if (r->n)
		rip_warn("%s has no sqitch.plan; no migrations read", r->dir);
	return 0;
}

int rip_layout_sqitch_read(struct rip_layout_reader *r)
{
	const struct rip_layout_file *plan =
		rip_layout_find_file(r, "sqitch.plan");
	struct sq_plan pl = { 0 };
	int rc = 0;

	if (!plan)
		return sq_no_plan(r);
	pl.file = rip_xasprintf("%s%s", r->pre, plan->path);
	r->used = rip_xcalloc(r->n, sizeof(*r->used));
	if ((rc = sq_parse(r, &pl, plan)) < 0)
		goto done;
	if ((rc = sq_reworks(r, &pl)) < 0)
		goto done;
	for (size_t i = 0; i < pl.n; i++)
		if ((rc = sq_scripts(r, &pl, i)) < 0)
			goto done;
	sq_strays(r);
done:
	free(pl.v);
	free(pl.tags);
	free(pl.file);
	return rc;
}

/* sqitch's baseline: a change (its last instance), its id or position. */
int rip_layout_sqitch_baseline(struct rip_layout_reader *r, const char *b)
{
	for (size_t i = r->out->n; i-- > 0;) {
		const struct rip_migration *mg = &r->out->v[i];

		if (!strcmp(mg->name, b) || !strcmp(mg->id, b)) {
			r->baseline = rip_xstrdup(mg->version);
			return 0;
		}
	}
	if (b[0] && !b[strspn(b, "0123456789")]) {
		r->baseline = rip_xstrdup(b);
		return 0;
	}
	return rip_err_set(r->err, RIP_ECONFIG, "[migrations] baseline '%s' is "
		"not a change of %ssqitch.plan (name a change, or give its "
		"position in the plan, like 0012)", b, r->pre);
}
