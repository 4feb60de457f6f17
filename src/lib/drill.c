/* SPDX-License-Identifier: MIT */
/*
 * drill.c: the record of drills in state.db, the rollout gate, and
 * running a drill (drill.h).
 *
 * A drill reads its artifact once: one decompression verifies it, writes
 * the scratch copy that fidelity hashes, and keeps the migrations the
 * round trip runs (rip_extract_verify_scratch); the copy appears only
 * once the whole artifact verified.
 *
 * The round trip runs once per path (rip_drill_paths): from each release
 * a rollback goes back to, found in the switch journal by deploy.h's own
 * rule so the drill tests the downs `rollback` would run, and from the
 * cut-parent. The targets are never read: the journal says what they run.
 * Paths are few (targets mostly agree), so each round trip has its own
 * scratch database rather than sharing one.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ripcord/drill.h"
#include "ripcord/deploy.h"
#include "ripcord/extract.h"
#include "ripcord/fidelity.h"
#include "ripcord/fsutil.h"
#include "ripcord/hook.h"
#include "ripcord/journal.h"
#include "ripcord/log.h"
#include "ripcord/migration.h"
#include "ripcord/probe.h"
#include "ripcord/release.h"
#include "ripcord/roundtrip.h"
#include "ripcord/target.h"
#include "drill_internal.h"
#include "state_internal.h"
#include "banned.h"

/* switches of a target read back to find where a rollback from a release
 * goes, at most: as many as rollback itself reads (deploy_rollback.c), so a long
 * journal on many targets does not make --due slow */
#define DRILL_LOOKBACK 256

/* ---- running a drill --------------------------------------------------- */

static const char *const step_names[] = {
	"integrity", "fidelity", "round trip", "smoke", "compatibility",
};

const char *rip_drill_step_name(enum rip_drill_step_kind k)
{
	return step_names[k];
}

void rip_drill_outcome_release(struct rip_drill_outcome *o)
{
	for (size_t i = 0; i < RIP_STEP_N; i++)
		free(o->steps[i].detail);
	free(o->release);
	free(o->detail);
	free(o->unexercised);
	free(o->compat_previous);
	free(o->compat_level);
	free(o->phases);
	rip_roundtrip_release(&o->roundtrip);
	rip_drill_paths_free(o->paths, o->npaths);
	memset(o, 0, sizeof(*o));
}

struct drill {
	const struct rip_config *cfg;
	struct rip_store *store;
	struct rip_drill_outcome *out;
	rip_drill_fn fn;
	void *data;
	struct rip_verify_result vr;
	struct rip_migrations migs;   /* the release's, read with it */
	char *scratch;            /* the folder everything happens in */
	char *root;               /* <scratch>/target: a scratch deploy root */
	char *dir;                /* <root>/releases/<id>: the payload */
	bool extracted;           /* ... verified and there */
};

/* Ends step k: its outcome from rc and err, its time since t0. */
static int step_done(struct drill *d, enum rip_drill_step_kind k, double t0,
	int rc, const struct rip_err *err, const char *note)
{
	struct rip_drill_step *s = &d->out->steps[k];

	s->ran = true;
	s->ok = rc == 0;
	s->seconds = rip_monotonic() - t0;
	free(s->detail);
	s->detail = rc ? rip_xstrdup(err->msg) : note ? rip_xstrdup(note) :
		NULL;
	if (rc && !d->out->detail)
		d->out->detail = rip_xasprintf("%s: %s", step_names[k], err->msg);
	if (d->fn)
		d->fn(d->data, d->out->release, k, s);
	return rc;
}

/* Step k recorded as not run (why), failing nothing. */
static void step_not_run(struct drill *d, enum rip_drill_step_kind k,
	const char *why)
{
	struct rip_drill_step *s = &d->out->steps[k];

	s->ran = true;
	s->ok = false;
	s->not_run = true;
	s->seconds = 0;
	free(s->detail);
	s->detail = rip_xasprintf("not run: %s", why);
	if (d->fn)
		d->fn(d->data, d->out->release, k, s);
}

/* A scratch folder and, in it, a deploy root for the payload. */
static int make_scratch(struct drill *d, struct rip_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char *rel;
	int rc;

	d->scratch = rip_xasprintf("%s/ripcord-drill-XXXXXX", tmp && *tmp ?
		tmp : "/tmp");
	if (!mkdtemp(d->scratch)) {
		rc = rip_err_errno(err, RIP_EIO, "cannot make a scratch folder "
			"'%s' (set TMPDIR to a writable folder)", d->scratch);
		free(d->scratch);
		d->scratch = NULL;
		return rc;
	}
	/* absolute: hooks get paths in it and run in another folder */
	rel = d->scratch;
	d->scratch = rip_path_absolute(rel);
	free(rel);
	d->root = rip_path_join(d->scratch, "target");
	d->dir = rip_root_release_dir(d->root, d->out->release);
	return rip_root_prepare(d->root, err);
}

/*
 * The artifact verified and its payload extracted into the scratch root
 * in the same read (one decompression), its migrations kept for the
 * round trip: the copy appears only when the whole artifact verified.
 */
static int step_integrity(struct drill *d, struct rip_err *err)
{
	double t0 = rip_monotonic();
	struct rip_migrations *migs = d->cfg->migrations.dir ? &d->migs :
		NULL;
	struct rip_extract_result res;
	char *note = NULL;
	int rc = make_scratch(d, err);

	if (rc == 0)
		rc = rip_extract_verify_scratch(&d->vr, migs, &res, d->store,
			d->out->release, d->cfg->package.verify_key, d->dir, err);
	if (rc == 0) {
		d->extracted = true;
		note = rip_xasprintf("%llu files, %llu links%s",
			(unsigned long long)d->vr.files,
			(unsigned long long)d->vr.links,
			d->vr.sig_checked ? ", signature checked" : "");
	}
	rc = step_done(d, RIP_STEP_INTEGRITY, t0, rc, err, note);
	free(note);
	return rc;
}

/* The scratch copy hashed as git trees: no second read of the artifact. */
static int step_fidelity(struct drill *d, struct rip_err *err)
{
	double t0 = rip_monotonic();
	struct rip_fidelity f;
	char *note = NULL;
	int rc = rip_fidelity_check(&f, d->dir, d->vr.manifest, d->cfg->dir,
		&d->cfg->package.include, &d->cfg->package.exclude, err);

	if (rc == 0)
		note = rip_xasprintf("tree %.12s%s", f.tree, f.repo_checked ?
			", as in the repository" : ", not in this repository");
	rc = step_done(d, RIP_STEP_FIDELITY, t0, rc, err, note);
	free(note);
	return rc;
}

/* ---- the paths of the round trip --------------------------------------- */

/* The path from from (NULL: an empty schema), added unless it is there. */
static struct rip_drill_path *path_add(struct rip_drill_path **v, size_t *n,
	size_t *alloc, const char *from)
{
	struct rip_drill_path *p;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].from ? from && !strcmp((*v)[i].from, from) : !from)
			return &(*v)[i];
	RIP_ALLOC_GROW(*v, *n + 1, *alloc);
	p = &(*v)[(*n)++];
	memset(p, 0, sizeof(*p));
	p->from = from ? rip_xstrdup(from) : NULL;
	return p;
}

/*
 * Where target t goes back to from release id, by its journal: *out NULL
 * when nowhere (it never ran anything, id was its first release, or it
 * runs a release cut after id and never ran id).
 */
static int rollback_of(char **out, struct rip_store *store,
	const struct rip_target *t, const char *id,
	const struct rip_release_rec *recs, size_t nrecs, struct rip_err *err)
{
	struct rip_switches h;
	ssize_t first = -1, now;
	int rc;

	*out = NULL;
	if ((rc = rip_journal_history(&h, store->state, t->name,
			DRILL_LOOKBACK, err)) < 0)
		return rc;
	if (h.n && !strcmp(h.v[0].release, id)) {
		rip_switches_release(&h);
		return rip_rollback_target(out, store, t, id, err);
	}
	for (size_t i = 0; i < h.n; i++)
		if (!strcmp(h.v[i].release, id))
			first = (ssize_t)i;     /* newest first: the last is the first */
	if (first >= 0 && h.v[first].previous) {
		*out = rip_xstrdup(h.v[first].previous);
	} else if (first < 0 && h.n) {
		now = rip_release_index(recs, nrecs, h.v[0].release);
		if (now >= 0 && now < rip_release_index(recs, nrecs, id))
			*out = rip_xstrdup(h.v[0].release);
	}
	rip_switches_release(&h);
	return 0;
}

int rip_drill_paths(struct rip_drill_path **out, size_t *n,
	const struct rip_config *cfg, struct rip_store *store, const char *id,
	const char *parent, struct rip_err *err)
{
	struct rip_release_rec *recs = NULL;
	struct rip_drill_path *v = NULL, *p;
	size_t nrecs = 0, alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = rip_state_release_list(&recs, &nrecs, store->state, err)) < 0)
		return rc;
	for (size_t i = 0; i < cfg->n_targets && rc == 0; i++) {
		const struct rip_target *t = &cfg->targets[i];
		char *to = NULL;

		if ((rc = rollback_of(&to, store, t, id, recs, nrecs, err)) < 0)
			break;
		if (to && strcmp(to, id)) {
			p = path_add(&v, n, &alloc, to);
			p->rollback = true;
			if (!p->target)
				p->target = rip_xstrdup(t->name);
		}
		free(to);
	}
	if (rc == 0)
		path_add(&v, n, &alloc, parent)->parent = true;
	rip_release_recs_free(recs, nrecs);
	if (rc < 0) {
		rip_drill_paths_free(v, *n);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return rc;
}

void rip_drill_paths_free(struct rip_drill_path *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].from);
		free(v[i].target);
		free(v[i].why);
	}
	free(v);
}

char *rip_drill_from_text(const struct rip_strlist *from)
{
	struct rip_buf b = RIP_BUF_INIT;

	for (size_t i = 0; i < from->n; i++) {
		if (i)
			rip_buf_adds(&b, i + 1 == from->n ? " and " : ", ");
		rip_buf_adds(&b, *from->v[i] ? from->v[i] : "an empty schema");
	}
	return rip_buf_detach(&b, NULL);
}

/* The round trip's entry of r's steps (a new reference), or NULL. */
static json_t *rec_roundtrip(const struct rip_drill_rec *r)
{
	json_t *doc = r->steps ? json_loads(r->steps, 0, NULL) : NULL;
	json_t *s, *found = NULL;
	size_t i;

	json_array_foreach(doc, i, s) {
		const char *name = json_string_value(json_object_get(s, "step"));

		if (name && !strcmp(name, step_names[RIP_STEP_ROUNDTRIP]))
			found = json_incref(s);
	}
	json_decref(doc);
	return found;
}

bool rip_drill_rec_from(struct rip_strlist *out, const struct rip_drill_rec *r)
{
	json_t *s = rec_roundtrip(r), *f;
	bool ran = s != NULL;
	size_t i;

	json_array_foreach(json_object_get(s, "from"), i, f)
		if (json_is_string(f))
			rip_strlist_push(out, json_string_value(f));
	json_decref(s);
	return ran;
}

char *rip_drill_rec_unexercised(const struct rip_drill_rec *r)
{
	json_t *s = rec_roundtrip(r);
	const char *u = json_string_value(json_object_get(s, "unexercised"));
	char *out = u ? rip_xstrdup(u) : NULL;

	json_decref(s);
	return out;
}

/*
 * The migrations of path p's release: the schema its round trip starts
 * from. 1 when it cannot run: a rollback's release gone from the store or
 * unreadable (p->why says which). A cut-parent gone from the store leaves
 * nothing to start from: then every migration of the release is tried
 * from an empty database, as before paths.
 */
static int path_migrations(struct drill *d, struct rip_drill_path *p,
	struct rip_migrations *out, struct rip_err *err)
{
	struct rip_release_rec rec;
	struct rip_err why = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!p->from)
		return 0;
	if (rip_state_release_get(&rec, d->store->state, p->from, &why) < 0) {
		if (p->rollback) {
			p->why = rip_xasprintf("%s is gone from the store",
				p->from);
			return 1;
		}
		p->why = rip_xstrdup("its cut-parent is gone from the store: "
			"every migration was tried from an empty schema");
		return 0;
	}
	rip_release_rec_release(&rec);
	rc = rip_release_migrations(out, d->store, p->from,
		d->cfg->package.verify_key, p->rollback ? &why : err);
	if (rc < 0 && p->rollback) {
		p->why = rip_xasprintf("cannot read %s: %s", p->from, why.msg);
		return 1;
	}
	return rc;
}

/* "from v1.0 (the rollback of web-1)", "from v1.1 (the cut-parent)". */
static void path_name(struct rip_buf *b, const struct rip_drill_path *p)
{
	rip_buf_addf(b, "from %s (", p->from ? p->from : "an empty schema");
	if (p->rollback)
		rip_buf_addf(b, "the rollback of %s%s", p->target,
			p->parent ? ", the cut-parent" : "");
	else
		rip_buf_adds(b, "the cut-parent");
	rip_buf_adds(b, ")");
}

/* Each path that ran and what it undid and redid; each that did not. */
static char *paths_note(const struct drill *d, struct rip_roundtrip *rts)
{
	const struct rip_drill_outcome *o = d->out;
	struct rip_buf b = RIP_BUF_INIT;

	for (size_t i = 0; i < o->npaths; i++) {
		const struct rip_drill_path *p = &o->paths[i];

		if (b.len)
			rip_buf_adds(&b, "; ");
		path_name(&b, p);
		if (p->ran) {
			char *text = rip_roundtrip_summary(&rts[i]);

			rip_buf_addf(&b, ": %s", text);
			free(text);
		}
		if (p->why)
			rip_buf_addf(&b, "%s%s", p->ran ? ", " : ": not run: ",
				p->why);
	}
	return rip_buf_detach(&b, NULL);
}

/*
 * The downs no path exercised: a rollback's, when its round trip could
 * not run. The cut-parent's path does not stand in for it: the
 * cut-parent may carry migrations the rollback's release lacks.
 */
static char *unexercised(const struct drill *d)
{
	const struct rip_drill_outcome *o = d->out;
	struct rip_buf b = RIP_BUF_INIT;

	for (size_t i = 0; i < o->npaths; i++) {
		const struct rip_drill_path *p = &o->paths[i];

		if (p->ran || !p->rollback)
			continue;
		rip_buf_addf(&b, "%sthe downs a rollback of %s from %s to %s "
			"would run (%s)", b.len ? "; " : "", p->target, o->release,
			p->from, p->why);
	}
	return b.len ? rip_buf_detach(&b, NULL) : NULL;
}

/* "0002_add_email expand, 0003_drop_name contract": the phase of each
 * migration of migs that from lacks (those a round trip tests). */
static char *phases_of(const struct rip_migrations *migs,
	const struct rip_migrations *from)
{
	struct rip_buf b = RIP_BUF_INIT;

	for (size_t i = 0; i < migs->n; i++)
		if (!rip_migrations_find(from, migs->v[i].id))
			rip_buf_addf(&b, "%s%s %s", b.len ? ", " : "", migs->v[i].id,
				migs->v[i].contract ? "contract" : "expand");
	return b.len ? rip_buf_detach(&b, NULL) : NULL;
}

/* The round trip from path p; rts[i] is filled (its scratch is gone). */
static int path_run(struct drill *d, struct rip_drill_path *p,
	struct rip_roundtrip *rt, struct rip_err *err)
{
	struct rip_migrations theirs;
	struct rip_roundtrip_opts o;
	int rc = path_migrations(d, p, &theirs, err);

	if (rc != 0)
		return rc > 0 ? 0 : rc;
	if (!d->out->phases)
		d->out->phases = phases_of(&d->migs, &theirs);
	rip_roundtrip_opts_init(&o, d->cfg);
	o.tmpdir = d->scratch;
	o.state = d->store->state;
	rc = rip_roundtrip_run(rt, &o, &theirs, &d->migs, err);
	p->ran = rc == 0 || rc == RIP_EFAIL;
	p->ok = rc == 0;
	p->ups = rt->ups;
	p->checked = rt->checked;
	p->failed = rt->failed;
	rip_migrations_release(&theirs);
	return rc;
}

/*
 * Every path's round trip, rollbacks first. A failing path does not stop
 * the others (each finds what it finds); an infrastructure error does.
 * The outcome keeps the round trip of the first path that failed, else of
 * the first that ran; err, the first failure, named by its path when
 * there are several; *note, every path and what it checked.
 */
static int run_paths(struct drill *d, char **note, struct rip_err *err)
{
	struct rip_drill_outcome *o = d->out;
	struct rip_roundtrip *rts;
	struct rip_err e = { 0 };
	ssize_t keep = -1;
	int rc, worst = 0;

	if ((rc = rip_drill_paths(&o->paths, &o->npaths, d->cfg, d->store,
			o->release, d->vr.manifest->parent, err)) < 0)
		return rc;
	rts = rip_xcalloc(o->npaths + 1, sizeof(*rts));
	for (size_t i = 0; i < o->npaths; i++) {
		struct rip_drill_path *p = &o->paths[i];

		e = (struct rip_err){ 0 };
		rc = path_run(d, p, &rts[i], &e);
		if (rc < 0 && rc != RIP_EFAIL) {
			*err = e;
			worst = rc;
			break;
		}
		if (rc == RIP_EFAIL && !worst) {
			worst = rc;
			keep = (ssize_t)i;
			*err = e;
			if (o->npaths > 1) {
				struct rip_buf b = RIP_BUF_INIT;

				path_name(&b, p);
				rip_err_prefix(err, "%s", b.buf);
				rip_buf_release(&b);
			}
		}
		if (p->ran && keep < 0)
			keep = (ssize_t)i;
	}
	*note = NULL;
	if (worst == 0 || worst == RIP_EFAIL) {
		*note = paths_note(d, rts);
		o->unexercised = unexercised(d);
		if (worst == 0 && o->unexercised)
			worst = rip_err_set(err, RIP_EFAIL, "downs never exercised: "
				"%s; %s", o->unexercised, *note);
	}
	if (keep >= 0) {
		o->roundtrip = rts[keep];
		memset(&rts[keep], 0, sizeof(rts[keep]));
	}
	for (size_t i = 0; i < o->npaths; i++)
		rip_roundtrip_release(&rts[i]);
	free(rts);
	return worst;
}

static int step_roundtrip(struct drill *d, struct rip_err *err)
{
	double t0 = rip_monotonic();
	char *note = NULL;
	int rc;

	/* the scratch database needs no [migrations] database */
	if (!d->cfg->migrations.dir)
		return 0;
	if (!strcmp(d->cfg->migrations.driver, "command")) {
		rc = rip_err_set(err, RIP_EFAIL, "the command driver's migrations "
			"cannot be drilled on a scratch database (its programs "
			"know only their own); use the sqlite or postgres driver");
		return step_done(d, RIP_STEP_ROUNDTRIP, t0, rc, err, NULL);
	}
	rc = run_paths(d, &note, err);
	rc = step_done(d, RIP_STEP_ROUNDTRIP, t0, rc, err, note);
	free(note);
	return rc;
}

/* Whether the smoke test gets a scratch database: [migrations] sqlite. */
static bool smoke_db(const struct drill *d)
{
	return d->cfg->migrations.dir && !strcmp(d->cfg->migrations.driver,
		"sqlite");
}

/* The activate hook of the first target that has one, on the scratch root
 * with RIPCORD_DRILL=1 (and RIPCORD_DATABASE, a scratch database at the
 * release's level, with [migrations] sqlite), then a probe of [drill]
 * smoke_health. */
static int smoke(struct drill *d, struct rip_err *err)
{
	char *rel = smoke_db(d) ? rip_path_join(d->scratch, "smoke.db") : NULL;
	/* absolute: the hook runs in the release's folder */
	char *db = rel ? rip_path_absolute(rel) : NULL;
	pid_t group = 0;
	int rc;

	free(rel);

	if ((rc = rip_root_switch(d->root, d->out->release, err)) == 0 && db)
		rc = rip_drill_scratch_db(db, d->cfg, &d->migs, NULL, NULL, err);
	if (rc == 0)
		rc = rip_drill_activate(&group, d->cfg, d->root, d->out->release,
			d->dir, db, err);
	if (rc == 0)
		rc = rip_drill_smoke_probe(d->cfg, err);
	/* the app the hook started must not outlive its probe */
	rip_drill_end_group(group);
	free(db);
	return rc;
}

/* With smoke on: the smoke test; not run (never "ok") when there is
 * neither an activate hook to start the release nor a smoke_health to
 * probe: nothing would run. */
static int step_smoke(struct drill *d, struct rip_err *err)
{
	double t0 = rip_monotonic();
	const char *missing = rip_drill_smoke_missing(d->cfg);

	if (!d->cfg->drill.smoke)
		return 0;
	if (missing && !strcmp(missing, RIP_DRILL_SMOKE_NOTHING)) {
		step_not_run(d, RIP_STEP_SMOKE, missing);
		return 0;
	}
	return step_done(d, RIP_STEP_SMOKE, t0, smoke(d, err), err, NULL);
}

/* The release the compatibility step runs: where a rollback goes, else
 * the cut-parent; NULL when there is none. */
static const char *compat_previous(const struct drill *d)
{
	for (size_t i = 0; i < d->out->npaths; i++)
		if (d->out->paths[i].rollback && d->out->paths[i].from)
			return d->out->paths[i].from;
	for (size_t i = 0; i < d->out->npaths; i++)
		if (d->out->paths[i].parent && d->out->paths[i].from)
			return d->out->paths[i].from;
	return NULL;
}

/* With smoke on, [migrations] sqlite and a previous release in the store:
 * its smoke test on this release's expand level (drill_compat.c); not run
 * (never "ok") without an activate hook to start it or a smoke_health to
 * probe it. */
static int step_compat(struct drill *d, struct rip_err *err)
{
	const char *prev = compat_previous(d);
	struct rip_drill_compat_in in = { .cfg = d->cfg, .store = d->store,
		.release = d->out->release, .migs = &d->migs, .previous = prev,
		.scratch = d->scratch };
	struct rip_release_rec rec;
	struct rip_err gone = { 0 };
	double t0 = rip_monotonic();
	char *note;
	int rc;

	if (!d->cfg->drill.smoke || !smoke_db(d) || !prev ||
	    rip_state_release_get(&rec, d->store->state, prev, &gone) < 0)
		return 0;
	rip_release_rec_release(&rec);
	d->out->compat_previous = rip_xstrdup(prev);
	if (rip_drill_smoke_missing(d->cfg)) {
		step_not_run(d, RIP_STEP_COMPAT, rip_drill_smoke_missing(d->cfg));
		return 0;
	}
	rc = rip_drill_compat(&d->out->compat_level, &in, err);
	note = rip_xasprintf("%s answered on the expand level (%s)", prev,
		d->out->compat_level ? d->out->compat_level : "no migration");
	rc = step_done(d, RIP_STEP_COMPAT, t0, rc, err, note);
	free(note);
	return rc;
}

/* The steps as JSON for the drills row; the round trip's with its paths. */
static char *steps_json(const struct rip_drill_outcome *o)
{
	json_t *a = json_array();
	char *text;

	for (size_t i = 0; i < RIP_STEP_N; i++) {
		const struct rip_drill_step *s = &o->steps[i];
		json_t *step, *from;

		if (!s->ran)
			continue;
		step = json_pack("{s:s, s:b, s:f, s:s?}", "step", step_names[i],
			"ok", s->ok, "seconds", s->seconds, "detail", s->detail);
		if (s->not_run)
			json_object_set_new(step, "not_run", json_true());
		if (i == RIP_STEP_ROUNDTRIP && o->npaths) {
			from = json_array();
			for (size_t j = 0; j < o->npaths; j++)
				if (o->paths[j].ran)
					json_array_append_new(from, json_string(
						o->paths[j].from ? o->paths[j].from : ""));
			json_object_set_new(step, "from", from);
			json_object_set_new(step, "unexercised", o->unexercised ?
				json_string(o->unexercised) : json_null());
			json_object_set_new(step, "phases", o->phases ?
				json_string(o->phases) : json_null());
		}
		if (i == RIP_STEP_COMPAT) {
			json_object_set_new(step, "previous",
				json_string(o->compat_previous));
			json_object_set_new(step, "level", o->compat_level ?
				json_string(o->compat_level) : json_null());
		}
		json_array_append_new(a, step);
	}
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text ? text : rip_xstrdup("[]");
}

/* Far slower than usual: beyond 3x the median of its last 10 passing
 * drills (at least 3 of them), and by more than a second. */
static int check_trend(struct rip_drill_outcome *o, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_drill_rec *v;
	double d[10];
	size_t n, k = 0;
	int rc;

	if ((rc = rip_drill_query(&v, &n, store->state, o->release, true, 11,
			err)) < 0)
		return rc;
	for (size_t i = 0; i < n && k < 10; i++)
		if (v[i].seq != o->seq)
			d[k++] = v[i].seconds;
	rip_drill_recs_free(v, n);
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && d[j - 1] > d[j]; j--) {
			double t = d[j];

			d[j] = d[j - 1];
			d[j - 1] = t;
		}
	if (k >= 3) {
		o->median = k % 2 ? d[k / 2] : (d[k / 2 - 1] + d[k / 2]) / 2;
		o->trend = o->seconds > 3 * o->median &&
			o->seconds - o->median > 1.0;
	}
	return 0;
}

static int record(struct drill *d, struct rip_err *err)
{
	struct rip_drill_outcome *o = d->out;
	struct rip_drill_rec r = {
		.release = o->release, .started = o->started,
		.seconds = o->seconds, .result = (char *)o->result,
		.detail = o->detail,
	};
	int rc;

	r.steps = steps_json(o);
	rc = rip_drill_record(&o->seq, d->store->state, &r, err);
	free(r.steps);
	if (rc == 0)
		rc = check_trend(o, d->store, err);
	return rc;
}

int rip_drill_run(struct rip_drill_outcome *out,
	const struct rip_config *cfg, struct rip_store *store, const char *id,
	rip_drill_fn fn, void *data, struct rip_err *err)
{
	struct drill d = { .cfg = cfg, .store = store, .out = out, .fn = fn,
		.data = data };
	struct rip_err rec_err = { 0 };
	struct rip_release_rec rec;
	double t0 = rip_monotonic();
	int rc, worst;

	memset(out, 0, sizeof(*out));
	out->release = rip_xstrdup(id);
	out->started = (int64_t)time(NULL);
	/* a lost verify_key is the config's fault, not the release's: it
	 * must not go on record as a failed drill */
	if ((rc = rip_verify_key_check(cfg->package.verify_key, err)) < 0 ||
	    (rc = rip_state_release_get(&rec, store->state, id, err)) < 0)
		goto done;
	rip_release_rec_release(&rec);
	rc = step_integrity(&d, err);
	if (rc == 0)
		rc = step_fidelity(&d, err);
	if (rc == RIP_EINTEGRITY || rc == RIP_ESECURITY) {
		worst = rc;
		out->result = RIP_DRILL_INTEGRITY;
	} else {
		struct rip_err smoke_err = { 0 }, compat_err = { 0 };
		int src, crc;

		worst = rc;
		if (rc == 0)
			worst = rc = step_roundtrip(&d, err);
		src = d.extracted ? step_smoke(&d, &smoke_err) : 0;
		crc = d.extracted ? step_compat(&d, &compat_err) : 0;
		if (!worst && src) {
			worst = src;
			*err = smoke_err;
		}
		if (!worst && crc) {
			worst = crc;
			*err = compat_err;
		}
		out->result = worst ? RIP_DRILL_FAIL : RIP_DRILL_PASS;
	}
	out->seconds = rip_monotonic() - t0;
	if (record(&d, &rec_err) < 0) {
		*err = rec_err;
		worst = rec_err.code;
	}
	rc = worst;
done:
	if (d.scratch && rip_remove_tree(d.scratch) < 0)
		rip_warn("cannot remove the scratch folder '%s'", d.scratch);
	free(d.scratch);
	free(d.root);
	free(d.dir);
	rip_verify_result_release(&d.vr);
	rip_migrations_release(&d.migs);
	return rc;
}

/*
 * Whether last, a drill of id, started from every release a rollback from
 * id goes back to now (a deploy since may have moved it). A drill recorded
 * before paths started from the cut-parent.
 */
static int covers(bool *out, const struct rip_config *cfg,
	struct rip_store *store, const char *id, const struct rip_drill_rec *last,
	struct rip_err *err)
{
	struct rip_strlist from = { 0 };
	struct rip_release_rec rec;
	struct rip_drill_path *v = NULL;
	size_t n = 0;
	int rc = 0;

	*out = true;
	if (!cfg->migrations.dir || !rip_drill_rec_from(&from, last))
		goto done;
	if ((rc = rip_state_release_get(&rec, store->state, id, err)) < 0)
		goto done;
	if (!from.n)
		rip_strlist_push(&from, rec.parent ? rec.parent : "");
	rc = rip_drill_paths(&v, &n, cfg, store, id, rec.parent, err);
	rip_release_rec_release(&rec);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (v[i].rollback && !rip_strlist_has(&from, v[i].from))
			*out = false;
done:
	rip_drill_paths_free(v, n);
	rip_strlist_release(&from);
	return rc;
}

int rip_drill_due(bool *due, const struct rip_config *cfg,
	struct rip_store *store, const char *id, int64_t now,
	struct rip_err *err)
{
	struct rip_drill_rec last;
	bool covered = true;
	int rc;

	*due = true;
	if ((rc = rip_drill_last(&last, store->state, id, true, err)) < 0)
		return rc;
	/* 5% slack: a daily timer finds yesterday's drill due even when it
	 * runs a few seconds sooner than the day before */
	if (last.seq)
		*due = now < last.started || (uint64_t)(now - last.started) *
			1000 >= cfg->drill.every_ms - cfg->drill.every_ms / 20;
	if (last.seq && !*due &&
	    (rc = covers(&covered, cfg, store, id, &last, err)) == 0)
		*due = !covered;
	rip_drill_rec_release(&last);
	return rc;
}
