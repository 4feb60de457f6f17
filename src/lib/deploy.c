/* SPDX-License-Identifier: MIT */
/*
 * deploy.c: the planners for deploy and rollback, and the one applier.
 *
 * Planning reads and verifies, and never writes: a refused plan changes
 * nothing. Applying follows DESIGN.md §5's order: a deploy runs its ups
 * before the first switch (migrations are backward compatible), a rollback
 * switches every target back first, then runs the downs, and ends with a
 * probe of every target, so it never only looks done. A failed hook or
 * probe does not stop a rollback halfway: it is reported per target.
 *
 * A deploy may be preempted by a rollback (rip_lock_stop_request): it
 * stops only where the targets are whole, between the phases, between
 * two ups (each its own transaction) and between hooks, never inside the
 * pass of switches; a local hook running then is ended rather than waited
 * for, so the 3 a.m. rollback never waits out a hook_timeout.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ripcord/deploy.h"
#include "ripcord/extract.h"
#include "ripcord/fsutil.h"
#include "ripcord/hook.h"
#include "ripcord/journal.h"
#include "ripcord/log.h"
#include "ripcord/migrate.h"
#include "ripcord/probe.h"
#include "ripcord/release.h"
#include "ripcord/site.h"
#include "ripcord/target.h"
#include "banned.h"

/* switches of a target read back to find its rollback target, at most */
#define RIP_ROLLBACK_LOOKBACK 256

/* activate hooks running at once, at most */
#define RIP_HOOKS_AT_ONCE 8

/* how often a preemptible deploy looks for a request while hooks run */
#define RIP_PREEMPT_POLL_MS 100

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

static void add(struct rip_plan *p, enum rip_action_kind kind,
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

static bool has_migrations(const struct rip_config *cfg)
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

static int check_names(const struct rip_config *cfg,
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

	if (!has_migrations(cfg))
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
		add(p, RIP_ACT_MIGRATE_UP, NULL, id, NULL);
	rip_mig_status_release(&st);
	return rc;
}

/*
 * Where each target is, read once from its current link (the truth), and
 * what the journal's newest row for it says. Planning is phase by phase
 * over these: every extract, then every switch (so targets change at
 * once), then every activate hook.
 */
struct where {
	const struct rip_target *t;
	struct rip_root_state root;
	struct rip_switch last;   /* newest journal row; seq 0: none */
	char *unreach;            /* its host could not be reached: why;
				     root.current is then where the journal
				     last saw it, and root.extracted unknown */
};

static void wheres_release(struct where *w, size_t n)
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
static int stand_in(struct where *w, struct rip_store *store,
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
static int read_wheres(struct where *w, size_t n,
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
static bool activate_owed(const struct where *w, const char *dest)
{
	return w->t->activate && w->root.current &&
		!strcmp(w->root.current, dest) &&
		rip_switch_activate_unsettled(&w->last, w->root.current);
}

/* Every target in w[0..n) to dest[i] (NULL: leave it), phase by phase. */
static void plan_moves(struct rip_plan *p, struct where *w, size_t n,
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
			add(p, RIP_ACT_EXTRACT, w[i].t, dest[i], NULL);
	for (size_t i = 0; i < n; i++)
		if (dest[i] && (!w[i].root.current ||
				strcmp(w[i].root.current, dest[i])))
			add(p, RIP_ACT_SWITCH, w[i].t, dest[i], w[i].root.current);
	for (size_t i = 0; i < n; i++) {
		if (!dest[i] || !w[i].t->activate)
			continue;
		if (!w[i].root.current || strcmp(w[i].root.current, dest[i])) {
			add(p, RIP_ACT_ACTIVATE, w[i].t, dest[i], w[i].root.current);
		} else if (activate_owed(&w[i], dest[i])) {
			add(p, RIP_ACT_ACTIVATE, w[i].t, dest[i], w[i].last.previous);
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
	struct where *w = rip_xcalloc(cfg->n_targets + 1, sizeof(*w));
	char **dest = rip_xcalloc(cfg->n_targets + 1, sizeof(*dest));
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->op = "deploy";
	out->release = rip_xstrdup(id);
	if ((rc = check_names(cfg, only, nonly, err)) < 0 ||
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
	if ((rc = read_wheres(w, n, cfg, store, true, err)) == 0) {
		plan_moves(out, w, n, dest);
		stage_first(out);
	}
done:
	wheres_release(w, n);
	free(dest);
	rip_migrations_release(&migs);
	if (rc < 0)
		rip_plan_release(out);
	return rc;
}

/* The rule of rip_rollback_target over the switches h, newest first. */
static char *rollback_from_history(const struct rip_switches *h,
	const char *current)
{
	struct rip_strlist fled = { 0 };
	const char *seek = NULL;
	char *out = NULL;

	for (size_t i = 0; i < h->n && !out; i++) {
		const struct rip_switch *s = &h->v[i];

		if (seek && strcmp(s->release, seek)) {
			rip_strlist_push(&fled, s->release);
			continue;
		}
		if (seek)
			seek = NULL; /* the switch that brought it */
		else if ((!current || strcmp(s->release, current)) &&
		    !rip_strlist_has(&fled, s->release))
			out = rip_xstrdup(s->release);
		if (!strcmp(s->op, "rollback") && s->previous) {
			rip_strlist_push(&fled, s->previous);
			seek = s->release;
		}
	}
	rip_strlist_release(&fled);
	return out;
}

/*
 * The release a rollback of target goes back to. Newest first through its
 * completed switches, the first release that is not current and that no
 * later rollback left: rolling back twice goes further back (v2 -> v1 ->
 * v0), never forward again to the release the first rollback fled. A
 * rollback to R also leaves every release switched to since R first ran
 * (rollback --to v1 from v3 jumps over v2): those are skipped until the
 * switch that brought R.
 */
int rip_rollback_target(char **out, struct rip_store *store,
	const struct rip_target *t, const char *current, struct rip_err *err)
{
	/* the newest switches are enough: a long history must not make the
	 * 3 a.m. command slow. The newest few nearly always hold the answer
	 * (200 targets reading 256 rows each cost a rollback 40% of its CPU
	 * on a long journal); more are read only when they do not */
	static const size_t lookback[] = { 8, RIP_ROLLBACK_LOOKBACK };
	int rc = 0;

	*out = NULL;
	for (size_t k = 0; k < RIP_ARRAY_SIZE(lookback) && !*out; k++) {
		struct rip_switches h;
		bool whole;

		if ((rc = rip_journal_history(&h, store->state, t->name,
				lookback[k], err)) < 0)
			return rc;
		whole = h.n < lookback[k];
		*out = rollback_from_history(&h, current);
		rip_switches_release(&h);
		if (whole)
			break;
	}
	return rc;
}

/* Index of id in the store's releases (cut order), or -1. */
static ssize_t release_index(const struct rip_release_rec *v, size_t n,
	const char *id)
{
	for (size_t i = 0; id && i < n; i++)
		if (!strcmp(v[i].id, id))
			return (ssize_t)i;
	return -1;
}

/*
 * Whether the newest operation is a deploy that a rollback preempted
 * before it switched any target (no target runs its release): there is
 * nothing of it on the targets to go back from.
 */
static bool preempted_unswitched(struct rip_store *store,
	const struct where *w, size_t n)
{
	struct rip_op op;
	bool yes;

	if (rip_op_last(&op, store->state, NULL, NULL) < 0)
		return false;
	yes = op.seq && !strcmp(op.op, "deploy") && op.release && op.result &&
		!strncmp(op.result, "preempted: ", 11);
	for (size_t i = 0; yes && i < n; i++)
		yes = !w[i].root.current || strcmp(w[i].root.current, op.release);
	rip_op_release(&op);
	return yes;
}

/*
 * Where a rollback without --to goes: an interrupted rollback's release
 * (a rerun converges), else the rollback target of the targets that run
 * the newest release, so after a deploy that reached only some targets
 * every target goes back to where the others still are. A rollback that
 * preempted a deploy before its first switch undoes that deploy: every
 * target stays on the release they all run (the downs then undo the ups
 * it ran), rather than going one release further back.
 */
static int rollback_dest(char **out, struct rip_plan *p,
	struct rip_store *store, const struct where *w, size_t n,
	struct rip_err *err)
{
	struct rip_release_rec *recs = NULL;
	struct rip_op op;
	ssize_t newest = -1;
	size_t nrecs = 0;
	int rc;

	*out = NULL;
	if ((rc = rip_op_unfinished(&op, store->state, err)) < 0)
		return rc;
	if (op.seq && !strcmp(op.op, "rollback") && op.release) {
		*out = op.release;
		op.release = NULL;
		p->resumed = true;
		rip_op_release(&op);
		return 0;
	}
	rip_op_release(&op);
	if ((rc = rip_state_release_list(&recs, &nrecs, store->state, err)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		ssize_t k = release_index(recs, nrecs, w[i].root.current);

		if (k > newest)
			newest = k;
	}
	if (newest >= 0 && preempted_unswitched(store, w, n)) {
		bool same = true;

		for (size_t i = 0; i < n && same; i++)
			same = release_index(recs, nrecs, w[i].root.current) == newest;
		if (same) {
			*out = rip_xstrdup(recs[newest].id);
			rip_info("the preempted deploy switched no target: every "
				"target stays on %s", *out);
			goto done;
		}
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *d = NULL;

		if (newest < 0 || release_index(recs, nrecs, w[i].root.current) !=
				newest)
			continue;
		if ((rc = rip_rollback_target(&d, store, w[i].t,
				w[i].root.current, err)) < 0)
			break;
		if (!d)
			rc = rip_err_set(err, RIP_EFAIL, "target '%s' has no earlier "
				"release in the journal to go back to (runs %s); pass "
				"--to ID", w[i].t->name, w[i].root.current);
		else if (*out && strcmp(*out, d))
			rc = rip_err_set(err, RIP_EUSAGE, "targets running %s would "
				"go back to different releases (%s, %s): pass --to ID",
				recs[newest].id, *out, d);
		else if (!*out)
			*out = rip_xstrdup(d);
		free(d);
	}
	if (rc == 0 && !*out)
		rc = rip_err_set(err, RIP_EFAIL, "no target runs a release of this "
			"store, so there is nothing to roll back from; pass --to ID");
done:
	rip_release_recs_free(recs, nrecs);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Marks the applied migrations not yet matched that are g, with g's
 * checksum, as matched; returns how many it marked. */
/* The applied migrations a rollback's downs still need a source for. */
struct needed {
	const struct rip_mig_status *st;
	bool *matched;            /* per st->v: has its source, or needs none */
	size_t left;
};

/* rip_sources_enough_fn: g is the source of the applied rows it matches
 * by id and recorded checksum; true once every row has one. */
static bool match_needed(void *data, const struct rip_migration *g)
{
	struct needed *nd = data;
	char hex[RIP_SHA256_HEX];

	rip_hex(hex, g->checksum, RIP_SHA256_LEN);
	for (size_t i = 0; i < nd->st->n; i++)
		if (!nd->matched[i] && !strcmp(nd->st->v[i].id, g->id) &&
		    !strcmp(nd->st->v[i].recorded, hex)) {
			nd->matched[i] = true;
			nd->left--;
		}
	return nd->left == 0;
}

/*
 * Where the downs of a rollback to keep come from: the migrations of the
 * store's releases, newest release first (rip_release_all_migrations),
 * but only until every applied migration that keep does not carry has a
 * source with its recorded checksum (the one rip_migrate_down prefers). A
 * migration whose newer releases carry a changed version reads on to the
 * release it was applied from; one that no release carries with its
 * checksum reads them all, as before: the down chosen is the same either
 * way. Nothing to undo verifies nothing.
 */
static int down_sources(struct rip_migrations *out, struct rip_migrate *m,
	const struct rip_migrations *keep, struct rip_store *store,
	const char *verify_key, struct rip_err *err)
{
	struct rip_mig_status st;
	struct needed nd = { &st, NULL, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_migrate_status(&st, m, keep, err)) < 0)
		return rc;
	nd.matched = rip_xcalloc(st.n + 1, sizeof(*nd.matched));
	for (size_t i = 0; i < st.n; i++) {
		nd.matched[i] = st.v[i].state == RIP_MIG_PENDING ||
			rip_migrations_find(keep, st.v[i].id);
		nd.left += !nd.matched[i];
	}
	if (nd.left)
		rc = rip_release_all_migrations(out, store, verify_key,
			match_needed, &nd, err);
	free(nd.matched);
	rip_mig_status_release(&st);
	return rc;
}

/*
 * What the downs keep: dest's migrations, or, for an exact plan, every
 * applied migration but the ones in p->undo (ids only: the downs match
 * by id).
 */
static int downs_keep(struct rip_migrations *keep, const struct rip_plan *p,
	struct rip_migrate *m, const struct rip_config *cfg,
	struct rip_store *store, const char *dest, struct rip_err *err)
{
	struct rip_migrations none = { 0 };
	struct rip_mig_status st;
	int rc;

	memset(keep, 0, sizeof(*keep));
	if (!p->exact)
		return rip_release_migrations(keep, store, dest,
			cfg->package.verify_key, err);
	if ((rc = rip_migrate_status(&st, m, &none, err)) < 0)
		return rc;
	for (size_t i = 0; i < st.n; i++)
		if (!rip_strlist_has(&p->undo, st.v[i].id))
			rip_migrations_add(keep)->id = rip_xstrdup(st.v[i].id);
	rip_mig_status_release(&st);
	return 0;
}

/* Keeps each down the dry run would run, in its order, for p->downs. */
static void note_planned(void *data, const struct rip_migration *mg,
	enum rip_db_direction dir, int rc, double seconds)
{
	struct rip_plan *p = data;
	struct rip_migration *c;

	(void)dir;
	(void)seconds;
	if (rc != 1)
		return;
	c = rip_migrations_add(&p->downs);
	c->id = rip_xstrdup(mg->id);
	c->version = mg->version ? rip_xstrdup(mg->version) : NULL;
	c->name = mg->name ? rip_xstrdup(mg->name) : NULL;
	if (mg->down.text)
		rip_sql_set(&c->down, mg->down.text, mg->down.len, mg->down.file);
	/* what a contract's up dropped is what its down cannot bring back */
	c->contract = mg->contract;
	if (mg->contract && mg->up.text)
		rip_sql_set(&c->up, mg->up.text, mg->up.len, mg->up.file);
	memcpy(c->checksum, mg->checksum, sizeof(c->checksum));
}

/* The downs back to dest, checked now (dry run) so a plan never stops on
 * an irreversible migration after targets were switched. */
static int plan_downs(struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, const char *dest, struct rip_err *err)
{
	struct rip_migrations keep = { 0 }, sources = { 0 };
	struct rip_migrate_opts dry = { .dry_run = true,
		.on_step = note_planned, .data = p };
	struct rip_migrate *m = NULL;
	int rc;

	if (!has_migrations(cfg))
		return 0;
	if ((rc = rip_migrate_open(&m, cfg, err)) < 0 ||
	    (rc = downs_keep(&keep, p, m, cfg, store, dest, err)) < 0 ||
	    (rc = down_sources(&sources, m, &keep, store,
		    cfg->package.verify_key, err)) < 0 ||
	    (rc = rip_migrate_down(m, &keep, &sources, &dry, &p->migrations,
		    err)) < 0)
		goto done;
	if (p->migrations)
		add(p, RIP_ACT_MIGRATE_DOWN, NULL, dest, NULL);
	p->schema.planned = true;
	for (size_t i = 0; i < p->downs.n; i++)
		rip_schema_note_contract(&p->schema, &p->downs.v[i]);
done:
	rip_migrate_free(m);
	rip_migrations_release(&keep);
	rip_migrations_release(&sources);
	return rc;
}

/*
 * dest's artifact is verified when something is extracted from it; a warm
 * rollback (every target holds dest) switches links to folders verified
 * when they were extracted and reads no artifact: dest need only be a
 * release of the store. The downs verify what they read (plan_downs).
 */
static int check_dest(const struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, const char *dest, struct rip_err *err)
{
	struct rip_verify_result vr;
	struct rip_release_rec rec;
	int rc;

	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].kind != RIP_ACT_EXTRACT)
			continue;
		rc = rip_verify_release(&vr, store, dest, cfg->package.verify_key,
			err);
		rip_verify_result_release(&vr);
		return rc;
	}
	if ((rc = rip_state_release_get(&rec, store->state, dest, err)) == 0)
		rip_release_rec_release(&rec);
	return rc;
}

/*
 * keep: no downs; what stays is the schema's lead over dest. Reading it
 * verifies artifacts, which a rollback that only switches back never
 * needs (a lost verify_key, a warm rollback): when it cannot be read the
 * rollback goes on, saying only that the schema is kept.
 */
static void plan_kept(struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, const char *dest)
{
	struct rip_schema_ahead a;
	struct rip_err why = { 0 };

	if (!has_migrations(cfg))
		return;
	p->schema.planned = true;
	p->schema.keep = true;
	if (rip_schema_ahead(&a, cfg, store, dest, &why) < 0) {
		rip_info("cannot say how far the schema is ahead of %s (it is "
			"kept as it is): %s", dest, why.msg);
		p->schema.unknown = true;
		return;
	}
	p->schema.level = a.level;
	a.level = NULL;
	p->schema.kept = a.ids;
	memset(&a.ids, 0, sizeof(a.ids));
	p->schema.kept_contract = a.contract.n;
	if (a.contract.n) {
		/* lossless, but the code may read what a contract dropped */
		struct rip_buf b = RIP_BUF_INIT;

		for (size_t i = 0; i < a.contract.n; i++)
			rip_buf_addf(&b, "%s%s", i ? ", " : "", a.contract.v[i]);
		rip_warn("the schema is kept (lossless), but %s's code runs on a "
			"schema without what %s (contract) dropped", dest, b.buf);
		rip_buf_release(&b);
	}
	rip_schema_ahead_release(&a);
}

static int plan_rollback(struct rip_plan *out, const struct rip_config *cfg,
	struct rip_store *store, const char *to, bool keep,
	const char *undo, struct rip_err *err)
{
	bool no_downs = keep;

	struct where *w = rip_xcalloc(cfg->n_targets + 1, sizeof(*w));
	char **dest = rip_xcalloc(cfg->n_targets + 1, sizeof(*dest));
	char *d = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->op = "rollback";
	if (undo) {
		struct rip_buf one = RIP_BUF_INIT;

		out->exact = true;
		for (const char *s = undo; *s; ) {
			size_t len = strcspn(s, ",");

			rip_buf_reset(&one);
			rip_buf_add(&one, s, len);
			if (len)
				rip_strlist_push(&out->undo, one.buf);
			s += len + (s[len] == ',');
		}
		rip_buf_release(&one);
		/* nothing this rollout applied: no downs at all */
		no_downs |= !out->undo.n;
	}
	if ((rc = check_names(cfg, NULL, 0, err)) < 0)
		goto done;
	for (; n < cfg->n_targets; n++)
		w[n].t = &cfg->targets[n];
	if ((rc = read_wheres(w, n, cfg, store, false, err)) < 0)
		goto done;
	if (to)
		d = rip_xstrdup(to);
	else if ((rc = rollback_dest(&d, out, store, w, n, err)) < 0)
		goto done;
	if ((rc = rip_store_refuse_yanked(store, d, "roll back to", err)) < 0)
		goto done;
	out->release = rip_xstrdup(d);
	for (size_t i = 0; i < n; i++)
		dest[i] = d;
	plan_moves(out, w, n, dest);
	if ((rc = check_dest(out, cfg, store, d, err)) < 0) {
		rip_err_prefix(err, "cannot roll back to '%s' (try --to another "
			"release)", d);
		goto done;
	}
	if (keep)
		plan_kept(out, cfg, store, d);
	else if (!no_downs)
		rc = plan_downs(out, cfg, store, d, err);
	else
		out->schema.planned = has_migrations(cfg);
	if (rc < 0)
		goto done;
	rip_plan_add_probes(out);
done:
	free(d);
	wheres_release(w, n);
	free(dest);
	if (rc < 0)
		rip_plan_release(out);
	return rc;
}

void rip_plan_add_probes(struct rip_plan *p)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i].target->health)
			add(p, RIP_ACT_PROBE, p->targets[i].target, p->release, NULL);
}

int rip_plan_rollback(struct rip_plan *out, const struct rip_config *cfg,
	struct rip_store *store, const char *to, bool keep_schema,
	struct rip_err *err)
{
	return plan_rollback(out, cfg, store, to, keep_schema, NULL, err);
}

int rip_plan_rollback_exact(struct rip_plan *out,
	const struct rip_config *cfg, struct rip_store *store, const char *to,
	const char *undo, struct rip_err *err)
{
	return plan_rollback(out, cfg, store, to, false, undo, err);
}

static struct rip_target_report *find_report(struct rip_plan *p,
	const struct rip_target *t)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i].target == t)
			return &p->targets[i];
	return report_for(p, t, NULL, "-");
}

static void set_text(char **slot, const char *text)
{
	free(*slot);
	*slot = rip_xstrdup(text);
}

/* Whether a preemptible plan was asked to stop; remembers who asked. */
static bool asked_to_stop(struct rip_plan *p, struct rip_store *store)
{
	if (!p->preemptible)
		return false;
	if (!p->preempted)
		p->preempted = rip_lock_stop_request(store);
	return p->preempted != NULL;
}

/* What the migration callbacks need. */
struct mig_ctx {
	struct rip_plan *p;
	struct rip_store *store;
};

/* rip_migrate_opts.stop: between two ups of a preemptible plan. */
static bool mig_stop(void *data)
{
	struct mig_ctx *c = data;

	return asked_to_stop(c->p, c->store);
}

/* Names each migration the applier ran, once it has run. */
static void note_step(void *data, const struct rip_migration *mg,
	enum rip_db_direction dir, int rc, double seconds)
{
	struct rip_plan *p = ((struct mig_ctx *)data)->p;

	if (p->on_step)
		p->on_step(p->step_data, mg, dir, rc, seconds);
	if (rc == 0)
		rip_strlist_push(&p->ran, mg->id);
}

static int apply_migrations(struct rip_plan *p, const struct rip_action *a,
	const struct rip_config *cfg, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_migrations migs = { 0 }, sources = { 0 };
	struct mig_ctx ctx = { p, store };
	struct rip_migrate_opts o = { .on_step = note_step, .data = &ctx,
		.stop = mig_stop };
	struct rip_migrate *m = NULL;
	size_t done = 0;
	int rc;

	if ((rc = rip_migrate_open(&m, cfg, err)) < 0)
		goto out;
	if (a->kind == RIP_ACT_MIGRATE_DOWN)
		rc = downs_keep(&migs, p, m, cfg, store, a->release, err);
	else
		rc = rip_release_migrations(&migs, store, a->release,
			cfg->package.verify_key, err);
	if (rc < 0)
		goto out;
	if (a->kind == RIP_ACT_MIGRATE_UP) {
		o.phase = RIP_PHASE_EXPAND;
		rc = rip_migrate_up(m, &migs, &o, &done, err);
	}
	else if ((rc = down_sources(&sources, m, &migs, store,
			cfg->package.verify_key, err)) == 0)
		rc = rip_migrate_down(m, &migs, &sources, &o, &done, err);
out:
	rip_migrate_free(m);
	rip_migrations_release(&migs);
	rip_migrations_release(&sources);
	return rc;
}

/* "0004_rating, 0003_add_note": what the plan's migrations ran. */
static char *ran_list(const struct rip_plan *p)
{
	struct rip_buf b = RIP_BUF_INIT;

	for (size_t i = 0; i < p->ran.n; i++)
		rip_buf_addf(&b, "%s%s", i ? ", " : "", p->ran.v[i]);
	return rip_buf_detach(&b, NULL);
}

/* ---- work on remote hosts, several at once ------------------------------ */

/* One action on one host, run by a fleet thread. */
struct host_job {
	const struct rip_action *a;
	const char *artifact;     /* RIP_ACT_EXTRACT: the release's file */
	struct rip_remote_stage stage;
	struct rip_hook_result hr;   /* RIP_ACT_ACTIVATE */
	bool synced;              /* RIP_ACT_SWITCH: made durable there */
	bool not_run;             /* RIP_ACT_ACTIVATE: a preempting rollback
				     asked to stop before it started */
	struct rip_err err;
	int rc;
};

struct host_pool {
	struct host_job *jobs;
	struct rip_fleet *fleet;
	const atomic_bool *stop;  /* set: start no more, end local hooks */
};

static void activate_env_run(struct host_job *j, const atomic_bool *stop);

static void host_work(void *data, size_t i)
{
	struct host_pool *pool = data;
	struct host_job *j = &pool->jobs[i];
	const struct rip_action *a = j->a;
	const struct rip_target *t = a->target;
	struct rip_remote *r;

	if (j->rc < 0)            /* failed before it could start */
		return;
	if (pool->stop && atomic_load(pool->stop)) {
		j->not_run = true;
		j->rc = rip_err_set(&j->err, RIP_EINTR, "not run: the deploy was "
			"preempted");
		return;
	}
	if (!rip_target_remote(t)) {
		activate_env_run(j, pool->stop);
		return;
	}
	if ((j->rc = rip_fleet_session(&r, pool->fleet, t, &j->err)) < 0)
		return;
	switch (a->kind) {
	case RIP_ACT_EXTRACT:
		j->rc = rip_remote_stage(&j->stage, r, t->root, a->release,
			j->artifact, &j->err);
		break;
	case RIP_ACT_SWITCH:
		j->rc = rip_remote_switch(&j->synced, r, t->root, a->release,
			&j->err);
		break;
	case RIP_ACT_ACTIVATE:
		j->rc = rip_remote_activate(&j->hr, r, t, a->release, a->previous,
			&j->err);
		break;
	default:
		j->rc = rip_err_set(&j->err, RIP_EUSAGE, "%s is not done on "
			"hosts", kind_names[a->kind]);
	}
}

/* Runs jobs[0..n) at once: [ssh] parallel of them when one is on a
 * host (what [ssh] promises the hosts), else RIP_HOOKS_AT_ONCE. */
static void run_jobs(struct host_job *jobs, size_t n,
	struct rip_fleet *fleet, const atomic_bool *stop)
{
	struct host_pool pool = { jobs, fleet, stop };
	size_t at_once = RIP_HOOKS_AT_ONCE;

	for (size_t i = 0; fleet && i < n; i++)
		if (rip_target_remote(jobs[i].a->target))
			at_once = rip_fleet_parallel(fleet);
	rip_fleet_each(n, at_once, host_work, &pool);
}

/*
 * The consecutive extract actions of one release from i: local roots
 * with one decompression for all (rip_extract_payload_many), remote ones
 * staged on their hosts at once (sent unless cached there, checked,
 * extracted). Any failure fails the whole (a deploy stops before its
 * first switch), naming every target that failed. Reports each action
 * through fn; *n says how many it covered.
 */
static int apply_extracts(struct rip_plan *p, size_t i, size_t *n,
	const struct rip_config *cfg, struct rip_store *store,
	rip_apply_fn fn, void *data, struct rip_err *err)
{
	const char *release = p->v[i].release;
	char *art = rip_store_artifact_path(store, release);
	struct host_job *jobs;
	struct rip_fleet *fleet = NULL;
	struct rip_buf bad = RIP_BUF_INIT;
	struct rip_err lerr = { 0 };
	char **dests;
	size_t k = 0, m = 0, nr = 0, nbad = 0;
	int rc = 0, lrc = 0;

	while (i + k < p->n && p->v[i + k].kind == RIP_ACT_EXTRACT &&
	       !strcmp(p->v[i + k].release, release))
		k++;
	*n = k;
	dests = rip_xcalloc(k, sizeof(*dests));
	jobs = rip_xcalloc(k, sizeof(*jobs));
	for (size_t j = 0; j < k && lrc == 0; j++) {
		const struct rip_target *t = p->v[i + j].target;
		char *dir;

		if (rip_target_remote(t)) {
			jobs[nr].a = &p->v[i + j];
			jobs[nr++].artifact = art;
			continue;
		}
		dir = rip_root_release_dir(t->root, release);
		if ((lrc = rip_root_prepare(t->root, err)) < 0)
			rip_err_prefix(err, "target '%s'", t->name);
		if (lrc == 0 && !rip_is_dir(dir))
			dests[m++] = dir;
		else
			free(dir);
	}
	if (lrc == 0 && m) {
		struct rip_extract_result res;

		lrc = rip_extract_payload_many(&res, art,
			(const char *const *)dests, m, err);
	}
	if (lrc < 0) {
		rc = lrc;
		lerr = *err;
		rip_buf_adds(&bad, err->msg);
		nbad++;
	}
	if (nr && rip_sites_fleet(&fleet, cfg, store, err) < 0)
		for (size_t j = 0; j < nr; j++) {
			jobs[j].rc = err->code;
			jobs[j].err = *err;
		}
	run_jobs(jobs, nr, fleet, NULL);
	for (size_t j = 0; j < nr; j++) {
		if (jobs[j].rc == 0)
			continue;
		rc = rc ? rc : jobs[j].rc;
		rip_buf_addf(&bad, "%s%s", nbad++ ? "; " : "", jobs[j].err.msg);
	}
	/* the jobs are in the actions' order: one cursor finds each */
	for (size_t j = 0, q = 0; fn && j < k; j++) {
		const struct host_job *hj = q < nr && jobs[q].a == &p->v[i + j] ?
			&jobs[q++] : NULL;

		if (hj)
			fn(data, &p->v[i + j], hj->rc, hj->rc ? hj->err.msg : NULL);
		else
			fn(data, &p->v[i + j], lrc, lrc ? lerr.msg : NULL);
	}
	if (nbad)
		rc = rip_err_set(err, rc, "%s%s", nbad > 1 ? "on several "
			"targets: " : "", bad.buf);
	for (size_t j = 0; j < m; j++)
		free(dests[j]);
	free(dests);
	free(jobs);
	free(art);
	rip_buf_release(&bad);
	return rc;
}

/*
 * The consecutive switch actions from i, as one quick pass: every intent
 * in one transaction, every local link renamed, the roots' filesystems
 * synced once (rip_sync_roots), then every host switched at once, every
 * result in one transaction. Two commits and a syncfs for any number of
 * local targets, where a switch at a time cost three syncs each. A
 * killed pass leaves 'pending' rows that the next run settles against
 * the links. A local switch that fails stops the pass (the ones after it
 * are recorded as not attempted, the hosts too). Hosts switch at once,
 * so one that fails cannot stop the others: a refusal is recorded as
 * failed and sets *refused (the target unchanged, the plan goes on to
 * the hooks of those that moved); a host that cannot be reached keeps
 * its row pending and is reported unreachable. *n says how many actions
 * it covered.
 */
static int apply_switches(struct rip_plan *p, size_t i, size_t *n,
	const struct rip_config *cfg, struct rip_store *store, rip_apply_fn fn,
	void *data, bool *refused, struct rip_err *err)
{
	struct rip_state *st = store->state;
	struct host_job *jobs;
	struct rip_fleet *fleet = NULL;
	const char **roots;
	int64_t *seq;
	char **why;
	bool *pending;
	size_t k = 0, nl = 0, nr = 0;
	bool unsynced = false, ran;
	int rc = 0;

	while (i + k < p->n && p->v[i + k].kind == RIP_ACT_SWITCH)
		k++;
	*n = k;
	seq = rip_xcalloc(k, sizeof(*seq));
	why = rip_xcalloc(k, sizeof(*why));
	pending = rip_xcalloc(k, sizeof(*pending));
	roots = rip_xcalloc(k, sizeof(*roots));
	jobs = rip_xcalloc(k, sizeof(*jobs));
	/* refused before any intent is written; nothing to create: a switch
	 * needs releases/<id>, which the extracts made (mkdir -p of every
	 * root cost 6 failing mkdirs a target); hosts check their own */
	for (size_t j = 0; j < k && rc == 0; j++)
		if (!rip_target_remote(p->v[i + j].target) &&
		    (rc = rip_root_check(p->v[i + j].target->root, err)) < 0)
			rip_err_prefix(err, "target '%s'", p->v[i + j].target->name);
	if (rc == 0)
		rc = rip_sites_fleet(&fleet, cfg, store, err);
	if (rc == 0 && (rc = rip_state_begin(st, err)) == 0) {
		for (size_t j = 0; j < k && rc == 0; j++) {
			const struct rip_action *a = &p->v[i + j];

			rc = rip_journal_begin(&seq[j], st, a->target->name,
				a->release, a->previous, p->op, a->target->activate !=
				NULL, err);
		}
		rc = rip_state_end(st, rc, err);
	}
	if (rc < 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		const struct rip_action *a = &p->v[i + j];

		find_report(p, a->target)->seq = seq[j];
		if (rip_target_remote(a->target)) {
			jobs[nr++].a = a;
		} else if (rc < 0) {
			why[j] = rip_xstrdup("failed: not attempted (an earlier "
				"switch failed)");
		} else if ((rc = rip_root_switch_quick(a->target->root,
				a->release, err)) < 0) {
			rip_err_prefix(err, "switch on '%s'", a->target->name);
			why[j] = rip_xasprintf("failed: %s", err->msg);
		} else {
			roots[nl++] = a->target->root;
		}
	}
	/* a failed sync fails the plan, but the links did move: they are
	 * reported (and journaled) as switched, not as unchanged */
	if (nl && rip_sync_roots(roots, nl, rc ? NULL : err) < 0) {
		unsynced = true;
		rc = rc ? rc : err->code;
	}
	if ((ran = nr && rc == 0))
		run_jobs(jobs, nr, fleet, NULL);
	for (size_t q = 0, j = 0; q < nr; q++) {
		struct host_job *hj = &jobs[q];

		while (&p->v[i + j] != hj->a)
			j++;
		if (!ran) {
			why[j] = rip_xstrdup("failed: not attempted (an earlier "
				"switch failed)");
		} else if (hj->rc == RIP_EUNREACH) {
			struct rip_target_report *r = find_report(p, hj->a->target);

			pending[j] = true;
			set_text(&r->unreachable, hj->err.msg);
			set_text(&r->to, r->from);
			set_text(&r->health, "unreachable");
			r->failed = true;
		} else if (hj->rc == 0 && !hj->synced) {
			/* the link moved, it may not survive the host's crash */
			struct rip_target_report *r = find_report(p, hj->a->target);

			r->unsynced = r->failed = true;
			set_text(&r->health, "switched, not synced");
			*refused = true;
		} else if (hj->rc < 0) {
			/* the other hosts switched at the same moment: stopping
			 * now would leave them without their hooks; this one is
			 * reported unchanged and the plan goes on */
			struct rip_target_report *r = find_report(p, hj->a->target);

			why[j] = rip_xasprintf("failed: %s", hj->err.msg);
			set_text(&r->to, r->from);
			set_text(&r->health, "unchanged");
			r->failed = true;
			*refused = true;
		}
	}
	for (size_t j = 0; j < k; j++) {
		struct rip_target_report *r;

		if (why[j] || pending[j])
			continue;
		r = find_report(p, p->v[i + j].target);
		r->switched = true;
		if (r->unreachable) {   /* it was back in time */
			free(r->unreachable);
			r->unreachable = NULL;
			r->failed = false;
		}
		if (unsynced && !rip_target_remote(r->target)) {
			r->unsynced = true;
			set_text(&r->health, "switched, not synced");
		}
	}
	{
		struct rip_err jerr = { 0 };
		int jrc = rip_state_begin(st, &jerr);

		for (size_t j = 0; j < k && jrc == 0; j++)
			if (!pending[j])
				jrc = rip_journal_end(st, seq[j], why[j] ? why[j] :
					"ok", &jerr);
		if ((jrc = rip_state_end(st, jrc, &jerr)) < 0 && rc == 0) {
			rc = jrc;
			*err = jerr;
		} else if (jrc < 0) {
			rip_warn("cannot record the switches: %s", jerr.msg);
		}
	}
	for (size_t j = 0; fn && j < k; j++) {
		const struct rip_target_report *r = find_report(p,
			p->v[i + j].target);

		fn(data, &p->v[i + j], why[j] || pending[j] ? RIP_EFAIL : 0,
			why[j] ? why[j] : pending[j] ? r->unreachable : NULL);
	}
out:
	for (size_t j = 0; j < k; j++)
		free(why[j]);
	free(seq);
	free(why);
	free(pending);
	free(roots);
	free(jobs);
	return rc;
}

/* ---- activate hooks, several at once ------------------------------------ */

/* A local target's activate hook, on a fleet thread; ended when *stop
 * turns true. */
static void activate_env_run(struct host_job *j, const atomic_bool *stop)
{
	const struct rip_target *t = j->a->target;
	char *dir = rip_root_release_dir(t->root, j->a->release);
	const char *argv[] = { t->activate, NULL };
	const struct rip_hook_env env[] = {
		{ "RIPCORD_TARGET", t->name },
		{ "RIPCORD_RELEASE", j->a->release },
		{ "RIPCORD_RELEASE_DIR", dir },
		{ "RIPCORD_PREVIOUS", j->a->previous ? j->a->previous : "" },
		{ "RIPCORD_ROOT", t->root },
	};

	j->rc = rip_hook_run_stoppable(&j->hr, argv, dir, env,
		RIP_ARRAY_SIZE(env), t->hook_timeout_ms, stop, &j->err);
	free(dir);
}

/* Records job j's outcome: the log, the target's report, the journal. */
static bool settle_hook(struct rip_plan *p, struct host_job *j,
	struct rip_store *store)
{
	const struct rip_target *t = j->a->target;
	struct rip_target_report *r = find_report(p, t);
	int64_t seq = j->a->seq ? j->a->seq : r->seq;
	struct rip_err jerr = { 0 };
	bool ok = j->rc == 0 && j->hr.exit_code == 0;
	char *what;

	if (j->hr.output.len) {
		char *head = rip_xasprintf("%s: activate: ", t->name);

		rip_log_lines(ok ? RIP_LOG_INFO : RIP_LOG_WARN, head,
			j->hr.output.buf, j->hr.output.len);
		free(head);
	}
	if (ok) {
		what = rip_xstrdup("ok");
	} else if (j->not_run) {
		/* its switch's row keeps the hook owed */
		set_text(&r->activate, "not run");
		r->failed = true;
		return false;
	} else if (j->hr.stopped) {
		what = rip_xstrdup("stopped");
		r->failed = true;
	} else if (j->rc == RIP_EUNREACH) {
		what = rip_xstrdup("unreachable");
		r->failed = true;
		set_text(&r->unreachable, j->err.msg);
	} else {
		what = j->rc ? rip_xstrdup(j->hr.timed_out ? "timed out" :
			"failed") : j->hr.signal ? rip_xasprintf("signal %d",
			j->hr.signal) : rip_xasprintf("exit %d", j->hr.exit_code);
		r->failed = true;
		if (!j->err.msg[0])
			rip_err_set(&j->err, RIP_EFAIL, "activate hook '%s' of target "
				"'%s' ended with %s", t->activate, t->name, what);
	}
	set_text(&r->activate, what);
	if (seq) {
		char *res = ok ? rip_xstrdup("ok") : rip_xasprintf("failed: %s",
			what);

		if (rip_journal_activated(store->state, seq, res, &jerr) < 0)
			rip_warn("cannot record the activate hook of '%s': %s",
				t->name, jerr.msg);
		free(res);
	}
	free(what);
	return ok;
}

/* The jobs of a preemptible plan, run on a thread of their own while
 * this one looks for a request to stop. */
struct watched {
	struct host_job *jobs;
	size_t n;
	struct rip_fleet *fleet;
	atomic_bool stop;
	atomic_bool done;
};

static void *watched_run(void *data)
{
	struct watched *w = data;

	run_jobs(w->jobs, w->n, w->fleet, &w->stop);
	atomic_store(&w->done, true);
	return NULL;
}

/*
 * run_jobs, and for a preemptible plan a look at state.db every
 * RIP_PREEMPT_POLL_MS meanwhile (from this thread: the state connection
 * is not shared): once asked, no job starts and local hooks are ended.
 */
static void run_jobs_watched(struct rip_plan *p, struct rip_store *store,
	struct host_job *jobs, size_t n, struct rip_fleet *fleet)
{
	struct watched w = { .jobs = jobs, .n = n, .fleet = fleet };
	const struct timespec tick = { 0, RIP_PREEMPT_POLL_MS * 1000000L };
	pthread_t t;

	atomic_init(&w.stop, false);
	atomic_init(&w.done, false);
	if (!p->preemptible || !n ||
	    pthread_create(&t, NULL, watched_run, &w) != 0) {
		run_jobs(jobs, n, fleet, NULL);
		return;
	}
	while (!atomic_load(&w.done)) {
		if (!atomic_load(&w.stop) && asked_to_stop(p, store))
			atomic_store(&w.stop, true);
		nanosleep(&tick, NULL);
	}
	pthread_join(t, NULL);
}

/* Every consecutive activate action from i at once; returns how many. */
static size_t apply_activates(struct rip_plan *p, size_t i,
	const struct rip_config *cfg, struct rip_store *store, rip_apply_fn fn,
	void *data, bool *failed)
{
	struct host_job *jobs;
	struct rip_fleet *fleet = NULL;
	struct rip_err ferr = { 0 };
	size_t n = 0, m = 0;

	while (i + n < p->n && p->v[i + n].kind == RIP_ACT_ACTIVATE)
		n++;
	jobs = rip_xcalloc(n, sizeof(*jobs));
	/* a hook follows its switch: a target whose switch this plan did not
	 * make (a host unreachable or refusing) still runs what it ran, and
	 * the hook comes with the rerun; one owed by an earlier run (seq)
	 * runs on what the link points at */
	for (size_t k = 0; k < n; k++) {
		const struct rip_action *a = &p->v[i + k];
		const struct rip_target_report *r = find_report(p, a->target);

		if (a->seq ? !r->unreachable : r->switched)
			jobs[m++].a = a;
	}
	if (rip_sites_fleet(&fleet, cfg, store, &ferr) < 0)
		for (size_t k = 0; k < m; k++)
			if (rip_target_remote(jobs[k].a->target)) {
				jobs[k].rc = ferr.code;
				jobs[k].err = ferr;
			}
	run_jobs_watched(p, store, jobs, m, fleet);
	for (size_t k = 0; k < m; k++) {
		bool ok = settle_hook(p, &jobs[k], store);

		*failed |= !ok;
		if (fn)
			fn(data, jobs[k].a, 0, ok ? NULL : jobs[k].err.msg);
		rip_hook_result_release(&jobs[k].hr);
	}
	free(jobs);
	return n;
}

/* Every consecutive probe action from i at once; returns how many. */
static size_t apply_probes(struct rip_plan *p, size_t i,
	const struct rip_config *cfg, rip_apply_fn fn, void *data,
	bool *failed)
{
	size_t n = 0;
	struct rip_probe *pr;
	struct rip_err err = { 0 };

	while (i + n < p->n && p->v[i + n].kind == RIP_ACT_PROBE)
		n++;
	pr = rip_xcalloc(n, sizeof(*pr));
	for (size_t k = 0; k < n; k++)
		pr[k].url = p->v[i + k].target->health;
	if (rip_probe_run(pr, n, cfg->rollout.probe_timeout_ms, &err) < 0)
		*failed = true;
	for (size_t k = 0; k < n; k++) {
		struct rip_target_report *r = find_report(p, p->v[i + k].target);
		char h[sizeof(pr[k].error) + 32];

		rip_probe_text(h, sizeof(h), &pr[k]);
		set_text(&r->health, h);
		if (!pr[k].ok)
			r->failed = *failed = true;
		if (fn)
			fn(data, &p->v[i + k], 0, pr[k].ok ? NULL : h);
	}
	free(pr);
	return n;
}

/*
 * Rows a killed process left 'pending', for the targets of this plan,
 * settled against the truth before anything moves: a row whose release
 * the current link points at did switch, any other did not.
 */
static int settle_pending(struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, struct rip_err *err)
{
	struct rip_switches pend;
	struct rip_site *sites;
	struct rip_fleet *fleet = NULL;
	size_t *row;
	size_t n = 0;
	int rc;

	if ((rc = rip_journal_pending(&pend, store->state, err)) < 0)
		return rc;
	sites = rip_xcalloc(pend.n + 1, sizeof(*sites));
	row = rip_xcalloc(pend.n + 1, sizeof(*row));
	for (size_t i = 0; i < pend.n; i++)
		for (size_t k = 0; k < p->ntargets; k++)
			if (!strcmp(p->targets[k].target->name, pend.v[i].target)) {
				sites[n].target = p->targets[k].target;
				row[n++] = i;
				break;
			}
	if (n && (rc = rip_sites_fleet(&fleet, cfg, store, err)) < 0)
		n = 0;
	rip_sites_read(sites, n, fleet, false);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct rip_switch *w = &pend.v[row[i]];
		const struct rip_root_state *st = &sites[i].root;
		bool done;

		if (sites[i].rc == RIP_EUNREACH) {
			rip_info("%s: the switch to %s (journal row %lld) stays "
				"pending: %s", w->target, w->release, (long long)w->seq,
				sites[i].err.msg);
			continue;
		}
		if ((rc = sites[i].rc) < 0) {
			*err = sites[i].err;
			break;
		}
		done = st->current && !strcmp(st->current, w->release);
		rip_info("%s: the interrupted switch to %s (journal row %lld) %s",
			w->target, w->release, (long long)w->seq, done ?
			"had completed" : "had not happened");
		rc = rip_journal_end(store->state, w->seq, done ? "ok" :
			rip_target_remote(sites[i].target) ? "failed: not switched "
			"(interrupted, or its host was unreachable)" :
			"failed: interrupted before the link was switched", err);
	}
	rip_sites_release(sites, n);
	free(sites);
	free(row);
	rip_switches_release(&pend);
	return rc;
}

/* "web-1, web-2": the targets whose report says so, after sep. */
static void names_where(struct rip_buf *out, const struct rip_plan *p,
	bool (*pick)(const struct rip_target_report *r))
{
	size_t k = 0;

	for (size_t i = 0; i < p->ntargets; i++)
		if (pick(&p->targets[i]))
			rip_buf_addf(out, "%s%s", k++ ? ", " : "",
				p->targets[i].target->name);
}

static bool was_switched(const struct rip_target_report *r)
{
	return r->switched;
}

static bool hook_stopped(const struct rip_target_report *r)
{
	return !strcmp(r->activate, "stopped");
}

static bool hook_not_run(const struct rip_target_report *r)
{
	return !strcmp(r->activate, "not run");
}

/*
 * A preempted plan's RIP_EINTR: who asked and where it stopped, in facts
 * the journal holds ("it stopped after switching web-1; ups run: 0003;
 * activate hook stopped on web-1").
 */
static int preempted_error(struct rip_plan *p, struct rip_err *err)
{
	struct rip_buf b = RIP_BUF_INIT, sw = RIP_BUF_INIT;
	int rc;

	names_where(&sw, p, was_switched);
	rip_buf_addf(&b, "%s of %s was preempted by %s: it stopped %s%s",
		p->op, p->release, p->preempted, sw.len ? "after switching " :
		"before switching any target", sw.buf);
	for (size_t i = 0; i < p->ran.n; i++)
		rip_buf_addf(&b, "%s%s", i ? ", " : "; ups run: ", p->ran.v[i]);
	rip_buf_reset(&sw);
	names_where(&sw, p, hook_stopped);
	if (sw.len)
		rip_buf_addf(&b, "; activate hook stopped on %s", sw.buf);
	rip_buf_reset(&sw);
	names_where(&sw, p, hook_not_run);
	if (sw.len)
		rip_buf_addf(&b, "; activate hook not run on %s", sw.buf);
	rc = rip_err_set(err, RIP_EINTR, "%s", b.buf);
	rip_buf_release(&b);
	rip_buf_release(&sw);
	return rc;
}

static int apply_actions(struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, rip_apply_fn fn, void *data, bool *soft_fail,
	struct rip_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < p->n && !rc; i++) {
		const struct rip_action *a = &p->v[i];

		/* the safe points: between phases, never inside a pass */
		if (asked_to_stop(p, store))
			return preempted_error(p, err);

		switch (a->kind) {
		case RIP_ACT_MIGRATE_UP:
		case RIP_ACT_MIGRATE_DOWN: {
			char *names;

			rc = apply_migrations(p, a, cfg, store, err);
			if (rc == RIP_EINTR && p->preempted) {
				rip_info("%s", err->msg);
				return preempted_error(p, err);
			}
			names = ran_list(p);
			if (fn)
				fn(data, a, rc, rc ? err->msg : names);
			free(names);
			if (rc < 0)
				rip_err_prefix(err, "%s", kind_names[a->kind]);
			continue;
		}
		case RIP_ACT_EXTRACT: {
			size_t n;

			rc = apply_extracts(p, i, &n, cfg, store, fn, data, err);
			if (rc < 0)
				rip_err_prefix(err, "extract %s", a->release);
			i += n - 1;
			continue;
		}
		case RIP_ACT_SWITCH: {
			size_t n;

			rc = apply_switches(p, i, &n, cfg, store, fn, data,
				soft_fail, err);
			i += n - 1;
			continue;
		}
		case RIP_ACT_ACTIVATE:
			i += apply_activates(p, i, cfg, store, fn, data, soft_fail) - 1;
			/* asked while the hooks ran: stopped if one was cut short,
			 * else at the next safe point, if any is left */
			for (size_t k = 0; p->preempted && k < p->ntargets; k++)
				if (hook_stopped(&p->targets[k]) ||
				    hook_not_run(&p->targets[k]))
					return preempted_error(p, err);
			continue;
		case RIP_ACT_PROBE:
			i += apply_probes(p, i, cfg, fn, data, soft_fail) - 1;
			continue;
		}
		if (fn)
			fn(data, a, rc, rc ? err->msg : NULL);
		if (rc < 0)
			rip_err_prefix(err, "%s %s%s%s", kind_names[a->kind],
				a->target ? "on '" : "", a->target ? a->target->name : "",
				a->target ? "'" : "");
	}
	return rc;
}

static bool has_kind(const struct rip_plan *p, enum rip_action_kind kind)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].kind == kind)
			return true;
	return false;
}

bool rip_plan_reached_all(const struct rip_plan *p)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (!p->release || strcmp(p->targets[i].to, p->release))
			return false;
	return true;
}

void rip_plan_summary(struct rip_buf *out, const struct rip_plan *p)
{
	bool back = strcmp(p->op, "deploy") != 0;
	size_t there = 0;

	for (size_t i = 0; i < p->ntargets; i++)
		there += p->release && !strcmp(p->targets[i].to, p->release);
	rip_buf_addf(out, "%s: %zu/%zu", back ? "switched back" : "switched",
		there, p->ntargets);
	if (p->ran.n || has_kind(p, RIP_ACT_MIGRATE_UP) ||
	    has_kind(p, RIP_ACT_MIGRATE_DOWN)) {
		rip_buf_addf(out, "; %s run: %zu", back ? "downs" : "ups",
			p->ran.n);
		for (size_t i = 0; i < p->ran.n; i++)
			rip_buf_addf(out, "%s%s%s", i ? ", " : " (", p->ran.v[i],
				i + 1 == p->ran.n ? ")" : "");
	}
	/* the phase: "lossless (schema kept at ...)" or what was lost */
	if (back && p->schema.planned && !p->stopped) {
		struct rip_buf w = RIP_BUF_INIT;

		rip_plan_schema_words(&w, &p->schema);
		if (w.len)
			rip_buf_addf(out, "; %s", w.buf);
		rip_buf_release(&w);
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		const struct rip_target_report *r = &p->targets[i];

		if (!r->failed)
			continue;
		if (r->unreachable)
			rip_buf_addf(out, "; unreachable: %s", r->unreachable);
		if (r->unsynced)
			rip_buf_addf(out, "; %s switched, not synced (its disk "
				"refused the fsync: a crash of its machine may undo the "
				"switch; check that disk)", r->target->name);
		if (!strcmp(r->health, "unchanged"))
			rip_buf_addf(out, "; %s unchanged (still on %s)",
				r->target->name, r->to);
		if (strcmp(r->activate, "ok") && strcmp(r->activate, "-"))
			rip_buf_addf(out, "; activate failed on %s: %s",
				r->target->name, r->activate);
		if (strncmp(r->health, "ok", 2) && strcmp(r->health, "-") &&
		    strcmp(r->health, "unchanged") &&
		    strcmp(r->health, "unreachable") &&
		    strcmp(r->health, "switched, not synced"))
			rip_buf_addf(out, "; probe failed on %s: %s (%s)",
				r->target->name, r->health, r->target->health ?
				r->target->health : "");
	}
}

/* A plan that stopped: every target whose switch was not made is where
 * it was, and says so, rather than claiming the release it never got. */
static void report_unchanged(struct rip_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct rip_target_report *r;

		if (p->v[i].kind != RIP_ACT_SWITCH)
			continue;
		r = find_report(p, p->v[i].target);
		if (r->switched)
			continue;
		set_text(&r->to, r->from);
		set_text(&r->health, "unchanged");
		r->failed = true;
	}
}

/*
 * A plan that stopped with err: every target not switched says so, and
 * err ends with the summary ("switched: 0/3; ..."), which a long error
 * from the database must not push out of err's message: the error is cut
 * visibly instead.
 */
static int stopped(struct rip_plan *p, int rc, struct rip_err *err)
{
	struct rip_buf sum = RIP_BUF_INIT;
	char why[sizeof(err->msg)];
	size_t room;

	p->stopped = true;
	report_unchanged(p);
	if (p->preempted)         /* preempted_error said it all */
		return rc;
	rip_plan_summary(&sum, p);
	room = sum.len + 3 < sizeof(why) ? sizeof(why) - sum.len - 2 : 1;
	rip_copy_shown(why, room, err->msg);
	rc = rip_err_set(err, rc, "%s; %s", why, sum.buf);
	rip_buf_release(&sum);
	return rc;
}

int rip_plan_apply(struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, rip_apply_fn fn, void *data,
	struct rip_err *err)
{
	struct rip_err ignore = { 0 };
	bool soft_fail = false;
	size_t unreach = 0, refused = 0;
	int64_t op;
	char *result;
	int rc;

	/* a lossy rollback not accepted changes nothing, records nothing */
	if ((rc = rip_schema_refuse_loss(&p->schema, p->op, p->release,
			p->schema.accept_data_loss, err)) < 0) {
		p->stopped = true;
		report_unchanged(p);
		return rc;
	}
	if ((rc = rip_op_begin(&op, store->state, p->op, p->release, err)) < 0)
		return stopped(p, rc, err);
	/* a failure before the first action changed nothing either */
	if ((rc = rip_op_supersede(store->state, op, err)) < 0 ||
	    (rc = settle_pending(p, cfg, store, err)) < 0 ||
	    (rc = apply_actions(p, cfg, store, fn, data, &soft_fail, err)) < 0)
		rc = stopped(p, rc, err);
	for (size_t i = 0; i < p->ntargets; i++) {
		unreach += p->targets[i].unreachable != NULL;
		refused += p->targets[i].failed &&
			(!strcmp(p->targets[i].health, "unchanged") ||
			 p->targets[i].unsynced);
	}
	if (!rc && (soft_fail || unreach)) {
		struct rip_buf sum = RIP_BUF_INIT;

		rip_plan_summary(&sum, p);
		rc = rip_err_set(err, RIP_EFAIL, "%s to %s finished, but %s: %s",
			p->op, p->release, unreach ? "not on every host (run it "
			"again once they can be reached: it goes on with them "
			"alone)" : refused ? "not on every target (a host refused "
			"its switch, or could not make it durable: see below)" :
			"an activate hook or a health probe failed",
			sum.buf);
		rip_buf_release(&sum);
	}
	result = rc == RIP_EINTR && p->preempted ? rip_xasprintf("preempted: "
		"%s", err->msg) : rc ? rip_xasprintf("failed: %s", err->msg) :
		rip_xstrdup("ok");
	if (rip_op_end(store->state, op, result, &ignore) < 0)
		rip_warn("cannot record the end of the %s: %s", p->op, ignore.msg);
	free(result);
	return rc;
}
