/* SPDX-License-Identifier: MIT */
/*
 * stats.h: the arithmetic of a canary rollout (DESIGN.md §3 [rollout]):
 * how many targets each step switches, the p99 of the probes' latencies,
 * the tests that compare the canaries with the not-yet-switched targets,
 * and the verdict of a step.
 *
 * The comparison is Kayenta's canary judge (NetflixACAJudge): each metric
 * (latency, errors) is classified pass, high, low or nodata by a
 * two-sided test at the confidence level (Mann-Whitney U on latency, after
 * an IQR outlier filter; Fisher's exact or the pooled two-proportion
 * z-test on errors) together with an effect size (for latency the
 * Hodges-Lehmann estimate against a tolerance, so a significant but tiny
 * difference passes); the step's score is 100 times the weighted share of
 * the metrics that pass, and pass_score and marginal_score turn it into
 * pass, inconclusive (marginal) or fail.
 *
 * Everything here is pure and deterministic: the same input gives the same
 * bits. Nothing reads a clock, a file or a random source. Only the
 * functions that rank samples allocate, and only O(n) scratch they free
 * before returning (rip_xmalloc: out of memory aborts, as everywhere in
 * libripcord).
 *
 * Conventions. Latencies are milliseconds. A sample whose `ok` is false is
 * an error (DESIGN: a probe slower than probe_timeout is one too); its
 * latency is ignored, so p99 and the latency comparison are over the
 * successful probes only. A fast "connection refused" would otherwise make
 * a broken canary look quick; errors are judged by the error gates.
 */
#ifndef RIPCORD_STATS_H
#define RIPCORD_STATS_H

#include "ripcord/config.h"
#include "ripcord/err.h"

/* The significance level of the baseline comparison when none is given:
 * 1 - [rollout] confidence (95%). */
#define RIP_STATS_ALPHA 0.05

/*
 * Kayenta's IQR outlier filter: a latency below Q1 - 3 IQR or above
 * Q3 + 3 IQR is dropped, but the fences are never tighter than the 1st
 * and 99th percentiles (its "reduce sensitivity"), so at most the extreme
 * 1% on each side goes, and only when it is far out.
 */
#define RIP_STATS_IQR_FACTOR 3.0
/* A side with fewer latencies keeps them all: on a handful of probes the
 * quartiles are two of them, and dropping one more costs the test the
 * power to see even a tenfold slowdown (4 against 3 probes cannot reach
 * p < 0.05 two-sided). */
#define RIP_STATS_IQR_MIN_N 10

/*
 * Mann-Whitney uses the exact null distribution when there are no ties
 * and nx * ny is at most this (20 x 20, 10 x 40, ...), the normal
 * approximation otherwise. The counts then fit an int64 exactly.
 */
#define RIP_STATS_EXACT_MAX_CELLS 400

/* ---- steps ----------------------------------------------------------- */

/*
 * The number of targets switched once a step of `fraction` (0.25 for
 * `25%`, as struct rip_steps holds it) is reached with n targets:
 * ceil(fraction * n), at least 1, at most n; 0 only when n is 0. A product
 * within 1e-9 of a whole number counts as that number, so 7% of 100 is 7
 * although 0.07 * 100 is 7.000000000000001 in binary.
 */
size_t rip_steps_targets(double fraction, size_t n);

/*
 * Expands steps into the cumulative number of switched targets after each
 * step, for n_targets targets, into out (room for steps->n entries; the
 * count is *out_n). The counts strictly increase and the last is
 * n_targets: a step that would switch no new target (25%, 50%, 100% of 2
 * targets is 1, 1, 2) is dropped, so each step switches at least one
 * target and 2 targets roll out in 2 steps (1, 2).
 *
 * A list that is empty, not increasing, outside (0, 100%] or that does not
 * end at 100% is refused (RIP_ECONFIG), never completed or cut short by
 * guessing: appending a step would switch targets the user did not ask
 * for, stopping early would leave the fleet split. No targets: RIP_ECONFIG.
 */
RIP_MUST_CHECK int rip_steps_plan(size_t *out, size_t *out_n,
	const struct rip_steps *steps, size_t n_targets, struct rip_err *err);

/* ---- descriptive ------------------------------------------------------ */

/* Sorts v ascending in place (v holds no NaN). */
void rip_stats_sort(double *v, size_t n);

/*
 * The q-quantile (q in [0, 1]; 0.99 for p99) of the ascending array
 * sorted, by the nearest-rank method: the value of rank ceil(q * n)
 * (1-based, at least 1), so a reported p99 is always a latency that was
 * observed and at least 99% of the samples are at or below it. With fewer
 * than 100 samples p99 is the maximum. NAN when n is 0.
 */
double rip_stats_quantile(const double *sorted, size_t n, double q);

/* ---- tests ------------------------------------------------------------ */

enum rip_alt {
	RIP_ALT_TWO_SIDED,        /* x and y differ */
	RIP_ALT_GREATER,          /* x tends to be greater than y */
	RIP_ALT_LESS,             /* x tends to be less than y */
};

struct rip_mwu {
	double u;                 /* U of x: pairs with x > y, ties count 1/2
				     (R's W) */
	double z;                 /* normal approximation, tie- and
				     continuity-corrected; 0 when all tie */
	double p;                 /* p-value for the alternative asked */
	bool exact;               /* p from the exact distribution */
};

/*
 * Mann-Whitney U test (Wilcoxon rank-sum) of x against y, with ranks of
 * ties averaged. p is exact when there are no ties and nx * ny <=
 * RIP_STATS_EXACT_MAX_CELLS, else from the normal approximation with the
 * tie correction of the variance and a continuity correction of 1/2;
 * both as R's wilcox.test(x, y, alternative) computes them. All values
 * equal: p is 1. RIP_EFAIL when a side is empty or holds a NaN.
 */
RIP_MUST_CHECK int rip_stats_mann_whitney(struct rip_mwu *out,
	const double *x, size_t nx, const double *y, size_t ny,
	enum rip_alt alt, struct rip_err *err);

struct rip_prop {
	double z;                 /* pooled two-proportion z; 0 when
				     undefined (no errors or no successes) */
	double p;                 /* p-value for the alternative asked */
	bool exact;               /* p from Fisher's exact test */
};

/*
 * Whether x's error rate (x_err of x_n) differs from y's (y_err of y_n) in
 * the direction alt. z is always the pooled two-proportion z (no
 * continuity correction: z^2 is R's prop.test(correct = FALSE) X-squared).
 * p is Fisher's exact test when an expected cell count of the 2x2 table
 * is below 5 (Cochran's rule), else the z-test's normal p. RIP_EFAIL when
 * a count exceeds its total or a total is 0.
 */
RIP_MUST_CHECK int rip_stats_prop_test(struct rip_prop *out,
	uint64_t x_err, uint64_t x_n, uint64_t y_err, uint64_t y_n,
	enum rip_alt alt, struct rip_err *err);

/*
 * Fisher's exact test of the 2x2 table [[a, b], [c, d]]: the
 * hypergeometric probability, given the margins, of a table at least as
 * extreme as the one seen. RIP_ALT_GREATER: P(A >= a) (a large);
 * RIP_ALT_LESS: P(A <= a); two-sided: the sum over the tables no more
 * probable than the one seen (R's fisher.test, relative tolerance 1e-7).
 * Computed in log space (lgamma), exact to double rounding for any
 * counts. Returns the p-value in [0, 1].
 */
double rip_stats_fisher(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
	enum rip_alt alt);

/* P(Z > z) for a standard normal Z. */
double rip_stats_norm_sf(double z);

/* ---- effect size and outliers ------------------------------------------ */

/*
 * The q-quantile (q in [0, 1]) of the ascending array sorted by linear
 * interpolation between order statistics, R's default quantile(x, q)
 * (type 7): h = (n - 1) q, x[floor h] + (h - floor h)(x[floor h + 1] -
 * x[floor h]), 0-based. q 0.5 is R's median(x). NAN when n is 0.
 */
double rip_stats_quantile7(const double *sorted, size_t n, double q);

/*
 * The Hodges-Lehmann estimate of the shift of x against y: the median of
 * the nx * ny differences x[i] - y[j] (the mean of the middle two when
 * their count is even), as R's wilcox.test(x, y, conf.int = TRUE) gives
 * it for samples without ties. x and y must be sorted ascending. Found in
 * O((nx + ny) log) time and O(1) space by bisecting on the doubles with a
 * two-pointer count, so thousands of probes a side cost nothing; the
 * result is one of the differences (or the mean of two). NAN when a side
 * is empty.
 */
double rip_stats_hodges_lehmann(const double *x, size_t nx, const double *y,
	size_t ny);

/*
 * Kayenta's IQR outlier filter on the ascending array v, in place: keeps
 * the values within [min(p1, Q1 - factor IQR), max(p99, Q3 + factor IQR)]
 * (quantiles of rip_stats_quantile7), in order; returns how many remain
 * (the kept values are v[0 .. return - 1]). factor <= 0 or n < 4 keeps
 * everything: four values have no quartiles worth the name.
 */
size_t rip_stats_iqr_filter(double *v, size_t n, double factor);

/* ---- the verdict of a step ---------------------------------------------- */

/* One health probe. */
struct rip_sample {
	double ms;                /* latency; ignored when !ok */
	bool ok;
};

/* The metrics the baseline comparison judges, in this order. */
enum rip_judge_metric {
	RIP_JUDGE_LATENCY,        /* successful probes' latency, ms */
	RIP_JUDGE_ERRORS,         /* failed probes' share */
	RIP_JUDGE_METRICS,        /* how many */
};

/* A metric's classification (Kayenta's). Only high fails: for latency
 * and errors the canary can only be worse upwards. */
enum rip_judge_class {
	RIP_CLASS_PASS,
	RIP_CLASS_HIGH,           /* significantly and materially worse */
	RIP_CLASS_LOW,            /* significantly and materially better */
	RIP_CLASS_NODATA,         /* a side had nothing to compare */
};

/*
 * What a step is judged by, from [rollout]. To turn an absolute gate off
 * pass max_error_rate 1 and max_p99_ms INFINITY; 0 means zero. Set the
 * comparison's fields with rip_gate_init (the [rollout] defaults) before
 * changing some.
 */
struct rip_gate {
	double max_error_rate;    /* fraction: 1% is 0.01 */
	double max_p99_ms;
	bool compare_baseline;
	size_t min_samples;       /* canary probes the comparison needs */
	double alpha;             /* 1 - confidence; 0: RIP_STATS_ALPHA */
	double effect_tolerance;  /* latency: the canary may be this much
				     slower (HL / baseline median) */
	double effect_min_ms;     /* ... and this many ms, whatever the
				     ratio */
	bool outliers;            /* drop latency outliers (IQR) first */
	unsigned weights[RIP_JUDGE_METRICS];  /* 0: report only */
	double pass_score;        /* 0 to 100 */
	double marginal_score;    /* 0 to pass_score */
};

/* Sets g to the [rollout] defaults: max_error_rate 1%, max_p99_ms 500,
 * compare_baseline, min_samples 20, confidence 95%, effect_tolerance 20%,
 * effect_min_ms 2, outliers, weights 50/50, pass 95, marginal 75. */
void rip_gate_init(struct rip_gate *g);

/* One metric of the comparison, with every number that decided it. */
struct rip_judged {
	enum rip_judge_class cls;
	unsigned weight;
	size_t canary_n, baseline_n;      /* values compared: latency, the
					     successful probes kept; errors,
					     every probe */
	size_t canary_outliers, baseline_outliers;   /* latency: dropped */
	const char *test;         /* "mann-whitney", "fisher", "z-test" */
	bool exact;               /* p from an exact distribution */
	double u;                 /* latency: U of the canaries (R's W);
				     errors: NAN */
	double z;                 /* normal statistic (0: undefined) */
	double p;                 /* two-sided p-value */
	double canary, baseline;  /* latency: medians (ms); errors: rates */
	double effect;            /* latency: Hodges-Lehmann shift (ms);
				     errors: canary rate - baseline rate */
	double ratio;             /* latency: (baseline median + effect) /
				     baseline median; errors: canary rate /
				     baseline rate (INFINITY when only the
				     canaries failed, 1 when neither) */
};

enum rip_verdict_kind {
	RIP_VERDICT_PASS,
	RIP_VERDICT_FAIL,
	RIP_VERDICT_INCONCLUSIVE, /* too few probes yet (the step waits), no
				     data to compare, or a marginal score */
};

enum rip_gate_id {
	RIP_GATE_NONE,            /* PASS */
	RIP_GATE_SAMPLES,         /* INCONCLUSIVE: too few probes, or a
				     weighted metric with no data */
	RIP_GATE_ERROR_RATE,      /* max_error_rate */
	RIP_GATE_P99,             /* max_p99_ms */
	RIP_GATE_BASELINE_ERRORS, /* FAIL by score: errors high */
	RIP_GATE_BASELINE_LATENCY,/* FAIL by score: latency high */
	RIP_GATE_MARGINAL,        /* INCONCLUSIVE: marginal_score <= score <
				     pass_score */
};

struct rip_verdict {
	enum rip_verdict_kind kind;
	enum rip_gate_id gate;    /* what decided a FAIL or INCONCLUSIVE */
	size_t canary_n, canary_errors;
	size_t baseline_n, baseline_errors;
	double canary_error_rate; /* NAN without probes */
	double canary_p99_ms;     /* NAN without a successful probe */
	double baseline_p99_ms;   /* NAN without a successful probe */
	bool compared;            /* the baseline comparison ran: metrics,
				     score and alpha are set */
	struct rip_judged metrics[RIP_JUDGE_METRICS];
	double score;             /* 0 to 100; NAN: nothing scored */
	double alpha;             /* the level the tests were made at */
	char msg[320];            /* one line, such as "canary p99 812 ms >
				     max_p99_ms 300" */
};

/*
 * Judges a step from the probes of its canaries and, in the same rounds,
 * of the baseline (the targets not yet switched), in this order:
 *   1. no canary probe yet: INCONCLUSIVE;
 *   2. the absolute gates, from the first probe on: the canaries' error
 *      rate above max_error_rate, or their p99 (nearest rank) above
 *      max_p99_ms: FAIL;
 *   3. compare_baseline and a non-empty baseline (the last step has none,
 *      and then is judged by the absolute gates alone): fewer than
 *      min_samples probes of the canaries, or of the baseline (a test
 *      against a handful of probes cannot see anything, and would pass
 *      for lack of evidence): INCONCLUSIVE; else each metric is
 *      classified (two-sided p < alpha and, for latency, a
 *      Hodges-Lehmann shift above both effect_tolerance of the baseline's
 *      median and effect_min_ms; for errors, any significant increase:
 *      high) and scored: score = 100 * (weight of the metrics that are
 *      not high) / (weight of the metrics with data). Below
 *      marginal_score: FAIL (gate: the heaviest high metric, errors
 *      first on a tie); a weighted metric without data: INCONCLUSIVE
 *      (RIP_GATE_SAMPLES); below pass_score: INCONCLUSIVE
 *      (RIP_GATE_MARGINAL);
 *   4. PASS.
 * out->msg says which gate and the numbers. Returns 0 with *out filled,
 * or RIP_EFAIL (a NaN latency, alpha outside (0, 1), scores outside
 * [0, 100] or marginal above pass, every weight 0).
 */
RIP_MUST_CHECK int rip_stats_verdict(struct rip_verdict *out,
	const struct rip_sample *canary, size_t n_canary,
	const struct rip_sample *baseline, size_t n_baseline,
	const struct rip_gate *gate, struct rip_err *err);

/* "pass", "fail" or "inconclusive". */
const char *rip_verdict_name(enum rip_verdict_kind kind);
/* "latency" or "errors" (the names of the weights' keys). */
const char *rip_judge_metric_name(enum rip_judge_metric m);
/* "pass", "high", "low" or "nodata". */
const char *rip_judge_class_name(enum rip_judge_class c);

#endif
