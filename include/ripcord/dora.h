/* SPDX-License-Identifier: MIT */
/*
 * dora.h: the four DORA figures of a store over a window of days, read
 * from state.db: the audit log (what was run, by whom, when it ended and
 * with which exit code), the operations and the switch journal (which
 * release a deploy or rollback really went to and left; journal.h), and
 * the releases table (each release's commit time; state.h).
 *
 * The events. An audit entry whose command is `deploy ID`, `rollback
 * [--to ID]`, `rollout start ID`, `rollout promote`, `rollout resume` or
 * `rollout abort`, that ended at or before now, is an event when it ran.
 * A deploy or rollback ran when the operations table has the operation it
 * began (same kind, begun between the command's start and end; for a
 * deploy, of the same release), or when it exited 0 (a store older than
 * the operations table); one refused while planning (any exit code, no
 * operation) did not. A rollout command, which records no operation yet,
 * ran when it exited 0, 1 or 5 (not 2, 3 or 4: usage, configuration,
 * integrity, busy).
 * The release of a deploy or rollback is the operation's; what a rollback
 * left is the `previous` of its completed switches. Only where neither
 * record exists is the command line read (`deploy ID`, `--to ID`).
 *
 * A change is a deploy, or a rollout (its `rollout start` entry and the
 * promote, resume and abort entries after it, up to the next change). A
 * change is successful when its commands exited 0 (a rollout: and no
 * abort followed); it is live from the end of its last successful
 * command. A change failed when
 *   - its command exited non-zero (a rollout: any of its commands), or a
 *     rollout was aborted; or
 *   - a rollback away from its release ran before the next change: one
 *     whose completed switches left that release, or, when it switched
 *     nothing, one that did not go to that release.
 * A failure is restored by the first rollback (or rollout abort) after it
 * that exited 0, before the next change. Fixing forward with a new deploy
 * is not a restore here.
 *
 * The figures, over the changes that ended in (now - days, now]:
 *   deployment frequency = successful changes / days (0 when there were
 *     none: a measured zero, never n/a);
 *   lead time for changes = the median, over the releases whose first
 *     successful change went live in the window, of (that time - the
 *     release's commit time), at least 0; releases the store no longer
 *     records (gc) are left out;
 *   change failure rate = failed changes / changes;
 *   time to restore = the median, over the restored failures, of (the
 *     restoring command's end - the failed change's end).
 * A median of an even count is the mean of the middle two. A figure with
 * nothing to measure is n/a (known is false), never a division by zero.
 */
#ifndef RIPCORD_DORA_H
#define RIPCORD_DORA_H

#include "ripcord/journal.h"
#include "ripcord/state.h"

#define RIP_DORA_DAY 86400
#define RIP_DORA_DEFAULT_DAYS 30
#define RIP_DORA_MAX_DAYS 3650

enum rip_dora_kind {
	RIP_DORA_DEPLOY,          /* deploy ID: a change */
	RIP_DORA_ROLLOUT,         /* rollout start ID: a change */
	RIP_DORA_PROMOTE,         /* rollout promote or resume: a step */
	RIP_DORA_ABORT,           /* rollout abort */
	RIP_DORA_ROLLBACK,        /* rollback [--to ID] */
};

/* One event; strings are owned by the struct rip_dora it belongs to. */
struct rip_dora_event {
	int64_t seq;              /* its audit entry */
	int64_t at;               /* when the command ended, unix seconds */
	double seconds;           /* how long it ran */
	enum rip_dora_kind kind;
	char *release;            /* change: its release; rollback: where it
				     went; NULL: unknown */
	char *left;               /* rollback: the releases its switches left,
				     ", "-joined; NULL: it switched nothing */
	char *user;
	char *host;
	char *command;
	char *result;             /* "ok" or the error message */
	int exit_code;
	bool ok;                  /* exit code 0 */
	bool in_window;           /* now - days < at <= now */
	/* changes only */
	bool failed;              /* a change failure, by the rules above */
	bool rolled_back;         /* ... because a rollback left it */
	int64_t live_at;          /* when it went live; 0: never */
	int64_t restored_at;      /* the end of its restore; 0: none */
	/* steps, aborts and rollbacks: the change acted on, as index + 1 into
	 * events; 0: none */
	size_t change;
};

/* A figure, or n/a. */
struct rip_dora_figure {
	bool known;               /* false: nothing to measure (n/a) */
	double value;
	size_t samples;           /* what it was computed from */
};

struct rip_dora {
	int64_t now;
	int64_t since;            /* now - days * 86400 */
	unsigned days;
	size_t changes;           /* changes in the window */
	size_t successful;        /* ... successful */
	size_t failures;          /* ... that failed */
	size_t restored;          /* ... failures restored */
	size_t rollbacks;         /* rollbacks that ran in the window */
	struct rip_dora_figure deployment_frequency;  /* per day */
	struct rip_dora_figure lead_time;             /* seconds */
	struct rip_dora_figure change_failure_rate;   /* 0 to 1 */
	struct rip_dora_figure time_to_restore;       /* seconds */
	struct rip_dora_event *events;  /* every event up to now, oldest first,
					   the window's and the ones before */
	size_t n_events;
};

/* What the figures are computed from, each oldest first; borrowed. */
struct rip_dora_input {
	const struct rip_audit_entry *audit;
	size_t n_audit;
	const struct rip_release_rec *releases;
	size_t n_releases;
	const struct rip_op *ops;        /* the operations (journal.h) */
	size_t n_ops;
	const struct rip_switch *switches;
	size_t n_switches;
};

/*
 * Computes the figures over the days (1 to RIP_DORA_MAX_DAYS) before now
 * from in, which nothing here changes. Pure: the same input, now and days
 * give the same *out. RIP_EUSAGE for days out of range. Free *out with
 * rip_dora_release.
 */
RIP_MUST_CHECK int rip_dora_compute(struct rip_dora *out,
	const struct rip_dora_input *in, int64_t now, unsigned days,
	struct rip_err *err);

/*
 * Reads the audit log, the operations, the switch journal and the
 * releases of st and computes the figures as rip_dora_compute does.
 * st may be NULL (no store yet): every figure is then as for no events.
 * Reads only. Free *out with rip_dora_release.
 */
RIP_MUST_CHECK int rip_dora_read(struct rip_dora *out, struct rip_state *st,
	int64_t now, unsigned days, struct rip_err *err);

void rip_dora_release(struct rip_dora *d);

/* "deploy", "rollout", "promote", "abort", "rollback". */
const char *rip_dora_kind_name(enum rip_dora_kind kind);

/* "42 s", "12 min", "3.5 h", "4.2 days"; "n/a" for a negative or NaN. */
void rip_dora_format_duration(char *out, size_t len, double seconds);

#endif
