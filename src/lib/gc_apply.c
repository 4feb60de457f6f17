/* SPDX-License-Identifier: MIT */
/*
 * gc_apply.c: carrying out a gc plan (gc.c plans it), and the words a
 * plan is shown in (rule names, reasons, causes). Nothing here decides
 * what goes: it deletes exactly what the plan lists, in an order that a
 * crash cannot turn into an artifact no row names.
 *
 * Crashes. The applier deletes target folders first (then fsyncs each
 * releases/), then, per store release, the migrations views read of it
 * (release_view.c), the signature, the artifact, an fsync of artifacts/,
 * and last the row. So the row of a release outlives
 * every file of it, and each leftover of a killed gc is still named by a
 * row or found by the scan of releases/, and the next gc finishes it:
 *
 *  - killed among the folders: rows and artifacts are intact; the half-
 *    removed folder is not current, not kept, and goes whole next time;
 *  - killed after the signature: the artifact is whole (its digest is in
 *    the row) but, with verify_key set, unsigned, so it verifies as
 *    nothing and counts toward nothing; it was beyond keep anyway;
 *  - killed after the artifact: a row without files fails verification
 *    ("recorded but missing"), so it is never mistaken for a whole release
 *    and takes no slot; the next gc deletes the row;
 *  - the row last, after the fsync: with synchronous=FULL a deleted row
 *    survives a power cut, and the fsync makes sure the unlinks did too,
 *    so no artifact is ever left that no row names (the store is found
 *    through its rows only, target folders by scanning).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ripcord/fsutil.h"
#include "ripcord/gc.h"
#include "ripcord/log.h"
#include "ripcord/release.h"
#include "ripcord/remote.h"
#include "ripcord/site.h"
#include "ripcord/state.h"
#include "ripcord/target.h"
#include "banned.h"

/* ---- names and text ---------------------------------------------------- */

static const char *const rule_names[] = {
	"runs", "rollback", "newest", "near", "undeployed", "drill",
};

const char *rip_gc_rule_name(enum rip_gc_rule rule)
{
	return rule_names[rule];
}

void rip_gc_reason_format(struct rip_buf *out, const struct rip_gc_reason *r,
	uint64_t keep)
{
	switch (r->rule) {
	case RIP_GC_RUNS:
		rip_buf_addf(out, "runs on %s", r->target->name);
		break;
	case RIP_GC_ROLLBACK:
		rip_buf_addf(out, "rollback target of %s", r->target->name);
		break;
	case RIP_GC_NEWEST:
		if (keep > 1)
			rip_buf_addf(out, "among the %llu newest good",
				(unsigned long long)keep);
		else
			rip_buf_adds(out, "the newest good");
		break;
	case RIP_GC_NEAR:
		rip_buf_addf(out, "within keep of %s, which runs", r->release);
		break;
	case RIP_GC_UNDEPLOYED:
		rip_buf_adds(out, "newer than what runs (not deployed yet)");
		break;
	case RIP_GC_DRILLED:
		rip_buf_adds(out, "the newest whose drill passed");
		break;
	}
}

void rip_gc_why_format(struct rip_buf *out, const struct rip_gc_item *it,
	uint64_t keep)
{
	for (size_t i = 0; i < it->nwhy; i++) {
		if (i)
			rip_buf_adds(out, ", ");
		rip_gc_reason_format(out, &it->why[i], keep);
	}
}

const char *rip_gc_item_cause(const struct rip_gc_item *it)
{
	if (it->kind == RIP_GC_UNFINISHED)
		return "unfinished extraction";
	return it->in_store ? "beyond keep" : "not in the store";
}

/* ---- applying ---------------------------------------------------------- */

/* A dot-folder under releases/, removed whole, never through a link
 * (target.c works below the releases/ it opened). */
static int remove_unfinished(const struct rip_gc_item *it,
	struct rip_err *err)
{
	return rip_root_remove_partial(it->target->root, it->id, err);
}

/* releases/<id> through target.c, which never removes the current one
 * (on a host, through its agent, which calls the same). */
static int remove_folder(const struct rip_gc_item *it,
	struct rip_store *store, struct rip_err *err)
{
	struct rip_remote *r;
	bool was;
	int rc;

	if (!rip_target_remote(it->target))
		rc = rip_root_remove(it->target->root, it->id, err);
	else if ((rc = rip_fleet_session(&r, store->fleet, it->target,
			err)) == 0)
		rc = rip_remote_remove(&was, r, it->target->root, it->id, err);
	if (rc < 0 && err) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		rc = rip_err_set(err, rc, "%s (fix that, then run gc again)", msg);
	}
	return rc;
}

static int unlink_if_there(const char *path, struct rip_err *err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return rip_err_errno(err, RIP_EIO, "cannot delete '%s' (check its "
			"permissions, then run gc again)", path);
	return 0;
}

/* Signature, artifact, fsync, then the row: see the header comment. */
static int remove_release(struct rip_store *store,
	const struct rip_gc_item *it, struct rip_err *err)
{
	char *sig = rip_xasprintf("%s.sig", it->path);
	int rc;

	/* what views read of it first: none may outlive the artifact */
	if ((rc = rip_release_view_forget(store, it->id, err)) == 0 &&
	    (rc = unlink_if_there(sig, err)) == 0 &&
	    (rc = unlink_if_there(it->path, err)) == 0 &&
	    (rc = rip_fsync_dir(store->artifacts, err)) == 0) {
		rc = rip_state_release_delete(store->state, it->id, err);
		if (rc == RIP_ENOTFOUND)
			rc = 0;
	}
	if (rc < 0)
		rip_err_prefix(err, "release '%s'", it->id);
	free(sig);
	return rc;
}

static void settle(struct rip_gc_plan *p, struct rip_gc_item *it, int rc,
	const struct rip_err *e, size_t *failed, struct rip_err *first)
{
	if (rc == 0) {
		it->done = true;
		p->freed += it->bytes;
		return;
	}
	it->error = rip_xstrdup(e->msg[0] ? e->msg : "failed");
	if (!(*failed)++)
		*first = *e;
}

/* Makes the removals under each target's releases/ durable. */
static int sync_sites(struct rip_gc_plan *p, struct rip_err *err)
{
	for (size_t t = 0; t < p->ntargets; t++) {
		bool any = false;
		char *dir;
		int rc;

		if (rip_target_remote(p->targets[t].target))
			continue;   /* its agent's remove made it durable */
		for (size_t i = 0; i < p->deleted.n && !any; i++)
			any = p->deleted.v[i].done &&
				p->deleted.v[i].target == p->targets[t].target;
		if (!any)
			continue;
		dir = rip_path_join(p->targets[t].target->root, "releases");
		rc = rip_fsync_dir(dir, err);
		free(dir);
		if (rc < 0)
			return rip_err_prefix(err, "target '%s' (the store was not "
				"touched; run gc again)", p->targets[t].target->name);
	}
	return 0;
}

/* Whether a folder of release id could not be removed on some target. */
static const struct rip_gc_item *blocked_by(const struct rip_gc_plan *p,
	const char *id)
{
	for (size_t i = 0; i < p->deleted.n; i++) {
		const struct rip_gc_item *f = &p->deleted.v[i];

		if (f->kind == RIP_GC_FOLDER && f->error && !strcmp(f->id, id))
			return f;
	}
	return NULL;
}

/* Whether folder id stays on target t: kept, or its removal failed. */
static bool stays_on(const struct rip_gc_plan *p,
	const struct rip_target *t, const char *id)
{
	for (size_t i = 0; i < p->deleted.n; i++) {
		const struct rip_gc_item *it = &p->deleted.v[i];

		if (it->kind == RIP_GC_FOLDER && it->target == t &&
		    !strcmp(it->id, id))
			return !it->done;
	}
	return true;
}

/*
 * Each host's artifact cache (where deploys sent releases) keeps only the
 * artifacts of the releases still extracted there, and loses what an
 * interrupted transfer or extraction left: rip_remote_clean.
 */
static void clean_hosts(struct rip_gc_plan *p, struct rip_store *store,
	size_t *failed, struct rip_err *first)
{
	for (size_t t = 0; t < p->ntargets; t++) {
		const struct rip_target *tg = p->targets[t].target;
		struct rip_strlist keep = { 0 };
		struct rip_err e = { 0 };
		struct rip_remote *r;
		size_t removed = 0;
		int rc;

		if (!rip_target_remote(tg))
			continue;
		for (size_t i = 0; i < p->kept.n; i++)
			if (p->kept.v[i].kind == RIP_GC_FOLDER &&
			    p->kept.v[i].target == tg)
				rip_strlist_push(&keep, p->kept.v[i].id);
		for (size_t i = 0; i < p->deleted.n; i++)
			if (p->deleted.v[i].kind == RIP_GC_FOLDER &&
			    p->deleted.v[i].target == tg &&
			    stays_on(p, tg, p->deleted.v[i].id))
				rip_strlist_push(&keep, p->deleted.v[i].id);
		if ((rc = rip_fleet_session(&r, store->fleet, tg, &e)) == 0)
			rc = rip_remote_clean(&removed, r, tg->root,
				(const char *const *)keep.v, keep.n, &e);
		if (rc < 0) {
			rip_err_prefix(&e, "cleaning the artifact cache of target "
				"'%s'", tg->name);
			if (!(*failed)++)
				*first = e;
		} else if (removed) {
			rip_info("%s: %zu cached artifact%s or leftover%s removed",
				tg->name, removed, removed == 1 ? "" : "s",
				removed == 1 ? "" : "s");
		}
		rip_strlist_release(&keep);
	}
}

int rip_gc_apply(struct rip_gc_plan *p, struct rip_store *store,
	rip_gc_fn fn, void *data, struct rip_err *err)
{
	struct rip_err first = { 0 };
	size_t failed = 0;
	int rc;

	p->freed = 0;
	for (size_t i = 0; i < p->deleted.n; i++) {
		struct rip_gc_item *it = &p->deleted.v[i];
		struct rip_err e = { 0 };

		if (it->kind == RIP_GC_RELEASE)
			continue;
		if (it->kind == RIP_GC_FOLDER)
			rc = remove_folder(it, store, &e);
		else
			rc = remove_unfinished(it, &e);
		if (rc < 0)
			rip_err_prefix(&e, "target '%s'", it->target->name);
		settle(p, it, rc, &e, &failed, &first);
		if (fn)
			fn(data, it);
	}
	if ((rc = sync_sites(p, err)) < 0)
		return rc;
	clean_hosts(p, store, &failed, &first);
	for (size_t i = 0; i < p->deleted.n; i++) {
		struct rip_gc_item *it = &p->deleted.v[i];
		const struct rip_gc_item *b;
		struct rip_err e = { 0 };

		if (it->kind != RIP_GC_RELEASE)
			continue;
		b = blocked_by(p, it->id);
		if (b)
			rc = rip_err_set(&e, RIP_EFAIL, "release '%s' stays in the "
				"store: its folder on '%s' could not be removed (fix "
				"that, then run gc again)", it->id, b->target->name);
		else
			rc = remove_release(store, it, &e);
		settle(p, it, rc, &e, &failed, &first);
		if (fn)
			fn(data, it);
	}
	if (failed == 1)
		return rip_err_set(err, RIP_EFAIL, "%s", first.msg);
	if (failed)
		return rip_err_set(err, RIP_EFAIL, "%zu deletions failed, the "
			"first: %s", failed, first.msg);
	return 0;
}
