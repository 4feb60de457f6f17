/* SPDX-License-Identifier: MIT */
/*
 * report.h: what `ripcord report` shows, gathered from a store, and the
 * one self-contained HTML page it is drawn into: inline CSS and inline SVG
 * charts drawn here, no script, no font, no URL to fetch.
 *
 * The page has seven sections (eight with "schema"), each an element
 * with an id: "summary" (project, when it was generated, the store, the
 * window), "dora" (the
 * four figures of dora.h and a chart of changes per day), "drills" (the
 * duration of every drill in the window, a series per release, failed
 * drills marked apart), "readiness" (per release: its last drill, its
 * age against [drill] every, whether its artifact is in the store),
 * "history" (the deploys, rollouts and rollbacks of the window as a
 * timeline and a table), "judge" (the canary judge's verdicts of the
 * window with their numbers: score, and per metric the samples, U,
 * p-value, effect size and classification) and "aborts" (the aborts
 * ledger: every rollout aborted in the window, the gate that fired, its
 * numbers, what was undone); and, with [migrations] once its database
 * exists, "schema" (per target: the release the journal says it runs,
 * its migrations by phase in the database, whether a rollback is lossless
 * and proven compatible by a drill). Every string taken from the data is
 * escaped.
 * Given the same data and now, the page is the same, byte for byte.
 */
#ifndef RIPCORD_REPORT_H
#define RIPCORD_REPORT_H

#include "ripcord/buf.h"
#include "ripcord/config.h"
#include "ripcord/dora.h"
#include "ripcord/drill.h"
#include "ripcord/rollout.h"
#include "ripcord/schema_phase.h"
#include "ripcord/store.h"
#include "ripcord/verdicts.h"

/* One target's row of the section "schema". */
struct rip_report_schema {
	char *target;
	size_t phase;             /* index in rip_report.phases */
	enum rip_drill_compat_result compat;   /* the last drill of what it
						  runs, with its rollback */
	char *compat_level;
};

/* How ready the rollback to one release is. */
struct rip_readiness {
	char *release;
	int64_t created;          /* its commit time */
	bool artifact;            /* its artifact is in the store */
	struct rip_drill_rec last;   /* its newest drill; seq 0: never drilled */
	int64_t last_pass;        /* when its newest passing drill started; 0 */
	bool fresh;               /* the newest drill passed and started within
				     [drill] every before now */
	bool ready;               /* artifact and fresh */
};

struct rip_report {
	char *project;
	char *store;              /* the store's folder */
	int64_t now;
	uint64_t every_ms;        /* [drill] every; 0: no limit */
	struct rip_release_rec *releases;  /* oldest first */
	size_t n_releases;
	struct rip_drill_rec *drills;      /* started in the window, oldest
					      first */
	size_t n_drills;
	struct rip_readiness *ready;       /* one per release, newest first */
	size_t n_ready;
	struct rip_dora dora;     /* over the window of days before now */
	struct rip_verdict_rec *verdicts;  /* recorded in the window, oldest
					      first */
	size_t n_verdicts;
	struct rip_schema_phase *phases;   /* one per release run and its
					      rollback, by the journal */
	size_t n_phases;
	struct rip_report_schema *schema;  /* one per target running one */
	size_t n_schema;
	struct rip_rollout_rec *aborts;    /* aborted rollouts that ended in
					      the window, oldest first */
	size_t n_aborts;
};

/*
 * Reads what the report shows from store (NULL: nothing cut yet, an empty
 * report) for the days (1 to RIP_DORA_MAX_DAYS) before now. Reads only.
 * Free *out with rip_report_release.
 */
RIP_MUST_CHECK int rip_report_load(struct rip_report *out,
	const struct rip_config *cfg, struct rip_store *store, int64_t now,
	unsigned days, struct rip_err *err);
void rip_report_release(struct rip_report *r);

/* Appends the whole HTML page of r to out. */
void rip_report_html(struct rip_buf *out, const struct rip_report *r);

/*
 * Appends s to out escaped for HTML text and attribute values: & < > " '
 * as entities, control characters (but tab and newline) and bytes that
 * are not UTF-8 as U+FFFD. NULL appends nothing.
 */
void rip_html_escape(struct rip_buf *out, const char *s);

#endif
