/* SPDX-License-Identifier: MIT */
/*
 * cmd_gc.c: `ripcord gc [--dry-run] [--json]`: parse, lock, plan, apply,
 * and say what was deleted and why everything else was kept (gc.c does
 * the work and decides; this file only prints).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ripcord/gc.h"
#include "ripcord/log.h"
#include "ripcord/metrics.h"
#include "ripcord/store.h"
#include "banned.h"

static const char *where(const struct rip_gc_item *it)
{
	return it->target ? it->target->name : "store";
}

static const char *const kind_names[] = { "release", "folder", "unfinished" };

static void progress(void *data, const struct rip_gc_item *it)
{
	const struct cli *cli = data;
	char size[32];

	if (cli->json || cli->quiet)
		return;
	cli_format_size(size, sizeof(size), it->bytes);
	fprintf(stderr, "ripcord: %-8s %-12s %s%s%s\n", it->done ? "deleted" :
		"FAILED", where(it), it->id, it->done ? " " : ": ",
		it->done ? size : it->error);
}

/* "beyond keep", with what makes it worth a second look. */
static void cause(struct rip_buf *b, const struct rip_gc_item *it)
{
	rip_buf_adds(b, rip_gc_item_cause(it));
	if (it->kind == RIP_GC_RELEASE && !it->verified)
		rip_buf_adds(b, ", does not verify (not counted toward keep)");
	if (it->error)
		rip_buf_addf(b, " - FAILED: %s", it->error);
}

static void print_deleted(const struct rip_gc_plan *p, bool dry_run)
{
	if (!p->deleted.n) {
		printf("nothing to delete (keep = %llu)\n",
			(unsigned long long)p->keep);
		return;
	}
	printf("%s (keep = %llu):\n", dry_run ? "would delete" : "deleted",
		(unsigned long long)p->keep);
	printf("  %-12s %-28s %10s  %s\n", "WHERE", "RELEASE", "SIZE", "WHY");
	for (size_t i = 0; i < p->deleted.n; i++) {
		const struct rip_gc_item *it = &p->deleted.v[i];
		struct rip_buf why = RIP_BUF_INIT;
		char size[32];

		cli_format_size(size, sizeof(size), it->bytes);
		cause(&why, it);
		printf("  %-12s %-28s %10s  %s\n", where(it), it->id, size,
			why.buf);
		rip_buf_release(&why);
	}
}

/* Kept releases one row each, with every place that keeps them: the
 * reasons of a release are the same wherever it is. */
static void print_kept(const struct rip_gc_plan *p)
{
	if (!p->kept.n)
		return;
	printf("kept:\n  %-28s %-24s %s\n", "RELEASE", "WHERE", "WHY");
	for (size_t i = 0; i < p->kept.n; i++) {
		const struct rip_gc_item *it = &p->kept.v[i];
		struct rip_buf why = RIP_BUF_INIT, at = RIP_BUF_INIT;
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(p->kept.v[k].id, it->id);
		if (seen)
			continue;
		for (size_t k = i; k < p->kept.n; k++)
			if (!strcmp(p->kept.v[k].id, it->id))
				rip_buf_addf(&at, "%s%s", at.len ? " " : "",
					where(&p->kept.v[k]));
		rip_gc_why_format(&why, it, p->keep);
		if (it->kind == RIP_GC_RELEASE && !it->verified)
			rip_buf_adds(&why, " [does not verify: see the warning]");
		else if (it->problem)
			rip_buf_addf(&why, " [%s]", it->problem);
		printf("  %-28s %-24s %s\n", it->id, at.buf, why.buf);
		rip_buf_release(&at);
		rip_buf_release(&why);
	}
}

static void print_text(const struct rip_gc_plan *p, bool dry_run)
{
	char size[32];

	print_deleted(p, dry_run);
	print_kept(p);
	cli_format_size(size, sizeof(size), dry_run ? p->bytes : p->freed);
	printf("%s %s\n", dry_run ? "would free" : "freed", size);
}

static json_t *item_json(const struct rip_gc_item *it, uint64_t keep,
	bool kept)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s*, s:s, s:s*}", "where",
		where(it), "kind", kind_names[it->kind], "name", it->id,
		"release", it->kind == RIP_GC_UNFINISHED ? NULL : it->id, "path",
		it->path, "problem", it->problem);

	json_object_set_new(o, "verified", it->kind == RIP_GC_RELEASE ?
		json_boolean(it->verified) : json_null());
	json_object_set_new(o, "in_store", json_boolean(it->in_store));
	if (kept) {
		json_t *why = json_array();

		for (size_t i = 0; i < it->nwhy; i++) {
			const struct rip_gc_reason *r = &it->why[i];
			struct rip_buf text = RIP_BUF_INIT;

			rip_gc_reason_format(&text, r, keep);
			json_array_append_new(why, json_pack("{s:s, s:s*, s:s*, "
				"s:s}", "rule", rip_gc_rule_name(r->rule), "target",
				r->target ? r->target->name : NULL, "release",
				r->release, "text", text.buf));
			rip_buf_release(&text);
		}
		json_object_set_new(o, "reasons", why);
	} else {
		json_object_set_new(o, "reason", json_string(
			rip_gc_item_cause(it)));
		json_object_set_new(o, "bytes", json_integer((json_int_t)
			it->bytes));
		json_object_set_new(o, "done", json_boolean(it->done));
		json_object_set_new(o, "error", it->error ?
			json_string(it->error) : json_null());
	}
	return o;
}

static json_t *plan_json(const struct rip_gc_plan *p, bool dry_run, int rc,
	const struct rip_err *err)
{
	json_t *deleted = json_array(), *kept = json_array();
	json_t *targets = json_array(), *warnings = json_array();

	for (size_t i = 0; i < p->deleted.n; i++)
		json_array_append_new(deleted, item_json(&p->deleted.v[i],
			p->keep, false));
	for (size_t i = 0; i < p->kept.n; i++)
		json_array_append_new(kept, item_json(&p->kept.v[i], p->keep,
			true));
	for (size_t i = 0; i < p->ntargets; i++) {
		const struct rip_gc_target *t = &p->targets[i];

		json_array_append_new(targets, json_pack("{s:s, s:s, s:b, s:s*, "
			"s:s*}", "target", t->target->name, "root", t->target->root,
			"skipped", t->skipped, "current", t->current, "rollback",
			t->rollback));
	}
	for (size_t i = 0; i < p->warnings.n; i++)
		json_array_append_new(warnings, json_string(p->warnings.v[i]));
	return json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:o, s:o, s:o, s:o, "
		"s:s?}", "operation", "gc", "dry_run", dry_run, "ok", rc == 0,
		"keep", (json_int_t)p->keep, "bytes", (json_int_t)p->bytes,
		"bytes_freed", (json_int_t)(dry_run ? 0 : p->freed), "deleted",
		deleted, "kept", kept, "targets", targets, "warnings", warnings,
		"error", rc ? err->msg : NULL);
}

/* A release gone from the store has no drill series any more. */
static void forget_metrics(const struct rip_config *cfg,
	const struct rip_gc_plan *plan)
{
	for (size_t i = 0; cfg->drill.metrics_file && i < plan->deleted.n; i++) {
		const struct rip_gc_item *it = &plan->deleted.v[i];
		const struct rip_metric_label match[] = {
			{ "project", cfg->project.name }, { "release", it->id },
		};
		struct rip_err err = { 0 };
		size_t removed;

		if (it->kind == RIP_GC_RELEASE && it->done &&
		    rip_metrics_remove(&removed, cfg->drill.metrics_file, match,
			    RIP_ARRAY_SIZE(match), &err) < 0)
			rip_warn("cannot update the metrics file: %s", err.msg);
	}
}

static int run(struct cli *cli, bool dry_run)
{
	struct rip_config *cfg = NULL;
	struct rip_store *store = NULL;
	struct rip_lock lock = { .fd = -1 };
	struct rip_gc_plan plan = { 0 };
	struct rip_err err = { 0 };
	int rc;

	if ((rc = cli_load_config(cli, &cfg, &err)) < 0 ||
	    (rc = rip_store_open(&store, cfg->project.store, false, &err)) < 0 ||
	    (rc = rip_lock_acquire(&lock, store, "gc", &err)) < 0 ||
	    (rc = rip_gc_plan(&plan, cfg, store, &err)) < 0)
		goto done;
	if (!cli->json)
		for (size_t i = 0; i < plan.warnings.n; i++)
			rip_warn("%s", plan.warnings.v[i]);
	if (!dry_run) {
		rc = rip_gc_apply(&plan, store, progress, cli, &err);
		forget_metrics(cfg, &plan);
	}
	if (cli->json)
		cli_print_json(plan_json(&plan, dry_run, rc, &err));
	else
		print_text(&plan, dry_run);
done:
	if (rc < 0)
		rc = cli_fail(&err, rc);
	rip_gc_plan_release(&plan);
	if (lock.fd >= 0)
		rip_lock_release(&lock);
	rip_store_free(store);
	rip_config_free(cfg);
	return rc;
}

int cmd_gc(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool dry_run = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': dry_run = true; break;
		case 'j': cli->json = true; break;
		case 'h':
			puts("usage: ripcord gc [--dry-run] [--json]");
			return 0;
		default:
			return cli_usage("gc", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("gc", "unexpected argument '%s' (gc takes no "
			"release ids: it decides from [project] keep)", argv[optind]);
	return run(cli, dry_run);
}
