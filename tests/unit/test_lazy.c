/* SPDX-License-Identifier: MIT */
/*
 * test_lazy.c: loading a library on first use (lazy.h): the functions
 * found and callable, a library or a function that is not there refused
 * with its name, the same answer on every later call, and the command
 * line's binary linked without the libraries it loads lazily.
 */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lazy.h"

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

/* The point of it: ripcord itself does not link libpq or libcurl. */
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
		if (strstr(line, "libpq") || strstr(line, "libcurl"))
			fail_msg("ripcord links %s", line);
	}
	assert_int_equal(pclose(p), 0);
	assert_true(n > 3); /* readelf did read it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_and_calls),
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_function),
		cmocka_unit_test(test_binary_links_neither),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
