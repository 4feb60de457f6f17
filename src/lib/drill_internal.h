/* SPDX-License-Identifier: MIT */
/*
 * drill_internal.h: what drill.c shares with drill_rec.c (the query of
 * the drills table) and drill_compat.c (the scratch databases of the
 * smoke and compatibility steps).
 */
#ifndef RIPCORD_DRILL_INTERNAL_H
#define RIPCORD_DRILL_INTERNAL_H

#include <sys/types.h>

#include "ripcord/drill.h"
#include "ripcord/migration.h"

/*
 * The drills of release (all when NULL; only passing ones with passed),
 * newest first, at most limit (0: all). Free with rip_drill_recs_free.
 * (drill_rec.c)
 */
RIP_MUST_CHECK int rip_drill_query(struct rip_drill_rec **out, size_t *n,
	struct rip_state *st, const char *release, bool passed, size_t limit,
	struct rip_err *err);

/*
 * Makes the SQLite database at path (absolute, not there yet) and applies
 * migs' ups to it, each migration of migs for which keep(mg, data) is true
 * (keep NULL: every one). Only for the sqlite driver: RIP_ECONFIG for any
 * other. RIP_EFAIL, naming the migration, when an up fails.
 */
RIP_MUST_CHECK int rip_drill_scratch_db(const char *path,
	const struct rip_config *cfg, const struct rip_migrations *migs,
	bool (*keep)(const struct rip_migration *mg, void *data), void *data,
	struct rip_err *err);

/* What the compatibility step needs of a drill. */
struct rip_drill_compat_in {
	const struct rip_config *cfg;
	struct rip_store *store;
	const char *release;      /* the drilled release */
	const struct rip_migrations *migs;   /* its migrations */
	const char *previous;     /* the release a rollback goes back to */
	const char *scratch;      /* the drill's scratch folder */
};

/*
 * The compatibility drill: a scratch database at in->release's expand
 * level (its ups but the contract ones previous does not carry), the
 * previous release extracted into <scratch>/compat, the activate hook of
 * the first target that has one run on it with RIPCORD_DATABASE set to
 * that database, then [drill] smoke_health probed. 0 when it answered;
 * RIP_EFAIL naming the previous release, the level and what the probe
 * said; *level is set to the newest migration applied (NULL: none), the
 * caller frees it.
 */
RIP_MUST_CHECK int rip_drill_compat(char **level,
	const struct rip_drill_compat_in *in, struct rip_err *err);

/*
 * Runs the activate hook of cfg's first target that has one on root's
 * release id (payload dir), as a drill: RIPCORD_DRILL=1, RIPCORD_DATABASE
 * = database (may be NULL: unset). 0 when there is none or it exited 0.
 * *group: the hook's process group once it started (what it left running,
 * the app it started, is in it), else 0; end it with rip_drill_end_group.
 */
RIP_MUST_CHECK int rip_drill_activate(pid_t *group,
	const struct rip_config *cfg, const char *root, const char *id,
	const char *dir, const char *database, struct rip_err *err);

/* Ends what a drill's activate hook left running: SIGTERM to its process
 * group, SIGKILL to what is left after 2 s. No-op for 0. */
void rip_drill_end_group(pid_t group);

/* Whether a drill's smoke test can exercise anything: NULL when cfg has
 * an activate hook and [drill] smoke_health, else why not ("no activate
 * hook", "no smoke_health", or RIP_DRILL_SMOKE_NOTHING for both). */
const char *rip_drill_smoke_missing(const struct rip_config *cfg);

/* rip_drill_smoke_missing's answer when neither is there: the smoke step
 * itself then runs nothing. */
#define RIP_DRILL_SMOKE_NOTHING "no activate hook and no smoke_health"

/* Probes [drill] smoke_health once (0 when unset): RIP_EFAIL naming it. */
RIP_MUST_CHECK int rip_drill_smoke_probe(const struct rip_config *cfg,
	struct rip_err *err);

#endif
