/* SPDX-License-Identifier: MIT */
/*
 * schema_phase.h: where the schema stands against a running release, by
 * phase (issue 16): which of its expand and contract migrations the
 * database has applied (and since when), which it holds back, which
 * applied migrations the release does not carry (the schema is ahead,
 * after an abort that kept the schema), and whether a rollback to the
 * previous release is lossless right now.
 *
 * One place computes it for status, releases, rollout status, the
 * report and the metrics: everything is derived from the database's
 * migration table (ripcord_migrations: applied_at per migration) and the
 * releases' migrations as views read them (rip_release_view_migrations:
 * what state.db keeps of each release since its cut, not the artifact);
 * the phase itself is not kept anywhere.
 */
#ifndef RIPCORD_SCHEMA_PHASE_H
#define RIPCORD_SCHEMA_PHASE_H

#include "ripcord/config.h"
#include "ripcord/store.h"
#include "ripcord/strlist.h"

/* One migration of the running release, or one the schema is ahead by. */
struct rip_schema_phase_item {
	char *id;                 /* "0007_add_email" */
	bool contract;            /* contract phase (else expand); for an
				     ahead migration, as the newest release
				     of the store that carries it says */
	bool applied;
	int64_t applied_at;       /* unix seconds; 0 when pending */
	bool previous;            /* the previous release carries it too */
};

struct rip_schema_phase {
	char *release;            /* the running release */
	char *previous;           /* where a rollback goes; NULL: none */
	bool known;               /* the database was read: false without
				     [migrations], or when its SQLite file
				     does not exist yet (then every count is
				     0 and lossless is true) */
	struct rip_schema_phase_item *v;   /* the release's, in apply order */
	size_t n;
	size_t expand_applied, expand_pending;
	size_t contract_applied, contract_pending;
	int64_t contract_since;   /* newest applied_at of its applied
				     contract migrations; 0: none */
	struct rip_schema_phase_item *ahead;   /* applied, not carried by
						  the release, apply order */
	size_t nahead;
	struct rip_strlist lossy; /* applied contract migrations previous
				     does not carry: their downs cannot bring
				     the data back */
	bool keep;                /* [rollback] schema = keep: a rollback
				     runs no down */
	bool lossless;            /* a rollback loses no data: lossy is empty,
				     or keep (true with no previous) */
	bool compatible;          /* false when keep leaves lossy applied:
				     previous's code then runs on a schema
				     without what they dropped */
};

/*
 * For views only: where the schema of cfg's [migrations] database stands
 * against release running (its migrations as rip_release_view_migrations
 * reads them: no artifact read), with previous the release a rollback
 * from it goes to (NULL: none). The database is only read: a missing
 * SQLite file is not created (out->known false). Free with
 * rip_schema_phase_release, on every return.
 */
RIP_MUST_CHECK int rip_schema_phase(struct rip_schema_phase *out,
	const struct rip_config *cfg, struct rip_store *store,
	const char *running, const char *previous, struct rip_err *err);
void rip_schema_phase_release(struct rip_schema_phase *p);

/*
 * One line for tables: "2 expand applied, 1 contract pending", "1 expand
 * applied, 1 contract applied 3h ago", "no migrations"; with ", ahead by
 * 0008_x" when the schema is ahead. now is unix seconds. Caller frees.
 */
char *rip_schema_phase_text(const struct rip_schema_phase *p, int64_t now);

/* "lossless" or "LOSSY (0009_drop_name applied 2h ago)"; with keep,
 * "lossless (schema kept), but v1's code runs on a schema without what
 * 0009_drop_name (contract) dropped". Caller frees. */
char *rip_schema_phase_rollback_text(const struct rip_schema_phase *p,
	int64_t now);

/* "3h", "12m", "40s", "2d": how long ago t was. */
void rip_schema_phase_age(char *out, size_t size, int64_t t, int64_t now);

#endif
