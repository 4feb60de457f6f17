/* SPDX-License-Identifier: MIT */
/*
 * cmd_cut.c: `ripcord cut [REV] [--id ID] [--tag]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "ripcord/log.h"
#include "ripcord/release.h"
#include "banned.h"

static void progress(void *data, size_t done, size_t total)
{
	(void)data;
	fprintf(stderr, "\rripcord: packaging %zu/%zu entries", done, total);
	if (done == total)
		fputs("\r\033[K", stderr);
}

static json_t *result_json(const struct rip_cut_result *r)
{
	return json_pack("{s:s, s:s, s:s, s:s*, s:s, s:s, s:I, s:I, s:I, s:I, "
		"s:I, s:b, s:b, s:b}", "id", r->id, "commit", r->commit, "tree", r->tree,
		"parent", r->parent, "path", r->path, "sha256", r->sha256,
		"size", (json_int_t)r->size, "files", (json_int_t)r->files,
		"bytes", (json_int_t)r->bytes,
		"migrations", (json_int_t)r->migrations,
		"lint", (json_int_t)r->lint, "signed", r->is_signed, "unchanged", r->unchanged,
		"restored", r->restored);
}

int cmd_cut(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "tag", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rip_cut_opts co = { 0 };
	struct rip_cut_result res;
	struct rip_config *cfg = NULL;
	struct rip_err err = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			co.id = optarg;
			break;
		case 't':
			co.tag = true;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			puts("usage: ripcord cut [REV] [--id ID] [--tag]");
			return 0;
		default:
			return cli_usage("cut", "unknown option");
		}
	}
	if (argc - optind > 1)
		return cli_usage("cut", "expected at most one revision, got '%s' "
			"and '%s'", argv[optind], argv[optind + 1]);
	co.rev = optind < argc ? argv[optind] : "HEAD";
	if (!cli->quiet && isatty(STDERR_FILENO))
		co.progress = progress;
	if ((rc = cli_load_config(cli, &cfg, &err)) < 0)
		return cli_fail(&err, rc);
	rc = rip_cut(&res, cfg, &co, &err);
	rip_config_free(cfg);
	if (rc < 0)
		return cli_fail(&err, rc);
	if (cli->json) {
		cli_print_json(result_json(&res));
	} else {
		puts(res.id);
		if (!cli->quiet)
			fprintf(stderr, "ripcord: %s release %s: commit %.12s, %llu "
				"files, %llu migrations, %s, parent %s\n",
				res.restored ? "restored" : res.unchanged ?
				"unchanged" : "cut", res.id, res.commit,
				(unsigned long long)res.files,
				(unsigned long long)res.migrations,
				res.is_signed ? "signed" : "unsigned",
				res.parent ? res.parent : "(none)");
	}
	/* after the summary, so it is the last thing read; a warning, so -q
	 * keeps it, as it keeps the findings themselves */
	if (res.lint)
		rip_warn("%zu lint finding%s in the migrations of %s (above); "
			"list them again with 'ripcord migrate lint %s', the rules "
			"are under LINT in ripcord-migrate(1)", res.lint,
			res.lint == 1 ? "" : "s", res.id, res.id);
	rip_cut_result_release(&res);
	return 0;
}
