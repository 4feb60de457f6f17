/* SPDX-License-Identifier: MIT */
/*
 * cmd_status.c: `ripcord status [--no-probe] [--json]`: per target what
 * its current link really points at, whether its health URL answers
 * (probed at once), what the journal recorded, drift, where a
 * rollback would go and how warm it is, and any work a killed process
 * left (exit 5). It only reads: no lock, no audit entry.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ripcord/dora.h"
#include "ripcord/log.h"
#include "ripcord/metrics.h"
#include "ripcord/status.h"
#include "json_internal.h"
#include "banned.h"

static const char *dash(const char *s)
{
	return s ? s : "-";
}

/* The NOTE column of t, into b (emptied first); returns b's text. */
static const char *note_of(struct rip_buf *b,
	const struct rip_target_status *t)
{
	rip_buf_reset(b);
	if (t->unreachable)
		rip_buf_addf(b, "UNREACHABLE: %s%s%s", t->error, t->pending.seq ?
			"; left pending: " : "", t->pending.seq ? t->pending.op : "");
	else if (t->error)
		rip_buf_addf(b, "cannot read: %s", t->error);
	else if (t->pending.seq)
		rip_buf_addf(b, "interrupted %s to %s: %s", t->pending.op,
			t->pending.release, t->pending_done ? "switched, not "
			"recorded" : "not switched");
	else if (t->activate_owed)
		rip_buf_adds(b, "activate hook never finished");
	else if (t->activate_failed)
		rip_buf_addf(b, "activate hook failed (repeat the %s to "
			"retry it)", t->recorded_op ? t->recorded_op : "deploy");
	else if (t->drift)
		rip_buf_addf(b, "DRIFT: journal says %s", dash(t->recorded));
	else if (t->rollback_state == RIP_RB_MISSING)
		rip_buf_addf(b, "rollback artifact %s is gone", t->rollback);
	else if (t->rollback_state == RIP_RB_YANKED)
		rip_buf_addf(b, "rollback target %s was yanked: roll back --to "
			"another release", t->rollback);
	else if (t->rollback_unexercised) {
		char *from = rip_drill_from_text(&t->drilled_from);

		rip_buf_addf(b, "rollback to %s never drilled: %s was drilled "
			"from %s (run 'ripcord drill %s')", t->rollback, t->current,
			*from ? from : "nothing", t->current);
		free(from);
	}
	return b->buf;
}

static void print_rollout(const struct rip_rollout_rec *ro, bool alive)
{
	if (!strcmp(ro->state, "paused"))
		printf("\nrollout: %s paused at step %zu/%zu (%s): run 'ripcord "
			"rollout promote' or 'ripcord rollout abort'\n", ro->release,
			ro->step, ro->nsteps, ro->reason ? ro->reason : ro->phase);
	else if (alive)
		printf("\nrollout: %s step %zu/%zu %s, %s (pid %lld); see 'ripcord "
			"rollout status'\n", ro->release, ro->step, ro->nsteps,
			ro->state, ro->phase, (long long)ro->pid);
	else
		printf("\ninterrupted: the rollout of %s at step %zu/%zu (%s): run "
			"'ripcord rollout resume' or 'ripcord rollout abort'\n",
			ro->release, ro->step, ro->nsteps, ro->state);
}

/*
 * The table: HEALTH, after RUNS, only when a target was probed (one has
 * a health URL and --no-probe was not given): what runs, and whether it
 * answers ("-" when probing could not be set up).
 */
static void print_table(const struct rip_status *s)
{
	static const char *const head[] = { "TARGET", "RUNS", "HEALTH",
		"RECORDED", "ROLLBACK", "READY", "DRILLED", "NOTE", NULL };
	static const char *const plain[] = { "TARGET", "RUNS", "RECORDED",
		"ROLLBACK", "READY", "DRILLED", "NOTE", NULL };
	struct rip_buf note = RIP_BUF_INIT;
	int64_t now = (int64_t)time(NULL);
	bool probed = s->probed;
	struct cli_table tb;
	char drill[48];

	cli_table_init(&tb, probed ? head : plain);
	for (size_t i = 0; i < s->n; i++) {
		const struct rip_target_status *t = &s->targets[i];

		if (t->rollback)
			cli_format_drill(drill, sizeof(drill), &t->rollback_drill, now);
		cli_table_add(&tb, t->target->name);
		cli_table_add(&tb, dash(t->current));
		if (probed)
			cli_table_add(&tb, dash(t->health));
		cli_table_add(&tb, dash(t->recorded));
		cli_table_add(&tb, dash(t->rollback));
		cli_table_add(&tb, rip_rollback_state_name(t->rollback_state));
		cli_table_add(&tb, t->rollback ? drill : "-");
		cli_table_add(&tb, note_of(&note, t));
	}
	cli_table_print(&tb);
	cli_table_release(&tb);
	rip_buf_release(&note);
}

static const char *const compat_names[] = { "never", "pass", "fail",
	"not run" };

/*
 * Per running release: its migrations by phase, what the schema is ahead
 * by, and whether a rollback is lossless and proven compatible:
 *   schema: v3 on web-1: 1 expand applied, 1 contract applied 5m ago
 *     rollback to v2: LOSSY (0003_drop_name applied 5m ago); compatible
 *     with v2 at its expand level (0002_add_email): pass
 */
static void print_schema(const struct rip_status *s)
{
	int64_t now = (int64_t)time(NULL);

	for (size_t j = 0; j < s->nschema; j++) {
		const struct rip_schema_phase *p = &s->schema[j];
		const struct rip_target_status *first = NULL;
		struct rip_buf on = RIP_BUF_INIT;
		char *text, *rb;

		if (!p->known)
			continue;
		for (size_t i = 0; i < s->n; i++) {
			if (s->targets[i].schema != p)
				continue;
			if (!first)
				first = &s->targets[i];
			rip_buf_addf(&on, "%s%s", on.len ? ", " : "",
				s->targets[i].target->name);
		}
		text = rip_schema_phase_text(p, now);
		printf("%sschema: %s on %s: %s\n", j ? "" : "\n", p->release,
			on.buf, text);
		free(text);
		if (p->previous) {
			rb = rip_schema_phase_rollback_text(p, now);
			printf("  rollback to %s: %s; compatible with %s at its expand "
				"level%s%s%s: %s\n", p->previous, rb, p->previous,
				first->compat_level ? " (" : "", first->compat_level ?
				first->compat_level : "", first->compat_level ? ")" : "",
				compat_names[first->compat]);
			free(rb);
		}
		rip_buf_release(&on);
	}
}

/* The schema gauges of every target, in [drill] metrics_file. */
static void write_metrics(const struct rip_config *cfg,
	const struct rip_status *s)
{
	struct rip_schema_metrics *m;
	struct rip_err err = { 0 };
	size_t n = 0;

	if (!cfg->drill.metrics_file || !s->nschema)
		return;
	m = rip_xcalloc(s->n + 1, sizeof(*m));
	for (size_t i = 0; i < s->n; i++)
		if (s->targets[i].schema)
			m[n++] = (struct rip_schema_metrics){ s->targets[i].target->name,
				s->targets[i].schema };
	if (rip_metrics_update_schema(cfg->drill.metrics_file,
			cfg->project.name, m, n, &err) < 0)
		rip_warn("cannot write the metrics file: %s", err.msg);
	free(m);
}

static void print_text(const struct rip_config *cfg,
	const struct rip_status *s)
{
	size_t sick = 0;

	printf("project %s: %zu release%s in the store%s%s\n",
		cfg->project.name ? cfg->project.name : "-", s->releases,
		s->releases == 1 ? "" : "s", s->newest ? ", newest " : "",
		s->newest ? s->newest : "");
	print_table(s);
	print_schema(s);
	for (size_t i = 0; i < s->n; i++)
		sick += s->targets[i].health && !s->targets[i].healthy;
	if (sick)
		printf("\nunhealthy: %zu target%s did not answer its health URL "
			"with a 2xx within probe_timeout (HEALTH says what it "
			"answered)\n", sick, sick == 1 ? "" : "s");
	if (s->rollout.seq)
		print_rollout(&s->rollout, s->rollout_alive);
	if (s->busy)
		printf("\nin progress: %s\n", s->holder);
	if (s->unfinished.seq && !s->busy) {
		char when[32];

		cli_format_time(when, sizeof(when), s->unfinished.started);
		printf("\ninterrupted: %s of %s, started %s UTC, never finished: "
			"run 'ripcord %s%s%s' again to finish it\n",
			s->unfinished.op, dash(s->unfinished.release), when,
			s->unfinished.op, strcmp(s->unfinished.op, "rollback") ?
			" " : "", strcmp(s->unfinished.op, "rollback") ?
			dash(s->unfinished.release) : "");
	} else if (s->owed && !(s->rollout.seq && !s->rollout_alive)) {
		printf("\nwork left by an interrupted operation: repeat the last "
			"deploy or rollback to finish it\n");
	}
	if (s->unreachable)
		printf("\nunreachable: %zu target%s did not answer, so what %s "
			"is unknown (RECORDED is what the journal says); 'ripcord "
			"targets --check' says more\n", s->unreachable,
			s->unreachable == 1 ? "" : "s", s->unreachable == 1 ?
			"it runs" : "they run");
	if (s->unread)
		printf("\ncannot read: the root of %zu target%s could not be "
			"read, so what %s is unknown (NOTE says why; RECORDED is what "
			"the journal says)\n", s->unread, s->unread == 1 ? "" : "s",
			s->unread == 1 ? "it runs" : "they run");
	if (s->drift)
		printf("\ndrift: a current link does not point where the journal "
			"says; the link is what runs (deploy or rollback to settle "
			"it)\n");
}

static json_t *status_json(const struct rip_config *cfg,
	const struct rip_status *s)
{
	json_t *targets = json_array(), *unfinished = json_null();
	json_t *rollout = json_null(), *schema = json_array(), *doc;

	for (size_t i = 0; i < s->n; i++) {
		const struct rip_target_status *t = &s->targets[i];
		json_t *pending = json_null(), *drill = json_null();
		json_t *from = json_null();

		if (t->pending.seq)
			pending = json_pack("{s:I, s:s, s:s, s:s?, s:b, s:I}", "seq",
				(json_int_t)t->pending.seq, "op", t->pending.op,
				"release", t->pending.release, "previous",
				t->pending.previous, "switched", t->pending_done,
				"started", (json_int_t)t->pending.started);
		if (t->rollback_drill.seq)
			drill = json_pack("{s:s, s:I, s:f}", "result",
				t->rollback_drill.result, "started",
				(json_int_t)t->rollback_drill.started, "seconds",
				t->rollback_drill.seconds);
		if (t->drilled_from.n) {
			from = json_array();
			for (size_t j = 0; j < t->drilled_from.n; j++)
				json_array_append_new(from, *t->drilled_from.v[j] ?
					json_string(t->drilled_from.v[j]) : json_null());
		}
		json_array_append_new(targets, json_pack("{s:s, s:s, s:s?, s:s?, "
			"s:s?, s:b, s:s?, s:s, s:o, s:o, s:b, s:I, s:o, s:b, s:b, "
			"s:s?, s:s?, s:b, s:s?, s:o}",
			"target",
			t->target->name, "root", t->target->root, "group",
			t->target->group, "current", t->current, "recorded",
			t->recorded, "drift", t->drift, "rollback_to", t->rollback,
			"rollback_ready", rip_rollback_state_name(t->rollback_state),
			"rollback_drill", drill, "drilled_from", from,
			"rollback_unexercised", t->rollback_unexercised,
			"extracted", (json_int_t)t->extracted, "pending", pending,
			"activate_owed", t->activate_owed, "activate_failed",
			t->activate_failed, "error", t->error, "host", t->target->host,
			"unreachable", t->unreachable, "health", t->health,
			"healthy", t->health ? json_boolean(t->healthy) :
			json_null()));
		json_object_set_new(json_array_get(targets, i), "compatible",
			json_string(t->compat == RIP_COMPAT_PASS ? "pass" :
			t->compat == RIP_COMPAT_FAIL ? "fail" :
			t->compat == RIP_COMPAT_NOT_RUN ? "not run" : "never"));
		json_object_set_new(json_array_get(targets, i), "rollback_lossless",
			t->schema && t->schema->known && t->rollback ?
			json_boolean(t->schema->lossless) : json_null());
		json_object_set_new(json_array_get(targets, i),
			"rollback_compatible", t->schema && t->schema->known &&
			t->rollback ? json_boolean(t->schema->compatible) :
			json_null());
	}
	for (size_t j = 0; j < s->nschema; j++)
		if (s->schema[j].known)
			json_array_append_new(schema,
				rip_schema_phase_json(&s->schema[j]));
	if (s->unfinished.seq)
		unfinished = json_pack("{s:I, s:s, s:s?, s:I}", "seq",
			(json_int_t)s->unfinished.seq, "op", s->unfinished.op,
			"release", s->unfinished.release, "started",
			(json_int_t)s->unfinished.started);
	if (s->rollout.seq)
		rollout = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "release",
			s->rollout.release, "previous", s->rollout.previous, "state",
			s->rollout.state, "phase", s->rollout.phase, "step",
			(json_int_t)s->rollout.step, "steps",
			(json_int_t)s->rollout.nsteps, "interrupted", !s->rollout_alive &&
			strcmp(s->rollout.state, "paused"));
	doc = json_pack("{s:s?, s:I, s:s?, s:b, s:s?, s:o, s:o, s:b, s:b, "
		"s:o}", "project", cfg->project.name, "releases",
		(json_int_t)s->releases, "newest", s->newest, "busy", s->busy,
		"holder", s->busy ? s->holder : NULL, "unfinished", unfinished,
		"rollout", rollout, "needs_resume", s->owed, "drift", s->drift,
		"targets", targets);
	json_object_set_new(doc, "schema", schema);
	return doc;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-probe", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rip_config *cfg = NULL;
	struct rip_store *store = NULL;
	struct rip_err err = { 0 };
	struct rip_status s;
	bool probe = true;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': cli->json = true; break;
		case 'P': probe = false; break;
		case 'h':
			puts("usage: ripcord status [--no-probe] [--json]");
			return 0;
		default:
			return cli_usage("status", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("status", "unexpected argument '%s'",
			argv[optind]);
	if ((rc = cli_load_config(cli, &cfg, &err)) < 0)
		return cli_fail(&err, rc);
	if ((rc = rip_store_open(&store, cfg->project.store, false, &err)) < 0 &&
	    rc != RIP_ENOTFOUND)
		goto done;
	if ((rc = rip_status_read(&s, cfg, store, &err)) < 0)
		goto done;
	/* health is a view too: when probing cannot be set up at all (no
	 * libcurl), HEALTH says "-" and what runs still shows */
	if (probe && rip_status_probe(&s, cfg->rollout.probe_timeout_ms,
			&err) < 0) {
		rip_warn("cannot probe the health URLs: %s; HEALTH shows '-'",
			err.msg);
		err = (struct rip_err){ 0 };
	}
	/* the schema's phase is a view: a database that cannot be read now
	 * is warned about, and what runs still shows */
	if (rip_status_schema(&s, cfg, store, &err) < 0) {
		rip_warn("%s", err.msg);
		err = (struct rip_err){ 0 };
	}
	write_metrics(cfg, &s);
	if (cli->json) {
		json_t *doc = status_json(cfg, &s);
		struct rip_dora d;

		/* the DORA figures of the last 30 days, as ripcord-report(1) */
		if ((rc = rip_dora_read(&d, store ? store->state : NULL,
				(int64_t)time(NULL), RIP_DORA_DEFAULT_DAYS, &err)) < 0) {
			json_decref(doc);
			rip_status_release(&s);
			goto done;
		}
		json_object_set_new(doc, "dora", rip_dora_json(&d));
		rip_dora_release(&d);
		cli_print_json(doc);
	}
	else
		print_text(cfg, &s);
	/* exit 5: state saved, repeat the operation; 1: drift to look at;
	 * a target that does not answer its health URL changes nothing:
	 * status reports what runs, and HEALTH says how it is */
	rc = s.owed ? rip_err_exit_code(RIP_EINTR) : s.drift || s.unreachable ||
		s.unread ? 1 : 0;
	rip_status_release(&s);
done:
	if (rc < 0)
		rc = cli_fail(&err, rc);
	rip_store_free(store);
	rip_config_free(cfg);
	return rc;
}
