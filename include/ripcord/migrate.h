/* SPDX-License-Identifier: MIT */
/*
 * migrate.h: the migration engine: what is applied, what is pending, and
 * moving a database up to a release or down to an older one. It knows
 * migrations and drivers (db.h), nothing of targets or servers.
 */
#ifndef RIPCORD_MIGRATE_H
#define RIPCORD_MIGRATE_H

#include "ripcord/config.h"
#include "ripcord/db.h"

struct rip_migrate;

/*
 * Opens the database of cfg's [migrations] with its driver: a relative
 * SQLite path is relative to the config's folder; the command driver's
 * ledger is <store>/migrations-ledger.db.
 */
RIP_MUST_CHECK int rip_migrate_open(struct rip_migrate **out,
	const struct rip_config *cfg, struct rip_err *err);
void rip_migrate_free(struct rip_migrate *m);
/* "sqlite '/srv/app/var/shop.db'" and the like, for messages. */
const char *rip_migrate_where(const struct rip_migrate *m);
const struct rip_db_ops *rip_migrate_ops(const struct rip_migrate *m);
struct rip_db *rip_migrate_db(struct rip_migrate *m);

enum rip_mig_state {
	RIP_MIG_APPLIED,          /* recorded, same checksum */
	RIP_MIG_PENDING,          /* in the release, not recorded */
	RIP_MIG_CHANGED,          /* recorded with another checksum */
	RIP_MIG_DIRTY,            /* failed outside a transaction */
	RIP_MIG_UNKNOWN,          /* recorded, not in the release */
};

struct rip_mig_status_item {
	char *id;
	enum rip_mig_state state;
	int64_t applied_at;       /* 0 when pending */
	char recorded[RIP_SHA256_HEX];   /* checksum in the database */
	char expected[RIP_SHA256_HEX];   /* checksum in the release */
	bool baseline;
	bool irreversible;
	bool contract;            /* contract phase (else expand) */
};

struct rip_mig_status {
	struct rip_mig_status_item *v;   /* applied order, then pending */
	size_t n;
	size_t alloc;
	size_t count[RIP_MIG_UNKNOWN + 1];
};

const char *rip_mig_state_name(enum rip_mig_state s);

RIP_MUST_CHECK int rip_migrate_status(struct rip_mig_status *out,
	struct rip_migrate *m, const struct rip_migrations *release,
	struct rip_err *err);
void rip_mig_status_release(struct rip_mig_status *s);

/* Called before (rc = 1) and after (rc = 0 or < 0) each step. */
typedef void (*rip_migrate_step_fn)(void *data,
	const struct rip_migration *mg, enum rip_db_direction dir, int rc,
	double seconds);

/* Which pending ups rip_migrate_up applies (issue 16's phases). */
enum rip_mig_phase {
	RIP_PHASE_ALL = 0,        /* every pending up */
	RIP_PHASE_EXPAND,         /* expand ups only (deploy, rollout) */
	RIP_PHASE_CONTRACT,       /* contract ups only (migrate contract) */
};

struct rip_migrate_opts {
	bool dry_run;             /* plan and report, change nothing */
	enum rip_mig_phase phase; /* ups of this phase only; others are
				     skipped, left pending */
	rip_migrate_step_fn on_step;
	void *data;
	/* asked (with data) before each up after the first: true stops
	 * there, between two transactions, with RIP_EINTR naming the
	 * migration not run (a preempted deploy); NULL: never */
	bool (*stop)(void *data);
};

/* Whether migration g belongs to phase (RIP_PHASE_ALL: always). */
bool rip_mig_phase_has(enum rip_mig_phase phase,
	const struct rip_migration *g);

/*
 * Applies release's pending migrations of o->phase in its order, each
 * with its verify script after it. Gaps are fine: a pending up is applied
 * whether or not ups after it in the release are applied already (a
 * contract up held back while a later release's expand ups ran), and the
 * database records each in the order it ran. Refuses first, changing nothing, when a level is dirty
 * or an applied migration's file changed. Stops at the first failure,
 * which the driver has rolled back (or marked dirty).
 */
RIP_MUST_CHECK int rip_migrate_up(struct rip_migrate *m,
	const struct rip_migrations *release,
	const struct rip_migrate_opts *o, size_t *done, struct rip_err *err);

/*
 * Undoes, newest first, every applied migration that keep does not carry,
 * with the down script from sources (migrations of many releases, newest
 * release first; a source whose checksum matches the record is preferred).
 * Refuses before changing anything when one of them is irreversible, lies
 * within the baseline, has no known down, or a level is dirty.
 */
RIP_MUST_CHECK int rip_migrate_down(struct rip_migrate *m,
	const struct rip_migrations *keep,
	const struct rip_migrations *sources,
	const struct rip_migrate_opts *o, size_t *done, struct rip_err *err);

/* Records release's checksum for applied migration id (acknowledged). */
RIP_MUST_CHECK int rip_migrate_ack(struct rip_migrate *m,
	const struct rip_migrations *release, const char *id,
	struct rip_err *err);

/*
 * Settles a dirty level after a human fixed the schema: applied keeps the
 * record (clean), not applied drops it.
 */
RIP_MUST_CHECK int rip_migrate_mark(struct rip_migrate *m, const char *id,
	bool applied, struct rip_err *err);

#endif
