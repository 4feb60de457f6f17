/* SPDX-License-Identifier: MIT */
/*
 * remote_int.h: what the files of remote targets share (remote.c: the
 * fleet and ssh's argv; remote_session.c: ssh's process, the lines and
 * the handshake; remote_ops.c: the operations). Internal: jansson's
 * types stay out of include/ripcord.
 */
#ifndef RIPCORD_REMOTE_INT_H
#define RIPCORD_REMOTE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "ripcord/digest.h"
#include "ripcord/remote.h"

#define DEFAULT_CONNECT_MS 10000u
#define EXTRACT_MS ((uint64_t)10 * 60 * 1000)   /* keep-alives catch a hung host */
#define PUT_SETTLE_MS 60000u           /* the agent fsyncs before answering */
#define INSTALL_CHECK_MS 5000u         /* an install checks its upload */
#define BYE_WAIT_MS 2000
#define CHUNK ((size_t)1 << 16)
#define MAX_SIG 4096
#define MAX_PUT ((uint64_t)64 << 30)
#define STDERR_TAIL 2048
#define STDERR_SLACK ((off_t)64 << 10)   /* stderr kept before a trim */
#define READ_WAKE_MS 1000               /* a wait wakes to trim stderr */
#define STOP_SLICE_MS 200               /* a stoppable wait looks this often */
#define STDERR_LINES 3
#define SAID_LINE 240            /* bytes of each line quoted */
#define MAX_THREADS 256
/* what ssh adds to ControlPath's folder: "/", %C (40 hex digits), and
 * ".XXXXXXXXXXXXXXXX" while it binds the socket, then the NUL */
#define CTL_EXTRA (1 + 40 + 17 + 1)

struct rip_remote_reader {
	int fd;
	size_t start, end;
	const int *errfd;           /* ssh's stderr file (the session's: -1
				     once closed), trimmed as we read */
	off_t kept_from;            /* what of it is not a hole yet */
	char buf[65536];
};

struct rip_remote {
	struct rip_fleet *fleet;
	pthread_mutex_t mu;
	char *dest;
	unsigned port;
	char *host;                 /* as the first target wrote it */
	struct rip_strlist names;   /* the targets on this host */
	/* "target 'web-1' (host deploy@web-1)": read it with
	 * rip_remote_label (no lock needed); replaced under mu as targets
	 * join, the old ones kept in old_labels until the fleet goes, so a
	 * reader on another thread never meets freed memory */
	char *label;
	char **old_labels;
	size_t nold, aold;
	bool started;
	pid_t pid;                  /* 0: no ssh */
	int in, out, errfd;         /* -1: closed */
	struct rip_remote_reader rd;
	json_int_t next_id;
	int dead_code;              /* < 0: dead, dead_msg says why */
	char *dead_msg;
	int64_t dead_at;            /* when it died (monotonic ms) */
	bool retried;               /* started again once already */
	int64_t t_spawn;
	/* hello was sent and its answer not read yet: the first answer read
	 * settles it (so hello and the first request share a round trip) */
	bool hello_pending;
	struct rip_remote_info info;
	bool install_committed;     /* the install's commit was sent */
	int exit_code;              /* ssh's exit status once it ended;
				     -1: not ended, or killed */
};

struct rip_remote_memo {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char hex[RIP_SHA256_HEX];
};

struct rip_fleet {
	const struct rip_config *cfg;
	char *control_dir;          /* NULL: no multiplexing */
	uint64_t connect_ms;
	pthread_mutex_t mu;         /* the table and the memo */
	pthread_mutex_t hash_mu;    /* held while an artifact is hashed */
	struct rip_remote **v;
	size_t n, alloc;
	struct rip_remote_memo *memo;
	size_t nmemo, amemo;
	unsigned hashes;            /* artifacts hashed (the tests read it) */
	/* rip_fleet_install_from: every session starts by installing this
	 * file as the agent at [ssh] agent_path, then runs it (NULL: none) */
	char *install_path;
	uint64_t install_size;
	char install_hex[RIP_SHA256_HEX];
	int install_force;          /* 1: a link or a script there is replaced */
};

/* Monotonic milliseconds. */
static inline int64_t rip_remote_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The session's label, however recent (see struct rip_remote). */
static inline const char *rip_remote_label(const struct rip_remote *r)
{
	return __atomic_load_n(&r->label, __ATOMIC_ACQUIRE);
}

/* The wait for a simple answer (inspect, has, switch): max(3 x connect
 * timeout, 5 s). prepare, remove and clean touch many files on a disk
 * that may be slow: they get EXTRACT_MS, as extract does. */
static inline uint64_t rip_remote_simple_ms(const struct rip_fleet *f)
{
	return 3 * f->connect_ms > 5000 ? 3 * f->connect_ms : 5000;
}

/* Replaces, in place, the bytes of s[0..n) below 0x20 but '\n' and '\t',
 * and 0x7f, with '?': text from a host (ssh's stderr, the agent's errors,
 * a hook's output, an answer out of protocol) goes into our messages and
 * logs without a terminal's escapes. */
void rip_remote_scrub(char *s, size_t n);

/* Makes a dead session startable again (its process, pipes, error and
 * what the handshake said forgotten); the caller holds r->mu. */
void rip_remote_reset(struct rip_remote *r);

/* Starts ssh and sends the handshake; on failure the session is dead.
 * Its answer is read with the first answer (rip_remote_recv), so hello
 * and the first request share a round trip; a refused handshake is that
 * recv's error. */
int rip_remote_start(struct rip_remote *r, struct rip_err *err);

/* The session's dead error again (or "no session"), or 0 when it lives. */
int rip_remote_alive(struct rip_remote *r, struct rip_err *err);

/* Sends req (taken) with the next id, stored in *id; each stretch
 * without progress bounded by stall_ms. */
int rip_remote_send(json_int_t *id, struct rip_remote *r, json_t *req,
	uint64_t stall_ms, struct rip_err *err);

/* Sends len raw bytes (what: named in errors), bounded like
 * rip_remote_send; a failure ends the session. */
int rip_remote_send_raw(struct rip_remote *r, const void *data, size_t len,
	uint64_t stall_ms, const char *what, struct rip_err *err);

/*
 * Reads the answer to request id within wait_ms (0: no deadline) into
 * *ans (the caller's); an error answer is returned as its code (prefixed
 * with the session's label) with *ans still set (its fields may matter).
 * A timeout, an end or an answer out of protocol ends the session.
 */
int rip_remote_recv(json_t **ans, struct rip_remote *r, json_int_t id,
	uint64_t wait_ms, struct rip_err *err);

/* rip_remote_recv that also gives up once *stop turns true (looked at
 * every STOP_SLICE_MS): RIP_EINTR, err set, the session as it was (the
 * answer still to come: end it with rip_remote_abandon). */
int rip_remote_recv_stoppable(json_t **ans, struct rip_remote *r,
	json_int_t id, uint64_t wait_ms, const atomic_bool *stop,
	struct rip_err *err);

/* One request (taken) and its answer; *ans is set on an error answer
 * too. The caller holds r->mu. */
int rip_remote_call(json_t **ans, struct rip_remote *r, json_t *req,
	uint64_t wait_ms, struct rip_err *err);

/* A well-formed answer lacked what it should hold: what was done is not
 * known, so as for any answer out of protocol the session ends and the
 * error is RIP_EUNREACH ("...: answered out of protocol: the answer to
 * 'op' why (it said: {...}); the session is closed", the answer ans
 * quoted up to SAID_LINE bytes, control characters replaced). */
int rip_remote_bad_answer(struct rip_remote *r, const char *op,
	const char *why, const json_t *ans, struct rip_err *err);

/* Streams size bytes of fd (path: named in errors as what) after what
 * was sent before, each stretch without progress bounded by three
 * connect timeouts; a file that shrank is padded with zeros (the host
 * then refuses its digest) and *short_read set. */
int rip_remote_send_file(struct rip_remote *r, int fd, uint64_t size,
	const char *what, bool *short_read, struct rip_err *err);

/* The argv of ssh to dest (port 0: ssh's own) running remote_cmd there,
 * as rip_remote_ssh_argv builds it for the agent. */
int rip_remote_ssh_argv_run(struct rip_strlist *out,
	const struct rip_config *cfg, const char *control_dir, const char *dest,
	unsigned port, const char *remote_cmd, struct rip_err *err);

/* The remote command of a session that installs the fleet's binary as
 * the agent (rip_fleet_install_from) and then runs it. */
char *rip_remote_install_cmd(const struct rip_fleet *f);

/* Says bye and closes ssh's stdin; the exit is awaited by
 * rip_remote_reap. */
void rip_remote_bye(struct rip_remote *r);

/* Waits up to ms for ssh to exit, then SIGKILLs it (and its group);
 * returns its wait status. Never leaves a zombie. */
int rip_remote_reap(struct rip_remote *r, int64_t ms);

/*
 * Ends a live session at once, as a dead one is ended (ssh killed and
 * reaped, our ends of its pipes closed: on the host the agent sees its
 * session end and ends a hook it runs), and leaves it startable: the
 * next rip_fleet_session on the host starts a fresh one. The caller
 * holds r->mu and is the thread that uses its descriptors.
 */
void rip_remote_abandon(struct rip_remote *r);

/* Closes what is left of the session's descriptors. */
void rip_remote_close(struct rip_remote *r);

#endif
