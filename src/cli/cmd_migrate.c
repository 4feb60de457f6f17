/* SPDX-License-Identifier: MIT */
/*
 * cmd_migrate.c: `ripcord migrate status|up|down|contract|lint|ack|mark`.
 *
 * Migrations always come from verified artifacts in the store, never from
 * the working tree: what runs is exactly what was cut and signed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ripcord/contract.h"
#include "ripcord/fsutil.h"
#include "ripcord/lint.h"
#include "ripcord/log.h"
#include "ripcord/migrate.h"
#include "ripcord/release.h"
#include "ripcord/rollout.h"
#include "banned.h"

struct mig {
	struct cli *cli;
	struct rip_config *cfg;
	struct rip_store *store;
	struct rip_migrate *db;
	struct rip_lock lock;
	struct rip_err err;
	bool dry_run;
	bool schema;
	bool now;                 /* contract: --now */
	bool due;                 /* contract: --due (auto_contract's run) */
	json_t *steps;
};

static void mig_release(struct mig *g)
{
	rip_migrate_free(g->db);
	if (g->lock.fd >= 0)
		rip_lock_release(&g->lock);
	rip_store_free(g->store);
	rip_config_free(g->cfg);
	json_decref(g->steps);
}

/* Config, store and (when lock is set) the store lock. */
static int mig_setup(struct mig *g, const char *what, bool lock)
{
	int rc;

	g->lock.fd = -1;
	if (!g->cfg && (rc = cli_load_config(g->cli, &g->cfg, &g->err)) < 0)
		return rc;
	if (!g->cfg->migrations.dir)
		return rip_err_set(&g->err, RIP_ECONFIG, "%s: [migrations] dir is "
			"not set, so releases carry no migrations", g->cfg->path);
	if ((rc = rip_store_open(&g->store, g->cfg->project.store, false,
			&g->err)) < 0)
		return rc;
	if (lock && (rc = rip_lock_acquire(&g->lock, g->store,
			what, &g->err)) < 0)
		return rc;
	return 0;
}

/* id, or the newest release when id is NULL; *out is newly allocated. */
static int pick_release(struct mig *g, const char *id, char **out)
{
	struct rip_release_rec *v;
	size_t n;
	int rc;

	*out = NULL;
	if (id) {
		*out = rip_xstrdup(id);
		return 0;
	}
	if ((rc = rip_state_release_list(&v, &n, g->store->state,
			&g->err)) < 0)
		return rc;
	if (n)
		*out = rip_xstrdup(v[n - 1].id);
	rip_release_recs_free(v, n);
	if (!*out)
		return rip_err_set(&g->err, RIP_ENOTFOUND, "no releases in the "
			"store (cut one: 'ripcord cut')");
	return 0;
}

static int load(struct mig *g, const char *id, struct rip_migrations *out)
{
	return rip_release_migrations(out, g->store, id,
		g->cfg->package.verify_key, &g->err);
}

static void on_step(void *data, const struct rip_migration *m,
	enum rip_db_direction dir, int rc, double seconds)
{
	struct mig *g = data;
	const char *d = dir == RIP_DB_UP ? "up" : "down";

	if (rc == 1)
		return;
	/* the audit entry names every up and down that ran */
	if (rc == 0 && !g->dry_run)
		cli_audit_migrations(g->cli, d, m->id);
	if (g->cli->json) {
		json_array_append_new(g->steps, json_pack("{s:s, s:s, s:b, s:f}",
			"migration", m->id, "direction", d, "ok", rc == 0,
			"seconds", seconds));
		return;
	}
	printf("%-4s %-6s %s%s (%.0f ms)\n", rc ? "FAIL" : g->dry_run ?
		"plan" : "ok", d, m->id, m->no_transaction ?
		" [no transaction]" : "", seconds * 1000);
	fflush(stdout);
}

/* verb: "applied" or "undid"; plan: "apply" or "undo" (--dry-run) */
static int finish(struct mig *g, int rc, const char *verb, const char *plan,
	const char *rel, size_t done)
{
	if (g->cli->json) {
		cli_print_json(json_pack("{s:s, s:s, s:O, s:b, s:s?}", "release",
			rel, "database", rip_migrate_where(g->db), "steps", g->steps,
			"ok", rc == 0, "error", rc ? g->err.msg : NULL));
	} else if (!rc && !g->cli->quiet) {
		fprintf(stderr, "ripcord: %s%s %zu migration%s on %s (release "
			"%s)\n", g->dry_run ? "would " : "", g->dry_run ? plan : verb,
			done, done == 1 ? "" : "s", rip_migrate_where(g->db), rel);
	}
	return rc ? cli_fail(&g->err, rc) : 0;
}

/* The structural fingerprint, as text, and its digest (--schema). */
static int schema_of(struct mig *g, struct rip_buf *text, char *digest)
{
	const struct rip_db_ops *ops = rip_migrate_ops(g->db);
	struct rip_fingerprint fp = { 0 };
	unsigned char d[RIP_SHA256_LEN];
	int rc;

	if (!ops->fingerprint)
		return rip_err_set(&g->err, RIP_EUSAGE, "the %s driver cannot "
			"read a schema (--schema needs sqlite or postgres)",
			ops->name);
	if ((rc = ops->fingerprint(rip_migrate_db(g->db), &fp,
			g->cfg->drill.strict, &g->err)) < 0)
		return rc;
	rip_fp_format(text, &fp);
	rip_fp_digest(d, &fp);
	rip_hex(digest, d, RIP_SHA256_LEN);
	rip_fp_release(&fp);
	return 0;
}

static void print_status(struct mig *g, const struct rip_mig_status *st,
	const char *rel, const char *schema, const char *digest)
{
	json_t *items = json_array();

	for (size_t i = 0; i < st->n; i++) {
		const struct rip_mig_status_item *it = &st->v[i];
		char when[32] = "-";

		if (it->applied_at)
			cli_format_time(when, sizeof(when), it->applied_at);
		if (g->cli->json)
			json_array_append_new(items, json_pack("{s:s, s:s, s:I, "
				"s:s, s:s, s:b, s:b, s:s}", "id", it->id, "state",
				rip_mig_state_name(it->state), "applied_at",
				(json_int_t)it->applied_at, "recorded", it->recorded,
				"expected", it->expected, "baseline", it->baseline,
				"irreversible", it->irreversible, "phase",
				it->contract ? "contract" : "expand"));
		else
			printf("%-8s %-16s %s%s%s%s\n",
				rip_mig_state_name(it->state), when, it->id,
				it->baseline ? " [baseline]" : "",
				it->irreversible ? " [irreversible]" : "",
				it->contract ? " [contract]" : "");
	}
	if (g->cli->json) {
		cli_print_json(json_pack("{s:s, s:s, s:o, s:b, s:s?, s:s?}",
			"release", rel, "database", rip_migrate_where(g->db),
			"migrations", items, "dirty", st->count[RIP_MIG_DIRTY] > 0,
			"schema_sha256", digest, "schema", schema));
		return;
	}
	json_decref(items);
	if (schema)
		printf("fingerprint %s\n%s", digest, schema);
	printf("%zu applied, %zu pending, %zu changed, %zu dirty, %zu not in "
		"release %s (%s)\n", st->count[RIP_MIG_APPLIED],
		st->count[RIP_MIG_PENDING], st->count[RIP_MIG_CHANGED],
		st->count[RIP_MIG_DIRTY], st->count[RIP_MIG_UNKNOWN], rel,
		rip_migrate_where(g->db));
	if (st->count[RIP_MIG_DIRTY])
		printf("a dirty level blocks every migration command: inspect the "
			"schema, then 'ripcord migrate mark ID applied|not-applied'\n");
}

static int do_status(struct mig *g, const char *id)
{
	struct rip_migrations rel = { 0 };
	struct rip_mig_status st = { 0 };
	struct rip_buf schema = RIP_BUF_INIT;
	char digest[RIP_SHA256_HEX] = "";
	char *rid = NULL;
	int rc;

	if ((rc = mig_setup(g, "migrate status", false)) < 0 ||
	    (rc = pick_release(g, id, &rid)) < 0 ||
	    (rc = load(g, rid, &rel)) < 0 ||
	    (rc = rip_migrate_open(&g->db, g->cfg, &g->err)) < 0 ||
	    (rc = rip_migrate_status(&st, g->db, &rel, &g->err)) < 0 ||
	    (g->schema && (rc = schema_of(g, &schema, digest)) < 0))
		goto done;
	print_status(g, &st, rid, g->schema ? schema.buf : NULL,
		g->schema ? digest : NULL);
done:
	rip_buf_release(&schema);
	rip_mig_status_release(&st);
	rip_migrations_release(&rel);
	free(rid);
	return rc < 0 ? cli_fail(&g->err, rc) : 0;
}

static int do_up(struct mig *g, const char *id)
{
	struct rip_migrate_opts o = { .dry_run = g->dry_run, .on_step = on_step,
		.data = g };
	struct rip_migrations rel = { 0 };
	char *rid = NULL;
	size_t done = 0;
	int rc;

	if ((rc = mig_setup(g, "migrate up", true)) < 0 ||
	    (rc = pick_release(g, id, &rid)) < 0 ||
	    (rc = load(g, rid, &rel)) < 0 ||
	    (rc = rip_migrate_open(&g->db, g->cfg, &g->err)) < 0) {
		rc = cli_fail(&g->err, rc);
		goto out;
	}
	rc = rip_migrate_up(g->db, &rel, &o, &done, &g->err);
	rc = finish(g, rc, "applied", "apply", rid, done);
out:
	rip_migrations_release(&rel);
	free(rid);
	return rc;
}

static int do_down(struct mig *g, const char *to)
{
	struct rip_migrate_opts o = { .dry_run = g->dry_run, .on_step = on_step,
		.data = g };
	struct rip_migrations keep = { 0 }, sources = { 0 };
	size_t done = 0;
	int rc;

	if (!to)
		return cli_usage("migrate", "down needs --to ID: the release whose "
			"schema to go back to");
	if ((rc = mig_setup(g, "migrate down", true)) < 0 ||
	    (rc = load(g, to, &keep)) < 0 ||
	    (rc = rip_release_all_migrations(&sources, g->store,
		    g->cfg->package.verify_key, NULL, NULL, &g->err)) < 0 ||
	    (rc = rip_migrate_open(&g->db, g->cfg, &g->err)) < 0) {
		rc = cli_fail(&g->err, rc);
		goto out;
	}
	rc = rip_migrate_down(g->db, &keep, &sources, &o, &done, &g->err);
	rc = finish(g, rc, "undid", "undo", to, done);
out:
	rip_migrations_release(&keep);
	rip_migrations_release(&sources);
	return rc;
}

/* --dry-run's and a refusal's account of the checks, and the ups. */
static void contract_print(struct mig *g, const struct rip_contract *c,
	int rc)
{
	json_t *checks = json_array(), *held = json_array(),
		*applied = json_array();

	for (size_t i = 0; i < 3; i++)
		json_array_append_new(checks, json_pack("{s:s, s:b, s:s}", "check",
			c->checks[i].name, "ok", c->checks[i].ok, "message",
			c->checks[i].message));
	for (size_t i = 0; i < c->held.n; i++)
		json_array_append_new(held, json_string(c->held.v[i]));
	for (size_t i = 0; i < c->applied.n; i++)
		json_array_append_new(applied, json_string(c->applied.v[i]));
	if (g->cli->json) {
		cli_print_json(json_pack("{s:s, s:b, s:b, s:o, s:o, s:o, s:I, "
			"s:I, s:b, s:s?}", "release", c->release, "dry_run",
			g->dry_run, "now", g->now, "held_back", held, "applied",
			applied, "checks", checks, "reached_at", (json_int_t)c->reached,
			"may_run_at", (json_int_t)c->may_at, "ok", rc == 0, "error",
			rc ? g->err.msg : NULL));
		return;
	}
	json_decref(checks);
	json_decref(held);
	json_decref(applied);
	if (!g->dry_run)
		return;
	printf("held back in %s:", c->release);
	for (size_t i = 0; i < c->held.n; i++)
		printf(" %s", c->held.v[i]);
	printf("%s\n", c->held.n ? "" : " nothing");
	for (size_t i = 0; i < 3; i++)
		printf("%-4s %-14s %s\n", c->checks[i].ok ? "ok" : "FAIL",
			c->checks[i].name, c->checks[i].message);
	printf("%s\n", !c->held.n ? "nothing to apply" : c->code ?
		"would be refused" : "would apply them");
}

/*
 * With --due, whether [rollout] auto_contract may apply c now: it is on,
 * the newest rollout is c's release and completed, and every check
 * passes. When not, *why says what waits (not an error: the periodic job
 * that runs --due finds nothing due).
 */
static int contract_due(bool *due, char **why, struct mig *g,
	const struct rip_contract *c)
{
	struct rip_rollout_rec ro = { 0 };
	struct rip_err refused = { 0 };
	int rc;

	*due = false;
	*why = NULL;
	if ((rc = rip_rollout_last(&ro, g->store->state, &g->err)) < 0)
		return rc;
	if (!ro.seq || strcmp(ro.release, c->release) ||
	    strcmp(ro.state, "completed"))
		*why = rip_xasprintf("%s did not complete a rollout (auto_contract "
			"follows a promotion): run 'ripcord migrate contract %s' "
			"yourself", c->release, c->release);
	else if (rip_contract_refusal(c, &refused) < 0)
		*why = rip_xstrdup(refused.msg);
	else
		*due = true;
	rip_rollout_rec_release(&ro);
	return 0;
}

/*
 * `migrate contract [ID]`: nothing held back is not an error; a refused
 * check changes nothing; under the store lock throughout. --due is the
 * periodic job's: it applies only what auto_contract may, and a contract
 * not due yet is said and exits 0.
 */
static int do_contract(struct mig *g, const char *id)
{
	struct rip_migrate_opts o = { .dry_run = g->dry_run, .on_step = on_step,
		.data = g };
	struct rip_contract c = { 0 };
	char *why = NULL;
	bool due;
	int rc;

	if (g->due && (id || g->now))
		return cli_usage("migrate", "contract --due applies the held-back "
			"contract of the release every target runs, once it is due: "
			"no ID, no --now");
	/* the periodic job runs it for every project: nothing to do is no
	 * failure of its */
	if (g->due) {
		const char *off;

		if ((rc = cli_load_config(g->cli, &g->cfg, &g->err)) < 0)
			return cli_fail(&g->err, rc);
		off = !g->cfg->rollout.auto_contract ? "[rollout] auto_contract "
			"is off: run 'ripcord migrate contract' yourself" :
			!g->cfg->migrations.dir ? "[migrations] dir is not set: no "
			"release carries migrations" : NULL;
		if (off) {
			if (!g->cli->quiet)
				fprintf(stderr, "ripcord: not due: %s\n", off);
			return 0;
		}
	}
	if ((rc = mig_setup(g, "migrate contract", !g->dry_run)) < 0 ||
	    (rc = rip_contract_plan(&c, g->cfg, g->store, id, g->now,
		    &g->err)) < 0)
		return cli_fail(&g->err, rc);
	cli_audit_move(g->cli, NULL, c.release);
	if (g->due && c.held.n) {
		if ((rc = contract_due(&due, &why, g, &c)) < 0) {
			rip_contract_release(&c);
			return cli_fail(&g->err, rc);
		}
		if (!due) {
			if (!g->cli->quiet)
				fprintf(stderr, "ripcord: not due: %s\n", why);
			free(why);
			contract_print(g, &c, 0);
			rip_contract_release(&c);
			return 0;
		}
	}
	if (!c.held.n) {
		if (!g->cli->quiet && !g->cli->json)
			printf("nothing held back: every contract migration of %s is "
				"applied\n", c.release);
	} else if (g->dry_run) {
		rc = rip_contract_refusal(&c, &g->err);
	} else if ((rc = rip_contract_refusal(&c, &g->err)) == 0) {
		rc = rip_contract_apply(&c, g->cfg, g->store, &o, &g->err);
	}
	if (rc == 0 && !g->dry_run && c.applied.n && !g->cli->json &&
	    !g->cli->quiet)
		printf("contract of %s: %zu migration%s applied\n", c.release,
			c.applied.n, c.applied.n == 1 ? "" : "s");
	contract_print(g, &c, rc);
	rip_contract_release(&c);
	return rc ? cli_fail(&g->err, rc) : 0;
}

/* An argument naming an artifact file rather than a release id. */
static bool looks_like_file(const char *arg)
{
	return strchr(arg, '/') || (rip_path_exists(arg) && !rip_is_dir(arg));
}

/*
 * What lint reads: release id of the store (the newest when NULL), or an
 * artifact file anywhere, which needs no store, no [migrations] and no
 * config at all (one that is there gives its verify_key).
 */
static int lint_load(struct mig *g, const char *id, char **rid,
	struct rip_migrations *rel)
{
	int rc;

	if (id && looks_like_file(id)) {
		rc = cli_load_config(g->cli, &g->cfg, &g->err);
		if (rc < 0 && rc != RIP_ENOTFOUND)
			return rc;
		rip_err_clear(&g->err);
		*rid = rip_xstrdup(id);
		return rip_file_migrations(rel, id, g->cfg ?
			g->cfg->package.verify_key : NULL, &g->err);
	}
	if ((rc = mig_setup(g, "migrate lint", false)) < 0 ||
	    (rc = pick_release(g, id, rid)) < 0)
		return rc;
	return load(g, *rid, rel);
}

/*
 * The phase rules; expand-contract-together against release rid's
 * parent: a FILE, and a release without a parent (the first one), have
 * none to compare with, and that rule is skipped.
 */
static int lint_phases(struct mig *g, struct rip_lint *lint, const char *rid,
	const struct rip_migrations *rel)
{
	struct rip_release_rec rec = { 0 };
	struct rip_migrations parent = { 0 };
	int rc = 0;

	if (looks_like_file(rid)) {
		rip_lint_phases(lint, rel, NULL);
		return 0;
	}
	if ((rc = rip_state_release_get(&rec, g->store->state, rid,
			&g->err)) < 0)
		return rc;
	if (rec.parent && (rc = load(g, rec.parent, &parent)) < 0)
		rip_err_prefix(&g->err, "parent release '%s' of %s", rec.parent,
			rid);
	else
		rip_lint_phases(lint, rel, rec.parent ? &parent : NULL);
	rip_migrations_release(&parent);
	rip_release_rec_release(&rec);
	return rc;
}

static int do_lint(struct mig *g, const char *id)
{
	struct rip_migrations rel = { 0 };
	struct rip_lint lint = { 0 };
	json_t *list = json_array();
	char *rid = NULL;
	int rc;

	g->lock.fd = -1;
	if ((rc = lint_load(g, id, &rid, &rel)) < 0) {
		rc = cli_fail(&g->err, rc);
		goto out;
	}
	rip_lint_run(&lint, &rel);
	if ((rc = lint_phases(g, &lint, rid, &rel)) < 0) {
		rc = cli_fail(&g->err, rc);
		goto out;
	}
	for (size_t i = 0; i < lint.n; i++) {
		const struct rip_lint_finding *f = &lint.v[i];

		if (g->cli->json)
			json_array_append_new(list, json_pack("{s:s, s:s?, s:i, "
				"s:s, s:s}", "migration", f->id, "file", f->file,
				"line", f->line, "rule", f->rule, "message",
				f->message));
		else
			printf("%s:%d: %s: %s\n", f->file ? f->file : f->id,
				f->line, f->rule, f->message);
	}
	if (g->cli->json)
		cli_print_json(json_incref(list));
	else if (!lint.n)
		printf("no findings in %zu migrations of %s%s\n", rel.n,
			looks_like_file(rid) ? "" : "release ", rid);
	rc = lint.n ? 1 : 0;
out:
	json_decref(list);
	rip_lint_release(&lint);
	rip_migrations_release(&rel);
	free(rid);
	return rc;
}

static int do_ack(struct mig *g, const char *mid, const char *id)
{
	struct rip_migrations rel = { 0 };
	char *rid = NULL;
	int rc;

	if ((rc = mig_setup(g, "migrate ack", true)) < 0 ||
	    (rc = pick_release(g, id, &rid)) < 0 ||
	    (rc = load(g, rid, &rel)) < 0 ||
	    (rc = rip_migrate_open(&g->db, g->cfg, &g->err)) < 0 ||
	    (rc = rip_migrate_ack(g->db, &rel, mid, &g->err)) < 0)
		rc = cli_fail(&g->err, rc);
	else if (!g->cli->quiet)
		fprintf(stderr, "ripcord: migration %s now carries the checksum "
			"of release %s in %s\n", mid, rid, rip_migrate_where(g->db));
	rip_migrations_release(&rel);
	free(rid);
	return rc;
}

static int do_mark(struct mig *g, const char *mid, const char *how)
{
	bool applied = !strcmp(how, "applied");
	int rc;

	if (!applied && strcmp(how, "not-applied"))
		return cli_usage("migrate", "mark takes 'applied' or "
			"'not-applied', not '%s'", how);
	if ((rc = mig_setup(g, "migrate mark", true)) < 0 ||
	    (rc = rip_migrate_open(&g->db, g->cfg, &g->err)) < 0 ||
	    (rc = rip_migrate_mark(g->db, mid, applied, &g->err)) < 0)
		return cli_fail(&g->err, rc);
	if (!g->cli->quiet)
		fprintf(stderr, "ripcord: migration %s marked %s in %s\n", mid,
			how, rip_migrate_where(g->db));
	return 0;
}

static const char usage[] =
	"usage: ripcord migrate status [ID] [--schema]\n"
	"       ripcord migrate up [ID] [--dry-run]\n"
	"       ripcord migrate down --to ID [--dry-run]\n"
	"       ripcord migrate contract [ID] [--dry-run] [--now] | --due\n"
	"       ripcord migrate lint [ID|FILE]\n"
	"       ripcord migrate ack MIGRATION [ID]\n"
	"       ripcord migrate mark MIGRATION applied|not-applied";

int cmd_migrate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "schema", no_argument, NULL, 's' },
		{ "now", no_argument, NULL, 'N' },
		{ "due", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mig g = { .cli = cli };
	const char *to = NULL, *sub, *a1, *a2;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'n': g.dry_run = true; break;
		case 's': g.schema = true; break;
		case 'N': g.now = true; break;
		case 'D': g.due = true; break;
		case 'j': cli->json = true; break;
		case 'h': puts(usage); return 0;
		default: return cli_usage("migrate", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("migrate", "expected a subcommand: status, up, "
			"down, contract, lint, ack or mark");
	sub = argv[optind];
	a1 = optind + 1 < argc ? argv[optind + 1] : NULL;
	a2 = optind + 2 < argc ? argv[optind + 2] : NULL;
	if (optind + 3 < argc)
		return cli_usage("migrate", "unexpected argument '%s'",
			argv[optind + 3]);
	g.steps = json_array();
	if (!strcmp(sub, "status") && !a2)
		rc = do_status(&g, a1);
	else if (!strcmp(sub, "up") && !a2)
		rc = do_up(&g, a1);
	else if (!strcmp(sub, "down") && !a1)
		rc = do_down(&g, to);
	else if (g.due && strcmp(sub, "contract"))
		rc = cli_usage("migrate", "--due goes with contract only");
	else if (!strcmp(sub, "contract") && !a2)
		rc = do_contract(&g, a1);
	else if (!strcmp(sub, "lint") && !a2)
		rc = do_lint(&g, a1);
	else if (!strcmp(sub, "ack") && a1)
		rc = do_ack(&g, a1, a2);
	else if (!strcmp(sub, "mark") && a1 && a2)
		rc = do_mark(&g, a1, a2);
	else
		rc = cli_usage("migrate", "unknown subcommand or arguments "
			"'%s'\n%s", sub, usage);
	mig_release(&g);
	return rc;
}
