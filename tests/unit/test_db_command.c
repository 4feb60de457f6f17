/* SPDX-License-Identifier: MIT */
/*
 * test_db_command.c: the command driver ([migrations] driver = command):
 * the migration's SQL goes to a temporary file under $TMPDIR (or /tmp)
 * that the program gets as {file}, and the file is gone afterwards. The
 * program is a real sh that writes down what it saw.
 */
#include "helpers.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>

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

/* Applies 0001_init's up through apply with a ledger in dir; the code. */
static int apply_timed(const char *dir, const char *apply, uint64_t timeout_ms,
	struct rip_err *err)
{
	char ledger[512];
	struct rip_db_target t = { .apply = apply, .ledger = ledger,
		.timeout_ms = timeout_ms };
	struct rip_migration m = { .version = "0001", .name = "init",
		.id = "0001_init" };
	struct rip_db *db = NULL;
	int rc;

	snprintf(ledger, sizeof(ledger), "%s/ledger.db", dir);
	m.up.text = "CREATE TABLE t (x int);\n";
	m.up.len = strlen(m.up.text);
	m.up.file = "db/0001_init.up.sql";
	if (rip_db_command.open(&db, &t, err) < 0)
		fail_msg("open: %s", err->msg);
	rc = rip_db_command.apply(db, &m, RIP_DB_UP, err);
	rip_db_command.close(db);
	return rc;
}

static void apply_one(const char *dir, const char *apply)
{
	struct rip_err err = { 0 };

	if (apply_timed(dir, apply, 0, &err) < 0)
		fail_msg("apply: %s", err.msg);
}

/* Whether 0001_init is recorded dirty in the ledger of dir. */
static bool ledger_dirty(const char *dir)
{
	char ledger[512];
	struct rip_db_target t = { .apply = "x {file}", .ledger = ledger };
	struct rip_applied_list l = { 0 };
	struct rip_err err = { 0 };
	struct rip_db *db = NULL;
	bool dirty;

	snprintf(ledger, sizeof(ledger), "%s/ledger.db", dir);
	if (rip_db_command.open(&db, &t, &err) < 0 ||
	    rip_db_command.applied(db, &l, &err) < 0)
		fail_msg("ledger: %s", err.msg);
	dirty = l.n == 1 && l.v[0].dirty && !strcmp(l.v[0].id, "0001_init");
	rip_applied_list_release(&l);
	rip_db_command.close(db);
	return dirty;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether the process pid is gone now: no such process, or a zombie left
 * for init to reap. */
static bool gone_now(long pid)
{
	char stat_path[64], buf[256];
	FILE *f;
	char *rp;
	bool gone = true;

	snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", pid);
	f = fopen(stat_path, "r");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (rp = strrchr(buf, ')')))
		gone = rp[1] == ' ' && rp[2] == 'Z';
	fclose(f);
	return gone;
}

/* Whether the process pid (written to path) is gone within a second: a
 * signal is delivered and acted on a moment after kill(2) returns. */
static bool pid_gone(const char *path)
{
	long pid = strtol(slurp(path), NULL, 10);

	if (pid <= 0)
		fail_msg("no pid in %s", path);
	for (int i = 0; i < 100; i++) {
		if (gone_now(pid))
			return true;
		usleep(10000);
	}
	kill((pid_t)pid, SIGKILL); /* ours: leave nothing behind */
	return false;
}

/* 13.14: a program that runs past the timeout is killed, group and all,
 * and the migration fails with its level dirty. */
static void test_timeout(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };
	char apply[1024];
	double start = now_s(), took;

	snprintf(apply, sizeof(apply), "sh -c \"sleep 30 & echo $! > %s/pid; "
		"wait\" sh {file}", t->path);
	assert_int_equal(apply_timed(t->path, apply, 300, &err), RIP_EFAIL);
	took = now_s() - start;
	if (took > 5)
		fail_msg("the timeout of 300ms took %.1f s", took);
	assert_err_contains(&err, "the level of '0001_init' is now dirty: "
		"db/0001_init.up.sql (the up of migration '0001_init', version "
		"0001): 'sh' ran past [migrations] command_timeout = 300ms; its "
		"process group was killed (SIGTERM)");
	assert_true(ledger_dirty(t->path));
	assert_true(pid_gone(tpath(state, "pid")));
}

/* ... also when it ignores SIGTERM: SIGKILL 2 s later. */
static void test_timeout_term_ignored(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };
	double start = now_s(), took;

	assert_int_equal(apply_timed(t->path, "sh -c \"trap '' TERM; sleep 30\" "
		"sh {file}", 200, &err), RIP_EFAIL);
	took = now_s() - start;
	if (took > 6)
		fail_msg("SIGKILL came after %.1f s", took);
	assert_err_contains(&err, "command_timeout = 200ms; its process group "
		"was killed (SIGTERM, then SIGKILL)");
	assert_true(ledger_dirty(t->path));
}

/* A program that exits 0 but leaves a child holding its output: applied,
 * and the child is killed rather than waited for. */
static void test_child_holds_output(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };
	char apply[1024];
	double start = now_s(), took;

	snprintf(apply, sizeof(apply), "sh -c \"sleep 30 & echo $! > %s/pid\" "
		"sh {file}", t->path);
	assert_int_equal(apply_timed(t->path, apply, 60000, &err), 0);
	took = now_s() - start;
	if (took > 5)
		fail_msg("waited %.1f s for the child", took);
	assert_false(ledger_dirty(t->path));
	assert_true(pid_gone(tpath(state, "pid")));
}

/* A program that is not in PATH fails, dirty, naming it. */
static void test_not_found(void **state)
{
	struct tmpdir *t = *state;
	struct rip_err err = { 0 };

	assert_int_equal(apply_timed(t->path, "no-such-program-xyz {file}", 0,
		&err), RIP_EFAIL);
	assert_err_contains(&err, "cannot run 'no-such-program-xyz' for "
		"db/0001_init.up.sql: not found in PATH");
	assert_true(ledger_dirty(t->path));
	assert_int_equal(apply_timed(t->path, "sh -c \"exit 3\" sh {file}", 0,
		&err), RIP_EFAIL);
	assert_err_contains(&err, "db/0001_init.up.sql: 'sh' exited with 3");
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
		cmocka_unit_test_setup_teardown(test_timeout, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_timeout_term_ignored,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_child_holds_output,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_not_found, tmpdir_setup,
			tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
