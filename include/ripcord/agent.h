/* SPDX-License-Identifier: MIT */
/*
 * agent.h: `ripcord agent`, the host side of a remote target: requests
 * read as JSON lines from one fd, answered on another, acted on with the
 * same target code as a local root (target.h). The wire is in
 * ripcord-agent(1).
 */
#ifndef RIPCORD_AGENT_H
#define RIPCORD_AGENT_H

#include "ripcord/err.h"
#include "ripcord/strlist.h"

/* Where agent.ini is read when neither opts nor RIPCORD_AGENT_INI say. */
#define RIP_AGENT_INI "/etc/ripcord/agent.ini"

struct rip_agent_opts {
	const char *ini_path;  /* NULL: $RIPCORD_AGENT_INI, else RIP_AGENT_INI */
};

/* What agent.ini says. */
struct rip_agent_conf {
	struct rip_strlist roots;  /* [agent] roots; empty: any root */
	char *verify_key;          /* [agent] verify_key: every put must be
				      signed for it; NULL: not checked */
};

/*
 * Reads agent.ini at path into out. A missing file is an empty conf (no
 * restriction); a malformed one, an unknown section or key, a relative
 * path, or a verify_key that cannot be read is RIP_ECONFIG naming
 * "path:line".
 */
RIP_MUST_CHECK int rip_agent_conf_load(struct rip_agent_conf *out,
	const char *path, struct rip_err *err);
void rip_agent_conf_release(struct rip_agent_conf *c);

/*
 * Whether the agent may act on root: an absolute path that, when c lists
 * roots, resolves (realpath) to one of them or a folder below one. A root
 * that does not exist yet is judged by its nearest existing folder,
 * resolved, plus the missing components (none of them "." or ".."). Returns
 * 0, or RIP_ESECURITY / RIP_EUSAGE / RIP_EIO naming root.
 */
RIP_MUST_CHECK int rip_agent_root_allowed(const struct rip_agent_conf *c,
	const char *root, struct rip_err *err);

/*
 * Serves requests read from in, answering on out, until "bye" or the end
 * of in (both 0). Bad requests get error answers and the loop goes on;
 * agent.ini is read first (a bad one: RIP_ECONFIG, nothing served);
 * RIP_EIO when in or out fails, or when in ends inside a put's bytes;
 * RIP_EUSAGE after answering a put whose size is not valid (what follows
 * it cannot be told from requests, so nothing more is served).
 */
RIP_MUST_CHECK int rip_agent_serve(int in, int out,
	const struct rip_agent_opts *o, struct rip_err *err);

#endif
