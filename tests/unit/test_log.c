/* SPDX-License-Identifier: MIT */
/*
 * test_log.c: what reaches stderr. A hook's output, logged as the tail of
 * one message, gives one log line per line of output: no blank line after
 * its final newline, no CR of a CRLF, and a last line without a newline
 * still ends the message's line.
 */
#include "helpers.h"

#include <fcntl.h>
#include <unistd.h>

#include "ripcord/fsutil.h"
#include "ripcord/log.h"

/* What rip_log(level, "%s: activate: %s", "web-1", text) writes, or,
 * lines set, rip_log_lines(level, "web-1: activate: ", text). */
static char *logged_as(void **state, enum rip_log_level level,
	const char *text, bool lines)
{
	struct rip_buf out = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	const char *path = tpath(state, "stderr");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int saved = dup(STDERR_FILENO);

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	if (lines)
		rip_log_lines(level, "web-1: activate: ", text, strlen(text));
	else
		rip_log(level, "%s: activate: %s", "web-1", text);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	if (rip_read_file(&out, tpath(state, "stderr"), 1 << 16, &err) < 0)
		fail_msg("%s", err.msg);
	return rip_buf_detach(&out, NULL);
}

static char *logged(void **state, enum rip_log_level level, const char *text)
{
	return logged_as(state, level, text, false);
}

static void test_one_line_per_line(void **state)
{
	char *s;

	s = logged(state, RIP_LOG_INFO, "one\ntwo\r\nthree");
	assert_string_equal(s, "ripcord: web-1: activate: one\ntwo\nthree\n");
	free(s);
	s = logged(state, RIP_LOG_WARN, "started\n");
	assert_string_equal(s, "ripcord: warning: web-1: activate: started\n");
	free(s);
	s = logged(state, RIP_LOG_INFO, "a\r\nb\r\n\r\n");
	assert_string_equal(s, "ripcord: web-1: activate: a\nb\n");
	free(s);
	/* blank lines inside the output are the hook's own, and stay */
	s = logged(state, RIP_LOG_INFO, "a\n\nb\n");
	assert_string_equal(s, "ripcord: web-1: activate: a\n\nb\n");
	free(s);
	/* a CR that does not end a line is the hook's too */
	s = logged(state, RIP_LOG_INFO, "50%\r100%\n");
	assert_string_equal(s, "ripcord: web-1: activate: 50%\r100%\n");
	free(s);
}

/* A process's output through rip_log_lines: every line its own log
 * line, each after the head, so a reader of the log (or grep) knows
 * whose output every line is. */
static void test_lines_each_headed(void **state)
{
	static const char *const cases[][2] = {
		{ "one\ntwo\r\nthree", "ripcord: web-1: activate: one\n"
		  "ripcord: web-1: activate: two\nripcord: web-1: activate: three\n" },
		{ "a\r\nb\r\n\r\n", "ripcord: web-1: activate: a\n"
		  "ripcord: web-1: activate: b\n" },
		{ "a\n\nb\n", "ripcord: web-1: activate: a\n"
		  "ripcord: web-1: activate: \nripcord: web-1: activate: b\n" },
		{ "50%\r100%\n", "ripcord: web-1: activate: 50%\r100%\n" },
		{ "\n", "" },
		{ "", "" },
	};
	char *s;

	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		s = logged_as(state, RIP_LOG_INFO, cases[i][0], true);
		assert_string_equal(s, cases[i][1]);
		free(s);
	}
	s = logged_as(state, RIP_LOG_WARN, "x\ny", true);
	assert_string_equal(s, "ripcord: warning: web-1: activate: x\n"
		"ripcord: warning: web-1: activate: y\n");
	free(s);
	rip_log_set_level(RIP_LOG_WARN);
	s = logged_as(state, RIP_LOG_INFO, "hidden\n", true);
	rip_log_set_level(RIP_LOG_INFO);
	assert_string_equal(s, "");
	free(s);
}

static void test_below_threshold_is_silent(void **state)
{
	char *s;

	rip_log_set_level(RIP_LOG_WARN);
	s = logged(state, RIP_LOG_INFO, "hidden\n");
	rip_log_set_level(RIP_LOG_INFO);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_line_per_line,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_lines_each_headed,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_below_threshold_is_silent,
			tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
