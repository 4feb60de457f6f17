/* SPDX-License-Identifier: MIT */
/*
 * test_fidelity.c: the drill's fidelity step on real artifacts. A real
 * repository is built once with the git CLI (posix_spawn, fixed dates):
 * nested folders, an executable, links to a file and to a folder, a file
 * of 200 KB (several hash blocks), an empty file, names with a space and
 * UTF-8, names that test git's order ("a" folder beside "a.b", "a-b",
 * "a0"; gitlink "m" beside "m.c" and folder "m-d"), two submodules. Each
 * test cuts it with rip_cut into its own store and extracts the payload
 * with rip_extract_payload, then checks the tree id against git itself
 * (`rev-parse HEAD^{tree}`, and `write-tree` of the extracted folder
 * added to a fresh index), the include/exclude selection against the
 * repository, and every way the folder can be bent: a byte changed (also
 * past the first 64 KiB), an artifact rebuilt with a changed file and a
 * rewritten SHA256SUMS (extract accepts it; fidelity must not), a file
 * added or removed, modes flipped, a link retargeted, a submodule folder
 * filled or removed, a repository without the commit, a fifo and a socket.
 */
#include "helpers.h"

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "ripcord/artifact.h"
#include "ripcord/config.h"
#include "ripcord/extract.h"
#include "ripcord/fidelity.h"
#include "ripcord/fsutil.h"
#include "ripcord/manifest.h"
#include "ripcord/release.h"

#define EMPTY_TREE "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
#define SUB_M "1111111111111111111111111111111111111111"
#define SUB_LIB "2222222222222222222222222222222222222222"
#define BIG_LEN 200000

extern char **environ;

/*
 * Runs argv (through PATH) with stdin from /dev/null and stdout into out
 * when not NULL, else to stderr, away from the TAP stream. Returns the
 * exit status, or -1.
 */
static int run(struct rip_buf *out, const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int fds[2] = { -1, -1 }, status;
	pid_t pid;

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out) {
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
		posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	} else {
		posix_spawn_file_actions_adddup2(&fa, 2, 1);
	}
	assert_int_equal(posix_spawnp(&pid, argv[0], &fa, NULL,
		(char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
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

/* git <fixed options> args... (NULL-terminated); fails unless it exits 0. */
static void git_v(struct rip_buf *out, const char *first, va_list ap)
{
	const char *argv[32] = {
		"git", "-c", "user.name=Rip Test", "-c",
		"user.email=rip@example.com", "-c", "init.defaultBranch=main",
		"-c", "core.autocrlf=false", "-c", "commit.gpgsign=false",
	};
	size_t n = 11;
	const char *a = first;
	int rc;

	for (; a && n < RIP_ARRAY_SIZE(argv) - 1; a = va_arg(ap, const char *))
		argv[n++] = a;
	argv[n] = NULL;
	rc = run(out, argv);
	if (rc != 0)
		fail_msg("git %s %s %s: exit %d", argv[11], n > 12 ? argv[12] : "",
			n > 13 ? argv[13] : "", rc);
}

static void git(const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	git_v(NULL, first, ap);
	va_end(ap);
}

/* git's output, trailing white space removed, into out (reset first). */
static const char *git_out(struct rip_buf *out, const char *first, ...)
{
	va_list ap;

	rip_buf_reset(out);
	va_start(ap, first);
	git_v(out, first, ap);
	va_end(ap);
	rip_buf_rtrim(out);
	return out->buf;
}

static void put_bytes(const char *dir, const char *rel, const void *data,
	size_t len, mode_t mode)
{
	char path[PATH_MAX];
	struct rip_err err = { 0 };
	char *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	if (rip_mkdir_p(path, 0755, &err) < 0)
		fail_msg("mkdir: %s", err.msg);
	*slash = '/';
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void put(const char *dir, const char *rel, const char *text,
	bool exec)
{
	put_bytes(dir, rel, text, strlen(text), exec ? 0755 : 0644);
}

static void put_link(const char *dir, const char *rel, const char *target)
{
	char path[PATH_MAX + 256];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* The repository, built once for the group; tests only read it. */
static char group_dir[256];
static char repo_dir[PATH_MAX];
static char head_tree[RIP_OID_HEX];

static void build_repo(const char *d)
{
	static unsigned char big[BIG_LEN];
	struct rip_buf b = RIP_BUF_INIT;
	char sub[PATH_MAX + 16];
	struct rip_err err = { 0 };
	uint32_t x = 12345;

	assert_int_equal(mkdir(d, 0755), 0);
	git("-C", d, "init", "-q", NULL);
	put(d, "README.md", "# demo\n", false);
	put(d, "a/x", "x\n", false);
	put(d, "a/y/z", "z\n", false);
	put(d, "a.b", "dot\n", false);
	put(d, "a-b", "dash\n", false);
	put(d, "a0", "zero\n", false);
	put(d, "with space.txt", "space\n", false);
	put(d, "caf\xc3\xa9.txt", "accent\n", false);
	put(d, ".hidden", "h\n", false);
	put(d, "empty", "", false);
	put(d, "bin/run.sh", "#!/bin/sh\necho run\n", true);
	put(d, "src/main.c", "int main(void) { return 0; }\n", false);
	put(d, "src/notes.tmp", "scratch\n", false);
	put(d, "src/deep/er/most.c", "int most;\n", false);
	put(d, "m.c", "int m;\n", false);
	put(d, "m-d/f", "f\n", false);
	for (size_t i = 0; i < sizeof(big); i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (unsigned char)(x >> 16);
	}
	put_bytes(d, "big.bin", big, sizeof(big), 0644);
	put_link(d, "link", "a.b");
	put_link(d, "dirlink", "src");
	put_link(d, "a/up", "../a-b");
	git("-C", d, "add", "-A", NULL);
	/* submodules (gitlinks) without their repositories, as git allows;
	 * "m" sorts before "m-d/" and "m.c" only because it is no folder */
	git("-C", d, "update-index", "--add", "--cacheinfo",
		"160000," SUB_M ",m", NULL);
	git("-C", d, "update-index", "--add", "--cacheinfo",
		"160000," SUB_LIB ",vendor/lib", NULL);
	snprintf(sub, sizeof(sub), "%s/m", d);
	assert_int_equal(rip_mkdir_p(sub, 0755, &err), 0);
	snprintf(sub, sizeof(sub), "%s/vendor/lib", d);
	assert_int_equal(rip_mkdir_p(sub, 0755, &err), 0);
	git("-C", d, "commit", "-q", "-m", "first", NULL);
	snprintf(head_tree, sizeof(head_tree), "%s",
		git_out(&b, "-C", d, "rev-parse", "HEAD^{tree}", NULL));
	assert_int_equal(strlen(head_tree), 40);
	rip_buf_release(&b);
}

static int group_setup(void **state)
{
	(void)state;
	setenv("GIT_AUTHOR_DATE", "@1700000000 +0000", 1);
	setenv("GIT_COMMITTER_DATE", "@1700000000 +0000", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	snprintf(group_dir, sizeof(group_dir), "/tmp/ripcord-test-XXXXXX");
	if (!mkdtemp(group_dir))
		return -1;
	snprintf(repo_dir, sizeof(repo_dir), "%s/repo", group_dir);
	build_repo(repo_dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(group_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A release cut from the repository and extracted. */
struct rel {
	char art[PATH_MAX];
	char dir[PATH_MAX];          /* the extracted payload */
	struct rip_manifest *m;
	struct rip_strlist inc, exc;
};

static struct rip_manifest *read_manifest(const char *art)
{
	struct rip_artifact_contents c;
	struct rip_manifest *m = NULL;
	struct rip_err err = { 0 };

	if (rip_artifact_read(&c, art, &err) < 0 ||
	    rip_manifest_parse(&m, c.manifest.buf, &err) < 0)
		fail_msg("manifest of '%s': %s", art, err.msg);
	rip_artifact_contents_release(&c);
	return m;
}

/* Cuts the repository's HEAD as r1 with include/exclude (NULL: none). */
static void cut_extract(void **state, struct rel *r, const char *include,
	const char *exclude)
{
	struct rip_cut_opts opts = { .id = "r1" };
	struct rip_cut_result res;
	struct rip_extract_result xr;
	struct rip_config *cfg = NULL;
	struct rip_err err = { 0 };
	struct rip_buf text = RIP_BUF_INIT;
	struct tmpdir *t = *state;
	char cwd[PATH_MAX];
	int rc;

	memset(r, 0, sizeof(*r));
	rip_buf_addf(&text, "[project]\nname = app\nstore = store\n");
	if (include || exclude)
		rip_buf_adds(&text, "[package]\n");
	if (include) {
		rip_buf_addf(&text, "include = %s\n", include);
		rip_strlist_split(&r->inc, include);
	}
	if (exclude) {
		rip_buf_addf(&text, "exclude = %s\n", exclude);
		rip_strlist_split(&r->exc, exclude);
	}
	if (rip_config_parse(&cfg, text.buf, "ripcord.ini", t->path, &err) < 0)
		fail_msg("config: %s", err.msg);
	/* cut opens the repository around the working folder */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(repo_dir), 0);
	rc = rip_cut(&res, cfg, &opts, &err);
	assert_int_equal(chdir(cwd), 0);
	if (rc < 0)
		fail_msg("cut: %s", err.msg);
	snprintf(r->art, sizeof(r->art), "%s", res.path);
	rip_cut_result_release(&res);
	rip_config_free(cfg);
	rip_buf_release(&text);
	snprintf(r->dir, sizeof(r->dir), "%s/x", t->path);
	if (rip_extract_payload(&xr, r->art, r->dir, &err) < 0)
		fail_msg("extract: %s", err.msg);
	r->m = read_manifest(r->art);
}

static void rel_release(struct rel *r)
{
	rip_manifest_free(r->m);
	rip_strlist_release(&r->inc);
	rip_strlist_release(&r->exc);
}

/* "<r->dir>/<rel>" in a static buffer: one at a time. */
static const char *xpath(const struct rel *r, const char *rel)
{
	static char buf[PATH_MAX + 256];

	snprintf(buf, sizeof(buf), "%s/%s", r->dir, rel);
	return buf;
}

/* Adds delta to the byte at off of the extracted file rel. */
static void bump_byte(const struct rel *r, const char *rel, long off,
	int delta)
{
	FILE *f = fopen(xpath(r, rel), "r+b");
	int c;

	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	c = fgetc(f);
	assert_true(c != EOF);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	assert_int_equal(fputc((c + delta) & 0xff, f), (c + delta) & 0xff);
	assert_int_equal(fclose(f), 0);
}

/* rip_fidelity_check; the message when it fails goes to err. */
static int check(const struct rel *r, const char *repo,
	struct rip_fidelity *f, struct rip_err *err)
{
	return rip_fidelity_check(f, r->dir, r->m, repo, &r->inc, &r->exc, err);
}

static void assert_passes(const struct rel *r, const char *repo)
{
	struct rip_fidelity f;
	struct rip_err err = { 0 };

	if (check(r, repo, &f, &err) != 0)
		fail_msg("fidelity: %s", err.msg);
	assert_true(f.manifest_ok);
	assert_string_equal(f.tree, r->m->tree);
}

/* A mismatch with the MANIFEST, its message holding each of needles. */
static void assert_mismatch(const struct rel *r, const char *repo,
	const char *needle)
{
	struct rip_fidelity f;
	struct rip_err err = { 0 };
	char want[256];

	assert_int_equal(check(r, repo, &f, &err), RIP_EINTEGRITY);
	assert_false(f.manifest_ok);
	assert_string_not_equal(f.tree, r->m->tree);
	assert_string_equal(f.manifest_tree, r->m->tree);
	snprintf(want, sizeof(want), "payload of release 'r1' hashes to tree "
		"%s, MANIFEST says '%s'", f.tree, r->m->tree);
	assert_err_contains(&err, want);
	if (needle)
		assert_err_contains(&err, needle);
	assert_int_equal(rip_err_exit_code(RIP_EINTEGRITY), 3);
}

/* (1) Everything selected: the payload hashes to the commit's tree. */
static void test_matches_git(void **state)
{
	struct rel r;
	struct rip_fidelity f;
	struct rip_err err = { 0 };
	struct rip_buf b = RIP_BUF_INIT;
	char tree[RIP_OID_HEX], gd[PATH_MAX + 16];

	cut_extract(state, &r, NULL, NULL);
	assert_string_equal(r.m->tree, head_tree);
	if (rip_tree_id_of_dir(tree, r.dir, r.m, &err) < 0)
		fail_msg("tree: %s", err.msg);
	assert_string_equal(tree, head_tree);

	/* git itself on the extracted folder: a fresh index, add, write-tree */
	snprintf(gd, sizeof(gd), "--git-dir=%s/idx.git", ((struct tmpdir *)
		*state)->path);
	git("init", "-q", "--bare", gd + strlen("--git-dir="), NULL);
	git(gd, "--work-tree", r.dir, "add", "-A", "-f", NULL);
	git(gd, "--work-tree", r.dir, "update-index", "--add", "--cacheinfo",
		"160000," SUB_M ",m", NULL);
	git(gd, "--work-tree", r.dir, "update-index", "--add", "--cacheinfo",
		"160000," SUB_LIB ",vendor/lib", NULL);
	assert_string_equal(git_out(&b, gd, "--work-tree", r.dir, "write-tree",
		NULL), tree);

	if (check(&r, repo_dir, &f, &err) != 0)
		fail_msg("fidelity: %s", err.msg);
	assert_string_equal(f.tree, head_tree);
	assert_string_equal(f.manifest_tree, head_tree);
	assert_string_equal(f.repo_tree, head_tree);
	assert_true(f.manifest_ok);
	assert_true(f.repo_checked);
	assert_true(f.repo_ok);
	assert_int_equal(f.files, r.m->files);
	assert_int_equal(f.bytes, r.m->bytes);
	assert_int_equal(f.links, r.m->links);
	assert_int_equal(f.files, 17);
	assert_int_equal(f.links, 3);
	assert_int_equal(f.submodules, 2);
	/* m is NULL: no submodules known, so their folders are empty folders */
	assert_int_equal(rip_tree_id_of_dir(tree, r.dir, NULL, &err), 0);
	assert_string_not_equal(tree, head_tree);
	rip_buf_release(&b);
	rel_release(&r);
}

/* (2) include/exclude: MANIFEST's tree is the selection's, not HEAD's. */
static void test_selection(void **state)
{
	struct rel r;
	struct rip_fidelity f;
	struct rip_err err = { 0 };
	char tree[RIP_OID_HEX];

	cut_extract(state, &r, "src, bin, link, m, a.b, vendor",
		"*.tmp, src/deep");
	assert_string_not_equal(r.m->tree, head_tree);
	assert_int_equal(rip_tree_id_of_dir(tree, r.dir, r.m, &err), 0);
	assert_string_equal(tree, r.m->tree);

	if (check(&r, repo_dir, &f, &err) != 0)
		fail_msg("fidelity: %s", err.msg);
	assert_true(f.manifest_ok);
	assert_true(f.repo_checked);
	assert_true(f.repo_ok);
	assert_string_equal(f.repo_tree, r.m->tree);
	assert_int_equal(f.files, 3);    /* src/main.c bin/run.sh a.b */
	assert_int_equal(f.links, 1);
	assert_int_equal(f.submodules, 2);

	/* the repository read with another selection (everything) differs */
	assert_int_equal(rip_fidelity_check(&f, r.dir, r.m, repo_dir, NULL,
		NULL, &err), RIP_EINTEGRITY);
	assert_true(f.manifest_ok);
	assert_true(f.repo_checked);
	assert_false(f.repo_ok);
	assert_string_equal(f.repo_tree, head_tree);
	assert_err_contains(&err, "as MANIFEST says, but commit");
	assert_err_contains(&err, head_tree);
	assert_err_contains(&err, "first difference: '.hidden' is missing "
		"from the payload");
	/* ... and without a repository, MANIFEST alone is satisfied */
	assert_int_equal(rip_fidelity_check(&f, r.dir, r.m, NULL, NULL, NULL,
		&err), 0);
	rel_release(&r);
}

/* (3) One byte changed, early in a file and past its first 64 KiB. */
static void test_changed_byte(void **state)
{
	struct rel r;

	cut_extract(state, &r, NULL, NULL);
	assert_passes(&r, NULL);
	bump_byte(&r, "src/main.c", 3, 1);
	assert_mismatch(&r, NULL, NULL);
	assert_mismatch(&r, repo_dir, "(first difference from commit ");
	assert_mismatch(&r, repo_dir, "'src/main.c' differs in content)");
	bump_byte(&r, "src/main.c", 3, -1);
	assert_passes(&r, repo_dir);

	bump_byte(&r, "big.bin", 150000, 1);
	assert_mismatch(&r, repo_dir, "'big.bin' differs in content");
	bump_byte(&r, "big.bin", 150000, -1);
	assert_passes(&r, repo_dir);

	/* the payload intact, MANIFEST's tree not: the commit tells which */
	free(r.m->tree);
	r.m->tree = rip_xstrdup(EMPTY_TREE);
	assert_mismatch(&r, NULL, NULL);
	assert_mismatch(&r, repo_dir, "; the payload is what commit ");
	assert_mismatch(&r, repo_dir, "so MANIFEST is what changed");
	rel_release(&r);
}

/* Rebuilds art as out with rel's content replaced and SHA256SUMS to match. */
static void repack(const char *art, const char *out, const char *rel,
	const char *data)
{
	struct rip_artifact_contents c;
	struct rip_artifact_writer *w = NULL;
	struct rip_sums sums;
	struct rip_buf newsums = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	unsigned char digest[RIP_SHA256_LEN];
	uint64_t size;
	struct rip_sum *s;
	int fd;

	if (rip_artifact_read_capture(&c, art, "", &err) < 0)
		fail_msg("read: %s", err.msg);
	assert_int_equal(rip_sums_parse(&sums, c.sums.buf, &err), 0);
	s = rip_sums_find(&sums, rel);
	assert_non_null(s);
	rip_sha256(s->digest, data, strlen(data));
	rip_sums_format(&newsums, &sums);
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(rip_artifact_writer_open(&w, fd, 1700000000, &err), 0);
	for (size_t i = 0, k = 0; i < c.n; i++) {
		const struct rip_artifact_entry *e = &c.v[i];
		const void *p;
		size_t len;
		char *dir;
		int rc = 0;

		switch (e->kind) {
		case RIP_ART_DIR:
			dir = rip_xasprintf("%s/", e->path);
			rc = rip_artifact_add_dir(w, dir, &err);
			free(dir);
			break;
		case RIP_ART_LINK:
			rc = rip_artifact_add_link(w, e->path, e->target, &err);
			break;
		case RIP_ART_FILE:
			/* the three lists are kept apart from captured files */
			if (!strcmp(e->path, "ripcord/SHA256SUMS")) {
				p = newsums.buf;
				len = newsums.len;
			} else if (!strcmp(e->path, "ripcord/MANIFEST")) {
				p = c.manifest.buf;
				len = c.manifest.len;
			} else if (!strcmp(e->path, "ripcord/LINKS")) {
				p = c.links.buf;
				len = c.links.len;
			} else {
				/* captured files come in archive order */
				assert_true(k < c.nfiles);
				assert_string_equal(c.files[k].path, e->path);
				p = c.files[k].data.buf;
				len = c.files[k].data.len;
				k++;
			}
			if (!strcmp(e->path, rel)) {
				p = data;
				len = strlen(data);
			}
			rc = rip_artifact_add_file(w, e->path, e->mode & 0100, p,
				len, &err);
			break;
		}
		if (rc < 0)
			fail_msg("repack '%s': %s", e->path, err.msg);
	}
	assert_int_equal(rip_artifact_writer_close(w, digest, &size, &err), 0);
	rip_artifact_writer_free(w);
	close(fd);
	rip_sums_release(&sums);
	rip_buf_release(&newsums);
	rip_artifact_contents_release(&c);
}

/*
 * (3) A payload altered with SHA256SUMS rewritten (the same length, so
 * MANIFEST's counts still hold): extract takes it, fidelity must not.
 */
static void test_rewritten_sums(void **state)
{
	struct rel r;
	struct rip_extract_result xr;
	struct rip_err err = { 0 };
	char forged[PATH_MAX + 16];
	struct tmpdir *t = *state;

	cut_extract(state, &r, NULL, NULL);
	snprintf(forged, sizeof(forged), "%s/forged.tar.zst", t->path);
	repack(r.art, forged, "payload/src/main.c",
		"int main(void) { return 7; }\n");
	snprintf(r.dir, sizeof(r.dir), "%s/y", t->path);
	if (rip_extract_payload(&xr, forged, r.dir, &err) < 0)
		fail_msg("the forged artifact should extract: %s", err.msg);
	assert_mismatch(&r, NULL, NULL);
	assert_mismatch(&r, repo_dir, "'src/main.c' differs in content");
	rel_release(&r);
}

/* (4) Added, removed, re-moded, retargeted, and harmless empty folders. */
static void test_added_and_modes(void **state)
{
	struct rel r;
	struct rip_err err = { 0 };
	char tree[RIP_OID_HEX], a0[PATH_MAX + 256], away[PATH_MAX + 256];

	cut_extract(state, &r, NULL, NULL);
	write_text(xpath(&r, "src/new.txt"), "new\n");
	assert_mismatch(&r, repo_dir, "'src/new.txt' is in the payload, not "
		"in the commit");
	assert_int_equal(unlink(xpath(&r, "src/new.txt")), 0);
	assert_passes(&r, repo_dir);

	snprintf(a0, sizeof(a0), "%s", xpath(&r, "a0"));
	snprintf(away, sizeof(away), "%s", xpath(&r, "../a0"));
	assert_int_equal(rename(a0, away), 0);
	assert_mismatch(&r, repo_dir, "'a0' is missing from the payload");
	assert_int_equal(rename(away, a0), 0);
	assert_passes(&r, repo_dir);

	assert_int_equal(chmod(xpath(&r, "src/main.c"), 0755), 0);
	assert_mismatch(&r, repo_dir, "'src/main.c' is an executable file in "
		"the payload, a file in the commit");
	/* git looks at the owner's bit only */
	assert_int_equal(chmod(xpath(&r, "src/main.c"), 0611), 0);
	assert_passes(&r, repo_dir);
	assert_int_equal(chmod(xpath(&r, "src/main.c"), 0644), 0);
	assert_int_equal(chmod(xpath(&r, "bin/run.sh"), 0644), 0);
	assert_mismatch(&r, repo_dir, "'bin/run.sh' is a file in the payload, "
		"an executable file in the commit");
	assert_int_equal(chmod(xpath(&r, "bin/run.sh"), 0755), 0);
	assert_passes(&r, repo_dir);

	assert_int_equal(unlink(xpath(&r, "link")), 0);
	assert_int_equal(symlink("a-b", xpath(&r, "link")), 0);
	assert_mismatch(&r, repo_dir, "'link' differs in target");
	assert_int_equal(unlink(xpath(&r, "link")), 0);
	write_text(xpath(&r, "link"), "a.b");
	assert_mismatch(&r, repo_dir, "'link' is a file in the payload, a "
		"symlink in the commit");
	assert_int_equal(unlink(xpath(&r, "link")), 0);
	assert_int_equal(symlink("a.b", xpath(&r, "link")), 0);
	assert_passes(&r, repo_dir);

	/* git has no empty folders: adding some changes nothing */
	assert_int_equal(mkdir(xpath(&r, "new-empty"), 0755), 0);
	assert_int_equal(mkdir(xpath(&r, "a/y/also"), 0755), 0);
	assert_int_equal(mkdir(xpath(&r, "a/y/also/deeper"), 0755), 0);
	assert_passes(&r, repo_dir);

	/* a submodule folder must stay empty, and be there */
	write_text(xpath(&r, "vendor/lib/extra"), "x\n");
	assert_int_equal(rip_tree_id_of_dir(tree, r.dir, r.m, &err),
		RIP_EINTEGRITY);
	assert_err_contains(&err, "vendor/lib' is a submodule in MANIFEST");
	assert_err_contains(&err, "'extra'");
	assert_int_equal(unlink(xpath(&r, "vendor/lib/extra")), 0);
	assert_passes(&r, repo_dir);
	assert_int_equal(rmdir(xpath(&r, "m")), 0);
	assert_mismatch(&r, repo_dir, "'m' is missing from the payload");
	assert_int_equal(mkdir(xpath(&r, "m"), 0755), 0);
	assert_passes(&r, repo_dir);
	rel_release(&r);
}

/* (5) Without the commit in reach, MANIFEST's check stands alone. */
static void test_repo_without_commit(void **state)
{
	struct rel r;
	struct rip_fidelity f;
	struct rip_err err = { 0 };
	char other[PATH_MAX + 16], plain[PATH_MAX + 16];
	struct tmpdir *t = *state;

	cut_extract(state, &r, NULL, NULL);
	snprintf(other, sizeof(other), "%s/other", t->path);
	assert_int_equal(mkdir(other, 0755), 0);
	git("-C", other, "init", "-q", NULL);
	put(other, "README.md", "another project\n", false);
	git("-C", other, "add", "-A", NULL);
	git("-C", other, "commit", "-q", "-m", "other", NULL);
	snprintf(plain, sizeof(plain), "%s/plain", t->path);
	assert_int_equal(mkdir(plain, 0755), 0);

	const char *repos[] = { other, plain, NULL };

	for (size_t i = 0; i < RIP_ARRAY_SIZE(repos); i++) {
		memset(&f, 0xff, sizeof(f));
		if (check(&r, repos[i], &f, &err) != 0)
			fail_msg("fidelity with '%s': %s", repos[i] ? repos[i] :
				"(none)", err.msg);
		assert_true(f.manifest_ok);
		assert_false(f.repo_checked);
		assert_false(f.repo_ok);
		assert_string_equal(f.repo_tree, "");
		assert_string_equal(f.tree, r.m->tree);
	}
	/* the repository that has it is checked */
	assert_int_equal(check(&r, repo_dir, &f, &err), 0);
	assert_true(f.repo_checked);
	/* and a change is still caught by MANIFEST alone */
	bump_byte(&r, "a/x", 0, 1);
	assert_mismatch(&r, other, NULL);
	assert_int_equal(check(&r, other, &f, &err), RIP_EINTEGRITY);
	assert_false(f.repo_checked);
	assert_true(strstr(err.msg, "first difference") == NULL);
	rel_release(&r);
}

/* (6) Nothing but files, links and folders; links are never followed. */
static void test_special_files(void **state)
{
	struct rel r;
	struct rip_fidelity f;
	struct rip_err err = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char tree[RIP_OID_HEX], lnk[PATH_MAX + 16];
	struct tmpdir *t = *state;
	const char *sp;
	int s;

	cut_extract(state, &r, NULL, NULL);
	assert_int_equal(mkfifo(xpath(&r, "src/deep/pipe"), 0644), 0);
	assert_int_equal(rip_tree_id_of_dir(tree, r.dir, r.m, &err),
		RIP_ESECURITY);
	assert_err_contains(&err, "src/deep/pipe' is a fifo");
	assert_string_equal(tree, "");
	memset(&f, 0xff, sizeof(f));
	assert_int_equal(check(&r, repo_dir, &f, &err), RIP_ESECURITY);
	assert_string_equal(f.tree, "");
	assert_false(f.manifest_ok);
	assert_int_equal(unlink(xpath(&r, "src/deep/pipe")), 0);
	assert_passes(&r, repo_dir);

	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	sp = xpath(&r, "a/sock");
	assert_true(strlen(sp) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, sp, strlen(sp) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(rip_tree_id_of_dir(tree, r.dir, r.m, &err),
		RIP_ESECURITY);
	assert_err_contains(&err, "a/sock' is a socket");
	close(s);
	assert_int_equal(unlink(xpath(&r, "a/sock")), 0);
	assert_passes(&r, repo_dir);

	/* the folder itself must not be a link either */
	snprintf(lnk, sizeof(lnk), "%s/xlink", t->path);
	assert_int_equal(symlink(r.dir, lnk), 0);
	assert_true(rip_tree_id_of_dir(tree, lnk, r.m, &err) < 0);
	assert_err_contains(&err, lnk);
	rel_release(&r);
}

/* Edges that need no artifact: empty trees, bad input. */
static void test_edges(void **state)
{
	struct rip_manifest m = { 0 };
	char id[] = "e1", bad_tree[] = EMPTY_TREE "0", good_tree[] = EMPTY_TREE;
	char head[] = "HEAD";
	struct rip_fidelity f;
	struct rip_err err = { 0 };
	struct rip_buf b = RIP_BUF_INIT;
	char tree[RIP_OID_HEX], dir[PATH_MAX], gd[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s", tpath(state, "p"));
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(rip_tree_id_of_dir(tree, dir, NULL, &err), 0);
	assert_string_equal(tree, EMPTY_TREE);
	assert_int_equal(mkdir(tpath(state, "p/e"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "p/e/f"), 0755), 0);
	assert_int_equal(rip_tree_id_of_dir(tree, dir, NULL, &err), 0);
	assert_string_equal(tree, EMPTY_TREE);

	assert_int_equal(rip_tree_id_of_dir(tree, tpath(state, "nope"), NULL,
		&err), RIP_ENOTFOUND);
	assert_err_contains(&err, "nope");

	/* a submodule path with a space: the id is after the last one */
	rip_strlist_push(&m.submodules, "my sub " SUB_M);
	assert_int_equal(mkdir(tpath(state, "p/my sub"), 0755), 0);
	assert_int_equal(rip_tree_id_of_dir(tree, dir, &m, &err), 0);
	snprintf(gd, sizeof(gd), "--git-dir=%s", tpath(state, "g.git"));
	git("init", "-q", "--bare", gd + strlen("--git-dir="), NULL);
	git(gd, "update-index", "--add", "--cacheinfo", "160000," SUB_M
		",my sub", NULL);
	assert_string_equal(git_out(&b, gd, "write-tree", NULL), tree);
	rip_strlist_release(&m.submodules);
	rip_strlist_push(&m.submodules, "my sub 12345");
	assert_int_equal(rip_tree_id_of_dir(tree, dir, &m, &err),
		RIP_EINTEGRITY);
	assert_err_contains(&err, "submodule 'my sub 12345'");
	rip_strlist_release(&m.submodules);
	assert_int_equal(rmdir(tpath(state, "p/my sub")), 0);

	/* MANIFEST's tree is compared whole, not as a prefix */
	m.id = id;
	m.tree = bad_tree;
	assert_int_equal(rip_fidelity_check(&f, dir, &m, NULL, NULL, NULL,
		&err), RIP_EINTEGRITY);
	assert_false(f.manifest_ok);
	assert_err_contains(&err, "release 'e1'");
	m.tree = good_tree;
	assert_int_equal(rip_fidelity_check(&f, dir, &m, NULL, NULL, NULL,
		&err), 0);
	assert_true(f.manifest_ok);
	assert_int_equal(f.files + f.links + f.submodules, 0);
	/* a repository given, but MANIFEST's commit no commit id */
	m.commit = head;
	assert_int_equal(rip_fidelity_check(&f, dir, &m, repo_dir, NULL, NULL,
		&err), RIP_EINTEGRITY);
	assert_err_contains(&err, "commit 'HEAD' is not a commit id");
	rip_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_matches_git, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_selection, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_changed_byte, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_rewritten_sums, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_added_and_modes, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_repo_without_commit,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_special_files, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_edges, tmpdir_setup,
			tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
