/* SPDX-License-Identifier: MIT */
/*
 * journal.c: the switch journal and the audit log in state.db (journal.h),
 * on the SQLite handle state.c opened (state_internal.h).
 *
 * The switch journal orders by seq, never by clock: two switches in the
 * same second, or a clock stepped back, keep the order they happened in.
 *
 * The audit log is a hash chain. rip_audit_append runs in one BEGIN
 * IMMEDIATE transaction: it reads the newest entry's sha256, inserts the
 * new entry, hashes it with the seq SQLite gave it and stores the hash. A
 * second writer waits for the write lock, so two appends cannot both link
 * to the same predecessor. AUTOINCREMENT never reuses a seq, so entries
 * are numbered 1, 2, 3... and a gap, or sqlite_sequence running past the
 * newest entry, is a deleted entry.
 *
 * The sha256 of an entry is the SHA-256, in lowercase hex, of this text
 * (UTF-8, every line ended by one "\n", the last one included):
 *
 *	ripcord-audit-1
 *	seq <seq>
 *	at <at>
 *	user <n>:<user>
 *	uid <uid>
 *	host <n>:<host>
 *	command <n>:<command>
 *	result <n>:<result>
 *	exit_code <exit_code>
 *	seconds <seconds as printf "%.3f">
 *	prev_sha256 <prev_sha256, empty for the first entry>
 *
 * Integers are plain decimal. <n> is the length in bytes of the text after
 * its colon, so no field can gain a line break that another one loses and
 * still hash the same. seconds is rounded to milliseconds before it is
 * stored, so C's and SQLite's printf spell it alike. Entry 3 by hand:
 *
 *	sqlite3 -newline '' state.db "SELECT printf(replace(
 *	  'ripcord-audit-1|seq %d|at %d|user %d:%s|uid %d|host %d:%s|' ||
 *	  'command %d:%s|result %d:%s|exit_code %d|seconds %.3f|' ||
 *	  'prev_sha256 %s|', '|', char(10)), seq, at,
 *	  length(CAST(user AS BLOB)), user, uid, length(CAST(host AS BLOB)),
 *	  host, length(CAST(command AS BLOB)), command,
 *	  length(CAST(result AS BLOB)), result, exit_code, seconds,
 *	  prev_sha256) FROM audit WHERE seq = 3" | sha256sum
 *
 * must print what SELECT sha256 FROM audit WHERE seq = 3 holds, and that
 * entry's prev_sha256 must be entry 2's sha256.
 *
 * An entry that says what its command did (state.db schema 7: any of
 * from_release, to_release, targets, migrations not NULL) is hashed as
 * ripcord-audit-2: the first line says so, and four lines come before
 * prev_sha256, each "<name> <n>:<text>", or "<name> -" for NULL:
 *
 *	from <n>:<from_release>
 *	to <n>:<to_release>
 *	targets <n>:<targets>
 *	migrations <n>:<migrations>
 *
 * The entries written before keep their ripcord-audit-1 text and hash, so
 * a store upgraded to schema 7 verifies as it did; setting one of the new
 * columns on an old entry, or clearing them all on a new one, changes its
 * text and breaks the chain. rip_audit_verify also
 * wants the types ripcord writes (integers as integers, text as text,
 * seconds in whole milliseconds, exit_code within int): those are edits
 * the text above would not show.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/buf.h"
#include "ripcord/digest.h"
#include "ripcord/journal.h"
#include "ripcord/store.h"
#include "state_internal.h"
#include "banned.h"

/* ---- the switch journal ------------------------------------------------ */

#define SWITCH_COLS "seq, target, release, previous, op, result, started, " \
	"finished, activate"

int rip_journal_begin(int64_t *seq, struct rip_state *st, const char *target,
	const char *release, const char *previous, const char *op,
	bool activate, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	*seq = 0;
	if ((rc = rip_state_prepare(&s, st, "cannot journal the switch",
			"INSERT INTO switches (target, release, previous, op, result, "
			"started, activate) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
			err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, target);
	rip_state_bind_text(s, 2, release);
	rip_state_bind_text(s, 3, previous);
	rip_state_bind_text(s, 4, op);
	rip_state_bind_int64(s, 5, (int64_t)time(NULL));
	rip_state_bind_text(s, 6, activate ? "pending" : NULL);
	if ((rc = rip_state_run(s, err)) == 0)
		*seq = rip_state_last_id(st);
	rip_state_stmt_free(s);
	return rc;
}

int rip_journal_end(struct rip_state *st, int64_t seq, const char *result,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if (!result || !*result || !strcmp(result, "pending"))
		return rip_err_set(err, RIP_EUSAGE, "switch %lld: '%s' is not an "
			"outcome (want 'ok' or 'failed: ...')", (long long)seq,
			result ? result : "");
	if ((rc = rip_state_prepare(&s, st, "cannot journal the outcome",
			"UPDATE switches SET result = ?, finished = ? WHERE seq = ? "
			"AND result = 'pending'", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, result);
	rip_state_bind_int64(s, 2, (int64_t)time(NULL));
	rip_state_bind_int64(s, 3, seq);
	if ((rc = rip_state_run(s, err)) == 0 && rip_state_changes(st) == 0)
		rc = rip_err_set(err, RIP_ENOTFOUND, "no pending switch %lld in "
			"the journal of '%s'", (long long)seq, rip_state_path(st));
	rip_state_stmt_free(s);
	return rc;
}

int rip_journal_activated(struct rip_state *st, int64_t seq,
	const char *result, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot journal the activate hook",
			"UPDATE switches SET activate = ? WHERE seq = ?", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, result);
	rip_state_bind_int64(s, 2, seq);
	if ((rc = rip_state_run(s, err)) == 0 && rip_state_changes(st) == 0)
		rc = rip_err_set(err, RIP_ENOTFOUND, "no switch %lld in the "
			"journal of '%s'", (long long)seq, rip_state_path(st));
	rip_state_stmt_free(s);
	return rc;
}

static void read_switch(struct rip_switch *w, struct rip_state_stmt *s)
{
	w->seq = rip_state_col_int64(s, 0);
	w->target = rip_state_col_text(s, 1);
	w->release = rip_state_col_text(s, 2);
	w->previous = rip_state_col_text(s, 3);
	w->op = rip_state_col_text(s, 4);
	w->result = rip_state_col_text(s, 5);
	w->started = rip_state_col_int64(s, 6);
	w->finished = rip_state_col_int64(s, 7);
	w->activate = rip_state_col_text(s, 8);
}

/* Runs s (bound) and appends every row to out; frees s. */
static int read_switches(struct rip_switches *out, struct rip_state_stmt *s,
	struct rip_err *err)
{
	int rc;

	while ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		RIP_ALLOC_GROW(out->v, out->n + 1, out->alloc);
		memset(&out->v[out->n], 0, sizeof(out->v[out->n]));
		read_switch(&out->v[out->n++], s);
	}
	rip_state_stmt_free(s);
	if (rc < 0)
		rip_switches_release(out);
	return rc;
}

#define READ_SWITCHES "cannot read the switch journal"

int rip_journal_pending(struct rip_switches *out, struct rip_state *st,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, st, READ_SWITCHES, "SELECT "
			SWITCH_COLS " FROM switches WHERE result = 'pending' "
			"ORDER BY seq", err)) < 0)
		return rc;
	return read_switches(out, s, err);
}

int rip_journal_last(struct rip_switch *out, struct rip_state *st,
	const char *target, struct rip_err *err)
{
	struct rip_switches v;
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&v, 0, sizeof(v));
	if ((rc = rip_state_prepare(&s, st, READ_SWITCHES, "SELECT "
			SWITCH_COLS " FROM switches WHERE target = ? ORDER BY seq "
			"DESC LIMIT 1", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, target);
	if ((rc = read_switches(&v, s, err)) < 0)
		return rc;
	if (v.n) {
		*out = v.v[0];
		v.n = 0;
	}
	rip_switches_release(&v);
	return 0;
}

int rip_journal_rollbacks(struct rip_switches *out, struct rip_state *st,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, st, READ_SWITCHES, "SELECT "
			SWITCH_COLS " FROM switches WHERE op = 'rollback' AND "
			"result = 'ok' ORDER BY seq", err)) < 0)
		return rc;
	return read_switches(out, s, err);
}

int rip_journal_history(struct rip_switches *out, struct rip_state *st,
	const char *target, size_t limit, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, st, READ_SWITCHES, "SELECT "
			SWITCH_COLS " FROM switches WHERE target = ? AND result = "
			"'ok' ORDER BY seq DESC LIMIT ?", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, target);
	rip_state_bind_int64(s, 2, limit && limit <= INT64_MAX ?
		(int64_t)limit : -1);
	return read_switches(out, s, err);
}

void rip_switch_release(struct rip_switch *w)
{
	free(w->target);
	free(w->release);
	free(w->previous);
	free(w->op);
	free(w->result);
	free(w->activate);
	memset(w, 0, sizeof(*w));
}

bool rip_switch_activate_unsettled(const struct rip_switch *w,
	const char *current)
{
	return w->seq && w->activate && current &&
		!strcmp(current, w->release) && strcmp(w->activate, "ok");
}

void rip_switches_release(struct rip_switches *sw)
{
	for (size_t i = 0; i < sw->n; i++)
		rip_switch_release(&sw->v[i]);
	free(sw->v);
	memset(sw, 0, sizeof(*sw));
}

/* ---- operations -------------------------------------------------------- */

int rip_op_begin(int64_t *seq, struct rip_state *st, const char *op,
	const char *release, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	*seq = 0;
	if ((rc = rip_state_prepare(&s, st, "cannot journal the operation",
			"INSERT INTO operations (op, release, result, started) "
			"VALUES (?, ?, 'running', ?)", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, op);
	rip_state_bind_text(s, 2, release);
	rip_state_bind_int64(s, 3, (int64_t)time(NULL));
	if ((rc = rip_state_run(s, err)) == 0)
		*seq = rip_state_last_id(st);
	rip_state_stmt_free(s);
	return rc;
}

int rip_op_end(struct rip_state *st, int64_t seq, const char *result,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot journal the operation",
			"UPDATE operations SET result = ?, finished = ? WHERE seq = ?",
			err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, result);
	rip_state_bind_int64(s, 2, (int64_t)time(NULL));
	rip_state_bind_int64(s, 3, seq);
	rc = rip_state_run(s, err);
	rip_state_stmt_free(s);
	return rc;
}

/* Marks every unfinished operation but keep as superseded. */
int rip_op_supersede(struct rip_state *st, int64_t keep, struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot journal the operation",
			"UPDATE operations SET result = 'interrupted, then "
			"superseded', finished = ? WHERE finished = 0 AND seq != ?",
			err)) < 0)
		return rc;
	rip_state_bind_int64(s, 1, (int64_t)time(NULL));
	rip_state_bind_int64(s, 2, keep);
	rc = rip_state_run(s, err);
	rip_state_stmt_free(s);
	return rc;
}

#define OP_COLS "seq, op, release, result, started, finished"

static void read_op(struct rip_op *o, struct rip_state_stmt *s)
{
	o->seq = rip_state_col_int64(s, 0);
	o->op = rip_state_col_text(s, 1);
	o->release = rip_state_col_text(s, 2);
	o->result = rip_state_col_text(s, 3);
	o->started = rip_state_col_int64(s, 4);
	o->finished = rip_state_col_int64(s, 5);
}

int rip_op_unfinished(struct rip_op *out, struct rip_state *st,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, st, "cannot read the operations",
			"SELECT " OP_COLS " FROM operations WHERE finished = 0 "
			"ORDER BY seq DESC LIMIT 1", err)) < 0)
		return rc;
	if ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		read_op(out, s);
		rc = 0;
	}
	rip_state_stmt_free(s);
	return rc;
}

int rip_op_last(struct rip_op *out, struct rip_state *st, const char *op,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, st, "cannot read the operations",
			"SELECT " OP_COLS " FROM operations WHERE ?1 IS NULL OR "
			"op = ?1 ORDER BY seq DESC LIMIT 1", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, op);
	if ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		read_op(out, s);
		rc = 0;
	}
	rip_state_stmt_free(s);
	return rc;
}

void rip_op_release(struct rip_op *op)
{
	free(op->op);
	free(op->release);
	free(op->result);
	memset(op, 0, sizeof(*op));
}

int rip_op_list(struct rip_ops *out, struct rip_state *st,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, st, "cannot read the operations",
			"SELECT " OP_COLS " FROM operations ORDER BY seq", err)) < 0)
		return rc;
	while ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		RIP_ALLOC_GROW(out->v, out->n + 1, out->alloc);
		memset(&out->v[out->n], 0, sizeof(out->v[out->n]));
		read_op(&out->v[out->n++], s);
	}
	rip_state_stmt_free(s);
	if (rc < 0)
		rip_ops_release(out);
	return rc;
}

void rip_ops_release(struct rip_ops *ops)
{
	for (size_t i = 0; i < ops->n; i++)
		rip_op_release(&ops->v[i]);
	free(ops->v);
	memset(ops, 0, sizeof(*ops));
}

/* ---- the audit log ----------------------------------------------------- */

#define AUDIT_COLS "seq, at, user, uid, host, command, result, exit_code, " \
	"seconds, prev_sha256, sha256, from_release, to_release, targets, " \
	"migrations"
#define READ_AUDIT "cannot read the audit log"

/* Characters a POSIX shell reads as themselves anywhere in a word. */
static bool shell_plain(const char *a)
{
	if (!*a)
		return false;
	for (; *a; a++) {
		char c = *a;

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
				!(c >= '0' && c <= '9') && !strchr("-_./:=,@+%^", c))
			return false;
	}
	return true;
}

/*
 * argv joined with spaces; an argument with anything but plain characters
 * (white space, quotes, $, *, empty...) in single quotes, a ' inside as
 * '\'', so the line pastes back into a shell. argv[0] is recorded by its
 * last path component: where the binary lives is not what was done.
 */
void rip_command_line(struct rip_buf *b, int argc, char *const *argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (i == 0 && strrchr(a, '/') && strrchr(a, '/')[1])
			a = strrchr(a, '/') + 1;
		if (i)
			rip_buf_addch(b, ' ');
		if (shell_plain(a)) {
			rip_buf_adds(b, a);
			continue;
		}
		rip_buf_addch(b, '\'');
		for (; *a; a++)
			if (*a == '\'')
				rip_buf_adds(b, "'\\''");
			else
				rip_buf_addch(b, *a);
		rip_buf_addch(b, '\'');
	}
}

static void add_text(struct rip_buf *b, const char *name, const char *v)
{
	rip_buf_addf(b, "%s %zu:%s\n", name, strlen(v), v);
}

/*
 * "seconds 1.204": from whole milliseconds rather than through "%.3f", so
 * no LC_NUMERIC can make it "1,204". Only a value ripcord never writes
 * (negative, huge) goes through printf, which the chain then flags.
 */
static void add_seconds(struct rip_buf *b, double s)
{
	int64_t ms;

	if (!(s >= 0 && s <= 1e12)) {
		rip_buf_addf(b, "seconds %.3f\n", s);
		return;
	}
	ms = (int64_t)(s * 1000 + 0.5);
	rip_buf_addf(b, "seconds %lld.%03lld\n", (long long)(ms / 1000),
		(long long)(ms % 1000));
}

static void add_maybe(struct rip_buf *b, const char *name, const char *v)
{
	if (v)
		add_text(b, name, v);
	else
		rip_buf_addf(b, "%s -\n", name);
}

/* The serialisation in the header comment, hashed, into out. */
static void audit_hash(char out[RIP_SHA256_HEX],
	const struct rip_audit_entry *e)
{
	struct rip_buf b = RIP_BUF_INIT;
	unsigned char md[RIP_SHA256_LEN];
	bool two = e->from || e->to || e->targets || e->migrations;

	rip_buf_addf(&b, "ripcord-audit-%d\nseq %lld\nat %lld\n", two ? 2 : 1,
		(long long)e->seq, (long long)e->at);
	add_text(&b, "user", e->user);
	rip_buf_addf(&b, "uid %lld\n", (long long)e->uid);
	add_text(&b, "host", e->host);
	add_text(&b, "command", e->command);
	add_text(&b, "result", e->result);
	rip_buf_addf(&b, "exit_code %d\n", e->exit_code);
	add_seconds(&b, e->seconds);
	if (two) {
		add_maybe(&b, "from", e->from);
		add_maybe(&b, "to", e->to);
		add_maybe(&b, "targets", e->targets);
		add_maybe(&b, "migrations", e->migrations);
	}
	rip_buf_addf(&b, "prev_sha256 %s\n", e->prev_sha256);
	rip_sha256(md, b.buf, b.len);
	rip_hex(out, md, sizeof(md));
	rip_buf_release(&b);
}

/* Milliseconds, never negative: a value both printfs spell the same. */
static double round_ms(double seconds)
{
	if (!(seconds > 0))
		return 0;
	if (seconds > 1e12)
		seconds = 1e12;
	return (double)(int64_t)(seconds * 1000 + 0.5) / 1000;
}

/* The newest entry's sha256 into prev ("" when there is none). */
static int last_hash(char prev[RIP_SHA256_HEX], struct rip_state *st,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	const char *t;
	int rc;

	prev[0] = '\0';
	if ((rc = rip_state_prepare(&s, st, READ_AUDIT, "SELECT sha256 FROM "
			"audit ORDER BY seq DESC LIMIT 1", err)) < 0)
		return rc;
	if ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		t = rip_state_col_str(s, 0);
		if (t)
			snprintf(prev, RIP_SHA256_HEX, "%s", t);
		rc = 0;
	}
	rip_state_stmt_free(s);
	return rc;
}

static int insert_entry(struct rip_audit_entry *e, struct rip_state *st,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot append to the audit log",
			"INSERT INTO audit (at, user, uid, host, command, result, "
			"exit_code, seconds, prev_sha256, sha256, from_release, "
			"to_release, targets, migrations) VALUES (?, ?, ?, ?, ?, ?, "
			"?, ?, ?, '', ?, ?, ?, ?)", err)) < 0)
		return rc;
	rip_state_bind_int64(s, 1, e->at);
	rip_state_bind_text(s, 2, e->user);
	rip_state_bind_int64(s, 3, e->uid);
	rip_state_bind_text(s, 4, e->host);
	rip_state_bind_text(s, 5, e->command);
	rip_state_bind_text(s, 6, e->result);
	rip_state_bind_int64(s, 7, e->exit_code);
	rip_state_bind_double(s, 8, e->seconds);
	rip_state_bind_text(s, 9, e->prev_sha256);
	rip_state_bind_text(s, 10, e->from);
	rip_state_bind_text(s, 11, e->to);
	rip_state_bind_text(s, 12, e->targets);
	rip_state_bind_text(s, 13, e->migrations);
	if ((rc = rip_state_run(s, err)) == 0)
		e->seq = rip_state_last_id(st);
	rip_state_stmt_free(s);
	return rc;
}

static int store_hash(struct rip_state *st, const struct rip_audit_entry *e,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	if ((rc = rip_state_prepare(&s, st, "cannot append to the audit log",
			"UPDATE audit SET sha256 = ? WHERE seq = ?", err)) < 0)
		return rc;
	rip_state_bind_text(s, 1, e->sha256);
	rip_state_bind_int64(s, 2, e->seq);
	rc = rip_state_run(s, err);
	rip_state_stmt_free(s);
	return rc;
}

/* Inside the write transaction: link, insert, hash with the real seq. */
static int append_locked(struct rip_audit_entry *e, struct rip_state *st,
	struct rip_err *err)
{
	int rc;

	if ((rc = last_hash(e->prev_sha256, st, err)) < 0)
		return rc;
	if ((rc = insert_entry(e, st, err)) < 0)
		return rc;
	audit_hash(e->sha256, e);
	return store_hash(st, e, err);
}

int rip_audit_append(struct rip_state *st, int argc, char *const *argv,
	int exit_code, const char *result, double seconds, struct rip_err *err)
{
	return rip_audit_append_what(st, argc, argv, exit_code, result, seconds,
		NULL, err);
}

int rip_audit_append_what(struct rip_state *st, int argc,
	char *const *argv, int exit_code, const char *result, double seconds,
	const struct rip_audit_what *what, struct rip_err *err)
{
	struct rip_buf cmd = RIP_BUF_INIT;
	struct rip_audit_entry e = { 0 };
	char host[256] = "";
	int rc;

	rip_command_line(&cmd, argc, argv);
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "unknown");
	/* the strings are borrowed for the length of the call */
	e.at = (int64_t)time(NULL);
	e.user = (char *)rip_user_name();
	e.uid = (int64_t)getuid();
	e.host = host;
	e.command = cmd.buf;
	e.result = (char *)(result ? result : exit_code ? "failed" : "ok");
	e.exit_code = exit_code;
	e.seconds = round_ms(seconds);
	if (what) {
		e.from = (char *)what->from;
		e.to = (char *)what->to;
		e.targets = (char *)what->targets;
		e.migrations = (char *)what->migrations;
	}
	if ((rc = rip_state_exec(st, "BEGIN IMMEDIATE", err)) == 0)
		rc = rip_state_finish(st, append_locked(&e, st, err), err);
	rip_buf_release(&cmd);
	return rc;
}

/*
 * Whether a row of AUDIT_COLS holds what ripcord writes, type by type, so
 * the serialisation cannot miss an edit: an integer column turned to text
 * or a blob, an exit code beyond int, seconds below the millisecond, a
 * hash that is not 64 hex digits. Asked before any column is converted.
 */
static bool well_formed(struct rip_state_stmt *s)
{
	static const enum rip_state_type types[] = { RIP_STATE_INTEGER,
		RIP_STATE_INTEGER, RIP_STATE_TEXT, RIP_STATE_INTEGER,
		RIP_STATE_TEXT, RIP_STATE_TEXT, RIP_STATE_TEXT, RIP_STATE_INTEGER,
		RIP_STATE_FLOAT, RIP_STATE_TEXT, RIP_STATE_TEXT };
	int64_t code;
	double sec;

	for (int i = 0; i < (int)RIP_ARRAY_SIZE(types); i++)
		if (rip_state_col_type(s, i) != types[i])
			return false;
	for (int i = 11; i < 15; i++)
		if (rip_state_col_type(s, i) != RIP_STATE_NULL &&
		    rip_state_col_type(s, i) != RIP_STATE_TEXT)
			return false;
	code = rip_state_col_int64(s, 7);
	sec = rip_state_col_double(s, 8);
	return code >= INT_MIN && code <= INT_MAX && sec == round_ms(sec) &&
		rip_state_col_bytes(s, 10) == RIP_SHA256_HEX - 1 &&
		(rip_state_col_bytes(s, 9) == 0 ||
		rip_state_col_bytes(s, 9) == RIP_SHA256_HEX - 1);
}

/* A NULL (which only a hand edit of the schema lets in) reads as "". */
static char *text_or_empty(struct rip_state_stmt *s, int i)
{
	char *t = rip_state_col_text(s, i);

	return t ? t : rip_xstrdup("");
}

/* Fills e from a row of AUDIT_COLS; returns well_formed() of the row. */
static bool read_entry(struct rip_audit_entry *e, struct rip_state_stmt *s)
{
	bool ok = well_formed(s);
	const char *prev = rip_state_col_str(s, 9);
	const char *sha = rip_state_col_str(s, 10);

	memset(e, 0, sizeof(*e));
	e->seq = rip_state_col_int64(s, 0);
	e->at = rip_state_col_int64(s, 1);
	e->user = text_or_empty(s, 2);
	e->uid = rip_state_col_int64(s, 3);
	e->host = text_or_empty(s, 4);
	e->command = text_or_empty(s, 5);
	e->result = text_or_empty(s, 6);
	e->exit_code = (int)rip_state_col_int64(s, 7);
	e->seconds = rip_state_col_double(s, 8);
	snprintf(e->prev_sha256, sizeof(e->prev_sha256), "%s", prev ? prev : "");
	snprintf(e->sha256, sizeof(e->sha256), "%s", sha ? sha : "");
	e->from = rip_state_col_text(s, 11);
	e->to = rip_state_col_text(s, 12);
	e->targets = rip_state_col_text(s, 13);
	e->migrations = rip_state_col_text(s, 14);
	return ok;
}

static void entry_release(struct rip_audit_entry *e)
{
	free(e->user);
	free(e->host);
	free(e->command);
	free(e->result);
	free(e->from);
	free(e->to);
	free(e->targets);
	free(e->migrations);
	memset(e, 0, sizeof(*e));
}

void rip_audit_release(struct rip_audit *a)
{
	for (size_t i = 0; i < a->n; i++)
		entry_release(&a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int rip_audit_list(struct rip_audit *out, struct rip_state *st, size_t n,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rip_state_prepare(&s, st, READ_AUDIT, "SELECT " AUDIT_COLS
			" FROM (SELECT * FROM audit ORDER BY seq DESC LIMIT ?) ORDER "
			"BY seq", err)) < 0)
		return rc;
	rip_state_bind_int64(s, 1, n && n <= INT64_MAX ? (int64_t)n : -1);
	while ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		RIP_ALLOC_GROW(out->v, out->n + 1, out->alloc);
		(void)read_entry(&out->v[out->n++], s);
	}
	rip_state_stmt_free(s);
	if (rc < 0)
		rip_audit_release(out);
	return rc;
}

static int broken(struct rip_state *st, struct rip_err *err, int64_t seq,
	const char *what)
{
	return rip_err_set(err, RIP_EINTEGRITY, "audit entry %lld: %s; the "
		"audit log in '%s' was changed outside ripcord", (long long)seq,
		what, rip_state_path(st));
}

/*
 * One entry against what came before it (seq prev_seq, hash prev): its own
 * hash first, so a forged row is named as itself; then a gap in the
 * numbering (a deleted entry); then the link.
 */
static int check_entry(struct rip_state *st, const struct rip_audit_entry *e,
	bool well_formed, int64_t prev_seq, const char *prev,
	struct rip_err *err)
{
	char want[RIP_SHA256_HEX], why[128];

	audit_hash(want, e);
	if (!well_formed || strcmp(want, e->sha256))
		return broken(st, err, e->seq, "its fields do not match its "
			"sha256 (edited, or inserted by hand)");
	if (e->seq != prev_seq + 1) {
		if (prev_seq)
			snprintf(why, sizeof(why), "missing (deleted: entry %lld "
				"follows entry %lld)", (long long)e->seq,
				(long long)prev_seq);
		else
			snprintf(why, sizeof(why), "missing (deleted: the log "
				"starts at entry %lld)", (long long)e->seq);
		return broken(st, err, prev_seq + 1, why);
	}
	if (strcmp(e->prev_sha256, prev))
		return broken(st, err, e->seq, prev_seq ? "its prev_sha256 is not "
			"the sha256 of the entry before it (an entry was replaced)" :
			"it is the first entry but names a predecessor");
	return 0;
}

/* The highest seq the audit table ever handed out (0 when none). */
static int highest_seq(int64_t *out, struct rip_state *st,
	struct rip_err *err)
{
	struct rip_state_stmt *s;
	int rc;

	*out = 0;
	if ((rc = rip_state_prepare(&s, st, READ_AUDIT, "SELECT seq FROM "
			"sqlite_sequence WHERE name = 'audit'", err)) < 0)
		return rc;
	if ((rc = rip_state_step(s, err)) == RIP_STATE_ROW) {
		*out = rip_state_col_int64(s, 0);
		rc = 0;
	}
	rip_state_stmt_free(s);
	return rc;
}

/* Walks the chain in seq order; *last is the newest seq seen. */
static int verify_chain(struct rip_state *st, size_t *checked, int64_t *last,
	struct rip_err *err)
{
	char prev[RIP_SHA256_HEX] = "";
	struct rip_state_stmt *s;
	int rc, step = 0;

	if ((rc = rip_state_prepare(&s, st, READ_AUDIT, "SELECT " AUDIT_COLS
			" FROM audit ORDER BY seq", err)) < 0)
		return rc;
	while (rc == 0 && (step = rip_state_step(s, err)) == RIP_STATE_ROW) {
		struct rip_audit_entry e;
		bool ok = read_entry(&e, s);

		rc = check_entry(st, &e, ok, *last, prev, err);
		memcpy(prev, e.sha256, sizeof(prev));
		*last = e.seq;
		if (rc == 0)
			(*checked)++;
		entry_release(&e);
	}
	if (rc == 0 && step < 0)
		rc = step;
	rip_state_stmt_free(s);
	return rc;
}

static int verify_locked(struct rip_state *st, size_t *checked,
	struct rip_err *err)
{
	int64_t last = 0, highest;
	char why[96];
	int rc;

	if ((rc = verify_chain(st, checked, &last, err)) < 0)
		return rc;
	if ((rc = highest_seq(&highest, st, err)) < 0)
		return rc;
	if (highest <= last)
		return 0;
	if (last)
		snprintf(why, sizeof(why), "missing (deleted: the log ends at "
			"entry %lld of %lld)", (long long)last, (long long)highest);
	else
		snprintf(why, sizeof(why), "missing (deleted: the log is empty "
			"but had %lld entries)", (long long)highest);
	return broken(st, err, last + 1, why);
}

int rip_audit_verify(struct rip_state *st, size_t *checked,
	struct rip_err *err)
{
	int rc;

	*checked = 0;
	/* one read transaction: the chain and sqlite_sequence agree in time */
	if ((rc = rip_state_exec(st, "BEGIN", err)) < 0)
		return rc;
	return rip_state_finish(st, verify_locked(st, checked, err), err);
}
