/* SPDX-License-Identifier: MIT */
/*
 * contract.h: `migrate contract`, the one step of a release that may lose
 * data (issue 16's phases). Deploy and rollout apply expand ups only; a
 * release's contract ups stay pending, held back, until this applies them,
 * and only once the release has proven itself: no rollout running or
 * paused, every target on the release, and [migrations] contract_after
 * elapsed since it reached 100% (--now skips only that wait).
 */
#ifndef RIPCORD_CONTRACT_H
#define RIPCORD_CONTRACT_H

#include "ripcord/config.h"
#include "ripcord/migrate.h"
#include "ripcord/store.h"

/* One of the checks, as --dry-run lists it. */
struct rip_contract_check {
	const char *name;         /* "rollout", "targets", "contract_after" */
	bool ok;
	char *message;            /* why it passes or is refused, in words */
};

struct rip_contract {
	char *release;            /* the release whose contract ups run */
	struct rip_strlist held;  /* its pending contract ups, in its order */
	struct rip_contract_check checks[3];
	int code;                 /* RIP_EBUSY (a rollout), RIP_EFAIL, or 0
				     when every check passes */
	int64_t reached;          /* when every target was on it (unix s);
				     0: no record */
	int64_t may_at;           /* reached + contract_after */
	struct rip_strlist applied;   /* the ups rip_contract_apply ran */
};

void rip_contract_release(struct rip_contract *c);

/*
 * Reads what `migrate contract id` would do and whether it may (out):
 * id NULL is the release every target runs (refused, naming them, when
 * they differ or one cannot be read). now skips the contract_after wait.
 * Negative only when something could not be read (the store, the
 * database, the release); a refused check is out->code, with
 * rip_contract_refusal saying why. Call it under the store lock.
 */
RIP_MUST_CHECK int rip_contract_plan(struct rip_contract *out,
	const struct rip_config *cfg, struct rip_store *store, const char *id,
	bool now, struct rip_err *err);

/* c->code with a message naming every refused check and what to do; 0
 * when c may run. */
int rip_contract_refusal(const struct rip_contract *c, struct rip_err *err);

/*
 * Applies c->held (c must have passed its checks), the release's order,
 * each its own transaction, recording each in c->applied; o's dry_run,
 * on_step and stop are used, its phase is not (contract ups only). Stops
 * at the first failure.
 */
RIP_MUST_CHECK int rip_contract_apply(struct rip_contract *c,
	const struct rip_config *cfg, struct rip_store *store,
	const struct rip_migrate_opts *o, struct rip_err *err);

#endif
