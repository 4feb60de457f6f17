/* SPDX-License-Identifier: MIT */
/*
 * schema_phase.c: the schema's phase against a running release
 * (schema_phase.h), for every view that shows it.
 *
 * The database is the truth: rip_migrate_status of the running release's
 * migrations gives each one applied or pending with its applied_at, and
 * the applied ones the release does not carry (state "unknown") are what
 * the schema is ahead by. Whether an ahead migration is contract is read
 * from the newest release of the store that carries it, and only when
 * there is one (the common case has none, and reads no other artifact).
 *
 * A view: the releases' migrations are read as views read them
 * (rip_release_view_migrations), from what state.db keeps of each release
 * since its cut, not from the artifacts; nothing here runs or applies a
 * migration, and nothing that does may read them this way.
 *
 * Tuned for status at 3 a.m.: no artifact read (but of a release cut
 * before state.db kept its migrations, once), one read of the migration
 * table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/fsutil.h"
#include "ripcord/migrate.h"
#include "ripcord/release.h"
#include "ripcord/schema_phase.h"
#include "ripcord/state.h"
#include "json_internal.h"
#include "banned.h"

void rip_schema_phase_release(struct rip_schema_phase *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].id);
	for (size_t i = 0; i < p->nahead; i++)
		free(p->ahead[i].id);
	free(p->v);
	free(p->ahead);
	free(p->release);
	free(p->previous);
	rip_strlist_release(&p->lossy);
	memset(p, 0, sizeof(*p));
}

void rip_schema_phase_age(char *out, size_t size, int64_t t, int64_t now)
{
	int64_t s = now > t ? now - t : 0;

	if (s < 60)
		snprintf(out, size, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, size, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(out, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, size, "%lldd", (long long)(s / 86400));
}

/* Whether the database can be read without creating it: a SQLite file
 * that is not there yet holds nothing. */
static bool database_there(const struct rip_config *cfg)
{
	char *path;
	bool there;

	if (!cfg->migrations.dir)
		return false;
	if (strcmp(cfg->migrations.driver, "sqlite"))
		return true;
	if (!cfg->migrations.database)
		return false;
	path = rip_path_join(cfg->dir, cfg->migrations.database);
	there = rip_path_exists(path);
	free(path);
	return there;
}

/* The phase of each ahead migration, from the newest release carrying it;
 * one the store has no release for counts as expand. */
static int ahead_phases(struct rip_schema_phase *p,
	const struct rip_config *cfg, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_migrations all = { 0 };
	struct rip_strlist ids = { 0 };
	int rc;

	if (!p->nahead)
		return 0;
	for (size_t i = 0; i < p->nahead; i++)
		rip_strlist_push(&ids, p->ahead[i].id);
	rc = rip_release_view_newest(&all, store, cfg->package.verify_key,
		&ids, err);
	rip_strlist_release(&ids);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < p->nahead; i++) {
		const struct rip_migration *g = rip_migrations_find(&all,
			p->ahead[i].id);

		p->ahead[i].contract = g && g->contract;
	}
	rip_migrations_release(&all);
	return 0;
}

/* Fills p's items and counts from the database's status. */
static void fill(struct rip_schema_phase *p, const struct rip_mig_status *s,
	const struct rip_migrations *prev)
{
	p->v = rip_xcalloc(s->n + 1, sizeof(*p->v));
	p->ahead = rip_xcalloc(s->n + 1, sizeof(*p->ahead));
	for (size_t i = 0; i < s->n; i++) {
		const struct rip_mig_status_item *it = &s->v[i];
		bool applied = it->state != RIP_MIG_PENDING;
		struct rip_schema_phase_item *x = it->state == RIP_MIG_UNKNOWN ?
			&p->ahead[p->nahead++] : &p->v[p->n++];

		x->id = rip_xstrdup(it->id);
		x->contract = it->contract;
		x->applied = applied;
		x->applied_at = applied ? it->applied_at : 0;
		x->previous = prev && rip_migrations_find(prev, it->id);
		if (it->state == RIP_MIG_UNKNOWN)
			continue;
		if (x->contract && applied) {
			p->contract_applied++;
			if (x->applied_at > p->contract_since)
				p->contract_since = x->applied_at;
		} else if (x->contract) {
			p->contract_pending++;
		} else if (applied) {
			p->expand_applied++;
		} else {
			p->expand_pending++;
		}
	}
}

/* The applied contract migrations a rollback to previous would undo. */
static void find_lossy(struct rip_schema_phase *p)
{
	if (!p->previous)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].contract && p->v[i].applied && !p->v[i].previous)
			rip_strlist_push(&p->lossy, p->v[i].id);
	for (size_t i = 0; i < p->nahead; i++)
		if (p->ahead[i].contract && !p->ahead[i].previous)
			rip_strlist_push(&p->lossy, p->ahead[i].id);
}

/* The migrations of previous (none when NULL). One gone from the store
 * carries none: every applied contract counts as lossy, as a rollback to
 * it cannot bring anything back. */
static int previous_migrations(struct rip_migrations *out,
	const struct rip_config *cfg, struct rip_store *store,
	const char *previous, struct rip_err *err)
{
	struct rip_release_rec rec;
	struct rip_err gone = { 0 };

	if (!previous)
		return 0;
	if (rip_state_release_get(&rec, store->state, previous, &gone) < 0)
		return 0;
	rip_release_rec_release(&rec);
	return rip_release_view_migrations(out, store, previous,
		cfg->package.verify_key, err);
}

int rip_schema_phase(struct rip_schema_phase *out,
	const struct rip_config *cfg, struct rip_store *store,
	const char *running, const char *previous, struct rip_err *err)
{
	struct rip_migrations mine = { 0 }, prev = { 0 };
	struct rip_mig_status s = { 0 };
	struct rip_migrate *m = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->release = rip_xstrdup(running);
	out->previous = previous ? rip_xstrdup(previous) : NULL;
	out->keep = cfg->rollback.schema && !strcmp(cfg->rollback.schema,
		"keep");
	out->lossless = true;
	out->compatible = true;
	if (!database_there(cfg))
		return 0;
	if ((rc = rip_release_view_migrations(&mine, store, running,
			cfg->package.verify_key, err)) < 0 ||
	    (rc = previous_migrations(&prev, cfg, store, previous, err)) < 0 ||
	    (rc = rip_migrate_open(&m, cfg, err)) < 0 ||
	    (rc = rip_migrate_status(&s, m, &mine, err)) < 0)
		goto done;
	fill(out, &s, previous ? &prev : NULL);
	if ((rc = ahead_phases(out, cfg, store, err)) < 0)
		goto done;
	out->known = true;
	find_lossy(out);
	/* keep runs no down: nothing is lost, but the code may break */
	out->lossless = out->keep || out->lossy.n == 0;
	out->compatible = !out->keep || out->lossy.n == 0;
done:
	if (rc < 0)
		rip_err_prefix(err, "cannot read the schema phase of %s", running);
	rip_mig_status_release(&s);
	rip_migrate_free(m);
	rip_migrations_release(&mine);
	rip_migrations_release(&prev);
	return rc;
}

char *rip_schema_phase_text(const struct rip_schema_phase *p, int64_t now)
{
	struct rip_buf b = RIP_BUF_INIT;
	char age[32];

	if (!p->known)
		return rip_xstrdup("-");
	if (p->expand_pending)
		rip_buf_addf(&b, "%zu expand (%zu pending)", p->expand_applied +
			p->expand_pending, p->expand_pending);
	else if (p->expand_applied)
		rip_buf_addf(&b, "%zu expand applied", p->expand_applied);
	if (p->contract_applied) {
		rip_schema_phase_age(age, sizeof(age), p->contract_since, now);
		rip_buf_addf(&b, "%s%zu contract applied %s ago", b.len ? ", " :
			"", p->contract_applied, age);
	}
	if (p->contract_pending)
		rip_buf_addf(&b, "%s%zu contract pending", b.len ? ", " : "",
			p->contract_pending);
	if (!b.len)
		rip_buf_adds(&b, "no migrations");
	for (size_t i = 0; i < p->nahead; i++)
		rip_buf_addf(&b, "%s%s", i ? ", " : "; ahead by ", p->ahead[i].id);
	return rip_buf_detach(&b, NULL);
}

char *rip_schema_phase_rollback_text(const struct rip_schema_phase *p,
	int64_t now)
{
	struct rip_buf b = RIP_BUF_INIT;
	char age[32];

	if (!p->known || !p->previous)
		return rip_xstrdup(!p->previous ? "-" : "lossless");
	if (p->keep && p->lossy.n) {
		rip_buf_addf(&b, "lossless (schema kept), but %s's code runs on a "
			"schema without what ", p->previous);
		for (size_t i = 0; i < p->lossy.n; i++)
			rip_buf_addf(&b, "%s%s", i ? ", " : "", p->lossy.v[i]);
		rip_buf_adds(&b, " (contract) dropped");
		return rip_buf_detach(&b, NULL);
	}
	if (p->lossless)
		return rip_xstrdup("lossless");
	rip_buf_adds(&b, "LOSSY (");
	for (size_t i = 0; i < p->lossy.n; i++) {
		int64_t at = 0;

		for (size_t j = 0; j < p->n; j++)
			if (!strcmp(p->v[j].id, p->lossy.v[i]))
				at = p->v[j].applied_at;
		for (size_t j = 0; j < p->nahead; j++)
			if (!strcmp(p->ahead[j].id, p->lossy.v[i]))
				at = p->ahead[j].applied_at;
		rip_schema_phase_age(age, sizeof(age), at, now);
		rip_buf_addf(&b, "%s%s applied %s ago", i ? ", " : "",
			p->lossy.v[i], age);
	}
	rip_buf_adds(&b, ")");
	return rip_buf_detach(&b, NULL);
}

static json_t *items_json(const struct rip_schema_phase_item *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:o}",
			"migration", v[i].id, "phase", v[i].contract ? "contract" :
			"expand", "applied", v[i].applied, "applied_at",
			v[i].applied ? json_integer((json_int_t)v[i].applied_at) :
			json_null()));
	return a;
}

json_t *rip_schema_phase_json(const struct rip_schema_phase *p)
{
	json_t *lossy = json_array();

	for (size_t i = 0; i < p->lossy.n; i++)
		json_array_append_new(lossy, json_string(p->lossy.v[i]));
	return json_pack("{s:s, s:s?, s:b, s:o, s:I, s:I, s:I, s:I, s:o, s:o, "
		"s:b, s:o, s:s, s:b}", "release", p->release, "previous", p->previous, "known",
		p->known, "migrations", items_json(p->v, p->n), "expand_applied",
		(json_int_t)p->expand_applied, "expand_pending",
		(json_int_t)p->expand_pending, "contract_applied",
		(json_int_t)p->contract_applied, "contract_pending",
		(json_int_t)p->contract_pending, "contract_since",
		p->contract_since ? json_integer((json_int_t)p->contract_since) :
		json_null(), "ahead", items_json(p->ahead, p->nahead), "lossless",
		p->lossless, "lossy", lossy, "rollback_schema", p->keep ? "keep" :
		"down", "rollback_compatible", p->compatible);
}
