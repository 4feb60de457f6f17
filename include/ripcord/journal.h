/* SPDX-License-Identifier: MIT */
/*
 * journal.h: what state.db remembers about targets and people.
 *
 * The switch journal: every change of a target's current link writes its
 * intent before it acts and its result after, so a killed process leaves
 * a 'pending' row that `status` reports and a rerun converges from. The
 * target history (completed switches, newest first) is how rollback knows
 * what a target ran before. The audit log: one row per command that
 * changed something (who, uid, host, when, command line, result, duration),
 * each carrying the SHA-256 of the row before it, so an edited history is
 * detected by rip_audit_verify.
 */
#ifndef RIPCORD_JOURNAL_H
#define RIPCORD_JOURNAL_H

#include "ripcord/buf.h"
#include "ripcord/digest.h"
#include "ripcord/state.h"

/* A row of the switch journal. */
struct rip_switch {
	int64_t seq;
	char *target;
	char *release;            /* what current was switched to */
	char *previous;           /* what it pointed at before; NULL: nothing */
	char *op;                 /* "deploy", "rollback" */
	char *result;             /* "pending", "ok", "failed: ..." */
	int64_t started;
	int64_t finished;         /* 0 while pending */
	char *activate;           /* the activate hook after the switch: NULL
				     none, "pending", "ok", "failed: ..." */
};

struct rip_switches {
	struct rip_switch *v;
	size_t n;
	size_t alloc;
};

void rip_switches_release(struct rip_switches *s);

/*
 * Records the intent to switch target to release; *seq names the row.
 * With activate, the row also says the activate hook is still to run
 * (rip_journal_activated records its outcome), so a process killed after
 * the switch but before the hook finished leaves a hook to run again.
 */
RIP_MUST_CHECK int rip_journal_begin(int64_t *seq, struct rip_state *st,
	const char *target, const char *release, const char *previous,
	const char *op, bool activate, struct rip_err *err);
/* Records the outcome ("ok" or "failed: <why>") of row seq. */
RIP_MUST_CHECK int rip_journal_end(struct rip_state *st, int64_t seq,
	const char *result, struct rip_err *err);
/* Records the activate hook's outcome ("ok", "failed: ...") on row seq. */
RIP_MUST_CHECK int rip_journal_activated(struct rip_state *st, int64_t seq,
	const char *result, struct rip_err *err);
/* Every completed rollback switch, of any target, oldest first (the
 * DORA figures read which release each rollback left). */
RIP_MUST_CHECK int rip_journal_rollbacks(struct rip_switches *out,
	struct rip_state *st, struct rip_err *err);
/* Rows still 'pending' (a process died between intent and result). */
RIP_MUST_CHECK int rip_journal_pending(struct rip_switches *out,
	struct rip_state *st, struct rip_err *err);
/* The newest row of target, whatever its result; out->seq 0: none. Free
 * its strings with rip_switch_release. */
RIP_MUST_CHECK int rip_journal_last(struct rip_switch *out,
	struct rip_state *st, const char *target, struct rip_err *err);
void rip_switch_release(struct rip_switch *w);

/*
 * Whether the activate hook after switch w did not end well ("pending":
 * it never finished; "failed: ..."), for a target whose current link
 * points at current: false when current is not w's release, or w had no
 * hook. Deploy and rollback run such a hook again; status reports it.
 */
bool rip_switch_activate_unsettled(const struct rip_switch *w,
	const char *current);
/*
 * The completed ('ok') switches of target, newest first: out->v[0].release
 * is what it runs now by the record, and the distinct releases after it
 * are what it ran before. At most limit rows (0: all).
 */
RIP_MUST_CHECK int rip_journal_history(struct rip_switches *out,
	struct rip_state *st, const char *target, size_t limit,
	struct rip_err *err);

/*
 * Operations (a deploy, a rollback) as a whole: begun before the first
 * action with result "running", ended with "ok" or "failed: ...". One left
 * unfinished means the process died; a rollback rerun without --to goes on
 * to the release the unfinished one was going to.
 */
struct rip_op {
	int64_t seq;
	char *op;                 /* "deploy", "rollback", ... */
	char *release;
	char *result;             /* "running", "ok", "failed: ...",
				     "preempted: ..." (a deploy a rollback
				     stopped: where it stopped) */
	int64_t started;
	int64_t finished;         /* 0 while running */
};

struct rip_ops {
	struct rip_op *v;         /* oldest first */
	size_t n;
	size_t alloc;
};

RIP_MUST_CHECK int rip_op_begin(int64_t *seq, struct rip_state *st,
	const char *op, const char *release, struct rip_err *err);
RIP_MUST_CHECK int rip_op_end(struct rip_state *st, int64_t seq,
	const char *result, struct rip_err *err);
/* Ends every unfinished operation but keep: a newer one took over. */
RIP_MUST_CHECK int rip_op_supersede(struct rip_state *st, int64_t keep,
	struct rip_err *err);
/* The newest unfinished operation; out->seq is 0 when there is none. */
RIP_MUST_CHECK int rip_op_unfinished(struct rip_op *out, struct rip_state *st,
	struct rip_err *err);
/* The newest operation named op (any, when op is NULL), finished or not;
 * out->seq is 0 when there is none. */
RIP_MUST_CHECK int rip_op_last(struct rip_op *out, struct rip_state *st,
	const char *op, struct rip_err *err);
void rip_op_release(struct rip_op *op);
/*
 * Every operation, oldest first (for the DORA figures, dora.h). Reads
 * only. On failure out is empty. Free it with rip_ops_release.
 */
RIP_MUST_CHECK int rip_op_list(struct rip_ops *out, struct rip_state *st,
	struct rip_err *err);
void rip_ops_release(struct rip_ops *ops);

/* One entry of the audit log. */
struct rip_audit_entry {
	int64_t seq;
	int64_t at;               /* unix seconds */
	char *user;               /* SUDO_USER, else the login name */
	int64_t uid;
	char *host;
	char *command;            /* the command line, quoted where needed */
	char *result;             /* "ok", or the error message */
	int exit_code;
	double seconds;
	char prev_sha256[RIP_SHA256_HEX];  /* of the entry before; "" first */
	char sha256[RIP_SHA256_HEX];       /* of this entry, prev included */
	/* what the command did, NULL where it does not apply (and in every
	 * entry written before state.db schema 7) */
	char *from;               /* the release(s) targets ran: "v1" */
	char *to;                 /* the release they went to */
	char *targets;            /* "web-1,web-2" */
	char *migrations;         /* "up 0003_x,0004_y", "down 0004_y", ... */
};

/* What a command did, for its audit entry (borrowed; NULL: none). */
struct rip_audit_what {
	const char *from;
	const char *to;
	const char *targets;
	const char *migrations;
};

struct rip_audit {
	struct rip_audit_entry *v;
	size_t n;
	size_t alloc;
};

void rip_audit_release(struct rip_audit *a);

/*
 * argv joined as a shell would read it back (arguments quoted where
 * needed, argv[0] by its last path component), appended to b.
 */
void rip_command_line(struct rip_buf *b, int argc, char *const *argv);

/* Appends an entry for command (argv joined) that ended with exit_code. */
RIP_MUST_CHECK int rip_audit_append(struct rip_state *st, int argc,
	char *const *argv, int exit_code, const char *result, double seconds,
	struct rip_err *err);
/* The same, saying what it did (what may be NULL). */
RIP_MUST_CHECK int rip_audit_append_what(struct rip_state *st, int argc,
	char *const *argv, int exit_code, const char *result, double seconds,
	const struct rip_audit_what *what, struct rip_err *err);
/* The last n entries (all when n is 0), oldest first. */
RIP_MUST_CHECK int rip_audit_list(struct rip_audit *out, struct rip_state *st,
	size_t n, struct rip_err *err);
/*
 * Recomputes the chain: RIP_EINTEGRITY naming the first entry whose hash or
 * link to its predecessor does not match (edited, inserted or deleted).
 */
RIP_MUST_CHECK int rip_audit_verify(struct rip_state *st, size_t *checked,
	struct rip_err *err);

#endif
