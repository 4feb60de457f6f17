/* SPDX-License-Identifier: MIT */
/*
 * test_plan_schema.c: what an abort or a rollback says about the schema,
 * what a contract's down cannot bring back, and the refusal of a lossy
 * rollback (plan_schema.h). rip_schema_ahead, which reads a database and
 * the store, is covered end to end by tests/integration/aborts.sh.
 */
#include <string.h>

#include "helpers.h"

#include "ripcord/plan_schema.h"

static void mig(struct rip_migration *m, const char *id, const char *up,
	bool contract)
{
	memset(m, 0, sizeof(*m));
	m->id = (char *)id;
	m->contract = contract;
	rip_sql_set(&m->up, up, strlen(up), "x.up.sql");
}

static void test_words_keep(void **state)
{
	struct rip_plan_schema s = { .planned = true, .keep = true };
	struct rip_buf b = RIP_BUF_INIT;

	(void)state;
	rip_plan_schema_words(&b, &s);
	assert_string_equal(b.buf, "lossless (schema kept: no migration "
		"applied)");
	s.level = rip_xstrdup("0007_add_email");
	rip_strlist_push(&s.kept, "0006_add_phone");
	rip_strlist_push(&s.kept, "0007_add_email");
	rip_buf_reset(&b);
	rip_plan_schema_words(&b, &s);
	assert_string_equal(b.buf, "lossless (schema kept at 0007_add_email, "
		"2 expand migrations)");
	s.kept_contract = 1;
	rip_buf_reset(&b);
	rip_plan_schema_words(&b, &s);
	assert_string_equal(b.buf, "lossless (schema kept at 0007_add_email, "
		"1 expand and 1 contract migrations)");
	assert_true(rip_schema_lossless(&s));
	rip_buf_release(&b);
	rip_plan_schema_release(&s);
	assert_null(s.level);
	/* the lead could not be read: kept all the same, said plainly */
	s = (struct rip_plan_schema){ .planned = true, .keep = true,
		.unknown = true };
	rip_plan_schema_words(&b, &s);
	assert_string_equal(b.buf, "lossless (schema kept as it is)");
	rip_buf_release(&b);
	/* no database: nothing said */
	s = (struct rip_plan_schema){ .keep = true };
	rip_plan_schema_words(&b, &s);
	assert_int_equal(b.len, 0);
	rip_buf_release(&b);
}

static void test_contract_loss(void **state)
{
	struct rip_plan_schema s = { .planned = true };
	struct rip_migration m;
	struct rip_buf b = RIP_BUF_INIT;
	struct rip_err err = { 0 };

	(void)state;
	/* an expand that drops something is lint's business, not a loss here */
	mig(&m, "0006_tidy", "ALTER TABLE users DROP COLUMN tmp;\n", false);
	rip_schema_note_contract(&s, &m);
	assert_int_equal(s.nloss, 0);
	free(m.up.text);
	free(m.up.file);
	rip_plan_schema_words(&b, &s);
	assert_string_equal(b.buf, "");
	assert_int_equal(rip_schema_refuse_loss(&s, "rollback", "v1", false,
		&err), 0);

	mig(&m, "0007_drop_mail", "-- ripcord: contract\nALTER TABLE users "
		"DROP COLUMN mail;\nDROP TABLE audit;\nCREATE INDEX i ON users "
		"(email);\n", true);
	rip_schema_note_contract(&s, &m);
	free(m.up.text);
	free(m.up.file);
	assert_int_equal(s.nloss, 2);
	assert_string_equal(s.loss[0].object, "users.mail");
	assert_string_equal(s.loss[0].migration, "0007_drop_mail");
	assert_string_equal(s.loss[0].why, "its data was dropped by "
		"0007_drop_mail (contract) and the down only re-creates the column "
		"empty");
	assert_string_equal(s.loss[1].object, "audit");
	assert_false(rip_schema_lossless(&s));
	rip_plan_schema_words(&b, &s);
	assert_string_equal(b.buf, "data lost: users.mail (0007_drop_mail), "
		"audit (0007_drop_mail)");

	assert_int_equal(rip_schema_refuse_loss(&s, "rollback", "v1", false,
		&err), RIP_EFAIL);
	assert_non_null(strstr(err.msg, "refusing the rollback to v1: its downs "
		"undo 1 contract migration that ran"));
	assert_non_null(strstr(err.msg, "users.mail: its data was dropped"));
	assert_non_null(strstr(err.msg, "--accept-data-loss"));
	assert_int_equal(rip_schema_refuse_loss(&s, "rollback", "v1", true,
		&err), 0);
	/* keep runs no down: nothing is lost, whatever the downs would do */
	s.keep = true;
	assert_true(rip_schema_lossless(&s));
	assert_int_equal(rip_schema_refuse_loss(&s, "rollback", "v1", false,
		&err), 0);
	rip_buf_release(&b);
	rip_plan_schema_release(&s);
}

static void test_rebuild(void **state)
{
	struct rip_plan_schema s = { .planned = true };
	struct rip_migration m;

	(void)state;
	mig(&m, "0008_narrow", "-- ripcord: contract\nCREATE TABLE new_t (id "
		"INTEGER);\nINSERT INTO new_t SELECT id FROM t;\nDROP TABLE t;\n"
		"ALTER TABLE new_t RENAME TO t;\n", true);
	rip_schema_note_contract(&s, &m);
	free(m.up.text);
	free(m.up.file);
	assert_int_equal(s.nloss, 1);
	assert_string_equal(s.loss[0].object, "t");
	assert_non_null(strstr(s.loss[0].why, "rebuilt the table"));
	rip_plan_schema_release(&s);
}

/* A contract the parser names nothing in (an UPDATE to values, a DO
 * block, a command) is lossy all the same, named by the migration. */
static void test_contract_unnamed(void **state)
{
	static const char *const ups[] = {
		"-- ripcord:contract\nUPDATE users SET mail = lower(mail);\n",
		"-- ripcord:contract\nDO $$ BEGIN ALTER TABLE users DROP COLUMN "
		"old; END $$;\n",
		"#!/bin/sh\nexec psql -f purge.sql\n",
	};
	struct rip_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(ups); i++) {
		struct rip_plan_schema s = { .planned = true };
		struct rip_buf b = RIP_BUF_INIT;
		struct rip_migration m;

		mig(&m, "0002_purge", ups[i], true);
		rip_schema_note_contract(&s, &m);
		free(m.up.text);
		free(m.up.file);
		assert_int_equal(s.nloss, 1);
		assert_true(s.loss[0].unnamed);
		assert_string_equal(s.loss[0].object, "data changed by "
			"0002_purge (contract)");
		assert_string_equal(s.loss[0].why, "its down cannot bring it "
			"back");
		assert_false(rip_schema_lossless(&s));
		rip_plan_schema_words(&b, &s);
		assert_string_equal(b.buf, "data lost: data changed by 0002_purge "
			"(contract)");
		assert_int_equal(rip_schema_refuse_loss(&s, "rollback", "v1",
			false, &err), RIP_EFAIL);
		assert_non_null(strstr(err.msg, "(data changed by 0002_purge "
			"(contract): its down cannot bring it back)"));
		rip_buf_release(&b);
		rip_plan_schema_release(&s);
	}
	/* no up text at all (a command driver's file not read) */
	{
		struct rip_plan_schema s = { .planned = true };
		struct rip_migration m = { .id = (char *)"0003_cmd",
			.contract = true };

		rip_schema_note_contract(&s, &m);
		assert_int_equal(s.nloss, 1);
		assert_false(rip_schema_lossless(&s));
		rip_plan_schema_release(&s);
	}
}

/* What a contract's DELETE, TRUNCATE and UPDATE ... SET col = NULL
 * removed is named; a widening type change loses nothing by itself (the
 * contract's down is lossy all the same: named by the migration). */
static void test_contract_rows_and_widening(void **state)
{
	struct rip_plan_schema s = { .planned = true };
	struct rip_migration m;

	(void)state;
	mig(&m, "0002_purge", "-- ripcord:contract\nDELETE FROM sessions "
		"WHERE old;\nTRUNCATE audit;\nUPDATE users SET mail = NULL, "
		"n = 1 WHERE id > 2;\n", true);
	rip_schema_note_contract(&s, &m);
	free(m.up.text);
	free(m.up.file);
	assert_int_equal(s.nloss, 3);
	assert_string_equal(s.loss[0].object, "sessions");
	assert_string_equal(s.loss[0].why, "0002_purge (contract) deleted its "
		"rows and its down does not bring them back");
	assert_string_equal(s.loss[1].object, "audit");
	assert_non_null(strstr(s.loss[1].why, "truncated its rows"));
	assert_string_equal(s.loss[2].object, "users.mail");
	assert_string_equal(s.loss[2].why, "0002_purge (contract) set it to "
		"NULL and its down does not bring the values back");
	rip_plan_schema_release(&s);

	s = (struct rip_plan_schema){ .planned = true };
	mig(&m, "0003_widen", "-- ripcord:contract\nALTER TABLE users ALTER "
		"COLUMN mail TYPE varchar(500);\n", true);
	rip_sql_set(&m.down, "ALTER TABLE users ALTER COLUMN mail TYPE "
		"varchar(200);\n", 55, "x.down.sql");
	rip_schema_note_contract(&s, &m);
	assert_int_equal(s.nloss, 1);
	assert_true(s.loss[0].unnamed);
	rip_plan_schema_release(&s);
	/* narrowing: named */
	s = (struct rip_plan_schema){ .planned = true };
	rip_sql_set(&m.down, "ALTER TABLE users ALTER COLUMN mail TYPE "
		"varchar(900);\n", 55, "x.down.sql");
	rip_schema_note_contract(&s, &m);
	assert_int_equal(s.nloss, 1);
	assert_string_equal(s.loss[0].object, "users.mail");
	assert_false(s.loss[0].unnamed);
	rip_plan_schema_release(&s);
	rip_sql_release(&m.up);
	rip_sql_release(&m.down);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_keep),
		cmocka_unit_test(test_contract_loss),
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_contract_unnamed),
		cmocka_unit_test(test_contract_rows_and_widening),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
