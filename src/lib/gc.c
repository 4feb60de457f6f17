/* SPDX-License-Identifier: MIT */
/*
 * gc.c: planning what gc deletes: releases beyond keep, never inside the
 * rollback window (gc.h), and the plan of releases rm. The planner reads
 * and verifies and never writes; the applier (gc_apply.c) deletes
 * exactly what the plan lists, so the seam is the plan itself. Tuned for
 * never deleting the wrong thing, not for speed: every artifact of the
 * store is read and verified on every run, because "good" is what
 * decides which releases count.
 *
 * The rules (DESIGN.md §5). Releases are ordered as state.db recorded
 * them (cut order). A release is kept when any of these holds, and every
 * one that holds is reported:
 *
 *  - it runs on a target: the target's current link points at it (the
 *    link is the truth, not the journal);
 *  - it is a target's rollback target (rip_rollback_target, given the real
 *    current; for a target whose root is missing, what it ran last);
 *  - it is among the keep newest good releases. Good: its artifact
 *    verifies (digest against state.db, signature with verify_key, every
 *    file). A failed or unverified release takes no slot. keep = 0 still
 *    keeps the newest good one: gc never deletes the only good release;
 *  - it is within keep of what runs: among the keep newest good releases
 *    at or before a release that runs, for every release that runs, so
 *    targets on different releases (a partial deploy) each keep their
 *    window, the oldest one's included;
 *  - it was cut after every release that runs (not deployed yet);
 *  - it is the newest release whose last drill passed.
 *
 * gc refuses to plan at all (RIP_EINTR) while the journal holds a switch
 * still 'pending' or an operation never finished: a process died in a
 * deploy or rollback, what runs is in doubt, and rerunning it converges.
 *
 * On each target, releases/<id> goes unless id is kept by the rules above
 * (one kept set for all targets, so a rollback to any kept release stays
 * a symlink switch everywhere) or some target runs it or would roll back
 * to it, even when the store no longer records it; the target's own
 * current is never removed (rip_root_remove refuses it too). Folders of
 * releases the store no longer records are otherwise deleted, and so are
 * dot-folders (.<id>.tmp-XXXXXX of an extraction that was killed: under
 * the store lock no extraction is running). A root that does not exist is
 * skipped. Nothing in a root but releases/'s folders is ever looked at.
 *
 * A kept release whose artifact is missing or damaged keeps its row and
 * is reported: it may be the only record of a rollback target, and cut
 * rebuilds the artifact from its commit, proven identical by that row.
 *
 * Crashes: the order the applier deletes in, and how the next gc
 * finishes what a killed one left, are in gc_apply.c.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ripcord/deploy.h"
#include "ripcord/drill.h"
#include "ripcord/fsutil.h"
#include "ripcord/gc.h"
#include "ripcord/journal.h"
#include "ripcord/log.h"
#include "ripcord/release.h"
#include "ripcord/site.h"
#include "ripcord/target.h"
#include "banned.h"

/* What the planner learnt about one release of the store. */
struct rel {
	bool good;
	char *problem;        /* why it does not verify */
	bool newest;          /* RIP_GC_NEWEST */
	const char *near;     /* RIP_GC_NEAR: a release that runs (borrowed) */
	bool undeployed;      /* RIP_GC_UNDEPLOYED */
	bool drilled;         /* RIP_GC_DRILLED */
};

/* What it read under one target's releases/. */
struct site {
	struct rip_root_state root;
	struct rip_strlist dirs;      /* extracted ids that are folders */
	struct rip_strlist partial;   /* dot-folders */
};

struct gc {
	const struct rip_config *cfg;
	struct rip_store *store;
	struct rip_gc_plan *p;
	struct rip_release_rec *recs; /* oldest first */
	size_t n;
	struct rel *rel;              /* one per recs[i] */
	struct site *sites;           /* one per cfg->targets[i] */
	struct rip_site *hosts;       /* the same, read through remote.h:
					 used for the remote targets */
	struct rip_gc_items gone;     /* store releases to delete, oldest
					 first: appended after the folders */
};

/* ---- plan memory ------------------------------------------------------- */

static void item_release(struct rip_gc_item *it)
{
	for (size_t i = 0; i < it->nwhy; i++)
		free(it->why[i].release);
	free(it->why);
	free(it->id);
	free(it->path);
	free(it->problem);
	free(it->error);
	memset(it, 0, sizeof(*it));
}

static void items_release(struct rip_gc_items *l)
{
	for (size_t i = 0; i < l->n; i++)
		item_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void rip_gc_plan_release(struct rip_gc_plan *p)
{
	for (size_t i = 0; i < p->ntargets; i++) {
		free(p->targets[i].current);
		free(p->targets[i].rollback);
	}
	free(p->targets);
	items_release(&p->deleted);
	items_release(&p->kept);
	rip_strlist_release(&p->warnings);
	memset(p, 0, sizeof(*p));
}

/* A new item; path is handed over. */
static struct rip_gc_item item_new(enum rip_gc_kind kind,
	const struct rip_target *t, const char *id, char *path)
{
	struct rip_gc_item it;

	memset(&it, 0, sizeof(it));
	it.kind = kind;
	it.target = t;
	it.id = rip_xstrdup(id);
	it.path = path;
	return it;
}

/* Moves it to the end of l; returns where it now lives. */
static struct rip_gc_item *item_push(struct rip_gc_items *l,
	const struct rip_gc_item *it)
{
	RIP_ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n] = *it;
	return &l->v[l->n++];
}

static void warn(struct rip_gc_plan *p, const char *fmt, ...)
	RIP_PRINTF(2, 3);

static void warn(struct rip_gc_plan *p, const char *fmt, ...)
{
	struct rip_buf msg = RIP_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rip_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	rip_strlist_push(&p->warnings, msg.buf);
	rip_buf_release(&msg);
}

static void gc_release(struct gc *g)
{
	for (size_t i = 0; g->rel && i < g->n; i++)
		free(g->rel[i].problem);
	free(g->rel);
	for (size_t i = 0; g->sites && i < g->cfg->n_targets; i++) {
		rip_root_state_release(&g->sites[i].root);
		rip_strlist_release(&g->sites[i].dirs);
		rip_strlist_release(&g->sites[i].partial);
	}
	free(g->sites);
	rip_sites_free(g->hosts, g->cfg->n_targets);
	rip_release_recs_free(g->recs, g->n);
	items_release(&g->gone);
}

/* ---- sizes and removal of trees ---------------------------------------- */

/* nftw has no user pointer; gc runs under the store lock, one at a time
 * per process, and the thread-local keeps it honest anyway. */
static _Thread_local uint64_t walk_bytes;

static int add_size(const char *p, const struct stat *sb, int flag,
	struct FTW *ftw)
{
	(void)p;
	(void)ftw;
	if (flag == FTW_F && sb->st_size > 0)
		walk_bytes += (uint64_t)sb->st_size;
	return 0;
}

/* The sizes of the regular files below dir, never following links. */
static uint64_t tree_bytes(const char *dir)
{
	walk_bytes = 0;
	/* an unreadable corner only makes the estimate smaller */
	(void)nftw(dir, add_size, 16, FTW_PHYS);
	return walk_bytes;
}

static uint64_t file_bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size :
		0;
}

/* ---- reading the world ------------------------------------------------- */

/*
 * A pending switch or an unfinished operation means a process died in a
 * deploy or rollback: what runs, and what a rerun will need, is in doubt.
 */
static int refuse_interrupted(struct rip_store *store, struct rip_err *err)
{
	struct rip_switches pend;
	struct rip_op op;
	int rc;

	if ((rc = rip_journal_pending(&pend, store->state, err)) < 0)
		return rc;
	if (pend.n) {
		const struct rip_switch *w = &pend.v[0];

		rc = rip_err_set(err, RIP_EINTR, "target '%s' has an interrupted "
			"switch to '%s' (%s, journal row %lld): rerun '%s%s' first, "
			"then gc", w->target, w->release, w->op, (long long)w->seq,
			strcmp(w->op, "rollback") ? "ripcord deploy " :
			"ripcord rollback", strcmp(w->op, "rollback") ? w->release :
			"");
		rip_switches_release(&pend);
		return rc;
	}
	rip_switches_release(&pend);
	if ((rc = rip_op_unfinished(&op, store->state, err)) < 0)
		return rc;
	if (op.seq)
		rc = rip_err_set(err, RIP_EINTR, "a %s to '%s' was interrupted "
			"(operation %lld): rerun '%s%s' first, then gc", op.op,
			op.release ? op.release : "?", (long long)op.seq,
			strcmp(op.op, "rollback") ? "ripcord deploy " :
			"ripcord rollback", strcmp(op.op, "rollback") && op.release ?
			op.release : "");
	rip_op_release(&op);
	return rc;
}

/* Folders under <root>/releases/: release ids into dirs, extractions'
 * temporary folders (rip_root_temp_name) into partial. Files, links and
 * other names (another dot-folder: someone's .keep-me) are not ours to
 * judge. */
static int scan_releases(struct site *s, const char *root,
	struct rip_err *err)
{
	char *dir = rip_path_join(root, "releases");
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		int rc = errno == ENOENT ? 0 : rip_err_errno(err, RIP_EIO,
			"cannot read '%s'", dir);

		free(dir);
		return rc;
	}
	while ((e = readdir(d))) {
		char *path;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path = rip_path_join(dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (rip_root_temp_name(e->d_name))
				rip_strlist_push(&s->partial, e->d_name);
			else if (rip_strlist_has(&s->root.extracted, e->d_name))
				rip_strlist_push(&s->dirs, e->d_name);
		}
		free(path);
	}
	closedir(d);
	free(dir);
	return 0;
}

static int read_target(struct gc *g, size_t i, struct rip_err *err)
{
	const struct rip_target *t = &g->cfg->targets[i];
	struct rip_gc_target *pt = &g->p->targets[i];
	struct site *s = &g->sites[i];
	struct stat st;

	pt->target = t;
	if (rip_target_remote(t)) {
		struct rip_site *h = &g->hosts[i];

		/* what a host runs must be known before anything goes */
		if (h->rc < 0) {
			*err = h->err;
			return rip_err_prefix(err, "gc needs every host, nothing was "
				"deleted");
		}
		s->root = h->root;
		memset(&h->root, 0, sizeof(h->root));
		for (size_t k = 0; k < s->root.extracted.n; k++)
			rip_strlist_push(&s->dirs, s->root.extracted.v[k]);
	} else if (lstat(t->root, &st) < 0 && errno == ENOENT) {
		pt->skipped = true;
		warn(g->p, "target '%s': root '%s' does not exist: skipped (what "
			"the journal says it ran last stays kept)", t->name,
			t->root);
	} else if (rip_root_inspect(&s->root, t->root, err) < 0 ||
		   scan_releases(s, t->root, err) < 0) {
		return rip_err_prefix(err, "target '%s'", t->name);
	}
	if (s->root.current)
		pt->current = rip_xstrdup(s->root.current);
	if (rip_rollback_target(&pt->rollback, g->store, t, pt->current,
			err) < 0)
		return rip_err_prefix(err, "target '%s'", t->name);
	return 0;
}

static ssize_t index_of(const struct gc *g, const char *id)
{
	return rip_release_index(g->recs, g->n, id);
}

static bool runs_anywhere(const struct gc *g, const char *id)
{
	for (size_t i = 0; i < g->p->ntargets; i++)
		if (g->p->targets[i].current &&
		    !strcmp(g->p->targets[i].current, id))
			return true;
	return false;
}

static void verify_all(struct gc *g)
{
	for (size_t i = 0; i < g->n; i++) {
		struct rip_verify_result vr;
		struct rip_err e = { 0 };

		g->rel[i].good = rip_verify_release(&vr, g->store, g->recs[i].id,
			g->cfg->package.verify_key, &e) == 0;
		if (!g->rel[i].good)
			g->rel[i].problem = rip_xstrdup(e.msg[0] ? e.msg :
				"does not verify");
		rip_verify_result_release(&vr);
	}
}

/* ---- the rules --------------------------------------------------------- */

/* The keep newest good releases; at least one, so the only good release
 * is never deleted, whatever keep says. */
static void mark_newest(struct gc *g)
{
	uint64_t slots = g->cfg->project.keep ? g->cfg->project.keep : 1;
	uint64_t taken = 0;

	for (size_t i = g->n; i-- > 0 && taken < slots; )
		if (g->rel[i].good) {
			g->rel[i].newest = true;
			taken++;
		}
}

/* For every release that runs: the keep newest good at or before it. */
static void mark_near(struct gc *g)
{
	for (size_t r = g->n; r-- > 0; ) {
		uint64_t taken = 0;

		if (!runs_anywhere(g, g->recs[r].id))
			continue;
		for (size_t i = r + 1; i-- > 0 && taken < g->cfg->project.keep; ) {
			if (!g->rel[i].good)
				continue;
			taken++;
			if (i != r && !g->rel[i].near)
				g->rel[i].near = g->recs[r].id;
		}
	}
}

/* Cut after the newest release that runs: about to be deployed. When
 * nothing of the store runs there is no "after", and this keeps nothing
 * (the newest good releases are kept anyway). */
static void mark_undeployed(struct gc *g)
{
	ssize_t newest = -1;

	for (size_t i = 0; i < g->p->ntargets; i++) {
		ssize_t k = index_of(g, g->p->targets[i].current);

		if (k > newest)
			newest = k;
	}
	for (size_t i = newest < 0 ? g->n : (size_t)newest + 1; i < g->n; i++)
		g->rel[i].undeployed = true;
}

/*
 * The newest release (in cut order) whose last drill passed is kept: it
 * is the rollback proven most recently, whatever keep says.
 */
static int protect_drill_passed(struct gc *g, struct rip_err *err)
{
	for (size_t i = g->n; i-- > 0;) {
		struct rip_drill_rec last;
		bool passed;
		int rc;

		if ((rc = rip_drill_last(&last, g->store->state, g->recs[i].id,
				false, err)) < 0)
			return rc;
		passed = last.seq && !strcmp(last.result, RIP_DRILL_PASS);
		rip_drill_rec_release(&last);
		if (passed) {
			g->rel[i].drilled = true;
			break;
		}
	}
	return 0;
}

static void reason_add(struct rip_gc_item *it, enum rip_gc_rule rule,
	const struct rip_target *t, const char *release)
{
	size_t alloc = rip_grow_alloc(it->nwhy); /* why grows only here */

	RIP_ALLOC_GROW(it->why, it->nwhy + 1, alloc);
	it->why[it->nwhy].rule = rule;
	it->why[it->nwhy].target = t;
	it->why[it->nwhy].release = release ? rip_xstrdup(release) : NULL;
	it->nwhy++;
}

/* Every reason to keep id (index k in the store, -1 when not in it). */
static void reasons(const struct gc *g, struct rip_gc_item *it, ssize_t k)
{
	for (size_t i = 0; i < g->p->ntargets; i++)
		if (g->p->targets[i].current &&
		    !strcmp(g->p->targets[i].current, it->id))
			reason_add(it, RIP_GC_RUNS, g->p->targets[i].target, NULL);
	for (size_t i = 0; i < g->p->ntargets; i++)
		if (g->p->targets[i].rollback &&
		    !strcmp(g->p->targets[i].rollback, it->id))
			reason_add(it, RIP_GC_ROLLBACK, g->p->targets[i].target,
				NULL);
	if (k < 0)
		return;
	if (g->rel[k].newest)
		reason_add(it, RIP_GC_NEWEST, NULL, NULL);
	if (g->rel[k].near)
		reason_add(it, RIP_GC_NEAR, NULL, g->rel[k].near);
	if (g->rel[k].undeployed)
		reason_add(it, RIP_GC_UNDEPLOYED, NULL, NULL);
	if (g->rel[k].drilled)
		reason_add(it, RIP_GC_DRILLED, NULL, NULL);
}

/* ---- the plan ---------------------------------------------------------- */

static uint64_t release_bytes(const char *artifact)
{
	char *sig = rip_xasprintf("%s.sig", artifact);
	uint64_t n = file_bytes(artifact) + file_bytes(sig);

	free(sig);
	return n;
}

/* Says that a kept release does not verify, and how to restore it. */
static void warn_damaged(struct gc *g, const struct rip_gc_item *it,
	const struct rip_release_rec *r)
{
	struct rip_buf why = RIP_BUF_INIT;
	struct rip_buf hint = RIP_BUF_INIT;

	rip_gc_why_format(&why, it, g->cfg->project.keep);
	if (!strstr(it->problem, "ripcord cut"))
		rip_buf_addf(&hint, " (cut can rebuild it, proven identical by "
			"its recorded sha256: ripcord cut %.12s --id %s)", r->commit,
			r->id);
	warn(g->p, "release '%s' is kept (%s) but does not verify: %s%s",
		r->id, why.buf, it->problem, hint.buf);
	rip_buf_release(&hint);
	rip_buf_release(&why);
}

/* Store releases: kept ones into the plan (newest first), the others
 * aside until the folders are planned (oldest first). */
static void plan_store(struct gc *g)
{
	for (size_t i = g->n; i-- > 0; ) {
		const struct rip_release_rec *r = &g->recs[i];
		struct rip_gc_item it = item_new(RIP_GC_RELEASE, NULL, r->id,
			rip_store_artifact_path(g->store, r->id));

		it.in_store = true;
		it.verified = g->rel[i].good;
		if (g->rel[i].problem)
			it.problem = rip_xstrdup(g->rel[i].problem);
		reasons(g, &it, (ssize_t)i);
		if (it.nwhy) {
			if (!it.verified)
				warn_damaged(g, &it, r);
			item_push(&g->p->kept, &it);
		} else {
			it.bytes = release_bytes(it.path);
			item_push(&g->gone, &it);
		}
	}
	/* newest first so far: the applier wants the oldest first */
	for (size_t i = 0; i < g->gone.n / 2; i++) {
		struct rip_gc_item tmp = g->gone.v[i];

		g->gone.v[i] = g->gone.v[g->gone.n - 1 - i];
		g->gone.v[g->gone.n - 1 - i] = tmp;
	}
}

/* One target's folders: kept with their reasons, or deleted. */
static void plan_site(struct gc *g, size_t ti)
{
	const struct rip_target *t = &g->cfg->targets[ti];
	const struct site *s = &g->sites[ti];
	char *releases = rip_path_join(t->root, "releases");

	for (size_t i = 0; i < s->dirs.n; i++) {
		ssize_t k = index_of(g, s->dirs.v[i]);
		struct rip_gc_item it = item_new(RIP_GC_FOLDER, t, s->dirs.v[i],
			rip_path_join(releases, s->dirs.v[i]));

		it.in_store = k >= 0;
		it.verified = k >= 0 && g->rel[k].good;
		reasons(g, &it, k);
		if (it.nwhy) {
			if (k < 0)
				it.problem = rip_xstrdup("not in the store");
			item_push(&g->p->kept, &it);
		} else {
			/* a host's folders are not measured: one request each */
			it.bytes = rip_target_remote(t) ? 0 : tree_bytes(it.path);
			item_push(&g->p->deleted, &it);
		}
	}
	for (size_t i = 0; i < s->partial.n; i++) {
		struct rip_gc_item it = item_new(RIP_GC_UNFINISHED, t,
			s->partial.v[i], rip_path_join(releases, s->partial.v[i]));

		it.bytes = tree_bytes(it.path);
		item_push(&g->p->deleted, &it);
	}
	free(releases);
}

/* What runs or is a rollback target but is not in the store: kept on the
 * targets that have it, and said, since rollback needs the store. */
static void warn_unrecorded(struct gc *g)
{
	for (size_t i = 0; i < g->p->ntargets; i++) {
		const struct rip_gc_target *t = &g->p->targets[i];

		if (t->current && index_of(g, t->current) < 0)
			warn(g->p, "target '%s' runs '%s', which the store does not "
				"record: its folder is kept", t->target->name,
				t->current);
		if (t->rollback && index_of(g, t->rollback) < 0)
			warn(g->p, "the rollback target of '%s', '%s', is not in the "
				"store: its folders are kept, but 'ripcord rollback' "
				"would refuse it (cut it again, or roll back --to "
				"another release)", t->target->name, t->rollback);
	}
}

static int plan_impl(struct gc *g, struct rip_err *err)
{
	struct rip_gc_plan *p = g->p;
	int rc;

	/* a lost verify_key would make every release "not good": refuse
	 * rather than judge the store by it */
	if ((rc = rip_verify_key_check(g->cfg->package.verify_key, err)) < 0 ||
	    (rc = refuse_interrupted(g->store, err)) < 0 ||
	    (rc = rip_state_release_list(&g->recs, &g->n, g->store->state,
		    err)) < 0)
		return rc;
	g->rel = rip_xcalloc(g->n + 1, sizeof(*g->rel));
	g->sites = rip_xcalloc(g->cfg->n_targets + 1, sizeof(*g->sites));
	p->targets = rip_xcalloc(g->cfg->n_targets + 1, sizeof(*p->targets));
	p->ntargets = g->cfg->n_targets;
	if (rip_config_has_remote(g->cfg))
		g->hosts = rip_sites_read_all(g->cfg, g->store);
	for (size_t i = 0; i < p->ntargets; i++)
		if ((rc = read_target(g, i, err)) < 0)
			return rc;
	verify_all(g);
	mark_newest(g);
	mark_near(g);
	mark_undeployed(g);
	if ((rc = protect_drill_passed(g, err)) < 0)
		return rc;
	plan_store(g);
	for (size_t i = 0; i < p->ntargets; i++)
		if (!p->targets[i].skipped)
			plan_site(g, i);
	warn_unrecorded(g);
	/* the store's deletions go after every folder's */
	for (size_t i = 0; i < g->gone.n; i++) {
		RIP_ALLOC_GROW(p->deleted.v, p->deleted.n + 1, p->deleted.alloc);
		p->deleted.v[p->deleted.n++] = g->gone.v[i];
	}
	g->gone.n = 0;
	for (size_t i = 0; i < p->deleted.n; i++)
		p->bytes += p->deleted.v[i].bytes;
	return 0;
}

int rip_gc_plan(struct rip_gc_plan *out, const struct rip_config *cfg,
	struct rip_store *store, struct rip_err *err)
{
	struct gc g = { .cfg = cfg, .store = store, .p = out };
	int rc;

	memset(out, 0, sizeof(*out));
	out->keep = cfg->project.keep;
	rc = plan_impl(&g, err);
	gc_release(&g);
	if (rc < 0)
		rip_gc_plan_release(out);
	return rc;
}

/* ---- one release: releases rm ----------------------------------------- */

/* The rules that hold a release against an explicit rm too; newest, not
 * deployed yet and drilled only hold it against gc's own judgement. */
static bool holds_rm(enum rip_gc_rule rule)
{
	return rule == RIP_GC_RUNS || rule == RIP_GC_ROLLBACK ||
		rule == RIP_GC_NEAR;
}

/* Moves the items of kind for release id from `from` to the end of to. */
static void take_items(struct rip_gc_items *to, struct rip_gc_items *from,
	enum rip_gc_kind kind, const char *id)
{
	size_t k = 0;

	for (size_t i = 0; i < from->n; i++) {
		struct rip_gc_item *it = &from->v[i];

		if (it->kind != kind || strcmp(it->id, id)) {
			from->v[k++] = *it;
			continue;
		}
		if (!it->bytes)
			it->bytes = kind == RIP_GC_RELEASE ?
				release_bytes(it->path) : tree_bytes(it->path);
		item_push(to, it);
	}
	from->n = k;
}

/* RIP_EFAIL naming every rule that holds release item it, if any. */
static int refuse_held(const struct rip_gc_item *it, uint64_t keep,
	struct rip_err *err)
{
	struct rip_buf why = RIP_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < it->nwhy; i++) {
		if (!holds_rm(it->why[i].rule))
			continue;
		if (why.len)
			rip_buf_adds(&why, ", ");
		rip_gc_reason_format(&why, &it->why[i], keep);
	}
	if (why.len)
		rc = rip_err_set(err, RIP_EFAIL, "cannot remove release '%s': it "
			"is kept (%s); deploy or roll back past it first (see "
			"'ripcord gc --dry-run' for every reason)", it->id, why.buf);
	rip_buf_release(&why);
	return rc;
}

int rip_gc_plan_rm(struct rip_gc_plan *out, const struct rip_config *cfg,
	struct rip_store *store, const char *id, struct rip_err *err)
{
	struct rip_gc_items mine = { 0 };
	struct rip_release_rec rec;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_release_get(&rec, store->state, id, err)) < 0)
		return rc;
	rip_release_rec_release(&rec);
	if ((rc = rip_gc_plan(out, cfg, store, err)) < 0)
		return rc;
	for (size_t i = 0; i < out->kept.n && rc == 0; i++)
		if (out->kept.v[i].kind == RIP_GC_RELEASE &&
		    !strcmp(out->kept.v[i].id, id))
			rc = refuse_held(&out->kept.v[i], out->keep, err);
	if (rc < 0) {
		rip_gc_plan_release(out);
		return rc;
	}
	/* folders first, the store's files and row last, as gc applies */
	take_items(&mine, &out->deleted, RIP_GC_FOLDER, id);
	take_items(&mine, &out->kept, RIP_GC_FOLDER, id);
	take_items(&mine, &out->deleted, RIP_GC_RELEASE, id);
	take_items(&mine, &out->kept, RIP_GC_RELEASE, id);
	items_release(&out->deleted);
	items_release(&out->kept);
	rip_strlist_release(&out->warnings);
	out->deleted = mine;
	out->bytes = 0;
	for (size_t i = 0; i < mine.n; i++)
		out->bytes += mine.v[i].bytes;
	return 0;
}
