/* SPDX-License-Identifier: MIT */
/*
 * roundtrip.h: the migration round trip of a drill (DESIGN.md §6, step 3),
 * on a scratch database that it creates and always removes; the database
 * of [migrations] is never opened.
 *
 * Schema A is the parent release's migrations applied to the empty
 * scratch database. Every migration the release adds is then, in order,
 * run up, down (the schema must be the one before its up) and up again
 * (the schema must be the one after its up). A migration that fails is
 * recorded and the scratch database rebuilt to the schema after its up
 * (made again, the ups replayed), so the ones after it are still tried:
 * one run finds every bad down of a release. Finally, when every one
 * passed, the release as a whole: its downs newest first (must give A
 * again) and its ups again (must give B, the schema after the first ups).
 * Schemas are compared by their structural fingerprints (fingerprint.h);
 * strict adds column order and comments to what is compared.
 *
 * A migration whose up and down hold no statement (only comments, blanks
 * and lone semicolons) has nothing to undo: it is round-tripped like any
 * other, even when marked irreversible, so it never moves the floor.
 */
#ifndef RIPCORD_ROUNDTRIP_H
#define RIPCORD_ROUNDTRIP_H

#include "ripcord/config.h"
#include "ripcord/migrate.h"
#include "ripcord/state.h"

struct rip_roundtrip_opts {
	const char *driver;       /* [migrations] driver: "sqlite" or
				     "postgres"; "command" cannot be drilled */
	const char *scratch;      /* [drill] database: NULL or "scratch" for
				     a temporary SQLite file; otherwise the
				     postgres conninfo or URI of a server to
				     create the scratch database on */
	bool strict;              /* [drill] strict */
	const char *tmpdir;       /* where the SQLite scratch file goes;
				     NULL: $TMPDIR, else /tmp */
	rip_migrate_step_fn on_step;  /* each step of the engine; may be NULL */
	void *data;
	struct rip_state *state;  /* where a PostgreSQL scratch database is
				     recorded before it is created, so the
				     next run drops it if this one is killed
				     (and drops the leftovers recorded there
				     by dead runs); NULL: not recorded */
};

/* One object that differs: its definition on each side of the diff. */
struct rip_roundtrip_object {
	char *key;                /* "index orders_note" (fingerprint.h) */
	char *a;                  /* its definition on side a; NULL when it
				     exists only on side b */
	char *b;
};

struct rip_roundtrip_failure {
	char *migration;          /* "0003_add_note"; for the release as a
				     whole "0021_x..0033_y" */
	char *phase;              /* "up", "down", "up again", "release
				     down", "release up again" (or "parent
				     up" when the parent's own ups fail, or
				     "rebuild" when replaying the ups after
				     a failure does) */
	char *error;              /* the database's message when a script
				     failed; NULL when it ran */
	char *diff;               /* rip_fp_diff lines when it ran but the
				     schema differs; NULL otherwise */
	char *a_label;            /* with diff: the sides, "before up" and */
	char *b_label;            /* "after down", ... */
	struct rip_roundtrip_object *obj;   /* with diff: every object that */
	size_t nobj;                        /* differs, whole */
};

struct rip_roundtrip {
	size_t ups;               /* migrations of the release not in the
				     parent: the ones under test */
	size_t checked;           /* of them, round-tripped on their own:
				     down and up again ran */
	size_t skipped;           /* of them, irreversible or baseline: up
				     only */
	char *floor;              /* the newest skipped one: the release's
				     downs stop above it; NULL when none */
	bool release_checked;     /* the release-level round trip ran */
	size_t failed;            /* migrations with a failure */
	struct rip_roundtrip_failure *fail;
	size_t nfail;
	size_t alloc;
	char *scratch;            /* "ripcord_drill_<16 hex>" or the SQLite
				     file; gone when run returns */
	char parent_fp[RIP_SHA256_HEX];   /* digest of fingerprint A */
	char release_fp[RIP_SHA256_HEX];  /* ... and of B, when reached */
	double seconds;
};

/*
 * Fills o from cfg: driver from [migrations], scratch and strict from
 * [drill]. [migrations] database is not copied: the round trip never
 * needs it. o borrows cfg's strings.
 */
void rip_roundtrip_opts_init(struct rip_roundtrip_opts *o,
	const struct rip_config *cfg);

/*
 * Runs the round trip of release (its full set of migrations, in apply
 * order) against parent (the migrations the parent release carries;
 * empty for a first release). The migrations under test are those of
 * release whose id parent lacks. Returns 0 when every schema matched,
 * RIP_EFAIL when a script failed or a schema differed (out->fail lists
 * every failure with the objects that differ; err only counts them and
 * names the first migration), RIP_ECONFIG for options that cannot be
 * drilled, RIP_EIO when the scratch database cannot be made, read or
 * removed. The scratch database is removed on every path; if that fails
 * after the round trip itself failed, the failure is returned and the
 * leftover is warned about by name. A down or an up again that fails or
 * gives another schema does not stop the run (the scratch database is
 * rebuilt); an up that fails does, as every later up builds on it. out
 * is filled in every case; free it with rip_roundtrip_release.
 */
RIP_MUST_CHECK int rip_roundtrip_run(struct rip_roundtrip *out,
	const struct rip_roundtrip_opts *o, const struct rip_migrations *parent,
	const struct rip_migrations *release, struct rip_err *err);

/*
 * What a passing round trip checked, counting only the migrations really
 * undone and redone: "3 migrations undone and redone", or "149 of 171
 * migrations undone and redone (22 irreversible or baseline: up only,
 * the newest 0150_x)". The caller frees it.
 */
char *rip_roundtrip_summary(const struct rip_roundtrip *r);

void rip_roundtrip_release(struct rip_roundtrip *r);

#endif
