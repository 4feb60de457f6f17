/* SPDX-License-Identifier: MIT */
/*
 * helpers.h: what every unit test includes: cmocka in the order it needs,
 * and a temporary-folder fixture removed after each test.
 */
#ifndef RIPCORD_TEST_HELPERS_H
#define RIPCORD_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ftw.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "ripcord/buf.h"
#include "ripcord/err.h"

struct tmpdir {
	char path[256];
};

static inline int tmpdir_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	snprintf(t->path, sizeof(t->path), "/tmp/ripcord-test-XXXXXX");
	if (!mkdtemp(t->path))
		return -1;
	*state = t;
	return 0;
}

static inline int rm_cb(const char *p, const struct stat *sb, int flag,
	struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static inline int tmpdir_teardown(void **state)
{
	struct tmpdir *t = *state;

	nftw(t->path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

/* "<tmpdir>/<name>" in a static buffer: one at a time. */
static inline const char *tpath(void **state, const char *name)
{
	static char buf[512];
	struct tmpdir *t = *state;

	snprintf(buf, sizeof(buf), "%s/%s", t->path, name);
	return buf;
}

/* Writes text to path or fails the test. */
static inline void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Number of entries in dir, dot-files included, "." and ".." not. */
static inline int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Runs git -C dir a1 [a2 [a3]] (NULL ends the list) as user t, output
 * thrown away; fails the test unless it exits 0. */
static inline void git_quiet(const char *dir, const char *a1,
	const char *a2, const char *a3)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[] = { "git", "-C", dir, "-c", "user.name=t",
			"-c", "user.email=t@example.invalid", a1, a2, a3, NULL };
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp("git", (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("git %s %s failed", a1, a2 ? a2 : "");
}

/* Asserts err's message contains needle, printing it when not. */
#define assert_err_contains(err, needle) do { \
	if (!strstr((err)->msg, (needle))) \
		fail_msg("error '%s' lacks '%s'", (err)->msg, (needle)); \
} while (0)

/*
 * Runs the group name, leaving out its PostgreSQL tests when no server was
 * given (RIPCORD_TEST_PG, which scripts/test sets): those are the tests
 * from the first whose setup is pg_setup on, so they must come last. The
 * count left out is said on a "# SKIP N" line (cmocka's skip() would print
 * "not ok # SKIP", a failure to meson).
 */
static inline int run_group_pg_last(const char *name,
	const struct CMUnitTest *tests, size_t n, CMFixtureFunction pg_setup)
{
	const char *pg = getenv("RIPCORD_TEST_PG");
	size_t first_pg = 0;

	while (first_pg < n && tests[first_pg].setup_func != pg_setup)
		first_pg++;
	if (!pg || !*pg) {
		printf("# SKIP %zu postgres tests: RIPCORD_TEST_PG is not set "
			"(tests/pg.sh start DIR prints one)\n", n - first_pg);
		fflush(stdout);
		n = first_pg;
	}
	return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
}

#endif
