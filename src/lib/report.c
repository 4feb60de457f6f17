/* SPDX-License-Identifier: MIT */
/*
 * report.c: the data of `ripcord report` and its HTML page (report.h):
 * loading, escaping, and the page's sections and tables; the charts in
 * them are drawn by report_svg.c.
 *
 * The page is one file a person can mail, archive or open from a ticket
 * years later: inline CSS, inline SVG, no script, no font and
 * no URL of any kind (not even the SVG namespace, which HTML does not
 * need). Everything taken from state.db or the config goes through
 * rip_html_escape, in text and in attributes alike; the only other text
 * is ours. Nothing here reads a clock or the locale's decimal point
 * (ripcord never calls setlocale), so the same data and now give the same
 * bytes, which is what the tests compare.
 *
 * Charts share one time axis, the window (since, now], so a drill, a
 * deploy and a rollback at the same moment line up across sections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rip_version.h"
#include "ripcord/fsutil.h"
#include "ripcord/report.h"
#include "json_internal.h"
#include "report_internal.h"
#include "banned.h"

/* ---- loading ----------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? rip_xstrdup(s) : NULL;
}

static void drill_copy(struct rip_drill_rec *to, const struct rip_drill_rec *r)
{
	*to = *r;
	to->release = dup_or_null(r->release);
	to->result = dup_or_null(r->result);
	to->detail = dup_or_null(r->detail);
	to->steps = dup_or_null(r->steps);
}

/* Whether drill a is newer than b: by when it started, then by record. */
static bool newer(const struct rip_drill_rec *a, const struct rip_drill_rec *b)
{
	return a->started != b->started ? a->started > b->started :
		a->seq > b->seq;
}

static int cmp_drill(const void *a, const void *b)
{
	const struct rip_drill_rec *x = a, *y = b;

	return newer(y, x) ? -1 : newer(x, y) ? 1 : 0;
}

/* The readiness of release rel from every drill (all[0..n)). */
static void readiness_of(struct rip_readiness *out, const struct rip_report *r,
	struct rip_store *store, const struct rip_release_rec *rel,
	const struct rip_drill_rec *all, size_t n)
{
	char *artifact = rip_store_artifact_path(store, rel->id);
	const struct rip_drill_rec *last = NULL;

	memset(out, 0, sizeof(*out));
	out->release = rip_xstrdup(rel->id);
	out->created = rel->created;
	out->artifact = rip_path_exists(artifact);
	free(artifact);
	for (size_t i = 0; i < n; i++) {
		if (!all[i].release || strcmp(all[i].release, rel->id) ||
		    all[i].started > r->now)
			continue;
		if (!last || newer(&all[i], last))
			last = &all[i];
		if (rip_report_passed(&all[i]) && all[i].started > out->last_pass)
			out->last_pass = all[i].started;
	}
	if (last)
		drill_copy(&out->last, last);
	out->fresh = last && rip_report_passed(last) && (r->every_ms == 0 ||
		r->now - last->started <= (int64_t)(r->every_ms / 1000));
	out->ready = out->artifact && out->fresh;
}

/* The aborted rollouts that ended in the window (the aborts ledger). */
static int load_aborts(struct rip_report *r, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_rollout_rec *all;
	size_t n, keep = 0;
	int rc;

	if ((rc = rip_rollout_aborts(&all, &n, store->state, err)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (all[i].finished <= r->dora.since || all[i].finished > r->now) {
			rip_rollout_rec_release(&all[i]);
			continue;
		}
		all[keep++] = all[i];
	}
	r->aborts = all;
	r->n_aborts = keep;
	return 0;
}

static int load_store(struct rip_report *r, struct rip_store *store,
	struct rip_err *err)
{
	struct rip_drill_rec *all = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	if ((rc = rip_state_release_list(&r->releases, &r->n_releases,
			store->state, err)) < 0 ||
	    (rc = rip_drill_history(&all, &n, store->state, NULL, 0, err)) < 0)
		return rc;
	r->ready = rip_xcalloc(r->n_releases + 1, sizeof(*r->ready));
	/* a yanked release is no rollback destination: not counted */
	for (size_t i = r->n_releases; i-- > 0;)
		if (!r->releases[i].yanked_at)
			readiness_of(&r->ready[r->n_ready++], r, store,
				&r->releases[i], all, n);
	/* the window's drills, moved out of all, oldest first */
	for (size_t i = 0; i < n; i++) {
		if (all[i].started <= r->dora.since || all[i].started > r->now)
			continue;
		RIP_ALLOC_GROW(r->drills, r->n_drills + 1, alloc);
		r->drills[r->n_drills++] = all[i];
		memset(&all[i], 0, sizeof(all[i]));
	}
	rip_drill_recs_free(all, n);
	if (r->n_drills)
		qsort(r->drills, r->n_drills, sizeof(*r->drills), cmp_drill);
	rc = rip_verdict_list(&r->verdicts, &r->n_verdicts, store->state, 0,
		r->dora.since, err);
	return rc < 0 ? rc : load_aborts(r, store, err);
}

int rip_report_load(struct rip_report *out, const struct rip_config *cfg,
	struct rip_store *store, int64_t now, unsigned days,
	struct rip_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->project = rip_xstrdup(cfg->project.name ? cfg->project.name : "");
	out->store = rip_xstrdup(store ? store->dir : cfg->project.store ?
		cfg->project.store : "");
	out->now = now;
	out->every_ms = cfg->drill.every_ms;
	if ((rc = rip_dora_read(&out->dora, store ? store->state : NULL, now,
			days, err)) < 0 ||
	    (store && (rc = load_store(out, store, err)) < 0) ||
	    (store && (rc = rip_report_load_schema(out, cfg, store, err)) < 0)) {
		rip_report_release(out);
		return rc;
	}
	return 0;
}

void rip_report_release(struct rip_report *r)
{
	free(r->project);
	free(r->store);
	rip_release_recs_free(r->releases, r->n_releases);
	rip_drill_recs_free(r->drills, r->n_drills);
	for (size_t i = 0; i < r->n_ready; i++) {
		free(r->ready[i].release);
		rip_drill_rec_release(&r->ready[i].last);
	}
	free(r->ready);
	rip_verdict_recs_free(r->verdicts, r->n_verdicts);
	rip_dora_release(&r->dora);
	rip_rollout_recs_free(r->aborts, r->n_aborts);
	rip_report_schema_release(r);
	memset(r, 0, sizeof(*r));
}

json_t *rip_report_readiness_json(const struct rip_report *r)
{
	json_t *list = json_array();

	for (size_t i = 0; i < r->n_ready; i++) {
		const struct rip_readiness *x = &r->ready[i];
		json_t *last = json_null(), *pass = json_null();

		if (x->last.seq) {
			struct rip_strlist from = { 0 };
			json_t *f = json_null();

			if (rip_drill_rec_from(&from, &x->last) && from.n) {
				f = json_array();
				for (size_t j = 0; j < from.n; j++)
					json_array_append_new(f, *from.v[j] ?
						json_string(from.v[j]) : json_null());
			}
			rip_strlist_release(&from);
			last = json_pack("{s:I, s:I, s:f, s:s?, s:s?, s:I, s:o}",
				"seq", (json_int_t)x->last.seq, "started",
				(json_int_t)x->last.started, "seconds", x->last.seconds,
				"result", x->last.result, "detail", x->last.detail,
				"age_seconds", (json_int_t)(r->now - x->last.started),
				"from", f);
		}
		if (x->last_pass)
			pass = json_integer((json_int_t)x->last_pass);
		json_array_append_new(list, json_pack("{s:s, s:I, s:b, s:b, s:b, "
			"s:o, s:o}", "release", x->release, "created",
			(json_int_t)x->created, "artifact", x->artifact, "ready",
			x->ready, "fresh", x->fresh, "last_drill", last, "last_pass",
			pass));
	}
	return list;
}

/* ---- escaping and formatting ------------------------------------------- */

/* The length of the UTF-8 sequence at p, 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
#define CONT(c) (((c) & 0xc0) == 0x80)
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return CONT(p[1]) ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef)
		return CONT(p[1]) && CONT(p[2]) &&
			(p[0] != 0xe0 || p[1] >= 0xa0) &&
			(p[0] != 0xed || p[1] <= 0x9f) ? 3 : 0;
	if (p[0] >= 0xf0 && p[0] <= 0xf4)
		return CONT(p[1]) && CONT(p[2]) && CONT(p[3]) &&
			(p[0] != 0xf0 || p[1] >= 0x90) &&
			(p[0] != 0xf4 || p[1] <= 0x8f) ? 4 : 0;
	return 0;
#undef CONT
}

void rip_html_escape(struct rip_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		size_t n = utf8_len(p);

		if (n > 1) {
			rip_buf_add(out, p, n);
			p += n;
			continue;
		}
		switch (*p) {
		case '&': rip_buf_adds(out, "&amp;"); break;
		case '<': rip_buf_adds(out, "&lt;"); break;
		case '>': rip_buf_adds(out, "&gt;"); break;
		case '"': rip_buf_adds(out, "&quot;"); break;
		case '\'': rip_buf_adds(out, "&#39;"); break;
		default:
			if (n == 0 || (*p < 0x20 && *p != '\t' && *p != '\n') ||
			    *p == 0x7f)
				rip_buf_adds(out, "\xef\xbf\xbd");
			else
				rip_buf_addch(out, (char)*p);
		}
		p++;
	}
}

/* "2026-11-27 12:00" (UTC) of t, into out. */
const char *rip_report_utc(char out[32], int64_t t, const char *fmt)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, fmt, &tm))
		snprintf(out, 32, "%lld", (long long)t);
	return out;
}

static void esc(struct rip_buf *b, const char *s)
{
	rip_html_escape(b, s);
}

/* ---- the page ---------------------------------------------------------- */

static const char css[] =
	":root{color-scheme:light;--ok:#1b7f3b;--bad:#c62828;--warn:#b26a00;"
	"--mute:#666;--line:#ddd}\n"
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
	"'DejaVu Sans',sans-serif;margin:0 auto;max-width:1000px;"
	"padding:16px 24px;color:#1a1a1a;background:#fff}\n"
	"h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 "
	".5em;border-bottom:1px solid var(--line);padding-bottom:.2em}\n"
	"table{border-collapse:collapse;width:100%;font-size:.92em}\n"
	"th,td{text-align:left;padding:3px 8px;border-bottom:1px solid "
	"var(--line);vertical-align:top}th{background:#f4f4f4}\n"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"code{font:.9em ui-monospace,'DejaVu Sans Mono',monospace;"
	"word-break:break-all}\n"
	".figures{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}\n"
	".figure{border:1px solid var(--line);border-radius:6px;padding:10px}\n"
	".figure .v{font-size:1.7em;font-weight:600}\n"
	".figure .k{color:var(--mute);font-size:.85em}\n"
	".def{color:var(--mute);font-size:.85em}\n"
	".ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}\n"
	".empty{color:var(--mute);font-style:italic}\n"
	".legend{list-style:none;padding:0;margin:.3em 0;display:flex;"
	"flex-wrap:wrap;gap:4px 16px;font-size:.9em}\n"
	".sw{display:inline-block;width:12px;height:12px;border-radius:2px;"
	"margin-right:5px;vertical-align:-1px}\n"
	"svg.chart{display:block;max-width:100%;height:auto;margin:.4em 0}\n"
	"svg .axis{stroke:#444;stroke-width:1}svg .grid{stroke:#eee;"
	"stroke-width:1}\n"
	"svg text{font:11px system-ui,'DejaVu Sans',sans-serif;fill:#333}\n"
	"svg .series{fill:none;stroke-width:1.5;stroke-opacity:.6}\n"
	"svg .restore{stroke:var(--warn);stroke-width:2;stroke-dasharray:4 3}\n"
	"svg .every{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:5 4}\n"
	"@media print{body{max-width:none}}\n";

static void page_head(struct rip_buf *b, const struct rip_report *r)
{
	rip_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		"<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
		"content=\"width=device-width, initial-scale=1\">\n"
		"<meta name=\"generator\" content=\"ripcord " RIP_VERSION "\">\n"
		"<title>ripcord report: ");
	esc(b, r->project);
	rip_buf_addf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n",
		css);
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

static size_t ready_count(const struct rip_report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_ready; i++)
		n += r->ready[i].ready;
	return n;
}

static void row(struct rip_buf *b, const char *key, const char *value)
{
	rip_buf_addf(b, "<tr><th>%s</th><td>", key);
	esc(b, value);
	rip_buf_adds(b, "</td></tr>\n");
}

static void section_summary(struct rip_buf *b, const struct rip_report *r)
{
	char now[32], since[32], line[160];

	rip_buf_adds(b, "<header><h1>ripcord report: ");
	esc(b, r->project[0] ? r->project : "(unnamed project)");
	rip_buf_addf(b, "</h1></header>\n<section id=\"summary\">\n"
		"<h2>Summary</h2>\n<table>\n");
	row(b, "Project", r->project[0] ? r->project : "-");
	rip_report_utc(now, r->now, RIP_REPORT_MINUTES);
	snprintf(line, sizeof(line), "%s UTC", now);
	row(b, "Generated at", line);
	row(b, "Store", r->store);
	snprintf(line, sizeof(line), "the last %u day%s: %s to %s UTC",
		r->dora.days, plural(r->dora.days),
		rip_report_utc(since, r->dora.since, RIP_REPORT_MINUTES), now);
	row(b, "Window", line);
	snprintf(line, sizeof(line), "%zu", r->n_releases);
	row(b, "Releases in the store", line);
	snprintf(line, sizeof(line), "%zu of %zu", ready_count(r), r->n_ready);
	row(b, "Ready to roll back to", line);
	snprintf(line, sizeof(line), "%zu drill%s, %zu change%s, %zu "
		"rollback%s", r->n_drills, plural(r->n_drills), r->dora.changes,
		plural(r->dora.changes), r->dora.rollbacks,
		plural(r->dora.rollbacks));
	row(b, "In the window", line);
	rip_buf_adds(b, "</table>\n</section>\n");
}

/* ---- DORA -------------------------------------------------------------- */

static void figure(struct rip_buf *b, const char *name, const char *value,
	const char *note, const char *def)
{
	rip_buf_addf(b, "<div class=\"figure\"><div class=\"k\">%s</div>"
		"<div class=\"v\">", name);
	esc(b, value);
	rip_buf_adds(b, "</div><div class=\"k\">");
	esc(b, note);
	rip_buf_addf(b, "</div><p class=\"def\">%s</p></div>\n", def);
}

static void figures_html(struct rip_buf *b, const struct rip_dora *d)
{
	char v[64] = "n/a", note[128];

	snprintf(v, sizeof(v), "%.2f / day", d->deployment_frequency.value);
	snprintf(note, sizeof(note), "%zu successful in %u day%s",
		d->successful, d->days, plural(d->days));
	figure(b, "Deployment frequency", v, note, "Deploys that exited 0, "
		"and rollouts not aborted, per day of the window.");
	snprintf(v, sizeof(v), "n/a");
	snprintf(note, sizeof(note), "no release went live for the first time");
	if (d->lead_time.known) {
		rip_dora_format_duration(v, sizeof(v), d->lead_time.value);
		snprintf(note, sizeof(note), "median of %zu release%s",
			d->lead_time.samples, plural(d->lead_time.samples));
	}
	figure(b, "Lead time for changes", v, note, "Median, over releases "
		"first live in the window, of the time from their commit to that "
		"first successful deploy.");
	snprintf(v, sizeof(v), "n/a");
	snprintf(note, sizeof(note), "no deploys");
	if (d->change_failure_rate.known) {
		snprintf(v, sizeof(v), "%.0f%%", d->change_failure_rate.value *
			100);
		snprintf(note, sizeof(note), "%zu of %zu change%s", d->failures,
			d->changes, plural(d->changes));
	}
	figure(b, "Change failure rate", v, note, "Deploys and rollouts that "
		"failed, were aborted, or were rolled back before the next one, "
		"over all of them.");
	snprintf(v, sizeof(v), "n/a");
	snprintf(note, sizeof(note), "no failure restored by a rollback");
	if (d->time_to_restore.known) {
		rip_dora_format_duration(v, sizeof(v), d->time_to_restore.value);
		snprintf(note, sizeof(note), "median of %zu restore%s",
			d->time_to_restore.samples,
			plural(d->time_to_restore.samples));
	}
	figure(b, "Time to restore", v, note, "Median, over failures, of the "
		"time from the failed change to the rollback (or abort) that "
		"completed after it.");
}

static void section_dora(struct rip_buf *b, const struct rip_report *r)
{
	rip_buf_addf(b, "<section id=\"dora\">\n<h2>DORA figures</h2>\n<p>Over "
		"the last %u day%s, from the audit log, the operations and switch "
		"journal, and each release's commit time (see ripcord-report(1) "
		"for the exact rules).</p>\n<div class=\"figures\">\n",
		r->dora.days, plural(r->dora.days));
	figures_html(b, &r->dora);
	rip_buf_adds(b, "</div>\n<h3>Deploys and rollouts per day</h3>\n");
	rip_report_svg_per_day(b, &r->dora);
	rip_buf_adds(b, "</section>\n");
}

/* ---- drills ------------------------------------------------------------ */

static void section_drills(struct rip_buf *b, const struct rip_report *r)
{
	rip_buf_adds(b, "<section id=\"drills\">\n<h2>Drill duration over "
		"time</h2>\n");
	if (!r->n_drills) {
		rip_buf_addf(b, "<p class=\"empty\">No drills in the last %u "
			"days: run <code>ripcord drill</code>.</p>\n</section>\n",
			r->dora.days);
		return;
	}
	rip_report_svg_drills(b, r);
	rip_buf_adds(b, "</section>\n");
}

/* ---- readiness --------------------------------------------------------- */

/* Whether drill d failed for downs that no path of it exercised. */
static bool left_unexercised(const struct rip_drill_rec *d)
{
	char *u = rip_drill_rec_unexercised(d);
	bool yes = u != NULL;

	free(u);
	return yes;
}

/* Why a release is (not) ready, in a few words. */
static const char *ready_why(const struct rip_readiness *x)
{
	if (!x->artifact)
		return "no: its artifact is not in the store";
	if (!x->last.seq)
		return "no: never drilled";
	if (!rip_report_passed(&x->last) && left_unexercised(&x->last))
		return "no: its last drill left downs a rollback runs "
			"unexercised";
	if (!rip_report_passed(&x->last))
		return "no: its last drill failed";
	if (!x->fresh)
		return "no: its last drill is older than [drill] every";
	return "yes";
}

static void readiness_row(struct rip_buf *b, const struct rip_report *r,
	const struct rip_readiness *x)
{
	char when[32];

	rip_buf_adds(b, "<tr><td><code>");
	esc(b, x->release);
	rip_buf_addf(b, "</code></td><td>%s</td><td class=\"%s\">%s</td>",
		rip_report_utc(when, x->created, RIP_REPORT_MINUTES), x->artifact ? "ok" : "bad",
		x->artifact ? "present" : "missing");
	if (x->last.seq) {
		struct rip_strlist from = { 0 };
		char dur[32];

		rip_dora_format_duration(dur, sizeof(dur),
			(double)(r->now - x->last.started));
		rip_buf_addf(b, "<td class=\"%s\">", rip_report_passed(&x->last) ? "ok" :
			"bad");
		esc(b, x->last.result);
		if (rip_drill_rec_from(&from, &x->last) && from.n) {
			char *text = rip_drill_from_text(&from);

			rip_buf_adds(b, " (from ");
			esc(b, text);
			rip_buf_adds(b, ")");
			free(text);
		}
		rip_strlist_release(&from);
		if (x->last.detail) {
			rip_buf_adds(b, ": ");
			esc(b, x->last.detail);
		}
		rip_buf_addf(b, "</td><td>%s UTC</td><td class=\"num\">%s</td>"
			"<td class=\"num\">%.3f s</td>", rip_report_utc(when, x->last.started,
			RIP_REPORT_MINUTES), dur, x->last.seconds);
	} else {
		rip_buf_adds(b, "<td class=\"bad\">never drilled</td><td>-</td>"
			"<td>-</td><td>-</td>");
	}
	rip_buf_addf(b, "<td class=\"%s\">%s</td></tr>\n", x->ready ? "ok" :
		"bad", ready_why(x));
}

static void section_readiness(struct rip_buf *b, const struct rip_report *r)
{
	char every[32];

	rip_dora_format_duration(every, sizeof(every),
		(double)r->every_ms / 1000);
	rip_buf_addf(b, "<section id=\"readiness\">\n<h2>Rollback readiness"
		"</h2>\n<p>A release is ready to roll back to when its artifact is "
		"in the store and its last drill passed within [drill] every "
		"(%s).</p>\n", r->every_ms ? every : "no limit");
	if (!r->n_ready) {
		rip_buf_adds(b, "<p class=\"empty\">No releases in the store: run "
			"<code>ripcord cut</code>.</p>\n</section>\n");
		return;
	}
	rip_report_svg_readiness(b, r);
	rip_buf_adds(b, "<table>\n<tr><th>Release</th><th>Commit time (UTC)"
		"</th><th>Artifact</th><th>Last drill</th><th>When</th>"
		"<th>Age</th><th>Duration</th><th>Ready</th></tr>\n");
	for (size_t i = 0; i < r->n_ready; i++)
		readiness_row(b, r, &r->ready[i]);
	rip_buf_adds(b, "</table>\n</section>\n");
}

/* ---- history ----------------------------------------------------------- */

static void history_row(struct rip_buf *b, const struct rip_dora_event *ev)
{
	char when[32];

	rip_buf_addf(b, "<tr class=\"%s\"><td>%s</td><td>%s</td><td><code>",
		rip_dora_kind_name(ev->kind), rip_report_utc(when, ev->at, RIP_REPORT_MINUTES),
		rip_dora_kind_name(ev->kind));
	esc(b, ev->release ? ev->release : "?");
	rip_buf_adds(b, "</code></td><td><code>");
	esc(b, ev->left ? ev->left : "");
	rip_buf_addf(b, "</code></td><td class=\"%s\">", !strcmp(rip_report_outcome(ev),
		"ok") ? "ok" : "bad");
	if (ev->exit_code)
		rip_buf_addf(b, "exit %d: ", ev->exit_code);
	esc(b, ev->result);
	if (rip_report_is_change(ev) && ev->rolled_back)
		rip_buf_adds(b, ", then rolled back");
	if (rip_report_is_change(ev) && ev->restored_at) {
		char dur[32];

		rip_dora_format_duration(dur, sizeof(dur),
			(double)(ev->restored_at - ev->at));
		rip_buf_addf(b, " (restored in %s)", dur);
	}
	rip_buf_adds(b, "</td><td>");
	esc(b, ev->user);
	rip_buf_adds(b, "@");
	esc(b, ev->host);
	rip_buf_adds(b, "</td><td><code>");
	esc(b, ev->command);
	rip_buf_adds(b, "</code></td></tr>\n");
}

static void section_history(struct rip_buf *b, const struct rip_report *r)
{
	const struct rip_dora *d = &r->dora;
	size_t n = 0;

	rip_buf_adds(b, "<section id=\"history\">\n<h2>Rollout and rollback "
		"history</h2>\n");
	for (size_t i = 0; i < d->n_events; i++)
		n += d->events[i].in_window;
	if (!n) {
		rip_buf_addf(b, "<p class=\"empty\">No deploys, rollouts or "
			"rollbacks in the last %u days.</p>\n</section>\n", d->days);
		return;
	}
	rip_report_svg_timeline(b, d);
	rip_buf_adds(b, "<table>\n<tr><th>When (UTC)</th><th>What</th>"
		"<th>Release</th><th>Left</th><th>Result</th><th>Who</th>"
		"<th>Command</th></tr>\n");
	for (size_t i = d->n_events; i-- > 0;)
		if (d->events[i].in_window)
			history_row(b, &d->events[i]);
	rip_buf_adds(b, "</table>\n</section>\n");
}

/* ---- aborts ------------------------------------------------------------ */

/* figures' side s as "3 probes, 3 errors, p99 12 ms" into b. */
static void abort_side(struct rip_buf *b, const char *label, json_t *s)
{
	json_t *p99 = json_object_get(s, "p99_ms");

	if (!json_is_object(s))
		return;
	rip_buf_addf(b, "%s: %lld probes, %lld errors", label,
		(long long)json_integer_value(json_object_get(s, "probes")),
		(long long)json_integer_value(json_object_get(s, "errors")));
	if (json_is_number(p99))
		rip_buf_addf(b, ", p99 %.0f ms", json_number_value(p99));
	rip_buf_adds(b, "<br>");
}

static void abort_row(struct rip_buf *b, const struct rip_rollout_rec *ro)
{
	json_t *fig = ro->figures ? json_loads(ro->figures, 0, NULL) : NULL;
	json_t *undone = json_object_get(fig, "undone");
	const char *gate = json_string_value(json_object_get(fig, "gate"));
	const char *target = json_string_value(json_object_get(fig, "target"));
	const char *sum = json_string_value(json_object_get(undone, "summary"));
	char when[32], step[48];

	snprintf(step, sizeof(step), "%zu/%zu", ro->step, ro->nsteps);
	rip_buf_addf(b, "<tr><td>%s</td><td><code>", rip_report_utc(when,
		ro->finished, RIP_REPORT_MINUTES));
	esc(b, ro->release);
	rip_buf_adds(b, "</code> &rarr; <code>");
	esc(b, ro->previous);
	rip_buf_addf(b, "</code></td><td>%s</td><td><code>", step);
	esc(b, gate ? gate : "?");
	rip_buf_adds(b, "</code>");
	if (target) {
		rip_buf_adds(b, " on ");
		esc(b, target);
	}
	rip_buf_adds(b, "</td><td>");
	esc(b, ro->reason);
	rip_buf_adds(b, "</td><td>");
	abort_side(b, "canary", json_object_get(fig, "canary"));
	abort_side(b, "baseline", json_object_get(fig, "baseline"));
	rip_buf_addf(b, "</td><td class=\"%s\">", ro->phase &&
		!strcmp(ro->phase, "rolled back") ? "ok" : "bad");
	esc(b, sum && *sum ? sum : "nothing recorded");
	rip_buf_adds(b, " (");
	esc(b, ro->phase);
	rip_buf_adds(b, ")</td></tr>\n");
	json_decref(fig);
}

static void section_aborts(struct rip_buf *b, const struct rip_report *r)
{
	rip_buf_adds(b, "<section id=\"aborts\">\n<h2>Aborted rollouts</h2>\n");
	if (!r->n_aborts) {
		rip_buf_addf(b, "<p class=\"empty\">No rollout was aborted in the "
			"last %u days.</p>\n</section>\n", r->dora.days);
		return;
	}
	rip_buf_adds(b, "<table>\n<tr><th>When (UTC)</th><th>Release</th>"
		"<th>Step</th><th>Gate</th><th>Why</th><th>Numbers</th>"
		"<th>Undone</th></tr>\n");
	for (size_t i = r->n_aborts; i-- > 0;)
		abort_row(b, &r->aborts[i]);
	rip_buf_adds(b, "</table>\n</section>\n");
}

void rip_report_html(struct rip_buf *out, const struct rip_report *r)
{
	page_head(out, r);
	section_summary(out, r);
	section_dora(out, r);
	section_drills(out, r);
	section_readiness(out, r);
	section_history(out, r);
	rip_report_section_judge(out, r);
	section_aborts(out, r);
	rip_report_section_schema(out, r);
	rip_buf_adds(out, "<footer><p class=\"def\">Made by ripcord "
		RIP_VERSION ". This page is self-contained: it loads nothing."
		"</p></footer>\n</body>\n</html>\n");
}
