/* SPDX-License-Identifier: MIT */
/*
 * status.c: the truth against the record, per target (status.h). Reads
 * only: status may run while a deploy does, and changes nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ripcord/deploy.h"
#include "ripcord/fsutil.h"
#include "ripcord/probe.h"
#include "ripcord/state.h"
#include "ripcord/site.h"
#include "ripcord/status.h"
#include "ripcord/target.h"
#include "banned.h"

const char *rip_rollback_state_name(enum rip_rollback_state s)
{
	static const char *const names[] = { "none", "warm", "cold", "missing",
		"yanked" };

	return names[s];
}

void rip_status_release(struct rip_status *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct rip_target_status *t = &s->targets[i];

		free(t->current);
		free(t->recorded);
		free(t->error);
		free(t->rollback);
		free(t->recorded_op);
		free(t->health);
		free(t->compat_level);
		rip_drill_rec_release(&t->rollback_drill);
		rip_strlist_release(&t->drilled_from);
		rip_switch_release(&t->pending);
	}
	for (size_t i = 0; i < s->nschema; i++)
		rip_schema_phase_release(&s->schema[i]);
	free(s->schema);
	free(s->targets);
	free(s->newest);
	rip_op_release(&s->unfinished);
	rip_rollout_rec_release(&s->rollout);
	memset(s, 0, sizeof(*s));
}

/* The record of t: last completed switch, a pending one, an owed hook. */
static int read_record(struct rip_target_status *ts, struct rip_store *store,
	const struct rip_switches *pending, struct rip_err *err)
{
	struct rip_switches h;
	struct rip_switch last;
	int rc;

	if ((rc = rip_journal_history(&h, store->state, ts->target->name, 1,
			err)) < 0)
		return rc;
	if (h.n)
		ts->recorded = rip_xstrdup(h.v[0].release);
	rip_switches_release(&h);
	for (size_t i = 0; i < pending->n; i++) {
		const struct rip_switch *w = &pending->v[i];

		if (strcmp(w->target, ts->target->name))
			continue;
		rip_switch_release(&ts->pending);
		ts->pending = (struct rip_switch){ .seq = w->seq,
			.target = rip_xstrdup(w->target),
			.release = rip_xstrdup(w->release),
			.previous = w->previous ? rip_xstrdup(w->previous) : NULL,
			.op = rip_xstrdup(w->op), .result = rip_xstrdup(w->result),
			.started = w->started };
		ts->pending_done = ts->current && !strcmp(ts->current, w->release);
	}
	if ((rc = rip_journal_last(&last, store->state, ts->target->name,
			err)) < 0)
		return rc;
	if (ts->target->activate && last.seq && last.activate &&
	    ts->current && !strcmp(ts->current, last.release)) {
		bool unsettled = rip_switch_activate_unsettled(&last,
			ts->current);

		ts->activate_owed = unsettled && !strcmp(last.activate, "pending");
		ts->activate_failed = unsettled && !ts->activate_owed;
		ts->recorded_op = rip_xstrdup(last.op);
	}
	rip_switch_release(&last);
	/* a pending row is drift of its own kind: reported as pending */
	ts->drift = !ts->pending.seq && (ts->current || ts->recorded) &&
		(!ts->current || !ts->recorded ||
		 strcmp(ts->current, ts->recorded));
	return 0;
}

/* The compatibility step of last (current's drill), when it ran with the
 * release a rollback of ts goes to. */
static void read_compat(struct rip_target_status *ts,
	const struct rip_drill_rec *last)
{
	char *prev, *level;
	enum rip_drill_compat_result r = rip_drill_rec_compat(&prev, &level,
		last);

	if (r != RIP_COMPAT_NEVER && prev && ts->rollback &&
	    !strcmp(prev, ts->rollback)) {
		ts->compat = r;
		ts->compat_level = level;
		level = NULL;
	}
	free(prev);
	free(level);
}

/*
 * Whether the last drill of what ts runs started from where its rollback
 * goes (DESIGN.md §6): a drill from the cut-parent alone may have undone
 * nothing that the rollback's downs undo. A drill recorded before paths
 * started from the cut-parent.
 */
static int read_exercised(struct rip_target_status *ts,
	struct rip_store *store, struct rip_err *err)
{
	struct rip_drill_rec last;
	struct rip_release_rec rec;
	struct rip_err ignore = { 0 };
	bool ran;
	int rc;

	if ((rc = rip_drill_last(&last, store->state, ts->current, false,
			err)) < 0 || !last.seq)
		return rc;
	ran = rip_drill_rec_from(&ts->drilled_from, &last);
	if (ran && !ts->drilled_from.n &&
	    rip_state_release_get(&rec, store->state, ts->current,
		    &ignore) == 0) {
		rip_strlist_push(&ts->drilled_from, rec.parent ? rec.parent : "");
		rip_release_rec_release(&rec);
	}
	ts->rollback_unexercised = ran &&
		!rip_strlist_has(&ts->drilled_from, ts->rollback);
	read_compat(ts, &last);
	rip_drill_rec_release(&last);
	return 0;
}

static int read_rollback(struct rip_target_status *ts,
	struct rip_store *store, const struct rip_root_state *root,
	bool migrations, struct rip_err *err)
{
	struct stat sb;
	char *art;
	int rc;

	if ((rc = rip_rollback_target(&ts->rollback, store, ts->target,
			ts->current, err)) < 0 || !ts->rollback)
		return rc;
	if ((rc = rip_drill_last(&ts->rollback_drill, store->state,
			ts->rollback, false, err)) < 0)
		return rc;
	if (migrations && ts->current &&
	    (rc = read_exercised(ts, store, err)) < 0)
		return rc;
	art = rip_store_artifact_path(store, ts->rollback);
	/* RIP_EFAIL is the refusal; a read error only loses the label */
	if (rip_store_refuse_yanked(store, ts->rollback, "roll back to",
			NULL) == RIP_EFAIL)
		ts->rollback_state = RIP_RB_YANKED;
	else if (rip_strlist_has(&root->extracted, ts->rollback))
		ts->rollback_state = RIP_RB_WARM;
	else if (stat(art, &sb) == 0 && S_ISREG(sb.st_mode))
		ts->rollback_state = RIP_RB_COLD;
	else
		ts->rollback_state = RIP_RB_MISSING;
	free(art);
	return 0;
}

static int read_target(struct rip_target_status *ts, struct rip_store *store,
	const struct rip_site *site, const struct rip_switches *pending,
	bool migrations, struct rip_err *err)
{
	int rc = 0;

	if (site->rc < 0) {
		ts->error = rip_xstrdup(site->err.msg);
		ts->unreachable = site->rc == RIP_EUNREACH;
		/* what the journal says it runs, and what it owes, still show */
		if (store &&
		    (rc = read_record(ts, store, pending, err)) < 0)
			rip_err_prefix(err, "target '%s'", ts->target->name);
		ts->drift = ts->pending_done = false;
		return rc;
	}
	ts->current = site->root.current ? rip_xstrdup(site->root.current) :
		NULL;
	ts->extracted = site->root.extracted.n;
	if (store && ((rc = read_record(ts, store, pending, err)) < 0 ||
	    (rc = read_rollback(ts, store, &site->root, migrations, err)) < 0))
		rip_err_prefix(err, "target '%s'", ts->target->name);
	return rc;
}

static int read_store(struct rip_status *out, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_release_rec *recs;
	size_t n;
	int rc;

	if ((rc = rip_state_release_list(&recs, &n, store->state, err)) < 0)
		return rc;
	out->releases = n;
	if (n)
		out->newest = rip_xstrdup(recs[n - 1].id);
	rip_release_recs_free(recs, n);
	out->busy = rip_lock_holder(store, out->holder, sizeof(out->holder));
	if ((rc = rip_rollout_current(&out->rollout, store->state, err)) < 0)
		return rc;
	out->rollout_alive = rip_rollout_alive(&out->rollout);
	return rip_op_unfinished(&out->unfinished, store->state, err);
}

int rip_status_read(struct rip_status *out, const struct rip_config *cfg,
	struct rip_store *store, struct rip_err *err)
{
	struct rip_switches pending = { 0 };
	struct rip_site *sites = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->targets = rip_xcalloc(cfg->n_targets + 1, sizeof(*out->targets));
	if (store && ((rc = read_store(out, store, err)) < 0 ||
	    (rc = rip_journal_pending(&pending, store->state, err)) < 0))
		goto done;
	/* every root at once: the hosts answer in parallel */
	sites = rip_sites_read_all(cfg, store);
	for (size_t i = 0; i < cfg->n_targets && !rc; i++) {
		struct rip_target_status *ts = &out->targets[out->n++];

		ts->target = &cfg->targets[i];
		rc = read_target(ts, store, &sites[i], &pending,
			cfg->migrations.dir != NULL, err);
		out->unreachable += ts->unreachable;
		out->unread += ts->error && !ts->unreachable;
		out->drift |= ts->drift;
		/* what an unreachable or unreadable target owes waits for it
		 * to be read: exit 1, not 5 (repeat it now and it converges) */
		out->owed |= !ts->error && (ts->pending.seq ||
			ts->activate_owed);
	}
	out->owed |= out->unfinished.seq != 0;
	/* a rollout whose process died waits for resume or abort */
	out->owed |= out->rollout.seq && !out->rollout_alive &&
		strcmp(out->rollout.state, "paused");
	if (out->busy)
		out->owed = false;
done:
	rip_sites_free(sites, cfg->n_targets);
	rip_switches_release(&pending);
	if (rc < 0)
		rip_status_release(out);
	return rc;
}

int rip_status_probe(struct rip_status *s, uint64_t timeout_ms,
	struct rip_err *err)
{
	struct rip_probe *pr = rip_xcalloc(s->n + 1, sizeof(*pr));
	size_t *of = rip_xcalloc(s->n + 1, sizeof(*of));
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < s->n; i++) {
		if (!s->targets[i].target->health)
			continue;
		of[n] = i;
		pr[n++].url = s->targets[i].target->health;
	}
	s->probed = n > 0;
	if ((rc = rip_probe_run(pr, n, timeout_ms, err)) == 0) {
		for (size_t k = 0; k < n; k++) {
			struct rip_target_status *t = &s->targets[of[k]];
			char h[sizeof(pr[k].error) + 32];

			rip_probe_text(h, sizeof(h), &pr[k]);
			free(t->health);
			t->health = rip_xstrdup(h);
			t->healthy = pr[k].ok;
		}
	}
	free(pr);
	free(of);
	return rc;
}

/* Whether a and b are the same release, NULL (none) included. */
static bool same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

int rip_status_schema(struct rip_status *s, const struct rip_config *cfg,
	struct rip_store *store, struct rip_err *err)
{
	struct rip_err e = { 0 };
	int rc = 0, one;

	if (!cfg->migrations.dir || !store)
		return 0;
	s->schema = rip_xcalloc(s->n + 1, sizeof(*s->schema));
	for (size_t i = 0; i < s->n; i++) {
		struct rip_target_status *t = &s->targets[i];

		if (!t->current)
			continue;
		for (size_t j = 0; j < s->nschema && !t->schema; j++)
			if (!strcmp(s->schema[j].release, t->current) &&
			    same(s->schema[j].previous, t->rollback))
				t->schema = &s->schema[j];
		if (t->schema)
			continue;
		/* one release that cannot be read (gone from the store, say)
		 * leaves the others shown: the first failure is returned */
		one = rip_schema_phase(&s->schema[s->nschema], cfg, store,
			t->current, t->rollback, &e);
		if (one < 0 && rc == 0) {
			rc = one;
			if (err)
				*err = e;
		}
		t->schema = &s->schema[s->nschema++];
	}
	return rc;
}
