/* SPDX-License-Identifier: MIT */
/*
 * verdicts.h: the verdicts table of state.db (schema 8): every judgment of
 * a rollout step that compared the canaries with the baseline, and every
 * one that failed a step, with the numbers that decided it, so that an
 * abort can be explained after the fact (`rollout status --json`, the
 * report, or sqlite3 on state.db).
 */
#ifndef RIPCORD_VERDICTS_H
#define RIPCORD_VERDICTS_H

#include "ripcord/state.h"
#include "ripcord/stats.h"

/* One row of the verdicts table. */
struct rip_verdict_rec {
	int64_t seq;
	int64_t rollout;          /* rollouts.seq */
	char *release;            /* the rollout's release (read back only) */
	size_t step;              /* 1-based */
	size_t round;             /* the probe rounds of the step so far */
	bool final;               /* judged after the bake: the comparison's
				     turn */
	int64_t at;               /* unix time */
	char *verdict;            /* "pass", "fail", "inconclusive" */
	char *gate;               /* what decided ("baseline_latency", ...);
				     NULL for a pass */
	double score;             /* 0 to 100; NAN: not scored */
	char *metrics;            /* JSON array, one object per metric (see
				     ripcord-rollout(1)); "[]" when the
				     baseline was not compared */
	char *message;
};

/*
 * Appends r (all but seq and release; at 0: now) to the verdicts table.
 * RIP_EDB when state.db cannot take it.
 */
RIP_MUST_CHECK int rip_verdict_add(struct rip_state *st,
	const struct rip_verdict_rec *r, struct rip_err *err);

/*
 * The verdicts of rollout (0: of every rollout) recorded after since
 * (unix time; 0: ever), oldest first, into *out (*n of them; free with
 * rip_verdict_recs_free). On failure *out is NULL.
 */
RIP_MUST_CHECK int rip_verdict_list(struct rip_verdict_rec **out, size_t *n,
	struct rip_state *st, int64_t rollout, int64_t since,
	struct rip_err *err);

void rip_verdict_recs_free(struct rip_verdict_rec *v, size_t n);

#endif
