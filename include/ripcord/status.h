/* SPDX-License-Identifier: MIT */
/*
 * status.h: what runs on each target, read from the truth (the current
 * links) and set against the record (the switch journal), without
 * changing anything.
 *
 * A target drifts when its current link points somewhere else than the
 * journal's last completed switch says (someone moved it by hand, or a
 * process died between the rename and the record). Work is owed when a
 * switch is still 'pending', an activate hook never finished, or an
 * operation never ended, and nobody holds the store lock: rerunning the
 * same deploy or rollback finishes it.
 */
#ifndef RIPCORD_STATUS_H
#define RIPCORD_STATUS_H

#include "ripcord/config.h"
#include "ripcord/drill.h"
#include "ripcord/journal.h"
#include "ripcord/rollout.h"
#include "ripcord/schema_phase.h"
#include "ripcord/store.h"
#include "ripcord/strlist.h"

/* How warm a target's rollback is. */
enum rip_rollback_state {
	RIP_RB_NONE,              /* nothing to go back to */
	RIP_RB_WARM,              /* extracted on the target: a switch */
	RIP_RB_COLD,              /* artifact in the store: extract, then switch */
	RIP_RB_MISSING,           /* the artifact is gone: cannot roll back */
	RIP_RB_YANKED,            /* it was yanked: rollback refuses it */
};

struct rip_target_status {
	const struct rip_target *target;
	char *current;            /* the truth; NULL: no current link */
	char *recorded;           /* the journal's last completed switch */
	bool drift;               /* current and recorded differ */
	char *error;              /* the root could not be read: why */
	bool unreachable;         /* ... because its host could not be
				     reached (remote.h) */
	char *rollback;           /* where `rollback` would take it; NULL */
	enum rip_rollback_state rollback_state;
	struct rip_drill_rec rollback_drill;   /* its last drill; seq 0 none */
	struct rip_strlist drilled_from;  /* the releases the last drill of
					     current started its round trip
					     from ("": an empty schema); empty
					     when it ran none */
	bool rollback_unexercised;  /* ... and rollback is not one of them:
				       the downs a rollback runs were never
				       drilled (with [migrations] only) */
	size_t extracted;         /* releases kept extracted on it */
	struct rip_switch pending;   /* a switch left pending; seq 0: none */
	bool pending_done;        /* ... whose link was switched after all */
	bool activate_owed;       /* its activate hook never finished */
	bool activate_failed;     /* its last activate hook failed */
	char *recorded_op;        /* "deploy", "rollback": of the last switch */
	char *health;             /* what its health URL answered ("ok 12
				     ms", "connection refused"); NULL: not
				     probed (no URL, or not asked) */
	bool healthy;             /* ... a 2xx within probe_timeout */
	enum rip_drill_compat_result compat;   /* the last drill of current:
						  its compatibility step with
						  rollback; NEVER when it ran
						  none with it */
	char *compat_level;       /* ... the expand level it ran on */
	const struct rip_schema_phase *schema;  /* of current against
						   rollback (borrowed from
						   rip_status.schema); NULL:
						   not read */
};

struct rip_status {
	struct rip_target_status *targets;
	size_t n;
	size_t releases;          /* in the store */
	char *newest;             /* newest release cut; NULL: none */
	struct rip_op unfinished; /* an operation that never ended; seq 0 */
	struct rip_rollout_rec rollout;   /* the unfinished rollout; seq 0 */
	bool rollout_alive;       /* ... and its process runs */
	bool busy;                /* someone holds the lock right now */
	char holder[768];         /* who, when busy */
	bool drift;               /* some target drifts */
	size_t unreachable;       /* targets whose host did not answer */
	size_t unread;            /* targets reached whose root could not be
				     read (error set, not unreachable) */
	bool owed;                /* work to finish: rerun deploy or rollback */
	bool probed;              /* rip_status_probe ran for a target with a
				     health URL (its health NULL: probing
				     could not be set up) */
	struct rip_schema_phase *schema;   /* one per running release and
					      rollback (rip_status_schema) */
	size_t nschema;
};

/*
 * Reads the status of every target of cfg. store may be NULL (nothing cut
 * yet): then there is no record to compare with. A target whose root
 * cannot be read is reported in its error, not failed on.
 */
RIP_MUST_CHECK int rip_status_read(struct rip_status *out,
	const struct rip_config *cfg, struct rip_store *store,
	struct rip_err *err);
void rip_status_release(struct rip_status *s);

/*
 * Probes the health URL of every target of s that has one, all at once,
 * each within timeout_ms ([rollout] probe_timeout), and fills their
 * health and healthy, and sets s->probed when one has. A target that does
 * not answer is a finding, not an error: an error (libcurl cannot be
 * loaded or set up) only when probing cannot be set up at all, and then
 * every health stays NULL.
 */
RIP_MUST_CHECK int rip_status_probe(struct rip_status *s,
	uint64_t timeout_ms, struct rip_err *err);
/*
 * Reads the schema's phase (schema_phase.h) of every release a target of
 * s runs, against where its rollback goes, once per pair, and points each
 * target's schema at it. Does nothing without [migrations] or a store. A
 * pair that cannot be read is left not known and the others still read;
 * the first failure is returned.
 */
RIP_MUST_CHECK int rip_status_schema(struct rip_status *s,
	const struct rip_config *cfg, struct rip_store *store,
	struct rip_err *err);

/* "warm", "cold", "missing", "none". */
const char *rip_rollback_state_name(enum rip_rollback_state s);

#endif
