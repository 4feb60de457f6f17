/* SPDX-License-Identifier: MIT */
/*
 * test_gitsrc.c: the git side of a release, checked against git itself.
 * A real repository is built once with the git CLI, run through
 * posix_spawn with an argument array (fixed dates and identity; nested
 * folders, an executable, symlinks, a submodule, names whose order is
 * tricky for git), and copied into each test's temp folder. What
 * libripcord reads through libgit2 is compared with what `git rev-parse`,
 * `git ls-tree`, `git write-tree`, `git describe` and `git hash-object`
 * say: commits, the selected tree and its id, include/exclude matching,
 * describe, ancestry, tags and blob hashing.
 */
#include "helpers.h"

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <git2.h>

#include "ripcord/gitsrc.h"
#include "ripcord/digest.h"
#include "ripcord/fsutil.h"

#define DATE1 "@1700000000 +0000"
#define DATE2 "@1700000100 +0000"
#define DATE3 "@1700000200 +0000"

extern char **environ;

/* Whether the "K=V" string kv sets one of the keys of env. */
static bool env_overridden(const char *kv, const char *const env[])
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], kv, klen) && env[i][klen] == '=')
			return true;
	return false;
}

/*
 * Runs argv (found through PATH) through posix_spawn with the "K=V"
 * strings of env added to the environment, stdin from /dev/null, stdout
 * into out when not NULL (else to stderr, away from the TAP stream).
 * Returns the exit status, or -1 when it did not exit normally.
 */
static int run_env(struct rip_buf *out, const char *const env[],
	const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	size_t n = 0, k = 0;
	char **envp;
	int fds[2] = { -1, -1 }, status;
	pid_t pid;

	while (environ[n])
		n++;
	for (size_t i = 0; env && env[i]; i++)
		n++;
	envp = calloc(n + 1, sizeof(*envp));
	assert_non_null(envp);
	for (size_t i = 0; environ[i]; i++)
		if (!env_overridden(environ[i], env))
			envp[k++] = environ[i];
	for (size_t i = 0; env && env[i]; i++)
		envp[k++] = (char *)env[i];
	envp[k] = NULL;

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out) {
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
		posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	} else {
		posix_spawn_file_actions_adddup2(&fa, 2, 1);
	}
	assert_int_equal(posix_spawnp(&pid, argv[0], &fa, NULL,
		(char *const *)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	if (out) {
		char chunk[4096];
		ssize_t got;

		close(fds[1]);
		while ((got = read(fds[0], chunk, sizeof(chunk))) > 0)
			rip_buf_add(out, chunk, (size_t)got);
		close(fds[0]);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* git -C repo <fixed options> args..., with env; fails the test unless 0. */
static void git_v(struct rip_buf *out, const char *const env[],
	const char *repo, va_list ap)
{
	const char *argv[40] = {
		"git", "-C", repo, "-c", "user.name=Rip Test",
		"-c", "user.email=rip@example.com", "-c", "init.defaultBranch=main",
		"-c", "core.autocrlf=false", "-c", "commit.gpgsign=false",
		"-c", "tag.gpgsign=false",
	};
	size_t n = 15;
	const char *a;
	int rc;

	while ((a = va_arg(ap, const char *)) && n < RIP_ARRAY_SIZE(argv) - 1)
		argv[n++] = a;
	argv[n] = NULL;
	rc = run_env(out, env, argv);
	if (rc != 0)
		fail_msg("git %s %s: exit %d", argv[15], n > 16 ? argv[16] : "",
			rc);
}

static void git(const char *repo, ...)
{
	va_list ap;

	va_start(ap, repo);
	git_v(NULL, NULL, repo, ap);
	va_end(ap);
}

static void git_env(const char *const env[], const char *repo, ...)
{
	va_list ap;

	va_start(ap, repo);
	git_v(NULL, env, repo, ap);
	va_end(ap);
}

/* Output of git, trailing white space removed, into out (reset first). */
static const char *git_out(struct rip_buf *out, const char *const env[],
	const char *repo, ...)
{
	va_list ap;

	rip_buf_reset(out);
	va_start(ap, repo);
	git_v(out, env, repo, ap);
	va_end(ap);
	rip_buf_rtrim(out);
	return out->buf;
}

/* Writes a file under dir, making its folders; mode 0755 when exec. */
static void put(const char *dir, const char *rel, const char *text,
	bool exec)
{
	char path[PATH_MAX];
	struct rip_err err = { 0 };
	char *slash;

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >=
	    (int)sizeof(path))
		fail_msg("path too long: %s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	if (rip_mkdir_p(path, 0755, &err) < 0)
		fail_msg("mkdir: %s", err.msg);
	*slash = '/';
	write_text(path, text);
	assert_int_equal(chmod(path, exec ? 0755 : 0644), 0);
}

static void put_link(const char *dir, const char *rel, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

struct repo_fx {
	char dir[PATH_MAX];
	char c1[RIP_OID_HEX];      /* first commit */
	char c2[RIP_OID_HEX];      /* second, on main */
	char c3[RIP_OID_HEX];      /* on branch side, from c1 */
};

/*
 * Builds the repository at dir: c1 with the whole tree, c2 changing one
 * file, and a branch side with c3 from c1; main checked out at c2. No tags.
 */
static void build_repo(const char *dir, struct repo_fx *fx)
{
	static const char *const env1[] = { "GIT_AUTHOR_DATE=" DATE1,
		"GIT_COMMITTER_DATE=" DATE1, NULL };
	static const char *const env2[] = { "GIT_AUTHOR_DATE=" DATE2,
		"GIT_COMMITTER_DATE=" DATE2, NULL };
	static const char *const env3[] = { "GIT_AUTHOR_DATE=" DATE3,
		"GIT_COMMITTER_DATE=" DATE3, NULL };
	struct rip_buf b = RIP_BUF_INIT;
	const char *d;

	snprintf(fx->dir, sizeof(fx->dir), "%s", dir);
	d = fx->dir;
	assert_int_equal(mkdir(d, 0755), 0);
	git(d, "init", "-q", NULL);
	/* identity for libgit2 too (git_signature_default) */
	git(d, "config", "user.name", "Rip Test", NULL);
	git(d, "config", "user.email", "rip@example.com", NULL);
	put(d, "README.md", "# demo\n", false);
	put(d, "a-b", "dash\n", false);
	put(d, "a.c", "int a;\n", false);
	put(d, "a/x", "x\n", false);
	put(d, "a0", "zero\n", false);
	put(d, "bin/run.sh", "#!/bin/sh\necho run\n", true);
	put(d, "docs/guide.txt", "guide\n", false);
	put(d, "docs/api/ref.md", "ref\n", false);
	put(d, "src/main.c", "int main(void) { return 0; }\n", false);
	put(d, "src/util.c", "int util;\n", false);
	put(d, "src/a.h", "#define A 1\n", false);
	put(d, "src/notes.md", "notes\n", false);
	put(d, "src/sub/deep.c", "int deep;\n", false);
	put(d, "z/a-b/c", "1\n", false);
	put(d, "z/a/b", "2\n", false);
	put(d, "z/a.b", "3\n", false);
	put(d, "z/a0", "4\n", false);
	put(d, "with space.txt", "space\n", false);
	put(d, "caf\xc3\xa9.txt", "accent\n", false);
	put(d, ".hidden", "h\n", false);
	put_link(d, "link", "a.c");
	put_link(d, "src/up", "../a");
	git(d, "add", "-A", NULL);
	/* a submodule (gitlink) without its repository, as git allows */
	git(d, "update-index", "--add", "--cacheinfo",
		"160000,1111111111111111111111111111111111111111,vendor/lib", NULL);
	/* an unpopulated submodule: its empty folder keeps add -A off it */
	{
		char sub[PATH_MAX + 16];
		struct rip_err merr = { 0 };

		snprintf(sub, sizeof(sub), "%s/vendor/lib", d);
		assert_int_equal(rip_mkdir_p(sub, 0755, &merr), 0);
	}
	git_env(env1, d, "commit", "-q", "-m", "first", NULL);
	snprintf(fx->c1, sizeof(fx->c1), "%s",
		git_out(&b, NULL, d, "rev-parse", "HEAD", NULL));

	put(d, "src/main.c", "int main(void) { return 1; }\n", false);
	git(d, "add", "-A", NULL);
	git_env(env2, d, "commit", "-q", "-m", "second", NULL);
	snprintf(fx->c2, sizeof(fx->c2), "%s",
		git_out(&b, NULL, d, "rev-parse", "HEAD", NULL));

	git(d, "checkout", "-q", "-b", "side", fx->c1, NULL);
	put(d, "a0", "side\n", false);
	git(d, "add", "-A", NULL);
	git_env(env3, d, "commit", "-q", "-m", "third", NULL);
	snprintf(fx->c3, sizeof(fx->c3), "%s",
		git_out(&b, NULL, d, "rev-parse", "HEAD", NULL));
	git(d, "checkout", "-q", "main", NULL);
	rip_buf_release(&b);
	assert_int_equal(strlen(fx->c1), 40);
	assert_int_equal(strlen(fx->c3), 40);
}

/* Built once for the whole group, copied into each test's folder. */
static struct tmpdir template_dir;
static struct repo_fx template_fx;

static int group_setup(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	snprintf(template_dir.path, sizeof(template_dir.path),
		"/tmp/ripcord-test-XXXXXX");
	if (!mkdtemp(template_dir.path))
		return -1;
	snprintf(dir, sizeof(dir), "%s/repo", template_dir.path);
	build_repo(dir, &template_fx);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(template_dir.path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A fresh copy of the template repository in <tmp>/repo. */
static void make_repo(void **state, struct repo_fx *fx)
{
	const char *argv[] = { "cp", "-a", template_fx.dir, NULL, NULL };

	*fx = template_fx;
	snprintf(fx->dir, sizeof(fx->dir), "%s", tpath(state, "repo"));
	argv[3] = fx->dir;
	assert_int_equal(run_env(NULL, NULL, argv), 0);
}

static struct rip_repo *open_repo(const char *dir)
{
	struct rip_repo *r = NULL;
	struct rip_err err = { 0 };

	if (rip_repo_open(&r, dir, &err) < 0)
		fail_msg("open '%s': %s", dir, err.msg);
	assert_non_null(r);
	return r;
}

static void test_open_and_commit(void **state)
{
	struct repo_fx fx;
	struct rip_repo *r;
	struct rip_commit_info ci;
	struct rip_err err = { 0 };
	struct rip_buf b = RIP_BUF_INIT;
	char sub[PATH_MAX + 16], real[PATH_MAX], want[PATH_MAX + 1];

	make_repo(state, &fx);
	/* from a subfolder, searching upwards */
	snprintf(sub, sizeof(sub), "%s/src/sub", fx.dir);
	r = open_repo(sub);
	assert_non_null(realpath(fx.dir, real));
	snprintf(want, sizeof(want), "%s/", real);
	assert_non_null(rip_repo_workdir(r));
	assert_string_equal(rip_repo_workdir(r), want);

	assert_int_equal(rip_repo_commit(&ci, r, "HEAD", &err), 0);
	assert_string_equal(ci.id, fx.c2);
	assert_string_equal(ci.tree, git_out(&b, NULL, fx.dir, "rev-parse",
		"HEAD^{tree}", NULL));
	assert_int_equal(ci.time, 1700000100);

	assert_int_equal(rip_repo_commit(&ci, r, "side", &err), 0);
	assert_string_equal(ci.id, fx.c3);
	assert_string_equal(ci.tree, git_out(&b, NULL, fx.dir, "rev-parse",
		"side^{tree}", NULL));
	assert_int_equal(ci.time, 1700000200);

	assert_int_equal(rip_repo_commit(&ci, r, "HEAD~1", &err), 0);
	assert_string_equal(ci.id, fx.c1);
	assert_int_equal(rip_repo_commit(&ci, r, fx.c1, &err), 0);
	assert_string_equal(ci.id, fx.c1);
	assert_int_equal(ci.time, 1700000000);
	rip_repo_free(r);
	rip_buf_release(&b);
}

static void test_commit_not_found(void **state)
{
	static const char *const bad[] = {
		"no-such-branch", "HEAD~9", "0000000000000000000000000000000000000001",
		"main..side", "HEAD:README.md",
	};
	struct repo_fx fx;
	struct rip_repo *r;
	struct rip_commit_info ci;

	make_repo(state, &fx);
	r = open_repo(fx.dir);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(bad); i++) {
		struct rip_err err = { 0 };
		int rc = rip_repo_commit(&ci, r, bad[i], &err);

		if (rc != RIP_ENOTFOUND)
			fail_msg("'%s': rc %d, want RIP_ENOTFOUND (%s)", bad[i], rc,
				err.msg);
		assert_err_contains(&err, bad[i]);
	}
	rip_repo_free(r);
}

static void test_open_outside(void **state)
{
	struct rip_repo *r = (struct rip_repo *)&r;
	struct rip_err err = { 0 };
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", tpath(state, "plain"));
	assert_int_equal(mkdir(dir, 0755), 0);
	/* gitsrc.h: "RIP_ENOTFOUND when there is none" */
	assert_int_equal(rip_repo_open(&r, dir, &err), RIP_ENOTFOUND);
	assert_null(r);
	assert_err_contains(&err, dir);
	assert_err_contains(&err, "git init");

	/* a folder that does not exist */
	r = (struct rip_repo *)&r;
	snprintf(dir, sizeof(dir), "%s", tpath(state, "missing/deeper"));
	assert_true(rip_repo_open(&r, dir, &err) < 0);
	assert_null(r);
}

/*
 * A failed open leaves libgit2's init count as it found it: every open
 * takes a reference and only rip_repo_free gives it back.
 */
static void test_open_failure_releases_libgit2(void **state)
{
	struct rip_repo *r = NULL;
	struct rip_err err = { 0 };
	char dir[PATH_MAX];
	int before, after;

	snprintf(dir, sizeof(dir), "%s", tpath(state, "plain"));
	assert_int_equal(mkdir(dir, 0755), 0);
	before = git_libgit2_init();
	git_libgit2_shutdown();
	assert_true(rip_repo_open(&r, dir, &err) < 0);
	assert_null(r);
	after = git_libgit2_init();
	git_libgit2_shutdown();
	assert_int_equal(after, before);
}

/* One line of `git ls-tree -r -z`. */
struct ls_entry {
	char mode[8];
	char oid[RIP_OID_HEX];
	const char *path;
};

/* Parses `git ls-tree -r -z TREE` into v (paths point into out). */
static size_t ls_tree(struct ls_entry *v, size_t max, struct rip_buf *out,
	const char *repo, const char *tree)
{
	const char *const argv[] = { "git", "-C", repo, "ls-tree", "-r", "-z",
		tree, NULL };
	size_t n = 0, i = 0;

	rip_buf_reset(out);
	assert_int_equal(run_env(out, NULL, argv), 0);
	while (i < out->len) {
		const char *line = out->buf + i;
		const char *tab = strchr(line, '\t');
		const char *sp1 = strchr(line, ' '), *sp2;

		assert_non_null(tab);
		assert_true(n < max);
		sp2 = strchr(sp1 + 1, ' ');
		snprintf(v[n].mode, sizeof(v[n].mode), "%.*s",
			(int)(sp1 - line), line);
		snprintf(v[n].oid, sizeof(v[n].oid), "%.*s",
			(int)(tab - sp2 - 1), sp2 + 1);
		v[n].path = tab + 1;
		n++;
		i += strlen(line) + 1;
	}
	return n;
}

/* Asserts sel lists exactly what `git ls-tree -r tree` does, in order. */
static void assert_selection_is(const struct rip_selection *sel,
	const char *repo, const char *tree)
{
	struct ls_entry want[64];
	struct rip_buf out = RIP_BUF_INIT;
	size_t n = ls_tree(want, RIP_ARRAY_SIZE(want), &out, repo, tree);

	assert_int_equal(sel->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct rip_entry *e = &sel->v[i];
		char oid[RIP_OID_HEX];
		enum rip_entry_kind kind = !strcmp(want[i].mode, "100755") ?
			RIP_ENTRY_EXEC : !strcmp(want[i].mode, "120000") ?
			RIP_ENTRY_LINK : !strcmp(want[i].mode, "160000") ?
			RIP_ENTRY_SUBMODULE : RIP_ENTRY_FILE;

		assert_string_equal(e->path, want[i].path);
		if (e->kind != kind)
			fail_msg("'%s': kind %d, want %d (mode %s)", e->path,
				(int)e->kind, (int)kind, want[i].mode);
		rip_hex(oid, e->oid, 20);
		assert_string_equal(oid, want[i].oid);
	}
	rip_buf_release(&out);
}

static const struct rip_entry *sel_find(const struct rip_selection *sel,
	const char *path)
{
	for (size_t i = 0; i < sel->n; i++)
		if (!strcmp(sel->v[i].path, path))
			return &sel->v[i];
	return NULL;
}

static void test_select_all(void **state)
{
	char *dot[] = { "." };
	struct rip_strlist inc = { dot, 1 }, none = { NULL, 0 };
	struct repo_fx fx;
	struct rip_repo *r;
	struct rip_selection sel;
	struct rip_commit_info ci;
	struct rip_err err = { 0 };
	const struct rip_entry *e;
	unsigned char oid[20];
	static const char *const order[] = { "a-b", "a.c", "a/x", "a0" };

	make_repo(state, &fx);
	r = open_repo(fx.dir);
	assert_int_equal(rip_repo_commit(&ci, r, fx.c2, &err), 0);
	if (rip_repo_select(&sel, r, fx.c2, &inc, &none, &err) < 0)
		fail_msg("select: %s", err.msg);
	assert_string_equal(sel.tree, ci.tree);
	assert_selection_is(&sel, fx.dir, fx.c2);

	/* git's order, spelled out: '-' < '.' < '/' < '0' */
	e = sel_find(&sel, order[0]);
	assert_non_null(e);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(order); i++)
		assert_string_equal(e[i].path, order[i]);
	e = sel_find(&sel, "bin/run.sh");
	assert_non_null(e);
	assert_int_equal(e->kind, RIP_ENTRY_EXEC);
	e = sel_find(&sel, "src/main.c");
	assert_non_null(e);
	assert_int_equal(e->kind, RIP_ENTRY_FILE);
	/* a link's blob is its target */
	e = sel_find(&sel, "link");
	assert_non_null(e);
	assert_int_equal(e->kind, RIP_ENTRY_LINK);
	assert_int_equal(rip_blob_hash(oid, "a.c", 3, &err), 0);
	assert_memory_equal(oid, e->oid, 20);
	e = sel_find(&sel, "src/up");
	assert_non_null(e);
	assert_int_equal(e->kind, RIP_ENTRY_LINK);
	e = sel_find(&sel, "vendor/lib");
	assert_non_null(e);
	assert_int_equal(e->kind, RIP_ENTRY_SUBMODULE);
	assert_memory_equal(e->oid, "\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11"
		"\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11", 20);
	assert_non_null(sel_find(&sel, "caf\xc3\xa9.txt"));
	assert_non_null(sel_find(&sel, ".hidden"));
	rip_selection_release(&sel);

	/* an empty include list means everything, too */
	assert_int_equal(rip_repo_select(&sel, r, "side", &none, &none, &err), 0);
	assert_int_equal(rip_repo_commit(&ci, r, "side", &err), 0);
	assert_string_equal(sel.tree, ci.tree);
	rip_selection_release(&sel);

	/* a bad revision */
	assert_int_equal(rip_repo_select(&sel, r, "nope", &inc, &none, &err),
		RIP_ENOTFOUND);
	assert_int_equal(sel.n, 0);
	assert_null(sel.v);
	rip_repo_free(r);
}

/*
 * The tree git writes for an index holding commit's tree minus what the
 * pathspecs (NULL-terminated) remove, through a scratch GIT_INDEX_FILE.
 */
static void git_tree_without(char out[RIP_OID_HEX], void **state,
	const char *repo, const char *commit, const char *const pathspecs[])
{
	char index_env[PATH_MAX + 32];
	const char *env[] = { index_env, NULL };
	const char *argv[32] = { "git", "-C", repo, "rm", "--cached", "-r",
		"-q", "--ignore-unmatch", "--" };
	struct rip_buf b = RIP_BUF_INIT;
	size_t n = 9;

	snprintf(index_env, sizeof(index_env), "GIT_INDEX_FILE=%s",
		tpath(state, "scratch.index"));
	unlink(tpath(state, "scratch.index"));
	git_env(env, repo, "read-tree", commit, NULL);
	for (size_t i = 0; pathspecs[i]; i++)
		argv[n++] = pathspecs[i];
	argv[n] = NULL;
	assert_int_equal(run_env(NULL, env, argv), 0);
	snprintf(out, RIP_OID_HEX, "%s",
		git_out(&b, env, repo, "write-tree", NULL));
	rip_buf_release(&b);
	unlink(tpath(state, "scratch.index"));
}

static void test_select_exclude(void **state)
{
	char *dot[] = { "." }, *ex[] = { "*.md", "docs" };
	struct rip_strlist inc = { dot, 1 }, exc = { ex, 2 };
	static const char *const rm[] = { "*.md", "docs", NULL };
	struct repo_fx fx;
	struct rip_repo *r;
	struct rip_selection sel;
	struct rip_commit_info ci;
	struct rip_err err = { 0 };
	char want[RIP_OID_HEX];

	make_repo(state, &fx);
	git_tree_without(want, state, fx.dir, fx.c2, rm);
	r = open_repo(fx.dir);
	if (rip_repo_select(&sel, r, fx.c2, &inc, &exc, &err) < 0)
		fail_msg("select: %s", err.msg);
	assert_string_equal(sel.tree, want);
	assert_int_equal(rip_repo_commit(&ci, r, fx.c2, &err), 0);
	assert_string_not_equal(sel.tree, ci.tree);
	assert_selection_is(&sel, fx.dir, want);
	assert_null(sel_find(&sel, "README.md"));
	assert_null(sel_find(&sel, "src/notes.md"));
	assert_null(sel_find(&sel, "docs/guide.txt"));
	assert_non_null(sel_find(&sel, "src/main.c"));
	assert_int_equal(sel_find(&sel, "bin/run.sh")->kind, RIP_ENTRY_EXEC);
	assert_int_equal(sel_find(&sel, "link")->kind, RIP_ENTRY_LINK);
	rip_selection_release(&sel);
	rip_repo_free(r);
}

/* include = src, a.c; exclude = *.md, a/b: only those, as git sees them. */
static void test_select_include(void **state)
{
	char *in[] = { "./src/", "a.c", "z" }, *ex[] = { "*.md", "z/a/b" };
	struct rip_strlist inc = { in, 3 }, exc = { ex, 2 };
	static const char *const rm[] = { ".", ":!src", ":!a.c", ":!z", NULL };
	static const char *const rm2[] = { "*.md", "z/a/b", NULL };
	struct repo_fx fx;
	struct rip_repo *r;
	struct rip_selection sel;
	struct rip_err err = { 0 };
	char step1[RIP_OID_HEX], want[RIP_OID_HEX];
	static const char *const paths[] = {
		"a.c", "src/a.h", "src/main.c", "src/sub/deep.c", "src/up",
		"src/util.c", "z/a-b/c", "z/a.b", "z/a0",
	};

	make_repo(state, &fx);
	git_tree_without(step1, state, fx.dir, fx.c1, rm);
	/* then the excludes, from that intermediate tree */
	git_tree_without(want, state, fx.dir, step1, rm2);
	r = open_repo(fx.dir);
	if (rip_repo_select(&sel, r, fx.c1, &inc, &exc, &err) < 0)
		fail_msg("select: %s", err.msg);
	assert_string_equal(sel.tree, want);
	assert_selection_is(&sel, fx.dir, want);
	assert_int_equal(sel.n, RIP_ARRAY_SIZE(paths));
	for (size_t i = 0; i < sel.n; i++)
		assert_string_equal(sel.v[i].path, paths[i]);
	rip_selection_release(&sel);

	/* selecting nothing is git's empty tree */
	{
		char *nothing[] = { "no-such-folder" };
		struct rip_strlist inc0 = { nothing, 1 }, none = { NULL, 0 };

		assert_int_equal(rip_repo_select(&sel, r, fx.c1, &inc0, &none,
			&err), 0);
		assert_int_equal(sel.n, 0);
		assert_string_equal(sel.tree,
			"4b825dc642cb6eb9a060e54bf8d69288fbee4904");
		rip_selection_release(&sel);
	}
	rip_repo_free(r);
}

static void test_select_match(void **state)
{
	char *dot[] = { "." }, *src[] = { "src" }, *srcc[] = { "src/*.c" },
		*dsrc[] = { "./src/" };
	char *md[] = { "*.md" }, *docs[] = { "docs" }, *ab[] = { "a/b" },
		*all_ex[] = { "*.md", "docs", "a/b" };
	const struct rip_strlist none = { NULL, 0 }, i_dot = { dot, 1 },
		i_src = { src, 1 }, i_srcc = { srcc, 1 }, i_dsrc = { dsrc, 1 },
		e_md = { md, 1 }, e_docs = { docs, 1 }, e_ab = { ab, 1 },
		e_all = { all_ex, 3 };
	static const struct {
		const char *path;
		int inc, exc;     /* indexes into the lists below */
		bool want;
	} cases[] = {
		{ "README", 0, 0, true },
		{ "a/b/c/d.txt", 0, 0, true },
		{ ".hidden", 0, 0, true },
		{ "anything", 1, 0, true },
		{ "src/main.c", 2, 0, true },
		{ "src/sub/deep.c", 2, 0, true },
		{ "srcx/main.c", 2, 0, false },
		{ "lib/src/main.c", 2, 0, false },
		{ "main.c", 2, 0, false },
		{ "src/main.c", 3, 0, true },
		{ "src/main.h", 3, 0, false },
		{ "src/sub/deep.c", 3, 0, false },
		{ "main.c", 3, 0, false },
		{ "src/main.c", 4, 0, true },
		{ "README.md", 0, 1, false },
		{ "src/notes.md", 0, 1, false },
		{ "a.md.txt", 0, 1, true },
		{ "md", 0, 1, true },
		{ "src/main.c", 0, 1, true },
		{ "docs", 0, 2, false },
		{ "docs/guide.txt", 0, 2, false },
		{ "docs/api/x.c", 0, 2, false },
		{ "docs.txt", 0, 2, true },
		{ "mydocs/x", 0, 2, true },
		{ "a/b", 0, 3, false },
		{ "a/b/c", 0, 3, false },
		{ "a/bc", 0, 3, true },
		{ "a/x", 0, 3, true },
		{ "x/a/b", 0, 3, true },
		{ "src/notes.md", 2, 4, false },
		{ "src/main.c", 2, 4, true },
		{ "docs/x.c", 1, 4, false },
		{ "a/b/c.c", 1, 4, false },
		{ "a/c.c", 1, 4, true },
	};
	const struct rip_strlist *incs[] = { &i_dot, &none, &i_src, &i_srcc,
		&i_dsrc };
	const struct rip_strlist *excs[] = { &none, &e_md, &e_docs, &e_ab,
		&e_all };

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		bool got = rip_select_match(cases[i].path, incs[cases[i].inc],
			excs[cases[i].exc]);

		if (got != cases[i].want)
			fail_msg("case %zu: '%s' %s, want %s", i, cases[i].path,
				got ? "selected" : "left out",
				cases[i].want ? "selected" : "left out");
	}
}

/* A pattern over 1,023 bytes is matched whole, not cut to its start. */
static void test_select_match_long_pattern(void **state)
{
	struct rip_buf pat = RIP_BUF_INIT, path = RIP_BUF_INIT;
	char *v[1];
	struct rip_strlist list = { v, 1 };
	const struct rip_strlist none = { NULL, 0 };

	(void)state;
	/* "d/xxx...x/keep" (1,106 bytes); a path inside its first 1,023 */
	rip_buf_adds(&pat, "d/");
	for (int i = 0; i < 1100; i++)
		rip_buf_addch(&pat, 'x');
	rip_buf_adds(&pat, "/keep");
	rip_buf_add(&path, pat.buf, 1023);
	rip_buf_adds(&path, "/other");
	v[0] = pat.buf;
	assert_false(rip_select_match(path.buf, &list, &none));
	assert_true(rip_select_match(path.buf, &none, &none));
	/* as an exclude, it leaves that path alone too */
	assert_true(rip_select_match(path.buf, &none, &list));
	/* and the pattern's own path is selected and excluded as it says */
	rip_buf_adds(&pat, "/f");
	v[0] = pat.buf;
	rip_buf_reset(&path);
	rip_buf_adds(&path, pat.buf);
	rip_buf_setlen(&pat, pat.len - 2);
	assert_true(rip_select_match(path.buf, &list, &none));
	assert_false(rip_select_match(path.buf, &none, &list));
	rip_buf_release(&pat);
	rip_buf_release(&path);
}

static void test_describe(void **state)
{
	static const char *const env[] = { "GIT_COMMITTER_DATE=" DATE3, NULL };
	struct repo_fx fx;
	struct rip_repo *r;
	struct rip_buf b = RIP_BUF_INIT, want = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	char expect[64];

	make_repo(state, &fx);
	r = open_repo(fx.dir);

	/* no tags: the abbreviated id */
	assert_int_equal(rip_repo_describe(&b, r, fx.c2, &err), 0);
	assert_string_equal(b.buf, git_out(&want, NULL, fx.dir, "describe",
		"--tags", "--always", fx.c2, NULL));
	assert_true(b.len >= 7 && b.len < 40);
	assert_memory_equal(b.buf, fx.c2, b.len);

	git_env(env, fx.dir, "tag", "-a", "-m", "one", "v1.0", fx.c1, NULL);
	rip_buf_reset(&b);
	assert_int_equal(rip_repo_describe(&b, r, fx.c1, &err), 0);
	assert_string_equal(b.buf, "v1.0");

	rip_buf_reset(&b);
	assert_int_equal(rip_repo_describe(&b, r, fx.c2, &err), 0);
	snprintf(expect, sizeof(expect), "v1.0-1-g%.7s", fx.c2);
	assert_string_equal(b.buf, git_out(&want, NULL, fx.dir, "describe",
		"--tags", "--always", fx.c2, NULL));
	assert_string_equal(b.buf, expect);

	/* lightweight tags count too (--tags) */
	git(fx.dir, "tag", "light", fx.c3, NULL);
	rip_buf_reset(&b);
	assert_int_equal(rip_repo_describe(&b, r, "side", &err), 0);
	assert_string_equal(b.buf, "light");

	rip_buf_reset(&b);
	assert_int_equal(rip_repo_describe(&b, r, "nope", &err), RIP_ENOTFOUND);
	rip_buf_release(&b);
	rip_buf_release(&want);
	rip_repo_free(r);
}

static void test_is_ancestor(void **state)
{
	struct repo_fx fx;
	struct rip_repo *r;
	struct rip_err err = { 0 };
	bool yes = false;
	static const char unknown[] = "1234567890123456789012345678901234567890";

	make_repo(state, &fx);
	r = open_repo(fx.dir);
	assert_int_equal(rip_repo_is_ancestor(&yes, r, fx.c1, fx.c2, &err), 0);
	assert_true(yes);
	assert_int_equal(rip_repo_is_ancestor(&yes, r, fx.c1, fx.c3, &err), 0);
	assert_true(yes);
	assert_int_equal(rip_repo_is_ancestor(&yes, r, fx.c2, fx.c2, &err), 0);
	assert_true(yes);
	assert_int_equal(rip_repo_is_ancestor(&yes, r, fx.c2, fx.c1, &err), 0);
	assert_false(yes);
	/* siblings */
	assert_int_equal(rip_repo_is_ancestor(&yes, r, fx.c2, fx.c3, &err), 0);
	assert_false(yes);
	assert_int_equal(rip_repo_is_ancestor(&yes, r, fx.c3, fx.c2, &err), 0);
	assert_false(yes);
	/* a commit this clone does not have */
	yes = true;
	assert_int_equal(rip_repo_is_ancestor(&yes, r, unknown, fx.c2, &err), 0);
	assert_false(yes);
	/* not an id */
	assert_int_equal(rip_repo_is_ancestor(&yes, r, "main", fx.c2, &err),
		RIP_EUSAGE);
	assert_int_equal(rip_repo_is_ancestor(&yes, r, fx.c1, "abc", &err),
		RIP_EUSAGE);
	rip_repo_free(r);
}

static void test_tag(void **state)
{
	struct repo_fx fx;
	struct rip_repo *r;
	struct rip_err err = { 0 };
	struct rip_buf b = RIP_BUF_INIT;

	make_repo(state, &fx);
	r = open_repo(fx.dir);
	if (rip_repo_tag(r, "release/x", fx.c1, "release x\n", &err) < 0)
		fail_msg("tag: %s", err.msg);
	assert_string_equal(git_out(&b, NULL, fx.dir, "rev-parse",
		"release/x^{commit}", NULL), fx.c1);
	/* annotated, with the message */
	assert_string_equal(git_out(&b, NULL, fx.dir, "cat-file", "-t",
		"refs/tags/release/x", NULL), "tag");
	assert_non_null(strstr(git_out(&b, NULL, fx.dir, "cat-file", "tag",
		"release/x", NULL), "release x"));

	/* again on the same commit: fine, and the tag is unchanged */
	git_out(&b, NULL, fx.dir, "rev-parse", "refs/tags/release/x", NULL);
	{
		char before[RIP_OID_HEX];

		snprintf(before, sizeof(before), "%s", b.buf);
		assert_int_equal(rip_repo_tag(r, "release/x", fx.c1, "again",
			&err), 0);
		assert_string_equal(git_out(&b, NULL, fx.dir, "rev-parse",
			"refs/tags/release/x", NULL), before);
	}
	/* ... by a revision naming the same commit too */
	assert_int_equal(rip_repo_tag(r, "release/x", "main~1", "again", &err),
		0);

	/* on another commit: refused, and left alone */
	memset(&err, 0, sizeof(err));
	assert_int_equal(rip_repo_tag(r, "release/x", fx.c2, "other", &err),
		RIP_EEXISTS);
	assert_err_contains(&err, "release/x");
	assert_string_equal(git_out(&b, NULL, fx.dir, "rev-parse",
		"release/x^{commit}", NULL), fx.c1);

	/* a lightweight tag of another commit is refused the same way */
	git(fx.dir, "tag", "release/y", fx.c3, NULL);
	assert_int_equal(rip_repo_tag(r, "release/y", fx.c2, "y", &err),
		RIP_EEXISTS);
	/* an unknown commit */
	assert_int_equal(rip_repo_tag(r, "release/z", "nope", "z", &err),
		RIP_ENOTFOUND);
	rip_buf_release(&b);
	rip_repo_free(r);
}

/* A tag name whose ref is over 511 bytes is looked up whole: another
 * tag named by the ref's first 511 bytes is not taken for it. */
static void test_tag_long_name(void **state)
{
	struct rip_buf name = RIP_BUF_INIT, cut = RIP_BUF_INIT, b = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	struct repo_fx fx;
	struct rip_repo *r;

	make_repo(state, &fx);
	r = open_repo(fx.dir);
	/* components under 255 bytes, so the refs fit a file system */
	for (char c = 'a'; c <= 'c'; c++) {
		for (int i = 0; i < 200; i++)
			rip_buf_addch(&name, c);
		if (c != 'c')
			rip_buf_addch(&name, '/');
	}
	/* "refs/tags/" + the first 501 bytes: the ref a 512-byte buffer kept */
	rip_buf_add(&cut, name.buf, 511 - strlen("refs/tags/"));
	if (rip_repo_tag(r, cut.buf, fx.c1, "short\n", &err) < 0)
		fail_msg("tag: %s", err.msg);
	if (rip_repo_tag(r, name.buf, fx.c2, "long\n", &err) < 0)
		fail_msg("long tag: %s", err.msg);
	rip_buf_adds(&name, "^{commit}");
	assert_string_equal(git_out(&b, NULL, fx.dir, "rev-parse", name.buf,
		NULL), fx.c2);
	rip_buf_adds(&cut, "^{commit}");
	assert_string_equal(git_out(&b, NULL, fx.dir, "rev-parse", cut.buf,
		NULL), fx.c1);
	rip_buf_release(&name);
	rip_buf_release(&cut);
	rip_buf_release(&b);
	rip_repo_free(r);
}

/* rip_blob_hash against `git hash-object`, with no repository open. */
static void test_blob_hash(void **state)
{
	static const struct {
		const char *data;
		size_t len;
	} cases[] = {
		{ "", 0 },
		{ "hello\n", 6 },
		{ "no newline", 10 },
		{ "bin\0ary\r\n\xff", 11 },
	};
	struct rip_buf out = RIP_BUF_INIT;
	struct rip_err err = { 0 };

	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		const char *path = tpath(state, "blob");
		const char *const argv[] = { "git", "hash-object", "--no-filters",
			path, NULL };
		unsigned char oid[20];
		char hex[RIP_OID_HEX];
		FILE *f = fopen(path, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(cases[i].data, 1, cases[i].len, f),
			cases[i].len);
		fclose(f);
		rip_buf_reset(&out);
		assert_int_equal(run_env(&out, NULL, argv), 0);
		rip_buf_rtrim(&out);
		assert_int_equal(rip_blob_hash(oid, cases[i].data, cases[i].len,
			&err), 0);
		rip_hex(hex, oid, 20);
		assert_string_equal(hex, out.buf);
	}
	rip_buf_release(&out);
}

/* The blobs read through rip_repo_blob are the files as committed. */
static void test_blob_read(void **state)
{
	char *dot[] = { "." };
	struct rip_strlist inc = { dot, 1 }, none = { NULL, 0 };
	struct repo_fx fx;
	struct rip_repo *r;
	struct rip_selection sel;
	struct rip_blob blob;
	struct rip_err err = { 0 };
	unsigned char again[20];
	static const char main_c[] = "int main(void) { return 0; }\n";

	make_repo(state, &fx);
	r = open_repo(fx.dir);
	assert_int_equal(rip_repo_select(&sel, r, fx.c1, &inc, &none, &err), 0);
	assert_int_equal(rip_repo_blob(&blob, r,
		sel_find(&sel, "src/main.c")->oid, &err), 0);
	assert_int_equal(blob.len, sizeof(main_c) - 1);
	assert_memory_equal(blob.data, main_c, blob.len);
	rip_blob_release(&blob);
	for (size_t i = 0; i < sel.n; i++) {
		if (sel.v[i].kind == RIP_ENTRY_SUBMODULE)
			continue;
		assert_int_equal(rip_repo_blob(&blob, r, sel.v[i].oid, &err), 0);
		assert_int_equal(rip_blob_hash(again, blob.data, blob.len, &err),
			0);
		assert_memory_equal(again, sel.v[i].oid, 20);
		rip_blob_release(&blob);
	}
	rip_selection_release(&sel);
	rip_repo_free(r);
}

/* What differs from HEAD: staged or not; never untracked files. */
static void test_dirty(void **state)
{
	struct rip_strlist d = { 0 };
	struct rip_err err = { 0 };
	struct repo_fx fx;
	struct rip_repo *r;

	make_repo(state, &fx);
	r = open_repo(fx.dir);
	assert_int_equal(rip_repo_dirty(&d, r, &err), 0);
	assert_int_equal(d.n, 0);
	put(fx.dir, "src/util.c", "int util2;\n", false);
	put(fx.dir, "untracked.txt", "u\n", false);
	put(fx.dir, "src/staged.c", "int s;\n", false);
	git(fx.dir, "add", "src/staged.c", NULL);
	assert_int_equal(rip_repo_dirty(&d, r, &err), 0);
	assert_int_equal(d.n, 2);
	assert_true(rip_strlist_has(&d, "src/util.c"));
	assert_true(rip_strlist_has(&d, "src/staged.c"));
	rip_strlist_release(&d);
	rip_repo_free(r);
}

/* A key in the work tree is added to .gitignore once; one already
 * ignored, or outside any repository, is left alone. */
static void test_ignore(void **state)
{
	struct rip_buf b = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	struct rip_ignore_edit ed;
	struct repo_fx fx;
	char path[PATH_MAX + 32];

	make_repo(state, &fx);
	snprintf(path, sizeof(path), "%s/src/sub/k.key", fx.dir);
	assert_int_equal(rip_repo_ignore(&ed, path, &err), 0);
	assert_non_null(ed.added);
	assert_string_equal(ed.added, "/src/sub/k.key");
	rip_ignore_edit_release(&ed);
	write_text(path, "secret");
	assert_string_equal(git_out(&b, NULL, fx.dir, "status", "--porcelain",
		"--untracked-files=all", "--", "src/sub", NULL), "");
	assert_int_equal(rip_repo_ignore(&ed, path, &err), 0);
	assert_null(ed.added);
	snprintf(path, sizeof(path), "%s/k.key", tpath(state, ""));
	assert_int_equal(rip_repo_ignore(&ed, path, &err), 0);
	assert_null(ed.added);
	rip_buf_release(&b);
}

/* Names git would read as a pattern are escaped; undo puts the
 * .gitignore back as it was, or removes it when the edit made it. */
static void test_ignore_escape_undo(void **state)
{
	struct rip_buf b = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	struct rip_ignore_edit ed;
	struct repo_fx fx;
	char path[PATH_MAX + 32], gi[PATH_MAX + 32];

	make_repo(state, &fx);
	snprintf(gi, sizeof(gi), "%s/.gitignore", fx.dir);
	assert_false(rip_path_exists(gi));
	snprintf(path, sizeof(path), "%s/src/[p]*?#!\\ .key ", fx.dir);
	assert_int_equal(rip_repo_ignore(&ed, path, &err), 0);
	assert_string_equal(ed.added, "/src/\\[p\\]\\*\\?\\#\\!\\\\ .key\\ ");
	write_text(path, "secret");
	assert_string_equal(git_out(&b, NULL, fx.dir, "status", "--porcelain",
		"--untracked-files=all", NULL), "?? .gitignore");
	rip_repo_ignore_undo(&ed);
	rip_ignore_edit_release(&ed);
	assert_false(rip_path_exists(gi));
	write_text(gi, "*.log");
	snprintf(path, sizeof(path), "%s/k.key", fx.dir);
	assert_int_equal(rip_repo_ignore(&ed, path, &err), 0);
	assert_non_null(ed.added);
	rip_repo_ignore_undo(&ed);
	rip_ignore_edit_release(&ed);
	rip_buf_reset(&b);
	assert_int_equal(rip_read_file(&b, gi, 1 << 20, &err), 0);
	assert_string_equal(b.buf, "*.log");
	rip_buf_release(&b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_blob_hash),
		T(test_ignore_escape_undo),
		T(test_open_and_commit),
		T(test_commit_not_found),
		T(test_open_outside),
		T(test_open_failure_releases_libgit2),
		T(test_select_all),
		T(test_select_exclude),
		T(test_select_include),
		cmocka_unit_test(test_select_match),
		cmocka_unit_test(test_select_match_long_pattern),
		T(test_describe),
		T(test_is_ancestor),
		T(test_tag),
		T(test_tag_long_name),
		T(test_blob_read),
		T(test_dirty),
		T(test_ignore),
	};

	/* the git CLI sees only the options given here, never the user's */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	unsetenv("GIT_DIR");
	unsetenv("GIT_INDEX_FILE");
	unsetenv("GIT_WORK_TREE");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
