/* SPDX-License-Identifier: MIT */
/*
 * test_deploy.c: the deploy and rollback planners against DESIGN.md §5,
 * as one table of cases. Each case makes its state the way the CLI does:
 * five releases cut from a real git repository into a store in a temp
 * dir, deployed and rolled back with the real plans onto real target
 * roots and a real SQLite schema; a crash is the applying process killed
 * (SIGKILL) from its own activate hook. Then it plans once and asserts
 * the exact plan, every action in order, or the exact refusal (code and
 * the key words of its message). A plan is then applied, and the links,
 * the schema and the journal must say that it happened; a refusal must
 * have changed nothing. Two targets, each with an activate hook; only
 * web-1 has a health URL (a real server on loopback), so a rollback ends
 * with a probe of web-1 and none of web-2.
 */
#include "helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "loopback.h"
#include "ripcord/config.h"
#include "ripcord/deploy.h"
#include "ripcord/extract.h"
#include "ripcord/fsutil.h"
#include "ripcord/journal.h"
#include "ripcord/log.h"
#include "ripcord/migrate.h"
#include "ripcord/release.h"
#include "ripcord/store.h"
#include "ripcord/target.h"

/*
 * The releases every case starts with, in cut order. v1's migration is
 * the baseline ([migrations] baseline = 0001, so it has no down); v4's is
 * irreversible; v0 carries none.
 */
static const struct release {
	const char *id;
	const char *mig;          /* the migration it adds, or NULL */
	const char *up;
	const char *down;         /* NULL: none */
} releases[] = {
	{ "v0", NULL, NULL, NULL },
	{ "v1", "0001_create_items",
	  "CREATE TABLE items (id INTEGER PRIMARY KEY, legacy TEXT);\n", NULL },
	{ "v2", "0002_create_notes", "CREATE TABLE notes (id INTEGER);\n",
	  "DROP TABLE notes;\n" },
	{ "v3", "0003_create_tags", "CREATE TABLE tags (id INTEGER);\n",
	  "DROP TABLE tags;\n" },
	{ "v4", "0004_clear_legacy",
	  "-- ripcord:irreversible\nUPDATE items SET legacy = NULL;\n", NULL },
};

/*
 * One case. given is the history, steps separated by ", ":
 *   deploy R [T]       deploy R (to target T only), applied
 *   rollback [R]       rollback (--to R), applied
 *   crash rollback     the same, killed in its activate hooks (after
 *   crash deploy R     every switch, before any result of a hook)
 *   prune T R          releases/R removed from T (what gc does)
 *   up R               the ups of R, as a deploy runs them first
 *   preempted R        a deploy of R that a rollback asked to stop before
 *                      it began: it stops at its first safe point
 *   stopped-up R       the ups of R, asked to stop after the first one
 *   half T R           a deploy of R to T killed between its rename and its
 *                      record: the journal row pending, the link moved
 *   intent T R         ... killed before its rename: the row pending only
 *   mkdir T            T's root made, empty
 *   stranger T         T's root holds someone else's file, no releases/
 *   plain-current T    T's current is a regular file
 * Then op ("deploy" R, or "rollback" with to = R or NULL) is planned.
 */
struct plan_case {
	const char *name;
	const char *given;
	const char *op;
	const char *id;           /* deploy: the release; rollback: --to */
	const char *only;         /* deploy --target, or NULL */
	bool no_migrate;          /* rollback --no-migrate */
	const char *undo;         /* op "exact": rip_plan_rollback_exact */
	/* a plan: */
	const char *plan;         /* one action a line (see render) */
	bool resumed;
	const char *schema;       /* applied migrations once it ran */
	const char *ran;          /* what p.ran names once it ran, or NULL */
	const char *ahead;        /* words of p.ahead, or NULL: none */
	/* or a refusal: */
	int code;
	const char *words[3];
};

#define ROLLBACK_V3_TO_V2 \
	"switch web-1 v2 from v3\n" \
	"switch web-2 v2 from v3\n" \
	"activate web-1 v2 from v3\n" \
	"activate web-2 v2 from v3\n" \
	"migrate down v2 (1)\n" \
	"probe web-1 v2\n"

static const struct plan_case cases[] = {
	/* ---- issue 15: a rollback that preempted a deploy ---------------- */
	{ .name = "rollback after a deploy preempted before its first switch "
	  "undoes it: no target moves, only its ups are undone",
	  .given = "deploy v1, deploy v2, up v3, preempted v3", .op = "rollback",
	  .plan = "migrate down v2 (1)\n"
		  "probe web-1 v2\n",
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "ups stopped between two transactions: the first is "
	  "applied, the next deploy runs the rest",
	  .given = "deploy v1, stopped-up v3", .op = "deploy", .id = "v3",
	  .plan = "extract web-1 v3\n"
		  "extract web-2 v3\n"
		  "migrate up v3 (1)\n"
		  "switch web-1 v3 from v1\n"
		  "switch web-2 v3 from v1\n"
		  "activate web-1 v3 from v1\n"
		  "activate web-2 v3 from v1\n",
	  .schema = "0001_create_items 0002_create_notes 0003_create_tags",
	  .ran = "0003_create_tags" },
	{ .name = "rollback after a preempted deploy's own later rollback goes "
	  "back as usual",
	  .given = "deploy v1, deploy v2, preempted v3, rollback v2",
	  .op = "rollback",
	  .plan = "switch web-1 v1 from v2\n"
		  "switch web-2 v1 from v2\n"
		  "activate web-1 v1 from v2\n"
		  "activate web-2 v1 from v2\n"
		  "migrate down v1 (1)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items" },
	/* ---- issue 13: the schema ahead, an abort's exact downs ---------- */
	{ .name = "deploy: a release older than the schema says so and "
	  "leaves it",
	  .given = "deploy v3", .op = "deploy", .id = "v2",
	  .plan = "extract web-1 v2\n"
		  "extract web-2 v2\n"
		  "switch web-1 v2 from v3\n"
		  "switch web-2 v2 from v3\n"
		  "activate web-1 v2 from v3\n"
		  "activate web-2 v2 from v3\n",
	  .schema = "0001_create_items 0002_create_notes 0003_create_tags",
	  .ahead = "schema is at 0003_create_tags, v2 carries up to "
	  "0002_create_notes: the running code will see 0003_create_tags's "
	  "columns; 'ripcord migrate down --to v2' would drop them" },
	{ .name = "rollback exact: undoes the listed ups and nothing else",
	  .given = "deploy v1, up v2, deploy v3", .op = "exact", .id = "v1",
	  .undo = "0003_create_tags",
	  .plan = "switch web-1 v1 from v3\n"
		  "switch web-2 v1 from v3\n"
		  "activate web-1 v1 from v3\n"
		  "activate web-2 v1 from v3\n"
		  "migrate down v1 (1)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items 0002_create_notes",
	  .ran = "0003_create_tags" },
	{ .name = "rollback exact: nothing applied, no downs",
	  .given = "deploy v1, up v3, deploy v3", .op = "exact", .id = "v1",
	  .undo = "",
	  .plan = "switch web-1 v1 from v3\n"
		  "switch web-2 v1 from v3\n"
		  "activate web-1 v1 from v3\n"
		  "activate web-2 v1 from v3\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items 0002_create_notes 0003_create_tags" },
	{ .name = "rollback exact: a listed up no longer applied is skipped",
	  .given = "deploy v1, up v2, deploy v3", .op = "exact", .id = "v1",
	  .undo = "0002_create_notes,0003_create_tags,0009_gone",
	  .plan = "switch web-1 v1 from v3\n"
		  "switch web-2 v1 from v3\n"
		  "activate web-1 v1 from v3\n"
		  "activate web-2 v1 from v3\n"
		  "migrate down v1 (2)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items",
	  .ran = "0003_create_tags 0002_create_notes" },
	/* ---- deploy ---------------------------------------------------- */
	{ .name = "deploy: every extract, then the ups, then the first switch",
	  .given = "deploy v1", .op = "deploy", .id = "v3",
	  .plan = "extract web-1 v3\n"
		  "extract web-2 v3\n"
		  "migrate up v3 (2)\n"
		  "switch web-1 v3 from v1\n"
		  "switch web-2 v3 from v1\n"
		  "activate web-1 v3 from v1\n"
		  "activate web-2 v3 from v1\n",
	  .schema = "0001_create_items 0002_create_notes 0003_create_tags" },
	{ .name = "deploy: the first deploy creates the missing roots",
	  .given = "", .op = "deploy", .id = "v2",
	  .plan = "extract web-1 v2\n"
		  "extract web-2 v2\n"
		  "migrate up v2 (2)\n"
		  "switch web-1 v2 from nothing\n"
		  "switch web-2 v2 from nothing\n"
		  "activate web-1 v2\n"
		  "activate web-2 v2\n",
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "deploy: an empty root is ours",
	  .given = "mkdir web-1, mkdir web-2", .op = "deploy", .id = "v1",
	  .plan = "extract web-1 v1\n"
		  "extract web-2 v1\n"
		  "migrate up v1 (1)\n"
		  "switch web-1 v1 from nothing\n"
		  "switch web-2 v1 from nothing\n"
		  "activate web-1 v1\n"
		  "activate web-2 v1\n",
	  .schema = "0001_create_items" },
	{ .name = "deploy: a non-empty root without releases/ is refused",
	  .given = "stranger web-2", .op = "deploy", .id = "v1",
	  .code = RIP_EEXISTS, .words = { "target 'web-2'",
	  "is not empty and has no releases/", "it is not ours" } },
	{ .name = "deploy: a current that is not a symlink is refused",
	  .given = "plain-current web-1", .op = "deploy", .id = "v1",
	  .code = RIP_ESECURITY, .words = { "target 'web-1'",
	  "current' is not a symlink", "never overwrites" } },
	{ .name = "deploy --target: only that target moves",
	  .given = "deploy v1", .op = "deploy", .id = "v2", .only = "web-2",
	  .plan = "extract web-2 v2\n"
		  "migrate up v2 (1)\n"
		  "switch web-2 v2 from v1\n"
		  "activate web-2 v2 from v1\n",
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "deploy --target: an unknown target is refused",
	  .given = "deploy v1", .op = "deploy", .id = "v2", .only = "web-9",
	  .code = RIP_EUSAGE, .words = { "no target 'web-9'" } },
	{ .name = "deploy: an unknown release is refused",
	  .given = "deploy v1", .op = "deploy", .id = "v9",
	  .code = RIP_ENOTFOUND, .words = { "release 'v9' not found" } },
	{ .name = "deploy: what already runs makes an empty plan",
	  .given = "deploy v2", .op = "deploy", .id = "v2",
	  .plan = "",
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "deploy: rerun after a kill in the hooks runs them again",
	  .given = "deploy v1, crash deploy v2", .op = "deploy", .id = "v2",
	  .plan = "activate web-1 v2 from v1 (owed)\n"
		  "activate web-2 v2 from v1 (owed)\n",
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "deploy: rerun after a switch made but not recorded",
	  .given = "deploy v1, up v2, half web-1 v2", .op = "deploy", .id = "v2",
	  .plan = "extract web-2 v2\n"
		  "switch web-2 v2 from v1\n"
		  "activate web-1 v2 from v1 (owed)\n"
		  "activate web-2 v2 from v1\n",
	  .schema = "0001_create_items 0002_create_notes" },

	/* ---- rollback to the previous release --------------------------- */
	{ .name = "rollback: to the previous release, by the journal",
	  .given = "deploy v1, deploy v2, deploy v3", .op = "rollback",
	  .plan = ROLLBACK_V3_TO_V2,
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "rollback: a second one goes further back, not forward",
	  .given = "deploy v1, deploy v2, deploy v3, rollback",
	  .op = "rollback",
	  .plan = "switch web-1 v1 from v2\n"
		  "switch web-2 v1 from v2\n"
		  "activate web-1 v1 from v2\n"
		  "activate web-2 v1 from v2\n"
		  "migrate down v1 (1)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items" },
	{ .name = "rollback: a third one has nothing left to go back to",
	  .given = "deploy v1, deploy v2, deploy v3, rollback, rollback",
	  .op = "rollback",
	  .code = RIP_EFAIL, .words = { "target 'web-1' has no earlier "
	  "release in the journal", "(runs v1)", "pass --to ID" } },
	/* a rollback --to jumps over releases: going back from there must
	 * not land on one of them (it went forward, onto v1's schema) */
	{ .name = "rollback: after rollback --to, not forward to what it skipped",
	  .given = "deploy v1, deploy v2, deploy v3, rollback v1",
	  .op = "rollback",
	  .code = RIP_EFAIL, .words = { "target 'web-1' has no earlier "
	  "release in the journal", "(runs v1)", "pass --to ID" } },
	{ .name = "rollback: after rollback --to and a deploy, back to where --to went",
	  .given = "deploy v1, deploy v2, deploy v3, rollback v1, deploy v3",
	  .op = "rollback",
	  .plan = "switch web-1 v1 from v3\n"
		  "switch web-2 v1 from v3\n"
		  "activate web-1 v1 from v3\n"
		  "activate web-2 v1 from v3\n"
		  "migrate down v1 (2)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items" },
	{ .name = "rollback: after a redeploy, back to what ran before it",
	  .given = "deploy v1, deploy v2, deploy v3, rollback, deploy v3",
	  .op = "rollback",
	  .plan = ROLLBACK_V3_TO_V2,
	  .schema = "0001_create_items 0002_create_notes" },

	{ .name = "rollback: nothing deployed, nothing to roll back from",
	  .given = "", .op = "rollback",
	  .code = RIP_EFAIL, .words = { "no target runs a release of this "
	  "store", "pass --to ID" } },

	/* ---- rollback --to ---------------------------------------------- */
	{ .name = "rollback --to: an older release",
	  .given = "deploy v1, deploy v2, deploy v3", .op = "rollback",
	  .id = "v1",
	  .plan = "switch web-1 v1 from v3\n"
		  "switch web-2 v1 from v3\n"
		  "activate web-1 v1 from v3\n"
		  "activate web-2 v1 from v3\n"
		  "migrate down v1 (2)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items" },
	{ .name = "rollback --to: an unknown release is refused",
	  .given = "deploy v1, deploy v2", .op = "rollback", .id = "v9",
	  .code = RIP_ENOTFOUND, .words = { "cannot roll back to 'v9'",
	  "release 'v9' not found" } },
	{ .name = "rollback --to: where every target is only probes",
	  .given = "deploy v1, deploy v2", .op = "rollback", .id = "v2",
	  .plan = "probe web-1 v2\n",
	  .schema = "0001_create_items 0002_create_notes" },

	/* ---- what is in the way ----------------------------------------- */
	{ .name = "rollback: a pruned release is extracted before the switch",
	  .given = "deploy v1, deploy v2, prune web-2 v1", .op = "rollback",
	  .plan = "extract web-2 v1\n"
		  "switch web-1 v1 from v2\n"
		  "switch web-2 v1 from v2\n"
		  "activate web-1 v1 from v2\n"
		  "activate web-2 v1 from v2\n"
		  "migrate down v1 (1)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items" },
	{ .name = "rollback: an irreversible migration is refused, named",
	  .given = "deploy v3, deploy v4", .op = "rollback",
	  .code = RIP_EFAIL, .words = { "migration '0004_clear_legacy' is "
	  "irreversible", "nothing was changed" } },
	{ .name = "rollback --no-migrate: the code goes back, no downs",
	  .given = "deploy v3, deploy v4", .op = "rollback",
	  .no_migrate = true,
	  .plan = "switch web-1 v3 from v4\n"
		  "switch web-2 v3 from v4\n"
		  "activate web-1 v3 from v4\n"
		  "activate web-2 v3 from v4\n"
		  "probe web-1 v3\n",
	  .schema = "0001_create_items 0002_create_notes 0003_create_tags "
		  "0004_clear_legacy" },
	{ .name = "rollback: below the baseline is refused, named",
	  .given = "deploy v0, deploy v1", .op = "rollback",
	  .code = RIP_EFAIL, .words = { "migration '0001_create_items' is "
	  "part of the baseline", "never goes below it" } },
	{ .name = "rollback: a current that is not a symlink is refused",
	  .given = "deploy v1, deploy v2, plain-current web-2",
	  .op = "rollback",
	  .code = RIP_ESECURITY, .words = { "target 'web-2'",
	  "current' is not a symlink" } },

	/* ---- targets on different releases ------------------------------ */
	{ .name = "rollback: targets that ran different releases are refused",
	  .given = "deploy v1 web-1, deploy v2 web-2, deploy v3",
	  .op = "rollback",
	  .code = RIP_EUSAGE, .words = { "targets running v3 would go back "
	  "to different releases (v1, v2)", "pass --to ID" } },
	{ .name = "rollback --to: targets that ran different releases",
	  .given = "deploy v1 web-1, deploy v2 web-2, deploy v3",
	  .op = "rollback", .id = "v2",
	  .plan = "extract web-1 v2\n" ROLLBACK_V3_TO_V2,
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "rollback: after a partial deploy, to where the others are",
	  .given = "deploy v1, deploy v2 web-1", .op = "rollback",
	  .plan = "switch web-1 v1 from v2\n"
		  "activate web-1 v1 from v2\n"
		  "migrate down v1 (1)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items" },
	{ .name = "rollback: every health URL is probed, switched or not",
	  .given = "deploy v1, deploy v2 web-2", .op = "rollback",
	  .plan = "switch web-2 v1 from v2\n"
		  "activate web-2 v1 from v2\n"
		  "migrate down v1 (1)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items" },

	/* ---- after a crash ---------------------------------------------- */
	{ .name = "rollback: a killed rollback goes on to the same release",
	  .given = "deploy v1, deploy v2, deploy v3, crash rollback",
	  .op = "rollback", .resumed = true,
	  .plan = "activate web-1 v2 from v3 (owed)\n"
		  "activate web-2 v2 from v3 (owed)\n"
		  "migrate down v2 (1)\n"
		  "probe web-1 v2\n",
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "rollback --to: a killed rollback, then another release",
	  .given = "deploy v1, deploy v2, deploy v3, crash rollback",
	  .op = "rollback", .id = "v1",
	  .plan = "switch web-1 v1 from v2\n"
		  "switch web-2 v1 from v2\n"
		  "activate web-1 v1 from v2\n"
		  "activate web-2 v1 from v2\n"
		  "migrate down v1 (2)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items" },
	{ .name = "rollback: after a deploy killed in its hooks",
	  .given = "deploy v1, deploy v2, crash deploy v3", .op = "rollback",
	  .plan = ROLLBACK_V3_TO_V2,
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "rollback: a pending switch whose link moved counts",
	  .given = "deploy v1, deploy v2, up v3, half web-1 v3",
	  .op = "rollback",
	  .plan = "switch web-1 v2 from v3\n"
		  "activate web-1 v2 from v3\n"
		  "migrate down v2 (1)\n"
		  "probe web-1 v2\n",
	  .schema = "0001_create_items 0002_create_notes" },
	{ .name = "rollback: a pending switch that never happened does not",
	  .given = "deploy v1, deploy v2, intent web-2 v3", .op = "rollback",
	  .plan = "switch web-1 v1 from v2\n"
		  "switch web-2 v1 from v2\n"
		  "activate web-1 v1 from v2\n"
		  "activate web-2 v1 from v2\n"
		  "migrate down v1 (1)\n"
		  "probe web-1 v1\n",
	  .schema = "0001_create_items" },
};

/* ---- the health endpoint (runs in forked children only) ---------------- */

static pid_t server_pid = -1;
static int server_port;

static void serve(int fd)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		"Connection: close\r\n\r\nok";
	char head[2048];

	read_head(fd, head, sizeof(head));
	write_all(fd, ok, sizeof(ok) - 1);
	close(fd);
}

/* ---- the fixture -------------------------------------------------------- */

/* tmp first, so helpers.h's tpath() works on it too. */
struct fx {
	struct tmpdir tmp;
	const struct plan_case *c;
	struct rip_config *cfg;
	struct rip_store *store;
	char cwd[1024];
};

/* Runs argv quietly; fails the test unless it exits 0. */
static void spawn(const char *const *argv)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		struct rip_buf b = RIP_BUF_INIT;

		for (size_t i = 0; argv[i]; i++)
			rip_buf_addf(&b, " %s", argv[i]);
		fail_msg("failed:%s", b.buf);
	}
}

/* The activate hook; it kills the applying process when targets/die
 * exists, as SIGKILL would in the middle of the hooks. */
static const char hook[] =
	"#!/bin/sh\n"
	"[ -e \"$RIPCORD_ROOT/../die\" ] && kill -9 \"$PPID\"\n"
	"exit 0\n";

static void load(struct fx *f, const char *dir)
{
	struct rip_err err = { 0 };
	char text[1024];

	snprintf(text, sizeof(text),
		"[project]\nname = app\nkeep = 5\n"
		"[migrations]\ndir = db/migrations\ndriver = sqlite\n"
		"database = app.db\nbaseline = 0001\n"
		"[target \"web-1\"]\nroot = targets/web-1\n"
		"activate = hooks/activate\n"
		"health = http://127.0.0.1:%d/healthz\n"
		"[target \"web-2\"]\nroot = targets/web-2\n"
		"activate = hooks/activate\n", server_port);
	if (rip_config_parse(&f->cfg, text, "ripcord.ini", dir, &err) < 0)
		fail_msg("config: %s", err.msg);
}

/* Commits r's change in f's folder and cuts it. */
static void cut(void **state, const struct release *r)
{
	struct fx *f = *state;
	struct rip_cut_opts opts = { .id = r->id };
	struct rip_cut_result res;
	struct rip_err err = { 0 };
	char name[128];

	write_text(tpath(state, "VERSION"), r->id);
	if (r->mig) {
		snprintf(name, sizeof(name), "db/migrations/%s.up.sql", r->mig);
		write_text(tpath(state, name), r->up);
	}
	if (r->mig && r->down) {
		snprintf(name, sizeof(name), "db/migrations/%s.down.sql", r->mig);
		write_text(tpath(state, name), r->down);
	}
	git_quiet(f->tmp.path, "add", "-A", NULL);
	git_quiet(f->tmp.path, "commit", "-qm", r->id);
	if (rip_cut(&res, f->cfg, &opts, &err) < 0)
		fail_msg("cut %s: %s", r->id, err.msg);
	rip_cut_result_release(&res);
}

/*
 * In /dev/shm when there is one: these cases check plans, not durability,
 * and on a disk shared with other builds the fsyncs of each deploy made
 * the file take 14 s instead of 1.5 s.
 */
static int fx_open(struct fx *f, void **state)
{
	const char *base = rip_is_dir("/dev/shm") && !access("/dev/shm", W_OK) ?
		"/dev/shm" : "/tmp";

	snprintf(f->tmp.path, sizeof(f->tmp.path), "%s/ripcord-test-XXXXXX",
		base);
	if (!mkdtemp(f->tmp.path)) {
		free(f);
		return -1;
	}
	*state = f;
	assert_non_null(getcwd(f->cwd, sizeof(f->cwd)));
	/* cut opens the repository around the working folder */
	assert_int_equal(chdir(f->tmp.path), 0);
	return 0;
}

static void fx_close(struct fx *f, bool remove)
{
	assert_int_equal(chdir(f->cwd), 0);
	rip_store_free(f->store);
	rip_config_free(f->cfg);
	if (remove)
		nftw(f->tmp.path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
}

/*
 * Once for the file: the health endpoint, and the template every case
 * copies: the repository with its hook, and the store holding the five
 * releases (cutting them for each case would cost most of its time).
 */
static char template_dir[256];

static int group_setup(void **state)
{
	struct rip_err err = { 0 };
	struct fx *f;

	rip_log_set_level(RIP_LOG_ERROR);
	/* first, so the server's processes hold none of our memory */
	if (loopback_start(&server_pid, &server_port, 64, serve) < 0)
		return -1;
	f = calloc(1, sizeof(*f));
	if (fx_open(f, state) < 0)
		return -1;
	git_quiet(f->tmp.path, "init", "-q", ".");
	write_text(tpath(state, ".gitignore"),
		".ripcord/\ntargets/\napp.db*\n");
	assert_int_equal(mkdir(tpath(state, "hooks"), 0755), 0);
	write_text(tpath(state, "hooks/activate"), hook);
	assert_int_equal(chmod(tpath(state, "hooks/activate"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "db"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "db/migrations"), 0755), 0);
	load(f, f->tmp.path);
	if (rip_store_open(&f->store, f->cfg->project.store, true, &err) < 0)
		fail_msg("store: %s", err.msg);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(releases); i++)
		cut(state, &releases[i]);
	snprintf(template_dir, sizeof(template_dir), "%s", f->tmp.path);
	fx_close(f, false);
	*state = NULL;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	loopback_stop(server_pid);
	if (template_dir[0])
		nftw(template_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A case's own copy of the template. */
static int setup(void **state)
{
	const struct plan_case *c = *state;
	struct fx *f = calloc(1, sizeof(*f));
	struct rip_err err = { 0 };
	char from[300];

	if (fx_open(f, state) < 0)
		return -1;
	f->c = c;
	snprintf(from, sizeof(from), "%s/.", template_dir);
	{
		const char *argv[] = { "cp", "-a", from, f->tmp.path, NULL };

		spawn(argv);
	}
	load(f, f->tmp.path);
	if (rip_store_open(&f->store, f->cfg->project.store, false, &err) < 0)
		fail_msg("store: %s", err.msg);
	return 0;
}

static int teardown(void **state)
{
	fx_close(*state, true);
	return 0;
}

/* ---- reading the outcome ------------------------------------------------ */

static const struct rip_target *target(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->cfg->n_targets; i++)
		if (!strcmp(f->cfg->targets[i].name, name))
			return &f->cfg->targets[i];
	fail_msg("no target '%s' in the fixture", name);
	return NULL;
}

/* The plan as the table spells it: "<action> [<target>] <release>", the
 * count of a migration, where a switch or activate comes from, and
 * "(owed)" for a hook an interrupted run left to do. */
static char *render(const struct rip_plan *p)
{
	struct rip_buf b = RIP_BUF_INIT;

	for (size_t i = 0; i < p->n; i++) {
		const struct rip_action *a = &p->v[i];

		rip_buf_adds(&b, rip_action_name(a->kind));
		if (a->target)
			rip_buf_addf(&b, " %s", a->target->name);
		rip_buf_addf(&b, " %s", a->release);
		if (a->kind == RIP_ACT_MIGRATE_UP || a->kind == RIP_ACT_MIGRATE_DOWN)
			rip_buf_addf(&b, " (%zu)", p->migrations);
		if (a->kind == RIP_ACT_SWITCH)
			rip_buf_addf(&b, " from %s", a->previous ? a->previous :
				"nothing");
		if (a->kind == RIP_ACT_ACTIVATE && a->previous)
			rip_buf_addf(&b, " from %s", a->previous);
		if (a->seq)
			rip_buf_adds(&b, " (owed)");
		rip_buf_addch(&b, '\n');
	}
	return rip_buf_detach(&b, NULL);
}

/* What each root holds: "web-1 v2 (2 entries)", "web-2 absent", ... */
static char *roots(struct fx *f)
{
	struct rip_buf b = RIP_BUF_INIT;

	for (size_t i = 0; i < f->cfg->n_targets; i++) {
		const struct rip_target *t = &f->cfg->targets[i];
		struct rip_root_state st;
		struct rip_err err = { 0 };

		rip_buf_addf(&b, "%s ", t->name);
		if (!rip_is_dir(t->root)) {
			rip_buf_adds(&b, "absent\n");
			continue;
		}
		if (rip_root_inspect(&st, t->root, &err) < 0) {
			rip_buf_adds(&b, "not ours");
		} else {
			rip_buf_adds(&b, st.current ? st.current : "-");
			rip_root_state_release(&st);
		}
		rip_buf_addf(&b, " (%d entries)\n", count_entries(t->root));
	}
	return rip_buf_detach(&b, NULL);
}

/* The applied migrations, in applied order, space separated. */
static char *schema(struct fx *f)
{
	struct rip_migrations all = { 0 };
	struct rip_mig_status st;
	struct rip_migrate *m = NULL;
	struct rip_buf b = RIP_BUF_INIT;
	struct rip_err err = { 0 };

	/* the newest release carries every migration */
	if (rip_release_migrations(&all, f->store, "v4", NULL, &err) < 0 ||
	    rip_migrate_open(&m, f->cfg, &err) < 0)
		fail_msg("schema: %s", err.msg);
	if (rip_migrate_status(&st, m, &all, &err) < 0)
		fail_msg("schema: %s", err.msg);
	for (size_t i = 0; i < st.n; i++) {
		if (st.v[i].state == RIP_MIG_PENDING)
			continue;
		assert_int_equal(st.v[i].state, RIP_MIG_APPLIED);
		rip_buf_addf(&b, "%s%s", b.len ? " " : "", st.v[i].id);
	}
	rip_mig_status_release(&st);
	rip_migrate_free(m);
	rip_migrations_release(&all);
	return rip_buf_detach(&b, NULL);
}

/* ---- making the history ------------------------------------------------- */

static int plan(struct rip_plan *p, struct fx *f, const char *op,
	const char *id, const char *only, bool no_migrate, struct rip_err *err)
{
	const char *names[] = { only };

	if (!strcmp(op, "deploy"))
		return rip_plan_deploy(p, f->cfg, f->store, id, names, only ? 1 : 0,
			err);
	if (!strcmp(op, "exact"))
		return rip_plan_rollback_exact(p, f->cfg, f->store, id, f->c->undo,
			err);
	return rip_plan_rollback(p, f->cfg, f->store, id, no_migrate, err);
}

/* Plans and applies op, as `ripcord deploy` and `ripcord rollback` do. */
static void run(struct fx *f, const char *op, const char *id,
	const char *only)
{
	struct rip_plan p;
	struct rip_err err = { 0 };

	if (plan(&p, f, op, id, only, false, &err) < 0 ||
	    rip_plan_apply(&p, f->cfg, f->store, NULL, NULL, &err) < 0)
		fail_msg("%s %s: %s", op, id ? id : "", err.msg);
	rip_plan_release(&p);
}

/*
 * Runs op in a child whose activate hook kills it (SIGKILL), as a crash
 * would: every switch made and recorded, no hook's result recorded, the
 * operation left unfinished. The child opens its own store: a SQLite
 * connection never crosses a fork.
 */
static void crash(void **state, const char *op, const char *id)
{
	struct fx *f = *state;
	struct rip_err err = { 0 };
	char die[512];
	int status;
	pid_t pid;

	snprintf(die, sizeof(die), "%s", tpath(state, "targets/die"));
	write_text(die, "");
	rip_store_free(f->store);
	f->store = NULL;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rip_plan p;
		int rc = rip_store_open(&f->store, f->cfg->project.store, false,
			&err);

		if (rc == 0)
			rc = plan(&p, f, op, id, NULL, false, &err);
		if (rc == 0 && rip_plan_apply(&p, f->cfg, f->store, NULL, NULL,
				&err) < 0)
			_exit(2);
		_exit(rc ? 3 : 0);   /* only when the hook did not kill it */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("crash %s: the child was not killed (status %d)", op,
			status);
	assert_int_equal(unlink(die), 0);
	if (rip_store_open(&f->store, f->cfg->project.store, false, &err) < 0)
		fail_msg("store: %s", err.msg);
}

/* The ups of release id, as a deploy runs them before its switches. */
static void ups(struct fx *f, const char *id)
{
	struct rip_migrations migs = { 0 };
	struct rip_migrate *m = NULL;
	struct rip_err err = { 0 };
	size_t done;

	if (rip_release_migrations(&migs, f->store, id, NULL, &err) < 0 ||
	    rip_migrate_open(&m, f->cfg, &err) < 0)
		fail_msg("up %s: %s", id, err.msg);
	if (rip_migrate_up(m, &migs, NULL, &done, &err) < 0)
		fail_msg("up %s: %s", id, err.msg);
	rip_migrate_free(m);
	rip_migrations_release(&migs);
}

/* rip_migrate_opts.stop: yes, once asked once (after the first up). */
static bool stop_now(void *data)
{
	int *calls = data;

	return ++*calls >= 1;
}

/* The ups of id asked to stop between the first and the second. */
static void stopped_ups(struct fx *f, const char *id)
{
	struct rip_migrations migs = { 0 };
	struct rip_migrate *m = NULL;
	struct rip_err err = { 0 };
	int calls = 0;
	struct rip_migrate_opts o = { .stop = stop_now, .data = &calls };
	size_t done;

	if (rip_release_migrations(&migs, f->store, id, NULL, &err) < 0 ||
	    rip_migrate_open(&m, f->cfg, &err) < 0)
		fail_msg("up %s: %s", id, err.msg);
	assert_int_equal(rip_migrate_up(m, &migs, &o, &done, &err), RIP_EINTR);
	assert_int_equal(done, 1);
	assert_int_equal(calls, 1);
	assert_err_contains(&err, "stopped before migration '0003_create_tags' "
		"(1 applied before it)");
	rip_migrate_free(m);
	rip_migrations_release(&migs);
}

/*
 * A deploy of id, preemptible, whose lock a rollback asked to stop before
 * it began: it stops at its first safe point (before its extracts) with
 * RIP_EINTR, moving nothing, and records "preempted: ...".
 */
static void preempted(struct fx *f, const char *id)
{
	struct rip_lock lock;
	struct rip_lock_info h;
	struct rip_plan p;
	struct rip_err err = { 0 };
	bool asked;

	if (rip_lock_acquire_preemptible(&lock, f->store, "deploy", id,
		    &err) < 0 ||
	    rip_lock_info_read(&h, f->store, &err) < 0 ||
	    rip_lock_ask_stop(&asked, f->store, &h, "'ripcord rollback' (pid 1)",
		    &err) < 0 ||
	    rip_plan_deploy(&p, f->cfg, f->store, id, NULL, 0, &err) < 0)
		fail_msg("preempted %s: %s", id, err.msg);
	assert_true(asked);
	p.preemptible = true;
	assert_int_equal(rip_plan_apply(&p, f->cfg, f->store, NULL, NULL,
		&err), RIP_EINTR);
	assert_string_equal(p.preempted, "'ripcord rollback' (pid 1)");
	assert_err_contains(&err, "was preempted by 'ripcord rollback' (pid 1): "
		"it stopped before switching any target");
	rip_plan_release(&p);
	rip_lock_info_release(&h);
	rip_lock_release(&lock);
}

/*
 * A deploy of id to t killed after writing its intent: with switched,
 * after the rename too (the payload extracted, the link moved), but
 * before the journal row got its result.
 */
static void interrupted(struct fx *f, const struct rip_target *t,
	const char *id, bool switched)
{
	struct rip_root_state st;
	struct rip_err err = { 0 };
	int64_t seq;
	char *dir = rip_root_release_dir(t->root, id);
	char *art = rip_store_artifact_path(f->store, id);

	if (rip_root_inspect(&st, t->root, &err) < 0 ||
	    rip_journal_begin(&seq, f->store->state, t->name, id, st.current,
		    "deploy", true, &err) < 0)
		fail_msg("intent %s %s: %s", t->name, id, err.msg);
	if (switched && !rip_is_dir(dir)) {
		const char *dests[] = { dir };
		struct rip_extract_result res;

		if (rip_extract_payload_many(&res, art, dests, 1, &err) < 0)
			fail_msg("extract %s: %s", id, err.msg);
	}
	if (switched && rip_root_switch(t->root, id, &err) < 0)
		fail_msg("switch %s %s: %s", t->name, id, err.msg);
	rip_root_state_release(&st);
	free(art);
	free(dir);
}

static void step(void **state, const char *s)
{
	struct fx *f = *state;
	struct rip_err err = { 0 };
	char verb[32] = "", a[32] = "", b[32] = "", path[512];
	const char *root;

	if (sscanf(s, "%31s %31s %31s", verb, a, b) < 1)
		fail_msg("bad step '%s'", s);
	if (!strcmp(verb, "deploy")) {
		run(f, "deploy", a, *b ? b : NULL);
	} else if (!strcmp(verb, "rollback")) {
		run(f, "rollback", *a ? a : NULL, NULL);
	} else if (!strcmp(verb, "crash")) {
		crash(state, a, *b ? b : NULL);
	} else if (!strcmp(verb, "up")) {
		ups(f, a);
	} else if (!strcmp(verb, "stopped-up")) {
		stopped_ups(f, a);
	} else if (!strcmp(verb, "preempted")) {
		preempted(f, a);
	} else if (!strcmp(verb, "prune")) {
		if (rip_root_remove(target(f, a)->root, b, &err) < 0)
			fail_msg("prune: %s", err.msg);
	} else if (!strcmp(verb, "half") || !strcmp(verb, "intent")) {
		interrupted(f, target(f, a), b, !strcmp(verb, "half"));
	} else if (!strcmp(verb, "plain-current")) {
		root = target(f, a)->root;
		snprintf(path, sizeof(path), "%s/releases", root);
		if (rip_mkdir_p(path, 0755, &err) < 0)
			fail_msg("mkdir: %s", err.msg);
		snprintf(path, sizeof(path), "%s/current", root);
		unlink(path);   /* the link a deploy made, if any */
		write_text(path, "not a link\n");
	} else if (!strcmp(verb, "stranger") || !strcmp(verb, "mkdir")) {
		root = target(f, a)->root;
		if (rip_mkdir_p(root, 0755, &err) < 0)
			fail_msg("mkdir: %s", err.msg);
		snprintf(path, sizeof(path), "%s/index.html", root);
		if (!strcmp(verb, "stranger"))
			write_text(path, "someone else's\n");
	} else {
		fail_msg("bad step '%s'", s);
	}
}

/* Runs the steps of given, ", " separated. */
static void make_history(void **state, const char *given)
{
	while (*given) {
		size_t n = strcspn(given, ",");
		char *s = rip_xstrndup(given, n);

		step(state, s);
		free(s);
		given += n;
		given += strspn(given, ", ");
	}
}

/* ---- checking a case ---------------------------------------------------- */

/* After an applied plan: the links, the journal and the hooks agree. */
static void check_applied(struct fx *f, const struct rip_plan *p)
{
	struct rip_switches pend;
	struct rip_op op;
	struct rip_err err = { 0 };

	for (size_t i = 0; i < p->ntargets; i++) {
		const struct rip_target_report *r = &p->targets[i];
		const struct rip_target *t = r->target;
		struct rip_root_state st;
		struct rip_switch last;
		char *dir = rip_root_release_dir(t->root, p->release);

		if (rip_root_inspect(&st, t->root, &err) < 0 ||
		    rip_journal_last(&last, f->store->state, t->name, &err) < 0)
			fail_msg("%s: %s", t->name, err.msg);
		assert_non_null(st.current);
		assert_string_equal(st.current, p->release);
		assert_true(rip_is_dir(dir));
		assert_false(rip_switch_activate_unsettled(&last, st.current));
		assert_false(r->failed);
		if (!strcmp(p->op, "rollback"))
			/* probed when it has a health URL, else not */
			assert_true(t->health ? !strncmp(r->health, "ok ", 3) :
				!strcmp(r->health, "-"));
		rip_switch_release(&last);
		rip_root_state_release(&st);
		free(dir);
	}
	if (rip_journal_pending(&pend, f->store->state, &err) < 0 ||
	    rip_op_unfinished(&op, f->store->state, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(pend.n, 0);
	assert_int_equal(op.seq, 0);
	rip_switches_release(&pend);
	rip_op_release(&op);
}

static void run_case(void **state)
{
	struct fx *f = *state;
	const struct plan_case *c = f->c;
	struct rip_plan p;
	struct rip_err err = { 0 };
	char *before, *schema_before, *got;
	int rc;

	make_history(state, c->given);
	before = roots(f);
	schema_before = schema(f);
	rc = plan(&p, f, c->op, c->id, c->only, c->no_migrate, &err);
	if (c->code) {
		if (rc == 0)
			fail_msg("expected a refusal (code %d), got the plan:\n%s",
				c->code, render(&p));
		if (rc != c->code)
			fail_msg("expected code %d, got %d: %s", c->code, rc, err.msg);
		for (size_t i = 0; i < RIP_ARRAY_SIZE(c->words) && c->words[i]; i++)
			assert_err_contains(&err, c->words[i]);
		/* a refused plan changed nothing */
		got = roots(f);
		assert_string_equal(got, before);
		free(got);
		got = schema(f);
		assert_string_equal(got, schema_before);
		free(got);
	} else {
		if (rc < 0)
			fail_msg("%s: %s", c->op, err.msg);
		got = render(&p);
		assert_string_equal(got, c->plan);
		free(got);
		assert_int_equal(p.resumed, c->resumed);
		if (c->ahead) {
			assert_non_null(p.ahead);
			assert_non_null(strstr(p.ahead, c->ahead));
		} else {
			assert_null(p.ahead);
		}
		if (rip_plan_apply(&p, f->cfg, f->store, NULL, NULL, &err) < 0)
			fail_msg("apply: %s", err.msg);
		check_applied(f, &p);
		got = schema(f);
		assert_string_equal(got, c->schema);
		free(got);
		if (c->ran) {
			struct rip_buf ran = RIP_BUF_INIT;

			for (size_t i = 0; i < p.ran.n; i++)
				rip_buf_addf(&ran, "%s%s", i ? " " : "", p.ran.v[i]);
			assert_string_equal(ran.buf, c->ran);
			rip_buf_release(&ran);
		}
		rip_plan_release(&p);
	}
	free(before);
	free(schema_before);
}

int main(void)
{
	struct CMUnitTest tests[RIP_ARRAY_SIZE(cases)];

	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
			run_case, setup, teardown, (void *)&cases[i]);
		tests[i].name = cases[i].name;
	}
	return _cmocka_run_group_tests("deploy", tests, RIP_ARRAY_SIZE(tests),
		group_setup, group_teardown);
}
