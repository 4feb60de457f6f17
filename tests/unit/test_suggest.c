/* SPDX-License-Identifier: MIT */
/*
 * test_suggest.c: "did you mean": edit distances and the closest
 * candidate within reach of a typo.
 */
#include "helpers.h"

#include "ripcord/suggest.h"

static void test_distance(void **state)
{
	(void)state;
	assert_int_equal(rip_edit_distance("", ""), 0);
	assert_int_equal(rip_edit_distance("store", "store"), 0);
	assert_int_equal(rip_edit_distance("stroe", "store"), 2);
	assert_int_equal(rip_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(rip_edit_distance("abc", ""), 3);
	assert_int_equal(rip_edit_distance("", "abc"), 3);
}

static void test_suggest(void **state)
{
	static const char *const keys[] = { "name", "store", "keep",
		"max_p99_ms", "max_error_rate" };

	(void)state;
	assert_string_equal(rip_suggest("stroe", keys, 5), "store");
	assert_string_equal(rip_suggest("max_p99", keys, 5), "max_p99_ms");
	assert_string_equal(rip_suggest("kep", keys, 5), "keep");
	/* too far from everything: no guess */
	assert_null(rip_suggest("webhook", keys, 5));
	assert_null(rip_suggest("x", keys, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_suggest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
