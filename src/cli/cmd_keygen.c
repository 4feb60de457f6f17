/* SPDX-License-Identifier: MIT */
/*
 * cmd_keygen.c: `ripcord keygen [-o PREFIX]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "ripcord/fsutil.h"
#include "ripcord/gitsrc.h"
#include "ripcord/sign.h"
#include "banned.h"

int cmd_keygen(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rip_err err = { 0 };
	const char *prefix = "release";
	struct rip_ignore_edit ignored = { 0 };
	char *dir, *keyfile;
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			prefix = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			puts("usage: ripcord keygen [-o PREFIX]");
			return 0;
		default:
			return cli_usage("keygen", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("keygen", "unexpected argument '%s'",
			argv[optind]);
	dir = rip_path_dirname(prefix);
	rc = rip_mkdir_p(dir, 0755, &err);
	free(dir);
	keyfile = rip_xasprintf("%s.key", prefix);
	/* before the key exists, so it is never there for git to see (an
	 * existing one is refused below and left as it is); undone when the
	 * key is not made after all */
	if (rc == 0 && !rip_path_exists(keyfile))
		rc = rip_repo_ignore(&ignored, keyfile, &err);
	free(keyfile);
	if (rc == 0 && (rc = rip_sign_keygen(prefix, &err)) < 0)
		rip_repo_ignore_undo(&ignored);
	if (rc < 0) {
		rip_ignore_edit_release(&ignored);
		return cli_fail(&err, rc);
	}
	if (ignored.added && !cli->quiet)
		fprintf(stderr, "ripcord: %s.key is in a git work tree: added "
			"'%s' to its .gitignore, so the private key is never "
			"committed\n", prefix, ignored.added);
	rip_ignore_edit_release(&ignored);
	if (cli->json) {
		char *key = rip_xasprintf("%s.key", prefix);
		char *pub = rip_xasprintf("%s.pub", prefix);

		cli_print_json(json_pack("{s:s, s:s}", "private", key, "public",
			pub));
		free(key);
		free(pub);
	} else {
		printf("%s.key\n%s.pub\n", prefix, prefix);
		if (!cli->quiet)
			fprintf(stderr, "ripcord: keep %s.key secret; in ripcord.ini set\n"
				"  [package]\n  signing_key = %s.key\n  "
				"verify_key  = %s.pub\n", prefix, prefix, prefix);
	}
	return 0;
}
