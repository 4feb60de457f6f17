/* SPDX-License-Identifier: MIT */
/*
 * deploy.h: plans that change targets, and the one applier.
 *
 * Every operation that changes targets or a schema first builds a plan, a
 * list of plain actions computed from the config, the store and the real
 * state of the targets (their current links), then applies it, writing
 * each switch's intent to the journal before it acts and its result after.
 * --dry-run prints the plan and stops.
 */
#ifndef RIPCORD_DEPLOY_H
#define RIPCORD_DEPLOY_H

#include "ripcord/config.h"
#include "ripcord/migrate.h"
#include "ripcord/plan_schema.h"
#include "ripcord/store.h"

enum rip_action_kind {
	RIP_ACT_MIGRATE_UP,       /* the pending ups release carries */
	RIP_ACT_EXTRACT,          /* release onto target */
	RIP_ACT_SWITCH,           /* target's current to release */
	RIP_ACT_ACTIVATE,         /* the target's activate hook */
	RIP_ACT_MIGRATE_DOWN,     /* undo what release does not carry */
	RIP_ACT_PROBE,            /* the target's health URL */
};

struct rip_action {
	enum rip_action_kind kind;
	const struct rip_target *target;   /* NULL for migrations */
	char *release;
	char *previous;           /* SWITCH: what current pointed at */
	int64_t seq;              /* ACTIVATE owed by an earlier, interrupted
				     run: its journal row; else 0 */
};

/* What happened on one target, for the closing table. */
struct rip_target_report {
	const struct rip_target *target;
	char *from;
	char *to;
	char *activate;           /* "ok", "exit 3", "-", "stopped" (by a
				     preempting rollback), "not run" ... */
	char *health;             /* "ok 12 ms", "HTTP 500", "-" ... */
	bool failed;
	bool switched;            /* its switch in this plan was made */
	int64_t seq;              /* the journal row of its switch, once made */
	bool unsynced;            /* switched, but the link's folder could not
				     be made durable (fsync): a crash of its
				     machine may undo the switch */
	char *unreachable;        /* its host could not be reached: what ssh
				     or the wait said; its switch, if any, is
				     left pending in the journal; else NULL */
};

struct rip_plan {
	const char *op;           /* "deploy" or "rollback" */
	char *release;            /* where the targets go */
	bool resumed;             /* goes on with an interrupted rollback */
	struct rip_action *v;
	size_t n;
	size_t alloc;
	struct rip_target_report *targets;
	size_t ntargets;
	size_t migrations;        /* ups or downs the plan will run */
	bool stopped;             /* a switch, extract or migration failed
				     and stopped the plan */
	struct rip_strlist ran;   /* the ids of the ups or downs applied, in
				     order (RIP_ACT_MIGRATE_*) */
	struct rip_strlist ups;   /* deploy: the pending ups it will run,
				     known before any runs */
	struct rip_strlist held;  /* deploy: the pending contract ups it
				     holds back for `migrate contract` */
	char *held_note;          /* deploy: held in words ("held back:
				     0007_drop_mail (contract): run ..."),
				     else NULL */
	bool exact;               /* the downs undo exactly undo, no more */
	struct rip_strlist undo;
	char *ahead;              /* deploy: the schema is ahead of the
				     release, in words; else NULL */
	bool preemptible;         /* in: a rollback may stop this plan (a
				     deploy holding the lock with
				     rip_lock_acquire_preemptible) */
	char *preempted;          /* out: who stopped it, or NULL */
	struct rip_migrations downs;  /* rollback: the downs it will run,
					 newest first, as planned (id,
					 version, name, down script) */
	struct rip_plan_schema schema;  /* rollback: what it does with the
					    schema (plan_schema.h); set
					    schema.accept_data_loss before
					    applying a lossy one */
	rip_migrate_step_fn on_step;  /* set by the caller: told of each up
					 or down as it runs (rc 1 before it,
					 then 0 or < 0); may be NULL */
	void *step_data;
};

void rip_plan_release(struct rip_plan *p);
/* "migrate up", "extract", "switch", ...: an action kind as printed. */
const char *rip_action_name(enum rip_action_kind kind);
/* One line per target it could not reach ("web-2: UNREACHABLE: <why>;
 * the journal last saw it on v1"), then one per action, for --dry-run. */
void rip_plan_format(struct rip_buf *out, const struct rip_plan *p);

/*
 * Plans a deploy of release id to the targets named in only[0..nonly)
 * (every target when nonly is 0): expand ups first (pending contract ups
 * are held back: out->held, out->held_note), then per target extract when
 * needed, switch when not already there, activate. The release must
 * verify; a root that is not ours is refused while planning. Whether the
 * release may be deployed at all (yanked, a failed drill) is
 * rip_deploy_admit's call, made before. When the
 * database holds migrations the release does not carry (an older
 * release), out->ahead says so and it is warned about before anything
 * acts; those migrations stay.
 */
RIP_MUST_CHECK int rip_plan_deploy(struct rip_plan *out,
	const struct rip_config *cfg, struct rip_store *store, const char *id,
	const char *const *only, size_t nonly, struct rip_err *err);

/*
 * Ends p with one probe of every target of p that has a health URL, all
 * at once (the closing table's HEALTH): a rollback always, a deploy from
 * the command line (a rollout's steps judge health their own way).
 */
void rip_plan_add_probes(struct rip_plan *p);

/*
 * The release a rollback of target t would go back to: the newest release
 * in its journal history other than current (what its current link points
 * at, NULL for nothing), a switch to current still pending counting as
 * made (its answer was lost). *out is NULL when there is none.
 */
RIP_MUST_CHECK int rip_rollback_target(char **out, struct rip_store *store,
	const struct rip_target *t, const char *current, struct rip_err *err);

/*
 * Plans a rollback of every target to to (or, when NULL, to the release it
 * ran before its current one, by the journal): switch back (re-extracting
 * a pruned release), activate, then the downs (unless keep_schema), then a
 * probe of every target with a health URL. Refuses when targets would go
 * to different releases and to is NULL, when one has nothing to go back
 * to, or when a down is impossible (irreversible, baseline). out->schema
 * says what it does with the schema: with keep_schema, the migrations
 * kept (nothing lost); else what the downs of contract migrations that
 * ran cannot bring back, which rip_plan_apply refuses unless
 * out->schema.accept_data_loss.
 */
RIP_MUST_CHECK int rip_plan_rollback(struct rip_plan *out,
	const struct rip_config *cfg, struct rip_store *store, const char *to,
	bool keep_schema, struct rip_err *err);

/*
 * What an applied plan did, in words that match the facts: "switched
 * back: 4/4; downs run: 1 (0005_gift); probe failed on web-3: connection
 * refused (http://...)" (deploy: "switched", "ups run").
 */
void rip_plan_summary(struct rip_buf *out, const struct rip_plan *p);

/* Whether every target of an applied plan is on its release (a target
 * left unreachable, refused or not reached is not). */
bool rip_plan_reached_all(const struct rip_plan *p);

/*
 * As rip_plan_rollback, but the downs undo exactly the migrations in
 * undo (comma separated ids, as a rollout records the ups it applied),
 * those still applied, newest first, and nothing else: a rollout's abort
 * restores the schema it started from, even when that was ahead of to.
 */
RIP_MUST_CHECK int rip_plan_rollback_exact(struct rip_plan *out,
	const struct rip_config *cfg, struct rip_store *store, const char *to,
	const char *undo, struct rip_err *err);

/* Called after each action with its outcome (rc), for progress output. */
typedef void (*rip_apply_fn)(void *data, const struct rip_action *a,
	int rc, const char *detail);

/*
 * Applies p in order. A rollback whose downs lose data (p->schema) is
 * refused first, changing nothing and recording no operation, unless
 * p->schema.accept_data_loss (rip_schema_refuse_loss). A failed switch, extract or migration stops the
 * plan (RIP_EFAIL, err says which action and target) and every target
 * whose switch was not made is reported unchanged (to = from, failed);
 * a failed activate
 * hook or probe is recorded in the target's report and the plan goes on,
 * returning RIP_EFAIL at the end, so a rollback never stops halfway.
 *
 * A preemptible plan asked to stop (rip_lock_stop_request) stops at its
 * next safe point: before the extracts, before its ups and between two of
 * them, before the switches (never inside their pass), before the
 * activate hooks and between them; a local activate hook running then is
 * ended (SIGTERM to its process group, SIGKILL 2 s later), one on a host
 * runs to its end. It returns RIP_EINTR, err saying who asked and where it
 * stopped; the operation's record ends "preempted: " and the same words.
 */
RIP_MUST_CHECK int rip_plan_apply(struct rip_plan *p,
	const struct rip_config *cfg, struct rip_store *store,
	rip_apply_fn fn, void *data, struct rip_err *err);

#endif
