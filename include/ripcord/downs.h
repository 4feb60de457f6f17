/* SPDX-License-Identifier: MIT */
/*
 * downs.h: what the downs of a planned rollback will do, for the person
 * about to run it: each down with the release that brought its migration,
 * the statements in it that lose data (lint.h), and the newest drill that
 * ran it; and the newest drill of exactly this rollback's path.
 *
 * The path of a rollback is from the release the targets run (the newest
 * of them, whose migrations the schema holds) back to its destination. A
 * drill of release X round-trips, from each release it started from
 * (drill.h, paths), the migrations X carries and that release does not:
 * a drill of the path's newest release that started from the destination
 * ran exactly the downs the rollback runs, in the same order, on the same
 * schemas. A down of a release in between was also run by a drill of any
 * release of the path that carries it and started from a release before
 * it on the path (or from an empty schema).
 */
#ifndef RIPCORD_DOWNS_H
#define RIPCORD_DOWNS_H

#include "ripcord/deploy.h"
#include "ripcord/drill.h"

/* A statement of a down that loses data. */
struct rip_down_loss {
	int line;                 /* 1-based, in the down script */
	char *statement;          /* its text, blanks squeezed, cut at 160 */
	char *why;                /* "drops column orders.note: the values
				     in it are lost" */
	const char *rule;         /* "drop-table", "drop-column",
				     "type-change" */
};

struct rip_down_note {
	const struct rip_migration *mig;   /* borrowed from the plan */
	char *release;            /* the release of the path that brought
				     its migration; NULL: none of them
				     carries it (applied by hand, say) */
	struct rip_down_loss *loss;
	size_t nloss;
	struct rip_drill_rec drill;   /* the newest drill that ran this down
					 on this path; seq 0: never */
};

struct rip_downs {
	char *from;               /* the path: from this release ... */
	char *to;                 /* ... back to this one; from is NULL
				     when no target runs a release of the
				     store but to */
	struct rip_down_note *v;  /* one per down of the plan, its order */
	size_t n;
	struct rip_drill_rec path;    /* the newest drill of from that
					 started from to; seq 0: never */
};

/*
 * Reads what the downs of p (a rollback plan: p->downs) will do. The
 * releases of the path are read (verified, with verify_key) from the
 * oldest, only as far as needed to find where each migration came from;
 * one that does not verify is passed over. out is empty when p runs no
 * down. Free with rip_downs_release.
 */
RIP_MUST_CHECK int rip_downs_read(struct rip_downs *out,
	struct rip_store *store, const struct rip_plan *p,
	const char *verify_key, struct rip_err *err);
void rip_downs_release(struct rip_downs *d);

#endif
