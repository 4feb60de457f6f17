/* SPDX-License-Identifier: MIT */
/*
 * cmd_verify.c: `ripcord verify [ID|FILE]... [--key PUB]`.
 *
 * An argument that names an existing file (or holds a '/') is verified as
 * a file, with its signature beside it; anything else is a release id of
 * the store, checked against its state.db record too.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ripcord/fsutil.h"
#include "ripcord/release.h"
#include "banned.h"

struct run {
	struct cli *cli;
	const char *key;
	struct rip_store *store;
	json_t *list;
	int worst;
};

static int worse(int a, int b)
{
	/* 3 (integrity) outranks 2 (usage) outranks 1 */
	static const int rank[] = { 0, 1, 2, 4, 3, 0 };

	return rank[b] > rank[a] ? b : a;
}

static void one(struct run *r, const char *arg, bool is_file)
{
	struct rip_verify_result res;
	struct rip_err err = { 0 };
	int rc;

	if (is_file)
		rc = rip_verify_file(&res, arg, NULL, NULL, r->key, &err);
	else
		rc = rip_verify_release(&res, r->store, arg, r->key, &err);
	if (r->cli->json) {
		json_array_append_new(r->list, json_pack("{s:s, s:b, s:s*, s:b, "
			"s:b, s:s*}", "release", arg, "ok", rc == 0, "sha256",
			res.sha256[0] ? res.sha256 : NULL, "signed", res.is_signed,
			"signature_checked", res.sig_checked, "error",
			rc ? err.msg : NULL));
	} else if (rc == 0) {
		printf("ok      %s (%llu files, %llu links, %zu migrations, %s)\n",
			arg, (unsigned long long)res.files,
			(unsigned long long)res.links, res.migrations,
			res.sig_checked ? "signature verified" :
			res.is_signed ? "signed, no verify_key to check it" :
					"unsigned");
	} else {
		printf("FAILED  %s\n", arg);
		cli_fail(&err, rc);
	}
	if (rc < 0)
		r->worst = worse(r->worst, rip_err_exit_code(rc));
	rip_verify_result_release(&res);
}

static bool looks_like_file(const char *arg)
{
	return strchr(arg, '/') || (rip_path_exists(arg) && !rip_is_dir(arg));
}

int cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r = { .cli = cli };
	struct rip_config *cfg = NULL;
	struct rip_err err = { 0 };
	bool need_store = optind >= argc;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			r.key = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			puts("usage: ripcord verify [ID|FILE]... [--key PUB]");
			return 0;
		default:
			return cli_usage("verify", "unknown option");
		}
	}
	need_store = optind >= argc;
	for (int i = optind; i < argc; i++)
		need_store |= !looks_like_file(argv[i]);
	/* files alone need no config; but a config that is there and broken
	 * must not silently drop its verify_key */
	rc = cli_load_config(cli, &cfg, &err);
	if (rc < 0 && (rc != RIP_ENOTFOUND || need_store))
		return cli_fail(&err, rc);
	if (cfg && !r.key)
		r.key = cfg->package.verify_key;
	if (need_store) {
		/* a missing config failed above, so cfg is here */
		if (!cfg || (rc = rip_store_open(&r.store, cfg->project.store,
				false, &err)) < 0) {
			rip_config_free(cfg);
			return cli_fail(&err, cfg ? rc : RIP_ECONFIG);
		}
	}
	r.list = json_array();
	if (optind >= argc) {
		struct rip_release_rec *v;
		size_t n;

		if ((rc = rip_state_release_list(&v, &n, r.store->state,
				&err)) < 0) {
			r.worst = cli_fail(&err, rc);
		} else {
			if (!n && !cli->json)
				printf("no releases in the store\n");
			for (size_t i = 0; i < n; i++)
				one(&r, v[i].id, false);
			rip_release_recs_free(v, n);
		}
	}
	for (int i = optind; i < argc; i++)
		one(&r, argv[i], looks_like_file(argv[i]));
	if (cli->json)
		cli_print_json(r.list);
	else
		json_decref(r.list);
	rip_store_free(r.store);
	rip_config_free(cfg);
	return r.worst;
}
