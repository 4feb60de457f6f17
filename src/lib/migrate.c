/* SPDX-License-Identifier: MIT */
/*
 * migrate.c: the migration engine.
 *
 * The database's own ripcord_migrations table is the truth about its
 * schema level; releases only say what should be there. Every command
 * plans first and checks the whole plan (dirty levels, changed files,
 * irreversible or baseline migrations, missing downs) before the first
 * statement runs, so a refused command changes nothing. Downs run newest
 * first, in the reverse of the order the database recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ripcord/fsutil.h"
#include "ripcord/migrate.h"
#include "ripcord/log.h"
#include "banned.h"

struct rip_migrate {
	const struct rip_db_ops *ops;
	struct rip_db *db;
	char *where;
};

/*
 * The database as shown in messages and JSON: a password, in a URI
 * ("postgres://u:secret@h/db") or a conninfo ("password=secret"), is
 * replaced by "***" so it never reaches a log.
 */
static char *mask_password(const char *s)
{
	struct rip_buf b = RIP_BUF_INIT;
	const char *scheme = strstr(s, "://");
	const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
	const char *kw;

	if (at && colon && colon < at) {
		rip_buf_add(&b, s, (size_t)(colon - s) + 1);
		rip_buf_adds(&b, "***");
		rip_buf_adds(&b, at);
		return rip_buf_detach(&b, NULL);
	}
	kw = strstr(s, "password=");
	if (!kw)
		return rip_xstrdup(s);
	rip_buf_add(&b, s, (size_t)(kw - s) + 9);
	rip_buf_adds(&b, "***");
	kw += 9;
	if (*kw == '\'') {
		for (kw++; *kw && *kw != '\''; kw++)
			if (*kw == '\\' && kw[1])
				kw++;
		if (*kw)
			kw++;
	} else {
		kw += strcspn(kw, " \t");
	}
	rip_buf_adds(&b, kw);
	return rip_buf_detach(&b, NULL);
}

int rip_migrate_open(struct rip_migrate **out, const struct rip_config *cfg,
	struct rip_err *err)
{
	const struct rip_db_ops *ops = rip_db_find(cfg->migrations.driver);
	struct rip_db_target t = { 0 };
	char *database = NULL, *ledger = NULL;
	struct rip_migrate *m;
	int rc;

	*out = NULL;
	if (!ops)
		return rip_err_set(err, RIP_ECONFIG, "unknown migration driver "
			"'%s'", cfg->migrations.driver);
	if (cfg->migrations.database && ops == &rip_db_sqlite)
		database = rip_path_join(cfg->dir, cfg->migrations.database);
	else if (cfg->migrations.database)
		database = rip_xstrdup(cfg->migrations.database);
	ledger = rip_path_join(cfg->project.store, "migrations-ledger.db");
	t.database = database;
	t.apply = cfg->migrations.apply;
	t.ledger = ledger;
	t.timeout_ms = cfg->migrations.command_timeout_ms;
	if (ops == &rip_db_command && (rc = rip_mkdir_p(cfg->project.store,
			0755, err)) < 0)
		goto done;
	m = rip_xcalloc(1, sizeof(*m));
	m->ops = ops;
	if (ops == &rip_db_command) {
		m->where = rip_xasprintf("command ledger '%s'", ledger);
	} else {
		char *shown = mask_password(database ? database : "");

		m->where = rip_xasprintf("%s '%s'", ops->name, shown);
		free(shown);
	}
	if ((rc = ops->open(&m->db, &t, err)) < 0) {
		rip_migrate_free(m);
		goto done;
	}
	*out = m;
done:
	free(database);
	free(ledger);
	return rc;
}

void rip_migrate_free(struct rip_migrate *m)
{
	if (!m)
		return;
	if (m->db)
		m->ops->close(m->db);
	free(m->where);
	free(m);
}

const char *rip_migrate_where(const struct rip_migrate *m)
{
	return m->where;
}

const struct rip_db_ops *rip_migrate_ops(const struct rip_migrate *m)
{
	return m->ops;
}

struct rip_db *rip_migrate_db(struct rip_migrate *m)
{
	return m->db;
}

const char *rip_mig_state_name(enum rip_mig_state s)
{
	static const char *const names[] = {
		"applied", "pending", "changed", "dirty", "unknown",
	};

	return names[s];
}

static struct rip_mig_status_item *add_item(struct rip_mig_status *s,
	const char *id, enum rip_mig_state state)
{
	struct rip_mig_status_item *it;

	RIP_ALLOC_GROW(s->v, s->n + 1, s->alloc);
	it = &s->v[s->n++];
	memset(it, 0, sizeof(*it));
	it->id = rip_xstrdup(id);
	it->state = state;
	s->count[state]++;
	return it;
}

static const struct rip_applied *find_applied(
	const struct rip_applied_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].id, id))
			return &l->v[i];
	return NULL;
}

static void fill_status(struct rip_mig_status *out,
	const struct rip_applied_list *ap, const struct rip_migrations *rel)
{
	for (size_t i = 0; i < ap->n; i++) {
		const struct rip_applied *a = &ap->v[i];
		const struct rip_migration *g = rip_migrations_find(rel, a->id);
		char hex[RIP_SHA256_HEX] = "";
		enum rip_mig_state st = RIP_MIG_APPLIED;
		struct rip_mig_status_item *it;

		if (g)
			rip_hex(hex, g->checksum, RIP_SHA256_LEN);
		if (a->dirty)
			st = RIP_MIG_DIRTY;
		else if (!g)
			st = RIP_MIG_UNKNOWN;
		else if (strcmp(hex, a->checksum))
			st = RIP_MIG_CHANGED;
		it = add_item(out, a->id, st);
		it->applied_at = a->applied_at;
		snprintf(it->recorded, sizeof(it->recorded), "%s", a->checksum);
		snprintf(it->expected, sizeof(it->expected), "%s", hex);
		it->baseline = g && g->baseline;
		it->irreversible = g && g->irreversible;
		it->contract = g && g->contract;
	}
	for (size_t i = 0; i < rel->n; i++) {
		const struct rip_migration *g = &rel->v[i];
		struct rip_mig_status_item *it;

		if (find_applied(ap, g->id))
			continue;
		it = add_item(out, g->id, RIP_MIG_PENDING);
		rip_hex(it->expected, g->checksum, RIP_SHA256_LEN);
		it->baseline = g->baseline;
		it->irreversible = g->irreversible;
		it->contract = g->contract;
	}
}

int rip_migrate_status(struct rip_mig_status *out, struct rip_migrate *m,
	const struct rip_migrations *release, struct rip_err *err)
{
	struct rip_applied_list ap;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = m->ops->applied(m->db, &ap, err)) < 0)
		return rc;
	fill_status(out, &ap, release);
	rip_applied_list_release(&ap);
	return 0;
}

void rip_mig_status_release(struct rip_mig_status *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].id);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

bool rip_mig_phase_has(enum rip_mig_phase phase,
	const struct rip_migration *g)
{
	if (phase == RIP_PHASE_EXPAND)
		return !g->contract;
	if (phase == RIP_PHASE_CONTRACT)
		return g->contract;
	return true;
}

/* The refusal every command shares: a dirty level blocks everything. */
static int check_dirty(struct rip_migrate *m,
	const struct rip_applied_list *ap, struct rip_err *err)
{
	for (size_t i = 0; i < ap->n; i++) {
		if (!ap->v[i].dirty)
			continue;
		return rip_err_set(err, RIP_EFAIL, "migration '%s' is dirty in "
			"%s: it failed outside a transaction and may be half "
			"applied. Inspect the schema ('ripcord migrate status'), fix "
			"it by hand, then run 'ripcord migrate mark %s applied' (all "
			"of its changes are in) or 'ripcord migrate mark %s "
			"not-applied' (none are)", ap->v[i].id, m->where,
			ap->v[i].id, ap->v[i].id);
	}
	return 0;
}

static int step(struct rip_migrate *m, const struct rip_migration *g,
	enum rip_db_direction dir, const struct rip_migrate_opts *o,
	struct rip_err *err)
{
	double t0 = rip_monotonic();
	int rc = 0;

	if (o && o->on_step)
		o->on_step(o->data, g, dir, 1, 0);
	if (!(o && o->dry_run)) {
		/* the migration, its version and file first, then the
		 * database's own words (the driver's message) */
		if ((rc = m->ops->apply(m->db, g, dir, err)) < 0)
			rip_err_prefix(err, "%s of migration '%s' (version %s, %s) "
				"failed on %s", dir == RIP_DB_UP ? "up" : "down", g->id,
				g->version ? g->version : "?", dir == RIP_DB_UP ?
				g->up.file : g->down.file, m->where);
		if (!rc && dir == RIP_DB_UP && g->verify.text && m->ops->verify &&
		    (rc = m->ops->verify(m->db, g, err)) < 0)
			rip_err_prefix(err, "verify script of '%s' failed after "
				"its up was committed", g->id);
	}
	if (o && o->on_step)
		o->on_step(o->data, g, dir, rc, rip_monotonic() - t0);
	return rc;
}

int rip_migrate_up(struct rip_migrate *m,
	const struct rip_migrations *release,
	const struct rip_migrate_opts *o, size_t *done, struct rip_err *err)
{
	struct rip_applied_list ap;
	struct rip_mig_status st = { 0 };
	int rc;

	*done = 0;
	if ((rc = m->ops->applied(m->db, &ap, err)) < 0)
		return rc;
	if ((rc = check_dirty(m, &ap, err)) < 0)
		goto out;
	fill_status(&st, &ap, release);
	for (size_t i = 0; i < st.n; i++) {
		if (st.v[i].state != RIP_MIG_CHANGED)
			continue;
		rc = rip_err_set(err, RIP_EFAIL, "migration '%s' changed since it "
			"was applied to %s (recorded sha256 %.16s..., the release "
			"has %.16s...): restore the file, or accept the change with "
			"'ripcord migrate ack %s'", st.v[i].id, m->where,
			st.v[i].recorded, st.v[i].expected, st.v[i].id);
		goto out;
	}
	for (size_t i = 0; i < release->n; i++) {
		const struct rip_migration *g = &release->v[i];

		if (find_applied(&ap, g->id) || !rip_mig_phase_has(o ?
				o->phase : RIP_PHASE_ALL, g))
			continue;
		if (*done && o && o->stop && o->stop(o->data)) {
			rc = rip_err_set(err, RIP_EINTR, "stopped before migration "
				"'%s' (%zu applied before it)", g->id, *done);
			goto out;
		}
		if ((rc = step(m, g, RIP_DB_UP, o, err)) < 0)
			goto out;
		(*done)++;
	}
out:
	rip_mig_status_release(&st);
	rip_applied_list_release(&ap);
	return rc;
}

/* The down source for applied row a: the newest with its checksum, else
 * the newest at all. */
static const struct rip_migration *source_for(
	const struct rip_migrations *sources, const struct rip_applied *a)
{
	const struct rip_migration *any = NULL;

	for (size_t i = 0; i < sources->n; i++) {
		const struct rip_migration *g = &sources->v[i];
		char hex[RIP_SHA256_HEX];

		if (strcmp(g->id, a->id))
			continue;
		rip_hex(hex, g->checksum, RIP_SHA256_LEN);
		if (!strcmp(hex, a->checksum))
			return g;
		if (!any)
			any = g;
	}
	return any;
}

static int plan_down(struct rip_migrate *m, const struct rip_applied_list *ap,
	const struct rip_migrations *keep, const struct rip_migrations *sources,
	const struct rip_migration ***plan, size_t *n, struct rip_err *err)
{
	*plan = rip_xcalloc(ap->n + 1, sizeof(const struct rip_migration *));
	*n = 0;
	for (size_t i = ap->n; i-- > 0; ) {
		const struct rip_applied *a = &ap->v[i];
		const struct rip_migration *g;

		if (rip_migrations_find(keep, a->id))
			continue;
		g = source_for(sources, a);
		if (!g)
			return rip_err_set(err, RIP_EFAIL, "no release in the store "
				"carries migration '%s' (applied to %s), so its down is "
				"unknown; nothing was changed", a->id, m->where);
		if (g->baseline)
			return rip_err_set(err, RIP_EFAIL, "migration '%s' is part of "
				"the baseline: a rollback never goes below it; nothing "
				"was changed", a->id);
		if (g->irreversible || !g->down.text)
			return rip_err_set(err, RIP_EFAIL, "migration '%s' is "
				"irreversible (it has no down), so the schema cannot go "
				"back past it; nothing was changed", a->id);
		(*plan)[(*n)++] = g;
	}
	return 0;
}

int rip_migrate_down(struct rip_migrate *m,
	const struct rip_migrations *keep,
	const struct rip_migrations *sources,
	const struct rip_migrate_opts *o, size_t *done, struct rip_err *err)
{
	const struct rip_migration **plan = NULL;
	struct rip_applied_list ap;
	size_t n = 0;
	int rc;

	*done = 0;
	if ((rc = m->ops->applied(m->db, &ap, err)) < 0)
		return rc;
	if ((rc = check_dirty(m, &ap, err)) < 0 ||
	    (rc = plan_down(m, &ap, keep, sources, &plan, &n, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((rc = step(m, plan[i], RIP_DB_DOWN, o, err)) < 0)
			goto out;
		(*done)++;
	}
out:
	free(plan);
	rip_applied_list_release(&ap);
	return rc;
}

int rip_migrate_ack(struct rip_migrate *m,
	const struct rip_migrations *release, const char *id,
	struct rip_err *err)
{
	const struct rip_migration *g = rip_migrations_find(release, id);
	char hex[RIP_SHA256_HEX];

	if (!g)
		return rip_err_set(err, RIP_ENOTFOUND, "the release carries no "
			"migration '%s'", id);
	rip_hex(hex, g->checksum, RIP_SHA256_LEN);
	return m->ops->set_checksum(m->db, id, hex, err);
}

int rip_migrate_mark(struct rip_migrate *m, const char *id, bool applied,
	struct rip_err *err)
{
	return m->ops->clear_dirty(m->db, id, !applied, err);
}
