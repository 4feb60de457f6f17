/* SPDX-License-Identifier: MIT */
/*
 * store.c: the store folder layout and its lock.
 *
 * The lock is flock(2) on <store>/lock: released by the kernel on any exit,
 * SIGKILL included. Its holder (pid, user, host, command line, since when)
 * is recorded in state.db only after the lock is ours, so the loser of a
 * race can say who it lost to; a row left by a killed holder is simply
 * replaced by the next one.
 *
 * A holder that may be preempted (a deploy) says so in its row, and a
 * rollback leaves its request to stop in the same row: the request goes
 * with the holder, so one left for a process that died can never stop
 * the next operation. The holder reads it at its safe points.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "ripcord/remote.h"
#include "ripcord/store.h"
#include "state_internal.h"
#include "banned.h"

int rip_store_open(struct rip_store **out, const char *dir, bool create,
	struct rip_err *err)
{
	struct rip_store *s;
	char *db;
	int rc;

	*out = NULL;
	if (!create && !rip_is_dir(dir))
		return rip_err_set(err, RIP_ENOTFOUND, "no store at '%s' (cut a "
			"release first: 'ripcord cut')", dir);
	s = rip_xcalloc(1, sizeof(*s));
	s->dir = rip_xstrdup(dir);
	s->artifacts = rip_path_join(dir, "artifacts");
	if (create && (rc = rip_mkdir_p(s->artifacts, 0755, err)) < 0)
		goto fail;
	db = rip_path_join(dir, "state.db");
	rc = rip_state_open(&s->state, db, err);
	free(db);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	rip_store_free(s);
	return rc;
}

void rip_store_free(struct rip_store *s)
{
	if (!s)
		return;
	rip_fleet_free(s->fleet);
	rip_state_free(s->state);
	free(s->dir);
	free(s->artifacts);
	free(s);
}

int rip_store_fleet(struct rip_fleet **out, struct rip_store *s,
	const struct rip_config *cfg, struct rip_err *err)
{
	char *ctl;
	int rc = 0;

	if (!s->fleet) {
		ctl = rip_path_join(s->dir, "ssh");
		rc = rip_fleet_new(&s->fleet, cfg, ctl, err);
		free(ctl);
	}
	*out = s->fleet;
	return rc;
}

char *rip_store_artifact_path(const struct rip_store *s, const char *id)
{
	return rip_xasprintf("%s/%s.tar.zst", s->artifacts, id);
}

void rip_store_yank_words(char *out, size_t len,
	const struct rip_release_rec *r)
{
	char when[32] = "?";
	time_t at = (time_t)r->yanked_at;
	struct tm tm;

	if (gmtime_r(&at, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	snprintf(out, len, "yanked by %s on %s (%s)", r->yanked_by ?
		r->yanked_by : "unknown", when, r->yank_reason ? r->yank_reason :
		"no reason given");
}

int rip_store_refuse_yanked(struct rip_store *s, const char *id,
	const char *verb, struct rip_err *err)
{
	struct rip_release_rec rec;
	struct rip_err ignore = { 0 };
	char words[640];
	int rc = 0;

	if (rip_state_release_get(&rec, s->state, id, &ignore) < 0)
		return ignore.code == RIP_ENOTFOUND ? 0 :
			rip_err_set(err, ignore.code, "%s", ignore.msg);
	if (rec.yanked_at) {
		rip_store_yank_words(words, sizeof(words), &rec);
		rc = rip_err_set(err, RIP_EFAIL, "cannot %s '%s': it was %s: %s, "
			"or 'ripcord releases unyank %s'", verb, id, words,
			strstr(verb, "roll back") ? "pass --to another release" :
			"cut a fix", id);
	}
	rip_release_rec_release(&rec);
	return rc;
}

const char *rip_user_name(void)
{
	const char *u = getenv("SUDO_USER");
	struct passwd *pw;

	if (u && *u)
		return u;
	pw = getpwuid(getuid());
	if (pw)
		return pw->pw_name;
	u = getenv("USER");
	return u && *u ? u : "unknown";
}

static char *command_line;

void rip_lock_set_command(const char *line)
{
	free(command_line);
	command_line = line ? rip_xstrdup(line) : NULL;
}

void rip_lock_info_release(struct rip_lock_info *info)
{
	free(info->user);
	free(info->host);
	free(info->command);
	free(info->release);
	free(info->request);
	memset(info, 0, sizeof(*info));
}

/* This machine's host name, as the lock's rows record it. */
static const char *this_host(void)
{
	static _Thread_local char host[256];

	if (!host[0])
		gethostname(host, sizeof(host) - 1);
	return host;
}

/* Whether pid on host runs: a row on another host counts as running. */
static bool holder_alive(int64_t pid, const char *host)
{
	return !host || strcmp(host, this_host()) || pid == getpid() ||
		kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int rip_lock_info_read(struct rip_lock_info *out, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, store->state, "cannot read the lock "
			"holder", "SELECT pid, user, host, command, since, release, "
			"preemptible, request FROM lock_holder", err)) < 0)
		return rc;
	if ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		out->pid = rip_state_col_int64(s, 0);
		out->user = rip_state_col_text(s, 1);
		out->host = rip_state_col_text(s, 2);
		out->command = rip_state_col_text(s, 3);
		out->since = rip_state_col_int64(s, 4);
		out->release = rip_state_col_text(s, 5);
		out->preemptible = rip_state_col_int64(s, 6) != 0;
		out->request = rip_state_col_text(s, 7);
		out->alive = holder_alive(out->pid, out->host);
		rc = 0;
	}
	rip_state_stmt_free(s);
	return rc < 0 ? rc : 0;
}

void rip_lock_info_describe(char *out, size_t len,
	const struct rip_lock_info *h)
{
	time_t t = (time_t)h->since;
	char since[32] = "";
	struct tm tm;

	if (!h->pid) {
		snprintf(out, len, "holder not recorded yet");
		return;
	}
	if (gmtime_r(&t, &tm))
		strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(out, len, "pid %lld, user %s, host %s, '%s', since %s",
		(long long)h->pid, h->user ? h->user : "?", h->host ? h->host : "?",
		h->command ? h->command : "?", since);
}

/* "pid 12, user ana, host web, 'ripcord deploy v2', since 2026-...". */
static void describe_holder(char *out, size_t len, struct rip_store *store)
{
	struct rip_lock_info h;

	if (rip_lock_info_read(&h, store, NULL) < 0) {
		snprintf(out, len, "holder not recorded yet");
		return;
	}
	rip_lock_info_describe(out, len, &h);
	rip_lock_info_release(&h);
}

bool rip_lock_holder(struct rip_store *store, char *out, size_t len)
{
	struct rip_lock_info h;
	bool held;

	out[0] = '\0';
	if (rip_lock_info_read(&h, store, NULL) < 0)
		return false;
	/* a row left by a killed holder names a process that is gone; on
	 * another host we cannot tell, so it counts as held */
	held = h.pid && h.alive;
	if (held)
		rip_lock_info_describe(out, len, &h);
	rip_lock_info_release(&h);
	return held;
}

static void record_holder(struct rip_state *st, const char *what,
	const char *release, bool preemptible)
{
	struct rip_err err = { 0 };
	struct rip_state_stmt *s;
	/* the record only informs a loser: failing to write it is not worth
	 * failing the operation for */
	if (rip_state_prepare(&s, st, "cannot record the lock holder",
			"INSERT OR REPLACE INTO lock_holder (one, pid, user, host, "
			"command, since, release, preemptible, request) VALUES "
			"(1, ?, ?, ?, ?, ?, ?, ?, NULL)", &err) < 0) {
		rip_debug("%s", err.msg);
		return;
	}
	rip_state_bind_int64(s, 1, getpid());
	rip_state_bind_text(s, 2, rip_user_name());
	rip_state_bind_text(s, 3, this_host());
	rip_state_bind_text(s, 4, command_line ? command_line : what);
	rip_state_bind_int64(s, 5, time(NULL));
	rip_state_bind_text(s, 6, release);
	rip_state_bind_int64(s, 7, preemptible);
	if (rip_state_run(s, &err) < 0)
		rip_debug("%s", err.msg);
	rip_state_stmt_free(s);
}

static int lock_acquire(struct rip_lock *out, struct rip_store *store,
	const char *what, const char *release, bool preemptible,
	struct rip_err *err)
{
	char holder[768];
	int fd;

	out->fd = -1;
	out->state = NULL;
	out->path = rip_path_join(store->dir, "lock");
	fd = open(out->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rip_err_errno(err, RIP_EIO, "cannot open lock '%s'", out->path);
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			rip_err_errno(err, RIP_EIO, "cannot lock '%s'", out->path);
			close(fd);
			goto fail;
		}
		close(fd);
		describe_holder(holder, sizeof(holder), store);
		rip_err_set(err, RIP_EBUSY, "another ripcord operation holds "
			"'%s' (%s); wait for it to finish, or stop it",
			out->path, holder);
		goto fail;
	}
	record_holder(store->state, what, release, preemptible);
	out->fd = fd;
	out->state = store->state;
	return 0;
fail:
	free(out->path);
	out->path = NULL;
	return err ? err->code : RIP_EIO;
}

int rip_lock_acquire(struct rip_lock *out, struct rip_store *store,
	const char *what, struct rip_err *err)
{
	return lock_acquire(out, store, what, NULL, false, err);
}

int rip_lock_acquire_preemptible(struct rip_lock *out,
	struct rip_store *store, const char *what, const char *release,
	struct rip_err *err)
{
	return lock_acquire(out, store, what, release, true, err);
}

int rip_lock_acquire_wait(struct rip_lock *out, struct rip_store *store,
	const char *what, uint64_t wait_ms, struct rip_err *err)
{
	double until = rip_monotonic() + (double)wait_ms / 1e3;
	int rc;

	while ((rc = rip_lock_acquire(out, store, what, err)) == RIP_EBUSY &&
	       rip_monotonic() < until)
		usleep(100 * 1000);
	return rc;
}

void rip_lock_release(struct rip_lock *lock)
{
	if (lock->fd >= 0) {
		if (lock->state && rip_state_exec(lock->state,
				"DELETE FROM lock_holder", NULL) < 0)
			rip_debug("cannot clear the lock holder");
		/* leave the file: unlinking it would race with a new locker */
		close(lock->fd);
	}
	lock->fd = -1;
	lock->state = NULL;
	free(lock->path);
	lock->path = NULL;
}

int rip_lock_ask_stop(bool *asked, struct rip_store *store,
	const struct rip_lock_info *h, const char *by, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	*asked = false;
	if (!h->pid || !h->preemptible)
		return 0;
	if ((rc = rip_state_prepare(&s, store->state, "cannot ask the lock "
			"holder to stop", "UPDATE lock_holder SET request = ?, "
			"request_pid = ?, request_host = ? WHERE pid = ? AND host IS ? "
			"AND since = ? AND preemptible = 1", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, by);
	rip_state_bind_int64(s, 2, getpid());
	rip_state_bind_text(s, 3, this_host());
	rip_state_bind_int64(s, 4, h->pid);
	rip_state_bind_text(s, 5, h->host);
	rip_state_bind_int64(s, 6, h->since);
	if ((rc = rip_state_run(s, err)) == 0)
		*asked = rip_state_changes(store->state) > 0;
	rip_state_stmt_free(s);
	return rc;
}

/* Clears the request to stop of the holder (pid, since) that process
 * by_pid made; quiet, since it only tidies. */
static void clear_request(struct rip_store *store, int64_t pid,
	int64_t since, int64_t by_pid)
{
	struct rip_state_stmt *s;

	if (rip_state_prepare(&s, store->state, "cannot withdraw a request "
			"to stop", "UPDATE lock_holder SET request = NULL, "
			"request_pid = NULL, request_host = NULL WHERE pid = ? AND "
			"since = ? AND request_pid = ?", NULL) < 0)
		return;
	rip_state_bind_int64(s, 1, pid);
	rip_state_bind_int64(s, 2, since);
	rip_state_bind_int64(s, 3, by_pid);
	if (rip_state_run(s, NULL) < 0)
		rip_debug("a request to stop could not be withdrawn");
	rip_state_stmt_free(s);
}

void rip_lock_withdraw_stop(struct rip_store *store,
	const struct rip_lock_info *h)
{
	clear_request(store, h->pid, h->since, getpid());
}

char *rip_lock_stop_request(struct rip_store *store)
{
	struct rip_state_stmt *s;
	char *by = NULL, *asker_host = NULL;
	int64_t asker = 0, since = 0;

	if (rip_state_prepare(&s, store->state, "cannot read a request to stop",
			"SELECT request, request_pid, request_host, since FROM "
			"lock_holder WHERE pid = ? AND host = ? AND request IS NOT "
			"NULL", NULL) < 0)
		return NULL;
	rip_state_bind_int64(s, 1, getpid());
	rip_state_bind_text(s, 2, this_host());
	if (rip_state_step(s, NULL) == RIP_STATE_ROW) {
		by = rip_state_col_text(s, 0);
		asker = rip_state_col_int64(s, 1);
		asker_host = rip_state_col_text(s, 2);
		since = rip_state_col_int64(s, 3);
	}
	rip_state_stmt_free(s);
	/* the rollback that asked gave up or died: nobody rolls back
	 * behind this deploy, so stopping it would only leave it half done */
	if (by && asker > 0 && !holder_alive(asker, asker_host)) {
		rip_warn("%s asked this deploy to stop, but it has gone: the "
			"deploy goes on", by);
		clear_request(store, getpid(), since, asker);
		free(by);
		by = NULL;
	}
	free(asker_host);
	return by;
}
