/* SPDX-License-Identifier: MIT */
/*
 * cmd_releases.c: `ripcord releases [--json]`: every release, newest
 * first, with its last drill and its age, and whether it was yanked;
 * `releases yank ID [--reason TEXT]` and `releases unyank ID` (state.c
 * records it, store.c refuses a yanked release for deploy, rollout and
 * rollback); `releases rm ID [--dry-run]` (gc.c decides and deletes, by
 * gc's own rules).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ripcord/drill.h"
#include "ripcord/gc.h"
#include "ripcord/log.h"
#include "ripcord/manifest.h"
#include "ripcord/metrics.h"
#include "ripcord/schema_phase.h"
#include "ripcord/store.h"
#include "json_internal.h"
#include "banned.h"

static const char usage_text[] =
	"usage: ripcord releases [--json]\n"
	"       ripcord releases yank ID [--reason TEXT]\n"
	"       ripcord releases unyank ID\n"
	"       ripcord releases rm ID [--dry-run]\n";

/* "yanked: <reason>" for the table's last column, or the parent. */
static void note_of(struct rip_buf *b, const struct rip_release_rec *r)
{
	rip_buf_reset(b);
	if (r->yanked_at)
		rip_buf_addf(b, "YANKED by %s: %s", r->yanked_by ? r->yanked_by :
			"unknown", r->yank_reason ? r->yank_reason :
			"no reason given");
	else
		rip_buf_adds(b, r->parent ? r->parent : "-");
}

/* The SCHEMA column: its migrations by phase in the database, without
 * what the schema is ahead by (every older release is ahead-of). */
static char *schema_of(const struct rip_schema_phase *p, int64_t now)
{
	struct rip_schema_phase q = *p;

	q.nahead = 0;
	return rip_schema_phase_text(&q, now);
}

static void print_table(const struct rip_release_rec *v,
	const struct rip_drill_rec *d, const struct rip_schema_phase *ph,
	size_t n)
{
	static const char *const head[] = { "ID", "COMMIT", "CREATED", "SIZE",
		"SIGNED", "DRILL", "PARENT", NULL };
	static const char *const with_schema[] = { "ID", "COMMIT", "CREATED",
		"SIZE", "SIGNED", "DRILL", "PARENT", "SCHEMA", NULL };
	struct rip_buf note = RIP_BUF_INIT;
	time_t now = time(NULL);
	struct cli_table t;

	cli_table_init(&t, ph ? with_schema : head);
	cli_table_right(&t, 3);
	for (size_t i = n; i-- > 0; ) {
		char when[32], size[32], drill[48];

		cli_format_time(when, sizeof(when), v[i].created);
		cli_format_size(size, sizeof(size), v[i].size);
		cli_format_drill(drill, sizeof(drill), &d[i], now);
		note_of(&note, &v[i]);
		cli_table_add(&t, v[i].id);
		cli_table_addf(&t, "%.12s", v[i].commit);
		cli_table_add(&t, when);
		cli_table_add(&t, size);
		cli_table_add(&t, v[i].is_signed ? "yes" : "no");
		cli_table_add(&t, drill);
		cli_table_add(&t, note.buf);
		if (ph) {
			char *text = schema_of(&ph[i], (int64_t)now);

			cli_table_add(&t, text);
			free(text);
		}
	}
	cli_table_print(&t);
	cli_table_release(&t);
	rip_buf_release(&note);
}

/* The yank of r as JSON: yanked, reason, by, at (null when not). */
static void yank_json(json_t *o, const struct rip_release_rec *r)
{
	json_object_set_new(o, "yanked", json_boolean(r->yanked_at != 0));
	json_object_set_new(o, "reason", r->yank_reason ?
		json_string(r->yank_reason) : json_null());
	json_object_set_new(o, "by", r->yanked_by ?
		json_string(r->yanked_by) : json_null());
	json_object_set_new(o, "at", r->yanked_at ?
		json_integer((json_int_t)r->yanked_at) : json_null());
}

/* The compatibility step of drill r: null, or previous, level, ok and
 * result ("pass", "fail", "not run"). */
static json_t *compat_json(const struct rip_drill_rec *r)
{
	char *prev, *level;
	enum rip_drill_compat_result c = rip_drill_rec_compat(&prev, &level, r);
	json_t *o = c == RIP_COMPAT_NEVER ? json_null() : json_pack("{s:s?, "
		"s:s?, s:b, s:s}", "previous", prev, "level", level, "ok",
		c == RIP_COMPAT_PASS, "result", c == RIP_COMPAT_PASS ? "pass" :
		c == RIP_COMPAT_FAIL ? "fail" : "not run");

	free(prev);
	free(level);
	return o;
}

static json_t *to_json(const struct rip_release_rec *v,
	const struct rip_drill_rec *d, const struct rip_schema_phase *ph,
	size_t n)
{
	json_t *list = json_array();

	for (size_t i = n; i-- > 0; ) {
		json_t *o, *drill = d[i].seq ? json_pack("{s:s, s:I, s:f, s:s?}",
			"result", d[i].result, "started", (json_int_t)d[i].started,
			"seconds", d[i].seconds, "detail", d[i].detail) : json_null();
		struct rip_strlist from = { 0 };

		if (d[i].seq && rip_drill_rec_from(&from, &d[i]) && from.n) {
			json_t *f = json_array();

			for (size_t j = 0; j < from.n; j++)
				json_array_append_new(f, *from.v[j] ?
					json_string(from.v[j]) : json_null());
			json_object_set_new(drill, "from", f);
		} else if (d[i].seq) {
			json_object_set_new(drill, "from", json_null());
		}
		rip_strlist_release(&from);
		if (d[i].seq)
			json_object_set_new(drill, "compatibility",
				compat_json(&d[i]));

		o = json_pack("{s:s, s:s, s:s, s:s*, "
			"s:I, s:I, s:I, s:s, s:b, s:I, s:I, s:o}", "id", v[i].id,
			"project", v[i].project, "commit", v[i].commit, "parent",
			v[i].parent, "created", (json_int_t)v[i].created, "cut_at",
			(json_int_t)v[i].cut_at, "size", (json_int_t)v[i].size,
			"sha256", v[i].sha256, "signed", v[i].is_signed, "files",
			(json_int_t)v[i].files, "bytes", (json_int_t)v[i].bytes,
			"last_drill", drill);
		yank_json(o, &v[i]);
		json_object_set_new(o, "schema", ph ?
			rip_schema_phase_json(&ph[i]) : json_null());
		json_array_append_new(list, o);
	}
	return list;
}

/* The last drill of every release, in the same order. */
static int read_drills(struct rip_drill_rec **out,
	const struct rip_release_rec *v, size_t n, struct rip_store *store,
	struct rip_err *err)
{
	int rc = 0;

	*out = rip_xcalloc(n + 1, sizeof(**out));
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = rip_drill_last(&(*out)[i], store->state, v[i].id, false, err);
	return rc;
}

/*
 * Each release's migrations by phase in the database, against its
 * cut-parent; NULL (no column) without [migrations] or before the
 * database exists. A database that cannot be read is warned about.
 */
static struct rip_schema_phase *read_phases(const struct rip_config *cfg,
	struct rip_store *store, const struct rip_release_rec *v, size_t n)
{
	struct rip_schema_phase *ph;
	struct rip_err err = { 0 };
	bool known = false;

	if (!cfg->migrations.dir || !n)
		return NULL;
	ph = rip_xcalloc(n, sizeof(*ph));
	for (size_t i = 0; i < n; i++) {
		if (rip_schema_phase(&ph[i], cfg, store, v[i].id, v[i].parent,
				&err) < 0) {
			rip_warn("%s", err.msg);
			err = (struct rip_err){ 0 };
		}
		known |= ph[i].known;
	}
	if (known)
		return ph;
	for (size_t i = 0; i < n; i++)
		rip_schema_phase_release(&ph[i]);
	free(ph);
	return NULL;
}

static void phases_free(struct rip_schema_phase *ph, size_t n)
{
	for (size_t i = 0; ph && i < n; i++)
		rip_schema_phase_release(&ph[i]);
	free(ph);
}

static int list(struct cli *cli)
{
	struct rip_schema_phase *ph = NULL;
	struct rip_release_rec *v = NULL;
	struct rip_drill_rec *d = NULL;
	struct rip_config *cfg = NULL;
	struct rip_store *store = NULL;
	struct rip_err err = { 0 };
	size_t n = 0;
	int rc;

	if ((rc = cli_load_config(cli, &cfg, &err)) < 0)
		return cli_fail(&err, rc);
	rc = rip_store_open(&store, cfg->project.store, false, &err);
	if (rc == RIP_ENOTFOUND) {
		rc = 0;  /* no store yet: no releases */
	} else if (rc == 0 &&
		   (rc = rip_state_release_list(&v, &n, store->state, &err)) == 0) {
		rc = read_drills(&d, v, n, store, &err);
	}
	if (rc == 0 && store)
		ph = read_phases(cfg, store, v, n);
	if (rc < 0) {
		rc = cli_fail(&err, rc);
	} else if (cli->json) {
		cli_print_json(to_json(v, d, ph, n));
	} else if (!n) {
		printf("no releases yet (cut one: 'ripcord cut')\n");
	} else {
		print_table(v, d, ph, n);
	}
	phases_free(ph, n);
	rip_drill_recs_free(d, d ? n : 0);
	rip_release_recs_free(v, n);
	rip_store_free(store);
	rip_config_free(cfg);
	return rc;
}

/* yank (with reason) or unyank id under the store lock; prints the
 * release's record as it now is. */
static int yank(struct cli *cli, struct rip_store *store, const char *id,
	bool on, const char *reason, struct rip_err *err)
{
	struct rip_release_rec rec = { 0 };
	int rc;

	if (on)
		rc = rip_state_release_yank(store->state, id, reason,
			rip_user_name(), (int64_t)time(NULL), err);
	else
		rc = rip_state_release_unyank(store->state, id, err);
	if (rc < 0 || (rc = rip_state_release_get(&rec, store->state, id,
			err)) < 0)
		return rc;
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "operation", on ? "yank" :
			"unyank", "release", id, "result", "ok");

		yank_json(o, &rec);
		cli_print_json(o);
	} else if (on) {
		printf("yanked %s: deploy, rollout and rollback --to refuse it, "
			"drill --due skips it (undo: 'ripcord releases unyank %s')\n",
			id, id);
	} else {
		printf("%s is no longer yanked\n", id);
	}
	rip_release_rec_release(&rec);
	return 0;
}

/* A release gone from the store has no drill series any more. */
static void forget_metrics(const struct rip_config *cfg, const char *id)
{
	const struct rip_metric_label match[] = {
		{ "project", cfg->project.name }, { "release", id },
	};
	struct rip_err err = { 0 };
	size_t removed;

	if (cfg->drill.metrics_file && rip_metrics_remove(&removed,
			cfg->drill.metrics_file, match, RIP_ARRAY_SIZE(match),
			&err) < 0)
		rip_warn("cannot update the metrics file: %s", err.msg);
}

static void print_rm(const struct rip_gc_plan *p, bool dry_run)
{
	char size[32];

	for (size_t i = 0; i < p->deleted.n; i++) {
		const struct rip_gc_item *it = &p->deleted.v[i];

		cli_format_size(size, sizeof(size), it->bytes);
		printf("%s %-12s %s %s%s%s\n", dry_run ? "would delete" :
			it->done ? "deleted" : "FAILED", it->target ?
			it->target->name : "store", it->path, size, it->error ? ": " :
			"", it->error ? it->error : "");
	}
	cli_format_size(size, sizeof(size), dry_run ? p->bytes : p->freed);
	printf("%s %s\n", dry_run ? "would free" : "freed", size);
}

static json_t *rm_json(const struct rip_gc_plan *p, const char *id,
	bool dry_run, int rc, const struct rip_err *err)
{
	json_t *deleted = json_array();

	for (size_t i = 0; i < p->deleted.n; i++) {
		const struct rip_gc_item *it = &p->deleted.v[i];

		json_array_append_new(deleted, json_pack("{s:s, s:s, s:s, s:I, "
			"s:b, s:s?}", "where", it->target ? it->target->name :
			"store", "kind", it->kind == RIP_GC_RELEASE ? "release" :
			"folder", "path", it->path, "bytes", (json_int_t)it->bytes,
			"done", it->done, "error", it->error));
	}
	return json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:o, s:s?}",
		"operation", "rm", "release", id, "dry_run", dry_run, "ok", rc == 0,
		"bytes", (json_int_t)p->bytes, "bytes_freed", (json_int_t)(dry_run ?
		0 : p->freed), "deleted", deleted, "error", rc ? err->msg : NULL);
}

static int rm(struct cli *cli, const struct rip_config *cfg,
	struct rip_store *store, const char *id, bool dry_run,
	struct rip_err *err)
{
	struct rip_gc_plan plan = { 0 };
	int rc;

	if ((rc = rip_gc_plan_rm(&plan, cfg, store, id, err)) < 0) {
		if (cli->json && rc == RIP_EFAIL)
			cli_print_json(rm_json(&plan, id, dry_run, rc, err));
		return rc;
	}
	if (!dry_run) {
		rc = rip_gc_apply(&plan, store, NULL, NULL, err);
		if (rc == 0) /* a release still there keeps its series */
			forget_metrics(cfg, id);
	}
	if (cli->json)
		cli_print_json(rm_json(&plan, id, dry_run, rc, err));
	else
		print_rm(&plan, dry_run);
	rip_gc_plan_release(&plan);
	return rc;
}

/* yank, unyank or rm of id, under the store lock. */
static int change(struct cli *cli, const char *sub, const char *id,
	const char *reason, bool dry_run)
{
	struct rip_config *cfg = NULL;
	struct rip_store *store = NULL;
	struct rip_lock lock = { .fd = -1 };
	struct rip_err err = { 0 };
	int rc;

	if ((rc = cli_load_config(cli, &cfg, &err)) < 0 ||
	    (rc = rip_store_open(&store, cfg->project.store, false, &err)) < 0 ||
	    (rc = rip_lock_acquire(&lock, store, sub, &err)) < 0)
		goto done;
	if (!strcmp(sub, "rm"))
		rc = rm(cli, cfg, store, id, dry_run, &err);
	else
		rc = yank(cli, store, id, !strcmp(sub, "yank"), reason, &err);
done:
	if (rc < 0)
		rc = cli_fail(&err, rc);
	if (lock.fd >= 0)
		rip_lock_release(&lock);
	rip_store_free(store);
	rip_config_free(cfg);
	return rc;
}

int cmd_releases(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub, *reason = NULL;
	bool dry_run = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': reason = optarg; break;
		case 'n': dry_run = true; break;
		case 'j': cli->json = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage("releases", "unknown option");
		}
	}
	if (optind == argc && !reason && !dry_run)
		return list(cli);
	sub = optind < argc ? argv[optind++] : "";
	if (strcmp(sub, "yank") && strcmp(sub, "unyank") && strcmp(sub, "rm"))
		return sub[0] ? cli_usage("releases", "unknown subcommand '%s': "
			"expected yank, unyank or rm", sub) : cli_usage("releases",
			"--reason goes with yank ID, --dry-run with rm ID");
	if (optind + 1 != argc)
		return cli_usage("releases", "%s takes one release id", sub);
	if ((reason && strcmp(sub, "yank")) || (dry_run && strcmp(sub, "rm")))
		return cli_usage("releases", "--reason goes with yank, --dry-run "
			"with rm");
	if (!rip_release_id_valid(argv[optind]))
		return cli_usage("releases", "'%s' is not a release id",
			argv[optind]);
	return change(cli, sub, argv[optind], reason, dry_run);
}
