/* SPDX-License-Identifier: MIT */
/*
 * fsutil.c: the atomic-write path and small file-system helpers.
 *
 * Invariant: every file a user or a later run relies on is written through
 * struct rip_atomic: a temporary file "<dir>/.<name>.tmp-XXXXXX" in the same
 * folder, written, fsynced, renamed over the real name, then the folder is
 * fsynced. A crash leaves either the old file or the new one, plus at most a
 * dot-file that no reader looks at.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/fsutil.h"
#include "banned.h"

int rip_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

char *rip_path_join(const char *dir, const char *name)
{
	size_t dl;

	if (name[0] == '/' || !dir || !dir[0])
		return rip_xstrdup(name);
	dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	return rip_xasprintf("%.*s/%s", (int)dl, dir, name);
}

char *rip_path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return rip_xstrdup(".");
	if (slash == path)
		return rip_xstrdup("/");
	return rip_xstrndup(path, (size_t)(slash - path));
}

char *rip_path_absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return rip_xstrdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return rip_xstrdup(path);
	return rip_path_join(cwd, path);
}

bool rip_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool rip_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Below this depth a removal holds one folder open per level; deeper,
 * empty_deep holds at most three descriptors however deep it goes. */
#define REMOVE_FD_DEPTH 32
/* How often a folder found not empty again is swept again. */
#define REMOVE_RETRIES 4

static int remove_at(int dirfd, const char *name, unsigned depth);

/*
 * One pass over the folder fd: every entry that is not a folder removed
 * (a link as a link), and the name of the first subfolder met into *sub
 * (NULL: none is left). -1 with errno on failure.
 */
static int sweep(int fd, char **sub)
{
	int dup_fd = dup(fd), saved, rc = 0;
	DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
	struct dirent *e;

	*sub = NULL;
	if (!d) {
		saved = errno;
		if (dup_fd >= 0)
			close(dup_fd);
		errno = saved;
		return -1;
	}
	rewinddir(d);   /* the dup shares the last pass's offset */
	while (rc == 0 && !*sub && (e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = errno == ENOENT ? 0 : -1;
			continue;
		}
		if (!S_ISDIR(st.st_mode) && (unlinkat(fd, e->d_name, 0) == 0 ||
				errno == ENOENT))
			continue;
		if (S_ISDIR(st.st_mode) || errno == EISDIR)
			*sub = rip_xstrdup(e->d_name);
		else
			rc = -1;
	}
	saved = errno;
	closedir(d);
	errno = saved;
	return rc;
}

/* A folder empty_deep went down into: its name below its parent, and
 * who that parent is, to come back up through ".." and know it. */
struct level {
	char *name;
	dev_t dev;
	ino_t ino;
};

/*
 * Empties the folder fd (taken over, closed) holding at most three
 * descriptors however deep it goes: a subfolder is entered by name below
 * its parent (O_NOFOLLOW) and the parent closed; once it is empty, the
 * walk comes back up through "..", which must be the parent it left (a
 * folder moved away meanwhile stops the removal, EAGAIN), and removes
 * it. -1 with errno on failure.
 */
static int empty_deep(int fd)
{
	struct level *up = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0, retries = 0, saved;

	for (;;) {
		char *sub;
		struct stat st;
		int next;

		if ((rc = sweep(fd, &sub)) < 0)
			break;
		if (sub) {
			next = fstat(fd, &st) < 0 ? -1 : openat(fd, sub, O_RDONLY |
				O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0) {
				free(sub);
				if ((errno == ELOOP || errno == ENOTDIR ||
				     errno == ENOENT) && ++retries <= REMOVE_RETRIES)
					continue;   /* no longer a folder: sweep again */
				rc = -1;
				break;
			}
			RIP_ALLOC_GROW(up, n + 1, alloc);
			up[n++] = (struct level){ sub, st.st_dev, st.st_ino };
			close(fd);
			fd = next;
			continue;
		}
		if (!n)
			break;      /* the folder we were given is empty */
		next = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0 || fstat(next, &st) < 0 ||
		    st.st_dev != up[n - 1].dev || st.st_ino != up[n - 1].ino) {
			saved = next < 0 ? errno : EAGAIN;
			if (next >= 0)
				close(next);
			errno = saved;
			rc = -1;
			break;
		}
		close(fd);
		fd = next;
		if (unlinkat(fd, up[n - 1].name, AT_REMOVEDIR) < 0 &&
		    errno != ENOENT) {
			if (errno != ENOTEMPTY || ++retries > REMOVE_RETRIES) {
				rc = -1;
				break;
			}
			/* filled again meanwhile: its level is left, and the
			 * parent's sweep finds it and goes down into it again */
		}
		free(up[--n].name);
	}
	saved = errno;
	close(fd);
	while (n)
		free(up[--n].name);
	free(up);
	errno = saved;
	return rc;
}

/* Empties the folder fd (taken over, closed), depth levels below where
 * the removal began; -1 with errno on failure. */
static int remove_entries(int fd, unsigned depth)
{
	DIR *d;
	struct dirent *e;
	int rc = 0, saved = 0;

	if (depth >= REMOVE_FD_DEPTH)
		return empty_deep(fd);
	if (!(d = fdopendir(fd))) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	while (rc == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = remove_at(dirfd(d), e->d_name, depth + 1);
	saved = errno;
	closedir(d);
	errno = saved;
	return rc;
}

/*
 * Every folder is entered through openat(O_NOFOLLOW | O_DIRECTORY) below
 * the fd of its parent, so a folder swapped for a link after it was
 * looked at is never gone through: the name is looked at again (a few
 * times at most, then the removal fails) and a link is removed as a link.
 * Past REMOVE_FD_DEPTH levels the walk holds a bounded number of
 * descriptors (empty_deep), so no depth runs out of them.
 */
static int remove_at(int dirfd, const char *name, unsigned depth)
{
	for (int tries = 0; tries < REMOVE_RETRIES; tries++) {
		struct stat st;
		int fd;

		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? 0 : -1;
		if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
				return 0;
			if (errno != EISDIR)
				return -1;
			continue;   /* a folder now: look again */
		}
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
		if (fd < 0 && (errno == ELOOP || errno == ENOTDIR ||
			       errno == ENOENT))
			continue;   /* no longer a folder: look again */
		if (fd < 0 || remove_entries(fd, depth) < 0)
			return -1;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != ENOTDIR)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}

int rip_remove_tree_at(int dirfd, const char *name)
{
	return remove_at(dirfd, name, 0);
}

int rip_remove_tree(const char *path)
{
	char *copy = rip_xstrdup(path);
	size_t len = strlen(copy);
	char *slash, *parent;
	const char *name;
	int fd, rc = -1, saved;

	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	slash = strrchr(copy, '/');
	name = slash ? slash + 1 : copy;
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
		free(copy);
		errno = EINVAL;
		return -1;
	}
	parent = slash ? rip_xstrndup(copy, slash == copy ? 1 :
		(size_t)(slash - copy)) : rip_xstrdup(".");
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		rc = 0;
	else if (fd >= 0)
		rc = rip_remove_tree_at(fd, name);
	saved = errno;
	if (fd >= 0)
		close(fd);
	free(parent);
	free(copy);
	errno = saved;
	return rc;
}

int rip_open_dir_at(int *out, int dirfd, const char *name, const char *path,
	struct rip_err *err)
{
	struct stat st;

	*out = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (*out >= 0)
		return 0;
	if (errno == ENOENT)
		return rip_err_errno(err, RIP_ENOTFOUND, "cannot open '%s'", path);
	if (errno != ELOOP && errno != ENOTDIR)
		return rip_err_errno(err, RIP_EIO, "cannot open '%s'", path);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISLNK(st.st_mode))
		return rip_err_set(err, RIP_EEXISTS, "'%s' is not a folder",
			path);
	return rip_err_set(err, RIP_ESECURITY, "'%s' is a symbolic link: "
		"ripcord follows no link inside a root (replace it with the "
		"folder it leads to)", path);
}

/* Fills the trailing XXXXXX of name with random letters and digits. */
static void fill_random(char *name)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t len = strlen(name);
	unsigned char r[6];
	struct timespec ts;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)((unsigned long)ts.tv_nsec >>
				(i * 5)) ^ (unsigned char)getpid();
	}
	for (size_t i = 0; i < 6 && len >= 6; i++)
		name[len - 6 + i] = abc[r[i] % (sizeof(abc) - 1)];
}

int rip_mktemp_at(char *name, int dirfd, bool folder, mode_t mode)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd;

		fill_random(name);
		if (folder) {
			if (mkdirat(dirfd, name, mode) == 0)
				return 0;
		} else {
			fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL |
				O_NOFOLLOW | O_CLOEXEC, mode);
			if (fd >= 0)
				return fd;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int rip_fsync_dir(const char *dir, struct rip_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return rip_err_errno(err, RIP_EIO, "cannot open folder '%s'", dir);
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = rip_err_errno(err, RIP_EIO, "cannot fsync folder '%s'", dir);
	close(fd);
	return rc;
}

int rip_atomic_open(struct rip_atomic *a, const char *path, mode_t mode,
	struct rip_err *err)
{
	char *dir = rip_path_dirname(path);
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	a->path = rip_xstrdup(path);
	a->tmp = rip_xasprintf("%s/.%s.tmp-XXXXXX", dir, base);
	free(dir);
	a->fd = mkostemp(a->tmp, O_CLOEXEC);
	if (a->fd < 0) {
		rip_err_errno(err, RIP_EIO, "cannot create a temporary file "
			"beside '%s'", path);
		free(a->tmp);
		free(a->path);
		a->tmp = a->path = NULL;
		return err ? err->code : RIP_EIO;
	}
	if (fchmod(a->fd, mode) < 0) {
		rip_err_errno(err, RIP_EIO, "cannot set the mode of '%s'", a->tmp);
		rip_atomic_abort(a);
		return RIP_EIO;
	}
	return 0;
}

int rip_atomic_write(struct rip_atomic *a, const void *data, size_t len,
	struct rip_err *err)
{
	if (rip_write_all(a->fd, data, len) < 0)
		return rip_err_errno(err, RIP_EIO, "cannot write '%s'", a->tmp);
	return 0;
}

int rip_atomic_commit(struct rip_atomic *a, bool no_replace,
	struct rip_err *err)
{
	char *dir;
	int rc;

	if (fsync(a->fd) < 0) {
		rc = rip_err_errno(err, RIP_EIO, "cannot fsync '%s'", a->tmp);
		goto fail;
	}
	if (close(a->fd) < 0) {
		a->fd = -1;
		rc = rip_err_errno(err, RIP_EIO, "cannot close '%s'", a->tmp);
		goto fail;
	}
	a->fd = -1;
	if (no_replace) {
		/* link(2) fails with EEXIST instead of replacing. */
		if (link(a->tmp, a->path) < 0) {
			rc = errno == EEXIST ?
				rip_err_set(err, RIP_EEXISTS, "'%s' already exists",
					a->path) :
				rip_err_errno(err, RIP_EIO, "cannot create '%s'",
					a->path);
			goto fail;
		}
		unlink(a->tmp);
	} else if (rename(a->tmp, a->path) < 0) {
		rc = rip_err_errno(err, RIP_EIO, "cannot rename '%s' to '%s'",
			a->tmp, a->path);
		goto fail;
	}
	dir = rip_path_dirname(a->path);
	rc = rip_fsync_dir(dir, err);
	free(dir);
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
	return rc;
fail:
	rip_atomic_abort(a);
	return rc;
}

void rip_atomic_abort(struct rip_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->tmp)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
}

int rip_write_file_atomic(const char *path, const void *data, size_t len,
	mode_t mode, struct rip_err *err)
{
	struct rip_atomic a;
	int rc;

	if ((rc = rip_atomic_open(&a, path, mode, err)) < 0)
		return rc;
	if ((rc = rip_atomic_write(&a, data, len, err)) < 0) {
		rip_atomic_abort(&a);
		return rc;
	}
	return rip_atomic_commit(&a, false, err);
}

int rip_read_file(struct rip_buf *out, const char *path, size_t max,
	struct rip_err *err)
{
	char chunk[65536];
	size_t total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND : RIP_EIO,
			"cannot open '%s'", path);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = rip_err_errno(err, RIP_EIO, "cannot read '%s'", path);
			break;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > max) {
			rc = rip_err_set(err, RIP_EINTEGRITY,
				"'%s' is larger than %zu bytes", path, max);
			break;
		}
		rip_buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return rc;
}

int rip_mkdir_p(const char *path, mode_t mode, struct rip_err *err)
{
	char *p;
	int rc = 0;

	if (!path[0])
		return rip_err_set(err, RIP_EUSAGE, "empty folder name");
	p = rip_xstrdup(path);
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;

		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			rc = rip_err_errno(err, RIP_EIO, "cannot create folder '%s'",
				p);
			break;
		}
		*s = saved;
		if (!saved)
			break;
	}
	if (!rc && !rip_is_dir(path))
		rc = rip_err_set(err, RIP_EIO, "'%s' exists and is not a folder",
			path);
	free(p);
	return rc;
}
