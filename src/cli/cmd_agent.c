/* SPDX-License-Identifier: MIT */
/*
 * cmd_agent.c: `ripcord agent`, the hidden command a remote ripcord runs
 * over ssh. Standard output carries the protocol and nothing else:
 * diagnostics go to stderr (rip_log does), and nothing here prints.
 */
#include <getopt.h>
#include <unistd.h>

#include "cli.h"
#include "ripcord/agent.h"
#include "banned.h"

int cmd_agent(struct cli *cli, int argc, char **argv)
{
	struct rip_agent_opts o = { 0 };
	struct rip_err err = { 0 };
	int rc;

	(void)cli;
	if (argc > 1)
		return cli_usage("agent", "takes no arguments (it reads "
			"requests on stdin)");
	rc = rip_agent_serve(STDIN_FILENO, STDOUT_FILENO, &o, &err);
	return rc < 0 ? cli_fail(&err, rc) : 0;
}
