/* SPDX-License-Identifier: MIT */
/*
 * metrics_text.c: the Prometheus text exposition format (0.0.4, as
 * node_exporter's textfile collector reads it): parsing a file into a
 * rip_mset, checking one, and rendering one back (metrics_internal.h).
 *
 * Invariants. What rip_mset_render writes passes rip_mset_parse: families
 * contiguous, one HELP and one TYPE each before their samples, no series
 * twice, label values and HELP escaped, values spelled as Prometheus does
 * (1700000000, not 1.7e+09; NaN, +Inf, -Inf). The order depends only on
 * the content, so rendering the same set twice gives the same bytes.
 *
 * The parser is strict where Prometheus' own is (escapes, names, one
 * TYPE, a last line without its line feed), refuses what node_exporter
 * refuses (a sample with a timestamp), and never stops at a bad line:
 * metrics.c keeps what did parse. Tuned for files of a few thousand
 * series: families are found by a linear scan, series sorted once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics_internal.h"
#include "banned.h"

static const char *const types[] = {
	"counter", "gauge", "histogram", "summary", "untyped",
};

/* --- small helpers ------------------------------------------------------ */

bool rip_metrics_utf8_ok(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], cp, min;
		size_t k;

		if (c && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			k = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;   /* NUL, continuation, 0xc0/c1, 0xf5+ */
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static bool name_char(char c, bool first, bool metric)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (metric && c == ':')
		return true;
	return !first && c >= '0' && c <= '9';
}

/* The length of the metric (or label) name at s, 0 when there is none. */
static size_t scan_name(const char *s, const char *e, bool metric)
{
	size_t n = 0;

	while (s + n < e && name_char(s[n], n == 0, metric))
		n++;
	return n;
}

bool rip_metrics_name_ok(const char *s, bool metric)
{
	size_t len = strlen(s);

	return len && scan_name(s, s + len, metric) == len;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void skip_blank(const char **p, const char *e)
{
	while (*p < e && is_blank(**p))
		(*p)++;
}

static const char *type_norm(const char *s, size_t len)
{
	for (size_t i = 0; i < RIP_ARRAY_SIZE(types); i++)
		if (strlen(types[i]) == len && !strncasecmp(types[i], s, len))
			return types[i];
	return NULL;
}

/* --- the set ------------------------------------------------------------ */

void rip_mseries_release(struct rip_mseries *s)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		free(s->labels[i].name);
		free(s->labels[i].value);
	}
	free(s->labels);
	free(s->name);
}

void rip_mset_release(struct rip_mset *s)
{
	for (size_t i = 0; i < s->n_ser; i++)
		rip_mseries_release(&s->ser[i]);
	for (size_t i = 0; i < s->n_fam; i++) {
		free(s->fam[i].name);
		free(s->fam[i].help);
		free(s->fam[i].type);
	}
	free(s->ser);
	free(s->fam);
	memset(s, 0, sizeof(*s));
}

static struct rip_mfamily *fam_find(struct rip_mset *s, const char *name,
	size_t len)
{
	for (size_t i = 0; i < s->n_fam; i++)
		if (strlen(s->fam[i].name) == len &&
			!memcmp(s->fam[i].name, name, len))
			return &s->fam[i];
	return NULL;
}

struct rip_mfamily *rip_mset_family(struct rip_mset *s, const char *name,
	size_t len)
{
	struct rip_mfamily *f = fam_find(s, name, len);

	if (f)
		return f;
	RIP_ALLOC_GROW(s->fam, s->n_fam + 1, s->a_fam);
	f = &s->fam[s->n_fam++];
	memset(f, 0, sizeof(*f));
	f->name = rip_xstrndup(name, len);
	return f;
}

/* The family a sample called name belongs to: x for x_bucket, x_sum and
 * x_count when x is a histogram (x_sum and x_count: or a summary). */
static struct rip_mfamily *fam_of_sample(struct rip_mset *s, const char *name)
{
	static const char *const suffix[] = { "_bucket", "_sum", "_count" };
	size_t len = strlen(name);

	for (size_t i = 0; i < RIP_ARRAY_SIZE(suffix); i++) {
		size_t sl = strlen(suffix[i]);
		struct rip_mfamily *f;

		if (len <= sl || strcmp(name + len - sl, suffix[i]))
			continue;
		f = fam_find(s, name, len - sl);
		if (f && f->type && (!strcmp(f->type, "histogram") ||
			(i > 0 && !strcmp(f->type, "summary"))))
			return f;
	}
	return rip_mset_family(s, name, len);
}

static void set_bad(struct rip_mset *s, size_t line, const char *why)
{
	s->bad_lines++;
	if (!s->first_bad || line < s->first_bad) {
		s->first_bad = line;
		snprintf(s->why, sizeof(s->why), "%s", why);
	}
}

/* --- ordering ----------------------------------------------------------- */

/* Numbers first, in numeric order; then everything else by bytes. */
static int cmp_number_label(const char *a, const char *b)
{
	char *ea, *eb;
	double x = strtod(a, &ea), y = strtod(b, &eb);
	bool na = *a && !*ea && !isnan(x), nb = *b && !*eb && !isnan(y);

	if (na != nb)
		return na ? -1 : 1;
	if (na && x != y)
		return x < y ? -1 : 1;
	return strcmp(a, b);
}

static int cmp_labels(const struct rip_mseries *a, const struct rip_mseries *b)
{
	for (size_t i = 0; i < a->n_labels && i < b->n_labels; i++) {
		const struct rip_mlabel *x = &a->labels[i], *y = &b->labels[i];
		int c = strcmp(x->name, y->name);

		if (c)
			return c;
		if (!strcmp(x->name, "le") || !strcmp(x->name, "quantile"))
			c = cmp_number_label(x->value, y->value);
		else
			c = strcmp(x->value, y->value);
		if (c)
			return c;
	}
	return a->n_labels < b->n_labels ? -1 : a->n_labels > b->n_labels;
}

static int cmp_series(const void *pa, const void *pb, void *ctx)
{
	const struct rip_mseries *a = pa, *b = pb;
	const struct rip_mset *s = ctx;
	int c = strcmp(s->fam[a->fam].name, s->fam[b->fam].name);

	if (!c)
		c = strcmp(a->name, b->name);
	if (!c)
		c = cmp_labels(a, b);
	if (!c)
		c = a->line < b->line ? -1 : a->line > b->line;
	return c;
}

bool rip_mseries_same(const struct rip_mseries *a, const struct rip_mseries *b)
{
	return !strcmp(a->name, b->name) && !cmp_labels(a, b);
}

/* Sorts s and drops the later copy of a series found twice. */
static void set_sort(struct rip_mset *s)
{
	size_t kept = 0;

	if (s->n_ser > 1)
		qsort_r(s->ser, s->n_ser, sizeof(*s->ser), cmp_series, s);
	for (size_t i = 0; i < s->n_ser; i++) {
		if (kept && rip_mseries_same(&s->ser[kept - 1], &s->ser[i])) {
			char why[160];

			snprintf(why, sizeof(why), "series '%.80s' again "
				"(first at line %zu)", s->ser[i].name,
				s->ser[kept - 1].line);
			set_bad(s, s->ser[i].line, why);
			rip_mseries_release(&s->ser[i]);
			continue;
		}
		s->ser[kept++] = s->ser[i];
	}
	s->n_ser = kept;
}

void rip_mlabels_sort(struct rip_mlabel *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i;
			j > 0 && strcmp(v[j - 1].name, v[j].name) > 0; j--) {
			struct rip_mlabel t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* --- parsing ------------------------------------------------------------ */

/* Reads a quoted label value after its '"' into out; NULL when bad. */
static const char *parse_quoted(struct rip_buf *out, const char *p,
	const char *e)
{
	for (; p < e; p++) {
		if (*p == '"')
			return p + 1;
		if (*p != '\\') {
			rip_buf_addch(out, *p);
			continue;
		}
		if (++p == e)
			return NULL;
		if (*p == 'n')
			rip_buf_addch(out, '\n');
		else if (*p == '\\' || *p == '"')
			rip_buf_addch(out, *p);
		else
			return NULL;
	}
	return NULL;
}

/* Parses '{...}' at *p into r's labels; returns the error or NULL. */
static const char *parse_labels(struct rip_mseries *r, const char **pp,
	const char *e)
{
	const char *p = *pp + 1;
	struct rip_buf v = RIP_BUF_INIT;
	size_t alloc = 0;

	for (;;) {
		size_t n;

		skip_blank(&p, e);
		if (p < e && *p == '}')
			break;
		if (!(n = scan_name(p, e, false)))
			return "expected a label name or '}'";
		RIP_ALLOC_GROW(r->labels, r->n_labels + 1, alloc);
		r->labels[r->n_labels].name = rip_xstrndup(p, n);
		r->labels[r->n_labels++].value = NULL;
		p += n;
		skip_blank(&p, e);
		if (p == e || *p++ != '=')
			return "expected '=' after a label name";
		skip_blank(&p, e);
		if (p == e || *p++ != '"')
			return "expected '\"' to open a label value";
		rip_buf_reset(&v);
		if (!(p = parse_quoted(&v, p, e))) {
			rip_buf_release(&v);
			return "unterminated label value or bad escape (only "
				"\\\\, \\\" and \\n)";
		}
		r->labels[r->n_labels - 1].value = rip_buf_detach(&v, NULL);
		skip_blank(&p, e);
		if (p < e && *p == ',')
			p++;
		else if (p == e || *p != '}')
			return "expected ',' or '}' after a label value";
	}
	*pp = p + 1;
	rip_mlabels_sort(r->labels, r->n_labels);
	for (size_t i = 1; i < r->n_labels; i++)
		if (!strcmp(r->labels[i - 1].name, r->labels[i].name))
			return "a label appears twice";
	return NULL;
}

/* Parses the value after a series' name, and refuses a timestamp. */
static const char *parse_value(struct rip_mseries *r, const char *p,
	const char *e)
{
	const char *t = p;
	char *tok, *end;
	size_t n, sign;

	while (t < e && !is_blank(*t))
		t++;
	if (t == p)
		return "expected a value";
	tok = rip_xstrndup(p, (size_t)(t - p));
	r->value = strtod(tok, &end);
	if (*end || strchr(tok, '(')) {
		free(tok);
		return "the value is not a number";
	}
	free(tok);
	p = t;
	skip_blank(&p, e);
	if (p == e)
		return NULL;
	for (t = p; t < e && !is_blank(*t); t++)
		;
	n = (size_t)(t - p);
	sign = *p == '-' || *p == '+';
	if (n == sign || n > 20 ||
		strspn(p + sign, "0123456789") != n - sign)
		return "the timestamp is not an integer";
	skip_blank(&t, e);
	if (t != e)
		return "unexpected text after the timestamp";
	/* valid Prometheus, but node_exporter skips the whole file */
	return "a timestamp (node_exporter's textfile collector refuses "
		"them)";
}

static const char *parse_sample(struct rip_mset *s, const char *p,
	const char *e, size_t line)
{
	struct rip_mseries r = { 0 };
	struct rip_mfamily *f;
	const char *why;
	size_t n = scan_name(p, e, true);

	if (!n)
		return "expected a metric name";
	r.name = rip_xstrndup(p, n);
	r.line = line;
	p += n;
	if (p < e && !is_blank(*p) && *p != '{') {
		why = "invalid character in a metric name";
		goto fail;
	}
	skip_blank(&p, e);
	if (p < e && *p == '{' && (why = parse_labels(&r, &p, e)))
		goto fail;
	skip_blank(&p, e);
	if ((why = parse_value(&r, p, e)))
		goto fail;
	f = fam_of_sample(s, r.name);
	f->has_samples = true;
	r.fam = (size_t)(f - s->fam);
	RIP_ALLOC_GROW(s->ser, s->n_ser + 1, s->a_ser);
	s->ser[s->n_ser++] = r;
	return NULL;
fail:
	rip_mseries_release(&r);
	return why;
}

/* Unescapes HELP text (\\ and \n) into a new string; NULL when bad. */
static char *help_unescape(const char *p, const char *e)
{
	struct rip_buf b = RIP_BUF_INIT;

	for (; p < e; p++) {
		if (*p != '\\') {
			rip_buf_addch(&b, *p);
			continue;
		}
		if (p + 1 == e || (p[1] != '\\' && p[1] != 'n')) {
			rip_buf_release(&b);
			return NULL;
		}
		rip_buf_addch(&b, *++p == 'n' ? '\n' : '\\');
	}
	return rip_buf_detach(&b, NULL);
}

static const char *parse_help(struct rip_mfamily *f, const char *p,
	const char *e, size_t line)
{
	char *help;

	if (f->help_line)
		return "a second HELP for the family";
	skip_blank(&p, e);
	if (!(help = help_unescape(p, e)))
		return "bad escape in HELP (only \\\\ and \\n)";
	f->help = help;
	f->help_line = line;
	return NULL;
}

static const char *parse_type(struct rip_mfamily *f, const char *p,
	const char *e, size_t line)
{
	const char *w, *type;

	if (f->type_line)
		return "a second TYPE for the family";
	if (f->has_samples)
		return "TYPE after the family's samples";
	skip_blank(&p, e);
	for (w = p; w < e && !is_blank(*w); w++)
		;
	if (!(type = type_norm(p, (size_t)(w - p))))
		return "unknown TYPE (counter, gauge, histogram, summary or "
			"untyped)";
	skip_blank(&w, e);
	if (w != e)
		return "unexpected text after the TYPE";
	f->type = rip_xstrdup(type);
	f->type_line = line;
	return NULL;
}

/* "# HELP name text", "# TYPE name type", or any other comment. */
static const char *parse_comment(struct rip_mset *s, const char *p,
	const char *e, size_t line)
{
	const char *w;
	bool help;
	size_t n;

	p++;
	skip_blank(&p, e);
	for (w = p; w < e && !is_blank(*w); w++)
		;
	if (w - p != 4 || (memcmp(p, "HELP", 4) && memcmp(p, "TYPE", 4)))
		return NULL;
	help = !memcmp(p, "HELP", 4);
	skip_blank(&w, e);
	if (!(n = scan_name(w, e, true)))
		return help ? "expected a metric name after # HELP" :
			"expected a metric name after # TYPE";
	p = w + n;
	if (p < e && !is_blank(*p))
		return "invalid character in a metric name";
	if (help)
		return parse_help(rip_mset_family(s, w, n), p, e, line);
	return parse_type(rip_mset_family(s, w, n), p, e, line);
}

/* Parses text into s; lines that do not parse are counted in s. */
void rip_mset_parse(struct rip_mset *s, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	size_t line = 0;

	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		const char *q = p, *why = NULL;

		line++;
		if (!e) {
			set_bad(s, line, "no line feed at the end (cut "
				"short?)");
			break;
		}
		skip_blank(&q, e);
		if (!rip_metrics_utf8_ok(p, (size_t)(e - p)))
			why = "not UTF-8 text";
		else if (q < e && *q == '#')
			why = parse_comment(s, q, e, line);
		else if (q < e)
			why = parse_sample(s, q, e, line);
		if (why)
			set_bad(s, line, why);
		p = e + 1;
	}
	set_sort(s);
}

int rip_metrics_check(const char *text, size_t len, const char *name,
	struct rip_err *err)
{
	struct rip_mset s = { 0 };
	int rc = 0;

	rip_mset_parse(&s, text, len);
	if (s.bad_lines)
		rc = rip_err_set(err, RIP_EINTEGRITY, "%s:%zu: %s", name,
			s.first_bad, s.why);
	rip_mset_release(&s);
	return rc;
}

/* --- writing ------------------------------------------------------------ */

static void add_value(struct rip_buf *b, double v)
{
	char tmp[40];

	if (isnan(v)) {
		rip_buf_adds(b, "NaN");
	} else if (isinf(v)) {
		rip_buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	} else if (fabs(v) < 1e15 && v == (double)(long long)v) {
		/* integers as integers: 1700000000, not 1.7e+09; no "-0" */
		rip_buf_addf(b, "%.0f", v == 0 ? 0.0 : v);
	} else {
		snprintf(tmp, sizeof(tmp), "%.15g", v);
		if (strtod(tmp, NULL) != v)
			snprintf(tmp, sizeof(tmp), "%.17g", v);
		rip_buf_adds(b, tmp);
	}
}

static void add_escaped(struct rip_buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			rip_buf_adds(b, "\\\\");
		else if (*s == '\n')
			rip_buf_adds(b, "\\n");
		else if (*s == '"' && quote)
			rip_buf_adds(b, "\\\"");
		else
			rip_buf_addch(b, *s);
	}
}

static void add_series(struct rip_buf *b, const struct rip_mseries *r)
{
	rip_buf_adds(b, r->name);
	for (size_t i = 0; i < r->n_labels; i++) {
		rip_buf_addch(b, i ? ',' : '{');
		rip_buf_addf(b, "%s=\"", r->labels[i].name);
		add_escaped(b, r->labels[i].value, true);
		rip_buf_addch(b, '"');
	}
	if (r->n_labels)
		rip_buf_addch(b, '}');
	rip_buf_addch(b, ' ');
	add_value(b, r->value);
	rip_buf_addch(b, '\n');
}

/* The whole file: families by name, each with its HELP and TYPE. */
void rip_mset_render(struct rip_buf *b, struct rip_mset *s)
{
	size_t fam = SIZE_MAX;

	set_sort(s);
	for (size_t i = 0; i < s->n_ser; i++) {
		const struct rip_mfamily *f = &s->fam[s->ser[i].fam];

		if (s->ser[i].fam != fam) {
			fam = s->ser[i].fam;
			if (f->help) {
				rip_buf_addf(b, "# HELP %s ", f->name);
				add_escaped(b, f->help, false);
				rip_buf_addch(b, '\n');
			}
			rip_buf_addf(b, "# TYPE %s %s\n", f->name,
				f->type ? f->type : "untyped");
		}
		add_series(b, &s->ser[i]);
	}
}
