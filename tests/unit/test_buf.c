/* SPDX-License-Identifier: MIT */
/*
 * test_buf.c: growable strings and the helpers beside them.
 */
#include "helpers.h"

static void addf_v(struct rip_buf *b, const char *fmt, ...) RIP_PRINTF(2, 3);

static void addf_v(struct rip_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rip_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

/* Formatting grows the buffer as far as the text needs: nothing is cut. */
static void test_vaddf(void **state)
{
	struct rip_buf b = RIP_BUF_INIT, big = RIP_BUF_INIT;

	(void)state;
	addf_v(&b, "%s-%d", "x", 42);
	assert_string_equal(b.buf, "x-42");
	for (int i = 0; i < 5000; i++)
		rip_buf_addch(&big, 'a' + i % 26);
	addf_v(&b, "[%s]", big.buf);
	assert_int_equal(b.len, 4 + 5002);
	assert_int_equal(b.buf[b.len - 1], ']');
	assert_int_equal(memcmp(b.buf + 5, big.buf, big.len), 0);
	rip_buf_release(&b);
	rip_buf_release(&big);
}

static void test_copy_shown(void **state)
{
	char small[8], one[1] = { 'x' }, tiny[3];

	(void)state;
	rip_copy_shown(small, sizeof(small), "fits");
	assert_string_equal(small, "fits");
	rip_copy_shown(small, sizeof(small), "1234567");
	assert_string_equal(small, "1234567");
	/* one byte too long: ends in "…", which says so */
	rip_copy_shown(small, sizeof(small), "12345678");
	assert_string_equal(small, "1234\xe2\x80\xa6");
	/* a UTF-8 sequence is dropped whole, not cut in two */
	rip_copy_shown(small, sizeof(small), "123\xc3\xa9xyz");
	assert_string_equal(small, "123\xe2\x80\xa6");
	rip_copy_shown(one, sizeof(one), "abc");
	assert_string_equal(one, "");
	rip_copy_shown(tiny, sizeof(tiny), "abc");
	assert_string_equal(tiny, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vaddf),
		cmocka_unit_test(test_copy_shown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
