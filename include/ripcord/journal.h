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
};

struct rip_switches {
	struct rip_switch *v;
	size_t n;
	size_t alloc;
};

void rip_switches_release(struct rip_switches *s);

/* Records the intent to switch target to release; *seq names the row. */
RIP_MUST_CHECK int rip_journal_begin(int64_t *seq, struct rip_state *st,
	const char *target, const char *release, const char *previous,
	const char *op, struct rip_err *err);
/* Records the outcome ("ok" or "failed: <why>") of row seq. */
RIP_MUST_CHECK int rip_journal_end(struct rip_state *st, int64_t seq,
	const char *result, struct rip_err *err);
/* Rows still 'pending' (a process died between intent and result). */
RIP_MUST_CHECK int rip_journal_pending(struct rip_switches *out,
	struct rip_state *st, struct rip_err *err);
/*
 * The completed ('ok') switches of target, newest first: out->v[0].release
 * is what it runs now by the record, and the distinct releases after it
 * are what it ran before.
 */
RIP_MUST_CHECK int rip_journal_history(struct rip_switches *out,
	struct rip_state *st, const char *target, struct rip_err *err);

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
};

struct rip_audit {
	struct rip_audit_entry *v;
	size_t n;
	size_t alloc;
};

void rip_audit_release(struct rip_audit *a);

/* Appends an entry for command (argv joined) that ended with exit_code. */
RIP_MUST_CHECK int rip_audit_append(struct rip_state *st, int argc,
	char *const *argv, int exit_code, const char *result, double seconds,
	struct rip_err *err);
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
