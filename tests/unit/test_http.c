/* SPDX-License-Identifier: MIT */
/*
 * test_http.c: the libcurl wrapper (http.c) against a real HTTP server on
 * loopback that the test starts itself (loopback.h): a single request (GET
 * and POST, headers, the answer kept and cut, Retry-After), a batch of
 * GETs, how failures are classed (refused, timed out, bad URL), URL checks
 * and the proxy exceptions. The probe, gate and webhook tests judge the
 * same transfers in their own words.
 *
 * The server answers by path: /ok, /echo (the request, head and body, as
 * the answer), /big (BIG bytes), /retry (503 and a Retry-After),
 * /retry-long (a Retry-After padded past 127 bytes), /hang (holds the
 * connection for HANG_S seconds, far longer than the timeouts here).
 */
#include "helpers.h"
#include "loopback.h"

#include "http_internal.h"

#define HANG_S 20
#define BIG 3000
#define PAD 200

static pid_t server_pid = -1;
static int server_port;

static void reply(int fd, int code, const char *extra, const char *body,
	size_t len)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d Test\r\n%s"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n", code, extra,
		len);
	write_all(fd, head, (size_t)n);
	write_all(fd, body, len);
}

/* Reads the head and, as Content-Length says, the body: for /echo. */
static size_t read_request(int fd, char *req, size_t n)
{
	const char *cl, *end;
	size_t len, want;
	ssize_t r;

	read_head(fd, req, n);
	len = strlen(req);
	end = strstr(req, "\r\n\r\n");
	cl = strcasestr(req, "content-length:");
	if (!end || !cl)
		return len;
	want = (size_t)(end + 4 - req) + strtoul(cl + 15, NULL, 10);
	while (len < want && len < n - 1) {
		r = read(fd, req + len, n - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		req[len] = '\0';
	}
	return len;
}

static void serve(int fd)
{
	char req[8192], big[BIG], extra[PAD + 64];
	size_t len = read_request(fd, req, sizeof(req));

	if (strstr(req, " /ok ")) {
		reply(fd, 200, "", "hello world", 11);
	} else if (strstr(req, " /echo ")) {
		reply(fd, 200, "", req, len);
	} else if (strstr(req, " /big ")) {
		memset(big, 'x', sizeof(big));
		reply(fd, 200, "", big, sizeof(big));
	} else if (strstr(req, " /retry ")) {
		reply(fd, 503, "Retry-After: 7\r\n", "", 0);
	} else if (strstr(req, " /retry-long ")) {
		/* valid: white space may pad the value; 7 is past byte 127 */
		snprintf(extra, sizeof(extra), "Retry-After: %*s7\r\n", PAD, "");
		reply(fd, 503, extra, "", 0);
	} else if (strstr(req, " /hang ")) {
		sleep(HANG_S);
	} else {
		reply(fd, 404, "", "", 0);
	}
}

static int server_setup(void **state)
{
	(void)state;
	return loopback_start(&server_pid, &server_port, 64, serve);
}

static int server_teardown(void **state)
{
	(void)state;
	loopback_stop(server_pid);
	return 0;
}

/* "http://127.0.0.1:PORT/path" in a static buffer: one at a time. */
static const char *url(const char *path)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", server_port, path);
	return buf;
}

/* A port nothing listens on: bound, then closed. */
static int closed_port(void)
{
	int port = 0, fd = bind_loopback(&port);

	assert_true(fd >= 0);
	close(fd);
	return port;
}

static void get(struct rip_http_result *r, const char *u, uint64_t ms,
	size_t max, size_t keep)
{
	struct rip_http_request req = { .url = u, .timeout_ms = ms,
		.answer_max = max, .answer_keep = keep, .retry_after = true };
	struct rip_err err = { 0 };

	if (rip_http_request(r, &req, &err) < 0)
		fail_msg("%s", err.msg);
}

static void test_get(void **state)
{
	struct rip_http_result r = RIP_HTTP_RESULT_INIT;

	(void)state;
	get(&r, url("/ok"), 5000, 1024, 1024);
	assert_int_equal(r.fail, RIP_HTTP_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.answer.buf, "hello world");
	assert_string_equal(r.error, "");
	assert_false(r.cut);
	assert_int_equal(r.retry_after_ms, -1);
	/* the same result again: released and refilled, only 5 bytes kept */
	get(&r, url("/ok"), 5000, 1024, 5);
	assert_string_equal(r.answer.buf, "hello");
	get(&r, url("/nothing"), 5000, 1024, 1024);
	assert_int_equal(r.fail, RIP_HTTP_OK);
	assert_int_equal(r.status, 404);
	rip_http_result_release(&r);
}

static void test_post(void **state)
{
	static const char *const headers[] = { "Content-Type: text/plain",
		"X-Ripcord-Test: yes", NULL };
	struct rip_http_request req = { .method = "POST", .url = url("/echo"),
		.body = "the body", .body_len = 8, .headers = headers,
		.timeout_ms = 5000, .answer_max = 8192, .answer_keep = 8192 };
	struct rip_http_result r = RIP_HTTP_RESULT_INIT;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_http_request(&r, &req, &err), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.answer.buf, "POST /echo HTTP/1.1\r\n"));
	assert_non_null(strstr(r.answer.buf, "X-Ripcord-Test: yes\r\n"));
	assert_non_null(strstr(r.answer.buf, "Content-Type: text/plain\r\n"));
	assert_non_null(strstr(r.answer.buf, "User-Agent: ripcord/"));
	assert_non_null(strstr(r.answer.buf, "\r\n\r\nthe body"));
	rip_http_result_release(&r);
}

/* Past answer_max the transfer is cut, yet the status stands. */
static void test_cut(void **state)
{
	struct rip_http_result r = RIP_HTTP_RESULT_INIT;

	(void)state;
	get(&r, url("/big"), 5000, BIG - 1, 10);
	assert_int_equal(r.fail, RIP_HTTP_OK);
	assert_int_equal(r.status, 200);
	assert_true(r.cut);
	/* kept: what came before the piece that passed answer_max */
	assert_true(r.answer.len <= 10);
	get(&r, url("/big"), 5000, BIG, 0);
	assert_false(r.cut);
	assert_int_equal(r.answer.len, 0);
	rip_http_result_release(&r);
}

static void test_retry_after(void **state)
{
	struct rip_http_result r = RIP_HTTP_RESULT_INIT;

	(void)state;
	get(&r, url("/retry"), 5000, 1024, 0);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.retry_after_ms, 7000);
	/* read whole, not cut at 127 bytes (which left only white space) */
	get(&r, url("/retry-long"), 5000, 1024, 0);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.retry_after_ms, 7000);
	rip_http_result_release(&r);
}

static void test_refused(void **state)
{
	struct rip_http_result r = RIP_HTTP_RESULT_INIT;
	char u[64];

	(void)state;
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", closed_port());
	get(&r, u, 5000, 1024, 0);
	assert_int_equal(r.fail, RIP_HTTP_CONNECT);
	assert_true(r.refused);
	assert_int_equal(r.status, 0);
	assert_true(r.error[0] != '\0');
	rip_http_result_release(&r);
}

static void test_timeout(void **state)
{
	struct rip_http_result r = RIP_HTTP_RESULT_INIT;

	(void)state;
	get(&r, url("/hang"), 200, 1024, 0);
	assert_int_equal(r.fail, RIP_HTTP_TIMEOUT);
	assert_int_equal(r.status, 0);
	rip_http_result_release(&r);
}

/* Only http and https go out, and a redirect is not followed. */
static void test_bad_url(void **state)
{
	struct rip_http_result r = RIP_HTTP_RESULT_INIT;

	(void)state;
	get(&r, "file:///etc/passwd", 5000, 1024, 1024);
	assert_int_equal(r.fail, RIP_HTTP_BAD_URL);
	assert_int_equal(r.answer.len, 0);
	rip_http_result_release(&r);
}

static void test_get_many(void **state)
{
	struct rip_http_result r[4];
	const char *urls[4];
	char ok[128], hang[128], refused[64], big[128];
	struct rip_err err = { 0 };

	(void)state;
	snprintf(ok, sizeof(ok), "%s", url("/ok"));
	snprintf(hang, sizeof(hang), "%s", url("/hang"));
	snprintf(big, sizeof(big), "%s", url("/big"));
	snprintf(refused, sizeof(refused), "http://127.0.0.1:%d/",
		closed_port());
	urls[0] = ok;
	urls[1] = hang;
	urls[2] = refused;
	urls[3] = big;
	assert_int_equal(rip_http_get_many(r, urls, 4, 300, 500,
		RIP_HTTP_LOOPBACK, 100, &err), 0);
	assert_int_equal(r[0].fail, RIP_HTTP_OK);
	assert_int_equal(r[0].status, 200);
	assert_true(r[0].seconds > 0);
	assert_int_equal(r[1].fail, RIP_HTTP_TIMEOUT);
	assert_true(r[1].seconds > 0);
	assert_int_equal(r[2].fail, RIP_HTTP_CONNECT);
	assert_true(r[2].refused);
	assert_int_equal(r[3].fail, RIP_HTTP_OK);
	assert_true(r[3].cut);
	assert_int_equal(r[3].answer.len, 0); /* counted, not kept */
	for (size_t i = 0; i < 4; i++)
		rip_http_result_release(&r[i]);
	assert_int_equal(rip_http_get_many(r, urls, 0, 300, 500,
		RIP_HTTP_LOOPBACK, 100, &err), 0);
}

static void test_url_check(void **state)
{
	struct rip_buf scheme = RIP_BUF_INIT;

	(void)state;
	assert_int_equal(rip_http_url_check(NULL, "http://h/x"), RIP_HTTP_URL_OK);
	assert_int_equal(rip_http_url_check(NULL, "HTTPS://h:1/"),
		RIP_HTTP_URL_OK);
	assert_int_equal(rip_http_url_check(NULL, NULL), RIP_HTTP_URL_EMPTY);
	assert_int_equal(rip_http_url_check(NULL, ""), RIP_HTTP_URL_EMPTY);
	/* no scheme is no URL: never guessed as http */
	assert_int_equal(rip_http_url_check(NULL, "example.com/health"),
		RIP_HTTP_URL_BAD);
	assert_int_equal(rip_http_url_check(NULL, "http://"),
		RIP_HTTP_URL_BAD);
	assert_int_equal(rip_http_url_check(&scheme, "ftp://h/x"),
		RIP_HTTP_URL_SCHEME);
	assert_string_equal(scheme.buf, "ftp");
	rip_buf_release(&scheme);
}

static void test_noproxy(void **state)
{
	char *s;

	(void)state;
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	s = rip_http_noproxy();
	assert_string_equal(s, RIP_HTTP_LOOPBACK);
	free(s);
	setenv("NO_PROXY", "corp.example", 1);
	s = rip_http_noproxy();
	assert_string_equal(s, RIP_HTTP_LOOPBACK ",corp.example");
	free(s);
	setenv("no_proxy", "*", 1);
	s = rip_http_noproxy();
	assert_string_equal(s, "*");
	free(s);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
}

static void test_lower_first(void **state)
{
	char a[] = "Couldn't connect", b[] = "SSL certificate", c[] = "";

	(void)state;
	rip_http_lower_first(a);
	rip_http_lower_first(b);
	rip_http_lower_first(c);
	assert_string_equal(a, "couldn't connect");
	assert_string_equal(b, "SSL certificate");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_post),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_get_many),
		cmocka_unit_test(test_url_check),
		cmocka_unit_test(test_noproxy),
		cmocka_unit_test(test_lower_first),
	};

	return cmocka_run_group_tests(tests, server_setup, server_teardown);
}
