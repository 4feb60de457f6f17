/* SPDX-License-Identifier: MIT */
/*
 * report_judge.c: the report's section "judge" (report.h): every verdict
 * of the canary judge recorded in the window (verdicts.h), newest first,
 * with the numbers that decided it, so that an abort can be explained
 * from the page alone: the score against pass_score and marginal_score,
 * and per metric its classification, the samples of each side, U, the
 * p-value against alpha and the effect size.
 *
 * The metrics come from the row's JSON as the bake wrote it; a key that
 * is missing or null (a metric without data) prints as "-". Numbers go
 * through %g only, so the page stays the same bytes for the same data.
 */
#include <math.h>
#include <string.h>

#include "json_internal.h"
#include "report_internal.h"
#include "banned.h"

/* The number at key of o, or NAN. */
static double get(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void num(struct rip_buf *b, const char *fmt, double v)
{
	if (isfinite(v))
		rip_buf_addf(b, fmt, v);
	else
		rip_buf_adds(b, "-");
}

/* "latency high: shift +180 ms (ratio 9.9), median 200 vs 20 ms,
 * U 0, p 1.2e-12, n 40/40 (1 outlier dropped)" */
static void metric_html(struct rip_buf *b, json_t *m)
{
	const char *name = json_string_value(json_object_get(m, "metric"));
	const char *cls = json_string_value(json_object_get(m,
		"classification"));
	bool latency = name && !strcmp(name, "latency");
	double drop = get(m, "canary_outliers") + get(m, "baseline_outliers");

	rip_buf_addf(b, "<li><b>");
	rip_html_escape(b, name ? name : "?");
	rip_buf_addf(b, "</b> <span class=\"%s\">", cls && !strcmp(cls, "high") ?
		"bad" : "ok");
	rip_html_escape(b, cls ? cls : "?");
	rip_buf_addf(b, "</span> (weight %g): ", get(m, "weight"));
	if (latency) {
		num(b, "shift %+.4g ms", get(m, "hl_ms"));
		num(b, " (ratio %.3g", get(m, "ratio"));
		rip_buf_addf(b, ", tolerance %g%%), median ", 100 *
			get(m, "effect_tolerance"));
		num(b, "%.4g", get(m, "canary_median_ms"));
		num(b, " vs %.4g ms, ", get(m, "baseline_median_ms"));
		num(b, "U %g, ", get(m, "u"));
	} else {
		num(b, "rate %.4g%%", 100 * get(m, "canary_rate"));
		num(b, " vs %.4g%%, ", 100 * get(m, "baseline_rate"));
	}
	num(b, "p %.3g", get(m, "p_value"));
	rip_buf_addf(b, " (alpha %g, ", get(m, "alpha"));
	rip_html_escape(b, json_string_value(json_object_get(m, "test")));
	rip_buf_addf(b, "), n %g/%g", get(m, "canary_n"), get(m, "baseline_n"));
	if (latency && drop > 0)
		rip_buf_addf(b, " (%g outlier%s dropped)", drop, drop == 1 ? "" :
			"s");
	rip_buf_adds(b, "</li>");
}

static void verdict_row(struct rip_buf *b, const struct rip_verdict_rec *v)
{
	json_t *metrics = v->metrics ? json_loads(v->metrics, 0, NULL) : NULL;
	const char *cls = !v->verdict ? "" : !strcmp(v->verdict, "pass") ?
		"ok" : !strcmp(v->verdict, "fail") ? "bad" : "warn";
	char when[32];

	rip_buf_addf(b, "<tr><td>%s</td><td><code>", rip_report_utc(when,
		v->at, RIP_REPORT_MINUTES));
	rip_html_escape(b, v->release ? v->release : "?");
	rip_buf_addf(b, "</code></td><td class=\"num\">%zu</td><td class=\"%s\">",
		v->step, cls);
	rip_html_escape(b, v->verdict);
	if (v->gate) {
		rip_buf_adds(b, " (");
		rip_html_escape(b, v->gate);
		rip_buf_adds(b, ")");
	}
	rip_buf_adds(b, "</td><td class=\"num\">");
	num(b, "%.0f", v->score);
	rip_buf_adds(b, "</td><td>");
	if (json_array_size(metrics)) {
		rip_buf_adds(b, "<ul>");
		for (size_t i = 0; i < json_array_size(metrics); i++)
			metric_html(b, json_array_get(metrics, i));
		rip_buf_adds(b, "</ul>");
	}
	rip_html_escape(b, v->message);
	rip_buf_adds(b, "</td></tr>\n");
	json_decref(metrics);
}

void rip_report_section_judge(struct rip_buf *b, const struct rip_report *r)
{
	size_t n = 0;

	rip_buf_adds(b, "<section id=\"judge\">\n<h2>Canary verdicts</h2>\n");
	for (size_t i = 0; i < r->n_verdicts; i++)
		n += r->verdicts[i].at <= r->now;
	if (!n) {
		rip_buf_addf(b, "<p class=\"empty\">No rollout step compared with "
			"its baseline in the last %u days.</p>\n</section>\n",
			r->dora.days);
		return;
	}
	rip_buf_adds(b, "<p class=\"def\">Each step's canaries against the "
		"targets not yet switched, judged once its bake is over: a metric "
		"is <i>high</i> when its two-sided test is significant at alpha "
		"and, for latency, the Hodges-Lehmann shift exceeds the tolerance; "
		"the score is the weighted share of metrics that are not high "
		"(ripcord-rollout(1)).</p>\n<table>\n<tr><th>When (UTC)</th>"
		"<th>Release</th><th>Step</th><th>Verdict</th><th>Score</th>"
		"<th>Numbers</th></tr>\n");
	for (size_t i = r->n_verdicts; i-- > 0;)
		if (r->verdicts[i].at <= r->now)
			verdict_row(b, &r->verdicts[i]);
	rip_buf_adds(b, "</table>\n</section>\n");
}
