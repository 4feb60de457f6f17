/* SPDX-License-Identifier: MIT */
/*
 * rollout.h: staged canary rollouts (DESIGN.md §2 `rollout`, §3 [rollout]).
 *
 * A rollout moves the targets to a release step by step: each step
 * switches more targets (the deploy machinery), then bakes: every
 * probe_interval it probes every target at once and judges the canaries
 * (the switched targets) by the gates, against the baseline (the others)
 * when compare_baseline is on. A step that passes is promoted; a gate that
 * fails aborts: every target back to the previous release, then the
 * release's downs, then a probe of every target. A gate that cannot judge
 * pauses the rollout (or aborts or passes it: [rollout] inconclusive).
 *
 * The rollout's record in state.db (table rollouts) is the truth that
 * other processes read and steer: `rollout status` shows it, `rollout
 * abort` asks the running process through it, `rollback` preempts it, and
 * `rollout resume` picks up a rollout whose process died. Every step
 * transition is written before it acts. The process that runs a rollout
 * holds the store lock only while it switches targets, so a rollback is
 * never kept waiting by a bake.
 */
#ifndef RIPCORD_ROLLOUT_H
#define RIPCORD_ROLLOUT_H

#include <signal.h>

#include "ripcord/deploy.h"
#include "ripcord/stats.h"

/* How long `rollback` waits for a preempted rollout to leave the lock. */
#define RIP_ROLLOUT_PREEMPT_WAIT_MS 120000
/* The weight hook's timeout. */
#define RIP_ROLLOUT_WEIGHT_TIMEOUT_MS 60000

/* What the newest round of a step saw, as status shows it. */
struct rip_rollout_figures {
	size_t canary_n, canary_errors;
	size_t baseline_n, baseline_errors;
	double canary_p99_ms;     /* NAN: no successful probe */
	double baseline_p99_ms;
	const char *verdict;      /* "pass", "fail", "inconclusive" */
	char message[512];
};

/* One row of the rollouts table. */
struct rip_rollout_rec {
	int64_t seq;              /* 0: none */
	char *release;
	char *previous;           /* what every target ran before */
	char *state;              /* running, paused, aborting, aborted,
				     completed, preempted */
	char *phase;              /* switching, baking, baked, failed */
	char *request;            /* NULL, or "abort" from another process */
	char *reason;             /* why it paused, aborted or was preempted */
	size_t step;              /* 1-based: the step being run or just run */
	size_t nsteps;
	size_t *counts;           /* targets switched after each step */
	double *percents;         /* each step's percentage */
	uint64_t bake_ms;
	bool manual;
	int64_t pid;
	char *host;
	int64_t started, step_started, updated, finished;
	char *figures;            /* JSON of the newest round, or NULL; once
				     a gate paused or aborted the rollout also
				     "gate" and "target", and after an abort
				     "undone": {summary, targets, downs} */
	char *applied;            /* the ups this rollout applied, comma
				     separated in the order they ran ("": none);
				     its abort undoes these and nothing else.
				     NULL: recorded before state.db schema 7 */
};

void rip_rollout_rec_release(struct rip_rollout_rec *r);

/* The unfinished rollout (state running, paused or aborting); seq 0: none. */
RIP_MUST_CHECK int rip_rollout_current(struct rip_rollout_rec *out,
	struct rip_state *st, struct rip_err *err);
/* The newest rollout, finished or not; seq 0: none ever. */
RIP_MUST_CHECK int rip_rollout_last(struct rip_rollout_rec *out,
	struct rip_state *st, struct rip_err *err);
/*
 * Every aborted rollout, oldest first: the aborts ledger. Their figures
 * say the gate that fired, its numbers and what the abort undid (see
 * figures). Free *out with rip_rollout_recs_free; on failure it is NULL.
 */
RIP_MUST_CHECK int rip_rollout_aborts(struct rip_rollout_rec **out,
	size_t *n, struct rip_state *st, struct rip_err *err);
void rip_rollout_recs_free(struct rip_rollout_rec *v, size_t n);
/* When the first rollout after seq (of any state) started; 0: none yet. */
RIP_MUST_CHECK int rip_rollout_next_start(int64_t *out, struct rip_state *st,
	int64_t seq, struct rip_err *err);
/* Whether r's process runs (on this host): false for a paused rollout
 * and for one whose process died. */
bool rip_rollout_alive(const struct rip_rollout_rec *r);

/*
 * Called by deploy and rollout start before they plan: RIP_EBUSY naming
 * the rollout when one runs or is paused, RIP_EINTR when its process
 * died (resume or abort it first), else 0.
 */
RIP_MUST_CHECK int rip_rollout_busy(struct rip_store *store,
	struct rip_err *err);

/*
 * Called by rollback before it takes the lock: marks the unfinished
 * rollout, if any, preempted by `by`, so its process stops at its next
 * round. *pid is that process when it is alive (the caller then waits for
 * the lock), else 0.
 */
RIP_MUST_CHECK int rip_rollout_preempt(int64_t *pid, struct rip_store *store,
	const char *by, struct rip_err *err);

enum rip_rollout_ev {
	RIP_RO_START,             /* ro set */
	RIP_RO_STEP,              /* a step begins: ro->step */
	RIP_RO_ACTION,            /* an action of a switch or of the abort */
	RIP_RO_ROUND,             /* a probe round was judged */
	RIP_RO_PROMOTED,          /* ro->step passed; the next begins */
	RIP_RO_PAUSED,            /* message: why; gate when a gate paused
				     it (ro->phase "failed" or
				     "inconclusive") */
	RIP_RO_ABORTING,          /* gate, target, message */
	RIP_RO_ABORTED,           /* plan: the rollback's; ok */
	RIP_RO_PREEMPTED,         /* message: by whom */
	RIP_RO_COMPLETE,
	RIP_RO_HELD,              /* step 1 held back contract ups: message
				     (the plan's held_note), detail (ids,
				     comma separated) */
	RIP_RO_CONTRACT,          /* after RIP_RO_COMPLETE, auto_contract:
				     message; detail: the contract ups run
				     (NULL: none); rc < 0 when one failed */
};

struct rip_rollout_event {
	enum rip_rollout_ev kind;
	const struct rip_rollout_rec *ro;
	/* RIP_RO_ROUND */
	const struct rip_rollout_figures *fig;
	uint64_t elapsed_ms, left_ms;
	size_t rounds;
	/* RIP_RO_ACTION */
	const struct rip_action *action;
	int rc;
	const char *detail;
	/* RIP_RO_ABORTING, RIP_RO_PAUSED */
	const char *gate;         /* "error_rate", "p99", "baseline_errors",
				     "baseline_latency", "failure_threshold",
				     "samples", "gate_command", "gate_query",
				     "weight_hook", "switch", "yanked", "signal",
				     "abort" */
	const char *target;       /* the worst canary, or NULL */
	const char *message;
	/* RIP_RO_ABORTED */
	const struct rip_plan *plan;
	bool ok;
	double seconds;           /* RIP_RO_COMPLETE: since start */
};

typedef void (*rip_rollout_fn)(void *data, const struct rip_rollout_event *e);

/* What an abort does with the schema (plan_schema.h). */
enum rip_abort_schema {
	RIP_ABORT_SCHEMA_CONFIG,  /* [rollback] abort_schema */
	RIP_ABORT_SCHEMA_KEEP,    /* --keep-schema: code back, schema kept */
	RIP_ABORT_SCHEMA_DOWN,    /* --schema-down: the rollout's ups undone */
};

struct rip_rollout_opts {
	const struct rip_steps *steps;   /* NULL: [rollout] steps */
	uint64_t bake_ms;
	bool bake_set;                   /* bake_ms overrides [rollout] bake */
	bool manual;                     /* pause after each step */
	/* set by the caller's SIGINT/SIGTERM handler to the signal number:
	 * the rollout aborts at once (or pauses, auto_rollback = no) */
	volatile sig_atomic_t *stop;
	/* an abort by this process, automatic or asked, and one asked of
	 * the process running the rollout (rip_rollout_abort passes them in
	 * its request): keep or down; and whether a down that loses data (a
	 * contract migration run by hand) may run */
	enum rip_abort_schema abort_schema;
	bool accept_data_loss;
	rip_rollout_fn fn;
	void *data;
};

/*
 * Starts a rollout of id and runs it in this process until it completes
 * (0), pauses after a step that passed in manual mode (0), or is aborted,
 * paused by a failed gate or preempted (RIP_EFAIL, err says why). Refused
 * before anything changes: RIP_EFAIL when require_drill is on and id's
 * drill has not passed or the targets do not all run one release,
 * RIP_ECONFIG for a target without health URL or bad steps, RIP_EBUSY when
 * another rollout is unfinished, RIP_EINTR when one was interrupted.
 */
RIP_MUST_CHECK int rip_rollout_start(const struct rip_config *cfg,
	struct rip_store *store, const char *id,
	const struct rip_rollout_opts *o, struct rip_err *err);

/* Runs the next step of a paused rollout; returns as rip_rollout_start. */
RIP_MUST_CHECK int rip_rollout_promote(const struct rip_config *cfg,
	struct rip_store *store, const struct rip_rollout_opts *o,
	struct rip_err *err);

/* Re-runs the interrupted step of a rollout whose process died, from its
 * start, and goes on; finishes an interrupted abort. */
RIP_MUST_CHECK int rip_rollout_resume(const struct rip_config *cfg,
	struct rip_store *store, const struct rip_rollout_opts *o,
	struct rip_err *err);

/*
 * Aborts the unfinished rollout: a running one is asked through state.db
 * (the request carries o's abort_schema and accept_data_loss) and this
 * waits until its process has finished the abort; a paused or
 * interrupted one is aborted here. 0 when every target is back and
 * healthy, RIP_EFAIL when the abort's rollback failed or there is no
 * rollout, or, changing nothing, when aborting here would run downs that
 * lose data (plan_schema.h) without o->accept_data_loss. An automatic
 * abort in that case keeps the schema instead.
 */
RIP_MUST_CHECK int rip_rollout_abort(const struct rip_config *cfg,
	struct rip_store *store, const struct rip_rollout_opts *o,
	struct rip_err *err);

#endif
