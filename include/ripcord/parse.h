/* SPDX-License-Identifier: MIT */
/*
 * parse.h: single values as ripcord.ini and the command line write them.
 * Each parser returns 0 with *out set, or -1 (out untouched) for anything
 * but the whole string in its syntax.
 */
#ifndef RIPCORD_PARSE_H
#define RIPCORD_PARSE_H

#include "ripcord/common.h"

struct rip_steps {
	double *v;            /* fractions in (0, 1], increasing, last 1 */
	size_t n;
};

/* yes/no, true/false, on/off, 1/0, any case. */
RIP_MUST_CHECK int rip_parse_bool(bool *out, const char *s);
/* Decimal digits only: no sign, no space, no overflow. */
RIP_MUST_CHECK int rip_parse_uint(uint64_t *out, const char *s);
/* 500ms, 30s, 5m, 24h, 2d and their sums such as 1h30m, in ms. */
RIP_MUST_CHECK int rip_parse_duration(uint64_t *out_ms, const char *s);
/* "5%" -> 0.05; from 0% to 100%. */
RIP_MUST_CHECK int rip_parse_percent(double *out, const char *s);
/* "25%, 50%, 100%": increasing percentages in (0, 100%] ending at 100%;
 * out->v is newly allocated. -1 for anything else. */
RIP_MUST_CHECK int rip_parse_steps(struct rip_steps *out, const char *s);

/*
 * Calls fn(data, item) on each item of the comma-separated s, trimmed of
 * white space, empty items skipped; stops at the first fn that returns
 * < 0 and returns that, else 0.
 */
int rip_parse_list(const char *s, int (*fn)(void *, const char *),
	void *data);

#endif
