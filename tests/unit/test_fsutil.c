/* SPDX-License-Identifier: MIT */
/*
 * test_fsutil.c: the atomic write path (nothing half-written under a real
 * name, ever), rip_remove_tree (never through a link, not even one swapped
 * in while it runs) and the small path helpers.
 */
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ripcord/fsutil.h"

static void test_atomic_commit(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };
	struct rip_buf back = RIP_BUF_INIT;
	struct rip_atomic a;
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s", tpath(state, "f"));
	assert_int_equal(rip_atomic_open(&a, path, 0640, &err), 0);
	assert_int_equal(rip_atomic_write(&a, "part", 4, &err), 0);
	/* while being written, the real name does not exist */
	assert_false(rip_path_exists(path));
	assert_int_equal(count_entries(t->path), 1);
	assert_int_equal(rip_atomic_write(&a, "-two", 4, &err), 0);
	assert_int_equal(rip_atomic_commit(&a, false, &err), 0);
	assert_int_equal(rip_read_file(&back, path, 100, &err), 0);
	assert_string_equal(back.buf, "part-two");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(count_entries(t->path), 1);

	/* replacing keeps the old content until the rename */
	assert_int_equal(rip_write_file_atomic(path, "new", 3, 0644, &err), 0);
	rip_buf_reset(&back);
	assert_int_equal(rip_read_file(&back, path, 100, &err), 0);
	assert_string_equal(back.buf, "new");
	rip_buf_release(&back);
}

static void test_atomic_abort(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };
	struct rip_atomic a;
	char path[600];

	snprintf(path, sizeof(path), "%s", tpath(state, "g"));
	assert_int_equal(rip_atomic_open(&a, path, 0644, &err), 0);
	assert_int_equal(rip_atomic_write(&a, "x", 1, &err), 0);
	rip_atomic_abort(&a);
	assert_false(rip_path_exists(path));
	assert_int_equal(count_entries(t->path), 0);
}

static void test_atomic_no_replace(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };
	struct rip_buf back = RIP_BUF_INIT;
	struct rip_atomic a;
	char path[600];

	snprintf(path, sizeof(path), "%s", tpath(state, "h"));
	write_text(path, "old");
	assert_int_equal(rip_atomic_open(&a, path, 0644, &err), 0);
	assert_int_equal(rip_atomic_write(&a, "new", 3, &err), 0);
	assert_int_equal(rip_atomic_commit(&a, true, &err), RIP_EEXISTS);
	assert_err_contains(&err, "already exists");
	assert_int_equal(rip_read_file(&back, path, 100, &err), 0);
	assert_string_equal(back.buf, "old");
	assert_int_equal(count_entries(t->path), 1);
	rip_buf_release(&back);
}

static void test_atomic_no_folder(void **state)
{
	struct rip_err err = { 0 };
	struct rip_atomic a;

	assert_int_equal(rip_atomic_open(&a, tpath(state, "no/such/f"), 0644,
		&err), RIP_EIO);
	assert_err_contains(&err, "no/such/f");
}

static void test_read_limits(void **state)
{
	struct rip_err err = { 0 };
	struct rip_buf b = RIP_BUF_INIT;

	write_text(tpath(state, "big"), "0123456789");
	assert_int_equal(rip_read_file(&b, tpath(state, "big"), 5, &err),
		RIP_EINTEGRITY);
	assert_err_contains(&err, "larger than 5 bytes");
	rip_buf_release(&b);
	assert_int_equal(rip_read_file(&b, tpath(state, "none"), 5, &err),
		RIP_ENOTFOUND);
	rip_buf_release(&b);
}

static void test_mkdir_p(void **state)
{
	struct rip_err err = { 0 };

	assert_int_equal(rip_mkdir_p(tpath(state, "a/b/c"), 0755, &err), 0);
	assert_true(rip_is_dir(tpath(state, "a/b/c")));
	assert_int_equal(rip_mkdir_p(tpath(state, "a/b/c"), 0755, &err), 0);
	write_text(tpath(state, "file"), "x");
	assert_int_equal(rip_mkdir_p(tpath(state, "file"), 0755, &err), RIP_EIO);
	assert_int_equal(rip_mkdir_p("", 0755, &err), RIP_EUSAGE);
}

/* A tree holding links to a folder outside it, and a link as the tree
 * itself: rip_remove_tree removes the links, never what they point at. */
static void test_remove_tree_links(void **state)
{
	struct tmpdir *t = *state;
	char out[600], tree[600], top[600], path[700];
	struct rip_err err = { 0 };

	snprintf(out, sizeof(out), "%s/outside", t->path);
	snprintf(tree, sizeof(tree), "%s/tree", t->path);
	snprintf(top, sizeof(top), "%s/top", t->path);
	assert_int_equal(rip_mkdir_p(out, 0755, &err), 0);
	snprintf(path, sizeof(path), "%s/data", out);
	write_text(path, "precious");
	snprintf(path, sizeof(path), "%s/a/b", tree);
	assert_int_equal(rip_mkdir_p(path, 0755, &err), 0);
	snprintf(path, sizeof(path), "%s/a/b/dirlink", tree);
	assert_int_equal(symlink(out, path), 0);
	snprintf(path, sizeof(path), "%s/a/filelink", tree);
	assert_int_equal(symlink(out, path), 0);
	assert_int_equal(symlink(out, top), 0);

	/* the top is a link: the link goes, the folder stays whole */
	assert_int_equal(rip_remove_tree(top), 0);
	assert_false(rip_path_exists(top));
	assert_int_equal(count_entries(out), 1);
	/* links inside: removed as links */
	assert_int_equal(rip_remove_tree(tree), 0);
	assert_false(rip_path_exists(tree));
	snprintf(path, sizeof(path), "%s/data", out);
	assert_true(rip_path_exists(path));
	assert_int_equal(count_entries(out), 1);
	/* nothing there: nothing to do */
	assert_int_equal(rip_remove_tree(tree), 0);
}

/*
 * A tree 400 folders deep, with files, a second branch and links to a
 * folder outside at the bottom, removed under a soft open-file limit of
 * 64: a removal that holds a folder open per level ran out at ~60 levels
 * (EMFILE, the tree left), as the review found for ~1000 levels at the
 * usual 1024; nothing outside goes.
 */
static void test_remove_tree_deep(void **state)
{
	struct tmpdir *t = *state;
	char out[600], path[700];
	struct rip_err err = { 0 };
	struct rlimit old, low;
	int root, fd;

	snprintf(out, sizeof(out), "%s/outside", t->path);
	assert_int_equal(rip_mkdir_p(out, 0755, &err), 0);
	snprintf(path, sizeof(path), "%s/data", out);
	write_text(path, "precious");
	root = open(t->path, O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);
	assert_int_equal(mkdirat(root, "deep", 0755), 0);
	fd = openat(root, "deep", O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 400; i++) {
		int next, f;

		assert_true(fd >= 0);
		f = openat(fd, "f", O_WRONLY | O_CREAT, 0644);
		assert_true(f >= 0);
		close(f);
		if (i % 50 == 7) {
			assert_int_equal(mkdirat(fd, "side", 0755), 0);
			assert_int_equal(symlinkat(out, fd, "side-link"), 0);
		}
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
	}
	assert_int_equal(symlinkat(out, fd, "bottom-link"), 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	fd = rip_remove_tree_at(root, "deep");
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(fd, 0);
	assert_int_equal(faccessat(root, "deep", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(count_entries(out), 1);
	close(root);
}

/* Armed by test_remove_tree_refilled: the Nth removal of a folder named
 * "d" first puts a file in it, as an application writing into a folder
 * between its emptying and its removal would. The library's calls come
 * here: this definition is the executable's. */
static int refill_at;

int unlinkat(int dirfd, const char *name, int flags)
{
	static int (*real)(int, const char *, int);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "unlinkat");
	if (refill_at && (flags & AT_REMOVEDIR) && !strcmp(name, "d") &&
	    --refill_at == 0) {
		int d = openat(dirfd, name, O_RDONLY | O_DIRECTORY);
		int f = d < 0 ? -1 : openat(d, "late", O_WRONLY | O_CREAT, 0644);

		if (f >= 0)
			close(f);
		if (d >= 0)
			close(d);
	}
	return real(dirfd, name, flags);
}

/* Deeper than the walk holds folders open for, a folder filled again
 * just before its removal is swept again and removed: the review found
 * the retry always failed (EAGAIN), the tree left. */
static void test_remove_tree_refilled(void **state)
{
	struct tmpdir *t = *state;
	int root = open(t->path, O_RDONLY | O_DIRECTORY), fd;

	assert_true(root >= 0);
	for (int at = 1; at <= 5; at += 2) {
		assert_int_equal(mkdirat(root, "deep", 0755), 0);
		fd = openat(root, "deep", O_RDONLY | O_DIRECTORY);
		for (int i = 0; i < 40; i++) {
			int next;

			assert_true(fd >= 0);
			assert_int_equal(mkdirat(fd, "d", 0755), 0);
			next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
			close(fd);
			fd = next;
		}
		close(fd);
		refill_at = at;
		if (rip_remove_tree_at(root, "deep") < 0)
			fail_msg("refilled at the removal %d: %s", at,
				strerror(errno));
		refill_at = 0;
		assert_int_equal(faccessat(root, "deep", F_OK,
			AT_SYMLINK_NOFOLLOW), -1);
	}
	close(root);
}

#define RACE_FILES 3000

/*
 * The attacker of a removal (the application writing inside its own
 * release): it waits with inotify for the first file of tree/a to go, then
 * swaps tree/a, in one atomic step (RENAME_EXCHANGE), with a link to a
 * folder outside that holds files of the same names. A removal that
 * walks by path goes on through the link; one that holds the folder open
 * never leaves it. Exits 0 when it swapped.
 */
static void race_swap(const char *a, const char *link, int ready)
{
	char buf[4096];
	int in = inotify_init1(IN_CLOEXEC);

	if (in < 0 || inotify_add_watch(in, a, IN_DELETE) < 0)
		_exit(2);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	if (read(in, buf, sizeof(buf)) <= 0)
		_exit(2);
	_exit(renameat2(AT_FDCWD, link, AT_FDCWD, a, RENAME_EXCHANGE) == 0 ?
		0 : 3);
}

/* A folder swapped for a link to outside while it is being removed:
 * nothing outside goes (the removal may fail, or remove the link). */
static void test_remove_tree_race(void **state)
{
	struct tmpdir *t = *state;
	char out[600], a[600], link[600], path[700], c;
	struct rip_err err = { 0 };
	int ready[2], status;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/outside", t->path);
	snprintf(a, sizeof(a), "%s/tree/a", t->path);
	snprintf(link, sizeof(link), "%s/link", t->path);
	assert_int_equal(rip_mkdir_p(out, 0755, &err), 0);
	assert_int_equal(rip_mkdir_p(a, 0755, &err), 0);
	for (int i = 0; i < RACE_FILES; i++) {
		snprintf(path, sizeof(path), "%s/f%04d", out, i);
		write_text(path, "precious");
		snprintf(path, sizeof(path), "%s/f%04d", a, i);
		write_text(path, "ours");
	}
	assert_int_equal(symlink(out, link), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		race_swap(a, link, ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	snprintf(path, sizeof(path), "%s/tree", t->path);
	(void)rip_remove_tree(path);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(ready[0]);
	close(ready[1]);
	/* the attack happened: the link stood where tree/a was */
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(count_entries(out), RACE_FILES);
}

static void test_paths(void **state)
{
	char *s;

	(void)state;
	s = rip_path_join("/a/", "b");
	assert_string_equal(s, "/a/b");
	free(s);
	s = rip_path_join("/a", "/abs");
	assert_string_equal(s, "/abs");
	free(s);
	s = rip_path_dirname("a/b/c");
	assert_string_equal(s, "a/b");
	free(s);
	s = rip_path_dirname("c");
	assert_string_equal(s, ".");
	free(s);
	s = rip_path_dirname("/c");
	assert_string_equal(s, "/");
	free(s);
}

static void test_buf(void **state)
{
	struct rip_buf b = RIP_BUF_INIT;
	char *s;
	size_t len;

	(void)state;
	assert_string_equal(b.buf, "");
	for (int i = 0; i < 1000; i++)
		rip_buf_addf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.buf));
	assert_non_null(strstr(b.buf, "999,"));
	rip_buf_adds(&b, "  \n");
	rip_buf_rtrim(&b);
	assert_int_equal(b.buf[b.len - 1], ',');
	s = rip_buf_detach(&b, &len);
	assert_int_equal(len, strlen(s));
	assert_string_equal(b.buf, "");
	free(s);
	s = rip_buf_detach(&b, NULL);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_atomic_commit, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_atomic_abort, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_atomic_no_replace,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_atomic_no_folder,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_read_limits, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree_links,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree_deep,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree_refilled,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree_race,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
