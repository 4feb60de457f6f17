/* SPDX-License-Identifier: MIT */
/*
 * test_layout.c: the golang-migrate layout read into migrations. Pairing
 * of up and down files, numeric apply order (then by name), the
 * reversibility rules (a down is required, and must do something, unless
 * the up is marked or listed irreversible or lies within the baseline),
 * duplicates, files that are not migrations, and rip_version_cmp.
 */
#include "helpers.h"

#include "ripcord/layout.h"

#define F(name, text) { (name), (text), sizeof(text) - 1 }

static const struct rip_strlist no_list = { NULL, 0 };

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void test_version_cmp(void **state)
{
	static const struct {
		const char *a, *b;
		int want;
	} cases[] = {
		{ "9", "10", -1 },
		{ "10", "9", 1 },
		{ "0002", "10", -1 },
		{ "10", "0002", 1 },
		{ "1", "1", 0 },
		{ "0002", "2", 0 },
		{ "0", "00", 0 },
		{ "0009", "0010", -1 },
		{ "99", "100", -1 },
		{ "20240101120000", "3", 1 },
		{ "20240101120000", "20240101120001", -1 },
		{ "123", "123", 0 },
		{ "18446744073709551616", "18446744073709551615", 1 },
	};

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		int got = sign(rip_version_cmp(cases[i].a, cases[i].b));

		if (got != cases[i].want)
			fail_msg("cmp('%s', '%s') = %d, want %d", cases[i].a,
				cases[i].b, got, cases[i].want);
	}
}

static void test_pairs_in_order(void **state)
{
	const struct rip_layout_file files[] = {
		F("10_ten.down.sql", "DROP TABLE ten;"),
		F("0002_two.up.sql", "CREATE TABLE two (x);"),
		F("9_nine.up.sql", "CREATE TABLE nine (x);"),
		F("0002_alpha.down.sql", "DROP TABLE alpha;"),
		F("10_ten.up.sql", "CREATE TABLE ten (x);"),
		F("0002_two.down.sql", "DROP TABLE two;"),
		F("9_nine.down.sql", "DROP TABLE nine;"),
		F("0002_alpha.up.sql", "CREATE TABLE alpha (x);"),
		F("1_first.up.psql", "CREATE TABLE first (x);"),
		F("1_first.down.psql", "DROP TABLE first;"),
	};
	static const struct {
		const char *version, *name, *id;
		size_t up, down;
	} want[] = {
		{ "1", "first", "1_first", 8, 9 },
		{ "0002", "alpha", "0002_alpha", 7, 3 },
		{ "0002", "two", "0002_two", 1, 5 },
		{ "9", "nine", "9_nine", 2, 6 },
		{ "10", "ten", "10_ten", 4, 0 },
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_layout_read(&m, files, RIP_ARRAY_SIZE(files),
		&no_list, NULL, "db/migrations", &err), 0);
	assert_int_equal(m.n, RIP_ARRAY_SIZE(want));
	for (size_t i = 0; i < m.n; i++) {
		assert_string_equal(m.v[i].version, want[i].version);
		assert_string_equal(m.v[i].name, want[i].name);
		assert_string_equal(m.v[i].id, want[i].id);
		assert_ptr_equal(m.v[i].up, &files[want[i].up]);
		assert_ptr_equal(m.v[i].down, &files[want[i].down]);
		assert_false(m.v[i].irreversible);
	}
	rip_migrations_release(&m);
	assert_int_equal(m.n, 0);
	assert_null(m.v);
}

static void test_up_without_down(void **state)
{
	const struct rip_layout_file files[] = {
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
		F("0003_x.up.sql", "ALTER TABLE a ADD y;"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_layout_read(&m, files, RIP_ARRAY_SIZE(files),
		&no_list, NULL, "db/migrations", &err), RIP_ECONFIG);
	assert_int_equal(err.code, RIP_ECONFIG);
	assert_err_contains(&err, "db/migrations/0003_x.up.sql");
	assert_err_contains(&err, "0003_x.down.sql");
	/* and how to mark it irreversible, both ways */
	assert_err_contains(&err, "-- ripcord:irreversible");
	assert_err_contains(&err, "irreversible = 0003_x");
	assert_int_equal(m.n, 0);
	assert_null(m.v);
}

static void test_down_without_up(void **state)
{
	const struct rip_layout_file files[] = {
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
		F("0002_b.down.sql", "DROP TABLE b;"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_layout_read(&m, files, RIP_ARRAY_SIZE(files),
		&no_list, NULL, "mig", &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/0002_b.down.sql");
	assert_err_contains(&err, "0002_b.up.sql");
	assert_int_equal(m.n, 0);

	/* even an up marked irreversible elsewhere does not excuse it */
	memset(&err, 0, sizeof(err));
	assert_int_equal(rip_layout_read(&m, files + 2, 1, &no_list, "9", "mig",
		&err), RIP_ECONFIG);
	assert_err_contains(&err, "0002_b.down.sql");
}

static void test_empty_down(void **state)
{
	static const char *const empty[] = {
		"",
		"   \n\t\n",
		"-- nothing to undo\n",
		"-- one\n-- two",
		"/* TODO */\n",
		"/* a\n multi-line\n comment */ -- and a line\n\n",
		"/* unterminated comment",
	};

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(empty); i++) {
		const struct rip_layout_file files[] = {
			F("0001_a.up.sql", "CREATE TABLE a (x);"),
			{ "0001_a.down.sql", empty[i], strlen(empty[i]) },
		};
		struct rip_migrations m;
		struct rip_err err = { 0 };
		int rc = rip_layout_read(&m, files, 2, &no_list, NULL, "mig",
			&err);

		if (rc != RIP_ECONFIG)
			fail_msg("down '%s' accepted (rc %d)", empty[i], rc);
		assert_err_contains(&err, "mig/0001_a.down.sql");
		assert_int_equal(m.n, 0);
	}
	/* a comment followed by a statement is a real down */
	{
		const struct rip_layout_file files[] = {
			F("0001_a.up.sql", "CREATE TABLE a (x);"),
			F("0001_a.down.sql", "-- undo\n/* c */ DROP TABLE a;\n"),
		};
		struct rip_migrations m;
		struct rip_err err = { 0 };

		assert_int_equal(rip_layout_read(&m, files, 2, &no_list, NULL,
			"mig", &err), 0);
		assert_int_equal(m.n, 1);
		assert_ptr_equal(m.v[0].down, &files[1]);
		rip_migrations_release(&m);
	}
}

static void test_marked_irreversible(void **state)
{
	const struct rip_layout_file files[] = {
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
		F("0002_drop.up.sql",
		  "-- ripcord:irreversible\nDROP TABLE old;\n"),
	};
	const struct rip_layout_file second_line[] = {
		F("0002_drop.up.sql",
		  "-- drops data\n-- ripcord:irreversible\nDROP TABLE old;\n"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_layout_read(&m, files, RIP_ARRAY_SIZE(files),
		&no_list, NULL, "mig", &err), 0);
	assert_int_equal(m.n, 2);
	assert_false(m.v[0].irreversible);
	assert_non_null(m.v[0].down);
	assert_string_equal(m.v[1].id, "0002_drop");
	assert_true(m.v[1].irreversible);
	assert_ptr_equal(m.v[1].up, &files[2]);
	assert_null(m.v[1].down);
	rip_migrations_release(&m);

	/* the mark counts on the first line only */
	assert_int_equal(rip_layout_read(&m, second_line, 1, &no_list, NULL,
		"mig", &err), RIP_ECONFIG);
	assert_err_contains(&err, "0002_drop.up.sql");
}

static void test_listed_irreversible(void **state)
{
	const struct rip_layout_file files[] = {
		F("0003_x.up.sql", "DROP TABLE x;"),
		F("0004_y.up.sql", "CREATE TABLE y (a);"),
		F("0004_y.down.sql", "DROP TABLE y;"),
	};
	static const char *const names[] = { "0003_x", "0003" };
	char *other[] = { "0004", "0003_y", "3_x" };
	struct rip_strlist wrong = { other, RIP_ARRAY_SIZE(other) };
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(names); i++) {
		char *v[] = { (char *)"0001", (char *)names[i] };
		struct rip_strlist list = { v, 2 };

		assert_int_equal(rip_layout_read(&m, files,
			RIP_ARRAY_SIZE(files), &list, NULL, "mig", &err), 0);
		assert_int_equal(m.n, 2);
		assert_string_equal(m.v[0].id, "0003_x");
		assert_true(m.v[0].irreversible);
		assert_null(m.v[0].down);
		assert_false(m.v[1].irreversible);
		assert_ptr_equal(m.v[1].down, &files[2]);
		rip_migrations_release(&m);
	}
	/* other entries of the list do not cover it */
	assert_int_equal(rip_layout_read(&m, files, RIP_ARRAY_SIZE(files),
		&wrong, NULL, "mig", &err), RIP_ECONFIG);
	assert_err_contains(&err, "0003_x.up.sql");
}

static void test_baseline(void **state)
{
	const struct rip_layout_file files[] = {
		F("0003_old.up.sql", "CREATE TABLE old (x);"),
		F("0005_base.up.sql", "CREATE TABLE base (x);"),
		F("0006_new.up.sql", "CREATE TABLE new (x);"),
		F("0006_new.down.sql", "DROP TABLE new;"),
	};
	const struct rip_layout_file after[] = {
		F("0003_old.up.sql", "CREATE TABLE old (x);"),
		F("0007_late.up.sql", "CREATE TABLE late (x);"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_layout_read(&m, files, RIP_ARRAY_SIZE(files),
		&no_list, "0005", "mig", &err), 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.v[0].id, "0003_old");
	assert_null(m.v[0].down);
	assert_string_equal(m.v[1].id, "0005_base");
	assert_null(m.v[1].down);
	assert_string_equal(m.v[2].id, "0006_new");
	assert_non_null(m.v[2].down);
	rip_migrations_release(&m);

	/* the baseline compares numerically */
	assert_int_equal(rip_layout_read(&m, files, 2, &no_list, "5", "mig",
		&err), 0);
	assert_int_equal(m.n, 2);
	rip_migrations_release(&m);

	/* beyond the baseline, the rule holds again */
	assert_int_equal(rip_layout_read(&m, after, RIP_ARRAY_SIZE(after),
		&no_list, "0005", "mig", &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/0007_late.up.sql");
	assert_int_equal(m.n, 0);
}

static void test_duplicate_up(void **state)
{
	const struct rip_layout_file files[] = {
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
		F("0001_a.up.psql", "CREATE TABLE a (x);"),
	};
	const struct rip_layout_file downs[] = {
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
		F("0001_a.down.psql", "DROP TABLE a;"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_layout_read(&m, files, RIP_ARRAY_SIZE(files),
		&no_list, NULL, "mig", &err), RIP_ECONFIG);
	assert_err_contains(&err, "0001_a.up.psql");
	assert_err_contains(&err, "0001_a.up.sql");
	assert_int_equal(m.n, 0);
	assert_null(m.v);

	memset(&err, 0, sizeof(err));
	assert_int_equal(rip_layout_read(&m, downs, RIP_ARRAY_SIZE(downs),
		&no_list, NULL, "mig", &err), RIP_ECONFIG);
	assert_err_contains(&err, "0001_a.down.psql");
	assert_int_equal(m.n, 0);
}

static void test_not_migrations_ignored(void **state)
{
	const struct rip_layout_file files[] = {
		F("README.md", "# migrations\n"),
		F("0001_x_up.sql", "CREATE TABLE x (a);"),
		F("0002_b.up.sql", "CREATE TABLE b (a);"),
		F("0002_b.down.sql", "DROP TABLE b;"),
		F("schema.sql", "CREATE TABLE z (a);"),
		F("0003_c.up.sql.orig", "CREATE TABLE c (a);"),
		F("_0004_d.up.sql", "CREATE TABLE d (a);"),
		F("0005.up.sql", "CREATE TABLE e (a);"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_layout_read(&m, files, RIP_ARRAY_SIZE(files),
		&no_list, NULL, "mig", &err), 0);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.v[0].id, "0002_b");
	assert_ptr_equal(m.v[0].up, &files[2]);
	assert_ptr_equal(m.v[0].down, &files[3]);
	rip_migrations_release(&m);

	/* a folder of nothing but strangers is an empty, valid list */
	assert_int_equal(rip_layout_read(&m, files, 2, &no_list, NULL, "mig",
		&err), 0);
	assert_int_equal(m.n, 0);
	rip_migrations_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_pairs_in_order),
		cmocka_unit_test(test_up_without_down),
		cmocka_unit_test(test_down_without_up),
		cmocka_unit_test(test_empty_down),
		cmocka_unit_test(test_marked_irreversible),
		cmocka_unit_test(test_listed_irreversible),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_duplicate_up),
		cmocka_unit_test(test_not_migrations_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
