/* SPDX-License-Identifier: MIT */
/*
 * hook.c: running a user's hook (rip_hook_run) the one safe way.
 *
 * The hook starts through posix_spawn from an argument vector (no shell, no
 * PATH search) in a process group of its own, with default signal
 * dispositions and an empty signal mask (ripcord may ignore SIGPIPE or
 * SIGINT; a hook must not inherit that), stdin on /dev/null, stdout and
 * stderr on one pipe, no other descriptor of ours, and an environment built
 * as a fresh array: ripcord's own environ is never modified.
 *
 * Invariants: every hook started is reaped before rip_hook_run returns; it
 * returns within timeout + 2 s (SIGTERM, then SIGKILL to the whole group;
 * the same from the moment a stoppable run's flag turns true)
 * + 1 s (processes that keep the pipe open after the hook exited are
 * killed) plus scheduling, whatever the hook does; at most 2 x 64 KiB of
 * output is held at a time and the last 64 KiB are kept.
 *
 * Tuned for hooks that run for seconds to minutes and print a little. There
 * is no SIGCHLD handler (process-wide signal state belongs to the program,
 * not to a library), so while the hook runs the parent wakes every 100 ms
 * to ask waitpid.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/hook.h"
#include "ripcord/log.h"
#include "banned.h"

extern char **environ;

#define HOOK_KEEP ((size_t)64 * 1024) /* output kept */
#define HOOK_CHUNK 16384              /* one read */
#define HOOK_READS 8                  /* reads before the timers are seen */
#define HOOK_TERM_GRACE_MS 2000       /* SIGTERM, then SIGKILL */
#define HOOK_EOF_GRACE_MS 1000        /* hook gone, pipe still open */
#define HOOK_TICK_MS 100              /* waitpid while the pipe is open */
#define HOOK_REAP_TICK_MS 10          /* waitpid after EOF */
#define HOOK_TAIL_LINES 3             /* output quoted in a timeout error */
#define HOOK_TAIL_BYTES 300

struct hook_run {
	const char *path;
	pid_t pid;          /* also the process group */
	int fd;             /* read end of the output pipe; -1 after EOF */
	bool exited;        /* reaped (or lost: see lost) */
	bool lost;          /* someone else reaped it (SIGCHLD ignored) */
	int status;
	bool timed_out, kill_sent, orphans_killed;
	const atomic_bool *stop;  /* the caller's: end it when true */
	bool stopped;       /* SIGTERM sent because *stop turned true */
	uint64_t deadline;  /* SIGTERM at, 0: no timeout */
	uint64_t kill_at;   /* SIGKILL at, 0: not armed */
	uint64_t eof_by;    /* hook reaped, pipe open: give up at */
	uint64_t dropped;   /* output bytes dropped from the front */
	struct rip_buf *out;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	return now_ns() / 1000000u;
}

/* The environment */

static bool env_sets(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(entry, name, n) && entry[n] == '=';
}

/* True when env names the variable entry ("NAME=value") sets. */
static bool env_overrides(const struct rip_hook_env *env, size_t nenv,
	const char *entry)
{
	for (size_t i = 0; i < nenv; i++)
		if (env_sets(entry, env[i].name))
			return true;
	return false;
}

/* True when a later env entry names the same variable as env[i]. */
static bool env_superseded(const struct rip_hook_env *env, size_t nenv,
	size_t i)
{
	for (size_t j = i + 1; j < nenv; j++)
		if (!strcmp(env[j].name, env[i].name))
			return true;
	return false;
}

static int env_check(const struct rip_hook_env *env, size_t nenv,
	struct rip_err *err)
{
	if (nenv && !env)
		return rip_err_set(err, RIP_EFAIL, "hook variables missing");
	for (size_t i = 0; i < nenv; i++)
		if (!env[i].name || !*env[i].name || strchr(env[i].name, '='))
			return rip_err_set(err, RIP_EFAIL,
				"invalid hook variable name '%s'",
				env[i].name ? env[i].name : "(null)");
	return 0;
}

/*
 * Returns environ minus the variables env names, plus those env sets (the
 * last of duplicates wins), as a fresh NULL-terminated array of copies.
 */
static char **env_build(const struct rip_hook_env *env, size_t nenv)
{
	size_t n = 0, k = 0;
	char **v;

	while (environ && environ[n])
		n++;
	if (nenv > SIZE_MAX / sizeof(*v) - n - 1)
		abort();
	v = rip_xcalloc(n + nenv + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		if (!env_overrides(env, nenv, environ[i]))
			v[k++] = rip_xstrdup(environ[i]);
	for (size_t i = 0; i < nenv; i++)
		if (env[i].value && !env_superseded(env, nenv, i))
			v[k++] = rip_xasprintf("%s=%s", env[i].name,
				env[i].value);
	v[k] = NULL;
	return v;
}

static void env_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Starting */

/* Moves fd above stderr, so the dup2 onto 1 and 2 can never hit it. */
static int fd_above_stdio(int fd)
{
	int nfd;

	if (fd > STDERR_FILENO)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(fd);
	return nfd;
}

static int pipe_open(int fds[2], struct rip_err *err)
{
	int e;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return rip_err_errno(err, RIP_EIO,
			"cannot create the output pipe of a hook");
	fds[0] = fd_above_stdio(fds[0]);
	fds[1] = fd_above_stdio(fds[1]);
	/* only our end: the hook's stdout stays blocking */
	if (fds[0] >= 0 && fds[1] >= 0 &&
		fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0)
		return 0;
	e = errno;
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	errno = e;
	return rip_err_errno(err, RIP_EIO,
		"cannot create the output pipe of a hook");
}

static int actions_setup(posix_spawn_file_actions_t *fa, int wfd,
	const char *cwd)
{
	int e = posix_spawn_file_actions_addopen(fa, STDIN_FILENO,
		"/dev/null", O_RDONLY, 0);

	if (!e)
		e = posix_spawn_file_actions_adddup2(fa, wfd, STDOUT_FILENO);
	if (!e)
		e = posix_spawn_file_actions_adddup2(fa, wfd, STDERR_FILENO);
	if (!e && cwd)
		e = posix_spawn_file_actions_addchdir_np(fa, cwd);
	return e;
}

int rip_spawn_defaults(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at)
{
	sigset_t all, none;
	int e = 0;

	sigfillset(&all);
	sigemptyset(&none);
#if defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 34)
	e = posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1);
#endif
#endif
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

/* Starts the hook; returns 0 or an errno value. */
static int hook_spawn(pid_t *pid, int wfd, const char *const *argv,
	const char *cwd, char **envp)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int e;

	e = posix_spawn_file_actions_init(&fa);
	if (e)
		return e;
	e = posix_spawnattr_init(&at);
	if (e) {
		posix_spawn_file_actions_destroy(&fa);
		return e;
	}
	e = actions_setup(&fa, wfd, cwd);
	if (!e)
		e = rip_spawn_defaults(&fa, &at);
	if (!e)
		e = posix_spawn(pid, argv[0], &fa, &at, (char *const *)argv,
			envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return e;
}

static int spawn_failed(const char *path, int e, struct rip_err *err)
{
	const char *hint = "";

	if (e == EACCES)
		hint = " (is it executable? chmod +x it)";
	else if (e == ENOEXEC)
		hint = " (does it start with a #! line?)";
	else if (e == ENOENT && access(path, F_OK) == 0)
		hint = " (its #! interpreter is missing)";
	return rip_err_set(err, RIP_EFAIL, "cannot run hook '%s': %s%s", path,
		strerror(e), hint);
}

/* Checked first: posix_spawn would report a bad cwd as the hook's ENOENT. */
static int cwd_check(const char *path, const char *cwd, struct rip_err *err)
{
	struct stat st;

	if (!cwd)
		return 0;
	if (stat(cwd, &st) < 0)
		return rip_err_errno(err, RIP_EFAIL,
			"cannot run hook '%s' in '%s'", path, cwd);
	if (!S_ISDIR(st.st_mode))
		return rip_err_set(err, RIP_EFAIL,
			"cannot run hook '%s' in '%s': not a directory", path,
			cwd);
	return 0;
}

/* Output */

static void out_trim(struct hook_run *r)
{
	struct rip_buf *b = r->out;
	size_t extra;

	if (b->len <= HOOK_KEEP)
		return;
	extra = b->len - HOOK_KEEP;
	memmove(b->buf, b->buf + extra, HOOK_KEEP);
	rip_buf_setlen(b, HOOK_KEEP);
	r->dropped += extra;
}

/* Trimming only past twice the limit keeps appends amortised O(1). */
static void out_add(struct hook_run *r, const char *data, size_t len)
{
	rip_buf_add(r->out, data, len);
	if (r->out->len >= 2 * HOOK_KEEP)
		out_trim(r);
}

static void out_finish(struct hook_run *r)
{
	struct rip_buf b = RIP_BUF_INIT;

	out_trim(r);
	if (!r->dropped)
		return;
	rip_buf_addf(&b, "[... %" PRIu64 " bytes dropped]\n", r->dropped);
	rip_buf_add(&b, r->out->buf, r->out->len);
	rip_buf_release(r->out);
	*r->out = b;
}

static void pipe_close(struct hook_run *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* Reads what the pipe holds, a bounded amount (a hook printing without end
 * must not starve the timers); closes it at EOF or on an error. */
static void pipe_drain(struct hook_run *r)
{
	char chunk[HOOK_CHUNK];

	for (int i = 0; i < HOOK_READS && r->fd >= 0;) {
		ssize_t n = read(r->fd, chunk, sizeof(chunk));

		if (n > 0) {
			out_add(r, chunk, (size_t)n);
			i++;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			pipe_close(r);
		}
	}
}

/* Waiting */

static void group_kill(const struct hook_run *r, int sig)
{
	/* ESRCH (the group is already gone) is the good case */
	kill(-r->pid, sig);
}

static void hook_reap(struct hook_run *r, bool block)
{
	pid_t p;

	if (r->exited)
		return;
	do
		p = waitpid(r->pid, &r->status, block ? 0 : WNOHANG);
	while (p < 0 && errno == EINTR);
	if (p == 0)
		return;
	r->exited = true;
	r->lost = p < 0;
	r->eof_by = now_ms() + HOOK_EOF_GRACE_MS;
}

static void timers_fire(struct hook_run *r, uint64_t now)
{
	if (!r->exited && r->stop && !r->stopped && !r->timed_out &&
	    atomic_load(r->stop)) {
		r->stopped = true;
		group_kill(r, SIGTERM);
		r->kill_at = now + HOOK_TERM_GRACE_MS;
	}
	if (!r->exited && r->deadline && !r->timed_out && !r->stopped &&
		now >= r->deadline) {
		r->timed_out = true;
		group_kill(r, SIGTERM);
		r->kill_at = now + HOOK_TERM_GRACE_MS;
	}
	if (!r->exited && r->kill_at && !r->kill_sent && now >= r->kill_at) {
		r->kill_sent = true;
		group_kill(r, SIGKILL);
	}
	if (r->exited && r->fd >= 0 && now >= r->eof_by) {
		/* what the hook left running still holds its output */
		group_kill(r, SIGKILL);
		pipe_drain(r);
		pipe_close(r);
		r->orphans_killed = true;
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static int poll_wait_ms(const struct hook_run *r, uint64_t now)
{
	uint64_t wake = UINT64_MAX;

	if (!r->exited) {
		wake = now + (r->fd >= 0 ? HOOK_TICK_MS : HOOK_REAP_TICK_MS);
		if (r->deadline && !r->timed_out)
			wake = min_u64(wake, r->deadline);
		if (r->kill_at && !r->kill_sent)
			wake = min_u64(wake, r->kill_at);
	} else if (r->fd >= 0) {
		wake = r->eof_by;
	}
	return wake <= now ? 0 : (int)min_u64(wake - now, INT_MAX);
}

/* Reads and waits until EOF and the hook is reaped. Returns -1 (errno set)
 * when poll fails; the hook may then still run. */
static int hook_wait(struct hook_run *r)
{
	for (;;) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		uint64_t now;
		int n;

		hook_reap(r, false);
		now = now_ms();
		timers_fire(r, now);
		if (r->exited && r->fd < 0)
			return 0;
		n = poll(&p, 1, poll_wait_ms(r, now));
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			pipe_drain(r);
	}
}

static int hook_abort(struct hook_run *r, struct rip_err *err)
{
	int rc = rip_err_errno(err, RIP_EIO, "waiting for hook '%s'", r->path);

	if (!r->exited)
		group_kill(r, SIGKILL);
	hook_reap(r, true);
	pipe_close(r);
	return rc;
}

/* Results */

static void fmt_ms(char *buf, size_t n, uint64_t ms)
{
	if (ms < 1000)
		snprintf(buf, n, "%" PRIu64 "ms", ms);
	else if (ms % 1000 == 0)
		snprintf(buf, n, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, n, "%.1fs", (double)ms / 1000.0);
}

/* The last few lines of out on one line, control bytes shown as '?'. */
static void out_tail(struct rip_buf *tail, const struct rip_buf *out)
{
	size_t end = out->len, start, lines = 0;

	while (end && isspace((unsigned char)out->buf[end - 1]))
		end--;
	for (start = end; start > 0 && end - start < HOOK_TAIL_BYTES; start--)
		if (out->buf[start - 1] == '\n' && ++lines == HOOK_TAIL_LINES)
			break;
	if (start > 0 && out->buf[start - 1] != '\n')
		rip_buf_adds(tail, "...");
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)out->buf[i];

		if (c == '\n')
			rip_buf_adds(tail, " | ");
		else
			rip_buf_addch(tail, c < 0x20 || c == 0x7f ? '?' :
				(char)c);
	}
}

static int timeout_error(const struct rip_hook_result *res,
	const struct hook_run *r, uint64_t timeout_ms, struct rip_err *err)
{
	struct rip_buf tail = RIP_BUF_INIT;
	char after[32], how[48];
	int rc;

	fmt_ms(after, sizeof(after), r->stopped ? (uint64_t)(res->seconds *
		1000.0) : timeout_ms);
	if (res->signal == SIGKILL || res->signal == SIGTERM)
		snprintf(how, sizeof(how), "killed with %s",
			res->signal == SIGKILL ? "SIGKILL" : "SIGTERM");
	else if (res->signal)
		snprintf(how, sizeof(how), "killed by signal %d", res->signal);
	else
		snprintf(how, sizeof(how), "exited %d on SIGTERM",
			res->exit_code);
	out_tail(&tail, r->out);
	rc = rip_err_set(err, r->stopped ? RIP_EINTR : RIP_EFAIL,
		"hook '%s' %s after %s (%s)%s%s", r->path, r->stopped ?
		"was stopped" : "timed out", after, how,
		tail.len ? "; last output: " : "", tail.buf);
	rip_buf_release(&tail);
	return rc;
}

static int hook_result(struct rip_hook_result *res, const struct hook_run *r,
	uint64_t timeout_ms, struct rip_err *err)
{
	res->timed_out = r->timed_out;
	res->stopped = r->stopped;
	if (r->orphans_killed)
		rip_warn("hook '%s' exited but left processes holding its "
			 "output; they were killed", r->path);
	if (r->lost)
		return rip_err_set(err, RIP_EFAIL,
			"hook '%s': its exit status was lost (is SIGCHLD "
			"ignored?)", r->path);
	if (WIFEXITED(r->status))
		res->exit_code = WEXITSTATUS(r->status);
	else if (WIFSIGNALED(r->status))
		res->signal = WTERMSIG(r->status);
	if (r->timed_out || r->stopped)
		return timeout_error(res, r, timeout_ms, err);
	return 0;
}

static void result_init(struct rip_hook_result *res)
{
	res->exit_code = -1;
	res->signal = 0;
	res->started = false;
	res->timed_out = false;
	res->stopped = false;
	res->pgid = 0;
	res->seconds = 0;
	rip_buf_init(&res->output, 0);
}

static int hook_start(struct hook_run *r, const char *const *argv,
	const char *cwd, const struct rip_hook_env *env, size_t nenv,
	struct rip_err *err)
{
	char **envp;
	int fds[2], rc, e;

	if (!argv || !argv[0] || !*argv[0])
		return rip_err_set(err, RIP_EFAIL, "cannot run hook: no path");
	if ((rc = env_check(env, nenv, err)) < 0)
		return rc;
	if ((rc = cwd_check(argv[0], cwd, err)) < 0)
		return rc;
	if ((rc = pipe_open(fds, err)) < 0)
		return rc;
	envp = env_build(env, nenv);
	e = hook_spawn(&r->pid, fds[1], argv, cwd, envp);
	close(fds[1]);
	env_free(envp);
	if (e) {
		close(fds[0]);
		return spawn_failed(argv[0], e, err);
	}
	r->fd = fds[0];
	return 0;
}

int rip_hook_run(struct rip_hook_result *out, const char *const *argv,
	const char *cwd, const struct rip_hook_env *env, size_t nenv,
	uint64_t timeout_ms, struct rip_err *err)
{
	return rip_hook_run_stoppable(out, argv, cwd, env, nenv, timeout_ms,
		NULL, err);
}

int rip_hook_run_stoppable(struct rip_hook_result *out,
	const char *const *argv, const char *cwd,
	const struct rip_hook_env *env, size_t nenv, uint64_t timeout_ms,
	const atomic_bool *stop, struct rip_err *err)
{
	struct hook_run r = { .fd = -1, .out = &out->output, .stop = stop };
	uint64_t start = now_ns(), now;
	int rc;

	result_init(out);
	if ((rc = hook_start(&r, argv, cwd, env, nenv, err)) < 0)
		goto done;
	out->started = true;
	out->pgid = r.pid;
	r.path = argv[0];
	now = now_ms();
	if (timeout_ms && timeout_ms < UINT64_MAX - now)
		r.deadline = now + timeout_ms;
	if (hook_wait(&r) < 0) {
		rc = hook_abort(&r, err);
		goto done;
	}
	out->seconds = (double)(now_ns() - start) / 1e9;
	rc = hook_result(out, &r, timeout_ms, err);
done:
	out_finish(&r);
	out->seconds = (double)(now_ns() - start) / 1e9;
	return rc;
}

void rip_hook_result_release(struct rip_hook_result *r)
{
	if (!r)
		return;
	rip_buf_release(&r->output);
}
