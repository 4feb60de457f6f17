/* SPDX-License-Identifier: MIT */
/*
 * config_internal.h: what config.c shares with config_host.c.
 */
#ifndef RIPCORD_CONFIG_INTERNAL_H
#define RIPCORD_CONFIG_INTERNAL_H

#include "ripcord/buf.h"

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
