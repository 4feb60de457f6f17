/* SPDX-License-Identifier: MIT */
/*
 * test_strlist.c: lists of owned strings.
 */
#include "helpers.h"

#include "ripcord/strlist.h"

static void test_push_has_release(void **state)
{
	struct rip_strlist l = { 0 };
	char word[] = "alpha";

	(void)state;
	assert_false(rip_strlist_has(&l, "alpha"));
	rip_strlist_push(&l, word);
	word[0] = 'A'; /* the list holds its own copy */
	for (int i = 0; i < 100; i++)
		rip_strlist_push(&l, "more");
	assert_int_equal(l.n, 101);
	assert_string_equal(l.v[0], "alpha");
	assert_true(rip_strlist_has(&l, "alpha"));
	assert_false(rip_strlist_has(&l, "Alpha"));
	rip_strlist_release(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
	rip_strlist_release(&l); /* released twice: nothing to do */
}

static void test_split(void **state)
{
	struct rip_strlist l = { 0 };

	(void)state;
	rip_strlist_push(&l, "first");
	rip_strlist_split(&l, " src/** , *.md,, docs ");
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[1], "src/**");
	assert_string_equal(l.v[2], "*.md");
	assert_string_equal(l.v[3], "docs");
	rip_strlist_split(&l, " , ");
	assert_int_equal(l.n, 4);
	rip_strlist_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_has_release),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
