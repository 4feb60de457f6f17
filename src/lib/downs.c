/* SPDX-License-Identifier: MIT */
/*
 * downs.c: what the downs of a planned rollback will do (downs.h): the
 * release of the path each came with, what each loses, and the drills
 * that ran them, read from state.db's drills.
 *
 * Tuned to stay out of the way of the rollback itself: the path's
 * releases are read oldest first and only until every down has the
 * release it came with (usually one artifact: the release just after
 * the destination), and at most RIP_DOWNS_DRILLS drills of each release
 * are looked at. Reading nothing changes anything.
 */
#include <stdlib.h>
#include <string.h>

#include "ripcord/downs.h"
#include "ripcord/lint.h"
#include "ripcord/release.h"
#include "ripcord/state.h"
#include "sqltok.h"
#include "banned.h"

/* releases followed back through their parents, at most */
#define RIP_DOWNS_PATH_MAX 64
/* drills of each release of the path looked at, newest first */
#define RIP_DOWNS_DRILLS 32
/* a statement shown, at most (bytes) */
#define RIP_DOWNS_STMT_MAX 160

void rip_downs_release(struct rip_downs *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct rip_down_note *n = &d->v[i];

		for (size_t k = 0; k < n->nloss; k++) {
			free(n->loss[k].statement);
			free(n->loss[k].why);
		}
		free(n->loss);
		free(n->release);
		rip_drill_rec_release(&n->drill);
	}
	free(d->v);
	free(d->from);
	free(d->to);
	rip_drill_rec_release(&d->path);
	memset(d, 0, sizeof(*d));
}

static void rec_copy(struct rip_drill_rec *out, const struct rip_drill_rec *r)
{
	rip_drill_rec_release(out);
	out->seq = r->seq;
	out->release = r->release ? rip_xstrdup(r->release) : NULL;
	out->started = r->started;
	out->seconds = r->seconds;
	out->result = r->result ? rip_xstrdup(r->result) : NULL;
	out->detail = r->detail ? rip_xstrdup(r->detail) : NULL;
	out->steps = NULL;        /* not needed past this file */
}

/* The statement of sql on line (its first token there), squeezed. */
static char *statement_at(const struct rip_sql *sql, int line)
{
	struct rip_buf b = RIP_BUF_INIT;
	size_t pos = 0, start, end;

	while (sql->text && rip_sql_next(sql->text, sql->len, &pos, &start,
			&end)) {
		bool blank = false;

		if (rip_sql_line(sql->text, start) != line)
			continue;
		for (size_t i = start; i < end; i++) {
			bool sp = sql->text[i] == ' ' || sql->text[i] == '\t' ||
				sql->text[i] == '\n' || sql->text[i] == '\r';

			if (!sp || !blank)
				rip_buf_addch(&b, sp ? ' ' : sql->text[i]);
			blank = sp;
		}
		break;
	}
	if (b.len > RIP_DOWNS_STMT_MAX) {
		rip_buf_setlen(&b, RIP_DOWNS_STMT_MAX - 3);
		rip_buf_adds(&b, "...");
	}
	return rip_buf_detach(&b, NULL);
}

static void read_loss(struct rip_down_note *n)
{
	struct rip_lint l = { 0 };

	rip_lint_data_loss(&l, n->mig);
	n->loss = rip_xcalloc(l.n + 1, sizeof(*n->loss));
	for (size_t i = 0; i < l.n; i++) {
		struct rip_down_loss *x = &n->loss[n->nloss++];

		x->line = l.v[i].line;
		x->statement = statement_at(&n->mig->down, l.v[i].line);
		x->why = l.v[i].message;
		l.v[i].message = NULL;
		x->rule = l.v[i].rule;
	}
	rip_lint_release(&l);
}

/*
 * The release p rolls back from: the newest (cut order) that a target of
 * p ran before it; NULL when none is a release of the store but to.
 */
static char *path_from(const struct rip_plan *p,
	const struct rip_release_rec *recs, size_t nrecs)
{
	ssize_t best = -1;

	for (size_t i = 0; i < p->ntargets; i++)
		for (size_t k = 0; k < nrecs; k++)
			if (!strcmp(recs[k].id, p->targets[i].from) &&
			    strcmp(recs[k].id, p->release) && (ssize_t)k > best)
				best = (ssize_t)k;
	return best < 0 ? NULL : rip_xstrdup(recs[best].id);
}

static const struct rip_release_rec *rec_of(const struct rip_release_rec *v,
	size_t n, const char *id, ssize_t *at)
{
	for (size_t i = 0; id && i < n; i++)
		if (!strcmp(v[i].id, id)) {
			if (at)
				*at = (ssize_t)i;
			return &v[i];
		}
	if (at)
		*at = -1;
	return NULL;
}

/*
 * The path, newest first: from, its parent, ... down to (not counting)
 * to, whose position is chain->n (it is not pushed). A parent chain that
 * never meets to stops at the first release cut before to.
 */
static void path_chain(struct rip_strlist *chain, const char *from,
	const char *to, const struct rip_release_rec *recs, size_t nrecs)
{
	ssize_t to_at;
	const char *cur = from;

	rec_of(recs, nrecs, to, &to_at);
	for (size_t k = 0; cur && k < RIP_DOWNS_PATH_MAX; k++) {
		ssize_t at;
		const struct rip_release_rec *r = rec_of(recs, nrecs, cur, &at);

		if (!r || !strcmp(cur, to) || (to_at >= 0 && at <= to_at))
			break;
		rip_strlist_push(chain, cur);
		cur = r->parent;
	}
}

/* Position of id on the path (chain; to is chain->n); -1: not on it. */
static ssize_t on_path(const struct rip_strlist *chain, const char *to,
	const char *id)
{
	if (!strcmp(id, to))
		return (ssize_t)chain->n;
	for (size_t i = 0; i < chain->n; i++)
		if (!strcmp(chain->v[i], id))
			return (ssize_t)i;
	return -1;
}

/* Each down's release: the oldest of the path that carries it. */
static void attribute(struct rip_downs *d, const struct rip_strlist *chain,
	struct rip_store *store, const char *verify_key)
{
	size_t left = d->n;

	for (size_t j = chain->n; j-- > 0 && left; ) {
		struct rip_migrations m;
		struct rip_err skip = { 0 };

		if (rip_release_migrations(&m, store, chain->v[j], verify_key,
				&skip) < 0)
			continue;
		for (size_t i = 0; i < d->n; i++)
			if (!d->v[i].release &&
			    rip_migrations_find(&m, d->v[i].mig->id)) {
				d->v[i].release = rip_xstrdup(chain->v[j]);
				left--;
			}
		rip_migrations_release(&m);
	}
}

/* Whether drill r, of the path's release at position j, started from a
 * schema before position r_at on the path (or an empty one): then it ran
 * the downs of position r_at. */
static bool ran_from_before(const struct rip_drill_rec *r,
	const struct rip_strlist *chain, const char *to, const char *parent,
	const struct rip_release_rec *recs, size_t nrecs, ssize_t r_at)
{
	struct rip_strlist from = { 0 };
	ssize_t to_cut;
	bool yes = false;

	if (!rip_drill_rec_from(&from, r))
		return false;
	if (!from.n)   /* a drill from before paths: its cut-parent */
		rip_strlist_push(&from, parent ? parent : "");
	rec_of(recs, nrecs, to, &to_cut);
	for (size_t i = 0; i < from.n && !yes; i++) {
		ssize_t at = *from.v[i] ? on_path(chain, to, from.v[i]) : -2, cut;

		if (at == -2 || at > r_at)
			yes = true;
		else if (at == -1 && rec_of(recs, nrecs, from.v[i], &cut) &&
		    to_cut >= 0 && cut < to_cut)
			yes = true;   /* cut before the destination */
	}
	rip_strlist_release(&from);
	return yes;
}

/* Whether drill r's round trip started from to (a drill from before
 * paths started from its cut-parent, parent). */
static bool started_from(const struct rip_drill_rec *r, const char *to,
	const char *parent)
{
	struct rip_strlist from = { 0 };
	bool yes = false;

	if (rip_drill_rec_from(&from, r))
		yes = from.n ? rip_strlist_has(&from, to) :
			parent && !strcmp(parent, to);
	rip_strlist_release(&from);
	return yes;
}

/* The drills of the path's releases, and what each down and the path
 * were last run by. */
static int read_drills(struct rip_downs *d, const struct rip_strlist *chain,
	struct rip_store *store, const struct rip_release_rec *recs,
	size_t nrecs, struct rip_err *err)
{
	int rc = 0;

	for (size_t j = 0; j < chain->n && rc == 0; j++) {
		const struct rip_release_rec *rel = rec_of(recs, nrecs,
			chain->v[j], NULL);
		const char *parent = rel ? rel->parent : NULL;
		struct rip_drill_rec *v;
		size_t n;

		if ((rc = rip_drill_history(&v, &n, store->state, chain->v[j],
				RIP_DOWNS_DRILLS, err)) < 0)
			break;
		for (size_t k = 0; k < n; k++) {
			/* newest first: the first that started from to */
			if (j == 0 && !d->path.seq &&
			    started_from(&v[k], d->to, parent))
				rec_copy(&d->path, &v[k]);
			for (size_t i = 0; i < d->n; i++) {
				struct rip_down_note *dn = &d->v[i];
				ssize_t r_at = dn->release ? on_path(chain, d->to,
					dn->release) : -1;

				/* a drill of a release older than the down's
				 * never carried it */
				if (r_at < 0 || (ssize_t)j > r_at ||
				    dn->drill.seq > v[k].seq)
					continue;
				if (ran_from_before(&v[k], chain, d->to, parent, recs,
						nrecs, r_at))
					rec_copy(&dn->drill, &v[k]);
			}
		}
		rip_drill_recs_free(v, n);
	}
	return rc;
}

int rip_downs_read(struct rip_downs *out, struct rip_store *store,
	const struct rip_plan *p, const char *verify_key, struct rip_err *err)
{
	struct rip_release_rec *recs = NULL;
	struct rip_strlist chain = { 0 };
	size_t nrecs = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!p->downs.n || !p->release)
		return 0;
	out->to = rip_xstrdup(p->release);
	out->v = rip_xcalloc(p->downs.n, sizeof(*out->v));
	for (size_t i = 0; i < p->downs.n; i++) {
		out->v[out->n].mig = &p->downs.v[i];
		read_loss(&out->v[out->n++]);
	}
	if ((rc = rip_state_release_list(&recs, &nrecs, store->state, err)) < 0)
		goto done;
	out->from = path_from(p, recs, nrecs);
	if (!out->from)
		goto done;
	path_chain(&chain, out->from, out->to, recs, nrecs);
	attribute(out, &chain, store, verify_key);
	rc = read_drills(out, &chain, store, recs, nrecs, err);
done:
	rip_strlist_release(&chain);
	rip_release_recs_free(recs, nrecs);
	if (rc < 0)
		rip_downs_release(out);
	return rc;
}
