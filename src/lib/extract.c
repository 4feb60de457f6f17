/* SPDX-License-Identifier: MIT */
/*
 * extract.c: a release's payload onto disk, whole or not at all.
 *
 * Two passes over the artifact. The first is rip_artifact_read: every
 * hostile-archive rule, and SHA256SUMS, LINKS and MANIFEST in hand (they
 * sort after payload/, so a single pass would learn the digests too
 * late). The second streams payload/ into the destinations
 * (extract_dest.c: a fresh .<dest>.tmp-XXXXXX beside each dest, written
 * relative to folder fds with O_NOFOLLOW|O_EXCL, so nothing is ever
 * written through a symlink, not even one the artifact itself just
 * created): each entry is checked again here (the file may have changed
 * in between) and matched against the lists before it reaches a
 * destination. The compressed stream is hashed again and must equal the
 * first read's digest. Only when everything matched are the destinations
 * made durable and renamed to their dests; on any failure none appears.
 *
 * Many destinations share one stream: each entry is checked once and
 * each data block written to every destination's file in turn (memory
 * stays one block). When the open-file limit cannot hold every
 * destination's fds at once, extract_dest.c splits them in batches and
 * the artifact is streamed, every check repeated, once per batch. A
 * single dest is a batch of one: rip_extract_payload is that call.
 *
 * Invariants: no entry reaches a destination before its header passed
 * artifact.c's refusals again and matched the first read and the lists;
 * a file's data is bounded by the first read's size and by the expansion
 * ratio as it streams, and must hash to its SHA256SUMS digest; every
 * listed path is written and MANIFEST's counts hold before anything is
 * renamed.
 *
 * Deviation from STYLE.md rule 3 (one wrapper per library): artifact.h
 * has no streaming reader, so the second pass calls libarchive here
 * (open, next header, data blocks) and repeats artifact.c's refusals and
 * expansion bound rather than changing that file. It calls libarchive
 * through artifact.c's table, rip_ar (archive_internal.h), loaded on
 * first use by archive_lazy.c.
 *
 * A drill's scratch copy and a host's release (ripcord agent, from the
 * artifact its put just hashed) are the exceptions:
 * rip_extract_verify_scratch and rip_extract_verify_file verify and
 * extract in one read. artifact.c's reader streams the
 * artifact once (after verify.c hashed it and checked its signature),
 * and a sink here writes each payload entry into the scratch dest's
 * dot-folder as it passes, before its digest is known; verify.c then
 * checks every entry against the lists, and only a whole artifact gets
 * its folder renamed to dest. Nothing reads the folder before that, and
 * on any failure it is removed, so a copy made from a tampered artifact
 * is never seen.
 *
 * Tuned for safety, then speed: the artifact is read twice at disk speed,
 * however many the destinations (a drill's copy and a host's release:
 * decompressed once, since a host extracts one release in parallel with
 * every other host and its CPU is the deploy's cost).
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
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
#include "ripcord/migration.h"
#include "ripcord/release.h"
#include "archive_internal.h"
#include "extract_internal.h"
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
	struct rip_err *err;
	/* the first pass */
	struct rip_artifact_contents c;
	struct rip_manifest *m;
	struct rip_sums sums;
	struct rip_sums links;
	bool *sum_done;
	bool *link_done;
	/* every destination, filled one batch per stream */
	struct rip_dests *d;
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

/* The names of entry e, copied, read as UTF-8 like artifact.c does. */
static void header_names(char **path, char **target,
	struct archive_entry *e)
{
	locale_t old = rip_utf8_enter();
	const char *p = rip_ar.archive_entry_pathname(e) ?
		rip_ar.archive_entry_pathname(e) : rip_ar.archive_entry_pathname_utf8(e);
	const char *l = rip_ar.archive_entry_symlink(e) ?
		rip_ar.archive_entry_symlink(e) : rip_ar.archive_entry_symlink_utf8(e);

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
	mode_t type = rip_ar.archive_entry_filetype(e);
	mode_t mode = rip_ar.archive_entry_mode(e);
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
	if (rip_ar.archive_entry_hardlink(e))
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' is a hard "
			"link; artifacts have none", out->path);
	if (rip_ar.archive_entry_sparse_count(e) > 0)
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
	while ((st = rip_ar.archive_read_data_block(x->a, &buf, &len, &off)) ==
			ARCHIVE_OK) {
		if ((rc = check_block(x, it, off, len, limit)) < 0 ||
		    (rc = rip_dests_write(x->d, it->path + strlen("payload/"),
			    buf, len)) < 0)
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
			"%s", it->path, rip_ar.archive_error_string(x->a));
	if (memcmp(it->digest, want, RIP_SHA256_LEN)) {
		char hex_want[RIP_SHA256_HEX], hex_got[RIP_SHA256_HEX];

		rip_hex(hex_want, want, RIP_SHA256_LEN);
		rip_hex(hex_got, it->digest, RIP_SHA256_LEN);
		return rip_err_set(x->err, RIP_EINTEGRITY, "file '%s': sha256 "
			"expected %s, actual %s", it->path, hex_want, hex_got);
	}
	return 0;
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
	rc = rip_dests_open_files(x->d, it->path, rel);
	if (rc == 0)
		rc = copy_data(x, it, first->size, s->digest);
	if ((rc = rip_dests_close_files(x->d, rel, it->mode, rc)) < 0)
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
	int rc;

	if (!s)
		return rip_err_set(x->err, RIP_EINTEGRITY, "link '%s' is not "
			"listed in LINKS", it->path);
	if (strcmp(s->target, it->target))
		return rip_err_set(x->err, RIP_EINTEGRITY, "link '%s': target "
			"expected '%s', actual '%s'", it->path, s->target,
			it->target);
	if ((rc = rip_dests_symlink(x->d, it->path, rel, it->target)) < 0)
		return rc;
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
	return rip_dests_mkdir(x->d, it->path, rel);
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
	int rc;

	/* the first pass loaded it, through artifact.c */
	if ((rc = rip_archive_load(x->err)) < 0)
		return rc;
	x->src.fd = open(art, O_RDONLY | O_CLOEXEC);
	if (x->src.fd < 0)
		return rip_err_errno(x->err, RIP_EIO, "cannot open artifact "
			"'%s'", art);
	rip_sha256_init(&x->src.sha);
	x->a = rip_ar.archive_read_new();
	if (!x->a)
		abort();
	rip_ar.archive_read_support_filter_zstd(x->a);
	rip_ar.archive_read_support_format_tar(x->a);
	if (rip_ar.archive_read_open2(x->a, &x->src, NULL, read_cb, NULL, NULL) !=
		    ARCHIVE_OK || rip_ar.archive_filter_count(x->a) < 2 ||
	    rip_ar.archive_filter_code(x->a, 0) != ARCHIVE_FILTER_ZSTD)
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
			rip_ar.archive_error_string(x->a));
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

		st = rip_ar.archive_read_next_header(x->a, &e);
		rip_utf8_leave(old);
		if (st != ARCHIVE_OK && st != ARCHIVE_WARN)
			break;
		rc = check_header(&it, e, x->err);
		if (rc == 0)
			rc = do_entry(x, &it);
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

static void stream_close(struct ex *x)
{
	/* no stream yet: libarchive may not even be loaded */
	if (x->a)
		rip_ar.archive_read_free(x->a);
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
 * One stream into the current batch: every entry checked and written to
 * each destination, then each one synced and its fds closed, ready to be
 * renamed.
 */
static int fill_batch(struct ex *x, const char *art)
{
	int rc;

	stream_reset(x);
	if ((rc = rip_dests_batch_open(x->d)) < 0 ||
	    (rc = second_pass(x, art)) < 0 || (rc = check_complete(x)) < 0)
		return rc;
	return rip_dests_batch_close(x->d);
}

static void ex_free(struct ex *x, bool failed)
{
	rip_dests_free(x->d, failed);
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
	x->d = rip_dests_new(dests, n, err);
	x->src.fd = -1;
	rip_buf_init(&x->c.manifest, 0);
	rip_buf_init(&x->c.sums, 0);
	rip_buf_init(&x->c.links, 0);
	return x;
}

static int extract(struct rip_extract_result *out,
	const char *artifact_path, const char *const *dests, size_t n,
	bool scratch, struct rip_err *err)
{
	struct ex *x = ex_new(dests, n, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (scratch)
		rip_dests_scratch(x->d);
	if ((rc = rip_dests_check(x->d)) < 0 ||
	    (rc = first_pass(x, artifact_path)) < 0 ||
	    (rc = rip_dests_make_temps(x->d)) < 0)
		goto done;
	while (rip_dests_next_batch(x->d))
		if ((rc = fill_batch(x, artifact_path)) < 0)
			goto done;
	if ((rc = rip_dests_commit(x->d)) < 0)
		goto done;
	*out = x->res;
done:
	if (rc < 0)
		rip_err_prefix(err, "extracting '%s'", artifact_path);
	ex_free(x, rc < 0);
	return rc;
}

int rip_extract_payload_many(struct rip_extract_result *out,
	const char *artifact_path, const char *const *dests, size_t n,
	struct rip_err *err)
{
	return extract(out, artifact_path, dests, n, false, err);
}

int rip_extract_payload(struct rip_extract_result *out,
	const char *artifact_path, const char *dest, struct rip_err *err)
{
	return extract(out, artifact_path, &dest, 1, false, err);
}

/* ---- one dest, in the one read that verifies it ------------------------ */

struct scratch {
	struct rip_dests *d;
	struct rip_extract_result res;
};

/* The payload path below the dest of entry e, NULL when e is not one. */
static const char *payload_rel(const struct rip_artifact_entry *e)
{
	return starts(e->path, "payload/") ? e->path + strlen("payload/") :
		NULL;
}

static int scratch_begin(void *data, const struct rip_artifact_entry *e,
	struct rip_err *err)
{
	struct scratch *s = data;
	const char *rel = payload_rel(e);

	if (!strcmp(e->path, "payload"))
		return e->kind == RIP_ART_DIR ? 0 : rip_err_set(err,
			RIP_ESECURITY, "entry 'payload' is not a folder");
	if (!rel)
		return 0;       /* ripcord/ metadata is not extracted */
	/* "payload/x/" as a file or link: no name to make */
	if (!*rel || rel[strlen(rel) - 1] == '/')
		return rip_err_set(err, RIP_ESECURITY, "entry '%s' has an empty "
			"last name", e->path);
	switch (e->kind) {
	case RIP_ART_FILE:
		return rip_dests_open_files(s->d, e->path, rel);
	case RIP_ART_LINK:
		s->res.links++;
		return rip_dests_symlink(s->d, e->path, rel, e->target);
	case RIP_ART_DIR:
		return rip_dests_mkdir(s->d, e->path, rel);
	}
	return 0;
}

static int scratch_block(void *data, const struct rip_artifact_entry *e,
	const void *buf, size_t len, struct rip_err *err)
{
	struct scratch *s = data;
	const char *rel = payload_rel(e);

	(void)err;
	return rel ? rip_dests_write(s->d, rel, buf, len) : 0;
}

static int scratch_end(void *data, const struct rip_artifact_entry *e,
	struct rip_err *err)
{
	struct scratch *s = data;
	const char *rel = payload_rel(e);

	(void)err;
	if (!rel)
		return 0;
	s->res.files++;
	s->res.bytes += e->size;
	return rip_dests_close_files(s->d, rel, e->mode, 0);
}

/* Where the one read's artifact comes from: release id of store, or the
 * file at path whose sha256 is known. */
struct one_src {
	struct rip_store *store;
	const char *path, *sha256;
	const char *id, *verify_key;
};

/*
 * The one read: verify src, handing every entry to the scratch sink that
 * writes it below dest's dot-folder, and rename that to dest only when
 * the whole artifact verified; durable: made durable as a deploy's.
 */
static int one_read(struct rip_verify_result *vr, struct rip_migrations *migs,
	struct rip_extract_result *out, const struct one_src *src,
	bool durable, const char *dest, struct rip_err *err)
{
	struct scratch s = { .d = rip_dests_new(&dest, 1, err) };
	const struct rip_artifact_sink sink = { scratch_begin, scratch_block,
		scratch_end, &s };
	int rc;

	memset(out, 0, sizeof(*out));
	memset(vr, 0, sizeof(*vr));
	if (migs)
		memset(migs, 0, sizeof(*migs));
	if (!durable)
		rip_dests_scratch(s.d);
	if ((rc = rip_dests_check(s.d)) < 0 ||
	    (rc = rip_dests_make_temps(s.d)) < 0)
		goto done;
	rip_dests_next_batch(s.d);      /* one dest: one batch */
	if ((rc = rip_dests_batch_open(s.d)) < 0)
		goto done;
	rc = src->store ? rip_verify_release_sink(vr, migs, src->store,
		src->id, src->verify_key, &sink, err) :
		rip_verify_file_sink(vr, src->path, src->sha256, src->id, &sink,
			err);
	if (rc < 0 || (rc = rip_dests_batch_close(s.d)) < 0 ||
	    (rc = rip_dests_commit(s.d)) < 0)
		goto done;
	*out = s.res;
done:
	if (rc < 0 && migs)
		rip_migrations_release(migs);
	rip_dests_free(s.d, rc < 0);
	return rc;
}

int rip_extract_verify_scratch(struct rip_verify_result *vr,
	struct rip_migrations *migs, struct rip_extract_result *out,
	struct rip_store *store, const char *id, const char *verify_key,
	const char *dest, struct rip_err *err)
{
	const struct one_src src = { .store = store, .id = id,
		.verify_key = verify_key };

	return one_read(vr, migs, out, &src, false, dest, err);
}

int rip_extract_verify_file(struct rip_verify_result *vr,
	struct rip_extract_result *out, const char *path, const char *sha256,
	const char *id, const char *dest, struct rip_err *err)
{
	const struct one_src src = { .path = path, .sha256 = sha256,
		.id = id };

	return one_read(vr, NULL, out, &src, true, dest, err);
}
