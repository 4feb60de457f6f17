/* SPDX-License-Identifier: MIT */
/*
 * stats.c: step arithmetic, quantiles, the Mann-Whitney U, Fisher and
 * two-proportion tests, the Hodges-Lehmann estimate, Kayenta's IQR
 * outlier filter, and the verdict of a rollout step: Kayenta's canary
 * judge (classify each metric, score the weighted share that passes).
 *
 * The formulas are R's (wilcox.test, fisher.test, prop.test, quantile),
 * so a user can check a verdict by pasting the probes into R. The exact Mann-Whitney
 * distribution is the coefficient list of the Gaussian binomial
 * [m+n choose m]_q, built one factor (1 - q^(n+i)) / (1 - q^i) at a time:
 * every intermediate list is itself a Gaussian binomial, so int64 counts
 * stay exact (at most C(40, 20) ~ 1.4e11 under RIP_STATS_EXACT_MAX_CELLS)
 * and live on the stack. Fisher sums hypergeometric terms from lgamma_r
 * (lgamma writes the global signgam; probes may run on threads).
 *
 * Tuned for determinism and clarity: a step sees thousands of probes, so
 * ranking is one qsort, Fisher one pass over the support, and the
 * Hodges-Lehmann median of nx * ny differences a bisection on the bits of
 * a double (at most 64 counting passes) instead of nx * ny doubles.
 */
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "ripcord/stats.h"
#include "banned.h"

/* ---- steps --------------------------------------------------------------- */

size_t rip_steps_targets(double fraction, size_t n)
{
	double x, r;
	size_t k;

	if (!n)
		return 0;
	if (!(fraction > 0))
		return 1;
	if (fraction >= 1)
		return n;
	x = fraction * (double)n;
	r = nearbyint(x);
	k = fabs(x - r) <= 1e-9 * fmax(1.0, x) ? (size_t)r : (size_t)ceil(x);
	if (k < 1)
		k = 1;
	return k > n ? n : k;
}

int rip_steps_plan(size_t *out, size_t *out_n, const struct rip_steps *steps,
	size_t n_targets, struct rip_err *err)
{
	size_t n = 0;

	*out_n = 0;
	if (!n_targets)
		return rip_err_set(err, RIP_ECONFIG,
			"rollout has no targets (add a [target \"NAME\"] "
			"section)");
	if (!steps->n)
		return rip_err_set(err, RIP_ECONFIG,
			"rollout steps are empty (expected a list such as "
			"25%%, 50%%, 100%%)");
	for (size_t i = 0; i < steps->n; i++) {
		double f = steps->v[i];

		if (!(f > 0 && f <= 1))
			return rip_err_set(err, RIP_ECONFIG,
				"rollout step %zu is %g%%, not in (0%%, 100%%]",
				i + 1, f * 100);
		if (i && f <= steps->v[i - 1])
			return rip_err_set(err, RIP_ECONFIG,
				"rollout step %zu (%g%%) does not increase "
				"(steps must grow, such as 25%%, 50%%, 100%%)",
				i + 1, f * 100);
	}
	if (steps->v[steps->n - 1] != 1.0)
		return rip_err_set(err, RIP_ECONFIG,
			"rollout steps end at %g%%, not 100%% (add 100%% as "
			"the last step)", steps->v[steps->n - 1] * 100);
	for (size_t i = 0; i < steps->n; i++) {
		size_t k = rip_steps_targets(steps->v[i], n_targets);

		if (n && k <= out[n - 1])
			continue;
		out[n++] = k;
	}
	*out_n = n;
	return 0;
}

/* ---- descriptive --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void rip_stats_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_double);
}

double rip_stats_quantile(const double *sorted, size_t n, double q)
{
	double x, r;
	size_t rank;

	if (!n)
		return NAN;
	if (!(q > 0))
		return sorted[0];
	if (q >= 1)
		return sorted[n - 1];
	/* the same 1e-9 rounding as rip_steps_targets: 0.99 * 100 is 99 */
	x = q * (double)n;
	r = nearbyint(x);
	rank = fabs(x - r) <= 1e-9 * fmax(1.0, x) ? (size_t)r : (size_t)ceil(x);
	if (rank < 1)
		rank = 1;
	return sorted[(rank > n ? n : rank) - 1];
}

double rip_stats_norm_sf(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

/* ---- Mann-Whitney -------------------------------------------------------- */

struct ranked {
	double v;
	int side;                 /* 0: x, 1: y */
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->v != y->v)
		return (x->v > y->v) - (x->v < y->v);
	return x->side - y->side;
}

/*
 * P(U <= u) and P(U >= u) for U of samples of sizes m and n without ties,
 * m * n <= RIP_STATS_EXACT_MAX_CELLS.
 */
static void mwu_exact(double *le, double *ge, size_t m, size_t n, size_t u)
{
	int64_t c[RIP_STATS_EXACT_MAX_CELLS + 1] = { 1 };
	size_t deg = 0;
	double total = 0, below = 0, above = 0;

	if (m > n) {
		size_t t = m;

		m = n;
		n = t;
	}
	for (size_t i = 1; i <= m; i++) {
		size_t s = n + i, top = deg + n;

		for (size_t k = deg + 1; k <= top; k++)
			c[k] = 0;
		for (size_t k = top; k >= s; k--)
			c[k] -= c[k - s];
		for (size_t k = i; k <= top; k++)
			c[k] += c[k - i];
		deg = top;
	}
	for (size_t k = 0; k <= deg; k++) {
		total += (double)c[k];
		if (k <= u)
			below += (double)c[k];
		if (k >= u)
			above += (double)c[k];
	}
	*le = below / total;
	*ge = above / total;
}

/* Ranks x and y together; *r1 is x's rank sum, *ties sum(t^3 - t). */
static void rank_sum(double *r1, double *ties, bool *any_tie,
	struct ranked *all, size_t n)
{
	*r1 = 0;
	*ties = 0;
	*any_tie = false;
	qsort(all, n, sizeof(*all), cmp_ranked);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		double rank, t;

		while (j < n && all[j].v == all[i].v)
			j++;
		rank = ((double)i + 1 + (double)j) / 2;
		for (size_t k = i; k < j; k++)
			if (!all[k].side)
				*r1 += rank;
		t = (double)(j - i);
		*ties += t * t * t - t;
		if (j - i > 1)
			*any_tie = true;
		i = j;
	}
}

static double tail_p(double z, enum rip_alt alt)
{
	switch (alt) {
	case RIP_ALT_GREATER:
		return rip_stats_norm_sf(z);
	case RIP_ALT_LESS:
		return rip_stats_norm_sf(-z);
	case RIP_ALT_TWO_SIDED:
	default:
		return fmin(1.0, 2 * rip_stats_norm_sf(fabs(z)));
	}
}

int rip_stats_mann_whitney(struct rip_mwu *out, const double *x, size_t nx,
	const double *y, size_t ny, enum rip_alt alt, struct rip_err *err)
{
	struct ranked *all;
	double m = (double)nx, n = (double)ny, N = m + n;
	double r1, ties, d, sigma, corr;
	bool any_tie;

	memset(out, 0, sizeof(*out));
	out->p = 1;
	if (!nx || !ny)
		return rip_err_set(err, RIP_EFAIL,
			"mann-whitney needs a sample on each side (got %zu "
			"and %zu)", nx, ny);
	if (nx > SIZE_MAX / sizeof(*all) - ny)
		return rip_err_set(err, RIP_EFAIL,
			"mann-whitney: %zu + %zu samples are too many", nx, ny);
	all = rip_xmalloc((nx + ny) * sizeof(*all));
	for (size_t i = 0; i < nx + ny; i++) {
		all[i].v = i < nx ? x[i] : y[i - nx];
		all[i].side = i >= nx;
		if (isnan(all[i].v)) {
			free(all);
			return rip_err_set(err, RIP_EFAIL,
				"mann-whitney sample %zu of %s is not a number",
				(i < nx ? i : i - nx) + 1, i < nx ? "x" : "y");
		}
	}
	rank_sum(&r1, &ties, &any_tie, all, nx + ny);
	free(all);

	out->u = r1 - m * (m + 1) / 2;
	d = out->u - m * n / 2;
	sigma = sqrt(m * n / 12 * ((N + 1) - ties / (N * (N - 1))));
	if (alt == RIP_ALT_TWO_SIDED)
		corr = d > 0 ? 0.5 : d < 0 ? -0.5 : 0;
	else
		corr = alt == RIP_ALT_GREATER ? 0.5 : -0.5;
	if (sigma > 0 && isfinite(sigma)) {
		out->z = (d - corr) / sigma;
		out->p = tail_p(out->z, alt);
	}
	if (!any_tie && m * n <= RIP_STATS_EXACT_MAX_CELLS) {
		double le, ge;

		mwu_exact(&le, &ge, nx, ny, (size_t)out->u);
		out->exact = true;
		if (alt == RIP_ALT_GREATER)
			out->p = ge;
		else if (alt == RIP_ALT_LESS)
			out->p = le;
		else
			out->p = fmin(1.0, 2 * (d > 0 ? ge : le));
	}
	return 0;
}

/* ---- effect size and outliers ------------------------------------------ */

double rip_stats_quantile7(const double *sorted, size_t n, double q)
{
	double h, lo;
	size_t i;

	if (!n)
		return NAN;
	if (!(q > 0))
		return sorted[0];
	if (q >= 1)
		return sorted[n - 1];
	h = (double)(n - 1) * q;
	lo = floor(h);
	i = (size_t)lo;
	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (h - lo) * (sorted[i + 1] - sorted[i]);
}

/* A double's place in the order of doubles, as an unsigned integer:
 * consecutive doubles have consecutive keys (NaN excluded). */
static uint64_t order_key(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

static double from_key(uint64_t k)
{
	uint64_t u = k >> 63 ? k & ~(UINT64_C(1) << 63) : ~k;
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

/*
 * How many differences x[i] - y[j] (as computed in double) are <= d.
 * fl(x - y) grows with x and falls with y (rounding is monotone), so for
 * each x[i] the pairs that count are a suffix of y, and its start only
 * moves right as i grows.
 */
static uint64_t count_le(const double *x, size_t nx, const double *y,
	size_t ny, double d)
{
	uint64_t count = 0;
	size_t j = 0;

	for (size_t i = 0; i < nx; i++) {
		while (j < ny && x[i] - y[j] > d)
			j++;
		count += ny - j;
	}
	return count;
}

/* The k-th smallest (1-based) difference x[i] - y[j]: the smallest
 * double d with count_le(d) >= k, which is always a difference. */
static double kth_difference(const double *x, size_t nx, const double *y,
	size_t ny, uint64_t k)
{
	uint64_t lo = order_key(x[0] - y[ny - 1]) - 1;   /* count 0 < k */
	uint64_t hi = order_key(x[nx - 1] - y[0]);       /* count nx ny */

	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (count_le(x, nx, y, ny, from_key(mid)) >= k)
			hi = mid;
		else
			lo = mid;
	}
	return from_key(hi) + 0.0;      /* -0 is 0 */
}

double rip_stats_hodges_lehmann(const double *x, size_t nx, const double *y,
	size_t ny)
{
	uint64_t n;

	if (!nx || !ny || nx > UINT64_MAX / ny)
		return NAN;
	n = (uint64_t)nx * ny;
	if (n % 2)
		return kth_difference(x, nx, y, ny, n / 2 + 1);
	return (kth_difference(x, nx, y, ny, n / 2) +
		kth_difference(x, nx, y, ny, n / 2 + 1)) / 2;
}

size_t rip_stats_iqr_filter(double *v, size_t n, double factor)
{
	double q1, q3, lo, hi;
	size_t first = 0, end = n;

	if (!(factor > 0) || n < 4)
		return n;
	q1 = rip_stats_quantile7(v, n, 0.25);
	q3 = rip_stats_quantile7(v, n, 0.75);
	lo = fmin(rip_stats_quantile7(v, n, 0.01), q1 - factor * (q3 - q1));
	hi = fmax(rip_stats_quantile7(v, n, 0.99), q3 + factor * (q3 - q1));
	while (first < end && v[first] < lo)
		first++;
	while (end > first && v[end - 1] > hi)
		end--;
	if (first)
		memmove(v, v + first, (end - first) * sizeof(*v));
	return end - first;
}

/* ---- proportions --------------------------------------------------------- */

static double lchoose(double n, double k)
{
	int sign;

	return lgamma_r(n + 1, &sign) - lgamma_r(k + 1, &sign) -
	       lgamma_r(n - k + 1, &sign);
}

double rip_stats_fisher(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
	enum rip_alt alt)
{
	double row1 = (double)a + (double)b, col1 = (double)a + (double)c;
	double N = row1 + (double)c + (double)d, row2 = N - row1;
	uint64_t lo = col1 > row2 ? (uint64_t)(col1 - row2) : 0;
	uint64_t hi = (uint64_t)fmin(row1, col1);
	double lden = lchoose(N, row1), seen, p = 0;

	seen = exp(lchoose(col1, (double)a) +
		lchoose(N - col1, row1 - (double)a) - lden);
	for (uint64_t k = lo; k <= hi; k++) {
		double pk;

		if ((alt == RIP_ALT_GREATER && k < a) ||
		    (alt == RIP_ALT_LESS && k > a))
			continue;
		pk = exp(lchoose(col1, (double)k) +
			lchoose(N - col1, row1 - (double)k) - lden);
		if (alt == RIP_ALT_TWO_SIDED && pk > seen * (1 + 1e-7))
			continue;
		p += pk;
	}
	return fmin(1.0, fmax(0.0, p));
}

int rip_stats_prop_test(struct rip_prop *out, uint64_t x_err, uint64_t x_n,
	uint64_t y_err, uint64_t y_n, enum rip_alt alt, struct rip_err *err)
{
	double n1 = (double)x_n, n2 = (double)y_n, N = n1 + n2;
	double e = (double)x_err + (double)y_err, pool, se;

	memset(out, 0, sizeof(*out));
	out->p = 1;
	if (!x_n || !y_n || x_err > x_n || y_err > y_n)
		return rip_err_set(err, RIP_EFAIL,
			"proportion test of %llu/%llu against %llu/%llu: "
			"needs counts within non-zero totals",
			(unsigned long long)x_err, (unsigned long long)x_n,
			(unsigned long long)y_err, (unsigned long long)y_n);
	pool = e / N;
	se = sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2));
	if (se > 0) {
		out->z = ((double)x_err / n1 - (double)y_err / n2) / se;
		out->p = tail_p(out->z, alt);
	}
	/* the smallest expected count is the smallest row times column */
	if (fmin(n1, n2) * fmin(e, N - e) / N < 5) {
		out->exact = true;
		out->p = rip_stats_fisher(x_err, x_n - x_err, y_err,
			y_n - y_err, alt);
	}
	return 0;
}

/* ---- the verdict --------------------------------------------------------- */

const char *rip_verdict_name(enum rip_verdict_kind kind)
{
	switch (kind) {
	case RIP_VERDICT_PASS: return "pass";
	case RIP_VERDICT_FAIL: return "fail";
	case RIP_VERDICT_INCONCLUSIVE: return "inconclusive";
	}
	return "?";
}

const char *rip_judge_metric_name(enum rip_judge_metric m)
{
	switch (m) {
	case RIP_JUDGE_LATENCY: return "latency";
	case RIP_JUDGE_ERRORS: return "errors";
	case RIP_JUDGE_METRICS: break;
	}
	return "?";
}

const char *rip_judge_class_name(enum rip_judge_class c)
{
	switch (c) {
	case RIP_CLASS_PASS: return "pass";
	case RIP_CLASS_HIGH: return "high";
	case RIP_CLASS_LOW: return "low";
	case RIP_CLASS_NODATA: return "nodata";
	}
	return "?";
}

void rip_gate_init(struct rip_gate *g)
{
	*g = (struct rip_gate){
		.max_error_rate = 0.01,
		.max_p99_ms = 500,
		.compare_baseline = true,
		.min_samples = 20,
		.alpha = RIP_STATS_ALPHA,
		.effect_tolerance = 0.20,
		.effect_min_ms = 2,
		.outliers = true,
		.weights = { [RIP_JUDGE_LATENCY] = 50, [RIP_JUDGE_ERRORS] = 50 },
		.pass_score = 95,
		.marginal_score = 75,
	};
}

/*
 * Copies the latencies of the successful samples into *lat (allocated,
 * sorted; the caller frees it) and counts the errors. RIP_EFAIL on a NaN.
 */
static int split_samples(double **lat, size_t *n_ok, size_t *n_err,
	const struct rip_sample *s, size_t n, const char *who,
	struct rip_err *err)
{
	*lat = rip_xmalloc((n ? n : 1) * sizeof(**lat));
	*n_ok = 0;
	*n_err = 0;
	for (size_t i = 0; i < n; i++) {
		if (!s[i].ok) {
			(*n_err)++;
			continue;
		}
		if (isnan(s[i].ms)) {
			free(*lat);
			*lat = NULL;
			return rip_err_set(err, RIP_EFAIL,
				"%s probe %zu has no latency (NaN)", who,
				i + 1);
		}
		(*lat)[(*n_ok)++] = s[i].ms;
	}
	rip_stats_sort(*lat, *n_ok);
	return 0;
}

static void verdict_set(struct rip_verdict *v, enum rip_verdict_kind kind,
	enum rip_gate_id gate, const char *fmt, ...) RIP_PRINTF(4, 5);

static void verdict_set(struct rip_verdict *v, enum rip_verdict_kind kind,
	enum rip_gate_id gate, const char *fmt, ...)
{
	va_list ap;

	v->kind = kind;
	v->gate = gate;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

static int gate_check(const struct rip_gate *g, double alpha,
	struct rip_err *err)
{
	unsigned total = 0;

	if (!(alpha > 0 && alpha < 1))
		return rip_err_set(err, RIP_EFAIL,
			"gate alpha %g is not in (0, 1)", alpha);
	if (!(g->marginal_score >= 0 && g->marginal_score <= g->pass_score &&
	      g->pass_score <= 100))
		return rip_err_set(err, RIP_EFAIL, "gate scores marginal %g and "
			"pass %g are not 0 <= marginal <= pass <= 100",
			g->marginal_score, g->pass_score);
	for (size_t m = 0; m < RIP_JUDGE_METRICS; m++)
		total += g->weights[m];
	if (g->compare_baseline && !total)
		return rip_err_set(err, RIP_EFAIL, "every metric weight is 0: "
			"nothing to score");
	return 0;
}

/*
 * The latency metric: Mann-Whitney on the successful probes (outliers
 * dropped), and the Hodges-Lehmann shift against the tolerance. cl and bl
 * are sorted and may be shortened in place by the filter.
 */
static int judge_latency(struct rip_judged *j, double *cl, size_t ncl,
	double *bl, size_t nbl, const struct rip_gate *g, double alpha,
	struct rip_err *err)
{
	struct rip_mwu mw;
	bool worse, better;
	int rc;

	if (g->outliers) {
		size_t kc = ncl < RIP_STATS_IQR_MIN_N ? ncl :
			rip_stats_iqr_filter(cl, ncl, RIP_STATS_IQR_FACTOR);
		size_t kb = nbl < RIP_STATS_IQR_MIN_N ? nbl :
			rip_stats_iqr_filter(bl, nbl, RIP_STATS_IQR_FACTOR);

		j->canary_outliers = ncl - kc;
		j->baseline_outliers = nbl - kb;
		ncl = kc;
		nbl = kb;
	}
	j->canary_n = ncl;
	j->baseline_n = nbl;
	j->test = "mann-whitney";
	if (!ncl || !nbl) {
		j->cls = RIP_CLASS_NODATA;
		return 0;
	}
	if ((rc = rip_stats_mann_whitney(&mw, cl, ncl, bl, nbl,
			RIP_ALT_TWO_SIDED, err)) < 0)
		return rc;
	j->u = mw.u;
	j->z = mw.z;
	j->p = mw.p;
	j->exact = mw.exact;
	j->canary = rip_stats_quantile7(cl, ncl, 0.5);
	j->baseline = rip_stats_quantile7(bl, nbl, 0.5);
	j->effect = rip_stats_hodges_lehmann(cl, ncl, bl, nbl);
	j->ratio = j->baseline > 0 ? (j->baseline + j->effect) / j->baseline :
		j->effect > 0 ? INFINITY : 1;
	/* significant is not enough: with a few hundred probes the test
	 * sees a systematic 0.3 ms; the shift must matter as well */
	worse = j->effect > g->effect_min_ms &&
		j->ratio > 1 + g->effect_tolerance;
	better = -j->effect > g->effect_min_ms &&
		j->ratio < 1 - g->effect_tolerance;
	j->cls = j->p < alpha && worse ? RIP_CLASS_HIGH :
		j->p < alpha && better ? RIP_CLASS_LOW : RIP_CLASS_PASS;
	return 0;
}

/* The errors metric: the canaries' share of failed probes against the
 * baseline's, two-sided; any significant increase is high. */
static int judge_errors(struct rip_judged *j, const struct rip_verdict *v,
	double alpha, struct rip_err *err)
{
	struct rip_prop t;
	int rc;

	if ((rc = rip_stats_prop_test(&t, v->canary_errors, v->canary_n,
			v->baseline_errors, v->baseline_n, RIP_ALT_TWO_SIDED,
			err)) < 0)
		return rc;
	j->canary_n = v->canary_n;
	j->baseline_n = v->baseline_n;
	j->test = t.exact ? "fisher" : "z-test";
	j->exact = t.exact;
	j->u = NAN;
	j->z = t.z;
	j->p = t.p;
	j->canary = (double)v->canary_errors / (double)v->canary_n;
	j->baseline = (double)v->baseline_errors / (double)v->baseline_n;
	j->effect = j->canary - j->baseline;
	j->ratio = j->baseline > 0 ? j->canary / j->baseline :
		j->canary > 0 ? INFINITY : 1;
	j->cls = j->p >= alpha || j->effect == 0 ? RIP_CLASS_PASS :
		j->effect > 0 ? RIP_CLASS_HIGH : RIP_CLASS_LOW;
	/* canaries that answered no probe where the baseline answered are
	 * worse whatever a test of few probes says (2 of 2 against 0 of 2
	 * is p 0.33), and their latency has no data to say it */
	if (v->canary_errors == v->canary_n &&
	    v->baseline_errors < v->baseline_n)
		j->cls = RIP_CLASS_HIGH;
	return 0;
}

/* The heaviest high metric, errors first on a tie (latency when none
 * is high, which a score below 100 rules out). */
static enum rip_judge_metric heaviest_high(const struct rip_verdict *v)
{
	static const enum rip_judge_metric order[] = { RIP_JUDGE_ERRORS,
		RIP_JUDGE_LATENCY };
	enum rip_judge_metric best = RIP_JUDGE_METRICS;

	for (size_t i = 0; i < RIP_ARRAY_SIZE(order); i++) {
		const struct rip_judged *j = &v->metrics[order[i]];

		if (j->cls == RIP_CLASS_HIGH && (best == RIP_JUDGE_METRICS ||
		    j->weight > v->metrics[best].weight))
			best = order[i];
	}
	/* a score below 100 needs a high metric; never index past them */
	return best == RIP_JUDGE_METRICS ? RIP_JUDGE_LATENCY : best;
}

/* "latency high (HL +3.2 ms, ratio 1.16, p 0.0021)" for msg. */
static void describe(char *out, size_t len, const struct rip_verdict *v,
	enum rip_judge_metric m)
{
	const struct rip_judged *j = &v->metrics[m];

	if (m == RIP_JUDGE_ERRORS)
		snprintf(out, len, "canary errors %zu of %zu above baseline %zu "
			"of %zu (%s p %.3g < alpha %g)", v->canary_errors,
			v->canary_n, v->baseline_errors, v->baseline_n, j->test,
			j->p, v->alpha);
	else
		snprintf(out, len, "canary slower than baseline: median %.4g ms "
			"vs %.4g ms, shift %+.3g ms (ratio %.3g), mann-whitney U "
			"%g, p %.3g < alpha %g", j->canary, j->baseline, j->effect,
			j->ratio, j->u, j->p, v->alpha);
}

/* Step 3 of rip_stats_verdict: classifies, scores and decides; leaves v
 * untouched when the score passes. */
static int compare(struct rip_verdict *v, double *cl, size_t ncl,
	double *bl, size_t nbl, const struct rip_gate *g,
	struct rip_err *err)
{
	double scored = 0, passed = 0;
	enum rip_judge_metric worst;
	bool nodata = false;
	char what[256];
	int rc;

	v->compared = true;
	if ((rc = judge_latency(&v->metrics[RIP_JUDGE_LATENCY], cl, ncl, bl,
			nbl, g, v->alpha, err)) < 0 ||
	    (rc = judge_errors(&v->metrics[RIP_JUDGE_ERRORS], v, v->alpha,
			err)) < 0)
		return rc;
	for (size_t m = 0; m < RIP_JUDGE_METRICS; m++) {
		struct rip_judged *j = &v->metrics[m];

		j->weight = g->weights[m];
		if (!j->weight)
			continue;
		if (j->cls == RIP_CLASS_NODATA) {
			nodata = true;
			continue;
		}
		scored += j->weight;
		if (j->cls != RIP_CLASS_HIGH)
			passed += j->weight;
	}
	v->score = scored > 0 ? 100 * passed / scored : NAN;
	if (v->score < g->marginal_score) {
		worst = heaviest_high(v);
		describe(what, sizeof(what), v, worst);
		verdict_set(v, RIP_VERDICT_FAIL, worst == RIP_JUDGE_ERRORS ?
			RIP_GATE_BASELINE_ERRORS : RIP_GATE_BASELINE_LATENCY,
			"%s; score %.0f < marginal_score %g", what, v->score,
			g->marginal_score);
	} else if (nodata) {
		verdict_set(v, RIP_VERDICT_INCONCLUSIVE, RIP_GATE_SAMPLES,
			"no successful probe on one side to compare latency "
			"(%zu canary, %zu baseline)", ncl, nbl);
	} else if (v->score < g->pass_score) {
		worst = heaviest_high(v);
		describe(what, sizeof(what), v, worst);
		verdict_set(v, RIP_VERDICT_INCONCLUSIVE, RIP_GATE_MARGINAL,
			"marginal: score %.0f < pass_score %g (%s)", v->score,
			g->pass_score, what);
	}
	return 0;
}

int rip_stats_verdict(struct rip_verdict *out, const struct rip_sample *canary,
	size_t n_canary, const struct rip_sample *baseline, size_t n_baseline,
	const struct rip_gate *gate, struct rip_err *err)
{
	double *cl = NULL, *bl = NULL;
	size_t ncl, nbl;
	int error = 0;

	memset(out, 0, sizeof(*out));
	out->canary_error_rate = out->canary_p99_ms = NAN;
	out->baseline_p99_ms = out->score = NAN;
	out->canary_n = n_canary;
	out->baseline_n = n_baseline;
	out->alpha = gate->alpha ? gate->alpha : RIP_STATS_ALPHA;
	if ((error = gate_check(gate, out->alpha, err)) < 0)
		return error;
	if ((error = split_samples(&cl, &ncl, &out->canary_errors, canary,
		     n_canary, "canary", err)) < 0 ||
	    (error = split_samples(&bl, &nbl, &out->baseline_errors, baseline,
		     n_baseline, "baseline", err)) < 0)
		goto done;
	out->canary_p99_ms = rip_stats_quantile(cl, ncl, 0.99);
	out->baseline_p99_ms = rip_stats_quantile(bl, nbl, 0.99);

	if (!n_canary) {
		verdict_set(out, RIP_VERDICT_INCONCLUSIVE, RIP_GATE_SAMPLES,
			"no canary probe yet");
		goto done;
	}
	out->canary_error_rate = (double)out->canary_errors / (double)n_canary;
	if (out->canary_error_rate > gate->max_error_rate) {
		verdict_set(out, RIP_VERDICT_FAIL, RIP_GATE_ERROR_RATE,
			"canary error rate %.4g%% (%zu of %zu probes) > "
			"max_error_rate %.4g%%", out->canary_error_rate * 100,
			out->canary_errors, n_canary,
			gate->max_error_rate * 100);
		goto done;
	}
	if (ncl && out->canary_p99_ms > gate->max_p99_ms) {
		verdict_set(out, RIP_VERDICT_FAIL, RIP_GATE_P99,
			"canary p99 %.4g ms > max_p99_ms %g", out->canary_p99_ms,
			gate->max_p99_ms);
		goto done;
	}
	if (gate->compare_baseline && n_baseline) {
		if (n_canary < gate->min_samples ||
		    n_baseline < gate->min_samples) {
			verdict_set(out, RIP_VERDICT_INCONCLUSIVE,
				RIP_GATE_SAMPLES, "%zu canary and %zu baseline "
				"probes of min_samples %zu: waiting", n_canary,
				n_baseline, gate->min_samples);
			goto done;
		}
		if ((error = compare(out, cl, ncl, bl, nbl, gate, err)) < 0 ||
		    out->kind != RIP_VERDICT_PASS)
			goto done;
	}
	if (out->compared)
		verdict_set(out, RIP_VERDICT_PASS, RIP_GATE_NONE,
			"canary error rate %.4g%% (%zu of %zu), p99 %.4g ms, "
			"score %.0f of pass_score %g",
			out->canary_error_rate * 100, out->canary_errors, n_canary,
			out->canary_p99_ms, out->score, gate->pass_score);
	else
		verdict_set(out, RIP_VERDICT_PASS, RIP_GATE_NONE,
			"canary error rate %.4g%% (%zu of %zu), p99 %.4g ms",
			out->canary_error_rate * 100, out->canary_errors, n_canary,
			out->canary_p99_ms);
done:
	free(cl);
	free(bl);
	return error;
}
