/* SPDX-License-Identifier: MIT */
/*
 * cmd_deploy.c: `ripcord deploy ID [--target NAME]... [--dry-run]` and
 * `ripcord rollback [--to ID] [--dry-run] [--no-migrate]`: parse, lock,
 * plan, apply (deploy.c does the work).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ripcord/deploy.h"
#include "ripcord/drill.h"
#include "ripcord/rollout.h"
#include "banned.h"

struct run {
	struct rip_config *cfg;
	struct rip_store *store;
	struct rip_lock lock;
	struct rip_plan plan;
	struct rip_err err;
};

/*
 * Config, store and lock. A deploy is refused while a rollout is
 * unfinished; a rollback preempts it, waiting for the lock while the
 * rollout's process finishes the step it is switching.
 */
static int setup(struct cli *cli, struct run *r, const char *what,
	bool dry_run)
{
	int64_t rollout_pid = 0;
	int rc;

	r->lock.fd = -1;
	if ((rc = cli_load_config(cli, &r->cfg, &r->err)) < 0 ||
	    (rc = rip_store_open(&r->store, r->cfg->project.store, false,
		    &r->err)) < 0)
		return rc;
	if (!strcmp(what, "deploy") && (rc = rip_rollout_busy(r->store,
			&r->err)) < 0)
		return rc;
	if (!strcmp(what, "rollback") && !dry_run &&
	    (rc = rip_rollout_preempt(&rollout_pid, r->store, "ripcord rollback",
		    &r->err)) < 0)
		return rc;
	/* a preempted rollout lets go of the lock once its step is switched */
	return rip_lock_acquire_wait(&r->lock, r->store, what, rollout_pid ?
		RIP_ROLLOUT_PREEMPT_WAIT_MS : 0, &r->err);
}

static int finish(struct run *r, int rc)
{
	if (rc < 0)
		rc = cli_fail(&r->err, rc);
	rip_plan_release(&r->plan);
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
	if ((rc = setup(cli, &r, "deploy", dry_run)) == 0 &&
	    (rc = rip_deploy_admit(r.store, argv[optind], force, &r.err)) == 0 &&
	    (rc = rip_plan_deploy(&r.plan, r.cfg, r.store, argv[optind], only,
		    nonly, &r.err)) == 0) {
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
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = NULL;
	bool dry_run = false, no_migrate = false;
	struct run r = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'n': dry_run = true; break;
		case 'M': no_migrate = true; break;
		case 'j': cli->json = true; break;
		case 'h':
			puts("usage: ripcord rollback [--to ID] [--dry-run] "
				"[--no-migrate]");
			return 0;
		default:
			return cli_usage("rollback", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("rollback", "unexpected argument '%s' (did you "
			"mean --to %s?)", argv[optind], argv[optind]);
	if ((rc = setup(cli, &r, "rollback", dry_run)) == 0 &&
	    (rc = rip_plan_rollback(&r.plan, r.cfg, r.store, to, no_migrate,
		    &r.err)) == 0)
		rc = cli_run_plan(cli, &r.plan, r.cfg, r.store, dry_run, &r.err);
	return finish(&r, rc);
}
