/* SPDX-License-Identifier: MIT */
/*
 * notify.c: the [notify] webhook: the standard document (rip_notify_event),
 * a synchronous POST with retries (rip_notify_post), delivery from a
 * detached process (rip_notify_send).
 *
 * rip_notify_post makes one request per attempt through the HTTP wrapper
 * (http.c, rip_http_request) in the calling thread: no threads of ours,
 * no signals; it judges each answer, waits and retries. URLs are masked by
 * rip_http_mask_url.
 *
 * Invariants: a webhook never holds up the caller of rip_notify_send
 * longer than two fork(2)s; every attempt is bounded by its timeout and
 * every wait by max_delay_ms, so the delivery process ends too. A URL is
 * shown only masked (tokens live in webhook URLs), never in full. The
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

#include <jansson.h>

#include "ripcord/buf.h"
#include "ripcord/notify.h"
#include "ripcord/store.h"
#include "http_internal.h"
#include "json_internal.h"
#include "banned.h"

/* keeps the value a long on every platform */
#define NOTIFY_TIMEOUT_MAX ((uint64_t)INT32_MAX)
/* an answer's body is read this far, then cut and judged by its status */
#define NOTIFY_BODY_MAX ((size_t)64 * 1024)
#define NOTIFY_ANSWER_SHOWN 100 /* bytes of an answer quoted in a message */
#define NOTIFY_EVENT_MAX 64     /* bytes of an event name in the log */

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
	char *noproxy;
	struct rip_http_result last; /* of the current attempt */
};

/* "2026-01-02T03:04:05Z" */
static void utc_now(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "%s", "1970-01-01T00:00:00Z");
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
	switch (rip_http_url_check(NULL, url)) {
	case RIP_HTTP_URL_OK:
		return NULL;
	case RIP_HTTP_URL_EMPTY:
		return "missing";
	case RIP_HTTP_URL_NOMEM:
		return "out of memory";
	case RIP_HTTP_URL_NOLIB:
		return "libcurl (libcurl.so.4) cannot be loaded";
	case RIP_HTTP_URL_SCHEME:
		return "not http or https";
	default:
		return "not a URL";
	}
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
static enum verdict no_answer(struct post *p, struct rip_notify_result *res)
{
	const struct rip_http_result *r = &p->last;
	char t[32];

	switch (r->fail) {
	case RIP_HTTP_TIMEOUT:
		format_ms(t, sizeof(t), p->timeout_ms);
		say(res, "timed out after %s", t);
		return RETRY;
	case RIP_HTTP_CONNECT:
		if (r->refused)
			say(res, "connection refused");
		else
			say(res, "cannot connect: %s", r->error);
		return RETRY;
	case RIP_HTTP_RESOLVE:
	case RIP_HTTP_RESOLVE_PROXY:
		say(res, "cannot resolve host: %s", r->error);
		return RETRY;
	case RIP_HTTP_EMPTY:
		say(res, "empty reply");
		return RETRY;
	case RIP_HTTP_NETWORK:
	case RIP_HTTP_TLS:
		say(res, "%s", r->error);
		return RETRY;
	default:
		/* bad URL, TLS verification, out of memory: will not heal */
		say(res, "%s", r->error);
		return GIVE_UP;
	}
}

static enum verdict judge(struct post *p, struct rip_notify_result *res)
{
	int s = res->status;
	const char *a = p->last.answer.buf + strspn(p->last.answer.buf,
		" \t\r\n");
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

/* One POST; RIP_EIO when libcurl cannot be set up. */
static int attempt(enum verdict *v, struct post *p,
	struct rip_notify_result *res, struct rip_err *err)
{
	/* a bare "Expect:" stops libcurl from waiting for 100-continue */
	static const char *const headers[] = {
		"Content-Type: application/json", "Expect:", NULL };
	const struct rip_http_request req = {
		.method = "POST",
		.url = p->url,
		.body = p->body,
		.body_len = strlen(p->body),
		.headers = headers,
		.timeout_ms = p->timeout_ms,
		.noproxy = p->noproxy,
		.answer_max = NOTIFY_BODY_MAX,
		.answer_keep = NOTIFY_ANSWER_SHOWN,
		.retry_after = true,
	};
	int error;

	if ((error = rip_http_request(&p->last, &req, err)) < 0)
		return error;
	res->attempts++;
	res->status = p->last.status >= 100 ? p->last.status : 0;
	/* an answer's status counts even when its body broke off */
	if (res->status)
		*v = judge(p, res);
	else if (p->last.fail == RIP_HTTP_OK) {
		say(res, "no HTTP status");
		*v = RETRY;
	} else {
		*v = no_answer(p, res);
	}
	return 0;
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

	int64_t asked = p->last.retry_after_ms;

	if (asked >= 0)
		return (uint64_t)asked < p->max_ms ? (uint64_t)asked : p->max_ms;
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
	p->noproxy = rip_http_noproxy();
	p->last = (struct rip_http_result)RIP_HTTP_RESULT_INIT;
}

static void post_release(struct post *p)
{
	rip_http_result_release(&p->last);
	free(p->noproxy);
}

static int not_delivered(const struct post *p, enum verdict v,
	const struct rip_notify_result *res, struct rip_err *err)
{
	char *shown = rip_http_mask_url(p->url);
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
	char *shown = rip_http_mask_url(url);
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
	enum verdict v = GIVE_UP;
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
	for (unsigned k = 0;; k++) {
		if ((error = attempt(&v, &p, res, err)) < 0)
			goto done;
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
	shown = rip_http_mask_url(url);
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
	shown = rip_http_mask_url(o->url);
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
