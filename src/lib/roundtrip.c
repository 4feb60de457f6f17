/* SPDX-License-Identifier: MIT */
/*
 * roundtrip.c: the migration round trip of a drill (DESIGN.md §6, step 3)
 * on a scratch database: a fresh SQLite file in a temporary folder, or a
 * database ripcord_drill_<16 hex> created on a PostgreSQL server.
 *
 * Migrations run through the migration engine (migrate.h), opened on a
 * config that names nothing but the scratch database, so they run exactly
 * as `ripcord migrate` runs them: a transaction each where the driver can,
 * no-transaction markers honoured, every step recorded in the scratch's
 * ripcord_migrations and checked against it. The engine moves a database
 * to a set of migrations rather than to a target id, so each step hands it
 * a borrowed view: `keep` holds shallow copies of the parent's migrations
 * and of the new ones applied so far; up(keep + m) applies m alone and
 * down(keep) undoes m alone, with the release's own down script.
 *
 * Invariants: the scratch database is removed on every path out of
 * rip_roundtrip_run, after the engine's connection is closed; the
 * [migrations] database is never opened, since nothing here reads it. A
 * down or up again that fails, or an up again that gives another schema,
 * leaves the schema unknown: the scratch database is then made again and
 * the ups replayed up to the failing migration's, and the run goes on,
 * so every bad down of a release is found in one drill. An up that fails
 * stops the run: the migrations after it build on it. The release-level
 * round trip runs only when every migration passed on its own: otherwise
 * it could only repeat what was found. Failures are carried whole in
 * struct rip_roundtrip; the error message only counts them.
 *
 * A PostgreSQL scratch database is recorded in state.db (when the caller
 * gives one) before it is created and forgotten once dropped; a run drops
 * the ones recorded on the same server by runs that are dead (a drill
 * killed with SIGKILL), and never a database it finds unrecorded.
 *
 * Column order and comments: the catalog readers leave them out unless
 * strict is passed (fp_read.h), so the non-strict comparison is the
 * readers' own and nothing is filtered here.
 *
 * PostgreSQL: the scratch database is created and dropped over a
 * maintenance connection to the conninfo's own database ("postgres" when
 * it names none), which runs nothing but CREATE and DROP DATABASE. It is
 * made through pg.h here because the driver's open() (db_pg.c) would
 * create ripcord_migrations in the maintenance database.
 *
 * Tuned for tens of migrations: each step reads a fingerprint (a few
 * catalog queries); the migrations' own DDL dominates.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/fingerprint.h"
#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "ripcord/roundtrip.h"
#include "pg.h"
#include "sqltok.h"
#include "banned.h"

struct rt {
	const struct rip_roundtrip_opts *o;
	struct rip_roundtrip *out;
	const struct rip_migrations *parent;
	const struct rip_migrations *release;
	struct rip_err e;              /* the error being built */
	const struct rip_db_ops *ops;
	bool pg;
	char *dir;                     /* SQLite: the folder of the file */
	char *database;                /* what the engine opens */
	struct rip_pg *admin;          /* postgres: creates and drops */
	bool created;                  /* a scratch database to drop */
	struct rip_migrate *m;
	struct rip_migrate_opts mo;
	struct rip_migrations keep;    /* borrowed copies: only v is ours */
	struct rip_migrations src;     /* the release's, borrowed copies but
					  for empty migrations' downs */
	char *server;                  /* postgres: the admin conninfo,
					  password masked, as recorded */
	char host[256];                /* postgres: this host, as recorded */
	size_t floor_n;                /* keep.n just above the floor */
	struct rip_fingerprint floor_fp;   /* the schema there (A: none) */
};

void rip_roundtrip_opts_init(struct rip_roundtrip_opts *o,
	const struct rip_config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->driver = cfg->migrations.driver;
	o->scratch = cfg->drill.database;
	o->strict = cfg->drill.strict;
}

char *rip_roundtrip_summary(const struct rip_roundtrip *r)
{
	if (r->checked == r->ups)
		return rip_xasprintf("%zu migration%s undone and redone",
			r->ups, r->ups == 1 ? "" : "s");
	return rip_xasprintf("%zu of %zu migrations undone and redone (%zu "
		"irreversible or baseline: up only, the newest %s)", r->checked,
		r->ups, r->skipped, r->floor ? r->floor : "?");
}

void rip_roundtrip_release(struct rip_roundtrip *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfail; i++) {
		struct rip_roundtrip_failure *f = &r->fail[i];

		free(f->migration);
		free(f->phase);
		free(f->error);
		free(f->diff);
		free(f->a_label);
		free(f->b_label);
		for (size_t j = 0; j < f->nobj; j++) {
			free(f->obj[j].key);
			free(f->obj[j].a);
			free(f->obj[j].b);
		}
		free(f->obj);
	}
	free(r->fail);
	free(r->floor);
	free(r->scratch);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* failures */

static const char *what_failed(const char *phase)
{
	if (!strcmp(phase, "down"))
		return "its down does not undo its up";
	if (!strcmp(phase, "up again"))
		return "its up, run again after its down, gives another schema";
	if (!strcmp(phase, "release down"))
		return "their downs, newest first, do not give back the schema "
			"before their ups";
	return "their ups, run again after their downs, give another schema";
}

/* Every object that differs between sorted a and b, whole, into f. */
static void add_objects(struct rip_roundtrip_failure *f,
	const struct rip_fingerprint *a, const struct rip_fingerprint *b)
{
	size_t i = 0, j = 0, alloc = 0;

	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 :
			strcmp(a->v[i].key, b->v[j].key);
		struct rip_roundtrip_object *o;

		if (c == 0 && !strcmp(a->v[i].value, b->v[j].value)) {
			i++;
			j++;
			continue;
		}
		RIP_ALLOC_GROW(f->obj, f->nobj + 1, alloc);
		o = &f->obj[f->nobj++];
		o->key = rip_xstrdup(c <= 0 ? a->v[i].key : b->v[j].key);
		o->a = c <= 0 ? rip_xstrdup(a->v[i++].value) : NULL;
		o->b = c >= 0 ? rip_xstrdup(b->v[j++].value) : NULL;
	}
}

/* Records a failure; the first one is named by the caller's error. */
static struct rip_roundtrip_failure *add_failure(struct rt *t,
	const char *migration, const char *phase, const char *error)
{
	struct rip_roundtrip *out = t->out;
	struct rip_roundtrip_failure *f;

	if (!out->nfail || strcmp(out->fail[out->nfail - 1].migration,
			migration))
		out->failed++;
	RIP_ALLOC_GROW(out->fail, out->nfail + 1, out->alloc);
	f = &out->fail[out->nfail++];
	memset(f, 0, sizeof(*f));
	f->migration = rip_xstrdup(migration);
	f->phase = rip_xstrdup(phase);
	f->error = error ? rip_xstrdup(error) : NULL;
	return f;
}

/* A script failed: the engine's message is in t->e. */
static int script_failed(struct rt *t, const char *migration,
	const char *phase)
{
	add_failure(t, migration, phase, t->e.msg);
	return RIP_EFAIL;
}

/* Whether a and b differ; if so the diff is recorded as a failure. */
static bool differs(struct rt *t, const struct rip_fingerprint *a,
	const struct rip_fingerprint *b, const char *a_label,
	const char *b_label, const char *migration, const char *phase)
{
	struct rip_buf diff = RIP_BUF_INIT;
	size_t n = rip_fp_diff(&diff, a, b, a_label, b_label);

	if (n) {
		struct rip_roundtrip_failure *f = add_failure(t, migration,
			phase, NULL);

		f->diff = rip_buf_detach(&diff, NULL);
		f->a_label = rip_xstrdup(a_label);
		f->b_label = rip_xstrdup(b_label);
		add_objects(f, a, b);
	}
	rip_buf_release(&diff);
	return n != 0;
}

/*
 * The caller's error: a count and the first failure's migration and
 * phase, all of bounded length; the findings themselves are in out.
 */
static void failure_error(struct rt *t)
{
	const struct rip_roundtrip *out = t->out;
	const struct rip_roundtrip_failure *f = &out->fail[0];
	struct rip_buf msg = RIP_BUF_INIT;

	if (!strcmp(f->phase, "parent up"))
		rip_buf_addf(&msg, "the up of migration '%s' (in the "
			"parent release) failed", f->migration);
	else if (!strncmp(f->phase, "release", 7))
		rip_buf_addf(&msg, "migrations '%s': ", f->migration);
	else
		rip_buf_addf(&msg, "%zu of %zu migration%s failed; "
			"the first: ", out->failed, out->ups, out->ups == 1 ? "" : "s");
	if (f->error && strcmp(f->phase, "parent up"))
		rip_buf_addf(&msg, "the %s of migration '%s' failed",
			f->phase, f->migration);
	else if (!f->error)
		rip_buf_addf(&msg, "%s%s%s: %s (%zu object%s differ%s)",
			strncmp(f->phase, "release", 7) ? "migration '" : "",
			strncmp(f->phase, "release", 7) ? f->migration : "",
			strncmp(f->phase, "release", 7) ? "'" : "",
			what_failed(f->phase), f->nobj, f->nobj == 1 ? "" : "s",
			f->nobj == 1 ? "s" : "");
	if (f->error)
		rip_buf_addf(&msg, ": %s", f->error);
	/* the count and the first name come first: a long database message
	 * is what a short error buffer cuts, and out holds it whole */
	rip_err_set(&t->e, RIP_EFAIL, "%s", msg.buf);
	rip_buf_release(&msg);
}

/* ------------------------------------------------------------------ */
/* fingerprints */

static int fp_read(struct rt *t, struct rip_fingerprint *out)
{
	if (t->ops->fingerprint(rip_migrate_db(t->m), out, t->o->strict,
			&t->e) == 0)
		return 0;
	rip_err_prefix(&t->e, "cannot read the schema of the scratch "
		"database %s", t->out->scratch);
	t->e.code = RIP_EIO;
	return RIP_EIO;
}

static void fp_copy(struct rip_fingerprint *to,
	const struct rip_fingerprint *from)
{
	rip_fp_release(to);
	/* from is sorted: the copy keeps its order and needs no sort */
	for (size_t i = 0; i < from->n; i++)
		rip_fp_add(to, from->v[i].key, "%s", from->v[i].value);
}

/* Moves from into to, leaving from empty. */
static void fp_move(struct rip_fingerprint *to, struct rip_fingerprint *from)
{
	rip_fp_release(to);
	*to = *from;
	memset(from, 0, sizeof(*from));
}

static void fp_hex(char out[RIP_SHA256_HEX], const struct rip_fingerprint *fp)
{
	unsigned char md[RIP_SHA256_LEN];

	rip_fp_digest(md, fp);
	rip_hex(out, md, RIP_SHA256_LEN);
}

/* ------------------------------------------------------------------ */
/* the scratch database: SQLite */

static int sqlite_create(struct rt *t)
{
	const char *base = t->o->tmpdir;
	char *tmpl;

	if (!base || !base[0])
		base = getenv("TMPDIR");
	if (!base || !base[0])
		base = "/tmp";
	tmpl = rip_xasprintf("%s/ripcord-drill-XXXXXX", base);
	if (!mkdtemp(tmpl)) {
		free(tmpl);
		return rip_err_errno(&t->e, RIP_EIO, "cannot make a scratch "
			"folder in '%s' for the round trip", base);
	}
	t->dir = rip_path_absolute(tmpl);
	free(tmpl);
	t->database = rip_path_join(t->dir, "scratch.db");
	t->out->scratch = rip_xstrdup(t->database);
	t->created = true;
	return 0;
}

/* The file and its journals; the folder stays. */
static int sqlite_unlink(struct rt *t, struct rip_err *err)
{
	static const char *const tails[] = { "", "-journal", "-wal", "-shm" };

	for (size_t i = 0; i < RIP_ARRAY_SIZE(tails); i++) {
		char *p = rip_xasprintf("%s%s", t->database, tails[i]);
		int bad = unlink(p) < 0 && errno != ENOENT;

		free(p);
		if (bad)
			return rip_err_errno(err, RIP_EIO, "cannot remove the "
				"scratch database '%s'", t->database);
	}
	return 0;
}

static int sqlite_remove(struct rt *t, struct rip_err *err)
{
	int rc;

	if (!t->created)
		return 0;
	if ((rc = sqlite_unlink(t, err)) < 0)
		return rc;
	if (rmdir(t->dir) < 0)
		return rip_err_errno(err, RIP_EIO, "cannot remove the scratch "
			"folder '%s'", t->dir);
	t->created = false;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the scratch database: PostgreSQL */

/* Whether the drill that recorded r may still be running. */
static bool recorder_alive(const struct rip_scratch_rec *r,
	const char *host)
{
	if (strcmp(r->host, host))
		return true;      /* another machine's: cannot tell, leave it */
	if (r->pid <= 0 || (pid_t)r->pid != r->pid)
		return false;
	if ((pid_t)r->pid == getpid())
		return true;
	return kill((pid_t)r->pid, 0) == 0 || errno == EPERM;
}

/*
 * Drops the scratch databases that runs now dead recorded on this server
 * (a drill killed before it could drop its own), and only those.
 */
static void pg_drop_leftovers(struct rt *t)
{
	struct rip_scratch_rec *v;
	struct rip_err e = { 0 };
	size_t n;

	if (rip_state_scratch_list(&v, &n, t->o->state, &e) < 0) {
		rip_warn("cannot read the scratch databases of earlier drills: "
			"%s", e.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct rip_scratch_rec *r = &v[i];

		if (strcmp(r->server, t->server) || recorder_alive(r, t->host) ||
		    strncmp(r->name, "ripcord_drill_", 14))
			continue;
		if (rip_pg_database_drop(t->admin, r->name, &e) < 0) {
			rip_warn("cannot drop the scratch database '%s' that an "
				"interrupted drill (pid %lld) left behind: %s", r->name,
				(long long)r->pid, e.msg);
			continue;
		}
		if (rip_state_scratch_forget(t->o->state, r->name, &e) < 0)
			rip_warn("%s", e.msg);
		rip_warn("dropped the scratch database '%s' that an interrupted "
			"drill (pid %lld) left behind", r->name, (long long)r->pid);
	}
	rip_scratch_recs_free(v, n);
}

/* Records name before it is created; a failure to record stops the run. */
static int pg_record(struct rt *t)
{
	struct rip_scratch_rec r = {
		.name = t->out->scratch, .server = t->server,
		.pid = (int64_t)getpid(), .host = t->host,
		.created = (int64_t)time(NULL),
	};

	if (!t->o->state)
		return 0;
	if (rip_state_scratch_add(t->o->state, &r, &t->e) < 0) {
		rip_err_prefix(&t->e, "cannot record the scratch database '%s' "
			"before creating it", r.name);
		return t->e.code = RIP_EIO;
	}
	return 0;
}

static void pg_forget(struct rt *t)
{
	struct rip_err e = { 0 };

	if (t->o->state && rip_state_scratch_forget(t->o->state,
			t->out->scratch, &e) < 0)
		rip_warn("%s", e.msg);
}

static int pg_create(struct rt *t)
{
	unsigned char rnd[8];
	char hex[2 * sizeof(rnd) + 1], *admin = NULL;
	int rc;

	if ((rc = rip_pg_conninfo_with_db(&admin, t->o->scratch, NULL,
			&t->e)) < 0)
		return rip_err_prefix(&t->e, "[drill] database is not a postgres "
			"conninfo or URI");
	t->server = rip_pg_mask(admin);
	rc = rip_pg_connect(&t->admin, admin, &t->e);
	free(admin);
	if (rc < 0) {
		rip_err_prefix(&t->e, "[drill] database");
		return t->e.code = RIP_EIO;
	}
	if (gethostname(t->host, sizeof(t->host) - 1) < 0)
		t->host[0] = '\0';
	if (t->o->state)
		pg_drop_leftovers(t);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return rip_err_errno(&t->e, RIP_EIO, "cannot draw a random name "
			"for the scratch database");
	rip_hex(hex, rnd, sizeof(rnd));
	t->out->scratch = rip_xasprintf("ripcord_drill_%s", hex);
	if ((rc = pg_record(t)) < 0)
		return rc;
	if (rip_pg_database_create(t->admin, t->out->scratch, &t->e) < 0) {
		pg_forget(t);
		rip_err_prefix(&t->e, "cannot create the scratch database '%s' "
			"(the role of [drill] database needs CREATEDB)",
			t->out->scratch);
		return t->e.code = RIP_EIO;
	}
	t->created = true;
	return rip_pg_conninfo_with_db(&t->database, t->o->scratch,
		t->out->scratch, &t->e);
}

static int pg_drop(struct rt *t, struct rip_err *err)
{
	if (!t->created)
		return 0;
	if (rip_pg_database_drop(t->admin, t->out->scratch, err) < 0) {
		rip_err_prefix(err, "cannot drop the scratch database '%s' (drop "
			"it by hand)", t->out->scratch);
		return err->code = RIP_EIO;
	}
	t->created = false;
	pg_forget(t);
	return 0;
}

/* ------------------------------------------------------------------ */
/* options and the engine */

static bool scratch_is_sqlite(const char *s)
{
	return !s || !s[0] || !strcmp(s, "scratch");
}

static int check_opts(struct rt *t)
{
	const char *driver = t->o->driver ? t->o->driver : "sqlite";

	t->ops = rip_db_find(driver);
	if (!t->ops)
		return rip_err_set(&t->e, RIP_ECONFIG, "unknown migration driver "
			"'%s' (sqlite, postgres)", driver);
	if (!t->ops->fingerprint)
		return rip_err_set(&t->e, RIP_ECONFIG, "migrations of the '%s' "
			"driver cannot be drilled: ripcord cannot read the schema of "
			"a database it only reaches through [migrations] apply. Use "
			"the sqlite or postgres driver for the round trip", driver);
	t->pg = t->ops == &rip_db_postgres;
	if (!t->pg && !scratch_is_sqlite(t->o->scratch))
		return rip_err_set(&t->e, RIP_ECONFIG, "[drill] database names a "
			"postgres server, but [migrations] driver is sqlite: SQLite "
			"migrations are drilled on a scratch file (set [drill] "
			"database = scratch)");
	if (t->pg && scratch_is_sqlite(t->o->scratch))
		return rip_err_set(&t->e, RIP_ECONFIG, "postgres migrations cannot "
			"be drilled on a scratch SQLite file: set [drill] database to "
			"the conninfo of a postgres server where ripcord may create "
			"and drop a database ripcord_drill_* (not the production "
			"database)");
	return 0;
}

/*
 * Opens the engine on the scratch database alone: the config carries only
 * what rip_migrate_open reads (driver, database, store; database is
 * absolute or a conninfo, so no folder), and no path or conninfo of the
 * project's can reach it.
 */
static int engine_open(struct rt *t)
{
	struct rip_config cfg;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.project.store = t->dir;   /* the command driver's ledger: unused */
	cfg.migrations.driver = rip_xstrdup(t->ops->name);
	cfg.migrations.database = t->database;
	rc = rip_migrate_open(&t->m, &cfg, &t->e);
	free(cfg.migrations.driver);
	if (rc < 0) {
		rip_err_prefix(&t->e, "cannot open the scratch database %s",
			t->out->scratch);
		t->e.code = RIP_EIO;
		return RIP_EIO;
	}
	return 0;
}

static int up(struct rt *t, const struct rip_migrations *to, size_t *done)
{
	return rip_migrate_up(t->m, to, &t->mo, done, &t->e);
}

static int down(struct rt *t, const struct rip_migrations *keep,
	size_t *done)
{
	return rip_migrate_down(t->m, keep, &t->src, &t->mo, done, &t->e);
}

static bool has_statement(const struct rip_sql *q)
{
	return q->text && rip_sqltok_has_statement(q->text, q->len);
}

/*
 * The release's migrations as the downs see them: borrowed copies, but a
 * migration with nothing to undo (no statement in its up, none in its
 * down if it has one) gets an empty down even when marked irreversible.
 */
static void make_sources(struct rt *t)
{
	static char empty[] = "";

	t->src.v = rip_xcalloc(t->release->n + 1, sizeof(*t->src.v));
	t->src.n = t->release->n;
	for (size_t i = 0; i < t->release->n; i++) {
		struct rip_migration *g = &t->src.v[i];

		*g = t->release->v[i];
		if (g->baseline || has_statement(&g->up) ||
		    has_statement(&g->down))
			continue;
		g->irreversible = false;
		g->down.text = empty;
		g->down.len = 0;
	}
}

/* ------------------------------------------------------------------ */
/* the round trip */

/* An up without a down: applied, never undone; the floor moves up. */
static void skip_one(struct rt *t, const struct rip_migration *g,
	const struct rip_fingerprint *after)
{
	t->out->skipped++;
	free(t->out->floor);
	t->out->floor = rip_xstrdup(g->id);
	t->floor_n = t->keep.n;
	fp_copy(&t->floor_fp, after);
}

/*
 * After a failed down or up again the schema is unknown: the scratch
 * database is made again, empty, and every up so far (keep) replayed,
 * which gives the schema after the failing migration's up; cur becomes
 * it. Returns 0 to go on, RIP_EFAIL when the replay failed (recorded), or
 * an infrastructure error.
 */
static int rebuild(struct rt *t, const struct rip_migration *g,
	struct rip_fingerprint *cur)
{
	struct rip_fingerprint fp = { 0 };
	size_t done;
	int rc;

	rip_migrate_free(t->m);
	t->m = NULL;
	if (t->pg) {
		if ((rc = pg_drop(t, &t->e)) < 0)
			return rc;
		if ((rc = pg_record(t)) < 0)
			return rc;
		if (rip_pg_database_create(t->admin, t->out->scratch, &t->e) < 0) {
			pg_forget(t);
			rip_err_prefix(&t->e, "cannot create the scratch database "
				"'%s' again", t->out->scratch);
			return t->e.code = RIP_EIO;
		}
		t->created = true;
	} else if ((rc = sqlite_unlink(t, &t->e)) < 0) {
		return rc;
	}
	if ((rc = engine_open(t)) < 0)
		return rc;
	if (up(t, &t->keep, &done) < 0)
		return script_failed(t, g->id, "rebuild");
	if ((rc = fp_read(t, &fp)) < 0) {
		rip_fp_release(&fp);
		return rc;
	}
	fp_move(cur, &fp); /* cur held the schema before: released there */
	return 0;
}

/*
 * Up, down, up again of g, whose "before" schema is cur; cur becomes the
 * schema after. Returns 0 to go on (a failure of its down or up again is
 * recorded and the scratch database rebuilt), RIP_EFAIL to stop (its up
 * failed), or an infrastructure error.
 */
static int one(struct rt *t, const struct rip_migration *g,
	struct rip_fingerprint *cur)
{
	struct rip_fingerprint after = { 0 }, back = { 0 }, again = { 0 };
	size_t done;
	int rc;

	t->keep.v[t->keep.n++] = *g;
	if (up(t, &t->keep, &done) < 0)
		return script_failed(t, g->id, "up");
	if ((rc = fp_read(t, &after)) < 0)
		goto out;
	if (g->irreversible || g->baseline || !g->down.text) {
		skip_one(t, g, &after);
		fp_move(cur, &after);
		goto out;
	}
	t->keep.n--;
	rc = down(t, &t->keep, &done);
	t->keep.n++;
	if (rc < 0) {
		script_failed(t, g->id, "down");
		rc = rebuild(t, g, cur);
		goto out;
	}
	if ((rc = fp_read(t, &back)) < 0)
		goto out;
	differs(t, cur, &back, "before up", "after down", g->id, "down");
	if (up(t, &t->keep, &done) < 0) {
		script_failed(t, g->id, "up again");
		rc = rebuild(t, g, cur);
		goto out;
	}
	if ((rc = fp_read(t, &again)) < 0)
		goto out;
	t->out->checked++;
	if (differs(t, &after, &again, "after up", "after up again", g->id,
			"up again"))
		rc = rebuild(t, g, cur);
	else
		fp_move(cur, &again);
out:
	rip_fp_release(&after);
	rip_fp_release(&back);
	rip_fp_release(&again);
	return rc;
}

/* The new migrations above the floor, as one name: "0021_x..0033_y". */
static char *span(const struct rt *t)
{
	const char *a = t->keep.v[t->floor_n].id;
	const char *b = t->keep.v[t->keep.n - 1].id;

	return t->floor_n + 1 == t->keep.n ? rip_xstrdup(a) :
		rip_xasprintf("%s..%s", a, b);
}

/* Downs of everything above the floor, newest first; then ups again. */
static int whole(struct rt *t, const struct rip_fingerprint *b)
{
	struct rip_migrations below = t->keep;
	struct rip_fingerprint fp = { 0 };
	char *name = span(t), *label = NULL;
	size_t done;
	int rc;

	below.n = t->floor_n;
	if (down(t, &below, &done) < 0) {
		rc = script_failed(t, t->keep.v[t->keep.n - 1 - done].id,
			"release down");
		goto out;
	}
	if ((rc = fp_read(t, &fp)) < 0)
		goto out;
	label = t->out->floor ? rip_xasprintf("after %s", t->out->floor) :
		rip_xstrdup("at the parent");
	if (differs(t, &t->floor_fp, &fp, label, "after the downs", name,
			"release down")) {
		rc = RIP_EFAIL;
		goto out;
	}
	rip_fp_release(&fp);
	if (up(t, &t->keep, &done) < 0) {
		rc = script_failed(t, t->keep.v[t->floor_n + done].id,
			"release up again");
		goto out;
	}
	if ((rc = fp_read(t, &fp)) < 0)
		goto out;
	t->out->release_checked = true;
	if (differs(t, b, &fp, "after the ups", "after the ups again", name,
			"release up again"))
		rc = RIP_EFAIL;
out:
	rip_fp_release(&fp);
	free(name);
	free(label);
	return rc;
}

static int round_trip(struct rt *t)
{
	const struct rip_migrations *parent = t->parent, *rel = t->release;
	struct rip_fingerprint cur = { 0 };
	size_t done;
	int rc = 0;

	if (up(t, parent, &done) < 0)
		return script_failed(t, done < parent->n ?
			parent->v[done].id : "?", "parent up");
	if ((rc = fp_read(t, &cur)) < 0)
		return rc;
	fp_hex(t->out->parent_fp, &cur);
	fp_copy(&t->floor_fp, &cur);
	t->keep.v = rip_xcalloc(parent->n + rel->n + 1, sizeof(*t->keep.v));
	for (size_t i = 0; i < parent->n; i++)
		t->keep.v[t->keep.n++] = parent->v[i];
	t->floor_n = t->keep.n;
	for (size_t i = 0; i < rel->n; i++)
		t->out->ups += !rip_migrations_find(parent, rel->v[i].id);
	for (size_t i = 0; i < rel->n && rc == 0; i++)
		if (!rip_migrations_find(parent, rel->v[i].id))
			rc = one(t, &t->src.v[i], &cur);
	if (rc == 0)
		fp_hex(t->out->release_fp, &cur);
	if (rc == 0 && !t->out->nfail && t->keep.n > t->floor_n)
		rc = whole(t, &cur);
	rip_fp_release(&cur);
	if (rc == 0 && t->out->nfail)
		rc = RIP_EFAIL;
	return rc;
}

int rip_roundtrip_run(struct rip_roundtrip *out,
	const struct rip_roundtrip_opts *o, const struct rip_migrations *parent,
	const struct rip_migrations *release, struct rip_err *err)
{
	static const struct rip_migrations none;
	struct rip_err gone = { 0 };
	double t0 = rip_monotonic();
	struct rt t;
	int rc, rc2;

	/* a "now" frozen by the ups this round trip runs is no difference */
	rip_fp_window_open();
	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	t.o = o;
	t.out = out;
	t.parent = parent ? parent : &none;
	t.release = release ? release : &none;
	t.mo.on_step = o->on_step;
	t.mo.data = o->data;
	make_sources(&t);
	if ((rc = check_opts(&t)) == 0)
		rc = t.pg ? pg_create(&t) : sqlite_create(&t);
	if (rc == 0)
		rc = engine_open(&t);
	if (rc == 0)
		rc = round_trip(&t);
	/* whatever happened: close, then remove the scratch database */
	rip_migrate_free(t.m);
	rc2 = t.pg ? pg_drop(&t, &gone) : sqlite_remove(&t, &gone);
	if (rc2 < 0 && rc == 0) {
		rc = rc2;
		t.e = gone;
	} else if (rc2 < 0) {
		rip_warn("%s", gone.msg);
	}
	if (rc == RIP_EFAIL && out->nfail)
		failure_error(&t);
	if (rc < 0 && err)
		*err = t.e;
	rip_pg_free(t.admin);
	free(t.dir);
	free(t.database);
	free(t.keep.v);
	free(t.src.v);
	free(t.server);
	rip_fp_release(&t.floor_fp);
	out->seconds = rip_monotonic() - t0;
	return rc;
}
