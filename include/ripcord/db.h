/* SPDX-License-Identifier: MIT */
/*
 * db.h: the migration drivers. Each one applies normalised migrations to
 * one database, keeps the table ripcord_migrations inside it (the truth
 * about its schema level), and reads a structural fingerprint of it.
 *
 * ripcord_migrations: seq (apply order), version, name, checksum (hex
 * SHA-256 of the normalised up), applied_at (unix seconds), dirty (0/1).
 */
#ifndef RIPCORD_DB_H
#define RIPCORD_DB_H

#include "ripcord/fingerprint.h"
#include "ripcord/migration.h"

struct rip_db;

/* A row of ripcord_migrations. */
struct rip_applied {
	char *version;
	char *name;
	char *id;                 /* "<version>_<name>" */
	char *checksum;           /* as recorded: hex SHA-256, or whatever
				     the row holds (compared whole) */
	int64_t applied_at;
	bool dirty;
};

struct rip_applied_list {
	struct rip_applied *v;    /* in apply order, oldest first */
	size_t n;
	size_t alloc;
};

void rip_applied_list_release(struct rip_applied_list *l);

enum rip_db_direction {
	RIP_DB_UP,
	RIP_DB_DOWN,
};

/* Where a driver connects. */
struct rip_db_target {
	const char *database;     /* SQLite path (created if missing), or a
				     postgres conninfo or URI */
	const char *apply;        /* command: the template, "{file}" = SQL */
	const char *ledger;       /* command: the SQLite file that records
				     what ran, since the command's database
				     cannot be read */
	uint64_t timeout_ms;      /* command: how long one migration's
				     program may run; 0: no limit */
};

struct rip_db_ops {
	const char *name;         /* "sqlite", "postgres", "command" */
	/* Connects and makes sure ripcord_migrations exists. */
	int (*open)(struct rip_db **out, const struct rip_db_target *t,
		struct rip_err *err);
	void (*close)(struct rip_db *db);
	int (*applied)(struct rip_db *db, struct rip_applied_list *out,
		struct rip_err *err);
	/*
	 * Runs one migration's up (recording it) or down (removing its
	 * record). Transactional drivers do both in one transaction unless
	 * m->no_transaction; a failure leaves the schema and the record as
	 * they were, or, where no transaction was possible, marks the record
	 * dirty. The database's own message (and line, when it has one) goes
	 * into err.
	 */
	int (*apply)(struct rip_db *db, const struct rip_migration *m,
		enum rip_db_direction dir, struct rip_err *err);
	/* Runs a verify script; RIP_EFAIL when it fails. May be NULL. */
	int (*verify)(struct rip_db *db, const struct rip_migration *m,
		struct rip_err *err);
	/* Clears the dirty flag of a record after a human fixed the schema;
	 * drop it instead when remove is true (the migration did not run). */
	int (*clear_dirty)(struct rip_db *db, const char *id, bool remove,
		struct rip_err *err);
	/* Records a new checksum for an applied migration (acknowledged). */
	int (*set_checksum)(struct rip_db *db, const char *id,
		const char *checksum, struct rip_err *err);
	/* The schema's fingerprint; strict adds column order and comments.
	 * May be NULL (the command driver cannot read a schema). */
	int (*fingerprint)(struct rip_db *db, struct rip_fingerprint *out,
		bool strict, struct rip_err *err);
};

extern const struct rip_db_ops rip_db_sqlite;
extern const struct rip_db_ops rip_db_postgres;
extern const struct rip_db_ops rip_db_command;

/* The driver called name ("sqlite", "postgres", "command"), or NULL. */
const struct rip_db_ops *rip_db_find(const char *name);

/* Helpers for drivers. */
void rip_applied_add(struct rip_applied_list *l, const char *version,
	const char *name, const char *checksum, int64_t applied_at,
	bool dirty);

#endif
