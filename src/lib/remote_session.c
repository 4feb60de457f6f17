/* SPDX-License-Identifier: MIT */
/*
 * remote_session.c: one session of remote.h: the ssh process (spawned
 * with posix_spawn, its stderr in a memfd), the JSON lines to and from
 * the agent, and the handshake.
 *
 * Invariants: every wait is bounded (poll with a deadline on every read
 * and on every write that could block); a session that timed out, whose
 * ssh died or that answered out of protocol is dead: ssh is killed and
 * reaped at once, and the error is kept so every later call fails with
 * it without waiting again. ssh's stderr goes to a memfd, not a pipe: a
 * ControlPersist master that ssh forks inherits it and would hold a pipe
 * open forever; all but its last STDERR_TAIL bytes are freed (a punched
 * hole) as lines are read and once a second while one is awaited, so a
 * host that writes without end costs no memory here. Writes to ssh run with SIGPIPE blocked in the writing
 * thread (and a SIGPIPE they raised consumed), so a dead ssh is EPIPE,
 * not our death, whatever the caller's disposition of SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ripcord/log.h"
#include "agent_proto.h"
#include "remote_int.h"
#include "rip_version.h"
#include "banned.h"

extern char **environ;

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
	d = until - rip_remote_now_ms();
	if (d < 0)
		return 0;
	return d > INT_MAX ? INT_MAX : (int)d;
}

static int64_t deadline(uint64_t ms)
{
	return ms ? rip_remote_now_ms() + (int64_t)ms : -1;
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

int rip_remote_reap(struct rip_remote *r, int64_t ms)
{
	int64_t until = rip_remote_now_ms() + ms;
	int status = 0;

	if (r->pid <= 0)
		return 0;
	for (;;) {
		pid_t p = waitpid(r->pid, &status, WNOHANG);

		if (p == r->pid || (p < 0 && errno != EINTR))
			break;
		if (p == 0 && rip_remote_now_ms() >= until) {
			kill_ssh(r->pid);
			while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (p == 0) {
			struct timespec ts = { 0, 10000000L };

			nanosleep(&ts, NULL);
		}
	}
	r->pid = 0;
	return status;
}

void rip_remote_scrub(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < ' ' && s[i] != '\n' &&
		     s[i] != '\t') || s[i] == 0x7f)
			s[i] = '?';
}

/* A scrubbed copy of s (NULL: NULL), for a message. */
static char *scrubbed(const char *s)
{
	char *c;

	if (!s)
		return NULL;
	c = rip_xstrdup(s);
	rip_remote_scrub(c, strlen(c));
	return c;
}

/* The last lines ssh (or the agent) wrote on stderr, joined with "; ",
 * each cut at SAID_LINE bytes, control characters replaced; NULL when
 * it said nothing. */
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
		size_t at, len = strlen(lines[nl]);

		if (out.len)
			rip_buf_adds(&out, "; ");
		at = out.len;
		/* a line of no end must not crowd out the ones after it */
		rip_buf_add(&out, lines[nl], len > SAID_LINE ? SAID_LINE : len);
		rip_remote_scrub(out.buf + at, out.len - at);
		if (len > SAID_LINE)
			rip_buf_adds(&out, "...");
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
		rip_remote_reap(r, 0);
	}
	close_fd(&r->in);
	close_fd(&r->out);
	close_fd(&r->errfd);
	rip_buf_addf(&msg, "%s: ", rip_remote_label(r));
	va_start(ap, fmt);
	rip_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	free(r->dead_msg);
	r->dead_msg = rip_buf_detach(&msg, NULL);
	r->dead_code = code;
	r->dead_at = rip_remote_now_ms();
	return rip_err_set(err, code, "%s", r->dead_msg);
}

/* The error of a session that ended: ssh's exit and its last words. */
static int ended(struct rip_remote *r, struct rip_err *err)
{
	int status = rip_remote_reap(r, BYE_WAIT_MS);
	char *said = ssh_said(r);
	char what[64];
	int rc;

	if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "ssh was killed by signal %d",
			WTERMSIG(status));
	else
		snprintf(what, sizeof(what), "ssh exited %d",
			WEXITSTATUS(status));
	r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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

/* ssh's stdin, stdout and stderr, then what every child gets (hook.h) */
static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
	int in, int out, int errfd)
{
	int e = posix_spawn_file_actions_adddup2(fa, in, STDIN_FILENO);

	if (!e)
		e = posix_spawn_file_actions_adddup2(fa, out, STDOUT_FILENO);
	if (!e)
		e = posix_spawn_file_actions_adddup2(fa, errfd, STDERR_FILENO);
	if (!e)
		e = rip_spawn_defaults(fa, at);
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
	r->rd.errfd = &r->errfd;
	r->rd.kept_from = 0;
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

/* Frees all but the last STDERR_TAIL bytes of ssh's stderr file once
 * more than STDERR_SLACK piled up: a hole punched in it, so its size,
 * ssh's offset and the tail ssh_said reads stay as they are. */
static void trim_stderr(struct rip_remote_reader *rd)
{
	struct stat st;

	if (!rd->errfd || *rd->errfd < 0 || fstat(*rd->errfd, &st) < 0 ||
	    st.st_size - rd->kept_from <= STDERR_SLACK)
		return;
	if (fallocate(*rd->errfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			rd->kept_from, st.st_size - STDERR_TAIL - rd->kept_from) == 0)
		rd->kept_from = st.st_size - STDERR_TAIL;
}

/*
 * Reads the next line (without its '\n') into out before `until` (-1:
 * no deadline). 1: a line; 0: end of input; -1: the deadline passed;
 * -2: read(2) failed (errno); -3: longer than RIP_AGENT_MAX_LINE; -4:
 * *stop (NULL: never) turned true, looked at every STOP_SLICE_MS, and
 * nothing more had come.
 */
static int read_line(struct rip_buf *out, struct rip_remote_reader *rd,
	int64_t until, const atomic_bool *stop)
{
	int slice = stop ? STOP_SLICE_MS : READ_WAKE_MS;

	rip_buf_reset(out);
	for (;;) {
		struct pollfd p = { rd->fd, POLLIN, 0 };
		char *nl;
		size_t n;
		ssize_t got;
		int pr, wait;
		bool stopping;

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
		/* asked to stop: what has come is still read (an answer
		 * already here is the answer), then no more waiting */
		stopping = stop && atomic_load(stop);
		wait = left_ms(until);
		pr = poll(&p, 1, stopping ? 0 : wait < 0 || wait > slice ? slice :
			wait);
		trim_stderr(rd);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -2;
		if (pr == 0 && stopping)
			return -4;
		if (pr == 0 && wait >= 0 && wait <= slice)
			return -1;
		if (pr == 0)
			continue;
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

int rip_remote_alive(struct rip_remote *r, struct rip_err *err)
{
	if (r->dead_code < 0)
		return rip_err_set(err, r->dead_code, "%s", r->dead_msg);
	if (r->pid <= 0)
		return rip_err_set(err, RIP_EUNREACH, "%s: no session",
			rip_remote_label(r));
	return 0;
}

static int settle_hello(struct rip_remote *r, struct rip_err *err);

/* A write to ssh failed (rc of write_stall): the session is dead. */
static int write_failed(struct rip_remote *r, int rc, uint64_t stall_ms,
	const char *what, struct rip_err *err)
{
	/* an agent that refused the handshake exits: its answer says why */
	if (rc != -1 && r->hello_pending && settle_hello(r, err) < 0)
		return r->dead_code;
	if (rc == -1)
		return go_dead(r, RIP_EUNREACH, err, "no progress sending %s "
			"for %g s (the host, its network or its sshd hangs)", what,
			(double)stall_ms / 1000);
	if (errno == EPIPE)
		return ended(r, err);
	return go_dead(r, RIP_EUNREACH, err, "cannot send %s: %s", what,
		strerror(errno));
}

int rip_remote_send(json_int_t *id, struct rip_remote *r, json_t *req,
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
			"written as JSON (a name that is not UTF-8?)", rip_remote_label(r));
	len = strlen(s);
	s[len] = '\n';   /* json_dumps' NUL: not sent */
	rc = write_stall(r->in, s, len + 1, stall_ms);
	free(s);
	if (rc < 0)
		return write_failed(r, rc, stall_ms, "a request", err);
	return 0;
}

/* The code of an error answer: an enum rip_code, else RIP_EFAIL. Never
 * RIP_EUNREACH: a host that answered was reached, and an agent's error
 * must not pass for a host that is down (whose journal rows stay
 * pending). */
static int answer_code(const json_t *ans)
{
	json_t *c = json_object_get(ans, "code");
	json_int_t v = json_is_integer(c) ? json_integer_value(c) : 0;

	return v <= RIP_EFAIL && v > RIP_EUNREACH ? (int)v : RIP_EFAIL;
}

/* An error answer as our error: its code, its message after the label. */
static int answer_err(struct rip_remote *r, const json_t *ans,
	struct rip_err *err)
{
	char *msg = scrubbed(json_string_value(json_object_get(ans, "error")));
	int rc = rip_err_set(err, answer_code(ans), "%s: %s",
		rip_remote_label(r), msg ? msg : "the agent failed and said "
		"nothing");

	free(msg);
	return rc;
}

/* rip_remote_recv, that gives up once *stop (NULL: never) turns true:
 * RIP_EINTR, the session left as it is (its answer still to come). */
static int recv_impl(json_t **ans, struct rip_remote *r, json_int_t id,
	uint64_t wait_ms, const atomic_bool *stop, struct rip_err *err)
{
	struct rip_buf line = RIP_BUF_INIT;
	json_error_t jerr;
	json_t *doc = NULL, *jid;
	int rc;

	*ans = NULL;
	if ((rc = settle_hello(r, err)) < 0)
		return rc;
	rc = read_line(&line, &r->rd, deadline(wait_ms), stop);
	if (rc == -4)
		rc = rip_err_set(err, RIP_EINTR, "%s: stopped waiting for the "
			"answer (asked to stop)", rip_remote_label(r));
	else if (rc == -1)
		rc = timed_out(r, wait_ms, err);
	else if (rc == 0)
		rc = ended(r, err);
	else if (rc == -2)
		rc = go_dead(r, RIP_EUNREACH, err, "cannot read from ssh: %s",
			strerror(errno));
	else if (rc == -3)
		rc = go_dead(r, RIP_EUNREACH, err, "answered out of protocol: "
			"an answer longer than %zu bytes; the session is closed",
			RIP_AGENT_MAX_LINE);
	if (rc < 0)
		goto done;
	rc = 0;
	doc = json_loadb(line.buf, line.len, 0, &jerr);
	jid = json_object_get(doc, "id");
	if (!json_is_object(doc) || !json_is_boolean(json_object_get(doc,
			"ok"))) {
		rip_buf_setlen(&line, line.len > 80 ? 80 : line.len);
		rip_remote_scrub(line.buf, line.len);
		rc = go_dead(r, RIP_EUNREACH, err, "answered out of protocol: "
			"'%s'; the session is closed", line.buf);
	} else if (!json_is_integer(jid) || json_integer_value(jid) != id) {
		rc = go_dead(r, RIP_EUNREACH, err, "answered out of protocol: "
			"request %lld answered when %lld was asked; the session "
			"is closed",
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

int rip_remote_recv(json_t **ans, struct rip_remote *r, json_int_t id,
	uint64_t wait_ms, struct rip_err *err)
{
	return recv_impl(ans, r, id, wait_ms, NULL, err);
}

int rip_remote_recv_stoppable(json_t **ans, struct rip_remote *r,
	json_int_t id, uint64_t wait_ms, const atomic_bool *stop,
	struct rip_err *err)
{
	return recv_impl(ans, r, id, wait_ms, stop, err);
}

int rip_remote_call(json_t **ans, struct rip_remote *r, json_t *req,
	uint64_t wait_ms, struct rip_err *err)
{
	json_int_t id;
	int rc;

	*ans = NULL;
	if ((rc = rip_remote_alive(r, err)) < 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = rip_remote_send(&id, r, req, rip_remote_simple_ms(r->fleet),
			err)) < 0)
		return rc;
	return rip_remote_recv(ans, r, id, wait_ms, err);
}

int rip_remote_bad_answer(struct rip_remote *r, const char *op, const char *why,
	const json_t *ans, struct rip_err *err)
{
	char *said = ans ? json_dumps(ans, JSON_COMPACT | JSON_ENSURE_ASCII |
		JSON_PRESERVE_ORDER) : NULL;
	size_t n = said ? strlen(said) : 0;
	int rc;

	if (n > SAID_LINE)
		memcpy(said + SAID_LINE - 3, "...", 4);
	if (said)
		rip_remote_scrub(said, strlen(said));
	rc = go_dead(r, RIP_EUNREACH, err, "answered out of protocol: the "
		"answer to '%s' %s%s%s%s; the session is closed", op, why,
		said ? " (it said: " : "", said ? said : "", said ? ")" : "");
	free(said);
	return rc;
}

/* ---- the handshake ---- */

static int hello_refused(struct rip_remote *r, const json_t *ans,
	struct rip_err *err)
{
	json_t *p = json_object_get(ans, "protocol");
	char *v = scrubbed(json_string_value(json_object_get(ans, "version")));
	char *msg = scrubbed(json_string_value(json_object_get(ans, "error")));
	int code = json_is_true(json_object_get(ans, "ok")) ? RIP_EUSAGE :
		answer_code(ans);
	int rc;

	/* who answered, for targets --install: an agent that refused is
	 * still one (of this protocol, unless it says another) */
	r->info.protocol = json_is_integer(p) ? (int)json_integer_value(p) :
		RIP_AGENT_PROTOCOL;
	free((char *)r->info.version);
	r->info.version = rip_xstrdup(v ? v : "unknown");
	if (json_is_integer(p) && json_integer_value(p) != RIP_AGENT_PROTOCOL) {
		rc = go_dead(r, RIP_EUSAGE, err, "the agent speaks protocol "
			"%lld (ripcord %s), this ripcord speaks protocol %d "
			"(ripcord %s): install the same ripcord on both",
			(long long)json_integer_value(p), v ? v : "unknown",
			RIP_AGENT_PROTOCOL, RIP_VERSION);
	} else {
		rc = go_dead(r, code, err, "the agent refused the handshake: %s",
			msg ? msg : "no reason given");
	}
	free(v);
	free(msg);
	return rc;
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
		rc = read_line(&line, &r->rd, until, NULL);
		if (rc != 1 || (line.len && line.buf[0] == '{') || skipped > 100)
			break;
		rip_remote_scrub(line.buf, line.len);
		rip_debug("%s: before the handshake: %s", rip_remote_label(r),
			line.buf);
	}
	if (rc == -1)
		rc = timed_out(r, wait_ms, err);
	else if (rc == 0)
		rc = ended(r, err);
	else if (rc == -3)
		rc = go_dead(r, RIP_EUNREACH, err, "answered the handshake with a "
			"line longer than %zu bytes (is [ssh] agent_path ripcord?)",
			RIP_AGENT_MAX_LINE);
	else if (rc < 0)
		rc = go_dead(r, RIP_EUNREACH, err, "cannot read the handshake: %s",
			strerror(errno));
	else if (!(*ans = json_loadb(line.buf, line.len, 0, &jerr)) ||
		 !json_is_object(*ans)) {
		rip_buf_setlen(&line, line.len > 80 ? 80 : line.len);
		rip_remote_scrub(line.buf, line.len);
		rc = go_dead(r, RIP_EFAIL, err, "answered the handshake out of "
			"protocol: '%s' (is [ssh] agent_path ripcord?)", line.buf);
	} else {
		rc = 0;
	}
	rip_buf_release(&line);
	return rc;
}

/*
 * The install's second phase: the host said its upload passed every
 * check ("ripcord install: ready", RIP_INSTALL_READY) and waits for
 * "commit" before it renames the upload over agent_path. Until then
 * nothing there changed, and a session that ends or times out leaves it
 * so (the script aborts at the end of its input); once sent, the install
 * is r->install_committed.
 */
static int commit_install(struct rip_remote *r, struct rip_err *err)
{
	static const char commit[] = "commit\n";
	uint64_t wait = 3 * r->fleet->connect_ms + INSTALL_CHECK_MS;
	struct rip_buf line = RIP_BUF_INIT;
	int rc = read_line(&line, &r->rd, deadline(wait), NULL);

	if (rc == -1)
		rc = timed_out(r, wait, err);
	else if (rc == 0)
		rc = ended(r, err);
	else if (rc < 0 || strcmp(line.buf, RIP_INSTALL_READY))
		rc = go_dead(r, RIP_EUNREACH, err, "the install did not say it was "
			"ready: nothing was installed");
	else if ((rc = write_stall(r->in, commit, sizeof(commit) - 1,
			3 * r->fleet->connect_ms)) < 0)
		rc = write_failed(r, rc, 3 * r->fleet->connect_ms, "the install's "
			"commit", err);
	else
		r->install_committed = true;
	rip_buf_release(&line);
	return rc;
}

/* Sends the fleet's install file, which the install script on the host
 * reads before it starts the agent (rip_remote_install_cmd). */
static int send_install(struct rip_remote *r, struct rip_err *err)
{
	const struct rip_fleet *f = r->fleet;
	char *what = rip_xasprintf("'%s' to install", f->install_path);
	bool short_read = false;
	int fd = open(f->install_path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		rc = go_dead(r, RIP_EIO, err, "cannot open '%s': %s",
			f->install_path, strerror(errno));
	else
		rc = rip_remote_send_file(r, fd, f->install_size, what,
			&short_read, err);
	if (rc == 0 && short_read)
		rc = go_dead(r, RIP_EINTEGRITY, err, "'%s' shrank while it was "
			"sent: nothing was installed", f->install_path);
	if (fd >= 0)
		close(fd);
	free(what);
	return rc < 0 ? rc : commit_install(r, err);
}

int rip_remote_start(struct rip_remote *r, struct rip_err *err)
{
	struct rip_fleet *f = r->fleet;
	struct rip_strlist argv;
	char **v = NULL;
	json_t *req;
	struct rip_err aerr = { 0 };
	json_int_t id;
	int rc;

	if (f->install_path) {
		char *cmd = rip_remote_install_cmd(f);

		rc = rip_remote_ssh_argv_run(&argv, f->cfg, f->control_dir,
			r->dest, r->port, cmd, &aerr);
		free(cmd);
	} else {
		rc = rip_remote_ssh_argv(&argv, f->cfg, f->control_dir, r->dest,
			r->port, &aerr);
	}
	if (rc < 0)
		return go_dead(r, rc, err, "%s", aerr.msg);
	v = rip_xcalloc(argv.n + 1, sizeof(*v));
	memcpy(v, argv.v, argv.n * sizeof(*v));
	r->t_spawn = rip_remote_now_ms();
	if ((rc = ssh_spawn(r, v, err)) < 0 ||
	    (f->install_path && (rc = send_install(r, err)) < 0))
		goto done;
	req = json_pack("{s:s,s:i,s:s}", "op", "hello", "protocol",
		RIP_AGENT_PROTOCOL, "version", RIP_VERSION);
	if ((rc = rip_remote_send(&id, r, req, rip_remote_simple_ms(f),
			err)) < 0)
		goto done;
	r->hello_pending = true;
done:
	free(v);
	rip_strlist_release(&argv);
	return rc;
}

/* Reads hello's answer, sent by rip_remote_start, when it is pending:
 * the agent's protocol, version, host name and clock. */
static int settle_hello(struct rip_remote *r, struct rip_err *err)
{
	json_t *ans = NULL;
	double t1, host_time;
	int rc;

	if (!r->hello_pending)
		return 0;
	r->hello_pending = false;
	if ((rc = recv_hello(&ans, r, 2 * r->fleet->connect_ms + 5000,
			err)) < 0)
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
	r->info.version = scrubbed(json_string_value(json_object_get(ans,
		"version")) ? json_string_value(json_object_get(ans,
		"version")) : "unknown");
	r->info.hostname = scrubbed(json_string_value(json_object_get(ans,
		"hostname")) ? json_string_value(json_object_get(ans,
		"hostname")) : "");
	/* the agent read hello once ssh had connected and it had started,
	 * so it answered near t1, one network trip before: the midpoint of
	 * t0 and t1 was off by half the connection's making (2 s for a
	 * host that took 4 s to connect) */
	r->info.clock_skew_s = json_is_number(json_object_get(ans, "time")) ?
		host_time - t1 : 0;
	r->info.connect_s = (double)(rip_remote_now_ms() - r->t_spawn) / 1000;
	rip_debug("%s: agent %s on '%s', %.3f s to connect, clock skew "
		"%+.3f s", rip_remote_label(r), r->info.version, r->info.hostname,
		r->info.connect_s, r->info.clock_skew_s);
done:
	json_decref(ans);
	return rc;
}

int rip_remote_handshake(struct rip_remote *r, struct rip_err *err)
{
	int rc;

	pthread_mutex_lock(&r->mu);
	if ((rc = rip_remote_alive(r, err)) == 0)
		rc = settle_hello(r, err);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

void rip_remote_bye(struct rip_remote *r)
{
	static const char bye[] = "{\"op\":\"bye\",\"id\":0}\n";

	if (r->pid > 0 && r->in >= 0 && r->dead_code == 0)
		(void)write_stall(r->in, bye, sizeof(bye) - 1, 500);
	close_fd(&r->in);
}


int rip_remote_send_raw(struct rip_remote *r, const void *data, size_t len,
	uint64_t stall_ms, const char *what, struct rip_err *err)
{
	int rc = write_stall(r->in, data, len, stall_ms);

	return rc < 0 ? write_failed(r, rc, stall_ms, what, err) : 0;
}

void rip_remote_reset(struct rip_remote *r)
{
	if (r->pid > 0) {
		kill_ssh(r->pid);
		rip_remote_reap(r, 0);
	}
	rip_remote_close(r);
	r->rd.fd = -1;
	r->rd.start = r->rd.end = 0;
	r->next_id = 0;
	r->hello_pending = false;
	r->exit_code = -1;
	r->install_committed = false;
	r->dead_code = 0;
	free(r->dead_msg);
	r->dead_msg = NULL;
	free((char *)r->info.version);
	free((char *)r->info.hostname);
	memset(&r->info, 0, sizeof(r->info));
	r->started = false;
}

void rip_remote_abandon(struct rip_remote *r)
{
	rip_debug("%s: ending the session (asked to stop)", rip_remote_label(r));
	/* reset kills ssh, reaps it and closes our ends: on the host, sshd
	 * closes the agent's stdin and stdout, and the agent ends its hook */
	rip_remote_reset(r);
}

void rip_remote_close(struct rip_remote *r)
{
	close_fd(&r->in);
	close_fd(&r->out);
	close_fd(&r->errfd);
}
