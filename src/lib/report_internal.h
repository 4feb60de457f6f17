/* SPDX-License-Identifier: MIT */
/*
 * report_internal.h: what the report page (report.c) and its charts
 * (report_svg.c) share: how a time and an outcome are written, and the
 * charts, each appended to the page as an inline <svg> with its legend.
 */
#ifndef RIPCORD_REPORT_INTERNAL_H
#define RIPCORD_REPORT_INTERNAL_H

#include <string.h>

#include "ripcord/report.h"

#define RIP_REPORT_MINUTES "%Y-%m-%d %H:%M"

/* The section "schema" (report_schema.c): its rows from the journal and
 * the database, and the section itself (nothing without rows). */
RIP_MUST_CHECK int rip_report_load_schema(struct rip_report *r,
	const struct rip_config *cfg, struct rip_store *store,
	struct rip_err *err);
void rip_report_schema_release(struct rip_report *r);
void rip_report_section_schema(struct rip_buf *b, const struct rip_report *r);

/* t (UTC) as strftime's fmt writes it, into out, which it returns. */
const char *rip_report_utc(char out[32], int64_t t, const char *fmt);

static inline bool rip_report_passed(const struct rip_drill_rec *r)
{
	return r->result && !strcmp(r->result, RIP_DRILL_PASS);
}

static inline bool rip_report_is_change(const struct rip_dora_event *ev)
{
	return ev->kind == RIP_DORA_DEPLOY || ev->kind == RIP_DORA_ROLLOUT;
}

/* "ok", "failed" or "rolled-back": the CSS class of an event. */
static inline const char *rip_report_outcome(const struct rip_dora_event *ev)
{
	if (rip_report_is_change(ev))
		return ev->rolled_back ? "rolled-back" : ev->failed ? "failed" :
			"ok";
	return ev->ok ? "ok" : "failed";
}

/* Deploys and rollouts per day of the window: successful and failed. */
void rip_report_svg_per_day(struct rip_buf *b, const struct rip_dora *d);
/* Drill durations over time, one series per release (r has drills). */
void rip_report_svg_drills(struct rip_buf *b, const struct rip_report *r);
/* The age of each release's last drill against [drill] every. */
void rip_report_svg_readiness(struct rip_buf *b, const struct rip_report *r);
/* The section "judge": the canary judge's verdicts of the window, newest
 * first, with their numbers (report_judge.c). */
void rip_report_section_judge(struct rip_buf *b, const struct rip_report *r);

/* Deploys, rollouts and rollbacks on one line of time, restores dashed. */
void rip_report_svg_timeline(struct rip_buf *b, const struct rip_dora *d);

#endif
