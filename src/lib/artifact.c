/* SPDX-License-Identifier: MIT */
/*
 * artifact.c: libarchive, wrapped; the only file that calls it (but for
 * extract.c's second pass), through the table rip_ar loaded on first use
 * (archive_lazy.c): rip_artifact_writer_open and rip_artifact_read_fd,
 * the only ways in, load it.
 *
 * Writing is tuned for cut's speed and reproducibility: pax (restricted:
 * extended headers only where ustar cannot say it), zstd at a fixed level
 * on background threads (zstd's multi-threaded output does not depend on
 * the thread count), and the SHA-256 of the compressed stream taken in the
 * write callback, so the artifact is read zero extra times.
 *
 * Reading trusts nothing: entries are checked as they stream past, sizes
 * and counts are bounded, and no data is ever written to disk here; a
 * caller's sink (a drill's scratch extraction) may write what streams
 * past, and trusts it only once the whole artifact verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <locale.h>
#include <pthread.h>

#include <archive.h>
#include <archive_entry.h>

#include "ripcord/artifact.h"
#include "ripcord/fsutil.h"
#include "archive_internal.h"
#include "banned.h"

/* Metadata files are small; this bounds what a crafted one can cost. */
#define MAX_META (256u << 20)
#define MAX_ENTRIES 10000000u
#define MAX_RATIO RIP_MAX_RATIO
#define RATIO_FLOOR RIP_RATIO_FLOOR

/*
 * Names in pax headers are UTF-8, and libarchive converts through the
 * locale's charset: in the C locale every non-ASCII name fails. git paths
 * are (almost always) UTF-8 bytes, so every libarchive call that handles a
 * name runs with a UTF-8 LC_CTYPE for this thread only (uselocale), never
 * touching the process's locale.
 */
static locale_t utf8;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_init(void)
{
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

locale_t rip_utf8_enter(void)
{
	pthread_once(&utf8_once, utf8_init);
	return utf8 ? uselocale(utf8) : (locale_t)0;
}

void rip_utf8_leave(locale_t old)
{
	if (old)
		uselocale(old);
}

struct rip_artifact_writer {
	struct archive *a;
	struct archive_entry *e;
	int fd;
	int64_t mtime;
	struct rip_sha256 sha;
	uint64_t size;
	bool io_failed;
	int io_errno;
	bool closed;
};

static la_ssize_t write_cb(struct archive *a, void *data, const void *buf,
	size_t len)
{
	struct rip_artifact_writer *w = data;

	(void)a;
	if (rip_write_all(w->fd, buf, len) < 0) {
		w->io_failed = true;
		w->io_errno = errno;
		return -1;
	}
	rip_sha256_update(&w->sha, buf, len);
	w->size += len;
	return (la_ssize_t)len;
}

static int ar_fail(struct rip_artifact_writer *w, struct rip_err *err,
	const char *what, const char *path)
{
	if (w->io_failed) {
		errno = w->io_errno;
		return rip_err_errno(err, RIP_EIO, "%s '%s'", what, path);
	}
	return rip_err_set(err, RIP_EIO, "%s '%s': %s", what, path,
		rip_ar.archive_error_string(w->a) ? rip_ar.archive_error_string(w->a) :
					     "libarchive error");
}

int rip_artifact_writer_open(struct rip_artifact_writer **out, int fd,
	int64_t mtime, struct rip_err *err)
{
	struct rip_artifact_writer *w;
	char threads[16], level[16];
	cpu_set_t set;
	int cpus = 1, rc;

	*out = NULL;
	if ((rc = rip_archive_load(err)) < 0)
		return rc;
	w = rip_xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->mtime = mtime;
	rip_sha256_init(&w->sha);
	w->a = rip_ar.archive_write_new();
	w->e = rip_ar.archive_entry_new();
	if (!w->a || !w->e)
		abort();
	snprintf(level, sizeof(level), "%d", RIP_ZSTD_LEVEL);
	/* never 0: single-threaded zstd output differs from the threaded one */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		cpus = CPU_COUNT(&set);
	snprintf(threads, sizeof(threads), "%d", cpus < 1 ? 1 :
		cpus > 8 ? 8 : cpus);
	if (rip_ar.archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    rip_ar.archive_write_add_filter_zstd(w->a) != ARCHIVE_OK ||
	    rip_ar.archive_write_set_filter_option(w->a, "zstd", "compression-level",
		    level) != ARCHIVE_OK ||
	    rip_ar.archive_write_set_filter_option(w->a, "zstd", "threads",
		    threads) != ARCHIVE_OK ||
	    rip_ar.archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    rip_ar.archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) !=
		    ARCHIVE_OK) {
		rip_err_set(err, RIP_EIO, "cannot start the artifact: %s",
			rip_ar.archive_error_string(w->a));
		rip_artifact_writer_free(w);
		return RIP_EIO;
	}
	*out = w;
	return 0;
}

static void entry_reset(struct rip_artifact_writer *w, const char *path,
	mode_t type, mode_t perm)
{
	rip_ar.archive_entry_clear(w->e);
	rip_ar.archive_entry_set_pathname(w->e, path);
	rip_ar.archive_entry_set_filetype(w->e, type);
	rip_ar.archive_entry_set_perm(w->e, perm);
	rip_ar.archive_entry_set_mtime(w->e, (time_t)w->mtime, 0);
	rip_ar.archive_entry_set_uid(w->e, 0);
	rip_ar.archive_entry_set_gid(w->e, 0);
}

static int write_header(struct rip_artifact_writer *w)
{
	locale_t old = rip_utf8_enter();
	int st = rip_ar.archive_write_header(w->a, w->e);

	rip_utf8_leave(old);
	return st;
}

int rip_artifact_add_dir(struct rip_artifact_writer *w, const char *path,
	struct rip_err *err)
{
	entry_reset(w, path, AE_IFDIR, 0755);
	if (write_header(w) != ARCHIVE_OK)
		return ar_fail(w, err, "cannot add folder", path);
	return 0;
}

int rip_artifact_add_file(struct rip_artifact_writer *w, const char *path,
	bool exec, const void *data, size_t len, struct rip_err *err)
{
	entry_reset(w, path, AE_IFREG, exec ? 0755 : 0644);
	rip_ar.archive_entry_set_size(w->e, (la_int64_t)len);
	if (write_header(w) != ARCHIVE_OK)
		return ar_fail(w, err, "cannot add file", path);
	if (len && rip_ar.archive_write_data(w->a, data, len) != (la_ssize_t)len)
		return ar_fail(w, err, "cannot write file", path);
	return 0;
}

int rip_artifact_add_link(struct rip_artifact_writer *w, const char *path,
	const char *target, struct rip_err *err)
{
	entry_reset(w, path, AE_IFLNK, 0777);
	rip_ar.archive_entry_set_symlink(w->e, target);
	if (write_header(w) != ARCHIVE_OK)
		return ar_fail(w, err, "cannot add link", path);
	return 0;
}

int rip_artifact_writer_close(struct rip_artifact_writer *w,
	unsigned char digest[RIP_SHA256_LEN], uint64_t *size,
	struct rip_err *err)
{
	w->closed = true;
	if (rip_ar.archive_write_close(w->a) != ARCHIVE_OK)
		return ar_fail(w, err, "cannot finish", "artifact");
	rip_sha256_final(digest, &w->sha);
	*size = w->size;
	return 0;
}

void rip_artifact_writer_free(struct rip_artifact_writer *w)
{
	if (!w)
		return;
	/* archive_write_fail leaks the zstd filter's buffers (libarchive
	 * 3.6); closing writes the tail into a temporary file that the caller
	 * removes anyway */
	if (w->a && !w->closed)
		rip_ar.archive_write_close(w->a);
	rip_ar.archive_write_free(w->a);
	rip_ar.archive_entry_free(w->e);
	if (w->sha.ctx)
		rip_sha256_release(&w->sha);
	free(w);
}

/* Reading */

struct reader {
	int fd;
	struct rip_sha256 sha;
	uint64_t size;
	unsigned char buf[1 << 16];
	int io_errno;
};

static la_ssize_t read_cb(struct archive *a, void *data, const void **buf)
{
	struct reader *r = data;
	ssize_t n;

	(void)a;
	do
		n = read(r->fd, r->buf, sizeof(r->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->io_errno = errno;
		return -1;
	}
	rip_sha256_update(&r->sha, r->buf, (size_t)n);
	r->size += (uint64_t)n;
	*buf = r->buf;
	return n;
}

bool rip_artifact_path_safe(const char *path)
{
	const char *s = path;

	if (!*path || path[0] == '/')
		return false;
	while (*s) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);

		if (len == 0 && slash && slash[1])
			return false;  /* "a//b" */
		if ((len == 1 && s[0] == '.') ||
		    (len == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		if (!slash)
			break;
		s = slash + 1;
	}
	return true;
}

static struct rip_buf *meta_slot(struct rip_artifact_contents *c,
	const char *path)
{
	if (!strcmp(path, "ripcord/MANIFEST"))
		return &c->manifest;
	if (!strcmp(path, "ripcord/SHA256SUMS"))
		return &c->sums;
	if (!strcmp(path, "ripcord/LINKS"))
		return &c->links;
	return NULL;
}

/* Checks one header; fills in everything but the content digest. */
static int check_entry(struct rip_artifact_entry *out,
	struct archive_entry *e, struct rip_err *err)
{
	/* names as bytes; a UTF-8 name the C locale cannot show comes back
	 * through the _utf8 accessor */
	const char *path = rip_ar.archive_entry_pathname(e) ?
		rip_ar.archive_entry_pathname(e) : rip_ar.archive_entry_pathname_utf8(e);
	const char *link = rip_ar.archive_entry_symlink(e) ?
		rip_ar.archive_entry_symlink(e) : rip_ar.archive_entry_symlink_utf8(e);
	mode_t type = rip_ar.archive_entry_filetype(e);
	mode_t mode = rip_ar.archive_entry_mode(e);
	char *p;
	size_t len;

	if (!path)
		return rip_err_set(err, RIP_ESECURITY, "an entry has no name");
	p = rip_xstrdup(path);
	len = strlen(p);
	if (type == AE_IFDIR && len > 1 && p[len - 1] == '/')
		p[len - 1] = '\0';
	out->path = p;
	if (!rip_artifact_path_safe(p) || (strcmp(p, "payload") &&
	    strncmp(p, "payload/", 8) && strcmp(p, "ripcord") &&
	    strncmp(p, "ripcord/", 8)))
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' is outside "
			"payload/ and ripcord/ (hostile or not a ripcord "
			"artifact)", path);
	if (rip_ar.archive_entry_hardlink(e))
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' is a hard "
			"link; artifacts have none", path);
	if (rip_ar.archive_entry_sparse_count(e) > 0)
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' is sparse; "
			"artifacts have none", path);
	if (mode & (S_ISUID | S_ISGID | S_ISVTX))
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' has setuid, "
			"setgid or sticky bits", path);
	out->mode = (unsigned)(mode & 0777);
	switch (type) {
	case AE_IFDIR:
		out->kind = RIP_ART_DIR;
		break;
	case AE_IFREG:
		out->kind = RIP_ART_FILE;
		break;
	case AE_IFLNK:
		out->kind = RIP_ART_LINK;
		if (!link)
			return rip_err_set(err, RIP_ESECURITY, "link '%s' has no "
				"target", path);
		out->target = rip_xstrdup(link);
		break;
	default:
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' is a device, "
			"fifo or socket; artifacts hold files, folders and links",
			path);
	}
	return 0;
}

/* Where the content of ent->path is kept, if anywhere. */
static struct rip_buf *keep_slot(struct rip_artifact_contents *c,
	const char *path, const char *capture)
{
	struct rip_artifact_file *f;

	if (meta_slot(c, path) || !capture ||
	    strncmp(path, capture, strlen(capture)))
		return meta_slot(c, path);
	RIP_ALLOC_GROW(c->files, c->nfiles + 1, c->files_alloc);
	f = &c->files[c->nfiles++];
	f->path = rip_xstrdup(path);
	rip_buf_init(&f->data, 0);
	return &f->data;
}

static int read_data(struct rip_artifact_contents *c,
	struct rip_artifact_entry *ent, struct archive *a, struct reader *r,
	uint64_t *total, const char *capture,
	const struct rip_artifact_sink *sink, struct rip_err *err)
{
	struct rip_buf *meta = keep_slot(c, ent->path, capture);
	struct rip_sha256 sha;
	const void *buf;
	size_t len;
	la_int64_t off;
	int st, rc = 0;

	rip_sha256_init(&sha);
	while ((st = rip_ar.archive_read_data_block(a, &buf, &len, &off)) ==
			ARCHIVE_OK) {
		if ((uint64_t)off != ent->size) {
			rc = rip_err_set(err, RIP_ESECURITY, "entry '%s' has holes "
				"(sparse data); artifacts have none", ent->path);
			break;
		}
		ent->size += len;
		*total += len;
		if (*total > RATIO_FLOOR && *total / MAX_RATIO > r->size) {
			rc = rip_err_set(err, RIP_ESECURITY, "entry '%s' expands "
				"beyond %u times the compressed size (a "
				"decompression bomb?)", ent->path, MAX_RATIO);
			break;
		}
		if (meta && meta->len + len > MAX_META) {
			rc = rip_err_set(err, RIP_ESECURITY, "'%s' is larger than "
				"%u bytes", ent->path, MAX_META);
			break;
		}
		if (meta)
			rip_buf_add(meta, buf, len);
		if (sink && (rc = sink->block(sink->data, ent, buf, len, err)) < 0)
			break;
		rip_sha256_update(&sha, buf, len);
	}
	if (rc < 0) {
		rip_sha256_release(&sha);
		return rc;
	}
	rip_sha256_final(ent->digest, &sha);
	if (st != ARCHIVE_EOF)
		return rip_err_set(err, RIP_EINTEGRITY, "entry '%s' is damaged: "
			"%s", ent->path, rip_ar.archive_error_string(a));
	return sink ? sink->end(sink->data, ent, err) : 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct rip_artifact_entry *)a)->path,
		((const struct rip_artifact_entry *)b)->path);
}

int rip_artifact_read(struct rip_artifact_contents *c, const char *path,
	struct rip_err *err)
{
	return rip_artifact_read_capture(c, path, NULL, err);
}

int rip_artifact_read_capture(struct rip_artifact_contents *c,
	const char *path, const char *capture, struct rip_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		memset(c, 0, sizeof(*c));
		rip_buf_init(&c->manifest, 0);
		rip_buf_init(&c->sums, 0);
		rip_buf_init(&c->links, 0);
		return rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND :
			RIP_EIO, "cannot open artifact '%s'", path);
	}
	rc = rip_artifact_read_fd(c, fd, capture, NULL, err);
	close(fd);
	if (rc == RIP_EIO)
		rip_err_prefix(err, "'%s'", path);
	return rc;
}

/* Every header and its data, each entry checked as it streams past. */
static int read_entries(struct rip_artifact_contents *c, struct archive *a,
	struct reader *r, const char *capture,
	const struct rip_artifact_sink *sink, struct rip_err *err)
{
	struct archive_entry *e;
	uint64_t total = 0;
	int rc, st;

	/* ARCHIVE_WARN is a name that cannot be shown in the locale's
	 * charset; we take names as UTF-8, so it is not damage */
	for (;;) {
		locale_t old = rip_utf8_enter();

		st = rip_ar.archive_read_next_header(a, &e);
		rip_utf8_leave(old);
		if (st != ARCHIVE_OK && st != ARCHIVE_WARN)
			break;
		if (c->n >= MAX_ENTRIES)
			return rip_err_set(err, RIP_ESECURITY, "more than %u "
				"entries", MAX_ENTRIES);
		RIP_ALLOC_GROW(c->v, c->n + 1, c->alloc);
		struct rip_artifact_entry *ent = &c->v[c->n];
		memset(ent, 0, sizeof(*ent));
		c->n++;
		if ((rc = check_entry(ent, e, err)) < 0 ||
		    (sink && (rc = sink->begin(sink->data, ent, err)) < 0))
			return rc;
		if (ent->kind == RIP_ART_FILE && (rc = read_data(c, ent, a, r,
				&total, capture, sink, err)) < 0)
			return rc;
	}
	if (st == ARCHIVE_EOF)
		return 0;
	if (r->io_errno) {
		errno = r->io_errno;
		return rip_err_errno(err, RIP_EIO, "cannot read the artifact");
	}
	return rip_err_set(err, RIP_EINTEGRITY, "damaged archive: %s",
		rip_ar.archive_error_string(a));
}

int rip_artifact_read_fd(struct rip_artifact_contents *c, int fd,
	const char *capture, const struct rip_artifact_sink *sink,
	struct rip_err *err)
{
	struct reader *r;
	struct archive *a;
	const void *tail;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	rip_buf_init(&c->manifest, 0);
	rip_buf_init(&c->sums, 0);
	rip_buf_init(&c->links, 0);
	if ((rc = rip_archive_load(err)) < 0)
		return rc;
	r = rip_xcalloc(1, sizeof(*r));
	a = rip_ar.archive_read_new();
	r->fd = fd;
	rip_sha256_init(&r->sha);
	if (!a)
		abort();
	rip_ar.archive_read_support_filter_zstd(a);
	rip_ar.archive_read_support_format_tar(a);
	if (rip_ar.archive_read_open2(a, r, NULL, read_cb, NULL, NULL) != ARCHIVE_OK) {
		rc = rip_err_set(err, RIP_EINTEGRITY, "not a zstd tar "
			"artifact: %s", rip_ar.archive_error_string(a));
		goto done;
	}
	/* libarchive would read a plain tar too; an artifact is zstd */
	if (rip_ar.archive_filter_count(a) < 2 ||
	    rip_ar.archive_filter_code(a, 0) != ARCHIVE_FILTER_ZSTD) {
		rc = rip_err_set(err, RIP_EINTEGRITY, "not a zstd-compressed "
			"artifact");
		goto done;
	}
	if ((rc = read_entries(c, a, r, capture, sink, err)) < 0)
		goto done;
	/* drain what follows the end-of-archive marker, for the file digest */
	while (read_cb(a, r, &tail) > 0)
		;
	rip_sha256_final(c->file_digest, &r->sha);
	c->file_size = r->size;
	/* an archive of no entry leaves c->v NULL, which qsort must not get */
	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), cmp_entry);
	for (size_t i = 1; i < c->n; i++)
		if (!strcmp(c->v[i].path, c->v[i - 1].path)) {
			rc = rip_err_set(err, RIP_ESECURITY, "entry '%s' appears "
				"twice", c->v[i].path);
			goto done;
		}
done:
	rip_ar.archive_read_free(a);
	if (r->sha.ctx)
		rip_sha256_release(&r->sha);
	free(r);
	if (rc < 0)
		rip_artifact_contents_release(c);
	return rc;
}

void rip_artifact_contents_release(struct rip_artifact_contents *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].target);
	}
	free(c->v);
	c->v = NULL;
	c->n = c->alloc = 0;
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].path);
		rip_buf_release(&c->files[i].data);
	}
	free(c->files);
	c->files = NULL;
	c->nfiles = c->files_alloc = 0;
	rip_buf_release(&c->manifest);
	rip_buf_release(&c->sums);
	rip_buf_release(&c->links);
}
