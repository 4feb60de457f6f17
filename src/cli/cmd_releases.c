/* SPDX-License-Identifier: MIT */
/*
 * cmd_releases.c: `ripcord releases [--json]`: every release, newest
 * first, with its last drill and its age.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ripcord/drill.h"
#include "ripcord/store.h"
#include "banned.h"

static void print_table(const struct rip_release_rec *v,
	const struct rip_drill_rec *d, size_t n)
{
	time_t now = time(NULL);

	printf("%-24s %-12s %-16s %10s %-6s %-16s %s\n", "ID", "COMMIT",
		"CREATED", "SIZE", "SIGNED", "DRILL", "PARENT");
	for (size_t i = n; i-- > 0; ) {
		char when[32], size[32], drill[48];

		cli_format_time(when, sizeof(when), v[i].created);
		cli_format_size(size, sizeof(size), v[i].size);
		cli_format_drill(drill, sizeof(drill), &d[i], now);
		printf("%-24s %.12s %-16s %10s %-6s %-16s %s\n", v[i].id,
			v[i].commit, when, size, v[i].is_signed ? "yes" : "no", drill,
			v[i].parent ? v[i].parent : "-");
	}
}

static json_t *to_json(const struct rip_release_rec *v,
	const struct rip_drill_rec *d, size_t n)
{
	json_t *list = json_array();

	for (size_t i = n; i-- > 0; ) {
		json_t *drill = d[i].seq ? json_pack("{s:s, s:I, s:f, s:s?}",
			"result", d[i].result, "started", (json_int_t)d[i].started,
			"seconds", d[i].seconds, "detail", d[i].detail) : json_null();

		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s*, "
			"s:I, s:I, s:I, s:s, s:b, s:I, s:I, s:o}", "id", v[i].id,
			"project", v[i].project, "commit", v[i].commit, "parent",
			v[i].parent, "created", (json_int_t)v[i].created, "cut_at",
			(json_int_t)v[i].cut_at, "size", (json_int_t)v[i].size,
			"sha256", v[i].sha256, "signed", v[i].is_signed, "files",
			(json_int_t)v[i].files, "bytes", (json_int_t)v[i].bytes,
			"last_drill", drill));
	}
	return list;
}

/* The last drill of every release, in the same order. */
static int read_drills(struct rip_drill_rec **out,
	const struct rip_release_rec *v, size_t n, struct rip_store *store,
	struct rip_err *err)
{
	int rc = 0;

	*out = rip_xcalloc(n + 1, sizeof(**out));
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = rip_drill_last(&(*out)[i], store->state, v[i].id, false, err);
	return rc;
}

int cmd_releases(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rip_release_rec *v = NULL;
	struct rip_drill_rec *d = NULL;
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
	} else if (rc == 0 &&
		   (rc = rip_state_release_list(&v, &n, store->state, &err)) == 0) {
		rc = read_drills(&d, v, n, store, &err);
	}
	if (rc < 0) {
		rc = cli_fail(&err, rc);
	} else if (cli->json) {
		cli_print_json(to_json(v, d, n));
	} else if (!n) {
		printf("no releases yet (cut one: 'ripcord cut')\n");
	} else {
		print_table(v, d, n);
	}
	rip_drill_recs_free(d, d ? n : 0);
	rip_release_recs_free(v, n);
	rip_store_free(store);
	rip_config_free(cfg);
	return rc;
}
