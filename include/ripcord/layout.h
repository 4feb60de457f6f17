/* SPDX-License-Identifier: MIT */
/*
 * layout.h: reading a project's migrations folder, in any of the common
 * layouts, into ripcord's normalised migrations (migration.h).
 *
 * Layouts and their ordering rules (DESIGN.md §5):
 *   golang-migrate  <version>_<name>.up.<ext> / .down.<ext>; version is
 *                   digits; numeric version, then name
 *   dbmate          <version>_<name>.sql with "-- migrate:up" and
 *                   "-- migrate:down" sections ("transaction:false" on the
 *                   up line: no transaction); version string order
 *   sqitch          sqitch.plan order; deploy/<change>.sql = up,
 *                   revert/<change>.sql = down, verify/<change>.sql
 *   diesel          <version>_<name>/up.sql and down.sql; version string
 *                   order (dates with dashes)
 *   flyway          V<version>__<name>.sql with U<version>__<name>.sql;
 *                   dotted numeric order ("1.2.10" after "1.2.9")
 */
#ifndef RIPCORD_LAYOUT_H
#define RIPCORD_LAYOUT_H

#include "ripcord/config.h"
#include "ripcord/migration.h"

enum rip_layout_format {
	RIP_LAYOUT_AUTO = 0,
	RIP_LAYOUT_GOLANG,
	RIP_LAYOUT_DBMATE,
	RIP_LAYOUT_SQITCH,
	RIP_LAYOUT_DIESEL,
	RIP_LAYOUT_FLYWAY,
};

/* A file of the migrations folder, as the caller found it. */
struct rip_layout_file {
	const char *path;         /* relative to the folder: "x.sql",
				     "deploy/x.sql", "2019-01-01_x/up.sql" */
	const void *data;
	size_t len;
};

struct rip_layout_opts {
	enum rip_layout_format format;          /* AUTO: detect */
	const struct rip_strlist *irreversible; /* ids or versions; may be NULL */
	const struct rip_strlist *contract;     /* ids or versions; may be NULL */
	const char *baseline;                   /* version; may be NULL */
	const char *dir;                        /* for messages: "db/migrations" */
};

/* "golang-migrate", ...; "auto" for RIP_LAYOUT_AUTO. */
const char *rip_layout_name(enum rip_layout_format f);
/* Parses a [migrations] format value; -1 when unknown. */
int rip_layout_parse(enum rip_layout_format *out, const char *name);

/*
 * Reads files (any order) into out, in apply order, with the detected or
 * given layout in *detected. Fills version, name, id, up/down/verify
 * (copies, with file set to "<dir>/<path>"), the flags, and the checksum of
 * the normalised up. Near-miss names and stray files are warned about by
 * name. Refuses (RIP_ECONFIG, naming the file and what to do): an up
 * without a down, or with an empty or comment-only one, unless it is
 * irreversible (first line "-- ripcord:irreversible", or listed) or within
 * the baseline; a down without an up; an exact duplicate (same version and
 * name); an id that rip_migration_id_valid refuses; a malformed sqitch.plan
 * (with its line). AUTO that finds no layout, or two, says so.
 */
RIP_MUST_CHECK int rip_layout_read(struct rip_migrations *out,
	enum rip_layout_format *detected, const struct rip_layout_file *files,
	size_t n, const struct rip_layout_opts *opts, struct rip_err *err);

/* golang-migrate and flyway versions: numeric, "9" < "10" < "10.1". */
int rip_version_cmp(const char *a, const char *b);

#endif
