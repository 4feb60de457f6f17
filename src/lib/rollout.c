/* SPDX-License-Identifier: MIT */
/*
 * rollout.c: a canary rollout from start to its end. Each step is written
 * to the record before it acts (phase "switching"), switches its targets
 * with the deploy machinery under the store lock, tells the weight hook,
 * then bakes (rollout_bake.c). A step that passes is promoted, or, in
 * manual mode, the rollout pauses and the process exits; a step that
 * fails is aborted with a rollback plan to the previous release, or
 * paused when auto_rollback is off; a step a gate could not judge is
 * paused or aborted as [rollout] inconclusive says. Before step 1 a
 * preflight probes every target (rollout_bake.c). The figures of the
 * record keep the gate that ended the rollout and, for an abort, what it
 * undid: the aborts ledger (`log --aborts`, the report) reads them.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/drill.h"
#include "ripcord/hook.h"
#include "ripcord/log.h"
#include "ripcord/release.h"
#include "ripcord/site.h"
#include "ripcord/target.h"
#include "json_internal.h"
#include "rollout_internal.h"
#include "banned.h"

/* How often `rollout abort` looks whether the running process is done. */
#define ABORT_POLL_MS 200

void rip_rollout_emit(struct rip_rollout_run *r, struct rip_rollout_event *e)
{
	e->ro = &r->ro;
	if (r->o->fn)
		r->o->fn(r->o->data, e);
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? rip_xstrdup(v) : NULL;
}

/* Saves r->ro when its state is still expect; when another process
 * changed it (a preempting rollback), *preempted and r->ro is reread. */
static int save(struct rip_rollout_run *r, const char *expect,
	bool *preempted, struct rip_err *err)
{
	bool saved;
	int rc;

	*preempted = false;
	if ((rc = rip_rollout_save(&r->ro, expect, &saved, r->store->state,
			err)) < 0 || saved)
		return rc;
	*preempted = true;
	return rip_rollout_reload(&r->ro, r->store->state, err);
}

/* Sets key to v (stolen) in the record's figures JSON, made when none. */
static void figures_set(struct rip_rollout_rec *ro, const char *key, json_t *v)
{
	json_t *doc = ro->figures ? json_loads(ro->figures, 0, NULL) : NULL;

	if (!json_is_object(doc)) {
		json_decref(doc);
		doc = json_object();
	}
	json_object_set_new(doc, key, v ? v : json_null());
	free(ro->figures);
	ro->figures = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
}

/* The gate that ended the step (and its worst canary) into the figures. */
static void figures_gate(struct rip_rollout_run *r)
{
	if (r->gate[0])
		figures_set(&r->ro, "gate", json_string(r->gate));
	figures_set(&r->ro, "target", r->target[0] ? json_string(r->target) :
		NULL);
}

/* What an abort undid into the figures: the plan's summary, the targets
 * it put back and the downs it ran. */
static void figures_undone(struct rip_rollout_run *r,
	const struct rip_plan *plan, const char *summary)
{
	json_t *targets = json_array(), *downs = json_array();

	for (size_t i = 0; i < plan->ntargets; i++)
		json_array_append_new(targets, json_string(
			plan->targets[i].target->name));
	for (size_t i = 0; i < plan->ran.n; i++)
		json_array_append_new(downs, json_string(plan->ran.v[i]));
	figures_set(&r->ro, "undone", json_pack("{s:s, s:o, s:o, s:o}",
		"summary", summary ? summary : "", "targets", targets, "downs",
		downs, "schema", plan->schema.planned ? rip_plan_schema_json(
		&plan->schema, (const char *const *)plan->ran.v, plan->ran.n) :
		json_null()));
}

/* The schema choice an abort stored when it began (figures "abort":
 * {keep, accept_data_loss}): false when the record has none (an abort
 * not begun yet, or begun before this was stored). */
static bool abort_stored(const struct rip_rollout_rec *ro, bool *keep,
	bool *accept)
{
	json_t *doc = ro->figures ? json_loads(ro->figures, 0, NULL) : NULL;
	json_t *a = json_object_get(doc, "abort");
	bool found = json_is_boolean(json_object_get(a, "keep"));

	if (found) {
		*keep = json_is_true(json_object_get(a, "keep"));
		*accept = json_is_true(json_object_get(a, "accept_data_loss"));
	}
	json_decref(doc);
	return found;
}

/*
 * What this abort does with the schema. An abort that began (and was
 * interrupted) keeps the choice it stored: this process's
 * --accept-data-loss may only add to it, and a --keep-schema or
 * --schema-down that contradicts it is RIP_EUSAGE naming both. Else the
 * asker's flags when another process asked for it ("abort keep", "abort
 * down accept"), else this process's options, else [rollback]
 * abort_schema.
 */
static int abort_mode(const struct rip_rollout_run *r, bool *keep,
	bool *accept, struct rip_err *err)
{
	const char *q = r->ro.request;

	if (abort_stored(&r->ro, keep, accept)) {
		*accept = *accept || r->o->accept_data_loss;
		if (r->o->abort_schema == RIP_ABORT_SCHEMA_CONFIG ||
		    (r->o->abort_schema == RIP_ABORT_SCHEMA_KEEP) == *keep)
			return 0;
		return rip_err_set(err, RIP_EUSAGE, "the abort of %s began with "
			"%s and goes on with it; %s contradicts it: run again without "
			"it, and once the abort is done, 'ripcord rollback%s' changes "
			"the schema", r->ro.release, *keep ? "--keep-schema (no downs)" :
			"--schema-down (the rollout's downs)", *keep ? "--schema-down" :
			"--keep-schema", *keep ? " --schema-down" : "");
	}
	*keep = !strcmp(r->cfg->rollback.abort_schema, "keep");
	*accept = r->o->accept_data_loss;
	if (r->o->abort_schema != RIP_ABORT_SCHEMA_CONFIG)
		*keep = r->o->abort_schema == RIP_ABORT_SCHEMA_KEEP;
	if (!q || strncmp(q, "abort ", 6))
		return 0;
	if (strstr(q, " keep"))
		*keep = true;
	else if (strstr(q, " down"))
		*keep = false;
	*accept = *accept || strstr(q, " accept") != NULL;
	return 0;
}

/* The request `rollout abort` leaves for the process running the
 * rollout: "abort", then its schema flags, read back by abort_mode. */
static char *abort_request(const struct rip_rollout_opts *o)
{
	return rip_xasprintf("abort%s%s", o->abort_schema ==
		RIP_ABORT_SCHEMA_KEEP ? " keep" : o->abort_schema ==
		RIP_ABORT_SCHEMA_DOWN ? " down" : "", o->accept_data_loss ?
		" accept" : "");
}

static int preempted(struct rip_rollout_run *r, struct rip_err *err)
{
	struct rip_rollout_event e = { .kind = RIP_RO_PREEMPTED };

	e.message = r->ro.reason ? r->ro.reason : r->ro.state;
	rip_rollout_emit(r, &e);
	return rip_err_set(err, RIP_EFAIL, "the rollout of %s stopped at step "
		"%zu/%zu: %s", r->ro.release, r->ro.step, r->ro.nsteps, e.message);
}

static void on_action(void *data, const struct rip_action *a, int rc,
	const char *detail)
{
	struct rip_rollout_event e = { .kind = RIP_RO_ACTION, .action = a,
		.rc = rc, .detail = detail };

	rip_rollout_emit(data, &e);
}

/* `weight_hook PERCENT`: false (with r->message) when it failed. */
static bool weight(struct rip_rollout_run *r, double percent)
{
	const struct rip_config *cfg = r->cfg;
	struct rip_buf names = RIP_BUF_INIT;
	struct rip_hook_result hr;
	struct rip_err herr = { 0 };
	char pct[32], step[24], steps[24];
	const char *argv[] = { cfg->rollout.weight_hook, pct, NULL };
	size_t canaries = percent > 0 ? r->ro.counts[r->ro.step - 1] : 0;
	bool ok;

	if (!cfg->rollout.weight_hook)
		return true;
	for (size_t i = 0; i < canaries; i++)
		rip_buf_addf(&names, "%s%s", i ? " " : "", cfg->targets[i].name);
	snprintf(pct, sizeof(pct), "%g", percent);
	snprintf(step, sizeof(step), "%zu", r->ro.step);
	snprintf(steps, sizeof(steps), "%zu", r->ro.nsteps);
	const struct rip_hook_env env[] = {
		{ "RIPCORD_RELEASE", r->ro.release },
		{ "RIPCORD_PREVIOUS", r->ro.previous },
		{ "RIPCORD_STEP", step },
		{ "RIPCORD_STEPS", steps },
		{ "RIPCORD_WEIGHT", pct },
		{ "RIPCORD_CANARIES", names.buf ? names.buf : "" },
	};

	ok = rip_hook_run(&hr, argv, cfg->dir, env, RIP_ARRAY_SIZE(env),
		RIP_ROLLOUT_WEIGHT_TIMEOUT_MS, &herr) == 0;
	if (ok && hr.output.len) {
		char *head = rip_xasprintf("weight_hook %s %s (exit %d): ",
			cfg->rollout.weight_hook, pct, hr.exit_code);

		rip_log_lines(RIP_LOG_DEBUG, head, hr.output.buf, hr.output.len);
		free(head);
	}
	if (ok && hr.exit_code != 0) {
		snprintf(herr.msg, sizeof(herr.msg), "exited %d", hr.exit_code);
		ok = false;
	}
	if (!ok) {
		snprintf(r->gate, sizeof(r->gate), "weight_hook");
		r->target[0] = '\0';
		struct rip_buf msg = RIP_BUF_INIT;

		rip_buf_addf(&msg, "step %zu/%zu: weight_hook %s %s: %s",
			r->ro.step, r->ro.nsteps, cfg->rollout.weight_hook, pct,
			herr.msg);
		rip_copy_shown(r->message, sizeof(r->message), msg.buf);
		rip_buf_release(&msg);
	}
	rip_hook_result_release(&hr);  /* set on every return */
	rip_buf_release(&names);
	return ok;
}

/* Adds ran to the record's applied ups and saves it. */
static int note_applied(struct rip_rollout_run *r,
	const struct rip_strlist *ran, bool *gone, struct rip_err *err)
{
	struct rip_buf b = RIP_BUF_INIT;

	rip_buf_adds(&b, r->ro.applied ? r->ro.applied : "");
	for (size_t i = 0; i < ran->n; i++)
		rip_buf_addf(&b, "%s%s", b.len ? "," : "", ran->v[i]);
	free(r->ro.applied);
	r->ro.applied = rip_buf_detach(&b, NULL);
	return save(r, "running", gone, err);
}

/* Step 1's contract ups, held back: they are never in the record's
 * applied (an abort has nothing of theirs to undo). */
static void held(struct rip_rollout_run *r, const struct rip_plan *plan)
{
	struct rip_rollout_event e = { .kind = RIP_RO_HELD,
		.message = plan->held_note };
	struct rip_buf ids = RIP_BUF_INIT;

	for (size_t i = 0; i < plan->held.n; i++)
		rip_buf_addf(&ids, "%s%s", i ? "," : "", plan->held.v[i]);
	e.detail = ids.buf;
	rip_rollout_emit(r, &e);
	rip_buf_release(&ids);
}

/*
 * Switches the targets of r->ro.step (the deploy machinery: the first
 * step also runs the release's ups) under the store lock. *failed with
 * r->message when the plan or an activate hook failed.
 */
static int switch_step(struct rip_rollout_run *r, bool *failed,
	bool *gone, struct rip_err *err)
{
	size_t n = r->ro.counts[r->ro.step - 1];
	const char **only = rip_xcalloc(n + 1, sizeof(*only));
	struct rip_err perr = { 0 };
	struct rip_plan plan = { 0 };
	struct rip_lock l;
	bool yanked = false;
	int rc;

	*failed = *gone = false;
	for (size_t i = 0; i < n; i++)
		only[i] = r->cfg->targets[i].name;
	/* a gc or a migrate holds the lock for a moment: wait it out rather
	 * than leave the rollout interrupted */
	if ((rc = rip_lock_acquire_wait(&l, r->store, "rollout",
			RIP_ROLLOUT_PREEMPT_WAIT_MS, err)) < 0) {
		free(only);
		return rc;
	}
	/* a rollback may have preempted us while we waited */
	if ((rc = rip_rollout_reload(&r->ro, r->store->state, err)) < 0)
		goto done;
	if (strcmp(r->ro.state, "running")) {
		*gone = true;
		goto done;
	}
	/* a release yanked while it rolls out goes no further: its step
	 * fails, and the abort puts every target back */
	if (rip_store_refuse_yanked(r->store, r->ro.release, "roll out",
			&perr) < 0) {
		*failed = yanked = true;
	} else if (rip_plan_deploy(&plan, r->cfg, r->store, r->ro.release,
			only, n, &perr) < 0) {
		*failed = true;
	} else {
		/* the ups this step will run are what an abort undoes (those
		 * of them still applied then): recorded before the first one
		 * runs, so a kill in the middle cannot lose them */
		if (plan.ups.n && (rc = note_applied(r, &plan.ups, gone,
				err)) < 0)
			goto done;
		if (plan.held.n && r->ro.step == 1)
			held(r, &plan);
		if (rip_plan_apply(&plan, r->cfg, r->store, on_action, r,
				&perr) < 0)
			*failed = true;
	}
	if (*failed) {
		snprintf(r->gate, sizeof(r->gate), "%s", yanked ? "yanked" :
			"switch");
		r->target[0] = '\0';
		snprintf(r->message, sizeof(r->message), "step %zu/%zu: %s",
			r->ro.step, r->ro.nsteps, perr.msg);
	}
done:
	rip_lock_release(&l);
	rip_plan_release(&plan);
	free(only);
	return rc;
}

/*
 * The abort's rollback plan: keep, or the downs of what the rollout
 * applied. Downs that would lose data (a contract migration that ran)
 * without accept are not run: the abort keeps the schema instead, and the
 * plan's schema.loss says what those downs would have lost. An abort runs
 * at machine speed: putting the code back must not wait for a human.
 */
static int plan_abort(struct rip_plan *plan, const struct rip_rollout_run *r,
	bool keep, bool accept, struct rip_err *err)
{
	struct rip_plan_schema refused;
	int rc;

	/* a record from before state.db schema 7 does not say what its
	 * rollout applied: the downs to previous, as then */
	rc = keep ? rip_plan_rollback(plan, r->cfg, r->store, r->ro.previous,
		true, err) : r->ro.applied ? rip_plan_rollback_exact(plan, r->cfg,
		r->store, r->ro.previous, r->ro.applied, err) :
		rip_plan_rollback(plan, r->cfg, r->store, r->ro.previous, false,
		err);
	if (rc < 0 || accept || rip_schema_lossless(&plan->schema)) {
		plan->schema.accept_data_loss = accept;
		return rc;
	}
	refused = plan->schema;
	memset(&plan->schema, 0, sizeof(plan->schema));
	rip_plan_release(plan);
	rip_warn("the abort's downs would undo a contract migration that ran "
		"(%s: %s): the schema is kept instead; 'ripcord rollback "
		"--schema-down --accept-data-loss' undoes it", refused.loss[0].object,
		refused.loss[0].why);
	if ((rc = rip_plan_rollback(plan, r->cfg, r->store, r->ro.previous,
			true, err)) == 0) {
		plan->schema.loss = refused.loss;
		plan->schema.nloss = refused.nloss;
		refused.loss = NULL;
		refused.nloss = 0;
	}
	rip_plan_schema_release(&refused);
	return rc;
}

/*
 * An abort asked in this process (`rollout abort` of a paused or
 * interrupted rollout) whose downs would lose data without
 * --accept-data-loss is refused before anything changes: the person who
 * asked for the downs chooses again.
 */
static int refuse_lossy_abort(const struct rip_rollout_run *r,
	struct rip_err *err)
{
	struct rip_plan plan = { 0 };
	struct rip_err ignore = { 0 };
	bool keep, accept;
	int rc;

	if ((rc = abort_mode(r, &keep, &accept, err)) < 0 || keep || accept)
		return rc;
	/* a plan that cannot be made fails the abort itself, as before */
	if ((r->ro.applied ? rip_plan_rollback_exact(&plan, r->cfg, r->store,
			r->ro.previous, r->ro.applied, &ignore) :
			rip_plan_rollback(&plan, r->cfg, r->store, r->ro.previous,
			false, &ignore)) == 0)
		rc = rip_schema_refuse_loss(&plan.schema, "abort's rollback",
			r->ro.previous, false, err);
	rip_plan_release(&plan);
	return rc;
}

/*
 * Every target back to the previous release, then the release's downs,
 * then a probe of every target: a rollback plan, applied under the lock.
 * The record goes aborting -> aborted; its phase says whether the
 * rollback worked ("rolled back") or not ("rollback failed").
 */
static int abort_rollout(struct rip_rollout_run *r, struct rip_err *err)
{
	struct rip_rollout_event e = { .kind = RIP_RO_ABORTING };
	struct rip_err perr = { 0 };
	struct rip_plan plan = { 0 };
	struct rip_buf sum = RIP_BUF_INIT;
	struct rip_lock l;
	bool gone, back, keep, accept;
	int rc;

	if ((rc = abort_mode(r, &keep, &accept, err)) < 0)
		return rc;
	{
		/* an interrupted abort keeps its reason and its schema choice
		 * (abort_mode); this process owns it */
		char *was = rip_xstrdup(r->ro.state);

		if (strcmp(was, "aborting")) {
			set_str(&r->ro.reason, r->message);
			figures_gate(r);
			figures_set(&r->ro, "abort", json_pack("{s:b, s:b}", "keep",
				keep, "accept_data_loss", accept));
		}
		set_str(&r->ro.state, "aborting");
		rip_rollout_claim(&r->ro);
		rc = save(r, was, &gone, err);
		free(was);
		if (rc < 0)
			return rc;
		if (gone)
			return preempted(r, err);
	}
	e.gate = r->gate[0] ? r->gate : NULL;
	e.target = r->target[0] ? r->target : NULL;
	e.message = r->ro.reason;
	rip_rollout_emit(r, &e);
	if (!weight(r, 0))
		rip_warn("%s (going on with the abort)", r->message);
	if (rip_lock_acquire_wait(&l, r->store, "rollout",
			RIP_ROLLOUT_PREEMPT_WAIT_MS, err) < 0)
		return rip_err_prefix(err, "cannot abort the rollout of %s",
			r->ro.release);
	/* keep: no downs, nothing lost; down: exactly what this rollout
	 * applied is undone */
	if ((rc = plan_abort(&plan, r, keep, accept, &perr)) == 0)
		rc = rip_plan_apply(&plan, r->cfg, r->store, on_action, r, &perr);
	rip_lock_release(&l);
	/* the rollback failed when the plan could not be made, stopped (a
	 * switch, extract or down) or left a target where it was (a host it
	 * could not reach); a probe or a hook that failed after every target
	 * was back is said as that */
	back = rc == 0 || (plan.op && !plan.stopped &&
		rip_plan_reached_all(&plan));
	set_str(&r->ro.state, "aborted");
	set_str(&r->ro.phase, !back ? "rollback failed" : rc ?
		"rolled back, unhealthy" : "rolled back");
	r->ro.finished = (int64_t)time(NULL);
	if (plan.op)
		rip_plan_summary(&sum, &plan);
	figures_undone(r, &plan, sum.buf);
	if (save(r, "aborting", &gone, err) < 0)
		rip_warn("cannot record the end of the abort: %s", err->msg);
	rip_rollout_metrics(r, 0, 0);
	e = (struct rip_rollout_event){ .kind = RIP_RO_ABORTED, .plan = &plan,
		.ok = rc == 0, .message = rc ? perr.msg : NULL };
	rip_rollout_emit(r, &e);
	if (!back)
		rc = rip_err_set(err, RIP_EFAIL, "the rollout of %s was aborted (%s), "
			"but putting the targets back on %s failed: %s; run 'ripcord "
			"rollback --to %s'", r->ro.release, r->ro.reason, r->ro.previous,
			perr.msg, r->ro.previous);
	else if (rc)
		rc = rip_err_set(err, RIP_EFAIL, "the rollout of %s was aborted (%s) "
			"and its rollback to %s worked: %s", r->ro.release,
			r->ro.reason, r->ro.previous, sum.buf);
	else
		rc = rip_err_set(err, RIP_EFAIL, "the rollout of %s was aborted: %s; "
			"every target is back on %s (%s)", r->ro.release, r->ro.reason,
			r->ro.previous, sum.buf);
	rip_buf_release(&sum);
	rip_plan_release(&plan);
	return rc;
}

/*
 * Pauses the rollout in phase, with r->message as its reason, saved and
 * told: 1 when paused, else what stopped it (a preemption's error, or
 * state.db's).
 */
static int pause_in(struct rip_rollout_run *r, const char *phase,
	struct rip_err *err)
{
	struct rip_rollout_event e = { .kind = RIP_RO_PAUSED };
	bool gone;
	int rc;

	set_str(&r->ro.state, "paused");
	set_str(&r->ro.phase, phase);
	set_str(&r->ro.reason, r->message);
	figures_gate(r);
	if ((rc = save(r, "running", &gone, err)) < 0)
		return rc;
	if (gone)
		return preempted(r, err);
	e.message = r->message;
	e.gate = r->gate[0] ? r->gate : NULL;
	rip_rollout_emit(r, &e);
	return 1;
}

/* A failed gate with auto_rollback = no, or a signal then: a human
 * decides. The process exits 1; promote or abort goes on. */
static int pause_failed(struct rip_rollout_run *r, struct rip_err *err)
{
	int rc = pause_in(r, "failed", err);

	if (rc <= 0)
		return rc;
	return rip_err_set(err, RIP_EFAIL, "%s; the rollout of %s is paused "
		"(auto_rollback = no): run 'ripcord rollout abort' to put every "
		"target back on %s, or 'ripcord rollout promote' to go on",
		r->message, r->ro.release, r->ro.previous);
}

/* A gate could not judge, inconclusive = pause: a human decides, with the
 * canaries where they are. The process exits 1. */
static int pause_inconclusive(struct rip_rollout_run *r, struct rip_err *err)
{
	int rc = pause_in(r, "inconclusive", err);

	if (rc <= 0)
		return rc;
	return rip_err_set(err, RIP_EFAIL, "%s; the rollout of %s is paused "
		"(inconclusive = pause): run 'ripcord rollout resume' to judge step "
		"%zu/%zu again, 'ripcord rollout promote' to count it as passed, or "
		"'ripcord rollout abort' to put every target back on %s", r->message,
		r->ro.release, r->ro.step, r->ro.nsteps, r->ro.previous);
}

static int complete(struct rip_rollout_run *r, struct rip_err *err)
{
	struct rip_rollout_event e = { .kind = RIP_RO_COMPLETE };
	bool gone;
	int rc;

	set_str(&r->ro.state, "completed");
	r->ro.finished = (int64_t)time(NULL);
	if ((rc = save(r, "running", &gone, err)) < 0)
		return rc;
	if (gone)
		return preempted(r, err);
	rip_rollout_metrics(r, 0, 0);
	e.seconds = rip_monotonic() - r->started;
	rip_rollout_emit(r, &e);
	return r->cfg->rollout.auto_contract ? rip_rollout_contract(r, err) : 0;
}

/* One step: journal, switch, weight, bake. */
static int run_step(struct rip_rollout_run *r, enum rip_bake_end *end,
	struct rip_err *err)
{
	struct rip_rollout_event e = { .kind = RIP_RO_STEP };
	bool gone, failed, stop;
	int rc;

	set_str(&r->ro.phase, "switching");
	set_str(&r->ro.figures, NULL);
	r->ro.step_started = (int64_t)time(NULL);
	if ((rc = save(r, "running", &gone, err)) < 0)
		return rc;
	*end = RIP_BAKE_PREEMPTED;
	if (gone)
		return 0;
	/* a Ctrl-C or an abort that came before the step: switch nothing
	 * (after the save: this rereads the record) */
	if ((rc = rip_rollout_stopped(r, end, &stop, err)) < 0 || stop)
		return rc;
	rip_rollout_emit(r, &e);
	if ((rc = switch_step(r, &failed, &gone, err)) < 0 || gone)
		return rc;
	*end = RIP_BAKE_FAIL;
	if (failed || !weight(r, r->ro.percents[r->ro.step - 1] * 100))
		return 0;
	set_str(&r->ro.phase, "baking");
	if ((rc = save(r, "running", &gone, err)) < 0)
		return rc;
	*end = RIP_BAKE_PREEMPTED;
	if (gone)
		return 0;
	return rip_rollout_bake(r, end, err);
}

/* Steps from r->ro.step on, until the end, a pause or an abort. */
static int run(struct rip_rollout_run *r, struct rip_err *err)
{
	for (;;) {
		struct rip_rollout_event e = { .kind = RIP_RO_PROMOTED };
		enum rip_bake_end end;
		bool gone;
		int rc;

		if ((rc = run_step(r, &end, err)) < 0)
			return rc;
		switch (end) {
		case RIP_BAKE_PREEMPTED:
			return preempted(r, err);
		case RIP_BAKE_STOP:
			if (!r->by_request && !r->cfg->rollout.auto_rollback)
				return pause_failed(r, err);
			return abort_rollout(r, err);
		case RIP_BAKE_FAIL:
			return r->cfg->rollout.auto_rollback ? abort_rollout(r, err) :
				pause_failed(r, err);
		case RIP_BAKE_INCONCLUSIVE:
			/* inconclusive = abort: as a failed gate */
			if (strcmp(r->cfg->rollout.inconclusive, "abort"))
				return pause_inconclusive(r, err);
			return r->cfg->rollout.auto_rollback ? abort_rollout(r, err) :
				pause_failed(r, err);
		case RIP_BAKE_PASS:
			break;
		}
		if (r->ro.step == r->ro.nsteps)
			return complete(r, err);
		set_str(&r->ro.phase, "baked");
		if (r->ro.manual) {
			struct rip_rollout_event p = { .kind = RIP_RO_PAUSED };

			set_str(&r->ro.state, "paused");
			set_str(&r->ro.reason, "manual: waiting for 'ripcord rollout "
				"promote'");
			if ((rc = save(r, "running", &gone, err)) < 0)
				return rc;
			if (gone)
				return preempted(r, err);
			p.message = r->ro.reason;
			rip_rollout_emit(r, &p);
			return 0;
		}
		rip_rollout_emit(r, &e);
		r->ro.step++;
	}
}

static void run_init(struct rip_rollout_run *r, const struct rip_config *cfg,
	struct rip_store *store, const struct rip_rollout_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->store = store;
	r->o = o;
	r->started = rip_monotonic();
}

/* Every target must have a health URL: the gates judge by probes. */
static int check_targets(const struct rip_config *cfg, struct rip_err *err)
{
	for (size_t i = 0; i < cfg->n_targets; i++)
		if (!cfg->targets[i].health)
			return rip_err_set(err, RIP_ECONFIG, "%s:%d: target '%s' has "
				"no health URL: a rollout judges every target by its "
				"probes (add health = http://...)", cfg->path,
				cfg->targets[i].line, cfg->targets[i].name);
	return 0;
}

/* What every target runs now: one release, or a refusal. */
static int common_current(char **out, const struct rip_config *cfg,
	struct rip_store *store, const char *id, struct rip_err *err)
{
	struct rip_site *v = rip_sites_read_all(cfg, store);
	int rc = 0;

	*out = NULL;
	for (size_t i = 0; i < cfg->n_targets && !rc; i++) {
		const struct rip_root_state *st = &v[i].root;

		if ((rc = v[i].rc) < 0)
			*err = v[i].err;
		else if (!st->current)
			rc = rip_err_set(err, RIP_EFAIL, "target '%s' runs no release "
				"yet: a rollout needs a release to fall back to; use "
				"'ripcord deploy %s' for the first one", cfg->targets[i].name,
				id);
		else if (*out && strcmp(*out, st->current))
			rc = rip_err_set(err, RIP_EFAIL, "the targets run different "
				"releases (%s, %s on '%s'): a rollout starts from one; "
				"finish with 'ripcord deploy' or 'ripcord rollback' first",
				*out, st->current, cfg->targets[i].name);
		else if (!*out)
			*out = rip_xstrdup(st->current);
	}
	rip_sites_free(v, cfg->n_targets);
	if (!rc && *out && !strcmp(*out, id))
		rc = rip_err_set(err, RIP_EFAIL, "every target runs %s already",
			id);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int rip_rollout_start(const struct rip_config *cfg, struct rip_store *store,
	const char *id, const struct rip_rollout_opts *o, struct rip_err *err)
{
	const struct rip_steps *steps = o->steps ? o->steps :
		&cfg->rollout.steps;
	struct rip_rollout_event e = { .kind = RIP_RO_START };
	struct rip_verify_result vr;
	struct rip_rollout_run r;
	struct rip_lock l;
	int rc;

	run_init(&r, cfg, store, o);
	r.ro.counts = rip_xcalloc(steps->n + 1, sizeof(*r.ro.counts));
	r.ro.percents = rip_xcalloc(steps->n + 1, sizeof(*r.ro.percents));
	if ((rc = check_targets(cfg, err)) < 0 ||
	    (rc = rip_store_refuse_yanked(store, id, "roll out", err)) < 0 ||
	    (rc = rip_steps_plan(r.ro.counts, &r.ro.nsteps, steps,
		    cfg->n_targets, err)) < 0 ||
	    (rc = rip_verify_release(&vr, store, id, cfg->package.verify_key,
		    err)) < 0)
		goto done;
	rip_verify_result_release(&vr);
	if ((rc = rip_drill_gate(cfg, store, id, err)) < 0)
		goto done;
	/* no probing when another rollout holds the fleet (checked again
	 * under the lock); the preflight probes without the lock, so a
	 * rollback is never kept waiting by it */
	if ((rc = rip_rollout_busy(store, err)) < 0 ||
	    (rc = rip_rollout_preflight(cfg, o, err)) < 0)
		goto done;
	/* the percentage of each kept step, for the weight hook and output */
	for (size_t i = 0, k = 0; i < steps->n && k < r.ro.nsteps; i++)
		if (rip_steps_targets(steps->v[i], cfg->n_targets) == r.ro.counts[k])
			r.ro.percents[k++] = steps->v[i];
	if ((rc = rip_lock_acquire(&l, store, "rollout", err)) < 0)
		goto done;
	if ((rc = rip_rollout_busy(store, err)) == 0 &&
	    (rc = common_current(&r.ro.previous, cfg, store, id, err)) == 0) {
		r.ro.release = rip_xstrdup(id);
		r.ro.applied = rip_xstrdup("");   /* none yet, and known */
		r.ro.state = rip_xstrdup("running");
		r.ro.phase = rip_xstrdup("switching");
		r.ro.step = 1;
		r.ro.bake_ms = o->bake_set ? o->bake_ms : cfg->rollout.bake_ms;
		r.ro.manual = o->manual || !cfg->rollout.auto_promote;
		rc = rip_rollout_insert(&r.ro, store->state, err);
	}
	rip_lock_release(&l);
	if (rc < 0)
		goto done;
	rip_rollout_emit(&r, &e);
	rc = run(&r, err);
done:
	rip_rollout_rec_release(&r.ro);
	return rc;
}

/*
 * Makes the unfinished rollout this process's, under the lock: promote
 * takes a paused one, resume one whose process died. RIP_EFAIL, EBUSY or
 * EINTR say why not.
 */
static int take_over(struct rip_rollout_run *r, bool promote,
	struct rip_err *err)
{
	char what[256], *was = NULL;
	struct rip_lock l;
	bool paused, alive, gone;
	int rc;

	if ((rc = rip_lock_acquire(&l, r->store, "rollout", err)) < 0)
		return rc;
	if ((rc = rip_rollout_current(&r->ro, r->store->state, err)) < 0)
		goto done;
	if (!r->ro.seq) {
		rc = rip_err_set(err, RIP_EFAIL, "no rollout in progress (see "
			"'ripcord rollout status')");
		goto done;
	}
	rip_rollout_describe(what, sizeof(what), &r->ro);
	paused = !strcmp(r->ro.state, "paused");
	alive = rip_rollout_alive(&r->ro);
	if (promote && !paused)
		rc = alive ? rip_err_set(err, RIP_EBUSY, "%s: promote goes on with "
			"a paused rollout", what) : rip_err_set(err, RIP_EINTR, "%s: "
			"run 'ripcord rollout resume' or 'ripcord rollout abort'", what);
	else if (!promote && paused && strcmp(r->ro.phase, "inconclusive"))
		rc = rip_err_set(err, RIP_EFAIL, "%s: run 'ripcord rollout promote' "
			"or 'ripcord rollout abort'", what);
	else if (!promote && alive)
		rc = rip_err_set(err, RIP_EBUSY, "%s: nothing to resume", what);
	if (rc < 0)
		goto done;
	was = rip_xstrdup(r->ro.state);
	rip_rollout_claim(&r->ro);
	if (paused) {
		/* promote, or resume an inconclusive step to judge it again */
		set_str(&r->ro.state, "running");
		set_str(&r->ro.reason, NULL);
	}
	set_str(&r->ro.request, NULL);
	if ((rc = rip_rollout_request(r->store->state, r->ro.seq, NULL,
			err)) == 0 && (rc = save(r, was, &gone, err)) == 0 && gone)
		rc = rip_err_set(err, RIP_EBUSY, "the rollout of %s changed while "
			"taking it over (now %s): see 'ripcord rollout status'",
			r->ro.release, r->ro.state);
done:
	rip_lock_release(&l);
	free(was);
	return rc;
}

int rip_rollout_promote(const struct rip_config *cfg, struct rip_store *store,
	const struct rip_rollout_opts *o, struct rip_err *err)
{
	struct rip_rollout_event e = { .kind = RIP_RO_PROMOTED };
	struct rip_rollout_run r;
	bool overridden;
	int rc;

	run_init(&r, cfg, store, o);
	if ((rc = take_over(&r, true, err)) == 0) {
		/* a human promotes past a failed gate: that step counts as
		 * passed */
		overridden = !strcmp(r.ro.phase, "failed") ||
			!strcmp(r.ro.phase, "inconclusive");
		if (overridden)
			rip_warn("promoting past the %s step %zu/%zu", r.ro.phase,
				r.ro.step, r.ro.nsteps);
		if (r.ro.step == r.ro.nsteps) {
			rc = complete(&r, err);
		} else {
			rip_rollout_emit(&r, &e);
			r.ro.step++;
			rc = run(&r, err);
		}
	}
	rip_rollout_rec_release(&r.ro);
	return rc;
}

int rip_rollout_resume(const struct rip_config *cfg, struct rip_store *store,
	const struct rip_rollout_opts *o, struct rip_err *err)
{
	struct rip_rollout_run r;
	int rc;

	run_init(&r, cfg, store, o);
	if ((rc = take_over(&r, false, err)) == 0) {
		rip_info("resuming the rollout of %s at step %zu/%zu%s", r.ro.release,
			r.ro.step, r.ro.nsteps, !strcmp(r.ro.state, "aborting") ?
			": finishing its abort" : " from its start");
		if (!strcmp(r.ro.state, "aborting")) {
			/* finishing an abort: as `rollout abort`, 0 once every
			 * target is back */
			snprintf(r.message, sizeof(r.message), "%s", r.ro.reason ?
				r.ro.reason : "aborted");
			rc = abort_rollout(&r, err) < 0 && r.ro.finished &&
				!strcmp(r.ro.phase, "rolled back") ? 0 : err->code;
		} else {
			rc = run(&r, err);
		}
	}
	rip_rollout_rec_release(&r.ro);
	return rc;
}

/* The end of an abort another process ran, as this command's result. */
static int abort_result(const struct rip_rollout_rec *ro, struct rip_err *err)
{
	if (!strcmp(ro->state, "aborted") && !strcmp(ro->phase, "rolled back")) {
		rip_info("the rollout of %s was aborted (%s); every target is back "
			"on %s", ro->release, ro->reason ? ro->reason : "",
			ro->previous);
		return 0;
	}
	if (!strcmp(ro->state, "aborted") &&
	    !strcmp(ro->phase, "rolled back, unhealthy"))
		return rip_err_set(err, RIP_EFAIL, "the rollout of %s was aborted "
			"and every target is back on %s, but a health probe or an "
			"activate hook failed after it (see 'ripcord rollout status' "
			"and 'ripcord status')", ro->release, ro->previous);
	if (!strcmp(ro->state, "aborted"))
		return rip_err_set(err, RIP_EFAIL, "the rollout of %s was aborted, "
			"but putting the targets back on %s failed: run 'ripcord "
			"rollback --to %s'", ro->release, ro->previous, ro->previous);
	return rip_err_set(err, RIP_EFAIL, "the rollout of %s %s before the "
		"abort reached it%s%s%s", ro->release, ro->state, ro->reason ? " (" :
		"", ro->reason ? ro->reason : "", ro->reason ? ")" : "");
}

int rip_rollout_abort(const struct rip_config *cfg, struct rip_store *store,
	const struct rip_rollout_opts *o, struct rip_err *err)
{
	struct rip_rollout_run r;
	int rc;

	run_init(&r, cfg, store, o);
	if ((rc = rip_rollout_current(&r.ro, store->state, err)) < 0)
		goto done;
	if (!r.ro.seq) {
		rc = rip_err_set(err, RIP_EFAIL, "no rollout in progress (see "
			"'ripcord rollout status')");
		goto done;
	}
	if (rip_rollout_alive(&r.ro)) {
		/* its process aborts at its next round; wait for it, and take
		 * over if it dies first */
		char *q = abort_request(o);

		rc = strcmp(r.ro.state, "running") ? 0 : rip_rollout_request(
			store->state, r.ro.seq, q, err);
		free(q);
		if (rc < 0)
			goto done;
		rip_info("asked the rollout of %s (pid %lld) to abort; waiting for "
			"it", r.ro.release, (long long)r.ro.pid);
		while (!r.ro.finished && rip_rollout_alive(&r.ro)) {
			if (o->stop && *o->stop) {
				rc = rip_err_set(err, RIP_EINTR, "stopped waiting; the "
					"rollout of %s (pid %lld) still aborts: see 'ripcord "
					"rollout status'", r.ro.release, (long long)r.ro.pid);
				goto done;
			}
			usleep(ABORT_POLL_MS * 1000);
			if ((rc = rip_rollout_reload(&r.ro, store->state, err)) < 0)
				goto done;
		}
		if (r.ro.finished) {
			rc = abort_result(&r.ro, err);
			goto done;
		}
	}
	snprintf(r.gate, sizeof(r.gate), "abort");
	snprintf(r.message, sizeof(r.message), "step %zu/%zu: aborted by "
		"'ripcord rollout abort'", r.ro.step, r.ro.nsteps);
	if ((rc = refuse_lossy_abort(&r, err)) < 0)
		goto done;
	if (abort_rollout(&r, err) < 0 && r.ro.finished &&
	    !strcmp(r.ro.phase, "rolled back"))
		rc = 0;
	else
		rc = err->code;
done:
	rip_rollout_rec_release(&r.ro);
	return rc;
}
