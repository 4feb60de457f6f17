/* SPDX-License-Identifier: MIT */
/*
 * gitsrc.c: libgit2, wrapped; the only file that calls it.
 *
 * Trees are read straight from the object database, never checked out.
 * The selection is a flat list in git's tree order (siblings sorted with
 * folders compared as "name/"), which is also the order the artifact is
 * written in, so the writer streams it without sorting and the tree id of
 * the selection is rebuilt from it bottom-up with git's own hashing.
 * libgit2 errors (negative code + git_error_last) become struct rip_err.
 *
 * libgit2 is loaded on first use (lazy.h): by rip_repo_open, rip_tree_hash
 * and rip_blob_hash, the only ways in; everything else is handed a repo or
 * a blob, so the library is there already. A process that never reads a
 * repository (agent, deploy, rollback, status) maps neither libgit2 nor
 * the libraries it pulls in (TLS, ssh, http-parser, pcre, zlib, ...).
 * Every git_* call goes through the table `lg` below; the binary does not
 * link libgit2, so a direct call would not link. libgit2 1.1's headers
 * have no inline functions or macros that expand to calls.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "ripcord/fsutil.h"
#include "ripcord/gitsrc.h"
#include "ripcord/log.h"
#include "lazy.h"
#include "banned.h"

/* 1.1 onwards: "1.5" for libgit2.so.1.5, whose ABI a minor release breaks */
#define GIT_SONAME "libgit2.so." LIBGIT2_SOVERSION

#define GIT_FUNCS(X) \
	X(git_blob_free) \
	X(git_blob_lookup) \
	X(git_blob_rawcontent) \
	X(git_blob_rawsize) \
	X(git_buf_dispose) \
	X(git_commit_free) \
	X(git_commit_id) \
	X(git_commit_time) \
	X(git_commit_tree) \
	X(git_commit_tree_id) \
	X(git_describe_commit) \
	X(git_describe_format) \
	X(git_describe_format_options_init) \
	X(git_describe_options_init) \
	X(git_describe_result_free) \
	X(git_error_last) \
	X(git_graph_descendant_of) \
	X(git_ignore_path_is_ignored) \
	X(git_libgit2_init) \
	X(git_libgit2_opts) \
	X(git_libgit2_shutdown) \
	X(git_object_free) \
	X(git_object_id) \
	X(git_object_peel) \
	X(git_odb_hash) \
	X(git_oid_equal) \
	X(git_oid_fromstr) \
	X(git_oid_tostr) \
	X(git_reference_free) \
	X(git_reference_lookup) \
	X(git_reference_peel) \
	X(git_repository_free) \
	X(git_repository_head_unborn) \
	X(git_repository_open_ext) \
	X(git_repository_workdir) \
	X(git_revparse_single) \
	X(git_signature_default) \
	X(git_signature_free) \
	X(git_signature_now) \
	X(git_status_byindex) \
	X(git_status_list_entrycount) \
	X(git_status_list_free) \
	X(git_status_list_new) \
	X(git_status_options_init) \
	X(git_tag_create) \
	X(git_tree_entry_filemode) \
	X(git_tree_entry_id) \
	X(git_tree_entry_name) \
	X(git_tree_free) \
	X(git_tree_walk)

static struct {
	GIT_FUNCS(RIP_LAZY_SLOT)
} lg;
static const char *const lg_names[] = { GIT_FUNCS(RIP_LAZY_NAME) };
static struct rip_lazy libgit2 = RIP_LAZY_INIT(GIT_SONAME, "libgit2",
	lg_names, &lg);

struct rip_repo {
	git_repository *repo;
};

static int git_fail(struct rip_err *err, int code, const char *what)
{
	const git_error *e = lg.git_error_last();

	return rip_err_set(err, code, "%s: %s", what,
		e && e->message ? e->message : "unknown libgit2 error");
}

int rip_repo_open(struct rip_repo **out, const char *dir, struct rip_err *err)
{
	git_repository *repo = NULL;
	int rc;

	*out = NULL;
	if ((rc = rip_lazy_load(&libgit2, err)) < 0)
		return rc;
	lg.git_libgit2_init();
	/* cut reads each object once: a small pack window keeps memory
	 * bounded by the largest file rather than by the pack */
	lg.git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)32 << 20);
	lg.git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)8 << 20);
	/* git archive does not re-hash objects either: zlib's adler32 catches
	 * damage in loose and packed objects, and a drill re-hashes the
	 * extracted payload as git blobs against MANIFEST's tree. libgit2's
	 * collision-detecting SHA-1 would cost a quarter of cut's time. */
	lg.git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	rc = lg.git_repository_open_ext(&repo, dir, 0, NULL);
	/* libgit2 1.5 reports another user's repository as "config value
	 * 'safe.directory' was not found" with GIT_ENOTFOUND */
	if (rc == GIT_ENOTFOUND && lg.git_error_last() &&
	    lg.git_error_last()->message &&
	    strstr(lg.git_error_last()->message, "safe.directory"))
		rc = GIT_EOWNER;
	if (rc == GIT_EOWNER) {
		char *abs = realpath(dir, NULL);

		rc = rip_err_set(err, RIP_ECONFIG, "the git repository at '%s' is "
			"owned by another user and libgit2 refuses it: run ripcord "
			"as that user, or trust it with 'git config --global --add "
			"safe.directory %s'", abs ? abs : dir, abs ? abs : dir);
		free(abs);
	} else if (rc == GIT_ENOTFOUND) {
		rc = rip_err_set(err, RIP_ENOTFOUND, "'%s' is not inside a git "
			"repository (ripcord cuts releases from git; run 'git init' "
			"or point -C at your repository)", dir);
	} else if (rc < 0) {
		rc = git_fail(err, RIP_EGIT, "cannot open the git repository");
	}
	if (rc < 0) {
		/* the message is copied out; now give back our reference */
		lg.git_libgit2_shutdown();
		return rc;
	}
	*out = rip_xcalloc(1, sizeof(**out));
	(*out)->repo = repo;
	return 0;
}

void rip_repo_free(struct rip_repo *repo)
{
	if (!repo)
		return;
	lg.git_repository_free(repo->repo);
	free(repo);
	lg.git_libgit2_shutdown();
}

const char *rip_repo_workdir(const struct rip_repo *repo)
{
	return lg.git_repository_workdir(repo->repo);
}

int rip_repo_dirty(struct rip_strlist *out, struct rip_repo *repo,
	struct rip_err *err)
{
	git_status_options o;
	git_status_list *list = NULL;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!lg.git_repository_workdir(repo->repo))
		return 0;
	lg.git_status_options_init(&o, GIT_STATUS_OPTIONS_VERSION);
	o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	/* untracked files are in no commit, so they mislead nobody; a
	 * submodule's state is its own repository's */
	o.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (lg.git_status_list_new(&list, repo->repo, &o) < 0)
		return git_fail(err, RIP_EGIT, "cannot read the working tree's "
			"status");
	n = lg.git_status_list_entrycount(list);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *e = lg.git_status_byindex(list, i);
		const git_diff_delta *d = e->index_to_workdir ?
			e->index_to_workdir : e->head_to_index;

		if (!d || e->status == GIT_STATUS_CURRENT ||
		    (e->status & (GIT_STATUS_WT_NEW | GIT_STATUS_IGNORED)) ==
			    e->status)
			continue;
		rip_strlist_push(out, d->new_file.path ? d->new_file.path :
			d->old_file.path);
	}
	lg.git_status_list_free(list);
	return 0;
}

/*
 * Appends path (from the top of the work tree) to buf as a gitignore(5)
 * pattern anchored at the top: '\' before the characters git would read
 * as a pattern ([ ] * ? and '\' itself; '!' and '#', harmless past the
 * leading '/', escaped alike) and before each trailing space, which git
 * would drop.
 */
static void ignore_pattern(struct rip_buf *buf, const char *path)
{
	size_t len = strlen(path), trail = len;

	while (trail > 0 && path[trail - 1] == ' ')
		trail--;
	rip_buf_addch(buf, '/');
	for (size_t i = 0; i < len; i++) {
		if (strchr("[]*?\\!#", path[i]) || (i >= trail && path[i] == ' '))
			rip_buf_addch(buf, '\\');
		rip_buf_addch(buf, path[i]);
	}
}

/* Appends "line\n" to the top .gitignore (ed->file), keeping its text
 * before in ed so that rip_repo_ignore_undo can put it back. */
static int append_ignore(struct rip_ignore_edit *ed, const char *line,
	struct rip_err *err)
{
	struct rip_buf text = RIP_BUF_INIT;
	struct rip_err e = { 0 };
	int rc = 0;

	ed->existed = rip_path_exists(ed->file);
	if (ed->existed &&
	    (rc = rip_read_file(&text, ed->file, 1 << 20, err)) < 0)
		goto done;
	ed->before = rip_xmalloc(text.len + 1);
	memcpy(ed->before, text.buf, text.len + 1);
	ed->before_len = text.len;
	if (text.len && text.buf[text.len - 1] != '\n')
		rip_buf_addch(&text, '\n');
#define IGNORE_NOTE "# private keys of 'ripcord keygen': never commit them\n"
	if (!strstr(text.buf, IGNORE_NOTE))
		rip_buf_adds(&text, IGNORE_NOTE);
	rip_buf_addf(&text, "%s\n", line);
	rc = rip_write_file_atomic(ed->file, text.buf, text.len, 0644, &e);
	if (rc < 0)
		rc = rip_err_set(err, rc, "cannot add '%s' to '%s': %s", line,
			ed->file, e.msg);
done:
	rip_buf_release(&text);
	return rc;
}

/* After the append: git must now ignore rel, or the edit is undone and
 * the key refused (a name no pattern can hold, such as one with a
 * newline). */
static int check_ignored(struct rip_ignore_edit *ed, struct rip_repo *repo,
	const char *rel, const char *path, struct rip_err *err)
{
	int ignored = 0;

	if (lg.git_ignore_path_is_ignored(&ignored, repo->repo, rel) < 0)
		return git_fail(err, RIP_EGIT, "cannot read git's ignore rules");
	if (ignored)
		return 0;
	rip_repo_ignore_undo(ed);
	return rip_err_set(err, RIP_EFAIL, "'%s' is in a git work tree, but "
		"git still does not ignore it after '%s' was added to '%s' (put "
		"back as it was); choose a simpler name, or a folder outside the "
		"work tree", path, ed->added, ed->file);
}

int rip_repo_ignore(struct rip_ignore_edit *out, const char *path,
	struct rip_err *err)
{
	char *dir = rip_path_dirname(path), real[PATH_MAX], *full = NULL;
	const char *base = strrchr(path, '/'), *wd;
	struct rip_buf pat = RIP_BUF_INIT;
	struct rip_repo *repo = NULL;
	size_t wl;
	int rc, ignored = 0;

	memset(out, 0, sizeof(*out));
	base = base ? base + 1 : path;
	if (!realpath(dir, real)) {
		rc = rip_err_errno(err, RIP_EIO, "cannot resolve '%s'", dir);
		goto done;
	}
	if ((rc = rip_repo_open(&repo, real, err)) == RIP_ENOTFOUND) {
		rip_err_clear(err);
		rc = 0;
		goto done;
	}
	if (rc < 0 || !(wd = lg.git_repository_workdir(repo->repo)))
		goto done;
	full = rip_xasprintf("%s/%s", real, base);
	wl = strlen(wd);
	if (strncmp(full, wd, wl))
		goto done;  /* a folder git does not see as its work tree */
	if (lg.git_ignore_path_is_ignored(&ignored, repo->repo,
			full + wl) < 0) {
		rc = git_fail(err, RIP_EGIT, "cannot read git's ignore rules");
		goto done;
	}
	if (ignored)
		goto done;
	ignore_pattern(&pat, full + wl);
	out->added = rip_buf_detach(&pat, NULL);
	out->file = rip_xasprintf("%s.gitignore", wd);
	if ((rc = append_ignore(out, out->added, err)) < 0 ||
	    (rc = check_ignored(out, repo, full + wl, path, err)) < 0)
		rip_ignore_edit_release(out);
done:
	rip_buf_release(&pat);
	rip_repo_free(repo);
	free(full);
	free(dir);
	return rc;
}

void rip_repo_ignore_undo(struct rip_ignore_edit *edit)
{
	struct rip_err e = { 0 };

	if (!edit->added)
		return;
	if (!edit->existed ? unlink(edit->file) < 0 && errno != ENOENT :
	    rip_write_file_atomic(edit->file, edit->before, edit->before_len,
		    0644, &e) < 0)
		rip_warn("cannot put '%s' back as it was: remove the line '%s' "
			"from it by hand", edit->file, edit->added);
}

void rip_ignore_edit_release(struct rip_ignore_edit *edit)
{
	free(edit->added);
	free(edit->file);
	free(edit->before);
	memset(edit, 0, sizeof(*edit));
}

static int lookup_commit(git_commit **out, struct rip_repo *repo,
	const char *rev, struct rip_err *err)
{
	git_object *obj = NULL;
	int rc;

	*out = NULL;
	rc = lg.git_revparse_single(&obj, repo->repo, rev);
	if (rc == GIT_ENOTFOUND && !strcmp(rev, "HEAD") &&
	    lg.git_repository_head_unborn(repo->repo) == 1)
		return rip_err_set(err, RIP_ENOTFOUND, "the repository has no "
			"commits yet (commit something, then cut)");
	if (rc == GIT_ENOTFOUND || rc == GIT_EAMBIGUOUS || rc == GIT_EINVALIDSPEC)
		return rip_err_set(err, RIP_ENOTFOUND, "revision '%s' not found "
			"in the repository (expected a commit, branch or tag)", rev);
	if (rc < 0)
		return git_fail(err, RIP_EGIT, "cannot resolve revision");
	rc = lg.git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT);
	lg.git_object_free(obj);
	if (rc < 0)
		return rip_err_set(err, RIP_ENOTFOUND, "revision '%s' is not a "
			"commit", rev);
	return 0;
}

int rip_repo_commit(struct rip_commit_info *out, struct rip_repo *repo,
	const char *rev, struct rip_err *err)
{
	git_commit *c;
	int rc;

	if ((rc = lookup_commit(&c, repo, rev, err)) < 0)
		return rc;
	lg.git_oid_tostr(out->id, sizeof(out->id), lg.git_commit_id(c));
	lg.git_oid_tostr(out->tree, sizeof(out->tree),
		lg.git_commit_tree_id(c));
	out->time = (int64_t)lg.git_commit_time(c);
	lg.git_commit_free(c);
	return 0;
}

int rip_repo_describe(struct rip_buf *out, struct rip_repo *repo,
	const char *commit, struct rip_err *err)
{
	git_describe_options opts;
	git_describe_format_options fmt;
	git_describe_result *res = NULL;
	git_buf b = GIT_BUF_INIT;
	git_commit *c;
	int rc;

	if ((rc = lookup_commit(&c, repo, commit, err)) < 0)
		return rc;
	lg.git_describe_options_init(&opts, GIT_DESCRIBE_OPTIONS_VERSION);
	lg.git_describe_format_options_init(&fmt,
		GIT_DESCRIBE_FORMAT_OPTIONS_VERSION);
	opts.describe_strategy = GIT_DESCRIBE_TAGS;
	opts.show_commit_oid_as_fallback = 1;
	if (lg.git_describe_commit(&res, (git_object *)c, &opts) < 0 ||
	    lg.git_describe_format(&b, res, &fmt) < 0) {
		rc = git_fail(err, RIP_EGIT, "cannot describe the commit");
		goto done;
	}
	rip_buf_add(out, b.ptr, b.size);
done:
	lg.git_buf_dispose(&b);
	lg.git_describe_result_free(res);
	lg.git_commit_free(c);
	return rc;
}

/* Whether pattern matches path, or a leading folder of path. */
static bool match_prefixes(const char *pat, const char *path)
{
	char *copy;
	bool hit = false;

	if (!fnmatch(pat, path, FNM_PATHNAME | FNM_PERIOD))
		return true;
	copy = rip_xstrdup(path);
	for (char *s = strrchr(copy, '/'); s && !hit; s = strrchr(copy, '/')) {
		*s = '\0';
		hit = !fnmatch(pat, copy, FNM_PATHNAME | FNM_PERIOD);
	}
	free(copy);
	return hit;
}

/* Whether a slash-free pattern matches any component of path. */
static bool match_component(const char *pat, const char *path)
{
	const char *s = path;

	while (*s) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		char *comp = rip_xstrndup(s, len);
		bool hit = !fnmatch(pat, comp, 0);

		free(comp);
		if (hit)
			return true;
		if (!slash)
			break;
		s = slash + 1;
	}
	return false;
}

/* Sets buf to pat normalised: "./x/" to "x"; "." and "" to "". */
static const char *norm(struct rip_buf *buf, const char *pat)
{
	while (pat[0] == '.' && pat[1] == '/')
		pat += 2;
	rip_buf_reset(buf);
	rip_buf_adds(buf, pat);
	while (buf->len && buf->buf[buf->len - 1] == '/')
		rip_buf_setlen(buf, buf->len - 1);
	if (!strcmp(buf->buf, "."))
		rip_buf_reset(buf);
	return buf->buf;
}

bool rip_select_match(const char *path, const struct rip_strlist *include,
	const struct rip_strlist *exclude)
{
	struct rip_buf b = RIP_BUF_INIT;
	bool in = include->n == 0, out = false;
	const char *pat;

	for (size_t i = 0; i < include->n && !in; i++) {
		pat = norm(&b, include->v[i]);
		in = !pat[0] || match_prefixes(pat, path);
	}
	for (size_t i = 0; in && i < exclude->n && !out; i++) {
		pat = norm(&b, exclude->v[i]);
		if (pat[0])
			out = strchr(pat, '/') ? match_prefixes(pat, path) :
				match_component(pat, path);
	}
	rip_buf_release(&b);
	return in && !out;
}

struct walk {
	struct rip_selection *sel;
	const struct rip_strlist *include, *exclude;
};

static int walk_cb(const char *root, const git_tree_entry *e, void *data)
{
	struct walk *w = data;
	struct rip_selection *sel = w->sel;
	struct rip_entry *ent;
	char *path;
	enum rip_entry_kind kind;

	switch (lg.git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE:
		return 0;
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		kind = RIP_ENTRY_EXEC;
		break;
	case GIT_FILEMODE_LINK:
		kind = RIP_ENTRY_LINK;
		break;
	case GIT_FILEMODE_COMMIT:
		kind = RIP_ENTRY_SUBMODULE;
		break;
	default:
		kind = RIP_ENTRY_FILE;
		break;
	}
	path = rip_xasprintf("%s%s", root, lg.git_tree_entry_name(e));
	if (!rip_select_match(path, w->include, w->exclude)) {
		free(path);
		return 0;
	}
	RIP_ALLOC_GROW(sel->v, sel->n + 1, sel->alloc);
	ent = &sel->v[sel->n++];
	ent->path = path;
	ent->kind = kind;
	memcpy(ent->oid, lg.git_tree_entry_id(e)->id, 20);
	return 0;
}

int rip_repo_select(struct rip_selection *out, struct rip_repo *repo,
	const char *commit, const struct rip_strlist *include,
	const struct rip_strlist *exclude, struct rip_err *err)
{
	struct walk w = { out, include, exclude };
	git_commit *c;
	git_tree *tree = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = lookup_commit(&c, repo, commit, err)) < 0)
		return rc;
	if (lg.git_commit_tree(&tree, c) < 0 ||
	    lg.git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &w) < 0) {
		rc = git_fail(err, RIP_EGIT, "cannot read the commit's tree");
		goto done;
	}
	rc = rip_tree_hash(out->tree, out->v, out->n, err);
done:
	lg.git_tree_free(tree);
	lg.git_commit_free(c);
	if (rc < 0)
		rip_selection_release(out);
	return rc;
}

void rip_selection_release(struct rip_selection *sel)
{
	for (size_t i = 0; i < sel->n; i++)
		free(sel->v[i].path);
	free(sel->v);
	memset(sel, 0, sizeof(*sel));
}

int rip_repo_blob(struct rip_blob *out, struct rip_repo *repo,
	const unsigned char oid[20], struct rip_err *err)
{
	git_blob *blob;
	git_oid id;

	memset(out, 0, sizeof(*out));
	memcpy(id.id, oid, 20);
	if (lg.git_blob_lookup(&blob, repo->repo, &id) < 0)
		return git_fail(err, RIP_EGIT, "cannot read a blob");
	out->handle = blob;
	out->data = lg.git_blob_rawcontent(blob);
	out->len = (size_t)lg.git_blob_rawsize(blob);
	return 0;
}

void rip_blob_release(struct rip_blob *b)
{
	/* a zeroed one (never read) may come before libgit2 was loaded */
	if (b->handle)
		lg.git_blob_free(b->handle);
	memset(b, 0, sizeof(*b));
}

int rip_repo_is_ancestor(bool *out, struct rip_repo *repo,
	const char *ancestor, const char *commit, struct rip_err *err)
{
	git_oid a, c;
	int rc;

	*out = false;
	if (lg.git_oid_fromstr(&a, ancestor) < 0 ||
	    lg.git_oid_fromstr(&c, commit) < 0)
		return rip_err_set(err, RIP_EUSAGE, "bad commit id");
	if (lg.git_oid_equal(&a, &c)) {
		*out = true;
		return 0;
	}
	rc = lg.git_graph_descendant_of(repo->repo, &c, &a);
	if (rc < 0) {
		/* a commit this clone does not have is simply not an ancestor */
		return 0;
	}
	*out = rc == 1;
	return 0;
}

int rip_repo_tag(struct rip_repo *repo, const char *name, const char *commit,
	const char *message, struct rip_err *err)
{
	git_signature *sig = NULL;
	git_object *target = NULL, *peeled = NULL;
	git_reference *ref = NULL;
	struct rip_buf refname = RIP_BUF_INIT;
	git_oid id;
	int rc;

	if ((rc = lookup_commit((git_commit **)&target, repo, commit, err)) < 0)
		return rc;
	/* a reference lookup, not revparse: "x-1-gabc" is describe syntax */
	rip_buf_addf(&refname, "refs/tags/%s", name);
	if (lg.git_reference_lookup(&ref, repo->repo, refname.buf) == 0) {
		if (lg.git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT) == 0 &&
		    lg.git_oid_equal(lg.git_object_id(peeled),
			lg.git_object_id(target)))
			rc = 0;
		else
			rc = rip_err_set(err, RIP_EEXISTS, "tag '%s' already exists "
				"on another commit (delete it, or cut with --id)",
				name);
		goto done;
	}
	if (lg.git_signature_default(&sig, repo->repo) < 0 &&
	    lg.git_signature_now(&sig, "ripcord", "ripcord@localhost") < 0) {
		rc = git_fail(err, RIP_EGIT, "cannot make a tagger signature");
		goto done;
	}
	if (lg.git_tag_create(&id, repo->repo, name, target, sig, message, 0) < 0)
		rc = git_fail(err, RIP_EGIT, "cannot create the tag");
done:
	rip_buf_release(&refname);
	lg.git_signature_free(sig);
	lg.git_object_free(peeled);
	lg.git_reference_free(ref);
	lg.git_object_free(target);
	return rc;
}

int rip_blob_hash(unsigned char out[20], const void *data, size_t len,
	struct rip_err *err)
{
	git_oid id;
	int rc;

	if ((rc = rip_lazy_load(&libgit2, err)) < 0)
		return rc;
	if (lg.git_odb_hash(&id, data, len, GIT_OBJECT_BLOB) < 0)
		return git_fail(err, RIP_EGIT, "cannot hash a blob");
	memcpy(out, id.id, 20);
	return 0;
}

static const char *kind_mode(enum rip_entry_kind k)
{
	switch (k) {
	case RIP_ENTRY_EXEC: return "100755";
	case RIP_ENTRY_LINK: return "120000";
	case RIP_ENTRY_SUBMODULE: return "160000";
	default: return "100644";
	}
}

/*
 * Hashes the tree of v[0..n), whose paths all start with the first plen
 * bytes (the folder, with its '/'), into oid; returns entries consumed.
 */
static int hash_level(unsigned char oid[20], const struct rip_entry *v,
	size_t n, size_t plen, struct rip_err *err)
{
	struct rip_buf t = RIP_BUF_INIT;
	git_oid id;
	size_t i = 0;
	int rc = 0;

	while (i < n) {
		const char *name = v[i].path + plen;
		const char *slash = strchr(name, '/');

		if (!slash) {
			rip_buf_addf(&t, "%s %s", kind_mode(v[i].kind), name);
			rip_buf_add(&t, "", 1);
			rip_buf_add(&t, v[i].oid, 20);
			i++;
			continue;
		}
		size_t nlen = (size_t)(slash - name), j = i;
		unsigned char sub[20];

		while (j < n && !strncmp(v[j].path + plen, name, nlen + 1))
			j++;
		if ((rc = hash_level(sub, v + i, j - i, plen + nlen + 1, err)) < 0)
			break;
		rip_buf_addf(&t, "40000 %.*s", (int)nlen, name);
		rip_buf_add(&t, "", 1);
		rip_buf_add(&t, sub, 20);
		i = j;
	}
	if (!rc && lg.git_odb_hash(&id, t.buf, t.len, GIT_OBJECT_TREE) < 0)
		rc = git_fail(err, RIP_EGIT, "cannot hash a tree");
	if (!rc)
		memcpy(oid, id.id, 20);
	rip_buf_release(&t);
	return rc;
}

int rip_tree_hash(char out[RIP_OID_HEX], const struct rip_entry *v, size_t n,
	struct rip_err *err)
{
	unsigned char oid[20];
	git_oid id;
	int rc;

	if ((rc = rip_lazy_load(&libgit2, err)) < 0)
		return rc;
	lg.git_libgit2_init();
	rc = hash_level(oid, v, n, 0, err);
	if (!rc) {
		memcpy(id.id, oid, 20);
		lg.git_oid_tostr(out, RIP_OID_HEX, &id);
	}
	lg.git_libgit2_shutdown();
	return rc;
}
