/* SPDX-License-Identifier: MIT */
/*
 * fidelity.c: an extracted payload, hashed back into git's tree id.
 *
 * The folder is walked through directory descriptors (openat, fstatat
 * with AT_SYMLINK_NOFOLLOW, O_NOFOLLOW), so no symlink is ever followed
 * and a name swapped for a link or a fifo mid-walk is noticed, not read.
 * Each file is hashed as a git blob, SHA-1 of "blob <size>\0" + content,
 * streamed in 64 KiB blocks from the descriptor that was checked: memory
 * follows the number of paths, never a file's size. libgit2 only hashes
 * whole buffers (git_odb_hash) or files by path (git_odb_hashfile, which
 * opens with plain open() and so follows a link put in the file's place),
 * hence a streaming SHA-1 of our own (digest.h).
 *
 * The leaves (files, links, submodules) are gathered as one flat list and
 * sorted with strcmp: for full paths that is exactly git's tree order,
 * where a folder compares as "name/" and a gitlink as plain "name" (the
 * byte after a shared name is '/' for a folder's contents, NUL for a leaf,
 * just as git compares them). gitsrc.c's rip_tree_hash then builds the
 * tree objects bottom-up in memory, the same code that computed MANIFEST's
 * tree at cut, checked against `git write-tree` by test_gitsrc.c. The
 * commit side reuses rip_repo_select, so include/exclude mean what they
 * meant at cut, and the two flat lists are merged to name the first path
 * that differs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "ripcord/digest.h"
#include "ripcord/fidelity.h"
#include "banned.h"

#define BLOCK ((size_t)64 << 10)
/* Linux caps link targets at PATH_MAX; this only bounds a hostile fs */
#define MAX_TARGET ((size_t)1 << 20)

struct sub {
	char *path;
	unsigned char oid[20];
};

struct scan {
	const char *root;
	struct rip_selection *sel;   /* the leaves gathered; tree at the end */
	struct sub *subs;            /* MANIFEST's submodules, sorted by path */
	size_t nsubs;
	struct rip_buf path;         /* of the current entry, root-relative */
	unsigned char *block;
	struct rip_sha1 sha;         /* of the blob being hashed */
	uint64_t files, bytes, links, submodules;
	struct rip_err *err;
};

static int io_error(struct scan *s, const char *what)
{
	return rip_err_errno(s->err, RIP_EIO, "%s '%s/%s'", what, s->root,
		s->path.buf);
}

/* Starts the blob digest: git's object header, NUL included. */
static int blob_begin(struct scan *s, uint64_t size)
{
	char hdr[32];
	int n = snprintf(hdr, sizeof(hdr), "blob %llu",
		(unsigned long long)size);

	rip_sha1_release(&s->sha);
	if (rip_sha1_init(&s->sha, s->err) < 0)
		return rip_err_prefix(s->err, "'%s/%s'", s->root, s->path.buf);
	rip_sha1_update(&s->sha, hdr, (size_t)n + 1);
	return 0;
}

static int blob_end(struct scan *s, unsigned char oid[20])
{
	rip_sha1_final(oid, &s->sha);
	return 0;
}

static void add_leaf(struct scan *s, enum rip_entry_kind kind,
	const unsigned char oid[20])
{
	struct rip_selection *sel = s->sel;
	struct rip_entry *e;

	RIP_ALLOC_GROW(sel->v, sel->n + 1, sel->alloc);
	e = &sel->v[sel->n++];
	e->path = rip_xstrdup(s->path.buf);
	e->kind = kind;
	memcpy(e->oid, oid, 20);
}

/* Hashes exactly size bytes of fd; more or fewer means it changed. */
static int hash_fd(struct scan *s, int fd, uint64_t size,
	unsigned char oid[20])
{
	uint64_t got = 0;
	int rc;

	if ((rc = blob_begin(s, size)) < 0)
		return rc;
	for (;;) {
		ssize_t n = read(fd, s->block, BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_error(s, "cannot read");
		if (n == 0)
			break;
		got += (uint64_t)n;
		if (got > size)
			break;
		rip_sha1_update(&s->sha, s->block, (size_t)n);
	}
	if (got != size)
		return rip_err_set(s->err, RIP_EIO, "'%s/%s' changed size while "
			"it was being hashed (is something writing to the "
			"folder?)", s->root, s->path.buf);
	return blob_end(s, oid);
}

static int add_file(struct scan *s, int dfd, const char *name,
	const struct stat *seen)
{
	unsigned char oid[20];
	struct stat st;
	int fd, rc;

	/* O_NONBLOCK: should a fifo have taken the name, open must not hang */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		O_CLOEXEC);
	if (fd < 0)
		return io_error(s, "cannot open");
	if (fstat(fd, &st) < 0) {
		rc = io_error(s, "cannot stat");
		goto done;
	}
	if (!S_ISREG(st.st_mode) || st.st_ino != seen->st_ino ||
	    st.st_dev != seen->st_dev) {
		rc = rip_err_set(s->err, RIP_ESECURITY, "'%s/%s' was replaced "
			"while the folder was being hashed", s->root, s->path.buf);
		goto done;
	}
	if ((rc = hash_fd(s, fd, (uint64_t)st.st_size, oid)) < 0)
		goto done;
	/* git's rule (ce_mode_from_stat): the owner's execute bit decides */
	add_leaf(s, (st.st_mode & S_IXUSR) ? RIP_ENTRY_EXEC : RIP_ENTRY_FILE,
		oid);
	s->files++;
	s->bytes += (uint64_t)st.st_size;
done:
	close(fd);
	return rc;
}

static int add_link(struct scan *s, int dfd, const char *name,
	const struct stat *st)
{
	size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
	unsigned char oid[20];
	char *target = NULL;
	ssize_t n;
	int rc;

	for (;;) {
		target = rip_xrealloc(target, cap);
		n = readlinkat(dfd, name, target, cap);
		if (n < 0) {
			rc = io_error(s, "cannot read link");
			goto done;
		}
		if ((size_t)n < cap)
			break;
		if (cap >= MAX_TARGET) {
			rc = rip_err_set(s->err, RIP_ESECURITY, "link '%s/%s' has a "
				"target longer than %zu bytes", s->root, s->path.buf,
				MAX_TARGET);
			goto done;
		}
		cap *= 2;
	}
	if ((rc = blob_begin(s, (uint64_t)n)) < 0)
		goto done;
	rip_sha1_update(&s->sha, target, (size_t)n);
	if ((rc = blob_end(s, oid)) < 0)
		goto done;
	add_leaf(s, RIP_ENTRY_LINK, oid);
	s->links++;
done:
	free(target);
	return rc;
}

static int cmp_sub(const void *a, const void *b)
{
	return strcmp(((const struct sub *)a)->path,
		((const struct sub *)b)->path);
}

static const struct sub *find_sub(const struct scan *s, const char *path)
{
	struct sub key = { .path = (char *)path };

	if (!s->nsubs)
		return NULL;
	return bsearch(&key, s->subs, s->nsubs, sizeof(*s->subs), cmp_sub);
}

/* MANIFEST's "path commit" lines; the path may hold spaces, the id not. */
static int parse_subs(struct scan *s, const struct rip_manifest *m)
{
	if (!m || !m->submodules.n)
		return 0;
	s->subs = rip_xcalloc(m->submodules.n, sizeof(*s->subs));
	for (size_t i = 0; i < m->submodules.n; i++) {
		const char *line = m->submodules.v[i];
		const char *sp = strrchr(line, ' ');

		if (!sp || sp == line || strlen(sp + 1) != 40 ||
		    rip_unhex(s->subs[i].oid, sp + 1, 20) < 0)
			return rip_err_set(s->err, RIP_EINTEGRITY, "MANIFEST: "
				"submodule '%s' is not '<path> <commit id>'", line);
		s->subs[i].path = rip_xstrndup(line, (size_t)(sp - line));
		s->nsubs++;
	}
	qsort(s->subs, s->nsubs, sizeof(*s->subs), cmp_sub);
	return 0;
}

static int visit(struct scan *s, int dfd, const char *name);

/* Walks the folder open at fd (taken over and closed) into s. */
static int walk(struct scan *s, int fd)
{
	DIR *d = fdopendir(fd);
	int rc = 0;

	if (!d) {
		rc = io_error(s, "cannot list");
		close(fd);
		return rc;
	}
	for (;;) {
		struct dirent *de;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = io_error(s, "cannot list");
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((rc = visit(s, dirfd(d), de->d_name)) < 0)
			break;
	}
	closedir(d);
	return rc;
}

/* A submodule is carried as an empty folder; anything inside is extra. */
static int add_submodule(struct scan *s, int fd, const struct sub *sub)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = io_error(s, "cannot list");
		close(fd);
		return rc;
	}
	errno = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			break;
	if (de)
		rc = rip_err_set(s->err, RIP_EINTEGRITY, "'%s/%s' is a submodule "
			"in MANIFEST, carried as an empty folder, but it holds "
			"'%s'", s->root, s->path.buf, de->d_name);
	else if (errno)
		rc = io_error(s, "cannot list");
	closedir(d);
	if (rc < 0)
		return rc;
	add_leaf(s, RIP_ENTRY_SUBMODULE, sub->oid);
	s->submodules++;
	return 0;
}

static int add_dir(struct scan *s, int dfd, const char *name)
{
	const struct sub *sub = find_sub(s, s->path.buf);
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);

	if (fd < 0)
		return io_error(s, "cannot open folder");
	if (sub)
		return add_submodule(s, fd, sub);
	rip_buf_addch(&s->path, '/');
	return walk(s, fd);
}

static const char *kind_name(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "fifo";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISCHR(mode))
		return "character device";
	if (S_ISBLK(mode))
		return "block device";
	return "special file";
}

static int visit(struct scan *s, int dfd, const char *name)
{
	size_t base = s->path.len;
	struct stat st;
	int rc;

	rip_buf_adds(&s->path, name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = io_error(s, "cannot stat");
	else if (S_ISREG(st.st_mode))
		rc = add_file(s, dfd, name, &st);
	else if (S_ISLNK(st.st_mode))
		rc = add_link(s, dfd, name, &st);
	else if (S_ISDIR(st.st_mode))
		rc = add_dir(s, dfd, name);
	else
		rc = rip_err_set(s->err, RIP_ESECURITY, "'%s/%s' is a %s; a "
			"payload holds only files, links and folders", s->root,
			s->path.buf, kind_name(st.st_mode));
	rip_buf_setlen(&s->path, base);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct rip_entry *)a)->path,
		((const struct rip_entry *)b)->path);
}

/*
 * Hashes the payload in dir into sel (leaves in git order, and the tree)
 * and, when out is not NULL, its counts. On failure sel is released.
 */
static int scan_payload(struct rip_selection *sel, struct rip_fidelity *out,
	const char *dir, const struct rip_manifest *m, struct rip_err *err)
{
	struct scan s = { .root = dir, .sel = sel, .err = err };
	int fd, rc;

	memset(sel, 0, sizeof(*sel));
	rip_buf_init(&s.path, 0);
	if ((rc = parse_subs(&s, m)) < 0)
		goto done;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = rip_err_errno(err, errno == ENOENT ? RIP_ENOTFOUND : RIP_EIO,
			"cannot open the payload folder '%s'", dir);
		goto done;
	}
	s.block = rip_xmalloc(BLOCK);
	if ((rc = walk(&s, fd)) < 0)
		goto done;
	if (sel->n)
		qsort(sel->v, sel->n, sizeof(*sel->v), cmp_entry);
	if ((rc = rip_tree_hash(sel->tree, sel->v, sel->n, err)) < 0)
		goto done;
	if (out) {
		out->files = s.files;
		out->bytes = s.bytes;
		out->links = s.links;
		out->submodules = s.submodules;
	}
done:
	rip_sha1_release(&s.sha);
	free(s.block);
	for (size_t i = 0; i < s.nsubs; i++)
		free(s.subs[i].path);
	free(s.subs);
	rip_buf_release(&s.path);
	if (rc < 0)
		rip_selection_release(sel);
	return rc;
}

int rip_tree_id_of_dir(char out[RIP_OID_HEX], const char *dir,
	const struct rip_manifest *m, struct rip_err *err)
{
	struct rip_selection sel;
	int rc;

	out[0] = '\0';
	if ((rc = scan_payload(&sel, NULL, dir, m, err)) < 0)
		return rc;
	memcpy(out, sel.tree, RIP_OID_HEX);
	rip_selection_release(&sel);
	return 0;
}

static const char *entry_kind(enum rip_entry_kind k)
{
	switch (k) {
	case RIP_ENTRY_EXEC: return "an executable file";
	case RIP_ENTRY_LINK: return "a symlink";
	case RIP_ENTRY_SUBMODULE: return "a submodule";
	default: return "a file";
	}
}

/* Names the first leaf where the payload (a) and the commit (b) differ. */
static void first_diff(struct rip_buf *out, const struct rip_selection *a,
	const struct rip_selection *b)
{
	size_t i = 0, j = 0;

	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 :
			strcmp(a->v[i].path, b->v[j].path);

		if (c < 0) {
			rip_buf_addf(out, "'%s' is in the payload, not in the "
				"commit", a->v[i].path);
			return;
		}
		if (c > 0) {
			rip_buf_addf(out, "'%s' is missing from the payload",
				b->v[j].path);
			return;
		}
		if (a->v[i].kind != b->v[j].kind) {
			rip_buf_addf(out, "'%s' is %s in the payload, %s in the "
				"commit", a->v[i].path, entry_kind(a->v[i].kind),
				entry_kind(b->v[j].kind));
			return;
		}
		if (memcmp(a->v[i].oid, b->v[j].oid, 20)) {
			rip_buf_addf(out, "'%s' differs in %s", a->v[i].path,
				a->v[i].kind == RIP_ENTRY_SUBMODULE ? "commit" :
				a->v[i].kind == RIP_ENTRY_LINK ? "target" : "content");
			return;
		}
		i++;
		j++;
	}
}

static bool is_oid_hex(const char *s)
{
	size_t i;

	for (i = 0; s && ((s[i] >= '0' && s[i] <= '9') ||
			  (s[i] >= 'a' && s[i] <= 'f')); i++)
		;
	return s && i == 40 && !s[i];
}

/*
 * The commit's selection into *sel when repo_path opens and holds m's
 * commit; 0 with sel->n == 0 and sel->tree "" when either is missing.
 */
static int repo_side(struct rip_selection *sel, const char *repo_path,
	const struct rip_manifest *m, const struct rip_strlist *include,
	const struct rip_strlist *exclude, struct rip_err *err)
{
	static const struct rip_strlist none = { 0 };
	struct rip_repo *repo = NULL;
	struct rip_commit_info ci;
	int rc;

	memset(sel, 0, sizeof(*sel));
	if (!repo_path)
		return 0;
	rc = rip_repo_open(&repo, repo_path, err);
	if (rc == RIP_ENOTFOUND) {
		rip_err_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (!is_oid_hex(m->commit)) {
		rc = rip_err_set(err, RIP_EINTEGRITY, "MANIFEST of release '%s': "
			"commit '%s' is not a commit id", m->id ? m->id : "",
			m->commit ? m->commit : "");
		goto done;
	}
	rc = rip_repo_commit(&ci, repo, m->commit, err);
	if (rc == RIP_ENOTFOUND || (!rc && strcmp(ci.id, m->commit))) {
		/* a clone without the commit: the MANIFEST check stands alone */
		rip_err_clear(err);
		rc = 0;
		goto done;
	}
	if (rc < 0)
		goto done;
	rc = rip_repo_select(sel, repo, ci.id, include ? include : &none,
		exclude ? exclude : &none, err);
done:
	rip_repo_free(repo);
	return rc;
}

int rip_fidelity_check(struct rip_fidelity *out, const char *dir,
	const struct rip_manifest *m, const char *repo_path,
	const struct rip_strlist *include, const struct rip_strlist *exclude,
	struct rip_err *err)
{
	struct rip_selection pay, com = { 0 };
	struct rip_buf diff = RIP_BUF_INIT;
	const char *mtree = m->tree ? m->tree : "";
	const char *id = m->id ? m->id : "";
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = scan_payload(&pay, out, dir, m, err)) < 0)
		return rc;
	memcpy(out->tree, pay.tree, RIP_OID_HEX);
	snprintf(out->manifest_tree, sizeof(out->manifest_tree), "%s", mtree);
	/* compared in full: a longer MANIFEST value must not match a prefix */
	out->manifest_ok = !strcmp(pay.tree, mtree);
	if ((rc = repo_side(&com, repo_path, m, include, exclude, err)) < 0) {
		rip_err_prefix(err, "fidelity of release '%s'", id);
		goto done;
	}
	if (com.tree[0]) {
		memcpy(out->repo_tree, com.tree, RIP_OID_HEX);
		out->repo_checked = true;
		out->repo_ok = !strcmp(pay.tree, com.tree);
		if (!out->repo_ok || !out->manifest_ok)
			first_diff(&diff, &pay, &com);
	}
	if (!out->manifest_ok && out->repo_ok)
		rc = rip_err_set(err, RIP_EINTEGRITY, "payload of release '%s' "
			"hashes to tree %s, MANIFEST says '%s'; the payload is "
			"what commit %.12s selects in the repository, so MANIFEST "
			"is what changed", id, pay.tree, mtree, m->commit);
	else if (!out->manifest_ok)
		rc = rip_err_set(err, RIP_EINTEGRITY, "payload of release '%s' "
			"hashes to tree %s, MANIFEST says '%s'%s%.12s%s%s%s", id,
			pay.tree, mtree, diff.len ? " (first difference from "
			"commit " : "", diff.len ? m->commit : "",
			diff.len ? ": " : "", diff.buf, diff.len ? ")" : "");
	else if (out->repo_checked && !out->repo_ok)
		rc = rip_err_set(err, RIP_EINTEGRITY, "payload of release '%s' "
			"hashes to tree %s as MANIFEST says, but commit %.12s "
			"selects tree %s in the repository%s%s (did [package] "
			"include or exclude change since the cut?)", id, pay.tree,
			m->commit, com.tree, diff.len ? "; first difference: " : "",
			diff.buf);
done:
	rip_buf_release(&diff);
	rip_selection_release(&pay);
	rip_selection_release(&com);
	return rc;
}
