/* SPDX-License-Identifier: MIT */
/*
 * cli_plan.c: what deploy and rollback share on the command line: the
 * store and lock around a plan, --dry-run, progress lines, and the closing
 * per-target table (or JSON) that says exactly what happened. A rollback
 * that runs downs lists them, with what each loses and when it was last
 * drilled (downs.h), in --dry-run and again, one by one, as they run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ripcord/downs.h"
#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "ripcord/notify.h"
#include "ripcord/plan_schema.h"
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

/* ---- the downs of a rollback ------------------------------------------- */

#define C_WARN "\033[33m"
#define C_BAD "\033[31m"
#define C_OFF "\033[0m"

/* "drilled 3h ago: pass", "never drilled": coloured when it warns. */
static void drill_words(struct rip_buf *b, const struct rip_drill_rec *d,
	bool colour)
{
	bool pass = d->seq && !strcmp(d->result, RIP_DRILL_PASS);
	char age[24];

	if (colour && !pass)
		rip_buf_adds(b, d->seq ? C_BAD : C_WARN);
	if (d->seq) {
		cli_format_age(age, sizeof(age), (int64_t)time(NULL) - d->started);
		rip_buf_addf(b, "drilled %s ago: %s", age, cli_drill_result(d));
	} else {
		rip_buf_adds(b, "never drilled");
	}
	if (colour && !pass)
		rip_buf_adds(b, C_OFF);
}

/* "downs, newest first, from v1.2 back to v1.0; this path drilled ..." */
static void print_downs_head(FILE *f, const char *prefix,
	const struct rip_downs *d)
{
	struct rip_buf b = RIP_BUF_INIT;

	drill_words(&b, &d->path, cli_colour(f));
	/* how long it took: about how long these downs take (DESIGN.md §5) */
	if (d->path.seq)
		rip_buf_addf(&b, " (the drill took %.2fs)", d->path.seconds);
	if (d->from)
		fprintf(f, "%sdowns, newest first, from %s back to %s; this path "
			"%s\n", prefix, d->from, d->to, b.buf);
	else
		fprintf(f, "%sdowns, newest first, back to %s\n", prefix, d->to);
	rip_buf_release(&b);
}

/* One down: its id, its release, its last drill, what it loses. */
static void print_down(FILE *f, const char *prefix,
	const struct rip_down_note *n)
{
	struct rip_buf b = RIP_BUF_INIT;
	bool colour = cli_colour(f);

	drill_words(&b, &n->drill, colour);
	fprintf(f, "%s  %s (%s)  %s\n", prefix, n->mig->id, n->release ?
		n->release : "no release of the path carries it", b.buf);
	for (size_t i = 0; i < n->nloss; i++)
		fprintf(f, "%s    %sdestructive%s, line %d: %s\n%s      %s\n",
			prefix, colour ? C_BAD : "", colour ? C_OFF : "",
			n->loss[i].line, n->loss[i].statement, prefix, n->loss[i].why);
	rip_buf_release(&b);
}

static json_t *drill_json(const struct rip_drill_rec *d)
{
	if (!d->seq)
		return json_null();
	return json_pack("{s:s, s:I, s:I, s:f, s:s, s:I}", "result", d->result,
		"at", (json_int_t)d->started, "age_s", (json_int_t)((int64_t)
		time(NULL) - d->started), "seconds", d->seconds, "release",
		d->release, "seq", (json_int_t)d->seq);
}

/* "down_plan" and "path" of the plan's JSON document. */
static void downs_json(json_t *doc, const struct rip_downs *d,
	const struct rip_plan *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n; i++) {
		const struct rip_down_note *n = &d->v[i];
		json_t *loss = json_array();

		for (size_t k = 0; k < n->nloss; k++)
			json_array_append_new(loss, json_pack("{s:i, s:s, s:s, s:s}",
				"line", n->loss[k].line, "statement", n->loss[k].statement,
				"why", n->loss[k].why, "rule", n->loss[k].rule));
		json_array_append_new(a, json_pack("{s:s, s:s?, s:s?, s:o, s:o, "
			"s:b}", "id", n->mig->id, "version", n->mig->version,
			"release", n->release, "destructive", loss, "drill",
			drill_json(&n->drill), "ran", rip_strlist_has(&p->ran,
			n->mig->id)));
	}
	json_object_set_new(doc, "down_plan", a);
	json_object_set_new(doc, "path", d->to ? json_pack("{s:s?, s:s, s:o}",
		"from", d->from, "to", d->to, "drill", drill_json(&d->path)) :
		json_null());
}

/* ---- the schema phase of a rollback ------------------------------------ */

/* The "schema" object: {mode, lossless, level, kept, downs, data_loss}; the
 * downs are those planned in a dry run, those run otherwise. */
static json_t *schema_json(const struct rip_plan *p, bool dry_run)
{
	const char **ids = rip_xcalloc(p->downs.n + 1, sizeof(*ids));
	json_t *o;

	for (size_t i = 0; i < p->downs.n; i++)
		ids[i] = p->downs.v[i].id;
	o = dry_run ? rip_plan_schema_json(&p->schema, ids, p->downs.n) :
		rip_plan_schema_json(&p->schema, (const char *const *)p->ran.v,
		p->ran.n);
	free(ids);
	return o;
}

/* The dry run's word on the schema: kept, or what the downs lose. */
static void print_schema(const struct rip_plan *p)
{
	const struct rip_plan_schema *s = &p->schema;
	struct rip_buf b = RIP_BUF_INIT;
	bool colour = cli_colour(stdout);
	size_t contract = 0;

	for (size_t i = 0; i < p->downs.n; i++)
		contract += p->downs.v[i].contract;
	rip_plan_schema_words(&b, s);
	/* said from each down's phase: a contract's down is lossy whatever
	 * the parser made of its up */
	if (!b.len && !contract)
		rip_buf_addf(&b, "down: %zu down%s, no contract migration among "
			"them", p->downs.n, p->downs.n == 1 ? "" : "s");
	else if (!s->keep && !b.len)
		rip_buf_addf(&b, "data lost: %zu contract migration%s among %zu "
			"down%s", contract, contract == 1 ? "" : "s", p->downs.n,
			p->downs.n == 1 ? "" : "s");
	printf("\nschema: %s\n", b.buf);
	if (s->keep && s->kept.n) {
		printf("  kept, ahead of %s:", p->release);
		for (size_t i = 0; i < s->kept.n; i++)
			printf(" %s", s->kept.v[i]);
		putchar('\n');
	}
	for (size_t i = 0; i < s->nloss; i++)
		printf("  %sdata loss%s: %s: %s\n", colour ? C_BAD : "",
			colour ? C_OFF : "", s->loss[i].object, s->loss[i].why);
	if (s->nloss)
		printf("  the rollback refuses to run without --accept-data-loss "
			"(--keep-schema loses nothing)\n");
	rip_buf_release(&b);
}

/* What the real rollback says of each down as it starts it. */
struct down_progress {
	const struct rip_downs *d;
	bool headed;
};

static void on_down(void *data, const struct rip_migration *mg,
	enum rip_db_direction dir, int rc, double seconds)
{
	struct down_progress *dp = data;

	(void)seconds;
	if (rc != 1 || dir != RIP_DB_DOWN)
		return;
	for (size_t i = 0; i < dp->d->n; i++) {
		if (strcmp(dp->d->v[i].mig->id, mg->id))
			continue;
		if (!dp->headed)
			print_downs_head(stderr, "ripcord: ", dp->d);
		dp->headed = true;
		print_down(stderr, "ripcord: ", &dp->d->v[i]);
		return;
	}
}

/* Whether p does anything but probe. */
static bool acts(const struct rip_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].kind != RIP_ACT_PROBE)
			return true;
	return false;
}

/* How many targets of p could not be reached when it was planned; their
 * names, comma-separated, appended to names when it is not NULL. */
static size_t unreachable(const struct rip_plan *p, struct rip_buf *names)
{
	size_t n = 0;

	for (size_t i = 0; i < p->ntargets; i++) {
		if (!p->targets[i].unreachable)
			continue;
		if (names)
			rip_buf_addf(names, "%s%s", n ? ", " : "",
				p->targets[i].target->name);
		n++;
	}
	return n;
}

/*
 * A dry run exits as the real run would: refused across a lossy rollback
 * not accepted; failed (exit 1) when a target could not be reached, as
 * the run would leave its switch pending.
 */
static int dry_run_verdict(const struct rip_plan *p, struct rip_err *err)
{
	struct rip_buf names = RIP_BUF_INIT;
	int rc = rip_schema_refuse_loss(&p->schema, p->op, p->release,
		p->schema.accept_data_loss, err);
	size_t n = unreachable(p, &names);

	if (rc == 0 && n)
		rc = rip_err_set(err, RIP_EFAIL, "%zu of %zu targets cannot be "
			"reached (%s): the %s to %s would leave %s pending; run it "
			"again once %s can be reached", n, p->ntargets, names.buf,
			p->op, p->release, n > 1 ? "their switches" : "its switch",
			n > 1 ? "they" : "it");
	rip_buf_release(&names);
	return rc;
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

void cli_audit_held(struct cli *cli, const struct rip_plan *p)
{
	struct rip_buf held = RIP_BUF_INIT;

	for (size_t i = 0; i < p->held.n; i++)
		rip_buf_addf(&held, "%s%s", i ? "," : "", p->held.v[i]);
	cli_audit_migrations(cli, "held back:", held.buf);
	rip_buf_release(&held);
}

void cli_plan_json_held(json_t *doc, const struct rip_plan *p)
{
	json_t *held = json_array();

	for (size_t i = 0; i < p->held.n; i++)
		json_array_append_new(held, json_string(p->held.v[i]));
	json_object_set_new(doc, "held_back", held);
	if (p->held_note)
		json_object_set_new(doc, "held_note", json_string(p->held_note));
}

void cli_audit_schema(struct cli *cli, const struct rip_plan *p)
{
	const struct rip_plan_schema *s = &p->schema;
	struct rip_buf b = RIP_BUF_INIT;

	if (!s->planned)
		return;
	for (size_t i = 0; i < s->kept.n; i++)
		rip_buf_addf(&b, "%s%s", i ? "," : "", s->kept.v[i]);
	if (s->keep)
		cli_audit_migrations(cli, "schema kept (lossless):", b.len ?
			b.buf : "nothing ahead");
	rip_buf_reset(&b);
	for (size_t i = 0; i < s->nloss; i++)
		if (s->loss[i].unnamed)
			rip_buf_addf(&b, "%s%s", i ? "," : "", s->loss[i].object);
		else
			rip_buf_addf(&b, "%s%s (%s)", i ? "," : "",
				s->loss[i].object, s->loss[i].migration);
	if (s->nloss)
		cli_audit_migrations(cli, s->accept_data_loss ? "data loss "
			"accepted (--accept-data-loss):" : "data loss refused "
			"(no --accept-data-loss):", b.buf);
	rip_buf_release(&b);
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
	cli_audit_held(cli, p);
	cli_audit_schema(cli, p);
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
	struct rip_downs downs = { 0 };
	struct down_progress dp = { &downs, false };
	struct rip_err derr = { 0 };
	int rc = 0;

	if (p->resumed && !cli->json)
		rip_info("resuming the interrupted %s to %s (ripcord status "
			"showed it)", p->op, p->release);
	/* what the downs lose and when they were drilled: worth knowing,
	 * never worth failing the rollback over */
	if (rip_downs_read(&downs, store, p, cfg->package.verify_key,
			&derr) < 0)
		rip_warn("cannot say when the downs were last drilled: %s",
			derr.msg);
	if (dry_run) {
		if (acts(p) || unreachable(p, NULL))
			rip_plan_format(&text, p);
		if (!cli->json) {
			printf("%s", text.len ? text.buf : "nothing to do\n");
			if (downs.n) {
				putchar('\n');
				print_downs_head(stdout, "", &downs);
				for (size_t i = 0; i < downs.n; i++)
					print_down(stdout, "", &downs.v[i]);
			}
			if (strcmp(p->op, "deploy") && p->schema.planned)
				print_schema(p);
		}
		rip_buf_release(&text);
		/* exits as the real run would, after the whole plan is shown */
		rc = dry_run_verdict(p, err);
	} else {
		if (!cli->json && !cli->quiet && downs.n) {
			p->on_step = on_down;
			p->step_data = &dp;
		}
		rc = rip_plan_apply(p, cfg, store, progress, cli, err);
		p->on_step = NULL;
		cli_audit_plan(cli, p);
	}
	if (cli->json) {
		json_t *doc = cli_plan_json(p, dry_run, rc, err->msg);

		if (p->ahead)
			json_object_set_new(doc, "warning", json_string(p->ahead));
		if (!strcmp(p->op, "deploy"))
			cli_plan_json_held(doc, p);
		if (cli->preempted)
			json_object_set(doc, "preempted", cli->preempted);
		if (strcmp(p->op, "deploy")) {
			downs_json(doc, &downs, p);
			json_object_set_new(doc, "schema", p->schema.planned ?
				schema_json(p, dry_run) : json_null());
		}
		cli_print_json(doc);
	} else if (!dry_run) {
		cli_print_plan_table(p);
		if (p->ran.n || p->stopped || rc || p->schema.planned)
			print_summary(p);
	}
	if (!cli->json && p->held_note)
		printf("%s\n", p->held_note);
	fflush(stdout);
	announce(p, cfg, store, dry_run, rc, err);
	rip_downs_release(&downs);
	return rc;
}
