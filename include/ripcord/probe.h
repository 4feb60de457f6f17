/* SPDX-License-Identifier: MIT */
/*
 * probe.h: HTTP health probes, many at once.
 *
 * A probe is one GET of one URL, judged by its status: ok means a 2xx
 * answer within the timeout. Everything else (connection refused, timeout,
 * a non-2xx status, a URL that is not http or https) is a failed probe, not
 * a failed call: rollback and the rollout gates count failures, they do not
 * stop on them. Probes know URLs only, nothing of targets or releases.
 */
#ifndef RIPCORD_PROBE_H
#define RIPCORD_PROBE_H

#include "ripcord/common.h"
#include "ripcord/err.h"

struct rip_probe {
	const char *url; /* in: borrowed, http:// or https:// */
	int status;      /* HTTP status, 0 if none */
	bool ok;         /* 2xx within the timeout */
	double seconds;  /* latency: until the answer or the failure */
	char error[256]; /* why not ok: "connection refused", "timed out after
			  * 2s", "HTTP 500", "bad URL" ...; "" when ok */
};

/*
 * Probes every url of probes[0..n) at once (libcurl multi, one process),
 * each with timeout_ms (connect + total; 0 counts as 1 ms, never as "no
 * timeout"); never waits longer than timeout_ms + a little. Fills each
 * probe. Returns 0 (individual failures are in the probes), or RIP_EIO when
 * libcurl itself cannot be set up.
 */
RIP_MUST_CHECK int rip_probe_run(struct rip_probe *probes, size_t n,
	uint64_t timeout_ms, struct rip_err *err);

/* What probe p found, in the words of every table: "ok 12 ms", or its
 * error ("connection refused", "HTTP 500", ...). */
void rip_probe_text(char *out, size_t len, const struct rip_probe *p);

#endif
