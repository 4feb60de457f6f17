/* SPDX-License-Identifier: MIT */
/*
 * cli_plan.c: what deploy and rollback share on the command line: the
 * store and lock around a plan, --dry-run, progress lines, and the closing
 * per-target table (or JSON) that says exactly what happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "ripcord/notify.h"
#include "json_internal.h"
#include "banned.h"

void cli_print_action(const struct rip_action *a, int rc, const char *detail)
{
	fprintf(stderr, "ripcord: %-12s %-12s %s%s%s\n", rip_action_name(a->kind),
		a->target ? a->target->name : "(database)", rc ? "FAILED" :
		a->release ? a->release : "", detail && detail[0] ? ": " : "",
		detail ? detail : "");
}

static void progress(void *data, const struct rip_action *a, int rc,
	const char *detail)
{
	struct cli *cli = data;

	if (!cli->json && !cli->quiet)
		cli_print_action(a, rc, detail);
}

void cli_print_plan_table(const struct rip_plan *p)
{
	static const char *const head[] = { "TARGET", "FROM", "TO",
		"ACTIVATE", "HEALTH", NULL };
	struct cli_table t;

	cli_table_init(&t, head);
	for (size_t i = 0; i < p->ntargets; i++) {
		const struct rip_target_report *r = &p->targets[i];

		cli_table_add(&t, r->target->name);
		cli_table_add(&t, r->from);
		cli_table_add(&t, r->to);
		cli_table_add(&t, r->activate);
		cli_table_add(&t, r->unreachable && !r->switched ?
			"UNREACHABLE" : r->health);
	}
	cli_table_print(&t);
	cli_table_release(&t);
}

json_t *cli_plan_json(const struct rip_plan *p, bool dry_run, int rc,
	const char *error)
{
	json_t *targets = json_array(), *ran = json_array();

	for (size_t i = 0; i < p->ntargets; i++) {
		const struct rip_target_report *r = &p->targets[i];

		json_array_append_new(targets, json_pack("{s:s, s:s, s:s, s:s, "
			"s:s, s:b, s:b, s:s?, s:s?}", "target", r->target->name, "from",
			r->from, "to", r->to, "activate", r->activate, "health",
			r->health, "ok", !r->failed, "switched", r->switched, "host",
			r->target->host, "unreachable", r->unreachable));
	}
	for (size_t i = 0; i < p->ran.n; i++)
		json_array_append_new(ran, json_string(p->ran.v[i]));
	/* the ups a deploy ran, or the downs a rollback ran, by name */
	return json_pack("{s:s?, s:s?, s:b, s:b, s:b, s:I, s:o, s:o, s:s?}",
		"operation", p->op, "release", p->release, "resumed", p->resumed,
		"dry_run", dry_run, "ok", rc == 0, "migrations",
		(json_int_t)p->migrations, p->op && !strcmp(p->op, "deploy") ?
		"ups" : "downs", ran, "targets", targets, "error", rc ? error : NULL);
}

void cli_notify(const struct rip_config *cfg, const struct rip_store *store,
	const char *event, json_t *fields)
{
	struct rip_notify_opts o = {
		.url = cfg->notify.webhook,
		.retries = cfg->notify.retries > 20 ? 20 :
			(unsigned)cfg->notify.retries,
	};
	struct rip_err nerr = { 0 };
	char *body, *log, *shown;

	if (!o.url || !(body = rip_notify_event(event, cfg->project.name,
			fields)))
		return;
	log = rip_path_join(store->dir, "notify.log");
	shown = rip_notify_mask_url(o.url);
	if (rip_notify_send(&o, body, log, &nerr) < 0)
		rip_warn("cannot notify %s: %s", shown, nerr.msg);
	else
		rip_info("notifying %s in the background (outcome in %s)", shown,
			log);
	free(shown);
	free(log);
	free(body);
}

/* "rollback to v1: switched back: 2/2; downs run: 1 (0003_add_note)" */
static void print_summary(const struct rip_plan *p)
{
	struct rip_buf sum = RIP_BUF_INIT;

	rip_plan_summary(&sum, p);
	printf("%s to %s: %s\n", p->op, p->release, sum.buf);
	rip_buf_release(&sum);
}

/* A rollback, and a deploy that failed, are announced. */
static void announce(const struct rip_plan *p, const struct rip_config *cfg,
	const struct rip_store *store, bool dry_run, int rc,
	const struct rip_err *err)
{
	json_t *fields;

	if (dry_run || !cfg->notify.webhook ||
	    (!strcmp(p->op, "deploy") && rc == 0))
		return;
	fields = cli_plan_json(p, dry_run, rc, err->msg);
	cli_notify(cfg, store, strcmp(p->op, "deploy") ? p->op :
		"deploy_failed", fields);
	json_decref(fields);
}

void cli_audit_move(struct cli *cli, const char *from, const char *to)
{
	if (from) {
		free(cli->audit.from);
		cli->audit.from = rip_xstrdup(from);
	}
	if (to) {
		free(cli->audit.to);
		cli->audit.to = rip_xstrdup(to);
	}
}

void cli_audit_target(struct cli *cli, const char *name)
{
	if (!rip_strlist_has(&cli->audit.targets, name))
		rip_strlist_push(&cli->audit.targets, name);
}

void cli_audit_migrations(struct cli *cli, const char *what,
	const char *names)
{
	if (!names || !names[0])
		return;
	if (cli->audit.migrations.len && !strcmp(cli->audit.last, what)) {
		rip_buf_addf(&cli->audit.migrations, ",%s", names);
		return;
	}
	rip_buf_addf(&cli->audit.migrations, "%s%s %s",
		cli->audit.migrations.len ? "; " : "", what, names);
	snprintf(cli->audit.last, sizeof(cli->audit.last), "%s", what);
}

void cli_audit_plan(struct cli *cli, const struct rip_plan *p)
{
	struct rip_buf from = RIP_BUF_INIT, ran = RIP_BUF_INIT;
	struct rip_strlist seen = { 0 };

	for (size_t i = 0; i < p->ntargets; i++) {
		const struct rip_target_report *r = &p->targets[i];

		cli_audit_target(cli, r->target->name);
		if (!rip_strlist_has(&seen, r->from)) {
			rip_strlist_push(&seen, r->from);
			rip_buf_addf(&from, "%s%s", from.len ? "," : "", r->from);
		}
	}
	cli_audit_move(cli, from.len ? from.buf : NULL, p->release);
	for (size_t i = 0; i < p->ran.n; i++)
		rip_buf_addf(&ran, "%s%s", i ? "," : "", p->ran.v[i]);
	cli_audit_migrations(cli, strcmp(p->op, "deploy") ? "down" : "up",
		ran.buf);
	if (p->ahead)
		cli_audit_migrations(cli, "schema ahead:", p->ahead);
	rip_strlist_release(&seen);
	rip_buf_release(&from);
	rip_buf_release(&ran);
}

void cli_audit_release(struct cli_audit *a)
{
	free(a->from);
	free(a->to);
	rip_strlist_release(&a->targets);
	rip_buf_release(&a->migrations);
	memset(a, 0, sizeof(*a));
}

int cli_run_plan(struct cli *cli, struct rip_plan *p,
	const struct rip_config *cfg, struct rip_store *store, bool dry_run,
	struct rip_err *err)
{
	struct rip_buf text = RIP_BUF_INIT;
	int rc = 0;

	if (p->resumed && !cli->json)
		rip_info("resuming the interrupted %s to %s (ripcord status "
			"showed it)", p->op, p->release);
	if (dry_run) {
		rip_plan_format(&text, p);
		if (!cli->json)
			printf("%s", text.len ? text.buf : "nothing to do\n");
		rip_buf_release(&text);
	} else {
		rc = rip_plan_apply(p, cfg, store, progress, cli, err);
		cli_audit_plan(cli, p);
	}
	if (cli->json) {
		json_t *doc = cli_plan_json(p, dry_run, rc, err->msg);

		if (p->ahead)
			json_object_set_new(doc, "warning", json_string(p->ahead));
		cli_print_json(doc);
	} else if (!dry_run) {
		cli_print_plan_table(p);
		if (p->ran.n || p->stopped || rc)
			print_summary(p);
	}
	fflush(stdout);
	announce(p, cfg, store, dry_run, rc, err);
	return rc;
}
