/* SPDX-License-Identifier: MIT */
/*
 * stats.c: step arithmetic, nearest-rank quantiles, the Mann-Whitney U,
 * Fisher and two-proportion tests, and the verdict of a rollout step
 * (stats.h).
 *
 * The formulas are R's (wilcox.test, fisher.test, prop.test), so a user
 * can check a verdict by pasting the probes into R. The exact Mann-Whitney
 * distribution is the coefficient list of the Gaussian binomial
 * [m+n choose m]_q, built one factor (1 - q^(n+i)) / (1 - q^i) at a time:
 * every intermediate list is itself a Gaussian binomial, so int64 counts
 * stay exact (at most C(40, 20) ~ 1.4e11 under RIP_STATS_EXACT_MAX_CELLS)
 * and live on the stack. Fisher sums hypergeometric terms from lgamma_r
 * (lgamma writes the global signgam; probes may run on threads).
 *
 * Tuned for determinism and clarity: a step sees thousands of probes, so
 * ranking is one qsort and Fisher one pass over the support.
 */
#include <math.h>
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

/* Step 3 of rip_stats_verdict; leaves v untouched when both tests pass. */
static int compare(struct rip_verdict *v, const double *cl, size_t ncl,
	const double *bl, size_t nbl, double alpha, struct rip_err *err)
{
	double mc, mb;
	int error;

	v->compared = true;
	if ((error = rip_stats_prop_test(&v->errors, v->canary_errors,
		     v->canary_n, v->baseline_errors, v->baseline_n,
		     RIP_ALT_GREATER, err)) < 0)
		return error;
	if (v->errors.p < alpha) {
		verdict_set(v, RIP_VERDICT_FAIL, RIP_GATE_BASELINE_ERRORS,
			"canary errors %zu of %zu above baseline %zu of %zu "
			"(%s p %.3g < alpha %g)", v->canary_errors, v->canary_n,
			v->baseline_errors, v->baseline_n,
			v->errors.exact ? "fisher" : "z-test", v->errors.p,
			alpha);
		return 0;
	}
	if (!ncl || !nbl)
		return 0;
	v->latency_compared = true;
	if ((error = rip_stats_mann_whitney(&v->latency, cl, ncl, bl, nbl,
		     RIP_ALT_GREATER, err)) < 0)
		return error;
	/*
	 * Significant is not enough: with a few hundred probes the test sees
	 * a systematic 0.3 ms (the order the probes went out in). The
	 * canaries' median must also be slower by the margin. The medians
	 * say it best: the test compares whole distributions.
	 */
	mc = rip_stats_quantile(cl, ncl, 0.5);
	mb = rip_stats_quantile(bl, nbl, 0.5);
	if (v->latency.p < alpha && mc - mb > RIP_STATS_LATENCY_MARGIN_MS &&
	    mc > mb * (1 + RIP_STATS_LATENCY_MARGIN))
		verdict_set(v, RIP_VERDICT_FAIL, RIP_GATE_BASELINE_LATENCY,
			"canary slower than baseline: median %.4g ms vs %.4g ms "
			"(mann-whitney U %g, z %.2f, p %.3g < alpha %g)", mc, mb,
			v->latency.u, v->latency.z, v->latency.p, alpha);
	return 0;
}

int rip_stats_verdict(struct rip_verdict *out, const struct rip_sample *canary,
	size_t n_canary, const struct rip_sample *baseline, size_t n_baseline,
	const struct rip_gate *gate, struct rip_err *err)
{
	double *cl = NULL, *bl = NULL;
	double alpha = gate->alpha ? gate->alpha : RIP_STATS_ALPHA;
	size_t ncl, nbl;
	int error = 0;

	memset(out, 0, sizeof(*out));
	out->canary_error_rate = out->canary_p99_ms = NAN;
	out->baseline_p99_ms = NAN;
	out->canary_n = n_canary;
	out->baseline_n = n_baseline;
	if (!(alpha > 0 && alpha < 1))
		return rip_err_set(err, RIP_EFAIL,
			"gate alpha %g is not in (0, 1)", alpha);
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
		if ((error = compare(out, cl, ncl, bl, nbl, alpha, err)) < 0 ||
		    out->kind == RIP_VERDICT_FAIL)
			goto done;
	}
	verdict_set(out, RIP_VERDICT_PASS, RIP_GATE_NONE,
		"canary error rate %.4g%% (%zu of %zu), p99 %.4g ms%s",
		out->canary_error_rate * 100, out->canary_errors, n_canary,
		out->canary_p99_ms, out->compared ?
		", no worse than baseline" : "");
done:
	free(cl);
	free(bl);
	return error;
}
