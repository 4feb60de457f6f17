/* SPDX-License-Identifier: MIT */
/*
 * report_schema.c: the report's section "schema" (report.h): per target,
 * the release the journal says it runs, that release's migrations by
 * phase in the database (schema_phase.h: expand applied, contract pending
 * or applied and since when, what the schema is ahead by), and whether a
 * rollback to where it goes is lossless right now and proven compatible
 * by the release's last drill.
 *
 * The targets are not read (a report never reaches a host): the journal
 * says what runs. The phase is read once per release and rollback pair.
 * A database that cannot be read leaves the section out with a warning:
 * the report is about the past, and the rest of it stands. Times are
 * written against the report's now, so the same data gives the same page.
 */
#include <stdlib.h>
#include <string.h>

#include "ripcord/deploy.h"
#include "ripcord/journal.h"
#include "ripcord/log.h"
#include "json_internal.h"
#include "report_internal.h"
#include "banned.h"

static const char *const compat_names[] = { "never", "pass", "fail",
	"not run" };

void rip_report_schema_release(struct rip_report *r)
{
	for (size_t i = 0; i < r->n_phases; i++)
		rip_schema_phase_release(&r->phases[i]);
	for (size_t i = 0; i < r->n_schema; i++) {
		free(r->schema[i].target);
		free(r->schema[i].compat_level);
	}
	free(r->phases);
	free(r->schema);
	r->phases = NULL;
	r->schema = NULL;
	r->n_phases = r->n_schema = 0;
}

static bool same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* The compatibility step of runs' last drill, when it ran with previous. */
static int compat_of(struct rip_report_schema *row, struct rip_store *store,
	const char *runs, const char *previous, struct rip_err *err)
{
	struct rip_drill_rec last;
	char *prev, *level;
	enum rip_drill_compat_result c;
	int rc;

	if ((rc = rip_drill_last(&last, store->state, runs, false, err)) < 0)
		return rc;
	c = rip_drill_rec_compat(&prev, &level, &last);
	if (c != RIP_COMPAT_NEVER && same(prev, previous) && previous) {
		row->compat = c;
		row->compat_level = level;
		level = NULL;
	}
	free(prev);
	free(level);
	rip_drill_rec_release(&last);
	return 0;
}

/* The phase of runs against previous: one already read, or read now. */
static int phase_of(size_t *out, struct rip_report *r,
	const struct rip_config *cfg, struct rip_store *store, const char *runs,
	const char *previous, struct rip_err *err)
{
	for (size_t i = 0; i < r->n_phases; i++)
		if (!strcmp(r->phases[i].release, runs) &&
		    same(r->phases[i].previous, previous)) {
			*out = i;
			return 0;
		}
	*out = r->n_phases++;
	return rip_schema_phase(&r->phases[*out], cfg, store, runs, previous,
		err);
}

/* One target's row: what the journal says it runs, and its phase. */
static int load_row(struct rip_report *r, const struct rip_config *cfg,
	struct rip_store *store, const struct rip_target *t, struct rip_err *err)
{
	struct rip_report_schema *row;
	struct rip_switches h;
	char *previous = NULL;
	int rc;

	if ((rc = rip_journal_history(&h, store->state, t->name, 1, err)) < 0)
		return rc;
	if (!h.n) {
		rip_switches_release(&h);
		return 0;
	}
	row = &r->schema[r->n_schema++];
	row->target = rip_xstrdup(t->name);
	if ((rc = rip_rollback_target(&previous, store, t, h.v[0].release,
			err)) == 0 &&
	    (rc = phase_of(&row->phase, r, cfg, store, h.v[0].release, previous,
		    err)) == 0)
		rc = compat_of(row, store, h.v[0].release, previous, err);
	free(previous);
	rip_switches_release(&h);
	return rc;
}

int rip_report_load_schema(struct rip_report *r, const struct rip_config *cfg,
	struct rip_store *store, struct rip_err *err)
{
	struct rip_err why = { 0 };
	bool known = false;
	int rc = 0;

	(void)err;  /* the section is left out, never the report */
	if (!cfg->migrations.dir || !cfg->n_targets)
		return 0;
	r->phases = rip_xcalloc(cfg->n_targets, sizeof(*r->phases));
	r->schema = rip_xcalloc(cfg->n_targets, sizeof(*r->schema));
	for (size_t i = 0; i < cfg->n_targets && rc == 0; i++)
		rc = load_row(r, cfg, store, &cfg->targets[i], &why);
	for (size_t i = 0; i < r->n_phases; i++)
		known |= r->phases[i].known;
	if (rc < 0)
		rip_warn("the report has no schema section: %s", why.msg);
	if (rc < 0 || !known)
		rip_report_schema_release(r);
	return 0;
}

static void esc(struct rip_buf *b, const char *s)
{
	rip_html_escape(b, s);
}

static void row_html(struct rip_buf *b, const struct rip_report *r,
	const struct rip_report_schema *row)
{
	const struct rip_schema_phase *p = &r->phases[row->phase];
	char *text = rip_schema_phase_text(p, r->now);
	char *rb = rip_schema_phase_rollback_text(p, r->now);

	rip_buf_adds(b, "<tr><td>");
	esc(b, row->target);
	rip_buf_adds(b, "</td><td><code>");
	esc(b, p->release);
	rip_buf_adds(b, "</code></td><td>");
	esc(b, text);
	rip_buf_adds(b, "</td><td><code>");
	esc(b, p->previous ? p->previous : "-");
	rip_buf_addf(b, "</code></td><td class=\"%s\">", !p->previous ? "" :
		!p->lossless ? "bad" : p->compatible ? "ok" : "warn");
	esc(b, rb);
	rip_buf_addf(b, "</td><td class=\"%s\">%s", row->compat ==
		RIP_COMPAT_PASS ? "ok" : row->compat == RIP_COMPAT_FAIL ? "bad" :
		"warn", p->previous ? compat_names[row->compat] : "-");
	if (row->compat_level) {
		rip_buf_adds(b, " at <code>");
		esc(b, row->compat_level);
		rip_buf_adds(b, "</code>");
	}
	rip_buf_adds(b, "</td></tr>\n");
	free(text);
	free(rb);
}

void rip_report_section_schema(struct rip_buf *b, const struct rip_report *r)
{
	if (!r->n_schema)
		return;
	rip_buf_adds(b, "<section id=\"schema\">\n<h2>Schema phases</h2>\n"
		"<p>Per target, the release the journal says it runs and its "
		"migrations by phase in the database now: expand migrations are "
		"safe for the previous release, contract ones are not. A rollback "
		"is lossless while no applied contract migration lies between "
		"the two releases; compatible when the release's last drill ran "
		"the previous release's smoke test on its expand level.</p>\n"
		"<table>\n<tr><th>Target</th><th>Runs</th><th>Schema</th>"
		"<th>Rollback to</th><th>Rollback</th><th>Compatible</th></tr>\n");
	for (size_t i = 0; i < r->n_schema; i++)
		row_html(b, r, &r->schema[i]);
	rip_buf_adds(b, "</table>\n</section>\n");
}

json_t *rip_report_schema_json(const struct rip_report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_schema; i++) {
		const struct rip_report_schema *row = &r->schema[i];
		const struct rip_schema_phase *p = &r->phases[row->phase];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s?, s:s, s:s?, "
			"s:o}", "target", row->target, "release", p->release,
			"previous", p->previous, "compatible",
			compat_names[row->compat], "level", row->compat_level,
			"schema", rip_schema_phase_json(p)));
	}
	return a;
}
