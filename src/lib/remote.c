/* SPDX-License-Identifier: MIT */
/*
 * remote.c: the client side of remote targets (remote.h): a fleet of ssh
 * sessions to `ripcord agent`, one per (ssh_dest, ssh_port), speaking the
 * JSON lines of agent_proto.h.
 *
 * Invariants: every wait is bounded (poll with a deadline on every read
 * and on every write that could block); a session that timed out, whose
 * ssh died or that answered out of protocol is dead: ssh is killed and
 * reaped at once, and the error is kept so every later call fails with
 * it without waiting again. ssh never outlives the fleet and never stays
 * a zombie. ssh's stderr goes to a memfd, not a pipe: a ControlPersist
 * master that ssh forks inherits it and would hold a pipe open forever.
 * Writes to ssh run with SIGPIPE blocked in the writing thread (and a
 * SIGPIPE they raised consumed), so a dead ssh is EPIPE, not our death,
 * whatever the caller's disposition of SIGPIPE.
 *
 * Tuned for a few hundred hosts at most: the session table is a linear
 * list under one mutex, each session has its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ripcord/digest.h"
#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "ripcord/manifest.h"
#include "ripcord/remote.h"
#include "agent_proto.h"
#include "rip_version.h"
#include "banned.h"

extern char **environ;

#define DEFAULT_CONNECT_MS 10000u
#define EXTRACT_MS (10u * 60 * 1000)   /* keep-alives catch a hung host */
#define PUT_SETTLE_MS 60000u           /* the agent fsyncs before answering */
#define BYE_WAIT_MS 2000
#define CHUNK ((size_t)1 << 16)
#define MAX_SIG 4096
#define MAX_PUT ((uint64_t)64 << 30)
#define STDERR_TAIL 2048
#define STDERR_LINES 3
#define MAX_THREADS 256
/* what ssh adds to ControlPath's folder: "/", %C (40 hex digits), and
 * ".XXXXXXXXXXXXXXXX" while it binds the socket, then the NUL */
#define CTL_EXTRA (1 + 40 + 17 + 1)

struct line_reader {
	int fd;
	size_t start, end;
	char buf[65536];
};

struct rip_remote {
	struct rip_fleet *fleet;
	pthread_mutex_t mu;
	char *dest;
	unsigned port;
	char *host;                 /* as the first target wrote it */
	struct rip_strlist names;   /* the targets on this host */
	char *label;                /* "target 'web-1' (host deploy@web-1)" */
	bool started;
	pid_t pid;                  /* 0: no ssh */
	int in, out, errfd;         /* -1: closed */
	struct line_reader rd;
	json_int_t next_id;
	int dead_code;              /* < 0: dead, dead_msg says why */
	char *dead_msg;
	int64_t t_spawn;
	struct rip_remote_info info;
};

struct digest_memo {
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
	struct rip_remote **v;
	size_t n, alloc;
	struct digest_memo *memo;
	size_t nmemo, amemo;
};

/* Monotonic milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CLOCK_REALTIME in seconds, as the agent's "time". */
static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left until `until` for poll(2); -1: no deadline. */
static int left_ms(int64_t until)
{
	int64_t d;

	if (until < 0)
		return -1;
	d = until - now_ms();
	if (d < 0)
		return 0;
	return d > INT_MAX ? INT_MAX : (int)d;
}

static int64_t deadline(uint64_t ms)
{
	return ms ? now_ms() + (int64_t)ms : -1;
}

static uint64_t connect_ms_of(const struct rip_config *cfg)
{
	return cfg->ssh.connect_timeout_ms ? cfg->ssh.connect_timeout_ms :
		DEFAULT_CONNECT_MS;
}

/* The wait for a simple answer: max(3 x connect timeout, 5 s). */
static uint64_t simple_ms(const struct rip_fleet *f)
{
	return 3 * f->connect_ms > 5000 ? 3 * f->connect_ms : 5000;
}

/* "'s'" for a remote shell: single quotes, each ' written '\''. */
static char *shell_quote(const char *s)
{
	struct rip_buf b = RIP_BUF_INIT;

	rip_buf_addch(&b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			rip_buf_adds(&b, "'\\''");
		else
			rip_buf_addch(&b, *s);
	}
	rip_buf_addch(&b, '\'');
	return rip_buf_detach(&b, NULL);
}

/* Whether dest may be handed to ssh as its destination. */
static bool dest_ok(const char *dest)
{
	if (!dest || !dest[0] || dest[0] == '-')
		return false;
	for (const char *c = dest; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

int rip_remote_ssh_argv(struct rip_strlist *out, const struct rip_config *cfg,
	const char *control_dir, const char *dest, unsigned port,
	struct rip_err *err)
{
	unsigned s = (unsigned)((connect_ms_of(cfg) + 999) / 1000);
	const char *agent = cfg->ssh.agent_path && cfg->ssh.agent_path[0] ?
		cfg->ssh.agent_path : "ripcord";
	char *quoted;

	memset(out, 0, sizeof(*out));
	if (!dest_ok(dest))
		return rip_err_set(err, RIP_ECONFIG, "ssh destination '%s' is "
			"empty, starts with '-' or holds a space: refused",
			dest ? dest : "");
	if (port > 65535)
		return rip_err_set(err, RIP_ECONFIG, "ssh port %u of '%s' is not "
			"a port", port, dest);
	if (!cfg->ssh.command.n)
		rip_strlist_push(out, "ssh");
	for (size_t i = 0; i < cfg->ssh.command.n; i++)
		rip_strlist_push(out, cfg->ssh.command.v[i]);
	rip_strlist_push(out, "-T");
	rip_strlist_push(out, "-o");
	rip_strlist_push(out, "BatchMode=yes");
#define OPT(fmt, v) do { \
		char *o_ = rip_xasprintf(fmt, v); \
		rip_strlist_push(out, "-o"); \
		rip_strlist_push(out, o_); \
		free(o_); \
	} while (0)
	OPT("ConnectTimeout=%u", s ? s : 1);
	OPT("ServerAliveInterval=%u", s ? s : 1);
	rip_strlist_push(out, "-o");
	rip_strlist_push(out, "ServerAliveCountMax=3");
	if (control_dir) {
		rip_strlist_push(out, "-o");
		rip_strlist_push(out, "ControlMaster=auto");
		OPT("ControlPath=%s/%%C", control_dir);
		rip_strlist_push(out, "-o");
		rip_strlist_push(out, "ControlPersist=60");
	}
#undef OPT
	if (port) {
		char *ps = rip_xasprintf("%u", port);

		rip_strlist_push(out, "-p");
		rip_strlist_push(out, ps);
		free(ps);
	}
	rip_strlist_push(out, "--");
	rip_strlist_push(out, dest);
	quoted = shell_quote(agent);
	{
		char *cmd = rip_xasprintf("%s agent", quoted);

		rip_strlist_push(out, cmd);
		free(cmd);
	}
	free(quoted);
	return 0;
}

/* ---- the session's process ---- */

/* Closes fd if open and marks it closed. */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* SIGKILLs ssh and its process group (a ProxyCommand, what a fake ssh
 * runs); a ControlPersist master has a session of its own and lives on,
 * as it should: it serves other commands. */
static void kill_ssh(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/* Waits up to ms for ssh to exit, then SIGKILLs it; returns its wait
 * status. Never leaves a zombie. */
static int ssh_reap(struct rip_remote *r, int64_t ms)
{
	int64_t until = now_ms() + ms;
	int status = 0;

	if (r->pid <= 0)
		return 0;
	for (;;) {
		pid_t p = waitpid(r->pid, &status, WNOHANG);

		if (p == r->pid || (p < 0 && errno != EINTR))
			break;
		if (p == 0 && now_ms() >= until) {
			kill_ssh(r->pid);
			while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (p == 0) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	r->pid = 0;
	return status;
}

/* The last lines ssh (or the agent) wrote on stderr, joined with "; ",
 * control characters replaced; NULL when it said nothing. */
static char *ssh_said(struct rip_remote *r)
{
	char buf[STDERR_TAIL + 1];
	struct rip_buf out = RIP_BUF_INIT;
	struct stat st;
	off_t from;
	ssize_t n;
	char *lines[STDERR_LINES];
	size_t nl = 0;

	if (r->errfd < 0 || fstat(r->errfd, &st) < 0 || st.st_size <= 0)
		return NULL;
	from = st.st_size > STDERR_TAIL ? st.st_size - STDERR_TAIL : 0;
	n = pread(r->errfd, buf, STDERR_TAIL, from);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	/* the last STDERR_LINES non-empty lines, oldest first */
	for (char *end = buf + n; end > buf && nl < STDERR_LINES;) {
		char *start = end;

		while (start > buf && start[-1] != '\n')
			start--;
		*end = '\0';
		if (end > start && end[-1] == '\r')
			end[-1] = '\0';
		if (*start)
			lines[nl++] = start;
		end = start > buf ? start - 1 : buf;
		if (start == buf)
			break;
	}
	while (nl--) {
		if (out.len)
			rip_buf_adds(&out, "; ");
		for (const char *c = lines[nl]; *c; c++)
			rip_buf_addch(&out, (unsigned char)*c < ' ' ||
				*c == 0x7f ? '?' : *c);
	}
	rip_buf_rtrim(&out);
	if (!out.len) {
		rip_buf_release(&out);
		return NULL;
	}
	return rip_buf_detach(&out, NULL);
}

/* Ends the session for good: ssh killed and reaped, fds closed, the
 * error kept for every later call. Returns code, with err set. */
static int go_dead(struct rip_remote *r, int code, struct rip_err *err,
	const char *fmt, ...) RIP_PRINTF(4, 5);
static int go_dead(struct rip_remote *r, int code, struct rip_err *err,
	const char *fmt, ...)
{
	struct rip_buf msg = RIP_BUF_INIT;
	va_list ap;

	if (r->pid > 0) {
		kill_ssh(r->pid);
		ssh_reap(r, 0);
	}
	close_fd(&r->in);
	close_fd(&r->out);
	close_fd(&r->errfd);
	rip_buf_addf(&msg, "%s: ", r->label);
	va_start(ap, fmt);
	rip_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	free(r->dead_msg);
	r->dead_msg = rip_buf_detach(&msg, NULL);
	r->dead_code = code;
	return rip_err_set(err, code, "%s", r->dead_msg);
}

/* The error of a session that ended: ssh's exit and its last words. */
static int ended(struct rip_remote *r, struct rip_err *err)
{
	int status = ssh_reap(r, BYE_WAIT_MS);
	char *said = ssh_said(r);
	char what[64];
	int rc;

	if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "ssh was killed by signal %d",
			WTERMSIG(status));
	else
		snprintf(what, sizeof(what), "ssh exited %d",
			WEXITSTATUS(status));
	if (said)
		rc = go_dead(r, RIP_EUNREACH, err, "%s: %s%s", what, said,
			WIFEXITED(status) && WEXITSTATUS(status) == 127 ?
			" (is ripcord installed there? [ssh] agent_path says "
			"where)" : "");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 255)
		rc = go_dead(r, RIP_EUNREACH, err, "ssh exited 255 and said "
			"nothing (a session through a ControlMaster to a host "
			"that is down ends so: check the host and its network)");
	else
		rc = go_dead(r, RIP_EUNREACH, err, "%s and said nothing, the "
			"session ended", what);
	free(said);
	return rc;
}

static int timed_out(struct rip_remote *r, uint64_t ms, struct rip_err *err)
{
	return go_dead(r, RIP_EUNREACH, err, "no answer in %g s (the host, "
		"its network or its sshd hangs)", (double)ms / 1000);
}

/* Opens the file ssh's stderr goes to: a memfd, else an O_TMPFILE. */
static int stderr_file(void)
{
	int fd = memfd_create("ripcord-ssh-stderr", MFD_CLOEXEC);

	if (fd < 0)
		fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	return fd;
}

static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
	int in, int out, int errfd)
{
	sigset_t all, none;
	int e;

	sigfillset(&all);
	sigemptyset(&none);
	e = posix_spawn_file_actions_adddup2(fa, in, STDIN_FILENO);
	if (!e)
		e = posix_spawn_file_actions_adddup2(fa, out, STDOUT_FILENO);
	if (!e)
		e = posix_spawn_file_actions_adddup2(fa, errfd, STDERR_FILENO);
#if defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 34)
	/* a descriptor opened without O_CLOEXEC must not live on in a
	 * ControlPersist master */
	if (!e)
		e = posix_spawn_file_actions_addclosefrom_np(fa,
			STDERR_FILENO + 1);
#endif
#endif
	/* its own process group: a ^C is ours to handle, we end ssh */
	if (!e)
		e = posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP |
			POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (!e)
		e = posix_spawnattr_setpgroup(at, 0);
	if (!e)
		e = posix_spawnattr_setsigdefault(at, &all);
	if (!e)
		e = posix_spawnattr_setsigmask(at, &none);
	return e;
}

/* Starts ssh with argv (NULL-terminated); its pipes go to r. */
static int ssh_spawn(struct rip_remote *r, char *const *argv,
	struct rip_err *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int e;

	r->errfd = stderr_file();
	if (r->errfd < 0 || pipe2(in, O_CLOEXEC) < 0 ||
	    pipe2(out, O_CLOEXEC) < 0) {
		e = errno;
		close_fd(&in[0]);
		close_fd(&in[1]);
		return go_dead(r, RIP_EIO, err, "cannot set up ssh's pipes: %s",
			strerror(e));
	}
	e = posix_spawn_file_actions_init(&fa);
	if (!e) {
		e = posix_spawnattr_init(&at);
		if (!e) {
			e = spawn_setup(&fa, &at, in[0], out[1], r->errfd);
			if (!e)
				e = posix_spawnp(&r->pid, argv[0], &fa, &at, argv,
					environ);
			posix_spawnattr_destroy(&at);
		}
		posix_spawn_file_actions_destroy(&fa);
	}
	close(in[0]);
	close(out[1]);
	r->in = in[1];
	r->out = out[0];
	r->rd.fd = r->out;
	r->rd.start = r->rd.end = 0;
	if (e) {
		r->pid = 0;
		return go_dead(r, RIP_EUNREACH, err, "cannot start '%s' (the "
			"[ssh] command): %s", argv[0], strerror(e));
	}
	/* writes wait in poll, never in write(2) */
	fcntl(r->in, F_SETFL, fcntl(r->in, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* ---- lines in and out ---- */

/*
 * Reads the next line (without its '\n') into out before `until` (-1:
 * no deadline). 1: a line; 0: end of input; -1: the deadline passed;
 * -2: read(2) failed (errno); -3: longer than RIP_AGENT_MAX_LINE.
 */
static int read_line(struct rip_buf *out, struct line_reader *rd,
	int64_t until)
{
	rip_buf_reset(out);
	for (;;) {
		struct pollfd p = { rd->fd, POLLIN, 0 };
		char *nl;
		size_t n;
		ssize_t got;
		int pr;

		if (rd->start < rd->end) {
			nl = memchr(rd->buf + rd->start, '\n', rd->end - rd->start);
			n = (nl ? (size_t)(nl - rd->buf) : rd->end) - rd->start;
			if (out->len + n > RIP_AGENT_MAX_LINE)
				return -3;
			rip_buf_add(out, rd->buf + rd->start, n);
			rd->start += n + (nl ? 1 : 0);
			if (nl)
				return 1;
		}
		pr = poll(&p, 1, left_ms(until));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -2;
		if (pr == 0)
			return -1;
		got = read(rd->fd, rd->buf, sizeof(rd->buf));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return -2;
		if (got == 0)
			return 0;
		rd->start = 0;
		rd->end = (size_t)got;
	}
}

/*
 * Writes len bytes to fd (non-blocking), each stretch without progress
 * bounded by stall_ms (0: none). 0; -1: stalled; -2: write(2) failed
 * (errno; EPIPE when ssh is gone). SIGPIPE is blocked meanwhile and one
 * this raised is consumed: the caller's disposition does not matter.
 */
static int write_stall(int fd, const void *data, size_t len,
	uint64_t stall_ms)
{
	const char *p = data;
	sigset_t pipe_set, old, pend;
	bool was_pending;
	int rc = 0, e = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pend);
	was_pending = sigismember(&pend, SIGPIPE);
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = { fd, POLLOUT, 0 };
			int pr = poll(&pf, 1, stall_ms ? (stall_ms > INT_MAX ?
				INT_MAX : (int)stall_ms) : -1);

			if (pr == 0) {
				rc = -1;
				break;
			}
			if (pr > 0 || errno == EINTR)
				continue;
		}
		e = errno;
		rc = -2;
		break;
	}
	if (rc == -2 && e == EPIPE && !was_pending) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return rc;
}

/* The session's dead error again, or 0 when it lives. */
static int check_alive(struct rip_remote *r, struct rip_err *err)
{
	if (r->dead_code < 0)
		return rip_err_set(err, r->dead_code, "%s", r->dead_msg);
	if (r->pid <= 0)
		return rip_err_set(err, RIP_EUNREACH, "%s: no session",
			r->label);
	return 0;
}

/* A write to ssh failed (rc of write_stall): the session is dead. */
static int write_failed(struct rip_remote *r, int rc, uint64_t stall_ms,
	const char *what, struct rip_err *err)
{
	if (rc == -1)
		return go_dead(r, RIP_EUNREACH, err, "no progress sending %s "
			"for %g s (the host, its network or its sshd hangs)", what,
			(double)stall_ms / 1000);
	if (errno == EPIPE)
		return ended(r, err);
	return go_dead(r, RIP_EUNREACH, err, "cannot send %s: %s", what,
		strerror(errno));
}

/* Sends req (taken) with the next id, stored in *id. */
static int send_req(json_int_t *id, struct rip_remote *r, json_t *req,
	uint64_t stall_ms, struct rip_err *err)
{
	char *s;
	size_t len;
	int rc;

	*id = r->next_id++;
	json_object_set_new(req, "id", json_integer(*id));
	s = json_dumps(req, JSON_COMPACT | JSON_ENSURE_ASCII |
		JSON_PRESERVE_ORDER);
	json_decref(req);
	if (!s)
		return rip_err_set(err, RIP_EUSAGE, "%s: a request could not be "
			"written as JSON (a name that is not UTF-8?)", r->label);
	len = strlen(s);
	s[len] = '\n';   /* json_dumps' NUL: not sent */
	rc = write_stall(r->in, s, len + 1, stall_ms);
	free(s);
	if (rc < 0)
		return write_failed(r, rc, stall_ms, "a request", err);
	return 0;
}

/* The code of an error answer: an enum rip_code, else RIP_EFAIL. */
static int answer_code(const json_t *ans)
{
	json_t *c = json_object_get(ans, "code");
	json_int_t v = json_is_integer(c) ? json_integer_value(c) : 0;

	return v <= RIP_EFAIL && v >= RIP_EUNREACH ? (int)v : RIP_EFAIL;
}

/* An error answer as our error: its code, its message after the label. */
static int answer_err(struct rip_remote *r, const json_t *ans,
	struct rip_err *err)
{
	const char *msg = json_string_value(json_object_get(ans, "error"));

	return rip_err_set(err, answer_code(ans), "%s: %s", r->label,
		msg ? msg : "the agent failed and said nothing");
}

/*
 * Reads the answer to request id before wait_ms (0: none) into *ans
 * (the caller's); an error answer is returned as its code with *ans
 * still set (its fields may matter).
 */
static int recv_ans(json_t **ans, struct rip_remote *r, json_int_t id,
	uint64_t wait_ms, struct rip_err *err)
{
	struct rip_buf line = RIP_BUF_INIT;
	json_error_t jerr;
	json_t *doc = NULL, *jid;
	int rc;

	*ans = NULL;
	rc = read_line(&line, &r->rd, deadline(wait_ms));
	if (rc == -1)
		rc = timed_out(r, wait_ms, err);
	else if (rc == 0)
		rc = ended(r, err);
	else if (rc == -2)
		rc = go_dead(r, RIP_EUNREACH, err, "cannot read from ssh: %s",
			strerror(errno));
	else if (rc == -3)
		rc = go_dead(r, RIP_EFAIL, err, "an answer longer than %zu "
			"bytes: the agent is not ripcord's", RIP_AGENT_MAX_LINE);
	if (rc < 0)
		goto done;
	rc = 0;
	doc = json_loadb(line.buf, line.len, 0, &jerr);
	jid = json_object_get(doc, "id");
	if (!json_is_object(doc) || !json_is_boolean(json_object_get(doc,
			"ok"))) {
		rip_buf_setlen(&line, line.len > 80 ? 80 : line.len);
		rc = go_dead(r, RIP_EFAIL, err, "answered out of protocol: "
			"'%s'", line.buf);
	} else if (!json_is_integer(jid) || json_integer_value(jid) != id) {
		rc = go_dead(r, RIP_EFAIL, err, "answered request %lld when "
			"%lld was asked: the session is out of step",
			json_is_integer(jid) ? (long long)json_integer_value(jid) :
			-1LL, (long long)id);
	} else {
		*ans = doc;
		doc = NULL;
		if (!json_is_true(json_object_get(*ans, "ok")))
			rc = answer_err(r, *ans, err);
	}
done:
	json_decref(doc);
	rip_buf_release(&line);
	return rc;
}

/* One request and its answer; *ans is set on an error answer too. */
static int call(json_t **ans, struct rip_remote *r, json_t *req,
	uint64_t wait_ms, struct rip_err *err)
{
	json_int_t id;
	int rc;

	*ans = NULL;
	if ((rc = check_alive(r, err)) < 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = send_req(&id, r, req, simple_ms(r->fleet), err)) < 0)
		return rc;
	return recv_ans(ans, r, id, wait_ms, err);
}

/* A well-formed answer lacked what it should hold: the agent's fault,
 * not the session's. */
static int bad_answer(struct rip_remote *r, const char *op, const char *why,
	struct rip_err *err)
{
	return rip_err_set(err, RIP_EFAIL, "%s: the answer to '%s' %s: the "
		"agent is not this ripcord's", r->label, op, why);
}

/* ---- the handshake ---- */

static int hello_refused(struct rip_remote *r, const json_t *ans,
	struct rip_err *err)
{
	json_t *p = json_object_get(ans, "protocol");
	const char *v = json_string_value(json_object_get(ans, "version"));
	const char *msg = json_string_value(json_object_get(ans, "error"));
	int code = json_is_true(json_object_get(ans, "ok")) ? RIP_EUSAGE :
		answer_code(ans);

	if (json_is_integer(p) && json_integer_value(p) != RIP_AGENT_PROTOCOL)
		return go_dead(r, RIP_EUSAGE, err, "the agent speaks protocol "
			"%lld (ripcord %s), this ripcord speaks protocol %d "
			"(ripcord %s): install the same ripcord on both",
			(long long)json_integer_value(p), v ? v : "unknown",
			RIP_AGENT_PROTOCOL, RIP_VERSION);
	return go_dead(r, code, err, "the agent refused the handshake: %s",
		msg ? msg : "no reason given");
}

/* Reads the hello answer, skipping what a chatty login shell printed
 * before it (lines not starting with '{'). */
static int recv_hello(json_t **ans, struct rip_remote *r, uint64_t wait_ms,
	struct rip_err *err)
{
	int64_t until = deadline(wait_ms);
	struct rip_buf line = RIP_BUF_INIT;
	json_error_t jerr;
	int rc;

	*ans = NULL;
	for (int skipped = 0;; skipped++) {
		rc = read_line(&line, &r->rd, until);
		if (rc != 1 || (line.len && line.buf[0] == '{') || skipped > 100)
			break;
		rip_debug("%s: before the handshake: %s", r->label, line.buf);
	}
	if (rc == -1)
		rc = timed_out(r, wait_ms, err);
	else if (rc == 0)
		rc = ended(r, err);
	else if (rc < 0)
		rc = go_dead(r, RIP_EUNREACH, err, "cannot read the handshake");
	else if (!(*ans = json_loadb(line.buf, line.len, 0, &jerr)) ||
		 !json_is_object(*ans)) {
		rip_buf_setlen(&line, line.len > 80 ? 80 : line.len);
		rc = go_dead(r, RIP_EFAIL, err, "answered the handshake out of "
			"protocol: '%s' (is [ssh] agent_path ripcord?)", line.buf);
	} else {
		rc = 0;
	}
	rip_buf_release(&line);
	return rc;
}

/* Starts ssh and does the handshake; on failure the session is dead. */
static int start(struct rip_remote *r, struct rip_err *err)
{
	struct rip_fleet *f = r->fleet;
	struct rip_strlist argv;
	char **v = NULL;
	json_t *ans = NULL, *req;
	struct rip_err aerr = { 0 };
	json_int_t id;
	double t0, t1, host_time;
	int rc;

	if ((rc = rip_remote_ssh_argv(&argv, f->cfg, f->control_dir, r->dest,
			r->port, &aerr)) < 0)
		return go_dead(r, rc, err, "%s", aerr.msg);
	v = rip_xcalloc(argv.n + 1, sizeof(*v));
	memcpy(v, argv.v, argv.n * sizeof(*v));
	r->t_spawn = now_ms();
	if ((rc = ssh_spawn(r, v, err)) < 0)
		goto done;
	req = json_pack("{s:s,s:i,s:s}", "op", "hello", "protocol",
		RIP_AGENT_PROTOCOL, "version", RIP_VERSION);
	t0 = wall_s();
	if ((rc = send_req(&id, r, req, simple_ms(f), err)) < 0 ||
	    (rc = recv_hello(&ans, r, 2 * f->connect_ms + 5000, err)) < 0)
		goto done;
	t1 = wall_s();
	if (!json_is_true(json_object_get(ans, "ok")) ||
	    json_integer_value(json_object_get(ans, "protocol")) !=
		RIP_AGENT_PROTOCOL) {
		rc = hello_refused(r, ans, err);
		goto done;
	}
	host_time = json_number_value(json_object_get(ans, "time"));
	r->info.protocol = RIP_AGENT_PROTOCOL;
	r->info.version = rip_xstrdup(json_string_value(json_object_get(ans,
		"version")) ? json_string_value(json_object_get(ans,
		"version")) : "unknown");
	r->info.hostname = rip_xstrdup(json_string_value(json_object_get(ans,
		"hostname")) ? json_string_value(json_object_get(ans,
		"hostname")) : "");
	r->info.clock_skew_s = json_is_number(json_object_get(ans, "time")) ?
		host_time - (t0 + t1) / 2 : 0;
	r->info.connect_s = (double)(now_ms() - r->t_spawn) / 1000;
	rip_debug("%s: agent %s on '%s', %.3f s to connect, clock skew "
		"%+.3f s", r->label, r->info.version, r->info.hostname,
		r->info.connect_s, r->info.clock_skew_s);
done:
	json_decref(ans);
	free(v);
	rip_strlist_release(&argv);
	return rc;
}

/* ---- the fleet ---- */

/* A ControlPath folder under /tmp for one too long for a socket, named
 * after it; it must be ours and 0700 when it exists. */
static int short_control_dir(char **out, const char *dir, struct rip_err *err)
{
	unsigned char h[RIP_SHA256_LEN];
	char hex[RIP_SHA256_HEX];
	struct stat st;
	char *p;

	rip_sha256(h, dir, strlen(dir));
	rip_hex(hex, h, 8);
	p = rip_xasprintf("/tmp/ripcord-ssh-%s", hex);
	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		rip_err_errno(err, RIP_EIO, "cannot create ssh's control "
			"folder '%s' (for '%s')", p, dir);
		free(p);
		return RIP_EIO;
	}
	if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		rip_err_set(err, RIP_ESECURITY, "ssh's control folder '%s' is "
			"not a folder of ours with mode 0700: remove it", p);
		free(p);
		return RIP_ESECURITY;
	}
	*out = p;
	return 0;
}

int rip_fleet_new(struct rip_fleet **out, const struct rip_config *cfg,
	const char *control_dir, struct rip_err *err)
{
	struct rip_fleet *f;
	int rc;

	*out = NULL;
	f = rip_xcalloc(1, sizeof(*f));
	f->cfg = cfg;
	f->connect_ms = connect_ms_of(cfg);
	pthread_mutex_init(&f->mu, NULL);
	if (control_dir) {
		if (strlen(control_dir) + CTL_EXTRA > sizeof(((struct
				sockaddr_un *)0)->sun_path))
			rc = short_control_dir(&f->control_dir, control_dir, err);
		else if ((rc = rip_mkdir_p(control_dir, 0700, err)) == 0)
			f->control_dir = rip_xstrdup(control_dir);
		if (rc < 0) {
			rip_fleet_free(f);
			return rc;
		}
	}
	*out = f;
	return 0;
}

size_t rip_fleet_parallel(const struct rip_fleet *f)
{
	return f->cfg->ssh.parallel ? (size_t)f->cfg->ssh.parallel : 1;
}

/* "target 'a' (host H)", "targets 'a', 'b' (host H)". */
static void relabel(struct rip_remote *r)
{
	struct rip_buf b = RIP_BUF_INIT;

	rip_buf_adds(&b, r->names.n > 1 ? "targets " : "target ");
	for (size_t i = 0; i < r->names.n && i < 3; i++)
		rip_buf_addf(&b, "%s'%s'", i ? ", " : "", r->names.v[i]);
	if (r->names.n > 3)
		rip_buf_addf(&b, " and %zu more", r->names.n - 3);
	rip_buf_addf(&b, " (host %s)", r->host);
	free(r->label);
	r->label = rip_buf_detach(&b, NULL);
}

/* The session of (dest, port), made (not started) when missing. */
static struct rip_remote *find_or_add(struct rip_fleet *f,
	const struct rip_target *t)
{
	struct rip_remote *r = NULL;

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->n && !r; i++)
		if (f->v[i]->port == t->ssh_port &&
		    !strcmp(f->v[i]->dest, t->ssh_dest))
			r = f->v[i];
	if (!r) {
		r = rip_xcalloc(1, sizeof(*r));
		r->fleet = f;
		pthread_mutex_init(&r->mu, NULL);
		r->dest = rip_xstrdup(t->ssh_dest);
		r->port = t->ssh_port;
		r->host = rip_xstrdup(t->host);
		r->in = r->out = r->errfd = -1;
		r->rd.fd = -1;
		r->next_id = 0;
		RIP_ALLOC_GROW(f->v, f->n + 1, f->alloc);
		f->v[f->n++] = r;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

int rip_fleet_session(struct rip_remote **out, struct rip_fleet *f,
	const struct rip_target *t, struct rip_err *err)
{
	struct rip_remote *r;
	int rc = 0;

	*out = NULL;
	if (!t->host || !t->ssh_dest)
		return rip_err_set(err, RIP_EUSAGE, "target '%s' has no host: "
			"it is on this machine", t->name);
	if (!dest_ok(t->ssh_dest))
		return rip_err_set(err, RIP_ECONFIG, "target '%s': ssh "
			"destination '%s' is empty, starts with '-' or holds a "
			"space: refused", t->name, t->ssh_dest);
	r = find_or_add(f, t);
	pthread_mutex_lock(&r->mu);
	if (!rip_strlist_has(&r->names, t->name)) {
		rip_strlist_push(&r->names, t->name);
		relabel(r);
	}
	if (r->dead_code < 0) {
		rc = rip_err_set(err, r->dead_code, "%s", r->dead_msg);
	} else if (!r->started) {
		r->started = true;
		rc = start(r, err);
	}
	pthread_mutex_unlock(&r->mu);
	if (rc == 0)
		*out = r;
	return rc;
}

void rip_remote_get_info(struct rip_remote_info *out,
	const struct rip_remote *r)
{
	*out = r->info;
}

/* Says bye and closes ssh's stdin; the exit is awaited by the caller. */
static void say_bye(struct rip_remote *r)
{
	static const char bye[] = "{\"op\":\"bye\",\"id\":0}\n";

	if (r->pid > 0 && r->in >= 0 && r->dead_code == 0)
		(void)write_stall(r->in, bye, sizeof(bye) - 1, 500);
	close_fd(&r->in);
}

void rip_fleet_free(struct rip_fleet *f)
{
	int64_t until = now_ms() + BYE_WAIT_MS;

	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		say_bye(f->v[i]);
	/* one wait for all: a fleet of dead hosts costs 2 s, not 2 s each */
	for (size_t i = 0; i < f->n; i++) {
		int64_t left = until - now_ms();

		ssh_reap(f->v[i], left > 0 ? left : 0);
	}
	for (size_t i = 0; i < f->n; i++) {
		struct rip_remote *r = f->v[i];

		close_fd(&r->out);
		close_fd(&r->errfd);
		pthread_mutex_destroy(&r->mu);
		free(r->dest);
		free(r->host);
		free(r->label);
		free(r->dead_msg);
		free((char *)r->info.version);
		free((char *)r->info.hostname);
		rip_strlist_release(&r->names);
		free(r);
	}
	for (size_t i = 0; i < f->nmemo; i++)
		free(f->memo[i].path);
	free(f->memo);
	free(f->v);
	free(f->control_dir);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* ---- the pool ---- */

struct each_pool {
	size_t n, next;
	rip_each_fn fn;
	void *data;
	pthread_mutex_t mu;
};

static void *each_worker(void *data)
{
	struct each_pool *p = data;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			return NULL;
		p->fn(p->data, i);
	}
}

void rip_fleet_each(size_t n, size_t at_once, rip_each_fn fn, void *data)
{
	struct each_pool pool = { .n = n, .fn = fn, .data = data };
	size_t want = at_once < n ? at_once : n, nt = 0;
	pthread_t *tid;

	if (want > MAX_THREADS)
		want = MAX_THREADS;
	if (want <= 1) {
		for (size_t i = 0; i < n; i++)
			fn(data, i);
		return;
	}
	tid = rip_xcalloc(want - 1, sizeof(*tid));
	pthread_mutex_init(&pool.mu, NULL);
	/* a thread that cannot start leaves its share to the others */
	while (nt + 1 < want && pthread_create(&tid[nt], NULL, each_worker,
			&pool) == 0)
		nt++;
	each_worker(&pool);
	for (size_t i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&pool.mu);
	free(tid);
}

/* ---- operations ---- */

/* Checks a root and a release id before they are sent. */
static int args_ok(struct rip_remote *r, const char *root,
	const char *release, struct rip_err *err)
{
	if (!root || root[0] != '/')
		return rip_err_set(err, RIP_EUSAGE, "%s: root '%s' is not an "
			"absolute path", r->label, root ? root : "");
	if (release && !rip_release_id_valid(release))
		return rip_err_set(err, RIP_EUSAGE, "%s: bad release id '%s'",
			r->label, release);
	return 0;
}

/* Fills the inspect struct from an answer; RIP_EFAIL when malformed. */
static int inspect_fill(struct rip_root_state *out,
	struct rip_remote_root *extra, struct rip_remote *r, json_t *ans,
	struct rip_err *err)
{
	json_t *ex = json_object_get(ans, "exists");
	json_t *cur = json_object_get(ans, "current");
	json_t *rels = json_object_get(ans, "releases");
	json_t *fb = json_object_get(ans, "free_bytes");
	json_t *hr = json_object_get(ans, "has_releases");
	size_t i;
	json_t *v;

	/* an agent from before "exists" refused a missing root */
	if (!(json_is_boolean(ex) || !ex) || !json_is_array(rels) ||
	    !(json_is_null(cur) || json_is_string(cur)) || !json_is_integer(fb))
		return bad_answer(r, "inspect", "lacks exists, current, "
			"releases or free_bytes", err);
	if (json_is_string(cur) && !rip_release_id_valid(json_string_value(cur)))
		return bad_answer(r, "inspect", "names a bad current release",
			err);
	json_array_foreach(rels, i, v) {
		if (!json_is_string(v) || !rip_release_id_valid(
				json_string_value(v))) {
			rip_root_state_release(out);
			return bad_answer(r, "inspect", "lists a bad release id",
				err);
		}
		rip_strlist_push(&out->extracted, json_string_value(v));
	}
	if (json_is_string(cur))
		out->current = rip_xstrdup(json_string_value(cur));
	/* protocol 1 does not say whether an empty releases/ exists */
	out->has_releases = json_is_boolean(hr) ? json_is_true(hr) :
		out->extracted.n > 0;
	if (extra) {
		extra->exists = !ex || json_is_true(ex);
		extra->free_bytes = json_integer_value(fb) > 0 ?
			(uint64_t)json_integer_value(fb) : 0;
	}
	return 0;
}

int rip_remote_inspect(struct rip_root_state *out,
	struct rip_remote_root *extra, struct rip_remote *r, const char *root,
	bool check, struct rip_err *err)
{
	json_t *ans = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (extra)
		memset(extra, 0, sizeof(*extra));
	if ((rc = args_ok(r, root, NULL, err)) < 0)
		return rc;
	pthread_mutex_lock(&r->mu);
	rc = call(&ans, r, json_pack("{s:s,s:s,s:b}", "op", "inspect", "root",
		root, "check", check), simple_ms(r->fleet), err);
	if (rc == 0)
		rc = inspect_fill(out, extra, r, ans, err);
	pthread_mutex_unlock(&r->mu);
	json_decref(ans);
	return rc;
}

/* A simple request whose answer is only checked for ok. */
static int simple(json_t **ans, struct rip_remote *r, json_t *req,
	uint64_t wait_ms, struct rip_err *err)
{
	int rc;

	pthread_mutex_lock(&r->mu);
	rc = call(ans, r, req, wait_ms, err);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int rip_remote_switch(struct rip_remote *r, const char *root,
	const char *release, struct rip_err *err)
{
	json_t *ans = NULL;
	const char *cur;
	int rc;

	if ((rc = args_ok(r, root, release, err)) < 0)
		return rc;
	rc = simple(&ans, r, json_pack("{s:s,s:s,s:s}", "op", "switch",
		"root", root, "release", release), simple_ms(r->fleet), err);
	cur = json_string_value(json_object_get(ans, "current"));
	if (rc == 0 && (!cur || strcmp(cur, release)))
		rc = bad_answer(r, "switch", "does not name the release", err);
	json_decref(ans);
	return rc;
}

int rip_remote_remove(bool *removed, struct rip_remote *r,
	const char *root, const char *release, struct rip_err *err)
{
	json_t *ans = NULL;
	int rc;

	*removed = false;
	if ((rc = args_ok(r, root, release, err)) < 0)
		return rc;
	rc = simple(&ans, r, json_pack("{s:s,s:s,s:s}", "op", "remove",
		"root", root, "release", release), simple_ms(r->fleet), err);
	if (rc == 0 && !json_is_boolean(json_object_get(ans, "removed")))
		rc = bad_answer(r, "remove", "lacks 'removed'", err);
	if (rc == 0)
		*removed = json_is_true(json_object_get(ans, "removed"));
	json_decref(ans);
	return rc;
}

int rip_remote_clean(size_t *removed, struct rip_remote *r,
	const char *root, const char *const *keep, size_t nkeep,
	struct rip_err *err)
{
	json_t *ans = NULL, *k = json_array(), *n;
	int rc;

	*removed = 0;
	if ((rc = args_ok(r, root, NULL, err)) < 0) {
		json_decref(k);
		return rc;
	}
	for (size_t i = 0; i < nkeep; i++)
		json_array_append_new(k, json_string(keep[i]));
	rc = simple(&ans, r, json_pack("{s:s,s:s,s:o}", "op", "clean", "root",
		root, "keep", k), simple_ms(r->fleet), err);
	n = json_object_get(ans, "removed");
	if (rc == 0 && !(json_is_integer(n) && json_integer_value(n) >= 0))
		rc = bad_answer(r, "clean", "lacks 'removed'", err);
	if (rc == 0)
		*removed = (size_t)json_integer_value(n);
	json_decref(ans);
	return rc;
}

/* Copies what an activate answer says of the hook into out. */
static void hook_fill(struct rip_hook_result *out, const json_t *ans)
{
	json_t *v;

	if (json_is_integer(v = json_object_get(ans, "exit_code")))
		out->exit_code = (int)json_integer_value(v);
	if (json_is_integer(v = json_object_get(ans, "signal")))
		out->signal = (int)json_integer_value(v);
	out->timed_out = json_is_true(json_object_get(ans, "timed_out"));
	if (json_is_number(v = json_object_get(ans, "seconds")))
		out->seconds = json_number_value(v);
	if (json_is_string(v = json_object_get(ans, "output")))
		rip_buf_add(&out->output, json_string_value(v),
			json_string_length(v));
}

int rip_remote_activate(struct rip_hook_result *out, struct rip_remote *r,
	const struct rip_target *t, const char *release, const char *previous,
	struct rip_err *err)
{
	json_t *ans = NULL;
	uint64_t wait;
	int rc;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	rip_buf_init(&out->output, 0);
	if ((rc = args_ok(r, t->root, release, err)) < 0)
		return rc;
	if (!t->activate)
		return rip_err_set(err, RIP_EUSAGE, "target '%s' has no activate "
			"hook", t->name);
	/* no hook timeout: only the keep-alives bound the wait */
	wait = t->hook_timeout_ms ? t->hook_timeout_ms + 3 *
		r->fleet->connect_ms : 0;
	rc = simple(&ans, r, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}",
		"op", "activate", "root", t->root, "release", release,
		"previous", previous ? previous : "", "target", t->name,
		"command", t->activate, "timeout_ms",
		(json_int_t)t->hook_timeout_ms), wait, err);
	if (ans)
		hook_fill(out, ans);
	json_decref(ans);
	return rc;
}

/* ---- staging ---- */

/* The SHA-256 of the artifact at path (open as fd), hex; hashed once
 * per fleet while the file is unchanged. */
static int file_digest(char hex[RIP_SHA256_HEX], struct rip_fleet *f,
	const char *path, int fd, const struct stat *st, struct rip_err *err)
{
	unsigned char h[RIP_SHA256_LEN];
	bool found = false;
	int rc;

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nmemo && !found; i++) {
		struct digest_memo *m = &f->memo[i];

		if (!strcmp(m->path, path) && m->dev == st->st_dev &&
		    m->ino == st->st_ino && m->size == st->st_size &&
		    m->mtime.tv_sec == st->st_mtim.tv_sec &&
		    m->mtime.tv_nsec == st->st_mtim.tv_nsec) {
			memcpy(hex, m->hex, RIP_SHA256_HEX);
			found = true;
		}
	}
	pthread_mutex_unlock(&f->mu);
	if (found)
		return 0;
	if ((rc = rip_sha256_fd(h, fd, path, err)) < 0)
		return rc;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return rip_err_errno(err, RIP_EIO, "cannot rewind '%s'", path);
	rip_hex(hex, h, RIP_SHA256_LEN);
	pthread_mutex_lock(&f->mu);
	RIP_ALLOC_GROW(f->memo, f->nmemo + 1, f->amemo);
	f->memo[f->nmemo++] = (struct digest_memo){ rip_xstrdup(path),
		st->st_dev, st->st_ino, st->st_size, st->st_mtim, { 0 } };
	memcpy(f->memo[f->nmemo - 1].hex, hex, RIP_SHA256_HEX);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

/* The put request of the artifact: size, digest and the .sig's text. */
static int put_req(json_t **out, const char *root, const char *release,
	const char *hex, uint64_t size, const char *path, struct rip_err *err)
{
	struct rip_buf sig = RIP_BUF_INIT;
	char *sig_path = rip_xasprintf("%s.sig", path);
	int rc = rip_read_file(&sig, sig_path, MAX_SIG, err);
	json_t *req = json_pack("{s:s,s:s,s:s,s:s,s:I}", "op", "put", "root",
		root, "release", release, "digest", hex, "size",
		(json_int_t)size);

	if (rc == RIP_ENOTFOUND) {
		rip_err_clear(err);
		rc = 0;
	} else if (rc == 0 && (!req || json_object_set_new(req, "sig",
			json_stringn(sig.buf, sig.len)) < 0)) {
		rc = rip_err_set(err, RIP_ESECURITY, "signature '%s' is not "
			"text", sig_path);
	}
	free(sig_path);
	rip_buf_release(&sig);
	if (rc < 0) {
		json_decref(req);
		return rc;
	}
	*out = req;
	return 0;
}

/* Streams size bytes of fd to ssh after the put request; a file that
 * shrank is padded (the agent then refuses its digest) and said. */
static int put_bytes(struct rip_remote *r, int fd, uint64_t size,
	const char *path, bool *short_read, struct rip_err *err)
{
	uint64_t stall = 3 * r->fleet->connect_ms;
	char *buf = rip_xmalloc(CHUNK);
	uint64_t sent = 0;
	int rc = 0;

	while (sent < size) {
		size_t want = size - sent < CHUNK ? (size_t)(size - sent) : CHUNK;
		ssize_t n = *short_read ? 0 : read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*short_read = true;
			memset(buf, 0, want);
			n = (ssize_t)want;
		}
		if ((rc = write_stall(r->in, buf, (size_t)n, stall)) < 0) {
			char *what = rip_xasprintf("'%s'", path);

			rc = write_failed(r, rc, stall, what, err);
			free(what);
			break;
		}
		sent += (uint64_t)n;
	}
	free(buf);
	return rc;
}

/* Sends the artifact (open as fd) to the host's cache. */
static int put(uint64_t *sent, struct rip_remote *r, const char *root,
	const char *release, const char *hex, int fd, uint64_t size,
	const char *path, struct rip_err *err)
{
	json_t *req = NULL, *ans = NULL, *b;
	bool short_read = false;
	json_int_t id;
	int rc;

	if (size == 0 || size > MAX_PUT)
		return rip_err_set(err, RIP_EUSAGE, "artifact '%s' is %s: it "
			"cannot be sent", path, size ? "over 64 GiB" : "empty");
	if ((rc = put_req(&req, root, release, hex, size, path, err)) < 0 ||
	    (rc = check_alive(r, err)) < 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = send_req(&id, r, req, simple_ms(r->fleet), err)) < 0 ||
	    (rc = put_bytes(r, fd, size, path, &short_read, err)) < 0)
		return rc;
	rc = recv_ans(&ans, r, id, 3 * r->fleet->connect_ms + PUT_SETTLE_MS,
		err);
	b = json_object_get(ans, "bytes");
	if (short_read)
		rc = rip_err_set(err, RIP_EINTEGRITY, "%s: artifact '%s' shrank "
			"while it was sent: build it again", r->label, path);
	else if (rc == 0 && (!json_is_true(json_object_get(ans, "stored")) ||
		 !json_is_integer(b) || (uint64_t)json_integer_value(b) != size))
		rc = bad_answer(r, "put", "does not say all was stored", err);
	if (rc == 0)
		*sent = size;
	json_decref(ans);
	return rc;
}

/* prepare, has, put when missing, extract: the stage, under r->mu. */
static int stage_locked(struct rip_remote_stage *out, struct rip_remote *r,
	const char *root, const char *release, const char *hex, int fd,
	uint64_t size, const char *path, struct rip_err *err)
{
	json_t *ans = NULL;
	int rc;

	if ((rc = call(&ans, r, json_pack("{s:s,s:s}", "op", "prepare",
			"root", root), simple_ms(r->fleet), err)) < 0)
		goto done;
	json_decref(ans);
	if ((rc = call(&ans, r, json_pack("{s:s,s:s,s:s,s:s}", "op", "has",
			"root", root, "release", release, "digest", hex),
			simple_ms(r->fleet), err)) < 0)
		goto done;
	if (!json_is_boolean(json_object_get(ans, "has"))) {
		rc = bad_answer(r, "has", "lacks 'has'", err);
		goto done;
	}
	out->cached = json_is_true(json_object_get(ans, "has"));
	json_decref(ans);
	ans = NULL;
	if (!out->cached && (rc = put(&out->sent, r, root, release, hex, fd,
			size, path, err)) < 0)
		goto done;
	if ((rc = call(&ans, r, json_pack("{s:s,s:s,s:s,s:s}", "op", "extract",
			"root", root, "release", release, "digest", hex),
			EXTRACT_MS, err)) < 0)
		goto done;
	if (!json_is_boolean(json_object_get(ans, "already")))
		rc = bad_answer(r, "extract", "lacks 'already'", err);
	else
		out->extracted = !json_is_true(json_object_get(ans, "already"));
done:
	json_decref(ans);
	return rc;
}

int rip_remote_stage(struct rip_remote_stage *out, struct rip_remote *r,
	const char *root, const char *release, const char *artifact_path,
	struct rip_err *err)
{
	char hex[RIP_SHA256_HEX];
	struct stat st;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = args_ok(r, root, release, err)) < 0)
		return rc;
	fd = open(artifact_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND :
			RIP_EIO, "cannot open artifact '%s'", artifact_path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = rip_err_set(err, RIP_EIO, "artifact '%s' is not a file",
			artifact_path);
		goto done;
	}
	if ((rc = file_digest(hex, r->fleet, artifact_path, fd, &st,
			err)) < 0)
		goto done;
	pthread_mutex_lock(&r->mu);
	rc = stage_locked(out, r, root, release, hex, fd, (uint64_t)st.st_size,
		artifact_path, err);
	pthread_mutex_unlock(&r->mu);
done:
	close(fd);
	return rc;
}
