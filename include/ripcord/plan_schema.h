/* SPDX-License-Identifier: MIT */
/*
 * plan_schema.h: what an abort or a rollback does with the schema, by
 * phase. With keep, the code goes back and every applied migration stays:
 * the schema is ahead of the running release, and nothing is lost. With
 * down, the downs run; a down of a contract migration that ran cannot
 * bring back what its up dropped (a column, a table): that is the one
 * lossy path, named here and refused unless the caller accepts it.
 *
 * Nothing here is stored: what is applied is read from the target
 * database's migration table, what a release carries from its artifact.
 */
#ifndef RIPCORD_PLAN_SCHEMA_H
#define RIPCORD_PLAN_SCHEMA_H

#include "ripcord/config.h"
#include "ripcord/migration.h"
#include "ripcord/store.h"
#include "ripcord/strlist.h"

/* What a down cannot bring back. */
struct rip_data_loss {
	char *migration;          /* the contract migration: "0007_drop_mail" */
	char *object;             /* "users.mail" (a column) or "audit" (a
				     table) */
	char *why;                /* "its data was dropped by 0007_drop_mail
				     (contract) and the down only re-creates
				     the column empty" */
	bool unnamed;             /* the parser named nothing the up
				     dropped: object is "data changed by
				     0002_purge (contract)" */
	bool dropped;             /* a column or table the up dropped, which
				     the down re-creates empty */
};

/* The schema side of a rollback plan (struct rip_plan's schema). */
struct rip_plan_schema {
	bool planned;             /* a rollback plan with a database */
	bool keep;                /* no downs: the schema stays as it is */
	char *level;              /* the newest applied migration; NULL:
				     none */
	struct rip_strlist kept;  /* keep: the applied migrations the
				     destination does not carry, applied
				     order */
	size_t kept_contract;     /* how many of kept are contract */
	bool unknown;             /* keep: the lead could not be read (an
				     artifact that does not verify, a lost
				     verify_key): kept and level are empty */
	struct rip_data_loss *loss;   /* down: what the planned downs cannot
					 bring back; keep: what the downs an
					 abort did not run would have lost
					 (rollout.c) */
	size_t nloss;
	bool accept_data_loss;    /* in: the caller accepts loss (set before
				     rip_plan_apply) */
};

void rip_plan_schema_release(struct rip_plan_schema *s);

/* Whether s loses no data: keep, or no down of a contract that ran. */
bool rip_schema_lossless(const struct rip_plan_schema *s);

/*
 * The phase in words, for the summary line and the aborts ledger: "lossless
 * (schema kept at 0007_add_email, 2 expand migrations)", or, for down,
 * "data lost: users.mail (0007_drop_mail)". Nothing is added when s was
 * not planned, nor for downs that lose nothing (the downs run say it).
 */
void rip_plan_schema_words(struct rip_buf *out,
	const struct rip_plan_schema *s);

/*
 * Appends to s->loss what the downs of the contract migration m (applied)
 * cannot bring back: each table or column its up drops, each column whose
 * type it changes; when its up names none (DELETE, UPDATE, a DO block, a
 * command), one loss naming m itself: every contract's down is lossy. A
 * migration that is not contract adds nothing.
 */
void rip_schema_note_contract(struct rip_plan_schema *s,
	const struct rip_migration *m);

/*
 * RIP_EFAIL naming every object of s->loss and what to do, when s loses
 * data and accept is false (release is where the rollback goes); else 0.
 * Exit code 1: the command line was right, the state refused it.
 */
RIP_MUST_CHECK int rip_schema_refuse_loss(const struct rip_plan_schema *s,
	const char *op, const char *release, bool accept, struct rip_err *err);

/*
 * The migrations of the store's releases, read newest release first and
 * only until each of ids has been seen once (or every release is read):
 * rip_migrations_find(out, id) is then the newest copy of id, or NULL
 * when no release carries it. The verified reading of "what is this
 * migration the schema is ahead by" for rollback's keep and deploy's
 * warning (the views, schema_phase.c, read rip_release_view_newest).
 * Free *out with rip_migrations_release.
 */
RIP_MUST_CHECK int rip_schema_newest(struct rip_migrations *out,
	const struct rip_config *cfg, struct rip_store *store,
	const struct rip_strlist *ids, struct rip_err *err);

/*
 * The warning of a deploy of release id, whose migrations end at last
 * (NULL: none), to a database ahead of it by the applied migrations
 * ahead (apply order), worded by phase: for an expand one "the running
 * code will see 0004_rating's columns; 'ripcord migrate down --to v1'
 * would drop them (0004_rating)", for a contract one "v1's code will run
 * on a schema without what 0002_purge (contract) dropped (users.mail);
 * its down re-creates it empty". The phase is read as rip_schema_newest
 * reads it; what cannot be read counts as expand. Caller frees.
 */
char *rip_schema_ahead_warning(const struct rip_config *cfg,
	struct rip_store *store, const char *id, const char *last,
	const struct rip_strlist *ahead);

/* The applied migrations a release does not carry: its schema lead. */
struct rip_schema_ahead {
	char *level;              /* the newest applied migration; NULL: none */
	struct rip_strlist ids;   /* applied, not carried, applied order */
	struct rip_strlist contract;  /* those of ids that are contract (as
					 the store's releases mark them) */
};

void rip_schema_ahead_release(struct rip_schema_ahead *a);

/*
 * Reads how far the configured database is ahead of release: *out empty
 * (no error) when no database is configured. The releases of the store are
 * read, newest first, only until each migration ahead is found, to say
 * whether it is contract; one that no release carries counts as expand.
 * For a rollback's plan (verified reads): "schema ahead of v1 by
 * 0007_add_email".
 */
RIP_MUST_CHECK int rip_schema_ahead(struct rip_schema_ahead *out,
	const struct rip_config *cfg, struct rip_store *store,
	const char *release, struct rip_err *err);

#endif
