/* SPDX-License-Identifier: MIT */
/*
 * deploy_rollback.c: the rollback planner: where a rollback goes (the
 * journal's history of switches, an interrupted rollback, a preempted
 * deploy), which downs it runs and from which releases' sources, and
 * what it keeps of the schema.
 *
 * A rollback switches every target back first, then runs the downs, and
 * ends with a probe of every target, so it never only looks done; its
 * downs are checked by a dry run here, so a plan never stops on an
 * irreversible migration after targets were switched. The seam with
 * deploy.c: this file decides where to go and what to undo, deploy.c
 * owns the plan and how targets move (deploy_internal.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/deploy.h"
#include "ripcord/journal.h"
#include "ripcord/log.h"
#include "ripcord/migrate.h"
#include "ripcord/release.h"
#include "ripcord/target.h"
#include "deploy_internal.h"
#include "banned.h"

/* switches of a target read back to find its rollback target, at most */
#define RIP_ROLLBACK_LOOKBACK 256

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

/* Puts a copy of row w before the switches h (newest first). */
static void history_push_front(struct rip_switches *h,
	const struct rip_switch *w)
{
	struct rip_switch *c;

	RIP_ALLOC_GROW(h->v, h->n + 1, h->alloc);
	memmove(&h->v[1], &h->v[0], h->n * sizeof(*h->v));
	h->n++;
	c = &h->v[0];
	memset(c, 0, sizeof(*c));
	c->seq = w->seq;
	c->target = rip_xstrdup(w->target);
	c->release = rip_xstrdup(w->release);
	c->previous = w->previous ? rip_xstrdup(w->previous) : NULL;
	c->op = rip_xstrdup(w->op);
	c->result = rip_xstrdup("ok");
}

/*
 * rip_rollback_target, with done (NULL: none) a pending row of target
 * that the truth settles as done (its current link points at its
 * release): it counts as the newest completed switch, as it will be
 * recorded before anything moves.
 */
static int target_of(char **out, struct rip_store *store,
	const struct rip_target *t, const char *current,
	const struct rip_switch *done, struct rip_err *err)
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
		if (done && (!h.n || h.v[0].seq < done->seq))
			history_push_front(&h, done);
		*out = rollback_from_history(&h, current);
		rip_switches_release(&h);
		if (whole)
			break;
	}
	return rc;
}

/*
 * last (a target's newest journal row) when it is still pending and the
 * truth settles it as done: the target's current link points at the
 * row's release (the switch was made, its answer lost). NULL otherwise:
 * a pending row of a target that did not switch is not in its history.
 */
static const struct rip_switch *pending_done(const struct rip_switch *last,
	const char *current)
{
	return last->seq && last->result && !strcmp(last->result, "pending") &&
		current && !strcmp(current, last->release) ? last : NULL;
}

/*
 * The release a rollback of target goes back to. Newest first through its
 * completed switches, the first release that is not current and that no
 * later rollback left: rolling back twice goes further back (v2 -> v1 ->
 * v0), never forward again to the release the first rollback fled. A
 * rollback to R also leaves every release switched to since R first ran
 * (rollback --to v1 from v3 jumps over v2): those are skipped until the
 * switch that brought R. A pending switch to current (made, its answer
 * lost) counts as completed, as the next deploy or rollback records it.
 */
int rip_rollback_target(char **out, struct rip_store *store,
	const struct rip_target *t, const char *current, struct rip_err *err)
{
	struct rip_switch last;
	int rc;

	*out = NULL;
	if ((rc = rip_journal_last(&last, store->state, t->name, err)) < 0)
		return rc;
	rc = target_of(out, store, t, current, pending_done(&last, current),
		err);
	rip_switch_release(&last);
	return rc;
}

/*
 * The release of the newest operation when it is a rollback a target
 * still has a pending switch of: its answer was lost (a timeout, a
 * session that ended), so the host switched or did not, as its link
 * says, and the applier settles the row so before anything moves. Its
 * rerun goes on to that release, as `status` and `gc` advise: the
 * history, which lacks the switch, would lead a host that did switch
 * forward to the release the rollback fled. *out NULL: none.
 */
static int pending_rollback(char **out, struct rip_store *store,
	const struct rip_where *w, size_t n, struct rip_err *err)
{
	struct rip_op op;
	int rc;

	*out = NULL;
	if ((rc = rip_op_last(&op, store->state, NULL, err)) < 0)
		return rc;
	for (size_t i = 0; i < n && op.seq && op.release && !*out &&
			!strcmp(op.op, "rollback"); i++) {
		const struct rip_switch *s = &w[i].last;

		if (s->seq && s->result && !strcmp(s->result, "pending") &&
		    !strcmp(s->op, "rollback") && !strcmp(s->release, op.release))
			*out = rip_xstrdup(op.release);
	}
	rip_op_release(&op);
	return 0;
}

/*
 * Whether the newest operation is a deploy that a rollback preempted
 * before it switched any target (no target runs its release): there is
 * nothing of it on the targets to go back from.
 */
static bool preempted_unswitched(struct rip_store *store,
	const struct rip_where *w, size_t n)
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
 * (a rerun converges: one killed, or one whose switch is still pending,
 * pending_rollback), else the rollback target of the targets that run
 * the newest release, so after a deploy that reached only some targets
 * every target goes back to where the others still are. A rollback that
 * preempted a deploy before its first switch undoes that deploy: every
 * target stays on the release they all run (the downs then undo the ups
 * it ran), rather than going one release further back.
 */
static int rollback_dest(char **out, struct rip_plan *p,
	struct rip_store *store, const struct rip_where *w, size_t n,
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
	if ((rc = pending_rollback(out, store, w, n, err)) < 0 || *out) {
		p->resumed = *out != NULL;
		return rc;
	}
	if ((rc = rip_state_release_list(&recs, &nrecs, store->state, err)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		ssize_t k = rip_release_index(recs, nrecs, w[i].root.current);

		if (k > newest)
			newest = k;
	}
	if (newest >= 0 && preempted_unswitched(store, w, n)) {
		bool same = true;

		for (size_t i = 0; i < n && same; i++)
			same = rip_release_index(recs, nrecs, w[i].root.current) == newest;
		if (same) {
			*out = rip_xstrdup(recs[newest].id);
			rip_info("the preempted deploy switched no target: every "
				"target stays on %s", *out);
			goto done;
		}
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *d = NULL;

		if (newest < 0 || rip_release_index(recs, nrecs, w[i].root.current) !=
				newest)
			continue;
		if ((rc = target_of(&d, store, w[i].t, w[i].root.current,
				w[i].unreach ? NULL : pending_done(&w[i].last,
				w[i].root.current), err)) < 0)
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
int rip_plan_down_sources(struct rip_migrations *out, struct rip_migrate *m,
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
int rip_plan_downs_keep(struct rip_migrations *keep, const struct rip_plan *p,
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

	if (!rip_plan_has_migrations(cfg))
		return 0;
	if ((rc = rip_migrate_open(&m, cfg, err)) < 0 ||
	    (rc = rip_plan_downs_keep(&keep, p, m, cfg, store, dest, err)) < 0 ||
	    (rc = rip_plan_down_sources(&sources, m, &keep, store,
		    cfg->package.verify_key, err)) < 0 ||
	    (rc = rip_migrate_down(m, &keep, &sources, &dry, &p->migrations,
		    err)) < 0)
		goto done;
	if (p->migrations)
		rip_plan_add(p, RIP_ACT_MIGRATE_DOWN, NULL, dest, NULL);
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

	if (!rip_plan_has_migrations(cfg))
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

	struct rip_where *w = rip_xcalloc(cfg->n_targets + 1, sizeof(*w));
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
	if ((rc = rip_plan_check_names(cfg, NULL, 0, err)) < 0)
		goto done;
	for (; n < cfg->n_targets; n++)
		w[n].t = &cfg->targets[n];
	if ((rc = rip_wheres_read(w, n, cfg, store, false, err)) < 0)
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
	rip_plan_moves(out, w, n, dest);
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
		out->schema.planned = rip_plan_has_migrations(cfg);
	if (rc < 0)
		goto done;
	rip_plan_add_probes(out);
done:
	free(d);
	rip_wheres_release(w, n);
	free(dest);
	if (rc < 0)
		rip_plan_release(out);
	return rc;
}

void rip_plan_add_probes(struct rip_plan *p)
{
	for (size_t i = 0; i < p->ntargets; i++)
		if (p->targets[i].target->health)
			rip_plan_add(p, RIP_ACT_PROBE, p->targets[i].target, p->release, NULL);
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
