/* SPDX-License-Identifier: MIT */
/*
 * deploy_apply.c: the one applier of deploy and rollback plans: settling
 * what a killed run left pending, running the actions in order, the
 * migrations among them, and the summary and error a plan ends with.
 *
 * Applying follows DESIGN.md §5's order, which the planners laid out. A
 * failed hook or probe does not stop a rollback halfway: it is reported
 * per target. A deploy may be preempted by a rollback
 * (rip_lock_stop_request): it stops only where the targets are whole,
 * between the phases, between two ups (each its own transaction) and
 * between hooks, never inside the pass of switches. The passes over the
 * targets (extracts, switches, hooks, probes) are in deploy_pass.c: this
 * file sequences them and speaks for the whole plan.
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

void rip_plan_set_text(char **slot, const char *text)
{
	free(*slot);
	*slot = rip_xstrdup(text);
}

/* Whether a preemptible plan was asked to stop; remembers who asked. */
bool rip_plan_asked_to_stop(struct rip_plan *p, struct rip_store *store)
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

	return rip_plan_asked_to_stop(c->p, c->store);
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
		rc = rip_plan_downs_keep(&migs, p, m, cfg, store, a->release, err);
	else
		rc = rip_release_migrations(&migs, store, a->release,
			cfg->package.verify_key, err);
	if (rc < 0)
		goto out;
	if (a->kind == RIP_ACT_MIGRATE_UP) {
		o.phase = RIP_PHASE_EXPAND;
		rc = rip_migrate_up(m, &migs, &o, &done, err);
	}
	else if ((rc = rip_plan_down_sources(&sources, m, &migs, store,
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
		if (rip_plan_asked_to_stop(p, store))
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
				rip_err_prefix(err, "%s", rip_action_name(a->kind));
			continue;
		}
		case RIP_ACT_EXTRACT: {
			size_t n;

			rc = rip_plan_apply_extracts(p, i, &n, cfg, store, fn, data, err);
			if (rc < 0)
				rip_err_prefix(err, "extract %s", a->release);
			i += n - 1;
			continue;
		}
		case RIP_ACT_SWITCH: {
			size_t n;

			rc = rip_plan_apply_switches(p, i, &n, cfg, store, fn, data,
				soft_fail, err);
			i += n - 1;
			continue;
		}
		case RIP_ACT_ACTIVATE:
			i += rip_plan_apply_activates(p, i, cfg, store, fn, data, soft_fail) - 1;
			/* asked while the hooks ran: stopped if one was cut short,
			 * else at the next safe point, if any is left */
			for (size_t k = 0; p->preempted && k < p->ntargets; k++)
				if (hook_stopped(&p->targets[k]) ||
				    hook_not_run(&p->targets[k]))
					return preempted_error(p, err);
			continue;
		case RIP_ACT_PROBE:
			i += rip_plan_apply_probes(p, i, cfg, fn, data, soft_fail) - 1;
			continue;
		}
		if (fn)
			fn(data, a, rc, rc ? err->msg : NULL);
		if (rc < 0)
			rip_err_prefix(err, "%s %s%s%s", rip_action_name(a->kind),
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
		r = rip_plan_find_report(p, p->v[i].target);
		if (r->switched)
			continue;
		rip_plan_set_text(&r->to, r->from);
		rip_plan_set_text(&r->health, "unchanged");
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
