/* SPDX-License-Identifier: MIT */
/*
 * cmd_releases.c: `ripcord releases`.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "ripcord/store.h"
#include "banned.h"

static void print_table(const struct rip_release_rec *v, size_t n)
{
	printf("%-24s %-12s %-16s %10s %-8s %s\n", "ID", "COMMIT", "CREATED",
		"SIZE", "SIGNED", "PARENT");
	for (size_t i = n; i-- > 0; ) {
		char when[32], size[32];

		cli_format_time(when, sizeof(when), v[i].created);
		cli_format_size(size, sizeof(size), v[i].size);
		printf("%-24s %.12s %-16s %10s %-8s %s\n", v[i].id, v[i].commit,
			when, size, v[i].is_signed ? "yes" : "no",
			v[i].parent ? v[i].parent : "-");
	}
}

static json_t *to_json(const struct rip_release_rec *v, size_t n)
{
	json_t *list = json_array();

	for (size_t i = n; i-- > 0; )
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s*, "
			"s:I, s:I, s:I, s:s, s:b, s:I, s:I}", "id", v[i].id,
			"project", v[i].project, "commit", v[i].commit, "parent",
			v[i].parent, "created", (json_int_t)v[i].created, "cut_at",
			(json_int_t)v[i].cut_at, "size", (json_int_t)v[i].size,
			"sha256", v[i].sha256, "signed", v[i].is_signed, "files",
			(json_int_t)v[i].files, "bytes", (json_int_t)v[i].bytes));
	return list;
}

int cmd_releases(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rip_release_rec *v = NULL;
	struct rip_config *cfg = NULL;
	struct rip_store *store = NULL;
	struct rip_err err = { 0 };
	size_t n = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'h':
			puts("usage: ripcord releases [--json]");
			return 0;
		default:
			return cli_usage("releases", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("releases", "unexpected argument '%s'",
			argv[optind]);
	if ((rc = cli_load_config(cli, &cfg, &err)) < 0)
		return cli_fail(&err, rc);
	rc = rip_store_open(&store, cfg->project.store, false, &err);
	if (rc == RIP_ENOTFOUND) {
		rc = 0;  /* no store yet: no releases */
	} else if (rc == 0) {
		rc = rip_state_release_list(&v, &n, store->state, &err);
	}
	if (rc < 0) {
		rc = cli_fail(&err, rc);
	} else if (cli->json) {
		cli_print_json(to_json(v, n));
	} else if (!n) {
		printf("no releases yet (cut one: 'ripcord cut')\n");
	} else {
		print_table(v, n);
	}
	rip_release_recs_free(v, n);
	rip_store_free(store);
	rip_config_free(cfg);
	return rc;
}
