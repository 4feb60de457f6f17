/* SPDX-License-Identifier: MIT */
/*
 * rollout_internal.h: what rollout_rec.c (the rollouts table) lends
 * rollout.c (the engine).
 */
#ifndef RIPCORD_ROLLOUT_INTERNAL_H
#define RIPCORD_ROLLOUT_INTERNAL_H

#include "ripcord/rollout.h"

/* Inserts r (state, phase, step, lists, bake, manual set by the caller)
 * as this process's rollout; fills seq, pid, host and the times. */
RIP_MUST_CHECK int rip_rollout_insert(struct rip_rollout_rec *r,
	struct rip_state *st, struct rip_err *err);

/*
 * Writes r's mutable columns, all but request, when the row's state is
 * still expect;
 * *saved says whether it was (false: another process changed the state,
 * such as a rollback that preempted the rollout).
 */
RIP_MUST_CHECK int rip_rollout_save(struct rip_rollout_rec *r,
	const char *expect, bool *saved, struct rip_state *st,
	struct rip_err *err);

/* Makes r this process's: pid and host. */
void rip_rollout_claim(struct rip_rollout_rec *r);

/* Reads r's row again (by r->seq) into r. */
RIP_MUST_CHECK int rip_rollout_reload(struct rip_rollout_rec *r,
	struct rip_state *st, struct rip_err *err);

/* Sets the request column of an unfinished rollout ("abort"; NULL
 * clears it): the one writer of that column. */
RIP_MUST_CHECK int rip_rollout_request(struct rip_state *st, int64_t seq,
	const char *request, struct rip_err *err);

/* "a rollout of v2 is in progress (step 1/3, pid 42)", "... is paused
 * (step 2/3)", "... is interrupted (step 2/3)". */
void rip_rollout_describe(char *out, size_t len,
	const struct rip_rollout_rec *r);

/* ---- the engine, shared by rollout.c and rollout_bake.c ---- */

/* How a bake ended. */
enum rip_bake_end {
	RIP_BAKE_PASS,            /* bake elapsed and the verdict passed */
	RIP_BAKE_FAIL,            /* a gate failed: abort, or pause */
	RIP_BAKE_INCONCLUSIVE,    /* a gate could not judge: [rollout]
				     inconclusive says what follows */
	RIP_BAKE_STOP,            /* a signal or `rollout abort` */
	RIP_BAKE_PREEMPTED,       /* the record left "running" */
};

struct rip_rollout_run {
	const struct rip_config *cfg;
	struct rip_store *store;
	const struct rip_rollout_opts *o;
	struct rip_rollout_rec ro;
	double started;           /* monotonic seconds */
	/* why the step failed or stopped, for the abort */
	char gate[32];
	char target[128];
	char message[1400];
	bool by_request;          /* stopped by `rollout abort` */
};

/*
 * [rollout] auto_contract, once the rollout completed: `migrate contract`
 * of its release under the store lock when every check passes (in
 * practice contract_after = 0: the release reached 100% just now), else
 * it says when it may run and leaves it to a human. RIP_RO_CONTRACT
 * tells the caller; negative only when a contract up failed.
 */
RIP_MUST_CHECK int rip_rollout_contract(struct rip_rollout_run *r,
	struct rip_err *err);

/* Sends e (kind set by the caller) to the caller's callback. */
void rip_rollout_emit(struct rip_rollout_run *r,
	struct rip_rollout_event *e);

/*
 * Bakes r->ro.step: probe rounds every probe_interval, judged after each,
 * until bake has elapsed and the verdict passed, or a gate failed, or a
 * gate could not judge (INCONCLUSIVE, only with inconclusive = pause or
 * abort), or the rollout was stopped or preempted (*end). On FAIL,
 * INCONCLUSIVE and STOP r->gate, r->target and r->message say why.
 * Negative only when state.db or libcurl fail.
 */
RIP_MUST_CHECK int rip_rollout_bake(struct rip_rollout_run *r,
	enum rip_bake_end *end, struct rip_err *err);

/*
 * Whether the rollout must stop now (*stop, with *end): a signal (STOP),
 * an abort asked through state.db (STOP), or a record that left "running"
 * (PREEMPTED: a rollback). Rereads r->ro. Checked before every round and
 * before a step switches anything.
 */
RIP_MUST_CHECK int rip_rollout_stopped(struct rip_rollout_run *r,
	enum rip_bake_end *end, bool *stop, struct rip_err *err);

/*
 * Probes every target failure_threshold rounds at most, probe_interval
 * apart, before step 1: a target whose every round failed is already
 * failing, and the canaries would be judged against a broken baseline.
 * Stops early once every target answered once. RIP_EFAIL naming the
 * failing targets and their last error; negative too when libcurl fails.
 */
RIP_MUST_CHECK int rip_rollout_preflight(const struct rip_config *cfg,
	const struct rip_rollout_opts *o, struct rip_err *err);

/* Writes the rollout gauges of r (step 0 once it has ended). */
void rip_rollout_metrics(const struct rip_rollout_run *r, double error_rate,
	double p99_ms);

#endif
