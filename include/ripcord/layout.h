/* SPDX-License-Identifier: MIT */
/*
 * layout.h: reading a project's migrations folder into ripcord's one
 * normalised form, <version>_<name>.up.sql / .down.sql.
 *
 * This version reads the golang-migrate layout; the others (dbmate, sqitch,
 * diesel, flyway) plug in here.
 */
#ifndef RIPCORD_LAYOUT_H
#define RIPCORD_LAYOUT_H

#include "ripcord/config.h"

/* A file of the migrations folder, as the caller found it. */
struct rip_layout_file {
	const char *name;         /* file name inside the folder */
	const void *data;
	size_t len;
};

struct rip_migration {
	char *version;
	char *name;
	char *id;                 /* "<version>_<name>" */
	const struct rip_layout_file *up;
	const struct rip_layout_file *down;   /* NULL when irreversible */
	bool irreversible;
};

struct rip_migrations {
	struct rip_migration *v;
	size_t n;
	size_t alloc;
};

/*
 * Pairs files into migrations in apply order (numeric version, then
 * name). Refuses (RIP_ECONFIG, naming the file) an up without a down, or
 * with an empty one, unless the up is marked irreversible (its first line
 * "-- ripcord:irreversible", or listed in irreversible) or lies within
 * baseline; refuses exact duplicates. Files that are not migrations are
 * warned about by name.
 */
RIP_MUST_CHECK int rip_layout_read(struct rip_migrations *out,
	const struct rip_layout_file *files, size_t n,
	const struct rip_strlist *irreversible, const char *baseline,
	const char *dir, struct rip_err *err);
void rip_migrations_release(struct rip_migrations *m);

/* Orders versions numerically ("9" < "10"), then bytewise. */
int rip_version_cmp(const char *a, const char *b);

#endif
