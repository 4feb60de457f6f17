/* SPDX-License-Identifier: MIT */
/*
 * ini.h: INI text through inih, with line numbers and no silent limits.
 */
#ifndef RIPCORD_INI_H
#define RIPCORD_INI_H

#include "ripcord/err.h"

struct rip_ini_ops {
	/* A "[...]" line (leading blanks removed, newline kept); may be NULL. */
	int (*section)(void *user, const char *header, int line,
		struct rip_err *err);
	/* A "key = value" line; section is inih's raw section name. */
	int (*key)(void *user, const char *section, const char *name,
		const char *value, int line, struct rip_err *err);
};

/*
 * Parses text, calling ops for each header and key with its line number.
 * Lines longer than max_line are an error, never truncated; continuation
 * lines are off, so an indented "key = value" is an ordinary key. With
 * inline_comments, " ;" starts a comment inside a line (for files people
 * write; machine-written files keep every byte of a value). A
 * callback returning < 0 stops the parse with its error. Syntax errors are
 * RIP_ECONFIG "NAME:LINE: ...". Returns 0 or the callback's code.
 */
RIP_MUST_CHECK int rip_ini_parse(const char *text, const char *name,
	size_t max_line, bool inline_comments, const struct rip_ini_ops *ops,
	void *user, struct rip_err *err);

#endif
