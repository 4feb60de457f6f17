/* SPDX-License-Identifier: MIT */
/*
 * cli_help.h: `ripcord CMD --help`, made at build time from the man pages
 * (scripts/manhelp.py writes help_text.c): the synopsis, the options with
 * the first sentence of each, and the first example, so help and manual
 * cannot drift. tests/help.py checks them against the option parsers.
 */
#ifndef RIPCORD_CLI_HELP_H
#define RIPCORD_CLI_HELP_H

#include <stddef.h>

struct cli_help {
	const char *name;     /* "cut": of man/ripcord-cut.1.scd */
	const char *text;     /* what --help prints, newline-terminated */
};

extern const struct cli_help cli_help[];
extern const size_t cli_help_n;

#endif
