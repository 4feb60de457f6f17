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
 *   - R's ?wilcox.test example with conf.int = TRUE: "difference in
 *     location" (the Hodges-Lehmann estimate) 0.305;
 *   - R's quantile(x, q) (type 7) by its formula, by hand;
 *   - the rest by hand (each case says how), or with python3's math
 *     module by brute force: every split of the ranks enumerated
 *     (itertools.combinations) for the exact U distribution, and R's
 *     formulas for the normal approximation with ties; the
 *     Hodges-Lehmann estimate and the exact two-sided p are also
 *     recomputed here by exhaustive enumeration.
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

/* ---- effect size and outliers -------------------------------------------- */

static void test_quantile7(void **state)
{
	const double five[] = { 1, 2, 3, 4, 10 }, four[] = { 1, 2, 3, 4 };
	const double one = 7;

	(void)state;
	assert_true(isnan(rip_stats_quantile7(NULL, 0, 0.5)));
	assert_near(rip_stats_quantile7(&one, 1, 0.25), 7, 0);
	/* R: quantile(c(1,2,3,4,10), c(.25, .5, .9)) = 2, 3, 7.6 */
	assert_near(rip_stats_quantile7(five, 5, 0.25), 2, 0);
	assert_near(rip_stats_quantile7(five, 5, 0.5), 3, 0);
	assert_near(rip_stats_quantile7(five, 5, 0.9), 7.6, 1e-12);
	/* R: quantile(1:4, .25) = 1.75; median(1:4) = 2.5 */
	assert_near(rip_stats_quantile7(four, 4, 0.25), 1.75, 1e-15);
	assert_near(rip_stats_quantile7(four, 4, 0.5), 2.5, 0);
	assert_near(rip_stats_quantile7(four, 4, 0), 1, 0);
	assert_near(rip_stats_quantile7(four, 4, 1), 4, 0);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of every x[i] - y[j], the slow way. */
static double hl_brute(const double *x, size_t nx, const double *y,
	size_t ny)
{
	double *d = malloc(nx * ny * sizeof(*d)), med;
	size_t n = 0;

	assert_non_null(d);
	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++)
			d[n++] = x[i] - y[j];
	qsort(d, n, sizeof(*d), cmp_dbl);
	med = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
	free(d);
	return med;
}

/* Deterministic pseudo-random numbers (an LCG): the same every run. */
static double lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005u + 1442695040888963407u;
	return (double)(*s >> 11) / 9007199254740992.0;
}

static void test_hodges_lehmann(void **state)
{
	/* ?wilcox.test, conf.int = TRUE: difference in location 0.305 */
	double x[] = { 0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73,
		1.46 };
	double y[] = { 1.15, 0.88, 0.90, 0.74, 1.21 };
	const size_t sizes[][2] = { { 1, 1 }, { 1, 2 }, { 3, 4 }, { 7, 5 },
		{ 20, 31 }, { 64, 64 }, { 101, 3 } };
	double a[128], b[128];
	uint64_t seed = 42;

	(void)state;
	rip_stats_sort(x, 10);
	rip_stats_sort(y, 5);
	assert_near(rip_stats_hodges_lehmann(x, 10, y, 5), 0.305, 1e-12);
	assert_near(rip_stats_hodges_lehmann(x, 10, y, 5), hl_brute(x, 10, y,
		5), 0);
	/* by hand: {1, 2, 3} - {0} = {1, 2, 3}: 2; {1, 2} - {0} : 1.5 */
	assert_near(rip_stats_hodges_lehmann((double[]){ 1, 2, 3 }, 3,
		(double[]){ 0 }, 1), 2, 0);
	assert_near(rip_stats_hodges_lehmann((double[]){ 1, 2 }, 2,
		(double[]){ 0 }, 1), 1.5, 0);
	assert_true(isnan(rip_stats_hodges_lehmann(x, 10, y, 0)));
	assert_true(isnan(rip_stats_hodges_lehmann(x, 0, y, 5)));
	/* against every difference enumerated: continuous values, whole
	 * milliseconds (ties everywhere), negative and identical samples */
	for (size_t k = 0; k < RIP_ARRAY_SIZE(sizes); k++) {
		size_t nx = sizes[k][0], ny = sizes[k][1];

		for (int kind = 0; kind < 4; kind++) {
			for (size_t i = 0; i < nx; i++) {
				a[i] = 20 + 10 * lcg(&seed);
				a[i] = kind == 1 ? floor(a[i]) : kind == 2 ? -a[i] :
					a[i];
			}
			for (size_t j = 0; j < ny; j++) {
				b[j] = kind == 3 && j < nx ? a[j] :
					18 + 10 * lcg(&seed);
				b[j] = kind == 1 ? floor(b[j]) : b[j];
			}
			rip_stats_sort(a, nx);
			rip_stats_sort(b, ny);
			assert_near(rip_stats_hodges_lehmann(a, nx, b, ny),
				hl_brute(a, nx, b, ny), 0);
		}
	}
}

static void test_iqr_filter(void **state)
{
	double v[200];
	size_t n;

	(void)state;
	/* 1..19 and 1000, n 20: Q1 5.75, Q3 15.25, IQR 9.5, upper fence
	 * max(15.25 + 28.5, p99 = 19 + 0.81 * 981 = 813.61): 1000 goes */
	for (int i = 0; i < 19; i++)
		v[i] = i + 1;
	v[19] = 1000;
	n = rip_stats_iqr_filter(v, 20, 3);
	assert_int_equal(n, 19);
	assert_near(v[18], 19, 0);
	/* the same low: -1000 goes, the rest moves to the front in order */
	v[0] = -1000;
	for (int i = 1; i < 20; i++)
		v[i] = i;
	n = rip_stats_iqr_filter(v, 20, 3);
	assert_int_equal(n, 19);
	assert_near(v[0], 1, 0);
	assert_near(v[18], 19, 0);
	/* 43 is within Q3 + 3 IQR = 43.75: kept; 44 is not, and p99
	 * (19 + 0.81 * 25 = 39.25) does not save it */
	for (int i = 0; i < 19; i++)
		v[i] = i + 1;
	v[19] = 43;
	assert_int_equal(rip_stats_iqr_filter(v, 20, 3), 20);
	v[19] = 44;
	assert_int_equal(rip_stats_iqr_filter(v, 20, 3), 19);
	/* 200 values 20..29 and 100: Q1 22, Q3 27, fence 42 above p99 29 */
	for (int i = 0; i < 199; i++)
		v[i] = 20 + i % 10;
	rip_stats_sort(v, 199);
	v[199] = 100;
	assert_int_equal(rip_stats_iqr_filter(v, 200, 3), 199);
	v[199] = 42;                          /* on the fence: kept */
	assert_int_equal(rip_stats_iqr_filter(v, 200, 3), 200);
	/* uniform: nothing dropped; factor 0 and n < 4: nothing either */
	for (int i = 0; i < 20; i++)
		v[i] = i;
	assert_int_equal(rip_stats_iqr_filter(v, 20, 3), 20);
	v[19] = 1e9;
	assert_int_equal(rip_stats_iqr_filter(v, 20, 0), 20);
	v[2] = 1e9;
	assert_int_equal(rip_stats_iqr_filter(v, 3, 3), 3);
}

/* Exact two-sided p of U for x against y without ties, by enumerating
 * every way to give x's size of ranks out of nx + ny (R's formula). */
static double exact_two_sided(const double *x, size_t nx, const double *y,
	size_t ny)
{
	size_t N = nx + ny, le = 0, ge = 0, total = 0;
	double u = 0;

	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++)
			u += x[i] > y[j];
	for (unsigned mask = 0; mask < (1u << N); mask++) {
		double uu = 0, rs = 0;

		if ((size_t)__builtin_popcount(mask) != nx)
			continue;
		for (size_t r = 0; r < N; r++)
			if (mask >> r & 1)
				rs += (double)r + 1;
		uu = rs - (double)nx * ((double)nx + 1) / 2;
		total++;
		le += uu <= u;
		ge += uu >= u;
	}
	return fmin(1, 2 * (double)(u > (double)(nx * ny) / 2 ? ge : le) /
		(double)total);
}

static void test_mwu_two_sided_exhaustive(void **state)
{
	uint64_t seed = 7;
	double x[8], y[8];
	struct rip_mwu r;
	struct rip_err err = { 0 };

	(void)state;
	for (size_t nx = 2; nx <= 7; nx++) {
		for (size_t ny = 3; ny <= 7; ny++) {
			for (size_t i = 0; i < nx; i++)
				x[i] = lcg(&seed) + 0.2 * (double)(nx % 3);
			for (size_t j = 0; j < ny; j++)
				y[j] = lcg(&seed);
			assert_int_equal(rip_stats_mann_whitney(&r, x, nx, y, ny,
				RIP_ALT_TWO_SIDED, &err), 0);
			assert_true(r.exact);
			assert_near(r.p, exact_two_sided(x, nx, y, ny), 1e-12);
		}
	}
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

static struct rip_gate gate_default(void)
{
	struct rip_gate g;

	rip_gate_init(&g);
	return g;
}

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
	struct rip_gate g = gate_default();
	struct rip_verdict v;

	(void)state;
	fill(b, 100, 20, 10, 0);
	verdict(&v, c, 0, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_INCONCLUSIVE);
	assert_int_equal(v.gate, RIP_GATE_SAMPLES);

	/* the first probe already judges the absolute gates */
	c[0].ms = 812;
	c[0].ok = true;
	verdict(&v, c, 1, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_P99);
	assert_string_equal(v.msg, "canary p99 812 ms > max_p99_ms 500");
	assert_false(v.compared);
	assert_true(isnan(v.score));

	/* 2 errors in 100: 2% > 1% */
	fill(c, 100, 20, 10, 50);
	verdict(&v, c, 100, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_ERROR_RATE);
	assert_int_equal(v.canary_errors, 2);
	assert_string_equal(v.msg, "canary error rate 2% (2 of 100 probes) > "
		"max_error_rate 1%");

	/* 1 in 100 is at the limit, not above it */
	fill(c, 100, 20, 10, 100);
	verdict(&v, c, 100, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_near(v.canary_error_rate, 0.01, 0);
	assert_true(v.compared);
	assert_near(v.score, 100, 0);
	assert_int_equal(v.metrics[RIP_JUDGE_LATENCY].cls, RIP_CLASS_PASS);
	assert_int_equal(v.metrics[RIP_JUDGE_ERRORS].cls, RIP_CLASS_PASS);
}

static void test_verdict_comparison(void **state)
{
	struct rip_sample c[200], b[200];
	struct rip_verdict v;
	struct rip_gate g = gate_default();
	const struct rip_judged *lat = &v.metrics[RIP_JUDGE_LATENCY];

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

	/* same distribution: pass, shift 0, ratio 1 */
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_true(lat->p > 0.05);
	assert_near(lat->effect, 0, 0);
	assert_near(lat->ratio, 1, 0);
	assert_near(v.score, 100, 0);

	/* canary 5 ms slower, well under max_p99_ms: the shift is exactly
	 * 5 on a baseline median of 24.5 (R: median of 20..29 six times),
	 * ratio 29.5 / 24.5 = 1.204 > 1.2; R's normal approximation with
	 * ties: U 3150, z 7.1050301527, two-sided p 1.20296e-12 */
	fill(c, 60, 25, 10, 0);
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_BASELINE_LATENCY);
	assert_int_equal(lat->cls, RIP_CLASS_HIGH);
	assert_string_equal(lat->test, "mann-whitney");
	assert_false(lat->exact);
	assert_near(lat->u, 3150, 0);
	assert_near(lat->z, 7.1050301526993085, 1e-9);
	assert_near(lat->p, 1.2029627298953101e-12, 1e-20);
	assert_near(lat->effect, 5, 0);
	assert_near(lat->baseline, 24.5, 0);
	assert_near(lat->canary, 29.5, 0);
	assert_near(lat->ratio, 29.5 / 24.5, 1e-12);
	assert_int_equal(lat->canary_n, 60);
	assert_int_equal(lat->canary_outliers, 0);
	assert_near(v.score, 50, 0);
	assert_non_null(strstr(v.msg, "canary slower than baseline"));
	assert_non_null(strstr(v.msg, "score 50 < marginal_score 75"));

	/* the same 5 ms within a 25% tolerance: significant, but a pass */
	g.effect_tolerance = 0.25;
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_int_equal(lat->cls, RIP_CLASS_PASS);
	assert_true(lat->p < 1e-9);
	/* or when a shift of 5 ms is no more than effect_min_ms */
	g.effect_tolerance = 0.2;
	g.effect_min_ms = 5;
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	g.effect_min_ms = 4.99;
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	g = gate_default();

	/* significantly but negligibly slower (1 ms, 4%; p 0.00096): a pass */
	fill(c, 200, 21, 10, 0);
	fill(b, 200, 20, 10, 0);
	verdict(&v, c, 200, b, 200, &g);
	assert_true(v.compared);
	assert_near(lat->p, 0.0009611672918401852, 1e-12);
	assert_near(lat->effect, 1, 0);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	/* 3 ms slower but only 3% of a 104.5 ms median: a pass too */
	fill(c, 200, 103, 10, 0);
	fill(b, 200, 100, 10, 0);
	verdict(&v, c, 200, b, 200, &g);
	assert_true(lat->p < 0.05);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	/* ten times slower: high, whatever the tolerance below 900% */
	fill(c, 60, 200, 10, 0);
	fill(b, 60, 20, 10, 0);
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_near(lat->effect, 180, 0);
	assert_true(lat->ratio > 8);
	/* faster: low, which never fails */
	verdict(&v, b, 60, c, 60, &g);
	assert_int_equal(lat->cls, RIP_CLASS_LOW);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_near(v.score, 100, 0);

	/* without compare_baseline the absolute gates alone decide */
	g.compare_baseline = false;
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_false(v.compared);

	/* the last step has no baseline: absolute gates alone */
	g.compare_baseline = true;
	verdict(&v, c, 60, NULL, 0, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_false(v.compared);
}

static void test_verdict_outliers(void **state)
{
	struct rip_sample c[60], b[60];
	struct rip_verdict v;
	struct rip_gate g = gate_default();
	const struct rip_judged *lat = &v.metrics[RIP_JUDGE_LATENCY];

	(void)state;
	/* one 5 s stall among 60 like the baseline's: dropped, a pass */
	fill(c, 60, 20, 10, 0);
	fill(b, 60, 20, 10, 0);
	c[17].ms = 5000;
	g.max_p99_ms = INFINITY;
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_int_equal(lat->canary_outliers, 1);
	assert_int_equal(lat->baseline_outliers, 0);
	assert_int_equal(lat->canary_n, 59);
	assert_int_equal(lat->baseline_n, 60);
	/* outliers = none: kept */
	g.outliers = false;
	verdict(&v, c, 60, b, 60, &g);
	assert_int_equal(lat->canary_outliers, 0);
	assert_int_equal(lat->canary_n, 60);

	/* a handful of probes keeps every one: a canary 100 times slower on
	 * 5 against 5 is seen (exact two-sided p 2/252), where dropping one
	 * stall each side would leave 4 against 4 (p 0.029) or less */
	g.outliers = true;
	g.min_samples = 5;
	fill(c, 5, 120, 5, 0);
	fill(b, 5, 1, 5, 0);
	c[2].ms = 2000;
	b[4].ms = 40;
	verdict(&v, c, 5, b, 5, &g);
	assert_int_equal(lat->canary_outliers, 0);
	assert_int_equal(lat->baseline_outliers, 0);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_near(lat->p, 2.0 / 252, 1e-12);
}

/* Canaries that answered no probe where the baseline answered fail the
 * comparison, however few the probes (2 of 2 against 0 of 2 is Fisher's
 * p 0.33, and latency has no data): never inconclusive, never a pass. */
static void test_verdict_dead_canary(void **state)
{
	struct rip_sample c[4], b[4];
	struct rip_verdict v;
	struct rip_gate g = gate_default();

	(void)state;
	g.max_error_rate = 1.0;       /* failure_limit still forgives */
	g.min_samples = 2;
	fill(c, 2, 20, 1, 1);
	fill(b, 2, 20, 1, 0);
	verdict(&v, c, 2, b, 2, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_BASELINE_ERRORS);
	assert_int_equal(v.metrics[RIP_JUDGE_ERRORS].cls, RIP_CLASS_HIGH);
	assert_int_equal(v.metrics[RIP_JUDGE_LATENCY].cls, RIP_CLASS_NODATA);
	assert_near(v.metrics[RIP_JUDGE_ERRORS].p, 1.0 / 3, 1e-12);
	/* both sides dead: nothing to compare against, no verdict of it */
	fill(b, 2, 20, 1, 1);
	verdict(&v, c, 2, b, 2, &g);
	assert_int_not_equal(v.kind, RIP_VERDICT_PASS);
	assert_int_not_equal(v.metrics[RIP_JUDGE_ERRORS].cls, RIP_CLASS_HIGH);
}

static void test_verdict_baseline_errors(void **state)
{
	struct rip_sample c[200], b[200];
	struct rip_verdict v;
	struct rip_gate g = gate_default();
	const struct rip_judged *e = &v.metrics[RIP_JUDGE_ERRORS];

	(void)state;
	/* 20% vs 10% of errors under a 50% absolute limit: two-sided
	 * z-test, R's prop.test(correct = FALSE): p 0.04767 < 0.05 */
	g.max_error_rate = 0.5;
	fill(c, 100, 20, 10, 5);
	fill(b, 100, 20, 10, 10);
	verdict(&v, c, 100, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_BASELINE_ERRORS);
	assert_int_equal(e->cls, RIP_CLASS_HIGH);
	assert_false(e->exact);
	assert_string_equal(e->test, "z-test");
	assert_near(e->z, 1.9802950859533488, 1e-12);
	assert_near(e->p, 0.04767038065616144, 1e-12);
	assert_near(e->effect, 0.1, 1e-15);
	assert_near(e->ratio, 2, 1e-15);
	assert_true(isnan(e->u));
	assert_non_null(strstr(v.msg, "canary errors 20 of 100 above "
		"baseline 10 of 100"));
	/* at 99% confidence the same is not significant */
	g.alpha = 0.01;
	verdict(&v, c, 100, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	g.alpha = 0;

	/* 3 of 40 vs 1 of 60: Fisher, two-sided p 0.3003 (R's
	 * fisher.test(matrix(c(3, 37, 1, 59), 2))): pass */
	fill(c, 40, 20, 10, 0);
	fill(b, 60, 20, 10, 0);
	c[3].ok = c[13].ok = c[23].ok = false;
	b[7].ok = false;
	verdict(&v, c, 40, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	assert_true(e->exact);
	assert_string_equal(e->test, "fisher");
	assert_near(e->p, rip_stats_fisher(3, 37, 1, 59, RIP_ALT_TWO_SIDED),
		0);

	/* a canary whose every probe fails, judged by the comparison alone:
	 * latency has no data, errors decide, score 0 */
	g.max_error_rate = 1;
	for (int i = 0; i < 40; i++)
		c[i].ok = false;
	verdict(&v, c, 40, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_BASELINE_ERRORS);
	assert_int_equal(v.metrics[RIP_JUDGE_LATENCY].cls, RIP_CLASS_NODATA);
	assert_near(v.score, 0, 0);
	/* both sides failing everything: errors pass, latency has no data:
	 * inconclusive, never a pass for lack of evidence */
	for (int i = 0; i < 60; i++)
		b[i].ok = false;
	verdict(&v, c, 40, b, 60, &g);
	assert_int_equal(v.kind, RIP_VERDICT_INCONCLUSIVE);
	assert_int_equal(v.gate, RIP_GATE_SAMPLES);
	assert_near(v.score, 100, 0);         /* of the metrics with data */

	/* a NaN latency is refused; alpha outside (0, 1) too */
	{
		struct rip_err err = { 0 };

		fill(c, 40, 20, 10, 0);
		c[0].ms = NAN;
		assert_int_equal(rip_stats_verdict(&v, c, 40, b, 60, &g,
			&err), RIP_EFAIL);
		assert_err_contains(&err, "canary probe 1 has no latency");
		g.alpha = 2;
		assert_int_equal(rip_stats_verdict(&v, b, 40, b, 60, &g,
			&err), RIP_EFAIL);
	}
}

/*
 * The score: latency 80, errors 20. Errors high alone scores 80,
 * latency high alone 20; each boundary is inclusive on the passing side
 * (a score equal to marginal_score is marginal, equal to pass_score a
 * pass), as Kayenta's ThresholdScoreClassifier.
 */
static void test_verdict_score(void **state)
{
	struct rip_sample c[100], b[100];
	struct rip_verdict v;
	struct rip_gate g = gate_default();

	(void)state;
	g.max_error_rate = 0.5;
	g.weights[RIP_JUDGE_LATENCY] = 80;
	g.weights[RIP_JUDGE_ERRORS] = 20;
	fill(c, 100, 20, 10, 5);              /* errors high (20% vs 10%) */
	fill(b, 100, 20, 10, 10);
	verdict(&v, c, 100, b, 100, &g);
	assert_near(v.score, 80, 0);
	assert_int_equal(v.kind, RIP_VERDICT_INCONCLUSIVE);
	assert_int_equal(v.gate, RIP_GATE_MARGINAL);
	assert_non_null(strstr(v.msg, "marginal: score 80 < pass_score 95"));
	g.marginal_score = 80;                /* 80 is not below 80 */
	verdict(&v, c, 100, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_INCONCLUSIVE);
	g.marginal_score = 80.5;
	verdict(&v, c, 100, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_BASELINE_ERRORS);
	g.marginal_score = 75;
	g.pass_score = 80;                    /* 80 reaches 80: a pass */
	verdict(&v, c, 100, b, 100, &g);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);
	g.pass_score = 95;

	/* latency high alone: 20 < 75 fails */
	fill(c, 100, 200, 10, 10);
	verdict(&v, c, 100, b, 100, &g);
	assert_near(v.score, 20, 0);
	assert_int_equal(v.kind, RIP_VERDICT_FAIL);
	assert_int_equal(v.gate, RIP_GATE_BASELINE_LATENCY);
	/* both high: 0, the heavier (latency) names the gate */
	fill(c, 100, 200, 10, 5);
	verdict(&v, c, 100, b, 100, &g);
	assert_near(v.score, 0, 0);
	assert_int_equal(v.gate, RIP_GATE_BASELINE_LATENCY);
	/* weight 0 is report only: latency high, still classified, not
	 * scored */
	g.weights[RIP_JUDGE_LATENCY] = 0;
	fill(c, 100, 200, 10, 10);
	verdict(&v, c, 100, b, 100, &g);
	assert_int_equal(v.metrics[RIP_JUDGE_LATENCY].cls, RIP_CLASS_HIGH);
	assert_near(v.score, 100, 0);
	assert_int_equal(v.kind, RIP_VERDICT_PASS);

	/* refused: every weight 0, marginal above pass, pass above 100 */
	{
		struct rip_err err = { 0 };

		g.weights[RIP_JUDGE_ERRORS] = 0;
		assert_int_equal(rip_stats_verdict(&v, c, 100, b, 100, &g,
			&err), RIP_EFAIL);
		assert_err_contains(&err, "nothing to score");
		g = gate_default();
		g.marginal_score = 96;
		assert_int_equal(rip_stats_verdict(&v, c, 100, b, 100, &g,
			&err), RIP_EFAIL);
		g.marginal_score = 75;
		g.pass_score = 101;
		assert_int_equal(rip_stats_verdict(&v, c, 100, b, 100, &g,
			&err), RIP_EFAIL);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rip_verdict_name(RIP_VERDICT_INCONCLUSIVE),
		"inconclusive");
	assert_string_equal(rip_judge_metric_name(RIP_JUDGE_LATENCY),
		"latency");
	assert_string_equal(rip_judge_metric_name(RIP_JUDGE_ERRORS), "errors");
	assert_string_equal(rip_judge_class_name(RIP_CLASS_HIGH), "high");
	assert_string_equal(rip_judge_class_name(RIP_CLASS_NODATA), "nodata");
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
		cmocka_unit_test(test_quantile7),
		cmocka_unit_test(test_hodges_lehmann),
		cmocka_unit_test(test_iqr_filter),
		cmocka_unit_test(test_mwu_two_sided_exhaustive),
		cmocka_unit_test(test_verdict_absolute),
		cmocka_unit_test(test_verdict_comparison),
		cmocka_unit_test(test_verdict_outliers),
		cmocka_unit_test(test_verdict_dead_canary),
		cmocka_unit_test(test_verdict_baseline_errors),
		cmocka_unit_test(test_verdict_score),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
