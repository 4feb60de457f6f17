/* SPDX-License-Identifier: MIT */
/*
 * verify.c: proving an artifact is whole, untampered and self-consistent.
 *
 * The artifact is opened once: hashed, its digest and signature checked,
 * then read again from the same descriptor and decompressed once
 * (artifact.c), the stream hashed again to prove it is the file that was
 * checked. What it holds is then checked both ways against its own lists:
 * every entry listed with the right digest or link target, every listed
 * path present, nothing unlisted, and MANIFEST's counts equal to what is
 * really there. The digest of the file
 * is checked against state.db and the signature against verify_key, so a
 * forger must beat SHA-256 and Ed25519 rather than our bookkeeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ripcord/artifact.h"
#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "ripcord/manifest.h"
#include "ripcord/release.h"
#include "ripcord/sign.h"
#include "extract_internal.h"
#include "banned.h"

struct check {
	struct rip_artifact_contents c;
	struct rip_manifest *m;
	struct rip_sums sums;
	struct rip_sums links;
	struct rip_err *err;
};

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int check_dir(struct check *k, const char *path)
{
	if (!strcmp(path, "payload") || !strcmp(path, "ripcord") ||
	    !strcmp(path, "ripcord/migrations") ||
	    rip_sums_has_below(&k->sums, path) ||
	    rip_sums_has_below(&k->links, path) ||
	    rip_manifest_holds_submodule(k->m, path))
		return 0;
	return rip_err_set(k->err, RIP_EINTEGRITY, "folder '%s' is not part of "
		"any listed path (unlisted entry)", path);
}

static int check_file(struct check *k, const struct rip_artifact_entry *e)
{
	char want[RIP_SHA256_HEX], got[RIP_SHA256_HEX];
	const struct rip_sum *s;

	if (!strcmp(e->path, "ripcord/MANIFEST") ||
	    !strcmp(e->path, "ripcord/SHA256SUMS") ||
	    !strcmp(e->path, "ripcord/LINKS"))
		return 0;
	if (!starts(e->path, "payload/") &&
	    !starts(e->path, "ripcord/migrations/"))
		return rip_err_set(k->err, RIP_EINTEGRITY, "unexpected file '%s' "
			"(only payload/ and ripcord/migrations/ hold files)",
			e->path);
	s = rip_sums_find(&k->sums, e->path);
	if (!s)
		return rip_err_set(k->err, RIP_EINTEGRITY, "file '%s' is not "
			"listed in SHA256SUMS", e->path);
	if (memcmp(s->digest, e->digest, RIP_SHA256_LEN)) {
		rip_hex(want, s->digest, RIP_SHA256_LEN);
		rip_hex(got, e->digest, RIP_SHA256_LEN);
		return rip_err_set(k->err, RIP_EINTEGRITY, "file '%s': sha256 "
			"expected %s, actual %s", e->path, want, got);
	}
	if (e->mode != 0644 && e->mode != 0755)
		return rip_err_set(k->err, RIP_EINTEGRITY, "file '%s' has mode "
			"%03o (expected 644 or 755)", e->path, e->mode);
	return 0;
}

static int check_link(struct check *k, const struct rip_artifact_entry *e)
{
	const struct rip_sum *s = rip_sums_find(&k->links, e->path);

	if (!starts(e->path, "payload/"))
		return rip_err_set(k->err, RIP_EINTEGRITY, "unexpected link '%s' "
			"outside payload/", e->path);
	if (!s)
		return rip_err_set(k->err, RIP_EINTEGRITY, "link '%s' is not "
			"listed in LINKS", e->path);
	if (strcmp(s->target, e->target))
		return rip_err_set(k->err, RIP_EINTEGRITY, "link '%s': target "
			"expected '%s', actual '%s'", e->path, s->target, e->target);
	return 0;
}

static const struct rip_artifact_entry *entry(const struct check *k,
	const char *path)
{
	size_t lo = 0, hi = k->c.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(k->c.v[mid].path, path);

		if (!c)
			return &k->c.v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int check_listed(struct check *k)
{
	for (size_t i = 0; i < k->sums.n; i++) {
		const struct rip_artifact_entry *e = entry(k, k->sums.v[i].path);

		if (!e || e->kind != RIP_ART_FILE)
			return rip_err_set(k->err, RIP_EINTEGRITY, "'%s' is listed "
				"in SHA256SUMS but missing from the artifact",
				k->sums.v[i].path);
	}
	for (size_t i = 0; i < k->links.n; i++) {
		const struct rip_artifact_entry *e = entry(k, k->links.v[i].path);

		if (!e || e->kind != RIP_ART_LINK)
			return rip_err_set(k->err, RIP_EINTEGRITY, "'%s' is listed "
				"in LINKS but missing from the artifact",
				k->links.v[i].path);
	}
	return 0;
}

static int check_manifest(struct check *k, const char *expect_id)
{
	const struct rip_manifest *m = k->m;
	uint64_t files = 0, bytes = 0, links = 0, mfiles = 0;

	for (size_t i = 0; i < k->c.n; i++) {
		const struct rip_artifact_entry *e = &k->c.v[i];

		if (e->kind == RIP_ART_FILE && starts(e->path, "payload/")) {
			files++;
			bytes += e->size;
		} else if (e->kind == RIP_ART_LINK) {
			links++;
		} else if (e->kind == RIP_ART_FILE &&
			   starts(e->path, "ripcord/migrations/")) {
			mfiles++;
		}
	}
	if (files != m->files || bytes != m->bytes || links != m->links)
		return rip_err_set(k->err, RIP_EINTEGRITY, "MANIFEST says %llu "
			"files, %llu bytes, %llu links; the payload has %llu, %llu, "
			"%llu", (unsigned long long)m->files,
			(unsigned long long)m->bytes, (unsigned long long)m->links,
			(unsigned long long)files, (unsigned long long)bytes,
			(unsigned long long)links);
	for (size_t i = 0; i < m->migrations.n; i++) {
		char *up = rip_xasprintf("ripcord/migrations/%s.up.sql",
			m->migrations.v[i]);
		char *down = rip_xasprintf("ripcord/migrations/%s.down.sql",
			m->migrations.v[i]);
		char *verify = rip_xasprintf("ripcord/migrations/%s.verify.sql",
			m->migrations.v[i]);
		bool ok = entry(k, up) != NULL;

		mfiles -= ok + (entry(k, down) != NULL) +
			(entry(k, verify) != NULL);
		free(up);
		free(down);
		free(verify);
		if (!ok)
			return rip_err_set(k->err, RIP_EINTEGRITY, "MANIFEST lists "
				"migration '%s' but the artifact has no %s.up.sql",
				m->migrations.v[i], m->migrations.v[i]);
	}
	if (mfiles)
		return rip_err_set(k->err, RIP_EINTEGRITY, "ripcord/migrations/ "
			"holds files of migrations MANIFEST does not list");
	if (expect_id && strcmp(expect_id, m->id))
		return rip_err_set(k->err, RIP_EINTEGRITY, "MANIFEST says release "
			"'%s', expected '%s' (a renamed or swapped artifact?)", m->id,
			expect_id);
	return 0;
}

int rip_verify_key_check(const char *verify_key, struct rip_err *err)
{
	if (!verify_key || rip_path_exists(verify_key))
		return 0;
	return rip_err_set(err, RIP_ECONFIG, "verify_key '%s' does not exist, "
		"so no signature can be checked and artifacts are refused "
		"(restore the public key, or remove verify_key from [package] to "
		"accept unsigned artifacts)", verify_key);
}

static int check_signature(struct rip_verify_result *out, const char *path,
	const unsigned char digest[RIP_SHA256_LEN], const char *verify_key,
	struct rip_err *err)
{
	struct rip_buf sig = RIP_BUF_INIT;
	char *sig_path = rip_xasprintf("%s.sig", path);
	int rc = 0;

	out->is_signed = rip_path_exists(sig_path);
	if (!verify_key || (rc = rip_verify_key_check(verify_key, err)) < 0)
		goto done;
	if (!out->is_signed) {
		rc = rip_err_set(err, RIP_ESECURITY, "unsigned artifact refused: "
			"verify_key is set and '%s' is missing", sig_path);
		goto done;
	}
	if (rip_read_file(&sig, sig_path, 4096, err) < 0) {
		rc = err ? (err->code = RIP_ESECURITY) : RIP_ESECURITY;
		goto done;
	}
	rc = rip_sign_verify(verify_key, digest, sig.buf, sig.len, err);
	if (rc == 0)
		out->sig_checked = true;
	else
		rip_err_prefix(err, "signature '%s'", sig_path);
done:
	rip_buf_release(&sig);
	free(sig_path);
	return rc;
}

static int check_entries(struct check *k)
{
	int rc = 0;

	for (size_t i = 0; i < k->c.n && !rc; i++) {
		const struct rip_artifact_entry *e = &k->c.v[i];

		switch (e->kind) {
		case RIP_ART_DIR:
			rc = check_dir(k, e->path);
			break;
		case RIP_ART_FILE:
			rc = check_file(k, e);
			break;
		case RIP_ART_LINK:
			rc = check_link(k, e);
			break;
		}
	}
	return rc ? rc : check_listed(k);
}

/*
 * The cheap checks first: the file's digest against state.db and its
 * signature, before a byte of a possibly hostile archive is parsed.
 */
static int check_outside(struct rip_verify_result *out, int fd,
	const char *path, unsigned char digest[RIP_SHA256_LEN],
	const char *expect_sha256, const char *verify_key, struct rip_err *err)
{
	int rc;

	if ((rc = rip_sha256_fd(digest, fd, path, err)) < 0)
		return rc;
	rip_hex(out->sha256, digest, RIP_SHA256_LEN);
	if (expect_sha256 && strcmp(expect_sha256, out->sha256))
		return rip_err_set(err, RIP_EINTEGRITY, "sha256 expected %s "
			"(state.db), actual %s: the file was changed or damaged",
			expect_sha256, out->sha256);
	return check_signature(out, path, digest, verify_key, err);
}

static const struct rip_artifact_file *kept(const struct check *k,
	const char *id, const char *kind)
{
	char *path = rip_xasprintf("ripcord/migrations/%s.%s.sql", id, kind);
	const struct rip_artifact_file *f = NULL;

	for (size_t i = 0; i < k->c.nfiles && !f; i++)
		if (!strcmp(k->c.files[i].path, path))
			f = &k->c.files[i];
	free(path);
	return f;
}

/* The verified artifact's migrations, in MANIFEST's (apply) order. */
static void collect_migrations(struct rip_migrations *out,
	const struct check *k)
{
	static const char *const kinds[] = { "up", "down", "verify" };

	for (size_t i = 0; i < k->m->migrations.n; i++) {
		const char *id = k->m->migrations.v[i];
		const char *us = strchr(id, '_');
		struct rip_migration *m = rip_migrations_add(out);
		struct rip_sql *slot[] = { &m->up, &m->down, &m->verify };

		m->id = rip_xstrdup(id);
		m->version = us ? rip_xstrndup(id, (size_t)(us - id)) :
				  rip_xstrdup(id);
		m->name = rip_xstrdup(us ? us + 1 : "");
		for (size_t j = 0; j < RIP_ARRAY_SIZE(kinds); j++) {
			const struct rip_artifact_file *f = kept(k, id, kinds[j]);
			char *name;

			if (!f)
				continue;
			name = rip_xasprintf("%s.tar.zst:%s", k->m->id, f->path);
			rip_sql_set(slot[j], f->data.buf, f->data.len, name);
			free(name);
		}
		rip_migration_read_markers(m, m->up.text, m->up.len);
	}
}

static int verify_impl(struct rip_verify_result *out, const char *path,
	const char *expect_sha256, const char *expect_id,
	const char *verify_key, struct rip_migrations *migs,
	const struct rip_artifact_sink *sink, struct rip_err *err)
{
	unsigned char digest[RIP_SHA256_LEN];
	struct check k = { .err = err };
	int fd, rc;

	memset(out, 0, sizeof(*out));
	out->path = rip_xstrdup(path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND : RIP_EIO,
			"cannot open '%s'", path);
		goto done;
	}
	if ((rc = check_outside(out, fd, path, digest, expect_sha256,
			verify_key, err)) < 0)
		goto done;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		rc = rip_err_errno(err, RIP_EIO, "cannot read '%s'", path);
		goto done;
	}
	if ((rc = rip_artifact_read_fd(&k.c, fd, migs ? "ripcord/migrations/" :
			NULL, sink, err)) < 0)
		goto done;
	if (memcmp(digest, k.c.file_digest, RIP_SHA256_LEN)) {
		rc = rip_err_set(err, RIP_EINTEGRITY, "the file changed while "
			"it was being verified");
		goto done;
	}
	if (!entry(&k, "ripcord/MANIFEST") || !entry(&k, "ripcord/SHA256SUMS") ||
	    !entry(&k, "ripcord/LINKS")) {
		rc = rip_err_set(err, RIP_EINTEGRITY, "not a ripcord artifact: "
			"ripcord/MANIFEST, SHA256SUMS or LINKS is missing");
		goto done;
	}
	if ((rc = rip_manifest_parse(&k.m, k.c.manifest.buf, err)) < 0 ||
	    (rc = rip_sums_parse(&k.sums, k.c.sums.buf, err)) < 0 ||
	    (rc = rip_links_parse(&k.links, k.c.links.buf, err)) < 0)
		goto done;
	if ((rc = check_entries(&k)) < 0 ||
	    (rc = check_manifest(&k, expect_id)) < 0)
		goto done;
	out->id = rip_xstrdup(k.m->id);
	out->files = k.m->files;
	out->links = k.m->links;
	out->migrations = k.m->migrations.n;
	if (migs)
		collect_migrations(migs, &k);
	out->manifest = k.m;
	k.m = NULL;
done:
	if (rc < 0)
		rip_err_prefix(err, "artifact '%s'", path);
	if (fd >= 0)
		close(fd);
	rip_manifest_free(k.m);
	rip_sums_release(&k.sums);
	rip_sums_release(&k.links);
	rip_artifact_contents_release(&k.c);
	return rc;
}

int rip_verify_file(struct rip_verify_result *out, const char *path,
	const char *expect_sha256, const char *expect_id,
	const char *verify_key, struct rip_err *err)
{
	return verify_impl(out, path, expect_sha256, expect_id, verify_key,
		NULL, NULL, err);
}

int rip_verify_file_sink(struct rip_verify_result *out, const char *path,
	const char *expect_sha256, const char *expect_id,
	const struct rip_artifact_sink *sink, struct rip_err *err)
{
	return verify_impl(out, path, expect_sha256, expect_id, NULL, NULL,
		sink, err);
}

static int release_impl(struct rip_verify_result *out,
	struct rip_store *store, const char *id, const char *verify_key,
	struct rip_migrations *migs, const struct rip_artifact_sink *sink,
	struct rip_err *err)
{
	struct rip_release_rec rec;
	char *path;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_release_get(&rec, store->state, id, err)) < 0)
		return rc;
	path = rip_store_artifact_path(store, id);
	rc = verify_impl(out, path, rec.sha256, id, verify_key, migs, sink,
		err);
	if (rc == RIP_ENOTFOUND)
		rc = rip_err_set(err, RIP_EINTEGRITY, "release '%s' is recorded "
			"but its artifact '%s' is missing (cut can rebuild it, "
			"proven identical by its recorded sha256: ripcord cut %.12s "
			"--id %s)", id, path, rec.commit, id);
	free(path);
	rip_release_rec_release(&rec);
	return rc;
}

int rip_verify_release(struct rip_verify_result *out,
	struct rip_store *store, const char *id, const char *verify_key,
	struct rip_err *err)
{
	return release_impl(out, store, id, verify_key, NULL, NULL, err);
}

int rip_release_migrations(struct rip_migrations *out,
	struct rip_store *store, const char *id, const char *verify_key,
	struct rip_err *err)
{
	struct rip_verify_result res;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = release_impl(&res, store, id, verify_key, out, NULL, err);
	rip_verify_result_release(&res);
	if (rc < 0)
		rip_migrations_release(out);
	return rc;
}

int rip_file_migrations(struct rip_migrations *out, const char *path,
	const char *verify_key, struct rip_err *err)
{
	struct rip_verify_result res;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = verify_impl(&res, path, NULL, NULL, verify_key, out, NULL, err);
	rip_verify_result_release(&res);
	if (rc < 0)
		rip_migrations_release(out);
	return rc;
}

int rip_verify_release_sink(struct rip_verify_result *out,
	struct rip_migrations *migs, struct rip_store *store, const char *id,
	const char *verify_key, const struct rip_artifact_sink *sink,
	struct rip_err *err)
{
	int rc;

	if (migs)
		memset(migs, 0, sizeof(*migs));
	rc = release_impl(out, store, id, verify_key, migs, sink, err);
	if (rc < 0 && migs)
		rip_migrations_release(migs);
	return rc;
}

int rip_release_all_migrations(struct rip_migrations *out,
	struct rip_store *store, const char *verify_key,
	rip_sources_enough_fn enough, void *data, struct rip_err *err)
{
	struct rip_release_rec *v;
	bool done = false;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_verify_key_check(verify_key, err)) < 0 ||
	    (rc = rip_state_release_list(&v, &n, store->state, err)) < 0)
		return rc;
	for (size_t i = n; !done && i-- > 0; ) {
		struct rip_migrations one;
		struct rip_err skip = { 0 };

		if (rip_release_migrations(&one, store, v[i].id, verify_key,
				&skip) < 0) {
			rip_warn("release %s is not used as a source of downs: %s",
				v[i].id, skip.msg);
			continue;
		}
		for (size_t j = 0; j < one.n; j++) {
			*rip_migrations_add(out) = one.v[j];
			if (enough && enough(data, &one.v[j]))
				done = true;
		}
		free(one.v);
	}
	rip_release_recs_free(v, n);
	return 0;
}

void rip_verify_result_release(struct rip_verify_result *r)
{
	free(r->id);
	free(r->path);
	rip_manifest_free(r->manifest);
	memset(r, 0, sizeof(*r));
}
