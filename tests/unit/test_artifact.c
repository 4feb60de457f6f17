/* SPDX-License-Identifier: MIT */
/*
 * test_artifact.c: the .tar.zst container. A round trip through the writer
 * and the reader (paths, kinds, modes, sizes, content digests, link
 * targets, the three metadata files, the file's own digest); byte-for-byte
 * reproducibility (across zstd thread counts and processes); a writer
 * abandoned half-way; the reader against hostile archives crafted here
 * with libarchive directly (unsafe paths, devices, fifos, hard links,
 * setuid bits, duplicates, sparse entries, a decompression bomb), damaged
 * files and garbage; non-ASCII names in the "C" locale the CLI runs in.
 * Also rip_artifact_path_safe.
 */
#include "helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <archive.h>
#include <archive_entry.h>

#include "ripcord/artifact.h"

#define MTIME 1700000000

/* What the round trip writes: a dir, a file or a link. */
struct spec {
	enum rip_artifact_kind kind;
	const char *path;
	bool exec;
	const void *data;
	size_t len;
	const char *target;
};

#define DIR_(p) { RIP_ART_DIR, (p), false, NULL, 0, NULL }
#define FILE_(p, text) { RIP_ART_FILE, (p), false, (text), sizeof(text) - 1, NULL }
#define EXEC_(p, text) { RIP_ART_FILE, (p), true, (text), sizeof(text) - 1, NULL }
#define LINK_(p, t) { RIP_ART_LINK, (p), false, NULL, 0, (t) }

/* Deterministic incompressible bytes (xorshift64). */
static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed ? seed : 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

/* Writes specs with ripcord's writer into path; returns the close() info. */
static void write_specs(const char *path, const struct spec *s, size_t n,
	int64_t mtime, unsigned char digest[RIP_SHA256_LEN], uint64_t *size)
{
	struct rip_artifact_writer *w = NULL;
	struct rip_err err = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	if (rip_artifact_writer_open(&w, fd, mtime, &err) < 0)
		fail_msg("open: %s", err.msg);
	for (size_t i = 0; i < n; i++) {
		int rc = 0;

		switch (s[i].kind) {
		case RIP_ART_DIR:
			rc = rip_artifact_add_dir(w, s[i].path, &err);
			break;
		case RIP_ART_FILE:
			rc = rip_artifact_add_file(w, s[i].path, s[i].exec,
				s[i].data, s[i].len, &err);
			break;
		case RIP_ART_LINK:
			rc = rip_artifact_add_link(w, s[i].path, s[i].target, &err);
			break;
		}
		if (rc < 0)
			fail_msg("adding '%s': %s", s[i].path, err.msg);
	}
	if (rip_artifact_writer_close(w, digest, size, &err) < 0)
		fail_msg("close: %s", err.msg);
	rip_artifact_writer_free(w);
	close(fd);
}

static const struct rip_artifact_entry *find_entry(
	const struct rip_artifact_contents *c, const char *path)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].path, path))
			return &c->v[i];
	fail_msg("entry '%s' not read back", path);
	return NULL;
}

static void assert_contents_empty(const struct rip_artifact_contents *c)
{
	assert_int_equal(c->n, 0);
	assert_null(c->v);
	assert_int_equal(c->manifest.len, 0);
	assert_int_equal(c->sums.len, 0);
	assert_int_equal(c->links.len, 0);
}

/* Reads a whole file into a malloc'd buffer. */
static unsigned char *slurp(const char *path, size_t *len)
{
	struct rip_buf b = RIP_BUF_INIT;
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rip_buf_add(&b, chunk, n);
	fclose(f);
	return (unsigned char *)rip_buf_detach(&b, len);
}

static void test_round_trip(void **state)
{
	static const char manifest[] = "id 1.0.0\ncommit abc\n";
	static const char sums[] = "0123  payload/README\n";
	static const char links[] = "payload/current bin/run\n";
	char long_path[200];
	size_t big_len = 300000;
	unsigned char *big = malloc(big_len);
	struct spec specs[] = {
		DIR_("payload"),
		DIR_("payload/bin"),
		EXEC_("payload/bin/run", "#!/bin/sh\necho hi\n"),
		FILE_("payload/README", "read me\n"),
		FILE_("payload/empty", ""),
		LINK_("payload/current", "bin/run"),
		LINK_("payload/up", "../outside/target"),
		{ RIP_ART_FILE, "payload/big.bin", false, big, big_len, NULL },
		{ RIP_ART_FILE, long_path, true, "long\n", 5, NULL },
		/* not metadata: only the exact ripcord/ paths are */
		FILE_("payload/ripcord/MANIFEST", "decoy\n"),
		DIR_("ripcord"),
		FILE_("ripcord/MANIFEST", manifest),
		FILE_("ripcord/SHA256SUMS", sums),
		FILE_("ripcord/LINKS", links),
		FILE_("ripcord/OTHER", "other\n"),
	};
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	unsigned char digest[RIP_SHA256_LEN], want[RIP_SHA256_LEN];
	uint64_t size;
	struct stat st;
	const char *art;

	assert_non_null(big);
	fill_random(big, big_len, 42);
	/* over 100 bytes: needs a pax extended header */
	snprintf(long_path, sizeof(long_path), "payload/%s/tool",
		"a-very-long-folder-name-that-goes-on-and-on-and-on-and-on-"
		"and-on-and-on-and-on-and-on-and-on-and-on");
	art = tpath(state, "r.tar.zst");
	write_specs(art, specs, RIP_ARRAY_SIZE(specs), MTIME, digest, &size);

	if (rip_artifact_read(&c, tpath(state, "r.tar.zst"), &err) < 0)
		fail_msg("read: %s", err.msg);
	assert_int_equal(c.n, RIP_ARRAY_SIZE(specs));
	for (size_t i = 0; i < RIP_ARRAY_SIZE(specs); i++) {
		const struct spec *s = &specs[i];
		const struct rip_artifact_entry *e = find_entry(&c, s->path);

		assert_int_equal(e->kind, s->kind);
		switch (s->kind) {
		case RIP_ART_DIR:
			assert_int_equal(e->mode, 0755);
			assert_null(e->target);
			break;
		case RIP_ART_FILE:
			assert_int_equal(e->mode, s->exec ? 0755 : 0644);
			assert_int_equal(e->size, s->len);
			rip_sha256(want, s->data, s->len);
			assert_memory_equal(e->digest, want, RIP_SHA256_LEN);
			assert_null(e->target);
			break;
		case RIP_ART_LINK:
			assert_int_equal(e->mode, 0777);
			assert_non_null(e->target);
			assert_string_equal(e->target, s->target);
			assert_int_equal(e->size, 0);
			break;
		}
	}
	/* sorted by path */
	for (size_t i = 1; i < c.n; i++)
		assert_true(strcmp(c.v[i - 1].path, c.v[i].path) < 0);

	assert_int_equal(c.manifest.len, sizeof(manifest) - 1);
	assert_string_equal(c.manifest.buf, manifest);
	assert_string_equal(c.sums.buf, sums);
	assert_string_equal(c.links.buf, links);

	/* the file's digest: as the writer saw it, as the reader did, on disk */
	assert_memory_equal(c.file_digest, digest, RIP_SHA256_LEN);
	art = tpath(state, "r.tar.zst");
	assert_int_equal(stat(art, &st), 0);
	assert_int_equal(size, (uint64_t)st.st_size);
	assert_int_equal(c.file_size, (uint64_t)st.st_size);
	assert_int_equal(rip_sha256_file(want, art, &err), 0);
	assert_memory_equal(want, digest, RIP_SHA256_LEN);
	/* the big file is incompressible: the artifact really holds it */
	assert_true(st.st_size > (off_t)big_len);

	rip_artifact_contents_release(&c);
	assert_contents_empty(&c);
	free(big);
}

/* No metadata files: the buffers are empty, not missing. */
static void test_no_metadata(void **state)
{
	const struct spec specs[] = {
		DIR_("payload"),
		FILE_("payload/a", "a"),
	};
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	unsigned char digest[RIP_SHA256_LEN];
	uint64_t size;

	write_specs(tpath(state, "m.tar.zst"), specs, RIP_ARRAY_SIZE(specs),
		MTIME, digest, &size);
	if (rip_artifact_read(&c, tpath(state, "m.tar.zst"), &err) < 0)
		fail_msg("read: %s", err.msg);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.manifest.len, 0);
	assert_string_equal(c.manifest.buf, "");
	assert_int_equal(c.sums.len, 0);
	assert_int_equal(c.links.len, 0);
	assert_memory_equal(c.file_digest, digest, RIP_SHA256_LEN);
	rip_artifact_contents_release(&c);

	/* a missing artifact is not found */
	assert_int_equal(rip_artifact_read(&c, tpath(state, "nope.tar.zst"),
		&err), RIP_ENOTFOUND);
	assert_err_contains(&err, "nope.tar.zst");
	assert_contents_empty(&c);
}

/*
 * A writer freed before it is finished (cut failing half-way): the fd
 * stays the caller's to close and remove, and (under ASan) nothing leaks.
 */
static void test_writer_abandoned(void **state)
{
	struct rip_artifact_writer *w = NULL;
	struct rip_err err = { 0 };
	char file[512];
	int fd;

	snprintf(file, sizeof(file), "%s", tpath(state, "ab.tar.zst"));
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(rip_artifact_writer_open(&w, fd, MTIME, &err), 0);
	assert_int_equal(rip_artifact_add_dir(w, "payload", &err), 0);
	assert_int_equal(rip_artifact_add_file(w, "payload/a", false, "a\n", 2,
		&err), 0);
	rip_artifact_writer_free(w);
	rip_artifact_writer_free(NULL);
	/* still open, still ours */
	assert_int_equal(write(fd, "", 0), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(unlink(file), 0);
}

static const struct spec repro_specs[] = {
	DIR_("payload"),
	DIR_("payload/app"),
	EXEC_("payload/app/start", "#!/bin/sh\nexec ./server\n"),
	FILE_("payload/app/config.json", "{\"port\": 8080}\n"),
	FILE_("payload/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	      "long name\n"),
	LINK_("payload/current", "app/start"),
	DIR_("ripcord"),
	FILE_("ripcord/MANIFEST", "id 1\n"),
};

/*
 * Writing the same entries twice gives the same bytes: in this process,
 * and in a child pinned to one CPU (so a different zstd thread count, and
 * a different pid for anything that might leak into pax headers).
 */
static void test_reproducible(void **state)
{
	unsigned char d1[RIP_SHA256_LEN], d2[RIP_SHA256_LEN], d3[RIP_SHA256_LEN];
	unsigned char *a, *b;
	size_t alen, blen;
	uint64_t s1, s2, s3;
	char p1[512], p2[512], p3[512];
	pid_t pid;
	int status;

	snprintf(p1, sizeof(p1), "%s", tpath(state, "1.tar.zst"));
	snprintf(p2, sizeof(p2), "%s", tpath(state, "2.tar.zst"));
	snprintf(p3, sizeof(p3), "%s", tpath(state, "3.tar.zst"));
	write_specs(p1, repro_specs, RIP_ARRAY_SIZE(repro_specs), MTIME, d1,
		&s1);
	write_specs(p2, repro_specs, RIP_ARRAY_SIZE(repro_specs), MTIME, d2,
		&s2);
	assert_memory_equal(d1, d2, RIP_SHA256_LEN);
	assert_int_equal(s1, s2);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* no cmocka in the child: plain exit codes */
		struct rip_artifact_writer *w = NULL;
		cpu_set_t one;
		int fd, rc = 0;

		CPU_ZERO(&one);
		CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
		if (sched_setaffinity(0, sizeof(one), &one) < 0)
			_exit(3);
		fd = open(p3, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || rip_artifact_writer_open(&w, fd, MTIME, NULL) < 0)
			_exit(4);
		for (size_t i = 0; i < RIP_ARRAY_SIZE(repro_specs) && !rc; i++) {
			const struct spec *s = &repro_specs[i];

			rc = s->kind == RIP_ART_DIR ?
				rip_artifact_add_dir(w, s->path, NULL) :
			     s->kind == RIP_ART_FILE ?
				rip_artifact_add_file(w, s->path, s->exec, s->data,
					s->len, NULL) :
				rip_artifact_add_link(w, s->path, s->target, NULL);
		}
		if (rc < 0 || rip_artifact_writer_close(w, d3, &s3, NULL) < 0)
			_exit(5);
		rip_artifact_writer_free(w);
		close(fd);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	a = slurp(p1, &alen);
	b = slurp(p3, &blen);
	assert_int_equal(alen, s1);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(b);
	b = slurp(p2, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(b);
	free(a);

	/* and the mtime does matter: the comparison above can fail */
	write_specs(p2, repro_specs, RIP_ARRAY_SIZE(repro_specs), MTIME + 1, d2,
		&s2);
	assert_memory_not_equal(d1, d2, RIP_SHA256_LEN);
}

/* Hostile archives, written with libarchive directly. */

struct hentry {
	const char *path;
	mode_t type;
	mode_t perm;
	const char *data;
	size_t len;            /* bytes of zeros when data is NULL */
	const char *symlink;
	const char *hardlink;
};

static void write_raw(const char *file, const struct hentry *v, size_t n)
{
	static const char zeros[1 << 20];
	struct archive *a = archive_write_new();

	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, file), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, v[i].path);
		archive_entry_set_filetype(e, v[i].type);
		archive_entry_set_perm(e, v[i].perm);
		archive_entry_set_mtime(e, MTIME, 0);
		if (v[i].type == AE_IFCHR || v[i].type == AE_IFBLK)
			archive_entry_set_rdev(e, makedev(1, 3));
		if (v[i].symlink)
			archive_entry_set_symlink(e, v[i].symlink);
		if (v[i].hardlink)
			archive_entry_set_hardlink(e, v[i].hardlink);
		if (v[i].type == AE_IFREG && !v[i].hardlink)
			archive_entry_set_size(e, (la_int64_t)v[i].len);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			fail_msg("libarchive refused '%s': %s", v[i].path,
				archive_error_string(a));
		if (v[i].data) {
			assert_int_equal(archive_write_data(a, v[i].data,
				v[i].len), (la_ssize_t)v[i].len);
		} else if (v[i].type == AE_IFREG && !v[i].hardlink) {
			for (size_t done = 0; done < v[i].len;) {
				size_t k = v[i].len - done < sizeof(zeros) ?
					v[i].len - done : sizeof(zeros);

				assert_int_equal(archive_write_data(a, zeros, k),
					(la_ssize_t)k);
				done += k;
			}
		}
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

#define H_DIR(p) { (p), AE_IFDIR, 0755, NULL, 0, NULL, NULL }
#define H_FILE(p) { (p), AE_IFREG, 0644, "x\n", 2, NULL, NULL }

/* Writes prefix entries + the hostile one; asserts the reader refuses. */
static void assert_refused(void **state, const struct hentry *bad,
	int code, const char *needle)
{
	const struct hentry v[] = {
		H_DIR("payload"),
		H_FILE("payload/ok"),
		*bad,
		H_FILE("payload/after"),
	};
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	char file[512];
	int rc;

	snprintf(file, sizeof(file), "%s", tpath(state, "h.tar.zst"));
	write_raw(file, v, RIP_ARRAY_SIZE(v));
	rc = rip_artifact_read(&c, file, &err);
	if (rc != code)
		fail_msg("'%s': rc %d, want %d (%s)", bad->path, rc, code, err.msg);
	assert_int_equal(err.code, code);
	assert_err_contains(&err, needle);
	assert_contents_empty(&c);
}

/* The control: the same frame around a harmless entry is accepted. */
static void test_raw_control(void **state)
{
	const struct hentry v[] = {
		H_DIR("payload"),
		H_FILE("payload/ok"),
		{ "payload/l", AE_IFLNK, 0777, NULL, 0, "ok", NULL },
		H_DIR("ripcord"),
		{ "ripcord/MANIFEST", AE_IFREG, 0644, "m\n", 2, NULL, NULL },
	};
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };

	write_raw(tpath(state, "ok.tar.zst"), v, RIP_ARRAY_SIZE(v));
	if (rip_artifact_read(&c, tpath(state, "ok.tar.zst"), &err) < 0)
		fail_msg("read: %s", err.msg);
	assert_int_equal(c.n, 5);
	assert_string_equal(c.manifest.buf, "m\n");
	assert_string_equal(find_entry(&c, "payload/l")->target, "ok");
	rip_artifact_contents_release(&c);
}

static void test_hostile_paths(void **state)
{
	static const char *const paths[] = {
		"/etc/x",
		"payload/../../x",
		"evil.txt",
		"payload2/x",
		"ripcordx",
		"./payload/x",
		"payload/./x",
		"payload//x",
		"ripcord/../../etc/passwd",
		"..",
		"../payload/x",
	};

	for (size_t i = 0; i < RIP_ARRAY_SIZE(paths); i++) {
		const struct hentry bad = H_FILE(paths[i]);

		assert_refused(state, &bad, RIP_ESECURITY, paths[i]);
	}
	/* as a folder and as a link, too */
	{
		const struct hentry dir = H_DIR("/etc/cron.d");
		const struct hentry link = { "../x", AE_IFLNK, 0777, NULL, 0,
			"payload/ok", NULL };

		assert_refused(state, &dir, RIP_ESECURITY, "/etc/cron.d");
		assert_refused(state, &link, RIP_ESECURITY, "../x");
	}
}

static void test_hostile_kinds(void **state)
{
	const struct hentry chr = { "payload/null", AE_IFCHR, 0666, NULL, 0,
		NULL, NULL };
	const struct hentry blk = { "payload/sda", AE_IFBLK, 0660, NULL, 0,
		NULL, NULL };
	const struct hentry fifo = { "payload/pipe", AE_IFIFO, 0644, NULL, 0,
		NULL, NULL };
	const struct hentry hard = { "payload/hard", AE_IFREG, 0644, NULL, 0,
		NULL, "payload/ok" };
	const struct hentry hard_out = { "payload/shadow", AE_IFREG, 0644, NULL,
		0, NULL, "/etc/shadow" };

	assert_refused(state, &chr, RIP_ESECURITY, "payload/null");
	assert_refused(state, &blk, RIP_ESECURITY, "payload/sda");
	assert_refused(state, &fifo, RIP_ESECURITY, "payload/pipe");
	assert_refused(state, &hard, RIP_ESECURITY, "payload/hard");
	assert_refused(state, &hard_out, RIP_ESECURITY, "payload/shadow");
}

static void test_hostile_modes(void **state)
{
	const struct hentry suid = { "payload/su", AE_IFREG, 04755, "x", 1,
		NULL, NULL };
	const struct hentry sgid = { "payload/sg", AE_IFREG, 02755, "x", 1,
		NULL, NULL };
	const struct hentry sgid_dir = { "payload/shared", AE_IFDIR, 02775,
		NULL, 0, NULL, NULL };
	const struct hentry sticky = { "payload/tmp", AE_IFDIR, 01777, NULL, 0,
		NULL, NULL };

	assert_refused(state, &suid, RIP_ESECURITY, "payload/su");
	assert_refused(state, &sgid, RIP_ESECURITY, "payload/sg");
	assert_refused(state, &sgid_dir, RIP_ESECURITY, "payload/shared");
	assert_refused(state, &sticky, RIP_ESECURITY, "payload/tmp");
}

static void test_hostile_duplicates(void **state)
{
	const struct hentry same_file = H_FILE("payload/ok");
	const struct hentry dir_over_file = H_DIR("payload/ok");
	const struct hentry link_over_file = { "payload/ok", AE_IFLNK, 0777,
		NULL, 0, "/etc/passwd", NULL };
	const struct hentry same_dir = H_DIR("payload/");

	assert_refused(state, &same_file, RIP_ESECURITY, "payload/ok");
	assert_refused(state, &dir_over_file, RIP_ESECURITY, "payload/ok");
	assert_refused(state, &link_over_file, RIP_ESECURITY, "payload/ok");
	assert_refused(state, &same_dir, RIP_ESECURITY, "payload");
}

/*
 * A sparse entry (pax GNU.sparse) of 1 MiB holding 2 KiB of data: the
 * reader either refuses it or reports the size and digest of the whole
 * content, holes read as zeros; never those of the data blocks alone.
 */
static void test_sparse_entry(void **state)
{
	const size_t full = (size_t)1 << 20;
	unsigned char *content = calloc(1, full);
	unsigned char want[RIP_SHA256_LEN];
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	char file[512];
	int rc;

	assert_non_null(content);
	memset(content, 'A', 1024);
	memset(content + full - 1024, 'A', 1024);
	rip_sha256(want, content, full);
	snprintf(file, sizeof(file), "%s", tpath(state, "sparse.tar.zst"));
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, file), ARCHIVE_OK);
	archive_entry_set_pathname(e, "payload/sparse");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)full);
	archive_entry_sparse_add_entry(e, 0, 1024);
	archive_entry_sparse_add_entry(e, (la_int64_t)(full - 1024), 1024);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, content, 1024), 1024);
	assert_int_equal(archive_write_data(a, content, 1024), 1024);
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	free(content);

	rc = rip_artifact_read(&c, file, &err);
	if (rc == RIP_ESECURITY) {
		assert_err_contains(&err, "payload/sparse");
		assert_contents_empty(&c);
		return;
	}
	if (rc < 0)
		fail_msg("rc %d: %s", rc, err.msg);
	{
		size_t n = c.n;
		uint64_t size = c.v[0].size;
		unsigned char got[RIP_SHA256_LEN];

		memcpy(got, c.v[0].digest, sizeof(got));
		rip_artifact_contents_release(&c);
		assert_int_equal(n, 1);
		assert_int_equal(size, full);
		assert_memory_equal(got, want, RIP_SHA256_LEN);
	}
}

static void test_decompression_bomb(void **state)
{
	struct tmpdir *t = *state;
	const struct hentry bomb[] = {
		H_DIR("payload"),
		H_FILE("payload/ok"),
		{ "payload/bomb", AE_IFREG, 0644, NULL, (size_t)400 << 20, NULL,
		  NULL },
	};
	struct hentry many[2 + 96];
	const struct hentry modest[] = {
		H_DIR("payload"),
		{ "payload/zeros", AE_IFREG, 0644, NULL, (size_t)8 << 20, NULL,
		  NULL },
	};
	char names[96][32];
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	char file[512];
	struct stat st;

	snprintf(file, sizeof(file), "%s", tpath(state, "bomb.tar.zst"));
	write_raw(file, bomb, RIP_ARRAY_SIZE(bomb));
	assert_int_equal(stat(file, &st), 0);
	/* the premise: a few KiB that would expand to 400 MiB */
	assert_true(st.st_size < 256 << 10);
	assert_int_equal(rip_artifact_read(&c, file, &err), RIP_ESECURITY);
	assert_err_contains(&err, "payload/bomb");
	assert_contents_empty(&c);
	/* nothing was written beside the artifact */
	assert_int_equal(count_entries(t->path), 1);

	/* the same spread over many entries of 1 MiB each */
	many[0] = (struct hentry)H_DIR("payload");
	many[1] = (struct hentry)H_FILE("payload/ok");
	for (size_t i = 0; i < 96; i++) {
		snprintf(names[i], sizeof(names[i]), "payload/part%03zu", i);
		many[2 + i] = (struct hentry){ names[i], AE_IFREG, 0644, NULL,
			(size_t)1 << 20, NULL, NULL };
	}
	write_raw(file, many, RIP_ARRAY_SIZE(many));
	assert_int_equal(rip_artifact_read(&c, file, &err), RIP_ESECURITY);
	assert_err_contains(&err, "payload/part");
	assert_contents_empty(&c);

	/* below the floor, a very compressible file is fine */
	write_raw(file, modest, RIP_ARRAY_SIZE(modest));
	if (rip_artifact_read(&c, file, &err) < 0)
		fail_msg("modest file refused: %s", err.msg);
	assert_int_equal(find_entry(&c, "payload/zeros")->size, 8u << 20);
	rip_artifact_contents_release(&c);
}

static void test_truncated(void **state)
{
	enum { NBIG = 4, BIG_LEN = 150000 };
	unsigned char *big = malloc((size_t)NBIG * BIG_LEN);
	struct spec specs[2 + NBIG];
	char names[NBIG][32];
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	unsigned char digest[RIP_SHA256_LEN];
	uint64_t size;
	char file[512];

	assert_non_null(big);
	fill_random(big, (size_t)NBIG * BIG_LEN, 7);
	specs[0] = (struct spec)DIR_("payload");
	specs[1] = (struct spec)FILE_("payload/a", "a\n");
	for (size_t i = 0; i < NBIG; i++) {
		snprintf(names[i], sizeof(names[i]), "payload/big%zu", i);
		specs[2 + i] = (struct spec){ RIP_ART_FILE, names[i], false,
			big + i * BIG_LEN, BIG_LEN, NULL };
	}
	snprintf(file, sizeof(file), "%s", tpath(state, "t.tar.zst"));
	write_specs(file, specs, RIP_ARRAY_SIZE(specs), MTIME, digest, &size);
	free(big);
	/* the whole file reads */
	if (rip_artifact_read(&c, file, &err) < 0)
		fail_msg("read: %s", err.msg);
	assert_int_equal(c.n, RIP_ARRAY_SIZE(specs));
	rip_artifact_contents_release(&c);

	/* cut in half: in the middle of one of the big files */
	assert_int_equal(truncate(file, (off_t)(size / 2)), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(rip_artifact_read(&c, file, &err), RIP_EINTEGRITY);
	assert_err_contains(&err, "payload/big");
	assert_contents_empty(&c);

	/* cut inside the first block, before any entry */
	assert_int_equal(truncate(file, 100), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(rip_artifact_read(&c, file, &err), RIP_EINTEGRITY);
	assert_true(err.msg[0] != '\0');
	assert_contents_empty(&c);
}

/* Cut off only the end of the zstd stream: still a broken artifact. */
static void test_truncated_tail(void **state)
{
	const struct spec specs[] = {
		DIR_("payload"),
		FILE_("payload/a", "a\n"),
	};
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	unsigned char digest[RIP_SHA256_LEN];
	uint64_t size;
	char file[512];

	snprintf(file, sizeof(file), "%s", tpath(state, "tail.tar.zst"));
	write_specs(file, specs, RIP_ARRAY_SIZE(specs), MTIME, digest, &size);
	assert_int_equal(truncate(file, (off_t)(size - 1)), 0);
	assert_int_equal(rip_artifact_read(&c, file, &err), RIP_EINTEGRITY);
	assert_true(err.msg[0] != '\0');
	assert_contents_empty(&c);
}

static void test_garbage(void **state)
{
	unsigned char junk[8192];
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	char file[512];
	FILE *f;

	fill_random(junk, sizeof(junk), 99);
	snprintf(file, sizeof(file), "%s", tpath(state, "junk.tar.zst"));
	f = fopen(file, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	assert_int_equal(rip_artifact_read(&c, file, &err), RIP_EINTEGRITY);
	assert_true(err.msg[0] != '\0');
	assert_contents_empty(&c);

	/* a zstd magic number followed by garbage */
	junk[0] = 0x28;
	junk[1] = 0xb5;
	junk[2] = 0x2f;
	junk[3] = 0xfd;
	f = fopen(file, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	memset(&err, 0, sizeof(err));
	assert_int_equal(rip_artifact_read(&c, file, &err), RIP_EINTEGRITY);
	assert_true(err.msg[0] != '\0');
	assert_contents_empty(&c);

	/* an empty file */
	write_text(file, "");
	memset(&err, 0, sizeof(err));
	assert_int_equal(rip_artifact_read(&c, file, &err), RIP_EINTEGRITY);
	assert_true(err.msg[0] != '\0');
	assert_contents_empty(&c);
}

/*
 * A tar with no entry at all (the end-of-archive marker alone): nothing to
 * refuse, and nothing to sort. Found by fuzz_artifact: the reader handed
 * qsort the NULL entry array, which UBSan reports (nonnull argument).
 */
static void test_empty_archive(void **state)
{
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	char file[512];

	snprintf(file, sizeof(file), "%s", tpath(state, "empty.tar.zst"));
	write_raw(file, NULL, 0);
	if (rip_artifact_read(&c, file, &err) < 0)
		fail_msg("read: %s", err.msg);
	assert_int_equal(c.n, 0);
	assert_int_equal(c.manifest.len, 0);
	assert_true(c.file_size > 0);
	rip_artifact_contents_release(&c);
}

/*
 * File names are bytes in git and UTF-8 in pax headers: a non-ASCII name
 * must go through the writer and come back unchanged, whatever the
 * process locale (the CLI never calls setlocale, so it runs in "C").
 */
static void test_non_ascii_names(void **state)
{
	static const char name[] = "payload/\xc3\xa9t\xc3\xa9.txt";
	static const char target[] = "caf\xc3\xa9";
	const struct spec specs[] = {
		DIR_("payload"),
		FILE_(name, "accent\n"),
		LINK_("payload/link", target),
	};
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	struct rip_artifact_writer *w = NULL;
	unsigned char digest[RIP_SHA256_LEN];
	uint64_t size;
	char file[512];
	int fd, rc;

	/* the writer */
	snprintf(file, sizeof(file), "%s", tpath(state, "u.tar.zst"));
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(rip_artifact_writer_open(&w, fd, MTIME, &err), 0);
	rc = rip_artifact_add_file(w, name, false, "accent\n", 7, &err);
	rip_artifact_writer_free(w);
	close(fd);
	if (rc < 0)
		fail_msg("writer refused a UTF-8 name: %s", err.msg);
	write_specs(file, specs, RIP_ARRAY_SIZE(specs), MTIME, digest, &size);
	if (rip_artifact_read(&c, file, &err) < 0)
		fail_msg("read: %s", err.msg);
	assert_int_equal(c.n, 3);
	assert_int_equal(find_entry(&c, name)->size, 7);
	assert_string_equal(find_entry(&c, "payload/link")->target, target);
	rip_artifact_contents_release(&c);
}

/* The reader, on a UTF-8 pax path written by libarchive itself. */
static void test_non_ascii_read(void **state)
{
	static const char name[] = "payload/\xc3\xa9t\xc3\xa9.txt";
	struct rip_artifact_contents c;
	struct rip_err err = { 0 };
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char file[512];

	snprintf(file, sizeof(file), "%s", tpath(state, "u8.tar.zst"));
	/* libarchive's pax writer needs a UTF-8 locale to write one */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		skip();
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, file), ARCHIVE_OK);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 2);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, "x\n", 2), 2);
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	/* and reads it back in the locale the CLI runs in */
	setlocale(LC_CTYPE, "C");

	if (rip_artifact_read(&c, file, &err) < 0)
		fail_msg("reader refused a UTF-8 name: %s", err.msg);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0].path, name);
	rip_artifact_contents_release(&c);
}

static void test_path_safe(void **state)
{
	static const struct {
		const char *path;
		bool safe;
	} cases[] = {
		{ "payload", true },
		{ "payload/a", true },
		{ "ripcord/MANIFEST", true },
		{ "a/b/c.txt", true },
		{ ".hidden", true },
		{ "a/.hidden", true },
		{ "...", true },
		{ "a/..b", true },
		{ "..a/b", true },
		{ "a.../b", true },
		{ "", false },
		{ "/", false },
		{ "/etc/passwd", false },
		{ "/payload/a", false },
		{ ".", false },
		{ "..", false },
		{ "./a", false },
		{ "../a", false },
		{ "a/.", false },
		{ "a/..", false },
		{ "a/./b", false },
		{ "a/../b", false },
		{ "payload/../../x", false },
		{ "a//b", false },
		{ "//a", false },
	};

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++)
		if (rip_artifact_path_safe(cases[i].path) != cases[i].safe)
			fail_msg("path_safe('%s') != %s", cases[i].path,
				cases[i].safe ? "true" : "false");
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_round_trip),
		T(test_no_metadata),
		T(test_writer_abandoned),
		T(test_reproducible),
		T(test_raw_control),
		T(test_hostile_paths),
		T(test_hostile_kinds),
		T(test_hostile_modes),
		T(test_hostile_duplicates),
		T(test_sparse_entry),
		T(test_decompression_bomb),
		T(test_truncated),
		T(test_truncated_tail),
		T(test_garbage),
		T(test_empty_archive),
		T(test_non_ascii_names),
		T(test_non_ascii_read),
		cmocka_unit_test(test_path_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
