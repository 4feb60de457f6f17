/* SPDX-License-Identifier: MIT */
/*
 * http.c: the libcurl wrapper (http_internal.h), the only file that calls
 * libcurl: the webhook's POST and the gate's GET (rip_http_request), the
 * health probes (rip_http_get_many), URL checks and masking. CURLcode,
 * CURLMcode and CURLOPT_ERRORBUFFER become struct rip_err here when
 * libcurl cannot be set up, and a struct rip_http_result (a failure class,
 * libcurl's words, the errno) when a transfer ran: the callers word those.
 *
 * Invariants: every request carries the same options (rip_http_common: a
 * timeout for connecting and in all, no signals, no redirects, http and
 * https only, our user agent, proxies only where noproxy allows); every
 * handle made is cleaned up before a call returns; a URL appears in an
 * error only masked; at most answer_max bytes of an answer are read.
 * Nothing process-wide but curl_global_init, done once.
 *
 * rip_http_get_many drives one multi handle with curl_multi_poll in the
 * calling thread, with a hard deadline of its own over libcurl's timeouts.
 * Tuned for a few to a few thousand endpoints answering in milliseconds
 * (bench/probe.sh: 1,000 loopback endpoints in 0.12-0.37 s; libcurl's walk
 * over every handle at each wakeup is not what costs: a
 * multi_socket_action loop on epoll measured the same).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* the functions are called through pointers (below), which libcurl's
 * gcc type checks of curl_easy_setopt's value, being macros named after
 * the functions, cannot wrap: numbers given to setopt are longs and
 * curl_off_t where libcurl says so, by hand */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "http_internal.h"
#include "lazy.h"
#include "rip_version.h"
#include "banned.h"

/* keeps a timeout a long on every platform and deadline sums safe */
#define HTTP_TIMEOUT_MAX ((uint64_t)INT32_MAX)
#define HTTP_POLL_MAX_MS 1000
#define HTTP_SEGMENT_SECRET 16 /* path segments this long are masked */
#define ELLIPSIS "\xe2\x80\xa6"

_Static_assert(RIP_HTTP_ERROR_SIZE >= CURL_ERROR_SIZE,
	"libcurl's words fit a result");

/* libcurl, loaded by the first request or URL check (lazy.h): a rollback
 * without health URLs never needs it, and it pulls in some thirty
 * libraries (TLS, Kerberos, LDAP, HTTP/2, IDN, ...) */
#define CURL_FUNCS(X) \
	X(curl_easy_cleanup) \
	X(curl_easy_getinfo) \
	X(curl_easy_init) \
	X(curl_easy_perform) \
	X(curl_easy_setopt) \
	X(curl_easy_strerror) \
	X(curl_free) \
	X(curl_getdate) \
	X(curl_global_init) \
	X(curl_multi_add_handle) \
	X(curl_multi_cleanup) \
	X(curl_multi_info_read) \
	X(curl_multi_init) \
	X(curl_multi_perform) \
	X(curl_multi_poll) \
	X(curl_multi_remove_handle) \
	X(curl_multi_strerror) \
	X(curl_slist_append) \
	X(curl_slist_free_all) \
	X(curl_url) \
	X(curl_url_cleanup) \
	X(curl_url_get) \
	X(curl_url_set)

static struct {
	CURL_FUNCS(RIP_LAZY_SLOT)
} cu;
static const char *const cu_names[] = { CURL_FUNCS(RIP_LAZY_NAME) };
static struct rip_lazy libcurl = RIP_LAZY_INIT("libcurl.so.4", "libcurl",
	cu_names, &cu);

/* Sets one option while every earlier one worked. */
#define SETOPT(rc, e, opt, val) do { \
	if ((rc) == CURLE_OK) \
		(rc) = cu.curl_easy_setopt((e), (opt), (val)); \
} while (0)

/* What one transfer collects while it runs. */
struct xfer {
	struct rip_http_result *r;
	CURL *easy;
	size_t max, keep, len;
	bool cut;
	bool added; /* in a multi handle */
	bool done;  /* r is filled */
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_code;

static void global_init_once(void)
{
	global_code = cu.curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Loads libcurl and runs curl_global_init, once per process, whichever
 * thread asks first. */
static int http_init(struct rip_err *err)
{
	int rc;

	if ((rc = rip_lazy_load(&libcurl, err)) < 0)
		return rc;
	pthread_once(&global_once, global_init_once);
	if (global_code != CURLE_OK)
		return rip_err_set(err, RIP_EIO, "cannot initialize libcurl: %s",
			cu.curl_easy_strerror(global_code));
	return 0;
}

static uint64_t clamp_timeout(uint64_t ms)
{
	return ms == 0 ? 1 : ms > HTTP_TIMEOUT_MAX ? HTTP_TIMEOUT_MAX : ms;
}

/* The options of every request (see the file comment). */
static CURLcode http_common(CURL *e, uint64_t timeout_ms, const char *noproxy,
	char *errbuf)
{
	long t = (long)clamp_timeout(timeout_ms);
	CURLcode rc = CURLE_OK;

	SETOPT(rc, e, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(rc, e, CURLOPT_TIMEOUT_MS, t);
	SETOPT(rc, e, CURLOPT_CONNECTTIMEOUT_MS, t);
	SETOPT(rc, e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(rc, e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
	SETOPT(rc, e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SETOPT(rc, e, CURLOPT_PROTOCOLS,
		(long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87.0 */
	/* cleanup must not wait for a resolver thread stuck on slow DNS */
	SETOPT(rc, e, CURLOPT_QUICK_EXIT, 1L);
#endif
	/* proxies from the environment stay in force except for these */
	SETOPT(rc, e, CURLOPT_NOPROXY, noproxy);
	SETOPT(rc, e, CURLOPT_USERAGENT, "ripcord/" RIP_VERSION);
	return rc;
}

/* Loopback never goes through a proxy; the user's no_proxy still holds. */
char *rip_http_noproxy(void)
{
	const char *env = getenv("no_proxy");

	if (!env || !*env)
		env = getenv("NO_PROXY");
	if (env && !strcmp(env, "*"))
		return rip_xstrdup("*");
	if (env && *env)
		return rip_xasprintf("%s,%s", RIP_HTTP_LOOPBACK, env);
	return rip_xstrdup(RIP_HTTP_LOOPBACK);
}

void rip_http_lower_first(char *s)
{
	if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z')
		s[0] = (char)(s[0] - 'A' + 'a');
}

/* URLs */

enum rip_http_url rip_http_url_check(struct rip_buf *scheme, const char *url)
{
	char *s = NULL, *host = NULL;
	enum rip_http_url v = RIP_HTTP_URL_OK;
	CURLU *u;

	if (!url || !*url)
		return RIP_HTTP_URL_EMPTY;
	if (http_init(NULL) < 0)
		return RIP_HTTP_URL_NOLIB;
	u = cu.curl_url();
	if (!u)
		return RIP_HTTP_URL_NOMEM;
	/* no flags: a missing scheme is an error, never guessed as http */
	if (cu.curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		cu.curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
		cu.curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		!*host) {
		v = RIP_HTTP_URL_BAD;
	} else if (strcasecmp(s, "http") && strcasecmp(s, "https")) {
		v = RIP_HTTP_URL_SCHEME;
		if (scheme)
			rip_buf_adds(scheme, s);
	}
	cu.curl_free(s);
	cu.curl_free(host);
	cu.curl_url_cleanup(u);
	return v;
}

/* Adds s[0..n) with spaces and control bytes as '?': one word, one line. */
static void add_shown(struct rip_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		rip_buf_addch(b, c <= 0x20 || c == 0x7f ? '?' : (char)c);
	}
}

static void add_path(struct rip_buf *b, const char *p, size_t n)
{
	size_t i = 0, seg;

	while (i < n) {
		if (p[i] == '/') {
			rip_buf_addch(b, '/');
			i++;
			continue;
		}
		for (seg = 0; i + seg < n && p[i + seg] != '/'; seg++)
			;
		if (seg >= HTTP_SEGMENT_SECRET)
			rip_buf_adds(b, ELLIPSIS);
		else
			add_shown(b, p + i, seg);
		i += seg;
	}
}

/* Length of "scheme://" at the start of url, 0 when it has none. */
static size_t scheme_len(const char *url)
{
	size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	return n && isalpha((unsigned char)url[0]) &&
		!strncmp(url + n, "://", 3) ? n + 3 : 0;
}

char *rip_http_mask_url(const char *url)
{
	struct rip_buf b = RIP_BUF_INIT;
	const char *auth, *end, *at, *rest;

	if (!url)
		return rip_xstrdup("(none)");
	auth = url + scheme_len(url);
	add_shown(&b, url, (size_t)(auth - url));
	end = auth + strcspn(auth, "/?#");
	at = memrchr(auth, '@', (size_t)(end - auth));
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));

		if (colon) {
			add_shown(&b, auth, (size_t)(colon - auth));
			rip_buf_adds(&b, ":***@");
		} else {
			rip_buf_adds(&b, "***@");
		}
		auth = at + 1;
	}
	add_shown(&b, auth, (size_t)(end - auth));
	rest = end + strcspn(end, "?#");
	add_path(&b, end, (size_t)(rest - end));
	if (*rest == '?') {
		rip_buf_adds(&b, "?" ELLIPSIS);
		rest += strcspn(rest, "#");
	}
	if (*rest == '#')
		rip_buf_adds(&b, "#" ELLIPSIS);
	return rip_buf_detach(&b, NULL);
}

/* Results */

void rip_http_result_release(struct rip_http_result *r)
{
	rip_buf_release(&r->answer);
	*r = (struct rip_http_result)RIP_HTTP_RESULT_INIT;
}

static enum rip_http_fail fail_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return RIP_HTTP_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return RIP_HTTP_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		return RIP_HTTP_CONNECT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return RIP_HTTP_RESOLVE;
	case CURLE_COULDNT_RESOLVE_PROXY:
		return RIP_HTTP_RESOLVE_PROXY;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return RIP_HTTP_BAD_URL;
	case CURLE_GOT_NOTHING:
		return RIP_HTTP_EMPTY;
	case CURLE_SSL_CONNECT_ERROR:
		return RIP_HTTP_TLS;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return RIP_HTTP_TLS_VERIFY;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return RIP_HTTP_NETWORK;
	default:
		return RIP_HTTP_OTHER;
	}
}

/* Fills x->r from a finished transfer and what libcurl said of it. */
static void finish(struct xfer *x, CURLcode rc)
{
	struct rip_http_result *r = x->r;
	curl_off_t us = 0;
	long status = 0, os_errno = 0;

	cu.curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	cu.curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &us);
	r->status = status > 0 && status < 1000 ? (int)status : 0;
	r->seconds = (double)us / 1e6;
	r->cut = x->cut;
	x->done = true;
	/* a body cut off on purpose: the status has arrived, judge by it */
	if (rc == CURLE_WRITE_ERROR && x->cut)
		rc = CURLE_OK;
	r->fail = fail_of(rc);
	if (rc == CURLE_OK)
		return;
	cu.curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
	r->os_errno = (int)os_errno;
	snprintf(r->error, sizeof(r->error), "%s",
		x->errbuf[0] ? x->errbuf : cu.curl_easy_strerror(rc));
	r->refused = r->fail == RIP_HTTP_CONNECT &&
		(os_errno == ECONNREFUSED || strstr(x->errbuf, "refused"));
}

/* Keeps the first x->keep bytes; past x->max it ends the transfer. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t len = size * nmemb; /* size is always 1 */

	if (len > x->max - x->len) {
		x->cut = true;
		return 0;
	}
	if (x->len < x->keep)
		rip_buf_add(&x->r->answer, data,
			len < x->keep - x->len ? len : x->keep - x->len);
	x->len += len;
	return len;
}

/* Retry-After: delay-seconds or an HTTP date; -1 when neither. */
static int64_t retry_after_ms(char *v)
{
	time_t t, now;

	v += strspn(v, " \t");
	v[strcspn(v, "\r\n")] = '\0';
	if (isdigit((unsigned char)*v)) {
		unsigned long long s;
		char *end;

		errno = 0;
		s = strtoull(v, &end, 10);
		if (end[strspn(end, " \t")] != '\0')
			return -1;
		if (errno == ERANGE || s > (unsigned long long)INT64_MAX / 1000)
			return INT64_MAX;
		return (int64_t)s * 1000;
	}
	t = cu.curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	now = time(NULL);
	return t > now ? (int64_t)(t - now) * 1000 : 0;
}

static size_t on_header(char *data, size_t size, size_t nitems,
	void *userdata)
{
	static const char name[] = "retry-after:";
	struct xfer *x = userdata;
	struct rip_buf value = RIP_BUF_INIT;
	size_t len = size * nitems;

	/* a new status line (after 1xx): what came before was not the answer */
	if (len >= 5 && !strncmp(data, "HTTP/", 5))
		x->r->retry_after_ms = -1;
	if (len < sizeof(name) - 1 || strncasecmp(data, name, sizeof(name) - 1))
		return len;
	/* whole: white space may pad a value past any fixed size */
	rip_buf_add(&value, data + sizeof(name) - 1, len - (sizeof(name) - 1));
	x->r->retry_after_ms = retry_after_ms(value.buf);
	rip_buf_release(&value);
	return len;
}

/* A single request */

static CURLcode request_options(struct xfer *x,
	const struct rip_http_request *req, struct curl_slist *headers,
	const char *noproxy)
{
	const char *m = req->method ? req->method : "GET";
	CURLcode rc = CURLE_OK;
	CURL *e = x->easy;

	SETOPT(rc, e, CURLOPT_URL, req->url);
	if (!strcmp(m, "GET")) {
		SETOPT(rc, e, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(m, "POST"))
			SETOPT(rc, e, CURLOPT_CUSTOMREQUEST, m);
		SETOPT(rc, e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		SETOPT(rc, e, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)(req->body ? req->body_len : 0));
	}
	if (headers)
		SETOPT(rc, e, CURLOPT_HTTPHEADER, headers);
	SETOPT(rc, e, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(rc, e, CURLOPT_WRITEDATA, (void *)x);
	if (req->retry_after) {
		SETOPT(rc, e, CURLOPT_HEADERFUNCTION, on_header);
		SETOPT(rc, e, CURLOPT_HEADERDATA, (void *)x);
	}
	if (req->compressed)
		SETOPT(rc, e, CURLOPT_ACCEPT_ENCODING, "");
	if (rc == CURLE_OK)
		rc = http_common(e, req->timeout_ms, noproxy, x->errbuf);
	return rc;
}

/* Fails with RIP_EIO, naming what could not be set up and the masked url. */
static int setup_error(struct rip_err *err, const char *what, const char *url,
	const char *why)
{
	char *shown = rip_http_mask_url(url);
	int rc = rip_err_set(err, RIP_EIO, "libcurl: cannot %s for '%s'%s%s",
		what, shown, why ? ": " : "", why ? why : "");

	free(shown);
	return rc;
}

static int header_list(struct curl_slist **out, const char *const *headers)
{
	struct curl_slist *h;

	*out = NULL;
	for (size_t i = 0; headers && headers[i]; i++) {
		h = cu.curl_slist_append(*out, headers[i]);
		if (!h)
			return -1;
		*out = h;
	}
	return 0;
}

int rip_http_request(struct rip_http_result *out,
	const struct rip_http_request *req, struct rip_err *err)
{
	struct xfer x = { .r = out, .max = req->answer_max,
		.keep = req->answer_keep };
	struct curl_slist *headers = NULL;
	char *noproxy = NULL;
	CURLcode rc;
	int error;

	rip_http_result_release(out);
	if ((error = http_init(err)) < 0)
		goto done;
	x.easy = cu.curl_easy_init();
	if (!x.easy) {
		error = setup_error(err, "make a handle", req->url, NULL);
		goto done;
	}
	if (header_list(&headers, req->headers) < 0) {
		error = setup_error(err, "list the headers", req->url,
			"out of memory");
		goto done;
	}
	noproxy = req->noproxy ? NULL : rip_http_noproxy();
	rc = request_options(&x, req, headers,
		req->noproxy ? req->noproxy : noproxy);
	if (rc != CURLE_OK) {
		error = setup_error(err, "set up the request", req->url,
			cu.curl_easy_strerror(rc));
		goto done;
	}
	finish(&x, cu.curl_easy_perform(x.easy));
done:
	if (x.easy)
		cu.curl_easy_cleanup(x.easy);
	if (headers) /* NULL also when libcurl could not be loaded */
		cu.curl_slist_free_all(headers);
	free(noproxy);
	return error;
}

/* Many GETs at once */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int get_start(CURLM *multi, struct xfer *x, const char *url,
	uint64_t timeout_ms, const char *noproxy, struct rip_err *err)
{
	CURLcode rc = CURLE_OK;
	CURLMcode mc;

	x->easy = cu.curl_easy_init();
	if (!x->easy)
		return setup_error(err, "make a handle", url, NULL);
	SETOPT(rc, x->easy, CURLOPT_URL, url);
	SETOPT(rc, x->easy, CURLOPT_PRIVATE, (void *)x);
	SETOPT(rc, x->easy, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(rc, x->easy, CURLOPT_WRITEDATA, (void *)x);
	SETOPT(rc, x->easy, CURLOPT_HTTPGET, 1L);
	if (rc == CURLE_OK)
		rc = http_common(x->easy, timeout_ms, noproxy, x->errbuf);
	if (rc != CURLE_OK)
		return setup_error(err, "set up the request", url,
			cu.curl_easy_strerror(rc));
	mc = cu.curl_multi_add_handle(multi, x->easy);
	if (mc != CURLM_OK)
		return setup_error(err, "start the request", url,
			cu.curl_multi_strerror(mc));
	x->added = true;
	return 0;
}

static void collect(CURLM *multi)
{
	CURLMsg *msg;
	char *priv;
	int left;

	for (;;) {
		msg = cu.curl_multi_info_read(multi, &left);
		if (!msg)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		cu.curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv)
			finish((struct xfer *)(void *)priv, msg->data.result);
	}
}

static int multi_error(struct rip_err *err, size_t n, CURLMcode mc)
{
	return rip_err_set(err, RIP_EIO, "libcurl: cannot run %zu requests: %s",
		n, cu.curl_multi_strerror(mc));
}

static int drive(CURLM *multi, struct xfer *xs, size_t n,
	uint64_t deadline_ms, struct rip_err *err)
{
	uint64_t start = now_ms(), deadline = start + deadline_ms, now, wait;
	int running = 0;
	CURLMcode mc;

	for (;;) {
		mc = cu.curl_multi_perform(multi, &running);
		if (mc != CURLM_OK)
			return multi_error(err, n, mc);
		collect(multi);
		now = now_ms();
		if (!running || now >= deadline)
			break;
		wait = deadline - now;
		if (wait > HTTP_POLL_MAX_MS)
			wait = HTTP_POLL_MAX_MS;
		mc = cu.curl_multi_poll(multi, NULL, 0, (int)wait, NULL);
		if (mc != CURLM_OK)
			return multi_error(err, n, mc);
	}
	/* what libcurl has not finished by the hard deadline timed out */
	for (size_t i = 0; i < n; i++) {
		if (xs[i].done)
			continue;
		xs[i].done = true;
		xs[i].r->fail = RIP_HTTP_TIMEOUT;
		xs[i].r->seconds = (double)(now_ms() - start) / 1e3;
	}
	return 0;
}

static void multi_cleanup(CURLM *multi, struct xfer *xs, size_t n)
{
	for (size_t i = 0; xs && i < n; i++) {
		if (xs[i].added)
			cu.curl_multi_remove_handle(multi, xs[i].easy);
		if (xs[i].easy)
			cu.curl_easy_cleanup(xs[i].easy);
	}
	if (multi)
		cu.curl_multi_cleanup(multi);
	free(xs);
}

int rip_http_get_many(struct rip_http_result *out, const char *const *urls,
	size_t n, uint64_t timeout_ms, uint64_t slack_ms, const char *noproxy,
	size_t answer_max, struct rip_err *err)
{
	struct xfer *xs = NULL;
	CURLM *multi = NULL;
	int error = 0;
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (struct rip_http_result)RIP_HTTP_RESULT_INIT;
	if (n == 0)
		return 0;
	timeout_ms = clamp_timeout(timeout_ms);
	if (slack_ms > HTTP_TIMEOUT_MAX)
		slack_ms = HTTP_TIMEOUT_MAX;
	if ((error = http_init(err)) < 0)
		goto done;
	multi = cu.curl_multi_init();
	if (!multi) {
		error = rip_err_set(err, RIP_EIO, "libcurl: cannot make a "
			"multi handle for %zu requests", n);
		goto done;
	}
	xs = rip_xcalloc(n, sizeof(*xs));
	for (i = 0; i < n; i++) {
		xs[i].r = &out[i];
		xs[i].max = answer_max;
		if ((error = get_start(multi, &xs[i], urls[i], timeout_ms,
			     noproxy, err)) < 0)
			goto done;
	}
	error = drive(multi, xs, n, timeout_ms + slack_ms, err);
done:
	multi_cleanup(multi, xs, n);
	return error;
}
