/* SPDX-License-Identifier: MIT */
/*
 * gitsrc.h: the git side of a release, read through libgit2 without a
 * checkout: revisions, describe, the tree selected by include/exclude,
 * blobs, ancestry, tags, and git's own tree hashing.
 */
#ifndef RIPCORD_GITSRC_H
#define RIPCORD_GITSRC_H

#include "ripcord/buf.h"
#include "ripcord/config.h"

#define RIP_OID_HEX 41

struct rip_repo;

enum rip_entry_kind {
	RIP_ENTRY_FILE,
	RIP_ENTRY_EXEC,
	RIP_ENTRY_LINK,
	RIP_ENTRY_SUBMODULE,
};

/* One non-tree entry of the selected tree, in git's order. */
struct rip_entry {
	char *path;                /* relative to the tree root */
	enum rip_entry_kind kind;
	unsigned char oid[20];     /* blob id, or commit id of a submodule */
};

struct rip_selection {
	struct rip_entry *v;
	size_t n;
	size_t alloc;
	char tree[RIP_OID_HEX];    /* git tree id of exactly this selection */
};

struct rip_commit_info {
	char id[RIP_OID_HEX];
	char tree[RIP_OID_HEX];    /* the commit's root tree */
	int64_t time;              /* committer time, seconds since epoch */
};

/*
 * Opens the repository containing dir (searching upwards): RIP_ENOTFOUND
 * when there is none. A repository owned by another user is RIP_ECONFIG
 * with an error that explains safe.directory.
 */
RIP_MUST_CHECK int rip_repo_open(struct rip_repo **out, const char *dir,
	struct rip_err *err);
void rip_repo_free(struct rip_repo *repo);
/* The work tree folder (with a trailing '/'), or NULL for a bare repo. */
const char *rip_repo_workdir(const struct rip_repo *repo);

/*
 * The paths of the work tree whose content differs from HEAD's commit:
 * staged or not, modified, deleted, renamed, of a changed type. Untracked
 * and ignored files and submodules are left out; a bare repository has
 * none. out is set on every return.
 */
RIP_MUST_CHECK int rip_repo_dirty(struct rip_strlist *out,
	struct rip_repo *repo, struct rip_err *err);

/* What rip_repo_ignore changed, so that it can be undone. */
struct rip_ignore_edit {
	char *added;       /* the pattern added; NULL when none was needed */
	char *file;        /* the .gitignore it went to */
	char *before;      /* that file's text before */
	size_t before_len;
	bool existed;      /* whether that file existed before */
};

/*
 * Keeps path (a file about to be written, in a folder that exists) out of
 * git: when it lies in a git work tree that does not ignore it already,
 * appends "/<path from the top>", escaped as gitignore(5) says, to the work
 * tree's top .gitignore (made when missing), checks that git now ignores
 * path, and fills *out with what it changed (release it with
 * rip_ignore_edit_release); else out->added is NULL. Outside a repository
 * nothing happens and 0 is returned. When git still does not ignore path,
 * the .gitignore is put back and RIP_EFAIL returned.
 */
RIP_MUST_CHECK int rip_repo_ignore(struct rip_ignore_edit *out,
	const char *path, struct rip_err *err);
/* Puts the .gitignore back as it was before edit (when it changed one),
 * warning on stderr if it cannot. */
void rip_repo_ignore_undo(struct rip_ignore_edit *edit);
void rip_ignore_edit_release(struct rip_ignore_edit *edit);

/* Resolves REV (any git revision syntax) to a commit. */
RIP_MUST_CHECK int rip_repo_commit(struct rip_commit_info *out,
	struct rip_repo *repo, const char *rev, struct rip_err *err);

/* `git describe --tags --always` of commit into out. */
RIP_MUST_CHECK int rip_repo_describe(struct rip_buf *out,
	struct rip_repo *repo, const char *commit, struct rip_err *err);

/*
 * Lists the entries of commit's tree that include/exclude select (see
 * ripcord.ini(5)) and computes the git tree id of that selection.
 */
RIP_MUST_CHECK int rip_repo_select(struct rip_selection *out,
	struct rip_repo *repo, const char *commit,
	const struct rip_strlist *include, const struct rip_strlist *exclude,
	struct rip_err *err);
void rip_selection_release(struct rip_selection *sel);

/* Whether path is selected by include/exclude (exposed for tests). */
bool rip_select_match(const char *path, const struct rip_strlist *include,
	const struct rip_strlist *exclude);

/* A blob's content, borrowed from libgit2 until rip_blob_release. */
struct rip_blob {
	void *handle;
	const char *data;
	size_t len;
};

/* Reads a blob without copying it; release it with rip_blob_release. */
RIP_MUST_CHECK int rip_repo_blob(struct rip_blob *out, struct rip_repo *repo,
	const unsigned char oid[20], struct rip_err *err);
void rip_blob_release(struct rip_blob *b);

/* Whether commit equals ancestor or descends from it. */
RIP_MUST_CHECK int rip_repo_is_ancestor(bool *out, struct rip_repo *repo,
	const char *ancestor, const char *commit, struct rip_err *err);

/* Creates the annotated tag `name` on commit; fine if it is already so. */
RIP_MUST_CHECK int rip_repo_tag(struct rip_repo *repo, const char *name,
	const char *commit, const char *message, struct rip_err *err);

/*
 * Git's id of a tree built from sorted (path, kind, oid) entries, computed
 * in memory (nothing is written to any repository).
 */
RIP_MUST_CHECK int rip_tree_hash(char out[RIP_OID_HEX],
	const struct rip_entry *v, size_t n, struct rip_err *err);

/* Git's blob id of data. */
RIP_MUST_CHECK int rip_blob_hash(unsigned char out[20], const void *data,
	size_t len, struct rip_err *err);

#endif
