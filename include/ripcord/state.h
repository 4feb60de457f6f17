/* SPDX-License-Identifier: MIT */
/*
 * state.h: <store>/state.db, the SQLite record of releases, the switch
 * journal and the audit log (journal.h), and later rollouts and drills.
 */
#ifndef RIPCORD_STATE_H
#define RIPCORD_STATE_H

#include <sys/types.h>

#include "ripcord/err.h"

struct rip_state;

/*
 * The schema version this build writes; older databases are upgraded.
 * 1: releases. 2: switches and audit (journal.h). 3: lock_holder,
 * operations and switches.activate. 4: drills (drill.h). 5: rollouts.
 * 6: releases.yanked_at, yank_reason, yanked_by (releases yank).
 * 7: audit's from/to/targets/migrations, rollouts.applied. 8: lock_holder's
 * release, preemptible and request. 9: verdicts (verdicts.h).
 * 10: release_migrations, each release's migrations for views
 * (rip_release_view_migrations).
 */
#define RIP_STATE_SCHEMA 10

struct rip_release_rec {
	char *id;
	char *project;
	char *commit;
	char *tree;
	char *parent;         /* NULL for the first release */
	int64_t created;      /* commit time */
	int64_t cut_at;       /* when it was cut */
	uint64_t size;        /* artifact bytes */
	char *sha256;         /* artifact digest, hex */
	bool is_signed;
	uint64_t files;
	uint64_t bytes;
	int64_t yanked_at;    /* when it was yanked; 0: it is not */
	char *yank_reason;    /* NULL when none was given */
	char *yanked_by;      /* who yanked it (rip_user_name) */
};

/*
 * Opens (creating and upgrading as needed) the state database at path:
 * WAL, synchronous=FULL, foreign keys on. A database written by a newer
 * ripcord is refused rather than misread.
 */
RIP_MUST_CHECK int rip_state_open(struct rip_state **out, const char *path,
	struct rip_err *err);
void rip_state_free(struct rip_state *st);

/* The schema version found in the file after opening. */
int rip_state_schema(const struct rip_state *st);

/*
 * A write transaction around several journal writes, so they cost one
 * commit (one sync) together: rip_state_end commits when rc is 0, else
 * rolls back, and returns the first error.
 */
RIP_MUST_CHECK int rip_state_begin(struct rip_state *st, struct rip_err *err);
RIP_MUST_CHECK int rip_state_end(struct rip_state *st, int rc,
	struct rip_err *err);

RIP_MUST_CHECK int rip_state_release_add(struct rip_state *st,
	const struct rip_release_rec *rec, struct rip_err *err);

/* RIP_ENOTFOUND when id is not recorded. */
RIP_MUST_CHECK int rip_state_release_get(struct rip_release_rec *out,
	struct rip_state *st, const char *id, struct rip_err *err);

/* Forgets release id (gc, after its files are gone); RIP_ENOTFOUND. */
RIP_MUST_CHECK int rip_state_release_delete(struct rip_state *st,
	const char *id, struct rip_err *err);
/*
 * Marks release id yanked by who at at, with reason (may be NULL): never
 * to be deployed, rolled out or rolled back to again. Yanking a yanked
 * release replaces its reason, who and when. RIP_ENOTFOUND.
 */
RIP_MUST_CHECK int rip_state_release_yank(struct rip_state *st,
	const char *id, const char *reason, const char *who, int64_t at,
	struct rip_err *err);
/* Clears the yank of release id (0 when it was not yanked); RIP_ENOTFOUND. */
RIP_MUST_CHECK int rip_state_release_unyank(struct rip_state *st,
	const char *id, struct rip_err *err);

/* Every release, oldest first; free with rip_release_recs_free. */
RIP_MUST_CHECK int rip_state_release_list(struct rip_release_rec **out,
	size_t *n, struct rip_state *st, struct rip_err *err);

/* The index of release id in v[0..n) (cut order, as listed), or -1 when
 * it is not there or id is NULL. */
ssize_t rip_release_index(const struct rip_release_rec *v, size_t n,
	const char *id);

void rip_release_rec_release(struct rip_release_rec *rec);
void rip_release_recs_free(struct rip_release_rec *v, size_t n);

/*
 * A PostgreSQL scratch database of a drill (roundtrip.h), recorded before
 * it is created and forgotten once dropped, so that one a killed drill
 * left behind is known by name to the next drill, which drops it.
 */
struct rip_scratch_rec {
	char *name;           /* "ripcord_drill_<16 hex>" */
	char *server;         /* the [drill] database it is on, password
				 masked */
	int64_t pid;          /* the drill that made it ... */
	char *host;           /* ... on this host */
	int64_t created;      /* unix seconds */
};

RIP_MUST_CHECK int rip_state_scratch_add(struct rip_state *st,
	const struct rip_scratch_rec *rec, struct rip_err *err);
/* Forgets name; forgetting one not recorded is no error. */
RIP_MUST_CHECK int rip_state_scratch_forget(struct rip_state *st,
	const char *name, struct rip_err *err);
/* Every recorded scratch database, oldest first; free with
 * rip_scratch_recs_free. */
RIP_MUST_CHECK int rip_state_scratch_list(struct rip_scratch_rec **out,
	size_t *n, struct rip_state *st, struct rip_err *err);
void rip_scratch_recs_free(struct rip_scratch_rec *v, size_t n);

#endif
