/* SPDX-License-Identifier: MIT */
/*
 * db_internal.h: what one driver lends another inside the library. The
 * command driver keeps its record in a SQLite ledger through these.
 */
#ifndef RIPCORD_DB_INTERNAL_H
#define RIPCORD_DB_INTERNAL_H

#include "ripcord/db.h"

/* Writes (up: inserts or updates dirty) or deletes (down) m's record in a
 * database opened by rip_db_sqlite. */
int rip_db_sqlite_record(struct rip_db *db, const struct rip_migration *m,
	enum rip_db_direction dir, bool dirty, struct rip_err *err);

#endif
