/* SPDX-License-Identifier: MIT */
/*
 * cmd_report.c: `ripcord report [-o FILE] [--days N] [--json]`: the
 * self-contained HTML report (report.c) written atomically to FILE
 * (default ripcord-report.html in the current folder; "-" for stdout), or
 * with --json the DORA figures, the rollback readiness, the schema, the
 * judge's verdicts and the aborts ledger instead. It only reads the
 * store: no lock, no audit entry.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ripcord/fsutil.h"
#include "ripcord/report.h"
#include "ripcord/store.h"
#include "json_internal.h"
#include "banned.h"

#define DEFAULT_OUTPUT "ripcord-report.html"

struct report_opts {
	const char *output;
	unsigned days;
};

/* A whole number of days, 1 to RIP_DORA_MAX_DAYS. */
static bool parse_days(unsigned *out, const char *s)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > RIP_DORA_MAX_DAYS)
		return false;
	*out = (unsigned)v;
	return true;
}

/* Returns -1 to go on, else the exit code to stop with. */
static int parse(struct cli *cli, struct report_opts *o, int argc,
	char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "days", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg)
				return cli_usage("report", "-o wants a file name, or - "
					"for stdout");
			o->output = optarg;
			break;
		case 'd':
			if (!parse_days(&o->days, optarg))
				return cli_usage("report", "--days wants a whole number "
					"of days, 1 to %d, not '%s'", RIP_DORA_MAX_DAYS,
					optarg);
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			puts("usage: ripcord report [-o FILE] [--days N] [--json]");
			return 0;
		default:
			return cli_usage("report", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("report", "unexpected argument '%s' (did you mean "
			"-o %s?)", argv[optind], argv[optind]);
	if (cli->json && o->output)
		return cli_usage("report", "--json prints the figures on stdout "
			"and writes no file: drop -o, or drop --json for the HTML");
	return -1;
}

/*
 * The figures of r as one JSON object on stdout, with the window's
 * verdicts and the aborts ledger (rip_aborts_json, as `ripcord log
 * --aborts --json` prints it) of store (NULL: nothing cut yet).
 */
static int print_json(const struct rip_report *r, struct rip_store *store,
	struct rip_err *err)
{
	char *s;
	json_t *aborts, *doc;
	int rc;

	/* the window of r->aborts: finished in (since, now] */
	if ((rc = rip_aborts_json(&aborts, store ? store->state : NULL,
			r->dora.since, r->now, 0, err)) < 0)
		return rc;
	doc = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "project",
		r->project, "store", r->store, "generated_at", (json_int_t)r->now,
		"drill_every_seconds", (json_int_t)(r->every_ms / 1000), "dora",
		rip_dora_json(&r->dora), "readiness",
		rip_report_readiness_json(r));
	json_object_set_new(doc, "schema", rip_report_schema_json(r));
	json_object_set_new(doc, "verdicts", rip_verdict_recs_json(r->verdicts,
		r->n_verdicts));
	json_object_set_new(doc, "aborts", aborts);

	/* 12 digits: a rate of 1/3 need not print 17 */
	s = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII |
		JSON_REAL_PRECISION(12));
	if (s) {
		puts(s);
		free(s);
	}
	json_decref(doc);
	return 0;
}

static int write_html(struct cli *cli, const struct rip_report *r,
	const char *path, struct rip_err *err)
{
	struct rip_buf page = RIP_BUF_INIT;
	int rc = 0;

	rip_report_html(&page, r);
	if (!strcmp(path, "-")) {
		if (fwrite(page.buf, 1, page.len, stdout) != page.len ||
		    fflush(stdout))
			rc = rip_err_errno(err, RIP_EIO, "cannot write the report "
				"to stdout");
	} else if ((rc = rip_write_file_atomic(path, page.buf, page.len, 0644,
			err)) < 0) {
		rip_err_prefix(err, "report '%s'", path);
	} else if (!cli->quiet) {
		printf("report written to %s (%zu bytes)\n", path, page.len);
	}
	rip_buf_release(&page);
	return rc;
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
	struct report_opts o = { .days = RIP_DORA_DEFAULT_DAYS };
	struct rip_config *cfg = NULL;
	struct rip_store *store = NULL;
	struct rip_err err = { 0 };
	struct rip_report r;
	int rc;

	if ((rc = parse(cli, &o, argc, argv)) >= 0)
		return rc;
	if ((rc = cli_load_config(cli, &cfg, &err)) < 0)
		return cli_fail(&err, rc);
	rc = rip_store_open(&store, cfg->project.store, false, &err);
	if (rc == RIP_ENOTFOUND)  /* nothing cut yet: an empty report */
		rc = 0;
	if (rc < 0 || (rc = rip_report_load(&r, cfg, store,
			(int64_t)time(NULL), o.days, &err)) < 0)
		goto done;
	if (cli->json)
		rc = print_json(&r, store, &err);
	else
		rc = write_html(cli, &r, o.output ? o.output : DEFAULT_OUTPUT,
			&err);
	rip_report_release(&r);
done:
	if (rc < 0)
		rc = cli_fail(&err, rc);
	rip_store_free(store);
	rip_config_free(cfg);
	return rc;
}
