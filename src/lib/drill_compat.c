/* SPDX-License-Identifier: MIT */
/*
 * drill_compat.c: the scratch database a drill's smoke test runs against,
 * and the compatibility drill (issue 16): the previous release's smoke
 * test against a scratch database at the drilled release's expand level,
 * the proof that an abort which keeps the schema leaves a working system.
 *
 * The expand level is what `deploy` leaves before a contract: every up
 * of the release but its contract ones the previous release does not
 * carry (a contract the previous release carries already ran under it).
 * The scratch database is a SQLite file in the drill's scratch folder,
 * opened through the engine with a config that holds nothing of the
 * project's (as the round trip does), so the configured database is never
 * reached. Only the sqlite driver has one: for postgres the step is not
 * run, and says so.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ripcord/extract.h"
#include "ripcord/fsutil.h"
#include "ripcord/hook.h"
#include "ripcord/migrate.h"
#include "ripcord/probe.h"
#include "ripcord/release.h"
#include "ripcord/target.h"
#include "drill_internal.h"
#include "http_internal.h"
#include "banned.h"

int rip_drill_scratch_db(const char *path, const struct rip_config *cfg,
	const struct rip_migrations *migs,
	bool (*keep)(const struct rip_migration *mg, void *data), void *data,
	struct rip_err *err)
{
	struct rip_migrations view = { 0 };
	struct rip_migrate_opts mo = { 0 };
	struct rip_config c;
	struct rip_migrate *m = NULL;
	char *dir = rip_path_dirname(path);
	size_t done = 0;
	int rc;

	if (strcmp(cfg->migrations.driver, "sqlite")) {
		free(dir);
		return rip_err_set(err, RIP_ECONFIG, "a scratch database for the "
			"smoke test needs the sqlite driver, not '%s'",
			cfg->migrations.driver);
	}
	/* a borrowed view: the migrations are migs', only the array is ours */
	view.v = rip_xcalloc(migs->n + 1, sizeof(*view.v));
	for (size_t i = 0; i < migs->n; i++)
		if (!keep || keep(&migs->v[i], data))
			view.v[view.n++] = migs->v[i];
	memset(&c, 0, sizeof(c));
	c.project.store = dir;
	c.migrations.driver = "sqlite";
	c.migrations.database = (char *)path;
	if ((rc = rip_migrate_open(&m, &c, err)) < 0) {
		rip_err_prefix(err, "cannot make the scratch database '%s'", path);
		goto done;
	}
	if ((rc = rip_migrate_up(m, &view, &mo, &done, err)) < 0) {
		rip_err_prefix(err, "the ups on a scratch database");
		if (rc != RIP_EIO && err)
			err->code = RIP_EFAIL;
		if (rc != RIP_EIO)
			rc = RIP_EFAIL;
	}
done:
	rip_migrate_free(m);
	free(view.v);
	free(dir);
	return rc;
}

int rip_drill_activate(pid_t *group, const struct rip_config *cfg,
	const char *root, const char *id, const char *dir,
	const char *database, struct rip_err *err)
{
	const struct rip_target *t = NULL;
	struct rip_hook_result hr;
	int rc;

	*group = 0;
	for (size_t i = 0; i < cfg->n_targets && !t; i++)
		if (cfg->targets[i].activate)
			t = &cfg->targets[i];
	if (!t)
		return 0;

	const char *argv[] = { t->activate, NULL };
	const struct rip_hook_env env[] = {
		{ "RIPCORD_DRILL", "1" },
		{ "RIPCORD_TARGET", t->name },
		{ "RIPCORD_RELEASE", id },
		{ "RIPCORD_RELEASE_DIR", dir },
		{ "RIPCORD_PREVIOUS", "" },
		{ "RIPCORD_ROOT", root },
		{ "RIPCORD_DATABASE", database },
	};

	rc = rip_hook_run(&hr, argv, dir, env, RIP_ARRAY_SIZE(env),
		t->hook_timeout_ms, err);
	*group = hr.pgid;
	if (rc == 0 && hr.exit_code != 0)
		rc = rip_err_set(err, RIP_EFAIL, "activate hook '%s' exited %d: %s",
			t->activate, hr.exit_code, hr.output.len ? hr.output.buf :
			"(no output)");
	rip_hook_result_release(&hr);
	return rc;
}

/* How long what a drill's hook left running gets after SIGTERM. */
#define END_GRACE_MS 2000
#define END_TICK_MS 50

void rip_drill_end_group(pid_t group)
{
	if (group <= 0 || (kill(-group, SIGTERM) < 0 && errno == ESRCH))
		return;
	for (int i = 0; i < END_GRACE_MS / END_TICK_MS; i++) {
		if (kill(-group, 0) < 0 && errno == ESRCH)
			return;
		usleep(END_TICK_MS * 1000);
	}
	kill(-group, SIGKILL);
}

const char *rip_drill_smoke_missing(const struct rip_config *cfg)
{
	bool hook = false;

	for (size_t i = 0; i < cfg->n_targets && !hook; i++)
		hook = cfg->targets[i].activate != NULL;
	if (!hook && !cfg->drill.smoke_health)
		return RIP_DRILL_SMOKE_NOTHING;
	if (!hook)
		return "no activate hook";
	return cfg->drill.smoke_health ? NULL : "no smoke_health";
}

/* The first line of what url answers now (at most 160 bytes), into b:
 * what an unhealthy app says about itself ("no such column: email"). */
static void answer_of(struct rip_buf *b, const char *url, uint64_t timeout)
{
	struct rip_http_request req = { .url = url, .timeout_ms = timeout,
		.answer_max = 4096, .answer_keep = 160 };
	struct rip_http_result res = RIP_HTTP_RESULT_INIT;
	struct rip_err ignored = { 0 };

	if (rip_http_request(&res, &req, &ignored) == 0 && res.status &&
	    res.answer.len)
		rip_buf_addf(b, ": %.*s", (int)strcspn(res.answer.buf, "\r\n"),
			res.answer.buf);
	rip_http_result_release(&res);
}

int rip_drill_smoke_probe(const struct rip_config *cfg, struct rip_err *err)
{
	struct rip_probe pr = { .url = cfg->drill.smoke_health };
	struct rip_buf said = RIP_BUF_INIT;
	int rc;

	if (!cfg->drill.smoke_health)
		return 0;
	if ((rc = rip_probe_run(&pr, 1, cfg->rollout.probe_timeout_ms,
			err)) < 0)
		return rc;
	if (pr.ok)
		return 0;
	if (pr.status)
		answer_of(&said, pr.url, cfg->rollout.probe_timeout_ms);
	rc = rip_err_set(err, RIP_EFAIL, "smoke_health %s: %s%s", pr.url,
		pr.error, said.buf);
	rip_buf_release(&said);
	return rc;
}

/* An up at the expand level: not a contract the previous release lacks. */
static bool expand_level(const struct rip_migration *mg, void *data)
{
	const struct rip_migrations *prev = data;

	return !mg->contract || rip_migrations_find(prev, mg->id);
}

/* The newest migration of migs at the expand level; NULL: none. */
static char *level_of(const struct rip_migrations *migs,
	const struct rip_migrations *prev)
{
	for (size_t i = migs->n; i-- > 0; )
		if (expand_level(&migs->v[i], (void *)prev))
			return rip_xstrdup(migs->v[i].id);
	return NULL;
}

/* The previous release's payload at <scratch>/compat, switched to. */
static int extract_previous(char **root, char **dir,
	const struct rip_drill_compat_in *in, struct rip_err *err)
{
	struct rip_verify_result vr;
	struct rip_extract_result res;
	int rc;

	*root = rip_path_join(in->scratch, "compat");
	*dir = rip_root_release_dir(*root, in->previous);
	memset(&vr, 0, sizeof(vr));
	if ((rc = rip_root_prepare(*root, err)) == 0)
		rc = rip_extract_verify_scratch(&vr, NULL, &res, in->store,
			in->previous, in->cfg->package.verify_key, *dir, err);
	rip_verify_result_release(&vr);
	if (rc == 0)
		rc = rip_root_switch(*root, in->previous, err);
	if (rc < 0)
		rip_err_prefix(err, "cannot extract %s", in->previous);
	return rc;
}

int rip_drill_compat(char **level, const struct rip_drill_compat_in *in,
	struct rip_err *err)
{
	struct rip_migrations prev = { 0 };
	char *rel = rip_path_join(in->scratch, "compat.db");
	char *db = rip_path_absolute(rel);   /* the hook runs elsewhere */
	char *root = NULL, *dir = NULL;
	pid_t group = 0;
	int rc;

	free(rel);

	*level = NULL;
	if ((rc = rip_release_migrations(&prev, in->store, in->previous,
			in->cfg->package.verify_key, err)) < 0) {
		rip_err_prefix(err, "cannot read %s", in->previous);
		goto done;
	}
	*level = level_of(in->migs, &prev);
	if ((rc = rip_drill_scratch_db(db, in->cfg, in->migs, expand_level,
			&prev, err)) < 0 ||
	    (rc = extract_previous(&root, &dir, in, err)) < 0 ||
	    (rc = rip_drill_activate(&group, in->cfg, root, in->previous, dir,
		    db, err)) < 0 ||
	    (rc = rip_drill_smoke_probe(in->cfg, err)) < 0)
		goto done;
done:
	/* the previous release's app must not outlive its probe */
	rip_drill_end_group(group);
	if (rc < 0)
		rip_err_prefix(err, "%s on the schema of %s at its expand level "
			"(%s)", in->previous, in->release, *level ? *level :
			"no migration");
	rip_migrations_release(&prev);
	free(root);
	free(dir);
	free(db);
	return rc;
}

enum rip_drill_compat_result rip_drill_rec_compat(char **previous,
	char **level, const struct rip_drill_rec *r)
{
	enum rip_drill_compat_result out = RIP_COMPAT_NEVER;
	json_t *a = r->steps ? json_loads(r->steps, 0, NULL) : NULL;
	size_t i;
	json_t *s;

	*previous = *level = NULL;
	json_array_foreach(a, i, s) {
		const char *name = json_string_value(json_object_get(s, "step"));
		const char *p = json_string_value(json_object_get(s, "previous"));
		const char *l = json_string_value(json_object_get(s, "level"));

		if (!name || strcmp(name, "compatibility"))
			continue;
		out = json_is_true(json_object_get(s, "not_run")) ?
			RIP_COMPAT_NOT_RUN : json_is_true(json_object_get(s, "ok")) ?
			RIP_COMPAT_PASS : RIP_COMPAT_FAIL;
		*previous = p ? rip_xstrdup(p) : NULL;
		*level = l ? rip_xstrdup(l) : NULL;
	}
	json_decref(a);
	return out;
}
