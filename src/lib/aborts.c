/* SPDX-License-Identifier: MIT */
/*
 * aborts.c: the aborts ledger as JSON, one piece of code for `ripcord log
 * --aborts --json` and the key "aborts" of `ripcord report --json`: every
 * aborted rollout with the gate that fired, its numbers and what the
 * abort undid (the rollouts table's reason, figures and applied), and the
 * audit entry of the command that aborted it. It only reads.
 */
#include <stdlib.h>
#include <string.h>

#include "ripcord/journal.h"
#include "ripcord/rollout.h"
#include "json_internal.h"
#include "banned.h"

/*
 * The audit entry of the command that ended rollout ro's abort: the first
 * one from a->v[*next] on, written at or after it finished, that moved
 * its targets from its release back to the previous one. Aborts are read
 * in order, and *next moves past each match, so two aborts within one
 * second never claim the same entry. The entry must also be written no
 * later than until (the next rollout's start; 0: none) by a command that
 * had started when ro finished (its time less its duration, a second of
 * rounding allowed): an abort whose command left no entry (killed midway)
 * gets none, not the entry of the next abort of the same releases. NULL
 * when the log does not say.
 */
static const struct rip_audit_entry *abort_entry(const struct rip_audit *a,
	const struct rip_rollout_rec *ro, int64_t until, size_t *next)
{
	for (size_t i = *next; i < a->n; i++) {
		const struct rip_audit_entry *e = &a->v[i];

		if (until && e->at > until)
			break;
		if (e->at >= ro->finished && e->from && e->to &&
		    (double)e->at - e->seconds <= (double)ro->finished + 1 &&
		    !strcmp(e->from, ro->release) && !strcmp(e->to, ro->previous) &&
		    strstr(e->command, "rollout")) {
			*next = i + 1;
			return e;
		}
	}
	return NULL;
}

/* One ledger entry as JSON: the record, its figures, the audit entry. */
static json_t *abort_json(const struct rip_rollout_rec *ro,
	const struct rip_audit_entry *e)
{
	json_t *fig = ro->figures ? json_loads(ro->figures, 0, NULL) : NULL;
	json_t *doc = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:s?, "
		"s:s?, s:s?}", "seq", (json_int_t)ro->seq, "release", ro->release,
		"previous", ro->previous, "step", (json_int_t)ro->step, "steps",
		(json_int_t)ro->nsteps, "started", (json_int_t)ro->started,
		"finished", (json_int_t)ro->finished, "reason", ro->reason, "phase",
		ro->phase, "applied", ro->applied);
	const char *keys[] = { "gate", "target", "canary", "baseline",
		"verdict", "message", "undone" };

	for (size_t i = 0; i < RIP_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(fig, keys[i]);

		json_object_set(doc, keys[i], v ? v : json_null());
	}
	json_decref(fig);
	json_object_set_new(doc, "audit", e ? json_pack("{s:I, s:I, s:s, s:s, "
		"s:s, s:i}", "seq", (json_int_t)e->seq, "at", (json_int_t)e->at,
		"user", e->user, "host", e->host, "command", e->command,
		"exit_code", e->exit_code) : json_null());
	return doc;
}

/* Whether ro finished after since and no later than until (0: no bound). */
static bool in_window(const struct rip_rollout_rec *ro, int64_t since,
	int64_t until)
{
	return (!since || ro->finished > since) &&
		(!until || ro->finished <= until);
}

int rip_aborts_json(json_t **out, struct rip_state *st, int64_t since,
	int64_t until, size_t last, struct rip_err *err)
{
	struct rip_rollout_rec *v = NULL;
	struct rip_audit a = { 0 };
	size_t nv = 0, next = 0, shown = 0, skip;
	json_t *list = json_array();
	int rc = 0;

	*out = NULL;
	if (st && ((rc = rip_rollout_aborts(&v, &nv, st, err)) < 0 ||
		   (rc = rip_audit_list(&a, st, 0, err)) < 0))
		goto done;
	for (size_t i = 0; i < nv; i++)
		shown += in_window(&v[i], since, until);
	skip = last && shown > last ? shown - last : 0;
	for (size_t i = 0; i < nv; i++) {
		const struct rip_audit_entry *e;
		int64_t next_start;

		if ((rc = rip_rollout_next_start(&next_start, st, v[i].seq,
				err)) < 0)
			goto done;
		/* every abort is matched, in order, shown or not */
		e = abort_entry(&a, &v[i], next_start, &next);
		if (!in_window(&v[i], since, until))
			continue;
		if (skip) {
			skip--;
			continue;
		}
		json_array_append_new(list, abort_json(&v[i], e));
	}
	*out = list;
	list = NULL;
done:
	json_decref(list);
	rip_rollout_recs_free(v, nv);
	rip_audit_release(&a);
	return rc < 0 ? rc : 0;
}
