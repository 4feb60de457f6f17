/* SPDX-License-Identifier: MIT */
/*
 * metrics.h: the Prometheus textfile (DESIGN.md §6): the file that
 * node_exporter's textfile collector reads, which several ripcord runs,
 * releases and projects share.
 *
 * An update reads the file, replaces the series it is given, keeps every
 * other one (other releases, projects, families), and writes the whole file
 * again atomically: a scrape sees the old file or the new one, never a mix.
 * Updates of one file are serialized by flock(2) on "<file>.lock" beside
 * it, so two processes never lose each other's series. The store lock
 * could not do it: a drill takes none, and projects with stores of their
 * own may share one file (hence the project label). The lock file stays
 * (removing it would let a third process lock a different inode);
 * node_exporter reads only *.prom files, so neither it nor
 * "<file>.corrupt" is scraped.
 *
 * Output is stable: families sorted by name, each with one # HELP (when
 * known) and one # TYPE, its series sorted by name and then by labels
 * (bytewise; le and quantile numerically, so le="10" follows le="9").
 */
#ifndef RIPCORD_METRICS_H
#define RIPCORD_METRICS_H

#include "ripcord/err.h"
#include "ripcord/schema_phase.h"

/* The families ripcord writes; one place for their names. */
#define RIP_METRIC_DRILL_SUCCESS "ripcord_drill_success"
#define RIP_METRIC_DRILL_DURATION "ripcord_drill_duration_seconds"
#define RIP_METRIC_DRILL_LAST_SUCCESS \
	"ripcord_drill_last_success_timestamp_seconds"
#define RIP_METRIC_ROLLBACK_READY "ripcord_rollback_ready"
#define RIP_METRIC_ROLLBACK_LOSSLESS "ripcord_rollback_lossless"
#define RIP_METRIC_ROLLBACK_COMPATIBLE "ripcord_rollback_compatible"
#define RIP_METRIC_CONTRACT_PENDING "ripcord_schema_contract_pending"
#define RIP_METRIC_SCHEMA_AHEAD "ripcord_schema_ahead"
#define RIP_METRIC_CONTRACT_APPLIED \
	"ripcord_schema_contract_applied_timestamp_seconds"
#define RIP_METRIC_ROLLOUT_STEP "ripcord_rollout_step"
#define RIP_METRIC_ROLLOUT_ERROR_RATE "ripcord_rollout_canary_error_rate"
#define RIP_METRIC_ROLLOUT_P99 "ripcord_rollout_canary_p99_seconds"

#define RIP_METRIC_MAX_LABELS 8

struct rip_metric_label {
	const char *name;   /* [a-zA-Z_][a-zA-Z0-9_]*, not "__" first */
	const char *value;  /* any UTF-8; escaped on output */
};

/*
 * One series to write. Its family is name: ripcord writes single-sample
 * families (gauge, counter, untyped); histograms and summaries already in
 * the file are kept as they are. Every field is borrowed for the call.
 */
struct rip_metric_sample {
	const char *name;   /* [a-zA-Z_:][a-zA-Z0-9_:]* */
	const char *help;   /* UTF-8 (newlines escaped); NULL keeps the file's */
	const char *type;   /* "gauge" (also when NULL), "counter", "untyped" */
	/* labels end at the first NULL name; their order does not matter */
	struct rip_metric_label labels[RIP_METRIC_MAX_LABELS];
	double value;       /* NaN and the infinities are written as Prometheus
			       spells them */
};

/*
 * Writes the n samples v into the metrics file at path (created 0644 when
 * missing; an existing file keeps its mode; a symlink is followed): a
 * series with the same name and labels is replaced, all others are kept.
 * A histogram or summary family given another type loses its series.
 * An existing file that is not what node_exporter reads (text format
 * 0.0.4, no timestamps) is reported with rip_warn naming file:line,
 * copied whole to "<path>.corrupt", and rewritten with every line that
 * did parse: the file is ripcord's own and derived from state.db,
 * node_exporter already skips it whole, and nothing is lost.
 * Invalid samples (bad names, duplicate labels, invalid UTF-8, the same
 * series twice) are RIP_EUSAGE before anything is touched; the lock held
 * longer than 5 s is RIP_EBUSY; a file over 16 MiB is RIP_EINTEGRITY.
 */
RIP_MUST_CHECK int rip_metrics_update(const char *path,
	const struct rip_metric_sample *v, size_t n, struct rip_err *err);

/*
 * Removes from the metrics file at path every series, of any family, whose
 * labels include all n pairs of match (e.g. project and release, for gc:
 * a release id alone may be another project's too), and the HELP and TYPE
 * of families left empty. *removed (may be NULL) counts them. A missing
 * file, or nothing to remove, leaves the file untouched. n == 0 is
 * RIP_EUSAGE: it would match everything.
 */
RIP_MUST_CHECK int rip_metrics_remove(size_t *removed, const char *path,
	const struct rip_metric_label *match, size_t n, struct rip_err *err);

/*
 * Checks that text (len bytes, named name in messages) is valid Prometheus
 * text exposition format as node_exporter reads it; otherwise
 * RIP_EINTEGRITY with "name:line: what is wrong" for the first bad line.
 */
RIP_MUST_CHECK int rip_metrics_check(const char *text, size_t len,
	const char *name, struct rip_err *err);

/* What one drill leaves in the metrics file, for one release. */
struct rip_drill_metrics {
	const char *project;
	const char *release;
	bool success;           /* the drill passed */
	double seconds;         /* how long it took */
	int64_t last_success;   /* unix seconds of the last passing drill; 0:
				   never, written as 0 so an age alert fires */
	bool rollback_ready;    /* see rip_metrics_rollback_ready */
};

/* The four drill families of every m[i], labelled project and release. */
RIP_MUST_CHECK int rip_metrics_update_drill(const char *path,
	const struct rip_drill_metrics *m, size_t n, struct rip_err *err);

/*
 * DESIGN.md's ripcord_rollback_ready: the artifact verifies and its last
 * passing drill (unix seconds, 0: never) started no longer than every_ms
 * before now.
 */
bool rip_metrics_rollback_ready(bool verified, int64_t last_success,
	int64_t now, uint64_t every_ms);

/* The schema phase of what one target runs. */
struct rip_schema_metrics {
	const char *target;
	const struct rip_schema_phase *phase;   /* of the release it runs */
};

/*
 * For each target of v, labelled project and target (a target's series
 * stays one series across deploys): ripcord_rollback_lossless (1 when a
 * rollback of it to its previous release would undo no applied contract
 * migration, else 0), ripcord_schema_contract_pending (contract
 * migrations of the release it runs not applied), ripcord_schema_ahead
 * (applied migrations that release does not carry) and
 * ripcord_schema_contract_applied_timestamp_seconds (when its newest
 * applied contract migration was applied; 0: none). A phase that is not
 * known (no database yet) writes nothing.
 */
RIP_MUST_CHECK int rip_metrics_update_schema(const char *path,
	const char *project, const struct rip_schema_metrics *v, size_t n,
	struct rip_err *err);

#endif
