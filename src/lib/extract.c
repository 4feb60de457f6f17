/* SPDX-License-Identifier: MIT */
/*
 * extract.c: a release's payload onto disk, whole or not at all.
 *
 * Two passes over the artifact. The first is rip_artifact_read: every
 * hostile-archive rule, and SHA256SUMS, LINKS and MANIFEST in hand (they
 * sort after payload/, so a single pass would learn the digests too
 * late). The second streams payload/ below a fresh .<dest>.tmp-XXXXXX
 * beside dest: each entry is checked again (the file may have changed
 * in between), matched against the lists, and written relative to folder
 * fds with O_NOFOLLOW|O_EXCL, so nothing is ever written through a
 * symlink, not even one the artifact itself just created. The compressed
 * stream is hashed again and must equal the first read's digest. Only
 * when everything matched are files and folders fsynced and the folder
 * renamed to dest (never over anything); on any failure it is removed,
 * so dest never exists half-made.
 *
 * Invariants: no path is opened from a string longer than one component
 * below a folder fd we created; files are created 0600 and fchmod'ed to
 * the artifact's 0644/0755 (umask-proof); folders end 0755.
 *
 * Deviation from STYLE.md rule 3 (one wrapper per library): artifact.h
 * has no streaming reader, so the second pass calls libarchive here
 * (open, next header, data blocks) and repeats artifact.c's refusals and
 * expansion bound rather than changing that file.
 *
 * Tuned for safety, then speed: the artifact is read twice at disk speed;
 * one folder fd is cached, since entries arrive sorted by folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The compressed stream of the second pass, hashed as it is read. */
struct src {
	int fd;
	struct rip_sha256 sha;
	uint64_t size;
	int io_errno;
	unsigned char buf[1 << 16];
};

struct ex {
	char *dest;                  /* without trailing slashes */
	struct rip_err *err;
	/* the first pass */
	struct rip_artifact_contents c;
	struct rip_manifest *m;
	struct rip_sums sums;
	struct rip_sums links;
	bool *sum_done;
	bool *link_done;
	/* the folder being filled */
	char *tmp;
	int root;
	bool renamed;
	int cache_fd;                /* folder of the previous entry */
	struct rip_buf cache_rel;
	struct rip_strlist dirs;     /* created, relative to root */
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

static int make_temp(struct ex *x)
{
	/* a dot-name: a folder left by a crash is never taken for a release */
	char *dir = rip_path_dirname(x->dest);
	const char *base = strrchr(x->dest, '/');

	x->tmp = rip_xasprintf("%s/.%s.tmp-XXXXXX", dir, base ? base + 1 :
		x->dest);
	free(dir);
	if (!mkdtemp(x->tmp)) {
		int rc = rip_err_errno(x->err, errno == ENOENT ? RIP_ENOTFOUND :
			RIP_EIO, "cannot create a folder beside '%s'", x->dest);

		free(x->tmp);
		x->tmp = NULL;
		return rc;
	}
	x->root = open(x->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x->root < 0)
		return rip_err_errno(x->err, RIP_EIO, "cannot open '%s'", x->tmp);
	return 0;
}

/*
 * Opens folder leaf of pfd (rel: its path below the root), creating it
 * when create is set and it is absent. A symlink or a file there is
 * refused: O_NOFOLLOW makes the kernel enforce it, whatever the lists say.
 */
static int enter_dir(struct ex *x, int pfd, const char *leaf,
	const char *rel, bool create, int *out)
{
	bool made = false;
	int fd;

	*out = -1;
	if (create && mkdirat(pfd, leaf, 0700) == 0) {
		made = true;
		rip_strlist_push(&x->dirs, rel);
	} else if (create && errno != EEXIST) {
		return rip_err_errno(x->err, RIP_EIO, "cannot create folder "
			"'%s/%s'", x->dest, rel);
	}
	fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return rip_err_set(x->err, RIP_ESECURITY, "entry '%s' lies below "
			"'payload/%s', which is a symlink or a file; nothing is "
			"extracted through one", x->cur ? x->cur : rel, rel);
	if (fd < 0)
		return rip_err_errno(x->err, RIP_EIO, "cannot open folder "
			"'%s/%s'", x->dest, rel);
	if (made && fchmod(fd, 0755) < 0) {
		close(fd);
		return rip_err_errno(x->err, RIP_EIO, "cannot chmod folder "
			"'%s/%s'", x->dest, rel);
	}
	*out = fd;
	return 0;
}

/* Opens folder rel below the root component by component ("" is root). */
static int open_folder(struct ex *x, const char *rel, bool create, int *out)
{
	char *path = rip_xstrdup(rel);
	char *s = path;
	int cur = x->root, rc = 0;

	while (*s && rc == 0) {
		char *slash = strchr(s, '/');
		int next;

		if (slash)
			*slash = '\0';
		/* path now reads as the folder's own relative path */
		rc = enter_dir(x, cur, s, path, create, &next);
		if (cur != x->root)
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

static void cache_drop(struct ex *x)
{
	if (x->cache_fd >= 0 && x->cache_fd != x->root)
		close(x->cache_fd);
	x->cache_fd = -1;
	rip_buf_reset(&x->cache_rel);
}

/* The folder fd that holds rel, and rel's last component. */
static int parent_of(struct ex *x, const char *rel, int *pfd,
	const char **leaf)
{
	const char *slash = strrchr(rel, '/');
	size_t dl = slash ? (size_t)(slash - rel) : 0;
	char *dir;
	int rc, fd;

	*leaf = slash ? slash + 1 : rel;
	if (x->cache_fd >= 0 && x->cache_rel.len == dl &&
	    !memcmp(x->cache_rel.buf, rel, dl)) {
		*pfd = x->cache_fd;
		return 0;
	}
	cache_drop(x);
	dir = rip_xstrndup(rel, dl);
	rc = open_folder(x, dir, true, &fd);
	free(dir);
	if (rc < 0)
		return rc;
	x->cache_fd = fd;
	rip_buf_add(&x->cache_rel, rel, dl);
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

/* Streams the current entry's data into fd, hashing it; checks want. */
static int copy_data(struct ex *x, struct rip_artifact_entry *it, int fd,
	uint64_t limit, const unsigned char want[RIP_SHA256_LEN])
{
	char hex_want[RIP_SHA256_HEX], hex_got[RIP_SHA256_HEX];
	struct rip_sha256 sha;
	const void *buf;
	size_t len;
	la_int64_t off;
	int st, rc = 0;

	rip_sha256_init(&sha);
	while ((st = archive_read_data_block(x->a, &buf, &len, &off)) ==
			ARCHIVE_OK) {
		if ((rc = check_block(x, it, off, len, limit)) < 0)
			break;
		if (rip_write_all(fd, buf, len) < 0) {
			rc = rip_err_errno(x->err, RIP_EIO, "cannot write '%s/%s'",
				x->dest, it->path + strlen("payload/"));
			break;
		}
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
		rip_hex(hex_want, want, RIP_SHA256_LEN);
		rip_hex(hex_got, it->digest, RIP_SHA256_LEN);
		return rip_err_set(x->err, RIP_EINTEGRITY, "file '%s': sha256 "
			"expected %s, actual %s", it->path, hex_want, hex_got);
	}
	return 0;
}

static int exists_error(struct ex *x, const char *rel)
{
	if (errno == EEXIST)
		return rip_err_set(x->err, RIP_ESECURITY, "entry '%s' would "
			"replace what an earlier entry made (listed twice?)", x->cur);
	return rip_err_errno(x->err, RIP_EIO, "cannot create '%s/%s'", x->dest,
		rel);
}

static int write_file(struct ex *x, struct rip_artifact_entry *it,
	const char *rel, const struct rip_artifact_entry *first)
{
	const struct rip_sum *s = rip_sums_find(&x->sums, it->path);
	const char *leaf;
	int pfd, fd, rc;

	if (!s)
		return rip_err_set(x->err, RIP_EINTEGRITY, "file '%s' is not "
			"listed in SHA256SUMS", it->path);
	if (it->mode != 0644 && it->mode != 0755)
		return rip_err_set(x->err, RIP_EINTEGRITY, "file '%s' has mode "
			"%03o (expected 644 or 755)", it->path, it->mode);
	if ((rc = parent_of(x, rel, &pfd, &leaf)) < 0)
		return rc;
	fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		O_CLOEXEC, 0600);
	if (fd < 0)
		return exists_error(x, rel);
	rc = copy_data(x, it, fd, first->size, s->digest);
	if (rc == 0 && (fchmod(fd, it->mode) < 0 || fsync(fd) < 0))
		rc = rip_err_errno(x->err, RIP_EIO, "cannot finish '%s/%s'",
			x->dest, rel);
	if (close(fd) < 0 && rc == 0)
		rc = rip_err_errno(x->err, RIP_EIO, "cannot close '%s/%s'",
			x->dest, rel);
	if (rc < 0)
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
	const char *leaf;
	int pfd, rc;

	if (!s)
		return rip_err_set(x->err, RIP_EINTEGRITY, "link '%s' is not "
			"listed in LINKS", it->path);
	if (strcmp(s->target, it->target))
		return rip_err_set(x->err, RIP_EINTEGRITY, "link '%s': target "
			"expected '%s', actual '%s'", it->path, s->target,
			it->target);
	/* the walk to the parent refuses any symlink on the way */
	if ((rc = parent_of(x, rel, &pfd, &leaf)) < 0)
		return rc;
	if (symlinkat(it->target, pfd, leaf) < 0)
		return exists_error(x, rel);
	x->link_done[s - x->links.v] = true;
	x->res.links++;
	return 0;
}

static int make_dir(struct ex *x, const struct rip_artifact_entry *it,
	const char *rel)
{
	const char *leaf;
	int pfd, fd, rc;

	if (!rip_sums_has_below(&x->sums, it->path) &&
	    !rip_sums_has_below(&x->links, it->path) &&
	    !rip_manifest_holds_submodule(x->m, it->path))
		return rip_err_set(x->err, RIP_EINTEGRITY, "folder '%s' is not "
			"part of any listed path (unlisted entry)", it->path);
	if ((rc = parent_of(x, rel, &pfd, &leaf)) < 0)
		return rc;
	/* an earlier entry may have made it already, as a parent */
	if ((rc = enter_dir(x, pfd, leaf, rel, true, &fd)) < 0)
		return rc;
	close(fd);
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

/* fsyncs every folder made, deepest ones included, then the root. */
static int sync_folders(struct ex *x)
{
	int rc = 0, fd;

	cache_drop(x);
	for (size_t i = 0; i < x->dirs.n && rc == 0; i++) {
		if ((rc = open_folder(x, x->dirs.v[i], false, &fd)) < 0)
			break;
		if (fsync(fd) < 0)
			rc = rip_err_errno(x->err, RIP_EIO, "cannot fsync folder "
				"'%s/%s'", x->dest, x->dirs.v[i]);
		close(fd);
	}
	if (rc == 0 && (fchmod(x->root, 0755) < 0 || fsync(x->root) < 0))
		rc = rip_err_errno(x->err, RIP_EIO, "cannot finish '%s'", x->tmp);
	return rc;
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

static int commit(struct ex *x)
{
	char *parent;
	int rc;

	if ((rc = sync_folders(x)) < 0)
		return rc;
	if (rename_noreplace(x->tmp, x->dest) < 0)
		return errno == EEXIST || errno == ENOTEMPTY ?
			rip_err_set(x->err, RIP_EEXISTS, "'%s' appeared while the "
				"artifact was being extracted", x->dest) :
			rip_err_errno(x->err, RIP_EIO, "cannot rename '%s' to "
				"'%s'", x->tmp, x->dest);
	x->renamed = true;
	parent = rip_path_dirname(x->dest);
	rc = rip_fsync_dir(parent, x->err);
	free(parent);
	/* not durable: take it back, so failure still means no dest */
	if (rc < 0 && rename(x->dest, x->tmp) == 0)
		x->renamed = false;
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

static void ex_free(struct ex *x, bool failed)
{
	cache_drop(x);
	if (x->root >= 0)
		close(x->root);
	if (failed && x->tmp && !x->renamed)
		nftw(x->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	archive_read_free(x->a);
	if (x->src.sha.ctx)
		rip_sha256_release(&x->src.sha);
	if (x->src.fd >= 0)
		close(x->src.fd);
	rip_artifact_contents_release(&x->c);
	rip_manifest_free(x->m);
	rip_sums_release(&x->sums);
	rip_sums_release(&x->links);
	rip_strlist_release(&x->dirs);
	rip_buf_release(&x->cache_rel);
	free(x->sum_done);
	free(x->link_done);
	free(x->tmp);
	free(x->dest);
	free(x);
}

static struct ex *ex_new(const char *dest, struct rip_err *err)
{
	struct ex *x = rip_xcalloc(1, sizeof(*x));
	size_t len = strlen(dest);

	while (len > 1 && dest[len - 1] == '/')
		len--;
	x->dest = rip_xstrndup(dest, len);
	x->err = err;
	x->root = x->cache_fd = x->src.fd = -1;
	rip_buf_init(&x->cache_rel, 0);
	rip_buf_init(&x->c.manifest, 0);
	rip_buf_init(&x->c.sums, 0);
	rip_buf_init(&x->c.links, 0);
	return x;
}

int rip_extract_payload(struct rip_extract_result *out,
	const char *artifact_path, const char *dest, struct rip_err *err)
{
	struct ex *x = ex_new(dest, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!*dest) {
		rc = rip_err_set(err, RIP_EUSAGE, "no folder to extract into");
		goto done;
	}
	if (rip_path_exists(x->dest)) {
		rc = rip_err_set(err, RIP_EEXISTS, "'%s' already exists; "
			"extraction never writes into an existing folder", x->dest);
		goto done;
	}
	if ((rc = first_pass(x, artifact_path)) < 0 ||
	    (rc = make_temp(x)) < 0 ||
	    (rc = second_pass(x, artifact_path)) < 0 ||
	    (rc = check_complete(x)) < 0 ||
	    (rc = commit(x)) < 0)
		goto done;
	*out = x->res;
done:
	if (rc < 0)
		rip_err_prefix(err, "extracting '%s'", artifact_path);
	ex_free(x, rc < 0);
	return rc;
}
