/* SPDX-License-Identifier: MIT */
/*
 * extract.c: a release's payload onto disk, whole or not at all.
 *
 * Two passes over the artifact. The first is rip_artifact_read: every
 * hostile-archive rule, and SHA256SUMS, LINKS and MANIFEST in hand (they
 * sort after payload/, so a single pass would learn the digests too
 * late). The second streams payload/ below a fresh .<dest>.tmp-XXXXXX
 * beside each dest: each entry is checked again (the file may have
 * changed in between), matched against the lists, and written relative to
 * folder fds with O_NOFOLLOW|O_EXCL, so nothing is ever written through a
 * symlink, not even one the artifact itself just created. The compressed
 * stream is hashed again and must equal the first read's digest. Only
 * when everything matched is each destination made durable and renamed to their dests (never over anything); on any failure every one
 * is removed (and renames already made are taken back), so no dest ever
 * exists half-made, and a call for many dests is all or nothing.
 *
 * Many destinations share one stream: each entry is checked once and
 * each data block written to every destination's file in turn (memory
 * stays one block). A destination holds up to three fds at a time (its
 * root, its cached folder or a walk's two, the file being written); when
 * the open-file limit cannot hold them all, the destinations are filled
 * in batches, one stream per batch, and renamed together at the end. A
 * single dest is a batch of one: rip_extract_payload is that call.
 *
 * Invariants: no path is opened from a string longer than one component
 * below a folder fd we created; files are created 0600 and fchmod'ed to
 * the artifact's 0644/0755 (umask-proof); folders end 0755; before its
 * rename a destination's filesystem is synced (syncfs: every file and
 * folder written, for the price of one call), and each dest's parent is
 * fsynced after it.
 *
 * Deviation from STYLE.md rule 3 (one wrapper per library): artifact.h
 * has no streaming reader, so the second pass calls libarchive here
 * (open, next header, data blocks) and repeats artifact.c's refusals and
 * expansion bound rather than changing that file.
 *
 * Tuned for safety, then speed: the artifact is read twice at disk speed,
 * however many the destinations; one folder fd per destination is cached,
 * since entries arrive sorted by folder.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ripcord/artifact.h"
#include "ripcord/config.h"
#include "ripcord/extract.h"
#include "ripcord/fsutil.h"
#include "ripcord/manifest.h"
#include "archive_internal.h"
#include "banned.h"

#define MAX_RATIO RIP_MAX_RATIO
#define RATIO_FLOOR RIP_RATIO_FLOOR
/* fds one destination holds at most, and what is kept for everything
 * else (the artifact, a parent folder's fsync, the caller's own) */
#define FDS_PER_DEST 3u
#define FD_RESERVE 16u

/* The compressed stream of the second pass, hashed as it is read. */
struct src {
	int fd;
	struct rip_sha256 sha;
	uint64_t size;
	int io_errno;
	unsigned char buf[1 << 16];
};

/* One destination: the folder being filled for it. */
struct tgt {
	char *dest;                  /* without trailing slashes */
	char *tmp;
	int root;
	bool renamed;
	int cache_fd;                /* folder of the previous entry */
	struct rip_buf cache_rel;
	struct rip_strlist dirs;     /* created, relative to root */
	int fd;                      /* the file being written */
	struct stat parent;          /* st_ino 0: not known */
};

struct ex {
	struct rip_err *err;
	/* the first pass */
	struct rip_artifact_contents c;
	struct rip_manifest *m;
	struct rip_sums sums;
	struct rip_sums links;
	bool *sum_done;
	bool *link_done;
	/* every destination; one stream fills the batch t[lo, hi) */
	struct tgt *t;
	size_t n, lo, hi;
	const char *cur;             /* entry being written, for messages */
	/* the second pass */
	struct archive *a;
	uint64_t total;
	struct rip_extract_result res;
	struct src src;
};

static la_ssize_t read_cb(struct archive *a, void *data, const void **buf)
{
	struct src *s = data;
	ssize_t n;

	(void)a;
	do
		n = read(s->fd, s->buf, sizeof(s->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		s->io_errno = errno;
		return -1;
	}
	rip_sha256_update(&s->sha, s->buf, (size_t)n);
	s->size += (uint64_t)n;
	*buf = s->buf;
	return n;
}

/* Every destination of the batch being streamed. */
#define for_batch(x, t) for (struct tgt *t = (x)->t + (x)->lo; \
		t < (x)->t + (x)->hi; t++)

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* The first read's entry at path, NULL when absent. */
static const struct rip_artifact_entry *first_entry(const struct ex *x,
	const char *path)
{
	size_t lo = 0, hi = x->c.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(x->c.v[mid].path, path);

		if (!c)
			return &x->c.v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int first_pass(struct ex *x, const char *art)
{
	static const char *const meta[] = { "ripcord/MANIFEST",
		"ripcord/SHA256SUMS", "ripcord/LINKS" };
	int rc;

	if ((rc = rip_artifact_read(&x->c, art, x->err)) < 0)
		return rc;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(meta); i++) {
		const struct rip_artifact_entry *e = first_entry(x, meta[i]);

		if (!e || e->kind != RIP_ART_FILE)
			return rip_err_set(x->err, RIP_EINTEGRITY, "not a ripcord "
				"artifact: '%s' is missing", meta[i]);
	}
	if ((rc = rip_manifest_parse(&x->m, x->c.manifest.buf, x->err)) < 0 ||
	    (rc = rip_sums_parse(&x->sums, x->c.sums.buf, x->err)) < 0 ||
	    (rc = rip_links_parse(&x->links, x->c.links.buf, x->err)) < 0)
		return rc;
	x->sum_done = rip_xcalloc(x->sums.n + 1, sizeof(bool));
	x->link_done = rip_xcalloc(x->links.n + 1, sizeof(bool));
	return 0;
}

static int make_temp(struct ex *x, struct tgt *t)
{
	/* a dot-name: a folder left by a crash is never taken for a release */
	char *dir = rip_path_dirname(t->dest);
	const char *base = strrchr(t->dest, '/');

	t->tmp = rip_xasprintf("%s/.%s.tmp-XXXXXX", dir, base ? base + 1 :
		t->dest);
	free(dir);
	if (!mkdtemp(t->tmp)) {
		int rc = rip_err_errno(x->err, errno == ENOENT ? RIP_ENOTFOUND :
			RIP_EIO, "cannot create a folder beside '%s'", t->dest);

		free(t->tmp);
		t->tmp = NULL;
		return rc;
	}
	return 0;
}

/* Opens the root of a folder make_temp made, when its batch starts. */
static int open_root(struct ex *x, struct tgt *t)
{
	t->root = open(t->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t->root < 0)
		return rip_err_errno(x->err, RIP_EIO, "cannot open '%s'", t->tmp);
	return 0;
}

/*
 * Opens folder leaf of pfd (rel: its path below the root), creating it
 * when create is set and it is absent. A symlink or a file there is
 * refused: O_NOFOLLOW makes the kernel enforce it, whatever the lists say.
 */
static int enter_dir(struct ex *x, struct tgt *t, int pfd,
	const char *leaf, const char *rel, bool create, int *out)
{
	bool made = false;
	int fd;

	*out = -1;
	if (create && mkdirat(pfd, leaf, 0700) == 0) {
		made = true;
		rip_strlist_push(&t->dirs, rel);
	} else if (create && errno != EEXIST) {
		return rip_err_errno(x->err, RIP_EIO, "cannot create folder "
			"'%s/%s'", t->dest, rel);
	}
	fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return rip_err_set(x->err, RIP_ESECURITY, "entry '%s' lies below "
			"'payload/%s', which is a symlink or a file; nothing is "
			"extracted through one", x->cur ? x->cur : rel, rel);
	if (fd < 0)
		return rip_err_errno(x->err, RIP_EIO, "cannot open folder "
			"'%s/%s'", t->dest, rel);
	if (made && fchmod(fd, 0755) < 0) {
		close(fd);
		return rip_err_errno(x->err, RIP_EIO, "cannot chmod folder "
			"'%s/%s'", t->dest, rel);
	}
	*out = fd;
	return 0;
}

/* Opens folder rel below the root component by component ("" is root). */
static int open_folder(struct ex *x, struct tgt *t, const char *rel,
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
		rc = enter_dir(x, t, cur, s, path, create, &next);
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
static int parent_of(struct ex *x, struct tgt *t, const char *rel, int *pfd,
	const char **leaf)
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
	rc = open_folder(x, t, dir, true, &fd);
	free(dir);
	if (rc < 0)
		return rc;
	t->cache_fd = fd;
	rip_buf_add(&t->cache_rel, rel, dl);
	*pfd = fd;
	return 0;
}

/* The names of entry e, copied, read as UTF-8 like artifact.c does. */
static void header_names(char **path, char **target,
	struct archive_entry *e)
{
	locale_t old = rip_utf8_enter();
	const char *p = archive_entry_pathname(e) ?
		archive_entry_pathname(e) : archive_entry_pathname_utf8(e);
	const char *l = archive_entry_symlink(e) ?
		archive_entry_symlink(e) : archive_entry_symlink_utf8(e);

	*path = p ? rip_xstrdup(p) : NULL;
	*target = l ? rip_xstrdup(l) : NULL;
	rip_utf8_leave(old);
}

static int header_kind(struct rip_artifact_entry *out, mode_t type,
	struct rip_err *err)
{
	switch (type) {
	case AE_IFDIR:
		out->kind = RIP_ART_DIR;
		return 0;
	case AE_IFREG:
		out->kind = RIP_ART_FILE;
		return 0;
	case AE_IFLNK:
		out->kind = RIP_ART_LINK;
		if (!out->target)
			return rip_err_set(err, RIP_ESECURITY, "link '%s' has no "
				"target", out->path);
		return 0;
	default:
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' is a device, "
			"fifo or socket; artifacts hold files, folders and links",
			out->path);
	}
}

/* The reader's refusals (artifact.c), again: the file may have changed. */
static int check_header(struct rip_artifact_entry *out,
	struct archive_entry *e, struct rip_err *err)
{
	mode_t type = archive_entry_filetype(e);
	mode_t mode = archive_entry_mode(e);
	size_t len;

	header_names(&out->path, &out->target, e);
	if (!out->path) {
		rip_err_set(err, RIP_ESECURITY, "an entry has no name");
		return RIP_ESECURITY;
	}
	len = strlen(out->path);
	if (type == AE_IFDIR && len > 1 && out->path[len - 1] == '/')
		out->path[--len] = '\0';
	if (!rip_artifact_path_safe(out->path) ||
	    (!in_dir(out->path, "payload") && !in_dir(out->path, "ripcord")))
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' is outside "
			"payload/ and ripcord/ (hostile or not a ripcord "
			"artifact)", out->path);
	/* "payload/x/" as a file or link, or "payload//": no name to make */
	if (out->path[len - 1] == '/')
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' has an empty "
			"last name", out->path);
	if (archive_entry_hardlink(e))
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' is a hard "
			"link; artifacts have none", out->path);
	if (archive_entry_sparse_count(e) > 0)
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' is sparse; "
			"artifacts have none", out->path);
	if (mode & (S_ISUID | S_ISGID | S_ISVTX))
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' has setuid, "
			"setgid or sticky bits", out->path);
	out->mode = (unsigned)(mode & 0777);
	return header_kind(out, type, err);
}

/* One data block of entry it: contiguous, within the first read's size
 * and within the expansion bound. */
static int check_block(struct ex *x, const struct rip_artifact_entry *it,
	la_int64_t off, size_t len, uint64_t limit)
{
	if (off < 0 || (uint64_t)off != it->size)
		return rip_err_set(x->err, RIP_ESECURITY, "entry '%s' has holes "
			"(sparse data); artifacts have none", it->path);
	if (len > limit - it->size)
		return rip_err_set(x->err, RIP_EINTEGRITY, "entry '%s' grew since "
			"the first read (the artifact changed while it was being "
			"extracted)", it->path);
	x->total += len;
	if (x->total > RATIO_FLOOR && x->total / MAX_RATIO > x->src.size)
		return rip_err_set(x->err, RIP_ESECURITY, "entry '%s' expands "
			"beyond %u times the compressed size (a decompression "
			"bomb?)", it->path, MAX_RATIO);
	return 0;
}

/* One block to the open file of every destination of the batch. */
static int write_block(struct ex *x, const struct rip_artifact_entry *it,
	const void *buf, size_t len)
{
	for_batch(x, t)
		if (rip_write_all(t->fd, buf, len) < 0)
			return rip_err_errno(x->err, RIP_EIO, "cannot write "
				"'%s/%s'", t->dest, it->path + strlen("payload/"));
	return 0;
}

/* Streams the current entry's data into the batch's files, hashing it;
 * checks want. */
static int copy_data(struct ex *x, struct rip_artifact_entry *it,
	uint64_t limit, const unsigned char want[RIP_SHA256_LEN])
{
	struct rip_sha256 sha;
	const void *buf;
	size_t len;
	la_int64_t off;
	int st, rc = 0;

	rip_sha256_init(&sha);
	while ((st = archive_read_data_block(x->a, &buf, &len, &off)) ==
			ARCHIVE_OK) {
		if ((rc = check_block(x, it, off, len, limit)) < 0 ||
		    (rc = write_block(x, it, buf, len)) < 0)
			break;
		rip_sha256_update(&sha, buf, len);
		it->size += len;
	}
	if (rc < 0) {
		rip_sha256_release(&sha);
		return rc;
	}
	rip_sha256_final(it->digest, &sha);
	if (st != ARCHIVE_EOF)
		return rip_err_set(x->err, RIP_EINTEGRITY, "entry '%s' is damaged: "
			"%s", it->path, archive_error_string(x->a));
	if (memcmp(it->digest, want, RIP_SHA256_LEN)) {
		char hex_want[RIP_SHA256_HEX], hex_got[RIP_SHA256_HEX];

		rip_hex(hex_want, want, RIP_SHA256_LEN);
		rip_hex(hex_got, it->digest, RIP_SHA256_LEN);
		return rip_err_set(x->err, RIP_EINTEGRITY, "file '%s': sha256 "
			"expected %s, actual %s", it->path, hex_want, hex_got);
	}
	return 0;
}

static int exists_error(struct ex *x, const struct tgt *t, const char *rel)
{
	if (errno == EEXIST)
		return rip_err_set(x->err, RIP_ESECURITY, "entry '%s' would "
			"replace what an earlier entry made (listed twice?)", x->cur);
	return rip_err_errno(x->err, RIP_EIO, "cannot create '%s/%s'", t->dest,
		rel);
}

/* Creates file rel, 0600, in every destination of the batch. */
static int open_files(struct ex *x, const char *rel)
{
	for_batch(x, t) {
		const char *leaf;
		int pfd, rc = parent_of(x, t, rel, &pfd, &leaf);

		if (rc < 0)
			return rc;
		t->fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL |
			O_NOFOLLOW | O_CLOEXEC, 0600);
		if (t->fd < 0)
			return exists_error(x, t, rel);
	}
	return 0;
}

/* Closes what open_files opened; with rc 0 so far, each file gets its
 * mode first (sync_folders makes it durable). Returns the first error. */
static int close_files(struct ex *x, const char *rel, unsigned mode, int rc)
{
	for_batch(x, t) {
		if (t->fd < 0)
			continue;
		if (rc == 0 && fchmod(t->fd, mode) < 0)
			rc = rip_err_errno(x->err, RIP_EIO, "cannot finish "
				"'%s/%s'", t->dest, rel);
		if (close(t->fd) < 0 && rc == 0)
			rc = rip_err_errno(x->err, RIP_EIO, "cannot close "
				"'%s/%s'", t->dest, rel);
		t->fd = -1;
	}
	return rc;
}

static int write_file(struct ex *x, struct rip_artifact_entry *it,
	const char *rel, const struct rip_artifact_entry *first)
{
	const struct rip_sum *s = rip_sums_find(&x->sums, it->path);
	int rc;

	if (!s)
		return rip_err_set(x->err, RIP_EINTEGRITY, "file '%s' is not "
			"listed in SHA256SUMS", it->path);
	if (it->mode != 0644 && it->mode != 0755)
		return rip_err_set(x->err, RIP_EINTEGRITY, "file '%s' has mode "
			"%03o (expected 644 or 755)", it->path, it->mode);
	rc = open_files(x, rel);
	if (rc == 0)
		rc = copy_data(x, it, first->size, s->digest);
	if ((rc = close_files(x, rel, it->mode, rc)) < 0)
		return rc;
	x->sum_done[s - x->sums.v] = true;
	x->res.files++;
	x->res.bytes += it->size;
	return 0;
}

static int make_link(struct ex *x, const struct rip_artifact_entry *it,
	const char *rel)
{
	const struct rip_sum *s = rip_sums_find(&x->links, it->path);

	if (!s)
		return rip_err_set(x->err, RIP_EINTEGRITY, "link '%s' is not "
			"listed in LINKS", it->path);
	if (strcmp(s->target, it->target))
		return rip_err_set(x->err, RIP_EINTEGRITY, "link '%s': target "
			"expected '%s', actual '%s'", it->path, s->target,
			it->target);
	/* the walk to the parent refuses any symlink on the way */
	for_batch(x, t) {
		const char *leaf;
		int pfd, rc = parent_of(x, t, rel, &pfd, &leaf);

		if (rc < 0)
			return rc;
		if (symlinkat(it->target, pfd, leaf) < 0)
			return exists_error(x, t, rel);
	}
	x->link_done[s - x->links.v] = true;
	x->res.links++;
	return 0;
}

static int make_dir(struct ex *x, const struct rip_artifact_entry *it,
	const char *rel)
{
	if (!rip_sums_has_below(&x->sums, it->path) &&
	    !rip_sums_has_below(&x->links, it->path) &&
	    !rip_manifest_holds_submodule(x->m, it->path))
		return rip_err_set(x->err, RIP_EINTEGRITY, "folder '%s' is not "
			"part of any listed path (unlisted entry)", it->path);
	for_batch(x, t) {
		const char *leaf;
		int pfd, fd, rc = parent_of(x, t, rel, &pfd, &leaf);

		if (rc < 0)
			return rc;
		/* an earlier entry may have made it already, as a parent */
		if ((rc = enter_dir(x, t, pfd, leaf, rel, true, &fd)) < 0)
			return rc;
		close(fd);
	}
	return 0;
}

/* Checks the entry against the first read, then writes it if payload. */
static int do_entry(struct ex *x, struct rip_artifact_entry *it)
{
	const struct rip_artifact_entry *first = first_entry(x, it->path);
	const char *rel;

	if (!first || first->kind != it->kind)
		return rip_err_set(x->err, RIP_EINTEGRITY, "entry '%s' differs "
			"from the first read (the artifact changed while it was "
			"being extracted)", it->path);
	if (!in_dir(it->path, "payload"))
		return 0;       /* ripcord/ metadata is not extracted */
	if (!strcmp(it->path, "payload"))
		return it->kind == RIP_ART_DIR ? 0 :
			rip_err_set(x->err, RIP_ESECURITY, "entry 'payload' is not "
				"a folder");
	rel = it->path + strlen("payload/");
	x->cur = it->path;
	switch (it->kind) {
	case RIP_ART_FILE:
		return write_file(x, it, rel, first);
	case RIP_ART_LINK:
		return make_link(x, it, rel);
	case RIP_ART_DIR:
		return make_dir(x, it, rel);
	}
	return 0;
}

static int open_stream(struct ex *x, const char *art)
{
	x->src.fd = open(art, O_RDONLY | O_CLOEXEC);
	if (x->src.fd < 0)
		return rip_err_errno(x->err, RIP_EIO, "cannot open artifact "
			"'%s'", art);
	rip_sha256_init(&x->src.sha);
	x->a = archive_read_new();
	if (!x->a)
		abort();
	archive_read_support_filter_zstd(x->a);
	archive_read_support_format_tar(x->a);
	if (archive_read_open2(x->a, &x->src, NULL, read_cb, NULL, NULL) !=
		    ARCHIVE_OK || archive_filter_count(x->a) < 2 ||
	    archive_filter_code(x->a, 0) != ARCHIVE_FILTER_ZSTD)
		return rip_err_set(x->err, RIP_EINTEGRITY, "the artifact is no "
			"longer a zstd tar (it changed while it was being "
			"extracted)");
	return 0;
}

/* The end of the stream: the whole file must be the one read first. */
static int check_same_file(struct ex *x, const char *art, int st)
{
	unsigned char digest[RIP_SHA256_LEN];
	const void *tail;
	la_ssize_t n;

	if (st != ARCHIVE_EOF && x->src.io_errno) {
		errno = x->src.io_errno;
		return rip_err_errno(x->err, RIP_EIO, "cannot read '%s'", art);
	}
	if (st != ARCHIVE_EOF)
		return rip_err_set(x->err, RIP_EINTEGRITY, "damaged archive: %s",
			archive_error_string(x->a));
	while ((n = read_cb(x->a, &x->src, &tail)) > 0)
		;
	if (n < 0) {
		errno = x->src.io_errno;
		return rip_err_errno(x->err, RIP_EIO, "cannot read '%s'", art);
	}
	rip_sha256_final(digest, &x->src.sha);
	if (memcmp(digest, x->c.file_digest, RIP_SHA256_LEN))
		return rip_err_set(x->err, RIP_EINTEGRITY, "the artifact changed "
			"while it was being extracted (its sha256 differs from "
			"the first read's)");
	return 0;
}

static int second_pass(struct ex *x, const char *art)
{
	struct archive_entry *e;
	int rc, st;

	if ((rc = open_stream(x, art)) < 0)
		return rc;
	for (;;) {
		struct rip_artifact_entry it = { 0 };
		locale_t old = rip_utf8_enter();

		st = archive_read_next_header(x->a, &e);
		rip_utf8_leave(old);
		if (st != ARCHIVE_OK && st != ARCHIVE_WARN)
			break;
		rc = check_header(&it, e, x->err);
		if (rc == 0)
			rc = do_entry(x, &it);
		x->cur = NULL;
		free(it.path);
		free(it.target);
		if (rc < 0)
			return rc;
	}
	return check_same_file(x, art, st);
}

/* Every listed payload path written, and as many as MANIFEST says. */
static int check_complete(struct ex *x)
{
	const struct rip_manifest *m = x->m;

	for (size_t i = 0; i < x->sums.n; i++)
		if (starts(x->sums.v[i].path, "payload/") && !x->sum_done[i])
			return rip_err_set(x->err, RIP_EINTEGRITY, "'%s' is listed "
				"in SHA256SUMS but missing from the artifact",
				x->sums.v[i].path);
	for (size_t i = 0; i < x->links.n; i++)
		if (starts(x->links.v[i].path, "payload/") && !x->link_done[i])
			return rip_err_set(x->err, RIP_EINTEGRITY, "'%s' is listed "
				"in LINKS but missing from the artifact",
				x->links.v[i].path);
	if (x->res.files != m->files || x->res.bytes != m->bytes ||
	    x->res.links != m->links)
		return rip_err_set(x->err, RIP_EINTEGRITY, "MANIFEST says %llu "
			"files, %llu bytes, %llu links; the payload has %llu, %llu, "
			"%llu", (unsigned long long)m->files,
			(unsigned long long)m->bytes, (unsigned long long)m->links,
			(unsigned long long)x->res.files,
			(unsigned long long)x->res.bytes,
			(unsigned long long)x->res.links);
	return 0;
}

/*
 * Makes everything written below t durable before it is renamed into
 * place: one syncfs(2) of its filesystem (files and folders alike, and
 * with Linux 5.8 and later it reports their write-back errors) instead of
 * an fsync per file, which cost ~95% of an extraction on a real disk.
 */
static int sync_folders(struct ex *x, struct tgt *t)
{
	cache_drop(t);
	if (fchmod(t->root, 0755) < 0 || syncfs(t->root) < 0)
		return rip_err_errno(x->err, RIP_EIO, "cannot finish '%s'",
			t->tmp);
	return 0;
}

static void stream_close(struct ex *x)
{
	archive_read_free(x->a);
	x->a = NULL;
	if (x->src.sha.ctx)
		rip_sha256_release(&x->src.sha);
	if (x->src.fd >= 0)
		close(x->src.fd);
	x->src.fd = -1;
}

/* Back to before the second pass, for the next batch's stream. */
static void stream_reset(struct ex *x)
{
	stream_close(x);
	x->src.size = 0;
	x->src.io_errno = 0;
	x->total = 0;
	memset(&x->res, 0, sizeof(x->res));
	memset(x->sum_done, 0, (x->sums.n + 1) * sizeof(bool));
	memset(x->link_done, 0, (x->links.n + 1) * sizeof(bool));
}

/*
 * One stream into the batch t[lo, hi): every entry checked and written to
 * each destination, then each one's folders fsynced and its fds closed,
 * ready to be renamed.
 */
static int fill_batch(struct ex *x, const char *art)
{
	int rc;

	stream_reset(x);
	for_batch(x, t)
		if ((rc = open_root(x, t)) < 0)
			return rc;
	if ((rc = second_pass(x, art)) < 0 || (rc = check_complete(x)) < 0)
		return rc;
	for_batch(x, t) {
		if ((rc = sync_folders(x, t)) < 0)
			return rc;
		close(t->root);
		t->root = -1;
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

/* rename(2) that never replaces: an empty folder at dest is no excuse. */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* a file system without RENAME_NOREPLACE: best effort */
	if (rip_path_exists(to)) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

static int rename_one(struct ex *x, struct tgt *t)
{
	if (rename_noreplace(t->tmp, t->dest) < 0)
		return errno == EEXIST || errno == ENOTEMPTY ?
			rip_err_set(x->err, RIP_EEXISTS, "'%s' appeared while the "
				"artifact was being extracted", t->dest) :
			rip_err_errno(x->err, RIP_EIO, "cannot rename '%s' to "
				"'%s'", t->tmp, t->dest);
	t->renamed = true;
	return 0;
}

static int fsync_parent(struct ex *x, const struct tgt *t)
{
	char *parent = rip_path_dirname(t->dest);
	int rc = rip_fsync_dir(parent, x ? x->err : NULL);

	free(parent);
	return rc;
}

/*
 * Every folder renamed to its dest, then every parent fsynced. On any
 * failure the renames made are taken back, so failure still means no
 * dest (across file systems the renames cannot be one atomic step).
 */
static int commit(struct ex *x)
{
	int rc = 0;

	for (size_t i = 0; i < x->n && rc == 0; i++)
		rc = rename_one(x, &x->t[i]);
	for (size_t i = 0; i < x->n && rc == 0; i++)
		rc = fsync_parent(x, &x->t[i]);
	if (rc == 0)
		return 0;
	for (size_t i = 0; i < x->n; i++) {
		struct tgt *t = &x->t[i];

		if (t->renamed && rename_noreplace(t->dest, t->tmp) == 0) {
			t->renamed = false;
			/* best effort: a crash now should not bring it back */
			(void)fsync_parent(NULL, t);
		}
	}
	return rc;
}

static int rm_cb(const char *path, const struct stat *sb, int flag,
	struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;   /* remove what can be removed */
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

static void ex_free(struct ex *x, bool failed)
{
	/* every fd first: the removal walks need some */
	for (size_t i = 0; i < x->n; i++)
		tgt_close(&x->t[i]);
	for (size_t i = 0; i < x->n; i++) {
		struct tgt *t = &x->t[i];

		if (failed && t->tmp && !t->renamed)
			nftw(t->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		rip_strlist_release(&t->dirs);
		rip_buf_release(&t->cache_rel);
		free(t->tmp);
		free(t->dest);
	}
	free(x->t);
	stream_close(x);
	rip_artifact_contents_release(&x->c);
	rip_manifest_free(x->m);
	rip_sums_release(&x->sums);
	rip_sums_release(&x->links);
	free(x->sum_done);
	free(x->link_done);
	free(x);
}

static struct ex *ex_new(const char *const *dests, size_t n,
	struct rip_err *err)
{
	struct ex *x = rip_xcalloc(1, sizeof(*x));

	x->err = err;
	x->n = n;
	x->t = rip_xcalloc(n, sizeof(*x->t));
	for (size_t i = 0; i < n; i++) {
		struct tgt *t = &x->t[i];
		const char *d = dests[i] ? dests[i] : "";
		size_t len = strlen(d);

		while (len > 1 && d[len - 1] == '/')
			len--;
		t->dest = rip_xstrndup(d, len);
		t->root = t->cache_fd = t->fd = -1;
		rip_buf_init(&t->cache_rel, 0);
	}
	x->src.fd = -1;
	rip_buf_init(&x->c.manifest, 0);
	rip_buf_init(&x->c.sums, 0);
	rip_buf_init(&x->c.links, 0);
	return x;
}

/* Two names for one folder ("r/x", "./r/x"): same parent, same name. */
static bool same_folder(const struct tgt *a, const struct tgt *b)
{
	const char *na = strrchr(a->dest, '/'), *nb = strrchr(b->dest, '/');

	return a->parent.st_ino && a->parent.st_ino == b->parent.st_ino &&
		a->parent.st_dev == b->parent.st_dev &&
		!strcmp(na ? na + 1 : a->dest, nb ? nb + 1 : b->dest);
}

/* What can be refused before any work: no dest, one that exists, one
 * folder named twice (it would be filled twice, then refused). */
static int check_dests(struct ex *x)
{
	if (!x->n)
		return rip_err_set(x->err, RIP_EUSAGE, "no folder to extract "
			"into");
	for (size_t i = 0; i < x->n; i++) {
		struct tgt *t = &x->t[i];
		char *parent = rip_path_dirname(t->dest);

		/* a missing parent is make_temp's to report */
		if (stat(parent, &t->parent) < 0)
			t->parent.st_ino = 0;
		free(parent);
		if (!*t->dest)
			return rip_err_set(x->err, RIP_EUSAGE, "no folder to "
				"extract into");
		if (rip_path_exists(t->dest))
			return rip_err_set(x->err, RIP_EEXISTS, "'%s' already "
				"exists; extraction never writes into an existing "
				"folder", t->dest);
		for (size_t j = 0; j < i; j++)
			if (same_folder(&x->t[j], t))
				return rip_err_set(x->err, RIP_EUSAGE, "'%s' and "
					"'%s' are the same folder; name each "
					"destination once", x->t[j].dest, t->dest);
	}
	return 0;
}

int rip_extract_payload_many(struct rip_extract_result *out,
	const char *artifact_path, const char *const *dests, size_t n,
	struct rip_err *err)
{
	struct ex *x = ex_new(dests, n, err);
	size_t batch;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_dests(x)) < 0 ||
	    (rc = first_pass(x, artifact_path)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		if ((rc = make_temp(x, &x->t[i])) < 0)
			goto done;
	batch = batch_size(n);
	for (x->lo = 0; x->lo < n; x->lo = x->hi) {
		x->hi = x->lo + (n - x->lo < batch ? n - x->lo : batch);
		if ((rc = fill_batch(x, artifact_path)) < 0)
			goto done;
	}
	if ((rc = commit(x)) < 0)
		goto done;
	*out = x->res;
done:
	if (rc < 0)
		rip_err_prefix(err, "extracting '%s'", artifact_path);
	ex_free(x, rc < 0);
	return rc;
}

int rip_extract_payload(struct rip_extract_result *out,
	const char *artifact_path, const char *dest, struct rip_err *err)
{
	return rip_extract_payload_many(out, artifact_path, &dest, 1, err);
}
