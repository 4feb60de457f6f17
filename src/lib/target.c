/* SPDX-License-Identifier: MIT */
/*
 * target.c: deploy roots (see target.h).
 *
 * Tuned for the 3 a.m. path: a switch is one symlink, one rename and one
 * fsync, so rolling a warm target back costs microseconds and can never
 * leave a dangling or half-written current. Every check that decides
 * whether a root is ours is made before anything is written.
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

static int read_current(char **out, const char *root, struct rip_err *err)
{
	char *link = rip_path_join(root, "current");
	char buf[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc = 0;

	*out = NULL;
	if (lstat(link, &st) < 0) {
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
	n = readlink(link, buf, sizeof(buf) - 1);
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

/*
 * Opens <root>/releases into *d, its path into *dir (free it; NULL when
 * *d is NULL). A missing folder is 0 with *d NULL; another failure is
 * RIP_EIO naming it.
 */
static int open_releases(DIR **d, char **dir, const char *root,
	struct rip_err *err)
{
	int rc = 0;

	*dir = rip_path_join(root, "releases");
	if (!(*d = opendir(*dir))) {
		if (errno != ENOENT)
			rc = rip_err_errno(err, RIP_EIO, "cannot read '%s'", *dir);
		free(*dir);
		*dir = NULL;
	}
	return rc;
}

static int list_releases(struct rip_strlist *out, const char *root,
	bool *exists, struct rip_err *err)
{
	struct dirent *e;
	char *dir;
	DIR *d;
	int rc = open_releases(&d, &dir, root, err);

	*exists = d != NULL;
	if (!d)
		return rc;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && rip_release_id_valid(e->d_name))
			rip_strlist_push(out, e->d_name);
	closedir(d);
	free(dir);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

int rip_root_inspect(struct rip_root_state *out, const char *root,
	struct rip_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_current(&out->current, root, err)) < 0 ||
	    (rc = list_releases(&out->extracted, root, &out->has_releases,
		    err)) < 0)
		rip_root_state_release(out);
	return rc;
}

void rip_root_state_release(struct rip_root_state *s)
{
	free(s->current);
	rip_strlist_release(&s->extracted);
	memset(s, 0, sizeof(*s));
}

/* Whether dir holds anything at all. */
static bool dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

int rip_root_check(const char *root, struct rip_err *err)
{
	char *releases = rip_path_join(root, "releases");
	char *current = NULL;
	int rc = 0;

	if (rip_path_exists(root) && !rip_is_dir(root))
		rc = rip_err_set(err, RIP_EEXISTS, "target root '%s' exists and "
			"is not a folder", root);
	else if (rip_is_dir(root) && !rip_is_dir(releases) && !dir_empty(root))
		rc = rip_err_set(err, RIP_EEXISTS, "target root '%s' is not empty "
			"and has no releases/: it is not ours (point root at an "
			"empty or new folder)", root);
	else
		rc = read_current(&current, root, err);
	free(current);
	free(releases);
	return rc;
}

int rip_root_prepare(const char *root, struct rip_err *err)
{
	char *releases = rip_path_join(root, "releases");
	int rc;

	if ((rc = rip_root_check(root, err)) == 0)
		rc = rip_mkdir_p(releases, 0755, err);
	free(releases);
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

int rip_root_switch_quick(const char *root, const char *id,
	struct rip_err *err)
{
	char *dir = rip_root_release_dir(root, id);
	char *target = rip_xasprintf("releases/%s", id);
	char *link = rip_path_join(root, "current");
	char *tmp = rip_xasprintf("%s/.current.tmp-%ld-%ld", root,
		(long)getpid(), (long)time(NULL));
	char *old = NULL;
	int rc;

	if (!rip_release_id_valid(id))
		rc = rip_err_set(err, RIP_EUSAGE, "bad release id '%s'", id);
	else if (!rip_is_dir(dir))
		rc = rip_err_set(err, RIP_ENOTFOUND, "release '%s' is not "
			"extracted in '%s'", id, root);
	else if ((rc = read_current(&old, root, err)) < 0)
		; /* not ours: refuse before writing anything */
	else if (unlink(tmp) < 0 && errno != ENOENT)
		rc = rip_err_errno(err, RIP_EIO, "cannot remove '%s'", tmp);
	else if (symlink(target, tmp) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot create '%s'", tmp);
	else if (rename(tmp, link) < 0) {
		rc = rip_err_errno(err, RIP_EIO, "cannot switch '%s'", link);
		unlink(tmp);
	}
	free(old);
	free(tmp);
	free(link);
	free(target);
	free(dir);
	return rc;
}

int rip_root_remove(const char *root, const char *id, struct rip_err *err)
{
	char *dir = rip_root_release_dir(root, id);
	char *current = NULL;
	int rc;

	if (!rip_release_id_valid(id))
		rc = rip_err_set(err, RIP_EUSAGE, "bad release id '%s'", id);
	else if ((rc = read_current(&current, root, err)) < 0)
		;
	else if (current && !strcmp(current, id))
		rc = rip_err_set(err, RIP_EUSAGE, "release '%s' is what '%s' runs; "
			"it is never removed", id, root);
	else if (rip_is_dir(dir) && rip_remove_tree(dir) < 0)
		rc = rip_err_errno(err, RIP_EIO, "cannot remove '%s'", dir);
	free(current);
	free(dir);
	return rc;
}

/* Whether name is ".<id>.tmp-XXXXXX", extract_dest.c's temporary folder. */
static bool extract_temp_name(const char *name)
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
	struct dirent *e;
	char *dir;
	DIR *d;
	int rc = open_releases(&d, &dir, root, err);

	*removed = 0;
	if (!d)
		return rc;
	while (rc == 0 && (e = readdir(d))) {
		char *path;
		struct stat st;

		if (!extract_temp_name(e->d_name))
			continue;
		path = rip_path_join(dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (rip_remove_tree(path) < 0)
				rc = rip_err_errno(err, RIP_EIO, "cannot remove "
					"'%s'", path);
			else
				(*removed)++;
		}
		free(path);
	}
	closedir(d);
	free(dir);
	return rc;
}
