/* SPDX-License-Identifier: MIT */
/*
 * probe.c: HTTP health probes (rip_probe_run): checks each URL, GETs all
 * of them at once through the HTTP wrapper (http.c, rip_http_get_many) and
 * turns each result into a probe's verdict and short error text.
 *
 * Invariants: a call returns within timeout_ms + PROBE_SLACK_MS plus
 * scheduling whatever the endpoints do (the wrapper's hard deadline). A
 * URL that is not http or https is refused before any request is made, so
 * it never reaches the network. At most PROBE_BODY_MAX bytes of a body are
 * read, then the transfer is cut and judged by its status. The soft
 * RLIMIT_NOFILE is raised for the call when its sockets would not fit
 * (1,000 targets against the usual 1024) and put back before it returns,
 * so hooks and commands started later see the limit as it was.
 *
 * Tuned for a few to a few thousand endpoints answering in milliseconds,
 * probed once per probe_interval: each call makes fresh connections (a
 * probe measures connect time too), one socket per probe. A call over
 * 1,000 loopback endpoints took 0.12-0.37 s and 0.12-0.18 s of CPU on a
 * shared 2-core machine, mostly system calls (bench/probe.sh).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "ripcord/buf.h"
#include "ripcord/probe.h"
#include "http_internal.h"
#include "banned.h"

#define PROBE_BODY_MAX ((size_t)1024 * 1024)
#define PROBE_SLACK_MS 500
/* keeps the value a long on every platform and the deadline sum safe */
#define PROBE_TIMEOUT_MAX ((uint64_t)INT32_MAX)
/*
 * Descriptors a probe may hold at once (happy eyeballs tries IPv6 and IPv4
 * together; the resolver thread reads /etc/hosts), and those kept free for
 * the rest of the process during a call.
 */
#define PROBE_FDS_EACH 2
#define PROBE_FD_RESERVE 64

static void probe_fail(struct rip_probe *p, const char *fmt, ...)
	RIP_PRINTF(2, 3);

static void probe_fail(struct rip_probe *p, const char *fmt, ...)
{
	va_list ap;

	p->ok = false;
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
}

/* "2s" for whole seconds, "300ms" otherwise: the unit the user wrote. */
static void format_ms(char *out, size_t n, uint64_t ms)
{
	if (ms >= 1000 && ms % 1000 == 0)
		snprintf(out, n, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(out, n, "%" PRIu64 "ms", ms);
}

/* Fills p from a transfer that got no answer: why, in a few words. */
static void describe_failure(struct rip_probe *p,
	const struct rip_http_result *r, uint64_t timeout_ms)
{
	char detail[RIP_HTTP_ERROR_SIZE];

	snprintf(detail, sizeof(detail), "%s", r->error);
	rip_http_lower_first(detail);
	switch (r->fail) {
	case RIP_HTTP_TIMEOUT:
		format_ms(detail, sizeof(detail), timeout_ms);
		probe_fail(p, "timed out after %s", detail);
		break;
	case RIP_HTTP_CONNECT:
		if (r->refused)
			probe_fail(p, "connection refused");
		else if (r->os_errno == ENETUNREACH)
			probe_fail(p, "network unreachable");
		else if (r->os_errno == EHOSTUNREACH)
			probe_fail(p, "host unreachable");
		else
			probe_fail(p, "cannot connect: %s", detail);
		break;
	case RIP_HTTP_RESOLVE:
		probe_fail(p, "cannot resolve host");
		break;
	case RIP_HTTP_BAD_URL:
		probe_fail(p, "bad URL: %s", detail);
		break;
	case RIP_HTTP_EMPTY:
		probe_fail(p, "empty reply");
		break;
	case RIP_HTTP_TLS:
	case RIP_HTTP_TLS_VERIFY:
		probe_fail(p, "TLS: %s", detail);
		break;
	default:
		if (r->os_errno == ECONNRESET)
			probe_fail(p, "connection reset");
		else
			probe_fail(p, "%s", detail);
	}
}

/* Fills the probe of a finished transfer. */
static void finish(struct rip_probe *p, const struct rip_http_result *r,
	uint64_t timeout_ms)
{
	p->status = r->status;
	p->seconds = r->seconds;
	if (r->fail != RIP_HTTP_OK)
		describe_failure(p, r, timeout_ms);
	else if (p->status >= 200 && p->status <= 299) {
		p->ok = true;
		p->error[0] = '\0';
	} else if (p->status)
		probe_fail(p, "HTTP %d", p->status);
	else
		probe_fail(p, "no HTTP status");
}

/* Whether p->url may be probed; if not, p says why. */
static bool url_ok(struct rip_probe *p)
{
	struct rip_buf scheme = RIP_BUF_INIT;
	enum rip_http_url v = rip_http_url_check(&scheme, p->url);

	if (v == RIP_HTTP_URL_EMPTY)
		probe_fail(p, "bad URL: empty");
	else if (v == RIP_HTTP_URL_SCHEME)
		probe_fail(p, "bad URL: '%s' is not http or https", scheme.buf);
	else if (v == RIP_HTTP_URL_NOLIB)
		probe_fail(p, "libcurl (libcurl.so.4) cannot be loaded");
	else if (v != RIP_HTTP_URL_OK)
		probe_fail(p, "bad URL");
	rip_buf_release(&scheme);
	return v == RIP_HTTP_URL_OK;
}

/*
 * When the sockets of n probes would not fit under the soft RLIMIT_NOFILE
 * with PROBE_FD_RESERVE to spare, raises it by PROBE_FDS_EACH * n, at most
 * to the hard limit. Returns true (and the limit to put back in *old) if it
 * raised it. Past the hard limit the probes that get no socket fail as
 * libcurl says ("couldn't connect to server": it keeps no errno for a
 * socket() that failed).
 */
static bool fd_room(struct rlimit *old, size_t n)
{
	rlim_t want = (rlim_t)n * PROBE_FDS_EACH + PROBE_FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, old) < 0 ||
		old->rlim_cur == RLIM_INFINITY ||
		old->rlim_cur >= old->rlim_max || want <= old->rlim_cur)
		return false;
	rl = *old;
	want -= PROBE_FD_RESERVE;
	rl.rlim_cur = want < rl.rlim_max - rl.rlim_cur ?
		rl.rlim_cur + want : rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

/* Probes the probes whose URL passed, all at once. */
static int run(struct rip_probe *probes, size_t n, uint64_t timeout_ms,
	struct rip_err *err)
{
	struct rip_http_result *res = rip_xcalloc(n, sizeof(*res));
	const char **urls = rip_xcalloc(n, sizeof(*urls));
	size_t *which = rip_xcalloc(n, sizeof(*which));
	struct rlimit nofile;
	bool raised;
	size_t i, m = 0;
	int error;

	for (i = 0; i < n; i++) {
		if (!url_ok(&probes[i]))
			continue;
		which[m] = i;
		urls[m++] = probes[i].url;
	}
	raised = fd_room(&nofile, m);
	/* proxies from the environment stay in force, but never for loopback */
	error = rip_http_get_many(res, urls, m, timeout_ms, PROBE_SLACK_MS,
		RIP_HTTP_LOOPBACK, PROBE_BODY_MAX, err);
	/* every socket of ours is closed: back to the limit the caller had */
	if (raised)
		setrlimit(RLIMIT_NOFILE, &nofile);
	for (i = 0; i < m; i++) {
		if (!error)
			finish(&probes[which[i]], &res[i], timeout_ms);
		rip_http_result_release(&res[i]);
	}
	free(res);
	free(urls);
	free(which);
	return error;
}

int rip_probe_run(struct rip_probe *probes, size_t n, uint64_t timeout_ms,
	struct rip_err *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		probes[i].status = 0;
		probes[i].seconds = 0;
		probe_fail(&probes[i], "not probed");
	}
	if (n == 0)
		return 0;
	if (timeout_ms == 0)
		timeout_ms = 1;
	if (timeout_ms > PROBE_TIMEOUT_MAX)
		timeout_ms = PROBE_TIMEOUT_MAX;
	return run(probes, n, timeout_ms, err);
}

void rip_probe_text(char *out, size_t len, const struct rip_probe *p)
{
	if (p->ok)
		snprintf(out, len, "ok %.0f ms", p->seconds * 1000);
	else
		snprintf(out, len, "%s", p->error);
}
