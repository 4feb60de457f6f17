/* SPDX-License-Identifier: MIT */
/*
 * cmd_rollout.c: `ripcord rollout start|status|promote|abort|resume`:
 * options, signals, and the rollout's voice: a live line on a TTY, plain
 * lines otherwise, one JSON event per line with --json, the webhook on
 * start, promotion, abort, completion, a pause for a failed gate and an
 * inconclusive step. rollout.c does the work.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ripcord/log.h"
#include "ripcord/rollout.h"
#include "ripcord/site.h"
#include "ripcord/target.h"
#include "ripcord/verdicts.h"
#include "json_internal.h"
#include "banned.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct out {
	struct cli *cli;
	const struct rip_config *cfg;
	struct rip_store *store;
	bool tty;                 /* a live line on stderr */
	bool live;                /* the live line is shown */
	double last_round;        /* when a plain round line was printed */
};

static void end_live(struct out *o)
{
	if (o->live)
		fputs("\r\033[K", stderr);
	o->live = false;
}

static void say(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->cli->json || o->cli->quiet)
		return;
	end_live(o);
	fputs("ripcord: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void emit_json(const char *event, json_t *fields)
{
	json_object_set_new(fields, "event", json_string(event));
	cli_print_json(fields);
	fflush(stdout);
}

static json_t *names(const struct rip_config *cfg, size_t from, size_t to)
{
	json_t *a = json_array();

	for (size_t i = from; i < to && i < cfg->n_targets; i++)
		json_array_append_new(a, json_string(cfg->targets[i].name));
	return a;
}

static void fmt_p99(char *out, size_t len, double ms)
{
	if (isnan(ms))
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.0f ms", ms);
}

/*
 * A round: the live line on a TTY; plain lines at most once a second
 * unless the verdict is a fail or the bake ends, so a log of a long bake
 * stays readable (--json has every round).
 */
static void round_line(struct out *o, const struct rip_rollout_event *e)
{
	const struct rip_rollout_figures *f = e->fig;
	const struct rip_rollout_rec *ro = e->ro;
	size_t canaries = ro->counts[ro->step - 1];
	bool pass = !strcmp(f->verdict, "pass");
	char p99[32], left[32];

	if (o->cli->json || o->cli->quiet)
		return;
	if (!o->tty && strcmp(f->verdict, "fail") && e->left_ms &&
	    rip_monotonic() - o->last_round < 1.0)
		return;
	o->last_round = rip_monotonic();
	fmt_p99(p99, sizeof(p99), f->canary_p99_ms);
	if (e->left_ms < 10000)
		snprintf(left, sizeof(left), "%.1f s", (double)e->left_ms / 1e3);
	else
		snprintf(left, sizeof(left), "%llu s",
			(unsigned long long)e->left_ms / 1000);
	end_live(o);
	fprintf(stderr, "ripcord: step %zu/%zu: %zu canar%s, %zu probe%s, errors "
		"%.1f%%, p99 %s, %s left: %s%s%s%s", ro->step, ro->nsteps,
		canaries, canaries == 1 ? "y" : "ies", f->canary_n,
		f->canary_n == 1 ? "" : "s", f->canary_n ?
		100.0 * (double)f->canary_errors / (double)f->canary_n : 0.0, p99,
		left, f->verdict, pass ? "" : " (", pass ? "" : f->message,
		pass ? "" : ")");
	if (o->tty) {
		fputs("\033[K", stderr);
		o->live = true;
	} else {
		fputc('\n', stderr);
	}
}

static void notify_gate(struct out *o, const char *event,
	const struct rip_rollout_rec *ro, const char *message, const char *gate)
{
	json_t *f = json_pack("{s:s, s:s, s:I, s:I, s:s?, s:s?}", "release",
		ro->release, "previous", ro->previous, "step", (json_int_t)ro->step,
		"steps", (json_int_t)ro->nsteps, "message", message, "gate", gate);

	cli_notify(o->cfg, o->store, event, f);
	json_decref(f);
}

static void notify(struct out *o, const char *event,
	const struct rip_rollout_rec *ro, const char *message)
{
	notify_gate(o, event, ro, message, NULL);
}

static void on_start(struct out *o, const struct rip_rollout_rec *ro)
{
	struct rip_buf counts = RIP_BUF_INIT;
	char bake[32];

	for (size_t i = 0; i < ro->nsteps; i++)
		rip_buf_addf(&counts, "%s%zu", i ? ", " : "", ro->counts[i]);
	if (o->cli->json) {
		json_t *steps = json_array();

		for (size_t i = 0; i < ro->nsteps; i++)
			json_array_append_new(steps, json_pack("{s:I, s:f, s:I}",
				"step", (json_int_t)i + 1, "percent", ro->percents[i] * 100,
				"targets", (json_int_t)ro->counts[i]));
		emit_json("start", json_pack("{s:s, s:s, s:o, s:I, s:b}", "release",
			ro->release, "previous", ro->previous, "steps", steps,
			"bake_ms", (json_int_t)ro->bake_ms, "manual", ro->manual));
	}
	cli_format_duration(bake, sizeof(bake), ro->bake_ms);
	say(o, "rollout of %s from %s: %zu step%s (%s of %zu targets), bake "
		"%s%s", ro->release, ro->previous, ro->nsteps, ro->nsteps == 1 ?
		"" : "s", counts.buf, ro->counts[ro->nsteps - 1], bake,
		ro->manual ? ", manual" : "");
	rip_buf_release(&counts);
	notify(o, "rollout_start", ro, NULL);
}

static void on_step(struct out *o, const struct rip_rollout_rec *ro)
{
	size_t from = ro->step > 1 ? ro->counts[ro->step - 2] : 0;
	size_t to = ro->counts[ro->step - 1];
	struct rip_buf list = RIP_BUF_INIT;

	for (size_t i = from; i < to; i++)
		rip_buf_addf(&list, "%s%s", i > from ? ", " : "",
			o->cfg->targets[i].name);
	if (o->cli->json)
		emit_json("step", json_pack("{s:I, s:I, s:f, s:o, s:o}", "step",
			(json_int_t)ro->step, "of", (json_int_t)ro->nsteps, "percent",
			ro->percents[ro->step - 1] * 100, "canaries",
			names(o->cfg, 0, to), "targets", names(o->cfg, from, to)));
	o->last_round = 0;
	say(o, "step %zu/%zu (%g%%): switching %s to %s", ro->step, ro->nsteps,
		ro->percents[ro->step - 1] * 100, list.buf, ro->release);
	rip_buf_release(&list);
}

static void on_action(struct out *o, const struct rip_rollout_event *e)
{
	const struct rip_action *a = e->action;

	/* the audit entry names what moved and which migrations ran */
	if (!e->rc && a->kind == RIP_ACT_SWITCH)
		cli_audit_target(o->cli, a->target->name);
	if (!e->rc && (a->kind == RIP_ACT_MIGRATE_UP ||
			a->kind == RIP_ACT_MIGRATE_DOWN))
		cli_audit_migrations(o->cli, a->kind == RIP_ACT_MIGRATE_UP ? "up" :
			"down", e->detail);

	/* the failures and the migrations (the schema changes under
	 * everyone); every action with -v */
	if (o->cli->json || o->cli->quiet || (!e->rc &&
			a->kind != RIP_ACT_MIGRATE_UP && a->kind != RIP_ACT_MIGRATE_DOWN &&
			rip_log_get_level() < RIP_LOG_DEBUG))
		return;
	end_live(o);
	cli_print_action(a, e->rc, e->detail);
}

static void on_aborted(struct out *o, const struct rip_rollout_event *e)
{
	struct rip_buf sum = RIP_BUF_INIT;

	cli_audit_move(o->cli, e->ro->release, e->ro->previous);
	for (size_t i = 0; i < e->plan->ntargets; i++)
		cli_audit_target(o->cli, e->plan->targets[i].target->name);
	if (e->plan->op)
		rip_plan_summary(&sum, e->plan);
	cli_audit_schema(o->cli, e->plan);
	if (o->cli->json) {
		json_t *doc = cli_plan_json(e->plan, false, e->ok ? 0 : RIP_EFAIL,
			e->message);

		json_object_set_new(doc, "event", json_string("aborted"));
		json_object_set_new(doc, "release", json_string(e->ro->previous));
		json_object_set_new(doc, "schema", e->plan->schema.planned ?
			rip_plan_schema_json(&e->plan->schema, (const char *const *)
			e->plan->ran.v, e->plan->ran.n) : json_null());
		cli_print_json(doc);
		fflush(stdout);
	} else {
		end_live(o);
		cli_print_plan_table(e->plan);
		/* "switched back: 4/4; downs run: 1 (0005_gift); probe
		 * failed on web-3: ...": the words match the facts */
		if (sum.len)
			printf("abort of %s: %s\n", e->ro->release, sum.buf);
		fflush(stdout);
	}
	rip_buf_release(&sum);
	notify(o, "rollout_abort", e->ro, e->ro->reason);
}

/* Contract ups held back at step 1, and what auto_contract did. */
static void on_phase(struct out *o, const struct rip_rollout_event *e)
{
	bool held = e->kind == RIP_RO_HELD;
	json_t *ids = json_array();
	char *list = rip_xstrdup(e->detail ? e->detail : "");

	cli_audit_migrations(o->cli, held ? "held back:" : "contract up",
		e->detail);
	for (char *p = list, *q; *p; p = q) {
		q = p + strcspn(p, ",");
		if (*q)
			*q++ = '\0';
		json_array_append_new(ids, json_string(p));
	}
	free(list);
	if (o->cli->json) {
		emit_json(held ? "held_back" : "contract", json_pack("{s:s, s:o, "
			"s:s, s:b}", "release", e->ro->release, held ? "migrations" :
			"applied", ids, "message", e->message, "ok", e->rc == 0));
		return;
	}
	json_decref(ids);
	if (e->rc < 0 || !o->cli->quiet) {
		end_live(o);
		fprintf(stderr, "ripcord: %s\n", e->message);
	}
}

static void on_event(void *data, const struct rip_rollout_event *e)
{
	struct out *o = data;
	const struct rip_rollout_rec *ro = e->ro;

	switch (e->kind) {
	case RIP_RO_START:
		cli_audit_move(o->cli, ro->previous, ro->release);
		on_start(o, ro);
		break;
	case RIP_RO_STEP:
		cli_audit_move(o->cli, ro->previous, ro->release);
		on_step(o, ro);
		break;
	case RIP_RO_ACTION:
		on_action(o, e);
		break;
	case RIP_RO_ROUND:
		if (o->cli->json) {
			/* the figures the record got this round (canary,
			 * baseline, verdict, message, elapsed_ms, rounds) */
			json_t *doc = ro->figures ? json_loads(ro->figures, 0, NULL) :
				NULL;

			if (!doc)
				doc = json_object();
			json_object_set_new(doc, "step", json_integer(
				(json_int_t)ro->step));
			json_object_set_new(doc, "of", json_integer(
				(json_int_t)ro->nsteps));
			json_object_set_new(doc, "left_ms", json_integer(
				(json_int_t)e->left_ms));
			emit_json("round", doc);
		}
		round_line(o, e);
		break;
	case RIP_RO_PROMOTED:
		if (o->cli->json)
			emit_json("promoted", json_pack("{s:I, s:I}", "step",
				(json_int_t)ro->step, "of", (json_int_t)ro->nsteps));
		say(o, "step %zu/%zu passed: promoting", ro->step, ro->nsteps);
		notify(o, "rollout_promote", ro, NULL);
		break;
	case RIP_RO_PAUSED:
		if (o->cli->json)
			emit_json("paused", json_pack("{s:I, s:I, s:s, s:s, s:s?}",
				"step", (json_int_t)ro->step, "of", (json_int_t)ro->nsteps,
				"reason", e->message, "phase", ro->phase, "gate", e->gate));
		say(o, "step %zu/%zu: paused: %s", ro->step, ro->nsteps, e->message);
		/* a failed gate, or one that could not judge, waits for a
		 * human: tell them */
		if (!strcmp(ro->phase, "failed"))
			notify_gate(o, "rollout_paused", ro, e->message, e->gate);
		else if (!strcmp(ro->phase, "inconclusive"))
			notify_gate(o, "rollout_inconclusive", ro, e->message, e->gate);
		break;
	case RIP_RO_ABORTING:
		if (o->cli->json)
			emit_json("aborting", json_pack("{s:I, s:I, s:s?, s:s?, s:s}",
				"step", (json_int_t)ro->step, "of", (json_int_t)ro->nsteps,
				"gate", e->gate, "target", e->target, "message", e->message));
		say(o, "ABORTING: %s; every target goes back to %s", e->message,
			ro->previous);
		break;
	case RIP_RO_ABORTED:
		on_aborted(o, e);
		break;
	case RIP_RO_PREEMPTED:
		if (o->cli->json)
			emit_json("preempted", json_pack("{s:s}", "by", e->message));
		say(o, "%s", e->message);
		break;
	case RIP_RO_COMPLETE:
		if (o->cli->json)
			emit_json("complete", json_pack("{s:s, s:f}", "release",
				ro->release, "seconds", e->seconds));
		else if (!o->cli->quiet) {
			end_live(o);
			printf("rollout of %s completed: %zu targets in %zu steps, %.0f "
				"s\n", ro->release, ro->counts[ro->nsteps - 1], ro->nsteps,
				e->seconds);
			fflush(stdout);
		}
		notify(o, "rollout_complete", ro, NULL);
		break;
	case RIP_RO_HELD:
	case RIP_RO_CONTRACT:
		on_phase(o, e);
		break;
	}
}

/* ---- status ------------------------------------------------------------ */

static json_t *status_json(const struct rip_config *cfg,
	const struct rip_rollout_rec *ro, char *const *where)
{
	json_t *doc, *targets = json_object(), *fig = NULL;
	bool interrupted = !ro->finished && strcmp(ro->state, "paused") &&
		!rip_rollout_alive(ro);

	for (size_t i = 0; i < cfg->n_targets; i++)
		json_object_set_new(targets, cfg->targets[i].name, where[i] ?
			json_string(where[i]) : json_null());
	if (ro->figures)
		fig = json_loads(ro->figures, 0, NULL);
	doc = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:f, s:s, s:I, s:s?, "
		"s:o, s:I, s:I}", "release", ro->release, "previous", ro->previous,
		"state", ro->state, "interrupted", interrupted, "step",
		(json_int_t)ro->step, "steps", (json_int_t)ro->nsteps, "percent",
		ro->step ? ro->percents[ro->step - 1] * 100 : 0.0, "phase",
		ro->phase, "pid", (json_int_t)ro->pid, "reason", ro->reason,
		"targets", targets, "started", (json_int_t)ro->started, "finished",
		(json_int_t)ro->finished);
	if (fig) {
		const char *keys[] = { "canary", "baseline", "verdict", "message",
			"elapsed_ms", "rounds", "judge", "gate", "target",
			"undone" };

		for (size_t i = 0; i < RIP_ARRAY_SIZE(keys); i++) {
			json_t *v = json_object_get(fig, keys[i]);

			if (v)
				json_object_set(doc, keys[i], v);
		}
		json_decref(fig);
	}
	return doc;
}

static void print_side(const char *label, json_t *s)
{
	json_t *p99 = json_object_get(s, "p99_ms");
	char buf[32];

	if (!s)
		return;
	fmt_p99(buf, sizeof(buf), json_is_number(p99) ? json_number_value(p99) :
		NAN);
	printf("  %-9s %lld probes, %lld errors (%.1f%%), p99 %s\n", label,
		(long long)json_integer_value(json_object_get(s, "probes")),
		(long long)json_integer_value(json_object_get(s, "errors")),
		100 * json_number_value(json_object_get(s, "error_rate")), buf);
}

/* "  judge:    score 50: latency high (shift +356 ms, ratio 8.78, p
 * 1.08e-05), errors pass (p 1)" */
static void print_judge(json_t *j)
{
	json_t *m;
	size_t i;

	if (!json_is_object(j))
		return;
	printf("  judge:    score %.0f (pass %g, marginal %g):",
		json_number_value(json_object_get(j, "score")),
		json_number_value(json_object_get(j, "pass_score")),
		json_number_value(json_object_get(j, "marginal_score")));
	json_array_foreach(json_object_get(j, "metrics"), i, m) {
		json_t *hl = json_object_get(m, "hl_ms");

		printf("%s %s %s", i ? "," : "", json_string_value(json_object_get(m,
			"metric")), json_string_value(json_object_get(m,
			"classification")));
		if (json_is_number(hl))
			printf(" (shift %+.3g ms, ratio %.3g, p %.3g)",
				json_number_value(hl), json_number_value(
				json_object_get(m, "ratio")), json_number_value(
				json_object_get(m, "p_value")));
		else if (json_is_number(json_object_get(m, "p_value")))
			printf(" (p %.3g)", json_number_value(json_object_get(m,
				"p_value")));
	}
	putchar('\n');
}

static void status_text(const struct rip_config *cfg,
	const struct rip_rollout_rec *ro, char *const *where, json_t *doc)
{
	bool interrupted = json_is_true(json_object_get(doc, "interrupted"));
	const char *rels[2] = { ro->release, ro->previous };
	char when[32];

	if (ro->finished) {
		cli_format_time(when, sizeof(when), ro->finished);
		printf("last rollout of %s (from %s): %s %s UTC%s%s%s\n", ro->release,
			ro->previous, ro->state, when, ro->reason ? " (" : "",
			ro->reason ? ro->reason : "", ro->reason ? ")" : "");
		print_judge(json_object_get(doc, "judge"));
		return;
	}
	printf("rollout of %s (from %s): %s, step %zu/%zu (%g%%), %s",
		ro->release, ro->previous, interrupted ? "interrupted" : ro->state,
		ro->step, ro->nsteps, ro->percents[ro->step - 1] * 100, ro->phase);
	if (!strcmp(ro->phase, "baking") && json_object_get(doc, "elapsed_ms"))
		printf(" %.1f s of %.1f s", (double)json_integer_value(
			json_object_get(doc, "elapsed_ms")) / 1e3,
			(double)ro->bake_ms / 1e3);
	if (!interrupted && strcmp(ro->state, "paused"))
		printf(", pid %lld", (long long)ro->pid);
	putchar('\n');
	for (size_t r = 0; r < 2; r++) {
		printf("  %s:", rels[r]);
		for (size_t i = 0; i < cfg->n_targets; i++)
			if (where[i] && !strcmp(where[i], rels[r]))
				printf(" %s", cfg->targets[i].name);
		putchar('\n');
	}
	print_side("canary:", json_object_get(doc, "canary"));
	print_side("baseline:", json_object_get(doc, "baseline"));
	if (json_object_get(doc, "verdict"))
		printf("  verdict:  %s%s%s\n", json_string_value(json_object_get(doc,
			"verdict")), json_string_length(json_object_get(doc, "message")) ?
			": " : "", json_string_value(json_object_get(doc, "message")));
	print_judge(json_object_get(doc, "judge"));
	if (ro->reason)
		printf("  reason:   %s\n", ro->reason);
	if (!strcmp(ro->state, "paused") && !strcmp(ro->phase, "inconclusive"))
		printf("  inconclusive: %s could not judge step %zu/%zu: run "
			"'ripcord rollout resume' to judge it again, 'ripcord rollout "
			"promote' to count it as passed, or 'ripcord rollout abort'\n",
			json_is_string(json_object_get(doc, "gate")) ?
			json_string_value(json_object_get(doc, "gate")) : "a gate",
			ro->step, ro->nsteps);
	if (interrupted)
		printf("  its process (pid %lld) is gone: run 'ripcord rollout "
			"resume' or 'ripcord rollout abort'\n", (long long)ro->pid);
}

/* The rollout's recorded verdicts (the judge's numbers) into doc. */
static int add_verdicts(json_t *doc, struct rip_store *store, int64_t seq,
	struct rip_err *err)
{
	struct rip_verdict_rec *v;
	size_t n;
	int rc;

	if ((rc = rip_verdict_list(&v, &n, store->state, seq, 0, err)) < 0)
		return rc;
	json_object_set_new(doc, "verdicts", rip_verdict_recs_json(v, n));
	rip_verdict_recs_free(v, n);
	return 0;
}

/* The schema's phase of the rollout's release against its previous one
 * (schema_phase.h) into doc, and as a line for the text; NULL without
 * [migrations] or its database. An unreadable database is warned about. */
static char *add_schema(json_t *doc, const struct rip_config *cfg,
	struct rip_store *store, const struct rip_rollout_rec *ro)
{
	struct rip_schema_phase p;
	struct rip_err err = { 0 };
	int64_t now = (int64_t)time(NULL);
	char *line = NULL, *text, *rb;

	if (!cfg->migrations.dir)
		return NULL;
	if (rip_schema_phase(&p, cfg, store, ro->release, ro->previous,
			&err) < 0) {
		rip_warn("%s", err.msg);
	} else if (p.known) {
		json_object_set_new(doc, "schema", rip_schema_phase_json(&p));
		text = rip_schema_phase_text(&p, now);
		rb = rip_schema_phase_rollback_text(&p, now);
		line = rip_xasprintf("%s; rollback to %s: %s", text, ro->previous,
			rb);
		free(text);
		free(rb);
	}
	rip_schema_phase_release(&p);
	return line;
}

static int status(struct cli *cli, const struct rip_config *cfg,
	struct rip_store *store, struct rip_err *err)
{
	char *schema;
	struct rip_rollout_rec ro;
	char **where;
	struct rip_site *sites;
	json_t *doc;
	int rc;

	if ((rc = rip_rollout_last(&ro, store->state, err)) < 0)
		return rc;
	if (!ro.seq) {
		if (cli->json)
			cli_print_json(json_pack("{s:n}", "rollout"));
		else
			puts("no rollout");
		return 0;
	}
	where = rip_xcalloc(cfg->n_targets + 1, sizeof(*where));
	sites = rip_sites_read_all(cfg, store);
	for (size_t i = 0; i < cfg->n_targets; i++)
		if (sites[i].rc == 0 && sites[i].root.current)
			where[i] = rip_xstrdup(sites[i].root.current);
	rip_sites_free(sites, cfg->n_targets);
	doc = status_json(cfg, &ro, where);
	if ((rc = add_verdicts(doc, store, ro.seq, err)) < 0) {
		json_decref(doc);
		goto done;
	}
	schema = add_schema(doc, cfg, store, &ro);
	if (!cli->json)
		status_text(cfg, &ro, where, doc);
	if (!cli->json && schema)
		printf("  schema:   %s\n", schema);
	free(schema);
	rc = json_is_true(json_object_get(doc, "interrupted")) ? RIP_EINTR : 0;
	if (cli->json)
		cli_print_json(json_pack("{s:o}", "rollout", doc));
	else
		json_decref(doc);
done:
	for (size_t i = 0; i < cfg->n_targets; i++)
		free(where[i]);
	free(where);
	rip_rollout_rec_release(&ro);
	return rc;
}

/* ---- the command ------------------------------------------------------- */

static const char usage_text[] =
	"usage: ripcord rollout start ID [--steps LIST] [--bake DUR] "
	"[--manual]\n"
	"       ripcord rollout status|promote|abort|resume\n"
	"       (start, promote, resume, abort: [--keep-schema | --schema-down] "
	"[--accept-data-loss])\n";

static void catch_signals(void)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a sleep between rounds ends at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cmd_rollout(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "steps", required_argument, NULL, 's' },
		{ "bake", required_argument, NULL, 'b' },
		{ "manual", no_argument, NULL, 'm' },
		{ "keep-schema", no_argument, NULL, 'K' },
		{ "schema-down", no_argument, NULL, 'D' },
		{ "accept-data-loss", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rip_rollout_opts ro = { .stop = &stop_signal, .fn = on_event };
	struct rip_config *cfg = NULL;
	struct rip_store *store = NULL;
	struct rip_steps steps = { 0 };
	const char *sub, *steps_arg = NULL;
	struct rip_err err = { 0 };
	struct out o = { .cli = cli, .tty = isatty(STDERR_FILENO) };
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': steps_arg = optarg; break;
		case 'b':
			if (rip_parse_duration(&ro.bake_ms, optarg) < 0)
				return cli_usage("rollout", "--bake '%s': expected a "
					"duration such as 30s, 5m or 500ms", optarg);
			ro.bake_set = true;
			break;
		case 'm': ro.manual = true; break;
		case 'K': case 'D':
			if (ro.abort_schema && ro.abort_schema != (c == 'K' ?
					RIP_ABORT_SCHEMA_KEEP : RIP_ABORT_SCHEMA_DOWN))
				return cli_usage("rollout", "--keep-schema and "
					"--schema-down contradict each other: pick one");
			ro.abort_schema = c == 'K' ? RIP_ABORT_SCHEMA_KEEP :
				RIP_ABORT_SCHEMA_DOWN;
			break;
		case 'A': ro.accept_data_loss = true; break;
		case 'j': cli->json = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage("rollout", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("rollout", "expected start, status, promote, "
			"abort or resume");
	sub = argv[optind++];
	if (!strcmp(sub, "start") ? optind + 1 != argc : optind != argc)
		return cli_usage("rollout", !strcmp(sub, "start") ? "start takes "
			"one release id" : "'%s' takes no argument", sub);
	if (strcmp(sub, "start") && (steps_arg || ro.bake_set || ro.manual))
		return cli_usage("rollout", "--steps, --bake and --manual go with "
			"start");
	if (!strcmp(sub, "status") && (ro.abort_schema || ro.accept_data_loss))
		return cli_usage("rollout", "--keep-schema, --schema-down and "
			"--accept-data-loss go with start, promote, resume and abort "
			"(what an abort does with the schema)");
	if (steps_arg && rip_parse_steps(&steps, steps_arg) < 0)
		return cli_usage("rollout", "--steps '%s': expected increasing "
			"percentages ending at 100%%, such as 25%%,50%%,100%%",
			steps_arg);
	ro.steps = steps_arg ? &steps : NULL;
	ro.data = &o;
	if ((rc = cli_load_config(cli, &cfg, &err)) < 0 ||
	    (rc = rip_store_open(&store, cfg->project.store, false, &err)) < 0)
		goto done;
	o.cfg = cfg;
	o.store = store;
	if (strcmp(sub, "status"))
		catch_signals();
	if (!strcmp(sub, "start"))
		rc = rip_rollout_start(cfg, store, argv[optind], &ro, &err);
	else if (!strcmp(sub, "status"))
		rc = status(cli, cfg, store, &err);
	else if (!strcmp(sub, "promote"))
		rc = rip_rollout_promote(cfg, store, &ro, &err);
	else if (!strcmp(sub, "abort"))
		rc = rip_rollout_abort(cfg, store, &ro, &err);
	else if (!strcmp(sub, "resume"))
		rc = rip_rollout_resume(cfg, store, &ro, &err);
	else
		rc = rip_err_set(&err, RIP_EUSAGE, "unknown subcommand '%s': "
			"expected start, status, promote, abort or resume", sub);
done:
	end_live(&o);
	if (rc == RIP_EINTR && !strcmp(sub, "status"))
		rc = rip_err_exit_code(rc);
	else if (rc < 0)
		rc = cli_fail(&err, rc);
	free(steps.v);
	rip_store_free(store);
	rip_config_free(cfg);
	return rc;
}
