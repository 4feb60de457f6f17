/* SPDX-License-Identifier: MIT */
/*
 * parse.c: the values of ripcord.ini and of the command line (parse.h):
 * yes/no, whole numbers, durations, percentages, comma lists and rollout
 * steps.
 *
 * Every parser takes the whole string or nothing: trailing text, a sign,
 * an overflow or an empty string is -1, and *out is left alone on failure
 * (rip_parse_steps empties it). Nothing reads the locale: ripcord never
 * calls setlocale, so strtod's decimal point is always '.'.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ripcord/buf.h"
#include "ripcord/parse.h"
#include "banned.h"

int rip_parse_bool(bool *out, const char *s)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < RIP_ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int rip_parse_uint(uint64_t *out, const char *s)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int rip_parse_duration(uint64_t *out_ms, const char *s)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	uint64_t total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		unsigned long long v;
		size_t i;

		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || end == s)
			return -1;
		for (i = 0; i < RIP_ARRAY_SIZE(units); i++) {
			size_t ul = strlen(units[i].unit);

			/* "m" must not match the "m" of "ms" */
			if (!strncmp(end, units[i].unit, ul) &&
			    !isalpha((unsigned char)end[ul]))
				break;
		}
		if (i == RIP_ARRAY_SIZE(units))
			return -1;
		if (v > UINT64_MAX / units[i].ms ||
		    total > UINT64_MAX - v * units[i].ms)
			return -1;
		total += v * units[i].ms;
		s = end + strlen(units[i].unit);
	}
	*out_ms = total;
	return 0;
}

int rip_parse_percent(double *out, const char *s)
{
	static const char digits[] = "0123456789";
	size_t n = strspn(s, digits), frac;
	double v;

	/* N or N.N, then '%': strtod alone would also take 0x10 and 1e1 */
	if (!n)
		return -1;
	if (s[n] == '.') {
		if (!(frac = strspn(s + n + 1, digits)))
			return -1;
		n += 1 + frac;
	}
	if (strcmp(s + n, "%"))
		return -1;
	errno = 0;
	v = strtod(s, NULL);
	if (errno || !isfinite(v) || v < 0 || v > 100)
		return -1;
	*out = v / 100.0;
	return 0;
}

int rip_parse_list(const char *s, int (*fn)(void *, const char *),
	void *data)
{
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char *item;
		int rc = 0;

		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		if (len) {
			item = rip_xstrndup(s, len);
			rc = fn(data, item);
			free(item);
		}
		if (rc < 0)
			return rc;
		if (!comma)
			break;
		s = comma + 1;
	}
	return 0;
}

static int push_step(void *data, const char *item)
{
	struct rip_steps *st = data;
	size_t alloc;
	double v;

	if (rip_parse_percent(&v, item) < 0 || v <= 0)
		return -1;
	alloc = rip_grow_alloc(st->n); /* steps keep none: grown only here */
	RIP_ALLOC_GROW(st->v, st->n + 1, alloc);
	st->v[st->n++] = v;
	return 0;
}

static bool steps_ok(const struct rip_steps *st)
{
	if (!st->n || st->v[st->n - 1] != 1.0)
		return false;
	for (size_t i = 1; i < st->n; i++)
		if (st->v[i] <= st->v[i - 1])
			return false;
	return true;
}

int rip_parse_steps(struct rip_steps *out, const char *s)
{
	out->v = NULL;
	out->n = 0;
	if (rip_parse_list(s, push_step, out) < 0 || !steps_ok(out)) {
		free(out->v);
		out->v = NULL;
		out->n = 0;
		return -1;
	}
	return 0;
}
