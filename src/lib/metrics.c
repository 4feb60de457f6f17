/* SPDX-License-Identifier: MIT */
/*
 * metrics.c: the metrics file (metrics.h): the locked read-modify-write
 * of "<file>", updates and removals of series, and the drill families.
 *
 * Invariants. The file on disk is only ever replaced whole, through
 * rip_write_file_atomic, under flock(2) on "<file>.lock": a reader sees an
 * old or a new file, and two writers see each other's series. The lock is
 * waited for (an update holds it for milliseconds), but not forever.
 *
 * A file with lines that do not parse is rewritten with what did parse,
 * with a warning and a copy kept as "<file>.corrupt" (metrics.h says why
 * we rewrite rather than refuse). A file left as it is (an update with no
 * samples, a removal matching nothing) is not even warned about.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ripcord/fsutil.h"
#include "ripcord/log.h"
#include "metrics_internal.h"
#include "banned.h"

#define MAX_FILE ((size_t)16 << 20)
#define LOCK_WAIT_MS 5000

/* --- the locked read-modify-write --------------------------------------- */

static int lock_take(int *out, const char *path, struct rip_err *err)
{
	char *lpath = rip_xasprintf("%s.lock", path);
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	int fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644), rc = 0;
	long waited = 0;

	if (fd < 0 && errno == EACCES)    /* someone else's: flock needs no
					     write access */
		fd = open(lpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = rip_err_errno(err, RIP_EIO, "cannot open lock '%s'",
			lpath);
		goto done;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = rip_err_errno(err, RIP_EIO, "cannot lock '%s'",
				lpath);
			break;
		}
		if (waited >= LOCK_WAIT_MS) {
			rc = rip_err_set(err, RIP_EBUSY, "'%s' is held by "
				"another process for over %d s; try again",
				lpath, LOCK_WAIT_MS / 1000);
			break;
		}
		nanosleep(&pause, NULL);
		waited += 5;
	}
	if (rc < 0)
		close(fd);
	else
		*out = fd;
done:
	free(lpath);
	return rc;
}

/* Reads and parses path into s; a missing file is an empty set. */
static int load(struct rip_mset *s, struct rip_buf *text, mode_t *mode,
	const char *path, struct rip_err *err)
{
	struct stat st;
	int rc;

	*mode = 0644;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return rip_err_errno(err, RIP_EIO, "cannot stat '%s'", path);
	}
	if (!S_ISREG(st.st_mode))
		return rip_err_set(err, RIP_EIO, "'%s' is not a regular file",
			path);
	*mode = st.st_mode & 0777;
	if ((rc = rip_read_file(text, path, MAX_FILE, err)) < 0)
		return rc;
	rip_mset_parse(s, text->buf, text->len);
	return 0;
}

/* Keeps a copy of a file that did not parse, and says so. */
static int keep_corrupt(const struct rip_mset *s, const struct rip_buf *text,
	const char *path, mode_t mode, struct rip_err *err)
{
	char *copy = rip_xasprintf("%s.corrupt", path);
	int rc = rip_write_file_atomic(copy, text->buf, text->len, mode, err);

	if (!rc)
		rip_warn("%s:%zu: %s; rewriting the metrics file without its "
			"%zu bad line%s; the original is kept as '%s'", path,
			s->first_bad, s->why, s->bad_lines,
			s->bad_lines == 1 ? "" : "s", copy);
	free(copy);
	return rc;
}

/* An edit of the set; sets *changed when the file must be written. */
typedef void edit_fn(struct rip_mset *s, const void *ctx, bool *changed);

static int edit_file(const char *path, edit_fn *edit, const void *ctx,
	struct rip_err *err)
{
	struct rip_mset s = { 0 };
	struct rip_buf text = RIP_BUF_INIT, out = RIP_BUF_INIT;
	char *real = realpath(path, NULL);
	const char *target = real ? real : path;
	bool changed = false;
	mode_t mode;
	int fd = -1, rc;

	if ((rc = lock_take(&fd, target, err)) < 0)
		goto done;
	if ((rc = load(&s, &text, &mode, target, err)) < 0)
		goto done;
	edit(&s, ctx, &changed);
	if (!changed)
		goto done;
	if (s.bad_lines &&
		(rc = keep_corrupt(&s, &text, target, mode, err)) < 0)
		goto done;
	rip_mset_render(&out, &s);
	rc = rip_write_file_atomic(target, out.buf, out.len, mode, err);
done:
	if (fd >= 0)
		close(fd);      /* drops the flock */
	rip_mset_release(&s);
	rip_buf_release(&text);
	rip_buf_release(&out);
	free(real);
	return rc;
}

/* --- update and remove --------------------------------------------------- */

static size_t sample_labels(const struct rip_metric_sample *v)
{
	size_t n = 0;

	while (n < RIP_METRIC_MAX_LABELS && v->labels[n].name)
		n++;
	return n;
}

static const char *sample_type(const struct rip_metric_sample *v)
{
	return v->type ? v->type : "gauge";
}

static int check_sample(const struct rip_metric_sample *v,
	struct rip_err *err)
{
	const char *t = sample_type(v);
	size_t n = sample_labels(v);

	if (!v->name || !rip_metrics_name_ok(v->name, true))
		return rip_err_set(err, RIP_EUSAGE, "invalid metric name '%s'",
			v->name ? v->name : "(null)");
	if (strcmp(t, "gauge") && strcmp(t, "counter") && strcmp(t, "untyped"))
		return rip_err_set(err, RIP_EUSAGE, "metric '%s': type '%s' is "
			"not gauge, counter or untyped", v->name, t);
	if (v->help && !rip_metrics_utf8_ok(v->help, strlen(v->help)))
		return rip_err_set(err, RIP_EUSAGE, "metric '%s': help is not "
			"UTF-8", v->name);
	for (size_t i = 0; i < n; i++) {
		const struct rip_metric_label *l = &v->labels[i];

		if (!rip_metrics_name_ok(l->name, false) ||
			!strncmp(l->name, "__", 2))
			return rip_err_set(err, RIP_EUSAGE, "metric '%s': "
				"invalid label name '%s'", v->name, l->name);
		if (!l->value ||
			!rip_metrics_utf8_ok(l->value, strlen(l->value)))
			return rip_err_set(err, RIP_EUSAGE, "metric '%s': "
				"label '%s' has no UTF-8 value", v->name,
				l->name);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(v->labels[j].name, l->name))
				return rip_err_set(err, RIP_EUSAGE,
					"metric '%s': label '%s' twice",
					v->name, l->name);
	}
	return 0;
}

static void series_from_sample(struct rip_mseries *r,
	const struct rip_metric_sample *v)
{
	memset(r, 0, sizeof(*r));
	r->name = rip_xstrdup(v->name);
	r->n_labels = sample_labels(v);
	r->labels = rip_xcalloc(r->n_labels ? r->n_labels : 1,
		sizeof(*r->labels));
	for (size_t i = 0; i < r->n_labels; i++) {
		r->labels[i].name = rip_xstrdup(v->labels[i].name);
		r->labels[i].value = rip_xstrdup(v->labels[i].value);
	}
	rip_mlabels_sort(r->labels, r->n_labels);
	r->value = v->value;
}

/* Samples that disagree with each other: one family, two types or helps;
 * one series twice. */
static int check_batch(const struct rip_metric_sample *v, size_t n,
	struct rip_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++)
		rc = check_sample(&v[i], err);
	for (size_t i = 0; i < n && !rc; i++) {
		for (size_t j = 0; j < i && !rc; j++) {
			struct rip_mseries a, b;

			if (strcmp(v[i].name, v[j].name))
				continue;
			if (strcmp(sample_type(&v[i]), sample_type(&v[j])) ||
				(v[i].help && v[j].help &&
					strcmp(v[i].help, v[j].help)))
				rc = rip_err_set(err, RIP_EUSAGE, "metric '%s' "
					"given with two types or helps",
					v[i].name);
			series_from_sample(&a, &v[i]);
			series_from_sample(&b, &v[j]);
			if (!rc && rip_mseries_same(&a, &b))
				rc = rip_err_set(err, RIP_EUSAGE,
					"metric '%s': the same series given "
					"twice", v[i].name);
			rip_mseries_release(&a);
			rip_mseries_release(&b);
		}
	}
	return rc;
}

/* Drops every series of family fam (its type changed under it). */
static void drop_family(struct rip_mset *s, size_t fam)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->n_ser; i++) {
		if (s->ser[i].fam == fam)
			rip_mseries_release(&s->ser[i]);
		else
			s->ser[kept++] = s->ser[i];
	}
	s->n_ser = kept;
}

static void set_family(struct rip_mset *s, struct rip_mfamily *f,
	const struct rip_metric_sample *v)
{
	const char *t = sample_type(v);

	if (f->type && strcmp(f->type, t) && (!strcmp(f->type, "histogram") ||
		!strcmp(f->type, "summary")))
		drop_family(s, (size_t)(f - s->fam));
	free(f->type);
	f->type = rip_xstrdup(t);
	if (v->help) {
		free(f->help);
		f->help = rip_xstrdup(v->help);
	}
}

struct update_ctx {
	const struct rip_metric_sample *v;
	size_t n;
};

static void apply_update(struct rip_mset *s, const void *ctx, bool *changed)
{
	const struct update_ctx *u = ctx;

	for (size_t k = 0; k < u->n; k++) {
		struct rip_mfamily *f = rip_mset_family(s, u->v[k].name,
			strlen(u->v[k].name));
		struct rip_mseries r;
		size_t i;

		set_family(s, f, &u->v[k]);
		series_from_sample(&r, &u->v[k]);
		r.fam = (size_t)(f - s->fam);
		for (i = 0; i < s->n_ser; i++)
			if (rip_mseries_same(&s->ser[i], &r))
				break;
		if (i < s->n_ser) {
			rip_mseries_release(&s->ser[i]);
		} else {
			RIP_ALLOC_GROW(s->ser, s->n_ser + 1, s->a_ser);
			s->n_ser++;
		}
		s->ser[i] = r;
	}
	*changed = true;
}

int rip_metrics_update(const char *path, const struct rip_metric_sample *v,
	size_t n, struct rip_err *err)
{
	struct update_ctx u = { v, n };
	int rc;

	if ((rc = check_batch(v, n, err)) < 0 || !n)
		return rc;
	if ((rc = edit_file(path, apply_update, &u, err)) < 0)
		rip_err_prefix(err, "cannot update metrics file '%s'", path);
	return rc;
}

struct remove_ctx {
	const struct rip_metric_label *match;
	size_t n;
	size_t removed;
};

static bool has_label(const struct rip_mseries *r,
	const struct rip_metric_label *l)
{
	for (size_t i = 0; i < r->n_labels; i++)
		if (!strcmp(r->labels[i].name, l->name))
			return !strcmp(r->labels[i].value, l->value);
	return false;
}

static void apply_remove(struct rip_mset *s, const void *ctx, bool *changed)
{
	struct remove_ctx *m = (struct remove_ctx *)ctx;
	size_t kept = 0;

	for (size_t i = 0; i < s->n_ser; i++) {
		size_t j = 0;

		while (j < m->n && has_label(&s->ser[i], &m->match[j]))
			j++;
		if (j == m->n) {
			rip_mseries_release(&s->ser[i]);
			m->removed++;
		} else {
			s->ser[kept++] = s->ser[i];
		}
	}
	s->n_ser = kept;
	*changed = m->removed > 0;
}

int rip_metrics_remove(size_t *removed, const char *path,
	const struct rip_metric_label *match, size_t n, struct rip_err *err)
{
	struct remove_ctx m = { match, n, 0 };
	int rc;

	if (removed)
		*removed = 0;
	if (!n)
		return rip_err_set(err, RIP_EUSAGE, "removing series from '%s' "
			"needs at least one label to match", path);
	for (size_t i = 0; i < n; i++)
		if (!match[i].name || !match[i].value)
			return rip_err_set(err, RIP_EUSAGE, "removing series "
				"from '%s': a label without name or value",
				path);
	if ((rc = edit_file(path, apply_remove, &m, err)) < 0) {
		rip_err_prefix(err, "cannot update metrics file '%s'", path);
		return rc;
	}
	if (removed)
		*removed = m.removed;
	return 0;
}

/* --- the drill families --------------------------------------------------- */

bool rip_metrics_rollback_ready(bool verified, int64_t last_success,
	int64_t now, uint64_t every_ms)
{
	if (!verified || last_success <= 0)
		return false;
	if (now <= last_success)
		return true;
	return (uint64_t)(now - last_success) <= every_ms / 1000;
}

int rip_metrics_update_drill(const char *path,
	const struct rip_drill_metrics *m, size_t n, struct rip_err *err)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{ RIP_METRIC_DRILL_SUCCESS, "1 when the last drill of the "
			"release passed, 0 when it failed." },
		{ RIP_METRIC_DRILL_DURATION, "How long the last drill of the "
			"release took." },
		{ RIP_METRIC_DRILL_LAST_SUCCESS, "When the last passing drill "
			"of the release started, in unix seconds; 0: never." },
		{ RIP_METRIC_ROLLBACK_READY, "1 when the release's artifact "
			"verifies and its last drill passed within [drill] "
			"every." },
	};
	struct rip_metric_sample *v;
	int rc;

	if (n > SIZE_MAX / RIP_ARRAY_SIZE(fam) / sizeof(*v))
		return rip_err_set(err, RIP_EUSAGE, "too many releases");
	v = rip_xcalloc(n * RIP_ARRAY_SIZE(fam) + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const double val[] = { m[i].success, m[i].seconds,
			(double)m[i].last_success, m[i].rollback_ready };

		for (size_t k = 0; k < RIP_ARRAY_SIZE(fam); k++) {
			struct rip_metric_sample *s =
				&v[i * RIP_ARRAY_SIZE(fam) + k];

			s->name = fam[k].name;
			s->help = fam[k].help;
			s->type = "gauge";
			s->labels[0] = (struct rip_metric_label){ "project",
				m[i].project };
			s->labels[1] = (struct rip_metric_label){ "release",
				m[i].release };
			s->value = val[k];
		}
	}
	rc = rip_metrics_update(path, v, n * RIP_ARRAY_SIZE(fam), err);
	free(v);
	return rc;
}

int rip_metrics_update_schema(const char *path, const char *project,
	const struct rip_schema_metrics *m, size_t n, struct rip_err *err)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{ RIP_METRIC_ROLLBACK_LOSSLESS, "1 when a rollback of the target "
			"to its previous release would lose no data (it undoes no "
			"applied contract migration, or [rollback] schema = keep "
			"runs no down), else 0." },
		{ RIP_METRIC_ROLLBACK_COMPATIBLE, "0 when a rollback of the "
			"target with [rollback] schema = keep would leave applied "
			"a contract migration its previous release does not carry "
			"(that code runs without what it dropped), else 1." },
		{ RIP_METRIC_CONTRACT_PENDING, "Contract migrations of the "
			"release the target runs that are not applied." },
		{ RIP_METRIC_SCHEMA_AHEAD, "Applied migrations the release the "
			"target runs does not carry." },
		{ RIP_METRIC_CONTRACT_APPLIED, "When the newest applied contract "
			"migration of the release the target runs was applied, in "
			"unix seconds; 0: none." },
	};
	struct rip_metric_sample *v;
	size_t k = 0;
	int rc = 0;

	if (n > SIZE_MAX / RIP_ARRAY_SIZE(fam) / sizeof(*v))
		return rip_err_set(err, RIP_EUSAGE, "too many targets");
	v = rip_xcalloc(n * RIP_ARRAY_SIZE(fam) + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct rip_schema_phase *p = m[i].phase;
		const double val[] = { p->lossless, p->compatible,
			(double)p->contract_pending,
			(double)p->nahead, (double)p->contract_since };

		if (!p->known)
			continue;
		for (size_t f = 0; f < RIP_ARRAY_SIZE(fam); f++) {
			struct rip_metric_sample *s = &v[k++];

			s->name = fam[f].name;
			s->help = fam[f].help;
			s->type = "gauge";
			s->labels[0] = (struct rip_metric_label){ "project", project };
			s->labels[1] = (struct rip_metric_label){ "target",
				m[i].target };
			s->value = val[f];
		}
	}
	if (k)
		rc = rip_metrics_update(path, v, k, err);
	free(v);
	return rc;
}
