/* SPDX-License-Identifier: MIT */
/*
 * rollout_bake.c: one step's bake. Every probe_interval every target is
 * probed at once (rip_probe_run: one process, libcurl multi, each probe
 * bounded by probe_timeout so a hanging endpoint is an error, never a
 * stall); the canaries' probes, and the baseline's from the same rounds,
 * are judged by rip_stats_verdict, then by failure_threshold, then by
 * gate_command and gate_query.
 *
 * One failed probe is not a verdict: a canary fails the step once its
 * probes failed failure_threshold rounds in a row, and max_error_rate
 * judges the step only once more than failure_limit of its rounds had a
 * failed canary probe (a rate over a handful of failures is noise). A gate
 * that cannot judge (no data, NaN, a timeout) failure_threshold rounds in
 * a row, or a final verdict that stays inconclusive, ends the step
 * INCONCLUSIVE, or passes it, as [rollout] inconclusive says. Before step
 * 1, rip_rollout_preflight probes every target the same way.
 * Each round's figures go to the record (for `rollout status`), to the
 * metrics file and to the caller; a judgment that compared with the
 * baseline or failed the step also goes to the verdicts table. Between rounds the bake watches for a
 * signal, an abort asked through state.db, and a preempting rollback.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ripcord/gate.h"
#include "ripcord/hook.h"
#include "ripcord/log.h"
#include "ripcord/metrics.h"
#include "ripcord/probe.h"
#include "ripcord/verdicts.h"
#include "json_internal.h"
#include "rollout_internal.h"
#include "banned.h"

/* What one target's probes of this step saw. */
struct tstat {
	size_t n, errors;
	double *ms;               /* latencies of the successful probes */
	size_t n_ms, a_ms;
	uint64_t run;             /* failed rounds in a row, up to now */
	char last_error[256];
};

_Static_assert(sizeof(((struct tstat *)0)->last_error) >=
	sizeof(((struct rip_probe *)0)->error), "a probe's error fits");

struct samples {
	struct rip_sample *v;
	size_t n, alloc;
};

struct bake {
	struct rip_rollout_run *r;
	size_t ntargets, ncanary;
	struct rip_probe *probes;
	struct tstat *ts;
	struct samples canary, baseline;
	size_t rounds;            /* probed so far */
	size_t failed_rounds;     /* rounds where a canary's probe failed */
	/* rounds in a row a gate could not judge */
	uint64_t command_unjudged, query_unjudged;
	bool inconclusive;        /* the step ends INCONCLUSIVE */
	struct rip_rollout_figures fig;
	size_t judged;            /* judgments so far: the round's number */
	json_t *judge;            /* the newest comparison; NULL: none */
};

static int push_sample(struct samples *s, double ms, bool ok)
{
	if (RIP_GROW(s->v, s->n + 1, s->alloc) < 0)
		return RIP_ENOMEM;
	s->v[s->n++] = (struct rip_sample){ .ms = ms, .ok = ok };
	return 0;
}

static int push_latency(struct tstat *t, double ms)
{
	if (RIP_GROW(t->ms, t->n_ms + 1, t->a_ms) < 0)
		return RIP_ENOMEM;
	t->ms[t->n_ms++] = ms;
	return 0;
}

static double target_p99(const struct tstat *t)
{
	double *v, p;

	if (!t->n_ms)
		return NAN;
	v = rip_xmalloc(t->n_ms * sizeof(*v));
	memcpy(v, t->ms, t->n_ms * sizeof(*v));
	rip_stats_sort(v, t->n_ms);
	p = rip_stats_quantile(v, t->n_ms, 0.99);
	free(v);
	return p;
}

/*
 * Probes every target once. The order the probes go out in turns each
 * round: the first connections of a round are a little faster, and the
 * canaries, first in the config, must not always get that edge over the
 * baseline.
 */
static int probe_round(struct bake *b, size_t round, struct rip_err *err)
{
	const struct rip_config *cfg = b->r->cfg;
	size_t n = b->ntargets, turn = round % (n ? n : 1);
	bool canary_failed = false;
	int rc;

	for (size_t k = 0; k < n; k++)
		b->probes[k] = (struct rip_probe){
			.url = cfg->targets[(k + turn) % n].health };
	if ((rc = rip_probe_run(b->probes, n, cfg->rollout.probe_timeout_ms,
			err)) < 0)
		return rc;
	for (size_t k = 0; k < n; k++) {
		size_t i = (k + turn) % n;
		const struct rip_probe *p = &b->probes[k];
		struct tstat *t = &b->ts[i];
		double ms = p->seconds * 1000.0;

		t->n++;
		if (p->ok) {
			t->run = 0;
			rc = push_latency(t, ms);
		} else {
			t->errors++;
			t->run++;
			canary_failed |= i < b->ncanary;
			/* as large as p->error (asserted above): never cut */
			snprintf(t->last_error, sizeof(t->last_error), "%s", p->error);
		}
		if (rc == 0)
			rc = push_sample(i < b->ncanary ? &b->canary : &b->baseline,
				ms, p->ok);
		if (rc < 0)
			return rip_err_set(err, RIP_ENOMEM, "out of memory keeping "
				"the probes of round %zu", round + 1);
	}
	b->rounds++;
	b->failed_rounds += canary_failed;
	return 0;
}

/* The canary whose probes failed failure_threshold rounds in a row (the
 * longest run), or NULL. */
static const struct rip_target *failing(struct bake *b)
{
	size_t best = 0;

	for (size_t i = 1; i < b->ncanary; i++)
		if (b->ts[i].run > b->ts[best].run)
			best = i;
	if (!b->ncanary ||
	    b->ts[best].run < b->r->cfg->rollout.failure_threshold)
		return NULL;
	return &b->r->cfg->targets[best];
}

/* The canary that did worst by gate: most errors, or highest p99. */
static const struct rip_target *worst(struct rip_buf *detail, struct bake *b,
	enum rip_gate_id gate)
{
	size_t best = 0;
	double score = -1;

	for (size_t i = 0; i < b->ncanary; i++) {
		double s = gate == RIP_GATE_P99 || gate ==
			RIP_GATE_BASELINE_LATENCY ? target_p99(&b->ts[i]) :
			(double)b->ts[i].errors / (double)(b->ts[i].n ? b->ts[i].n : 1);

		if (!isnan(s) && s > score) {
			score = s;
			best = i;
		}
	}
	if (score < 0)
		return NULL;
	if (gate == RIP_GATE_P99 || gate == RIP_GATE_BASELINE_LATENCY)
		rip_buf_addf(detail, "%s: p99 %.0f ms",
			b->r->cfg->targets[best].name, score);
	else
		rip_buf_addf(detail, "%s: %zu of %zu probes failed%s%s",
			b->r->cfg->targets[best].name, b->ts[best].errors,
			b->ts[best].n, b->ts[best].last_error[0] ? ", " : "",
			b->ts[best].last_error);
	return &b->r->cfg->targets[best];
}

static const char *gate_key(enum rip_gate_id g)
{
	switch (g) {
	case RIP_GATE_ERROR_RATE: return "error_rate";
	case RIP_GATE_P99: return "p99";
	case RIP_GATE_BASELINE_ERRORS: return "baseline_errors";
	case RIP_GATE_BASELINE_LATENCY: return "baseline_latency";
	case RIP_GATE_MARGINAL: return "marginal";
	case RIP_GATE_SAMPLES: return "samples";
	case RIP_GATE_NONE:
		break;
	}
	return "none";
}

static void fail_with(struct bake *b, const char *gate,
	const struct rip_target *t, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail_with(struct bake *b, const char *gate,
	const struct rip_target *t, const char *fmt, ...)
{
	struct rip_rollout_run *r = b->r;
	struct rip_buf what = RIP_BUF_INIT, msg = RIP_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	rip_buf_vaddf(&what, fmt, ap);
	va_end(ap);
	rip_buf_addf(&msg, "step %zu/%zu: %s", r->ro.step, r->ro.nsteps,
		what.buf);
	/* the record's fields are fixed: a longer text ends in "…" there */
	rip_copy_shown(r->gate, sizeof(r->gate), gate);
	rip_copy_shown(r->target, sizeof(r->target), t ? t->name : "");
	rip_copy_shown(r->message, sizeof(r->message), msg.buf);
	b->fig.verdict = "fail";
	rip_copy_shown(b->fig.message, sizeof(b->fig.message), what.buf);
	rip_buf_release(&what);
	rip_buf_release(&msg);
}

static void canary_names(struct rip_buf *out, const struct bake *b)
{
	for (size_t i = 0; i < b->ncanary; i++)
		rip_buf_addf(out, "%s%s", i ? " " : "",
			b->r->cfg->targets[i].name);
}

/*
 * Marks the step inconclusive after fail_with(b, ..., "inconclusive: ...")
 * made the reason: the figures' verdict says it, so their message drops
 * the word rather than say it twice.
 */
static void mark_inconclusive(struct bake *b)
{
	static const char word[] = "inconclusive: ";
	char *m = b->fig.message;

	b->fig.verdict = rip_verdict_name(RIP_VERDICT_INCONCLUSIVE);
	b->inconclusive = true;
	if (!strncmp(m, word, sizeof(word) - 1))
		memmove(m, m + sizeof(word) - 1, strlen(m + sizeof(word) - 1) + 1);
}

/*
 * A gate that could not judge this round (no data, NaN, a timeout), for
 * the *count-th round in a row. Below failure_threshold, and always with
 * inconclusive = pass, the step goes on without it; at the threshold the
 * step is inconclusive (b->inconclusive, with r->gate and r->message).
 * Returns whether the step goes on.
 */
static bool cannot_judge(struct bake *b, const char *gate, uint64_t *count,
	const char *why)
{
	const struct rip_config *cfg = b->r->cfg;
	uint64_t limit = cfg->rollout.failure_threshold;

	++*count;
	if (*count < limit) {
		rip_warn("%s cannot judge: %s (round %llu in a row; "
			"failure_threshold %llu)", gate, why,
			(unsigned long long)*count, (unsigned long long)limit);
		return true;
	}
	if (!strcmp(cfg->rollout.inconclusive, "pass")) {
		if (*count == limit)
			rip_warn("%s could not judge %llu rounds in a row: %s; the "
				"step goes on without it (inconclusive = pass)", gate,
				(unsigned long long)*count, why);
		return true;
	}
	fail_with(b, gate, NULL, "inconclusive: %s could not judge %llu rounds "
		"in a row: %s", gate, (unsigned long long)*count, why);
	mark_inconclusive(b);
	return false;
}

/* The last non-blank line of out (NULL: none), as a start and a length:
 * what a failing program printed last says why, usually. */
static const char *last_line(const char *out, int *len)
{
	const char *end, *start;

	out = out ? out : "";
	end = out + strlen(out);
	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > out && start[-1] != '\n')
		start--;
	*len = (int)(end - start);
	return start;
}

/* A gate_command that ran to its end: exit 0 passes; any other exit, or a
 * signal (a crash stays a crash: it is no verdict to skip), fails. */
static bool command_verdict(struct bake *b, const struct rip_hook_result *hr)
{
	const char *cmd = b->r->cfg->rollout.gate_command;
	char how[48];
	const char *why;
	int len;

	if (hr->signal)
		snprintf(how, sizeof(how), "was killed by signal %d", hr->signal);
	else
		snprintf(how, sizeof(how), "exited %d", hr->exit_code);
	if (hr->output.len) {
		char *head = rip_xasprintf("gate_command %s (%s): ", cmd, how);

		rip_log_lines(RIP_LOG_DEBUG, head, hr->output.buf, hr->output.len);
		free(head);
	}
	if (hr->exit_code == 0)
		return true;
	why = last_line(hr->output.buf, &len);
	fail_with(b, "gate_command", NULL, "gate_command %s %s%s%.*s", cmd, how,
		len ? ": " : "", len, why);
	return false;
}

/* gate_command: exit 0 passes. false when it failed the step. */
static bool gate_command(struct bake *b, const struct rip_verdict *v)
{
	const struct rip_config *cfg = b->r->cfg;
	struct rip_buf names = RIP_BUF_INIT;
	struct rip_hook_result hr;
	struct rip_err herr = { 0 };
	const char *argv[] = { cfg->rollout.gate_command, NULL };
	char step[24], steps[24], rate[32], p99[32];
	uint64_t timeout = cfg->rollout.probe_interval_ms < 1000 ? 1000 :
		cfg->rollout.probe_interval_ms;
	bool ok;
	int rc;

	canary_names(&names, b);
	snprintf(step, sizeof(step), "%zu", b->r->ro.step);
	snprintf(steps, sizeof(steps), "%zu", b->r->ro.nsteps);
	snprintf(rate, sizeof(rate), "%.6f", v->canary_error_rate);
	snprintf(p99, sizeof(p99), "%.1f", v->canary_p99_ms);
	const struct rip_hook_env env[] = {
		{ "RIPCORD_RELEASE", b->r->ro.release },
		{ "RIPCORD_PREVIOUS", b->r->ro.previous },
		{ "RIPCORD_STEP", step },
		{ "RIPCORD_STEPS", steps },
		{ "RIPCORD_CANARIES", names.buf ? names.buf : "" },
		{ "RIPCORD_ERROR_RATE", rate },
		{ "RIPCORD_P99_MS", p99 },
	};

	rc = rip_hook_run(&hr, argv, cfg->dir, env, RIP_ARRAY_SIZE(env), timeout,
		&herr);
	if (rc == RIP_EFAIL && !hr.started) {
		/* not there, not executable: a mistake that would stay, so a
		 * failed step, never a gate skipped with inconclusive = pass */
		fail_with(b, "gate_command", NULL, "gate_command: %s", herr.msg);
		ok = false;
	} else if (rc < 0 || hr.timed_out) {
		/* it did not answer: no verdict, neither pass nor fail */
		struct rip_buf why = RIP_BUF_INIT;

		if (hr.timed_out)
			rip_buf_addf(&why, "gate_command %s timed out after %llu ms",
				cfg->rollout.gate_command, (unsigned long long)timeout);
		else
			rip_buf_addf(&why, "gate_command %s: %s",
				cfg->rollout.gate_command, herr.msg);
		ok = cannot_judge(b, "gate_command", &b->command_unjudged,
			why.buf);
		rip_buf_release(&why);
	} else {
		b->command_unjudged = 0;
		ok = command_verdict(b, &hr);
	}
	rip_hook_result_release(&hr);  /* set on every return */
	rip_buf_release(&names);
	return ok;
}

/* gate_query: the value stays at or below gate_query_max. A value it
 * cannot read (no series, NaN, no answer) is no verdict: cannot_judge. */
static bool gate_query(struct bake *b)
{
	const struct rip_config *cfg = b->r->cfg;
	struct rip_err qerr = { 0 };
	double value;

	if (rip_gate_query(&value, cfg->rollout.gate_query,
			cfg->rollout.probe_timeout_ms, &qerr) < 0)
		return cannot_judge(b, "gate_query", &b->query_unjudged, qerr.msg);
	b->query_unjudged = 0;
	if (value > cfg->rollout.gate_query_max) {
		fail_with(b, "gate_query", NULL, "gate_query value %g > "
			"gate_query_max %g", value, cfg->rollout.gate_query_max);
		return false;
	}
	return true;
}

/* Latencies to a tenth of a millisecond in the record: more is noise. */
static json_t *side_json(size_t n, size_t errors, double p99)
{
	return json_pack("{s:I, s:I, s:f, s:o}", "probes", (json_int_t)n,
		"errors", (json_int_t)errors, "error_rate", n ? (double)errors /
		(double)n : 0.0, "p99_ms", isnan(p99) ? json_null() :
		json_real(round(p99 * 10) / 10));
}

/* The round's figures into the record, as `rollout status` reads them. */
static char *figures_json(const struct bake *b, uint64_t elapsed_ms,
	size_t rounds)
{
	const struct rip_rollout_figures *f = &b->fig;
	json_t *doc = json_pack("{s:o, s:o, s:s, s:s, s:I, s:I, s:O?}", "canary",
		side_json(f->canary_n, f->canary_errors, f->canary_p99_ms),
		"baseline", side_json(f->baseline_n, f->baseline_errors,
		f->baseline_p99_ms), "verdict", f->verdict, "message", f->message,
		"elapsed_ms", (json_int_t)elapsed_ms, "rounds", (json_int_t)rounds,
		"judge", b->judge);
	char *s = json_dumps(doc, JSON_COMPACT);

	json_decref(doc);
	return s;
}

/* The gate of [rollout]; the baseline comparison only when final. */
static void gate_of(struct rip_gate *g, const struct rip_config *cfg,
	bool final)
{
	rip_gate_init(g);
	g->max_error_rate = cfg->rollout.max_error_rate;
	g->max_p99_ms = (double)cfg->rollout.max_p99_ms;
	g->compare_baseline = cfg->rollout.compare_baseline && final;
	g->min_samples = (size_t)cfg->rollout.min_samples;
	g->alpha = 1 - cfg->rollout.confidence;
	g->effect_tolerance = cfg->rollout.effect_tolerance;
	g->effect_min_ms = cfg->rollout.effect_min_ms;
	g->outliers = !cfg->rollout.outliers ||
		strcmp(cfg->rollout.outliers, "none");
	g->weights[RIP_JUDGE_LATENCY] = (unsigned)cfg->rollout.latency_weight;
	g->weights[RIP_JUDGE_ERRORS] = (unsigned)cfg->rollout.errors_weight;
	g->pass_score = (double)cfg->rollout.pass_score;
	g->marginal_score = (double)cfg->rollout.marginal_score;
}

/* A judgment into the verdicts table. Losing the row must not stop an
 * abort, so a failure to write it is a warning. */
static void record(struct bake *b, const struct rip_verdict *v,
	const struct rip_gate *g, bool final, bool failed)
{
	struct rip_rollout_run *r = b->r;
	json_t *m = rip_verdict_metrics_json(v, g);
	char *metrics = json_dumps(m, JSON_COMPACT);
	struct rip_verdict_rec rec = {
		.rollout = r->ro.seq, .step = r->ro.step, .round = b->judged,
		.final = final, .verdict = (char *)b->fig.verdict,
		.gate = failed ? r->gate : v->kind == RIP_VERDICT_PASS ? NULL :
			(char *)gate_key(v->gate),
		.score = v->score, .metrics = metrics, .message = b->fig.message,
	};
	struct rip_err rerr = { 0 };

	if (rip_verdict_add(r->store->state, &rec, &rerr) < 0)
		rip_warn("cannot record the verdict of step %zu: %s", r->ro.step,
			rerr.msg);
	free(metrics);
	json_decref(m);
}

/*
 * The bake is over and the verdict still cannot say (too few samples
 * after min_samples rounds, a marginal score): inconclusive = pass passes
 * the step; pause and abort end it INCONCLUSIVE.
 */
static void final_inconclusive(struct bake *b, const struct rip_verdict *v,
	bool *failed, bool *passed)
{
	const struct rip_rollout_run *r = b->r;

	if (!strcmp(r->cfg->rollout.inconclusive, "pass")) {
		rip_warn("step %zu/%zu is inconclusive (%s): passed, as "
			"inconclusive = pass", r->ro.step, r->ro.nsteps, v->msg);
		*passed = true;
		return;
	}
	fail_with(b, gate_key(v->gate), NULL, "inconclusive: %s", v->msg);
	mark_inconclusive(b);
	*failed = true;
}

/*
 * Judges the step so far into b->fig: *failed, or *passed when the step
 * may end. The absolute gates judge every round. The baseline comparison
 * is one test, made once the bake is over (final): testing every round
 * at alpha would make a false abort of a healthy release likelier the
 * longer it bakes. A step passes only with min_samples canary probes.
 * max_error_rate judges once more than failure_limit rounds failed.
 */
static int judge(struct bake *b, bool final, bool *failed, bool *passed,
	struct rip_err *err)
{
	const struct rip_config *cfg = b->r->cfg;
	struct rip_gate gate;
	struct rip_verdict v;
	struct rip_buf detail = RIP_BUF_INIT;
	const struct rip_target *down;
	int rc;

	gate_of(&gate, cfg, final);
	/* up to failure_limit failed rounds, failed probes fail the step
	 * only through failure_threshold; but at its end a step whose
	 * rounds failed half the time or more had no blip to forgive (a
	 * short bake ends before failure_threshold is reached): then
	 * max_error_rate judges it */
	if (b->failed_rounds <= cfg->rollout.failure_limit &&
	    (!final || 2 * b->failed_rounds < b->rounds))
		gate.max_error_rate = 1.0;
	if ((rc = rip_stats_verdict(&v, b->canary.v, b->canary.n, b->baseline.v,
			b->baseline.n, &gate, err)) < 0)
		return rc;
	b->judged++;
	b->fig = (struct rip_rollout_figures){
		.canary_n = v.canary_n, .canary_errors = v.canary_errors,
		.baseline_n = v.baseline_n, .baseline_errors = v.baseline_errors,
		.canary_p99_ms = v.canary_p99_ms,
		.baseline_p99_ms = v.baseline_p99_ms,
		.verdict = rip_verdict_name(v.kind),
	};
	snprintf(b->fig.message, sizeof(b->fig.message), "%s", v.msg);
	if (v.compared) {
		json_decref(b->judge);
		b->judge = rip_verdict_judge_json(&v, &gate);
	}
	*failed = v.kind == RIP_VERDICT_FAIL;
	down = failing(b);
	if (*failed) {
		const struct rip_target *t = worst(&detail, b, v.gate);

		fail_with(b, gate_key(v.gate), t, "%s%s%s%s", v.msg, t ? " (" : "",
			detail.buf, t ? ")" : "");
		rip_buf_release(&detail);
	} else if (down) {
		*failed = true;
		fail_with(b, "failure_threshold", down, "%s: %llu probe rounds "
			"failed in a row (failure_threshold %llu): %s", down->name,
			(unsigned long long)b->ts[down - cfg->targets].run,
			(unsigned long long)cfg->rollout.failure_threshold,
			b->ts[down - cfg->targets].last_error);
	} else if ((cfg->rollout.gate_command && !gate_command(b, &v)) ||
		   (cfg->rollout.gate_query && !gate_query(b))) {
		*failed = true;
	}
	*passed = !*failed && v.kind == RIP_VERDICT_PASS;
	if (*passed && b->canary.n < gate.min_samples) {
		*passed = false;
		b->fig.verdict = rip_verdict_name(RIP_VERDICT_INCONCLUSIVE);
		snprintf(b->fig.message, sizeof(b->fig.message), "%zu canary "
			"probes of min_samples %zu: waiting", b->canary.n,
			gate.min_samples);
	} else if (!*failed && final && v.kind == RIP_VERDICT_INCONCLUSIVE &&
		   (v.gate != RIP_GATE_SAMPLES || b->rounds >= gate.min_samples)) {
		final_inconclusive(b, &v, failed, passed);
	}
	if (v.compared || *failed)
		record(b, &v, &gate, final, *failed);
	rip_rollout_metrics(b->r, v.canary_error_rate, v.canary_p99_ms);
	return 0;
}

int rip_rollout_stopped(struct rip_rollout_run *r, enum rip_bake_end *end,
	bool *stop, struct rip_err *err)
{
	int rc, sig = r->o->stop ? (int)*r->o->stop : 0;

	*stop = true;
	if (sig) {
		*end = RIP_BAKE_STOP;
		snprintf(r->gate, sizeof(r->gate), "signal");
		snprintf(r->message, sizeof(r->message), "step %zu/%zu: interrupted "
			"by %s", r->ro.step, r->ro.nsteps, sig == SIGINT ? "SIGINT" :
			sig == SIGTERM ? "SIGTERM" : "a signal");
		return 0;
	}
	if ((rc = rip_rollout_reload(&r->ro, r->store->state, err)) < 0)
		return rc;
	if (strcmp(r->ro.state, "running")) {
		*end = RIP_BAKE_PREEMPTED;
		return 0;
	}
	/* "abort", maybe with the asker's schema flags (rollout.c) */
	if (r->ro.request && !strncmp(r->ro.request, "abort", 5)) {
		*end = RIP_BAKE_STOP;
		r->by_request = true;
		snprintf(r->gate, sizeof(r->gate), "abort");
		snprintf(r->message, sizeof(r->message), "step %zu/%zu: aborted by "
			"'ripcord rollout abort'", r->ro.step, r->ro.nsteps);
		return 0;
	}
	*stop = false;
	return 0;
}

/* Sleeps until the monotonic time `until`, waking early for a signal
 * (*stop set; stop may be NULL). */
static void sleep_until(volatile sig_atomic_t *stop, double until)
{
	for (;;) {
		double left = until - rip_monotonic();
		struct timespec ts;

		if (left <= 0 || (stop && *stop))
			return;
		if (left > 0.1)
			left = 0.1;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

static void bake_release(struct bake *b)
{
	for (size_t i = 0; i < b->ntargets; i++)
		free(b->ts[i].ms);
	free(b->ts);
	free(b->probes);
	free(b->canary.v);
	free(b->baseline.v);
	json_decref(b->judge);
}

int rip_rollout_bake(struct rip_rollout_run *r, enum rip_bake_end *end,
	struct rip_err *err)
{
	const struct rip_config *cfg = r->cfg;
	struct bake b = {
		.r = r,
		.ntargets = cfg->n_targets,
		.ncanary = r->ro.counts[r->ro.step - 1],
	};
	double t0 = rip_monotonic(), bake_s = (double)r->ro.bake_ms / 1e3,
		interval = (double)cfg->rollout.probe_interval_ms / 1e3;
	size_t rounds = 0;
	int rc = 0;

	b.probes = rip_xcalloc(b.ntargets, sizeof(*b.probes));
	b.ts = rip_xcalloc(b.ntargets, sizeof(*b.ts));
	for (;;) {
		struct rip_rollout_event e = { .kind = RIP_RO_ROUND };
		bool stop, failed, passed, saved;
		double elapsed;

		if ((rc = rip_rollout_stopped(r, end, &stop, err)) < 0 || stop)
			break;
		if ((rc = probe_round(&b, rounds, err)) < 0)
			break;
		elapsed = rip_monotonic() - t0;
		if ((rc = judge(&b, elapsed >= bake_s, &failed, &passed, err)) < 0)
			break;
		rounds++;
		free(r->ro.figures);
		r->ro.figures = figures_json(&b, (uint64_t)(elapsed * 1e3), rounds);
		if ((rc = rip_rollout_save(&r->ro, "running", &saved,
				r->store->state, err)) < 0)
			break;
		e.fig = &b.fig;
		e.elapsed_ms = (uint64_t)(elapsed * 1e3);
		e.left_ms = elapsed >= bake_s ? 0 : (uint64_t)((bake_s - elapsed) *
			1e3);
		e.rounds = rounds;
		rip_rollout_emit(r, &e);
		if (!saved) {
			*end = RIP_BAKE_PREEMPTED;
			break;
		}
		if (failed) {
			*end = b.inconclusive ? RIP_BAKE_INCONCLUSIVE : RIP_BAKE_FAIL;
			break;
		}
		if (passed && elapsed >= bake_s) {
			*end = RIP_BAKE_PASS;
			break;
		}
		sleep_until(r->o->stop, t0 + (double)rounds * interval);
	}
	bake_release(&b);
	return rc;
}

/* The refusal of a preflight: every target in bad[0..n), by name and why. */
static int preflight_refuse(const struct rip_config *cfg, const size_t *bad,
	size_t n, char (*why)[256], struct rip_err *err)
{
	struct rip_buf names = RIP_BUF_INIT, whys = RIP_BUF_INIT;
	int rc;

	for (size_t k = 0; k < n; k++) {
		rip_buf_addf(&names, "%s'%s'", k ? ", " : "",
			cfg->targets[bad[k]].name);
		rip_buf_addf(&whys, "%s%s: %s", k ? "; " : "",
			cfg->targets[bad[k]].name, why[bad[k]]);
	}
	rc = rip_err_set(err, RIP_EFAIL, "preflight: baseline target%s %s failed "
		"%llu probe round%s in a row (failure_threshold; %s): a canary "
		"judged against a failing baseline proves nothing; nothing was "
		"switched: make %s answer its health URL, then start the rollout "
		"again", n == 1 ? "" : "s", names.buf,
		(unsigned long long)cfg->rollout.failure_threshold,
		cfg->rollout.failure_threshold == 1 ? "" : "s", whys.buf,
		n == 1 ? "it" : "them");
	rip_buf_release(&names);
	rip_buf_release(&whys);
	return rc;
}

int rip_rollout_preflight(const struct rip_config *cfg,
	const struct rip_rollout_opts *o, struct rip_err *err)
{
	size_t n = cfg->n_targets, left = n, *idx = rip_xcalloc(n + 1,
		sizeof(*idx));
	struct rip_probe *p = rip_xcalloc(n + 1, sizeof(*p));
	char (*why)[256] = rip_xcalloc(n + 1, sizeof(*why));
	double t0 = rip_monotonic(),
		interval = (double)cfg->rollout.probe_interval_ms / 1e3;
	int rc = 0;

	/* idx[0..left) are the targets that have not answered yet */
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (uint64_t round = 0; round < cfg->rollout.failure_threshold &&
			left; round++) {
		size_t still = 0;

		if (round)
			sleep_until(o->stop, t0 + (double)round * interval);
		if (o->stop && *o->stop) {
			rc = rip_err_set(err, RIP_EFAIL, "preflight: interrupted by a "
				"signal; nothing was switched");
			goto done;
		}
		for (size_t k = 0; k < left; k++)
			p[k] = (struct rip_probe){ .url = cfg->targets[idx[k]].health };
		if ((rc = rip_probe_run(p, left, cfg->rollout.probe_timeout_ms,
				err)) < 0)
			goto done;
		for (size_t k = 0; k < left; k++) {
			if (p[k].ok)
				continue;
			snprintf(why[idx[k]], sizeof(*why), "%s", p[k].error);
			idx[still++] = idx[k];
		}
		left = still;
		rip_debug("preflight round %llu: %zu target%s not answering",
			(unsigned long long)round + 1, left, left == 1 ? "" : "s");
	}
	if (left)
		rc = preflight_refuse(cfg, idx, left, why, err);
done:
	free(idx);
	free(p);
	free(why);
	return rc;
}

void rip_rollout_metrics(const struct rip_rollout_run *r, double error_rate,
	double p99_ms)
{
	const char *path = r->cfg->drill.metrics_file;
	bool live = !r->ro.finished;
	struct rip_metric_sample v[3] = {
		{ .name = RIP_METRIC_ROLLOUT_STEP, .help = "The step the rollout "
			"of this release is at; 0 once it has ended",
			.value = live ? (double)r->ro.step : 0 },
		{ .name = RIP_METRIC_ROLLOUT_ERROR_RATE, .help = "The canaries' "
			"error rate over the probes of the current step",
			.value = error_rate },
		{ .name = RIP_METRIC_ROLLOUT_P99, .help = "The canaries' p99 "
			"health latency over the probes of the current step",
			.value = isnan(p99_ms) ? NAN : p99_ms / 1e3 },
	};
	struct rip_err merr = { 0 };

	if (!path)
		return;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(v); i++) {
		v[i].labels[0] = (struct rip_metric_label){ "project",
			r->cfg->project.name };
		v[i].labels[1] = (struct rip_metric_label){ "release",
			r->ro.release };
	}
	if (rip_metrics_update(path, v, RIP_ARRAY_SIZE(v), &merr) < 0)
		rip_warn("cannot write the rollout metrics: %s", merr.msg);
}
