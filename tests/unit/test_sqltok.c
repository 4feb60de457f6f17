/* SPDX-License-Identifier: MIT */
/*
 * test_sqltok.c: the SQL scanner and the driver helpers built on it:
 * rip_sql_next splits on ';' only outside quotes, '' escapes, dollar-quoted
 * bodies and comments; rip_sql_scrub blanks what is not SQL (so
 * "concurrently" in a string is gone); rip_sql_controls_tx finds BEGIN and
 * COMMIT but not a SQLite trigger's BEGIN ... END; and the careful reading
 * lint uses (E'' strings, nested comments, words, line numbers).
 */
#include "helpers.h"

#include "ripcord/db.h"
#include "sqltok.h"

/* The statements of text joined with '|', as rip_sql_next finds them. */
static char *split(const char *text)
{
	struct rip_buf b = RIP_BUF_INIT;
	size_t pos = 0, start = 0, end = 0, len = strlen(text);

	while (rip_sql_next(text, len, &pos, &start, &end)) {
		assert_true(start < end && end <= len && pos <= len);
		if (b.len)
			rip_buf_addch(&b, '|');
		rip_buf_add(&b, text + start, end - start);
	}
	assert_int_equal(pos, len);
	return rip_buf_detach(&b, NULL);
}

/* Asserts that got, which it frees, is want. */
static void expect_str(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static void expect_split(const char *text, const char *want)
{
	expect_str(split(text), want);
}

static void test_sql_next_statements(void **state)
{
	size_t pos = 0, start = 0, end = 0;
	const char *t = "CREATE TABLE a (x int);\n\n  INSERT INTO a VALUES (1) ;";

	(void)state;
	assert_true(rip_sql_next(t, strlen(t), &pos, &start, &end));
	assert_int_equal(start, 0);
	assert_int_equal(end, 22);
	assert_int_equal(pos, 23);
	assert_true(rip_sql_next(t, strlen(t), &pos, &start, &end));
	assert_int_equal(start, 27);
	assert_int_equal(t[end], ' ');
	assert_int_equal(end, 51);
	assert_false(rip_sql_next(t, strlen(t), &pos, &start, &end));
	assert_int_equal(pos, strlen(t));

	/* empty statements, blank text, and a last one without ';' */
	expect_split(";;  ;\n", "");
	expect_split("", "");
	expect_split("  -- nothing here\n/* nor here */\n", "");
	expect_split(";SELECT 1;;\t;SELECT 2\n\n", "SELECT 1|SELECT 2");
	/* only the length given counts */
	pos = 0;
	assert_true(rip_sql_next("SELECT 1; SELECT 2", 8, &pos, &start, &end));
	assert_int_equal(end, 8);
	assert_int_equal(pos, 8);
}

static void test_sql_next_quotes(void **state)
{
	(void)state;
	expect_split("INSERT INTO t VALUES ('a;b', 'it''s; fine');SELECT 1",
		"INSERT INTO t VALUES ('a;b', 'it''s; fine')|SELECT 1");
	expect_split("SELECT 'a'';'';b'; SELECT 2", "SELECT 'a'';'';b'|SELECT 2");
	expect_split("CREATE TABLE \"we;ird\" (\"a\"\";\" int); SELECT `x;y`;",
		"CREATE TABLE \"we;ird\" (\"a\"\";\" int)|SELECT `x;y`");
	/* an unterminated quote takes the rest of the text */
	expect_split("SELECT 1; SELECT 'abc; DROP TABLE x;\n",
		"SELECT 1|SELECT 'abc; DROP TABLE x;");
}

static void test_sql_next_dollar_quotes(void **state)
{
	(void)state;
	expect_split("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ "
		"LANGUAGE sql; SELECT 2",
		"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE "
		"sql|SELECT 2");
	/* a tagged body ends only at its own tag */
	expect_split("DO $body$ BEGIN RAISE NOTICE '$$;'; END; $body$;\nSELECT 3",
		"DO $body$ BEGIN RAISE NOTICE '$$;'; END; $body$|SELECT 3");
	expect_split("DO $a1_$ x; $a1_$; y", "DO $a1_$ x; $a1_$|y");
	/* $1 is a parameter, not a quote */
	expect_split("PREPARE p AS SELECT $1; SELECT $2$", "PREPARE p AS "
		"SELECT $1|SELECT $2$");
	expect_split("SELECT $$ never closed; SELECT 1",
		"SELECT $$ never closed; SELECT 1");
}

static void test_sql_next_comments(void **state)
{
	(void)state;
	expect_split("-- first; not a statement\nSELECT 1; /* x; y */ SELECT 2;",
		"SELECT 1|SELECT 2");
	expect_split("SELECT /* ; */ 1 -- trailing; comment\n; SELECT 2",
		"SELECT /* ; */ 1 -- trailing; comment|SELECT 2");
	/* the drivers' reading: a block comment ends at its first close */
	expect_split("/* a /* b */ SELECT 1; */", "SELECT 1|*/");
	expect_split("SELECT 1 /* unterminated; SELECT 2",
		"SELECT 1 /* unterminated; SELECT 2");
}

static void expect_scrub(const char *in, const char *want)
{
	assert_int_equal(strlen(want), strlen(in));
	expect_str(rip_sql_scrub(in, strlen(in)), want);
}

static void test_sql_scrub(void **state)
{
	const char *create = "CREATE INDEX CONCURRENTLY x ON t (a)";
	const char *update = "UPDATE t SET a = 'do it concurrently now'";
	char *w;

	(void)state;
	expect_scrub("CREATE INDEX\tCONCURRENTLY i\nON t (x)",
		"create index concurrently i on t (x)");
	expect_scrub("COMMENT ON TABLE t IS 'runs concurrently'",
		"comment on table t is                    ");
	expect_scrub("SELECT 1 -- concurrently\n/* CONCURRENTLY */x",
		"select 1                                   x");
	expect_scrub("SELECT \"Concurrently\", `a`, $q$ concurrently $q$, $1",
		"select               ,    ,                     , $1");
	expect_scrub("SELECT 'it''s'", "select        ");
	expect_scrub("", "");

	/* what needs_autocommit looks for survives only outside strings */
	w = rip_sql_scrub(create, strlen(create));
	assert_non_null(strstr(w, " concurrently "));
	free(w);
	w = rip_sql_scrub(update, strlen(update));
	assert_null(strstr(w, "concurrently"));
	free(w);
}

static void expect_tx(const char *sql, bool want)
{
	if (rip_sql_controls_tx(sql, strlen(sql)) != want)
		fail_msg("controls_tx(\"%s\") is %d, wanted %d", sql, !want,
			want);
}

static void test_sql_controls_tx(void **state)
{
	(void)state;
	expect_tx("BEGIN;\nCREATE TABLE t (x int);\nCOMMIT;\n", true);
	expect_tx("CREATE TABLE t (x int);\ncommit;", true);
	expect_tx("START TRANSACTION; UPDATE t SET x = 1; END", true);
	expect_tx("SAVEPOINT a; RELEASE a;", true);
	expect_tx("UPDATE t SET x = 1; ROLLBACK;", true);
	expect_tx("-- sqitch\n\nBEGIN;\nSELECT 1;\nCOMMIT;\n", true);

	expect_tx("", false);
	expect_tx("CREATE TABLE t (x int);\nINSERT INTO t VALUES (1);", false);
	expect_tx("-- begin\n/* commit; */ SELECT 'begin; commit';", false);
	expect_tx("CREATE TABLE ending (beginning int);", false);
	/* a SQLite trigger's body holds BEGIN and ';' up to its END */
	expect_tx("CREATE TRIGGER t_touch AFTER UPDATE ON t\nBEGIN\n"
		"  UPDATE t SET at = 1 WHERE id = NEW.id;\n"
		"  INSERT INTO log VALUES (NEW.id);\nEND;\n"
		"CREATE TABLE u (y int);\n", false);
	expect_tx("create temp trigger tr before delete on t begin "
		"delete from u; end; create index i on t (x);", false);
	/* ... and what follows the END counts again */
	expect_tx("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;\n"
		"COMMIT;\n", true);
	/* a trigger without a body is an ordinary statement */
	expect_tx("CREATE TRIGGER tr AFTER INSERT ON t EXECUTE FUNCTION f();\n"
		"BEGIN;\n", true);
}

static void test_sql_line(void **state)
{
	const char *t = "a\nb\n\nc";

	(void)state;
	assert_int_equal(rip_sql_line(t, 0), 1);
	assert_int_equal(rip_sql_line(t, 1), 1);
	assert_int_equal(rip_sql_line(t, 2), 2);
	assert_int_equal(rip_sql_line(t, 5), 4);
	assert_int_equal(rip_sql_line(t, 100), 4);
}

/* The careful reading of text as "kind:text" tokens joined with ' '. */
static char *careful(const char *text)
{
	static const char kinds[] = "_-sqdwn.";
	struct rip_buf b = RIP_BUF_INIT;
	struct rip_sqltok s;

	rip_sqltok_init(&s, text, strlen(text), 0, true);
	while (rip_sqltok_next(&s)) {
		if (s.kind == RIP_SQLTOK_SPACE)
			continue;
		rip_buf_addf(&b, "%s%c%d:%.*s", b.len ? " " : "",
			kinds[s.kind], s.line, (int)(s.end - s.start),
			text + s.start);
	}
	return rip_buf_detach(&b, NULL);
}


static void expect_careful(const char *text, const char *want)
{
	expect_str(careful(text), want);
}

static void test_sqltok_careful(void **state)
{
	(void)state;
	expect_careful("DROP TABLE x;", "w1:DROP w1:TABLE w1:x .1:;");
	expect_careful("SELECT E'it\\'s; x', e'\\\\', 'a\\';",
		"w1:SELECT s1:E'it\\'s; x' .1:, s1:e'\\\\' .1:, s1:'a\\' .1:;");
	expect_careful("/* a /* b; */ still; */ x",
		"-1:/* a /* b; */ still; */ w1:x");
	expect_careful("a$b$ 12.5e3 $1 $x$;$x$ \"Q\"\"\"",
		"w1:a$b$ n1:12.5e3 .1:$ n1:1 d1:$x$;$x$ q1:\"Q\"\"\"");
	expect_careful("\xc3\xa9t\xc3\xa9 $\xc3\xa9$ ; $\xc3\xa9$",
		"w1:\xc3\xa9t\xc3\xa9 d1:$\xc3\xa9$ ; $\xc3\xa9$");
	expect_careful("a -- one\n'two\nlines' /*\n\n*/ b\n",
		"w1:a -1:-- one s2:'two\nlines' -3:/*\n\n*/ w5:b");
}

static void test_sqltok_plain(void **state)
{
	struct rip_sqltok s;
	const char *t = "Ab1 E'x\\';";
	size_t n = 0;

	(void)state;
	/* the plain reading knows no words, nor E'': each byte is a token */
	rip_sqltok_init(&s, t, strlen(t), 0, false);
	while (rip_sqltok_next(&s)) {
		n++;
		assert_int_equal(s.kind, n == 4 ? RIP_SQLTOK_SPACE :
			n == 6 ? RIP_SQLTOK_STRING : RIP_SQLTOK_CHAR);
		if (n == 6)
			assert_int_equal(s.end, 9);
	}
	assert_int_equal(n, 7);
	assert_false(rip_sqltok_is(&s, ';'));
	assert_false(rip_sqltok_next(&s));

	assert_false(rip_sqltok_has_code("", 0));
	assert_false(rip_sqltok_has_code(" -- x\n /* y */\n", 15));
	assert_true(rip_sqltok_has_code("/* y */ ;", 9));
	assert_true(rip_sqltok_has_code("-- x\n'", 6));

	/* 13.10c: a lone ';' is code, but no statement */
	assert_false(rip_sqltok_has_statement("", 0));
	assert_false(rip_sqltok_has_statement("/* y */ ;", 9));
	assert_false(rip_sqltok_has_statement("-- x\n;\n;;", 9));
	assert_true(rip_sqltok_has_statement("-- x\n;'';", 9));
	assert_true(rip_sqltok_has_statement("; SELECT 1", 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_next_statements),
		cmocka_unit_test(test_sql_next_quotes),
		cmocka_unit_test(test_sql_next_dollar_quotes),
		cmocka_unit_test(test_sql_next_comments),
		cmocka_unit_test(test_sql_scrub),
		cmocka_unit_test(test_sql_controls_tx),
		cmocka_unit_test(test_sql_line),
		cmocka_unit_test(test_sqltok_careful),
		cmocka_unit_test(test_sqltok_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
