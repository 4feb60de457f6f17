/* SPDX-License-Identifier: MIT */
/*
 * target.c: deploy roots (see target.h).
 *
 * Tuned for the 3 a.m. path: a switch is one symlink, one rename and one
 * fsync, so rolling a warm target back costs microseconds and can never
 * leave a dangling or half-written current. Every check that decides
 * whether a root is ours is made before anything is written.
 *
 * A root may be writable by the application it runs (its own release,
 * shared folders), so nothing below the root's own path is reached by
 * path: the root is opened once, releases/ below it with O_NOFOLLOW, and
 * every check and every change is made relative to those fds (fstatat,
 * readlinkat, symlinkat, renameat, rip_remove_tree_at). A releases/ or a
 * release that is a link is refused (RIP_ESECURITY), never followed nor
 * removed, and no link planted or swapped in while we work leads out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/fsutil.h"
#include "ripcord/manifest.h"
#include "ripcord/target.h"
#include "banned.h"

/* A root, and its releases/ opened below it, never through a link. */
struct root_fds {
	int root;                 /* -1: the root does not exist */
	int rel;                  /* -1: releases/ does not exist */
};

static void root_close(struct root_fds *f)
{
	if (f->rel >= 0)
		close(f->rel);
	if (f->root >= 0)
		close(f->root);
	f->root = f->rel = -1;
}

/*
 * Opens root (the path given, links in it followed: it is the operator's
 * name) and releases/ below it with O_NOFOLLOW, so every later step works
 * inside the folders looked at, whatever is renamed meanwhile. A missing
 * root or releases/ is 0 with its fd -1; a releases/ that is a link is
 * RIP_ESECURITY, one that is a file RIP_EEXISTS.
 */
static int root_open(struct root_fds *f, const char *root,
	struct rip_err *err)
{
	char *path;
	int rc;

	f->rel = -1;
	f->root = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->root < 0)
		return errno == ENOENT ? 0 : rip_err_errno(err, errno == ENOTDIR ?
			RIP_EEXISTS : RIP_EIO, "cannot open target root '%s'", root);
	path = rip_path_join(root, "releases");
	rc = rip_open_dir_at(&f->rel, f->root, "releases", path, err);
	free(path);
	if (rc == RIP_ENOTFOUND) {
		rip_err_clear(err);
		rc = 0;
	}
	if (rc < 0)
		root_close(f);
	return rc;
}

static int read_current(char **out, int rootfd, const char *root,
	struct rip_err *err)
{
	char *link = rip_path_join(root, "current");
	char buf[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc = 0;

	*out = NULL;
	if (rootfd < 0)
		goto done;
	if (fstatat(rootfd, "current", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			rc = rip_err_errno(err, RIP_EIO, "cannot read '%s'", link);
		goto done;
	}
	if (!S_ISLNK(st.st_mode)) {
		rc = rip_err_set(err, RIP_ESECURITY, "'%s' is not a symlink: "
			"ripcord never overwrites what it did not make (move it "
			"away, then deploy)", link);
		goto done;
	}
	n = readlinkat(rootfd, "current", buf, sizeof(buf) - 1);
	if (n < 0) {
		rc = rip_err_errno(err, RIP_EIO, "cannot read link '%s'", link);
		goto done;
	}
	buf[n] = '\0';
	if (strncmp(buf, "releases/", 9) || !rip_release_id_valid(buf + 9)) {
		rc = rip_err_set(err, RIP_ESECURITY, "'%s' points at '%s', not "
			"at releases/<id> (changed by hand? point it back, or move "
			"it away)", link, buf);
		goto done;
	}
	*out = rip_xstrdup(buf + 9);
done:
	free(link);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether name in folder fd is a folder itself, not a link to one. */
static bool real_dir_at(int fd, const char *name)
{
	struct stat st;

	return fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		S_ISDIR(st.st_mode);
}

/* The folder fd's entries, read through a duplicate (fd stays open). */
static DIR *read_dir(int fd)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;

	if (!d && dup_fd >= 0)
		close(dup_fd);
	return d;
}

/* The release folders under releases/ (links and files are no release). */
static int list_releases(struct rip_strlist *out, const struct root_fds *f,
	const char *root, struct rip_err *err)
{
	struct dirent *e;
	DIR *d;

	if (f->rel < 0)
		return 0;
	if (!(d = read_dir(f->rel)))
		return rip_err_errno(err, RIP_EIO, "cannot read '%s/releases'",
			root);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && rip_release_id_valid(e->d_name) &&
		    real_dir_at(f->rel, e->d_name))
			rip_strlist_push(out, e->d_name);
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

int rip_root_inspect(struct rip_root_state *out, const char *root,
	struct rip_err *err)
{
	struct root_fds f;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = root_open(&f, root, err)) < 0)
		return rc;
	out->has_releases = f.rel >= 0;
	if ((rc = read_current(&out->current, f.root, root, err)) < 0 ||
	    (rc = list_releases(&out->extracted, &f, root, err)) < 0)
		rip_root_state_release(out);
	root_close(&f);
	return rc;
}

void rip_root_state_release(struct rip_root_state *s)
{
	free(s->current);
	rip_strlist_release(&s->extracted);
	memset(s, 0, sizeof(*s));
}

/* Whether the folder fd holds anything at all. */
static bool dir_empty(int fd)
{
	DIR *d = read_dir(fd);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* rip_root_check on the folders f opened. */
static int check_open(const struct root_fds *f, const char *root,
	struct rip_err *err)
{
	char *current = NULL;
	int rc;

	if (f->root >= 0 && f->rel < 0 && !dir_empty(f->root))
		return rip_err_set(err, RIP_EEXISTS, "target root '%s' is not "
			"empty and has no releases/: it is not ours (point root at "
			"an empty or new folder)", root);
	rc = read_current(&current, f->root, root, err);
	free(current);
	return rc;
}

int rip_root_check(const char *root, struct rip_err *err)
{
	struct root_fds f;
	int rc = root_open(&f, root, err);

	if (rc == RIP_EEXISTS) {
		/* the root is a file, or its releases/ is */
		rip_err_clear(err);
		if (!rip_is_dir(root))
			return rip_err_set(err, RIP_EEXISTS, "target root '%s' "
				"exists and is not a folder", root);
		return rip_err_set(err, RIP_EEXISTS, "target root '%s' is not "
			"empty and has no releases/: it is not ours (point root at "
			"an empty or new folder)", root);
	}
	if (rc < 0)
		return rc;
	rc = check_open(&f, root, err);
	root_close(&f);
	return rc;
}

int rip_root_prepare(const char *root, struct rip_err *err)
{
	struct root_fds f = { -1, -1 };
	int rc;

	if ((rc = rip_root_check(root, err)) < 0 ||
	    (rc = rip_mkdir_p(root, 0755, err)) < 0 ||
	    (rc = root_open(&f, root, err)) < 0)
		goto done;
	if (f.rel < 0 && mkdirat(f.root, "releases", 0755) < 0 &&
	    errno != EEXIST) {
		rc = rip_err_errno(err, RIP_EIO, "cannot create folder "
			"'%s/releases'", root);
		goto done;
	}
	root_close(&f);
	/* made by us or by someone else meanwhile: a folder, not a link */
	if ((rc = root_open(&f, root, err)) == 0 && f.rel < 0)
		rc = rip_err_set(err, RIP_EIO, "'%s/releases' vanished while "
			"it was made", root);
done:
	root_close(&f);
	return rc;
}

char *rip_root_release_dir(const char *root, const char *id)
{
	return rip_xasprintf("%s/releases/%s", root, id);
}

int rip_root_switch(const char *root, const char *id, struct rip_err *err)
{
	int rc = rip_root_switch_quick(root, id, err);

	return rc ? rc : rip_fsync_dir(root, err);
}

int rip_sync_roots(const char *const *roots, size_t n, struct rip_err *err)
{
	dev_t *done = rip_xcalloc(n + 1, sizeof(*done));
	size_t nd = 0;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		int fd = open(roots[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0) {
			rc = rip_err_errno(err, RIP_EIO, "cannot open '%s'", roots[i]);
		} else {
			bool seen = false;

			for (size_t k = 0; k < nd && !seen; k++)
				seen = done[k] == st.st_dev;
			if (!seen && syncfs(fd) < 0)
				rc = rip_err_errno(err, RIP_EIO, "cannot sync the "
					"filesystem of '%s'", roots[i]);
			else if (!seen)
				done[nd++] = st.st_dev;
		}
		if (fd >= 0)
			close(fd);
	}
	free(done);
	return rc;
}

/*
 * What releases/<id> is, looked at in f (never followed): 1 a folder, 0
 * nothing (or not a folder), RIP_ESECURITY a link.
 */
static int release_at(const struct root_fds *f, const char *root,
	const char *id, struct rip_err *err)
{
	struct stat st;

	if (f->rel < 0 || fstatat(f->rel, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISLNK(st.st_mode))
		return rip_err_set(err, RIP_ESECURITY, "'%s/releases/%s' is a "
			"symbolic link: ripcord follows no link inside a root "
			"(it is not a release of ours: move it away)", root, id);
	return S_ISDIR(st.st_mode) ? 1 : 0;
}

/* The new link under a temporary name in the root, renamed over current. */
static int switch_link(int rootfd, const char *root, const char *id,
	struct rip_err *err)
{
	char *target = rip_xasprintf("releases/%s", id);
	char *tmp = rip_xasprintf(".current.tmp-%ld-%ld", (long)getpid(),
		(long)time(NULL));
	int rc = 0;

	if (unlinkat(rootfd, tmp, 0) < 0 && errno != ENOENT)
		rc = rip_err_errno(err, RIP_EIO, "cannot remove '%s/%s'", root,
			tmp);
	else if (symlinkat(target, rootfd, tmp) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot create '%s/%s'", root,
			tmp);
	else if (renameat(rootfd, tmp, rootfd, "current") < 0) {
		rc = rip_err_errno(err, RIP_EIO, "cannot switch '%s/current'",
			root);
		unlinkat(rootfd, tmp, 0);
	}
	free(tmp);
	free(target);
	return rc;
}

int rip_root_switch_quick(const char *root, const char *id,
	struct rip_err *err)
{
	struct root_fds f = { -1, -1 };
	char *old = NULL;
	int rc;

	if (!rip_release_id_valid(id))
		return rip_err_set(err, RIP_EUSAGE, "bad release id '%s'", id);
	if ((rc = root_open(&f, root, err)) < 0 ||
	    (rc = release_at(&f, root, id, err)) < 0)
		goto done;
	if (rc == 0) {
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' is not "
			"extracted in '%s'", id, root);
		goto done;
	}
	/* not ours: refuse before writing anything */
	if ((rc = read_current(&old, f.root, root, err)) == 0)
		rc = switch_link(f.root, root, id, err);
done:
	free(old);
	root_close(&f);
	return rc;
}

int rip_root_remove(const char *root, const char *id, struct rip_err *err)
{
	struct root_fds f = { -1, -1 };
	char *current = NULL;
	int rc;

	if (!rip_release_id_valid(id))
		return rip_err_set(err, RIP_EUSAGE, "bad release id '%s'", id);
	if ((rc = root_open(&f, root, err)) < 0 ||
	    (rc = read_current(&current, f.root, root, err)) < 0)
		goto done;
	if (current && !strcmp(current, id)) {
		rc = rip_err_set(err, RIP_EUSAGE, "release '%s' is what '%s' "
			"runs; it is never removed", id, root);
		goto done;
	}
	if ((rc = release_at(&f, root, id, err)) == 1 &&
	    rip_remove_tree_at(f.rel, id) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot remove "
			"'%s/releases/%s'", root, id);
	rc = rc < 0 ? rc : 0;
done:
	free(current);
	root_close(&f);
	return rc;
}

int rip_root_remove_partial(const char *root, const char *name,
	struct rip_err *err)
{
	struct root_fds f;
	struct stat st;
	int rc;

	if (!rip_root_temp_name(name))
		return rip_err_set(err, RIP_EUSAGE, "'%s/releases/%s' is not an "
			"unfinished extraction: left alone", root, name);
	if ((rc = root_open(&f, root, err)) < 0)
		return rc;
	if (f.rel < 0 || fstatat(f.rel, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = f.rel < 0 || errno == ENOENT ? 0 : rip_err_errno(err,
			RIP_EIO, "cannot read '%s/releases/%s'", root, name);
	else if (!S_ISDIR(st.st_mode))
		rc = rip_err_set(err, RIP_EUSAGE, "'%s/releases/%s' is not an "
			"unfinished extraction: left alone", root, name);
	else if (rip_remove_tree_at(f.rel, name) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot remove '%s/releases/%s' "
			"(check its permissions, then run gc again)", root, name);
	root_close(&f);
	return rc;
}

bool rip_root_temp_name(const char *name)
{
	size_t len = strlen(name);
	char id[256];

	if (len < 1 + 5 + 6 + 1 || len - 1 >= sizeof(id) || name[0] != '.' ||
	    strncmp(name + len - 11, ".tmp-", 5))
		return false;
	memcpy(id, name + 1, len - 12);
	id[len - 12] = '\0';
	return rip_release_id_valid(id);
}

int rip_root_clean_temps(size_t *removed, const char *root,
	struct rip_err *err)
{
	struct root_fds f;
	struct dirent *e;
	DIR *d;
	int rc = root_open(&f, root, err);

	*removed = 0;
	if (rc < 0 || f.rel < 0)
		goto done;
	if (!(d = read_dir(f.rel))) {
		rc = rip_err_errno(err, RIP_EIO, "cannot read '%s/releases'",
			root);
		goto done;
	}
	while (rc == 0 && (e = readdir(d))) {
		if (!rip_root_temp_name(e->d_name) ||
		    !real_dir_at(f.rel, e->d_name))
			continue;
		if (rip_remove_tree_at(f.rel, e->d_name) < 0)
			rc = rip_err_errno(err, RIP_EIO, "cannot remove "
				"'%s/releases/%s'", root, e->d_name);
		else
			(*removed)++;
	}
	closedir(d);
done:
	root_close(&f);
	return rc;
}
