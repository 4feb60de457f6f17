/* SPDX-License-Identifier: MIT */
/*
 * deploy_pass.c: the passes of an applied plan over its targets, each
 * run at once on every target it covers: extracts (one decompression for
 * the local roots, a transfer to each host), switches (one quick pass,
 * two commits and one sync), activate hooks and health probes.
 *
 * These are the parts that run on fleet threads and talk to hosts; the
 * order of the passes, the migrations and what the plan says at its end
 * are deploy_apply.c's. A hook running when a rollback preempts the
 * deploy is ended rather than waited for, so the 3 a.m. rollback never
 * waits out a hook_timeout: a local one's process group directly, a
 * remote one's by its session, ended (its agent ends the hook).
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
#include "ripcord/probe.h"
#include "ripcord/site.h"
#include "ripcord/target.h"
#include "deploy_internal.h"
#include "banned.h"

/* activate hooks running at once, at most */
#define RIP_HOOKS_AT_ONCE 8

/* how often a preemptible deploy looks for a request while hooks run */
#define RIP_PREEMPT_POLL_MS 100

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
	const atomic_bool *stop;  /* set: start no more, end running hooks */
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
		/* ended as a local hook is: the session closed, its agent ends
		 * the hook; asked before it started, it is not run */
		j->rc = rip_remote_activate_stoppable(&j->hr, r, t, a->release,
			a->previous, pool->stop, &j->err);
		j->not_run = j->rc == RIP_EINTR && !j->hr.stopped;
		break;
	default:
		j->rc = rip_err_set(&j->err, RIP_EUSAGE, "%s is not done on "
			"hosts", rip_action_name(a->kind));
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
int rip_plan_apply_extracts(struct rip_plan *p, size_t i, size_t *n,
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
int rip_plan_apply_switches(struct rip_plan *p, size_t i, size_t *n,
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

		rip_plan_find_report(p, a->target)->seq = seq[j];
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
			struct rip_target_report *r = rip_plan_find_report(p, hj->a->target);

			pending[j] = true;
			rip_plan_set_text(&r->unreachable, hj->err.msg);
			rip_plan_set_text(&r->to, r->from);
			rip_plan_set_text(&r->health, "unreachable");
			r->failed = true;
		} else if (hj->rc == 0 && !hj->synced) {
			/* the link moved, it may not survive the host's crash */
			struct rip_target_report *r = rip_plan_find_report(p, hj->a->target);

			r->unsynced = r->failed = true;
			rip_plan_set_text(&r->health, "switched, not synced");
			*refused = true;
		} else if (hj->rc < 0) {
			/* the other hosts switched at the same moment: stopping
			 * now would leave them without their hooks; this one is
			 * reported unchanged and the plan goes on */
			struct rip_target_report *r = rip_plan_find_report(p, hj->a->target);

			why[j] = rip_xasprintf("failed: %s", hj->err.msg);
			rip_plan_set_text(&r->to, r->from);
			rip_plan_set_text(&r->health, "unchanged");
			r->failed = true;
			*refused = true;
		}
	}
	for (size_t j = 0; j < k; j++) {
		struct rip_target_report *r;

		if (why[j] || pending[j])
			continue;
		r = rip_plan_find_report(p, p->v[i + j].target);
		r->switched = true;
		if (r->unreachable) {   /* it was back in time */
			free(r->unreachable);
			r->unreachable = NULL;
			/* but not durably: it stays failed, the summary names it */
			r->failed = r->unsynced;
		}
		if (unsynced && !rip_target_remote(r->target)) {
			r->unsynced = true;
			rip_plan_set_text(&r->health, "switched, not synced");
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
		const struct rip_target_report *r = rip_plan_find_report(p,
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
	struct rip_target_report *r = rip_plan_find_report(p, t);
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
		rip_plan_set_text(&r->activate, "not run");
		r->failed = true;
		return false;
	} else if (j->hr.stopped) {
		what = rip_xstrdup("stopped");
		r->failed = true;
	} else if (j->rc == RIP_EUNREACH) {
		what = rip_xstrdup("unreachable");
		r->failed = true;
		rip_plan_set_text(&r->unreachable, j->err.msg);
	} else {
		what = j->rc ? rip_xstrdup(j->hr.timed_out ? "timed out" :
			"failed") : j->hr.signal ? rip_xasprintf("signal %d",
			j->hr.signal) : rip_xasprintf("exit %d", j->hr.exit_code);
		r->failed = true;
		if (!j->err.msg[0])
			rip_err_set(&j->err, RIP_EFAIL, "activate hook '%s' of target "
				"'%s' ended with %s", t->activate, t->name, what);
	}
	rip_plan_set_text(&r->activate, what);
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
		if (!atomic_load(&w.stop) && rip_plan_asked_to_stop(p, store))
			atomic_store(&w.stop, true);
		nanosleep(&tick, NULL);
	}
	pthread_join(t, NULL);
}

/* Every consecutive activate action from i at once; returns how many. */
size_t rip_plan_apply_activates(struct rip_plan *p, size_t i,
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
		const struct rip_target_report *r = rip_plan_find_report(p, a->target);

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
size_t rip_plan_apply_probes(struct rip_plan *p, size_t i,
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
		struct rip_target_report *r = rip_plan_find_report(p, p->v[i + k].target);
		char h[sizeof(pr[k].error) + 32];

		rip_probe_text(h, sizeof(h), &pr[k]);
		rip_plan_set_text(&r->health, h);
		if (!pr[k].ok)
			r->failed = *failed = true;
		if (fn)
			fn(data, &p->v[i + k], 0, pr[k].ok ? NULL : h);
	}
	free(pr);
	return n;
}
