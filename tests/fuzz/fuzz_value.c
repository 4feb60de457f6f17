/* SPDX-License-Identifier: MIT */
/*
 * fuzz_value.c: the single-value parsers of config.h, which read
 * ripcord.ini's values and the command line's (--bake 10m, --steps
 * "5%, 50%, 100%"): rip_parse_duration, rip_parse_percent,
 * rip_parse_bool, rip_parse_steps, rip_strlist_split, and the
 * rip_edit_distance behind "did you mean".
 *
 * The input, cut at its first NUL as a value is a C string, goes to every
 * parser. There is no formatter in the library that gives a value back
 * exactly (the CLI's cli_format_duration rounds), so the target spells
 * what a parser accepted itself and checks that the parser reads the
 * spelling back to the same value:
 *   duration  "<N>ms" and "<d>d<h>h<m>m<s>s<ms>ms" give the same
 *             milliseconds; the text twice is twice the time, or refused
 *             exactly when that overflows 64 bits
 *   percent   in [0, 1]; spelt N.N% (17 significant digits, fixed
 *             notation: the parser takes no exponent) it reads back
 *             within 4 ulps
 *             (unless it is subnormal)
 *   bool      only yes/true/on/1 and no/false/off/0, in any case
 *   steps     increasing, in (0, 1], ending at exactly 1; a refusal
 *             leaves nothing allocated; spelt so, ", "-joined, reads back
 *   lists     items trimmed, non-empty, without a comma; joined with
 *             ", " they split into the same list
 * For rip_edit_distance, the input's first line and the rest are two
 * words (at most 256 bytes each, the distance is quadratic): it is a
 * metric's distance, 0 only between equal words, symmetric, at least the
 * difference of their lengths and at most the longer length.
 */
#include <ctype.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>

#include "ripcord/config.h"
#include "fuzz.h"

#define WORD_MAX 256

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* ms as "<d>d<h>h<m>m<s>s<ms>ms", leaving out zero parts; "0ms" for 0. */
static void spell_duration(char *out, size_t len, uint64_t ms)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < RIP_ARRAY_SIZE(units); i++) {
		uint64_t n = ms / units[i].ms;

		ms %= units[i].ms;
		if (n)
			at += (size_t)snprintf(out + at, len - at, "%" PRIu64 "%s",
				n, units[i].unit);
	}
	if (!at)
		snprintf(out, len, "0ms");
}

static void duration(const char *s, size_t len)
{
	uint64_t ms, again;
	char spelt[128];
	char *twice;
	int rc;

	if (rip_parse_duration(&ms, s) < 0)
		return;
	snprintf(spelt, sizeof(spelt), "%" PRIu64 "ms", ms);
	FUZZ_CHECK(rip_parse_duration(&again, spelt) == 0 && again == ms);
	spell_duration(spelt, sizeof(spelt), ms);
	FUZZ_CHECK(rip_parse_duration(&again, spelt) == 0 && again == ms);

	twice = rip_xmalloc(2 * len + 1);
	memcpy(twice, s, len);
	memcpy(twice + len, s, len + 1);
	rc = rip_parse_duration(&again, twice);
	if (ms <= UINT64_MAX / 2)
		FUZZ_CHECK(rc == 0 && again == 2 * ms);
	else
		FUZZ_CHECK(rc < 0);
	free(twice);
}

/* a and b, fractions up to 1, within 4 ulps of 1 of each other */
static bool near(double a, double b)
{
	return fabs(a - b) <= 4 * DBL_EPSILON;
}

/* pct with 17 significant digits in fixed notation, then '%': the
 * parser takes N or N.N only, never an exponent */
static void spell_percent(char *out, size_t n, double pct)
{
	int decimals = pct > 0 ? 17 - (int)floor(log10(pct)) : 1;

	if (decimals < 1)
		decimals = 1;
	if (decimals > 340)
		decimals = 340;
	snprintf(out, n, "%.*f%%", decimals, pct);
}

static void percent(const char *s)
{
	double v, again;
	char spelt[400];

	if (rip_parse_percent(&v, s) < 0)
		return;
	FUZZ_CHECK(isfinite(v) && v >= 0 && v <= 1);
	/* a subnormal spelling is one strtod may refuse (ERANGE) */
	if (v > 0 && v < DBL_MIN)
		return;
	spell_percent(spelt, sizeof(spelt), v * 100);
	FUZZ_CHECK(rip_parse_percent(&again, spelt) == 0 && near(again, v));
}

static void boolean(const char *s)
{
	static const char *const words[] = { "yes", "true", "on", "1",
		"no", "false", "off", "0" };
	char lower[8] = "";
	size_t len = strlen(s);
	bool v;

	if (rip_parse_bool(&v, s) < 0)
		return;
	FUZZ_CHECK(len < sizeof(lower));
	/* bounded by lower itself: gcc -O3 does not see FUZZ_CHECK end it */
	for (size_t i = 0; i + 1 < sizeof(lower) && s[i]; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(words); i++)
		if (!strcmp(lower, words[i])) {
			FUZZ_CHECK(v == (i < 4));
			return;
		}
	FUZZ_CHECK(!"accepted a word that is not a boolean");
}

static void steps(const char *s)
{
	struct rip_steps st, again;
	struct rip_buf b = RIP_BUF_INIT;
	bool close = false;      /* a spelling may be refused, rightly */

	if (rip_parse_steps(&st, s) < 0) {
		FUZZ_CHECK(st.v == NULL && st.n == 0);
		return;
	}
	FUZZ_CHECK(st.n > 0 && st.v[st.n - 1] == 1.0);
	for (size_t i = 0; i < st.n; i++) {
		char spelt[400];

		FUZZ_CHECK(st.v[i] > 0 && st.v[i] <= 1);
		FUZZ_CHECK(i == 0 || st.v[i] > st.v[i - 1]);
		close = close || (i && near(st.v[i], st.v[i - 1])) ||
			st.v[i] < DBL_MIN;
		spell_percent(spelt, sizeof(spelt), st.v[i] * 100);
		rip_buf_addf(&b, "%s%s", i ? ", " : "", spelt);
	}
	/* steps an ulp apart may round to one spelling, and a subnormal
	 * step's spelling may be out of strtod's range */
	if (rip_parse_steps(&again, b.buf) == 0) {
		FUZZ_CHECK(again.n == st.n);
		for (size_t i = 0; i < st.n; i++)
			FUZZ_CHECK(near(again.v[i], st.v[i]));
		free(again.v);
	} else {
		FUZZ_CHECK(close);
	}
	free(st.v);
	rip_buf_release(&b);
}

static bool same_list(const struct rip_strlist *a,
	const struct rip_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

static void list(const char *s)
{
	struct rip_strlist l = { 0 }, again = { 0 };
	struct rip_buf b = RIP_BUF_INIT;

	rip_strlist_split(&l, s);
	for (size_t i = 0; i < l.n; i++) {
		const char *it = l.v[i];
		size_t len = strlen(it);

		FUZZ_CHECK(len > 0 && !strchr(it, ','));
		FUZZ_CHECK(!isspace((unsigned char)it[0]) &&
			!isspace((unsigned char)it[len - 1]));
		FUZZ_CHECK(rip_strlist_has(&l, it));
		rip_buf_addf(&b, "%s%s", i ? ", " : "", it);
	}
	rip_strlist_split(&again, b.buf);
	FUZZ_CHECK(same_list(&l, &again));
	rip_strlist_release(&again);
	rip_strlist_release(&l);
	rip_buf_release(&b);
}

static void distance(const char *s, size_t len)
{
	const char *nl = memchr(s, '\n', len), *rest = nl ? nl + 1 : "";
	size_t la = nl ? (size_t)(nl - s) : len, lb = strnlen(rest, WORD_MAX);
	char *a, *b;
	size_t d;

	if (la > WORD_MAX)
		la = WORD_MAX;
	a = rip_xstrndup(s, la);
	b = rip_xstrndup(rest, lb);
	d = rip_edit_distance(a, b);
	FUZZ_CHECK(d == rip_edit_distance(b, a));
	FUZZ_CHECK((d == 0) == !strcmp(a, b));
	FUZZ_CHECK(d <= (la > lb ? la : lb));
	FUZZ_CHECK(d >= (la > lb ? la - lb : lb - la));
	FUZZ_CHECK(rip_edit_distance(a, a) == 0);
	FUZZ_CHECK(rip_edit_distance(a, "") == la);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	size_t len = strlen(text);

	duration(text, len);
	percent(text);
	boolean(text);
	steps(text);
	list(text);
	distance(text, len);
	free(text);
	return 0;
}
