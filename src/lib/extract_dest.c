/* SPDX-License-Identifier: MIT */
/*
 * extract_dest.c: the destinations of one extraction (extract.c streams,
 * this file writes). Each dest is filled below a fresh .<dest>.tmp-XXXXXX
 * beside it, a dot-name so a folder left by a crash is never taken for a
 * release, and renamed to dest only when the whole stream matched (never
 * over anything); on any failure every temporary folder is removed and
 * the renames already made are taken back, so no dest ever exists
 * half-made, and a call for many dests is all or nothing.
 *
 * Invariants: no path is opened from a string longer than one component
 * below a folder fd we created, always with O_NOFOLLOW (files also
 * O_EXCL), so nothing is ever written through a symlink, not even one the
 * artifact itself just created; the folder that holds each dest (a root's
 * releases/) is opened once, before anything is made, and is never a link
 * itself (RIP_ESECURITY): the temporary folder is made, renamed, taken
 * back or removed relative to that fd, so a link swapped in for it
 * meanwhile leads nowhere; files are created 0600 and fchmod'ed to
 * the artifact's 0644/0755 (umask-proof); folders end 0755; before its
 * rename a destination's filesystem is synced (syncfs: every file and
 * folder written, for the price of one call), and each dest's parent is
 * fsynced after it.
 *
 * A destination holds its parent's fd from start to end, and while its
 * batch streams up to three more (its root, its cached folder or a walk's
 * two, the file being written); when the open-file limit cannot hold them
 * all, the destinations are filled in batches, one stream per batch
 * (extract.c's loop over rip_dests_next_batch), and renamed together at
 * the end.
 *
 * Tuned for safety, then speed: one folder fd per destination is cached,
 * since entries arrive sorted by folder.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ripcord/config.h"
#include "ripcord/fsutil.h"
#include "extract_internal.h"
#include "banned.h"

/* fds one destination holds at most, and what is kept for everything
 * else (the artifact, a parent folder's fsync, the caller's own) */
#define FDS_PER_DEST 3u
#define FD_RESERVE 16u

/* One destination: the folder being filled for it. */
struct tgt {
	char *dest;                  /* without trailing slashes */
	const char *name;            /* dest's last component */
	int pfd;                     /* the folder that holds dest */
	char *tmp;
	char *tmp_name;              /* tmp's last component (in tmp) */
	int root;
	bool renamed;
	int cache_fd;                /* folder of the previous entry */
	struct rip_buf cache_rel;
	struct rip_strlist dirs;     /* created, relative to root */
	int fd;                      /* the file being written */
	struct stat parent;          /* of pfd; st_ino 0: not known */
};

struct rip_dests {
	struct rip_err *err;
	/* every destination; one stream fills the batch t[lo, hi) */
	struct tgt *t;
	size_t n, lo, hi;
	size_t batch;                /* 0: not yet known */
	const char *cur;             /* entry being written, for messages */
	bool scratch;                /* thrown away afterwards: no syncfs */
};

/* Every destination of the batch being streamed. */
#define for_batch(d, t) for (struct tgt *t = (d)->t + (d)->lo; \
		t < (d)->t + (d)->hi; t++)

static int make_temp(struct rip_dests *d, struct tgt *t)
{
	/* a dot-name: a folder left by a crash is never taken for a release */
	char *dir = rip_path_dirname(t->dest);

	t->tmp = rip_xasprintf("%s/.%s.tmp-XXXXXX", dir, t->name);
	t->tmp_name = strrchr(t->tmp, '/') + 1;
	free(dir);
	if (t->pfd < 0 || rip_mktemp_at(t->tmp_name, t->pfd, true, 0700) < 0) {
		int rc = rip_err_errno(d->err, t->pfd < 0 || errno == ENOENT ?
			RIP_ENOTFOUND : RIP_EIO, "cannot create a folder beside "
			"'%s'", t->dest);

		free(t->tmp);
		t->tmp = t->tmp_name = NULL;
		return rc;
	}
	return 0;
}

/* Opens root (the folder filled for t) below the folder that holds it. */
static int open_root(struct rip_dests *d, struct tgt *t)
{
	t->root = openat(t->pfd, t->tmp_name, O_RDONLY | O_DIRECTORY |
		O_NOFOLLOW | O_CLOEXEC);
	if (t->root < 0)
		return rip_err_errno(d->err, RIP_EIO, "cannot open '%s'", t->tmp);
	return 0;
}

/*
 * Opens folder leaf of pfd (rel: its path below the root), creating it
 * when create is set and it is absent. A symlink or a file there is
 * refused: O_NOFOLLOW makes the kernel enforce it, whatever the lists say.
 */
static int enter_dir(struct rip_dests *d, struct tgt *t, int pfd,
	const char *leaf, const char *rel, bool create, int *out)
{
	bool made = false;
	int fd;

	*out = -1;
	if (create && mkdirat(pfd, leaf, 0700) == 0) {
		made = true;
		rip_strlist_push(&t->dirs, rel);
	} else if (create && errno != EEXIST) {
		return rip_err_errno(d->err, RIP_EIO, "cannot create folder "
			"'%s/%s'", t->dest, rel);
	}
	fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return rip_err_set(d->err, RIP_ESECURITY, "entry '%s' lies below "
			"'payload/%s', which is a symlink or a file; nothing is "
			"extracted through one", d->cur ? d->cur : rel, rel);
	if (fd < 0)
		return rip_err_errno(d->err, RIP_EIO, "cannot open folder "
			"'%s/%s'", t->dest, rel);
	if (made && fchmod(fd, 0755) < 0) {
		close(fd);
		return rip_err_errno(d->err, RIP_EIO, "cannot chmod folder "
			"'%s/%s'", t->dest, rel);
	}
	*out = fd;
	return 0;
}

/* Opens folder rel below the root component by component ("" is root). */
static int open_folder(struct rip_dests *d, struct tgt *t, const char *rel,
	bool create, int *out)
{
	char *path = rip_xstrdup(rel);
	char *s = path;
	int cur = t->root, rc = 0;

	while (*s && rc == 0) {
		char *slash = strchr(s, '/');
		int next;

		if (slash)
			*slash = '\0';
		/* path now reads as the folder's own relative path */
		rc = enter_dir(d, t, cur, s, path, create, &next);
		if (cur != t->root)
			close(cur);
		cur = next;
		if (!slash)
			break;
		*slash = '/';
		s = slash + 1;
	}
	free(path);
	*out = rc < 0 ? -1 : cur;
	return rc;
}

static void cache_drop(struct tgt *t)
{
	if (t->cache_fd >= 0 && t->cache_fd != t->root)
		close(t->cache_fd);
	t->cache_fd = -1;
	rip_buf_reset(&t->cache_rel);
}

/* The folder fd of t that holds rel, and rel's last component. */
static int parent_of(struct rip_dests *d, struct tgt *t, const char *rel,
	int *pfd, const char **leaf)
{
	const char *slash = strrchr(rel, '/');
	size_t dl = slash ? (size_t)(slash - rel) : 0;
	char *dir;
	int rc, fd;

	*leaf = slash ? slash + 1 : rel;
	if (t->cache_fd >= 0 && t->cache_rel.len == dl &&
	    !memcmp(t->cache_rel.buf, rel, dl)) {
		*pfd = t->cache_fd;
		return 0;
	}
	cache_drop(t);
	dir = rip_xstrndup(rel, dl);
	rc = open_folder(d, t, dir, true, &fd);
	free(dir);
	if (rc < 0)
		return rc;
	t->cache_fd = fd;
	rip_buf_add(&t->cache_rel, rel, dl);
	*pfd = fd;
	return 0;
}

static void tgt_close(struct tgt *t)
{
	cache_drop(t);
	if (t->fd >= 0)
		close(t->fd);
	if (t->root >= 0)
		close(t->root);
	t->fd = t->root = -1;
}

/* The folder that holds dest: its own parent's path is followed (the
 * caller's name), the folder itself is never a link. */
static int open_parent(struct rip_dests *d, struct tgt *t)
{
	char *parent = rip_path_dirname(t->dest);
	char *grand = rip_path_dirname(parent);
	const char *slash = strrchr(parent, '/');
	const char *leaf = slash ? slash + 1 : parent;
	int gfd, rc = 0;

	errno = ENOENT;
	if (!strcmp(parent, "/") || !strcmp(leaf, ".") || !strcmp(leaf, ".."))
		t->pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if ((gfd = open(grand, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		rc = rip_open_dir_at(&t->pfd, gfd, leaf, parent, d->err);
		close(gfd);
	}
	/* a missing parent is make_temp's to report */
	if (rc == RIP_ENOTFOUND || (rc == 0 && t->pfd < 0 && errno == ENOENT)) {
		rip_err_clear(d->err);
		rc = 0;
	} else if (rc == 0 && t->pfd < 0) {
		rc = rip_err_errno(d->err, RIP_EIO, "cannot open '%s'", parent);
	}
	if (t->pfd < 0 || fstat(t->pfd, &t->parent) < 0)
		t->parent.st_ino = 0;
	free(grand);
	free(parent);
	return rc;
}

void rip_dests_scratch(struct rip_dests *d)
{
	d->scratch = true;
}

struct rip_dests *rip_dests_new(const char *const *dests, size_t n,
	struct rip_err *err)
{
	struct rip_dests *d = rip_xcalloc(1, sizeof(*d));

	d->err = err;
	d->n = n;
	d->t = rip_xcalloc(n, sizeof(*d->t));
	for (size_t i = 0; i < n; i++) {
		struct tgt *t = &d->t[i];
		const char *s = dests[i] ? dests[i] : "";
		size_t len = strlen(s);

		while (len > 1 && s[len - 1] == '/')
			len--;
		t->dest = rip_xstrndup(s, len);
		t->name = strrchr(t->dest, '/') ? strrchr(t->dest, '/') + 1 :
			t->dest;
		t->root = t->cache_fd = t->fd = t->pfd = -1;
		rip_buf_init(&t->cache_rel, 0);
	}
	return d;
}

void rip_dests_free(struct rip_dests *d, bool failed)
{
	if (!d)
		return;
	/* every fd first: the removal walks need some */
	for (size_t i = 0; i < d->n; i++)
		tgt_close(&d->t[i]);
	for (size_t i = 0; i < d->n; i++) {
		struct tgt *t = &d->t[i];

		if (failed && t->tmp && !t->renamed)
			(void)rip_remove_tree_at(t->pfd, t->tmp_name);
		if (t->pfd >= 0)
			close(t->pfd);
		rip_strlist_release(&t->dirs);
		rip_buf_release(&t->cache_rel);
		free(t->tmp);
		free(t->dest);
	}
	free(d->t);
	free(d);
}

/* Two names for one folder ("r/x", "./r/x"): same parent, same name. */
static bool same_folder(const struct tgt *a, const struct tgt *b)
{
	return a->parent.st_ino && a->parent.st_ino == b->parent.st_ino &&
		a->parent.st_dev == b->parent.st_dev && !strcmp(a->name, b->name);
}

/* Whether dest's name is taken in its folder (a dangling link too). */
static bool dest_exists(const struct tgt *t)
{
	struct stat st;

	return t->pfd >= 0 && fstatat(t->pfd, t->name, &st,
		AT_SYMLINK_NOFOLLOW) == 0;
}

/* Also refused: one folder named twice (it would be filled twice, then
 * refused). */
int rip_dests_check(struct rip_dests *d)
{
	if (!d->n)
		return rip_err_set(d->err, RIP_EUSAGE, "no folder to extract "
			"into");
	for (size_t i = 0; i < d->n; i++) {
		struct tgt *t = &d->t[i];
		int rc;

		if (!*t->dest)
			return rip_err_set(d->err, RIP_EUSAGE, "no folder to "
				"extract into");
		if ((rc = open_parent(d, t)) < 0)
			return rc;
		if (dest_exists(t))
			return rip_err_set(d->err, RIP_EEXISTS, "'%s' already "
				"exists; extraction never writes into an existing "
				"folder", t->dest);
		for (size_t j = 0; j < i; j++)
			if (same_folder(&d->t[j], t))
				return rip_err_set(d->err, RIP_EUSAGE, "'%s' and "
					"'%s' are the same folder; name each "
					"destination once", d->t[j].dest, t->dest);
	}
	return 0;
}

int rip_dests_make_temps(struct rip_dests *d)
{
	for (size_t i = 0; i < d->n; i++) {
		int rc = make_temp(d, &d->t[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* fds open in this process now; a guess when /proc cannot tell. */
static size_t fds_in_use(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 64;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n > 0 ? n - 1 : 0;   /* not d's own */
}

/* How many of n destinations one stream can fill within RLIMIT_NOFILE. */
static size_t batch_size(size_t n)
{
	rlim_t used = (rlim_t)fds_in_use() + FD_RESERVE, k;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return n;
	k = rl.rlim_cur > used ? (rl.rlim_cur - used) / FDS_PER_DEST : 0;
	if (k < 1)
		return 1;   /* and EMFILE will say so, if it must */
	return k < n ? (size_t)k : n;
}

bool rip_dests_next_batch(struct rip_dests *d)
{
	if (!d->batch)
		d->batch = batch_size(d->n);
	else
		d->lo = d->hi;
	if (d->lo >= d->n)
		return false;
	d->hi = d->lo + (d->n - d->lo < d->batch ? d->n - d->lo : d->batch);
	return true;
}

int rip_dests_batch_open(struct rip_dests *d)
{
	for_batch(d, t) {
		int rc = open_root(d, t);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Makes everything written below t durable before it is renamed into
 * place: one syncfs(2) of its filesystem (files and folders alike, and
 * with Linux 5.8 and later it reports their write-back errors) instead of
 * an fsync per file, which cost ~95% of an extraction on a real disk.
 */
static int sync_folders(struct rip_dests *d, struct tgt *t)
{
	cache_drop(t);
	if (fchmod(t->root, 0755) < 0 || (!d->scratch && syncfs(t->root) < 0))
		return rip_err_errno(d->err, RIP_EIO, "cannot finish '%s'",
			t->tmp);
	return 0;
}

int rip_dests_batch_close(struct rip_dests *d)
{
	for_batch(d, t) {
		int rc = sync_folders(d, t);

		if (rc < 0)
			return rc;
		close(t->root);
		t->root = -1;
	}
	return 0;
}

int rip_dests_write(struct rip_dests *d, const char *rel, const void *buf,
	size_t len)
{
	for_batch(d, t)
		if (rip_write_all(t->fd, buf, len) < 0)
			return rip_err_errno(d->err, RIP_EIO, "cannot write "
				"'%s/%s'", t->dest, rel);
	return 0;
}

static int exists_error(struct rip_dests *d, const struct tgt *t,
	const char *rel)
{
	if (errno == EEXIST)
		return rip_err_set(d->err, RIP_ESECURITY, "entry '%s' would "
			"replace what an earlier entry made (listed twice?)", d->cur);
	return rip_err_errno(d->err, RIP_EIO, "cannot create '%s/%s'", t->dest,
		rel);
}

int rip_dests_open_files(struct rip_dests *d, const char *entry,
	const char *rel)
{
	d->cur = entry;
	for_batch(d, t) {
		const char *leaf;
		int pfd, rc = parent_of(d, t, rel, &pfd, &leaf);

		if (rc < 0)
			return rc;
		t->fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL |
			O_NOFOLLOW | O_CLOEXEC, 0600);
		if (t->fd < 0)
			return exists_error(d, t, rel);
	}
	return 0;
}

/* The mode comes first; sync_folders makes the file durable. */
int rip_dests_close_files(struct rip_dests *d, const char *rel,
	unsigned mode, int rc)
{
	for_batch(d, t) {
		if (t->fd < 0)
			continue;
		if (rc == 0 && fchmod(t->fd, mode) < 0)
			rc = rip_err_errno(d->err, RIP_EIO, "cannot finish "
				"'%s/%s'", t->dest, rel);
		if (close(t->fd) < 0 && rc == 0)
			rc = rip_err_errno(d->err, RIP_EIO, "cannot close "
				"'%s/%s'", t->dest, rel);
		t->fd = -1;
	}
	return rc;
}

int rip_dests_symlink(struct rip_dests *d, const char *entry,
	const char *rel, const char *target)
{
	d->cur = entry;
	/* the walk to the parent refuses any symlink on the way */
	for_batch(d, t) {
		const char *leaf;
		int pfd, rc = parent_of(d, t, rel, &pfd, &leaf);

		if (rc < 0)
			return rc;
		if (symlinkat(target, pfd, leaf) < 0)
			return exists_error(d, t, rel);
	}
	return 0;
}

int rip_dests_mkdir(struct rip_dests *d, const char *entry, const char *rel)
{
	d->cur = entry;
	for_batch(d, t) {
		const char *leaf;
		int pfd, fd, rc = parent_of(d, t, rel, &pfd, &leaf);

		if (rc < 0)
			return rc;
		/* an earlier entry may have made it already, as a parent */
		if ((rc = enter_dir(d, t, pfd, leaf, rel, true, &fd)) < 0)
			return rc;
		close(fd);
	}
	return 0;
}

/* renameat(2) in t's folder that never replaces: an empty folder there
 * is no excuse. back: dest to tmp again. */
static int rename_noreplace(const struct tgt *t, bool back)
{
	const char *from = back ? t->name : t->tmp_name;
	const char *to = back ? t->tmp_name : t->name;
	struct stat st;

	if (renameat2(t->pfd, from, t->pfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* a file system without RENAME_NOREPLACE: best effort */
	if (fstatat(t->pfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(t->pfd, from, t->pfd, to);
}

static int rename_one(struct rip_dests *d, struct tgt *t)
{
	if (rename_noreplace(t, false) < 0)
		return errno == EEXIST || errno == ENOTEMPTY ?
			rip_err_set(d->err, RIP_EEXISTS, "'%s' appeared while the "
				"artifact was being extracted", t->dest) :
			rip_err_errno(d->err, RIP_EIO, "cannot rename '%s' to "
				"'%s'", t->tmp, t->dest);
	t->renamed = true;
	return 0;
}

static int fsync_parent(struct rip_dests *d, const struct tgt *t)
{
	if (fsync(t->pfd) < 0 && errno != EINVAL)
		return rip_err_errno(d ? d->err : NULL, RIP_EIO, "cannot fsync "
			"the folder of '%s'", t->dest);
	return 0;
}

/*
 * Every folder renamed to its dest, then every parent fsynced. On any
 * failure the renames made are taken back, so failure still means no
 * dest (across file systems the renames cannot be one atomic step).
 */
int rip_dests_commit(struct rip_dests *d)
{
	int rc = 0;

	for (size_t i = 0; i < d->n && rc == 0; i++)
		rc = rename_one(d, &d->t[i]);
	for (size_t i = 0; i < d->n && rc == 0; i++)
		rc = fsync_parent(d, &d->t[i]);
	if (rc == 0)
		return 0;
	for (size_t i = 0; i < d->n; i++) {
		struct tgt *t = &d->t[i];

		if (t->renamed && rename_noreplace(t, true) == 0) {
			t->renamed = false;
			/* best effort: a crash now should not bring it back */
			(void)fsync_parent(NULL, t);
		}
	}
	return rc;
}
