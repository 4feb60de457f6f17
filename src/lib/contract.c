/* SPDX-License-Identifier: MIT */
/*
 * contract.c: `migrate contract`: a release's held-back contract ups,
 * applied once the release has proven itself.
 *
 * Nothing new is stored: what is held back is what the database's
 * migration table does not have among the release's contract ups; when
 * the release reached 100% is read from the switch journal (the newest
 * completed switch of every target, onto the release: the latest of
 * them is when the last target arrived) and the rollouts table (a
 * completed rollout of the release counts from its completion, after
 * its last bake). Planning reads only; every check is evaluated, so
 * --dry-run can list them all, and a refusal names each that failed.
 *
 * [rollout] auto_contract runs the same plan once a rollout completed
 * (rip_rollout_contract); it never waits in-process for contract_after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ripcord/contract.h"
#include "ripcord/journal.h"
#include "ripcord/release.h"
#include "ripcord/rollout.h"
#include "ripcord/site.h"
#include "rollout_internal.h"
#include "banned.h"

enum { CHECK_ROLLOUT, CHECK_TARGETS, CHECK_WAIT };

void rip_contract_release(struct rip_contract *c)
{
	free(c->release);
	rip_strlist_release(&c->held);
	rip_strlist_release(&c->applied);
	for (size_t i = 0; i < 3; i++)
		free(c->checks[i].message);
	memset(c, 0, sizeof(*c));
}

/* Records check i of c; message is handed over. */
static void set_check(struct rip_contract *c, int i, const char *name,
	bool ok, char *message)
{
	c->checks[i].name = name;
	c->checks[i].ok = ok;
	c->checks[i].message = message;
}

/* "2026-12-07 02:03:04 UTC" */
static void utc(char *out, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M:%S UTC",
			&tm))
		snprintf(out, n, "@%lld", (long long)t);
}

/* "1h 2m 3s", "1h", "45s", "0s": the parts that are not 0 */
static void span(char *out, size_t n, int64_t s)
{
	int64_t part[3] = { s / 3600, s % 3600 / 60, s % 60 };
	const char unit[3] = { 'h', 'm', 's' };
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < 3 && len < n; i++) {
		int k;

		if (!part[i] && (i < 2 || len))
			continue;
		k = snprintf(out + len, n - len, "%s%lld%c", len ? " " : "",
			(long long)part[i], unit[i]);
		len += k > 0 ? (size_t)k : 0;
	}
}

/*
 * The targets check: every target on id (*id chosen when NULL: the one
 * release they all run). A target that cannot be read (an unreachable
 * host) has not proven anything.
 */
static int check_targets(struct rip_contract *c, const struct rip_config *cfg,
	struct rip_store *store, const char *id, struct rip_err *err)
{
	struct rip_site *v = rip_sites_read_all(cfg, store);
	struct rip_buf bad = RIP_BUF_INIT, all = RIP_BUF_INIT;
	const char *common = NULL;
	bool differ = false;
	int rc = 0;

	for (size_t i = 0; i < cfg->n_targets; i++) {
		const char *cur = v[i].rc < 0 ? NULL : v[i].root.current;

		rip_buf_addf(&all, "%s%s: %s", i ? ", " : "", cfg->targets[i].name,
			v[i].rc < 0 ? "unreadable" : cur ? cur : "nothing");
		if (!cur || (common && strcmp(common, cur)))
			differ = true;
		else if (!common)
			common = cur;
	}
	if (!id && (differ || !common)) {
		rc = rip_err_set(err, RIP_EFAIL, "the targets do not all run one "
			"release (%s): name the release, 'ripcord migrate contract ID', "
			"once every target runs it", all.buf);
		goto done;
	}
	c->release = rip_xstrdup(id ? id : common);
	for (size_t i = 0; i < cfg->n_targets; i++) {
		const char *cur = v[i].rc < 0 ? NULL : v[i].root.current;

		if (v[i].rc < 0)
			rip_buf_addf(&bad, "%s'%s' cannot be read (%s)", bad.len ?
				", " : "", cfg->targets[i].name, v[i].err.msg);
		else if (!cur || strcmp(cur, c->release))
			rip_buf_addf(&bad, "%s'%s' runs %s", bad.len ? ", " : "",
				cfg->targets[i].name, cur ? cur : "nothing");
	}
	set_check(c, CHECK_TARGETS, "targets", !bad.len, bad.len ?
		rip_xasprintf("not every target runs %s: %s; it has not proven "
			"itself on them (deploy or roll it out to every target first)",
			c->release, bad.buf) :
		rip_xasprintf("every target runs %s (%s)", c->release, all.buf));
done:
	rip_sites_free(v, cfg->n_targets);
	rip_buf_release(&bad);
	rip_buf_release(&all);
	return rc;
}

/* When every target was on c->release: the newest completed switch of
 * each (0 when one has none onto it), or a later completed rollout. */
static int reached_at(struct rip_contract *c, const struct rip_config *cfg,
	struct rip_store *store, struct rip_err *err)
{
	struct rip_rollout_rec ro = { 0 };
	int64_t at = 0;
	int rc = 0;

	for (size_t i = 0; i < cfg->n_targets && rc == 0; i++) {
		struct rip_switches h;

		if ((rc = rip_journal_history(&h, store->state,
				cfg->targets[i].name, 1, err)) < 0)
			break;
		if (!h.n || strcmp(h.v[0].release, c->release))
			at = -1;
		else if (at >= 0 && h.v[0].finished > at)
			at = h.v[0].finished;
		rip_switches_release(&h);
	}
	if (rc == 0 && at > 0 &&
	    (rc = rip_rollout_last(&ro, store->state, err)) == 0 && ro.seq &&
	    !strcmp(ro.release, c->release) && !strcmp(ro.state, "completed") &&
	    ro.finished > at)
		at = ro.finished;
	rip_rollout_rec_release(&ro);
	c->reached = at > 0 ? at : 0;
	return rc;
}

/* The contract_after check, from c->reached (now: the wait is skipped,
 * and the message says so). */
static void check_wait(struct rip_contract *c, const struct rip_config *cfg,
	bool now)
{
	uint64_t after_s = cfg->migrations.contract_after_ms / 1000;
	int64_t t = (int64_t)time(NULL);
	char when[40], left[40], after[40];

	span(after, sizeof(after), (int64_t)after_s);
	if (!c->reached) {
		set_check(c, CHECK_WAIT, "contract_after", now, rip_xasprintf(
			"the journal has no record of when every target reached %s%s",
			c->release, now ? " (--now: not waited for)" :
			": run it with --now once you are sure it has proven itself"));
		return;
	}
	c->may_at = c->reached + (int64_t)after_s;
	utc(when, sizeof(when), c->reached);
	span(left, sizeof(left), c->may_at - t);
	if (t >= c->may_at)
		set_check(c, CHECK_WAIT, "contract_after", true, rip_xasprintf(
			"%s reached 100%% at %s, contract_after (%s) has passed",
			c->release, when, after));
	else
		set_check(c, CHECK_WAIT, "contract_after", now, rip_xasprintf(
			"%s reached 100%% at %s: contract_after (%s) has %s left%s",
			c->release, when, after, left, now ? " (--now: not waited "
			"for)" : "; run it then, or now with --now"));
}

/* The pending contract ups of c->release on the database. */
static int read_held(struct rip_contract *c, const struct rip_config *cfg,
	struct rip_store *store, struct rip_err *err)
{
	struct rip_migrations migs = { 0 };
	struct rip_mig_status st = { 0 };
	struct rip_migrate *m = NULL;
	int rc;

	if ((rc = rip_release_migrations(&migs, store, c->release,
			cfg->package.verify_key, err)) < 0 ||
	    (rc = rip_migrate_open(&m, cfg, err)) < 0 ||
	    (rc = rip_migrate_status(&st, m, &migs, err)) < 0)
		goto done;
	for (size_t i = 0; i < st.n; i++)
		if (st.v[i].state == RIP_MIG_PENDING && st.v[i].contract)
			rip_strlist_push(&c->held, st.v[i].id);
done:
	rip_mig_status_release(&st);
	rip_migrate_free(m);
	rip_migrations_release(&migs);
	return rc;
}

int rip_contract_plan(struct rip_contract *out, const struct rip_config *cfg,
	struct rip_store *store, const char *id, bool now, struct rip_err *err)
{
	struct rip_err berr = { 0 };
	int rc, busy;

	memset(out, 0, sizeof(*out));
	if (!cfg->migrations.dir || (!cfg->migrations.database &&
			strcmp(cfg->migrations.driver, "command")))
		return rip_err_set(err, RIP_ECONFIG, "%s: [migrations] has no "
			"database: nothing to contract", cfg->path);
	busy = rip_rollout_busy(store, &berr);
	if ((rc = check_targets(out, cfg, store, id, err)) < 0) {
		/* no release named and the targets differ: a rollout is the
		 * likely reason, and the one to name */
		if (busy < 0 && err) {
			char was[sizeof(err->msg)];

			snprintf(was, sizeof(was), "%s", err->msg);
			rc = rip_err_set(err, RIP_EBUSY, "migrate contract refused, "
				"nothing was changed: %s: contract waits until it has "
				"ended; %s", berr.msg, was);
		}
		goto done;
	}
	if ((rc = read_held(out, cfg, store, err)) < 0 ||
	    (rc = reached_at(out, cfg, store, err)) < 0)
		goto done;
	set_check(out, CHECK_ROLLOUT, "rollout", busy == 0, busy == 0 ?
		rip_xstrdup("no rollout is running or paused") :
		rip_xasprintf("%s: contract waits until it has ended", berr.msg));
	check_wait(out, cfg, now);
	for (size_t i = 0; i < 3 && !out->code; i++)
		if (!out->checks[i].ok)
			out->code = i == CHECK_ROLLOUT ? RIP_EBUSY : RIP_EFAIL;
done:
	if (rc < 0)
		rip_contract_release(out);
	return rc;
}

int rip_contract_refusal(const struct rip_contract *c, struct rip_err *err)
{
	struct rip_buf b = RIP_BUF_INIT;
	int rc;

	if (!c->code)
		return 0;
	for (size_t i = 0; i < 3; i++)
		if (!c->checks[i].ok)
			rip_buf_addf(&b, "%s%s", b.len ? "; " : "",
				c->checks[i].message);
	rc = rip_err_set(err, c->code, "migrate contract %s refused, nothing "
		"was changed: %s", c->release, b.buf);
	rip_buf_release(&b);
	return rc;
}

/* What note_step needs: where to record, whom to tell. */
struct apply_ctx {
	struct rip_contract *c;
	const struct rip_migrate_opts *o;
};

/* Records each contract up that ran, then tells the caller's on_step. */
static void note_step(void *data, const struct rip_migration *mg,
	enum rip_db_direction dir, int rc, double seconds)
{
	struct apply_ctx *x = data;

	if (rc == 0 && !x->o->dry_run)
		rip_strlist_push(&x->c->applied, mg->id);
	if (x->o->on_step)
		x->o->on_step(x->o->data, mg, dir, rc, seconds);
}

int rip_contract_apply(struct rip_contract *c, const struct rip_config *cfg,
	struct rip_store *store, const struct rip_migrate_opts *o,
	struct rip_err *err)
{
	struct apply_ctx x = { c, o };
	struct rip_migrate_opts mo = *o;
	struct rip_migrations migs = { 0 };
	struct rip_migrate *m = NULL;
	size_t done = 0;
	int rc;

	mo.phase = RIP_PHASE_CONTRACT;
	mo.on_step = note_step;
	mo.data = &x;
	if ((rc = rip_release_migrations(&migs, store, c->release,
			cfg->package.verify_key, err)) == 0 &&
	    (rc = rip_migrate_open(&m, cfg, err)) == 0)
		rc = rip_migrate_up(m, &migs, &mo, &done, err);
	rip_migrate_free(m);
	rip_migrations_release(&migs);
	return rc;
}

/* "0007_drop_mail,0009_drop_fax" */
static char *joined(const struct rip_strlist *l)
{
	struct rip_buf b = RIP_BUF_INIT;

	for (size_t i = 0; i < l->n; i++)
		rip_buf_addf(&b, "%s%s", i ? "," : "", l->v[i]);
	return rip_buf_detach(&b, NULL);
}

/* What auto_contract says when a check refused: when it may run, or why
 * it is not for a machine to decide. */
static char *deferred(const struct rip_contract *c, const char *ids)
{
	char when[40];
	struct rip_err why = { 0 };

	if (c->checks[CHECK_WAIT].ok || !c->may_at ||
	    !c->checks[CHECK_ROLLOUT].ok || !c->checks[CHECK_TARGETS].ok) {
		(void)rip_contract_refusal(c, &why);
		return rip_xasprintf("auto_contract: %s held back: %s", ids,
			why.msg);
	}
	utc(when, sizeof(when), c->may_at);
	return rip_xasprintf("auto_contract: %s held back until %s "
		"(contract_after): the periodic 'ripcord migrate contract --due' "
		"runs it then (contrib/systemd's drill job does after its "
		"drills), or run 'ripcord migrate contract %s' after it", ids, when,
		c->release);
}

int rip_rollout_contract(struct rip_rollout_run *r, struct rip_err *err)
{
	struct rip_rollout_event e = { .kind = RIP_RO_CONTRACT };
	struct rip_migrate_opts o = { 0 };
	struct rip_contract c = { 0 };
	struct rip_err cerr = { 0 };
	char *msg = NULL, *ids = NULL, *ran = NULL;
	struct rip_lock l;
	int rc;

	if ((rc = rip_lock_acquire_wait(&l, r->store, "rollout",
			RIP_ROLLOUT_PREEMPT_WAIT_MS, &cerr)) < 0) {
		msg = rip_xasprintf("auto_contract: %s", cerr.msg);
		goto out;
	}
	if ((rc = rip_contract_plan(&c, r->cfg, r->store, r->ro.release,
			false, &cerr)) < 0) {
		msg = rip_xasprintf("auto_contract: %s", cerr.msg);
	} else if (c.held.n) {
		ids = joined(&c.held);
		if (c.code) {
			msg = deferred(&c, ids);
		} else if ((rc = rip_contract_apply(&c, r->cfg, r->store, &o,
				&cerr)) < 0) {
			msg = rip_xasprintf("auto_contract: %s", cerr.msg);
		} else {
			msg = rip_xasprintf("auto_contract: applied %s (contract) "
				"to %s", ids, r->ro.release);
		}
		ran = c.applied.n ? joined(&c.applied) : NULL;
	}
	rip_lock_release(&l);
out:
	/* a refusal is no failure: the rollout completed; a contract up
	 * that failed is */
	if (msg) {
		e.message = msg;
		e.detail = ran;
		e.rc = rc;
		rip_rollout_emit(r, &e);
	}
	if (rc < 0 && c.held.n && !c.code)
		rc = rip_err_set(err, rc, "the rollout of %s completed, but its "
			"contract failed: %s", r->ro.release, cerr.msg);
	else
		rc = 0;
	rip_contract_release(&c);
	free(msg);
	free(ids);
	free(ran);
	return rc;
}
