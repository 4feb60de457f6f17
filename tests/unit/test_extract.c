/* SPDX-License-Identifier: MIT */
/*
 * test_extract.c: unpacking a payload securely. Artifacts are built here
 * with ripcord's writer and self-consistent MANIFEST, SHA256SUMS and LINKS
 * (or with libarchive directly, for what the writer cannot say), then
 * bent one way at a time: a round trip (content, exact modes under a
 * umask of 077, link targets, nothing of ripcord/ written); a digest that
 * does not match and a byte flipped inside the compressed data; an entry
 * not listed and a listed one missing; absolute and ".." paths; symlinks
 * followed by entries below them; dest already there; a decompression
 * bomb; bad modes; non-ASCII names. Every refusal must leave neither dest
 * nor a temporary folder behind, and nothing outside it.
 *
 * Many destinations at once (rip_extract_payload_many), one of them on
 * another file system when /dev/shm is there: every tree identical to the
 * single extraction's; a dest that exists, one named twice, a missing
 * parent; the hostile artifacts above; a dest that appears while the
 * stream runs (the renames already made are taken back); an open-file
 * limit too low for every destination at once. Each refusal must leave
 * nothing in any root, temporary folders included.
 *
 * A drill's one-pass copy (rip_extract_verify_scratch, from a store whose
 * record agrees with the file) and a host's (rip_extract_verify_file, from
 * the file and the digest its cache name claims): the same tree (and the
 * migrations); every refusal above refused the same way, nothing left of
 * what was written before the lists came; a host's refused when the
 * digest or the release id is not the artifact's.
 */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "ripcord/artifact.h"
#include "ripcord/config.h"
#include "ripcord/digest.h"
#include "ripcord/extract.h"
#include "ripcord/fsutil.h"
#include "ripcord/manifest.h"
#include "ripcord/migration.h"
#include "ripcord/release.h"
#include "ripcord/store.h"

#define MTIME 1700000000

/* How an entry disagrees with the lists (0: it does not). */
enum {
	UNLISTED = 1,   /* written, left out of SHA256SUMS / LINKS */
	GHOST = 2,      /* listed, not written */
	BADSUM = 4,     /* listed with the digest of other content */
};

struct spec {
	enum rip_artifact_kind kind;
	const char *path;
	bool exec;
	const void *data;     /* NULL with len: len zero bytes (raw only) */
	size_t len;
	const char *target;
	unsigned flags;
	unsigned perm;        /* raw only: overrides 0644/0755 */
};

#define DIR_(p) { RIP_ART_DIR, (p), false, NULL, 0, NULL, 0, 0 }
#define FILE_(p, t) { RIP_ART_FILE, (p), false, (t), sizeof(t) - 1, NULL, 0, 0 }
#define EXEC_(p, t) { RIP_ART_FILE, (p), true, (t), sizeof(t) - 1, NULL, 0, 0 }
#define LINK_(p, t) { RIP_ART_LINK, (p), false, NULL, 0, (t), 0, 0 }
#define FLAG_(s, f) { (s).kind, (s).path, (s).exec, (s).data, (s).len, \
		(s).target, (f), 0 }

static const char migration[] = "CREATE TABLE t (id int);\n";

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

static bool in_payload(const char *path)
{
	return !strncmp(path, "payload/", 8);
}

struct meta {
	struct rip_buf manifest;
	struct rip_buf sums;
	struct rip_buf links;
};

static void add_listed(struct rip_sums *sums, struct rip_sums *links,
	const struct spec *s)
{
	unsigned char d[RIP_SHA256_LEN];

	if (!in_payload(s->path) || (s->flags & UNLISTED))
		return;
	if (s->kind == RIP_ART_LINK) {
		rip_sums_add(links, s->path, NULL, s->target);
	} else if (s->kind == RIP_ART_FILE) {
		if (s->flags & BADSUM)
			rip_sha256(d, "other content\n", 14);
		else
			rip_sha256(d, s->data, s->len);
		rip_sums_add(sums, s->path, d, NULL);
	}
}

/* MANIFEST, SHA256SUMS and LINKS that agree with specs (but for flags). */
static void make_meta(struct meta *out, const struct spec *s, size_t n,
	const char *submodule, uint64_t extra_files)
{
	struct rip_manifest m = { .format = 1, .id = "1.0.0",
		.project = "demo", .commit = "0123456789abcdef0123456789abcdef01234567",
		.tree = "89abcdef0123456789abcdef0123456789abcdef",
		.created = "2023-11-14T22:13:20Z", .tool = "ripcord test" };
	struct rip_sums sums = { 0 }, links = { 0 };
	unsigned char d[RIP_SHA256_LEN];

	for (size_t i = 0; i < n; i++) {
		add_listed(&sums, &links, &s[i]);
		if (!in_payload(s[i].path) || (s[i].flags & GHOST))
			continue;
		m.files += s[i].kind == RIP_ART_FILE;
		m.bytes += s[i].kind == RIP_ART_FILE ? s[i].len : 0;
		m.links += s[i].kind == RIP_ART_LINK;
	}
	m.files += extra_files;
	rip_sha256(d, migration, sizeof(migration) - 1);
	rip_sums_add(&sums, "ripcord/migrations/1_init.up.sql", d, NULL);
	rip_sums_sort(&sums);
	rip_sums_sort(&links);
	rip_strlist_push(&m.migrations, "1_init");
	if (submodule)
		rip_strlist_push(&m.submodules, submodule);
	rip_buf_init(&out->manifest, 0);
	rip_buf_init(&out->sums, 0);
	rip_buf_init(&out->links, 0);
	rip_manifest_format(&out->manifest, &m);
	rip_sums_format(&out->sums, &sums);
	rip_links_format(&out->links, &links);
	rip_strlist_release(&m.migrations);
	rip_strlist_release(&m.submodules);
	rip_sums_release(&sums);
	rip_sums_release(&links);
}

static void meta_release(struct meta *m)
{
	rip_buf_release(&m->manifest);
	rip_buf_release(&m->sums);
	rip_buf_release(&m->links);
}

static int add_spec(struct rip_artifact_writer *w, const struct spec *s,
	struct rip_err *err)
{
	switch (s->kind) {
	case RIP_ART_DIR:
		return rip_artifact_add_dir(w, s->path, err);
	case RIP_ART_FILE:
		return rip_artifact_add_file(w, s->path, s->exec, s->data, s->len,
			err);
	case RIP_ART_LINK:
		return rip_artifact_add_link(w, s->path, s->target, err);
	}
	return -1;
}

/* Writes specs, then ripcord/ as cut does, with ripcord's writer. */
static void write_artifact_ex(const char *path, const struct spec *s,
	size_t n, const char *submodule, uint64_t extra_files)
{
	struct rip_artifact_writer *w = NULL;
	struct rip_err err = { 0 };
	unsigned char digest[RIP_SHA256_LEN];
	uint64_t size;
	struct meta m;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	make_meta(&m, s, n, submodule, extra_files);
	if (rip_artifact_writer_open(&w, fd, MTIME, &err) < 0)
		fail_msg("open: %s", err.msg);
	for (size_t i = 0; i < n; i++)
		if (!(s[i].flags & GHOST) && add_spec(w, &s[i], &err) < 0)
			fail_msg("adding '%s': %s", s[i].path, err.msg);
	if (rip_artifact_add_dir(w, "ripcord/", &err) < 0 ||
	    rip_artifact_add_file(w, "ripcord/LINKS", false, m.links.buf,
		    m.links.len, &err) < 0 ||
	    rip_artifact_add_file(w, "ripcord/MANIFEST", false, m.manifest.buf,
		    m.manifest.len, &err) < 0 ||
	    rip_artifact_add_file(w, "ripcord/SHA256SUMS", false, m.sums.buf,
		    m.sums.len, &err) < 0 ||
	    rip_artifact_add_dir(w, "ripcord/migrations/", &err) < 0 ||
	    rip_artifact_add_file(w, "ripcord/migrations/1_init.up.sql", false,
		    migration, sizeof(migration) - 1, &err) < 0 ||
	    rip_artifact_writer_close(w, digest, &size, &err) < 0)
		fail_msg("metadata: %s", err.msg);
	rip_artifact_writer_free(w);
	close(fd);
	meta_release(&m);
}

static void write_artifact(const char *path, const struct spec *s, size_t n)
{
	write_artifact_ex(path, s, n, NULL, 0);
}

static void raw_add(struct archive *a, const char *path, mode_t type,
	unsigned perm, const void *data, size_t len, const char *target)
{
	static const char zeros[1 << 20];
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_mtime(e, MTIME, 0);
	if (target)
		archive_entry_set_symlink(e, target);
	if (type == AE_IFREG)
		archive_entry_set_size(e, (la_int64_t)len);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	while (type == AE_IFREG && len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		assert_int_equal(archive_write_data(a, data ? data : zeros, n),
			(la_ssize_t)n);
		data = data ? (const char *)data + n : NULL;
		len -= n;
	}
	archive_entry_free(e);
}

/* The same, with libarchive directly: any mode, any size. */
static void write_raw(const char *file, const struct spec *s, size_t n)
{
	static const mode_t types[] = { AE_IFDIR, AE_IFREG, AE_IFLNK };
	struct archive *a = archive_write_new();
	struct meta m;

	assert_non_null(a);
	make_meta(&m, s, n, NULL, 0);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, file), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++)
		raw_add(a, s[i].path, types[s[i].kind], s[i].perm ? s[i].perm :
			s[i].kind == RIP_ART_LINK ? 0777 :
			s[i].kind == RIP_ART_DIR || s[i].exec ? 0755 : 0644,
			s[i].data, s[i].len, s[i].target);
	raw_add(a, "ripcord/LINKS", AE_IFREG, 0644, m.links.buf, m.links.len,
		NULL);
	raw_add(a, "ripcord/MANIFEST", AE_IFREG, 0644, m.manifest.buf,
		m.manifest.len, NULL);
	raw_add(a, "ripcord/SHA256SUMS", AE_IFREG, 0644, m.sums.buf,
		m.sums.len, NULL);
	raw_add(a, "ripcord/migrations/1_init.up.sql", AE_IFREG, 0644,
		migration, sizeof(migration) - 1, NULL);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	meta_release(&m);
}

/* Extracts <tmp>/art into <tmp>/dest. */
static int extract(void **state, const char *art, const char *dest,
	struct rip_extract_result *res, struct rip_err *err)
{
	char a[512], d[512];

	snprintf(a, sizeof(a), "%s", tpath(state, art));
	snprintf(d, sizeof(d), "%s", tpath(state, dest));
	memset(err, 0, sizeof(*err));
	return rip_extract_payload(res, a, d, err);
}

/* Neither dest nor any ".<dest>.tmp-*" exists in the test folder. */
static void assert_no_dest(void **state, const char *dest)
{
	struct tmpdir *t = *state;
	DIR *d = opendir(t->path);
	struct dirent *e;
	size_t len = strlen(dest);

	assert_non_null(d);
	while ((e = readdir(d)))
		if ((!strncmp(e->d_name, dest, len) &&
		     (e->d_name[len] == '\0' || e->d_name[len] == '.')) ||
		    (e->d_name[0] == '.' && !strncmp(e->d_name + 1, dest, len)))
			fail_msg("'%s' left behind", e->d_name);
	closedir(d);
}

/* A store of its own holding art as release 1.0.0 (the id of make_meta's
 * MANIFEST), its record agreeing with the file: only what is inside the
 * artifact can refuse it. */
static struct rip_store *store_with(char dir[64], const char *art)
{
	struct rip_release_rec rec = { .id = (char *)"1.0.0",
		.project = (char *)"demo", .commit = (char *)"0123456789abcdef"
		"0123456789abcdef01234567", .tree = (char *)"89abcdef0123456789"
		"abcdef0123456789abcdef", .created = MTIME, .cut_at = MTIME };
	struct rip_buf data = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	unsigned char d[RIP_SHA256_LEN];
	char hex[RIP_SHA256_HEX], *path;
	struct rip_store *s;

	snprintf(dir, 64, "/tmp/ripcord-scratch-XXXXXX");
	assert_non_null(mkdtemp(dir));
	if (rip_store_open(&s, dir, true, &err) < 0 ||
	    rip_read_file(&data, art, (size_t)1 << 30, &err) < 0)
		fail_msg("%s", err.msg);
	path = rip_store_artifact_path(s, "1.0.0");
	if (rip_write_file_atomic(path, data.buf, data.len, 0644, &err) < 0)
		fail_msg("%s", err.msg);
	rip_sha256(d, data.buf, data.len);
	rip_hex(hex, d, RIP_SHA256_LEN);
	rec.sha256 = hex;
	rec.size = data.len;
	if (rip_state_release_add(s->state, &rec, &err) < 0)
		fail_msg("%s", err.msg);
	rip_buf_release(&data);
	free(path);
	return s;
}

/* A drill's one-pass extraction of art (<tmp>/<name>) into <store>/out. */
static int scratch(void **state, const char *name, char dir[64],
	struct rip_migrations *migs, struct rip_extract_result *res,
	struct rip_err *err)
{
	struct rip_store *s = store_with(dir, tpath(state, name));
	struct rip_verify_result vr;
	char dest[128];
	int rc;

	snprintf(dest, sizeof(dest), "%s/out", dir);
	memset(err, 0, sizeof(*err));
	rc = rip_extract_verify_scratch(&vr, migs, res, s, "1.0.0", NULL, dest,
		err);
	rip_verify_result_release(&vr);
	rip_store_free(s);
	return rc;
}

/* A host's one-read extraction (rip_extract_verify_file, as ripcord
 * agent makes a release from its cached artifact) of <tmp>/name into
 * <tmp>/dest as release id; sha NULL: the file's own digest. */
static int host_extract(void **state, const char *name, const char *sha,
	const char *id, const char *dest, struct rip_extract_result *res,
	struct rip_err *err)
{
	unsigned char d[RIP_SHA256_LEN];
	char hex[RIP_SHA256_HEX], a[512], out[512];
	struct rip_verify_result vr;
	int rc;

	snprintf(a, sizeof(a), "%s", tpath(state, name));
	snprintf(out, sizeof(out), "%s", tpath(state, dest));
	memset(err, 0, sizeof(*err));
	if (!sha) {
		if (rip_sha256_file(d, a, err) < 0)
			fail_msg("%s", err->msg);
		rip_hex(hex, d, RIP_SHA256_LEN);
		sha = hex;
	}
	rc = rip_extract_verify_file(&vr, res, a, sha, id, out, err);
	rip_verify_result_release(&vr);
	return rc;
}

/* The same refusal from the one-pass extraction, which writes entries
 * before it knows the lists: nothing of them may be left. */
static void assert_refused_scratch(void **state, const char *art, int code,
	const char *needle)
{
	struct rip_migrations migs;
	struct rip_extract_result res;
	struct rip_err err;
	struct dirent *e;
	char dir[64];
	int fds = count_entries("/proc/self/fd");
	int rc = scratch(state, art, dir, &migs, &res, &err);
	DIR *d;

	assert_int_equal(count_entries("/proc/self/fd"), fds);
	if (rc != code)
		fail_msg("'%s' in one pass: rc %d, want %d (%s)", art, rc, code,
			err.msg);
	/* a needle naming the file: here it is the store's copy of it */
	if (strcmp(needle, art))
		assert_err_contains(&err, needle);
	assert_int_equal(res.files, 0);
	assert_int_equal(migs.n, 0);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, "out"))
			fail_msg("'%s' left behind by the one-pass extraction",
				e->d_name);
	closedir(d);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Extraction of art must fail with code and a message holding needle,
 * and so must a drill's one-pass extraction of it. */
static void assert_refused(void **state, const char *art, int code,
	const char *needle)
{
	struct rip_extract_result res;
	struct rip_err err;
	int fds = count_entries("/proc/self/fd");
	int rc = extract(state, art, "out", &res, &err);

	/* no descriptor left open on the way out */
	assert_int_equal(count_entries("/proc/self/fd"), fds);
	if (rc != code)
		fail_msg("'%s': rc %d, want %d (%s)", art, rc, code, err.msg);
	assert_int_equal(err.code, code);
	assert_err_contains(&err, needle);
	assert_int_equal(res.files, 0);
	assert_int_equal(res.links, 0);
	assert_no_dest(state, "out");
	assert_refused_scratch(state, art, code, needle);
	/* and a host's one read: nothing of what it wrote is left */
	rc = host_extract(state, art, NULL, "1.0.0", "host", &res, &err);
	assert_int_equal(count_entries("/proc/self/fd"), fds);
	if (rc != code)
		fail_msg("'%s' on a host: rc %d, want %d (%s)", art, rc, code,
			err.msg);
	assert_err_contains(&err, needle);
	assert_int_equal(res.files, 0);
	assert_no_dest(state, "host");
}

static unsigned char *slurp(const char *path, size_t *len)
{
	struct rip_buf b = RIP_BUF_INIT;
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f)
		fail_msg("cannot open '%s'", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rip_buf_add(&b, chunk, n);
	fclose(f);
	return (unsigned char *)rip_buf_detach(&b, len);
}

/* dest/<rel of s> is what s says: content and exact mode, or target. */
static void assert_extracted(const char *dest, const struct spec *s)
{
	char path[1024], link[1024];
	struct stat st;
	unsigned char *data;
	size_t len;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dest, s->path + 8);
	if (lstat(path, &st) < 0)
		fail_msg("'%s' not extracted", path);
	switch (s->kind) {
	case RIP_ART_DIR:
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0755);
		break;
	case RIP_ART_FILE:
		assert_true(S_ISREG(st.st_mode));
		if ((st.st_mode & 07777) != (s->exec ? 0755u : 0644u))
			fail_msg("'%s' has mode %03o", path, st.st_mode & 07777);
		data = slurp(path, &len);
		assert_int_equal(len, s->len);
		assert_memory_equal(data, s->data, len);
		free(data);
		break;
	case RIP_ART_LINK:
		assert_true(S_ISLNK(st.st_mode));
		n = readlink(path, link, sizeof(link) - 1);
		assert_true(n >= 0);
		link[n] = '\0';
		assert_string_equal(link, s->target);
		break;
	}
}

static int counted;

static int count_cb(const char *p, const struct stat *sb, int flag,
	struct FTW *ftw)
{
	(void)p; (void)sb; (void)flag; (void)ftw;
	counted++;
	return 0;
}

/* Everything below dir, dir itself not included, links not followed. */
static int count_tree(const char *dir)
{
	counted = 0;
	assert_int_equal(nftw(dir, count_cb, 16, FTW_PHYS), 0);
	return counted - 1;
}

static void test_round_trip(void **state)
{
	struct tmpdir *t = *state;
	size_t big_len = 300000;
	unsigned char *big = malloc(big_len);
	const struct spec specs[] = {
		DIR_("payload/"),
		FILE_("payload/README", "read me\n"),
		DIR_("payload/a/"),
		DIR_("payload/a/b/"),
		DIR_("payload/a/b/c/"),
		FILE_("payload/a/b/c/deep.txt", "deep\n"),
		LINK_("payload/abs", "/etc/hostname"),
		{ RIP_ART_FILE, "payload/big.bin", false, big, 300000, NULL, 0,
		  0 },
		DIR_("payload/bin/"),
		FILE_("payload/bin/data", "not executable\n"),
		EXEC_("payload/bin/run", "#!/bin/sh\necho hi\n"),
		LINK_("payload/current", "bin/run"),
		LINK_("payload/dangling", "no/such/file"),
		FILE_("payload/empty", ""),
		DIR_("payload/ripcord/"),
		FILE_("payload/ripcord/MANIFEST", "decoy, not metadata\n"),
		LINK_("payload/up", "../outside/target"),
		DIR_("payload/vendor/"),
		DIR_("payload/vendor/lib/"),
	};
	struct rip_extract_result res;
	struct rip_err err;
	char dest[512];
	struct stat st;
	mode_t old = umask(077);
	int rc, fds = count_entries("/proc/self/fd");

	assert_non_null(big);
	fill_random(big, big_len, 42);
	write_artifact_ex(tpath(state, "a.tar.zst"), specs,
		RIP_ARRAY_SIZE(specs),
		"vendor/lib 0123456789abcdef0123456789abcdef01234567", 0);
	rc = extract(state, "a.tar.zst", "out", &res, &err);
	umask(old);
	if (rc < 0)
		fail_msg("extract: %s", err.msg);
	assert_int_equal(count_entries("/proc/self/fd"), fds);
	assert_int_equal(res.files, 7);
	assert_int_equal(res.bytes, 8 + 5 + big_len + 15 + 18 + 0 + 20);
	assert_int_equal(res.links, 4);

	snprintf(dest, sizeof(dest), "%s", tpath(state, "out"));
	assert_int_equal(lstat(dest, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	for (size_t i = 1; i < RIP_ARRAY_SIZE(specs); i++)
		assert_extracted(dest, &specs[i]);
	/* the submodule's folder, empty; nothing of ripcord/, nothing else */
	assert_int_equal(count_entries(tpath(state, "out/vendor/lib")), 0);
	assert_int_equal(count_tree(dest), (int)RIP_ARRAY_SIZE(specs) - 1);
	assert_false(rip_path_exists(tpath(state, "out/SHA256SUMS")));
	assert_false(rip_path_exists(tpath(state, "out/migrations")));
	/* the artifact and dest: no temporary folder left */
	assert_int_equal(count_entries(t->path), 2);

	/* a drill's one-pass copy: the same tree, and the migrations */
	{
		struct rip_migrations migs;
		char dir[64];

		old = umask(077);
		rc = scratch(state, "a.tar.zst", dir, &migs, &res, &err);
		umask(old);
		if (rc < 0)
			fail_msg("one pass: %s", err.msg);
		assert_int_equal(count_entries("/proc/self/fd"), fds);
		assert_int_equal(res.files, 7);
		assert_int_equal(res.bytes, 8 + 5 + big_len + 15 + 18 + 0 + 20);
		assert_int_equal(res.links, 4);
		snprintf(dest, sizeof(dest), "%s/out", dir);
		for (size_t i = 1; i < RIP_ARRAY_SIZE(specs); i++)
			assert_extracted(dest, &specs[i]);
		assert_int_equal(count_tree(dest), (int)RIP_ARRAY_SIZE(specs) - 1);
		assert_int_equal(migs.n, 1);
		assert_string_equal(migs.v[0].id, "1_init");
		rip_migrations_release(&migs);
		/* artifacts/, state.db and the copy: no temporary folder */
		assert_true(rip_path_exists(dest));
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	}

	/* a host's one read: the same tree, made durable; refused when the
	 * bytes are not those its cache name claims or not release id, and
	 * then nothing appears */
	old = umask(077);
	rc = host_extract(state, "a.tar.zst", NULL, "1.0.0", "host", &res,
		&err);
	umask(old);
	if (rc < 0)
		fail_msg("host: %s", err.msg);
	assert_int_equal(count_entries("/proc/self/fd"), fds);
	assert_int_equal(res.files, 7);
	assert_int_equal(res.links, 4);
	snprintf(dest, sizeof(dest), "%s", tpath(state, "host"));
	assert_int_equal(lstat(dest, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	for (size_t i = 1; i < RIP_ARRAY_SIZE(specs); i++)
		assert_extracted(dest, &specs[i]);
	assert_int_equal(count_tree(dest), (int)RIP_ARRAY_SIZE(specs) - 1);
	assert_int_equal(host_extract(state, "a.tar.zst", "00000000000000000000"
		"00000000000000000000000000000000000000000000", "1.0.0", "h2",
		&res, &err), RIP_EINTEGRITY);
	assert_err_contains(&err, "sha256");
	assert_no_dest(state, "h2");
	assert_int_equal(host_extract(state, "a.tar.zst", NULL, "2.0.0", "h3",
		&res, &err), RIP_EINTEGRITY);
	assert_err_contains(&err, "2.0.0");
	assert_no_dest(state, "h3");
	/* the artifact, out and host: no temporary folder left */
	assert_int_equal(count_entries(t->path), 3);
	free(big);
}

static void test_dest_exists(void **state)
{
	const struct spec specs[] = {
		DIR_("payload/"),
		FILE_("payload/a", "a\n"),
	};
	struct rip_extract_result res;
	struct rip_err err;

	write_artifact(tpath(state, "a.tar.zst"), specs, RIP_ARRAY_SIZE(specs));
	/* an empty folder: rename(2) would happily replace it */
	assert_int_equal(mkdir(tpath(state, "out"), 0755), 0);
	assert_int_equal(extract(state, "a.tar.zst", "out", &res, &err),
		RIP_EEXISTS);
	assert_err_contains(&err, "out");
	assert_int_equal(count_entries(tpath(state, "out")), 0);
	assert_int_equal(rmdir(tpath(state, "out")), 0);

	/* a dangling symlink counts as existing */
	assert_int_equal(symlink("nowhere", tpath(state, "out")), 0);
	assert_int_equal(extract(state, "a.tar.zst", "out", &res, &err),
		RIP_EEXISTS);
	assert_int_equal(unlink(tpath(state, "out")), 0);

	/* a missing parent: nothing is created on the way */
	assert_int_equal(extract(state, "a.tar.zst", "no/out", &res, &err),
		RIP_ENOTFOUND);
	assert_err_contains(&err, "no/out");
	assert_int_equal(count_entries(((struct tmpdir *)*state)->path), 1);

	/* a missing artifact */
	assert_int_equal(extract(state, "nope.tar.zst", "out", &res, &err),
		RIP_ENOTFOUND);
	assert_no_dest(state, "out");

	/* and a trailing slash is just a folder name */
	if (extract(state, "a.tar.zst", "out/", &res, &err) < 0)
		fail_msg("extract: %s", err.msg);
	assert_int_equal(res.files, 1);
	assert_true(rip_path_exists(tpath(state, "out/a")));
	assert_int_equal(count_entries(((struct tmpdir *)*state)->path), 2);
}

/*
 * SHA256SUMS disagrees with a file in a subfolder, after others were
 * written: the half-made folder goes, with its cached folder fd.
 */
/* The folder that holds dest is a link out (a root's releases/ planted by
 * someone who can write in the root): nothing is extracted through it. */
static void test_parent_link(void **state)
{
	const struct spec specs[] = {
		DIR_("payload/"),
		FILE_("payload/a", "a\n"),
	};
	struct rip_extract_result res;
	struct rip_err err;
	char out[600];

	write_artifact(tpath(state, "a.tar.zst"), specs, RIP_ARRAY_SIZE(specs));
	snprintf(out, sizeof(out), "%s", tpath(state, "outside"));
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(mkdir(tpath(state, "root"), 0755), 0);
	assert_int_equal(symlink(out, tpath(state, "root/releases")), 0);
	assert_int_equal(extract(state, "a.tar.zst", "root/releases/v1", &res,
		&err), RIP_ESECURITY);
	assert_err_contains(&err, "root/releases' is a symbolic link");
	assert_int_equal(count_entries(tpath(state, "outside")), 0);
}

static void test_digest_mismatch(void **state)
{
	const struct spec z = FILE_("payload/d/z", "the real content\n");
	const struct spec specs[] = {
		DIR_("payload/"),
		FILE_("payload/a", "a\n"),
		DIR_("payload/d/"),
		FILE_("payload/d/b", "b\n"),
		FLAG_(z, BADSUM),
		FILE_("payload/e", "e\n"),
	};
	unsigned char d[RIP_SHA256_LEN];
	char want[RIP_SHA256_HEX], got[RIP_SHA256_HEX], needle[200];

	write_artifact(tpath(state, "a.tar.zst"), specs, RIP_ARRAY_SIZE(specs));
	rip_sha256(d, "other content\n", 14);
	rip_hex(want, d, RIP_SHA256_LEN);
	rip_sha256(d, z.data, z.len);
	rip_hex(got, d, RIP_SHA256_LEN);
	snprintf(needle, sizeof(needle), "file 'payload/d/z': sha256 expected %s, "
		"actual %s", want, got);
	assert_refused(state, "a.tar.zst", RIP_EINTEGRITY, needle);
	assert_int_equal(count_entries(((struct tmpdir *)*state)->path), 1);
}

/* Finds needle[0..nlen) in hay; -1 when absent. */
static long find_bytes(const unsigned char *hay, size_t len,
	const unsigned char *needle, size_t nlen)
{
	for (size_t i = 0; i + nlen <= len; i++)
		if (!memcmp(hay + i, needle, nlen))
			return (long)i;
	return -1;
}

/*
 * One byte flipped inside a file's data in the .tar.zst itself. zstd
 * stores incompressible data as raw blocks, so the flip survives
 * decompression and only the digest can catch it.
 */
static void test_flipped_byte(void **state)
{
	enum { LEN = 100000 };
	unsigned char *rnd = malloc(LEN), *file;
	const struct spec specs[] = {
		DIR_("payload/"),
		FILE_("payload/a", "a\n"),
		{ RIP_ART_FILE, "payload/random", false, rnd, LEN, NULL, 0, 0 },
	};
	char path[512];
	size_t len;
	long at;
	FILE *f;

	assert_non_null(rnd);
	fill_random(rnd, LEN, 7);
	snprintf(path, sizeof(path), "%s", tpath(state, "a.tar.zst"));
	write_artifact(path, specs, RIP_ARRAY_SIZE(specs));
	file = slurp(path, &len);
	at = find_bytes(file, len, rnd + LEN / 2, 64);
	assert_true(at >= 0);
	file[at + 10] ^= 0x20;
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(file, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(file);
	free(rnd);
	assert_refused(state, "a.tar.zst", RIP_EINTEGRITY, "payload/random");
	assert_int_equal(count_entries(((struct tmpdir *)*state)->path), 1);
}

static void test_unlisted(void **state)
{
	const struct spec f = FILE_("payload/extra", "extra\n");
	const struct spec l = LINK_("payload/extra-link", "a");
	const struct spec file[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"), FLAG_(f, UNLISTED),
	};
	const struct spec link[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"), FLAG_(l, UNLISTED),
	};
	const struct spec dir[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"),
		DIR_("payload/empty/"),
	};

	write_artifact(tpath(state, "f.tar.zst"), file, RIP_ARRAY_SIZE(file));
	write_artifact(tpath(state, "l.tar.zst"), link, RIP_ARRAY_SIZE(link));
	write_artifact(tpath(state, "d.tar.zst"), dir, RIP_ARRAY_SIZE(dir));
	assert_refused(state, "f.tar.zst", RIP_EINTEGRITY,
		"file 'payload/extra' is not listed in SHA256SUMS");
	assert_refused(state, "l.tar.zst", RIP_EINTEGRITY,
		"link 'payload/extra-link' is not listed in LINKS");
	assert_refused(state, "d.tar.zst", RIP_EINTEGRITY,
		"folder 'payload/empty' is not part of any listed path");
	assert_int_equal(count_entries(((struct tmpdir *)*state)->path), 3);
}

static void test_listed_missing(void **state)
{
	const struct spec f = FILE_("payload/gone", "gone\n");
	const struct spec l = LINK_("payload/gone-link", "a");
	const struct spec file[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"), FLAG_(f, GHOST),
	};
	const struct spec link[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"), FLAG_(l, GHOST),
	};

	write_artifact(tpath(state, "f.tar.zst"), file, RIP_ARRAY_SIZE(file));
	write_artifact(tpath(state, "l.tar.zst"), link, RIP_ARRAY_SIZE(link));
	assert_refused(state, "f.tar.zst", RIP_EINTEGRITY,
		"'payload/gone' is listed in SHA256SUMS but missing");
	assert_refused(state, "l.tar.zst", RIP_EINTEGRITY,
		"'payload/gone-link' is listed in LINKS but missing");
}

/* MANIFEST's counts are checked against what was written. */
static void test_manifest_counts(void **state)
{
	const struct spec specs[] = {
		DIR_("payload/"),
		FILE_("payload/a", "a\n"),
	};

	write_artifact_ex(tpath(state, "a.tar.zst"), specs,
		RIP_ARRAY_SIZE(specs), NULL, 1);
	assert_refused(state, "a.tar.zst", RIP_EINTEGRITY,
		"MANIFEST says 2 files");
}

/* Not an artifact of ours: no lists, nothing written. */
static void test_not_an_artifact(void **state)
{
	struct rip_artifact_writer *w = NULL;
	unsigned char digest[RIP_SHA256_LEN];
	uint64_t size;
	int fd = open(tpath(state, "p.tar.zst"), O_WRONLY | O_CREAT | O_TRUNC |
		O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(rip_artifact_writer_open(&w, fd, MTIME, NULL), 0);
	assert_int_equal(rip_artifact_add_dir(w, "payload/", NULL), 0);
	assert_int_equal(rip_artifact_add_file(w, "payload/a", false, "a", 1,
		NULL), 0);
	assert_int_equal(rip_artifact_writer_close(w, digest, &size, NULL), 0);
	rip_artifact_writer_free(w);
	close(fd);
	assert_refused(state, "p.tar.zst", RIP_EINTEGRITY,
		"not a ripcord artifact");
	write_text(tpath(state, "junk.tar.zst"), "not an archive at all\n");
	assert_refused(state, "junk.tar.zst", RIP_EINTEGRITY, "junk.tar.zst");
}

static void test_hostile_paths(void **state)
{
	char abs[128], dotdot[128], name[64];
	const struct spec a[] = {
		DIR_("payload/"), { RIP_ART_FILE, abs, false, "x\n", 2, NULL, 0, 0 },
	};
	const struct spec d[] = {
		DIR_("payload/"),
		{ RIP_ART_FILE, dotdot, false, "x\n", 2, NULL, 0, 0 },
	};
	const struct spec l[] = {
		DIR_("payload/"), LINK_("payload/../../evil-link", "/etc"),
	};
	/* the reader takes "payload/" for a name of its own */
	const struct spec slashes[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"), DIR_("payload//"),
	};

	snprintf(name, sizeof(name), "ripcord-extract-evil-%ld", (long)getpid());
	snprintf(abs, sizeof(abs), "/tmp/%s", name);
	snprintf(dotdot, sizeof(dotdot), "payload/../../%s", name);
	write_artifact(tpath(state, "abs.tar.zst"), a, RIP_ARRAY_SIZE(a));
	write_artifact(tpath(state, "dot.tar.zst"), d, RIP_ARRAY_SIZE(d));
	write_artifact(tpath(state, "lnk.tar.zst"), l, RIP_ARRAY_SIZE(l));
	assert_refused(state, "abs.tar.zst", RIP_ESECURITY, abs);
	assert_refused(state, "dot.tar.zst", RIP_ESECURITY, dotdot);
	assert_refused(state, "lnk.tar.zst", RIP_ESECURITY,
		"payload/../../evil-link");
	write_raw(tpath(state, "sl.tar.zst"), slashes, RIP_ARRAY_SIZE(slashes));
	assert_refused(state, "sl.tar.zst", RIP_ESECURITY,
		"entry 'payload/' has an empty last name");
	assert_false(rip_path_exists(abs));
	assert_int_equal(count_entries(((struct tmpdir *)*state)->path), 4);
}

/*
 * A symlink, then an entry below it: written through the link, it would
 * land outside dest. Every list agrees, so only the O_NOFOLLOW walk
 * stands in the way.
 */
static void test_symlink_then_below(void **state)
{
	struct tmpdir *t = *state;
	char name[64], below[128], outside[600], escaped[700];
	const struct spec to_tmp[] = {
		DIR_("payload/"),
		FILE_("payload/a", "a\n"),
		LINK_("payload/link", "/tmp"),
		{ RIP_ART_FILE, below, false, "pwned\n", 6, NULL, 0, 0 },
	};
	const struct spec to_dir[] = {
		DIR_("payload/"),
		LINK_("payload/link", outside),
		DIR_("payload/link/sub/"),
		FILE_("payload/link/sub/f", "pwned\n"),
	};
	const struct spec to_self[] = {
		DIR_("payload/"),
		LINK_("payload/self", "."),
		FILE_("payload/self/x", "x\n"),
	};
	const struct spec link_below[] = {
		DIR_("payload/"),
		LINK_("payload/l1", "/tmp"),
		LINK_("payload/l1/l2", "/etc/passwd"),
	};

	snprintf(name, sizeof(name), "ripcord-extract-escape-%ld",
		(long)getpid());
	snprintf(below, sizeof(below), "payload/link/%s", name);
	snprintf(escaped, sizeof(escaped), "/tmp/%s", name);
	snprintf(outside, sizeof(outside), "%s/outside", t->path);
	assert_int_equal(mkdir(outside, 0755), 0);

	write_artifact(tpath(state, "a.tar.zst"), to_tmp,
		RIP_ARRAY_SIZE(to_tmp));
	assert_refused(state, "a.tar.zst", RIP_ESECURITY, below);
	assert_false(rip_path_exists(escaped));

	write_artifact(tpath(state, "b.tar.zst"), to_dir,
		RIP_ARRAY_SIZE(to_dir));
	assert_refused(state, "b.tar.zst", RIP_ESECURITY, "payload/link/sub");
	assert_int_equal(count_entries(outside), 0);

	write_artifact(tpath(state, "c.tar.zst"), to_self,
		RIP_ARRAY_SIZE(to_self));
	assert_refused(state, "c.tar.zst", RIP_ESECURITY,
		"lies below 'payload/self'");

	write_artifact(tpath(state, "d.tar.zst"), link_below,
		RIP_ARRAY_SIZE(link_below));
	assert_refused(state, "d.tar.zst", RIP_ESECURITY, "payload/l1/l2");
	assert_false(rip_path_exists("/tmp/l2"));
	/* four artifacts and the untouched folder */
	assert_int_equal(count_entries(t->path), 5);
}

static void test_decompression_bomb(void **state)
{
	const struct spec bomb[] = {
		DIR_("payload/"),
		FILE_("payload/ok", "ok\n"),
		{ RIP_ART_FILE, "payload/bomb", false, NULL, (size_t)400 << 20,
		  NULL, UNLISTED, 0 },
	};
	struct stat st;

	write_raw(tpath(state, "b.tar.zst"), bomb, RIP_ARRAY_SIZE(bomb));
	assert_int_equal(stat(tpath(state, "b.tar.zst"), &st), 0);
	/* the premise: a few KiB that would expand to 400 MiB */
	assert_true(st.st_size < 256 << 10);
	assert_refused(state, "b.tar.zst", RIP_ESECURITY, "payload/bomb");
	assert_int_equal(count_entries(((struct tmpdir *)*state)->path), 1);
}

/* Modes the writer cannot produce, through libarchive directly. */
static void test_bad_modes(void **state)
{
	const struct spec control[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"),
		EXEC_("payload/x", "x\n"),
	};
	struct spec priv[] = {
		DIR_("payload/"), FILE_("payload/secret", "s\n"),
	};
	struct spec suid[] = {
		DIR_("payload/"), EXEC_("payload/su", "#!/bin/sh\n"),
	};
	struct rip_extract_result res;
	struct rip_err err;

	write_raw(tpath(state, "ok.tar.zst"), control,
		RIP_ARRAY_SIZE(control));
	if (extract(state, "ok.tar.zst", "ok", &res, &err) < 0)
		fail_msg("control: %s", err.msg);
	assert_int_equal(res.files, 2);
	assert_extracted(tpath(state, "ok"), &control[2]);

	priv[1].perm = 0600;
	write_raw(tpath(state, "p.tar.zst"), priv, RIP_ARRAY_SIZE(priv));
	assert_refused(state, "p.tar.zst", RIP_EINTEGRITY,
		"file 'payload/secret' has mode 600");
	suid[1].perm = 04755;
	write_raw(tpath(state, "s.tar.zst"), suid, RIP_ARRAY_SIZE(suid));
	assert_refused(state, "s.tar.zst", RIP_ESECURITY, "payload/su");
}

/* UTF-8 names, in the "C" locale the CLI runs in. */
static void test_non_ascii(void **state)
{
	const struct spec specs[] = {
		DIR_("payload/"),
		LINK_("payload/caf\xc3\xa9", "\xc3\xa9t\xc3\xa9.txt"),
		DIR_("payload/\xc3\xbcn\xc3\xaf/"),
		FILE_("payload/\xc3\xbcn\xc3\xaf/\xe6\x97\xa5\xe6\x9c\xac.md",
			"# nihon\n"),
		FILE_("payload/\xc3\xa9t\xc3\xa9.txt", "accent\n"),
	};
	struct rip_extract_result res;
	struct rip_err err;
	mode_t old;
	int rc;

	setlocale(LC_ALL, "C");
	write_artifact(tpath(state, "u.tar.zst"), specs, RIP_ARRAY_SIZE(specs));
	old = umask(077);
	rc = extract(state, "u.tar.zst", "out", &res, &err);
	umask(old);
	if (rc < 0)
		fail_msg("extract: %s", err.msg);
	assert_int_equal(res.files, 2);
	assert_int_equal(res.links, 1);
	for (size_t i = 1; i < RIP_ARRAY_SIZE(specs); i++)
		assert_extracted(tpath(state, "out"), &specs[i]);
}

/* A relative dest: the temporary folder is beside it, in the cwd. */
static void test_relative_dest(void **state)
{
	struct tmpdir *t = *state;
	const struct spec specs[] = {
		DIR_("payload/"),
		FILE_("payload/a", "a\n"),
	};
	struct rip_extract_result res;
	struct rip_err err = { 0 };
	char cwd[1024];
	int rc;

	write_artifact(tpath(state, "a.tar.zst"), specs, RIP_ARRAY_SIZE(specs));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(t->path), 0);
	rc = rip_extract_payload(&res, "a.tar.zst", "rel", &err);
	assert_int_equal(chdir(cwd), 0);
	if (rc < 0)
		fail_msg("extract: %s", err.msg);
	assert_extracted(tpath(state, "rel"), &specs[1]);
	assert_int_equal(count_entries(t->path), 2);
	/* and err may be NULL */
	assert_int_equal(rip_extract_payload(&res, tpath(state, "a.tar.zst"),
		t->path, NULL), RIP_EEXISTS);
}

/* Many destinations */

#define MAX_ROOTS 12

/* A second file system for one root, when there is one; rlimit to put back. */
static char shm_dir[256];
static struct rlimit saved_nofile;

static int many_setup(void **state)
{
	int rc = tmpdir_setup(state);
	struct stat a, b;

	snprintf(shm_dir, sizeof(shm_dir), "/dev/shm/ripcord-test-XXXXXX");
	if (rc < 0 || !mkdtemp(shm_dir)) {
		shm_dir[0] = '\0';
	} else if (stat(shm_dir, &a) < 0 ||
	    stat(((struct tmpdir *)*state)->path, &b) < 0 ||
	    a.st_dev == b.st_dev) {
		/* the same file system as the other roots: no use */
		rmdir(shm_dir);
		shm_dir[0] = '\0';
	}
	getrlimit(RLIMIT_NOFILE, &saved_nofile);
	return rc;
}

static int many_teardown(void **state)
{
	setrlimit(RLIMIT_NOFILE, &saved_nofile);
	if (shm_dir[0])
		nftw(shm_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	shm_dir[0] = '\0';
	return tmpdir_teardown(state);
}

/* n deploy roots, each "<base>/r<i>/releases" made, dest[i] its "/1"; the
 * last root lies on /dev/shm when that is another file system. */
struct roots {
	size_t n;
	char rel[MAX_ROOTS][320];
	char dest[MAX_ROOTS][330];
	const char *v[MAX_ROOTS];
};

static void make_roots(void **state, struct roots *r, size_t n)
{
	struct tmpdir *t = *state;
	char root[300];

	assert_true(n <= MAX_ROOTS);
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		const char *base = i == n - 1 && shm_dir[0] ? shm_dir : t->path;

		snprintf(root, sizeof(root), "%s/r%zu", base, i);
		snprintf(r->rel[i], sizeof(r->rel[i]), "%s/releases", root);
		snprintf(r->dest[i], sizeof(r->dest[i]), "%s/1", r->rel[i]);
		assert_int_equal(mkdir(root, 0755), 0);
		assert_int_equal(mkdir(r->rel[i], 0755), 0);
		r->v[i] = r->dest[i];
	}
}

/* No root holds anything in releases/: no dest, no temporary folder. */
static void assert_roots_empty(const struct roots *r)
{
	for (size_t i = 0; i < r->n; i++) {
		DIR *d = opendir(r->rel[i]);
		struct dirent *e;

		assert_non_null(d);
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				fail_msg("'%s/%s' left behind", r->rel[i],
					e->d_name);
		closedir(d);
	}
}

static int extract_many(void **state, const char *art,
	const struct roots *r, struct rip_extract_result *res,
	struct rip_err *err)
{
	char a[512];

	snprintf(a, sizeof(a), "%s", tpath(state, art));
	memset(err, 0, sizeof(*err));
	return rip_extract_payload_many(res, a, r->v, r->n, err);
}

/* Extraction of art into every root must fail with code and needle. */
static void assert_refused_many(void **state, const char *art,
	const struct roots *r, int code, const char *needle)
{
	struct rip_extract_result res;
	struct rip_err err;
	int fds = count_entries("/proc/self/fd");
	int rc = extract_many(state, art, r, &res, &err);

	assert_int_equal(count_entries("/proc/self/fd"), fds);
	if (rc != code)
		fail_msg("'%s': rc %d, want %d (%s)", art, rc, code, err.msg);
	assert_int_equal(err.code, code);
	assert_err_contains(&err, needle);
	assert_int_equal(res.files, 0);
	assert_int_equal(res.bytes, 0);
	assert_int_equal(res.links, 0);
	assert_roots_empty(r);
}

static struct rip_strlist *listing;
static size_t listing_skip;

static int list_cb(const char *p, const struct stat *sb, int flag,
	struct FTW *ftw)
{
	unsigned char d[RIP_SHA256_LEN];
	char line[2048], link[1024], hex[RIP_SHA256_HEX];
	const char *rel = p + listing_skip;
	ssize_t n;

	(void)flag;
	if (ftw->level == 0)
		return 0;
	if (S_ISREG(sb->st_mode)) {
		assert_int_equal(rip_sha256_file(d, p, NULL), 0);
		rip_hex(hex, d, RIP_SHA256_LEN);
		snprintf(line, sizeof(line), "file %s %04o %lld %s", rel,
			(unsigned)(sb->st_mode & 07777), (long long)sb->st_size,
			hex);
	} else if (S_ISLNK(sb->st_mode)) {
		n = readlink(p, link, sizeof(link) - 1);
		assert_true(n >= 0);
		link[n] = '\0';
		snprintf(line, sizeof(line), "link %s -> %s", rel, link);
	} else if (S_ISDIR(sb->st_mode)) {
		snprintf(line, sizeof(line), "dir %s %04o", rel,
			(unsigned)(sb->st_mode & 07777));
	} else {
		snprintf(line, sizeof(line), "other %s", rel);
	}
	rip_strlist_push(listing, line);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everything below root, one sorted line per entry: its kind, its exact
 * mode, its size and sha256 or its target. Equal trees, equal texts. */
static char *tree_listing(const char *root)
{
	struct rip_strlist l = { 0 };
	struct rip_buf b = RIP_BUF_INIT;

	listing = &l;
	listing_skip = strlen(root) + 1;
	assert_int_equal(nftw(root, list_cb, 16, FTW_PHYS), 0);
	qsort(l.v, l.n, sizeof(*l.v), cmp_str);
	for (size_t i = 0; i < l.n; i++) {
		rip_buf_add(&b, l.v[i], strlen(l.v[i]));
		rip_buf_add(&b, "\n", 1);
	}
	rip_strlist_release(&l);
	return rip_buf_detach(&b, NULL);
}

/* The tree of every kind of entry, as test_round_trip has it. */
#define TREE_SPECS(big, big_len) { \
	DIR_("payload/"), \
	FILE_("payload/README", "read me\n"), \
	DIR_("payload/a/"), \
	DIR_("payload/a/b/"), \
	DIR_("payload/a/b/c/"), \
	FILE_("payload/a/b/c/deep.txt", "deep\n"), \
	LINK_("payload/abs", "/etc/hostname"), \
	{ RIP_ART_FILE, "payload/big.bin", false, (big), (big_len), NULL, \
	  0, 0 }, \
	DIR_("payload/bin/"), \
	FILE_("payload/bin/data", "not executable\n"), \
	EXEC_("payload/bin/run", "#!/bin/sh\necho hi\n"), \
	LINK_("payload/current", "bin/run"), \
	LINK_("payload/dangling", "no/such/file"), \
	FILE_("payload/empty", ""), \
	LINK_("payload/up", "../outside/target"), \
	DIR_("payload/vendor/"), \
	DIR_("payload/vendor/lib/"), \
	DIR_("payload/\xc3\xbcn\xc3\xaf/"), \
	FILE_("payload/\xc3\xbcn\xc3\xaf/\xe6\x97\xa5\xe6\x9c\xac.md", \
		"# nihon\n"), \
}
#define SUBMODULE "vendor/lib 0123456789abcdef0123456789abcdef01234567"

/* Three roots, one stream: each tree is the single extraction's. */
static void test_many_round_trip(void **state)
{
	enum { BIG = 1 << 20 };   /* many blocks, each written three times */
	unsigned char *big = malloc(BIG);
	const struct spec specs[] = TREE_SPECS(big, BIG);
	struct rip_extract_result one, res;
	struct rip_err err;
	struct roots r;
	char *want, *got;
	struct stat st;
	mode_t old;
	int rc, fds;

	assert_non_null(big);
	fill_random(big, BIG, 99);
	write_artifact_ex(tpath(state, "a.tar.zst"), specs,
		RIP_ARRAY_SIZE(specs), SUBMODULE, 0);
	make_roots(state, &r, 3);
	old = umask(077);
	rc = extract(state, "a.tar.zst", "single", &one, &err);
	if (rc < 0)
		fail_msg("single: %s", err.msg);
	fds = count_entries("/proc/self/fd");
	rc = extract_many(state, "a.tar.zst", &r, &res, &err);
	umask(old);
	if (rc < 0)
		fail_msg("many: %s", err.msg);
	assert_int_equal(count_entries("/proc/self/fd"), fds);
	/* counts are one tree's, as with one dest */
	assert_int_equal(res.files, one.files);
	assert_int_equal(res.bytes, one.bytes);
	assert_int_equal(res.links, one.links);
	assert_int_equal(res.files, 7);
	assert_int_equal(res.links, 4);

	want = tree_listing(tpath(state, "single"));
	assert_int_equal(count_tree(tpath(state, "single")),
		(int)RIP_ARRAY_SIZE(specs) - 1);
	for (size_t i = 0; i < r.n; i++) {
		got = tree_listing(r.dest[i]);
		if (strcmp(got, want))
			fail_msg("'%s' differs from the single extraction:\n"
				"%s\nwant:\n%s", r.dest[i], got, want);
		free(got);
		for (size_t j = 1; j < RIP_ARRAY_SIZE(specs); j++)
			assert_extracted(r.dest[i], &specs[j]);
		assert_int_equal(lstat(r.dest[i], &st), 0);
		assert_int_equal(st.st_mode & 07777, 0755);
		/* the release and no temporary folder beside it */
		assert_int_equal(count_entries(r.rel[i]), 1);
	}
	free(want);
	free(big);
}

static void test_many_dest_exists(void **state)
{
	const struct spec specs[] = {
		DIR_("payload/"),
		FILE_("payload/a", "a\n"),
	};
	struct rip_extract_result res;
	struct rip_err err = { 0 };
	struct roots r, twice;
	char dotted[600], missing[600];

	write_artifact(tpath(state, "a.tar.zst"), specs, RIP_ARRAY_SIZE(specs));
	make_roots(state, &r, 3);

	/* before any work: the artifact is not even opened */
	assert_int_equal(mkdir(r.dest[1], 0755), 0);
	assert_int_equal(extract_many(state, "nope.tar.zst", &r, &res, &err),
		RIP_EEXISTS);
	assert_err_contains(&err, r.dest[1]);
	assert_int_equal(extract_many(state, "a.tar.zst", &r, &res, &err),
		RIP_EEXISTS);
	assert_err_contains(&err, r.dest[1]);
	assert_int_equal(res.files, 0);
	assert_int_equal(count_entries(r.dest[1]), 0);
	assert_int_equal(rmdir(r.dest[1]), 0);
	assert_roots_empty(&r);

	/* a dangling symlink counts as existing */
	assert_int_equal(symlink("nowhere", r.dest[2]), 0);
	assert_int_equal(extract_many(state, "a.tar.zst", &r, &res, &err),
		RIP_EEXISTS);
	assert_err_contains(&err, r.dest[2]);
	assert_int_equal(unlink(r.dest[2]), 0);
	assert_roots_empty(&r);

	/* one folder named twice, as such or through "." */
	twice = r;
	twice.v[2] = r.dest[0];
	assert_int_equal(extract_many(state, "a.tar.zst", &twice, &res, &err),
		RIP_EUSAGE);
	assert_err_contains(&err, "are the same folder");
	snprintf(dotted, sizeof(dotted), "%s/./1", r.rel[1]);
	twice.v[2] = dotted;
	assert_int_equal(extract_many(state, "a.tar.zst", &twice, &res, &err),
		RIP_EUSAGE);
	assert_err_contains(&err, dotted);
	assert_roots_empty(&r);

	/* none at all, or an empty name */
	assert_int_equal(rip_extract_payload_many(&res, tpath(state,
		"a.tar.zst"), NULL, 0, &err), RIP_EUSAGE);
	twice.v[2] = "";
	assert_int_equal(extract_many(state, "a.tar.zst", &twice, &res, &err),
		RIP_EUSAGE);

	/* a missing parent after two good ones: their folders go too */
	snprintf(missing, sizeof(missing), "%s/no/releases/1",
		((struct tmpdir *)*state)->path);
	twice.v[2] = missing;
	assert_int_equal(extract_many(state, "a.tar.zst", &twice, &res, &err),
		RIP_ENOTFOUND);
	assert_err_contains(&err, missing);
	assert_roots_empty(&r);
	assert_false(rip_path_exists(tpath(state, "no")));

	/* and then all three, still possible */
	if (extract_many(state, "a.tar.zst", &r, &res, &err) < 0)
		fail_msg("extract: %s", err.msg);
	for (size_t i = 0; i < r.n; i++)
		assert_extracted(r.dest[i], &specs[1]);
}

/*
 * The refusals of the tests above, into three roots: the ones the first
 * read catches (nothing made yet) and the ones only the stream catches,
 * after files were written into every root (a digest, a symlink in the
 * way, an unlisted entry, a listed one missing at the very end).
 */
static void test_many_hostile(void **state)
{
	const struct spec z = FILE_("payload/d/z", "the real content\n");
	const struct spec f = FILE_("payload/extra", "extra\n");
	const struct spec g = FILE_("payload/gone", "gone\n");
	const struct spec badsum[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"), DIR_("payload/d/"),
		FILE_("payload/d/b", "b\n"), FLAG_(z, BADSUM),
		FILE_("payload/e", "e\n"),
	};
	const struct spec to_self[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"),
		LINK_("payload/self", "."), FILE_("payload/self/x", "x\n"),
	};
	const struct spec unlisted[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"), FLAG_(f, UNLISTED),
	};
	const struct spec ghost[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"), DIR_("payload/d/"),
		FILE_("payload/d/b", "b\n"), FLAG_(g, GHOST),
	};
	const struct spec dotdot[] = {
		DIR_("payload/"), LINK_("payload/../../evil-link", "/etc"),
	};
	const struct spec bomb[] = {
		DIR_("payload/"), FILE_("payload/ok", "ok\n"),
		{ RIP_ART_FILE, "payload/bomb", false, NULL, (size_t)400 << 20,
		  NULL, UNLISTED, 0 },
	};
	struct spec suid[] = {
		DIR_("payload/"), EXEC_("payload/su", "#!/bin/sh\n"),
	};
	struct roots r;

	make_roots(state, &r, 3);
	write_artifact(tpath(state, "sum.tar.zst"), badsum,
		RIP_ARRAY_SIZE(badsum));
	assert_refused_many(state, "sum.tar.zst", &r, RIP_EINTEGRITY,
		"file 'payload/d/z': sha256 expected");
	write_artifact(tpath(state, "self.tar.zst"), to_self,
		RIP_ARRAY_SIZE(to_self));
	assert_refused_many(state, "self.tar.zst", &r, RIP_ESECURITY,
		"lies below 'payload/self'");
	write_artifact(tpath(state, "unl.tar.zst"), unlisted,
		RIP_ARRAY_SIZE(unlisted));
	assert_refused_many(state, "unl.tar.zst", &r, RIP_EINTEGRITY,
		"file 'payload/extra' is not listed in SHA256SUMS");
	write_artifact(tpath(state, "ghost.tar.zst"), ghost,
		RIP_ARRAY_SIZE(ghost));
	assert_refused_many(state, "ghost.tar.zst", &r, RIP_EINTEGRITY,
		"'payload/gone' is listed in SHA256SUMS but missing");
	write_artifact(tpath(state, "dot.tar.zst"), dotdot,
		RIP_ARRAY_SIZE(dotdot));
	assert_refused_many(state, "dot.tar.zst", &r, RIP_ESECURITY,
		"payload/../../evil-link");
	write_raw(tpath(state, "bomb.tar.zst"), bomb, RIP_ARRAY_SIZE(bomb));
	assert_refused_many(state, "bomb.tar.zst", &r, RIP_ESECURITY,
		"payload/bomb");
	suid[1].perm = 04755;
	write_raw(tpath(state, "suid.tar.zst"), suid, RIP_ARRAY_SIZE(suid));
	assert_refused_many(state, "suid.tar.zst", &r, RIP_ESECURITY,
		"payload/su");
	write_text(tpath(state, "junk.tar.zst"), "not an archive at all\n");
	assert_refused_many(state, "junk.tar.zst", &r, RIP_EINTEGRITY,
		"junk.tar.zst");
}

/*
 * Feeds the artifact through a FIFO, once per read, and makes a folder
 * at appear before the second read ends: every stream has passed, the
 * first dest is renamed, the second is taken. The first read's end is
 * known by the temporary folders, which are made after it closed.
 */
struct feeder {
	const char *fifo;
	const unsigned char *data;
	size_t len;
	const char *watch;
	const char *appear;
	bool ok;
};

/* A writer's end of fifo once a reader has it open; -1 after 10 s. */
static int open_writer(const char *fifo)
{
	for (int i = 0; i < 10000; i++) {
		int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

		if (fd >= 0 && fcntl(fd, F_SETFL, 0) == 0)
			return fd;
		if (fd >= 0 || errno != ENXIO)
			return -1;
		usleep(1000);
	}
	return -1;
}

static bool dot_entry_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d)))
		found |= e->d_name[0] == '.' && strcmp(e->d_name, ".") &&
			strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return found;
}

static void *feeder_main(void *arg)
{
	struct feeder *f = arg;
	int fd = open_writer(f->fifo), i;

	if (fd < 0 || rip_write_all(fd, f->data, f->len) < 0)
		goto out;
	close(fd);
	for (i = 0; i < 10000 && !dot_entry_in(f->watch); i++)
		usleep(1000);
	fd = open_writer(f->fifo);
	if (fd < 0 || rip_write_all(fd, f->data, f->len) < 0)
		goto out;
	f->ok = mkdir(f->appear, 0755) == 0;
out:
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_many_dest_appears(void **state)
{
	const struct spec specs[] = {
		DIR_("payload/"),
		FILE_("payload/a", "a\n"),
		DIR_("payload/d/"),
		FILE_("payload/d/b", "b\n"),
	};
	struct feeder f = { 0 };
	struct rip_extract_result res;
	struct rip_err err = { 0 };
	struct roots r;
	pthread_t th;
	size_t len;
	char fifo[512];
	int rc;

	write_artifact(tpath(state, "a.tar.zst"), specs, RIP_ARRAY_SIZE(specs));
	f.data = slurp(tpath(state, "a.tar.zst"), &len);
	f.len = len;
	snprintf(fifo, sizeof(fifo), "%s", tpath(state, "a.fifo"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	make_roots(state, &r, 2);
	f.fifo = fifo;
	f.watch = r.rel[0];
	f.appear = r.dest[1];
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pthread_create(&th, NULL, feeder_main, &f), 0);
	rc = rip_extract_payload_many(&res, fifo, r.v, r.n, &err);
	assert_int_equal(pthread_join(th, NULL), 0);
	signal(SIGPIPE, SIG_DFL);
	free((void *)f.data);
	assert_true(f.ok);
	if (rc != RIP_EEXISTS)
		fail_msg("rc %d, want %d (%s)", rc, RIP_EEXISTS, err.msg);
	assert_err_contains(&err, "appeared while the artifact was being "
		"extracted");
	assert_err_contains(&err, r.dest[1]);
	assert_int_equal(res.files, 0);
	/* the first root's release, renamed already, was taken back; the
	 * second root keeps only the folder that appeared, untouched */
	assert_int_equal(rmdir(r.dest[1]), 0);
	assert_roots_empty(&r);
}

/*
 * Twelve roots under an open-file limit that holds two at a time: filled
 * in batches, one stream each, and still all or nothing.
 */
static void test_many_fd_limit(void **state)
{
	unsigned char *big = malloc(200000);
	const struct spec specs[] = TREE_SPECS(big, 200000);
	const struct spec ghost_file = FILE_("payload/gone", "gone\n");
	const struct spec ghost[] = {
		DIR_("payload/"), FILE_("payload/a", "a\n"), DIR_("payload/d/"),
		FILE_("payload/d/b", "b\n"), FLAG_(ghost_file, GHOST),
	};
	struct rip_extract_result one, res;
	struct rip_err err;
	struct rlimit low = saved_nofile;
	struct roots r;
	char *want, *got;
	int rc, fds;

	assert_non_null(big);
	fill_random(big, 200000, 5);
	write_artifact_ex(tpath(state, "a.tar.zst"), specs,
		RIP_ARRAY_SIZE(specs), SUBMODULE, 0);
	write_artifact(tpath(state, "g.tar.zst"), ghost, RIP_ARRAY_SIZE(ghost));
	if (extract(state, "a.tar.zst", "single", &one, &err) < 0)
		fail_msg("single: %s", err.msg);
	make_roots(state, &r, MAX_ROOTS);

	/* 24 free: two destinations of three fds beside a reserve of 16;
	 * all twelve at once would need 36 */
	fds = count_entries("/proc/self/fd") - 1;
	low.rlim_cur = (rlim_t)fds + 24;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	rc = extract_many(state, "g.tar.zst", &r, &res, &err);
	assert_int_equal(rc, RIP_EINTEGRITY);
	assert_err_contains(&err, "'payload/gone' is listed in SHA256SUMS");
	rc = extract_many(state, "a.tar.zst", &r, &res, &err);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
	if (rc < 0)
		fail_msg("many: %s", err.msg);
	assert_int_equal(count_entries("/proc/self/fd") - 1, fds);
	assert_int_equal(res.files, one.files);
	assert_int_equal(res.bytes, one.bytes);
	assert_int_equal(res.links, one.links);
	want = tree_listing(tpath(state, "single"));
	for (size_t i = 0; i < r.n; i++) {
		got = tree_listing(r.dest[i]);
		if (strcmp(got, want))
			fail_msg("'%s' differs from the single extraction",
				r.dest[i]);
		free(got);
		assert_int_equal(count_entries(r.rel[i]), 1);
	}
	free(want);
	free(big);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
#define M(f) cmocka_unit_test_setup_teardown(f, many_setup, many_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_round_trip),
		T(test_dest_exists),
		T(test_parent_link),
		T(test_digest_mismatch),
		T(test_flipped_byte),
		T(test_unlisted),
		T(test_listed_missing),
		T(test_manifest_counts),
		T(test_not_an_artifact),
		T(test_hostile_paths),
		T(test_symlink_then_below),
		T(test_decompression_bomb),
		T(test_bad_modes),
		T(test_non_ascii),
		T(test_relative_dest),
		M(test_many_round_trip),
		M(test_many_dest_exists),
		M(test_many_hostile),
		M(test_many_dest_appears),
		M(test_many_fd_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
