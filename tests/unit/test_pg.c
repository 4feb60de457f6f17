/* SPDX-License-Identifier: MIT */
/*
 * test_pg.c: the PostgreSQL wrapper (pg.h): password masking and conninfo
 * rewriting without a server; connecting, statements, results, error
 * conversion, transaction states and scratch databases on a real server
 * when RIPCORD_TEST_PG holds a conninfo (tests/pg.sh start DIR prints
 * one), left out of the run otherwise.
 */
#include "helpers.h"

#include "pg.h"

/* ------------------------------------------------------------------ */
/* without a server */

static void expect_mask(const char *in, const char *want)
{
	char *got = rip_pg_mask(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_mask(void **state)
{
	(void)state;
	expect_mask("host=db dbname=app", "host=db dbname=app");
	expect_mask("host=db password=s3cret dbname=app",
		"host=db password=*** dbname=app");
	expect_mask("password = 'it\\'s x' user=a",
		"password = *** user=a");
	expect_mask("password='a b' ", "password=*** ");
	expect_mask("passwordx=1 password=", "passwordx=1 password=***");
	expect_mask("postgresql://ana:pw@db:5432/app?sslmode=require",
		"postgresql://ana:***@db:5432/app?sslmode=require");
	expect_mask("postgres://ana@db/app?password=pw&sslmode=disable",
		"postgres://ana@db/app?password=***&sslmode=disable");
	expect_mask("postgresql://ana:p%40w@db/app",
		"postgresql://ana:***@db/app");
	expect_mask("postgresql:///app", "postgresql:///app");
	expect_mask("", "");
	expect_mask(NULL, "");
}

static void test_conninfo_with_db(void **state)
{
	struct rip_err err = { 0 };
	char *ci = NULL;

	(void)state;
	assert_int_equal(rip_pg_conninfo_with_db(&ci, "host=/tmp dbname=app",
		"other", &err), 0);
	assert_string_equal(ci, "host='/tmp' dbname='other'");
	free(ci);
	assert_int_equal(rip_pg_conninfo_with_db(&ci, "host=/tmp dbname=app",
		NULL, &err), 0);
	assert_string_equal(ci, "host='/tmp' dbname='app'");
	free(ci);
	assert_int_equal(rip_pg_conninfo_with_db(&ci, "host=/tmp", NULL, &err),
		0);
	assert_string_equal(ci, "host='/tmp' dbname='postgres'");
	free(ci);
	assert_int_equal(rip_pg_conninfo_with_db(&ci,
		"postgresql://ana@/app?host=/tmp", "o'k", &err), 0);
	assert_string_equal(ci, "user='ana' host='/tmp' dbname='o\\'k'");
	free(ci);
	assert_int_equal(rip_pg_conninfo_with_db(&ci, "host='unterminated",
		NULL, &err), RIP_ECONFIG);
	assert_null(ci);
	assert_err_contains(&err, "unterminated quoted string");
}

/* A server that is not there: the message names the conninfo, masked. */
static void test_connect_refused(void **state)
{
	struct rip_err err = { 0 };
	struct rip_pg *pg = (struct rip_pg *)&err;

	(void)state;
	assert_int_equal(rip_pg_connect(&pg, "host=/nonexistent/ripcord-pg "
		"password=hunter2 dbname=x connect_timeout=2", &err), RIP_EFAIL);
	assert_null(pg);
	assert_err_contains(&err, "cannot connect to postgres "
		"'host=/nonexistent/ripcord-pg password=*** dbname=x "
		"connect_timeout=2': ");
	assert_err_contains(&err, "/nonexistent/ripcord-pg/.s.PGSQL");
	assert_null(strstr(err.msg, "hunter2"));
	rip_pg_free(NULL);
	rip_pg_res_free(NULL);
}

/* ------------------------------------------------------------------ */
/* on a server */

struct pgfix {
	struct rip_pg *admin;
	struct rip_pg *db;
	char name[64];
};

static int pg_setup(void **state)
{
	static unsigned counter;
	const char *conninfo = getenv("RIPCORD_TEST_PG");
	struct rip_err err = { 0 };
	struct pgfix *p;
	char *ci = NULL;

	*state = NULL;
	if (!conninfo || !*conninfo)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	snprintf(p->name, sizeof(p->name), "ripcord_pg_%ld_%u",
		(long)getpid(), counter++);
	if (rip_pg_connect(&p->admin, conninfo, &err) < 0 ||
	    rip_pg_database_create(p->admin, p->name, &err) < 0 ||
	    rip_pg_conninfo_with_db(&ci, conninfo, p->name, &err) < 0 ||
	    rip_pg_connect(&p->db, ci, &err) < 0)
		fail_msg("%s", err.msg);
	free(ci);
	*state = p;
	return 0;
}

static int pg_teardown(void **state)
{
	struct pgfix *p = *state;
	struct rip_err err = { 0 };

	if (!p)
		return 0;
	rip_pg_free(p->db);
	if (rip_pg_database_drop(p->admin, p->name, &err) < 0)
		fail_msg("%s", err.msg);
	rip_pg_free(p->admin);
	free(p);
	return 0;
}

static struct pgfix *pg_state(void **state)
{
	if (!*state)
		skip();
	return *state;
}

static void test_pg_rows(void **state)
{
	struct pgfix *p = pg_state(state);
	struct rip_err err = { 0 };
	struct rip_pg_res *r = NULL;
	const char *params[2] = { "b", NULL };

	assert_int_equal(rip_pg_exec(p->db, "CREATE TABLE t (k text, v text, "
		"on_ boolean); INSERT INTO t VALUES ('a', '1', true), "
		"('b', NULL, false)", &err), 0);
	assert_int_equal(rip_pg_query(&r, p->db, "SELECT k, v, on_ FROM t "
		"ORDER BY k", 0, NULL, &err), 0);
	assert_int_equal(rip_pg_rows(r), 2);
	assert_string_equal(rip_pg_get(r, 0, 0), "a");
	assert_string_equal(rip_pg_get(r, 0, 1), "1");
	assert_true(rip_pg_flag(r, 0, 2));
	assert_null(rip_pg_get(r, 1, 1));
	assert_string_equal(rip_pg_value(r, 1, 1), "");
	assert_false(rip_pg_flag(r, 1, 2));
	rip_pg_res_free(r);

	/* parameters, SQL NULL among them, and the rows touched */
	assert_int_equal(rip_pg_query(&r, p->db, "UPDATE t SET v = $2 "
		"WHERE k = $1 OR k = 'a'", 2, params, &err), 0);
	assert_int_equal(rip_pg_changed(r), 2);
	rip_pg_res_free(r);
	assert_int_equal(rip_pg_query(&r, p->db, "SELECT count(*) FROM t "
		"WHERE v IS NULL", 0, NULL, &err), 0);
	assert_string_equal(rip_pg_value(r, 0, 0), "2");
	rip_pg_res_free(r);
}

/* The server's message, without its trailing newline; no result. */
static void test_pg_errors(void **state)
{
	struct pgfix *p = pg_state(state);
	struct rip_err err = { 0 };
	struct rip_pg_res *r = (struct rip_pg_res *)&err;
	size_t pos = 99;

	assert_int_equal(rip_pg_query(&r, p->db, "SELECT * FROM nosuch", 0,
		NULL, &err), RIP_EFAIL);
	assert_null(r);
	assert_err_contains(&err, "ERROR:  relation \"nosuch\" does not exist");
	assert_int_not_equal(err.msg[strlen(err.msg) - 1], '\n');
	assert_int_equal(rip_pg_exec(p->db, "SELEC 1", NULL), RIP_EFAIL);

	/* a script: the primary message alone, and where it went wrong (the
	 * script is one implicit transaction: its CREATE is undone) */
	assert_int_equal(rip_pg_exec_script(&pos, p->db, "CREATE TABLE a (x "
		"int);\nSELECT nosuch FROM a;", &err), RIP_EFAIL);
	assert_string_equal(err.msg, "column \"nosuch\" does not exist");
	assert_int_equal(pos, 32);
	assert_int_equal(rip_pg_exec(p->db, "CREATE TABLE a (x int)", &err), 0);
	assert_int_equal(rip_pg_exec_script(&pos, p->db, "CREATE TABLE a (x "
		"int)", &err), RIP_EFAIL);
	assert_string_equal(err.msg, "relation \"a\" already exists");
	assert_int_equal(pos, 0);
	assert_int_equal(rip_pg_exec_script(&pos, p->db, "  -- nothing\n",
		&err), 0);
	assert_int_equal(pos, 0);
}

static void test_pg_transactions(void **state)
{
	struct pgfix *p = pg_state(state);
	struct rip_err err = { 0 };

	assert_int_equal(rip_pg_tx(p->db), RIP_PG_IDLE);
	assert_int_equal(rip_pg_exec(p->db, "BEGIN", &err), 0);
	assert_int_equal(rip_pg_tx(p->db), RIP_PG_INTRANS);
	assert_int_equal(rip_pg_exec(p->db, "SELECT 1/0", &err), RIP_EFAIL);
	assert_err_contains(&err, "division by zero");
	assert_int_equal(rip_pg_tx(p->db), RIP_PG_INERROR);
	rip_pg_rollback(p->db);
	assert_int_equal(rip_pg_tx(p->db), RIP_PG_IDLE);
	assert_true(rip_pg_server_version(p->db) >= 100000);
}

/* Create, refuse a second create, drop with a session still on it. */
static void test_pg_databases(void **state)
{
	struct pgfix *p = pg_state(state);
	const char *conninfo = getenv("RIPCORD_TEST_PG");
	struct rip_err err = { 0 };
	struct rip_pg *on = NULL;
	struct rip_pg_res *r = NULL;
	char name[80], *ci = NULL;

	snprintf(name, sizeof(name), "%s_x", p->name);
	assert_int_equal(rip_pg_database_create(p->admin, name, &err), 0);
	assert_int_equal(rip_pg_database_create(p->admin, name, &err),
		RIP_EFAIL);
	assert_err_contains(&err, "already exists");
	assert_int_equal(rip_pg_conninfo_with_db(&ci, conninfo, name, &err), 0);
	assert_int_equal(rip_pg_connect(&on, ci, &err), 0);
	free(ci);
	if (rip_pg_server_version(p->admin) >= 130000)
		assert_int_equal(rip_pg_database_drop(p->admin, name, &err), 0);
	rip_pg_free(on);
	if (rip_pg_server_version(p->admin) < 130000)
		assert_int_equal(rip_pg_database_drop(p->admin, name, &err), 0);
	assert_int_equal(rip_pg_query(&r, p->admin, "SELECT 1 FROM pg_database "
		"WHERE datname = $1", 1, (const char *const[]){ name }, &err), 0);
	assert_int_equal(rip_pg_rows(r), 0);
	rip_pg_res_free(r);
	/* dropping what is gone is fine */
	assert_int_equal(rip_pg_database_drop(p->admin, name, &err), 0);
}

#define PG(f) cmocka_unit_test_setup_teardown(f, pg_setup, pg_teardown)

/* The postgres tests come last and are left out without a server (see
 * test_fingerprint.c for why they are not skip()ped). */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_conninfo_with_db),
		cmocka_unit_test(test_connect_refused),
		PG(test_pg_rows),
		PG(test_pg_errors),
		PG(test_pg_transactions),
		PG(test_pg_databases),
	};
	return run_group_pg_last("pg", tests, RIP_ARRAY_SIZE(tests),
		pg_setup);
}
