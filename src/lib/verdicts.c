/* SPDX-License-Identifier: MIT */
/*
 * verdicts.c: the verdicts table of state.db (verdicts.h) and the JSON of
 * a judgment (json_internal.h): the per-metric numbers of Kayenta's judge
 * (stats.h) as the figures of a round, a row of the table, `rollout status
 * --json` and the report show them.
 *
 * A row is written for each judgment that compared the canaries with the
 * baseline and for each that failed a step: a handful per rollout, never
 * one per probe round. The metrics are one JSON text column, so a metric
 * added later needs no schema change; score has its own column for
 * queries ("every step that scored below 90").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ripcord/verdicts.h"
#include "json_internal.h"
#include "state_internal.h"
#include "banned.h"

#define VERDICT_COLS "v.seq, v.rollout, r.release, v.step, v.round, " \
	"v.final, v.at, v.verdict, v.gate, v.score, v.metrics, v.message"

/* ---- JSON ---------------------------------------------------------------- */

/* A number, or null when it is none (NaN, infinite). */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Milliseconds to the microsecond: more digits are noise. */
static json_t *ms(double v)
{
	return num(isfinite(v) ? round(v * 1e3) / 1e3 : v);
}

static json_t *metric_json(const struct rip_verdict *v,
	const struct rip_gate *g, enum rip_judge_metric m)
{
	const struct rip_judged *j = &v->metrics[m];
	bool data = j->cls != RIP_CLASS_NODATA;
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:b, s:I, s:I, s:o, s:o, "
		"s:f}", "metric", rip_judge_metric_name(m), "weight",
		(json_int_t)j->weight, "classification", rip_judge_class_name(j->cls),
		"test", j->test ? j->test : "", "exact", j->exact, "canary_n",
		(json_int_t)j->canary_n, "baseline_n", (json_int_t)j->baseline_n,
		"z", data ? num(j->z) : json_null(), "p_value", data ? num(j->p) :
		json_null(), "alpha", v->alpha);

	if (m == RIP_JUDGE_LATENCY) {
		json_object_set_new(o, "u", data ? num(j->u) : json_null());
		json_object_set_new(o, "canary_outliers",
			json_integer((json_int_t)j->canary_outliers));
		json_object_set_new(o, "baseline_outliers",
			json_integer((json_int_t)j->baseline_outliers));
		json_object_set_new(o, "canary_median_ms", data ? ms(j->canary) :
			json_null());
		json_object_set_new(o, "baseline_median_ms", data ?
			ms(j->baseline) : json_null());
		json_object_set_new(o, "hl_ms", data ? ms(j->effect) :
			json_null());
		json_object_set_new(o, "ratio", data ? num(j->ratio) :
			json_null());
		json_object_set_new(o, "effect_tolerance",
			json_real(g->effect_tolerance));
		json_object_set_new(o, "effect_min_ms",
			json_real(g->effect_min_ms));
	} else {
		json_object_set_new(o, "canary_rate", num(j->canary));
		json_object_set_new(o, "baseline_rate", num(j->baseline));
		json_object_set_new(o, "difference", num(j->effect));
		json_object_set_new(o, "ratio", num(j->ratio));
	}
	return o;
}

json_t *rip_verdict_metrics_json(const struct rip_verdict *v,
	const struct rip_gate *g)
{
	json_t *a = json_array();

	if (!v->compared)
		return a;
	for (size_t m = 0; m < RIP_JUDGE_METRICS; m++)
		json_array_append_new(a, metric_json(v, g, m));
	return a;
}

json_t *rip_verdict_judge_json(const struct rip_verdict *v,
	const struct rip_gate *g)
{
	if (!v->compared)
		return json_null();
	return json_pack("{s:o, s:f, s:f, s:f, s:f, s:f, s:b, s:o}", "score",
		num(v->score), "confidence", 1 - v->alpha, "effect_tolerance",
		g->effect_tolerance, "effect_min_ms", g->effect_min_ms,
		"pass_score", g->pass_score, "marginal_score", g->marginal_score,
		"outliers", g->outliers, "metrics", rip_verdict_metrics_json(v, g));
}

json_t *rip_verdict_recs_json(const struct rip_verdict_rec *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *m = v[i].metrics ? json_loads(v[i].metrics, 0, NULL) :
			NULL;

		json_array_append_new(a, json_pack("{s:I, s:I, s:s?, s:I, s:I, "
			"s:b, s:I, s:s?, s:s?, s:o, s:s?, s:o}", "seq",
			(json_int_t)v[i].seq, "rollout", (json_int_t)v[i].rollout,
			"release", v[i].release, "step", (json_int_t)v[i].step,
			"round", (json_int_t)v[i].round, "final", v[i].final, "at",
			(json_int_t)v[i].at, "verdict", v[i].verdict, "gate",
			v[i].gate, "score", num(v[i].score), "message",
			v[i].message, "metrics", m ? m : json_array()));
	}
	return a;
}

/* ---- the table ----------------------------------------------------------- */

int rip_verdict_add(struct rip_state *st, const struct rip_verdict_rec *r,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot record the verdict",
			"INSERT INTO verdicts (rollout, step, round, final, at, "
			"verdict, gate, score, metrics, message) VALUES (?1, ?2, ?3, "
			"?4, ?5, ?6, ?7, ?8, ?9, ?10)", err)) < 0)
		return rc;
	rip_state_bind_int64(s, 1, r->rollout);
	rip_state_bind_int64(s, 2, (int64_t)r->step);
	rip_state_bind_int64(s, 3, (int64_t)r->round);
	rip_state_bind_int64(s, 4, r->final);
	rip_state_bind_int64(s, 5, r->at ? r->at : (int64_t)time(NULL));
	rip_state_bind_text(s, 6, r->verdict ? r->verdict : "?");
	rip_state_bind_text(s, 7, r->gate);
	if (isfinite(r->score))
		rip_state_bind_double(s, 8, r->score);
	else
		rip_state_bind_text(s, 8, NULL);
	rip_state_bind_text(s, 9, r->metrics ? r->metrics : "[]");
	rip_state_bind_text(s, 10, r->message);
	rc = rip_state_run(s, err);
	rip_state_stmt_free(s);
	return rc;
}

static void read_rec(struct rip_verdict_rec *r, struct rip_state_stmt *s)
{
	r->seq = rip_state_col_int64(s, 0);
	r->rollout = rip_state_col_int64(s, 1);
	r->release = rip_state_col_text(s, 2);
	r->step = (size_t)rip_state_col_int64(s, 3);
	r->round = (size_t)rip_state_col_int64(s, 4);
	r->final = rip_state_col_int64(s, 5) != 0;
	r->at = rip_state_col_int64(s, 6);
	r->verdict = rip_state_col_text(s, 7);
	r->gate = rip_state_col_text(s, 8);
	r->score = rip_state_col_type(s, 9) == RIP_STATE_NULL ? NAN :
		rip_state_col_double(s, 9);
	r->metrics = rip_state_col_text(s, 10);
	r->message = rip_state_col_text(s, 11);
}

int rip_verdict_list(struct rip_verdict_rec **out, size_t *n,
	struct rip_state *st, int64_t rollout, int64_t since,
	struct rip_err *err)
{
	struct rip_verdict_rec *v = NULL;
	size_t alloc = 0;
	struct rip_state_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = rip_state_prepare(&s, st, "cannot read the verdicts",
			"SELECT " VERDICT_COLS " FROM verdicts v LEFT JOIN rollouts r "
			"ON r.seq = v.rollout WHERE (?1 = 0 OR v.rollout = ?1) AND "
			"v.at > ?2 ORDER BY v.seq", err)) < 0)
		return rc;
	rip_state_bind_int64(s, 1, rollout);
	rip_state_bind_int64(s, 2, since);
	while ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		RIP_ALLOC_GROW(v, *n + 1, alloc);
		memset(&v[*n], 0, sizeof(v[*n]));
		read_rec(&v[(*n)++], s);
	}
	rip_state_stmt_free(s);
	if (rc < 0) {
		rip_verdict_recs_free(v, *n);
		return rc;
	}
	*out = v;
	return 0;
}

void rip_verdict_recs_free(struct rip_verdict_rec *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].release);
		free(v[i].verdict);
		free(v[i].gate);
		free(v[i].metrics);
		free(v[i].message);
	}
	free(v);
}
