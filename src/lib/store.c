/* SPDX-License-Identifier: MIT */
/*
 * store.c: the store folder layout and its lock.
 *
 * The lock is flock(2) on <store>/lock: released by the kernel on any exit,
 * SIGKILL included. The file also carries a line describing the holder,
 * written only after the lock is ours, so the loser of a race can say who
 * it lost to.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "ripcord/store.h"
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
	rip_state_free(s->state);
	free(s->dir);
	free(s->artifacts);
	free(s);
}

char *rip_store_artifact_path(const struct rip_store *s, const char *id)
{
	return rip_xasprintf("%s/%s.tar.zst", s->artifacts, id);
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

int rip_lock_acquire(struct rip_lock *out, const char *dir, const char *what,
	struct rip_err *err)
{
	char host[256] = "", holder[512] = "", line[1024];
	ssize_t n;
	int fd;

	out->fd = -1;
	out->path = rip_path_join(dir, "lock");
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
		n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		close(fd);
		rip_err_set(err, RIP_EBUSY, "another ripcord operation holds "
			"'%s' (%s); wait for it to finish, or stop it",
			out->path, holder[0] ? holder : "holder unknown");
		goto fail;
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(line, sizeof(line), "pid %ld, user %s, host %s, '%s', since "
		"%lld\n", (long)getpid(), rip_user_name(), host, what,
		(long long)time(NULL));
	/* the holder line only informs a loser; failing to write it is not
	 * worth failing the operation for */
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, strlen(line), 0) < 0)
		rip_debug("cannot record the lock holder in '%s'", out->path);
	out->fd = fd;
	return 0;
fail:
	free(out->path);
	out->path = NULL;
	return err ? err->code : RIP_EIO;
}

void rip_lock_release(struct rip_lock *lock)
{
	if (lock->fd >= 0) {
		/* leave the file: unlinking it would race with a new locker */
		if (ftruncate(lock->fd, 0) < 0)
			rip_debug("cannot clear '%s'", lock->path);
		close(lock->fd);
	}
	lock->fd = -1;
	free(lock->path);
	lock->path = NULL;
}
