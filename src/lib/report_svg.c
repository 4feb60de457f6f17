/* SPDX-License-Identifier: MIT */
/*
 * report_svg.c: the inline SVG charts of the report page (report.c): the
 * deploys per day, drill durations per release, the age of each release's
 * last drill, and the timeline of deploys, rollouts and rollbacks, with
 * their legends.
 *
 * Every chart maps data onto a fixed viewBox (struct chart) and shares one
 * time axis, the window (since, now], so events at the same moment line
 * up across sections. Text from state.db goes through rip_html_escape;
 * numbers are printed with "%.1f" and never depend on a locale, so the
 * same data give the same bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/report.h"
#include "report_internal.h"
#include "banned.h"

/* Appends <title>, a printf of ours with %s arguments escaped, </title>. */
static void title(struct rip_buf *b, const char *text)
{
	rip_buf_adds(b, "<title>");
	rip_html_escape(b, text);
	rip_buf_adds(b, "</title>");
}

/* Colour-blind safe (Okabe and Ito), yellow left out: it vanishes on
 * white. */
static const char *const palette[] = {
	"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
	"#000000", "#8c8c8c",
};

/* ---- axes and scales --------------------------------------------------- */

struct chart {
	double x0, x1;            /* data on x: unix seconds */
	double y0, y1;            /* data on y */
	int w, h;                 /* the viewBox */
	int l, r, t, b;           /* margins */
};

static double px(const struct chart *c, double x)
{
	return c->l + (x - c->x0) / (c->x1 - c->x0) * (c->w - c->l - c->r);
}

static double py(const struct chart *c, double y)
{
	return c->h - c->b - (y - c->y0) / (c->y1 - c->y0) *
		(c->h - c->t - c->b);
}

static void svg_open(struct rip_buf *b, const struct chart *c,
	const char *cls, const char *label)
{
	rip_buf_addf(b, "<svg class=\"chart %s\" viewBox=\"0 0 %d %d\" "
		"width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"", cls,
		c->w, c->h, c->w, c->h);
	rip_html_escape(b, label);
	rip_buf_adds(b, "\">\n");
}

/* 1, 2 or 5 times a power of ten, so that about five steps cover max. */
static double nice_step(double max)
{
	static const double m[] = { 1, 2, 5 };
	double base = 0.001;

	while (base < 1e12) {
		for (size_t i = 0; i < RIP_ARRAY_SIZE(m); i++)
			if (base * m[i] * 5 >= max)
				return base * m[i];
		base *= 10;
	}
	return base;
}

/* The time axis at the bottom: ticks on whole hours or days, and grid. */
static void time_axis(struct rip_buf *b, const struct chart *c)
{
#define H 3600LL
/* the drill chart's axis ends here, whatever a damaged record says */
#define REPORT_MAX_SECONDS (7 * 86400.0)
#define D 86400LL
	static const int64_t steps[] = { H, 3 * H, 6 * H, 12 * H, D, 2 * D,
		7 * D, 14 * D, 28 * D, 91 * D, 182 * D, 364 * D, 728 * D };
#undef H
#undef D
	int64_t step = steps[RIP_ARRAY_SIZE(steps) - 1], t;
	double span = c->x1 - c->x0, yb = c->h - c->b;
	char when[32];

	for (size_t i = 0; i < RIP_ARRAY_SIZE(steps); i++)
		if (span / (double)steps[i] <= 8) {
			step = steps[i];
			break;
		}
	rip_buf_addf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
		"y2=\"%.1f\"/>\n", c->l, yb, c->w - c->r, yb);
	t = ((int64_t)c->x0 / step + 1) * step;
	for (; (double)t <= c->x1; t += step) {
		double x = px(c, (double)t);

		rip_buf_addf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" "
			"x2=\"%.1f\" y2=\"%.1f\"/><text class=\"tick\" x=\"%.1f\" "
			"y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, c->t, x,
			yb, x, yb + 16, rip_report_utc(when, t, step < 86400 ? "%m-%d %H:%M" :
			"%Y-%m-%d"));
	}
}

/* The value axis at the left, from y0 to y1 in steps of step. */
static void value_axis(struct rip_buf *b, const struct chart *c, double step,
	const char *unit)
{
	rip_buf_addf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
		"y2=\"%d\"/>\n", c->l, c->t, c->l, c->h - c->b);
	for (int i = 0; i <= 100 && c->y0 + i * step <= c->y1 + step / 1000;
	     i++) {
		double v = c->y0 + i * step, y = py(c, v);

		rip_buf_addf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" "
			"x2=\"%d\" y2=\"%.1f\"/><text class=\"tick\" x=\"%d\" "
			"y=\"%.1f\" text-anchor=\"end\">%g%s</text>\n", c->l, y,
			c->w - c->r, y, c->l - 6, y + 4, v, unit);
	}
}

/* Whole steps (1, 2, 5, 10...) for a count axis up to max, and its top. */
static void count_scale(double *step, double *top, size_t max)
{
	size_t s = (size_t)nice_step((double)max), n;

	s = s ? s : 1;
	n = (max + s - 1) / s;
	*step = (double)s;
	*top = (double)(n * s);
}

/* Changes per day of the window: live ones green, failed ones red. */
void rip_report_svg_per_day(struct rip_buf *b, const struct rip_dora *d)
{
	struct chart c = { .x0 = (double)d->since, .x1 = (double)d->now,
		.w = 960, .h = 180, .l = 48, .r = 16, .t = 12, .b = 28 };
	size_t *ok = rip_xcalloc(d->days, sizeof(*ok));
	size_t *bad = rip_xcalloc(d->days, sizeof(*bad)), max = 1;
	double step, bw;

	for (size_t i = 0; i < d->n_events; i++) {
		const struct rip_dora_event *ev = &d->events[i];
		size_t day;

		if ((ev->kind != RIP_DORA_DEPLOY && ev->kind != RIP_DORA_ROLLOUT) ||
		    !ev->in_window)
			continue;
		day = (size_t)((ev->at - d->since - 1) / RIP_DORA_DAY);
		if (day >= d->days)
			continue;
		if (ev->failed)
			bad[day]++;
		else
			ok[day]++;
		if (ok[day] + bad[day] > max)
			max = ok[day] + bad[day];
	}
	count_scale(&step, &c.y1, max);
	svg_open(b, &c, "per-day", "deploys and rollouts per day");
	time_axis(b, &c);
	value_axis(b, &c, step, "");
	bw = (px(&c, RIP_DORA_DAY) - px(&c, 0)) * 0.8;
	for (unsigned i = 0; i < d->days; i++) {
		double x = px(&c, (double)(d->since + (int64_t)i * RIP_DORA_DAY)) +
			bw * 0.125, y0 = py(&c, 0), yo = py(&c, (double)ok[i]),
			yb = py(&c, (double)(ok[i] + bad[i]));

		if (ok[i])
			rip_buf_addf(b, "<rect class=\"day ok\" x=\"%.1f\" y=\"%.1f\" "
				"width=\"%.1f\" height=\"%.1f\" fill=\"#1b7f3b\"><title>"
				"%zu successful</title></rect>\n", x, yo, bw, y0 - yo,
				ok[i]);
		if (bad[i])
			rip_buf_addf(b, "<rect class=\"day failed\" x=\"%.1f\" "
				"y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"#c62828\"><title>%zu failed</title></rect>\n", x,
				yb, bw, yo - yb, bad[i]);
	}
	rip_buf_adds(b, "</svg>\n<ul class=\"legend\"><li><span class=\"sw\" "
		"style=\"background:#1b7f3b\"></span>successful</li><li><span "
		"class=\"sw\" style=\"background:#c62828\"></span>failed, aborted "
		"or rolled back</li></ul>\n");
	free(ok);
	free(bad);
}

/* The releases to draw, in colour order: the store's, oldest first, then
 * drilled ones it no longer records. Borrowed strings. */
static void series_names(struct rip_strlist *out, const struct rip_report *r)
{
	for (size_t i = 0; i < r->n_releases; i++)
		for (size_t j = 0; j < r->n_drills; j++)
			if (r->drills[j].release && !strcmp(r->drills[j].release,
					r->releases[i].id)) {
				rip_strlist_push(out, r->releases[i].id);
				break;
			}
	for (size_t j = 0; j < r->n_drills; j++)
		if (r->drills[j].release &&
		    !rip_strlist_has(out, r->drills[j].release))
			rip_strlist_push(out, r->drills[j].release);
}

static void drill_point(struct rip_buf *b, const struct chart *c,
	const struct rip_drill_rec *d, const char *colour)
{
	struct rip_buf t = RIP_BUF_INIT;
	double x = px(c, (double)d->started), y = py(c, d->seconds);
	char when[32];

	rip_buf_addf(&t, "%s, %s UTC: %s in %.3f s%s%s", d->release,
		rip_report_utc(when, d->started, RIP_REPORT_MINUTES), d->result ? d->result : "?",
		d->seconds, d->detail ? ": " : "", d->detail ? d->detail : "");
	if (rip_report_passed(d))
		rip_buf_addf(b, "<circle class=\"drill pass\" cx=\"%.1f\" "
			"cy=\"%.1f\" r=\"4.5\" fill=\"%s\" stroke=\"#fff\">", x, y,
			colour);
	else if (d->result && !strcmp(d->result, RIP_DRILL_INTEGRITY))
		rip_buf_addf(b, "<path class=\"drill integrity\" d=\"M%.1f %.1f"
			"l6 6l-6 6l-6-6z\" fill=\"#6a1b9a\" stroke=\"#fff\">", x,
			y - 6);
	else
		rip_buf_addf(b, "<path class=\"drill fail\" d=\"M%.1f %.1fl10 10"
			"m0-10l-10 10\" stroke=\"#c62828\" stroke-width=\"2.5\" "
			"fill=\"none\">", x - 5, y - 5);
	title(b, t.buf);
	rip_buf_adds(b, rip_report_passed(d) ? "</circle>\n" : "</path>\n");
	rip_buf_release(&t);
}

static void drill_series(struct rip_buf *b, const struct chart *c,
	const struct rip_report *r, const char *rel, const char *colour)
{
	size_t n = 0;

	rip_buf_addf(b, "<g class=\"release\" data-release=\"");
	rip_html_escape(b, rel);
	rip_buf_addf(b, "\"><polyline class=\"series\" stroke=\"%s\" "
		"points=\"", colour);
	for (size_t i = 0; i < r->n_drills; i++)
		if (r->drills[i].release && !strcmp(r->drills[i].release, rel))
			rip_buf_addf(b, "%s%.1f,%.1f", n++ ? " " : "",
				px(c, (double)r->drills[i].started),
				py(c, r->drills[i].seconds));
	rip_buf_adds(b, "\"/>\n");
	for (size_t i = 0; i < r->n_drills; i++)
		if (r->drills[i].release && !strcmp(r->drills[i].release, rel))
			drill_point(b, c, &r->drills[i], colour);
	rip_buf_adds(b, "</g>\n");
}

void rip_report_svg_drills(struct rip_buf *b, const struct rip_report *r)
{
	struct chart c = { .x0 = (double)r->dora.since, .x1 = (double)r->now,
		.w = 960, .h = 320, .l = 56, .r = 16, .t = 12, .b = 28 };
	struct rip_strlist names = { 0 };
	double max = 0, step;

	/* a week at most: a duration past that (or not finite), from a
	 * damaged state.db, must not make the axis endless */
	for (size_t i = 0; i < r->n_drills; i++)
		if (r->drills[i].seconds > max)
			max = r->drills[i].seconds;
	if (!isfinite(max) || max > REPORT_MAX_SECONDS)
		max = REPORT_MAX_SECONDS;
	step = nice_step(max > 0 ? max : 1);
	c.y1 = step * (double)(size_t)(max / step + 1);
	series_names(&names, r);
	svg_open(b, &c, "drills", "drill duration over time per release");
	time_axis(b, &c);
	value_axis(b, &c, step, " s");
	for (size_t i = 0; i < names.n; i++)
		drill_series(b, &c, r, names.v[i],
			palette[i % RIP_ARRAY_SIZE(palette)]);
	rip_buf_adds(b, "</svg>\n<ul class=\"legend\">");
	for (size_t i = 0; i < names.n; i++) {
		rip_buf_addf(b, "<li><span class=\"sw\" style=\"background:%s\">"
			"</span><code>", palette[i % RIP_ARRAY_SIZE(palette)]);
		rip_html_escape(b, names.v[i]);
		rip_buf_adds(b, "</code></li>");
	}
	rip_buf_adds(b, "</ul>\n<ul class=\"legend\"><li>&#9679; passed</li>"
		"<li class=\"bad\">&#10005; failed (round trip or smoke)</li>"
		"<li style=\"color:#6a1b9a\">&#9670; integrity or fidelity</li>"
		"</ul>\n");
	rip_strlist_release(&names);
}

static const char *ready_class(const struct rip_readiness *x)
{
	if (!x->last.seq)
		return "never";
	if (!rip_report_passed(&x->last))
		return "failed";
	return x->fresh ? "fresh" : "stale";
}

static const char *ready_colour(const char *cls)
{
	return !strcmp(cls, "fresh") ? "#1b7f3b" : !strcmp(cls, "stale") ?
		"#b26a00" : "#c62828";
}

/* Bars of the age of each release's last drill against [drill] every. */
void rip_report_svg_readiness(struct rip_buf *b, const struct rip_report *r)
{
	double every = (double)r->every_ms / 1000, max = every > 0 ?
		every * 1.5 : 3600, rowh = 24;
	struct chart c = { .x0 = 0, .y0 = 0, .y1 = 1, .w = 960, .l = 170,
		.r = 150, .t = 22, .b = 8 };
	char age[32];

	for (size_t i = 0; i < r->n_ready; i++) {
		double a = (double)(r->now - r->ready[i].last.started);

		if (r->ready[i].last.seq && a > max)
			max = every > 0 && a > every * 4 ? every * 4 : a;
	}
	c.x1 = max;
	c.h = c.t + c.b + (int)(rowh * (double)r->n_ready);
	svg_open(b, &c, "readiness", "age of each release's last drill "
		"against [drill] every");
	if (every > 0) {
		rip_dora_format_duration(age, sizeof(age), every);
		rip_buf_addf(b, "<line class=\"every\" x1=\"%.1f\" y1=\"%d\" "
			"x2=\"%.1f\" y2=\"%d\"/><text x=\"%.1f\" y=\"14\" "
			"text-anchor=\"middle\">every %s</text>\n", px(&c, every),
			c.t - 4, px(&c, every), c.h - c.b, px(&c, every), age);
	}
	for (size_t i = 0; i < r->n_ready; i++) {
		const struct rip_readiness *x = &r->ready[i];
		const char *cls = ready_class(x);
		double y = c.t + rowh * (double)i, a = (double)(r->now -
			x->last.started), w = px(&c, a > max ? max : a < 0 ? 0 : a) -
			c.l;
		bool inside;

		rip_buf_addf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
			c.l - 8, y + 16);
		rip_html_escape(b, x->release);
		rip_buf_adds(b, "</text>");
		if (!x->last.seq) {
			rip_buf_addf(b, "<text x=\"%d\" y=\"%.1f\">never drilled"
				"</text>\n", c.l + 4, y + 16);
			continue;
		}
		rip_dora_format_duration(age, sizeof(age), a);
		inside = w > (c.w - c.l - c.r) * 0.6;
		rip_buf_addf(b, "<rect class=\"age %s\" x=\"%d\" y=\"%.1f\" "
			"width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/><text x=\"%.1f\" "
			"y=\"%.1f\"%s>%s ago, %s%s</text>\n", cls, c.l, y + 4,
			w < 1 ? 1 : w, rowh - 8, ready_colour(cls), inside ?
			c.l + w - 6 : c.l + w + 6, y + 16, inside ? " text-anchor="
			"\"end\" style=\"fill:#fff\"" : "", age, rip_report_passed(&x->last) ?
			"passed" : "failed", a > max ? " (off the scale)" : "");
	}
	rip_buf_adds(b, "</svg>\n");
}

static void event_title(struct rip_buf *t, const struct rip_dora_event *ev)
{
	char when[32];

	rip_buf_addf(t, "%s UTC: %s", rip_report_utc(when, ev->at, RIP_REPORT_MINUTES),
		ev->command ? ev->command : rip_dora_kind_name(ev->kind));
	rip_buf_addf(t, " (exit %d", ev->exit_code);
	if (rip_report_is_change(ev) && ev->rolled_back)
		rip_buf_adds(t, ", rolled back");
	rip_buf_addf(t, ") by %s@%s", ev->user ? ev->user : "?",
		ev->host ? ev->host : "?");
}

static void event_marker(struct rip_buf *b, const struct chart *c,
	const struct rip_dora_event *ev, double lane)
{
	static const char *const fill[] = { "#1b7f3b", "#c62828", "#b26a00" };
	const char *o = rip_report_outcome(ev);
	const char *colour = fill[!strcmp(o, "ok") ? 0 : !strcmp(o, "failed") ?
		1 : 2];
	struct rip_buf t = RIP_BUF_INIT;
	double x = px(c, (double)ev->at);

	event_title(&t, ev);
	rip_buf_addf(b, "<g class=\"event %s %s\">",
		rip_dora_kind_name(ev->kind), o);
	if (ev->kind == RIP_DORA_DEPLOY)
		rip_buf_addf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" "
			"fill=\"%s\" stroke=\"#fff\"/>", x, lane, colour);
	else if (ev->kind == RIP_DORA_ROLLOUT)
		rip_buf_addf(b, "<path d=\"M%.1f %.1fl7 7l-7 7l-7-7z\" fill=\"%s\" "
			"stroke=\"#fff\"/>", x, lane - 7, colour);
	else if (ev->kind == RIP_DORA_ROLLBACK)
		rip_buf_addf(b, "<path d=\"M%.1f %.1fh14l-7 12z\" fill=\"%s\" "
			"stroke=\"#fff\"/>", x - 7, lane - 6, ev->ok ? "#0072b2" :
			"#c62828");
	else
		rip_buf_addf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" "
			"height=\"8\" fill=\"%s\"/>", x - 4, lane - 4, ev->ok ?
			"#0072b2" : "#c62828");
	title(b, t.buf);
	rip_buf_adds(b, "</g>\n");
	rip_buf_release(&t);
}

void rip_report_svg_timeline(struct rip_buf *b, const struct rip_dora *d)
{
	struct chart c = { .x0 = (double)d->since, .x1 = (double)d->now,
		.y0 = 0, .y1 = 1, .w = 960, .h = 130, .l = 110, .r = 16, .t = 12,
		.b = 28 };
	double lane_change = 40, lane_back = 80;

	svg_open(b, &c, "timeline", "deploys, rollouts and rollbacks over "
		"time");
	time_axis(b, &c);
	rip_buf_addf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">deploys, "
		"rollouts</text><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
		"rollbacks, aborts</text>\n", c.l - 8, lane_change + 4, c.l - 8,
		lane_back + 4);
	for (size_t i = 0; i < d->n_events; i++) {
		const struct rip_dora_event *ev = &d->events[i];

		if (rip_report_is_change(ev) && ev->in_window && ev->restored_at)
			rip_buf_addf(b, "<line class=\"restore\" x1=\"%.1f\" "
				"y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
				px(&c, (double)ev->at), lane_change,
				px(&c, (double)ev->restored_at), lane_back);
	}
	for (size_t i = 0; i < d->n_events; i++)
		if (d->events[i].in_window)
			event_marker(b, &c, &d->events[i], rip_report_is_change(&d->events[i]) ||
				d->events[i].kind == RIP_DORA_PROMOTE ? lane_change :
				lane_back);
	rip_buf_adds(b, "</svg>\n<ul class=\"legend\"><li class=\"ok\">&#9679; "
		"deploy</li><li class=\"ok\">&#9670; rollout</li><li style=\""
		"color:#0072b2\">&#9660; rollback</li><li class=\"bad\">red: "
		"failed</li><li class=\"warn\">orange: rolled back; dashed: time "
		"to restore</li></ul>\n");
}
