/* SPDX-License-Identifier: MIT */
/*
 * layout_internal.h: what layout.c lends the readers of the layouts
 * (layout_scripts.c, layout_sqitch.c): the state of one read of a
 * migrations folder and the file helpers every layout uses; and what
 * layout_scripts.c gives back (reading a folder, telling its layout).
 */
#ifndef RIPCORD_LAYOUT_INTERNAL_H
#define RIPCORD_LAYOUT_INTERNAL_H

#include "ripcord/layout.h"

/* One read of a folder: its files, the options, and what came of them. */
struct rip_layout_reader {
	const struct rip_layout_opts *o;
	enum rip_layout_format f;
	const struct rip_layout_file *files;
	size_t n;
	const char *dir;          /* the folder, for messages */
	char *pre;                /* "<dir>/", or "" without a dir */
	const struct rip_layout_file **idx; /* the files sorted by path */
	bool *used;               /* per file: a sqitch change took it */
	struct rip_migrations *out;
	struct rip_err *err;
	char *baseline;           /* opts->baseline in this layout's terms */
};

/* A file's text; "" for a file without data. */
const char *rip_layout_fdata(const struct rip_layout_file *f);
/* The first byte of p[0..end) that is not a blank or a tab, or end. */
const char *rip_layout_skip_blank(const char *p, const char *end);
/* Placeholders that keep an empty folder in git: silently fine. */
bool rip_layout_is_keep(const char *path);
/* Warns about the file at path: "<dir>/<path> <what follows>". */
RIP_PRINTF(3, 4) void rip_layout_warnf(const struct rip_layout_reader *r,
	const char *path, const char *fmt, ...);
/* The file at path (relative to the folder); NULL when there is none. */
const struct rip_layout_file *rip_layout_find_file(
	const struct rip_layout_reader *r, const char *path);
/* Sets s to text[0..len), naming it "<dir>/<path of f>". */
void rip_layout_set_sql(const struct rip_layout_reader *r, struct rip_sql *s,
	const struct rip_layout_file *f, const char *text, size_t len);

/* The part of path after its last '/'. */
const char *rip_layout_base_name(const char *path);
/* mg's up script, else its down, else "": the file to name in messages. */
const char *rip_layout_piece_file(const struct rip_migration *mg);

/*
 * Reads a golang-migrate, dbmate, diesel or flyway folder (r->f): one
 * migration per version and name, in apply order, its up and down
 * folded together. Warns about files that fit no script of the layout.
 */
int rip_layout_read_scripts(struct rip_layout_reader *r);
/* Which layout the one file f is clearly part of; RIP_LAYOUT_AUTO when
 * none. */
enum rip_layout_format rip_layout_guess(const struct rip_layout_file *f);

/*
 * Reads a sqitch folder: the changes of sqitch.plan in plan order, each
 * with its deploy, revert and verify scripts. Warns about scripts of no
 * change; without a plan, reads nothing (an error if deploy scripts exist).
 */
int rip_layout_sqitch_read(struct rip_layout_reader *r);
/*
 * Sets r->baseline from b: a change of the plan (its last instance), its
 * id, or a position like 0012. Call after rip_layout_sqitch_read.
 */
int rip_layout_sqitch_baseline(struct rip_layout_reader *r, const char *b);

#endif
