/* SPDX-License-Identifier: MIT */
/*
 * test_stats.c: the rollout arithmetic (stats.c) against published
 * reference values and hand-checkable cases.
 *
 * Sources of the reference numbers:
 *   - R's ?wilcox.test example (Hollander & Wolfe 1973, p. 69,
 *     permeability constants): W = 35, p-value = 0.1272 exact
 *     ("greater"), 0.1103 for the large-sample approximation without
 *     continuity correction;
 *   - the classic two-tailed alpha = 0.05 table of critical U values for
 *     n1 = n2 (e.g. Siegel & Castellan, Table J; Zar, Table B.11):
 *     5 -> 2, 6 -> 5, 7 -> 8, 8 -> 13, 9 -> 17, 10 -> 23, 20 -> 127;
 *   - R's ?fisher.test examples: Fisher's lady tasting tea, [[3,1],[1,3]],
 *     "greater" p = 0.2429 (= 17/70), and Fisher's twin convictions,
 *     [[2,15],[10,3]], "less" p = 0.0004652, two-sided p = 0.0005367;
 *   - R's prop.test(c(20, 10), c(100, 100), correct = FALSE):
 *     X-squared = 3.9216 (= z^2), one-sided p = 0.02384;
 *   - the rest by hand (each case says how), or with python3's math
 *     module by brute force: every split of the ranks enumerated
 *     (itertools.combinations) for the exact U distribution, and R's
 *     formulas for the normal approximation with ties.
 */
#include "helpers.h"

#include <math.h>

#include "ripcord/stats.h"

#define assert_near(a, b, tol) do { \
	double a_ = (a), b_ = (b); \
	if (!(fabs(a_ - b_) <= (tol))) \
		fail_msg("%s = %.10g, expected %.10g (+- %g)", #a, a_, b_, \
			(double)(tol)); \
} while (0)

/* ---- steps --------------------------------------------------------------- */

static void test_steps_targets(void **state)
{
	(void)state;
	assert_int_equal(rip_steps_targets(0.25, 10), 3);   /* ceil 2.5 */
	assert_int_equal(rip_steps_targets(0.5, 10), 5);
	assert_int_equal(rip_steps_targets(1.0, 10), 10);
	assert_int_equal(rip_steps_targets(0.01, 10), 1);   /* at least 1 */
	assert_int_equal(rip_steps_targets(0.25, 1), 1);
	assert_int_equal(rip_steps_targets(0.5, 0), 0);
	/* 7% is 0.07 (rip_parse_percent), and 0.07 * 100 > 7 in binary */
	assert_int_equal(rip_steps_targets(7 / 100.0, 100), 7);
	assert_int_equal(rip_steps_targets(29 / 100.0, 100), 29);
	assert_int_equal(rip_steps_targets(33 / 100.0, 3), 1);   /* 0.99 */
	assert_int_equal(rip_steps_targets(34 / 100.0, 3), 2);   /* 1.02 */
	assert_int_equal(rip_steps_targets(12.5 / 100.0, 8), 1);
	assert_int_equal(rip_steps_targets(12.5 / 100.0, 9), 2);
}

static void plan(size_t *out, size_t *n, const double *v, size_t nv,
	size_t targets, int expect)
{
	struct rip_steps st = { (double *)v, nv };
	struct rip_err err = { 0 };

	assert_int_equal(rip_steps_plan(out, n, &st, targets, &err), expect);
	if (expect)
		assert_int_equal(err.code, expect);
}

static void test_steps_plan(void **state)
{
	const double std[] = { 0.25, 0.50, 1.0 };
	const double fine[] = { 0.01, 0.05, 0.10, 0.50, 1.0 };
	size_t out[8], n;

	(void)state;
	plan(out, &n, std, 3, 8, 0);
	assert_int_equal(n, 3);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 4);
	assert_int_equal(out[2], 8);

	/* 2 targets: 1, 1, 2 collapses to 1, 2 */
	plan(out, &n, std, 3, 2, 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);

	/* one target: a single step */
	plan(out, &n, std, 3, 1, 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 1);

	/* 1%, 5%, 10% of 10 are all 1 target */
	plan(out, &n, fine, 5, 10, 0);
	assert_int_equal(n, 3);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 5);
	assert_int_equal(out[2], 10);
}

static void test_steps_plan_refused(void **state)
{
	const double short_[] = { 0.25, 0.50 };
	const double down[] = { 0.50, 0.25, 1.0 };
	const double zero[] = { 0, 1.0 };
	const double std[] = { 0.25, 1.0 };
	size_t out[4], n = 99;
	struct rip_steps st = { (double *)short_, 2 };
	struct rip_err err = { 0 };

	(void)state;
	/* not ending at 100%: refused, never completed or cut short */
	assert_int_equal(rip_steps_plan(out, &n, &st, 4, &err), RIP_ECONFIG);
	assert_int_equal(n, 0);
	assert_err_contains(&err, "end at 50%, not 100%");
	plan(out, &n, down, 3, 4, RIP_ECONFIG);
	plan(out, &n, zero, 2, 4, RIP_ECONFIG);
	plan(out, &n, std, 0, 4, RIP_ECONFIG);
	plan(out, &n, std, 2, 0, RIP_ECONFIG);
}

/* ---- quantiles ----------------------------------------------------------- */

static void test_quantile(void **state)
{
	double v[200];
	double small[] = { 15, 20, 35, 40, 50 };
	double one = 42;

	(void)state;
	assert_true(isnan(rip_stats_quantile(NULL, 0, 0.99)));
	assert_near(rip_stats_quantile(&one, 1, 0.99), 42, 0);
	/* Wikipedia "Percentile", nearest-rank examples: 5th..100th */
	assert_near(rip_stats_quantile(small, 5, 0.05), 15, 0);
	assert_near(rip_stats_quantile(small, 5, 0.30), 20, 0);
	assert_near(rip_stats_quantile(small, 5, 0.40), 20, 0);
	assert_near(rip_stats_quantile(small, 5, 0.50), 35, 0);
	assert_near(rip_stats_quantile(small, 5, 1.00), 50, 0);
	/* 1..100 in reverse, sorted: p99 is rank 99 (0.99 * 100 rounds) */
	for (int i = 0; i < 100; i++)
		v[i] = 100 - i;
	rip_stats_sort(v, 100);
	assert_near(v[0], 1, 0);
	assert_near(rip_stats_quantile(v, 100, 0.99), 99, 0);
	assert_near(rip_stats_quantile(v, 99, 0.99), 99, 0);  /* the max */
	/* 200 samples: rank ceil(198) = 198 */
	for (int i = 0; i < 200; i++)
		v[i] = i + 1;
	assert_near(rip_stats_quantile(v, 200, 0.99), 198, 0);
	assert_near(rip_stats_quantile(v, 200, 0.995), 199, 0);
}

/* ---- Mann-Whitney -------------------------------------------------------- */

static void test_mwu_r_example(void **state)
{
	/* ?wilcox.test: x = permeability at 12-26 weeks, y = at term */
	const double x[] = { 0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64,
		0.73, 1.46 };
	const double y[] = { 1.15, 0.88, 0.90, 0.74, 1.21 };
	struct rip_mwu r;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_stats_mann_whitney(&r, x, 10, y, 5,
		RIP_ALT_GREATER, &err), 0);
	assert_true(r.exact);
	assert_near(r.u, 35, 0);
	/* R: p-value = 0.1272; brute force: 382 of C(15, 5) = 3003 */
	assert_near(r.p, 382.0 / 3003, 1e-12);
	assert_near(r.p, 0.1272, 5e-5);
	/* continuity-corrected z: (35 - 25 - 0.5) / sqrt(50 * 16 / 12) */
	assert_near(r.z, 9.5 / sqrt(800.0 / 12), 1e-12);

	/* the other way round: U of y is 50 - 35, same p for "less" */
	assert_int_equal(rip_stats_mann_whitney(&r, y, 5, x, 10,
		RIP_ALT_LESS, &err), 0);
	assert_near(r.u, 15, 0);
	assert_near(r.p, 382.0 / 3003, 1e-12);
	assert_int_equal(rip_stats_mann_whitney(&r, x, 10, y, 5,
		RIP_ALT_TWO_SIDED, &err), 0);
	assert_near(r.p, 2 * 382.0 / 3003, 1e-12);
}

/* x = the m smallest ranks shifted so that U of x is exactly u */
static double mwu_two_sided_p(size_t m, size_t u)
{
	double x[32], y[32];
	struct rip_mwu r;
	struct rip_err err = { 0 };
	size_t left = u;

	/* y holds 0, 2, 4, ...; each x skips past some y values */
	for (size_t i = 0; i < m; i++)
		y[i] = 2.0 * (double)i;
	for (size_t i = 0; i < m; i++) {
		size_t above = left < m ? left : m;   /* y values below x_i */

		left -= above;
		/* distinct: a tie anywhere turns R (and us) to normal */
		x[i] = 2.0 * (double)above - 1 + 1e-3 * (double)i;
	}
	assert_int_equal(left, 0);
	assert_int_equal(rip_stats_mann_whitney(&r, x, m, y, m,
		RIP_ALT_TWO_SIDED, &err), 0);
	assert_true(r.exact);
	assert_near(r.u, (double)u, 0);
	return r.p;
}

static void test_mwu_critical_values(void **state)
{
	/* published table: U <= crit is significant, crit + 1 is not */
	const size_t n[] = { 5, 6, 7, 8, 9, 10, 20 };
	const size_t crit[] = { 2, 5, 8, 13, 17, 23, 127 };

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(n); i++) {
		assert_true(mwu_two_sided_p(n[i], crit[i]) <= 0.05);
		assert_true(mwu_two_sided_p(n[i], crit[i] + 1) > 0.05);
	}
	/* brute force: n = 10, U = 23: 2 * P(U <= 23) = 0.04325705254 */
	assert_near(mwu_two_sided_p(10, 23), 0.04325705254497824, 1e-12);
	/* n = 20, U = 127: 0.04909032519 (counts up to C(40, 20)) */
	assert_near(mwu_two_sided_p(20, 127), 0.04909032518937244, 1e-12);
}

static void test_mwu_small_exact(void **state)
{
	/* 3 vs 4, complete separation: P(U = 0) = 1 / C(7, 3) = 1/35 */
	const double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6, 7 };
	/* 2 vs 20, x above all: P(U >= 40) = 1 / C(22, 2) = 1/231 */
	double lo[20], hi[2] = { 100, 101 }, wide[21];
	struct rip_mwu r;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_stats_mann_whitney(&r, a, 3, b, 4,
		RIP_ALT_LESS, &err), 0);
	assert_true(r.exact);
	assert_near(r.u, 0, 0);
	assert_near(r.p, 1.0 / 35, 1e-15);
	assert_int_equal(rip_stats_mann_whitney(&r, a, 3, b, 4,
		RIP_ALT_GREATER, &err), 0);
	assert_near(r.p, 1, 1e-15);
	for (int i = 0; i < 20; i++)
		lo[i] = i;
	assert_int_equal(rip_stats_mann_whitney(&r, hi, 2, lo, 20,
		RIP_ALT_GREATER, &err), 0);
	assert_true(r.exact);
	assert_near(r.u, 40, 0);
	assert_near(r.p, 1.0 / 231, 1e-15);
	/* every value tied across the sides: normal approximation */
	assert_int_equal(rip_stats_mann_whitney(&r, lo, 20, lo, 20,
		RIP_ALT_GREATER, &err), 0);
	assert_false(r.exact);
	/* 21 x 20 = 420 cells, no ties: past the exact limit */
	for (int i = 0; i < 21; i++)
		wide[i] = i + 0.5;
	assert_int_equal(rip_stats_mann_whitney(&r, wide, 21, lo, 20,
		RIP_ALT_GREATER, &err), 0);
	assert_false(r.exact);
	assert_near(r.u, 20 * 21 / 2 + 20, 0);
}

static void test_mwu_ties_normal(void **state)
{
	/* by hand: ranks 1, 2, 3.5 | 3.5, 5, 6; U = 6.5 - 6 = 0.5; ties
	 * sum(t^3 - t) = 6; var = 9/12 * (7 - 6/30) = 5.1;
	 * z = (0.5 - 4.5 + 0.5) / sqrt(5.1) = -1.5498260497 */
	const double x[] = { 1, 2, 3 }, y[] = { 3, 4, 5 };
	/* probes in whole ms, many ties; R's formulas: U = 348,
	 * z = 2.2294080157, p = 0.0128933847 (greater) */
	const double can[] = { 12, 15, 15, 18, 20, 22, 22, 25, 30, 31, 33,
		35, 35, 40, 41, 45, 50, 52, 60, 75 };
	const double base[] = { 10, 11, 12, 12, 14, 15, 16, 18, 18, 19, 20,
		21, 22, 22, 24, 25, 26, 28, 30, 32, 33, 35, 36, 40, 41 };
	const double same[] = { 7, 7, 7 };
	struct rip_mwu r;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_stats_mann_whitney(&r, x, 3, y, 3,
		RIP_ALT_TWO_SIDED, &err), 0);
	assert_false(r.exact);
	assert_near(r.u, 0.5, 0);
	assert_near(r.z, -3.5 / sqrt(5.1), 1e-12);
	assert_near(r.p, 0.12118327283746322, 1e-12);
	assert_int_equal(rip_stats_mann_whitney(&r, x, 3, y, 3,
		RIP_ALT_LESS, &err), 0);
	assert_near(r.p, 0.06059163641873161, 1e-12);

	assert_int_equal(rip_stats_mann_whitney(&r, can, 20, base, 25,
		RIP_ALT_GREATER, &err), 0);
	assert_false(r.exact);
	assert_near(r.u, 348, 0);
	assert_near(r.z, 2.2294080156721603, 1e-10);
	assert_near(r.p, 0.012893384694372524, 1e-12);

	/* nothing to tell apart */
	assert_int_equal(rip_stats_mann_whitney(&r, same, 3, same, 2,
		RIP_ALT_GREATER, &err), 0);
	assert_near(r.p, 1, 0);
	assert_near(r.z, 0, 0);
}

static void test_mwu_normal_reference(void **state)
{
	/* the R example without continuity correction is 0.1103 (H&W large
	 * sample): our z carries the correction, so undo it by hand */
	double z = 10 / sqrt(800.0 / 12);

	(void)state;
	assert_near(rip_stats_norm_sf(z), 0.1103, 5e-5);
	assert_near(rip_stats_norm_sf(0), 0.5, 1e-15);
	assert_near(rip_stats_norm_sf(1.959963984540054), 0.025, 1e-12);
}

static void test_mwu_refused(void **state)
{
	const double x[] = { 1, NAN };
	struct rip_mwu r;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_stats_mann_whitney(&r, x, 1, NULL, 0,
		RIP_ALT_GREATER, &err), RIP_EFAIL);
	assert_err_contains(&err, "needs a sample on each side");
	assert_int_equal(rip_stats_mann_whitney(&r, x, 1, x, 2,
		RIP_ALT_GREATER, &err), RIP_EFAIL);
	assert_err_contains(&err, "sample 2 of y is not a number");
}

/* ---- proportions --------------------------------------------------------- */

static void test_fisher(void **state)
{
	(void)state;
	/* lady tasting tea: 17/70 one-sided, 34/70 two-sided */
	assert_near(rip_stats_fisher(3, 1, 1, 3, RIP_ALT_GREATER), 17.0 / 70,
		1e-12);
	assert_near(rip_stats_fisher(3, 1, 1, 3, RIP_ALT_TWO_SIDED),
		34.0 / 70, 1e-12);
	assert_near(rip_stats_fisher(3, 1, 1, 3, RIP_ALT_LESS), 69.0 / 70,
		1e-12);
	/* convictions of twins: R's matrix(c(2, 10, 15, 3), 2) */
	assert_near(rip_stats_fisher(2, 15, 10, 3, RIP_ALT_LESS), 0.0004652,
		5e-8);
	assert_near(rip_stats_fisher(2, 15, 10, 3, RIP_ALT_TWO_SIDED),
		0.0005367, 5e-8);
	/* no errors anywhere: one possible table */
	assert_near(rip_stats_fisher(0, 50, 0, 50, RIP_ALT_GREATER), 1, 0);
	/* large counts stay finite in log space */
	assert_near(rip_stats_fisher(500000, 500000, 500000, 500000,
		RIP_ALT_GREATER), 0.5, 1e-3);
}

static void test_prop_test(void **state)
{
	struct rip_prop r;
	struct rip_err err = { 0 };

	(void)state;
	/* R prop.test(correct = FALSE): X-squared 3.9216, p 0.02384 */
	assert_int_equal(rip_stats_prop_test(&r, 20, 100, 10, 100,
		RIP_ALT_GREATER, &err), 0);
	assert_false(r.exact);
	assert_near(r.z * r.z, 3.921568627450981, 1e-9);
	assert_near(r.p, 0.02383519032808072, 1e-12);
	assert_near(r.p, 0.02384, 5e-6);
	/* few errors (expected 1.6 < 5): Fisher, by brute force 0.1744837 */
	assert_int_equal(rip_stats_prop_test(&r, 3, 40, 1, 60,
		RIP_ALT_GREATER, &err), 0);
	assert_true(r.exact);
	assert_near(r.p, 0.17448373913764195, 1e-12);
	/* no errors: nothing to see */
	assert_int_equal(rip_stats_prop_test(&r, 0, 40, 0, 60,
		RIP_ALT_GREATER, &err), 0);
	assert_near(r.p, 1, 0);
	assert_near(r.z, 0, 0);
	assert_int_equal(rip_stats_prop_test(&r, 5, 4, 0, 60,
		RIP_ALT_GREATER, &err), RIP_EFAIL);
	assert_int_equal(rip_stats_prop_test(&r, 0, 0, 0, 60,
		RIP_ALT_GREATER, &err), RIP_EFAIL);
}

/* ---- the verdict --------------------------------------------------------- */

/* n probes, latencies base + (i % spread), every err-th one failing */
static void fill(struct rip_sample *s, size_t n, double base, int spread,
	size_t err_every)
{
	for (size_t i = 0; i < n; i++) {
		s[i].ms = base + (double)(i % (size_t)spread);
		s[i].ok = !err_every || (i + 1) % err_every;
	}
}

static const struct rip_gate gate_default = {
	.max_error_rate = 0.01, .max_p99_ms = 500, .compare_baseline = true,
	.min_samples = 20, .alpha = 0,
};

static void verdict(struct rip_verdict *v, const struct rip_sample *c,
	size_t nc, const struct rip_sample *b, size_t nb,
	const struct rip_gate *g)
{
	struct rip_err err = { 0 };

	if (rip_stats_verdict(v, c, nc, b, nb, g, &err) < 0)
		fail_msg("%s", err.msg);
}

static void test_verdict_absolute(void **state)
{
	struct rip_sample c[100] = { { 0, false } }, b[100];
	struct rip_verdict v;

	(void)state;
	fill(b, 100, 20, 10, 0);
	verdict(&v, c, 0, b, 100, &gate_default);
	assert_int_equal(v.kind, RIP_VERDICT_INCONCLUSIVE);
	assert_int_equal(v.gate, RIP_GATE_SAMPLES);

	/* the first probe already judges the absolute gates */
	c[0].ms = 812;
	c[0].ok = true;
	verdict(&v, c, 1, b, 100, &gate_default);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_P99);
	assert_string_equal(v.msg, "canary p99 812 ms > max_p99_ms 500");

	/* 2 errors in 100: 2% > 1% */
	fill(c, 100, 20, 10, 50);
	verdict(&v, c, 100, b, 100, &gate_default);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_ERROR_RATE);
	assert_int_equal(v.canary_errors, 2);
	assert_string_equal(v.msg, "canary error rate 2% (2 of 100 probes) > "
		"max_error_rate 1%");

	/* 1 in 100 is at the limit, not above it */
	fill(c, 100, 20, 10, 100);
	verdict(&v, c, 100, b, 100, &gate_default);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_near(v.canary_error_rate, 0.01, 0);
	assert_true(v.compared);
	assert_true(v.latency_compared);
}

static void test_verdict_comparison(void **state)
{
	struct rip_sample c[200], b[200];
	struct rip_verdict v;
	struct rip_gate g = gate_default;

	(void)state;
	/* fewer than min_samples canary probes: the step waits */
	fill(c, 19, 20, 10, 0);
	fill(b, 60, 20, 10, 0);
	verdict(&v, c, 19, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_INCONCLUSIVE);
	assert_int_equal(v.gate, RIP_GATE_SAMPLES);
	assert_false(v.compared);
	/* ... and of baseline probes too */
	fill(c, 60, 20, 10, 0);
	verdict(&v, c, 60, b, 5, &g);
	assert_int_equal(v.kind, RIP_VERDICT_INCONCLUSIVE);

	/* same distribution: pass */
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_true(v.latency.p > 0.05);

	/* canary 5 ms slower, well under max_p99_ms: the comparison fails */
	fill(c, 60, 25, 10, 0);
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_BASELINE_LATENCY);
	assert_true(v.latency.p < 0.05);
	assert_non_null(strstr(v.msg, "canary slower than baseline"));

	/* significantly but negligibly slower (1 ms, 5%): within the
	 * margins, a pass */
	fill(c, 200, 21, 10, 0);
	fill(b, 200, 20, 10, 0);
	verdict(&v, c, 200, b, 200, &g);
	assert_true(v.latency_compared);
	assert_true(v.latency.p < 0.05);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	/* 3 ms slower but only 3% of a 100 ms median: a pass too */
	fill(c, 200, 103, 10, 0);
	fill(b, 200, 100, 10, 0);
	verdict(&v, c, 200, b, 200, &g);
	assert_true(v.latency.p < 0.05);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	fill(c, 60, 25, 10, 0);
	fill(b, 60, 20, 10, 0);

	/* without compare_baseline the absolute gates alone decide */
	g.compare_baseline = false;
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);

	/* the last step has no baseline: absolute gates alone */
	g.compare_baseline = true;
	verdict(&v, c, 60, NULL, 0, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_false(v.compared);
}

static void test_verdict_baseline_errors(void **state)
{
	struct rip_sample c[200], b[200];
	struct rip_verdict v;
	struct rip_gate g = gate_default;

	(void)state;
	/* 20% vs 10% of errors under a 50% absolute limit: z-test fails it */
	g.max_error_rate = 0.5;
	fill(c, 100, 20, 10, 5);
	fill(b, 100, 20, 10, 10);
	verdict(&v, c, 100, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_BASELINE_ERRORS);
	assert_false(v.errors.exact);
	assert_near(v.errors.p, 0.02383519032808072, 1e-12);
	assert_non_null(strstr(v.msg, "canary errors 20 of 100 above "
		"baseline 10 of 100"));

	/* 3 of 40 vs 1 of 60: Fisher, p 0.174: pass */
	fill(c, 40, 20, 10, 0);
	fill(b, 60, 20, 10, 0);
	c[3].ok = c[13].ok = c[23].ok = false;
	b[7].ok = false;
	verdict(&v, c, 40, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_true(v.errors.exact);
	assert_near(v.errors.p, 0.17448373913764195, 1e-12);

	/* a NaN latency is refused; alpha outside (0, 1) too */
	{
		struct rip_err err = { 0 };

		c[0].ms = NAN;
		assert_int_equal(rip_stats_verdict(&v, c, 40, b, 60, &g,
			&err), RIP_EFAIL);
		assert_err_contains(&err, "canary probe 1 has no latency");
		g.alpha = 2;
		assert_int_equal(rip_stats_verdict(&v, b, 40, b, 60, &g,
			&err), RIP_EFAIL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps_targets),
		cmocka_unit_test(test_steps_plan),
		cmocka_unit_test(test_steps_plan_refused),
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_mwu_r_example),
		cmocka_unit_test(test_mwu_critical_values),
		cmocka_unit_test(test_mwu_small_exact),
		cmocka_unit_test(test_mwu_ties_normal),
		cmocka_unit_test(test_mwu_normal_reference),
		cmocka_unit_test(test_mwu_refused),
		cmocka_unit_test(test_fisher),
		cmocka_unit_test(test_prop_test),
		cmocka_unit_test(test_verdict_absolute),
		cmocka_unit_test(test_verdict_comparison),
		cmocka_unit_test(test_verdict_baseline_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
