/* SPDX-License-Identifier: MIT */
/*
 * test_probe.c: rip_probe_run against a real HTTP server on loopback that
 * the test starts itself: a forked child listening on 127.0.0.1, port 0,
 * serving each connection in a process of its own so that slow and hanging
 * answers block nothing else. The whole process group is killed in the
 * group teardown.
 *
 * Paths: /ok (200), /fail (500), /slow (200 after 3 s), /hang (reads the
 * request, never answers), /status/<code>, /redirect (302 to /ok), /stream
 * (200, then an endless body), /ua (200 only for a ripcord/ user agent).
 *
 * Time bounds here check correctness (nothing stalls), not speed.
 */
#include "helpers.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "ripcord/probe.h"

static pid_t server_pid = -1;
static int server_port;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the server (runs in forked children only) ---- */

static void reply(int fd, int code, const char *extra, const char *body)
{
	char head[512];
	int len;

	len = snprintf(head, sizeof(head),
		"HTTP/1.1 %d Test\r\n%sContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n", code, extra, strlen(body));
	write_all(fd, head, (size_t)len);
	write_all(fd, body, strlen(body));
}

static void stream_forever(int fd)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
	char chunk[16384];

	memset(chunk, 'x', sizeof(chunk));
	write_all(fd, head, sizeof(head) - 1);
	for (;;)
		write_all(fd, chunk, sizeof(chunk));
}

static bool is_get(const char *req, const char *path)
{
	size_t len = strlen(path);

	return !strncmp(req, "GET ", 4) && !strncmp(req + 4, path, len) &&
		req[4 + len] == ' ';
}

static void serve(int fd)
{
	char req[8192];

	read_head(fd, req, sizeof(req));
	if (is_get(req, "/ok"))
		reply(fd, 200, "", "ok\n");
	else if (is_get(req, "/fail"))
		reply(fd, 500, "", "broken\n");
	else if (is_get(req, "/slow")) {
		sleep(3);
		reply(fd, 200, "", "late\n");
	} else if (is_get(req, "/hang")) {
		for (;;)
			pause();
	} else if (is_get(req, "/redirect"))
		reply(fd, 302, "Location: /ok\r\n", "");
	else if (is_get(req, "/stream"))
		stream_forever(fd);
	else if (is_get(req, "/ua"))
		reply(fd, strstr(req, "\r\nUser-Agent: ripcord/") ? 200 : 400,
			"", "");
	else if (!strncmp(req, "GET /status/", 12))
		reply(fd, (int)strtol(req + 12, NULL, 10), "", "");
	else
		reply(fd, 404, "", "");
}

static int server_setup(void **state)
{
	(void)state;
	return loopback_start(&server_pid, &server_port, 256, serve);
}

static int server_teardown(void **state)
{
	(void)state;
	loopback_stop(server_pid);
	return 0;
}

/* ---- helpers ---- */

struct url {
	char s[128];
};

static void mkurl(struct url *u, const char *path)
{
	snprintf(u->s, sizeof(u->s), "http://127.0.0.1:%d%s", server_port,
		path);
}

/* Probes one path; returns the elapsed wall time of the call. */
static double probe_one(struct rip_probe *p, const char *path,
	uint64_t timeout_ms)
{
	struct rip_err err = { 0 };
	struct url u;
	double t0;

	mkurl(&u, path);
	memset(p, 0, sizeof(*p));
	p->url = u.s;
	t0 = mono();
	assert_int_equal(rip_probe_run(p, 1, timeout_ms, &err), 0);
	p->url = NULL; /* u goes out of scope */
	return mono() - t0;
}

#define assert_probe_error(p, needle) do { \
	if (!strstr((p)->error, (needle))) \
		fail_msg("probe error '%s' lacks '%s'", (p)->error, (needle)); \
} while (0)

/* ---- tests ---- */

static void test_ok(void **state)
{
	struct rip_probe p;

	(void)state;
	probe_one(&p, "/ok", 2000);
	assert_true(p.ok);
	assert_int_equal(p.status, 200);
	assert_true(p.seconds > 0);
	assert_string_equal(p.error, "");
}

static void test_fail(void **state)
{
	struct rip_probe p;

	(void)state;
	probe_one(&p, "/fail", 2000);
	assert_false(p.ok);
	assert_int_equal(p.status, 500);
	assert_string_equal(p.error, "HTTP 500");
}

static void test_status_range(void **state)
{
	struct rip_probe p;

	(void)state;
	probe_one(&p, "/status/204", 2000);
	assert_true(p.ok);
	assert_int_equal(p.status, 204);
	probe_one(&p, "/status/299", 2000);
	assert_true(p.ok);
	probe_one(&p, "/status/300", 2000);
	assert_false(p.ok);
	assert_string_equal(p.error, "HTTP 300");
	probe_one(&p, "/status/404", 2000);
	assert_false(p.ok);
	assert_string_equal(p.error, "HTTP 404");
	/* redirects are not followed: a health URL that moved is a failure */
	probe_one(&p, "/redirect", 2000);
	assert_false(p.ok);
	assert_int_equal(p.status, 302);
	assert_string_equal(p.error, "HTTP 302");
}

static void test_refused(void **state)
{
	struct rip_err err = { 0 };
	struct rip_probe p = { 0 };
	char u[64];
	int port = 0;
	/* bound, never listening: connecting is refused, and no one else
	 * can take the port while we hold it */
	int fd = bind_loopback(&port);

	(void)state;
	assert_true(fd >= 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/ok", port);
	p.url = u;
	assert_int_equal(rip_probe_run(&p, 1, 2000, &err), 0);
	close(fd);
	assert_false(p.ok);
	assert_int_equal(p.status, 0);
	assert_probe_error(&p, "refused");
	assert_true(p.seconds < 2.0);
}

static void test_hang(void **state)
{
	struct rip_probe p;
	double elapsed;

	(void)state;
	elapsed = probe_one(&p, "/hang", 300);
	assert_false(p.ok);
	assert_int_equal(p.status, 0);
	assert_string_equal(p.error, "timed out after 300ms");
	assert_true(p.seconds >= 0.25);
	assert_true(elapsed < 2.0);
}

/* 0 is the smallest timeout, never "no timeout". */
static void test_zero_timeout(void **state)
{
	struct rip_probe p;
	double elapsed;

	(void)state;
	elapsed = probe_one(&p, "/hang", 0);
	assert_false(p.ok);
	assert_probe_error(&p, "timed out");
	assert_true(elapsed < 1.0);
}

static void test_all_at_once(void **state)
{
	static const char *paths[] = { "/ok", "/fail", "/slow", "/hang" };
	struct rip_probe p[4] = { { 0 } };
	struct rip_err err = { 0 };
	struct url u[4];
	double t0, elapsed;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		mkurl(&u[i], paths[i]);
		p[i].url = u[i].s;
	}
	t0 = mono();
	assert_int_equal(rip_probe_run(p, 4, 1000, &err), 0);
	elapsed = mono() - t0;
	assert_true(p[0].ok);
	assert_int_equal(p[0].status, 200);
	assert_true(p[0].seconds < 0.9);
	assert_false(p[1].ok);
	assert_string_equal(p[1].error, "HTTP 500");
	assert_false(p[2].ok);
	assert_string_equal(p[2].error, "timed out after 1s");
	assert_false(p[3].ok);
	assert_string_equal(p[3].error, "timed out after 1s");
	/* one wait for all, bounded by the one timeout */
	assert_true(elapsed >= 0.9);
	assert_true(elapsed < 2.5);
}

/* A slow answer within the timeout is ok; its latency is its own. */
static void test_slow_within_timeout(void **state)
{
	struct rip_probe p[2] = { { 0 } };
	struct rip_err err = { 0 };
	struct url u[2];

	(void)state;
	mkurl(&u[0], "/slow");
	mkurl(&u[1], "/ok");
	p[0].url = u[0].s;
	p[1].url = u[1].s;
	assert_int_equal(rip_probe_run(p, 2, 6000, &err), 0);
	assert_true(p[0].ok);
	assert_true(p[0].seconds >= 2.9);
	assert_true(p[0].seconds < 6.0);
	assert_true(p[1].ok);
	assert_true(p[1].seconds < 2.0);
}

static void test_many(void **state)
{
	struct rip_probe p[50];
	struct rip_err err = { 0 };
	struct url u;
	size_t i;

	(void)state;
	mkurl(&u, "/ok");
	memset(p, 0, sizeof(p));
	for (i = 0; i < RIP_ARRAY_SIZE(p); i++)
		p[i].url = u.s;
	assert_int_equal(rip_probe_run(p, RIP_ARRAY_SIZE(p), 5000, &err), 0);
	for (i = 0; i < RIP_ARRAY_SIZE(p); i++) {
		if (!p[i].ok)
			fail_msg("probe %zu: '%s'", i, p[i].error);
		assert_int_equal(p[i].status, 200);
	}
}

/* More probes than the soft open-file limit allows sockets: the call
 * raises it for itself, and puts it back for the rest of the process. */
static void test_over_the_fd_limit(void **state)
{
	struct rip_probe p[100];
	struct rip_err err = { 0 };
	struct rlimit was, low, after;
	struct url u;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
	if (was.rlim_max != RLIM_INFINITY && was.rlim_max < 512)
		skip();
	low = was;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	mkurl(&u, "/ok");
	memset(p, 0, sizeof(p));
	for (size_t i = 0; i < RIP_ARRAY_SIZE(p); i++)
		p[i].url = u.s;
	assert_int_equal(rip_probe_run(p, RIP_ARRAY_SIZE(p), 5000, &err), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &after), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(p); i++)
		if (!p[i].ok)
			fail_msg("probe %zu of 100 under a limit of 64: '%s'", i,
				p[i].error);
	assert_int_equal(after.rlim_cur, 64);
}

static void test_bad_url(void **state)
{
	char ftp_here[64];
	const char *urls[] = { "ftp://x", "not a url", "", NULL, "http://",
		"file:///etc/passwd", "gopher://127.0.0.1/", ftp_here };
	struct rip_probe p[RIP_ARRAY_SIZE(urls)];
	struct rip_err err = { 0 };
	double t0;
	size_t i;

	(void)state;
	snprintf(ftp_here, sizeof(ftp_here), "ftp://127.0.0.1:%d/ok",
		server_port);
	memset(p, 0, sizeof(p));
	for (i = 0; i < RIP_ARRAY_SIZE(urls); i++)
		p[i].url = urls[i];
	t0 = mono();
	assert_int_equal(rip_probe_run(p, RIP_ARRAY_SIZE(p), 2000, &err), 0);
	assert_true(mono() - t0 < 1.0);
	for (i = 0; i < RIP_ARRAY_SIZE(urls); i++) {
		assert_false(p[i].ok);
		assert_int_equal(p[i].status, 0);
		assert_true(p[i].seconds == 0);
		assert_probe_error(&p[i], "bad URL");
	}
	assert_string_equal(p[0].error, "bad URL: 'ftp' is not http or https");
}

/* A bad URL among good ones spoils nothing: each probe is its own. */
static void test_mixed_with_bad(void **state)
{
	struct rip_probe p[3] = { { 0 } };
	struct rip_err err = { 0 };
	struct url a, b;

	(void)state;
	mkurl(&a, "/ok");
	mkurl(&b, "/fail");
	p[0].url = a.s;
	p[1].url = "not a url";
	p[2].url = b.s;
	assert_int_equal(rip_probe_run(p, 3, 2000, &err), 0);
	assert_true(p[0].ok);
	assert_false(p[1].ok);
	assert_probe_error(&p[1], "bad URL");
	assert_false(p[2].ok);
	assert_string_equal(p[2].error, "HTTP 500");
}

/* An endless body is cut off, not waited for: judged by its status. */
static void test_endless_body(void **state)
{
	struct rip_probe p;
	double elapsed;

	(void)state;
	elapsed = probe_one(&p, "/stream", 4000);
	assert_true(p.ok);
	assert_int_equal(p.status, 200);
	assert_true(elapsed < 3.0);
}

static void test_user_agent(void **state)
{
	struct rip_probe p;

	(void)state;
	probe_one(&p, "/ua", 2000);
	assert_true(p.ok);
}

/* A proxy in the environment is never used for loopback. */
static void test_proxy_env_loopback(void **state)
{
	struct rip_probe p;
	char proxy[64];
	int port = 0, fd = bind_loopback(&port);

	(void)state;
	assert_true(fd >= 0);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	setenv("http_proxy", proxy, 1);
	probe_one(&p, "/ok", 2000);
	unsetenv("http_proxy");
	close(fd);
	if (!p.ok)
		fail_msg("probe through a dead proxy: '%s'", p.error);
}

static void test_none(void **state)
{
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_probe_run(NULL, 0, 1000, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_status_range),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_hang),
		cmocka_unit_test(test_zero_timeout),
		cmocka_unit_test(test_all_at_once),
		cmocka_unit_test(test_slow_within_timeout),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_over_the_fd_limit),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_mixed_with_bad),
		cmocka_unit_test(test_endless_body),
		cmocka_unit_test(test_user_agent),
		cmocka_unit_test(test_proxy_env_loopback),
		cmocka_unit_test(test_none),
	};

	return cmocka_run_group_tests(tests, server_setup, server_teardown);
}
