/* SPDX-License-Identifier: MIT */
/*
 * test_db_command.c: the command driver ([migrations] driver = command):
 * the migration's SQL goes to a temporary file under $TMPDIR (or /tmp)
 * that the program gets as {file}, and the file is gone afterwards. The
 * program is a real sh that writes down what it saw.
 */
#include "helpers.h"

#include <sys/stat.h>

#include "ripcord/db.h"
#include "ripcord/migration.h"

/* The content of path, or "" when it cannot be read; static, one at a time. */
static const char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static void apply_one(const char *dir, const char *apply)
{
	char ledger[512];
	struct rip_db_target t = { .apply = apply, .ledger = ledger };
	struct rip_migration m = { .version = "0001", .name = "init",
		.id = "0001_init" };
	struct rip_err err = { 0 };
	struct rip_db *db = NULL;

	snprintf(ledger, sizeof(ledger), "%s/ledger.db", dir);
	m.up.text = "CREATE TABLE t (x int);\n";
	m.up.len = strlen(m.up.text);
	m.up.file = "db/0001_init.up.sql";
	if (rip_db_command.open(&db, &t, &err) < 0)
		fail_msg("open: %s", err.msg);
	if (rip_db_command.apply(db, &m, RIP_DB_UP, &err) < 0)
		fail_msg("apply: %s", err.msg);
	rip_db_command.close(db);
}

/* The SQL file is made in $TMPDIR, handed over whole, then removed. */
static void test_tmpdir(void **state)
{
	struct tmpdir *t = *state;
	char tmp[300], apply[1024], *old = getenv("TMPDIR");
	const char *seen;

	old = old ? strdup(old) : NULL;
	snprintf(tmp, sizeof(tmp), "%s/tmp", t->path);
	assert_int_equal(mkdir(tmp, 0700), 0);
	setenv("TMPDIR", tmp, 1);
	snprintf(apply, sizeof(apply), "sh -c \"echo $1 > %s/path; "
		"cat $1 > %s/copy; ls $TMPDIR > %s/during\" sh {file}", t->path,
		t->path, t->path);
	apply_one(t->path, apply);
	seen = slurp(tpath(state, "path"));
	if (strncmp(seen, tmp, strlen(tmp)) ||
	    strncmp(seen + strlen(tmp), "/ripcord-migration-", 19))
		fail_msg("the SQL file '%s' is not in $TMPDIR '%s'", seen, tmp);
	assert_string_equal(slurp(tpath(state, "copy")),
		"CREATE TABLE t (x int);\n");
	assert_non_null(strstr(slurp(tpath(state, "during")),
		"ripcord-migration-"));
	assert_int_equal(count_entries(tmp), 0); /* removed afterwards */
	if (old)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
}

/* Without TMPDIR (or with an empty one) the file goes to /tmp. */
static void test_default_tmp(void **state)
{
	struct tmpdir *t = *state;
	char apply[1024], *old = getenv("TMPDIR");

	old = old ? strdup(old) : NULL;
	setenv("TMPDIR", "", 1);
	snprintf(apply, sizeof(apply), "sh -c \"echo $1 > %s/path\" sh {file}",
		t->path);
	apply_one(t->path, apply);
	assert_int_equal(strncmp(slurp(tpath(state, "path")),
		"/tmp/ripcord-migration-", 23), 0);
	if (old)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tmpdir, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_default_tmp, tmpdir_setup,
			tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
