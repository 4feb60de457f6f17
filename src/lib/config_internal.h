/* SPDX-License-Identifier: MIT */
/*
 * config_internal.h: what config.c shares with config_host.c (the host
 * value parser) and config_roots.c (the check of the targets' roots):
 * the state of one parse, and how a check fails at a line.
 */
#ifndef RIPCORD_CONFIG_INTERNAL_H
#define RIPCORD_CONFIG_INTERNAL_H

#include "ripcord/buf.h"
#include "ripcord/config.h"

/* One parse of a config file: where it is, what it has read so far. */
struct rip_config_reader {
	const char *name;       /* for messages */
	const char *dir;
	int line;
	struct rip_config *cfg;
	struct rip_err *err;
	bool failed;
	const char *section;    /* validated kind, NULL before any header */
	struct rip_target *target;
	int *seen;              /* line of each global key, 0 = not yet */
	int **target_seen;      /* the same per target */
};

/* Sets p->err to "<name>:<line>: <message>" unless a failure was already
 * set (the first one is what the user sees); returns RIP_ECONFIG. */
RIP_PRINTF(2, 3) int rip_config_fail(struct rip_config_reader *p,
	const char *fmt, ...);

/* Refuses two targets on one machine whose roots, resolved, are the same
 * folder or one inside the other; 0, or RIP_ECONFIG after
 * rip_config_fail. */
int rip_config_check_roots(struct rip_config_reader *p);

/*
 * Reads host value v: USER@HOST, HOST or ssh://[USER@]HOST[:PORT] ([IPV6]
 * in a URL, a bare IPv6 address without one). Returns 0 with *dest
 * (newly allocated: "user@host", brackets stripped, as ssh wants it) and
 * *port (0 when the URL names none); or -1, *dest untouched, with why
 * holding what is wrong and what was expected (no file:line).
 */
int rip_config_host_parse(char **dest, unsigned *port, const char *v,
	struct rip_buf *why);

#endif
