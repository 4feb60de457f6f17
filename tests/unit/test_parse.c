/* SPDX-License-Identifier: MIT */
/*
 * test_parse.c: the value parsers of ripcord.ini and the command line:
 * each takes the whole string in its syntax or nothing.
 */
#include "helpers.h"

#include <math.h>

#include "ripcord/parse.h"

static void test_bool(void **state)
{
	bool b = false;

	(void)state;
	assert_int_equal(rip_parse_bool(&b, "TRUE"), 0);
	assert_true(b);
	assert_int_equal(rip_parse_bool(&b, "0"), 0);
	assert_false(b);
	b = true;
	assert_int_equal(rip_parse_bool(&b, ""), -1);
	assert_int_equal(rip_parse_bool(&b, "yes "), -1);
	assert_true(b); /* untouched */
}

static void test_uint(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(rip_parse_uint(&v, "18446744073709551615"), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(rip_parse_uint(&v, "18446744073709551616"), -1);
	assert_int_equal(rip_parse_uint(&v, "-1"), -1);
	assert_int_equal(rip_parse_uint(&v, "+1"), -1);
	assert_int_equal(rip_parse_uint(&v, " 1"), -1);
	assert_int_equal(rip_parse_uint(&v, "1x"), -1);
	assert_int_equal(rip_parse_uint(&v, ""), -1);
	assert_true(v == 7);
}

static void test_duration(void **state)
{
	uint64_t ms = 0;

	(void)state;
	assert_int_equal(rip_parse_duration(&ms, "1d2h3m4s5ms"), 0);
	assert_true(ms == 86400000 + 7200000 + 180000 + 4000 + 5);
	assert_int_equal(rip_parse_duration(&ms, "0s"), 0);
	assert_true(ms == 0);
	assert_int_equal(rip_parse_duration(&ms, "5 m"), -1);
	assert_int_equal(rip_parse_duration(&ms, "5min"), -1);
	assert_int_equal(rip_parse_duration(&ms, "5msx"), -1);
	assert_int_equal(rip_parse_duration(&ms, "-5s"), -1);
	/* overflow in the product and in the sum */
	assert_int_equal(rip_parse_duration(&ms, "5124095576030432d"), -1);
	assert_int_equal(rip_parse_duration(&ms,
		"18446744073709551615ms1ms"), -1);
}

static void test_percent(void **state)
{
	double v = 0;

	(void)state;
	assert_int_equal(rip_parse_percent(&v, "0.5%"), 0);
	assert_true(fabs(v - 0.005) < 1e-12);
	assert_int_equal(rip_parse_percent(&v, "0%"), 0);
	assert_true(v == 0);
	assert_int_equal(rip_parse_percent(&v, "100.1%"), -1);
	assert_int_equal(rip_parse_percent(&v, "nan%"), -1);
	assert_int_equal(rip_parse_percent(&v, "5 %"), -1);
	assert_int_equal(rip_parse_percent(&v, ".5%"), -1);
	/* only decimal N or N.N: strtod's other spellings are refused */
	assert_int_equal(rip_parse_percent(&v, "0x10%"), -1);
	assert_int_equal(rip_parse_percent(&v, "0x1p-2%"), -1);
	assert_int_equal(rip_parse_percent(&v, "1e1%"), -1);
	assert_int_equal(rip_parse_percent(&v, "1.5e1%"), -1);
	assert_int_equal(rip_parse_percent(&v, "5.%"), -1);
	assert_int_equal(rip_parse_percent(&v, "5.5.5%"), -1);
	assert_int_equal(rip_parse_percent(&v, "12.25%"), 0);
	assert_true(v > 0.12249 && v < 0.12251);
}

static void test_steps(void **state)
{
	struct rip_steps st = { 0 };

	(void)state;
	assert_int_equal(rip_parse_steps(&st, " 10% ,50%,, 100% "), 0);
	assert_int_equal(st.n, 3);
	assert_true(fabs(st.v[0] - 0.1) < 1e-12 && st.v[2] == 1.0);
	free(st.v);
	assert_int_equal(rip_parse_steps(&st, "50%, 25%, 100%"), -1);
	assert_null(st.v);
	assert_int_equal(st.n, 0);
	assert_int_equal(rip_parse_steps(&st, "50%, 90%"), -1);
	assert_int_equal(rip_parse_steps(&st, "0%, 100%"), -1);
	assert_int_equal(rip_parse_steps(&st, ""), -1);
	assert_null(st.v);
}

static int collect(void *data, const char *item)
{
	struct rip_buf *b = data;

	if (!strcmp(item, "stop"))
		return -5;
	rip_buf_addf(b, "[%s]", item);
	return 0;
}

static void test_list(void **state)
{
	struct rip_buf b = RIP_BUF_INIT;

	(void)state;
	assert_int_equal(rip_parse_list(" a, b b ,,\tc\t,", collect, &b), 0);
	assert_string_equal(b.buf, "[a][b b][c]");
	rip_buf_reset(&b);
	assert_int_equal(rip_parse_list("x, stop, y", collect, &b), -5);
	assert_string_equal(b.buf, "[x]");
	rip_buf_reset(&b);
	assert_int_equal(rip_parse_list("", collect, &b), 0);
	assert_int_equal(b.len, 0);
	rip_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
