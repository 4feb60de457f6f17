/* SPDX-License-Identifier: MIT */
/*
 * notify.c: the [notify] webhook: the standard document (rip_notify_event),
 * a synchronous POST with retries (rip_notify_post), delivery from a
 * detached process (rip_notify_send), and URL masking for every message.
 *
 * rip_notify_post makes one libcurl easy handle and runs it once per
 * attempt in the calling thread: no threads of ours, no signals
 * (CURLOPT_NOSIGNAL). It is the second file to call libcurl, after
 * probe.c: a POST with retries shares nothing with a multi-handle GET
 * sweep but curl_global_init, and that is reference-counted.
 *
 * Invariants: a webhook never holds up the caller of rip_notify_send
 * longer than two fork(2)s; every attempt is bounded by its timeout and
 * every wait by max_delay_ms, so the delivery process ends too. A URL is
 * shown only masked (tokens live in webhook URLs), never in full. The
 * handle and its header list are freed before rip_notify_post returns; the
 * delivery process leaves through _exit, after freeing what it made.
 *
 * Tuned for one small document per rollout event to one endpoint that
 * answers in milliseconds, and for the single-threaded CLI: the detached
 * grandchild runs libcurl after fork without exec.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ripcord/buf.h"
#include "ripcord/notify.h"
#include "ripcord/store.h"
#include "curl_internal.h"
#include "banned.h"

/* keeps the value a long on every platform */
#define NOTIFY_TIMEOUT_MAX ((uint64_t)INT32_MAX)
/* an answer's body is read this far, then cut and judged by its status */
#define NOTIFY_BODY_MAX ((size_t)64 * 1024)
#define NOTIFY_ANSWER_SHOWN 100 /* bytes of an answer quoted in a message */
#define NOTIFY_EVENT_MAX 64     /* bytes of an event name in the log */
#define NOTIFY_SEGMENT_SECRET 16 /* path segments this long are masked */
#define ELLIPSIS "\xe2\x80\xa6"

enum verdict {
	DELIVERED,
	RETRY,   /* a failure that may heal: connection, timeout, 408, 429, 5xx */
	GIVE_UP, /* one that will not */
};

struct post {
	const char *url;
	const char *body;
	uint64_t base_ms, max_ms, timeout_ms;
	unsigned retries;
	uint64_t rng;
	CURL *easy;
	struct curl_slist *headers;
	char *noproxy;
	/* the current attempt */
	int64_t retry_after_ms; /* what the answer asked; -1: nothing */
	size_t body_len;        /* of the answer, up to NOTIFY_BODY_MAX */
	bool cut;
	char answer[NOTIFY_ANSWER_SHOWN + 1];
	char errbuf[CURL_ERROR_SIZE];
};

/* "2026-01-02T03:04:05Z" */
static void utc_now(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "%s", "1970-01-01T00:00:00Z");
}

/* URL masking */

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
		if (seg >= NOTIFY_SEGMENT_SECRET)
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

char *rip_notify_mask_url(const char *url)
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

/* One attempt */

static void say(struct rip_notify_result *res, const char *fmt, ...)
	RIP_PRINTF(2, 3);

static void say(struct rip_notify_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	for (char *c = res->message; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
}

/* NULL when url is an http or https URL with a host; else why not. */
static const char *url_problem(const char *url)
{
	char *scheme = NULL, *host = NULL;
	const char *why = NULL;
	CURLU *u;

	if (!url || !*url)
		return "missing";
	u = curl_url();
	if (!u)
		return "out of memory";
	/* no flags: a missing scheme is an error, never guessed as http */
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		!*host)
		why = "not a URL";
	else if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))
		why = "not http or https";
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return why;
}

/* Keeps the start of the answer for messages; cuts an endless one. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct post *p = userdata;
	size_t len = size * nmemb; /* size is always 1 */

	if (len > NOTIFY_BODY_MAX - p->body_len) {
		p->cut = true;
		return 0;
	}
	if (p->body_len < NOTIFY_ANSWER_SHOWN) {
		size_t keep = NOTIFY_ANSWER_SHOWN - p->body_len;

		if (keep > len)
			keep = len;
		memcpy(p->answer + p->body_len, data, keep);
		p->answer[p->body_len + keep] = '\0';
	}
	p->body_len += len;
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
	t = curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	now = time(NULL);
	return t > now ? (int64_t)(t - now) * 1000 : 0;
}

static size_t on_header(char *data, size_t size, size_t nitems,
	void *userdata)
{
	static const char name[] = "retry-after:";
	struct post *p = userdata;
	size_t len = size * nitems, n;
	char value[128];

	/* a new status line (after 1xx): what came before was not the answer */
	if (len >= 5 && !strncmp(data, "HTTP/", 5))
		p->retry_after_ms = -1;
	if (len < sizeof(name) - 1 || strncasecmp(data, name, sizeof(name) - 1))
		return len;
	n = len - (sizeof(name) - 1);
	if (n > sizeof(value) - 1)
		n = sizeof(value) - 1;
	memcpy(value, data + sizeof(name) - 1, n);
	value[n] = '\0';
	p->retry_after_ms = retry_after_ms(value);
	return len;
}

static CURLcode easy_options(struct post *p)
{
	CURLcode rc = CURLE_OK;
	CURL *e = p->easy;

	RIP_SETOPT(rc, e, CURLOPT_URL, p->url);
	RIP_SETOPT(rc, e, CURLOPT_POSTFIELDS, p->body);
	RIP_SETOPT(rc, e, CURLOPT_POSTFIELDSIZE_LARGE,
		(curl_off_t)strlen(p->body));
	RIP_SETOPT(rc, e, CURLOPT_HTTPHEADER, p->headers);
	RIP_SETOPT(rc, e, CURLOPT_WRITEFUNCTION, on_body);
	RIP_SETOPT(rc, e, CURLOPT_WRITEDATA, (void *)p);
	RIP_SETOPT(rc, e, CURLOPT_HEADERFUNCTION, on_header);
	RIP_SETOPT(rc, e, CURLOPT_HEADERDATA, (void *)p);
	if (rc == CURLE_OK)
		rc = rip_curl_common(e, (long)p->timeout_ms, p->noproxy, p->errbuf);
	return rc;
}

static int post_setup(struct post *p, struct rip_err *err)
{
	struct curl_slist *h;
	CURLcode rc;

	p->easy = curl_easy_init();
	if (!p->easy)
		return rip_err_set(err, RIP_EIO, "libcurl: cannot make a handle");
	p->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* a bare "Expect:" stops libcurl from waiting for 100-continue */
	h = p->headers ? curl_slist_append(p->headers, "Expect:") : NULL;
	if (!h)
		return rip_err_set(err, RIP_EIO, "libcurl: out of memory");
	p->noproxy = rip_curl_noproxy();
	rc = easy_options(p);
	if (rc != CURLE_OK)
		return rip_err_set(err, RIP_EIO, "libcurl: cannot set up the "
			"POST: %s", curl_easy_strerror(rc));
	return 0;
}

/* "2s" for whole seconds, "300ms" otherwise: the unit the user wrote. */
static void format_ms(char *out, size_t n, uint64_t ms)
{
	if (ms >= 1000 && ms % 1000 == 0)
		snprintf(out, n, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(out, n, "%" PRIu64 "ms", ms);
}

/* Says why the attempt got no answer; returns whether that may heal. */
static enum verdict no_answer(struct post *p, CURLcode rc,
	struct rip_notify_result *res)
{
	const char *text = p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc);
	long os_errno = 0;
	char t[32];

	curl_easy_getinfo(p->easy, CURLINFO_OS_ERRNO, &os_errno);
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		format_ms(t, sizeof(t), p->timeout_ms);
		say(res, "timed out after %s", t);
		return RETRY;
	case CURLE_COULDNT_CONNECT:
		if (os_errno == ECONNREFUSED || strstr(text, "refused"))
			say(res, "connection refused");
		else
			say(res, "cannot connect: %s", text);
		return RETRY;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		say(res, "cannot resolve host: %s", text);
		return RETRY;
	case CURLE_GOT_NOTHING:
		say(res, "empty reply");
		return RETRY;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		say(res, "%s", text);
		return RETRY;
	default:
		/* bad URL, TLS verification, out of memory: will not heal */
		say(res, "%s", text);
		return GIVE_UP;
	}
}

static enum verdict judge(struct post *p, struct rip_notify_result *res)
{
	int s = res->status;
	const char *a = p->answer + strspn(p->answer, " \t\r\n");
	size_t n = strlen(a);

	if (s >= 200 && s <= 299) {
		say(res, "HTTP %d", s);
		return DELIVERED;
	}
	while (n && isspace((unsigned char)a[n - 1]))
		n--;
	if (n)
		say(res, "HTTP %d: %.*s", s, (int)n, a);
	else
		say(res, "HTTP %d", s);
	return s == 408 || s == 429 || (s >= 500 && s <= 599) ? RETRY :
		GIVE_UP;
}

static enum verdict attempt(struct post *p, struct rip_notify_result *res)
{
	long status = 0;
	CURLcode rc;

	p->retry_after_ms = -1;
	p->body_len = 0;
	p->cut = false;
	p->answer[0] = '\0';
	p->errbuf[0] = '\0';
	rc = curl_easy_perform(p->easy);
	res->attempts++;
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
	res->status = status >= 100 && status <= 999 ? (int)status : 0;
	/* an answer's status counts even when its body broke off */
	if (res->status)
		return judge(p, res);
	if (rc == CURLE_OK) {
		say(res, "no HTTP status");
		return RETRY;
	}
	return no_answer(p, rc, res);
}

/* Backoff */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: jitter needs spread, not secrecy */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static uint64_t rng_seed(void)
{
	struct timespec ts;
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
			((uint64_t)getpid() << 40);
	}
	return s ? s : 0x9E3779B97F4A7C15ULL;
}

/* The wait before retry k (from 0). */
static uint64_t backoff_ms(struct post *p, unsigned k)
{
	uint64_t d = p->base_ms;

	if (p->retry_after_ms >= 0)
		return (uint64_t)p->retry_after_ms < p->max_ms ?
			(uint64_t)p->retry_after_ms : p->max_ms;
	for (unsigned i = 0; i < k && d < p->max_ms; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	if (d > p->max_ms)
		d = p->max_ms;
	/* full jitter: anywhere in [0, d] */
	return d == UINT64_MAX ? rng_next(&p->rng) : rng_next(&p->rng) % (d + 1);
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts;

	if (ms > (uint64_t)INT32_MAX * 1000)
		ms = (uint64_t)INT32_MAX * 1000;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* Posting */

static void post_init(struct post *p, const struct rip_notify_opts *o,
	const char *body)
{
	memset(p, 0, sizeof(*p));
	p->url = o->url;
	p->body = body;
	p->retries = o->retries;
	p->base_ms = o->base_delay_ms ? o->base_delay_ms :
		RIP_NOTIFY_BASE_DELAY_MS;
	p->max_ms = o->max_delay_ms ? o->max_delay_ms : RIP_NOTIFY_MAX_DELAY_MS;
	p->timeout_ms = o->timeout_ms ? o->timeout_ms : RIP_NOTIFY_TIMEOUT_MS;
	if (p->timeout_ms > NOTIFY_TIMEOUT_MAX)
		p->timeout_ms = NOTIFY_TIMEOUT_MAX;
	p->rng = rng_seed();
}

static void post_release(struct post *p)
{
	if (p->easy)
		curl_easy_cleanup(p->easy);
	curl_slist_free_all(p->headers);
	free(p->noproxy);
}

static int not_delivered(const struct post *p, enum verdict v,
	const struct rip_notify_result *res, struct rip_err *err)
{
	char *shown = rip_notify_mask_url(p->url);
	int s = res->status, rc;
	char hint[128];

	if (v == RETRY)
		snprintf(hint, sizeof(hint), "check that it is up and "
			"reachable from this host (retries = %u)", p->retries);
	else if (s >= 300 && s <= 399)
		snprintf(hint, sizeof(hint), "redirects are not followed: set "
			"[notify] webhook to the final URL");
	else if (s)
		snprintf(hint, sizeof(hint), "HTTP %d is not retried: check the "
			"URL and what the endpoint accepts", s);
	else
		snprintf(hint, sizeof(hint), "this is not retried: check the "
			"URL and the TLS setup");
	rc = rip_err_set(err, RIP_EFAIL, "webhook '%s' not delivered after %u "
		"attempt%s: %s (expected a 2xx answer; %s)", shown,
		res->attempts, res->attempts == 1 ? "" : "s", res->message,
		hint);
	free(shown);
	return rc;
}

static int bad_url(const char *url, const char *why,
	struct rip_notify_result *res, struct rip_err *err)
{
	char *shown = rip_notify_mask_url(url);
	int rc;

	say(res, "bad URL: %s", why);
	rc = rip_err_set(err, RIP_ECONFIG, "webhook '%s' is %s (expected an "
		"http:// or https:// URL in [notify] webhook)", shown, why);
	free(shown);
	return rc;
}

int rip_notify_post(const struct rip_notify_opts *o, const char *json_body,
	struct rip_notify_result *res, struct rip_err *err)
{
	enum verdict v;
	struct post p;
	const char *why;
	int error;

	memset(res, 0, sizeof(*res));
	if (!json_body) {
		say(res, "no body");
		return rip_err_set(err, RIP_EFAIL, "webhook notification "
			"without a body");
	}
	why = url_problem(o ? o->url : NULL);
	if (why)
		return bad_url(o ? o->url : NULL, why, res, err);
	post_init(&p, o, json_body);
	if ((error = rip_curl_init(err)) < 0)
		goto done;
	if ((error = post_setup(&p, err)) < 0)
		goto done;
	for (unsigned k = 0;; k++) {
		v = attempt(&p, res);
		if (v != RETRY || k >= p.retries)
			break;
		sleep_ms(backoff_ms(&p, k));
	}
	res->delivered = v == DELIVERED;
	if (!res->delivered)
		error = not_delivered(&p, v, res, err);
done:
	if (error && !res->message[0])
		say(res, "%s", "cannot set up libcurl");
	post_release(&p);
	return error;
}

/* Delivery in the background */

/* The "event" of the document, sanitized to one word; "-" without one. */
static void event_name(char *out, size_t n, const char *json_body)
{
	json_t *doc = json_loads(json_body, 0, NULL);
	const char *ev = json_string_value(json_object_get(doc, "event"));
	size_t i;

	for (i = 0; ev && ev[i] && i < n - 1; i++) {
		unsigned char c = (unsigned char)ev[i];

		out[i] = isalnum(c) || strchr("._:-", c) ? (char)c : '?';
	}
	out[i] = '\0';
	if (!i)
		snprintf(out, n, "-");
	json_decref(doc);
}

static void log_append(int fd, const char *event, const char *url,
	const struct rip_notify_result *res)
{
	struct rip_buf line = RIP_BUF_INIT;
	char at[32], *shown;
	ssize_t w;

	if (fd < 0)
		return;
	utc_now(at, sizeof(at));
	shown = rip_notify_mask_url(url);
	rip_buf_addf(&line, "%s %s %s %s attempts=%u status=%d %s\n", at,
		event, shown, res->delivered ? "delivered" : "failed",
		res->attempts, res->status, res->message);
	/* one write: O_APPEND keeps lines of concurrent deliveries whole; a
	 * second write for a short one could land inside another's line */
	do
		w = write(fd, line.buf, line.len);
	while (w < 0 && errno == EINTR);
	free(shown);
	rip_buf_release(&line);
}

static void close_from(int first)
{
	long max;

#if defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 34)
	if (close_range((unsigned)first, ~0U, 0) == 0)
		return;
#endif
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = first; fd < max; fd++)
		close(fd);
}

/* Detaches from ripcord's descriptors, terminal, cwd and signal state. */
static void detach(void)
{
	static const int reset[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM,
		SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD };
	sigset_t none;
	int fd;

	close_from(STDERR_FILENO + 1);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	for (size_t i = 0; i < RIP_ARRAY_SIZE(reset); i++)
		signal(reset[i], SIG_DFL);
	/* a peer that closes early must not kill us mid-TLS-write */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static _Noreturn void deliver(const struct rip_notify_opts *o,
	const char *json_body, const char *event, const char *log_path)
{
	struct rip_notify_result res;
	int fd = -1;

	detach();
	/* opened before chdir: log_path may be relative */
	if (log_path)
		fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			O_NOCTTY, 0644);
	if (chdir("/") < 0) {
		/* harmless: the old cwd only stays busy a while longer */
	}
	if (rip_notify_post(o, json_body, &res, NULL) < 0) {
		/* res says why; the log line is all that is left to do */
	}
	log_append(fd, event, o->url, &res);
	if (fd >= 0)
		close(fd);
	_exit(res.delivered ? 0 : 1);
}

/* The middle process: leaves the session, starts the deliverer, exits. */
static _Noreturn void launch(const struct rip_notify_opts *o,
	const char *json_body, const char *event, const char *log_path)
{
	pid_t pid;

	/* a fresh child is never a group leader, so setsid cannot fail; the
	 * grandchild is no session leader and never gets a terminal back */
	setsid();
	pid = fork();
	if (pid == 0)
		deliver(o, json_body, event, log_path);
	_exit(pid < 0 ? (errno > 0 && errno < 256 ? errno : 1) : 0);
}

int rip_notify_send(const struct rip_notify_opts *o, const char *json_body,
	const char *log_path, struct rip_err *err)
{
	char event[NOTIFY_EVENT_MAX + 1], *shown;
	int status = 0, e = 0, rc;
	pid_t pid;

	if (!o || !o->url)
		return 0;
	if (!json_body)
		return rip_err_set(err, RIP_EFAIL, "webhook notification "
			"without a body");
	event_name(event, sizeof(event), json_body);
	pid = fork();
	if (pid == 0)
		launch(o, json_body, event, log_path);
	if (pid < 0) {
		e = errno;
	} else {
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR)
				return 0; /* SIGCHLD ignored: reaped for us */
		}
		if (WIFEXITED(status))
			e = WEXITSTATUS(status);
		else
			e = EINTR;
	}
	if (!e)
		return 0;
	shown = rip_notify_mask_url(o->url);
	rc = rip_err_set(err, RIP_EIO, "cannot start delivering to webhook "
		"'%s': %s (the notification is lost; the operation goes on)",
		shown, strerror(e));
	free(shown);
	return rc;
}

/* The standard document */

static void host_name(char *out, size_t n)
{
	if (gethostname(out, n) < 0 || !*out)
		snprintf(out, n, "unknown");
	out[n - 1] = '\0';
}

char *rip_notify_event(const char *event, const char *project,
	struct json_t *fields)
{
	char host[HOST_NAME_MAX + 1], at[32], *s = NULL;
	const char *key;
	json_t *doc, *v;
	int bad = 0;

	if (!event || (fields && !json_is_object(fields)))
		return NULL;
	host_name(host, sizeof(host));
	utc_now(at, sizeof(at));
	doc = json_object();
	if (!doc)
		return NULL;
	bad |= json_object_set_new(doc, "event", json_string(event));
	bad |= json_object_set_new(doc, "project",
		project ? json_string(project) : json_null());
	bad |= json_object_set_new(doc, "host", json_string(host));
	bad |= json_object_set_new(doc, "user", json_string(rip_user_name()));
	bad |= json_object_set_new(doc, "at", json_string(at));
	bad |= json_object_set_new(doc, "tool", json_string("ripcord"));
	json_object_foreach(fields, key, v) {
		if (!json_object_get(doc, key))
			bad |= json_object_set(doc, key, v);
	}
	if (!bad)
		s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}
