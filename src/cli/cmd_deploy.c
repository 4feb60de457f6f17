/* SPDX-License-Identifier: MIT */
/*
 * cmd_deploy.c: `ripcord deploy ID [--target NAME]... [--dry-run]` and
 * `ripcord rollback [--to ID] [--dry-run] [--no-migrate] [--wait[=DUR]]`:
 * parse, lock, plan, apply (deploy.c does the work).
 *
 * A deploy holds the lock as a preemptible holder; a rollback asks it to
 * stop (unless --wait) and waits, bounded, for it to leave the lock, then
 * says what became of it. Any other holder (gc, drill, migrate, another
 * rollback) keeps the rollback out: exit 4 naming it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ripcord/deploy.h"
#include "ripcord/drill.h"
#include "ripcord/journal.h"
#include "ripcord/log.h"
#include "ripcord/parse.h"
#include "ripcord/rollout.h"
#include "banned.h"

/* `rollback --wait` without a duration waits this long for the lock. */
#define ROLLBACK_WAIT_DEFAULT_MS (5 * 60 * 1000)
/* A lock taken but its holder not yet recorded: how long to look again. */
#define HOLDER_UNRECORDED_MS 2000
#define POLL_US (100 * 1000)

struct run {
	struct rip_config *cfg;
	struct rip_store *store;
	struct rip_lock lock;
	struct rip_plan plan;
	struct rip_err err;
	struct rip_lock_info asked;   /* rollback: the deploy it preempted */
	int64_t rollout_pid;          /* rollback: the rollout it preempted */
};

/* Config and store; a deploy is refused while a rollout is unfinished. */
static int open_store(struct cli *cli, struct run *r, bool deploy)
{
	int rc;

	r->lock.fd = -1;
	if ((rc = cli_load_config(cli, &r->cfg, &r->err)) < 0 ||
	    (rc = rip_store_open(&r->store, r->cfg->project.store, false,
		    &r->err)) < 0)
		return rc;
	return deploy ? rip_rollout_busy(r->store, &r->err) : 0;
}

/* "'ripcord rollback' (pid 7, user ana)": who preempts, as recorded. */
static char *preempter(void)
{
	return rip_xasprintf("'ripcord rollback' (pid %ld, user %s)",
		(long)getpid(), rip_user_name());
}

/* "deploy of v2 (pid 123, started 14 s ago)" */
static void describe_deploy(char *out, size_t len,
	const struct rip_lock_info *h)
{
	int64_t ago = (int64_t)time(NULL) - h->since;

	snprintf(out, len, "deploy of %s (pid %lld, started %lld s ago)",
		h->release ? h->release : "?", (long long)h->pid,
		(long long)(ago < 0 ? 0 : ago));
}

/*
 * One look at the lock for a preempting rollback: 0 when it is ours now;
 * 1 to look again (a deploy asked to stop, or a holder being recorded);
 * RIP_EBUSY when a holder that is not a deploy keeps it.
 */
static int preempt_once(struct run *r, bool *first, struct rip_err *err)
{
	struct rip_lock_info h;
	char what[320], who[768];
	bool asked = false;
	int rc;

	if ((rc = rip_lock_acquire(&r->lock, r->store, "rollback", err)) !=
			RIP_EBUSY)
		return rc;
	if ((rc = rip_lock_info_read(&h, r->store, err)) < 0)
		return rc;
	if (h.pid && h.alive && h.preemptible && (h.pid != r->asked.pid ||
			h.since != r->asked.since)) {
		char *by = preempter();

		rc = rip_lock_ask_stop(&asked, r->store, &h, by, err);
		free(by);
		if (rc < 0)
			goto done;
	}
	if (asked) {
		describe_deploy(what, sizeof(what), &h);
		rip_warn("asking the %s to stop at its next safe point; this "
			"rollback goes on once it has", what);
		rip_lock_info_release(&r->asked);
		r->asked = h;
		memset(&h, 0, sizeof(h));
		*first = false;
		rc = 1;
	} else if (h.pid && h.alive && !h.preemptible && !r->asked.pid &&
		   h.pid != r->rollout_pid) {
		rip_lock_info_describe(who, sizeof(who), &h);
		rc = rip_err_set(err, RIP_EBUSY, "another ripcord operation holds "
			"the lock of %s (%s), and only a deploy can be preempted: wait "
			"for it to finish, or run 'ripcord rollback --wait[=DUR]' to "
			"wait for it", r->store->dir, who);
	} else {
		rc = 1;
	}
done:
	rip_lock_info_release(&h);
	return rc;
}

/*
 * The rollback's lock: a deploy that holds it is asked to stop at its
 * next safe point, and the lock awaited for up to
 * RIP_ROLLOUT_PREEMPT_WAIT_MS (the time its current step takes: an up, an
 * extract, 2 s for a hook's SIGTERM); any other holder is RIP_EBUSY.
 */
static int lock_preempting(struct run *r, uint64_t wait_ms)
{
	double start = rip_monotonic();
	bool first = true;
	char what[320];
	int rc;

	for (;;) {
		double limit = (double)(first && !wait_ms ? HOLDER_UNRECORDED_MS :
			wait_ms > RIP_ROLLOUT_PREEMPT_WAIT_MS ? wait_ms :
			RIP_ROLLOUT_PREEMPT_WAIT_MS) / 1e3;

		if ((rc = preempt_once(r, &first, &r->err)) <= 0)
			break;
		if (rip_monotonic() - start >= limit) {
			rc = rip_lock_acquire(&r->lock, r->store, "rollback", &r->err);
			if (rc == RIP_EBUSY && r->asked.pid) {
				/* nobody rolls back behind it: let it finish */
				rip_lock_withdraw_stop(r->store, &r->asked);
				describe_deploy(what, sizeof(what), &r->asked);
				rip_err_prefix(&r->err, "the %s was asked to stop, but "
					"after %.0f s the lock is still held (a long migration "
					"or extract ends first); the request is withdrawn, so "
					"it finishes: run 'ripcord rollback' again once it has",
					what, rip_monotonic() - start);
			}
			break;
		}
		usleep(POLL_US);
	}
	return rc;
}

/*
 * What became of the deploy this rollback preempted, from its record:
 * said on stderr, and kept for --json (cli->preempted).
 */
static void say_preempted(struct cli *cli, struct run *r)
{
	struct rip_err ignore = { 0 };
	struct rip_op op;
	char what[320];
	const char *how;
	char *text;

	if (!r->asked.pid)
		return;
	describe_deploy(what, sizeof(what), &r->asked);
	if (rip_op_last(&op, r->store->state, "deploy", &ignore) < 0 ||
	    !op.seq || op.started < r->asked.since - 1) {
		text = rip_xstrdup("it recorded nothing");
	} else if (!strncmp(op.result, "preempted: ", 11)) {
		how = strstr(op.result, ": it stopped ");
		text = rip_xstrdup(how ? how + 2 : op.result + 11);
	} else if (!strcmp(op.result, "running")) {
		text = rip_xstrdup("it ended without recording where it stopped "
			"(killed?); its switches are settled against the links");
	} else {
		text = rip_xasprintf("it had finished before it could stop (%s)",
			op.result);
	}
	rip_warn("preempted %s: %s", what, text);
	json_decref(cli->preempted);
	cli->preempted = json_pack("{s:s, s:s?, s:I, s:I, s:s}", "operation",
		"deploy", "release", r->asked.release, "pid",
		(json_int_t)r->asked.pid, "since", (json_int_t)r->asked.since,
		"outcome", text);
	free(text);
	rip_op_release(&op);
}

/*
 * Config, store and lock. A deploy is refused while a rollout is
 * unfinished; a rollback preempts it, waiting for the lock while the
 * rollout's process finishes the step it is switching, and preempts a
 * running deploy the same way (rather, with --wait, waits up to wait_ms
 * for whatever holds the lock).
 */
static int setup_rollback(struct cli *cli, struct run *r, bool dry_run,
	bool wait, uint64_t wait_ms)
{
	int64_t rollout_pid = 0;
	int rc;

	if ((rc = open_store(cli, r, false)) < 0)
		return rc;
	if (dry_run)
		return rip_lock_acquire(&r->lock, r->store, "rollback", &r->err);
	if ((rc = rip_rollout_preempt(&rollout_pid, r->store,
			"ripcord rollback", &r->err)) < 0)
		return rc;
	r->rollout_pid = rollout_pid;
	if (wait) {
		if (rollout_pid && wait_ms < RIP_ROLLOUT_PREEMPT_WAIT_MS)
			wait_ms = RIP_ROLLOUT_PREEMPT_WAIT_MS;
		if ((rc = rip_lock_acquire_wait(&r->lock, r->store, "rollback",
				wait_ms, &r->err)) == RIP_EBUSY) {
			char d[32];

			cli_format_duration(d, sizeof(d), wait_ms);
			rip_err_prefix(&r->err, "still busy after waiting %s "
				"(--wait)", d);
		}
		return rc;
	}
	/* a preempted rollout lets go of the lock once its step is switched */
	rc = lock_preempting(r, rollout_pid ? RIP_ROLLOUT_PREEMPT_WAIT_MS : 0);
	if (rc == 0)
		say_preempted(cli, r);
	return rc;
}

static int finish(struct run *r, int rc)
{
	if (rc < 0)
		rc = cli_fail(&r->err, rc);
	rip_plan_release(&r->plan);
	rip_lock_info_release(&r->asked);
	if (r->lock.fd >= 0)
		rip_lock_release(&r->lock);
	rip_store_free(r->store);
	rip_config_free(r->cfg);
	return rc;
}

int cmd_deploy(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char **only = rip_xcalloc((size_t)argc + 1, sizeof(*only));
	struct run r = { 0 };
	bool dry_run = false, force = false;
	size_t nonly = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': only[nonly++] = optarg; break;
		case 'n': dry_run = true; break;
		case 'f': force = true; break;
		case 'j': cli->json = true; break;
		case 'h':
			free(only);
			puts("usage: ripcord deploy ID [--target NAME]... [--dry-run] "
				"[--force]");
			return 0;
		default:
			free(only);
			return cli_usage("deploy", "unknown option");
		}
	}
	if (optind + 1 != argc) {
		free(only);
		return cli_usage("deploy", "expected one release id");
	}
	/* a rollback may stop this deploy at its safe points (deploy.h) */
	if ((rc = open_store(cli, &r, true)) == 0 &&
	    (rc = rip_lock_acquire_preemptible(&r.lock, r.store, "deploy",
		    argv[optind], &r.err)) == 0 &&
	    (rc = rip_deploy_admit(r.store, argv[optind], force, &r.err)) == 0 &&
	    (rc = rip_plan_deploy(&r.plan, r.cfg, r.store, argv[optind], only,
		    nonly, &r.err)) == 0) {
		r.plan.preemptible = true;
		rip_plan_add_probes(&r.plan);
		rc = cli_run_plan(cli, &r.plan, r.cfg, r.store, dry_run, &r.err);
	}
	free(only);
	return finish(&r, rc);
}

int cmd_rollback(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "no-migrate", no_argument, NULL, 'M' },
		{ "keep-schema", no_argument, NULL, 'K' },
		{ "schema-down", no_argument, NULL, 'D' },
		{ "accept-data-loss", no_argument, NULL, 'A' },
		{ "wait", optional_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = NULL;
	bool dry_run = false, keep = false, down = false, accept = false;
	bool wait = false;
	uint64_t wait_ms = ROLLBACK_WAIT_DEFAULT_MS;
	struct run r = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'n': dry_run = true; break;
		case 'M': case 'K': keep = true; break;
		case 'D': down = true; break;
		case 'A': accept = true; break;
		case 'w':
			wait = true;
			if (optarg && rip_parse_duration(&wait_ms, optarg) < 0)
				return cli_usage("rollback", "--wait: '%s' is not a "
					"duration (e.g. 30s, 5m)", optarg);
			break;
		case 'j': cli->json = true; break;
		case 'h':
			puts("usage: ripcord rollback [--to ID] [--dry-run] "
				"[--keep-schema | --schema-down] [--accept-data-loss] "
				"[--wait[=DUR]]");
			return 0;
		default:
			return cli_usage("rollback", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("rollback", "unexpected argument '%s' (did you "
			"mean --to %s?)", argv[optind], argv[optind]);
	if (keep && down)
		return cli_usage("rollback", "--keep-schema (or --no-migrate) "
			"and --schema-down contradict each other: pick one");
	/* the flags win over [rollback] schema */
	if ((rc = setup_rollback(cli, &r, dry_run, wait, wait_ms)) == 0 &&
	    (rc = rip_plan_rollback(&r.plan, r.cfg, r.store, to, keep ||
		    (!down && !strcmp(r.cfg->rollback.schema, "keep")),
		    &r.err)) == 0) {
		r.plan.schema.accept_data_loss = accept;
		rc = cli_run_plan(cli, &r.plan, r.cfg, r.store, dry_run, &r.err);
	}
	return finish(&r, rc);
}
