/* SPDX-License-Identifier: MIT */
/*
 * plan_schema.c: the schema side of aborts and rollbacks (plan_schema.h).
 * It owns the words an abort or a rollback says about the schema, what a
 * down of a contract migration cannot bring back, the refusal
 * of a lossy rollback, and how far a database is ahead of a release.
 * Every applied contract migration's down is lossy: a contract is the
 * step only the new release survives. Lint's parser only names what is
 * lost (what the up dropped, since the down re-creates it empty); when it
 * finds nothing (DELETE, UPDATE, a DO block, a command driver's file),
 * the loss is named by the migration. So whether a rollback is lossy
 * never depends on the parser, and agrees with status (schema_phase.c).
 * Read-only: it changes neither the database nor state.db.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/log.h"
#include "ripcord/migrate.h"
#include "ripcord/release.h"
#include "ripcord/plan_schema.h"
#include "json_internal.h"
#include "lint_internal.h"
#include "banned.h"

void rip_plan_schema_release(struct rip_plan_schema *s)
{
	if (!s)
		return;
	free(s->level);
	rip_strlist_release(&s->kept);
	for (size_t i = 0; i < s->nloss; i++) {
		free(s->loss[i].migration);
		free(s->loss[i].object);
		free(s->loss[i].why);
	}
	free(s->loss);
	memset(s, 0, sizeof(*s));
}

bool rip_schema_lossless(const struct rip_plan_schema *s)
{
	return s->keep || s->nloss == 0;
}

/* " users.mail (0007_drop_mail)", or " data changed by 0002_purge
 * (contract)" when the parser named nothing. */
static void add_object(struct rip_buf *out, const char *sep,
	const struct rip_data_loss *l)
{
	if (l->unnamed)
		rip_buf_addf(out, "%s %s", sep, l->object);
	else
		rip_buf_addf(out, "%s %s (%s)", sep, l->object, l->migration);
}

void rip_plan_schema_words(struct rip_buf *out,
	const struct rip_plan_schema *s)
{
	size_t expand = s->kept.n - s->kept_contract;

	if (!s->planned)
		return;
	if (s->keep && s->unknown) {
		rip_buf_adds(out, "lossless (schema kept as it is)");
		return;
	}
	if (s->keep && !s->level) {
		rip_buf_adds(out, "lossless (schema kept: no migration applied)");
		return;
	}
	if (s->keep) {
		rip_buf_addf(out, "lossless (schema kept at %s, ", s->level);
		if (!s->kept.n)
			rip_buf_adds(out, "no migration ahead)");
		else if (!s->kept_contract || !expand)
			rip_buf_addf(out, "%zu %s migration%s)", s->kept.n, expand ?
				"expand" : "contract", s->kept.n == 1 ? "" : "s");
		else
			rip_buf_addf(out, "%zu expand and %zu contract migration%s)",
				expand, s->kept_contract, s->kept.n == 1 ? "" : "s");
		/* an abort whose downs were refused (rollout.c) */
		for (size_t i = 0; i < s->nloss; i++)
			add_object(out, i ? "," : "; downs not run: they would lose",
				&s->loss[i]);
		return;
	}
	if (!s->nloss)           /* the downs run, listed by the caller */
		return;
	rip_buf_adds(out, "data lost:");
	for (size_t i = 0; i < s->nloss; i++)
		add_object(out, i ? "," : "", &s->loss[i]);
}

json_t *rip_plan_schema_json(const struct rip_plan_schema *s,
	const char *const *downs, size_t ndowns)
{
	json_t *kept = json_array(), *d = json_array(), *loss = json_array();

	for (size_t i = 0; i < s->kept.n; i++)
		json_array_append_new(kept, json_string(s->kept.v[i]));
	for (size_t i = 0; i < ndowns; i++)
		json_array_append_new(d, json_string(downs[i]));
	for (size_t i = 0; i < s->nloss; i++)
		json_array_append_new(loss, json_pack("{s:s, s:s, s:s}",
			"migration", s->loss[i].migration, "object",
			s->loss[i].object, "why", s->loss[i].why));
	return json_pack("{s:s, s:b, s:s?, s:o, s:I, s:b, s:o, s:o, s:b}",
		"mode", s->keep ? "keep" : "down", "lossless",
		rip_schema_lossless(s), "level", s->level, "kept", kept,
		"kept_contract", (json_int_t)s->kept_contract, "kept_unknown",
		s->unknown, "downs", d, "data_loss", loss, "accept_data_loss",
		s->accept_data_loss);
}

static void add_loss(struct rip_plan_schema *s, const char *mig,
	char *object, char *why)
{
	struct rip_data_loss *l;

	s->loss = rip_xrealloc(s->loss, (s->nloss + 1) * sizeof(*s->loss));
	l = &s->loss[s->nloss++];
	l->migration = rip_xstrdup(mig);
	l->object = object;
	l->why = why;
	l->unnamed = false;
	l->dropped = false;
}

/* Whether the table dropped at acts->v[i] is renamed back later: a SQLite
 * rebuild (new_x, copy, drop x, rename new_x to x) of the table. */
static bool rebuilt(const struct rip_lint_actions *acts, size_t i)
{
	for (size_t j = i + 1; j < acts->n; j++)
		if (acts->v[j].kind == RIP_ACT_RENAME_TABLE && acts->v[j].to &&
		    acts->v[i].table && !strcmp(acts->v[j].to, acts->v[i].table))
			return true;
	return false;
}

/* The rows a contract's DELETE, TRUNCATE or UPDATE ... SET col = NULL
 * removed: no down re-inserts them. */
static void note_rows(struct rip_plan_schema *s, const struct rip_migration *m,
	const struct rip_lint_action *a)
{
	if (a->write == RIP_WRITE_DELETE || a->write == RIP_WRITE_TRUNCATE)
		add_loss(s, m->id, rip_xstrdup(a->table), rip_xasprintf("%s "
			"(contract) %s its rows and its down does not bring them "
			"back", m->id, a->write == RIP_WRITE_DELETE ? "deleted" :
			"truncated"));
	else if (a->write == RIP_WRITE_SET_NULL)
		add_loss(s, m->id, rip_xasprintf("%s.%s", a->table, a->column),
			rip_xasprintf("%s (contract) set it to NULL and its down does "
			"not bring the values back", m->id));
}

void rip_schema_note_contract(struct rip_plan_schema *s,
	const struct rip_migration *m)
{
	struct rip_lint_actions up = { 0 }, down = { 0 };
	size_t before = s->nloss;

	if (!m->contract)
		return;
	rip_lint_parse(&up, &m->up);
	rip_lint_parse(&down, &m->down);
	rip_lint_pair_types(&up, &down);
	for (size_t i = 0; i < up.n; i++) {
		const struct rip_lint_action *a = &up.v[i];

		if (a->kind == RIP_ACT_DROP_COLUMN) {
			add_loss(s, m->id, rip_xasprintf("%s.%s", a->table, a->column),
				rip_xasprintf("its data was dropped by %s (contract) and "
				"the down only re-creates the column empty", m->id));
			s->loss[s->nloss - 1].dropped = true;
		}
		else if (a->kind == RIP_ACT_DROP_TABLE && rebuilt(&up, i))
			add_loss(s, m->id, rip_xstrdup(a->table), rip_xasprintf("%s "
				"(contract) rebuilt the table: the columns it left out "
				"lost their data and the down re-creates them empty",
				m->id));
		else if (a->kind == RIP_ACT_DROP_TABLE) {
			add_loss(s, m->id, rip_xstrdup(a->table), rip_xasprintf("its "
				"rows were dropped by %s (contract) and the down only "
				"re-creates the table empty", m->id));
			s->loss[s->nloss - 1].dropped = true;
		}
		else if (a->kind == RIP_ACT_TYPE_COLUMN && !(a->from_type &&
			 a->type && rip_lint_widens(a->from_type, a->type)))
			add_loss(s, m->id, rip_xasprintf("%s.%s", a->table, a->column),
				rip_xasprintf("%s (contract) changed its type: values the "
				"new type could not hold are gone", m->id));
		else if (a->kind == RIP_ACT_WRITE)
			note_rows(s, m, a);
	}
	rip_lint_actions_release(&up);
	rip_lint_actions_release(&down);
	/* a contract is the step only the new release survives, whatever it
	 * does (DELETE, UPDATE, a DO block, a command): lossy all the same */
	if (s->nloss == before) {
		add_loss(s, m->id, rip_xasprintf("data changed by %s (contract)",
			m->id), rip_xstrdup("its down cannot bring it back"));
		s->loss[s->nloss - 1].unnamed = true;
	}
}

int rip_schema_refuse_loss(const struct rip_plan_schema *s, const char *op,
	const char *release, bool accept, struct rip_err *err)
{
	struct rip_buf b = RIP_BUF_INIT;
	struct rip_strlist migs = { 0 };
	int rc;

	if (accept || rip_schema_lossless(s))
		return 0;
	for (size_t i = 0; i < s->nloss; i++) {
		rip_buf_addf(&b, "%s%s: %s", i ? "; " : "", s->loss[i].object,
			s->loss[i].why);
		if (!rip_strlist_has(&migs, s->loss[i].migration))
			rip_strlist_push(&migs, s->loss[i].migration);
	}
	rc = rip_err_set(err, RIP_EFAIL, "refusing the %s to %s: its downs "
		"undo %zu contract migration%s that ran and cannot bring the data "
		"back (%s); nothing was changed: pass --accept-data-loss to run "
		"it anyway, or --keep-schema to put the code back and keep the "
		"schema", op, release, migs.n, migs.n == 1 ? "" : "s", b.buf);
	rip_strlist_release(&migs);
	rip_buf_release(&b);
	return rc;
}

void rip_schema_ahead_release(struct rip_schema_ahead *a)
{
	if (!a)
		return;
	free(a->level);
	rip_strlist_release(&a->ids);
	rip_strlist_release(&a->contract);
	memset(a, 0, sizeof(*a));
}

struct seen {
	const struct rip_strlist *ids;
	struct rip_strlist found;
};

/* rip_sources_enough_fn: true once every id of ids has been read. */
static bool seen_all(void *data, const struct rip_migration *g)
{
	struct seen *sn = data;

	if (rip_strlist_has(sn->ids, g->id) &&
	    !rip_strlist_has(&sn->found, g->id))
		rip_strlist_push(&sn->found, g->id);
	return sn->found.n == sn->ids->n;
}

int rip_schema_newest(struct rip_migrations *out,
	const struct rip_config *cfg, struct rip_store *store,
	const struct rip_strlist *ids, struct rip_err *err)
{
	struct seen sn = { ids, { 0 } };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!ids->n)
		return 0;
	rc = rip_release_all_migrations(out, store, cfg->package.verify_key,
		seen_all, &sn, err);
	rip_strlist_release(&sn.found);
	if (rc < 0)
		rip_migrations_release(out);
	return rc;
}

/* Marks the contract ones of a->ids from the store's releases, read
 * newest first and only as far as needed. */
static int mark_contract(struct rip_schema_ahead *a,
	const struct rip_config *cfg, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_migrations all = { 0 };
	struct rip_strlist done = { 0 };
	int rc;

	if ((rc = rip_schema_newest(&all, cfg, store, &a->ids, err)) < 0)
		goto done;
	/* newest release first: the first copy of an id is its newest */
	for (size_t i = 0; i < all.n; i++) {
		const struct rip_migration *g = &all.v[i];

		if (!rip_strlist_has(&a->ids, g->id) ||
		    rip_strlist_has(&done, g->id))
			continue;
		rip_strlist_push(&done, g->id);
		if (g->contract)
			rip_strlist_push(&a->contract, g->id);
	}
done:
	rip_strlist_release(&done);
	rip_migrations_release(&all);
	return rc;
}

int rip_schema_ahead(struct rip_schema_ahead *out,
	const struct rip_config *cfg, struct rip_store *store,
	const char *release, struct rip_err *err)
{
	struct rip_migrations carried = { 0 };
	struct rip_mig_status st = { 0 };
	struct rip_migrate *m = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!cfg->migrations.dir || (!cfg->migrations.database &&
	    strcmp(cfg->migrations.driver, "command")))
		return 0;
	if ((rc = rip_release_migrations(&carried, store, release,
			cfg->package.verify_key, err)) < 0 ||
	    (rc = rip_migrate_open(&m, cfg, err)) < 0 ||
	    (rc = rip_migrate_status(&st, m, &carried, err)) < 0)
		goto done;
	for (size_t i = 0; i < st.n; i++) {
		if (st.v[i].state == RIP_MIG_PENDING)
			continue;
		free(out->level);
		out->level = rip_xstrdup(st.v[i].id);
		if (!rip_migrations_find(&carried, st.v[i].id))
			rip_strlist_push(&out->ids, st.v[i].id);
	}
	if (out->ids.n)
		rc = mark_contract(out, cfg, store, err);
done:
	rip_mig_status_release(&st);
	rip_migrate_free(m);
	rip_migrations_release(&carried);
	if (rc < 0)
		rip_schema_ahead_release(out);
	return rc;
}

/* "r1's code will run on a schema without what 0002_purge (contract)
 * dropped (users.mail); its down re-creates it empty", from what the
 * contract migration g's up did. */
static void contract_ahead(struct rip_buf *out, const struct rip_migration *g,
	const char *id)
{
	struct rip_plan_schema s = { 0 };
	bool dropped = true;

	rip_schema_note_contract(&s, g);
	for (size_t i = 0; i < s.nloss; i++)
		dropped = dropped && s.loss[i].dropped;
	if (s.nloss && s.loss[0].unnamed)
		rip_buf_addf(out, "%s's code will run on a schema %s (contract) "
			"changed; its down cannot bring the data back", id, g->id);
	else
		rip_buf_addf(out, "%s's code will run on a schema without what "
			"%s (contract) %s (", id, g->id, dropped ? "dropped" :
			"dropped or changed");
	for (size_t i = 0; !(s.nloss && s.loss[0].unnamed) && i < s.nloss; i++)
		rip_buf_addf(out, "%s%s", i ? ", " : "", s.loss[i].object);
	if (!(s.nloss && s.loss[0].unnamed))
		rip_buf_addf(out, "); its down %s", dropped ? (s.nloss == 1 ?
			"re-creates it empty" : "re-creates them empty") :
			"cannot bring the data back");
	rip_plan_schema_release(&s);
}

char *rip_schema_ahead_warning(const struct rip_config *cfg,
	struct rip_store *store, const char *id, const char *last,
	const struct rip_strlist *ahead)
{
	struct rip_buf b = RIP_BUF_INIT, names = RIP_BUF_INIT;
	struct rip_migrations all = { 0 };
	struct rip_err why = { 0 };
	size_t parts = 0;

	/* what cannot be read (a lost verify_key) counts as expand */
	if (rip_schema_newest(&all, cfg, store, ahead, &why) < 0)
		rip_info("cannot say which migrations the schema is ahead of %s "
			"by are contract: %s", id, why.msg);
	rip_buf_addf(&b, "schema is at %s, %s carries up to %s: ",
		ahead->v[ahead->n - 1], id, last ? last : "no migration");
	for (size_t i = 0; i < ahead->n; i++) {
		const struct rip_migration *g = rip_migrations_find(&all,
			ahead->v[i]);

		if (g && g->contract) {
			rip_buf_adds(&b, parts++ ? "; " : "");
			contract_ahead(&b, g, id);
		} else {
			rip_buf_addf(&names, "%s%s", names.len ? ", " : "",
				ahead->v[i]);
		}
	}
	if (names.len)
		rip_buf_addf(&b, "%sthe running code will see %s's columns; "
			"'ripcord migrate down --to %s' would drop them (%s)", parts ?
			"; " : "", names.buf, id, names.buf);
	rip_buf_release(&names);
	rip_migrations_release(&all);
	return rip_buf_detach(&b, NULL);
}
