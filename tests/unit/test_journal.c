/* SPDX-License-Identifier: MIT */
/*
 * test_journal.c: the switch journal (intent, outcome, pending rows, the
 * history rollback reads) and the audit log (append, list, the hash chain
 * and the hand-check recipe of journal.c), tampering with state.db through
 * SQLite directly, concurrent appends, and the upgrade of a version-1
 * state.db.
 */
#include "helpers.h"

#include <sqlite3.h>
#include <sys/wait.h>

#include "ripcord/digest.h"
#include "ripcord/journal.h"
#include "ripcord/state.h"

/* The recipe in journal.c's header comment, as one statement. */
#define RECIPE "SELECT printf(replace(" \
	"'ripcord-audit-1|seq %d|at %d|user %d:%s|uid %d|host %d:%s|' || " \
	"'command %d:%s|result %d:%s|exit_code %d|seconds %.3f|' || " \
	"'prev_sha256 %s|', '|', char(10)), seq, at, " \
	"length(CAST(user AS BLOB)), user, uid, length(CAST(host AS BLOB)), " \
	"host, length(CAST(command AS BLOB)), command, " \
	"length(CAST(result AS BLOB)), result, exit_code, seconds, " \
	"prev_sha256) FROM audit WHERE seq = ?"

/* Step 1 of state.c's upgrades[], as version 0.1.0 shipped it. */
#define SCHEMA_V1 "CREATE TABLE releases (" \
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT," \
	"  id TEXT NOT NULL UNIQUE," \
	"  project TEXT NOT NULL," \
	"  commit_id TEXT NOT NULL," \
	"  tree TEXT NOT NULL," \
	"  parent TEXT," \
	"  created INTEGER NOT NULL," \
	"  cut_at INTEGER NOT NULL," \
	"  size INTEGER NOT NULL," \
	"  sha256 TEXT NOT NULL," \
	"  signed INTEGER NOT NULL," \
	"  files INTEGER NOT NULL," \
	"  bytes INTEGER NOT NULL);"

static struct rip_state *open_state(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };

	if (rip_state_open(&st, tpath(state, "state.db"), &err) < 0)
		fail_msg("%s", err.msg);
	return st;
}

/* Runs sql on state.db behind ripcord's back, as someone with sqlite3. */
static void tamper(void **state, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(tpath(state, "state.db"), &db),
		SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

static int64_t begin_ok(struct rip_state *st, const char *target,
	const char *release, const char *previous, const char *op)
{
	struct rip_err err = { 0 };
	int64_t seq;

	assert_int_equal(rip_journal_begin(&seq, st, target, release, previous,
		op, false, &err), 0);
	assert_true(seq > 0);
	return seq;
}

static void end_ok(struct rip_state *st, int64_t seq, const char *result)
{
	struct rip_err err = { 0 };

	if (rip_journal_end(st, seq, result, &err) < 0)
		fail_msg("%s", err.msg);
}

static void test_switches(void **state)
{
	struct rip_state *st = open_state(state);
	struct rip_switches h, p;
	struct rip_err err = { 0 };
	int64_t pend;

	/* all in the same second: the order must come from seq alone */
	end_ok(st, begin_ok(st, "web", "v1", NULL, "deploy"), "ok");
	end_ok(st, begin_ok(st, "api", "v1", NULL, "deploy"), "ok");
	end_ok(st, begin_ok(st, "web", "v2", "v1", "deploy"), "ok");
	end_ok(st, begin_ok(st, "web", "v1", "v2", "rollback"), "ok");
	end_ok(st, begin_ok(st, "web", "v3", "v1", "deploy"), "failed: hook");
	pend = begin_ok(st, "web", "v4", "v1", "deploy");

	assert_int_equal(rip_journal_history(&h, st, "web", 0, &err), 0);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.v[0].release, "v1");
	assert_string_equal(h.v[0].op, "rollback");
	assert_string_equal(h.v[0].previous, "v2");
	assert_string_equal(h.v[1].release, "v2");
	assert_string_equal(h.v[2].release, "v1");
	assert_null(h.v[2].previous);
	assert_true(h.v[0].seq > h.v[1].seq && h.v[1].seq > h.v[2].seq);
	assert_true(h.v[0].finished >= h.v[0].started && h.v[0].finished > 0);
	rip_switches_release(&h);
	assert_int_equal(rip_journal_history(&h, st, "api", 0, &err), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.v[0].target, "api");
	rip_switches_release(&h);
	assert_int_equal(rip_journal_history(&h, st, "nope", 0, &err), 0);
	assert_int_equal(h.n, 0);
	rip_switches_release(&h);
	assert_int_equal(rip_journal_history(&h, st, "web", 2, &err), 0);
	assert_int_equal(h.n, 2);            /* the newest two */
	assert_string_equal(h.v[0].release, "v1");
	assert_string_equal(h.v[1].release, "v2");
	rip_switches_release(&h);

	assert_int_equal(rip_journal_pending(&p, st, &err), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].seq, pend);
	assert_string_equal(p.v[0].result, "pending");
	assert_int_equal(p.v[0].finished, 0);
	rip_switches_release(&p);
	rip_state_free(st);

	/* a new process finds the pending row and ends it, once */
	st = open_state(state);
	end_ok(st, pend, "ok");
	assert_int_equal(rip_journal_end(st, pend, "ok", &err), RIP_ENOTFOUND);
	assert_err_contains(&err, "no pending switch");
	assert_int_equal(rip_journal_end(st, 999, "ok", &err), RIP_ENOTFOUND);
	assert_int_equal(rip_journal_end(st, pend, "pending", &err),
		RIP_EUSAGE);
	assert_int_equal(rip_journal_pending(&p, st, &err), 0);
	assert_int_equal(p.n, 0);
	rip_switches_release(&p);
	assert_int_equal(rip_journal_history(&h, st, "web", 0, &err), 0);
	assert_string_equal(h.v[0].release, "v4");
	rip_switches_release(&h);
	rip_state_free(st);
}

static void append_ok(struct rip_state *st, int argc, char *const *argv,
	int code, const char *result)
{
	struct rip_err err = { 0 };

	if (rip_audit_append(st, argc, argv, code, result, 1.23456, &err) < 0)
		fail_msg("%s", err.msg);
}

/* Five entries: 1-2 ok, 3 failed, 4-5 ok. */
static void append_five(struct rip_state *st)
{
	char *cut[] = { "/usr/local/bin/ripcord", "cut", "--id", "v1" };
	char *dep[] = { "ripcord", "deploy", "v1" };

	append_ok(st, 4, cut, 0, NULL);
	append_ok(st, 3, dep, 0, "ok");
	append_ok(st, 3, dep, 3, "artifact 'v1' does not match its digest");
	append_ok(st, 3, dep, 0, NULL);
	append_ok(st, 4, cut, 0, NULL);
}

/* The sha256 of entry seq as the recipe computes it from the row alone. */
static void recipe_hash(char out[RIP_SHA256_HEX], void **state, int64_t seq)
{
	unsigned char md[RIP_SHA256_LEN];
	sqlite3_stmt *s;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(tpath(state, "state.db"), &db),
		SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, RECIPE, -1, &s, NULL),
		SQLITE_OK);
	sqlite3_bind_int64(s, 1, seq);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	rip_sha256(md, sqlite3_column_text(s, 0),
		(size_t)sqlite3_column_bytes(s, 0));
	rip_hex(out, md, sizeof(md));
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_audit(void **state)
{
	char *odd[] = { "ripcord", "-c", "my file.ini", "deploy", "it's", "",
		"two\nlines", "$HOME" };
	struct rip_state *st = open_state(state);
	struct rip_err err = { 0 };
	struct rip_audit a;
	char host[256] = "", want[RIP_SHA256_HEX];
	size_t checked = 99;

	assert_int_equal(rip_audit_verify(st, &checked, &err), 0);
	assert_int_equal(checked, 0);
	setenv("SUDO_USER", "alice", 1);
	append_five(st);
	unsetenv("SUDO_USER");
	append_ok(st, 8, odd, 1, "no");
	/* whole seconds and zero are REAL values too */
	assert_int_equal(rip_audit_append(st, 1, odd, 0, NULL, 0, &err), 0);
	assert_int_equal(rip_audit_append(st, 1, odd, 0, NULL, 2.0, &err), 0);

	assert_int_equal(rip_audit_list(&a, st, 0, &err), 0);
	assert_int_equal(a.n, 8);
	assert_int_equal(a.v[0].seq, 1);
	assert_string_equal(a.v[0].command, "ripcord cut --id v1");
	assert_string_equal(a.v[0].result, "ok");
	assert_string_equal(a.v[0].user, "alice");
	assert_int_equal(a.v[0].uid, getuid());
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(a.v[0].host, host);
	assert_true(a.v[0].seconds == 1.235);
	assert_string_equal(a.v[0].prev_sha256, "");
	assert_int_equal(strlen(a.v[0].sha256), 64);
	assert_string_equal(a.v[2].result,
		"artifact 'v1' does not match its digest");
	assert_int_equal(a.v[2].exit_code, 3);
	for (size_t i = 1; i < a.n; i++)
		assert_string_equal(a.v[i].prev_sha256, a.v[i - 1].sha256);
	assert_string_equal(a.v[5].command, "ripcord -c 'my file.ini' deploy "
		"'it'\\''s' '' 'two\nlines' '$HOME'");
	assert_string_equal(a.v[5].result, "no");
	/* the documented recipe gives the stored hash, odd bytes included */
	for (size_t i = 0; i < a.n; i++) {
		recipe_hash(want, state, a.v[i].seq);
		assert_string_equal(want, a.v[i].sha256);
	}
	rip_audit_release(&a);

	assert_int_equal(rip_audit_list(&a, st, 2, &err), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.v[0].seq, 7);
	assert_int_equal(a.v[1].seq, 8);
	assert_true(a.v[0].seconds == 0 && a.v[1].seconds == 2);
	rip_audit_release(&a);
	assert_int_equal(rip_audit_verify(st, &checked, &err), 0);
	assert_int_equal(checked, 8);
	rip_state_free(st);
}

/* Five good entries, then sql behind ripcord's back; verify must name
 * entry bad in its message and have checked only the ones before. */
static void expect_break(void **state, const char *sql, int64_t bad,
	const char *why)
{
	struct rip_state *st = open_state(state);
	struct rip_err err = { 0 };
	size_t checked;
	char needle[64];

	append_five(st);
	assert_int_equal(rip_audit_verify(st, &checked, &err), 0);
	tamper(state, sql);
	assert_int_equal(rip_audit_verify(st, &checked, &err), RIP_EINTEGRITY);
	snprintf(needle, sizeof(needle), "audit entry %lld: ", (long long)bad);
	assert_err_contains(&err, needle);
	assert_err_contains(&err, why);
	assert_int_equal(checked, bad - 1);
	/* the store still works: the next append links to the damaged end */
	append_ok(st, 1, (char *[]){ "ripcord" }, 0, NULL);
	rip_state_free(st);
}

static void test_edit_result(void **state)
{
	expect_break(state, "UPDATE audit SET result = 'ok' WHERE seq = 3", 3,
		"do not match its sha256");
}

static void test_edit_seconds(void **state)
{
	expect_break(state, "UPDATE audit SET seconds = 1.236 WHERE seq = 2", 2,
		"do not match its sha256");
}

static void test_delete_middle(void **state)
{
	expect_break(state, "DELETE FROM audit WHERE seq = 3", 3,
		"missing (deleted: entry 4 follows entry 2)");
}

static void test_delete_first(void **state)
{
	expect_break(state, "DELETE FROM audit WHERE seq = 1", 1,
		"missing (deleted: the log starts at entry 2)");
}

static void test_delete_newest(void **state)
{
	expect_break(state, "DELETE FROM audit WHERE seq >= 4", 4,
		"missing (deleted: the log ends at entry 3 of 5)");
}

static void test_insert_end(void **state)
{
	expect_break(state, "INSERT INTO audit (at, user, uid, host, command, "
		"result, exit_code, seconds, prev_sha256, sha256) SELECT at, user, "
		"uid, host, 'ripcord gc', 'ok', 0, 1.0, sha256, sha256 FROM audit "
		"WHERE seq = 5", 6, "do not match its sha256");
}

static void test_insert_middle(void **state)
{
	/* make room at 3 by renumbering, then slip a row in */
	expect_break(state, "UPDATE audit SET seq = seq + 1000 WHERE seq >= 3;"
		"UPDATE audit SET seq = seq - 999 WHERE seq >= 1000;"
		"INSERT INTO audit (seq, at, user, uid, host, command, result, "
		"exit_code, seconds, prev_sha256, sha256) SELECT 3, at, user, "
		"uid, host, 'ripcord gc', "
		"result, exit_code, seconds, sha256, prev_sha256 FROM audit "
		"WHERE seq = 2", 3, "do not match its sha256");
}

/* Edits the text form of a row would hide: types, ranges, precision. */
static void test_edit_types(void **state)
{
	/* 'x0' reads as 0, root's uid, through sqlite3_column_int64 */
	expect_break(state, "UPDATE audit SET uid = 'x' || uid WHERE seq = 2",
		2, "do not match its sha256");
}

static void test_edit_exit_code_range(void **state)
{
	expect_break(state, "UPDATE audit SET exit_code = exit_code + "
		"4294967296 WHERE seq = 4", 4, "do not match its sha256");
}

static void test_edit_below_millisecond(void **state)
{
	expect_break(state, "UPDATE audit SET seconds = seconds + 0.0001 "
		"WHERE seq = 1", 1, "do not match its sha256");
}

static void test_edit_as_blob(void **state)
{
	expect_break(state, "UPDATE audit SET command = CAST(command AS BLOB) "
		"WHERE seq = 5", 5, "do not match its sha256");
}

/*
 * Someone who recomputes the hash of the row they edit still breaks the
 * link of the row after it.
 */
static void test_rehashed_edit(void **state)
{
	struct rip_state *st = open_state(state);
	struct rip_err err = { 0 };
	char hash[RIP_SHA256_HEX], sql[160];
	size_t checked;

	append_five(st);
	tamper(state, "UPDATE audit SET result = 'ok', exit_code = 0 "
		"WHERE seq = 3");
	recipe_hash(hash, state, 3);
	snprintf(sql, sizeof(sql), "UPDATE audit SET sha256 = '%s' WHERE "
		"seq = 3", hash);
	tamper(state, sql);
	assert_int_equal(rip_audit_verify(st, &checked, &err), RIP_EINTEGRITY);
	assert_err_contains(&err, "audit entry 4: its prev_sha256 is not");
	assert_int_equal(checked, 3);

	/* and a first entry made to name a predecessor */
	tamper(state, "UPDATE audit SET prev_sha256 = sha256 WHERE seq = 1");
	recipe_hash(hash, state, 1);
	snprintf(sql, sizeof(sql), "UPDATE audit SET sha256 = '%s' WHERE "
		"seq = 1", hash);
	tamper(state, sql);
	assert_int_equal(rip_audit_verify(st, &checked, &err), RIP_EINTEGRITY);
	assert_err_contains(&err, "audit entry 1: it is the first entry");
	rip_state_free(st);
}

/* Two processes appending at once: one chain, nothing lost. */
static void test_concurrent_appends(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };
	size_t checked;
	pid_t pid[2];
	int status;

	rip_state_free(open_state(state));
	for (int k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0) {
			struct rip_state *mine;
			char *argv[] = { "ripcord", k ? "b" : "a" };
			int rc = rip_state_open(&mine, tpath(state, "state.db"),
				&err);

			for (int i = 0; rc == 0 && i < 25; i++)
				rc = rip_audit_append(mine, 2, argv, 0, NULL, 0.001,
					&err);
			rip_state_free(mine);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (int k = 0; k < 2; k++) {
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	st = open_state(state);
	assert_int_equal(rip_audit_verify(st, &checked, &err), 0);
	assert_int_equal(checked, 50);
	rip_state_free(st);
}

/* A state.db made by version 1 gains the new tables and keeps its rows. */
/*
 * An entry that says what it did (schema 7) reads back as written and is
 * chained like the others; an edit of its new fields breaks the chain,
 * as does clearing them all (which would make it hash as an old entry)
 * or setting one on an old entry.
 */
static void test_what(void **state)
{
	static const char *const edits[] = {
		"UPDATE audit SET to_release = 'v9' WHERE seq = 6",
		"UPDATE audit SET from_release = NULL, to_release = NULL, targets "
		"= NULL, migrations = NULL WHERE seq = 6",
		"UPDATE audit SET targets = 'web-1' WHERE seq = 5",
		"UPDATE audit SET migrations = 'down 0004' WHERE seq = 6",
	};
	char *dep[] = { "ripcord", "deploy", "v2" };
	struct rip_audit_what what = { "v1", "v2", "web-1,web-2",
		"up 0003_x,0004_y" };

	for (size_t i = 0; i < RIP_ARRAY_SIZE(edits); i++) {
		struct rip_state *st = open_state(state);
		struct rip_err err = { 0 };
		struct rip_audit a;
		size_t checked;

		append_five(st);
		assert_int_equal(rip_audit_append_what(st, 3, dep, 0, NULL, 1.0,
			&what, &err), 0);
		assert_int_equal(rip_audit_verify(st, &checked, &err), 0);
		assert_int_equal(checked, 6);
		assert_int_equal(rip_audit_list(&a, st, 2, &err), 0);
		assert_null(a.v[0].from);
		assert_string_equal(a.v[1].from, "v1");
		assert_string_equal(a.v[1].to, "v2");
		assert_string_equal(a.v[1].targets, "web-1,web-2");
		assert_string_equal(a.v[1].migrations, "up 0003_x,0004_y");
		rip_audit_release(&a);
		tamper(state, edits[i]);
		assert_int_equal(rip_audit_verify(st, &checked, &err),
			RIP_EINTEGRITY);
		assert_err_contains(&err, "do not match its sha256");
		rip_state_free(st);
		tamper(state, "DELETE FROM audit; DELETE FROM sqlite_sequence");
	}
}

static void test_upgrade_from_v1(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };
	struct rip_release_rec r;
	size_t checked;
	int64_t seq;

	tamper(state, "BEGIN;" SCHEMA_V1 "INSERT INTO releases (id, project, "
		"commit_id, tree, parent, created, cut_at, size, sha256, signed, "
		"files, bytes) VALUES ('v1', 'shop', 'c0ffee', 'beef', NULL, "
		"1700000000, 1700000100, 4096, 'ab', 1, 3, 300);"
		"PRAGMA user_version = 1; COMMIT;");
	st = open_state(state);
	assert_int_equal(rip_state_schema(st), RIP_STATE_SCHEMA);
	assert_int_equal(rip_state_release_get(&r, st, "v1", &err), 0);
	assert_string_equal(r.commit, "c0ffee");
	assert_int_equal(r.size, 4096);
	assert_true(r.is_signed);
	rip_release_rec_release(&r);
	assert_int_equal(rip_journal_begin(&seq, st, "web", "v1", NULL,
		"deploy", true, &err), 0);
	append_ok(st, 1, (char *[]){ "ripcord" }, 0, NULL);
	assert_int_equal(rip_audit_verify(st, &checked, &err), 0);
	assert_int_equal(checked, 1);
	rip_state_free(st);

	/* and opening it again changes nothing */
	st = open_state(state);
	assert_int_equal(rip_state_schema(st), RIP_STATE_SCHEMA);
	rip_state_free(st);
}

/* The activate column, the newest row, and operations as a whole. */
static void test_activate_and_operations(void **state)
{
	struct rip_state *st = open_state(state);
	struct rip_err err = { 0 };
	struct rip_switch last;
	struct rip_op op;
	int64_t seq, a, b;

	assert_int_equal(rip_journal_last(&last, st, "web", &err), 0);
	assert_int_equal(last.seq, 0);
	assert_int_equal(rip_journal_begin(&seq, st, "web", "v1", NULL,
		"deploy", true, &err), 0);
	end_ok(st, seq, "ok");
	assert_int_equal(rip_journal_last(&last, st, "web", &err), 0);
	assert_int_equal(last.seq, seq);
	assert_string_equal(last.activate, "pending");
	rip_switch_release(&last);
	assert_int_equal(rip_journal_activated(st, seq, "failed: exit 3", &err),
		0);
	assert_int_equal(rip_journal_last(&last, st, "web", &err), 0);
	assert_string_equal(last.activate, "failed: exit 3");
	assert_string_equal(last.result, "ok");
	rip_switch_release(&last);
	assert_int_equal(rip_journal_activated(st, 999, "ok", &err),
		RIP_ENOTFOUND);
	/* no hook: no activate state at all */
	end_ok(st, begin_ok(st, "web", "v2", "v1", "deploy"), "ok");
	assert_int_equal(rip_journal_last(&last, st, "web", &err), 0);
	assert_string_equal(last.release, "v2");
	assert_null(last.activate);
	rip_switch_release(&last);

	assert_int_equal(rip_op_unfinished(&op, st, &err), 0);
	assert_int_equal(op.seq, 0);
	assert_int_equal(rip_op_begin(&a, st, "rollback", "v1", &err), 0);
	assert_int_equal(rip_op_unfinished(&op, st, &err), 0);
	assert_int_equal(op.seq, a);
	assert_string_equal(op.op, "rollback");
	assert_string_equal(op.release, "v1");
	rip_op_release(&op);
	/* a newer operation takes over from one that never ended */
	assert_int_equal(rip_op_begin(&b, st, "deploy", "v2", &err), 0);
	assert_int_equal(rip_op_supersede(st, b, &err), 0);
	assert_int_equal(rip_op_unfinished(&op, st, &err), 0);
	assert_int_equal(op.seq, b);
	rip_op_release(&op);
	assert_int_equal(rip_op_end(st, b, "ok", &err), 0);
	assert_int_equal(rip_op_unfinished(&op, st, &err), 0);
	assert_int_equal(op.seq, 0);
	rip_state_free(st);
}

/* Every operation, oldest first, with how and when it ended. */
static void test_operation_list(void **state)
{
	struct rip_state *st = open_state(state);
	struct rip_err err = { 0 };
	struct rip_ops ops;
	struct rip_op op;
	int64_t a, b;

	assert_int_equal(rip_op_list(&ops, st, &err), 0);
	assert_int_equal(ops.n, 0);
	rip_ops_release(&ops);
	assert_int_equal(rip_op_begin(&a, st, "deploy", "v1", &err), 0);
	assert_int_equal(rip_op_end(st, a, "failed: hook", &err), 0);
	assert_int_equal(rip_op_begin(&b, st, "rollback", NULL, &err), 0);
	assert_int_equal(rip_op_list(&ops, st, &err), 0);
	assert_int_equal(ops.n, 2);
	assert_int_equal(ops.v[0].seq, a);
	assert_string_equal(ops.v[0].op, "deploy");
	assert_string_equal(ops.v[0].release, "v1");
	assert_string_equal(ops.v[0].result, "failed: hook");
	assert_true(ops.v[0].started > 0);
	assert_true(ops.v[0].finished >= ops.v[0].started);
	assert_int_equal(ops.v[1].seq, b);
	assert_null(ops.v[1].release);
	assert_string_equal(ops.v[1].result, "running");
	assert_int_equal(ops.v[1].finished, 0);
	rip_ops_release(&ops);
	assert_null(ops.v);
	/* the unfinished one reads the same through rip_op_unfinished */
	assert_int_equal(rip_op_unfinished(&op, st, &err), 0);
	assert_int_equal(op.seq, b);
	assert_string_equal(op.result, "running");
	rip_op_release(&op);
	rip_state_free(st);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_switches),
		T(test_activate_and_operations),
		T(test_operation_list),
		T(test_audit),
		T(test_edit_result),
		T(test_edit_seconds),
		T(test_edit_types),
		T(test_edit_exit_code_range),
		T(test_edit_below_millisecond),
		T(test_edit_as_blob),
		T(test_delete_middle),
		T(test_delete_first),
		T(test_delete_newest),
		T(test_insert_end),
		T(test_insert_middle),
		T(test_rehashed_edit),
		T(test_concurrent_appends),
		T(test_upgrade_from_v1),
		T(test_what),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
