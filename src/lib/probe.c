/* SPDX-License-Identifier: MIT */
/*
 * probe.c: HTTP health probes (rip_probe_run): turns CURLcode, CURLMcode
 * and CURLOPT_ERRORBUFFER into struct rip_err (for the call) or into each
 * probe's short error text (for a probe). The options every request of
 * ours carries are in curl_common.c, shared with the webhook (notify.c).
 *
 * Every probe of a call is one easy handle in one multi handle, driven by a
 * curl_multi_poll loop in the calling thread: no threads of ours, no signals
 * (CURLOPT_NOSIGNAL), nothing process-wide but curl_global_init, done once,
 * and the soft RLIMIT_NOFILE, raised for the call when its sockets would
 * not fit (1,000 targets against the usual 1024) and put back before it
 * returns, so hooks and commands started later see the limit as it was.
 *
 * Invariants: a call returns within timeout_ms + PROBE_SLACK_MS plus
 * scheduling whatever the endpoints do: libcurl enforces the timeout on
 * each transfer, and a hard deadline in the loop expires whatever libcurl
 * has not finished by then. Every handle made is cleaned up before
 * returning. A URL that is not http or https is refused before any handle
 * is made, so it never reaches the network. At most PROBE_BODY_MAX bytes of
 * a body are read, then the transfer is cut and judged by its status.
 *
 * Tuned for a few to a few thousand endpoints answering in milliseconds,
 * probed once per probe_interval: each call makes fresh connections (a
 * probe measures connect time too), one socket per probe. A call over
 * 1,000 loopback endpoints took 0.12-0.37 s and 0.12-0.18 s of CPU on a
 * shared 2-core machine, mostly system calls (bench/probe.sh); libcurl's
 * walk over every handle at each wakeup is not what costs: a
 * multi_socket_action loop on epoll measured the same.
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

#include <curl/curl.h>

#include "ripcord/buf.h"
#include "ripcord/probe.h"
#include "curl_internal.h"
#include "banned.h"

#define PROBE_BODY_MAX ((size_t)1024 * 1024)
#define PROBE_SLACK_MS 500
/* keeps the value a long on every platform and the deadline sum safe */
#define PROBE_TIMEOUT_MAX ((uint64_t)INT32_MAX)
#define PROBE_POLL_MAX_MS 1000
/*
 * Descriptors a probe may hold at once (happy eyeballs tries IPv6 and IPv4
 * together; the resolver thread reads /etc/hosts), and those kept free for
 * the rest of the process during a call.
 */
#define PROBE_FDS_EACH 2
#define PROBE_FD_RESERVE 64

struct slot {
	struct rip_probe *probe;
	CURL *easy;
	bool added; /* in the multi handle */
	bool done;  /* the probe is filled */
	bool cut;   /* the body passed PROBE_BODY_MAX */
	size_t body;
	char errbuf[CURL_ERROR_SIZE];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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

/* libcurl's own words, first letter lowered unless it starts an acronym. */
static void curl_detail(char *out, size_t n, const struct slot *s,
	CURLcode rc)
{
	const char *text = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);

	snprintf(out, n, "%s", text);
	if (out[0] >= 'A' && out[0] <= 'Z' && out[1] >= 'a' && out[1] <= 'z')
		out[0] = (char)(out[0] - 'A' + 'a');
}

/* 1 if url is an http or https URL with a host, 0 if not, <0 on no memory. */
static int url_check(const char *url, struct rip_probe *p)
{
	char *scheme = NULL, *host = NULL;
	CURLU *u;
	int ok = 0;

	if (!url || !*url) {
		probe_fail(p, "bad URL: empty");
		return 0;
	}
	u = curl_url();
	if (!u)
		return -1;
	/* no flags: a missing scheme is an error, never guessed as http */
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		!*host)
		probe_fail(p, "bad URL");
	else if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))
		probe_fail(p, "bad URL: '%s' is not http or https", scheme);
	else
		ok = 1;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* Counts and drops the body; past PROBE_BODY_MAX it ends the transfer. */
static size_t discard(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct slot *s = userdata;
	size_t len = size * nmemb; /* size is always 1 */

	(void)data;
	if (len > PROBE_BODY_MAX - s->body) {
		s->cut = true;
		return 0;
	}
	s->body += len;
	return len;
}

static CURLcode easy_options(struct slot *s, long timeout_ms)
{
	CURLcode rc = CURLE_OK;
	CURL *e = s->easy;

	RIP_SETOPT(rc, e, CURLOPT_URL, s->probe->url);
	RIP_SETOPT(rc, e, CURLOPT_PRIVATE, (void *)s);
	RIP_SETOPT(rc, e, CURLOPT_WRITEFUNCTION, discard);
	RIP_SETOPT(rc, e, CURLOPT_WRITEDATA, (void *)s);
	RIP_SETOPT(rc, e, CURLOPT_HTTPGET, 1L);
	/* proxies from the environment stay in force, but never for loopback */
	if (rc == CURLE_OK)
		rc = rip_curl_common(e, timeout_ms, RIP_CURL_LOOPBACK, s->errbuf);
	return rc;
}

static int probe_start(CURLM *multi, struct slot *s, long timeout_ms,
	struct rip_err *err)
{
	CURLMcode mc;
	CURLcode rc;

	s->easy = curl_easy_init();
	if (!s->easy)
		return rip_err_set(err, RIP_EIO,
			"libcurl: cannot make a handle to probe '%s'",
			s->probe->url);
	rc = easy_options(s, timeout_ms);
	if (rc != CURLE_OK)
		return rip_err_set(err, RIP_EIO,
			"libcurl: cannot set up the probe of '%s': %s",
			s->probe->url, curl_easy_strerror(rc));
	mc = curl_multi_add_handle(multi, s->easy);
	if (mc != CURLM_OK)
		return rip_err_set(err, RIP_EIO,
			"libcurl: cannot start the probe of '%s': %s",
			s->probe->url, curl_multi_strerror(mc));
	s->added = true;
	return 0;
}

static int start_all(CURLM *multi, struct slot *slots,
	struct rip_probe *probes, size_t n, long timeout_ms,
	struct rip_err *err)
{
	int error;
	size_t i;

	for (i = 0; i < n; i++) {
		slots[i].probe = &probes[i];
		error = url_check(probes[i].url, &probes[i]);
		if (error < 0)
			return rip_err_set(err, RIP_EIO,
				"libcurl: out of memory parsing '%s'",
				probes[i].url);
		if (!error) {
			slots[i].done = true;
			continue;
		}
		if ((error = probe_start(multi, &slots[i], timeout_ms, err)) < 0)
			return error;
	}
	return 0;
}

static void connect_failure(struct slot *s, long os_errno)
{
	char detail[CURL_ERROR_SIZE];

	if (os_errno == ECONNREFUSED || strstr(s->errbuf, "refused"))
		probe_fail(s->probe, "connection refused");
	else if (os_errno == ENETUNREACH)
		probe_fail(s->probe, "network unreachable");
	else if (os_errno == EHOSTUNREACH)
		probe_fail(s->probe, "host unreachable");
	else {
		curl_detail(detail, sizeof(detail), s, CURLE_COULDNT_CONNECT);
		probe_fail(s->probe, "cannot connect: %s", detail);
	}
}

static void describe_failure(struct slot *s, CURLcode rc, uint64_t timeout_ms)
{
	struct rip_probe *p = s->probe;
	char detail[CURL_ERROR_SIZE];
	long os_errno = 0;

	curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &os_errno);
	curl_detail(detail, sizeof(detail), s, rc);
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		format_ms(detail, sizeof(detail), timeout_ms);
		probe_fail(p, "timed out after %s", detail);
		break;
	case CURLE_COULDNT_CONNECT:
		connect_failure(s, os_errno);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		probe_fail(p, "cannot resolve host");
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		probe_fail(p, "bad URL: %s", detail);
		break;
	case CURLE_GOT_NOTHING:
		probe_fail(p, "empty reply");
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		probe_fail(p, "TLS: %s", detail);
		break;
	default:
		if (os_errno == ECONNRESET)
			probe_fail(p, "connection reset");
		else
			probe_fail(p, "%s", detail);
	}
}

/* Fills the probe of a finished transfer. */
static void finish(struct slot *s, CURLcode rc, uint64_t timeout_ms)
{
	struct rip_probe *p = s->probe;
	curl_off_t us = 0;
	long status = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &us);
	p->status = status > 0 && status < 1000 ? (int)status : 0;
	p->seconds = (double)us / 1e6;
	s->done = true;
	/* a body cut off on purpose: the status has arrived, judge by it */
	if (rc == CURLE_WRITE_ERROR && s->cut)
		rc = CURLE_OK;
	if (rc != CURLE_OK)
		describe_failure(s, rc, timeout_ms);
	else if (p->status >= 200 && p->status <= 299) {
		p->ok = true;
		p->error[0] = '\0';
	} else if (p->status)
		probe_fail(p, "HTTP %d", p->status);
	else
		probe_fail(p, "no HTTP status");
}

static void collect(CURLM *multi, uint64_t timeout_ms)
{
	CURLMsg *msg;
	char *priv;
	int left;

	for (;;) {
		msg = curl_multi_info_read(multi, &left);
		if (!msg)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv)
			finish((struct slot *)(void *)priv, msg->data.result,
				timeout_ms);
	}
}

/* What libcurl has not finished by the hard deadline timed out. */
static void expire(struct slot *slots, size_t n, uint64_t timeout_ms,
	uint64_t start)
{
	char t[32];
	size_t i;

	format_ms(t, sizeof(t), timeout_ms);
	for (i = 0; i < n; i++) {
		if (slots[i].done)
			continue;
		slots[i].done = true;
		slots[i].probe->seconds = (double)(now_ms() - start) / 1e3;
		probe_fail(slots[i].probe, "timed out after %s", t);
	}
}

static int multi_error(struct rip_err *err, CURLMcode mc)
{
	return rip_err_set(err, RIP_EIO, "libcurl: cannot run probes: %s",
		curl_multi_strerror(mc));
}

static int drive(CURLM *multi, struct slot *slots, size_t n,
	uint64_t timeout_ms, struct rip_err *err)
{
	uint64_t start = now_ms(), deadline, now, wait;
	int running = 0;
	CURLMcode mc;

	deadline = start + timeout_ms + PROBE_SLACK_MS;
	for (;;) {
		mc = curl_multi_perform(multi, &running);
		if (mc != CURLM_OK)
			return multi_error(err, mc);
		collect(multi, timeout_ms);
		now = now_ms();
		if (!running || now >= deadline)
			break;
		wait = deadline - now;
		if (wait > PROBE_POLL_MAX_MS)
			wait = PROBE_POLL_MAX_MS;
		mc = curl_multi_poll(multi, NULL, 0, (int)wait, NULL);
		if (mc != CURLM_OK)
			return multi_error(err, mc);
	}
	expire(slots, n, timeout_ms, start);
	return 0;
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

static void cleanup(CURLM *multi, struct slot *slots, size_t n)
{
	size_t i;

	for (i = 0; slots && i < n; i++) {
		if (slots[i].added)
			curl_multi_remove_handle(multi, slots[i].easy);
		if (slots[i].easy)
			curl_easy_cleanup(slots[i].easy);
	}
	if (multi)
		curl_multi_cleanup(multi);
	free(slots);
}

int rip_probe_run(struct rip_probe *probes, size_t n, uint64_t timeout_ms,
	struct rip_err *err)
{
	struct slot *slots = NULL;
	CURLM *multi = NULL;
	struct rlimit nofile;
	bool raised = false;
	int error = 0;
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
	if ((error = rip_curl_init(err)) < 0)
		goto done;
	multi = curl_multi_init();
	if (!multi) {
		error = rip_err_set(err, RIP_EIO, "libcurl: cannot make a "
			"multi handle for %zu probes", n);
		goto done;
	}
	slots = rip_xcalloc(n, sizeof(*slots));
	raised = fd_room(&nofile, n);
	if ((error = start_all(multi, slots, probes, n, (long)timeout_ms,
		     err)) < 0)
		goto done;
	error = drive(multi, slots, n, timeout_ms, err);
done:
	cleanup(multi, slots, n);
	/* every socket of ours is closed: back to the limit the caller had */
	if (raised)
		setrlimit(RLIMIT_NOFILE, &nofile);
	return error;
}
