/* SPDX-License-Identifier: MIT */
/*
 * deploy_internal.h: what the four files of plans lend each other.
 * deploy.c owns the plan and how targets move (lent to the rollback
 * planner, deploy_rollback.c); deploy_apply.c sequences an applied plan
 * and deploy_pass.c runs its passes over the targets, which share the
 * plan's reports and the preemption check.
 */
#ifndef RIPCORD_DEPLOY_INTERNAL_H
#define RIPCORD_DEPLOY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "ripcord/deploy.h"
#include "ripcord/journal.h"
#include "ripcord/target.h"

/* ---- deploy.c: the plan, where targets are, how they move ---- */

/*
 * Where each target is, read once from its current link (the truth), and
 * what the journal's newest row for it says. Planning is phase by phase
 * over these: every extract, then every switch (so targets change at
 * once), then every activate hook.
 */
struct rip_where {
	const struct rip_target *t;
	struct rip_root_state root;
	struct rip_switch last;   /* newest journal row; seq 0: none */
	char *unreach;            /* its host could not be reached: why;
				     root.current is then where the journal
				     last saw it, and root.extracted unknown */
};

/* Appends an action of kind on t (NULL: the database); copies release
 * and previous (either may be NULL). */
void rip_plan_add(struct rip_plan *p, enum rip_action_kind kind,
	const struct rip_target *t, const char *release, const char *previous);
/* Whether cfg has a database whose migrations a plan runs. */
bool rip_plan_has_migrations(const struct rip_config *cfg);
/* Fails (RIP_EUSAGE) when a name in only[0..nonly) is no target of cfg,
 * and (RIP_ECONFIG) when cfg has no target at all. */
RIP_MUST_CHECK int rip_plan_check_names(const struct rip_config *cfg,
	const char *const *only, size_t nonly, struct rip_err *err);
/* t's report in p, added (from "-" to "-") when p has none yet. */
struct rip_target_report *rip_plan_find_report(struct rip_plan *p,
	const struct rip_target *t);
/* Releases w[0..n) and frees w. */
void rip_wheres_release(struct rip_where *w, size_t n);
/*
 * Fills w[0..n) (their t set): where each target is and its newest
 * journal row. must_be_ours (a deploy): any target that cannot be read
 * stops it; else an unreachable host stands where the journal last saw
 * it (w->unreach says why).
 */
RIP_MUST_CHECK int rip_wheres_read(struct rip_where *w, size_t n,
	const struct rip_config *cfg, struct rip_store *store,
	bool must_be_ours, struct rip_err *err);
/* Adds the reports and the extracts, switches and activate hooks that
 * move every target of w[0..n) to dest[i] (NULL: leave it). */
void rip_plan_moves(struct rip_plan *p, struct rip_where *w, size_t n,
	char *const *dest);

/* ---- deploy_rollback.c: shared with the applier's downs ---- */

/* What the downs back to dest keep: dest's migrations, or for an exact
 * plan every applied migration but p->undo (ids only). */
RIP_MUST_CHECK int rip_plan_downs_keep(struct rip_migrations *keep,
	const struct rip_plan *p, struct rip_migrate *m,
	const struct rip_config *cfg, struct rip_store *store, const char *dest,
	struct rip_err *err);
/* The store's migrations the downs that keep leaves need, newest
 * release first, read only until every applied one has its source. */
RIP_MUST_CHECK int rip_plan_down_sources(struct rip_migrations *out,
	struct rip_migrate *m, const struct rip_migrations *keep,
	struct rip_store *store, const char *verify_key, struct rip_err *err);

/* ---- deploy_apply.c: shared with the passes ---- */

/* Replaces *slot (owned) with a copy of text. */
void rip_plan_set_text(char **slot, const char *text);
/* Whether a preemptible plan was asked to stop; remembers who asked in
 * p->preempted. */
bool rip_plan_asked_to_stop(struct rip_plan *p, struct rip_store *store);

/* ---- deploy_pass.c: the passes over the targets ---- */

/* The consecutive extracts of one release from action i, at once; *n:
 * how many it covered. Any failure fails the whole, naming every target. */
RIP_MUST_CHECK int rip_plan_apply_extracts(struct rip_plan *p, size_t i,
	size_t *n, const struct rip_config *cfg, struct rip_store *store,
	rip_apply_fn fn, void *data, struct rip_err *err);
/* The consecutive switches from action i as one journaled pass; *n: how
 * many it covered; *refused set when a host refused or did not sync. */
RIP_MUST_CHECK int rip_plan_apply_switches(struct rip_plan *p, size_t i,
	size_t *n, const struct rip_config *cfg, struct rip_store *store,
	rip_apply_fn fn, void *data, bool *refused, struct rip_err *err);
/* The consecutive activate hooks from action i, at once; returns how
 * many actions it covered; *failed set when one failed. */
size_t rip_plan_apply_activates(struct rip_plan *p, size_t i,
	const struct rip_config *cfg, struct rip_store *store, rip_apply_fn fn,
	void *data, bool *failed);
/* The consecutive probes from action i, at once; returns how many
 * actions it covered; *failed set when one failed. */
size_t rip_plan_apply_probes(struct rip_plan *p, size_t i,
	const struct rip_config *cfg, rip_apply_fn fn, void *data,
	bool *failed);

#endif
