/* SPDX-License-Identifier: MIT */
/*
 * deploy.c: the plan itself (its actions, its reports, its text) and the
 * deploy planner; deploy_rollback.c plans rollbacks, deploy_apply.c and
 * deploy_pass.c apply either.
 *
 * Planning reads and verifies, and never writes: a refused plan changes
 * nothing. A deploy runs its ups before the first switch (migrations are
 * backward compatible, DESIGN.md §5). Both planners read where every
 * target is the same way (rip_wheres_read) and lay out the same phases of
 * extracts, switches and activate hooks (rip_plan_moves): those live here
 * and are lent to the rollback planner through deploy_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/deploy.h"
#include "ripcord/journal.h"
#include "ripcord/log.h"
#include "ripcord/migrate.h"
#include "ripcord/release.h"
#include "ripcord/site.h"
#include "ripcord/target.h"
#include "deploy_internal.h"
#include "banned.h"

static const char *const kind_names[] = {
	"migrate up", "extract", "switch", "activate", "migrate down", "probe",
};

const char *rip_action_name(enum rip_action_kind kind)
{
	return kind_names[kind];
}

void rip_plan_release(struct rip_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].release);
		free(p->v[i].previous);
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		struct rip_target_report *r = &p->targets[i];

		free(r->from);
		free(r->to);
		free(r->activate);
		free(r->health);
		free(r->unreachable);
	}
	free(p->v);
	free(p->targets);
	free(p->release);
	rip_strlist_release(&p->ran);
	rip_strlist_release(&p->ups);
	rip_strlist_release(&p->held);
	free(p->held_note);
	rip_strlist_release(&p->undo);
	rip_migrations_release(&p->downs);
	rip_plan_schema_release(&p->schema);
	free(p->ahead);
	free(p->preempted);
	memset(p, 0, sizeof(*p));
}

void rip_plan_add(struct rip_plan *p, enum rip_action_kind kind,
	const struct rip_target *t, const char *release, const char *previous)
{
	struct rip_action *a;

	RIP_ALLOC_GROW(p->v, p->n + 1, p->alloc);
	a = &p->v[p->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->target = t;
	a->release = release ? rip_xstrdup(release) : NULL;
	a->previous = previous ? rip_xstrdup(previous) : NULL;
}

void rip_plan_format(struct rip_buf *out, const struct rip_plan *p)
{
	/* a host that could not be read: where it is comes from the journal,
	 * and its switch may stay pending */
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i].unreachable)
			rip_buf_addf(out, "%s: UNREACHABLE: %s; the journal last saw "
				"it on %s\n", p->targets[i].target->name,
				p->targets[i].unreachable, strcmp(p->targets[i].from, "-") ?
				p->targets[i].from : "nothing");
	for (size_t i = 0; i < p->n; i++) {
		const struct rip_action *a = &p->v[i];

		rip_buf_addf(out, "%-12s %-12s %s", kind_names[a->kind],
			a->target ? a->target->name : "(database)",
			a->release ? a->release : "");
		if (a->kind == RIP_ACT_SWITCH)
			rip_buf_addf(out, " (from %s)", a->previous ?
				a->previous : "nothing");
		rip_buf_addch(out, '\n');
	}
}

bool rip_plan_has_migrations(const struct rip_config *cfg)
{
	return cfg->migrations.dir && (cfg->migrations.database ||
		!strcmp(cfg->migrations.driver, "command"));
}

static struct rip_target_report *report_for(struct rip_plan *p,
	const struct rip_target *t, const char *from, const char *to)
{
	struct rip_target_report *r;

	p->targets = rip_xrealloc(p->targets,
		(p->ntargets + 1) * sizeof(*p->targets));
	r = &p->targets[p->ntargets++];
	memset(r, 0, sizeof(*r));
	r->target = t;
	r->from = rip_xstrdup(from ? from : "-");
	r->to = rip_xstrdup(to);
	r->activate = rip_xstrdup("-");
	r->health = rip_xstrdup("-");
	return r;
}

static bool selected(const struct rip_target *t, const char *const *only,
	size_t nonly)
{
	for (size_t i = 0; i < nonly; i++)
		if (!strcmp(only[i], t->name))
			return true;
	return !nonly;
}

int rip_plan_check_names(const struct rip_config *cfg,
	const char *const *only, size_t nonly, struct rip_err *err)
{
	for (size_t i = 0; i < nonly; i++) {
		bool found = false;

		for (size_t j = 0; j < cfg->n_targets && !found; j++)
			found = !strcmp(cfg->targets[j].name, only[i]);
		if (!found)
			return rip_err_set(err, RIP_EUSAGE, "no target '%s' in %s",
				only[i], cfg->path);
	}
	if (!cfg->n_targets)
		return rip_err_set(err, RIP_ECONFIG, "%s has no [target \"NAME\"] "
			"sections: nothing to deploy to", cfg->path);
	return 0;
}

/*
 * The database holds migrations release id does not carry (it is older
 * than the schema): worded by phase (rip_schema_ahead_warning), said
 * before anything acts, and kept in the plan for --json and the audit log.
 */
static void note_ahead(struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, const struct rip_mig_status *st,
	const struct rip_migrations *migs, const char *id)
{
	struct rip_strlist ahead = { 0 };

	for (size_t i = 0; i < st->n; i++)
		if (st->v[i].state == RIP_MIG_UNKNOWN)
			rip_strlist_push(&ahead, st->v[i].id);
	p->ahead = rip_schema_ahead_warning(cfg, store, id, migs->n ?
		migs->v[migs->n - 1].id : NULL, &ahead);
	rip_strlist_release(&ahead);
	rip_warn("%s", p->ahead);
}

/* "held back: 0007_drop_mail (contract): run 'ripcord migrate contract
 * v3' once v3 has proven itself", kept in the plan for the callers. */
static void note_held(struct rip_plan *p, const char *id)
{
	struct rip_buf b = RIP_BUF_INIT;

	rip_buf_adds(&b, "held back: ");
	for (size_t i = 0; i < p->held.n; i++)
		rip_buf_addf(&b, "%s%s", i ? ", " : "", p->held.v[i]);
	rip_buf_addf(&b, " (contract): run 'ripcord migrate contract %s' once "
		"%s has proven itself", id, id);
	p->held_note = rip_buf_detach(&b, NULL);
}

/* Pending expand ups of release on the configured database, as one
 * action; its pending contract ups are held back (p->held). */
static int plan_ups(struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, const struct rip_migrations *migs,
	const char *id, struct rip_err *err)
{
	struct rip_mig_status st;
	struct rip_migrate *m;
	int rc;

	if (!rip_plan_has_migrations(cfg))
		return 0;
	if ((rc = rip_migrate_open(&m, cfg, err)) < 0)
		return rc;
	rc = rip_migrate_status(&st, m, migs, err);
	rip_migrate_free(m);
	if (rc < 0)
		return rc;
	/* expand ups only: a contract up waits for `migrate contract`, and
	 * an expand up after it in the release is applied all the same */
	for (size_t i = 0; i < st.n; i++) {
		if (st.v[i].state != RIP_MIG_PENDING)
			continue;
		rip_strlist_push(st.v[i].contract ? &p->held : &p->ups,
			st.v[i].id);
	}
	p->migrations = p->ups.n;
	if (p->held.n)
		note_held(p, id);
	if (st.count[RIP_MIG_UNKNOWN])
		note_ahead(p, cfg, store, &st, migs, id);
	if (st.count[RIP_MIG_DIRTY] || st.count[RIP_MIG_CHANGED])
		rc = rip_err_set(err, RIP_EFAIL, "the database has a dirty or "
			"changed migration: see 'ripcord migrate status'");
	else if (p->migrations)
		rip_plan_add(p, RIP_ACT_MIGRATE_UP, NULL, id, NULL);
	rip_mig_status_release(&st);
	return rc;
}

void rip_wheres_release(struct rip_where *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rip_root_state_release(&w[i].root);
		rip_switch_release(&w[i].last);
		free(w[i].unreach);
	}
	free(w);
}

/* A target whose host cannot be reached stands where the journal last
 * saw it: the release of its newest completed switch. */
static int stand_in(struct rip_where *w, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_switches h;
	int rc;

	if ((rc = rip_journal_history(&h, store->state, w->t->name, 1,
			err)) < 0)
		return rc;
	if (h.n)
		w->root.current = rip_xstrdup(h.v[0].release);
	rip_switches_release(&h);
	return 0;
}

/*
 * Where every target of w[0..n) (their t set) is, remote roots read at
 * once, and its newest journal row. A deploy (must_be_ours) needs every
 * root: one that cannot be read, reached or is not ours stops the plan,
 * naming each such target. A rollback goes on without the hosts it
 * cannot reach (w->unreach): their switches are tried when it applies
 * (failing at once while their session is dead, see remote.h) and stay
 * pending when they fail.
 */
int rip_wheres_read(struct rip_where *w, size_t n,
	const struct rip_config *cfg, struct rip_store *store,
	bool must_be_ours, struct rip_err *err)
{
	struct rip_site *s = rip_xcalloc(n + 1, sizeof(*s));
	struct rip_buf bad = RIP_BUF_INIT;
	struct rip_fleet *fleet;
	size_t nbad = 0;
	int rc, code = 0;

	if ((rc = rip_sites_fleet(&fleet, cfg, store, err)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		s[i].target = w[i].t;
	rip_sites_read(s, n, fleet, must_be_ours);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (s[i].rc == RIP_EUNREACH && !must_be_ours) {
			w[i].unreach = rip_xstrdup(s[i].err.msg);
			rc = stand_in(&w[i], store, err);
		} else if (s[i].rc < 0) {
			code = code ? code : s[i].rc;
			rip_buf_addf(&bad, "%s%s", nbad++ ? "; " : "", s[i].err.msg);
			continue;
		} else {
			w[i].root = s[i].root;
			memset(&s[i].root, 0, sizeof(s[i].root));
		}
		if (rc == 0)
			rc = rip_journal_last(&w[i].last, store->state, w[i].t->name,
				err);
	}
	if (rc == 0 && nbad)
		rc = rip_err_set(err, code, "%s%s%s", nbad > 1 ? "targets cannot "
			"be read: " : "", bad.buf, code == RIP_EUNREACH ?
			"; nothing was changed" : "");
done:
	rip_sites_release(s, n);
	free(s);
	rip_buf_release(&bad);
	return rc;
}

/* A switched target whose activate hook never finished (the process died
 * in it) or failed: the hook runs again, on the journal row of that
 * switch, so repeating a deploy or rollback finishes it. */
static bool activate_owed(const struct rip_where *w, const char *dest)
{
	return w->t->activate && w->root.current &&
		!strcmp(w->root.current, dest) &&
		rip_switch_activate_unsettled(&w->last, w->root.current);
}

/* Every target in w[0..n) to dest[i] (NULL: leave it), phase by phase. */
void rip_plan_moves(struct rip_plan *p, struct rip_where *w, size_t n,
	char *const *dest)
{
	for (size_t i = 0; i < n; i++) {
		struct rip_target_report *r;

		if (!dest[i])
			continue;
		r = report_for(p, w[i].t, w[i].root.current, dest[i]);
		if (w[i].unreach) {
			r->unreachable = rip_xstrdup(w[i].unreach);
			r->failed = true;
		}
	}
	/* an unreachable host's releases are unknown: its switch is tried
	 * (a rollback's destination is nearly always warm), no transfer */
	for (size_t i = 0; i < n; i++)
		if (dest[i] && !w[i].unreach &&
		    !rip_strlist_has(&w[i].root.extracted, dest[i]))
			rip_plan_add(p, RIP_ACT_EXTRACT, w[i].t, dest[i], NULL);
	for (size_t i = 0; i < n; i++)
		if (dest[i] && (!w[i].root.current ||
				strcmp(w[i].root.current, dest[i])))
			rip_plan_add(p, RIP_ACT_SWITCH, w[i].t, dest[i], w[i].root.current);
	for (size_t i = 0; i < n; i++) {
		if (!dest[i] || !w[i].t->activate)
			continue;
		if (!w[i].root.current || strcmp(w[i].root.current, dest[i])) {
			rip_plan_add(p, RIP_ACT_ACTIVATE, w[i].t, dest[i], w[i].root.current);
		} else if (activate_owed(&w[i], dest[i])) {
			rip_plan_add(p, RIP_ACT_ACTIVATE, w[i].t, dest[i], w[i].last.previous);
			p->v[p->n - 1].seq = w[i].last.seq;
		}
	}
}

/*
 * Two phases: every extract (a host's transfer too) before the ups, so a
 * target that cannot be staged stops the deploy before it changed the
 * schema or any link. plan_ups put the ups first; they move to just
 * before the first switch, the order of everything else kept.
 */
static void stage_first(struct rip_plan *p)
{
	struct rip_action *v;
	size_t k = 0;

	if (!p->n)
		return;
	v = rip_xcalloc(p->n, sizeof(*v));
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].kind == RIP_ACT_EXTRACT)
			v[k++] = p->v[i];
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].kind == RIP_ACT_MIGRATE_UP)
			v[k++] = p->v[i];
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].kind != RIP_ACT_EXTRACT &&
		    p->v[i].kind != RIP_ACT_MIGRATE_UP)
			v[k++] = p->v[i];
	memcpy(p->v, v, p->n * sizeof(*v));
	free(v);
}

int rip_plan_deploy(struct rip_plan *out, const struct rip_config *cfg,
	struct rip_store *store, const char *id, const char *const *only,
	size_t nonly, struct rip_err *err)
{
	struct rip_migrations migs = { 0 };
	struct rip_where *w = rip_xcalloc(cfg->n_targets + 1, sizeof(*w));
	char **dest = rip_xcalloc(cfg->n_targets + 1, sizeof(*dest));
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->op = "deploy";
	out->release = rip_xstrdup(id);
	if ((rc = rip_plan_check_names(cfg, only, nonly, err)) < 0 ||
	    (rc = rip_release_migrations(&migs, store, id,
		    cfg->package.verify_key, err)) < 0 ||
	    (rc = plan_ups(out, cfg, store, &migs, id, err)) < 0)
		goto done;
	for (size_t i = 0; i < cfg->n_targets; i++) {
		if (!selected(&cfg->targets[i], only, nonly))
			continue;
		w[n].t = &cfg->targets[i];
		dest[n++] = (char *)id;
	}
	if ((rc = rip_wheres_read(w, n, cfg, store, true, err)) == 0) {
		rip_plan_moves(out, w, n, dest);
		stage_first(out);
	}
done:
	rip_wheres_release(w, n);
	free(dest);
	rip_migrations_release(&migs);
	if (rc < 0)
		rip_plan_release(out);
	return rc;
}

struct rip_target_report *rip_plan_find_report(struct rip_plan *p,
	const struct rip_target *t)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i].target == t)
			return &p->targets[i];
	return report_for(p, t, NULL, "-");
}
