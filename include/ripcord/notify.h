/* SPDX-License-Identifier: MIT */
/*
 * notify.h: the [notify] webhook: one JSON POST to one URL on failures,
 * aborts, rollbacks and drill trend changes.
 *
 * A notification is best effort by contract: a webhook that is down never
 * blocks or fails the operation it reports. rip_notify_send hands delivery
 * to a detached process and returns at once; rip_notify_post is the
 * synchronous delivery that process runs, for callers that want the answer.
 *
 * Delivery: POST with Content-Type: application/json and User-Agent:
 * ripcord/<version>; http and https only; redirects are not followed;
 * proxies from the environment apply, never for loopback. A 2xx answer is
 * delivered. Connection errors, timeouts, 408, 429 and 5xx are retried up
 * to `retries` more times, waiting before retry k (from 0) a random time
 * in [0, min(base_delay_ms * 2^k, max_delay_ms)] (full jitter), or what
 * the answer's Retry-After asks (seconds or an HTTP date), capped at
 * max_delay_ms. Anything else ends delivery at once: 3xx, other 4xx, a bad
 * URL, a TLS certificate that does not verify.
 *
 * Webhook URLs often embed tokens, so messages and logs show a URL only
 * as rip_http_mask_url masks it.
 */
#ifndef RIPCORD_NOTIFY_H
#define RIPCORD_NOTIFY_H

#include "ripcord/common.h"
#include "ripcord/err.h"
#include "ripcord/http.h"


#define RIP_NOTIFY_BASE_DELAY_MS 500
#define RIP_NOTIFY_MAX_DELAY_MS 30000
#define RIP_NOTIFY_TIMEOUT_MS 10000

struct rip_notify_opts {
	const char *url;        /* borrowed; NULL: notifications are off */
	unsigned retries;       /* attempts after the first; 0: none */
	uint64_t base_delay_ms; /* first backoff; 0: 500 ms */
	uint64_t max_delay_ms;  /* cap of every wait; 0: 30 s */
	uint64_t timeout_ms;    /* per attempt, connect + answer; 0: 10 s */
};

struct rip_notify_result {
	unsigned attempts;  /* POSTs made, 0 when none could start */
	int status;         /* HTTP status of the last attempt, 0 if none */
	bool delivered;     /* a 2xx answer arrived */
	char message[256];  /* the last attempt in a few words, one line:
			     * "HTTP 204", "HTTP 404: no such hook",
			     * "connection refused", "timed out after 10s" */
};

/*
 * POSTs json_body (a NUL-terminated JSON document, sent as is) to o->url,
 * retrying as the file comment says; blocks until delivered or given up:
 * at most (retries + 1) * timeout_ms + retries * max_delay_ms plus
 * scheduling. res (not NULL) is filled on every return. Returns 0 when
 * delivered; RIP_EFAIL when not (err names the masked URL, the last
 * failure and what to do) or when json_body is NULL; RIP_ECONFIG, with no
 * attempt made, when o, the URL or its http/https scheme is missing;
 * RIP_EIO when libcurl cannot be set up.
 */
RIP_MUST_CHECK int rip_notify_post(const struct rip_notify_opts *o,
	const char *json_body, struct rip_notify_result *res,
	struct rip_err *err);

/*
 * Delivers json_body as rip_notify_post does, from a detached grandchild
 * (new session, stdio on /dev/null, no descriptor of ours beyond 0-2, cwd
 * "/"), and returns without waiting for it. When it is done the grandchild
 * appends one line to log_path (unless NULL; created 0644 if missing) with
 * one write(2):
 *
 *   <UTC ISO 8601 time> <event> <masked url> delivered|failed attempts=N
 *     status=S <message>
 *
 * where event is the "event" string of json_body ("-" when it has none) and
 * message is rip_notify_result.message. A log that cannot be opened is
 * skipped silently: nobody is left to tell. Returns 0 at once, also when
 * o or o->url is NULL (nothing is sent); RIP_EIO only when the delivery
 * process cannot be started (fork failed); RIP_EFAIL when json_body is
 * NULL. Meant for the single-threaded CLI: the grandchild runs libcurl
 * after fork without exec.
 */
RIP_MUST_CHECK int rip_notify_send(const struct rip_notify_opts *o,
	const char *json_body, const char *log_path, struct rip_err *err);

/* The masking every message of ours applies to a URL (http.h). */
static inline char *rip_notify_mask_url(const char *url)
{
	return rip_http_mask_url(url);
}

#endif
