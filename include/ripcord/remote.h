/* SPDX-License-Identifier: MIT */
/*
 * remote.h: targets on other hosts, reached with the system's OpenSSH
 * client and served there by `ripcord agent` (agent.h, ripcord-agent(1)).
 *
 * A fleet holds this command's sessions: at most one per host (targets on
 * the same host share it), each an ssh process whose stdin and stdout
 * carry the agent's JSON lines, started on first use and ended (bye, then
 * a bounded wait for ssh) by rip_fleet_free. Connections are multiplexed
 * through a ControlMaster whose socket lives in the fleet's control
 * folder, so a later command reaches a warm host in one round trip. The
 * keep-alive options go on every ssh command, since the one that opens
 * the master is the one whose options count: without them a session
 * through a master to a hung host would wait forever.
 *
 * Every call is bounded in time. A host that cannot be reached, whose
 * ssh dies, or that does not answer in time is RIP_EUNREACH, with a
 * message naming the target, the host and what ssh said (or that it
 * said nothing: a session through a master to a dead host exits 255
 * silently); its session is closed and every later call on it fails at
 * once with the same error, so one dead host costs a command one wait,
 * not one per action. Once per fleet (per command), a session that died
 * RIP_EUNREACH is started again by rip_fleet_session when at least 2 x
 * the connect timeout has passed since it died, so a long rollout
 * survives one network drop; calls on the old handle before that still
 * fail at once. An answer out of protocol (not JSON, too long, another
 * request's id, fields missing or of the wrong type) after a request was
 * sent leaves unknown what the host did: it ends the session too and is
 * RIP_EUNREACH ("target 'x' (host h): answered out of protocol: ...; the
 * session is closed"). An error the agent answered (a root that is not
 * ours, a disk that is full) keeps the agent's code and message,
 * prefixed with the target; a code outside enum rip_code, or
 * RIP_EUNREACH itself, is RIP_EFAIL: a host that answered was reached.
 * Text from the host (ssh's stderr, the agent's errors, hook output, an
 * excerpt of a bad answer) reaches messages with control characters but
 * newline and tab replaced by '?'.
 *
 * Thread safety: different sessions may be used from different threads
 * at once (rip_fleet_each); calls on one session are serialized by it.
 */
#ifndef RIPCORD_REMOTE_H
#define RIPCORD_REMOTE_H

#include "ripcord/config.h"
#include "ripcord/hook.h"
#include "ripcord/target.h"

/* The protocol of the agent's JSON lines that this ripcord speaks, both
 * as client and as agent; a peer of another one is refused. */
#define RIP_AGENT_PROTOCOL 1

struct rip_fleet;
struct rip_remote;

/*
 * A fleet for the targets of cfg, using cfg->ssh (borrowed: cfg must
 * outlive the fleet). control_dir is where ControlMaster sockets go
 * (created 0700 when missing; a path too long for a unix socket, or
 * holding a character outside [A-Za-z0-9._/+@-] (ssh splits and expands
 * ControlPath), falls back to /tmp/ripcord-ssh-<hash of the path>, which
 * must then be ours and 0700, else RIP_ESECURITY); NULL: no
 * multiplexing. Starts nothing.
 */
RIP_MUST_CHECK int rip_fleet_new(struct rip_fleet **out,
	const struct rip_config *cfg, const char *control_dir,
	struct rip_err *err);

/* Ends every session (bye, then ssh gets a few seconds before SIGKILL)
 * and frees f. NULL is a no-op. */
void rip_fleet_free(struct rip_fleet *f);

/* Runs fn(data, i) exactly once for every i in [0, n), on up to
 * `at_once` threads (this one included; 0 or 1: all here, in order);
 * returns when every call has returned. A general pool: it needs no
 * fleet. */
typedef void (*rip_each_fn)(void *data, size_t i);
void rip_fleet_each(size_t n, size_t at_once, rip_each_fn fn, void *data);

/* cfg->ssh.parallel, at least 1. */
size_t rip_fleet_parallel(const struct rip_fleet *f);

/*
 * The session of t's host (t->host must be set), started on first use:
 * ssh, and the handshake sent. Its answer is read with the first
 * request's (one round trip for both), so an agent of another protocol
 * is refused by that first call (RIP_EUSAGE naming the target, host and
 * both protocols and versions), and rip_remote_get_info is filled only
 * once a call has returned.
 */
RIP_MUST_CHECK int rip_fleet_session(struct rip_remote **out,
	struct rip_fleet *f, const struct rip_target *t, struct rip_err *err);

/* Waits for r's handshake answer when no call has read it yet: 0 once
 * the agent answered it, else the error the first call would return. */
/*
 * Makes every session of f started from now on install the program file
 * at path (this ripcord, as a rule) on its host at [ssh] agent_path first,
 * then run it as the agent: sent once, checked there (size, SHA-256, that
 * it runs on that host) and, once committed, renamed over agent_path,
 * which a failed step before leaves as it was (the session then ends
 * with what the host said). Only a ripcord there is replaced, and with
 * force also a symbolic link or a script that is one.
 * agent_path must be absolute. The handshake that follows says which
 * version answers.
 */
/* What an install says on the host's stderr once agent_path holds the
 * new program, before it starts it as the agent (followed by the path):
 * an error after it is the new agent's, not the install's. */
#define RIP_INSTALL_DONE "ripcord install: installed at"
/* What an install says on stdout once its upload passed every check; it
 * then waits for "commit" before it touches agent_path. */
#define RIP_INSTALL_READY "ripcord install: ready"

/* Whether r's session sent its install's commit: from then on the host
 * may have replaced agent_path, whatever else went wrong. */
bool rip_remote_install_committed(const struct rip_remote *r);

RIP_MUST_CHECK int rip_fleet_install_from(struct rip_fleet *f,
	const char *path, bool force, struct rip_err *err);

/* The exit status of r's ssh once its session ended (126 or 127: no
 * agent to run at agent_path; 255: ssh's own failure), -1 while it runs
 * or when it was killed. */
int rip_remote_exit_code(const struct rip_remote *r);

RIP_MUST_CHECK int rip_remote_handshake(struct rip_remote *r,
	struct rip_err *err);

/*
 * The argv of the ssh that reaches dest (port 0: ssh's choice) for cfg:
 * cfg->ssh.command ("ssh" when empty), -T, BatchMode, ConnectTimeout and
 * the keep-alives (connect timeout rounded up to seconds), the
 * ControlMaster options when control_dir is set (the folder as it is
 * used: rip_fleet_new may have shortened it; one that is not plain is
 * replaced by the same /tmp fallback), -p, "--", dest and the
 * remote command "'AGENT_PATH' agent" (quoted for the remote shell). A
 * dest that is empty, starts with '-' or holds a space or control
 * character is refused (RIP_ECONFIG). out is the caller's to release.
 */
RIP_MUST_CHECK int rip_remote_ssh_argv(struct rip_strlist *out,
	const struct rip_config *cfg, const char *control_dir,
	const char *dest, unsigned port, struct rip_err *err);

/* What the agent said of itself in the handshake. */
struct rip_remote_info {
	int protocol;
	const char *version;      /* ripcord's version on the host */
	const char *hostname;     /* its gethostname(2) */
	double clock_skew_s;      /* its clock minus ours when its answer came */
	double connect_s;         /* ssh start to the handshake's answer */
};
void rip_remote_get_info(struct rip_remote_info *out,
	const struct rip_remote *r);

/* What a root on a host holds, beside rip_root_state. */
struct rip_remote_root {
	bool exists;              /* the root folder exists */
	uint64_t free_bytes;      /* free space of its file system (of the
				     nearest existing folder above it when it
				     does not exist) */
};

/*
 * rip_root_inspect of root on r's host; a missing root is not an error
 * (*out empty, extra->exists false). With check, rip_root_check first:
 * a root that is not ours is refused with its code and message. extra
 * may be NULL. out->has_releases is only approximated (some release is
 * extracted) unless the agent says "has_releases": protocol 1 does not
 * carry it. *out is the caller's to release (rip_root_state_release).
 */
RIP_MUST_CHECK int rip_remote_inspect(struct rip_root_state *out,
	struct rip_remote_root *extra, struct rip_remote *r, const char *root,
	bool check, struct rip_err *err);

/* How a release reached a host. */
struct rip_remote_stage {
	bool cached;              /* the artifact was already on the host */
	uint64_t sent;            /* artifact bytes sent (0 when cached) */
	bool extracted;           /* extracted now (false: it already was) */
	bool resent;              /* the host's cached copy was damaged: it
				     was removed there and sent again */
};

/*
 * Makes release ready to switch to under root on r's host: the root is
 * prepared (rip_root_prepare), the artifact at artifact_path (and its
 * .sig, when there is one) is sent unless the host holds it already (by
 * SHA-256), checked there as it arrives, and extracted to
 * releases/<release> unless that exists. The artifact is streamed from
 * disk (never held whole) and hashed once per fleet while it is
 * unchanged (threads staging it at once wait for the first one's hash);
 * preparing the root gets as long as an extraction; a send that makes
 * no progress for 3 x the connect timeout ends the session, an
 * extraction gets 10 minutes. A cached copy that the host finds damaged
 * as it extracts (its digest no longer the one it was stored under) is
 * removed there and sent again, once (a warning names the host;
 * out->resent); a second failure fails the stage.
 */
RIP_MUST_CHECK int rip_remote_stage(struct rip_remote_stage *out,
	struct rip_remote *r, const char *root, const char *release,
	const char *artifact_path, struct rip_err *err);

/*
 * rip_root_switch of root to release on r's host, then an fsync of the
 * root there. When only the fsync failed the link did move: 0, with
 * *synced false (synced may be NULL).
 */
RIP_MUST_CHECK int rip_remote_switch(bool *synced, struct rip_remote *r,
	const char *root, const char *release, struct rip_err *err);

/*
 * Runs t's activate hook on r's host, as a local target runs it (same
 * environment, in the release's folder; a relative t->activate is taken
 * from that folder), bounded by t->hook_timeout_ms there; the answer is
 * awaited that long plus 3 x the connect timeout (with no hook timeout,
 * only ssh's keep-alives bound the wait). out is set on every return, as
 * by rip_hook_run (release it with rip_hook_result_release).
 */
RIP_MUST_CHECK int rip_remote_activate(struct rip_hook_result *out,
	struct rip_remote *r, const struct rip_target *t, const char *release,
	const char *previous, struct rip_err *err);

/*
 * rip_remote_activate that gives up once *stop turns true (another thread
 * sets it; it is looked at every 200 ms), as rip_hook_run_stoppable ends
 * a local hook: the session is ended (ssh killed, its pipes closed, so
 * the agent ends the hook's process group: SIGTERM, SIGKILL 2 s later),
 * out->stopped is set and it returns RIP_EINTR, err naming the target
 * and the hook. The host's next session is a fresh one. When *stop was
 * already true the hook is not started: RIP_EINTR, out->stopped false.
 */
RIP_MUST_CHECK int rip_remote_activate_stoppable(struct rip_hook_result *out,
	struct rip_remote *r, const struct rip_target *t, const char *release,
	const char *previous, const atomic_bool *stop, struct rip_err *err);

/* rip_root_remove on r's host; *removed says whether it was there. Like
 * rip_remote_clean, awaited as long as an extraction (a big release on a
 * slow disk); inspect and switch get max(3 x connect timeout, 5 s). */
RIP_MUST_CHECK int rip_remote_remove(bool *removed, struct rip_remote *r,
	const char *root, const char *release, struct rip_err *err);

/*
 * Removes from root's artifact cache on r's host every artifact whose
 * release is not in keep[0..nkeep), and what an interrupted transfer or
 * extraction left; *removed counts what went.
 */
RIP_MUST_CHECK int rip_remote_clean(size_t *removed, struct rip_remote *r,
	const char *root, const char *const *keep, size_t nkeep,
	struct rip_err *err);

#endif
