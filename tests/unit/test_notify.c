/* SPDX-License-Identifier: MIT */
/*
 * test_notify.c: the webhook against a real HTTP server on loopback that
 * each test starts itself: a thread listening on 127.0.0.1, port 0, that
 * reads each request (request line, headers, Content-Length body), records
 * it, and answers from the test's script: a list of answers, the last one
 * repeating. An answer with code 0 never comes: the connection is held
 * open, unanswered, until the server stops.
 *
 * Delays are 10 ms so that retries cost little; where a test must prove a
 * wait was skipped or capped, the wait it would otherwise make is an hour,
 * so that a regression hangs (and meson's timeout fails it) instead of
 * passing slowly. Waits for the detached delivery poll up to 20 s: an
 * upper bound for a slow machine, not a measurement.
 */
#include "helpers.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <jansson.h>

#include "ripcord/notify.h"
#include "ripcord/store.h"
#include "json_internal.h"

#define MAX_REQ 16
#define MAX_HUNG 16
#define HOUR_MS 3600000u
#define WAIT_TICKS 400 /* x 50 ms: 20 s */

/* ---- the server (a thread of the test process) ---- */

struct answer {
	int code;            /* 0: never answer */
	const char *headers; /* extra lines, each ending in \r\n */
	const char *body;
};

struct request {
	char method[16];
	char path[256];
	char content_type[128];
	char user_agent[128];
	char *body;
};

struct server {
	int lfd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
	const struct answer *script;
	size_t nscript;
	struct request req[MAX_REQ];
	size_t nreq;
	int hung[MAX_HUNG];
	size_t nhung;
};

static const struct answer ok_200[] = { { 200, "", "" } };

static void header_value(const char *head, const char *name, char *out,
	size_t n)
{
	size_t len = strlen(name), vlen;
	const char *line = strstr(head, "\r\n"), *v;

	out[0] = '\0';
	while (line && line[2] && line[2] != '\r') {
		line += 2;
		if (!strncasecmp(line, name, len) && line[len] == ':') {
			v = line + len + 1;
			v += strspn(v, " \t");
			vlen = strcspn(v, "\r\n");
			snprintf(out, n, "%.*s", (int)vlen, v);
			return;
		}
		line = strstr(line, "\r\n");
	}
}

/* Reads one request into r; -1 when the client went away first. */
static int read_request(int fd, struct request *r)
{
	char buf[16384], len_text[32] = "";
	size_t len = 0, head, want;
	char *end = NULL;
	ssize_t n;

	while (!end && len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return -1;
	head = (size_t)(end - buf) + 4;
	sscanf(buf, "%15s %255s", r->method, r->path);
	end[2] = '\0'; /* the head ends at its last header line */
	header_value(buf, "Content-Type", r->content_type,
		sizeof(r->content_type));
	header_value(buf, "User-Agent", r->user_agent, sizeof(r->user_agent));
	header_value(buf, "Content-Length", len_text, sizeof(len_text));
	want = (size_t)strtoul(len_text, NULL, 10);
	r->body = calloc(1, want + 1);
	assert_non_null(r->body);
	len -= head;
	if (len > want)
		len = want;
	memcpy(r->body, buf + head, len);
	while (len < want) {
		n = read(fd, r->body + len, want - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	return 0;
}

static void respond(int fd, const struct answer *a)
{
	char text[1024];
	int n;

	n = snprintf(text, sizeof(text), "HTTP/1.1 %d Scripted\r\n%s"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n%s", a->code,
		a->headers ? a->headers : "", strlen(a->body ? a->body : ""),
		a->body ? a->body : "");
	/* MSG_NOSIGNAL: a client that gave up must not kill the test */
	if (send(fd, text, (size_t)n, MSG_NOSIGNAL) < 0) {
		/* it gave up: its attempt failed, as it should */
	}
}

static void serve(struct server *s, int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	struct request r = { 0 };
	struct answer a;
	size_t i;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read_request(fd, &r) < 0) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&s->lock);
	i = s->nreq < s->nscript ? s->nreq : s->nscript - 1;
	a = s->script[i];
	if (s->nreq < MAX_REQ)
		s->req[s->nreq++] = r;
	else
		free(r.body);
	pthread_mutex_unlock(&s->lock);
	if (a.code == 0 && s->nhung < MAX_HUNG) {
		s->hung[s->nhung++] = fd;
		return;
	}
	if (a.code)
		respond(fd, &a);
	close(fd);
}

static bool stopping(struct server *s)
{
	bool stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	int fd;

	while (!stopping(s)) {
		struct pollfd p = { .fd = s->lfd, .events = POLLIN };

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			serve(s, fd);
	}
	return NULL;
}

static int server_start(struct server *s)
{
	s->script = ok_200;
	s->nscript = 1;
	s->lfd = bind_loopback(&s->port);
	if (s->lfd < 0)
		return -1;
	pthread_mutex_init(&s->lock, NULL);
	if (listen(s->lfd, 64) == 0 &&
		pthread_create(&s->thread, NULL, server_main, s) == 0)
		return 0;
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
	return -1;
}

static void server_stop(struct server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	for (size_t i = 0; i < s->nhung; i++)
		close(s->hung[i]);
	for (size_t i = 0; i < s->nreq; i++)
		free(s->req[i].body);
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
}

static void server_script(struct server *s, const struct answer *a, size_t n)
{
	pthread_mutex_lock(&s->lock);
	s->script = a;
	s->nscript = n;
	pthread_mutex_unlock(&s->lock);
}

static size_t server_requests(struct server *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->nreq;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- fixture and helpers ---- */

struct fix {
	struct tmpdir *tmp;
	struct server srv;
	char url[128]; /* http://127.0.0.1:<port>/hook */
	char path[512];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	void *t = NULL;

	if (!f)
		return -1;
	if (tmpdir_setup(&t) < 0) {
		free(f);
		return -1;
	}
	f->tmp = t;
	if (server_start(&f->srv) < 0) {
		tmpdir_teardown(&t);
		free(f);
		return -1;
	}
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/hook",
		f->srv.port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	void *t = f->tmp;

	server_stop(&f->srv);
	tmpdir_teardown(&t);
	free(f);
	return 0;
}

static const char *fpath(struct fix *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->tmp->path, name);
	return f->path;
}

static struct rip_notify_opts fast(const char *url, unsigned retries)
{
	struct rip_notify_opts o = {
		.url = url,
		.retries = retries,
		.base_delay_ms = 10,
		.max_delay_ms = 40,
		.timeout_ms = 5000,
	};

	return o;
}

#define SCRIPT(f, a) server_script(&(f)->srv, (a), RIP_ARRAY_SIZE(a))

#define assert_contains(hay, needle) do { \
	if (!strstr((hay), (needle))) \
		fail_msg("'%s' lacks '%s'", (hay), (needle)); \
} while (0)

#define assert_lacks(hay, needle) do { \
	if (strstr((hay), (needle))) \
		fail_msg("'%s' shows '%s'", (hay), (needle)); \
} while (0)

static const char body[] = "{\"event\":\"rollback\",\"release\":\"v2\"}";

/* Every request the server saw was this POST. */
static void assert_posts(struct server *s, size_t n, const char *json)
{
	pthread_mutex_lock(&s->lock);
	assert_int_equal(s->nreq, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(s->req[i].method, "POST");
		assert_string_equal(s->req[i].path, "/hook");
		assert_string_equal(s->req[i].content_type, "application/json");
		assert_int_equal(strncmp(s->req[i].user_agent, "ripcord/", 8),
			0);
		assert_string_equal(s->req[i].body, json);
	}
	pthread_mutex_unlock(&s->lock);
}

/* Reads path into out ("" when missing). */
static void slurp(const char *path, char *out, size_t n)
{
	FILE *fp = fopen(path, "r");
	size_t len = 0;

	if (fp) {
		len = fread(out, 1, n - 1, fp);
		fclose(fp);
	}
	out[len] = '\0';
}

/* Waits (up to 20 s) for a complete line in path; fails the test if none. */
static void wait_line(const char *path, char *out, size_t n)
{
	for (int i = 0; i < WAIT_TICKS; i++) {
		slurp(path, out, n);
		if (strchr(out, '\n'))
			return;
		usleep(50000);
	}
	fail_msg("no line in '%s' after 20 s", path);
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* "2026-01-02T03:04:05Z" */
static void assert_utc_time(const char *s)
{
	assert_true(strlen(s) >= 20);
	assert_true(s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
		s[13] == ':' && s[16] == ':' && s[19] == 'Z');
}

/* ---- rip_notify_post ---- */

static void test_retry_then_delivered(void **state)
{
	static const struct answer a[] = {
		{ 500, "", "oops" }, { 500, "", "" }, { 200, "", "ok" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 5);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), 0);
	assert_true(res.delivered);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.message, "HTTP 200");
	assert_posts(&f->srv, 3, body);
}

static void test_first_try(void **state)
{
	static const struct answer a[] = { { 204, "", "" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 5);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), 0);
	assert_true(res.delivered);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(res.status, 204);
	assert_posts(&f->srv, 1, body);
}

static void test_404_not_retried(void **state)
{
	static const struct answer a[] = {
		{ 404, "", "no such hook\n" }, { 200, "", "" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 5);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), RIP_EFAIL);
	assert_false(res.delivered);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(res.status, 404);
	/* the answer is quoted, on one line */
	assert_string_equal(res.message, "HTTP 404: no such hook");
	assert_posts(&f->srv, 1, body);
	assert_err_contains(&err, f->url);
	assert_err_contains(&err, "after 1 attempt:");
	assert_err_contains(&err, "expected a 2xx answer");
	assert_err_contains(&err, "not retried");
}

/* 3xx and other 4xx end delivery too; a redirect is never followed. */
static void test_permanent_answers(void **state)
{
	static const struct answer bad[] = { { 400, "", "" } };
	static const struct answer moved[] = {
		{ 301, "Location: /elsewhere\r\n", "" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 5);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	SCRIPT(f, bad);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), RIP_EFAIL);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(res.status, 400);
	SCRIPT(f, moved);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), RIP_EFAIL);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(res.status, 301);
	assert_err_contains(&err, "redirects are not followed");
	assert_posts(&f->srv, 2, body); /* no request went to /elsewhere */
}

static void test_408_429_retried(void **state)
{
	static const struct answer a[] = {
		{ 408, "", "" }, { 429, "", "" }, { 200, "", "" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 5);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), 0);
	assert_true(res.delivered);
	assert_int_equal(res.attempts, 3);
	assert_posts(&f->srv, 3, body);
}

static void test_retries_exhausted(void **state)
{
	static const struct answer a[] = { { 502, "", "" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 2);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), RIP_EFAIL);
	assert_false(res.delivered);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(res.status, 502);
	assert_posts(&f->srv, 3, body);
	assert_err_contains(&err, "not delivered after 3 attempts: HTTP 502");
	assert_err_contains(&err, "retries = 2");
}

static void test_no_retries(void **state)
{
	static const struct answer a[] = { { 500, "", "" }, { 200, "", "" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 0);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), RIP_EFAIL);
	assert_int_equal(res.attempts, 1);
	assert_posts(&f->srv, 1, body);
}

/* Retry-After: 0 overrides an hour of backoff. */
static void test_retry_after_zero(void **state)
{
	static const struct answer a[] = {
		{ 503, "Retry-After: 0\r\n", "" }, { 200, "", "" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 3);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	o.base_delay_ms = HOUR_MS;
	o.max_delay_ms = HOUR_MS;
	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), 0);
	assert_true(res.delivered);
	assert_int_equal(res.attempts, 2);
	assert_posts(&f->srv, 2, body);
}

/* An HTTP date in the past means now. */
static void test_retry_after_date(void **state)
{
	static const struct answer a[] = {
		{ 429, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n", "" },
		{ 200, "", "" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 3);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	o.base_delay_ms = HOUR_MS;
	o.max_delay_ms = HOUR_MS;
	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), 0);
	assert_int_equal(res.attempts, 2);
}

/* Retry-After asks for an hour; max_delay_ms caps it. */
static void test_retry_after_capped(void **state)
{
	static const struct answer a[] = {
		{ 503, "Retry-After: 3600\r\n", "" }, { 200, "", "" } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 3);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), 0);
	assert_true(res.delivered);
	assert_int_equal(res.attempts, 2);
}

/* Bound, never listening: every connection is refused. */
static void test_refused(void **state)
{
	struct rip_notify_result res;
	struct rip_err err = { 0 };
	struct rip_notify_opts o;
	char url[160], shown[160];
	int port = 0, fd = bind_loopback(&port);

	(void)state;
	assert_true(fd >= 0);
	snprintf(url, sizeof(url),
		"http://ops:secret@127.0.0.1:%d/hook?token=abc", port);
	snprintf(shown, sizeof(shown),
		"'http://ops:***@127.0.0.1:%d/hook?\xe2\x80\xa6'", port);
	o = fast(url, 2);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), RIP_EFAIL);
	close(fd);
	assert_false(res.delivered);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.message, "connection refused");
	assert_err_contains(&err, shown);
	assert_err_contains(&err, "not delivered after 3 attempts");
	assert_err_contains(&err, "reachable");
	assert_lacks(err.msg, "secret");
	assert_lacks(err.msg, "abc");
}

/* Accepted and never answered: each attempt ends at its timeout. */
static void test_timeout(void **state)
{
	static const struct answer a[] = { { 0, NULL, NULL } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 1);
	struct rip_notify_result res;
	struct rip_err err = { 0 };

	o.timeout_ms = 300;
	SCRIPT(f, a);
	assert_int_equal(rip_notify_post(&o, body, &res, &err), RIP_EFAIL);
	assert_false(res.delivered);
	assert_int_equal(res.attempts, 2);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.message, "timed out after 300ms");
	assert_posts(&f->srv, 2, body);
}

static void test_bad_url(void **state)
{
	static const char *urls[] = { NULL, "", "ftp://127.0.0.1/hook",
		"not a url", "file:///etc/passwd", "127.0.0.1/hook" };
	struct fix *f = *state;
	struct rip_notify_result res;
	struct rip_notify_opts o;

	for (size_t i = 0; i < RIP_ARRAY_SIZE(urls); i++) {
		struct rip_err err = { 0 };

		o = fast(urls[i], 3);
		assert_int_equal(rip_notify_post(&o, body, &res, &err),
			RIP_ECONFIG);
		assert_int_equal(res.attempts, 0);
		assert_false(res.delivered);
		assert_err_contains(&err, "http:// or https://");
	}
	o = fast(f->url, 3);
	assert_int_equal(rip_notify_post(&o, NULL, &res, NULL), RIP_EFAIL);
	assert_int_equal(rip_notify_post(NULL, body, &res, NULL), RIP_ECONFIG);
	assert_int_equal(server_requests(&f->srv), 0);
}

static void test_mask_url(void **state)
{
	static const char *cases[][2] = {
		{ "https://user:secret@host/hook?token=abc",
		  "https://user:***@host/hook?\xe2\x80\xa6" },
		{ "https://host:8443/a/b", "https://host:8443/a/b" },
		{ "https://tok3n@host/x", "https://***@host/x" },
		{ "http://host/p#frag", "http://host/p#\xe2\x80\xa6" },
		{ "http://host/p?q=1#frag",
		  "http://host/p?\xe2\x80\xa6#\xe2\x80\xa6" },
		{ "https://hooks.slack.com/services/T0001/B0001/"
		  "XXXXXXXXXXXXXXXXXXXXXXXX",
		  "https://hooks.slack.com/services/T0001/B0001/\xe2\x80\xa6" },
		{ "http://[::1]:8080/h", "http://[::1]:8080/h" },
		{ "host/path?k=v", "host/path?\xe2\x80\xa6" },
		{ "http://h/a b\n", "http://h/a?b?" },
		{ "", "" },
	};
	char *m;

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		m = rip_notify_mask_url(cases[i][0]);
		assert_string_equal(m, cases[i][1]);
		free(m);
	}
	m = rip_notify_mask_url(NULL);
	assert_string_equal(m, "(none)");
	free(m);
}

/* ---- rip_notify_send ---- */

/* No child of ours is left, not even a zombie: the middle one is reaped,
 * the deliverer belongs to init. */
static void assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_send_delivered(void **state)
{
	struct fix *f = *state;
	struct rip_err err = { 0 };
	struct rip_notify_opts o;
	char url[160], want[256], line[1024], log[512];
	char *doc = rip_notify_event("rollback", "shop", NULL);

	assert_non_null(doc);
	snprintf(url, sizeof(url), "%s?token=abc", f->url);
	snprintf(log, sizeof(log), "%s", fpath(f, "notify.log"));
	o = fast(url, 3);
	assert_int_equal(rip_notify_send(&o, doc, log, &err), 0);
	assert_no_children();
	wait_line(log, line, sizeof(line));
	assert_int_equal(count_char(line, '\n'), 1);
	assert_utc_time(line);
	snprintf(want, sizeof(want), " rollback http://127.0.0.1:%d/hook?"
		"\xe2\x80\xa6 delivered attempts=1 status=200 HTTP 200\n",
		f->srv.port);
	assert_string_equal(line + 20, want);
	assert_lacks(line, "abc");
	pthread_mutex_lock(&f->srv.lock);
	assert_int_equal(f->srv.nreq, 1);
	assert_string_equal(f->srv.req[0].body, doc);
	assert_string_equal(f->srv.req[0].content_type, "application/json");
	assert_string_equal(f->srv.req[0].path, "/hook?token=abc");
	pthread_mutex_unlock(&f->srv.lock);
	free(doc);
}

/* Failures are logged the same way; a body with no event logs "-". */
static void test_send_failed(void **state)
{
	static const struct answer a[] = { { 500, "", "" } };
	struct fix *f = *state;
	struct rip_err err = { 0 };
	struct rip_notify_opts o = fast(f->url, 1);
	char line[1024], want[256];

	SCRIPT(f, a);
	assert_int_equal(rip_notify_send(&o, "[1,2]", fpath(f, "n.log"), &err),
		0);
	assert_no_children();
	wait_line(fpath(f, "n.log"), line, sizeof(line));
	assert_int_equal(count_char(line, '\n'), 1);
	snprintf(want, sizeof(want), " - %s failed attempts=2 status=500 "
		"HTTP 500\n", f->url);
	assert_string_equal(line + 20, want);
	assert_posts(&f->srv, 2, "[1,2]");
}

static void test_send_off(void **state)
{
	struct fix *f = *state;
	struct rip_notify_opts o = fast(NULL, 3);
	struct rip_err err = { 0 };
	char log[512];

	snprintf(log, sizeof(log), "%s", fpath(f, "off.log"));
	assert_int_equal(rip_notify_send(&o, body, log, &err), 0);
	assert_int_equal(rip_notify_send(NULL, body, log, &err), 0);
	assert_no_children();
	assert_int_equal(access(log, F_OK), -1);
	assert_int_equal(count_entries(f->tmp->path), 0);
}

/*
 * The deliverer keeps none of our descriptors: while it provably still
 * runs (the server holds its POST unanswered), a pipe whose write end we
 * leaked to it (no O_CLOEXEC) reads EOF once we close ours.
 */
static void test_send_closes_fds(void **state)
{
	static const struct answer a[] = { { 0, NULL, NULL } };
	struct fix *f = *state;
	struct rip_notify_opts o = fast(f->url, 0);
	struct rip_err err = { 0 };
	struct pollfd p;
	int fds[2], i;
	char c;

	o.timeout_ms = HOUR_MS;
	SCRIPT(f, a);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(rip_notify_send(&o, body, NULL, &err), 0);
	close(fds[1]);
	for (i = 0; i < WAIT_TICKS && server_requests(&f->srv) == 0; i++)
		usleep(50000);
	assert_int_equal(server_requests(&f->srv), 1);
	p.fd = fds[0];
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, WAIT_TICKS * 50), 1);
	assert_int_equal(read(fds[0], &c, 1), 0);
	close(fds[0]);
	/* teardown closes the held connection: the deliverer then ends */
}

/* ---- rip_notify_event ---- */

static void test_event_document(void **state)
{
	json_t *fields = json_pack("{s:s, s:i, s:s}", "release", "v2",
		"attempt", 3, "event", "not this");
	json_t *doc;
	char host[256] = "", *s;

	(void)state;
	assert_non_null(fields);
	s = rip_notify_event("rollback", "shop", fields);
	assert_non_null(s);
	/* borrowed: still ours, one reference */
	assert_int_equal(fields->refcount, 1);
	assert_int_equal(json_object_size(fields), 3);
	assert_null(strchr(s, '\n')); /* compact */
	doc = json_loads(s, 0, NULL);
	assert_non_null(doc);
	gethostname(host, sizeof(host) - 1);
	assert_int_equal(json_object_size(doc), 8);
	assert_string_equal(json_string_value(json_object_get(doc, "event")),
		"rollback");
	assert_string_equal(json_string_value(json_object_get(doc, "project")),
		"shop");
	assert_string_equal(json_string_value(json_object_get(doc, "host")),
		host);
	assert_string_equal(json_string_value(json_object_get(doc, "user")),
		rip_user_name());
	assert_string_equal(json_string_value(json_object_get(doc, "tool")),
		"ripcord");
	assert_utc_time(json_string_value(json_object_get(doc, "at")));
	assert_int_equal(strlen(json_string_value(json_object_get(doc, "at"))),
		20);
	assert_string_equal(json_string_value(json_object_get(doc, "release")),
		"v2");
	assert_int_equal(json_integer_value(json_object_get(doc, "attempt")),
		3);
	json_decref(doc);
	free(s);
	json_decref(fields);
}

static void test_event_edges(void **state)
{
	json_t *arr = json_array(), *doc;
	char *s;

	(void)state;
	s = rip_notify_event("drill_trend", NULL, NULL);
	assert_non_null(s);
	doc = json_loads(s, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_object_size(doc), 6);
	assert_true(json_is_null(json_object_get(doc, "project")));
	json_decref(doc);
	free(s);
	assert_null(rip_notify_event(NULL, "shop", NULL));
	assert_null(rip_notify_event("abort", "shop", arr));
	assert_null(rip_notify_event("abort", "\xff\xfe", NULL));
	json_decref(arr);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_retry_then_delivered),
		T(test_first_try),
		T(test_404_not_retried),
		T(test_permanent_answers),
		T(test_408_429_retried),
		T(test_retries_exhausted),
		T(test_no_retries),
		T(test_retry_after_zero),
		T(test_retry_after_date),
		T(test_retry_after_capped),
		T(test_refused),
		T(test_timeout),
		T(test_bad_url),
		T(test_mask_url),
		T(test_send_delivered),
		T(test_send_failed),
		T(test_send_off),
		T(test_send_closes_fds),
		T(test_event_document),
		T(test_event_edges),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
