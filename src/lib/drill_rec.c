/* SPDX-License-Identifier: MIT */
/*
 * drill_rec.c: the record of drills in state.db (drill.h): one row per
 * drill, read back newest first; and what the record decides: the
 * rollout gate ([rollout] require_drill) and whether deploy admits a
 * release. drill.c runs drills; this file only reads and writes rows.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ripcord/drill.h"
#include "ripcord/log.h"
#include "drill_internal.h"
#include "state_internal.h"
#include "banned.h"

#define DRILL_COLS "seq, release, started, seconds, result, detail, steps"

int rip_drill_record(int64_t *seq, struct rip_state *st,
	const struct rip_drill_rec *r, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	*seq = 0;
	if ((rc = rip_state_prepare(&s, st, "cannot record the drill",
			"INSERT INTO drills (release, started, seconds, result, "
			"detail, steps) VALUES (?, ?, ?, ?, ?, ?)", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, r->release);
	rip_state_bind_int64(s, 2, r->started);
	rip_state_bind_double(s, 3, r->seconds);
	rip_state_bind_text(s, 4, r->result);
	rip_state_bind_text(s, 5, r->detail);
	rip_state_bind_text(s, 6, r->steps ? r->steps : "[]");
	if ((rc = rip_state_run(s, err)) == 0)
		*seq = rip_state_last_id(st);
	rip_state_stmt_free(s);
	return rc;
}

static void read_rec(struct rip_drill_rec *r, struct rip_state_stmt *s)
{
	r->seq = rip_state_col_int64(s, 0);
	r->release = rip_state_col_text(s, 1);
	r->started = rip_state_col_int64(s, 2);
	r->seconds = rip_state_col_double(s, 3);
	r->result = rip_state_col_text(s, 4);
	r->detail = rip_state_col_text(s, 5);
	r->steps = rip_state_col_text(s, 6);
}

int rip_drill_query(struct rip_drill_rec **out, size_t *n, struct rip_state *st,
	const char *release, bool passed, size_t limit, struct rip_err *err)
{
	struct rip_drill_rec *v = NULL;
	size_t alloc = 0;
	struct rip_state_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = rip_state_prepare(&s, st, "cannot read the drills", "SELECT "
			DRILL_COLS " FROM drills WHERE (?1 IS NULL OR release = ?1) "
			"AND (?2 = 0 OR result = 'pass') ORDER BY seq DESC LIMIT ?3",
			err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, release);
	rip_state_bind_int64(s, 2, passed);
	rip_state_bind_int64(s, 3, limit && limit <= INT64_MAX ?
		(int64_t)limit : -1);
	while ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		RIP_ALLOC_GROW(v, *n + 1, alloc);
		memset(&v[*n], 0, sizeof(v[*n]));
		read_rec(&v[(*n)++], s);
	}
	rip_state_stmt_free(s);
	if (rc < 0) {
		rip_drill_recs_free(v, *n);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return rc;
}

int rip_drill_history(struct rip_drill_rec **out, size_t *n,
	struct rip_state *st, const char *release, size_t limit,
	struct rip_err *err)
{
	return rip_drill_query(out, n, st, release, false, limit, err);
}

int rip_drill_last(struct rip_drill_rec *out, struct rip_state *st,
	const char *release, bool passed, struct rip_err *err)
{
	struct rip_drill_rec *v;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_drill_query(&v, &n, st, release, passed, 1, err)) < 0)
		return rc;
	if (n)
		*out = v[0];
	free(v);
	return 0;
}

void rip_drill_rec_release(struct rip_drill_rec *r)
{
	free(r->release);
	free(r->result);
	free(r->detail);
	free(r->steps);
	memset(r, 0, sizeof(*r));
}

void rip_drill_recs_free(struct rip_drill_rec *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rip_drill_rec_release(&v[i]);
	free(v);
}

/* RIP_EFAIL: "release 'v2' failed its last drill (when: what); then". */
static int failed_drill(const struct rip_drill_rec *last,
	const char *release, const char *then, struct rip_err *err)
{
	time_t t = (time_t)last->started;
	char when[32] = "";
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	return rip_err_set(err, RIP_EFAIL, "release '%s' failed its last "
		"drill (%s: %s); fix it and run 'ripcord drill %s'%s", release,
		when, last->detail ? last->detail : last->result, release, then);
}

int rip_drill_gate(const struct rip_config *cfg, struct rip_store *store,
	const char *release, struct rip_err *err)
{
	struct rip_drill_rec last;
	int rc;

	if (!cfg->rollout.require_drill)
		return 0;
	if ((rc = rip_drill_last(&last, store->state, release, false, err)) < 0)
		return rc;
	if (last.seq && !strcmp(last.result, RIP_DRILL_PASS)) {
		rip_drill_rec_release(&last);
		return 0;
	}
	if (last.seq) {
		rc = failed_drill(&last, release, " ([rollout] require_drill is "
			"on)", err);
	} else {
		rc = rip_err_set(err, RIP_EFAIL, "release '%s' was never drilled: "
			"run 'ripcord drill %s' first ([rollout] require_drill is "
			"on)", release, release);
	}
	rip_drill_rec_release(&last);
	return rc;
}

int rip_deploy_admit(struct rip_store *store, const char *id, bool force,
	struct rip_err *err)
{
	static const char then[] = ", or pass --force to deploy it anyway";
	struct rip_drill_rec last;
	struct rip_err why[2] = { { 0 }, { 0 } };
	int rc, found = 0;

	if ((rc = rip_store_refuse_yanked(store, id, "deploy", &why[0])) < 0 &&
	    rc != RIP_EFAIL)
		return rip_err_set(err, rc, "%s", why[0].msg);
	found += rc == RIP_EFAIL;
	if ((rc = rip_drill_last(&last, store->state, id, false, err)) < 0)
		return rc;
	if (last.seq && strcmp(last.result, RIP_DRILL_PASS))
		found += failed_drill(&last, id, "", &why[found]) == RIP_EFAIL;
	rip_drill_rec_release(&last);
	for (int i = 0; i < found && force; i++)
		rip_warn("%s; deploying it anyway (--force)", why[i].msg);
	if (!found || force)
		return 0;
	return rip_err_set(err, RIP_EFAIL, "%s%s%s%s", why[0].msg, found > 1 ?
		"; and " : "", found > 1 ? why[1].msg : "", then);
}
