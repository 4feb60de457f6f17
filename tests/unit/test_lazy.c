/* SPDX-License-Identifier: MIT */
/*
 * test_lazy.c: loading a library on first use (lazy.h): the functions
 * found and callable, a library or a function that is not there refused
 * with its name, the same answer on every later call, and the command
 * line's binary linked without the libraries it loads lazily: not in its
 * ELF header, and not mapped by `ripcord --version` nor by a live
 * `ripcord agent` that has answered its hello (what every remote host
 * runs per command).
 */
#include "helpers.h"

#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>

#include "lazy.h"
#include "rip_version.h"

extern char **environ;

/* What no process that never reads a repository may map. */
static const char *const lazy_libs[] = { "libgit2", "libarchive", "libpq",
	"libcurl" };

/* libm: always there, and what its functions return is known */
#define M_FUNCS(X) X(cos) X(sqrt)

static void test_loads_and_calls(void **state)
{
	static struct {
		M_FUNCS(RIP_LAZY_SLOT)
	} m;
	static const char *const names[] = { M_FUNCS(RIP_LAZY_NAME) };
	static struct rip_lazy libm = RIP_LAZY_INIT("libm.so.6", "libm",
		names, &m);
	struct rip_err err = { 0 };

	(void)state;
	assert_null(m.sqrt);
	assert_int_equal(rip_lazy_load(&libm, &err), 0);
	assert_non_null(m.sqrt);
	assert_true(m.sqrt(16.0) == 4.0);
	assert_true(m.cos(0.0) == 1.0);
	/* once: a second call changes nothing */
	assert_int_equal(rip_lazy_load(&libm, &err), 0);
	assert_true(m.sqrt(9.0) == 3.0);
}

static void test_missing_library(void **state)
{
	static struct {
		M_FUNCS(RIP_LAZY_SLOT)
	} m;
	static const char *const names[] = { M_FUNCS(RIP_LAZY_NAME) };
	static struct rip_lazy nope = RIP_LAZY_INIT("libripcord-nope.so.9",
		"the nope library", names, &m);
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_lazy_load(&nope, &err), RIP_EIO);
	assert_err_contains(&err, "cannot load the nope library "
		"(libripcord-nope.so.9): ");
	assert_err_contains(&err, "is it installed?");
	assert_null(m.sqrt);
	/* the same answer later, without trying again */
	memset(&err, 0, sizeof(err));
	assert_int_equal(rip_lazy_load(&nope, &err), RIP_EIO);
	assert_err_contains(&err, "libripcord-nope.so.9");
}

static void test_missing_function(void **state)
{
	static struct {
		void (*a)(void);
		void (*b)(void);
	} f;
	static const char *const names[] = { "cos", "ripcord_no_such_fn" };
	static struct rip_lazy libm = RIP_LAZY_INIT("libm.so.6", "libm",
		names, &f);
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_lazy_load(&libm, &err), RIP_EIO);
	assert_err_contains(&err, "libm.so.6 has no ripcord_no_such_fn");
}

/* The point of it: ripcord itself does not link libpq, libcurl, libgit2
 * or libarchive. */
static void test_binary_links_neither(void **state)
{
	const char *exe = getenv("RIPCORD");
	char cmd[1200], line[512];
	size_t n = 0;
	FILE *p;

	(void)state;
	if (!exe)
		fail_msg("RIPCORD is not set (meson sets it)");
	snprintf(cmd, sizeof(cmd), "readelf -d '%s'", exe);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (!strstr(line, "(NEEDED)"))
			continue;
		n++;
		for (size_t i = 0; i < RIP_ARRAY_SIZE(lazy_libs); i++)
			if (strstr(line, lazy_libs[i]))
				fail_msg("ripcord links %s", line);
	}
	assert_int_equal(pclose(p), 0);
	assert_true(n > 3); /* readelf did read it */
}

/* Fails naming the lazy library that text (what a process mapped or
 * opened, per what) names; text must name libc, or it saw nothing. */
static void assert_maps_none(const char *text, const char *what)
{
	if (!strstr(text, "libc.so"))
		fail_msg("%s: libc not seen, so the check saw nothing:\n%s",
			what, text);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(lazy_libs); i++) {
		const char *hit = strstr(text, lazy_libs[i]), *eol;

		if (!hit)
			continue;
		while (hit > text && hit[-1] != '\n')
			hit--;
		eol = strchr(hit, '\n');
		fail_msg("%s maps %s: %.*s", what, lazy_libs[i],
			(int)(eol ? eol - hit : (ptrdiff_t)strlen(hit)), hit);
	}
}

/* Appends what fd gives until its end to out. */
static void read_all(struct rip_buf *out, int fd)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		rip_buf_add(out, chunk, (size_t)n);
	assert_true(n == 0);
}

/* `ripcord --version`: the loader names every object it maps, lazily or
 * not, under LD_DEBUG=files. */
static void test_version_maps_none(void **state)
{
	const char *exe = getenv("RIPCORD");
	struct rip_buf out = RIP_BUF_INIT;
	char cmd[1200];
	FILE *p;

	(void)state;
	if (!exe)
		fail_msg("RIPCORD is not set (meson sets it)");
	snprintf(cmd, sizeof(cmd), "LD_DEBUG=files '%s' --version 2>&1", exe);
	p = popen(cmd, "r");
	assert_non_null(p);
	read_all(&out, fileno(p));
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out.buf, "ripcord " RIP_VERSION));
	assert_maps_none(out.buf, "ripcord --version");
	rip_buf_release(&out);
}

/* A live `ripcord agent` that has answered hello and waits for the next
 * request: its /proc/PID/maps. */
static void test_agent_maps_none(void **state)
{
	const char *exe = getenv("RIPCORD");
	static const char hello[] = "{\"op\":\"hello\",\"id\":0,"
		"\"protocol\":1,\"version\":\"" RIP_VERSION "\"}\n";
	char *argv[] = { (char *)"ripcord", (char *)"agent", NULL };
	posix_spawn_file_actions_t fa;
	struct rip_buf maps = RIP_BUF_INIT;
	int in[2], out[2], fd, status;
	char line[4096], path[64];
	FILE *answers;
	pid_t pid;

	if (!exe)
		fail_msg("RIPCORD is not set (meson sets it)");
	/* no agent.ini of this machine's: no restriction */
	assert_int_equal(setenv("RIPCORD_AGENT_INI",
		tpath(state, "agent.ini"), 1), 0);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	assert_int_equal(posix_spawn(&pid, exe, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	answers = fdopen(out[0], "r");
	assert_non_null(answers);
	assert_int_equal(write(in[1], hello, sizeof(hello) - 1),
		(ssize_t)(sizeof(hello) - 1));
	assert_non_null(fgets(line, sizeof(line), answers));
	assert_non_null(strstr(line, "\"ok\":true,\"protocol\":1"));
	/* it has answered and now waits on stdin: what it maps is final */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	read_all(&maps, fd);
	close(fd);
	close(in[1]); /* the end of input: the agent exits 0 */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fclose(answers);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_maps_none(maps.buf, "ripcord agent after hello");
	rip_buf_release(&maps);
	unsetenv("RIPCORD_AGENT_INI");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_and_calls),
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_function),
		cmocka_unit_test(test_binary_links_neither),
		cmocka_unit_test(test_version_maps_none),
		cmocka_unit_test_setup_teardown(test_agent_maps_none,
			tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
