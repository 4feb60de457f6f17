/* SPDX-License-Identifier: MIT */
/*
 * rollout_rec.c: the rollouts table of state.db, the record other
 * processes read and steer a rollout by. Every change of state is a
 * compare-and-set on the state column, so a rollout process never writes
 * "running" over the "preempted" a rollback has just written.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/buf.h"
#include "ripcord/log.h"
#include "ripcord/store.h"
#include "rollout_internal.h"
#include "state_internal.h"
#include "banned.h"

#define COLUMNS "seq, release, previous, state, phase, request, reason, " \
	"step, counts, percents, bake_ms, manual, pid, host, started, " \
	"step_started, updated, finished, figures, applied"

void rip_rollout_rec_release(struct rip_rollout_rec *r)
{
	free(r->release);
	free(r->previous);
	free(r->state);
	free(r->phase);
	free(r->request);
	free(r->reason);
	free(r->counts);
	free(r->percents);
	free(r->host);
	free(r->figures);
	free(r->applied);
	memset(r, 0, sizeof(*r));
}

/* "1,2,4" into counts and "25,50,100" into percents; n from counts. */
static void parse_lists(struct rip_rollout_rec *r, const char *counts,
	const char *percents)
{
	size_t n = 1;

	for (const char *p = counts; p && *p; p++)
		n += *p == ',';
	r->counts = rip_xcalloc(n, sizeof(*r->counts));
	r->percents = rip_xcalloc(n, sizeof(*r->percents));
	r->nsteps = 0;
	for (const char *p = counts; p && *p && r->nsteps < n; r->nsteps++) {
		char *end;

		r->counts[r->nsteps] = (size_t)strtoull(p, &end, 10);
		p = *end == ',' ? end + 1 : end;
	}
	for (size_t i = 0; percents && *percents && i < r->nsteps; i++) {
		char *end;

		r->percents[i] = strtod(percents, &end);
		percents = *end == ',' ? end + 1 : end;
	}
}

static char *text(struct rip_state_stmt *s, int i)
{
	return rip_state_col_text(s, i);
}

static void read_row(struct rip_rollout_rec *r, struct rip_state_stmt *s)
{
	const char *counts = rip_state_col_str(s, 8);
	const char *percents = rip_state_col_str(s, 9);

	r->seq = rip_state_col_int64(s, 0);
	r->release = text(s, 1);
	r->previous = text(s, 2);
	r->state = text(s, 3);
	r->phase = text(s, 4);
	r->request = text(s, 5);
	r->reason = text(s, 6);
	r->step = (size_t)rip_state_col_int64(s, 7);
	parse_lists(r, counts, percents);
	r->bake_ms = (uint64_t)rip_state_col_int64(s, 10);
	r->manual = rip_state_col_int64(s, 11) != 0;
	r->pid = rip_state_col_int64(s, 12);
	r->host = text(s, 13);
	r->started = rip_state_col_int64(s, 14);
	r->step_started = rip_state_col_int64(s, 15);
	r->updated = rip_state_col_int64(s, 16);
	r->finished = rip_state_col_int64(s, 17);
	r->figures = text(s, 18);
	r->applied = text(s, 19);
}

static int query_one(struct rip_rollout_rec *out, struct rip_state *st,
	const char *sql, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, st, "cannot read the rollouts", sql,
			err)) < 0)
		return rc;
	if ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		read_row(out, s);
		rc = 0;
	}
	rip_state_stmt_free(s);
	return rc;
}

int rip_rollout_current(struct rip_rollout_rec *out, struct rip_state *st,
	struct rip_err *err)
{
	return query_one(out, st, "SELECT " COLUMNS " FROM rollouts WHERE "
		"finished = 0 ORDER BY seq DESC LIMIT 1", err);
}

int rip_rollout_last(struct rip_rollout_rec *out, struct rip_state *st,
	struct rip_err *err)
{
	return query_one(out, st, "SELECT " COLUMNS " FROM rollouts ORDER BY "
		"seq DESC LIMIT 1", err);
}

int rip_rollout_reload(struct rip_rollout_rec *r, struct rip_state *st,
	struct rip_err *err)
{
	struct rip_rollout_rec fresh;
	char sql[sizeof(COLUMNS) + 96];
	int rc;

	snprintf(sql, sizeof(sql), "SELECT " COLUMNS " FROM rollouts WHERE "
		"seq = %lld", (long long)r->seq);
	if ((rc = query_one(&fresh, st, sql, err)) < 0)
		return rc;
	if (!fresh.seq)
		return rip_err_set(err, RIP_EDB, "the record of rollout %lld is "
			"gone from state.db", (long long)r->seq);
	rip_rollout_rec_release(r);
	*r = fresh;
	return 0;
}

void rip_rollout_recs_free(struct rip_rollout_rec *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		rip_rollout_rec_release(&v[i]);
	free(v);
}

int rip_rollout_aborts(struct rip_rollout_rec **out, size_t *n,
	struct rip_state *st, struct rip_err *err)
{
	struct rip_state_stmt *s;
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = rip_state_prepare(&s, st, "cannot read the rollouts", "SELECT "
			COLUMNS " FROM rollouts WHERE state = 'aborted' ORDER BY seq",
			err)) < 0)
		return rc;
	while ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		if (RIP_GROW(*out, *n + 1, alloc) < 0) {
			rc = rip_err_set(err, RIP_ENOMEM, "out of memory reading the "
				"aborted rollouts");
			break;
		}
		memset(&(*out)[*n], 0, sizeof(**out));
		read_row(&(*out)[(*n)++], s);
	}
	rip_state_stmt_free(s);
	if (rc < 0) {
		rip_rollout_recs_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

int rip_rollout_next_start(int64_t *out, struct rip_state *st, int64_t seq,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	*out = 0;
	if ((rc = rip_state_prepare(&s, st, "cannot read the rollouts", "SELECT "
			"started FROM rollouts WHERE seq > ? ORDER BY seq LIMIT 1",
			err)) < 0)
		return rc;
	rip_state_bind_int64(s, 1, seq);
	if ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		*out = rip_state_col_int64(s, 0);
		rc = 0;
	}
	rip_state_stmt_free(s);
	return rc < 0 ? rc : 0;
}

static void host_name(char *out, size_t n)
{
	if (gethostname(out, n - 1) < 0 || !out[0])
		snprintf(out, n, "localhost");
	out[n - 1] = '\0';
}

bool rip_rollout_alive(const struct rip_rollout_rec *r)
{
	char host[256];

	if (!r->seq || r->finished || !r->pid || !strcmp(r->state, "paused"))
		return false;
	host_name(host, sizeof(host));
	if (r->host && strcmp(r->host, host))
		return true;  /* another host's process: assume it runs */
	return kill((pid_t)r->pid, 0) == 0 || errno == EPERM;
}

void rip_rollout_claim(struct rip_rollout_rec *r)
{
	char host[256];

	host_name(host, sizeof(host));
	free(r->host);
	r->host = rip_xstrdup(host);
	r->pid = (int64_t)getpid();
}

static void join_lists(struct rip_buf *counts, struct rip_buf *percents,
	const struct rip_rollout_rec *r)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		rip_buf_addf(counts, "%s%zu", i ? "," : "", r->counts[i]);
		rip_buf_addf(percents, "%s%g", i ? "," : "", r->percents[i]);
	}
}

int rip_rollout_insert(struct rip_rollout_rec *r, struct rip_state *st,
	struct rip_err *err)
{
	struct rip_buf counts = RIP_BUF_INIT, percents = RIP_BUF_INIT;
	struct rip_state_stmt *s;
	int rc;

	rip_rollout_claim(r);
	r->started = r->updated = r->step_started = (int64_t)time(NULL);
	join_lists(&counts, &percents, r);
	if ((rc = rip_state_prepare(&s, st, "cannot journal the rollout",
			"INSERT INTO rollouts (release, previous, state, phase, step, "
			"counts, percents, bake_ms, manual, pid, host, started, "
			"step_started, updated, applied) VALUES (?, ?, ?, ?, ?, ?, ?, "
			"?, ?, ?, ?, ?, ?, ?, ?)", err)) < 0)
		goto done;
	rip_state_bind_text(s, 1, r->release);
	rip_state_bind_text(s, 2, r->previous);
	rip_state_bind_text(s, 3, r->state);
	rip_state_bind_text(s, 4, r->phase);
	rip_state_bind_int64(s, 5, (int64_t)r->step);
	rip_state_bind_text(s, 6, counts.buf);
	rip_state_bind_text(s, 7, percents.buf);
	rip_state_bind_int64(s, 8, (int64_t)r->bake_ms);
	rip_state_bind_int64(s, 9, r->manual);
	rip_state_bind_int64(s, 10, r->pid);
	rip_state_bind_text(s, 11, r->host);
	rip_state_bind_int64(s, 12, r->started);
	rip_state_bind_int64(s, 13, r->step_started);
	rip_state_bind_int64(s, 14, r->updated);
	rip_state_bind_text(s, 15, r->applied);
	if ((rc = rip_state_run(s, err)) == 0)
		r->seq = rip_state_last_id(st);
	rip_state_stmt_free(s);
done:
	rip_buf_release(&counts);
	rip_buf_release(&percents);
	return rc;
}

int rip_rollout_save(struct rip_rollout_rec *r, const char *expect,
	bool *saved, struct rip_state *st, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	*saved = false;
	r->updated = (int64_t)time(NULL);
	/* request is not ours to write: another process sets it at any time,
	 * and writing back the copy read before would lose it */
	if ((rc = rip_state_prepare(&s, st, "cannot journal the rollout",
			"UPDATE rollouts SET state = ?, phase = ?, reason = ?, "
			"step = ?, pid = ?, host = ?, step_started = ?, updated = ?, "
			"finished = ?, figures = ?, applied = ? WHERE seq = ? AND "
			"state = ?",
			err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, r->state);
	rip_state_bind_text(s, 2, r->phase);
	rip_state_bind_text(s, 3, r->reason);
	rip_state_bind_int64(s, 4, (int64_t)r->step);
	rip_state_bind_int64(s, 5, r->pid);
	rip_state_bind_text(s, 6, r->host);
	rip_state_bind_int64(s, 7, r->step_started);
	rip_state_bind_int64(s, 8, r->updated);
	rip_state_bind_int64(s, 9, r->finished);
	rip_state_bind_text(s, 10, r->figures);
	rip_state_bind_text(s, 11, r->applied);
	rip_state_bind_int64(s, 12, r->seq);
	rip_state_bind_text(s, 13, expect);
	/* compare-and-set: saved only when the state was still expect */
	if ((rc = rip_state_run(s, err)) == 0)
		*saved = rip_state_changes(st) == 1;
	rip_state_stmt_free(s);
	return rc;
}

int rip_rollout_request(struct rip_state *st, int64_t seq,
	const char *request, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot journal the request",
			"UPDATE rollouts SET request = ? WHERE seq = ? AND "
			"finished = 0", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, request);
	rip_state_bind_int64(s, 2, seq);
	rc = rip_state_run(s, err);
	rip_state_stmt_free(s);
	return rc;
}

void rip_rollout_describe(char *out, size_t len,
	const struct rip_rollout_rec *r)
{
	const char *how = !strcmp(r->state, "paused") ? "paused" :
		rip_rollout_alive(r) ? "in progress" : "interrupted";

	if (!strcmp(how, "in progress"))
		snprintf(out, len, "a rollout of %s is in progress (step %zu/%zu, "
			"pid %lld)", r->release, r->step, r->nsteps,
			(long long)r->pid);
	else
		snprintf(out, len, "a rollout of %s is %s (step %zu/%zu)",
			r->release, how, r->step, r->nsteps);
}

int rip_rollout_busy(struct rip_store *store, struct rip_err *err)
{
	struct rip_rollout_rec r;
	char what[256];
	int rc;

	if ((rc = rip_rollout_current(&r, store->state, err)) < 0 || !r.seq)
		return rc;
	rip_rollout_describe(what, sizeof(what), &r);
	if (!strcmp(r.state, "paused"))
		rc = rip_err_set(err, RIP_EBUSY, "%s: run 'ripcord rollout "
			"promote' or 'ripcord rollout abort' first", what);
	else if (rip_rollout_alive(&r))
		rc = rip_err_set(err, RIP_EBUSY, "%s: wait for it, or run "
			"'ripcord rollout abort'", what);
	else
		/* exit 5 (DESIGN §2: interrupted, state saved), not 4: no
		 * process holds anything; a human picks how it ends */
		rc = rip_err_set(err, RIP_EINTR, "%s: its process is gone and its "
			"state is saved; run 'ripcord rollout resume' to go on with it, "
			"or 'ripcord rollout abort' to put every target back on %s",
			what, r.previous ? r.previous : "the previous release");
	rip_rollout_rec_release(&r);
	return rc;
}

int rip_rollout_preempt(int64_t *pid, struct rip_store *store,
	const char *by, struct rip_err *err)
{
	struct rip_rollout_rec r;
	bool saved = false, alive;
	char *prev_state;
	int rc;

	*pid = 0;
	if ((rc = rip_rollout_current(&r, store->state, err)) < 0 || !r.seq)
		return rc;
	alive = rip_rollout_alive(&r);
	prev_state = rip_xstrdup(r.state);
	free(r.state);
	r.state = rip_xstrdup("preempted");
	free(r.reason);
	r.reason = rip_xasprintf("preempted by '%s' (pid %ld)", by,
		(long)getpid());
	r.finished = (int64_t)time(NULL);
	if ((rc = rip_rollout_save(&r, prev_state, &saved, store->state,
			err)) == 0 && saved) {
		rip_warn("%s: it stops at its next round, and this %s puts every "
			"target back", r.reason, by);
		if (alive)
			*pid = r.pid;
	}
	free(prev_state);
	rip_rollout_rec_release(&r);
	return rc;
}
