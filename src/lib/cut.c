/* SPDX-License-Identifier: MIT */
/*
 * cut.c: packaging a git commit into a release artifact in the store.
 *
 * One pass over the selected tree in git's order, which is the sorted
 * order of the artifact: each blob is read once, sniffed for secrets,
 * hashed and streamed into the archive, and dropped before the next, so
 * memory follows the largest file, not the tree. ripcord/ sorts after
 * payload/, so SHA256SUMS and MANIFEST are written last from what was
 * gathered on the way. The artifact appears under its real name only
 * after it is whole (rip_atomic), after its signature, and before its
 * state.db record, which is what makes it a release; the same transaction
 * keeps its migrations for the views (release_view.c), so status never
 * has to read the artifact for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rip_version.h"
#include "ripcord/artifact.h"
#include "ripcord/fsutil.h"
#include "ripcord/gitsrc.h"
#include "ripcord/layout.h"
#include "ripcord/lint.h"
#include "ripcord/log.h"
#include "ripcord/manifest.h"
#include "ripcord/release.h"
#include "ripcord/secrets.h"
#include "ripcord/sign.h"
#include "ripcord/state.h"
#include "banned.h"

struct cut {
	const struct rip_config *cfg;
	const struct rip_cut_opts *opts;
	struct rip_err *err;
	struct rip_cut_result *res;
	struct rip_repo *repo;
	struct rip_commit_info commit;
	struct rip_selection sel;
	struct rip_selection migsel;
	struct rip_layout_file *mfiles;
	struct rip_blob *mdata;
	size_t n_mfiles;
	struct rip_migrations migs;
	struct rip_store *store;
	struct rip_lock lock;
	struct rip_atomic tmp;
	bool tmp_open;
	struct rip_artifact_writer *w;
	struct rip_sums sums;
	struct rip_sums links;
	struct rip_strlist secrets;
	struct rip_strlist submodules;
	struct rip_buf dir;       /* the folder last written, tree-relative */
};

/*
 * git describe, made an id: our own "release/<id>" tags give back <id>, and
 * any other '/' in a tag name becomes '-' ("app/v1.2" -> "app-v1.2").
 */
static int describe_id(struct rip_buf *out, struct cut *c)
{
	struct rip_buf d = RIP_BUF_INIT;
	const char *s;
	int rc;

	if ((rc = rip_repo_describe(&d, c->repo, c->commit.id, c->err)) < 0)
		goto done;
	s = d.buf;
	if (!strncmp(s, "release/", 8))
		s += 8;
	for (; *s; s++)
		rip_buf_addch(out, *s == '/' ? '-' : *s);
done:
	rip_buf_release(&d);
	return rc;
}

static int resolve(struct cut *c)
{
	const char *rev = c->opts->rev ? c->opts->rev : "HEAD";
	struct rip_buf id = RIP_BUF_INIT;
	int rc;

	/* the repository around the working folder, else the config's */
	rc = rip_repo_open(&c->repo, ".", c->err);
	if (rc == RIP_ENOTFOUND)
		rc = rip_repo_open(&c->repo, c->cfg->dir, c->err);
	if (rc < 0)
		return rc;
	if ((rc = rip_repo_commit(&c->commit, c->repo, rev, c->err)) < 0)
		return rc;
	memcpy(c->res->commit, c->commit.id, sizeof(c->res->commit));
	if (c->opts->id)
		rip_buf_adds(&id, c->opts->id);
	else if ((rc = describe_id(&id, c)) < 0)
		return rc;
	c->res->id = rip_buf_detach(&id, NULL);
	if (!rip_release_id_valid(c->res->id))
		return rip_err_set(c->err, RIP_EUSAGE, "'%s' is not a valid release "
			"id (letters, digits, '.', '_', '+' and '-'; at most 128; "
			"no '..'; choose one with --id)", c->res->id);
	return 0;
}

/* Whether a changed work tree path would be in the artifact. */
static bool packaged(const struct cut *c, const char *path)
{
	const char *dir = c->cfg->migrations.dir;
	size_t dl;

	if (rip_select_match(path, &c->cfg->package.include,
			&c->cfg->package.exclude))
		return true;
	if (!dir)
		return false;
	while (dir[0] == '.' && dir[1] == '/')
		dir += 2;
	dl = strlen(dir);
	while (dl && dir[dl - 1] == '/')
		dl--;
	return (dl == 1 && dir[0] == '.') || dl == 0 ||
		(!strncmp(path, dir, dl) && path[dl] == '/');
}

/*
 * Cutting the commit checked out, with changes not committed to what it
 * packages: the artifact holds the commit, never the work tree, which is
 * worth a warning when someone may have meant the edits to ship.
 */
static void warn_dirty(struct cut *c)
{
	struct rip_commit_info head;
	struct rip_strlist dirty = { 0 }, shown = { 0 };
	struct rip_buf list = RIP_BUF_INIT;
	struct rip_err e = { 0 };

	if (rip_repo_commit(&head, c->repo, "HEAD", &e) < 0 ||
	    strcmp(head.id, c->commit.id))
		return;
	if (rip_repo_dirty(&dirty, c->repo, &e) < 0) {
		rip_warn("cannot tell whether the work tree has uncommitted "
			"changes: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < dirty.n; i++)
		if (packaged(c, dirty.v[i]))
			rip_strlist_push(&shown, dirty.v[i]);
	for (size_t i = 0; i < shown.n && i < 3; i++)
		rip_buf_addf(&list, "%s'%s'", i ? ", " : "", shown.v[i]);
	if (shown.n > 3)
		rip_buf_addf(&list, " and %zu more", shown.n - 3);
	if (shown.n)
		rip_warn("the work tree has uncommitted changes to %zu packaged "
			"file%s (%s); the artifact holds commit %.12s as committed, "
			"not the work tree (commit them and cut again to ship them)",
			shown.n, shown.n == 1 ? "" : "s", list.buf, c->commit.id);
	rip_buf_release(&list);
	rip_strlist_release(&shown);
	rip_strlist_release(&dirty);
}

/* Ups that break the running release, downs that hide differences:
 * warned about at cut, where they are cheapest to fix. */
static void warn_lint(const struct cut *c)
{
	struct rip_lint lint = { 0 };

	rip_lint_run(&lint, &c->migs);
	c->res->lint = lint.n;
	for (size_t i = 0; i < lint.n; i++)
		rip_warn("%s:%d: %s: %s", lint.v[i].file, lint.v[i].line,
			lint.v[i].rule, lint.v[i].message);
	rip_lint_release(&lint);
}

/* The phase rules (expand-contract-together against the parent release;
 * without one the rule is skipped, and a parent that cannot be read only
 * costs that rule). */
static void warn_phases(const struct cut *c)
{
	struct rip_migrations parent = { 0 };
	struct rip_lint lint = { 0 };
	struct rip_err perr = { 0 };

	if (!c->migs.n)
		return;
	if (c->res->parent && rip_release_migrations(&parent, c->store,
			c->res->parent, c->cfg->package.verify_key, &perr) < 0)
		rip_debug("expand-contract-together skipped: %s", perr.msg);
	rip_lint_phases(&lint, &c->migs, c->res->parent && !perr.code ?
		&parent : NULL);
	c->res->lint += lint.n;
	for (size_t i = 0; i < lint.n; i++)
		rip_warn("%s:%d: %s: %s", lint.v[i].file, lint.v[i].line,
			lint.v[i].rule, lint.v[i].message);
	rip_lint_release(&lint);
	rip_migrations_release(&parent);
}

static int load_migrations(struct cut *c)
{
	const char *dir = c->cfg->migrations.dir;
	struct rip_strlist inc = { 0 }, none = { 0 };
	struct rip_layout_opts o = { 0 };
	enum rip_layout_format detected;
	size_t dl;
	int rc;

	if (!dir)
		return 0;
	while (dir[0] == '.' && dir[1] == '/')
		dir += 2;
	dl = strlen(dir);
	while (dl && dir[dl - 1] == '/')
		dl--;
	if (dl == 1 && dir[0] == '.')
		dl = 0;  /* the repository's root */
	rip_strlist_push(&inc, dl ? dir : ".");
	rc = rip_repo_select(&c->migsel, c->repo, c->commit.id, &inc, &none,
		c->err);
	rip_strlist_release(&inc);
	if (rc < 0)
		return rc;
	c->mfiles = rip_xcalloc(c->migsel.n, sizeof(*c->mfiles));
	c->mdata = rip_xcalloc(c->migsel.n, sizeof(*c->mdata));
	for (size_t i = 0; i < c->migsel.n; i++) {
		const struct rip_entry *e = &c->migsel.v[i];

		if ((dl && (strncmp(e->path, dir, dl) || e->path[dl] != '/')) ||
		    e->kind == RIP_ENTRY_LINK || e->kind == RIP_ENTRY_SUBMODULE)
			continue;
		if ((rc = rip_repo_blob(&c->mdata[c->n_mfiles], c->repo, e->oid,
				c->err)) < 0)
			return rc;
		c->mfiles[c->n_mfiles].path = e->path + (dl ? dl + 1 : 0);
		c->mfiles[c->n_mfiles].data = c->mdata[c->n_mfiles].data;
		c->mfiles[c->n_mfiles].len = c->mdata[c->n_mfiles].len;
		c->n_mfiles++;
	}
	if (!c->n_mfiles)
		rip_warn("migrations folder '%.*s' is empty or missing at %.12s",
			(int)dl, dir, c->commit.id);
	if (rip_layout_parse(&o.format, c->cfg->migrations.format) < 0)
		o.format = RIP_LAYOUT_AUTO;
	o.irreversible = &c->cfg->migrations.irreversible;
	o.contract = &c->cfg->migrations.contract;
	o.baseline = c->cfg->migrations.baseline;
	o.dir = dir;
	if ((rc = rip_layout_read(&c->migs, &detected, c->mfiles, c->n_mfiles,
			&o, c->err)) < 0)
		return rc;
	if (o.format == RIP_LAYOUT_AUTO && c->n_mfiles)
		rip_info("migrations: %s layout, %zu migrations",
			rip_layout_name(detected), c->migs.n);
	warn_lint(c);
	return 0;
}

/*
 * The newest release whose commit is a proper ancestor of this one. A
 * release recut keeps the parent it was recorded with, so its bytes do not
 * depend on what was cut since.
 */
static int find_parent(struct cut *c, const struct rip_release_rec *existing)
{
	struct rip_release_rec *v;
	size_t n;
	int rc;

	if (existing) {
		c->res->parent = existing->parent ?
			rip_xstrdup(existing->parent) : NULL;
		return 0;
	}
	if ((rc = rip_state_release_list(&v, &n, c->store->state, c->err)) < 0)
		return rc;
	for (size_t i = n; i-- > 0 && !c->res->parent; ) {
		bool anc;

		if (!strcmp(v[i].commit, c->commit.id))
			continue;
		if ((rc = rip_repo_is_ancestor(&anc, c->repo, v[i].commit,
				c->commit.id, c->err)) < 0)
			break;
		if (anc)
			c->res->parent = rip_xstrdup(v[i].id);
	}
	rip_release_recs_free(v, n);
	return rc;
}

/* Emits the folder entries between the last folder written and path's. */
static int enter_dirs(struct cut *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) : 0, common = 0;
	int rc;

	/* the longest common prefix that ends on a component boundary */
	for (size_t i = 0; i <= dl && i <= c->dir.len; i++) {
		bool end_a = i == dl || path[i] == '/';
		bool end_b = i == c->dir.len || c->dir.buf[i] == '/';

		if (end_a && end_b)
			common = i;
		if (i == dl || i == c->dir.len || path[i] != c->dir.buf[i])
			break;
	}
	for (size_t i = common + (common ? 1 : 0); i <= dl && dl; i++) {
		if (i != dl && path[i] != '/')
			continue;
		char *d = rip_xasprintf("payload/%.*s/", (int)i, path);

		rc = rip_artifact_add_dir(c->w, d, c->err);
		free(d);
		if (rc < 0)
			return rc;
	}
	rip_buf_reset(&c->dir);
	rip_buf_add(&c->dir, path, dl);
	return 0;
}

/* Whether s is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned cp, n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0)
			n = 1, cp = *p & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			n = 2, cp = *p & 0x0f;
		else if ((*p & 0xf8) == 0xf0)
			n = 3, cp = *p & 0x07;
		else
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

/* Paths the artifact's lists and pax headers can carry, or an error. */
static int check_path(struct cut *c, const char *path)
{
	if (strpbrk(path, "\t\n"))
		return rip_err_set(c->err, RIP_EUSAGE, "path '%s' holds a tab or "
			"newline, which SHA256SUMS and LINKS cannot carry; rename "
			"it or exclude it", path);
	if (!utf8_valid(path))
		return rip_err_set(c->err, RIP_EUSAGE, "path '%s' is not valid "
			"UTF-8 (artifacts keep names as UTF-8, as pax requires); "
			"rename it in git or exclude it", path);
	return 0;
}

/* Whether a link at path with target resolves outside the tree root. */
static bool link_escapes(const char *path, const char *target)
{
	long depth = 0;
	const char *s;

	if (target[0] == '/')
		return true;
	for (s = path; (s = strchr(s, '/')); s++)
		depth++;
	for (s = target; *s; ) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);

		if (len == 2 && s[0] == '.' && s[1] == '.')
			depth--;
		else if (len && !(len == 1 && s[0] == '.'))
			depth++;
		if (depth < 0)
			return true;
		if (!slash)
			break;
		s = slash + 1;
	}
	return false;
}

static int add_blob(struct cut *c, const struct rip_entry *e,
	const char *apath)
{
	unsigned char digest[RIP_SHA256_LEN];
	struct rip_blob b;
	const char *why;
	int rc;

	if (rip_repo_blob(&b, c->repo, e->oid, c->err) < 0)
		return rip_err_prefix(c->err, "'%s'", e->path);
	if (!c->cfg->package.allow_secrets &&
	    (why = rip_secret_reason(e->path, b.data, b.len))) {
		char *line = rip_xasprintf("%s (%s)", e->path, why);

		rip_strlist_push(&c->secrets, line);
		free(line);
	}
	if (b.len < 200 && b.len >= 40 && !memcmp(b.data,
			"version https://git-lfs.github.com/spec/", 40))
		rip_warn("'%s' is a Git LFS pointer; the artifact carries the "
			"pointer, not the object", e->path);
	rip_sha256(digest, b.data, b.len);
	rip_sums_add(&c->sums, apath, digest, NULL);
	c->res->files++;
	c->res->bytes += b.len;
	rc = rip_artifact_add_file(c->w, apath, e->kind == RIP_ENTRY_EXEC,
		b.data, b.len, c->err);
	rip_blob_release(&b);
	return rc;
}

static int add_link(struct cut *c, const struct rip_entry *e,
	const char *apath)
{
	struct rip_blob b;
	char *target;
	size_t len;
	int rc;

	if (rip_repo_blob(&b, c->repo, e->oid, c->err) < 0)
		return rip_err_prefix(c->err, "'%s'", e->path);
	len = b.len;
	target = rip_xstrndup(b.data, len);
	rip_blob_release(&b);
	if (!len || strlen(target) != len || strpbrk(target, "\t\n") ||
	    !utf8_valid(target)) {
		free(target);
		return rip_err_set(c->err, RIP_EUSAGE, "link '%s' has an empty "
			"target or one with a NUL, tab, newline or bytes that are "
			"not UTF-8; fix it in git", e->path);
	}
	if (link_escapes(e->path, target))
		rip_warn("link '%s' points outside the payload ('%s'); kept as "
			"git has it", e->path, target);
	rip_sums_add(&c->links, apath, NULL, target);
	rc = rip_artifact_add_link(c->w, apath, target, c->err);
	free(target);
	return rc;
}

static int write_payload(struct cut *c)
{
	int rc = 0;

	if ((rc = rip_artifact_add_dir(c->w, "payload/", c->err)) < 0)
		return rc;
	for (size_t i = 0; i < c->sel.n && !rc; i++) {
		const struct rip_entry *e = &c->sel.v[i];
		char *apath;

		if ((rc = check_path(c, e->path)) < 0 ||
		    (rc = enter_dirs(c, e->path)) < 0)
			return rc;
		apath = rip_xasprintf("payload/%s", e->path);
		switch (e->kind) {
		case RIP_ENTRY_FILE:
		case RIP_ENTRY_EXEC:
			rc = add_blob(c, e, apath);
			break;
		case RIP_ENTRY_LINK:
			rc = add_link(c, e, apath);
			break;
		case RIP_ENTRY_SUBMODULE: {
			char hex[RIP_OID_HEX], *dir, *line;

			rip_hex(hex, e->oid, 20);
			rip_warn("'%s' is a submodule (%.12s); the artifact "
				"carries an empty folder, not its files", e->path, hex);
			line = rip_xasprintf("%s %s", e->path, hex);
			rip_strlist_push(&c->submodules, line);
			free(line);
			dir = rip_xasprintf("%s/", apath);
			rc = rip_artifact_add_dir(c->w, dir, c->err);
			free(dir);
			break;
		}
		}
		free(apath);
		if (c->opts->progress && (i % 256 == 0 || i + 1 == c->sel.n))
			c->opts->progress(c->opts->progress_data, i + 1, c->sel.n);
	}
	return rc;
}

static void fill_manifest(struct cut *c, struct rip_manifest *m,
	char *created, size_t len)
{
	time_t t = (time_t)c->commit.time;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(created, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	memset(m, 0, sizeof(*m));
	m->format = RIP_FORMAT_VERSION;
	m->id = c->res->id;
	m->project = c->cfg->project.name;
	m->commit = c->commit.id;
	m->tree = c->sel.tree;
	m->parent = c->res->parent;
	m->created = created;
	m->tool = "ripcord " RIP_VERSION;
	m->files = c->res->files;
	m->bytes = c->res->bytes;
	m->links = c->links.n;
	m->submodules = c->submodules;
	for (size_t i = 0; i < c->migs.n; i++)
		rip_strlist_push(&m->migrations, c->migs.v[i].id);
}

struct mig_file {
	char *path;
	struct rip_buf text;
};

static int cmp_mig_file(const void *a, const void *b)
{
	return strcmp(((const struct mig_file *)a)->path,
		((const struct mig_file *)b)->path);
}

static void add_mig_file(struct mig_file *v, size_t *n, const char *id,
	const char *kind, const char *text, size_t len)
{
	v[*n].path = rip_xasprintf("ripcord/migrations/%s.%s.sql", id, kind);
	rip_buf_init(&v[*n].text, 0);
	rip_buf_add(&v[*n].text, text, len);
	(*n)++;
}

/* The normalised migration files, sorted by their artifact path. */
static struct mig_file *migration_files(struct cut *c, size_t *n)
{
	struct mig_file *v = rip_xcalloc(3 * c->migs.n + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < c->migs.n; i++) {
		const struct rip_migration *mg = &c->migs.v[i];

		v[*n].path = rip_xasprintf("ripcord/migrations/%s.up.sql", mg->id);
		rip_buf_init(&v[*n].text, 0);
		rip_migration_normalise(&v[*n].text, mg);
		(*n)++;
		if (mg->down.text)
			add_mig_file(v, n, mg->id, "down", mg->down.text,
				mg->down.len);
		if (mg->verify.text)
			add_mig_file(v, n, mg->id, "verify", mg->verify.text,
				mg->verify.len);
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_mig_file);
	return v;
}

static int write_meta(struct cut *c)
{
	struct rip_buf text = RIP_BUF_INIT;
	struct rip_manifest m;
	char created[32];
	size_t nm;
	struct mig_file *mf = migration_files(c, &nm);
	int rc;

	/* migration files are listed in SHA256SUMS too */
	for (size_t i = 0; i < nm; i++) {
		unsigned char d[RIP_SHA256_LEN];

		rip_sha256(d, mf[i].text.buf, mf[i].text.len);
		rip_sums_add(&c->sums, mf[i].path, d, NULL);
	}
	rip_sums_sort(&c->sums);
	fill_manifest(c, &m, created, sizeof(created));

	if ((rc = rip_artifact_add_dir(c->w, "ripcord/", c->err)) < 0)
		goto done;
	rip_links_format(&text, &c->links);
	if ((rc = rip_artifact_add_file(c->w, "ripcord/LINKS", false, text.buf,
			text.len, c->err)) < 0)
		goto done;
	rip_buf_reset(&text);
	rip_manifest_format(&text, &m);
	if ((rc = rip_artifact_add_file(c->w, "ripcord/MANIFEST", false,
			text.buf, text.len, c->err)) < 0)
		goto done;
	rip_buf_reset(&text);
	rip_sums_format(&text, &c->sums);
	if ((rc = rip_artifact_add_file(c->w, "ripcord/SHA256SUMS", false,
			text.buf, text.len, c->err)) < 0)
		goto done;
	if ((rc = rip_artifact_add_dir(c->w, "ripcord/migrations/",
			c->err)) < 0)
		goto done;
	for (size_t i = 0; i < nm && !rc; i++)
		rc = rip_artifact_add_file(c->w, mf[i].path, false,
			mf[i].text.buf, mf[i].text.len, c->err);
done:
	for (size_t i = 0; i < nm; i++) {
		free(mf[i].path);
		rip_buf_release(&mf[i].text);
	}
	free(mf);
	rip_strlist_release(&m.migrations);
	rip_buf_release(&text);
	return rc;
}

static int report_secrets(struct cut *c)
{
	struct rip_buf list = RIP_BUF_INIT;
	int rc;

	for (size_t i = 0; i < c->secrets.n; i++)
		rip_buf_addf(&list, "\n  %s", c->secrets.v[i]);
	rc = rip_err_set(c->err, RIP_ESECURITY, "refusing to package %zu "
		"file%s that look%s like secrets:%s\nremove them from git, exclude "
		"them in [package] exclude, or set allow_secrets = yes",
		c->secrets.n, c->secrets.n == 1 ? "" : "s",
		c->secrets.n == 1 ? "s" : "", list.buf);
	rip_buf_release(&list);
	return rc;
}

/* Writes <artifact>.sig for digest with the configured signing key. */
static int write_signature(struct cut *c,
	const unsigned char digest[RIP_SHA256_LEN], const char *sig_path)
{
	struct rip_buf sig = RIP_BUF_INIT;
	int rc;

	if ((rc = rip_sign_digest(&sig, c->cfg->package.signing_key, digest,
			c->err)) == 0)
		rc = rip_write_file_atomic(sig_path, sig.buf, sig.len, 0644,
			c->err);
	rip_buf_release(&sig);
	return rc;
}

static int publish(struct cut *c, const unsigned char digest[RIP_SHA256_LEN])
{
	const struct rip_config *cfg = c->cfg;
	struct rip_release_rec rec = { 0 };
	char *sig_path = rip_xasprintf("%s.sig", c->res->path);
	int rc = 0;

	/* the signature lands first: an artifact is never briefly unsigned */
	if (cfg->package.signing_key) {
		if ((rc = write_signature(c, digest, sig_path)) < 0)
			goto done;
		c->res->is_signed = true;
	} else if (rip_path_exists(sig_path)) {
		unlink(sig_path);  /* a stale signature from a crashed cut */
	}
	if ((rc = rip_atomic_commit(&c->tmp, false, c->err)) < 0)
		goto done;
	c->tmp_open = false;
	rec.id = c->res->id;
	rec.project = cfg->project.name;
	rec.commit = c->commit.id;
	rec.tree = c->sel.tree;
	rec.parent = c->res->parent;
	rec.created = c->commit.time;
	rec.cut_at = (int64_t)time(NULL);
	rec.size = c->res->size;
	rec.sha256 = c->res->sha256;
	rec.is_signed = c->res->is_signed;
	rec.files = c->res->files;
	rec.bytes = c->res->bytes;
	/* the release and what views read of its migrations, together */
	if ((rc = rip_state_begin(c->store->state, c->err)) < 0)
		goto done;
	if ((rc = rip_state_release_add(c->store->state, &rec, c->err)) == 0)
		rc = rip_release_view_record(c->store, rec.id, rec.sha256,
			&c->migs, c->err);
	rc = rip_state_end(c->store->state, rc, c->err);
done:
	free(sig_path);
	return rc;
}

/*
 * A recorded release cut again came out with its recorded digest: if the
 * store's copy is missing or damaged, this one replaces it (the digest
 * proves it is the same), and a lost signature is made again.
 */
static int repair(struct cut *c, const struct rip_release_rec *rec,
	const unsigned char digest[RIP_SHA256_LEN])
{
	unsigned char have[RIP_SHA256_LEN];
	char *sig_path = rip_xasprintf("%s.sig", c->res->path);
	int rc = 0;

	if (rip_sha256_file(have, c->res->path, NULL) < 0 ||
	    memcmp(have, digest, RIP_SHA256_LEN)) {
		if ((rc = rip_atomic_commit(&c->tmp, false, c->err)) < 0)
			goto done;
		c->tmp_open = false;
		c->res->restored = true;
		rip_warn("the store's copy of '%s' was missing or damaged; "
			"restored it (sha256 %.16s... as recorded)", rec->id,
			rec->sha256);
	}
	if (rec->is_signed && !rip_path_exists(sig_path)) {
		if (!c->cfg->package.signing_key) {
			rip_warn("'%s' was signed but its signature is gone, and no "
				"signing_key is set to make it again", sig_path);
			goto done;
		}
		if ((rc = write_signature(c, digest, sig_path)) < 0)
			goto done;
		c->res->restored = true;
		rip_warn("signature '%s' was missing; signed again", sig_path);
	}
done:
	free(sig_path);
	return rc;
}

/* Same id already recorded: same commit and bytes is a no-op. */
static int check_existing(struct cut *c, const struct rip_release_rec *rec)
{
	if (strcmp(rec->commit, c->commit.id))
		return rip_err_set(c->err, RIP_EEXISTS, "release '%s' already "
			"exists for commit %.12s, not %.12s (choose another id with "
			"--id)", c->res->id, rec->commit, c->commit.id);
	if (c->res->sha256[0] && strcmp(rec->sha256, c->res->sha256))
		return rip_err_set(c->err, RIP_EEXISTS, "release '%s' already "
			"exists for this commit with different content (sha256 "
			"%.16s..., now %.16s...: did [package] change?); choose "
			"another id with --id", c->res->id, rec->sha256,
			c->res->sha256);
	return 0;
}

/*
 * The release a cut without --id would hand back is yanked: handing it back
 * with exit 0 would let a script ship what was withdrawn, so refuse, in
 * rip_store_refuse_yanked's words, saying how to get a usable release.
 */
static int refuse_yanked_reuse(struct cut *c, const struct rip_release_rec *r)
{
	char words[640];

	rip_store_yank_words(words, sizeof(words), r);
	return rip_err_set(c->err, RIP_EFAIL, "commit %.12s is already release "
		"'%s', which was %s, so it is not handed back as '%s': cut it "
		"again with --id NEW to make a new release of this commit, or "
		"'ripcord releases unyank %s'", c->commit.id, r->id, words,
		c->res->id, r->id);
}

/*
 * The commit already recorded under another id (ripcord-cut(1), A COMMIT
 * ALREADY CUT). Without --id, the id is the one it has, newest first, so
 * a cut repeated after a tag moved describe still names one release per
 * commit (and rebuilds it, if lost); an explicit --id cuts it again under
 * that id, and says so.
 */
static int reuse_id(struct cut *c)
{
	struct rip_release_rec *v;
	const struct rip_release_rec *had = NULL;
	const char *have = NULL;
	bool same = false;
	size_t n;
	int rc = 0;

	if ((rc = rip_state_release_list(&v, &n, c->store->state, c->err)) < 0)
		return rc;
	for (size_t i = n; i-- > 0; ) {
		if (strcmp(v[i].commit, c->commit.id))
			continue;
		if (!strcmp(v[i].id, c->res->id))
			same = true;
		else if (!had)
			had = &v[i];
	}
	have = had ? had->id : NULL;
	if (same || !have) {
		/* a recut of that very release, or a new commit */
	} else if (c->opts->id) {
		rip_warn("commit %.12s is already release '%s'; cutting it again "
			"as '%s', as --id asks", c->commit.id, have, c->res->id);
	} else if (had->yanked_at) {
		rc = refuse_yanked_reuse(c, had);
	} else {
		rip_info("commit %.12s is already release '%s', so it is not cut "
			"again as '%s' (to make a second release of it, name the "
			"id with --id)", c->commit.id, have, c->res->id);
		free(c->res->id);
		c->res->id = rip_xstrdup(have);
	}
	rip_release_recs_free(v, n);
	return rc;
}

static int package(struct cut *c)
{
	unsigned char digest[RIP_SHA256_LEN];
	struct rip_release_rec rec = { 0 };
	bool exists;
	int rc;

	if ((rc = reuse_id(c)) < 0)
		return rc;
	rc = rip_state_release_get(&rec, c->store->state, c->res->id, c->err);
	exists = rc == 0;
	if (rc == RIP_ENOTFOUND)
		rip_err_clear(c->err);
	else if (rc < 0)
		return rc;
	if ((exists && (rc = check_existing(c, &rec)) < 0) ||
	    (rc = find_parent(c, exists ? &rec : NULL)) < 0)
		goto done;
	warn_phases(c);
	c->res->path = rip_store_artifact_path(c->store, c->res->id);
	if ((rc = rip_atomic_open(&c->tmp, c->res->path, 0644, c->err)) < 0)
		goto done;
	c->tmp_open = true;
	if ((rc = rip_artifact_writer_open(&c->w, c->tmp.fd, c->commit.time,
			c->err)) < 0)
		goto done;
	if ((rc = write_payload(c)) < 0 || (rc = write_meta(c)) < 0)
		goto done;
	if (c->secrets.n) {
		rc = report_secrets(c);
		goto done;
	}
	if ((rc = rip_artifact_writer_close(c->w, digest, &c->res->size,
			c->err)) < 0)
		goto done;
	rip_hex(c->res->sha256, digest, RIP_SHA256_LEN);
	memcpy(c->res->tree, c->sel.tree, sizeof(c->res->tree));
	c->res->migrations = c->migs.n;
	if (exists) {
		if ((rc = check_existing(c, &rec)) < 0)
			goto done;
		c->res->unchanged = true;
		c->res->is_signed = rec.is_signed;
		/* the same bytes: what views read of it is the same too, and
		 * a release cut before state.db kept it gains it */
		if ((rc = repair(c, &rec, digest)) == 0)
			rc = rip_release_view_record(c->store, rec.id, rec.sha256,
				&c->migs, c->err);
		goto done;
	}
	rc = publish(c, digest);
done:
	rip_release_rec_release(&rec);
	return rc;
}

/*
 * The keys, checked before anything is read or written: config loading
 * leaves them to their users (a lost key must not stop a rollback), and
 * cut uses both: it signs with one, and a release that the other cannot
 * check could never be deployed.
 */
static int check_keys(const struct rip_config *cfg, struct rip_err *err)
{
	const char *key = cfg->package.signing_key;

	if (key && !rip_path_exists(key))
		return rip_err_set(err, RIP_ECONFIG, "signing_key '%s' does not "
			"exist, so cut cannot sign (restore the private key, make a "
			"pair with 'ripcord keygen -o PREFIX', or remove signing_key "
			"from [package] in '%s' to cut unsigned)", key, cfg->path);
	return rip_verify_key_check(cfg->package.verify_key, err);
}

int rip_cut(struct rip_cut_result *out, const struct rip_config *cfg,
	const struct rip_cut_opts *opts, struct rip_err *err)
{
	struct cut c = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	c.cfg = cfg;
	c.opts = opts;
	c.err = err;
	c.res = out;
	c.lock.fd = -1;
	rip_buf_init(&c.dir, 0);
	if ((rc = check_keys(cfg, err)) < 0 || (rc = resolve(&c)) < 0)
		goto done;
	warn_dirty(&c);
	if ((rc = rip_repo_select(&c.sel, c.repo, c.commit.id,
			&cfg->package.include, &cfg->package.exclude, err)) < 0)
		goto done;
	if ((rc = load_migrations(&c)) < 0)
		goto done;
	if ((rc = rip_store_open(&c.store, cfg->project.store, true, err)) < 0)
		goto done;
	if ((rc = rip_lock_acquire(&c.lock, c.store, "cut",
			err)) < 0)
		goto done;
	if ((rc = package(&c)) < 0)
		goto done;
	if (opts->tag) {
		char *tag = rip_xasprintf("release/%s", out->id);
		char *msg = rip_xasprintf("ripcord release %s\n\nsha256 %s\n",
			out->id, out->sha256);

		rc = rip_repo_tag(c.repo, tag, c.commit.id, msg, err);
		free(tag);
		free(msg);
	}
done:
	rip_artifact_writer_free(c.w);
	if (c.tmp_open)
		rip_atomic_abort(&c.tmp);
	if (c.lock.fd >= 0)
		rip_lock_release(&c.lock);
	rip_store_free(c.store);
	rip_migrations_release(&c.migs);
	for (size_t i = 0; i < c.n_mfiles; i++)
		rip_blob_release(&c.mdata[i]);
	free(c.mdata);
	free(c.mfiles);
	rip_selection_release(&c.migsel);
	rip_selection_release(&c.sel);
	rip_sums_release(&c.sums);
	rip_sums_release(&c.links);
	rip_strlist_release(&c.secrets);
	rip_strlist_release(&c.submodules);
	rip_buf_release(&c.dir);
	rip_repo_free(c.repo);
	if (rc < 0)
		rip_cut_result_release(out);
	return rc;
}

void rip_cut_result_release(struct rip_cut_result *r)
{
	free(r->id);
	free(r->path);
	free(r->parent);
	memset(r, 0, sizeof(*r));
}
