/* SPDX-License-Identifier: MIT */
/*
 * drill.h: test-restores of releases (DESIGN.md §6) and their record in
 * state.db.
 *
 * A drill proves a release can be rolled back to and from, today:
 * integrity (the artifact's digest, signature and every entry), fidelity
 * (the extracted payload hashes, as git blobs and trees, to MANIFEST's
 * tree and to the commit's in the repository when it has it), a migration
 * round trip on a scratch database (parent schema A, ups B, downs back to
 * A, ups again B, per migration too, expand and contract alike), and an
 * optional smoke test. With [migrations] (sqlite) the smoke test runs on a
 * scratch database at the release's level, and a compatibility step runs
 * the previous release's smoke test on one at the release's expand level
 * (its contract ups held back, as deploy holds them): the proof that an
 * abort keeping the schema leaves a working system. Each
 * drill is one row of the drills table: when, how long, the result, the
 * first failure, and every step as JSON.
 *
 * The round trip starts from every schema a rollback from the release
 * would go back to (its paths, rip_drill_paths): the release the targets
 * ran before it by the switch journal (or, not deployed yet, the one they
 * run now), and its cut-parent when that differs. A rollback the drill
 * could not run fails it: its downs were never exercised.
 */
#ifndef RIPCORD_DRILL_H
#define RIPCORD_DRILL_H

#include "ripcord/config.h"
#include "ripcord/roundtrip.h"
#include "ripcord/state.h"
#include "ripcord/store.h"
#include "ripcord/strlist.h"

/* The outcome of a drill, worst first: integrity beats a failed round trip. */
#define RIP_DRILL_PASS "pass"
#define RIP_DRILL_FAIL "fail"            /* round trip or smoke: exit 1 */
#define RIP_DRILL_INTEGRITY "integrity"  /* integrity or fidelity: exit 3 */

struct rip_drill_rec {
	int64_t seq;
	char *release;
	int64_t started;          /* unix seconds */
	double seconds;
	char *result;             /* RIP_DRILL_PASS, _FAIL or _INTEGRITY */
	char *detail;             /* the first failure; NULL when it passed */
	char *steps;              /* JSON array: [{"step": "integrity", "ok":
				     true, "seconds": 0.12, "detail": null},
				     ...] for integrity, fidelity, roundtrip,
				     smoke (a step skipped is absent); the
				     round trip's also has "from": the
				     releases it started from ("" for an
				     empty schema), and "unexercised": what
				     no path exercised, or null */
};

RIP_MUST_CHECK int rip_drill_record(int64_t *seq, struct rip_state *st,
	const struct rip_drill_rec *rec, struct rip_err *err);
/*
 * The drills of release (every release when NULL), newest first, at most
 * limit of them (0: all). Free with rip_drill_recs_free.
 */
RIP_MUST_CHECK int rip_drill_history(struct rip_drill_rec **out, size_t *n,
	struct rip_state *st, const char *release, size_t limit,
	struct rip_err *err);
/* The newest drill of release (only passing ones with passed); out->seq 0
 * when there is none. */
RIP_MUST_CHECK int rip_drill_last(struct rip_drill_rec *out,
	struct rip_state *st, const char *release, bool passed,
	struct rip_err *err);
void rip_drill_rec_release(struct rip_drill_rec *r);
void rip_drill_recs_free(struct rip_drill_rec *v, size_t n);
/*
 * The releases r's round trip started from, read from its steps, pushed
 * to out ("" for an empty schema). False when r ran no round trip; true
 * with nothing pushed for a drill recorded before paths (it started from
 * the cut-parent alone).
 */
bool rip_drill_rec_from(struct rip_strlist *out, const struct rip_drill_rec *r);
/* What r's round trip left unexercised (a copy the caller frees), or NULL. */
char *rip_drill_rec_unexercised(const struct rip_drill_rec *r);
enum rip_drill_compat_result {
	RIP_COMPAT_NEVER,         /* the drill ran no compatibility step */
	RIP_COMPAT_PASS,
	RIP_COMPAT_FAIL,
	RIP_COMPAT_NOT_RUN,       /* recorded, but nothing could run: no
				     activate hook or no smoke_health */
};

/*
 * The compatibility step of r, read from its steps, with the previous
 * release it ran and the expand level it ran on (copies the caller frees;
 * NULL when unknown).
 */
enum rip_drill_compat_result rip_drill_rec_compat(char **previous,
	char **level, const struct rip_drill_rec *r);
/* "v1.0 and v1.1", "v1.0, v1.1 and an empty schema": the caller frees it. */
char *rip_drill_from_text(const struct rip_strlist *from);

/*
 * A schema the round trip starts from: a release a rollback from the
 * drilled one goes back to, or its cut-parent, or both.
 */
struct rip_drill_path {
	char *from;               /* a release id; NULL: an empty schema */
	char *target;             /* rollback: the first target that goes
				     back to from; NULL otherwise */
	bool rollback;            /* `rollback` goes back to it (or, for a
				     release not deployed yet, would) */
	bool parent;              /* the cut-parent (MANIFEST parent) */
	bool ran;                 /* the round trip ran from it */
	char *why;                /* did not run: why (it is gone from the
				     store); or a note on how it ran */
	size_t ups, checked, failed;   /* its round trip's counts */
	bool ok;                  /* ran and every schema matched */
};

/*
 * The paths of a drill of release id whose cut-parent is parent (NULL: a
 * first release), rollbacks first, then the cut-parent unless a rollback
 * goes to it too. Per target, by the switch journal (the targets are not
 * read): running id, where rip_rollback_target goes; having run id
 * before, what it ran before it first switched to id; never having run
 * it, what it runs now, when that was cut before id (a deploy of id then
 * a rollback would go back to it). Free with rip_drill_paths_free.
 */
RIP_MUST_CHECK int rip_drill_paths(struct rip_drill_path **out, size_t *n,
	const struct rip_config *cfg, struct rip_store *store, const char *id,
	const char *parent, struct rip_err *err);
void rip_drill_paths_free(struct rip_drill_path *v, size_t n);

/*
 * The rollout gate ([rollout] require_drill): 0 when the check is off or
 * release's own last drill passed; else RIP_EFAIL saying to run `ripcord
 * drill ID` (or that its last drill failed, and when).
 */
RIP_MUST_CHECK int rip_drill_gate(const struct rip_config *cfg,
	struct rip_store *store, const char *release, struct rip_err *err);

/*
 * Whether `deploy` may put release id on targets: RIP_EFAIL when it is
 * yanked (rip_store_refuse_yanked's words) or its last drill failed,
 * naming each, when, why and what to do. With force each of those is
 * warned about instead and 0 returned. A release never drilled is
 * admitted (a drill is advice, not a gate; [rollout] require_drill is the
 * gate of rollouts); so is an id the store does not know (the plan says
 * so).
 */
RIP_MUST_CHECK int rip_deploy_admit(struct rip_store *store, const char *id,
	bool force, struct rip_err *err);

/* The steps of a drill, in the order they run. */
enum rip_drill_step_kind {
	RIP_STEP_INTEGRITY,
	RIP_STEP_FIDELITY,
	RIP_STEP_ROUNDTRIP,
	RIP_STEP_SMOKE,
	RIP_STEP_COMPAT,          /* the previous release's smoke test on the
				     expand level (rip_drill_run) */
	RIP_STEP_N,
};

struct rip_drill_step {
	bool ran;
	bool ok;
	bool not_run;             /* ran is set (it is shown and recorded)
				     but it tested nothing: ok is false and
				     detail says why ("not run: no activate
				     hook"); it fails no drill */
	double seconds;
	char *detail;             /* what failed (a diff, a path); or a note */
};

struct rip_drill_outcome {
	char *release;
	struct rip_drill_step steps[RIP_STEP_N];
	const char *result;       /* RIP_DRILL_PASS, _FAIL, _INTEGRITY */
	char *detail;             /* the first failure, NULL when it passed */
	int64_t started;
	double seconds;
	int64_t seq;              /* its row in drills */
	bool trend;               /* far slower than its recent drills */
	double median;            /* of its last passing drills, seconds */
	struct rip_roundtrip roundtrip;   /* what the round trip checked and
					     every failure it found, whole:
					     of the first path that failed,
					     else of the first that ran */
	struct rip_drill_path *paths;     /* every path, rollbacks first */
	size_t npaths;
	char *unexercised;        /* the downs a rollback would run that no
				     path exercised, and why; NULL: none */
	char *compat_previous;    /* the compatibility step's previous
				     release; NULL when it did not run */
	char *compat_level;       /* ... the expand level it ran on: the
				     newest migration applied; NULL: none */
	char *phases;             /* "2 expand, 1 contract (0009_drop_x)":
				     the phases of the migrations under
				     test; NULL with no round trip */
};

/* "integrity", "fidelity", "round trip", "smoke", "compatibility". */
const char *rip_drill_step_name(enum rip_drill_step_kind k);

/* Called after each step, for progress output. */
typedef void (*rip_drill_fn)(void *data, const char *release,
	enum rip_drill_step_kind k, const struct rip_drill_step *s);

/*
 * Drills release id of the store (DESIGN.md §6) in a scratch folder (and,
 * for the round trip, a scratch database), never touching targets or the
 * configured database, and records the outcome. Steps stop at the first
 * integrity or fidelity failure; a failed round trip still lets the smoke
 * test run. Returns 0 when it passed, RIP_EFAIL for a failed round trip or
 * smoke test, RIP_EINTEGRITY (or RIP_ESECURITY) for integrity or fidelity,
 * with err saying what failed; out is filled and recorded in every case
 * but infrastructure errors (a scratch folder that cannot be made...),
 * which return their own code unrecorded.
 */
RIP_MUST_CHECK int rip_drill_run(struct rip_drill_outcome *out,
	const struct rip_config *cfg, struct rip_store *store, const char *id,
	rip_drill_fn fn, void *data, struct rip_err *err);
void rip_drill_outcome_release(struct rip_drill_outcome *o);

/*
 * Whether release id is due ([drill] every): no drill passed, or the last
 * passing one started longer than every ago (now is unix seconds), or it
 * did not start from a release a rollback from id goes back to now (with
 * [migrations]: a deploy since moved where rollback goes).
 */
RIP_MUST_CHECK int rip_drill_due(bool *due, const struct rip_config *cfg,
	struct rip_store *store, const char *id, int64_t now,
	struct rip_err *err);

#endif
