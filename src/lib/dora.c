/* SPDX-License-Identifier: MIT */
/*
 * dora.c: the DORA figures (dora.h) from the records of state.db.
 *
 * rip_dora_compute is pure: it walks the audit entries once, oldest
 * first, turns each deploy, rollback and rollout command that ran into an
 * event, and keeps the change the next rollback, step or abort acts on
 * ("open"), so failures and restores are attributed as they happen. The
 * structured records win over the command line: the operation a command
 * began says which release it went to, and a rollback's completed
 * switches say which release it left. The command line is split only to
 * know what kind of command an entry is, and for the release where no
 * record has it. rip_dora_read loads those records (the operations and
 * the rollback switches from the journal, journal.h) and computes.
 *
 * Tuned for clarity over speed: a store holds thousands of entries, not
 * millions, so the matching is a plain scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "ripcord/config.h"
#include "ripcord/dora.h"
#include "json_internal.h"
#include "banned.h"

/* ---- the command line -------------------------------------------------- */

/*
 * Splits a command line as rip_command_line writes it (words separated by
 * spaces, '...' quoting, '\'' for a quote inside) back into its words;
 * double quotes and backslashes are read as a POSIX shell would.
 */
static void split_words(struct rip_strlist *out, const char *s)
{
	struct rip_buf w = RIP_BUF_INIT;
	bool in_word = false;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			if (in_word)
				rip_strlist_push(out, w.buf);
			rip_buf_reset(&w);
			in_word = false;
			continue;
		}
		in_word = true;
		if (*s == '\'') {
			while (s[1] && s[1] != '\'')
				rip_buf_addch(&w, *++s);
			if (s[1])
				s++;
		} else if (*s == '"') {
			while (s[1] && s[1] != '"') {
				if (s[1] == '\\' && s[2] && strchr("\"\\$`", s[2]))
					s++;
				rip_buf_addch(&w, *++s);
			}
			if (s[1])
				s++;
		} else if (*s == '\\' && s[1]) {
			rip_buf_addch(&w, *++s);
		} else {
			rip_buf_addch(&w, *s);
		}
	}
	if (in_word)
		rip_strlist_push(out, w.buf);
	rip_buf_release(&w);
}

/* Whether word is "--" and a prefix of name (as getopt_long takes an
 * unambiguous one), without or with "=value". */
static bool long_opt(const char *word, const char *name)
{
	size_t len;

	if (strncmp(word, "--", 2))
		return false;
	word += 2;
	len = strcspn(word, "=");
	return len >= 1 && len <= strlen(name) && !strncmp(word, name, len);
}

/*
 * The index of the command word after argv[0] and ripcord's global
 * options (main.c: -C DIR, -c FILE, -q, -v, -h, --json, --quiet,
 * --verbose, --version, --help; short ones may be joined), or n when
 * there is none.
 */
static size_t command_index(const struct rip_strlist *w)
{
	size_t i = 1;

	while (i < w->n && w->v[i][0] == '-' && w->v[i][1]) {
		const char *a = w->v[i];

		if (!strcmp(a, "--"))
			return i + 1;
		if (a[1] == '-') {
			i++;
			continue;
		}
		for (a++; *a; a++)
			if (*a == 'C' || *a == 'c') {
				if (!a[1])
					i++;   /* the value is the next word */
				break;
			}
		i++;
	}
	return i;
}

struct parsed {
	bool known;
	enum rip_dora_kind kind;
	const char *release;      /* borrowed from the words */
	bool dry_run;
};

/*
 * The positional words and the values of the options named in with_arg
 * (NULL-terminated) after the command word at index i; values of the
 * option named want go to *wanted.
 */
static void scan_args(const struct rip_strlist *w, size_t i,
	const char *const *with_arg, const char *want, const char **wanted,
	const char **pos, size_t npos, bool *dry_run)
{
	size_t got = 0;
	bool opts = true;

	for (; i < w->n; i++) {
		const char *a = w->v[i], *value = NULL;
		bool takes = false, is_want = false;

		if (!opts || a[0] != '-' || !a[1]) {
			if (got < npos)
				pos[got++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			opts = false;
			continue;
		}
		*dry_run |= long_opt(a, "dry-run");
		for (size_t k = 0; with_arg[k]; k++)
			if (long_opt(a, with_arg[k])) {
				takes = true;
				is_want = want && !strcmp(with_arg[k], want);
			}
		if (!takes)
			continue;
		if (strchr(a, '='))
			value = strchr(a, '=') + 1;
		else if (i + 1 < w->n)
			value = w->v[++i];
		if (is_want && value)
			*wanted = value;
	}
}

/* What kind of event the command line of an audit entry is, if any. */
static void parse_command(struct parsed *p, const struct rip_strlist *w)
{
	static const char *const deploy_args[] = { "target", NULL };
	static const char *const rollback_args[] = { "to", NULL };
	static const char *const rollout_args[] = { "steps", "bake", NULL };
	size_t i = command_index(w);
	const char *pos[2] = { NULL, NULL }, *to = NULL;
	const char *cmd = i < w->n ? w->v[i] : "";

	memset(p, 0, sizeof(*p));
	if (!strcmp(cmd, "deploy")) {
		scan_args(w, i + 1, deploy_args, NULL, NULL, pos, 1, &p->dry_run);
		p->known = true;
		p->kind = RIP_DORA_DEPLOY;
		p->release = pos[0];
	} else if (!strcmp(cmd, "rollback")) {
		scan_args(w, i + 1, rollback_args, "to", &to, pos, 0, &p->dry_run);
		p->known = true;
		p->kind = RIP_DORA_ROLLBACK;
		p->release = to;
	} else if (!strcmp(cmd, "rollout")) {
		scan_args(w, i + 1, rollout_args, NULL, NULL, pos, 2, &p->dry_run);
		p->known = pos[0] && strcmp(pos[0], "status");
		if (!p->known)
			return;
		if (!strcmp(pos[0], "start")) {
			p->kind = RIP_DORA_ROLLOUT;
			p->release = pos[1];
		} else if (!strcmp(pos[0], "promote") ||
				!strcmp(pos[0], "resume")) {
			p->kind = RIP_DORA_PROMOTE;
		} else if (!strcmp(pos[0], "abort")) {
			p->kind = RIP_DORA_ABORT;
		} else {
			p->known = false;
		}
	}
}

/* ---- the records ------------------------------------------------------- */

/* The span [*lo, *hi] in which an entry's command ran, a second wider on
 * the early side: time(NULL) truncates. */
static void entry_span(int64_t *lo, int64_t *hi,
	const struct rip_audit_entry *e)
{
	double s = e->seconds > 0 && e->seconds < 1e9 ? e->seconds : 0;
	int64_t whole = (int64_t)s;

	if ((double)whole < s)
		whole++;
	*hi = e->at;
	*lo = e->at - whole - 1;
}

static const char *op_name(enum rip_dora_kind kind)
{
	return kind == RIP_DORA_DEPLOY ? "deploy" : kind == RIP_DORA_ROLLBACK ?
		"rollback" : kind == RIP_DORA_ROLLOUT ? "rollout" : NULL;
}

/*
 * The first unclaimed operation of the entry's kind begun while its
 * command ran (of release, when given); claims it. NULL: none.
 */
static const struct rip_op *match_op(const struct rip_dora_input *in,
	bool *claimed, const struct rip_audit_entry *e, enum rip_dora_kind kind,
	const char *release)
{
	const char *name = op_name(kind);
	int64_t lo, hi;

	if (!name)
		return NULL;
	entry_span(&lo, &hi, e);
	for (size_t i = 0; i < in->n_ops; i++) {
		const struct rip_op *o = &in->ops[i];

		if (claimed[i] || !o->op || strcmp(o->op, name) ||
		    o->started < lo || o->started > hi)
			continue;
		if (release && (!o->release || strcmp(o->release, release)))
			continue;
		claimed[i] = true;
		return o;
	}
	return NULL;
}

/*
 * The releases the completed rollback switches within [lo, hi] left
 * (distinct, in order), into left; the release they went to into *to
 * when they all went to one.
 */
static void rollback_switches(struct rip_strlist *left, const char **to,
	const struct rip_dora_input *in, int64_t lo, int64_t hi)
{
	bool one = true;

	*to = NULL;
	for (size_t i = 0; i < in->n_switches; i++) {
		const struct rip_switch *w = &in->switches[i];

		if (!w->op || strcmp(w->op, "rollback") || !w->result ||
		    strcmp(w->result, "ok") || w->started < lo || w->started > hi)
			continue;
		if (w->previous && !rip_strlist_has(left, w->previous))
			rip_strlist_push(left, w->previous);
		if (*to && w->release && strcmp(*to, w->release))
			one = false;
		else if (!*to)
			*to = w->release;
	}
	if (!one)
		*to = NULL;
}

/* ---- the walk ---------------------------------------------------------- */

struct walk {
	const struct rip_dora_input *in;
	struct rip_dora *d;
	bool *claimed;            /* per operation */
	size_t alloc;
	size_t open;              /* index + 1 of the change acted on; 0 */
};

static char *dup_or_null(const char *s)
{
	return s ? rip_xstrdup(s) : NULL;
}

static struct rip_dora_event *push_event(struct walk *wk,
	const struct rip_audit_entry *e, enum rip_dora_kind kind)
{
	struct rip_dora *d = wk->d;
	struct rip_dora_event *ev;

	RIP_ALLOC_GROW(d->events, d->n_events + 1, wk->alloc);
	ev = &d->events[d->n_events++];
	memset(ev, 0, sizeof(*ev));
	ev->seq = e->seq;
	ev->at = e->at;
	ev->seconds = e->seconds;
	ev->kind = kind;
	ev->user = dup_or_null(e->user);
	ev->host = dup_or_null(e->host);
	ev->command = dup_or_null(e->command);
	ev->result = dup_or_null(e->result);
	ev->exit_code = e->exit_code;
	ev->ok = e->exit_code == 0;
	ev->in_window = e->at > d->since && e->at <= d->now;
	return ev;
}

/* Whether a rollback that left left (or, when it switched nothing, went
 * to to) went away from release. */
static bool away_from(const struct rip_strlist *left, const char *to,
	const char *release)
{
	if (!release)
		return true;
	if (left->n)
		return rip_strlist_has(left, release);
	return !to || strcmp(to, release);
}

static void rollback_event(struct walk *wk, const struct rip_audit_entry *e,
	const struct parsed *p, const struct rip_op *op)
{
	struct rip_strlist left = { 0 };
	struct rip_buf joined = RIP_BUF_INIT;
	struct rip_dora_event *ev, *c;
	const char *to = NULL;
	int64_t lo, hi;

	entry_span(&lo, &hi, e);
	if (op && op->started > lo)
		lo = op->started;
	rollback_switches(&left, &to, wk->in, lo, hi);
	ev = push_event(wk, e, RIP_DORA_ROLLBACK);
	ev->release = dup_or_null(op && op->release ? op->release :
		p->release ? p->release : to);
	for (size_t i = 0; i < left.n; i++)
		rip_buf_addf(&joined, "%s%s", i ? ", " : "", left.v[i]);
	ev->left = left.n ? rip_buf_detach(&joined, NULL) : NULL;
	ev->change = wk->open;
	if (wk->open) {
		c = &wk->d->events[wk->open - 1];
		if (!c->failed && away_from(&left, ev->release, c->release))
			c->failed = c->rolled_back = true;
		if (c->failed && ev->ok && !c->restored_at)
			c->restored_at = ev->at;
	}
	rip_buf_release(&joined);
	rip_strlist_release(&left);
}

/* A rollout's promote, resume or abort. */
static void step_event(struct walk *wk, const struct rip_audit_entry *e,
	enum rip_dora_kind kind)
{
	struct rip_dora_event *ev = push_event(wk, e, kind), *c;

	if (!wk->open || wk->d->events[wk->open - 1].kind != RIP_DORA_ROLLOUT)
		return;
	ev->change = wk->open;
	c = &wk->d->events[wk->open - 1];
	ev->release = dup_or_null(c->release);
	if (kind == RIP_DORA_ABORT || !ev->ok) {
		/* aborted, or a step failed: it never went all the way live */
		c->failed = true;
		c->live_at = 0;
		if (kind == RIP_DORA_ABORT && ev->ok && !c->restored_at)
			c->restored_at = ev->at;
	} else if (!c->failed) {
		c->live_at = ev->at;
	}
}

static void change_event(struct walk *wk, const struct rip_audit_entry *e,
	const struct parsed *p, const struct rip_op *op)
{
	struct rip_dora_event *ev = push_event(wk, e, p->kind);

	ev->release = dup_or_null(op && op->release ? op->release :
		p->release);
	ev->failed = !ev->ok;
	ev->live_at = ev->ok ? ev->at : 0;
	wk->open = wk->d->n_events;
}

static void walk_entry(struct walk *wk, const struct rip_audit_entry *e)
{
	struct rip_strlist words = { 0 };
	const struct rip_op *op;
	struct parsed p;
	bool ran;

	split_words(&words, e->command ? e->command : "");
	parse_command(&p, &words);
	if (!p.known || p.dry_run)
		goto done;
	op = match_op(wk->in, wk->claimed, e, p.kind,
		p.kind == RIP_DORA_DEPLOY ? p.release : NULL);
	/* deploy and rollback record the operation they begin, so an exit 1
	 * without one was refused while planning; rollouts record none yet */
	if (p.kind == RIP_DORA_DEPLOY || p.kind == RIP_DORA_ROLLBACK)
		ran = op || e->exit_code == 0;
	else
		ran = e->exit_code == 0 || e->exit_code == 1 || e->exit_code == 5;
	if (!ran)
		goto done;
	switch (p.kind) {
	case RIP_DORA_DEPLOY:
	case RIP_DORA_ROLLOUT:
		change_event(wk, e, &p, op);
		break;
	case RIP_DORA_PROMOTE:
	case RIP_DORA_ABORT:
		step_event(wk, e, p.kind);
		break;
	case RIP_DORA_ROLLBACK:
		rollback_event(wk, e, &p, op);
		break;
	}
done:
	rip_strlist_release(&words);
}

/* ---- the figures ------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void median(struct rip_dora_figure *f, double *v, size_t n)
{
	f->samples = n;
	f->known = n > 0;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	f->value = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool is_change(const struct rip_dora_event *ev)
{
	return ev->kind == RIP_DORA_DEPLOY || ev->kind == RIP_DORA_ROLLOUT;
}

/* When release first went live (0: never), over every event. */
static int64_t first_live(const struct rip_dora *d, const char *release)
{
	int64_t first = 0;

	for (size_t i = 0; i < d->n_events; i++) {
		const struct rip_dora_event *ev = &d->events[i];

		if (is_change(ev) && ev->live_at && ev->release &&
		    !strcmp(ev->release, release) &&
		    (!first || ev->live_at < first))
			first = ev->live_at;
	}
	return first;
}

static void lead_time(struct rip_dora *d, const struct rip_dora_input *in)
{
	double *v = rip_xcalloc(in->n_releases + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < in->n_releases; i++) {
		const struct rip_release_rec *r = &in->releases[i];
		int64_t live = r->id ? first_live(d, r->id) : 0;

		if (live > d->since && live <= d->now)
			v[n++] = live > r->created ? (double)(live - r->created) : 0;
	}
	median(&d->lead_time, v, n);
	free(v);
}

static void figures(struct rip_dora *d, const struct rip_dora_input *in)
{
	double *restore = rip_xcalloc(d->n_events + 1, sizeof(*restore));
	size_t nr = 0;

	for (size_t i = 0; i < d->n_events; i++) {
		const struct rip_dora_event *ev = &d->events[i];

		if (ev->kind == RIP_DORA_ROLLBACK && ev->in_window)
			d->rollbacks++;
		if (!is_change(ev) || !ev->in_window)
			continue;
		d->changes++;
		d->successful += ev->live_at != 0;
		if (!ev->failed)
			continue;
		d->failures++;
		if (ev->restored_at) {
			d->restored++;
			restore[nr++] = ev->restored_at > ev->at ?
				(double)(ev->restored_at - ev->at) : 0;
		}
	}
	d->deployment_frequency.known = true;
	d->deployment_frequency.value = (double)d->successful / d->days;
	d->deployment_frequency.samples = d->successful;
	d->change_failure_rate.known = d->changes > 0;
	d->change_failure_rate.samples = d->changes;
	if (d->changes)
		d->change_failure_rate.value = (double)d->failures / d->changes;
	median(&d->time_to_restore, restore, nr);
	free(restore);
	lead_time(d, in);
}

int rip_dora_compute(struct rip_dora *out, const struct rip_dora_input *in,
	int64_t now, unsigned days, struct rip_err *err)
{
	struct walk wk = { .in = in, .d = out };

	memset(out, 0, sizeof(*out));
	if (days < 1 || days > RIP_DORA_MAX_DAYS)
		return rip_err_set(err, RIP_EUSAGE, "a window of %u days is out of "
			"range (1 to %d)", days, RIP_DORA_MAX_DAYS);
	out->now = now;
	out->days = days;
	out->since = now - (int64_t)days * RIP_DORA_DAY;
	wk.claimed = rip_xcalloc(in->n_ops + 1, sizeof(*wk.claimed));
	for (size_t i = 0; i < in->n_audit; i++)
		if (in->audit[i].at <= now)
			walk_entry(&wk, &in->audit[i]);
	free(wk.claimed);
	figures(out, in);
	return 0;
}

/* ---- reading state.db -------------------------------------------------- */

struct records {
	struct rip_audit audit;
	struct rip_release_rec *releases;
	size_t n_releases;
	struct rip_ops ops;
	struct rip_switches switches;
};

static void records_release(struct records *r)
{
	rip_audit_release(&r->audit);
	rip_release_recs_free(r->releases, r->n_releases);
	rip_ops_release(&r->ops);
	rip_switches_release(&r->switches);
}

int rip_dora_read(struct rip_dora *out, struct rip_state *st, int64_t now,
	unsigned days, struct rip_err *err)
{
	struct records r = { 0 };
	struct rip_dora_input in = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if (st && ((rc = rip_audit_list(&r.audit, st, 0, err)) < 0 ||
	    (rc = rip_state_release_list(&r.releases, &r.n_releases, st,
		    err)) < 0 ||
	    (rc = rip_op_list(&r.ops, st, err)) < 0 ||
	    (rc = rip_journal_rollbacks(&r.switches, st, err)) < 0))
		goto done;
	in.audit = r.audit.v;
	in.n_audit = r.audit.n;
	in.releases = r.releases;
	in.n_releases = r.n_releases;
	in.ops = r.ops.v;
	in.n_ops = r.ops.n;
	in.switches = r.switches.v;
	in.n_switches = r.switches.n;
	rc = rip_dora_compute(out, &in, now, days, err);
done:
	records_release(&r);
	return rc;
}

void rip_dora_release(struct rip_dora *d)
{
	for (size_t i = 0; i < d->n_events; i++) {
		struct rip_dora_event *ev = &d->events[i];

		free(ev->release);
		free(ev->left);
		free(ev->user);
		free(ev->host);
		free(ev->command);
		free(ev->result);
	}
	free(d->events);
	memset(d, 0, sizeof(*d));
}

const char *rip_dora_kind_name(enum rip_dora_kind kind)
{
	switch (kind) {
	case RIP_DORA_DEPLOY: return "deploy";
	case RIP_DORA_ROLLOUT: return "rollout";
	case RIP_DORA_PROMOTE: return "promote";
	case RIP_DORA_ABORT: return "abort";
	case RIP_DORA_ROLLBACK: return "rollback";
	}
	return "?";
}

static json_t *figure_json(const struct rip_dora_figure *f)
{
	return f->known ? json_real(f->value) : json_null();
}

json_t *rip_dora_json(const struct rip_dora *d)
{
	return json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:I, "
		"s:I, s:I, s:I}", "window_days", (json_int_t)d->days, "since",
		(json_int_t)d->since, "now", (json_int_t)d->now,
		"deployment_frequency_per_day",
		figure_json(&d->deployment_frequency), "lead_time_seconds",
		figure_json(&d->lead_time), "change_failure_rate",
		figure_json(&d->change_failure_rate), "time_to_restore_seconds",
		figure_json(&d->time_to_restore), "deploys",
		(json_int_t)d->changes, "successful_deploys",
		(json_int_t)d->successful, "change_failures",
		(json_int_t)d->failures, "restored", (json_int_t)d->restored,
		"rollbacks", (json_int_t)d->rollbacks, "lead_time_releases",
		(json_int_t)d->lead_time.samples);
}

void rip_dora_format_duration(char *out, size_t len, double s)
{
	if (!(s >= 0))
		snprintf(out, len, "n/a");
	else if (s < 60)
		snprintf(out, len, "%.0f s", s);
	else if (s < 3600)
		snprintf(out, len, "%.0f min", s / 60);
	else if (s < 2 * RIP_DORA_DAY)
		snprintf(out, len, "%.1f h", s / 3600);
	else
		snprintf(out, len, "%.1f days", s / RIP_DORA_DAY);
}
