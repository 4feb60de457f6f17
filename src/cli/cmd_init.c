/* SPDX-License-Identifier: MIT */
/*
 * cmd_init.c: `ripcord init [--store DIR]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "banned.h"

static const char activate_sample[] =
	"#!/bin/sh\n"
	"# ripcord activate hook: runs after a target's 'current' link was\n"
	"# switched. Environment: RIPCORD_TARGET, RIPCORD_RELEASE,\n"
	"# RIPCORD_RELEASE_DIR, RIPCORD_PREVIOUS, RIPCORD_ROOT.\n"
	"# Exit non-zero to report failure. See ripcord-hooks(7).\n"
	"set -eu\n"
	"echo \"activated $RIPCORD_RELEASE on $RIPCORD_TARGET\"\n"
	"# systemctl reload myapp.service\n";

/* Adds "/<store>/" to .gitignore in the current folder if missing. */
static int ignore_store(const char *store, struct rip_err *err)
{
	struct rip_buf text = RIP_BUF_INIT;
	char *line;
	int rc = 0;

	if (store[0] == '/' || !strncmp(store, "..", 2))
		return 0; /* outside the repository: nothing to ignore */
	while (store[0] == '.' && store[1] == '/')
		store += 2;
	line = rip_xasprintf("/%s/", store);
	rc = rip_read_file(&text, ".gitignore", 1 << 20, err);
	if (rc == RIP_ENOTFOUND)
		rc = 0;
	if (rc < 0)
		goto done;
	for (const char *s = text.buf; s && *s; ) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		if (len == strlen(line) && !strncmp(s, line, len))
			goto done;
		s = nl ? nl + 1 : NULL;
	}
	if (text.len && text.buf[text.len - 1] != '\n')
		rip_buf_addch(&text, '\n');
	rip_buf_addf(&text, "%s\n", line);
	rc = rip_write_file_atomic(".gitignore", text.buf, text.len, 0644, err);
done:
	free(line);
	rip_buf_release(&text);
	return rc;
}

static void project_name(char *out, size_t len)
{
	char cwd[4096];
	const char *base;

	if (!getcwd(cwd, sizeof(cwd))) {
		snprintf(out, len, "app");
		return;
	}
	base = strrchr(cwd, '/');
	snprintf(out, len, "%s", base && base[1] ? base + 1 : "app");
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rip_buf ini = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	const char *store = ".ripcord";
	char name[256];
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			store = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			puts("usage: ripcord init [--store DIR]");
			return 0;
		default:
			return cli_usage("init", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("init", "unexpected argument '%s'", argv[optind]);
	if (rip_path_exists("ripcord.ini")) {
		rip_err_set(&err, RIP_EEXISTS, "ripcord.ini already exists here; "
			"refusing to overwrite it (edit it, or remove it first)");
		return cli_fail(&err, err.code);
	}
	if ((rc = rip_mkdir_p("hooks", 0755, &err)) < 0)
		return cli_fail(&err, rc);
	if (rip_path_exists("hooks/activate")) {
		rip_warn("hooks/activate exists; left as it is");
	} else if ((rc = rip_write_file_atomic("hooks/activate",
			activate_sample, sizeof(activate_sample) - 1, 0755,
			&err)) < 0) {
		return cli_fail(&err, rc);
	}
	project_name(name, sizeof(name));
	rip_config_template(&ini, name, store);
	rc = rip_write_file_atomic("ripcord.ini", ini.buf, ini.len, 0644, &err);
	rip_buf_release(&ini);
	if (rc < 0)
		return cli_fail(&err, rc);
	if ((rc = ignore_store(store, &err)) < 0)
		return cli_fail(&err, rc);
	if (cli->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s}", "config",
			"ripcord.ini", "hooks", "hooks/", "store", store));
	} else {
		printf("wrote ripcord.ini and hooks/activate (store: %s)\n", store);
		printf("next: add [target \"NAME\"] sections, then 'ripcord cut'\n");
	}
	return 0;
}
