/* SPDX-License-Identifier: MIT */
/*
 * store.h: the artifact store folder (artifacts/, state.db, lock) and the
 * one-operation-at-a-time lock.
 */
#ifndef RIPCORD_STORE_H
#define RIPCORD_STORE_H

#include "ripcord/state.h"

struct rip_config;
struct rip_fleet;

struct rip_store {
	char *dir;
	char *artifacts;      /* <dir>/artifacts */
	struct rip_state *state;
	struct rip_fleet *fleet;   /* this command's ssh sessions; NULL until
				      rip_store_fleet */
};

/*
 * Opens the store at dir. With create, makes the folders and state.db;
 * without, a missing store is RIP_ENOTFOUND with a hint to cut first.
 */
RIP_MUST_CHECK int rip_store_open(struct rip_store **out, const char *dir,
	bool create, struct rip_err *err);
void rip_store_free(struct rip_store *store);

/*
 * The sessions to remote targets for this command (remote.h), made on
 * first use with its ControlMaster sockets in <dir>/ssh; ended by
 * rip_store_free. Borrowed.
 */
RIP_MUST_CHECK int rip_store_fleet(struct rip_fleet **out,
	struct rip_store *store, const struct rip_config *cfg,
	struct rip_err *err);

/* "<artifacts>/<id>.tar.zst"; newly allocated. */
char *rip_store_artifact_path(const struct rip_store *store, const char *id);

/*
 * Refuses release id when it is yanked (ripcord-releases(1)): RIP_EFAIL
 * (exit 1) "cannot <verb> '<id>': it was yanked by <who> on <when>
 * (<reason>): cut a fix, or 'ripcord releases unyank <id>'". 0 when it is
 * not yanked, and when the store does not record it (the lookup that
 * follows says so). The one check deploy, rollout start and rollback call.
 */
/* "yanked by <who> on <when> (<reason>)" of a yanked release r, into out:
 * the words every refusal of a yanked release uses. */
void rip_store_yank_words(char *out, size_t len,
	const struct rip_release_rec *r);

RIP_MUST_CHECK int rip_store_refuse_yanked(struct rip_store *store,
	const char *id, const char *verb, struct rip_err *err);

/* Who runs ripcord, for the lock and the audit log: sudo's caller first
 * (SUDO_USER), else the login name; "unknown" at worst. Borrowed. */
const char *rip_user_name(void);

struct rip_lock {
	int fd;
	char *path;
	struct rip_state *state;  /* where the holder is recorded */
};

/* The command line recorded as the holder's (else acquire's what). */
void rip_lock_set_command(const char *line);

/*
 * Takes <store>/lock (flock, never waits) and records who holds it in
 * state.db: pid, user, host, the command line and since when. A held lock
 * is RIP_EBUSY naming the holder. The kernel drops it when the process
 * dies, so a lock is never stale.
 */
RIP_MUST_CHECK int rip_lock_acquire(struct rip_lock *out,
	struct rip_store *store, const char *what, struct rip_err *err);
/*
 * rip_lock_acquire, trying again every 100 ms for up to wait_ms while the
 * lock is held (for an operation that knows the holder is about to let
 * go: a preempted rollout finishing its step); then RIP_EBUSY as above.
 */
RIP_MUST_CHECK int rip_lock_acquire_wait(struct rip_lock *out,
	struct rip_store *store, const char *what, uint64_t wait_ms,
	struct rip_err *err);
void rip_lock_release(struct rip_lock *lock);

/*
 * rip_lock_acquire for an operation that a rollback may preempt (a
 * deploy): the holder is recorded as preemptible, working on release, so
 * `rollback` can ask it to stop (rip_lock_ask_stop) instead of exiting 4.
 * The holder then checks rip_lock_stop_request at its safe points.
 */
RIP_MUST_CHECK int rip_lock_acquire_preemptible(struct rip_lock *out,
	struct rip_store *store, const char *what, const char *release,
	struct rip_err *err);

/* The lock's holder as state.db records it (rip_lock_info_read). */
struct rip_lock_info {
	int64_t pid;              /* 0: nobody recorded (free, or its holder
				     has not written its row yet) */
	char *user, *host, *command;
	char *release;            /* what it works on, or NULL */
	char *request;            /* who asked it to stop, or NULL */
	int64_t since;            /* unix time it took the lock */
	bool preemptible;         /* it stops when a rollback asks */
	bool alive;               /* its process runs; a holder on another
				     host counts as alive (we cannot tell) */
};

void rip_lock_info_release(struct rip_lock_info *info);
/* Reads the recorded holder into out (pid 0 when there is none); a row
 * left by a process that died reads with alive false. */
RIP_MUST_CHECK int rip_lock_info_read(struct rip_lock_info *out,
	struct rip_store *store, struct rip_err *err);
/* "pid 12, user ana, host web, 'ripcord deploy v2', since 2026-..."
 * (or "holder not recorded yet" for pid 0), into out. */
void rip_lock_info_describe(char *out, size_t len,
	const struct rip_lock_info *info);

/*
 * Asks the holder read as h to stop at its next safe point, on behalf of
 * by ("'ripcord rollback' (pid 7, user ana)"). Written only while the
 * row still names h (same pid, host and since) and h is preemptible, so a
 * request never reaches the operation that took the lock after h: *asked
 * says whether it was written.
 */
RIP_MUST_CHECK int rip_lock_ask_stop(bool *asked, struct rip_store *store,
	const struct rip_lock_info *h, const char *by, struct rip_err *err);

/*
 * The request to stop another process left for the lock this process
 * holds (newly allocated: who asked), or NULL. A request left for a
 * holder that died goes with its row, which the next holder replaces;
 * one whose asker (a process of this host) is gone, having given up or
 * died, is cleared with a warning and not obeyed.
 */
char *rip_lock_stop_request(struct rip_store *store);

/* Withdraws the request to stop that this process left for holder h (a
 * rollback that gave up waiting for it). */
void rip_lock_withdraw_stop(struct rip_store *store,
	const struct rip_lock_info *h);
/*
 * Whether an operation holds the lock now, by the holder recorded in
 * state.db (a row left by a process that died does not count), and who
 * in out. Reads only: it never takes the lock.
 */
bool rip_lock_holder(struct rip_store *store, char *out, size_t len);

#endif
