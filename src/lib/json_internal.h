/* SPDX-License-Identifier: MIT */
/*
 * json_internal.h: the JSON documents the library builds for the command
 * line's --json output (`ripcord status --json`, `ripcord report --json`)
 * and for the webhook (rip_notify_event).
 * They are jansson values, and jansson's types stay out of the public
 * headers (include/ripcord), so they are declared here; the CLI reaches
 * this header through its include path to src/lib, as it does banned.h.
 */
#ifndef RIPCORD_JSON_INTERNAL_H
#define RIPCORD_JSON_INTERNAL_H

#include <jansson.h>

#include "ripcord/dora.h"
#include "ripcord/notify.h"
#include "ripcord/report.h"
#include "ripcord/rollout.h"
#include "ripcord/plan_schema.h"
#include "ripcord/schema_phase.h"
#include "ripcord/verdicts.h"

/*
 * The figures as a new JSON object (the caller owns the reference):
 * window_days, since, now, deployment_frequency_per_day,
 * lead_time_seconds, change_failure_rate, time_to_restore_seconds (each
 * null when n/a), and the counts deploys, successful_deploys,
 * change_failures, restored, rollbacks, lead_time_releases. (dora.c)
 */
json_t *rip_dora_json(const struct rip_dora *d);

/*
 * A rollback's or an abort's schema phase as a new JSON object: mode
 * ("keep" | "down"), lossless, level, kept (ids), kept_contract,
 * kept_unknown (the lead could not be read), downs
 * (the ids given: run, or planned in a dry run), data_loss ([{migration,
 * object, why}]), accept_data_loss. (plan_schema.c)
 */
json_t *rip_plan_schema_json(const struct rip_plan_schema *s,
	const char *const *downs, size_t ndowns);

/*
 * The schema's phase as a new JSON object: release, previous, known,
 * migrations (each: migration, phase, applied, applied_at), expand_applied,
 * expand_pending, contract_applied, contract_pending, contract_since,
 * ahead (each as in migrations), lossless, lossy (ids). (schema_phase.c)
 */
json_t *rip_schema_phase_json(const struct rip_schema_phase *p);

/*
 * The report's section "schema" as a new JSON array: per target, target,
 * release, previous, compatible ("pass", "fail", "never"), level and
 * schema (rip_schema_phase_json). (report_schema.c)
 */
json_t *rip_report_schema_json(const struct rip_report *r);

/*
 * The readiness as a new JSON array, newest release first, of objects:
 * release, created, artifact, ready, fresh, last_drill (null or {seq,
 * started, seconds, result, detail, age_seconds}), last_pass (null or a
 * time). (report.c)
 */
json_t *rip_report_readiness_json(const struct rip_report *r);

/*
 * A judgment's comparison (verdicts.c): the metrics as a new JSON array of
 * objects (metric, weight, classification, test, exact, canary_n,
 * baseline_n, z, p_value, alpha; latency: u, canary_outliers,
 * baseline_outliers, canary_median_ms, baseline_median_ms, hl_ms, ratio,
 * effect_tolerance, effect_min_ms; errors: canary_rate, baseline_rate,
 * difference, ratio), empty when v did not compare; and the whole judge
 * as an object (score, confidence, effect_tolerance, effect_min_ms,
 * pass_score, marginal_score, outliers, metrics), null when v did not
 * compare. A number that is none (NaN, infinite) is null.
 */
json_t *rip_verdict_metrics_json(const struct rip_verdict *v,
	const struct rip_gate *g);
json_t *rip_verdict_judge_json(const struct rip_verdict *v,
	const struct rip_gate *g);
/* Rows of the verdicts table as a new JSON array of objects: seq,
 * rollout, release, step, round, final, at, verdict, gate, score, message,
 * metrics (the array above). */
json_t *rip_verdict_recs_json(const struct rip_verdict_rec *v, size_t n);

/*
 * The aborts ledger (aborts.c; `ripcord log --aborts --json` and the key
 * "aborts" of `ripcord report --json`) as a new JSON array in *out, oldest
 * first: of the aborted rollouts of st (NULL: none), those that finished
 * after since and no later than until (each 0: no bound), the last `last` of
 * them (0: all). Each: seq, release, previous, step, steps, started,
 * finished, reason, phase, applied, the figures' gate, target, canary,
 * baseline, verdict, message and undone (null when not recorded), and
 * audit (null or {seq, at, user, host, command, exit_code}: the entry of
 * the command that aborted it). Every abort is matched against the audit
 * log in order, shown or not, so a window or a count never changes which
 * entry an abort gets. On failure *out is NULL.
 */
RIP_MUST_CHECK int rip_aborts_json(json_t **out, struct rip_state *st,
	int64_t since, int64_t until, size_t last, struct rip_err *err);

/*
 * The standard document of a notification (notify.c), as a newly
 * allocated compact JSON string the caller frees with free():
 *
 *   {"event": event, "project": project (null when NULL), "host": the host
 *    name, "user": rip_user_name(), "at": "2026-01-02T03:04:05Z",
 *    "tool": "ripcord", ...every key of fields}
 *
 * fields is borrowed (the caller still owns its reference) and may be NULL;
 * a key of fields that names a standard key is ignored, so consumers can
 * rely on those. Returns NULL when event is NULL, fields is not an
 * object, a string is not UTF-8 or memory runs out.
 */
char *rip_notify_event(const char *event, const char *project,
	json_t *fields);

#endif
