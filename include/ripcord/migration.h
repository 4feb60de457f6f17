/* SPDX-License-Identifier: MIT */
/*
 * migration.h: one migration in ripcord's normalised form, the same struct
 * whether it was just read from a project's folder at cut (layout.c) or
 * from an artifact (migrate.c), and the marker lines that carry its flags
 * inside the normalised up file.
 *
 * The normalised up file is the project's up SQL preceded by zero or more
 * marker lines, one per flag, in this order:
 *   -- ripcord:baseline         part of the starting schema; never undone
 *   -- ripcord:irreversible     has no down
 *   -- ripcord:no-transaction   cannot run inside a transaction
 *   -- ripcord:contract         the contract phase: only the release that
 *                               carries it works after it (drops, narrows,
 *                               renames away); every other up is expand
 * A project may also start an up with "-- ripcord:irreversible" or
 * "-- ripcord:contract" itself, with or without spaces after the colon
 * ("-- ripcord: contract"), in every layout.
 * The checksum of a migration is the SHA-256 of its normalised up file with
 * its contract marker line left out (whether ripcord added it or the
 * project wrote it), so cut, the artifact and the database all agree on
 * it, and marking an applied migration contract later (by the marker or
 * by [migrations] contract) never makes it "changed". Every other marker
 * is covered.
 */
#ifndef RIPCORD_MIGRATION_H
#define RIPCORD_MIGRATION_H

#include "ripcord/buf.h"
#include "ripcord/digest.h"
#include "ripcord/err.h"

/* Some SQL and where it came from (for messages). */
struct rip_sql {
	char *text;               /* NUL-terminated; NULL when absent */
	size_t len;
	char *file;               /* e.g. "db/migrations/0001_x.up.sql" */
};

struct rip_migration {
	char *version;            /* as the layout spells it: "0001", "1.2.10",
				     "2019-02-26-002946" */
	char *name;
	char *id;                 /* "<version>_<name>": unique in a release */
	struct rip_sql up;        /* always present */
	struct rip_sql down;      /* absent when irreversible or baseline */
	struct rip_sql verify;    /* sqitch's verify script, when there is one */
	bool baseline;
	bool irreversible;
	bool no_transaction;
	bool contract;            /* contract phase (else expand) */
	unsigned char checksum[RIP_SHA256_LEN]; /* of the normalised up */
};

/* Migrations in apply order (each layout's own ordering rule). */
struct rip_migrations {
	struct rip_migration *v;
	size_t n;
	size_t alloc;
};

/* Appends a zeroed migration to m and returns it. */
struct rip_migration *rip_migrations_add(struct rip_migrations *m);
void rip_migrations_release(struct rip_migrations *m);
/* Finds id; NULL when absent. */
struct rip_migration *rip_migrations_find(const struct rip_migrations *m,
	const char *id);

/* Sets s to a copy of text[0..len) from file. */
void rip_sql_set(struct rip_sql *s, const char *text, size_t len,
	const char *file);
void rip_sql_release(struct rip_sql *s);

/* The normalised up file of m (markers, then m->up.text), into out. */
void rip_migration_normalise(struct rip_buf *out,
	const struct rip_migration *m);

/*
 * The checksum of the normalised up file text[0..len): SHA-256 of it
 * without the contract marker lines among its leading marker lines.
 */
void rip_migration_checksum(unsigned char out[RIP_SHA256_LEN],
	const char *text, size_t len);

/*
 * Reads the flags from the marker lines at the top of a normalised up
 * file into m (baseline, irreversible, no_transaction, contract) and sets
 * m->checksum from text (rip_migration_checksum).
 */
void rip_migration_read_markers(struct rip_migration *m, const char *text,
	size_t len);

/*
 * Whether an id can be a file name in an artifact and an item of MANIFEST's
 * comma list: no '/', ',', NUL, tab or newline, not "." or "..", at most
 * 200 bytes.
 */
bool rip_migration_id_valid(const char *id);

#endif
