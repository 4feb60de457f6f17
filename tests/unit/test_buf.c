/* SPDX-License-Identifier: MIT */
/*
 * test_buf.c: growable strings and the helpers beside them: formatting,
 * shown copies into fixed fields, and the one array growth (rip_grow).
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

/* Growth doubles from RIP_GROW_FIRST and keeps what was there. */
static void test_grow(void **state)
{
	size_t alloc = 0, *v = NULL;

	(void)state;
	assert_int_equal(RIP_GROW(v, 0, alloc), 0);
	assert_null(v);
	for (size_t i = 0; i < 1000; i++) {
		assert_int_equal(RIP_GROW(v, i + 1, alloc), 0);
		assert_true(alloc >= i + 1);
		/* an array grown one at a time: its alloc is predictable */
		assert_int_equal(alloc, rip_grow_alloc(i + 1));
		v[i] = i;
	}
	assert_int_equal(alloc, 1024);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(v[i], i);
	/* a jump goes straight past need */
	assert_int_equal(RIP_GROW(v, 5000, alloc), 0);
	assert_int_equal(alloc, 8192);
	assert_int_equal(v[999], 999);
	free(v);
	assert_int_equal(rip_grow_alloc(0), 0);
	assert_int_equal(rip_grow_alloc(1), RIP_GROW_FIRST);
	assert_int_equal(rip_grow_alloc(9), 16);
}

/* A size that overflows size_t is RIP_ENOMEM, and nothing changes. */
static void test_grow_overflow(void **state)
{
	size_t alloc = 0;
	double *v = NULL;

	(void)state;
	assert_int_equal(RIP_GROW(v, SIZE_MAX / sizeof(*v) + 1, alloc),
		RIP_ENOMEM);
	assert_null(v);
	assert_int_equal(alloc, 0);
	assert_int_equal(RIP_GROW(v, 4, alloc), 0);
	assert_int_equal(alloc, 8);
	v[3] = 1.5;
	/* doubling past SIZE_MAX / 2 asks for need itself: still refused */
	assert_int_equal(RIP_GROW(v, SIZE_MAX / 2 + 2, alloc), RIP_ENOMEM);
	assert_int_equal(alloc, 8);
	assert_true(v[3] == 1.5);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vaddf),
		cmocka_unit_test(test_copy_shown),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_grow_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
