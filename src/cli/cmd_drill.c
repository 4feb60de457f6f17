/* SPDX-License-Identifier: MIT */
/*
 * cmd_drill.c: `ripcord drill [ID]... [--due] [--all] [--json]`: test-
 * restore releases (drill.c does the work), then the metrics file
 * ([drill] metrics_file) and the webhook. Takes no store lock: a drill reads artifacts and writes only its
 * own records, so a 3 a.m. rollback is never kept waiting by a timer's
 * drill.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ripcord/dora.h"
#include "ripcord/drill.h"
#include "ripcord/log.h"
#include "ripcord/metrics.h"
#include "ripcord/state.h"
#include "banned.h"

struct drill_cli {
	struct cli *cli;
	struct rip_config *cfg;
	struct rip_store *store;
	struct rip_err err;
	json_t *results;
	size_t passed, failed, broken;
};

static void progress(void *data, const char *release,
	enum rip_drill_step_kind k, const struct rip_drill_step *s)
{
	struct drill_cli *c = data;

	if (c->cli->json || c->cli->quiet)
		return;
	fprintf(stderr, "ripcord: drill %s: %-10s %s %.2fs%s%s\n", release,
		rip_drill_step_name(k), s->not_run ? "-" : s->ok ? "ok" :
		"FAILED", s->seconds,
		s->detail ? ": " : "", s->detail ? s->detail : "");
}

/* The webhook on a failed drill and on a trend change. */
static void announce(struct drill_cli *c, const struct rip_drill_outcome *o,
	json_t *doc)
{
	const char *event = strcmp(o->result, RIP_DRILL_PASS) ? "drill_failed" :
		o->trend ? "drill_trend" : NULL;

	if (event)
		cli_notify(c->cfg, c->store, event, doc);
}

/* The drill's four series in [drill] metrics_file, when it is set. */
static void write_metrics(struct drill_cli *c,
	const struct rip_drill_outcome *o)
{
	struct rip_drill_metrics m = {
		.project = c->cfg->project.name, .release = o->release,
		.success = !strcmp(o->result, RIP_DRILL_PASS),
		.seconds = o->seconds,
	};
	struct rip_drill_rec last;
	struct rip_err err = { 0 };

	if (!c->cfg->drill.metrics_file)
		return;
	if (rip_drill_last(&last, c->store->state, o->release, true, &err) < 0) {
		rip_warn("cannot read the drills of %s: %s", o->release, err.msg);
		return;
	}
	m.last_success = last.seq ? last.started : 0;
	/* ready: this (the last) drill passed, within every, not yanked */
	m.rollback_ready = m.success && rip_store_refuse_yanked(c->store,
		o->release, "roll back to", NULL) != RIP_EFAIL &&
		rip_metrics_rollback_ready(
		o->steps[RIP_STEP_INTEGRITY].ok, m.last_success,
		(int64_t)time(NULL), c->cfg->drill.every_ms);
	rip_drill_rec_release(&last);
	if (rip_metrics_update_drill(c->cfg->drill.metrics_file, &m, 1,
			&err) < 0)
		rip_warn("cannot write the metrics file: %s", err.msg);
}

/* The four DORA figures of the last 30 days, once per run, when known. */
static void write_dora(struct drill_cli *c)
{
	struct rip_metric_sample v[4];
	struct rip_err err = { 0 };
	struct rip_dora d;
	const struct {
		const char *name, *help;
		const struct rip_dora_figure *f;
	} figs[] = {
		{ "ripcord_dora_deployment_frequency_per_day", "Successful "
		  "deploys per day over the last 30 days.",
		  &d.deployment_frequency },
		{ "ripcord_dora_lead_time_seconds", "Median time from a "
		  "release's commit to its first deploy, last 30 days.",
		  &d.lead_time },
		{ "ripcord_dora_change_failure_ratio", "Share of deploys that "
		  "failed or were rolled back, last 30 days.",
		  &d.change_failure_rate },
		{ "ripcord_dora_time_to_restore_seconds", "Median time from a "
		  "failed deploy to the completed rollback, last 30 days.",
		  &d.time_to_restore },
	};
	size_t n = 0;

	if (!c->cfg->drill.metrics_file)
		return;
	if (rip_dora_read(&d, c->store->state, (int64_t)time(NULL),
			RIP_DORA_DEFAULT_DAYS, &err) < 0) {
		rip_warn("cannot compute the DORA figures: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < RIP_ARRAY_SIZE(figs); i++) {
		if (!figs[i].f->known)
			continue;
		memset(&v[n], 0, sizeof(v[n]));
		v[n].name = figs[i].name;
		v[n].help = figs[i].help;
		v[n].labels[0] = (struct rip_metric_label){ "project",
			c->cfg->project.name };
		v[n++].value = figs[i].f->value;
	}
	if (n && rip_metrics_update(c->cfg->drill.metrics_file, v, n, &err) < 0)
		rip_warn("cannot write the metrics file: %s", err.msg);
	rip_dora_release(&d);
}

/* Every failure of the round trip, with both definitions of each object. */
static json_t *roundtrip_json(const struct rip_roundtrip *r)
{
	json_t *fails = json_array();

	for (size_t i = 0; i < r->nfail; i++) {
		const struct rip_roundtrip_failure *f = &r->fail[i];
		json_t *objs = json_array();

		for (size_t j = 0; j < f->nobj; j++)
			json_array_append_new(objs, json_pack("{s:s, s:s?, s:s?}",
				"object", f->obj[j].key, "a", f->obj[j].a, "b",
				f->obj[j].b));
		json_array_append_new(fails, json_pack("{s:s, s:s, s:s?, s:s?, "
			"s:s?, s:s?, s:o}", "migration", f->migration, "phase",
			f->phase, "error", f->error, "diff", f->diff, "a", f->a_label,
			"b", f->b_label, "objects", objs));
	}
	return json_pack("{s:I, s:I, s:I, s:s?, s:b, s:o}", "migrations",
		(json_int_t)r->ups, "checked", (json_int_t)r->checked, "up_only",
		(json_int_t)r->skipped, "floor", r->floor, "release_checked",
		r->release_checked, "failures", fails);
}

/* Every failing migration and what differs, indented under its line. */
static void print_failures(const struct rip_roundtrip *r)
{
	for (size_t i = 0; i < r->nfail; i++) {
		const struct rip_roundtrip_failure *f = &r->fail[i];
		const char *p = f->error ? f->error : f->diff ? f->diff : "";

		printf("%-20s %s: %s %s:\n", "", f->migration, f->phase,
			f->error ? "failed" : "differs");
		while (*p) {
			size_t len = strcspn(p, "\n");

			printf("%-20s   %.*s\n", "", (int)len, p);
			p += len + (p[len] == '\n');
		}
	}
}

/* The schemas the round trip started from, rollbacks first. */
static json_t *paths_json(const struct rip_drill_outcome *o)
{
	json_t *a = json_array();

	for (size_t i = 0; i < o->npaths; i++) {
		const struct rip_drill_path *p = &o->paths[i];

		json_array_append_new(a, json_pack("{s:s?, s:b, s:s?, s:b, s:b, "
			"s:b, s:I, s:I, s:I, s:s?}", "from", p->from, "rollback",
			p->rollback, "target", p->target, "parent", p->parent, "ran",
			p->ran, "ok", p->ok, "migrations", (json_int_t)p->ups,
			"checked", (json_int_t)p->checked, "failed",
			(json_int_t)p->failed, "note", p->why));
	}
	return a;
}

/* [{"migration": "0003_x", "phase": "contract"}, ...]: the migrations
 * under test, from "0002_a expand, 0003_x contract". */
static json_t *phases_json(const struct rip_drill_outcome *o)
{
	json_t *a = json_array();
	const char *p = o->phases ? o->phases : "";

	while (*p) {
		size_t len = strcspn(p, ",");
		const char *sp = p + len;

		while (sp > p && *sp != ' ')  /* the last: an id may hold one */
			sp--;
		if (sp == p)
			sp = NULL;

		if (sp)
			json_array_append_new(a, json_pack("{s:s%, s:s%}",
				"migration", p, (size_t)(sp - p), "phase", sp + 1,
				len - (size_t)(sp - p) - 1));
		p += len;
		p += strspn(p, ", ");
	}
	return a;
}

static json_t *outcome_json(const struct rip_drill_outcome *o)
{
	json_t *steps = json_array(), *doc;

	for (size_t k = 0; k < RIP_STEP_N; k++) {
		const struct rip_drill_step *s = &o->steps[k];

		if (s->ran)
			json_array_append_new(steps, json_pack("{s:s, s:b, s:b, "
				"s:f, s:s?}", "step", rip_drill_step_name(k), "ok", s->ok,
				"not_run", s->not_run, "seconds", s->seconds, "detail",
				s->detail));
	}
	doc = json_pack("{s:s, s:s, s:f, s:I, s:s?, s:b, s:f, s:o}", "release",
		o->release, "result", o->result, "seconds", o->seconds,
		"started", (json_int_t)o->started, "detail", o->detail, "trend",
		o->trend, "median_seconds", o->median, "steps", steps);
	if (o->steps[RIP_STEP_ROUNDTRIP].ran) {
		json_object_set_new(doc, "round_trip",
			roundtrip_json(&o->roundtrip));
		json_object_set_new(doc, "paths", paths_json(o));
		json_object_set_new(doc, "unexercised", o->unexercised ?
			json_string(o->unexercised) : json_null());
		json_object_set_new(doc, "phases", phases_json(o));
	}
	if (o->steps[RIP_STEP_COMPAT].ran)
		json_object_set_new(doc, "compatibility", json_pack("{s:s, s:s?, "
			"s:b, s:s, s:s?}", "previous", o->compat_previous, "level",
			o->compat_level, "ok", o->steps[RIP_STEP_COMPAT].ok, "result",
			o->steps[RIP_STEP_COMPAT].not_run ? "not run" :
			o->steps[RIP_STEP_COMPAT].ok ? "pass" : "fail", "detail",
			o->steps[RIP_STEP_COMPAT].detail));
	return doc;
}

/* "drilled from v1.0 and v1.1" for a round trip that ran; else NULL. */
static char *drilled_from(const struct rip_drill_outcome *o)
{
	struct rip_strlist from = { 0 };
	char *list, *text = NULL;

	for (size_t i = 0; i < o->npaths; i++)
		if (o->paths[i].ran)
			rip_strlist_push(&from, o->paths[i].from ?
				o->paths[i].from : "");
	if (from.n) {
		list = rip_drill_from_text(&from);
		text = rip_xasprintf("drilled from %s", list);
		free(list);
	}
	rip_strlist_release(&from);
	return text;
}

static int drill_one(struct drill_cli *c, const char *id)
{
	struct rip_drill_outcome o;
	struct rip_err err = { 0 };
	json_t *doc;
	int rc = rip_drill_run(&o, c->cfg, c->store, id, progress, c, &err);

	if (!o.result) {
		/* not drilled at all: the store could not say, or no scratch */
		rip_drill_outcome_release(&o);
		c->err = err;
		return rc;
	}
	doc = outcome_json(&o);
	write_metrics(c, &o);
	announce(c, &o, doc);
	if (!strcmp(o.result, RIP_DRILL_PASS))
		c->passed++;
	else if (!strcmp(o.result, RIP_DRILL_INTEGRITY))
		c->broken++;
	else
		c->failed++;
	if (!c->cli->json) {
		char *from = o.detail ? NULL : drilled_from(&o);

		printf("%-20s %-9s %7.2fs  %s\n", o.release,
			!strcmp(o.result, RIP_DRILL_PASS) ? "PASS" :
			!strcmp(o.result, RIP_DRILL_FAIL) ? "FAIL" : "INTEGRITY",
			o.seconds, o.detail ? o.detail : from ? from : "");
		free(from);
		if (o.phases)
			printf("%-20s phases: %s\n", "", o.phases);
		if (o.steps[RIP_STEP_SMOKE].not_run)
			printf("%-20s smoke: %s\n", "", o.steps[RIP_STEP_SMOKE].detail);
		if (o.steps[RIP_STEP_COMPAT].not_run)
			printf("%-20s compatible with %s: %s\n", "",
				o.compat_previous, o.steps[RIP_STEP_COMPAT].detail);
		else if (o.steps[RIP_STEP_COMPAT].ran)
			printf("%-20s compatible with %s at its expand level (%s): "
				"%s\n", "", o.compat_previous, o.compat_level ?
				o.compat_level : "no migration",
				o.steps[RIP_STEP_COMPAT].ok ? "pass" : "FAIL");
		print_failures(&o.roundtrip);
		if (o.trend)
			printf("%-20s %-9s took %.2fs, over 3x its median of %.2fs\n",
				"", "SLOW", o.seconds, o.median);
	}
	json_array_append_new(c->results, doc);
	rip_drill_outcome_release(&o);
	return 0;
}

/* The releases to drill: ids, or with due/all every release of the store. */
static int select_releases(struct drill_cli *c, bool due, bool all,
	char **ids, int nids, struct rip_strlist *out)
{
	struct rip_release_rec *recs;
	size_t n;
	int rc;

	for (int i = 0; i < nids; i++)
		rip_strlist_push(out, ids[i]);
	if (nids)
		return 0;
	if ((rc = rip_state_release_list(&recs, &n, c->store->state,
			&c->err)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		bool is_due = true;

		if ((!due && !all && i + 1 != n) || (due && recs[i].yanked_at))
			continue;  /* a yanked release is never due */
		if (due && (rc = rip_drill_due(&is_due, c->cfg, c->store,
				recs[i].id, (int64_t)time(NULL), &c->err)) < 0)
			break;
		if (is_due)
			rip_strlist_push(out, recs[i].id);
	}
	rip_release_recs_free(recs, n);
	return rc;
}

int cmd_drill(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "due", no_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct drill_cli c = { .cli = cli };
	struct rip_strlist ids = { 0 };
	bool due = false, all = false;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': due = true; break;
		case 'a': all = true; break;
		case 'j': cli->json = true; break;
		case 'h':
			puts("usage: ripcord drill [ID]... [--due] [--all] [--json]");
			return 0;
		default:
			return cli_usage("drill", "unknown option");
		}
	}
	if ((due || all) && optind < argc)
		return cli_usage("drill", "name releases or use --%s, not both",
			due ? "due" : "all");
	if (due && all)
		return cli_usage("drill", "--due and --all exclude each other");
	if ((rc = cli_load_config(cli, &c.cfg, &c.err)) < 0 ||
	    (rc = rip_store_open(&c.store, c.cfg->project.store, false,
		    &c.err)) < 0 ||
	    (rc = select_releases(&c, due, all, argv + optind, argc - optind,
		    &ids)) < 0)
		goto done;
	if (!ids.n) {
		if (cli->json)
			cli_print_json(json_array());
		else
			printf(due ? "no release is due for a drill ([drill] every)\n"
				: "no releases in the store to drill (cut one first)\n");
		goto done;
	}
	c.results = json_array();
	for (size_t i = 0; i < ids.n && rc == 0; i++)
		rc = drill_one(&c, ids.v[i]);
	write_dora(&c);
	if (cli->json)
		cli_print_json(c.results);
	else
		json_decref(c.results);
	if (rc == 0 && c.broken)
		rc = rip_err_set(&c.err, RIP_EINTEGRITY, "%zu of %zu drills found "
			"a damaged or altered release (see above)", c.broken, ids.n);
	else if (rc == 0 && c.failed)
		rc = rip_err_set(&c.err, RIP_EFAIL, "%zu of %zu drills failed "
			"(see above)", c.failed, ids.n);
done:
	if (rc < 0)
		rc = cli_fail(&c.err, rc);
	rip_strlist_release(&ids);
	rip_store_free(c.store);
	rip_config_free(c.cfg);
	return rc;
}
