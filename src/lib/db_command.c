/* SPDX-License-Identifier: MIT */
/*
 * db_command.c: the command driver: each migration is handed to a program
 * the user names ([migrations] apply = psql -v ON_ERROR_STOP=1 -1 -f
 * {file}), for databases ripcord has no driver for.
 *
 * ripcord cannot see inside that database, so what ran is kept in a SQLite
 * ledger, and since no transaction spans the program and the ledger, every
 * migration is marked dirty before it runs and clean only after the
 * program exited 0: a failure always leaves a dirty level for a human to
 * inspect. The program is found in PATH as execvp would, then run by
 * rip_hook_run (hook.c) from an argument vector split from the template,
 * never through a shell: in a process group of its own, stdin on
 * /dev/null, for at most [migrations] command_timeout, after which its
 * whole group gets SIGTERM, then SIGKILL; whatever it leaves holding its
 * output is killed once it exited. Its output, captured (the last 64 KiB),
 * goes to stderr when it ends, so stdout stays for ripcord's results. The
 * SQL reaches it as a file made by mkstemps under $TMPDIR (default /tmp),
 * removed afterwards.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ripcord/buf.h"
#include "ripcord/config.h"
#include "ripcord/db.h"
#include "ripcord/fsutil.h"
#include "ripcord/hook.h"
#include "db_internal.h"
#include "banned.h"

struct rip_db {
	struct rip_db *ledger;    /* a rip_db_sqlite connection */
	char *apply;
	uint64_t timeout_ms;      /* 0: no limit */
};

static void cmd_close(struct rip_db *db)
{
	if (!db)
		return;
	rip_db_sqlite.close(db->ledger);
	free(db->apply);
	free(db);
}

static int cmd_open(struct rip_db **out, const struct rip_db_target *t,
	struct rip_err *err)
{
	struct rip_db_target lt = { .database = t->ledger };
	struct rip_db *db;

	*out = NULL;
	if (!t->apply || !strstr(t->apply, "{file}"))
		return rip_err_set(err, RIP_ECONFIG, "driver = command needs "
			"[migrations] apply = a command line with {file} (e.g. "
			"psql -v ON_ERROR_STOP=1 -1 -f {file})");
	db = rip_xcalloc(1, sizeof(*db));
	db->apply = rip_xstrdup(t->apply);
	db->timeout_ms = t->timeout_ms;
	if (rip_db_sqlite.open(&db->ledger, &lt, err) < 0) {
		cmd_close(db);
		return rip_err_prefix(err, "command driver ledger");
	}
	*out = db;
	return 0;
}

/* Splits the template into words ('...' and "..." group), {file} filled. */
static char **make_argv(const char *tmpl, const char *file)
{
	struct rip_strlist words = { 0 };
	struct rip_buf w = RIP_BUF_INIT;
	const char *p = tmpl;
	size_t alloc;

	while (*p) {
		char q = 0;
		bool any = false;

		while (*p == ' ' || *p == '\t')
			p++;
		for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
			any = true;
			if (!q && (*p == '\'' || *p == '"'))
				q = *p;
			else if (q && *p == q)
				q = 0;
			else if (!strncmp(p, "{file}", 6)) {
				rip_buf_adds(&w, file);
				p += 5;
			} else
				rip_buf_addch(&w, *p);
		}
		if (any)
			rip_strlist_push(&words, w.buf);
		rip_buf_reset(&w);
	}
	rip_buf_release(&w);
	alloc = rip_grow_alloc(words.n);
	RIP_ALLOC_GROW(words.v, words.n + 1, alloc);
	words.v[words.n] = NULL;
	return words.v;
}

/*
 * The program name stands for, found as execvp would: a name holding '/'
 * as it is (from the current folder when relative), any other as the first
 * executable file of that name in $PATH (unset: /bin:/usr/bin; an empty
 * entry is the current folder). NULL when there is none.
 */
static char *find_program(const char *name)
{
	const char *p = getenv("PATH");

	if (strchr(name, '/'))
		return rip_xstrdup(name);
	if (!p)
		p = "/bin:/usr/bin";
	for (;;) {
		size_t l = strcspn(p, ":");
		char *cand = rip_xasprintf("%.*s/%s", (int)(l ? l : 1),
			l ? p : ".", name);
		struct stat st;

		if (!stat(cand, &st) && S_ISREG(st.st_mode) &&
		    !access(cand, X_OK))
			return cand;
		free(cand);
		if (!p[l])
			return NULL;
		p += l + 1;
	}
}

/* A duration as [migrations] command_timeout would spell it. */
static void fmt_duration(char *buf, size_t n, uint64_t ms)
{
	if (ms && ms % 60000 == 0)
		snprintf(buf, n, "%" PRIu64 "m", ms / 60000);
	else if (ms && ms % 1000 == 0)
		snprintf(buf, n, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, n, "%" PRIu64 "ms", ms);
}

/* What went wrong with one run of the program, or 0 when it exited 0. */
static int run_result(const struct rip_db *db, const struct rip_hook_result *res,
	const struct rip_migration *m, enum rip_db_direction dir,
	const char *label, const char *name, struct rip_err *err)
{
	char after[32];

	if (res->timed_out) {
		fmt_duration(after, sizeof(after), db->timeout_ms);
		return rip_err_set(err, RIP_EFAIL, "%s (the %s of migration "
			"'%s', version %s): '%s' ran past [migrations] "
			"command_timeout = %s; its process group was killed "
			"(SIGTERM%s)", label, dir == RIP_DB_UP ? "up" : "down",
			m->id, m->version ? m->version : "?", name, after,
			res->signal == SIGKILL ? ", then SIGKILL" : "");
	}
	if (res->exit_code == 0)
		return 0;
	return rip_err_set(err, RIP_EFAIL, "%s: '%s' %s %d", label, name,
		res->exit_code > 0 ? "exited with" : "was killed by signal",
		res->exit_code > 0 ? res->exit_code : res->signal);
}

static int run(struct rip_db *db, const char *file,
	const struct rip_migration *m, enum rip_db_direction dir,
	const char *label, struct rip_err *err)
{
	char **argv = make_argv(db->apply, file);
	char *name = argv[0], *prog = name ? find_program(name) : NULL;
	struct rip_hook_result res = { 0 };
	int rc;

	if (!prog) {
		rc = rip_err_set(err, RIP_EFAIL, "cannot run '%s' for %s: %s",
			name ? name : "(empty apply)", label, name ?
			"not found in PATH" : "no program");
		goto done;
	}
	argv[0] = prog;
	rc = rip_hook_run(&res, (const char *const *)argv, NULL, NULL, 0,
		db->timeout_ms, err);
	if (res.output.len)
		fwrite(res.output.buf, 1, res.output.len, stderr);
	if (rc == 0 || res.timed_out)
		rc = run_result(db, &res, m, dir, label, name, err);
	else
		rip_err_prefix(err, "%s", label);
	rip_hook_result_release(&res);
done:
	free(name);
	for (size_t i = 1; name && argv[i]; i++)
		free(argv[i]);
	free(prog);
	free(argv);
	return rc;
}

/*
 * Writes sql to a new file "$TMPDIR/ripcord-migration-XXXXXX.sql" ($TMPDIR
 * unset or empty: /tmp), readable by the user only; its path in *path.
 */
static int write_temp(struct rip_buf *path, const struct rip_sql *sql,
	struct rip_err *err)
{
	const char *dir = getenv("TMPDIR");
	int fd, rc;

	if (!dir || !*dir)
		dir = "/tmp";
	rip_buf_addf(path, "%s/ripcord-migration-XXXXXX.sql", dir);
	fd = mkstemps(path->buf, 4);
	if (fd < 0)
		return rip_err_errno(err, RIP_EIO, "cannot make a temporary file "
			"in '%s' (set TMPDIR to a writable folder)", dir);
	rc = rip_write_all(fd, sql->text, sql->len);
	close(fd);
	if (rc < 0) {
		rc = rip_err_errno(err, RIP_EIO, "cannot write '%s'", path->buf);
		unlink(path->buf);
	}
	return rc;
}

static int cmd_apply(struct rip_db *db, const struct rip_migration *m,
	enum rip_db_direction dir, struct rip_err *err)
{
	const struct rip_sql *sql = dir == RIP_DB_UP ? &m->up : &m->down;
	struct rip_buf tmp = RIP_BUF_INIT;
	int rc;

	if (!sql->text)
		return rip_err_set(err, RIP_EFAIL, "migration '%s' has no %s "
			"script", m->id, dir == RIP_DB_UP ? "up" : "down");
	if ((rc = write_temp(&tmp, sql, err)) < 0)
		goto done;
	if ((rc = rip_db_sqlite_record(db->ledger, m, RIP_DB_UP, true,
			err)) == 0 &&
	    (rc = run(db, tmp.buf, m, dir, sql->file ? sql->file : m->id,
			err)) == 0)
		rc = rip_db_sqlite_record(db->ledger, m, dir, false, err);
	else if (rc == RIP_EFAIL)
		rip_err_prefix(err, "the level of '%s' is now dirty", m->id);
	unlink(tmp.buf);
done:
	rip_buf_release(&tmp);
	return rc;
}

static int cmd_applied(struct rip_db *db, struct rip_applied_list *out,
	struct rip_err *err)
{
	return rip_db_sqlite.applied(db->ledger, out, err);
}

static int cmd_clear_dirty(struct rip_db *db, const char *id, bool remove,
	struct rip_err *err)
{
	return rip_db_sqlite.clear_dirty(db->ledger, id, remove, err);
}

static int cmd_set_checksum(struct rip_db *db, const char *id,
	const char *checksum, struct rip_err *err)
{
	return rip_db_sqlite.set_checksum(db->ledger, id, checksum, err);
}

const struct rip_db_ops rip_db_command = {
	.name = "command",
	.open = cmd_open,
	.close = cmd_close,
	.applied = cmd_applied,
	.apply = cmd_apply,
	.verify = NULL,
	.clear_dirty = cmd_clear_dirty,
	.set_checksum = cmd_set_checksum,
	.fingerprint = NULL,
};
