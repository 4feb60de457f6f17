/* SPDX-License-Identifier: MIT */
/*
 * test_layout.c: migrations folders of every layout read into normalised
 * migrations. For each layout: well-formed folders, its ordering rule,
 * its own quirks (dbmate sections and transaction:false, sqitch plans,
 * verify scripts and reworks, diesel folders and metadata.toml, flyway
 * dotted versions, undo and repeatable scripts), and near-miss names,
 * which are warned about by name without breaking the read. Then the
 * rules every layout shares (a down is required and must do something
 * unless the up is marked or listed irreversible or lies within the
 * baseline; no down without an up; no duplicates; valid ids), the
 * checksum of the normalised up, auto detection, and rip_version_cmp.
 *
 * Folders are in-memory arrays of struct rip_layout_file; warnings are
 * read back from stderr.
 */
#include "helpers.h"

#include <time.h>

#include "ripcord/layout.h"

#define F(path, text) { (path), (text), sizeof(text) - 1 }
#define N(a) RIP_ARRAY_SIZE(a)

/* stderr, captured into a temporary file while a test reads a folder. */
struct capture {
	FILE *tmp;
	int saved;
	char *text;
};

static void capture_start(struct capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	c->saved = dup(2);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->tmp), 2) >= 0);
	c->text = NULL;
}

/* Stops capturing; c->text holds what was written (freed by the caller). */
static const char *capture_end(struct capture *c)
{
	int fd = fileno(c->tmp);
	off_t size;

	fflush(stderr);
	assert_true(dup2(c->saved, 2) >= 0);
	close(c->saved);
	size = lseek(fd, 0, SEEK_END);
	assert_true(size >= 0);
	c->text = calloc(1, (size_t)size + 1);
	assert_non_null(c->text);
	assert_int_equal(pread(fd, c->text, (size_t)size, 0), size);
	fclose(c->tmp);
	return c->text;
}

#define assert_has(hay, needle) do { \
	if (!strstr((hay), (needle))) \
		fail_msg("'%s' lacks '%s'", (hay), (needle)); \
} while (0)
#define assert_lacks(hay, needle) do { \
	if (strstr((hay), (needle))) \
		fail_msg("'%s' has '%s'", (hay), (needle)); \
} while (0)

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* Reads files in layout f from "mig"; *detected must come back as want. */
static int read_as(struct rip_migrations *m, enum rip_layout_format f,
	enum rip_layout_format want, const struct rip_layout_file *files,
	size_t n, struct rip_err *err)
{
	struct rip_layout_opts o = { .format = f, .dir = "mig" };
	enum rip_layout_format got = (enum rip_layout_format)99;
	int rc;

	rip_err_clear(err);
	rc = rip_layout_read(m, &got, files, n, &o, err);
	if (rc == 0 && got != want)
		fail_msg("detected %s, want %s", rip_layout_name(got),
			rip_layout_name(want));
	if (rc < 0) {
		assert_int_equal(m->n, 0);
		assert_null(m->v);
	}
	return rc;
}

/* Reads with options (format, irreversible, baseline) into m. */
static int read_opts(struct rip_migrations *m, enum rip_layout_format f,
	const struct rip_strlist *irreversible, const char *baseline,
	const struct rip_layout_file *files, size_t n, struct rip_err *err)
{
	struct rip_layout_opts o = { .format = f, .dir = "mig",
		.irreversible = irreversible, .baseline = baseline };
	enum rip_layout_format got;

	rip_err_clear(err);
	return rip_layout_read(m, &got, files, n, &o, err);
}

static void expect_text(const struct rip_sql *s, const char *text,
	const char *file)
{
	if (!text) {
		assert_null(s->text);
		assert_null(s->file);
		return;
	}
	assert_non_null(s->text);
	assert_string_equal(s->text, text);
	assert_int_equal(s->len, strlen(text));
	assert_string_equal(s->file, file);
}

static void expect_id(const struct rip_migration *mg, const char *version,
	const char *name)
{
	char id[256];

	snprintf(id, sizeof(id), "%s_%s", version, name);
	assert_string_equal(mg->version, version);
	assert_string_equal(mg->name, name);
	assert_string_equal(mg->id, id);
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
		/* flyway: dotted numeric */
		{ "1.2.9", "1.2.10", -1 },
		{ "1.2.10", "1.2.9", 1 },
		{ "1.10", "1.9.9", 1 },
		{ "2.1", "2.1", 0 },
		{ "10", "10.1", -1 },
		{ "9.9", "10", -1 },
		/* diesel and dbmate: dates with dashes */
		{ "2019-02-26-002946", "2019-02-27-000000", -1 },
		{ "2026-06-03-220228", "2026-06-03-220228-0000", -1 },
		{ "00000000000000", "2019-02-26-002946", -1 },
		{ "2019-12-31-235959", "2020-01-01-000000", -1 },
		{ "", "1", -1 },
		{ "", "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		int got = sign(rip_version_cmp(cases[i].a, cases[i].b));
		int back = sign(rip_version_cmp(cases[i].b, cases[i].a));

		if (got != cases[i].want || back != -cases[i].want)
			fail_msg("cmp('%s', '%s') = %d (reverse %d), want %d",
				cases[i].a, cases[i].b, got, back, cases[i].want);
	}
}

static void test_layout_names(void **state)
{
	enum rip_layout_format f;

	(void)state;
	for (int i = RIP_LAYOUT_AUTO; i <= RIP_LAYOUT_FLYWAY; i++) {
		assert_int_equal(rip_layout_parse(&f,
			rip_layout_name((enum rip_layout_format)i)), 0);
		assert_int_equal(f, i);
	}
	assert_string_equal(rip_layout_name(RIP_LAYOUT_GOLANG),
		"golang-migrate");
	assert_string_equal(rip_layout_name(RIP_LAYOUT_AUTO), "auto");
	assert_int_equal(rip_layout_parse(&f, "golang"), -1);
	assert_int_equal(rip_layout_parse(&f, "Flyway"), -1);
	assert_int_equal(rip_layout_parse(&f, ""), -1);
	assert_string_equal(rip_layout_name((enum rip_layout_format)42),
		"unknown");
}

static void test_golang_pairs_in_order(void **state)
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
		const char *version, *name;
		size_t up, down;
	} want[] = {
		{ "1", "first", 8, 9 },
		{ "0002", "alpha", 7, 3 },
		{ "0002", "two", 1, 5 },
		{ "9", "nine", 2, 6 },
		{ "10", "ten", 4, 0 },
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	for (int f = RIP_LAYOUT_AUTO; f <= RIP_LAYOUT_GOLANG; f++) {
		assert_int_equal(read_as(&m, (enum rip_layout_format)f,
			RIP_LAYOUT_GOLANG, files, N(files), &err), 0);
		assert_int_equal(m.n, N(want));
		for (size_t i = 0; i < m.n; i++) {
			char up[64], down[64];

			snprintf(up, sizeof(up), "mig/%s", files[want[i].up].path);
			snprintf(down, sizeof(down), "mig/%s",
				files[want[i].down].path);
			expect_id(&m.v[i], want[i].version, want[i].name);
			expect_text(&m.v[i].up, files[want[i].up].data, up);
			expect_text(&m.v[i].down, files[want[i].down].data, down);
			expect_text(&m.v[i].verify, NULL, NULL);
			assert_false(m.v[i].irreversible);
			assert_false(m.v[i].baseline);
			assert_false(m.v[i].no_transaction);
		}
		rip_migrations_release(&m);
		assert_int_equal(m.n, 0);
		assert_null(m.v);
	}
}

static void test_golang_shared_version(void **state)
{
	const struct rip_layout_file files[] = {
		F("0001_create_table_b.up.sql", "CREATE TABLE b (x);"),
		F("0001_create_table_b.down.sql", "DROP TABLE b;"),
		F("0001_create_table_a.down.sql", "DROP TABLE a;"),
		F("0001_create_table_a.up.sql", "CREATE TABLE a (x);"),
		F("0002_add-index.v2.up.sql", "CREATE INDEX i ON a (x);"),
		F("0002_add-index.v2.down.sql", "DROP INDEX i;"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		files, N(files), &err), 0);
	assert_int_equal(m.n, 3);
	expect_id(&m.v[0], "0001", "create_table_a");
	expect_text(&m.v[0].up, "CREATE TABLE a (x);",
		"mig/0001_create_table_a.up.sql");
	expect_id(&m.v[1], "0001", "create_table_b");
	expect_text(&m.v[1].down, "DROP TABLE b;",
		"mig/0001_create_table_b.down.sql");
	/* dashes and dots belong to the name */
	expect_id(&m.v[2], "0002", "add-index.v2");
	rip_migrations_release(&m);
}

static void test_up_without_down(void **state)
{
	const struct rip_layout_file files[] = {
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
		F("0003_x.up.sql", "ALTER TABLE a ADD y;"),
	};
	struct rip_layout_opts o = { .format = RIP_LAYOUT_GOLANG,
		.dir = "db/migrations" };
	enum rip_layout_format got;
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_layout_read(&m, &got, files, N(files), &o, &err),
		RIP_ECONFIG);
	assert_int_equal(err.code, RIP_ECONFIG);
	assert_err_contains(&err, "db/migrations/0003_x.up.sql");
	assert_err_contains(&err, "0003_x.down.sql");
	/* and how to mark it irreversible, both ways */
	assert_err_contains(&err, "-- ripcord:irreversible");
	assert_err_contains(&err, "irreversible = 0003_x");
	assert_int_equal(m.n, 0);
	assert_null(m.v);
}

/* Reads files in layout f expecting success; the warnings, to free. */
static char *read_warned(struct rip_migrations *m, enum rip_layout_format f,
	const struct rip_layout_file *files, size_t n)
{
	struct rip_err err = { 0 };
	struct capture c;
	int rc;

	capture_start(&c);
	rc = read_as(m, f, f, files, n, &err);
	capture_end(&c);
	if (rc < 0)
		fail_msg("read failed: %s (warnings: %s)", err.msg, c.text);
	return c.text;
}

/* 13.7: a down without its up is left out with a warning, naming the up
 * it was likely meant for; the up that lacks its down is still refused. */
static void test_down_without_up(void **state)
{
	const struct rip_layout_file files[] = {
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
		F("0002_b.down.sql", "DROP TABLE b;"),
	};
	const struct rip_layout_file typo[] = {
		F("0001_add_users.up.sql", "CREATE TABLE users (x);"),
		F("0001_add_user.down.sql", "DROP TABLE users;"),
		F("0002_more.up.sql", "-- ripcord:irreversible\nSELECT 1;"),
		F("0002_moer.down.sql", "SELECT 1;"),
	};
	const struct rip_layout_file diesel[] = {
		F("2020-01-01-000000_a/down.sql", "DROP TABLE a;"),
	};
	const struct rip_layout_file flyway[] = {
		F("V1__a.sql", "CREATE TABLE a (x);"),
		F("U1__a.sql", "DROP TABLE a;"),
		F("U2__b.sql", "DROP TABLE b;"),
		F("V3__add_index.sql", "CREATE INDEX i ON a (x);"),
		F("U3__add_idnex.sql", "DROP INDEX i;"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };
	struct capture c;
	char *w;

	(void)state;
	w = read_warned(&m, RIP_LAYOUT_GOLANG, files, N(files));
	assert_int_equal(m.n, 1);
	assert_string_equal(m.v[0].id, "0001_a");
	rip_migrations_release(&m);
	assert_has(w, "mig/0002_b.down.sql is a down migration without its "
		"up; left out (add 0002_b.up.sql beside it, or remove the down)");
	free(w);

	/* the up's name has a typo: did you mean, then the up is refused */
	capture_start(&c);
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		typo, 2, &err), RIP_ECONFIG);
	capture_end(&c);
	assert_has(c.text, "mig/0001_add_user.down.sql is a down migration "
		"without its up; left out (did you mean it for "
		"mig/0001_add_users.up.sql? then name it "
		"0001_add_users.down.sql)");
	assert_err_contains(&err, "mig/0001_add_users.up.sql has no down");
	free(c.text);
	/* ... unless the up may go without: then only the warning */
	w = read_warned(&m, RIP_LAYOUT_GOLANG, typo + 2, 2);
	assert_int_equal(m.n, 1);
	assert_true(m.v[0].irreversible);
	rip_migrations_release(&m);
	assert_has(w, "mig/0002_moer.down.sql is a down migration without its "
		"up; left out (did you mean it for mig/0002_more.up.sql? then "
		"name it 0002_more.down.sql)");
	free(w);
	/* ... and a baseline that covers it */
	assert_int_equal(read_opts(&m, RIP_LAYOUT_GOLANG, NULL, "9", files + 2,
		1, &err), 0);
	assert_int_equal(m.n, 0);
	rip_migrations_release(&m);

	w = read_warned(&m, RIP_LAYOUT_DIESEL, diesel, N(diesel));
	assert_int_equal(m.n, 0);
	rip_migrations_release(&m);
	assert_has(w, "mig/2020-01-01-000000_a/down.sql is a down migration "
		"without its up; left out (add 2020-01-01-000000_a/up.sql");
	free(w);

	capture_start(&c);
	assert_int_equal(read_as(&m, RIP_LAYOUT_FLYWAY, RIP_LAYOUT_FLYWAY,
		flyway, N(flyway), &err), RIP_ECONFIG);
	capture_end(&c);
	assert_has(c.text, "mig/U2__b.sql is a down migration without its up; "
		"left out (add V2__b.sql beside it");
	assert_has(c.text, "mig/U3__add_idnex.sql is a down migration without "
		"its up; left out (did you mean it for mig/V3__add_index.sql? "
		"then name it U3__add_index.sql)");
	assert_err_contains(&err, "mig/V3__add_index.sql has no down");
	free(c.text);
	w = read_warned(&m, RIP_LAYOUT_FLYWAY, flyway, 3);
	assert_int_equal(m.n, 1);
	rip_migrations_release(&m);
	free(w);
}

/* 13.7: names one slip away from a script of the layout are named in a
 * warning with the name that was expected; the read still succeeds. */
static void test_near_miss_names(void **state)
{
	const struct rip_layout_file golang[] = {
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
		F("0005_x.dwon.sql", "DROP TABLE x;"),
		F("0006_y.UP.sql", "CREATE TABLE y (a);"),
		F("0007_z.up.SQL", "CREATE TABLE z (a);"),
		F("0007_z.down.sql", "DROP TABLE z;"),
		F("0008_w.down", "DROP TABLE w;"),
		F("0009_v.uo.sql", "CREATE TABLE v (a);"),
		F("0157.down.sql", "DROP TABLE q;"),
		F("0010_u.up.txt.orig", "CREATE TABLE u (a);"),
		F("0011_t.a.sql", "SELECT 1;"),
	};
	const struct rip_layout_file dbmate[] = {
		F("20230101000000_a.SQL", "-- migrate:up\nSELECT 1;\n"),
		F("20230102000000_b", "-- migrate:up\nSELECT 1;\n"),
		F("20230103000000_c.txt", "-- migrate:up\nSELECT 1;\n"),
	};
	const struct rip_layout_file diesel[] = {
		F("2019-01-01-000000_a/up.sql", "CREATE TABLE a (x);"),
		F("2019-01-01-000000_a/down.sql", "DROP TABLE a;"),
		F("2019-01-01-000000_a/dwon.sql", "DROP TABLE a;"),
		F("2019-01-02-000000_b/UP.sql", "CREATE TABLE b (x);"),
		F("2019-01-03-000000_c/up", "CREATE TABLE c (x);"),
		F("2019-01-04-000000_d/up.SQL", "CREATE TABLE d (x);"),
	};
	const struct rip_layout_file flyway[] = {
		F("V1__a.SQL", "CREATE TABLE a (x);"),
		F("V2__b", "CREATE TABLE b (x);"),
		F("U2_1__c.Sql", "DROP TABLE c;"),
	};
	const struct rip_layout_file sqitch[] = {
		F("sqitch.plan", "%project=p\n\n"
		  "users 2024-01-01T00:00:00Z Ann <a@x.org>\n"
		  "flips 2024-01-02T00:00:00Z Ann <a@x.org>\n"),
		F("deploy/users.sql", "-- ripcord:irreversible\nSELECT 1;"),
		F("revert/users.SQL", "DROP TABLE users;"),
		F("deploy/flips.sql", "-- ripcord:irreversible\nSELECT 1;"),
		F("reverts/flips.sql", "DROP TABLE flips;"),
		F("verify/flisp.sql", "SELECT 1;"),
		F("sqitch.conf", "[core]\n"),
		F("notes/flips.txt", "x"),
		F("Deploy/other.sql", "SELECT 1;"),
		F("report/flips.sql", "SELECT 1;"),
		F("verfiy/flips.sql", "SELECT 1;"),
	};
	struct rip_migrations m;
	char *w;

	(void)state;
	w = read_warned(&m, RIP_LAYOUT_GOLANG, golang, N(golang));
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[1].id, "0007_z");
	rip_migrations_release(&m);
	assert_has(w, "mig/0005_x.dwon.sql looks like a down migration; "
		"ignored (did you mean 0005_x.down.sql?)");
	assert_has(w, "mig/0006_y.UP.sql looks like an up migration; ignored "
		"(did you mean 0006_y.up.sql?)");
	assert_has(w, "mig/0007_z.up.SQL has the extension '.SQL', not "
		"'.sql'; read as SQL all the same (rename it 0007_z.up.sql)");
	assert_has(w, "mig/0008_w.down looks like a down migration; ignored "
		"(did you mean 0008_w.down.sql?)");
	assert_has(w, "did you mean 0009_v.up.sql?");
	/* 10c: the down it expected, not an .up */
	assert_has(w, "mig/0157.down.sql has no name; ignored (expected "
		"0157_<name>.down.sql)");
	assert_has(w, "mig/0010_u.up.txt.orig is not a golang-migrate file");
	assert_has(w, "mig/0011_t.a.sql is not a golang-migrate file");
	free(w);

	w = read_warned(&m, RIP_LAYOUT_DBMATE, dbmate, N(dbmate));
	assert_int_equal(m.n, 0);
	rip_migrations_release(&m);
	assert_has(w, "mig/20230101000000_a.SQL looks like a dbmate migration; "
		"ignored (did you mean 20230101000000_a.sql?)");
	assert_has(w, "mig/20230102000000_b looks like a dbmate migration; "
		"ignored (did you mean 20230102000000_b.sql?)");
	assert_has(w, "mig/20230103000000_c.txt is not a dbmate migration");
	free(w);

	w = read_warned(&m, RIP_LAYOUT_DIESEL, diesel, N(diesel));
	assert_int_equal(m.n, 1);
	rip_migrations_release(&m);
	assert_has(w, "mig/2019-01-01-000000_a/dwon.sql looks like a down "
		"migration; ignored (did you mean 2019-01-01-000000_a/down.sql?)");
	assert_has(w, "mig/2019-01-02-000000_b/UP.sql looks like an up "
		"migration; ignored (did you mean 2019-01-02-000000_b/up.sql?)");
	assert_has(w, "did you mean 2019-01-03-000000_c/up.sql?");
	assert_has(w, "did you mean 2019-01-04-000000_d/up.sql?");
	free(w);

	w = read_warned(&m, RIP_LAYOUT_FLYWAY, flyway, N(flyway));
	assert_int_equal(m.n, 0);
	rip_migrations_release(&m);
	assert_has(w, "mig/V1__a.SQL looks like an up migration; ignored (did "
		"you mean V1__a.sql?)");
	assert_has(w, "mig/V2__b looks like an up migration; ignored (did you "
		"mean V2__b.sql?)");
	assert_has(w, "mig/U2_1__c.Sql looks like a down migration; ignored "
		"(did you mean U2_1__c.sql?)");
	free(w);

	w = read_warned(&m, RIP_LAYOUT_SQITCH, sqitch, N(sqitch));
	assert_int_equal(m.n, 2);
	rip_migrations_release(&m);
	assert_has(w, "mig/revert/users.SQL looks like a script of change "
		"'users'; ignored (did you mean revert/users.sql?)");
	assert_has(w, "mig/reverts/flips.sql looks like a script of change "
		"'flips'; ignored (did you mean revert/flips.sql?)");
	assert_has(w, "mig/verify/flisp.sql looks like a script of change "
		"'flips'; ignored (did you mean verify/flips.sql?)");
	assert_lacks(w, "sqitch.conf");
	assert_lacks(w, "notes");
	assert_has(w, "mig/Deploy/other.sql is not in a sqitch script folder; "
		"ignored (did you mean deploy/other.sql?)");
	assert_has(w, "mig/verfiy/flips.sql looks like a script of change "
		"'flips'; ignored (did you mean verify/flips.sql?)");
	assert_lacks(w, "report");
	free(w);
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
		"-- 13.10c: a lone semicolon is no statement\n;\n",
		";",
	};

	(void)state;
	for (size_t i = 0; i < N(empty); i++) {
		const struct rip_layout_file files[] = {
			F("0001_a.up.sql", "CREATE TABLE a (x);"),
			{ "0001_a.down.sql", empty[i], strlen(empty[i]) },
		};
		const struct rip_layout_file diesel[] = {
			F("2020-01-01-000000_a/up.sql", "CREATE TABLE a (x);"),
			{ "2020-01-01-000000_a/down.sql", empty[i],
			  strlen(empty[i]) },
		};
		struct rip_migrations m;
		struct rip_err err = { 0 };

		if (read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG, files, 2,
				&err) != RIP_ECONFIG)
			fail_msg("down '%s' accepted", empty[i]);
		assert_err_contains(&err, "mig/0001_a.down.sql");
		assert_err_contains(&err, "empty or only comments");
		assert_int_equal(read_as(&m, RIP_LAYOUT_DIESEL, RIP_LAYOUT_DIESEL,
			diesel, 2, &err), RIP_ECONFIG);
		assert_err_contains(&err, "mig/2020-01-01-000000_a/down.sql");
	}
	/* 13.10c: nothing to undo (no statement up or down) is accepted as
	 * it is, without an irreversible entry */
	for (size_t i = 0; i < N(empty); i++) {
		const struct rip_layout_file files[] = {
			F("0001_a.up.sql", "-- kept for its number\n;\n"),
			{ "0001_a.down.sql", empty[i], strlen(empty[i]) },
		};
		struct rip_migrations m;
		struct rip_err err = { 0 };

		if (read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG, files, 2,
				&err) != 0)
			fail_msg("down '%s' refused: %s", empty[i], err.msg);
		assert_int_equal(m.n, 1);
		assert_false(m.v[0].irreversible);
		assert_non_null(m.v[0].down.text);
		rip_migrations_release(&m);
	}
	/* a comment followed by a statement is a real down */
	{
		const struct rip_layout_file files[] = {
			F("0001_a.up.sql", "CREATE TABLE a (x);"),
			F("0001_a.down.sql", "-- undo\n/* c */ DROP TABLE a;\n"),
		};
		struct rip_migrations m;
		struct rip_err err = { 0 };

		assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
			files, 2, &err), 0);
		assert_int_equal(m.n, 1);
		expect_text(&m.v[0].down, "-- undo\n/* c */ DROP TABLE a;\n",
			"mig/0001_a.down.sql");
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
		/* an empty down beside the mark is fine, and left out */
		F("0003_gone.up.sql", "-- ripcord:irreversible\nDROP TABLE g;\n"),
		F("0003_gone.down.sql", ""),
	};
	const struct rip_layout_file second_line[] = {
		F("0002_drop.up.sql",
		  "-- drops data\n-- ripcord:irreversible\nDROP TABLE old;\n"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		files, N(files), &err), 0);
	assert_int_equal(m.n, 3);
	assert_false(m.v[0].irreversible);
	assert_non_null(m.v[0].down.text);
	assert_string_equal(m.v[1].id, "0002_drop");
	assert_true(m.v[1].irreversible);
	expect_text(&m.v[1].up, "-- ripcord:irreversible\nDROP TABLE old;\n",
		"mig/0002_drop.up.sql");
	expect_text(&m.v[1].down, NULL, NULL);
	assert_true(m.v[2].irreversible);
	expect_text(&m.v[2].down, NULL, NULL);
	rip_migrations_release(&m);

	/* the mark counts on the first line only */
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		second_line, 1, &err), RIP_ECONFIG);
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
	char *other[] = { "0004", "0003_y", "3_x", "x" };
	struct rip_strlist wrong = { other, N(other) };
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < N(names); i++) {
		char *v[] = { (char *)"0001", (char *)names[i] };
		struct rip_strlist list = { v, 2 };

		assert_int_equal(read_opts(&m, RIP_LAYOUT_GOLANG, &list, NULL,
			files, N(files), &err), 0);
		assert_int_equal(m.n, 2);
		assert_string_equal(m.v[0].id, "0003_x");
		assert_true(m.v[0].irreversible);
		assert_false(m.v[0].baseline);
		expect_text(&m.v[0].down, NULL, NULL);
		assert_false(m.v[1].irreversible);
		expect_text(&m.v[1].down, "DROP TABLE y;", "mig/0004_y.down.sql");
		rip_migrations_release(&m);
	}
	/* other entries of the list do not cover it */
	assert_int_equal(read_opts(&m, RIP_LAYOUT_GOLANG, &wrong, NULL, files,
		N(files), &err), RIP_ECONFIG);
	assert_err_contains(&err, "0003_x.up.sql");
}

static void test_irreversible_with_down(void **state)
{
	const struct rip_layout_file files[] = {
		F("0001_a.up.sql", "DROP TABLE a;"),
		F("0001_a.down.sql", "CREATE TABLE a (x);"),
	};
	char *v[] = { (char *)"0001_a" };
	struct rip_strlist list = { v, 1 };
	struct rip_migrations m;
	struct rip_err err = { 0 };
	struct capture c;

	(void)state;
	capture_start(&c);
	assert_int_equal(read_opts(&m, RIP_LAYOUT_GOLANG, &list, NULL, files,
		N(files), &err), 0);
	capture_end(&c);
	assert_int_equal(m.n, 1);
	assert_true(m.v[0].irreversible);
	expect_text(&m.v[0].down, NULL, NULL);
	assert_has(c.text, "mig/0001_a.down.sql");
	assert_has(c.text, "left out");
	free(c.text);
	rip_migrations_release(&m);
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
	assert_int_equal(read_opts(&m, RIP_LAYOUT_GOLANG, NULL, "0005", files,
		N(files), &err), 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.v[0].id, "0003_old");
	assert_true(m.v[0].baseline);
	assert_false(m.v[0].irreversible);
	expect_text(&m.v[0].down, NULL, NULL);
	assert_string_equal(m.v[1].id, "0005_base");
	assert_true(m.v[1].baseline);
	assert_string_equal(m.v[2].id, "0006_new");
	assert_false(m.v[2].baseline);
	assert_non_null(m.v[2].down.text);
	rip_migrations_release(&m);

	/* the baseline compares numerically */
	assert_int_equal(read_opts(&m, RIP_LAYOUT_GOLANG, NULL, "5", files, 2,
		&err), 0);
	assert_int_equal(m.n, 2);
	rip_migrations_release(&m);

	/* beyond the baseline, the rule holds again */
	assert_int_equal(read_opts(&m, RIP_LAYOUT_GOLANG, NULL, "0005", after,
		N(after), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/0007_late.up.sql");
	assert_int_equal(m.n, 0);
}

static void test_baseline_other_layouts(void **state)
{
	const struct rip_layout_file flyway[] = {
		F("V1.2.9__a.sql", "CREATE TABLE a (x);"),
		F("V1.2.10__b.sql", "CREATE TABLE b (x);"),
		F("V1.3__c.sql", "CREATE TABLE c (x);"),
		F("U1.3__c.sql", "DROP TABLE c;"),
	};
	const struct rip_layout_file diesel[] = {
		F("2019-02-26-002946_a/up.sql", "CREATE TABLE a (x);"),
		F("2019-03-01-000000_b/up.sql", "CREATE TABLE b (x);"),
		F("2019-03-01-000000_b/down.sql", "DROP TABLE b;"),
	};
	static const char *const fly_base[] = { "1.2.10", "1_2_10" };
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < N(fly_base); i++) {
		assert_int_equal(read_opts(&m, RIP_LAYOUT_FLYWAY, NULL,
			fly_base[i], flyway, N(flyway), &err), 0);
		assert_int_equal(m.n, 3);
		assert_true(m.v[1].baseline);
		assert_false(m.v[2].baseline);
		rip_migrations_release(&m);
	}
	/* 1.2.9 alone is not enough: 1.2.10 comes after it */
	assert_int_equal(read_opts(&m, RIP_LAYOUT_FLYWAY, NULL, "1.2.9", flyway,
		N(flyway), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/V1.2.10__b.sql");
	assert_int_equal(read_opts(&m, RIP_LAYOUT_DIESEL, NULL,
		"2019-02-26-002946", diesel, N(diesel), &err), 0);
	assert_true(m.v[0].baseline);
	assert_false(m.v[1].baseline);
	rip_migrations_release(&m);
}

static void test_duplicates(void **state)
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
	const struct rip_layout_file spelled[] = {
		F("1_a.up.sql", "CREATE TABLE a (x);"),
		F("1_a.down.sql", "DROP TABLE a;"),
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
	};
	const struct rip_layout_file split[] = {
		F("1_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
	};
	const struct rip_layout_file flyway[] = {
		F("V2.1__x.sql", "CREATE TABLE x (a);"),
		F("sub/V2_1__x.sql", "CREATE TABLE x (a);"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		files, N(files), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/0001_a.up.psql");
	assert_err_contains(&err, "mig/0001_a.up.sql");
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		downs, N(downs), &err), RIP_ECONFIG);
	assert_err_contains(&err, "0001_a.down.psql");
	assert_err_contains(&err, "0001_a.down.sql");
	/* "1" and "0001" are one version: the same migration twice */
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		spelled, N(spelled), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/0001_a.up.sql");
	assert_err_contains(&err, "mig/1_a.up.sql");
	assert_err_contains(&err, "written two ways ('0001', '1')");
	/* nor do they pair up */
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		split, N(split), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/0001_a.down.sql and mig/1_a.up.sql");
	/* V2_1 is 2.1 */
	assert_int_equal(read_as(&m, RIP_LAYOUT_FLYWAY, RIP_LAYOUT_FLYWAY,
		flyway, N(flyway), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/V2.1__x.sql");
	assert_err_contains(&err, "mig/sub/V2_1__x.sql");
}

static void test_invalid_ids(void **state)
{
	const struct rip_layout_file comma[] = {
		F("0001_a,b.up.sql", "CREATE TABLE a (x);"),
		F("0001_a,b.down.sql", "DROP TABLE a;"),
	};
	const struct rip_layout_file slash[] = {
		F("sqitch.plan", "%project=p\n"
		  "schema/users 2024-01-01T00:00:00Z A <a@b.c>\n"),
		F("deploy/schema/users.sql", "CREATE TABLE u (x);"),
		F("revert/schema/users.sql", "DROP TABLE u;"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		comma, N(comma), &err), RIP_ECONFIG);
	assert_err_contains(&err, "'0001_a,b'");
	assert_err_contains(&err, "mig/0001_a,b.up.sql");
	assert_int_equal(read_as(&m, RIP_LAYOUT_SQITCH, RIP_LAYOUT_SQITCH,
		slash, N(slash), &err), RIP_ECONFIG);
	assert_err_contains(&err, "'0001_schema/users'");
}

static void test_golang_near_misses(void **state)
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
		F("0006_f-down.sql", "DROP TABLE f;"),
		F("0007_g.up", "CREATE TABLE g (a);"),
		F("sub/0008_h.up.sql", "CREATE TABLE h (a);"),
		F(".gitkeep", ""),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };
	struct capture c;

	(void)state;
	capture_start(&c);
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		files, N(files), &err), 0);
	capture_end(&c);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.v[0].id, "0002_b");
	rip_migrations_release(&m);
	assert_has(c.text, "mig/README.md is not a golang-migrate file");
	assert_has(c.text, "mig/0001_x_up.sql");
	assert_has(c.text, "did you mean 0001_x.up.sql?");
	assert_has(c.text, "did you mean 0006_f.down.sql?");
	assert_has(c.text, "did you mean 0007_g.up.sql?");
	assert_has(c.text, "mig/0005.up.sql has no name");
	assert_has(c.text, "mig/schema.sql");
	assert_has(c.text, "mig/0003_c.up.sql.orig");
	assert_has(c.text, "mig/_0004_d.up.sql");
	assert_has(c.text, "mig/sub/0008_h.up.sql");
	assert_lacks(c.text, "gitkeep");
	assert_lacks(c.text, "0002_b");
	free(c.text);

	/* a folder of nothing but strangers is an empty, valid list */
	capture_start(&c);
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		files, 2, &err), 0);
	capture_end(&c);
	free(c.text);
	assert_int_equal(m.n, 0);
	rip_migrations_release(&m);
}

static void test_dbmate(void **state)
{
	const struct rip_layout_file files[] = {
		F("20230201000000_add_index.sql",
		  "-- migrate:up transaction:false\n"
		  "CREATE INDEX CONCURRENTLY i ON users (name);\n\n"
		  "-- migrate:down\nDROP INDEX i;\n"),
		F("20230101120000_create_users.sql",
		  "-- a preamble comment is fine\n"
		  "-- migrate:up\nCREATE TABLE users (id int);\n"
		  "-- migrate:down\nDROP TABLE users;\n"),
		F("9_early.sql",
		  "--migrate:down\r\nDROP TABLE e;\r\n"
		  "--migrate:up\r\nCREATE TABLE e (x);\r\n"),
		F("20230301000000_drop_old.sql",
		  "-- migrate:up\n-- ripcord:irreversible\nDROP TABLE old;\n"
		  "-- migrate:down\n\n"),
		/* the mark may also open the file, above the sections */
		F("20230302000000_drop_older.sql",
		  "-- ripcord:irreversible\n-- migrate:up\nDROP TABLE older;\n"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	for (int f = RIP_LAYOUT_AUTO; f <= RIP_LAYOUT_DBMATE; f += 2) {
		assert_int_equal(read_as(&m, (enum rip_layout_format)f,
			RIP_LAYOUT_DBMATE, files, N(files), &err), 0);
		assert_int_equal(m.n, 5);
		expect_id(&m.v[0], "9", "early");
		expect_text(&m.v[0].up, "CREATE TABLE e (x);\r\n",
			"mig/9_early.sql");
		expect_text(&m.v[0].down, "DROP TABLE e;\r\n", "mig/9_early.sql");
		expect_id(&m.v[1], "20230101120000", "create_users");
		expect_text(&m.v[1].up, "CREATE TABLE users (id int);\n",
			"mig/20230101120000_create_users.sql");
		expect_text(&m.v[1].down, "DROP TABLE users;\n",
			"mig/20230101120000_create_users.sql");
		assert_false(m.v[1].no_transaction);
		expect_id(&m.v[2], "20230201000000", "add_index");
		assert_true(m.v[2].no_transaction);
		expect_text(&m.v[2].down, "DROP INDEX i;\n",
			"mig/20230201000000_add_index.sql");
		assert_true(m.v[3].irreversible);
		expect_text(&m.v[3].down, NULL, NULL);
		expect_id(&m.v[4], "20230302000000", "drop_older");
		assert_true(m.v[4].irreversible);
		expect_text(&m.v[4].up, "DROP TABLE older;\n",
			"mig/20230302000000_drop_older.sql");
		rip_migrations_release(&m);
	}
}

static void test_dbmate_errors(void **state)
{
	const struct rip_layout_file empty_down[] = {
		F("20230101120000_a.sql",
		  "-- migrate:up\nCREATE TABLE a (x);\n-- migrate:down\n-- no\n"),
	};
	const struct rip_layout_file no_down[] = {
		F("20230101120000_a.sql", "-- migrate:up\nCREATE TABLE a (x);\n"),
	};
	const struct rip_layout_file no_up[] = {
		F("20230101120000_a.sql", "-- migrate:down\nDROP TABLE a;\n"),
	};
	const struct rip_layout_file two_ups[] = {
		F("1_a.sql", "-- migrate:up\nCREATE TABLE a (x);\n"
		  "-- migrate:down\nDROP TABLE a;\n-- migrate:up\nSELECT 1;\n"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	/* an empty down section is no down */
	assert_int_equal(read_as(&m, RIP_LAYOUT_DBMATE, RIP_LAYOUT_DBMATE,
		empty_down, 1, &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/20230101120000_a.sql has no down");
	assert_err_contains(&err, "-- migrate:down");
	assert_err_contains(&err, "irreversible = 20230101120000_a");
	assert_int_equal(read_as(&m, RIP_LAYOUT_DBMATE, RIP_LAYOUT_DBMATE,
		no_down, 1, &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/20230101120000_a.sql has no down");
	assert_int_equal(read_as(&m, RIP_LAYOUT_DBMATE, RIP_LAYOUT_DBMATE,
		no_up, 1, &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/20230101120000_a.sql");
	assert_err_contains(&err, "no '-- migrate:up'");
	assert_int_equal(read_as(&m, RIP_LAYOUT_DBMATE, RIP_LAYOUT_DBMATE,
		two_ups, 1, &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/1_a.sql:5:");
	/* irreversible by list: the empty down is then fine */
	{
		char *v[] = { (char *)"20230101120000" };
		struct rip_strlist l = { v, 1 };

		assert_int_equal(read_opts(&m, RIP_LAYOUT_DBMATE, &l, NULL,
			empty_down, 1, &err), 0);
		assert_true(m.v[0].irreversible);
		rip_migrations_release(&m);
	}
}

static void test_dbmate_near_misses(void **state)
{
	const struct rip_layout_file files[] = {
		F("20230101120000_a.sql",
		  "CREATE TABLE stray (x);\n-- migrate:up\nCREATE TABLE a (x);\n"
		  "-- migrate:down\nDROP TABLE a;\n"),
		F("20230102000000_plain.sql", "CREATE TABLE p (x);\n"),
		F("20230103000000.sql", "-- migrate:up\nSELECT 1;\n"),
		F("schema.sql", "CREATE TABLE s (x);\n"),
		F("20230104000000_upgrade.sql",
		  "-- migrate:upgrade\nCREATE TABLE u (x);\n"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };
	struct capture c;

	(void)state;
	capture_start(&c);
	assert_int_equal(read_as(&m, RIP_LAYOUT_DBMATE, RIP_LAYOUT_DBMATE,
		files, N(files), &err), 0);
	capture_end(&c);
	assert_int_equal(m.n, 1);
	expect_text(&m.v[0].up, "CREATE TABLE a (x);\n",
		"mig/20230101120000_a.sql");
	rip_migrations_release(&m);
	assert_has(c.text, "mig/20230101120000_a.sql has SQL before");
	assert_has(c.text, "mig/20230102000000_plain.sql has no "
		"'-- migrate:up'");
	assert_has(c.text, "mig/20230104000000_upgrade.sql has no "
		"'-- migrate:up'");
	assert_has(c.text, "mig/20230103000000.sql has no name");
	assert_has(c.text, "mig/schema.sql is not a dbmate migration");
	free(c.text);
}

/* A plan sqitch 1.3.1 wrote (init, add, tag, rework, rework). */
static const char rework_plan[] =
	"%syntax-version=1.0.0\n"
	"%project=flipr\n"
	"\n"
	"appuser 2026-11-27T13:01:07Z Marge <marge@example.com> # App user\n"
	"users [appuser] 2026-11-27T13:01:07Z Marge <marge@example.com> "
	"# Users table\n"
	"@v1.0 2026-11-27T13:01:08Z Marge <marge@example.com> # one\n"
	"\n"
	"flips 2026-11-27T13:01:08Z Marge <marge@example.com> # flips\n"
	"@v1.1 2026-11-27T13:01:09Z Marge <marge@example.com> # one one\n"
	"users [users@v1.1] 2026-11-27T13:01:09Z Marge <marge@example.com> "
	"# rework users\n"
	"@v2.0 2026-11-27T13:01:10Z Marge <marge@example.com> # two\n"
	"users [users@v2.0] 2026-11-27T13:01:11Z Marge <marge@example.com> "
	"# again\n";

static void test_sqitch(void **state)
{
	const struct rip_layout_file files[] = {
		F("revert/zebra.sql", "DROP TABLE zebra;"),
		F("deploy/zebra.sql", "CREATE TABLE zebra (x);"),
		F("verify/zebra.sql", "SELECT x FROM zebra WHERE 0;"),
		F("sqitch.conf", "[core]\n\tengine = sqlite\n"),
		F("deploy/apple.sql", "CREATE TABLE apple (x);"),
		F("revert/apple.sql", "DROP TABLE apple;"),
		F("deploy/mango-v2.sql", "CREATE TABLE mango (x);"),
		F("revert/mango-v2.sql", "DROP TABLE mango;"),
		F("deploy/orphan.sql", "CREATE TABLE orphan (x);"),
		F("sqitch.plan",
		  "%syntax-version=1.0.0\r\n"
		  "%project=shop\r\n"
		  "\r\n"
		  "# the first change\r\n"
		  "zebra 2024-01-01T00:00:00Z Ann <ann@example.com> # z\r\n"
		  "  @v1 2024-01-02T00:00:00Z Ann <ann@example.com>\r\n"
		  "apple [zebra !pear] 2024-01-03T00:00:00Z Ann Lee "
		  "<ann@example.com>\r\n"
		  "mango-v2\t[apple]\t2024-01-04T00:00:00Z\tBob <b@x.org> "
		  "# note [with] <brackets> @and #hashes\r\n"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };
	struct capture c;

	(void)state;
	for (int f = RIP_LAYOUT_AUTO; f <= RIP_LAYOUT_SQITCH; f += 3) {
		capture_start(&c);
		assert_int_equal(read_as(&m, (enum rip_layout_format)f,
			RIP_LAYOUT_SQITCH, files, N(files), &err), 0);
		capture_end(&c);
		assert_int_equal(m.n, 3);
		/* plan order, not the alphabet */
		expect_id(&m.v[0], "0001", "zebra");
		expect_text(&m.v[0].up, "CREATE TABLE zebra (x);",
			"mig/deploy/zebra.sql");
		expect_text(&m.v[0].down, "DROP TABLE zebra;",
			"mig/revert/zebra.sql");
		expect_text(&m.v[0].verify, "SELECT x FROM zebra WHERE 0;",
			"mig/verify/zebra.sql");
		expect_id(&m.v[1], "0002", "apple");
		expect_text(&m.v[1].verify, NULL, NULL);
		expect_id(&m.v[2], "0003", "mango-v2");
		expect_text(&m.v[2].down, "DROP TABLE mango;",
			"mig/revert/mango-v2.sql");
		assert_has(c.text, "mig/deploy/orphan.sql is not in sqitch.plan");
		assert_lacks(c.text, "sqitch.conf");
		assert_lacks(c.text, "zebra");
		free(c.text);
		rip_migrations_release(&m);
	}
}

static void test_sqitch_rework(void **state)
{
	const struct rip_layout_file files[] = {
		F("sqitch.plan", rework_plan),
		F("deploy/appuser.sql", "CREATE TABLE appuser (x);"),
		F("revert/appuser.sql", "DROP TABLE appuser;"),
		F("deploy/flips.sql", "CREATE TABLE flips (x);"),
		F("revert/flips.sql", "DROP TABLE flips;"),
		F("deploy/users.sql", "CREATE VIEW users AS SELECT 3;"),
		F("revert/users.sql", "CREATE VIEW users AS SELECT 2;"),
		F("verify/users.sql", "SELECT 3;"),
		F("deploy/users@v1.1.sql", "CREATE TABLE users (x);"),
		F("revert/users@v1.1.sql", "DROP TABLE users;"),
		F("verify/users@v1.1.sql", "SELECT 1;"),
		F("deploy/users@v2.0.sql", "CREATE VIEW users AS SELECT 2;"),
		F("revert/users@v2.0.sql", "CREATE TABLE users (x);"),
	};
	const struct rip_layout_file untagged[] = {
		F("sqitch.plan", "a 2024-01-01T00:00:00Z A <a@b.c>\n"
		  "b 2024-01-01T00:00:00Z A <a@b.c>\n"
		  "a [a@HEAD] 2024-01-01T00:00:00Z A <a@b.c>\n"),
		F("deploy/a.sql", "SELECT 1;"),
		F("deploy/b.sql", "SELECT 1;"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(read_as(&m, RIP_LAYOUT_SQITCH, RIP_LAYOUT_SQITCH,
		files, N(files), &err), 0);
	assert_int_equal(m.n, 5);
	expect_id(&m.v[0], "0001", "appuser");
	expect_id(&m.v[1], "0002", "users");
	expect_text(&m.v[1].up, "CREATE TABLE users (x);",
		"mig/deploy/users@v1.1.sql");
	expect_text(&m.v[1].down, "DROP TABLE users;",
		"mig/revert/users@v1.1.sql");
	expect_text(&m.v[1].verify, "SELECT 1;", "mig/verify/users@v1.1.sql");
	expect_id(&m.v[2], "0003", "flips");
	expect_id(&m.v[3], "0004", "users");
	expect_text(&m.v[3].up, "CREATE VIEW users AS SELECT 2;",
		"mig/deploy/users@v2.0.sql");
	expect_text(&m.v[3].verify, NULL, NULL);
	expect_id(&m.v[4], "0005", "users");
	expect_text(&m.v[4].up, "CREATE VIEW users AS SELECT 3;",
		"mig/deploy/users.sql");
	expect_text(&m.v[4].down, "CREATE VIEW users AS SELECT 2;",
		"mig/revert/users.sql");
	rip_migrations_release(&m);

	/* without users@v1.1.sql, an older tag's scripts are taken ... */
	{
		struct rip_layout_file older[N(files)];

		memcpy(older, files, sizeof(files));
		older[8].path = "deploy/users@v1.0.sql";
		older[9].path = "revert/users@v1.0.sql";
		older[10].path = "verify/users@v1.0.sql";
		assert_int_equal(read_as(&m, RIP_LAYOUT_SQITCH,
			RIP_LAYOUT_SQITCH, older, N(older), &err), 0);
		expect_text(&m.v[1].up, "CREATE TABLE users (x);",
			"mig/deploy/users@v1.0.sql");
		rip_migrations_release(&m);
		/* ... and with none, the newest tag's is the one missing */
		older[8].path = "deploy/users@v0.9.sql";
		assert_int_equal(read_as(&m, RIP_LAYOUT_SQITCH,
			RIP_LAYOUT_SQITCH, older, N(older), &err), RIP_ECONFIG);
		assert_err_contains(&err, "mig/sqitch.plan:5: change 'users' "
			"has no deploy script (expected mig/deploy/users@v1.1.sql)");
	}

	/* sqitch reworks a change only after a tag */
	assert_int_equal(read_as(&m, RIP_LAYOUT_SQITCH, RIP_LAYOUT_SQITCH,
		untagged, N(untagged), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/sqitch.plan:3:");
	assert_err_contains(&err, "'a'");
	assert_err_contains(&err, "line 1");
}

static void test_sqitch_malformed(void **state)
{
	static const struct {
		const char *plan;
		const char *want;
	} cases[] = {
		{ "%project=p\n\nadd_users\n", "mig/sqitch.plan:3:" },
		{ "a 2024-01-01T00:00:00Z A <a@b.c>\n"
		  "b [a 2024-01-01T00:00:00Z A <a@b.c>\n", "mig/sqitch.plan:2:" },
		{ "a 2024-01-01 A <a@b.c>\n", "mig/sqitch.plan:1: expected a "
		  "timestamp" },
		{ "# c\na 2024-01-01T00:00:00Z\n", "mig/sqitch.plan:2: expected "
		  "the planner" },
		{ "a 2024-01-01T00:00:00Z A a@b.c\n", "mig/sqitch.plan:1:" },
		{ "a 2024-01-01T00:00:00Z <a@b.c>\n", "mig/sqitch.plan:1:" },
		{ "a 2024-01-01T00:00:00Z A <a@b.c> trailing\n",
		  "mig/sqitch.plan:1: unexpected text" },
		{ "-a 2024-01-01T00:00:00Z A <a@b.c>\n", "mig/sqitch.plan:1:" },
		{ "a: 2024-01-01T00:00:00Z A <a@b.c>\n", "mig/sqitch.plan:1:" },
		{ "a 2024-01-01T00:00:00Z A <a@b.c>\n@ 2024-01-01T00:00:00Z\n",
		  "mig/sqitch.plan:2: a tag line" },
		{ "x@y 2024-01-01T00:00:00Z A <a@b.c>\n", "mig/sqitch.plan:1:" },
		{ "[a] 2024-01-01T00:00:00Z A <a@b.c>\n", "mig/sqitch.plan:1:" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const struct rip_layout_file files[] = {
			{ "sqitch.plan", cases[i].plan, strlen(cases[i].plan) },
			F("deploy/a.sql", "SELECT 1;"),
			F("revert/a.sql", "SELECT 1;"),
		};
		struct rip_migrations m;
		struct rip_err err = { 0 };

		if (read_as(&m, RIP_LAYOUT_SQITCH, RIP_LAYOUT_SQITCH, files,
				N(files), &err) != RIP_ECONFIG)
			fail_msg("plan %zu accepted: %s", i, cases[i].plan);
		assert_err_contains(&err, cases[i].want);
	}
}

static void test_sqitch_missing_scripts(void **state)
{
	const struct rip_layout_file no_deploy[] = {
		F("sqitch.plan", "# plan\na 2024-01-01T00:00:00Z A <a@b.c>\n"
		  "b 2024-01-01T00:00:00Z A <a@b.c>\n"),
		F("deploy/a.sql", "CREATE TABLE a (x);"),
		F("revert/a.sql", "DROP TABLE a;"),
		F("revert/b.sql", "DROP TABLE b;"),
	};
	const struct rip_layout_file no_revert[] = {
		F("sqitch.plan", "a 2024-01-01T00:00:00Z A <a@b.c>\n"),
		F("deploy/a.sql", "CREATE TABLE a (x);"),
	};
	const struct rip_layout_file no_plan[] = {
		F("deploy/a.sql", "CREATE TABLE a (x);"),
	};
	const struct rip_layout_file pragmas_only[] = {
		F("sqitch.plan", "%syntax-version=1.0.0\n%project=shop\n\n"),
		F("sqitch.conf", "[core]\n"),
	};
	char *v[] = { (char *)"a" };
	struct rip_strlist by_name = { v, 1 };
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(read_as(&m, RIP_LAYOUT_SQITCH, RIP_LAYOUT_SQITCH,
		no_deploy, N(no_deploy), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/sqitch.plan:3: change 'b' has no deploy");
	assert_err_contains(&err, "mig/deploy/b.sql");
	assert_int_equal(read_as(&m, RIP_LAYOUT_SQITCH, RIP_LAYOUT_SQITCH,
		no_revert, N(no_revert), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/deploy/a.sql has no down");
	assert_err_contains(&err, "revert/a.sql");
	/* a change may be listed irreversible by its name */
	assert_int_equal(read_opts(&m, RIP_LAYOUT_SQITCH, &by_name, NULL,
		no_revert, N(no_revert), &err), 0);
	assert_true(m.v[0].irreversible);
	rip_migrations_release(&m);
	assert_int_equal(read_as(&m, RIP_LAYOUT_SQITCH, RIP_LAYOUT_SQITCH,
		no_plan, N(no_plan), &err), RIP_ECONFIG);
	assert_err_contains(&err, "sqitch.plan");
	assert_int_equal(read_as(&m, RIP_LAYOUT_SQITCH, RIP_LAYOUT_SQITCH,
		pragmas_only, N(pragmas_only), &err), 0);
	assert_int_equal(m.n, 0);
	rip_migrations_release(&m);
}

static void test_sqitch_baseline(void **state)
{
	const struct rip_layout_file files[] = {
		F("sqitch.plan", "z 2024-01-01T00:00:00Z A <a@b.c>\n"
		  "y 2024-01-01T00:00:00Z A <a@b.c>\n"
		  "x 2024-01-01T00:00:00Z A <a@b.c>\n"),
		F("deploy/z.sql", "CREATE TABLE z (a);"),
		F("deploy/y.sql", "CREATE TABLE y (a);"),
		F("deploy/x.sql", "CREATE TABLE x (a);"),
		F("revert/x.sql", "DROP TABLE x;"),
	};
	static const char *const ok[] = { "y", "0002", "2", "0002_y" };
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < N(ok); i++) {
		assert_int_equal(read_opts(&m, RIP_LAYOUT_SQITCH, NULL, ok[i],
			files, N(files), &err), 0);
		assert_int_equal(m.n, 3);
		assert_true(m.v[0].baseline);
		assert_true(m.v[1].baseline);
		assert_false(m.v[2].baseline);
		rip_migrations_release(&m);
	}
	/* "z" is the first change: y is then outside the baseline */
	assert_int_equal(read_opts(&m, RIP_LAYOUT_SQITCH, NULL, "z", files,
		N(files), &err), RIP_ECONFIG);
	assert_err_contains(&err, "mig/deploy/y.sql has no down");
	assert_int_equal(read_opts(&m, RIP_LAYOUT_SQITCH, NULL, "w", files,
		N(files), &err), RIP_ECONFIG);
	assert_err_contains(&err, "baseline 'w'");
}

static void test_diesel(void **state)
{
	const struct rip_layout_file files[] = {
		F("2026-06-03-220228-0000_add_posts/up.sql", "CREATE TABLE p (x);"),
		F("2026-06-03-220228-0000_add_posts/down.sql", "DROP TABLE p;"),
		F("2019-02-26-002946_create_users/up.sql", "CREATE TABLE u (x);"),
		F("2019-02-26-002946_create_users/down.sql", "DROP TABLE u;"),
		F("00000000000000_diesel_initial_setup/up.sql", "SELECT 1;"),
		F("00000000000000_diesel_initial_setup/down.sql", "SELECT 0;"),
		F("2026-06-03-220228_index.users/up.sql",
		  "CREATE INDEX CONCURRENTLY i ON u (x);"),
		F("2026-06-03-220228_index.users/down.sql", "DROP INDEX i;"),
		F("2026-06-03-220228_index.users/metadata.toml",
		  "# no transaction\nrun_in_transaction = false\n"),
		F(".keep", ""),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };
	struct capture c;

	(void)state;
	for (int f = RIP_LAYOUT_AUTO; f <= RIP_LAYOUT_DIESEL; f += 4) {
		capture_start(&c);
		assert_int_equal(read_as(&m, (enum rip_layout_format)f,
			RIP_LAYOUT_DIESEL, files, N(files), &err), 0);
		capture_end(&c);
		assert_string_equal(c.text, "");
		free(c.text);
		assert_int_equal(m.n, 4);
		expect_id(&m.v[0], "00000000000000", "diesel_initial_setup");
		expect_id(&m.v[1], "2019-02-26-002946", "create_users");
		expect_text(&m.v[1].up, "CREATE TABLE u (x);",
			"mig/2019-02-26-002946_create_users/up.sql");
		expect_text(&m.v[1].down, "DROP TABLE u;",
			"mig/2019-02-26-002946_create_users/down.sql");
		expect_id(&m.v[2], "2026-06-03-220228", "index.users");
		assert_true(m.v[2].no_transaction);
		expect_id(&m.v[3], "2026-06-03-220228-0000", "add_posts");
		assert_false(m.v[3].no_transaction);
		rip_migrations_release(&m);
	}
}

static void test_diesel_near_misses(void **state)
{
	const struct rip_layout_file files[] = {
		F("2019-02-26-002946_a/up.sql", "CREATE TABLE a (x);"),
		F("2019-02-26-002946_a/down.sql", "DROP TABLE a;"),
		F("2019-02-26-002946_a/up.sql.orig", "CREATE TABLE a (y);"),
		F("diesel.toml", "[print_schema]\n"),
		F("notes/up.sql", "SELECT 1;"),
		F("up.sql", "SELECT 1;"),
		F("2019-03-01-000000_b/metadata.toml",
		  "run_in_transaction = false\n"),
		F("2019-03-02-000000_c/.gitkeep", ""),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };
	struct capture c;

	(void)state;
	capture_start(&c);
	assert_int_equal(read_as(&m, RIP_LAYOUT_DIESEL, RIP_LAYOUT_DIESEL,
		files, N(files), &err), 0);
	capture_end(&c);
	assert_int_equal(m.n, 1);
	assert_false(m.v[0].no_transaction);
	rip_migrations_release(&m);
	assert_has(c.text, "mig/2019-02-26-002946_a/up.sql.orig is not a "
		"diesel migration script");
	assert_has(c.text, "mig/diesel.toml is not in a diesel migration");
	assert_has(c.text, "mig/notes/up.sql");
	assert_has(c.text, "mig/up.sql");
	assert_has(c.text, "mig/2019-03-01-000000_b/metadata.toml has no up.sql");
	assert_lacks(c.text, "gitkeep");
	free(c.text);
}

static void test_flyway(void **state)
{
	const struct rip_layout_file files[] = {
		F("V1.2.10__ten.sql", "CREATE TABLE ten (x);"),
		F("U1.2.10__ten.sql", "DROP TABLE ten;"),
		F("V1.2.9__nine.sql", "CREATE TABLE nine (x);"),
		F("U1.2.9__nine.sql", "DROP TABLE nine;"),
		F("V1__init.sql", "CREATE TABLE init (x);"),
		F("U1__init.sql", "DROP TABLE init;"),
		F("sub/V2_1__Add_user.table.sql", "CREATE TABLE t (x);"),
		F("sub/U2_1__Add_user.table.sql", "DROP TABLE t;"),
		F("V10__idx.sql", "CREATE INDEX CONCURRENTLY i ON t (x);"),
		F("V10__idx.sql.conf", "executeInTransaction=false\n"),
		F("U10__idx.sql", "DROP INDEX i;"),
	};
	static const char *const want[][2] = {
		{ "1", "init" }, { "1.2.9", "nine" }, { "1.2.10", "ten" },
		{ "2.1", "Add_user.table" }, { "10", "idx" },
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	for (int f = RIP_LAYOUT_AUTO; f <= RIP_LAYOUT_FLYWAY; f += 5) {
		assert_int_equal(read_as(&m, (enum rip_layout_format)f,
			RIP_LAYOUT_FLYWAY, files, N(files), &err), 0);
		assert_int_equal(m.n, N(want));
		for (size_t i = 0; i < N(want); i++)
			expect_id(&m.v[i], want[i][0], want[i][1]);
		expect_text(&m.v[2].up, "CREATE TABLE ten (x);",
			"mig/V1.2.10__ten.sql");
		expect_text(&m.v[2].down, "DROP TABLE ten;", "mig/U1.2.10__ten.sql");
		expect_text(&m.v[3].down, "DROP TABLE t;",
			"mig/sub/U2_1__Add_user.table.sql");
		assert_false(m.v[3].no_transaction);
		assert_true(m.v[4].no_transaction);
		rip_migrations_release(&m);
	}
}

static void test_flyway_near_misses(void **state)
{
	const struct rip_layout_file files[] = {
		F("V1__init.sql", "CREATE TABLE a (x);"),
		F("U1__init.sql", "DROP TABLE a;"),
		F("R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;"),
		F("v2__lower.sql", "CREATE TABLE b (x);"),
		F("V3_one_underscore.sql", "CREATE TABLE c (x);"),
		F("B4__baseline.sql", "CREATE TABLE d (x);"),
		F("V5.__dot.sql", "CREATE TABLE e (x);"),
		F("V6__.sql", "CREATE TABLE f (x);"),
		F("flyway.conf", "flyway.url=jdbc:x\n"),
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };
	struct capture c;

	(void)state;
	capture_start(&c);
	assert_int_equal(read_as(&m, RIP_LAYOUT_FLYWAY, RIP_LAYOUT_FLYWAY,
		files, N(files), &err), 0);
	capture_end(&c);
	assert_int_equal(m.n, 1);
	expect_id(&m.v[0], "1", "init");
	rip_migrations_release(&m);
	assert_has(c.text, "mig/R__views.sql is a repeatable migration");
	assert_has(c.text, "mig/v2__lower.sql");
	assert_has(c.text, "did you mean V2__lower.sql?");
	assert_has(c.text, "mig/V3_one_underscore.sql");
	assert_has(c.text, "two underscores");
	assert_has(c.text, "mig/B4__baseline.sql is a flyway baseline");
	assert_has(c.text, "mig/V5.__dot.sql is not a flyway migration");
	assert_has(c.text, "mig/V6__.sql is not a flyway migration");
	assert_has(c.text, "mig/flyway.conf");
	free(c.text);
}

static void test_auto_detect(void **state)
{
	const struct rip_layout_file golang_flyway[] = {
		F("0001_a.up.sql", "CREATE TABLE a (x);"),
		F("0001_a.down.sql", "DROP TABLE a;"),
		F("V1__a.sql", "CREATE TABLE a (x);"),
	};
	const struct rip_layout_file sqitch_diesel[] = {
		F("sqitch.plan", "%project=p\n"),
		F("2019-02-26-002946_a/up.sql", "CREATE TABLE a (x);"),
	};
	const struct rip_layout_file dbmate_like[] = {
		/* names like dbmate's, no markers: not clearly dbmate */
		F("20230101000000_a.sql", "CREATE TABLE a (x);"),
		F("README.md", "hi\n"),
	};
	const struct rip_layout_file keep[] = { F(".gitkeep", "") };
	struct rip_migrations m;
	struct rip_err err = { 0 };
	struct capture c;

	(void)state;
	assert_int_equal(read_as(&m, RIP_LAYOUT_AUTO, RIP_LAYOUT_AUTO,
		golang_flyway, N(golang_flyway), &err), RIP_ECONFIG);
	assert_err_contains(&err, "golang-migrate ('0001_a");
	assert_err_contains(&err, "flyway ('V1__a.sql')");
	assert_err_contains(&err, "[migrations] format");
	assert_int_equal(read_as(&m, RIP_LAYOUT_AUTO, RIP_LAYOUT_AUTO,
		sqitch_diesel, N(sqitch_diesel), &err), RIP_ECONFIG);
	assert_err_contains(&err, "sqitch");
	assert_err_contains(&err, "diesel");
	/* the format named in the config settles it */
	assert_int_equal(read_as(&m, RIP_LAYOUT_GOLANG, RIP_LAYOUT_GOLANG,
		golang_flyway, N(golang_flyway), &err), 0);
	assert_int_equal(m.n, 1);
	rip_migrations_release(&m);

	/* nothing recognised, or nothing at all: no migrations, no error */
	capture_start(&c);
	assert_int_equal(read_as(&m, RIP_LAYOUT_AUTO, RIP_LAYOUT_AUTO,
		dbmate_like, N(dbmate_like), &err), 0);
	assert_int_equal(m.n, 0);
	rip_migrations_release(&m);
	capture_end(&c);
	assert_has(c.text, "no migration layout recognised in mig");
	free(c.text);
	capture_start(&c);
	assert_int_equal(read_as(&m, RIP_LAYOUT_AUTO, RIP_LAYOUT_AUTO, keep,
		N(keep), &err), 0);
	assert_int_equal(read_as(&m, RIP_LAYOUT_AUTO, RIP_LAYOUT_AUTO, NULL, 0,
		&err), 0);
	assert_int_equal(m.n, 0);
	rip_migrations_release(&m);
	capture_end(&c);
	assert_string_equal(c.text, "");
	free(c.text);
}

/* Every migration's checksum is the SHA-256 of its normalised up, its
 * contract marker left out: of the whole of it for an expand one. */
static void expect_checksums(const struct rip_migrations *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct rip_buf norm = RIP_BUF_INIT;
		struct rip_migration back = { 0 };
		unsigned char want[RIP_SHA256_LEN], whole[RIP_SHA256_LEN];

		rip_migration_normalise(&norm, &m->v[i]);
		rip_migration_checksum(want, norm.buf, norm.len);
		rip_sha256(whole, norm.buf, norm.len);
		if (!m->v[i].contract)
			assert_memory_equal(want, whole, RIP_SHA256_LEN);
		assert_memory_equal(m->v[i].checksum, want, RIP_SHA256_LEN);
		/* and the artifact reads the same flags back */
		rip_migration_read_markers(&back, norm.buf, norm.len);
		assert_memory_equal(back.checksum, want, RIP_SHA256_LEN);
		assert_int_equal(back.baseline, m->v[i].baseline);
		assert_int_equal(back.irreversible, m->v[i].irreversible);
		assert_int_equal(back.no_transaction, m->v[i].no_transaction);
		assert_int_equal(back.contract, m->v[i].contract);
		rip_buf_release(&norm);
	}
}

static void test_checksum(void **state)
{
	const struct rip_layout_file files[] = {
		F("1_base.sql", "-- migrate:up\nCREATE TABLE b (x);\n"),
		F("2_plain.sql", "-- migrate:up\nCREATE TABLE p (x);\n"
		  "-- migrate:down\nDROP TABLE p;\n"),
		F("3_notx.sql", "-- migrate:up transaction:false\nSELECT 1;\n"
		  "-- migrate:down\nSELECT 0;\n"),
		F("4_marked.sql", "-- migrate:up\n-- ripcord:irreversible\n"
		  "DROP TABLE p;\n-- migrate:down\n"),
		F("5_listed.sql", "-- migrate:up transaction:false\n"
		  "DROP TABLE b;\n"),
		F("6_own.sql", "-- migrate:up\n-- ripcord:no-transaction\n"
		  "SELECT 2;\n-- migrate:down\nSELECT 3;\n"),
	};
	char *v[] = { (char *)"5_listed" };
	struct rip_strlist list = { v, 1 };
	unsigned char plain[RIP_SHA256_LEN];
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(read_opts(&m, RIP_LAYOUT_DBMATE, &list, "1", files,
		N(files), &err), 0);
	assert_int_equal(m.n, 6);
	assert_true(m.v[0].baseline);
	assert_true(m.v[2].no_transaction);
	assert_true(m.v[3].irreversible);
	assert_true(m.v[4].irreversible);
	assert_true(m.v[4].no_transaction);
	assert_true(m.v[5].no_transaction);
	expect_checksums(&m);
	/* a plain up's normalised form is the up itself */
	rip_sha256(plain, "CREATE TABLE p (x);\n", 20);
	assert_memory_equal(m.v[1].checksum, plain, RIP_SHA256_LEN);
	rip_migrations_release(&m);

	/* a flag changes the checksum */
	assert_int_equal(read_opts(&m, RIP_LAYOUT_DBMATE, &list, "2", files,
		N(files), &err), 0);
	assert_true(m.v[1].baseline);
	assert_memory_not_equal(m.v[1].checksum, plain, RIP_SHA256_LEN);
	expect_checksums(&m);
	rip_migrations_release(&m);
}

/*
 * The contract phase: a first-line marker, with or without a space after
 * the colon, in golang-migrate, dbmate (above or below "-- migrate:up")
 * and sqitch alike, or [migrations] contract by id, version or a sqitch
 * change's name; every other up is expand. The flag is carried in the
 * normalised up but left out of its checksum, and a contract up still
 * needs its down.
 */
static void test_contract_phase(void **state)
{
	const struct rip_layout_file golang[] = {
		F("0001_add_email.up.sql", "ALTER TABLE u ADD email text;"),
		F("0001_add_email.down.sql", "ALTER TABLE u DROP email;"),
		F("0002_drop_mail.up.sql",
		  "-- ripcord: contract\nALTER TABLE u DROP mail;\n"),
		F("0002_drop_mail.down.sql", "ALTER TABLE u ADD mail text;"),
		F("0003_drop_fax.up.sql",
		  "-- ripcord:contract drops fax, unused since 0001\n"
		  "ALTER TABLE u DROP fax;\n"),
		F("0003_drop_fax.down.sql", "ALTER TABLE u ADD fax text;"),
		F("0004_listed.up.sql", "ALTER TABLE u DROP pager;"),
		F("0004_listed.down.sql", "ALTER TABLE u ADD pager text;"),
		/* on the second line it is a comment, not a mark */
		F("0005_late.up.sql",
		  "-- tidy\n-- ripcord: contract\nSELECT 1;"),
		F("0005_late.down.sql", "SELECT 0;"),
		/* a look-alike is not the mark */
		F("0006_alike.up.sql", "-- ripcord: contracts\nSELECT 1;"),
		F("0006_alike.down.sql", "SELECT 0;"),
	};
	const struct rip_layout_file dbmate[] = {
		F("1_above.sql", "-- ripcord: contract\n-- migrate:up\n"
		  "DROP TABLE a;\n-- migrate:down\nCREATE TABLE a (x);\n"),
		F("2_below.sql", "-- migrate:up\n-- ripcord:contract\n"
		  "DROP TABLE b;\n-- migrate:down\nCREATE TABLE b (x);\n"),
		F("3_expand.sql", "-- migrate:up\nCREATE TABLE c (x);\n"
		  "-- migrate:down\nDROP TABLE c;\n"),
	};
	const struct rip_layout_file sqitch[] = {
		F("sqitch.plan", "%project=shop\n"
		  "widen 2024-01-01T00:00:00Z Ann <a@x.org>\n"
		  "narrow 2024-01-02T00:00:00Z Ann <a@x.org>\n"),
		F("deploy/widen.sql", "ALTER TABLE t ADD y int;"),
		F("revert/widen.sql", "ALTER TABLE t DROP y;"),
		F("deploy/narrow.sql", "ALTER TABLE t DROP x;"),
		F("revert/narrow.sql", "ALTER TABLE t ADD x int;"),
	};
	const struct rip_layout_file no_down[] = {
		F("0002_drop_mail.up.sql",
		  "-- ripcord: contract\nALTER TABLE u DROP mail;\n"),
	};
	char *v[] = { (char *)"0004" }, *names[] = { (char *)"narrow" };
	struct rip_strlist list = { v, 1 }, by_name = { names, 1 };
	struct rip_layout_opts o = { .format = RIP_LAYOUT_GOLANG, .dir = "mig",
		.contract = &list };
	enum rip_layout_format got;
	unsigned char plain[RIP_SHA256_LEN];
	struct rip_migrations m;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_layout_read(&m, &got, golang, N(golang), &o,
		&err), 0);
	assert_int_equal(m.n, 6);
	assert_false(m.v[0].contract);
	assert_true(m.v[1].contract);
	assert_true(m.v[2].contract);
	assert_true(m.v[3].contract);
	assert_false(m.v[4].contract);
	assert_false(m.v[5].contract);
	/* every contract up keeps its down */
	for (size_t i = 0; i < 4; i++)
		assert_non_null(m.v[i].down.text);
	expect_checksums(&m);
	/* the project's own mark is kept, not doubled; a listed one gets it */
	{
		struct rip_buf norm = RIP_BUF_INIT;

		rip_migration_normalise(&norm, &m.v[1]);
		assert_string_equal(norm.buf, "-- ripcord: contract\n"
			"ALTER TABLE u DROP mail;\n");
		rip_buf_release(&norm);
		rip_migration_normalise(&norm, &m.v[3]);
		assert_string_equal(norm.buf, "-- ripcord:contract\n"
			"ALTER TABLE u DROP pager;");
		rip_buf_release(&norm);
	}
	/* the phase is left out of the checksum: listed, or the project's
	 * own first line with a space, or with a reason */
	rip_sha256(plain, "ALTER TABLE u DROP pager;", 25);
	assert_memory_equal(m.v[3].checksum, plain, RIP_SHA256_LEN);
	rip_sha256(plain, "ALTER TABLE u DROP mail;\n", 25);
	assert_memory_equal(m.v[1].checksum, plain, RIP_SHA256_LEN);
	rip_sha256(plain, "ALTER TABLE u DROP fax;\n", 24);
	assert_memory_equal(m.v[2].checksum, plain, RIP_SHA256_LEN);
	rip_sha256(plain, "ALTER TABLE u ADD email text;", 29);
	assert_memory_equal(m.v[0].checksum, plain, RIP_SHA256_LEN);
	rip_migrations_release(&m);

	o.format = RIP_LAYOUT_DBMATE;
	o.contract = NULL;
	assert_int_equal(rip_layout_read(&m, &got, dbmate, N(dbmate), &o,
		&err), 0);
	assert_int_equal(m.n, 3);
	assert_true(m.v[0].contract);
	assert_true(m.v[1].contract);
	assert_false(m.v[2].contract);
	expect_checksums(&m);
	rip_migrations_release(&m);

	o.format = RIP_LAYOUT_SQITCH;
	o.contract = &by_name;
	assert_int_equal(rip_layout_read(&m, &got, sqitch, N(sqitch), &o,
		&err), 0);
	assert_int_equal(m.n, 2);
	assert_false(m.v[0].contract);
	assert_true(m.v[1].contract);
	expect_checksums(&m);
	rip_migrations_release(&m);

	o.format = RIP_LAYOUT_GOLANG;
	o.contract = NULL;
	assert_int_equal(rip_layout_read(&m, &got, no_down, N(no_down), &o,
		&err), RIP_ECONFIG);
	assert_err_contains(&err, "0002_drop_mail.up.sql has no down");
}

/*
 * The contract marker never counts in the checksum, however it came (added
 * from [migrations] contract, the project's own first line, either
 * spelling, after other markers); every other marker still does.
 */
static void test_checksum_contract(void **state)
{
	static const char *const same[] = {
		"-- ripcord:contract\nDROP TABLE t;\n",
		"-- ripcord: contract\nDROP TABLE t;\n",
		"-- ripcord:\tcontract drops t, unused since 0003\nDROP TABLE t;\n",
		"-- ripcord:contract\n-- ripcord: contract\nDROP TABLE t;\n",
	};
	unsigned char plain[RIP_SHA256_LEN], got[RIP_SHA256_LEN];
	unsigned char irr[RIP_SHA256_LEN];
	struct rip_migration m = { 0 };
	struct rip_buf norm = RIP_BUF_INIT;

	(void)state;
	rip_migration_checksum(plain, "DROP TABLE t;\n", 14);
	rip_sha256(got, "DROP TABLE t;\n", 14);
	assert_memory_equal(plain, got, RIP_SHA256_LEN);
	for (size_t i = 0; i < N(same); i++) {
		rip_migration_checksum(got, same[i], strlen(same[i]));
		assert_memory_equal(got, plain, RIP_SHA256_LEN);
	}
	/* irreversible still counts, with contract before or after it */
	rip_migration_checksum(irr, "-- ripcord:irreversible\nDROP TABLE t;\n",
		38);
	assert_memory_not_equal(irr, plain, RIP_SHA256_LEN);
	rip_migration_checksum(got, "-- ripcord:irreversible\n"
		"-- ripcord:contract\nDROP TABLE t;\n", 58);
	assert_memory_equal(got, irr, RIP_SHA256_LEN);
	rip_migration_checksum(got, "-- ripcord:contract\n"
		"-- ripcord:irreversible\nDROP TABLE t;\n", 58);
	assert_memory_equal(got, irr, RIP_SHA256_LEN);
	/* a marker below the SQL is a comment, and counted */
	rip_migration_checksum(got, "DROP TABLE t;\n-- ripcord:contract\n", 34);
	assert_memory_not_equal(got, plain, RIP_SHA256_LEN);
	/* read back from an artifact: the same checksum, and the flag */
	rip_migration_read_markers(&m, same[1], strlen(same[1]));
	assert_true(m.contract);
	assert_memory_equal(m.checksum, plain, RIP_SHA256_LEN);
	/* as cut normalises it: the flag from the list adds the line */
	m = (struct rip_migration){ .contract = true, .irreversible = true };
	rip_sql_set(&m.up, "DROP TABLE t;\n", 14, "x.up.sql");
	rip_migration_normalise(&norm, &m);
	assert_string_equal(norm.buf, "-- ripcord:irreversible\n"
		"-- ripcord:contract\nDROP TABLE t;\n");
	rip_migration_checksum(got, norm.buf, norm.len);
	assert_memory_equal(got, irr, RIP_SHA256_LEN);
	rip_buf_release(&norm);
	rip_sql_release(&m.up);
}

/* Thousands of migrations, shuffled: read in order, and quickly. */
static void test_many(void **state)
{
	const size_t count = 4000, total = 2 * count;
	struct rip_layout_file *files = calloc(total, sizeof(*files));
	char (*paths)[48] = calloc(total, sizeof(*paths));
	struct rip_migrations m;
	struct rip_err err = { 0 };
	clock_t t0 = clock();

	(void)state;
	assert_non_null(files);
	assert_non_null(paths);
	for (size_t i = 0; i < total; i++) {
		size_t k = (i * 7919) % total; /* a permutation */

		snprintf(paths[i], sizeof(paths[i]), "%zu_m%zu.%s.sql", k / 2,
			(k / 2) % 3, k % 2 ? "down" : "up");
		files[i].path = paths[i];
		files[i].data = "SELECT 1;";
		files[i].len = 9;
	}
	assert_int_equal(read_as(&m, RIP_LAYOUT_AUTO, RIP_LAYOUT_GOLANG, files,
		total, &err), 0);
	assert_int_equal(m.n, count);
	for (size_t i = 1; i < m.n; i++)
		assert_true(rip_version_cmp(m.v[i - 1].version,
			m.v[i].version) < 0);
	assert_string_equal(m.v[count - 1].id, "3999_m0");
	rip_migrations_release(&m);
	free(files);
	free(paths);
	/* generous: quadratic pairing took seconds here */
	assert_true(clock() - t0 < 5 * CLOCKS_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_layout_names),
		cmocka_unit_test(test_golang_pairs_in_order),
		cmocka_unit_test(test_golang_shared_version),
		cmocka_unit_test(test_up_without_down),
		cmocka_unit_test(test_down_without_up),
		cmocka_unit_test(test_near_miss_names),
		cmocka_unit_test(test_empty_down),
		cmocka_unit_test(test_marked_irreversible),
		cmocka_unit_test(test_listed_irreversible),
		cmocka_unit_test(test_contract_phase),
		cmocka_unit_test(test_checksum_contract),
		cmocka_unit_test(test_irreversible_with_down),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_baseline_other_layouts),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_invalid_ids),
		cmocka_unit_test(test_golang_near_misses),
		cmocka_unit_test(test_dbmate),
		cmocka_unit_test(test_dbmate_errors),
		cmocka_unit_test(test_dbmate_near_misses),
		cmocka_unit_test(test_sqitch),
		cmocka_unit_test(test_sqitch_rework),
		cmocka_unit_test(test_sqitch_malformed),
		cmocka_unit_test(test_sqitch_missing_scripts),
		cmocka_unit_test(test_sqitch_baseline),
		cmocka_unit_test(test_diesel),
		cmocka_unit_test(test_diesel_near_misses),
		cmocka_unit_test(test_flyway),
		cmocka_unit_test(test_flyway_near_misses),
		cmocka_unit_test(test_auto_detect),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
