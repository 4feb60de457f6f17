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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/deploy.h"
#include "ripcord/extract.h"
#include "ripcord/fsutil.h"
#include "ripcord/hook.h"
#include "ripcord/journal.h"
#include "ripcord/log.h"
#include "ripcord/migrate.h"
#include "ripcord/probe.h"
#include "ripcord/release.h"
#include "ripcord/target.h"
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
	}
	free(p->v);
	free(p->targets);
	memset(p, 0, sizeof(*p));
}

static void add(struct rip_plan *p, enum rip_action_kind kind,
	const struct rip_target *t, const char *release, const char *previous)
{
	struct rip_action *a;

	RIP_ALLOC_GROW(p->v, p->n + 1, p->alloc);
	a = &p->v[p->n++];
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

/* Pending ups of release on the configured database, as one action. */
static int plan_ups(struct rip_plan *p, const struct rip_config *cfg,
	const struct rip_migrations *migs, const char *id,
	struct rip_err *err)
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
	p->migrations = st.count[RIP_MIG_PENDING];
	if (st.count[RIP_MIG_DIRTY] || st.count[RIP_MIG_CHANGED])
		rc = rip_err_set(err, RIP_EFAIL, "the database has a dirty or "
			"changed migration: see 'ripcord migrate status'");
	else if (p->migrations)
		add(p, RIP_ACT_MIGRATE_UP, NULL, id, NULL);
	rip_mig_status_release(&st);
	return rc;
}

int rip_plan_deploy(struct rip_plan *out, const struct rip_config *cfg,
	struct rip_store *store, const char *id, const char *const *only,
	size_t nonly, struct rip_err *err)
{
	struct rip_migrations migs = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	out->op = "deploy";
	if ((rc = check_names(cfg, only, nonly, err)) < 0 ||
	    (rc = rip_release_migrations(&migs, store, id,
		    cfg->package.verify_key, err)) < 0 ||
	    (rc = plan_ups(out, cfg, &migs, id, err)) < 0)
		goto done;
	for (size_t i = 0; i < cfg->n_targets && !rc; i++) {
		const struct rip_target *t = &cfg->targets[i];
		struct rip_root_state st;

		if (!selected(t, only, nonly))
			continue;
		if ((rc = rip_root_check(t->root, err)) < 0 ||
		    (rc = rip_root_inspect(&st, t->root, err)) < 0) {
			rip_err_prefix(err, "target '%s'", t->name);
			break;
		}
		report_for(out, t, st.current, id);
		if (!rip_strlist_has(&st.extracted, id))
			add(out, RIP_ACT_EXTRACT, t, id, NULL);
		if (!st.current || strcmp(st.current, id)) {
			add(out, RIP_ACT_SWITCH, t, id, st.current);
			if (t->activate)
				add(out, RIP_ACT_ACTIVATE, t, id, st.current);
		}
		rip_root_state_release(&st);
	}
done:
	rip_migrations_release(&migs);
	if (rc < 0)
		rip_plan_release(out);
	return rc;
}

/* Where target goes back to: to, or the release it ran before current. */
static int rollback_dest(char **out, struct rip_store *store,
	const struct rip_target *t, const char *current, const char *to,
	struct rip_err *err)
{
	struct rip_switches h;
	int rc;

	*out = NULL;
	if (to) {
		*out = rip_xstrdup(to);
		return 0;
	}
	if ((rc = rip_journal_history(&h, store->state, t->name, err)) < 0)
		return rc;
	for (size_t i = 0; i < h.n && !*out; i++)
		if (!current || strcmp(h.v[i].release, current))
			*out = rip_xstrdup(h.v[i].release);
	rip_switches_release(&h);
	if (!*out)
		return rip_err_set(err, RIP_EFAIL, "target '%s' has no earlier "
			"release in the journal to go back to (runs %s); pass --to "
			"ID", t->name, current ? current : "nothing");
	return 0;
}

static int plan_target_back(struct rip_plan *p, struct rip_store *store,
	const struct rip_target *t, const char *to, char **dest,
	struct rip_err *err)
{
	struct rip_root_state st;
	char *d = NULL;
	int rc;

	if ((rc = rip_root_inspect(&st, t->root, err)) < 0)
		return rip_err_prefix(err, "target '%s'", t->name);
	if ((rc = rollback_dest(&d, store, t, st.current, to, err)) == 0) {
		report_for(p, t, st.current, d);
		if (!rip_strlist_has(&st.extracted, d))
			add(p, RIP_ACT_EXTRACT, t, d, NULL);
		if (!st.current || strcmp(st.current, d)) {
			add(p, RIP_ACT_SWITCH, t, d, st.current);
			if (t->activate)
				add(p, RIP_ACT_ACTIVATE, t, d, st.current);
		}
		if (*dest && strcmp(*dest, d))
			rc = rip_err_set(err, RIP_EUSAGE, "targets would go back to "
				"different releases (%s, %s): pass --to ID", *dest, d);
		else if (!*dest)
			*dest = rip_xstrdup(d);
	}
	free(d);
	rip_root_state_release(&st);
	return rc;
}

/* The downs back to dest, checked now (dry run) so a plan never stops on
 * an irreversible migration after targets were switched. */
static int plan_downs(struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, const char *dest, struct rip_err *err)
{
	struct rip_migrations keep = { 0 }, sources = { 0 };
	struct rip_migrate_opts dry = { .dry_run = true };
	struct rip_migrate *m = NULL;
	int rc;

	if (!has_migrations(cfg))
		return 0;
	if ((rc = rip_release_migrations(&keep, store, dest,
			cfg->package.verify_key, err)) < 0 ||
	    (rc = rip_release_all_migrations(&sources, store,
		    cfg->package.verify_key, err)) < 0 ||
	    (rc = rip_migrate_open(&m, cfg, err)) < 0 ||
	    (rc = rip_migrate_down(m, &keep, &sources, &dry, &p->migrations,
		    err)) < 0)
		goto done;
	if (p->migrations)
		add(p, RIP_ACT_MIGRATE_DOWN, NULL, dest, NULL);
done:
	rip_migrate_free(m);
	rip_migrations_release(&keep);
	rip_migrations_release(&sources);
	return rc;
}

int rip_plan_rollback(struct rip_plan *out, const struct rip_config *cfg,
	struct rip_store *store, const char *to, bool no_migrate,
	struct rip_err *err)
{
	struct rip_verify_result vr;
	char *dest = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->op = "rollback";
	if ((rc = check_names(cfg, NULL, 0, err)) < 0)
		goto done;
	for (size_t i = 0; i < cfg->n_targets && !rc; i++)
		rc = plan_target_back(out, store, &cfg->targets[i], to, &dest, err);
	if (rc < 0)
		goto done;
	if ((rc = rip_verify_release(&vr, store, dest, cfg->package.verify_key,
			err)) < 0) {
		rip_err_prefix(err, "cannot roll back to '%s' (try --to another "
			"release)", dest);
		goto done;
	}
	rip_verify_result_release(&vr);
	if (!no_migrate && (rc = plan_downs(out, cfg, store, dest, err)) < 0)
		goto done;
	for (size_t i = 0; i < cfg->n_targets; i++)
		if (cfg->targets[i].health)
			add(out, RIP_ACT_PROBE, &cfg->targets[i], dest, NULL);
done:
	free(dest);
	if (rc < 0)
		rip_plan_release(out);
	return rc;
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

static int apply_migrations(const struct rip_action *a,
	const struct rip_config *cfg, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_migrations migs = { 0 }, sources = { 0 };
	struct rip_migrate *m = NULL;
	size_t done = 0;
	int rc;

	if ((rc = rip_release_migrations(&migs, store, a->release,
			cfg->package.verify_key, err)) < 0 ||
	    (rc = rip_migrate_open(&m, cfg, err)) < 0)
		goto out;
	if (a->kind == RIP_ACT_MIGRATE_UP)
		rc = rip_migrate_up(m, &migs, NULL, &done, err);
	else if ((rc = rip_release_all_migrations(&sources, store,
			cfg->package.verify_key, err)) == 0)
		rc = rip_migrate_down(m, &migs, &sources, NULL, &done, err);
out:
	rip_migrate_free(m);
	rip_migrations_release(&migs);
	rip_migrations_release(&sources);
	return rc;
}

static int apply_extract(const struct rip_action *a, struct rip_store *store,
	struct rip_err *err)
{
	char *dest = rip_root_release_dir(a->target->root, a->release);
	char *art = rip_store_artifact_path(store, a->release);
	struct rip_extract_result res;
	int rc;

	if ((rc = rip_root_prepare(a->target->root, err)) == 0 &&
	    !rip_is_dir(dest))
		rc = rip_extract_payload(&res, art, dest, err);
	free(dest);
	free(art);
	return rc;
}

static int apply_switch(struct rip_plan *p, const struct rip_action *a,
	struct rip_store *store, struct rip_err *err)
{
	int64_t seq;
	int rc;

	if ((rc = rip_root_prepare(a->target->root, err)) < 0 ||
	    (rc = rip_journal_begin(&seq, store->state, a->target->name,
		    a->release, a->previous, p->op, err)) < 0)
		return rc;
	rc = rip_root_switch(a->target->root, a->release, err);
	if (rc == 0) {
		rc = rip_journal_end(store->state, seq, "ok", err);
	} else {
		char *why = rip_xasprintf("failed: %s", err ? err->msg : "");
		struct rip_err ignore = { 0 };

		if (rip_journal_end(store->state, seq, why, &ignore) < 0)
			rip_warn("cannot record the failed switch: %s", ignore.msg);
		free(why);
	}
	return rc;
}

static int apply_activate(struct rip_plan *p, const struct rip_action *a,
	struct rip_err *err)
{
	const struct rip_target *t = a->target;
	char *dir = rip_root_release_dir(t->root, a->release);
	const char *argv[] = { t->activate, NULL };
	const struct rip_hook_env env[] = {
		{ "RIPCORD_TARGET", t->name },
		{ "RIPCORD_RELEASE", a->release },
		{ "RIPCORD_RELEASE_DIR", dir },
		{ "RIPCORD_PREVIOUS", a->previous ? a->previous : "" },
		{ "RIPCORD_ROOT", t->root },
	};
	struct rip_target_report *r = find_report(p, t);
	struct rip_hook_result hr;
	int rc = rip_hook_run(&hr, argv, dir, env, RIP_ARRAY_SIZE(env),
		t->hook_timeout_ms, err);

	if (hr.output.len)
		rip_info("%s: activate: %s", t->name, hr.output.buf);
	if (rc == 0 && hr.exit_code == 0) {
		set_text(&r->activate, "ok");
	} else {
		char *what = rc ? rip_xstrdup(hr.timed_out ? "timed out" :
			"failed") : rip_xasprintf("exit %d", hr.exit_code);

		set_text(&r->activate, what);
		free(what);
		r->failed = true;
		rc = RIP_EFAIL;
	}
	rip_hook_result_release(&hr);
	free(dir);
	return rc;
}

/* Every consecutive probe action from i at once; returns how many. */
static size_t apply_probes(struct rip_plan *p, size_t i,
	const struct rip_config *cfg, bool *failed, struct rip_err *err)
{
	size_t n = 0;
	struct rip_probe *pr;

	while (i + n < p->n && p->v[i + n].kind == RIP_ACT_PROBE)
		n++;
	pr = rip_xcalloc(n, sizeof(*pr));
	for (size_t k = 0; k < n; k++)
		pr[k].url = p->v[i + k].target->health;
	if (rip_probe_run(pr, n, cfg->rollout.probe_timeout_ms, err) < 0)
		*failed = true;
	for (size_t k = 0; k < n; k++) {
		struct rip_target_report *r = find_report(p, p->v[i + k].target);
		char *h = pr[k].ok ? rip_xasprintf("ok %.0f ms",
			pr[k].seconds * 1000) : rip_xstrdup(pr[k].error);

		set_text(&r->health, h);
		free(h);
		if (!pr[k].ok)
			r->failed = *failed = true;
	}
	free(pr);
	return n;
}

int rip_plan_apply(struct rip_plan *p, const struct rip_config *cfg,
	struct rip_store *store, rip_apply_fn fn, void *data,
	struct rip_err *err)
{
	bool soft_fail = false;
	int rc = 0;

	for (size_t i = 0; i < p->n && !rc; i++) {
		const struct rip_action *a = &p->v[i];
		struct rip_err soft = { 0 };

		switch (a->kind) {
		case RIP_ACT_MIGRATE_UP:
		case RIP_ACT_MIGRATE_DOWN:
			rc = apply_migrations(a, cfg, store, err);
			break;
		case RIP_ACT_EXTRACT:
			rc = apply_extract(a, store, err);
			break;
		case RIP_ACT_SWITCH:
			rc = apply_switch(p, a, store, err);
			break;
		case RIP_ACT_ACTIVATE:
			soft_fail |= apply_activate(p, a, &soft) < 0;
			break;
		case RIP_ACT_PROBE:
			i += apply_probes(p, i, cfg, &soft_fail, &soft) - 1;
			break;
		}
		if (fn)
			fn(data, a, rc, rc ? err->msg : soft.msg);
		if (rc < 0)
			rip_err_prefix(err, "%s %s%s%s", kind_names[a->kind],
				a->target ? "on '" : "", a->target ? a->target->name : "",
				a->target ? "'" : "");
	}
	if (!rc && soft_fail)
		rc = rip_err_set(err, RIP_EFAIL, "%s finished, but an activate "
			"hook or a health probe failed (see the table)", p->op);
	return rc;
}
