/* SPDX-License-Identifier: MIT */
/*
 * http_internal.h: what ripcord needs of HTTP, from the one file that knows
 * it is libcurl (http.c): a single request (the webhook's POST, the gate's GET),
 * a batch of GETs at once (the health probes), the check that a URL is
 * http or https, and the proxy exceptions. This header does not include
 * curl.h: no other file sees a CURL handle, a CURLcode or an option.
 *
 * A transfer that ran is a result, never an error: the callers judge a
 * refused connection or an HTTP 500 in their own words (a failed probe, a
 * retried webhook, a gate error). The functions return an error (RIP_EIO,
 * the masked URL named) only when libcurl itself cannot be set up.
 */
#ifndef RIPCORD_HTTP_INTERNAL_H
#define RIPCORD_HTTP_INTERNAL_H

#include "ripcord/buf.h"
#include "ripcord/err.h"
#include "ripcord/http.h"

/* Hosts no proxy is ever used for. */
#define RIP_HTTP_LOOPBACK "localhost,127.0.0.1,::1"
/* Room for libcurl's words about a failure (its CURL_ERROR_SIZE). */
#define RIP_HTTP_ERROR_SIZE 256

/* Why a transfer got no (whole) answer; RIP_HTTP_OK when it got one. */
enum rip_http_fail {
	RIP_HTTP_OK = 0,
	RIP_HTTP_TIMEOUT,       /* the timeout passed */
	RIP_HTTP_CONNECT,       /* no connection; see refused and os_errno */
	RIP_HTTP_RESOLVE,       /* the host name did not resolve */
	RIP_HTTP_RESOLVE_PROXY, /* the proxy's name did not resolve */
	RIP_HTTP_BAD_URL,       /* malformed, or not http or https */
	RIP_HTTP_EMPTY,         /* the server closed without a reply */
	RIP_HTTP_TLS,           /* the TLS handshake failed */
	RIP_HTTP_TLS_VERIFY,    /* the certificate did not verify */
	RIP_HTTP_NETWORK,       /* send/receive broke off, a partial answer */
	RIP_HTTP_OTHER,         /* anything else libcurl reports */
};

struct rip_http_request {
	const char *method;          /* "GET" (also NULL) or "POST" */
	const char *url;             /* borrowed */
	const char *body;            /* POST body, sent as is; NULL: none */
	size_t body_len;
	const char *const *headers;  /* "Name: value", NULL-terminated; or NULL */
	uint64_t timeout_ms;         /* connect and in all; 0 counts as 1 ms */
	const char *noproxy;         /* NULL: rip_http_noproxy() */
	size_t answer_max;           /* an answer longer than this is cut */
	size_t answer_keep;          /* bytes of the answer kept in .answer */
	bool compressed;             /* ask for a compressed answer */
	bool retry_after;            /* read the Retry-After header */
};

struct rip_http_result {
	int status;              /* HTTP status of the answer, 0 if none */
	enum rip_http_fail fail; /* RIP_HTTP_OK when the transfer completed */
	bool refused;            /* RIP_HTTP_CONNECT: the peer refused */
	bool cut;                /* the answer passed answer_max */
	int os_errno;            /* the system's errno of the failure, or 0 */
	double seconds;          /* until the answer or the failure */
	int64_t retry_after_ms;  /* what Retry-After asked; -1: nothing */
	struct rip_buf answer;   /* the first answer_keep bytes of the body
				  * (of what came before a cut) */
	char error[RIP_HTTP_ERROR_SIZE]; /* libcurl's words, "" when OK */
};

#define RIP_HTTP_RESULT_INIT { .answer = RIP_BUF_INIT, .retry_after_ms = -1 }

/* Frees what r holds and leaves it as RIP_HTTP_RESULT_INIT. */
void rip_http_result_release(struct rip_http_result *r);

/*
 * Makes req once and fills *out (released first, so it can be reused).
 * Redirects are not followed; http and https only; no signals. A body cut
 * at answer_max on purpose is no failure: the status has arrived. Returns
 * 0 whatever the transfer got; RIP_EIO (err names the masked URL) when
 * libcurl cannot be set up.
 */
RIP_MUST_CHECK int rip_http_request(struct rip_http_result *out,
	const struct rip_http_request *req, struct rip_err *err);

/*
 * GETs urls[0..n) at once (one multi handle driven in the calling thread),
 * each within timeout_ms; never waits longer than timeout_ms + slack_ms:
 * what has not finished by then is RIP_HTTP_TIMEOUT with the time spent.
 * No proxy for the hosts of noproxy. Answers are counted, up to answer_max
 * (then cut), and dropped. Fills out[0..n) (initialized here; the caller
 * releases each). Returns 0, or RIP_EIO when libcurl cannot be set up.
 */
RIP_MUST_CHECK int rip_http_get_many(struct rip_http_result *out,
	const char *const *urls, size_t n, uint64_t timeout_ms,
	uint64_t slack_ms, const char *noproxy, size_t answer_max,
	struct rip_err *err);

enum rip_http_url {
	RIP_HTTP_URL_OK = 0,
	RIP_HTTP_URL_EMPTY,  /* NULL or "" */
	RIP_HTTP_URL_BAD,    /* not a URL with a scheme and a host */
	RIP_HTTP_URL_SCHEME, /* a scheme other than http or https */
	RIP_HTTP_URL_NOMEM,
	RIP_HTTP_URL_NOLIB,  /* libcurl could not be loaded */
};

/*
 * Whether url is an http or https URL with a host (a missing scheme is an
 * error, never guessed). For RIP_HTTP_URL_SCHEME, the scheme is added to
 * scheme (which may be NULL).
 */
enum rip_http_url rip_http_url_check(struct rip_buf *scheme, const char *url);

/*
 * The hosts no proxy is used for: loopback, plus the user's no_proxy
 * (NO_PROXY); "*" when that is "*". Newly allocated.
 */
char *rip_http_noproxy(void);

/* Lowers the first letter of libcurl's words unless an acronym starts. */
void rip_http_lower_first(char *s);

#endif
