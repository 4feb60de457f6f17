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
 * inspect. The program runs through posix_spawnp with an argument vector
 * split from the template, never through a shell; its output goes to
 * stderr, so stdout stays for ripcord's results. The SQL reaches it as a
 * file made by mkstemps under $TMPDIR (default /tmp), removed afterwards.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ripcord/buf.h"
#include "ripcord/config.h"
#include "ripcord/db.h"
#include "ripcord/fsutil.h"
#include "db_internal.h"
#include "banned.h"

extern char **environ;

struct rip_db {
	struct rip_db *ledger;    /* a rip_db_sqlite connection */
	char *apply;
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

static int run(struct rip_db *db, const char *file, const char *label,
	struct rip_err *err)
{
	char **argv = make_argv(db->apply, file);
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0, rc = 0, e;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	e = argv[0] ? posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) :
		      EINVAL;
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		errno = e;
		rc = rip_err_errno(err, RIP_EFAIL, "cannot run '%s' for %s",
			argv[0] ? argv[0] : "(empty apply)", label);
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			rc = rip_err_set(err, RIP_EFAIL, "%s: '%s' %s %d", label,
				argv[0], WIFEXITED(status) ? "exited with" :
				"was killed by signal", WIFEXITED(status) ?
				WEXITSTATUS(status) : WTERMSIG(status));
	}
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
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
	    (rc = run(db, tmp.buf, sql->file ? sql->file : m->id, err)) == 0)
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
