/* SPDX-License-Identifier: MIT */
/*
 * gc.h: deleting releases beyond [project] keep, from the store (artifact,
 * signature, state.db row) and from every target (<root>/releases/<id>/),
 * never inside the rollback window.
 *
 * Plan, then apply, like deploy.h: rip_gc_plan reads the store, the
 * journal and the real current link of every target and writes nothing;
 * it says what it would delete and, for everything it keeps, every reason
 * it keeps it. rip_gc_apply deletes exactly what the plan says. Both are
 * called with the store lock held (rip_lock_acquire), so nothing moves in
 * between.
 */
#ifndef RIPCORD_GC_H
#define RIPCORD_GC_H

#include "ripcord/config.h"
#include "ripcord/store.h"

/* Why a release, or its folder on a target, is kept. */
enum rip_gc_rule {
	RIP_GC_RUNS,          /* a target's current link points at it */
	RIP_GC_ROLLBACK,      /* a target's rollback would go back to it */
	RIP_GC_NEWEST,        /* among the keep newest good releases */
	RIP_GC_NEAR,          /* among the keep newest good releases at or
				 before one that runs (release) */
	RIP_GC_UNDEPLOYED,    /* cut after everything that runs */
	RIP_GC_DRILLED,       /* the newest release whose drill passed */
};

struct rip_gc_reason {
	enum rip_gc_rule rule;
	const struct rip_target *target;   /* RUNS, ROLLBACK; else NULL */
	char *release;        /* NEAR: the release that runs; else NULL */
};

/* What a plan item is. */
enum rip_gc_kind {
	RIP_GC_RELEASE,       /* the store's artifact, signature and row */
	RIP_GC_FOLDER,        /* <root>/releases/<id>/ on a target */
	RIP_GC_UNFINISHED,    /* <root>/releases/.<name>: a killed extraction */
};

struct rip_gc_item {
	enum rip_gc_kind kind;
	const struct rip_target *target;   /* NULL: the store */
	char *id;             /* release id, or the dot-folder's name */
	char *path;           /* artifact, or folder */
	uint64_t bytes;       /* what deleting it frees (files' sizes) */
	bool in_store;        /* id is a release state.db records */
	bool verified;        /* RELEASE: its artifact verifies */
	char *problem;        /* why it does not verify, or is suspect */
	struct rip_gc_reason *why;   /* kept items: every reason, never 0 */
	size_t nwhy;
	bool done;            /* applied: deleted */
	char *error;          /* applied: why it could not be deleted */
};

struct rip_gc_items {
	struct rip_gc_item *v;
	size_t n;
	size_t alloc;
};

/* What gc read on one target. */
struct rip_gc_target {
	const struct rip_target *target;
	bool skipped;         /* its root does not exist */
	char *current;        /* what its current link points at; NULL none */
	char *rollback;       /* where its rollback would go; NULL none */
};

struct rip_gc_plan {
	uint64_t keep;        /* [project] keep */
	struct rip_gc_target *targets;     /* one per configured target */
	size_t ntargets;
	/* target folders first (config order), then store releases (oldest
	 * first): the order rip_gc_apply deletes in */
	struct rip_gc_items deleted;
	struct rip_gc_items kept;          /* store first, newest first */
	struct rip_strlist warnings;       /* kept things that are damaged,
					      targets skipped, ... */
	uint64_t bytes;       /* what deleting everything planned frees */
	uint64_t freed;       /* what rip_gc_apply did free */
};

void rip_gc_plan_release(struct rip_gc_plan *p);

/*
 * Plans a gc of cfg's store and targets (DESIGN.md §5): see gc.c for the
 * rules. Writes nothing. An interrupted switch or operation in the journal
 * is RIP_EINTR saying what to rerun first; a target root that is not ours
 * (current not a symlink into releases/) is RIP_ESECURITY naming it. On
 * failure *out is empty.
 */
RIP_MUST_CHECK int rip_gc_plan(struct rip_gc_plan *out,
	const struct rip_config *cfg, struct rip_store *store,
	struct rip_err *err);

/*
 * Plans deleting release id alone (ripcord releases rm): its folder on
 * every target, then its signature, artifact and row, applied by
 * rip_gc_apply. The rules are rip_gc_plan's: a release that runs, is a
 * target's rollback target or is within keep of what runs is RIP_EFAIL
 * naming each; being among the newest, not deployed yet or the newest
 * drilled holds it against gc only, not against this explicit request.
 * RIP_ENOTFOUND when the store does not record id. On failure *out is
 * empty.
 */
RIP_MUST_CHECK int rip_gc_plan_rm(struct rip_gc_plan *out,
	const struct rip_config *cfg, struct rip_store *store, const char *id,
	struct rip_err *err);

/* Called after each deletion; it->done or it->error says how it went. */
typedef void (*rip_gc_fn)(void *data, const struct rip_gc_item *it);

/*
 * Deletes what p plans, target folders first, then each store release's
 * signature, artifact and (last) row. A release whose folder on some
 * target could not be removed keeps its store row, so a later gc finds it
 * again. Goes on past a failed deletion and returns RIP_EFAIL at the end
 * naming the first; p->freed counts what was really freed.
 */
RIP_MUST_CHECK int rip_gc_apply(struct rip_gc_plan *p, struct rip_store *store,
	rip_gc_fn fn, void *data, struct rip_err *err);

/* "runs", "rollback", "newest", "near", "undeployed", "drill". */
const char *rip_gc_rule_name(enum rip_gc_rule rule);
/* "runs on web-1", "within keep of v3 (runs)", ...: appended to out. */
void rip_gc_reason_format(struct rip_buf *out, const struct rip_gc_reason *r,
	uint64_t keep);
/* Every reason of a kept item, comma separated, appended to out. */
void rip_gc_why_format(struct rip_buf *out, const struct rip_gc_item *it,
	uint64_t keep);
/* Why a deleted item goes: "beyond keep", "not in the store",
 * "unfinished extraction". */
const char *rip_gc_item_cause(const struct rip_gc_item *it);

#endif
