/* SPDX-License-Identifier: MIT */
/*
 * metrics_internal.h: the Prometheus text format as metrics.c edits it: a
 * set of families and series that metrics_text.c parses from a file's
 * text and renders back.
 */
#ifndef RIPCORD_METRICS_INTERNAL_H
#define RIPCORD_METRICS_INTERNAL_H

#include "ripcord/buf.h"
#include "ripcord/metrics.h"

struct rip_mlabel {
	char *name;
	char *value;
};

struct rip_mseries {
	char *name;
	size_t fam;             /* index in rip_mset.fam */
	struct rip_mlabel *labels;  /* sorted by name */
	size_t n_labels;
	double value;
	size_t line;            /* 0: given to this update */
};

struct rip_mfamily {
	char *name;
	char *help;             /* unescaped; NULL: none */
	char *type;             /* lower case; NULL: none (untyped) */
	size_t help_line, type_line;
	bool has_samples;       /* a TYPE after this is too late */
};

struct rip_mset {
	struct rip_mfamily *fam;
	size_t n_fam, a_fam;
	struct rip_mseries *ser;
	size_t n_ser, a_ser;
	size_t bad_lines;       /* lines dropped by the parser */
	size_t first_bad;       /* the first of them (1-based) */
	char why[256];          /* what is wrong with it */
};

/*
 * Parses text (len bytes) into s, which starts zeroed. A line that does
 * not parse is left out and counted (bad_lines, first_bad, why); so is
 * the later copy of a series found twice. Sorts s.
 */
void rip_mset_parse(struct rip_mset *s, const char *text, size_t len);
/*
 * Appends s as a whole file to out: families by name, each with its HELP
 * (when it has one) and TYPE ("untyped" when none), then its series by
 * name and labels (le and quantile values numerically). Families without
 * series are left out. Sorts s.
 */
void rip_mset_render(struct rip_buf *out, struct rip_mset *s);
/* Frees what s holds and leaves it zeroed. */
void rip_mset_release(struct rip_mset *s);
/* The family called name (len bytes), added without HELP or TYPE when
 * missing. The pointer lasts until the next family is added. */
struct rip_mfamily *rip_mset_family(struct rip_mset *s, const char *name,
	size_t len);

void rip_mseries_release(struct rip_mseries *r);
/* Same name and same labels (both sorted). */
bool rip_mseries_same(const struct rip_mseries *a,
	const struct rip_mseries *b);
/* Sorts n labels by name. */
void rip_mlabels_sort(struct rip_mlabel *v, size_t n);

/* Valid UTF-8 of n bytes without NUL. */
bool rip_metrics_utf8_ok(const char *s, size_t n);
/* A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, not metric, a label name
 * ([a-zA-Z_][a-zA-Z0-9_]*). */
bool rip_metrics_name_ok(const char *s, bool metric);

#endif
