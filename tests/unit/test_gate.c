/* SPDX-License-Identifier: MIT */
/*
 * test_gate.c: the Prometheus gate. rip_gate_query_parse on the answer
 * shapes Prometheus' HTTP API documents (and on what it never sends), and
 * rip_gate_query against a real HTTP server on loopback that the test
 * starts itself, as test_probe.c does: a forked child listening on
 * 127.0.0.1, port 0, serving each connection in a process of its own, its
 * whole process group killed in the group teardown.
 *
 * The server answers GET /api/v1/query?query=NAME from the table
 * `answers`; NAME "hang" reads the request and holds the connection for
 * HANG_S seconds without answering, far longer than the timeouts the
 * tests pass, so "timed out after N ms" can only come from the timeout,
 * and a regression ends in an "empty reply" failure instead of a stall.
 * No assertion measures time.
 */
#include "helpers.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "ripcord/gate.h"

#define HANG_S 20
#define ELLIPSIS "\xe2\x80\xa6"

/* ---- real answer shapes ---- */

#define SCALAR "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\"," \
	"\"result\":[1435781451.781,\"0.25\"]}}"
/* three canaries' error ratios, as sum by (instance) (...) answers them */
#define VECTOR3 "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"," \
	"\"result\":[" \
	"{\"metric\":{\"instance\":\"web-1:9000\"}," \
	"\"value\":[1700000000.123,\"0.001\"]}," \
	"{\"metric\":{\"instance\":\"web-2:9000\"}," \
	"\"value\":[1700000000.123,\"0.042\"]}," \
	"{\"metric\":{\"instance\":\"web-3:9000\"}," \
	"\"value\":[1700000000.123,\"1e-05\"]}]}}"
#define EMPTY "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"," \
	"\"result\":[]}}"
#define PROM_ERROR "{\"status\":\"error\",\"errorType\":\"bad_data\"," \
	"\"error\":\"invalid parameter \\\"query\\\": 1:14: parse error: " \
	"unclosed left parenthesis\"}"

/* ---- the server (runs in forked children only) ---- */

static pid_t server_pid = -1;
static int server_port;

struct answer {
	const char *name;  /* the query= value */
	int code;
	const char *extra; /* header lines, each ending in \r\n */
	const char *body;
};

static const struct answer answers[] = {
	{ "scalar", 200, "", SCALAR },
	{ "vector", 200, "", VECTOR3 },
	{ "empty", 200, "", EMPTY },
	{ "bad_data", 400, "", PROM_ERROR },
	{ "fail", 500, "", "broken\n" },
	{ "html", 200, "", "<html><body>Sign in</body></html>\n" },
	{ "redirect", 302, "Location: /elsewhere\r\n", "" },
	{ "blank", 200, "", "" },
};

/* Sends a head announcing `announced` body bytes, then len of body. */
static void reply(int fd, int code, const char *extra, const char *body,
	size_t len, size_t announced)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d Test\r\n%s"
		"Content-Type: application/json\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n", code, extra, announced);
	write_all(fd, head, (size_t)n);
	write_all(fd, body, len);
}

/* SCALAR followed by spaces: a valid answer of exactly n bytes. */
static char *padded(size_t n)
{
	char *b = malloc(n);

	if (!b)
		_exit(1);
	memset(b, ' ', n);
	memcpy(b, SCALAR, strlen(SCALAR));
	return b;
}

static void serve(int fd)
{
	static const char prefix[] = "GET /api/v1/query?query=";
	char req[8192], name[64];
	size_t i, n;

	read_head(fd, req, sizeof(req));
	if (strncmp(req, prefix, sizeof(prefix) - 1)) {
		reply(fd, 404, "", "", 0, 0);
		return;
	}
	n = strcspn(req + sizeof(prefix) - 1, "& ");
	snprintf(name, sizeof(name), "%.*s", (int)n, req + sizeof(prefix) - 1);
	for (i = 0; i < RIP_ARRAY_SIZE(answers); i++)
		if (!strcmp(name, answers[i].name)) {
			reply(fd, answers[i].code, answers[i].extra,
				answers[i].body, strlen(answers[i].body),
				strlen(answers[i].body));
			return;
		}
	if (!strcmp(name, "hang"))
		sleep(HANG_S);
	else if (!strcmp(name, "exact"))
		reply(fd, 200, "", padded(RIP_GATE_BODY_MAX), RIP_GATE_BODY_MAX,
			RIP_GATE_BODY_MAX);
	else if (!strcmp(name, "big"))
		reply(fd, 200, "", padded(RIP_GATE_BODY_MAX + 1),
			RIP_GATE_BODY_MAX + 1, RIP_GATE_BODY_MAX + 1);
	else if (!strcmp(name, "cut")) /* the connection drops mid-answer */
		reply(fd, 200, "", SCALAR, 20, strlen(SCALAR));
	else
		reply(fd, 404, "", "", 0, 0);
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

/* ---- helpers ---- */

#define assert_lacks(s, needle) do { \
	if (strstr((s), (needle))) \
		fail_msg("'%s' contains '%s'", (s), (needle)); \
} while (0)

/* Parses a NUL-terminated body that must be refused; err is filled. */
static void parse_fails(const char *body, struct rip_err *err)
{
	double v = 0;

	memset(err, 0, sizeof(*err));
	assert_int_equal(rip_gate_query_parse(&v, body, strlen(body), err),
		RIP_EFAIL);
	assert_int_equal(err->code, RIP_EFAIL);
	assert_true(isnan(v));
	if (strchr(err->msg, '\n'))
		fail_msg("message on two lines: '%s'", err->msg);
}

static double parse_ok(const char *body)
{
	struct rip_err err = { 0 };
	double v = NAN;

	if (rip_gate_query_parse(&v, body, strlen(body), &err) != 0)
		fail_msg("'%s' refused: %s", body, err.msg);
	return v;
}

/* A scalar answer whose value string is value. */
static double parse_scalar(const char *value, struct rip_err *err)
{
	char body[256];
	double v = 0;

	snprintf(body, sizeof(body), "{\"status\":\"success\",\"data\":"
		"{\"resultType\":\"scalar\",\"result\":[1700000000,\"%s\"]}}",
		value);
	memset(err, 0, sizeof(*err));
	if (rip_gate_query_parse(&v, body, strlen(body), err) < 0)
		assert_true(isnan(v));
	return v;
}

static void query_url(char *out, size_t n, const char *name)
{
	snprintf(out, n, "http://127.0.0.1:%d/api/v1/query?query=%s",
		server_port, name);
}

/* Queries NAME on the server, which must fail; err is filled. */
static void query_fails(const char *name, uint64_t timeout_ms,
	struct rip_err *err)
{
	char url[128], shown[128];
	double v = 0;

	query_url(url, sizeof(url), name);
	snprintf(shown, sizeof(shown),
		"gate query 'http://127.0.0.1:%d/api/v1/query?" ELLIPSIS "': ",
		server_port);
	memset(err, 0, sizeof(*err));
	assert_int_equal(rip_gate_query(&v, url, timeout_ms, err), RIP_EFAIL);
	assert_true(isnan(v));
	if (strncmp(err->msg, shown, strlen(shown)))
		fail_msg("'%s' does not start with '%s'", err->msg, shown);
	if (strchr(err->msg, '\n'))
		fail_msg("message on two lines: '%s'", err->msg);
}

/* ---- parsing ---- */

static void test_parse_scalar(void **state)
{
	struct rip_err err;

	(void)state;
	assert_true(parse_ok(SCALAR) == 0.25);
	assert_true(parse_scalar("0", &err) == 0);
	assert_true(parse_scalar("-0.5", &err) == -0.5);
	assert_true(parse_scalar("1e-05", &err) == 1e-05);
	assert_true(parse_scalar("12345678.75", &err) == 12345678.75);
	/* Prometheus writes infinities so; the gate compares them */
	assert_true(isinf(parse_scalar("+Inf", &err)));
	assert_true(parse_scalar("+Inf", &err) > 0);
	assert_true(isinf(parse_scalar("-Inf", &err)));
	assert_true(parse_scalar("-Inf", &err) < 0);
}

static void test_parse_vector_max(void **state)
{
	(void)state;
	/* the maximum, not the first, the last or a sum */
	assert_true(parse_ok(VECTOR3) == 0.042);
	/* one series; labels may be none at all (an aggregation) */
	assert_true(parse_ok("{\"status\":\"success\",\"data\":{\"resultType\":"
		"\"vector\",\"result\":[{\"metric\":{},\"value\":"
		"[1700000000,\"3\"]}]}}") == 3);
	/* all negative: the maximum is still one of them */
	assert_true(parse_ok("{\"status\":\"success\",\"data\":{\"resultType\":"
		"\"vector\",\"result\":["
		"{\"metric\":{\"a\":\"1\"},\"value\":[1,\"-7\"]},"
		"{\"metric\":{\"a\":\"2\"},\"value\":[1,\"-2\"]}]}}") == -2);
	/* an infinite series wins */
	assert_true(isinf(parse_ok("{\"status\":\"success\",\"data\":"
		"{\"resultType\":\"vector\",\"result\":["
		"{\"metric\":{\"a\":\"1\"},\"value\":[1,\"+Inf\"]},"
		"{\"metric\":{\"a\":\"2\"},\"value\":[1,\"5\"]}]}}")));
}

/* Fields the gate does not need (warnings, infos, key order) are fine. */
static void test_parse_extra_fields(void **state)
{
	(void)state;
	assert_true(parse_ok("{\"data\":{\"result\":[1700000000,\"2\"],"
		"\"resultType\":\"scalar\"},\"warnings\":[\"PromQL warning: "
		"encountered a mix of histograms and floats\"],\"infos\":[],"
		"\"status\":\"success\"}\n") == 2);
}

static void test_parse_empty_vector(void **state)
{
	struct rip_err err;

	(void)state;
	parse_fails(EMPTY, &err);
	assert_string_equal(err.msg, "the query returned no series: check the "
		"query, or that the canaries export the metric");
}

static void test_parse_matrix_string(void **state)
{
	struct rip_err err;

	(void)state;
	parse_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
		"\"result\":[{\"metric\":{\"__name__\":\"up\"},\"values\":"
		"[[1435781430.781,\"1\"],[1435781445.781,\"1\"]]}]}}", &err);
	assert_err_contains(&err, "returned a matrix");
	assert_err_contains(&err, "expected an instant query giving a scalar "
		"or a vector");
	parse_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"string\","
		"\"result\":[1435781451.781,\"hello\"]}}", &err);
	assert_err_contains(&err, "returned a string");
	assert_err_contains(&err, "scalar or a vector");
	parse_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"table\","
		"\"result\":[1,\"1\"]}}", &err);
	assert_err_contains(&err, "scalar or a vector");
}

static void test_parse_prometheus_error(void **state)
{
	struct rip_err err;

	(void)state;
	parse_fails(PROM_ERROR, &err);
	assert_string_equal(err.msg, "prometheus answered an error: bad_data: "
		"invalid parameter \"query\": 1:14: parse error: unclosed left "
		"parenthesis (expected \"status\":\"success\"; check the query)");
	/* its text stays on one line */
	parse_fails("{\"status\":\"error\",\"errorType\":\"execution\","
		"\"error\":\"query timed out\\nin query execution\"}", &err);
	assert_err_contains(&err, "execution: query timed out in query");
	/* an error without its fields is still an error */
	parse_fails("{\"status\":\"error\"}", &err);
	assert_err_contains(&err, "prometheus answered an error");
}

static void test_parse_nan(void **state)
{
	struct rip_err err;

	(void)state;
	parse_scalar("NaN", &err);
	assert_int_equal(err.code, RIP_EFAIL);
	assert_err_contains(&err, "the value of the scalar is NaN: a gate "
		"cannot judge NaN");
	/* one NaN series spoils the vector: that canary cannot be judged */
	parse_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		"\"result\":["
		"{\"metric\":{\"instance\":\"web-1\"},\"value\":[1,\"0.5\"]},"
		"{\"metric\":{\"instance\":\"web-2\"},\"value\":[1,\"NaN\"]}]}}",
		&err);
	assert_err_contains(&err, "the value of series {instance=\"web-2\"} "
		"is NaN");
}

static void test_parse_bad_values(void **state)
{
	static const char *bad[] = { "", "abc", "1.5abc", " 1", "1 ", "--1",
		"0.5%" };
	struct rip_err err;
	size_t i;

	(void)state;
	for (i = 0; i < RIP_ARRAY_SIZE(bad); i++) {
		parse_scalar(bad[i], &err);
		if (err.code != RIP_EFAIL)
			fail_msg("value '%s' accepted", bad[i]);
		assert_err_contains(&err, "expected a number, +Inf or -Inf");
	}
	parse_scalar("abc", &err);
	assert_err_contains(&err, "the value of the scalar is 'abc'");
	parse_scalar(" 1", &err);
	assert_err_contains(&err, "the value of the scalar is ' 1'");
}

static void test_parse_not_json(void **state)
{
	struct rip_err err;
	char trunc[sizeof(VECTOR3)];

	(void)state;
	parse_fails("<html><body>502 Bad Gateway</body></html>", &err);
	assert_err_contains(&err, "not valid JSON");
	assert_err_contains(&err, "expected a Prometheus HTTP API answer");
	parse_fails("", &err);
	assert_err_contains(&err, "not valid JSON");
	/* every cut of a real answer is refused, never half-read */
	for (size_t n = 0; n < sizeof(VECTOR3) - 1; n++) {
		double v = 0;

		memcpy(trunc, VECTOR3, n);
		memset(&err, 0, sizeof(err));
		if (rip_gate_query_parse(&v, trunc, n, &err) != RIP_EFAIL)
			fail_msg("a cut at byte %zu was accepted", n);
		assert_true(isnan(v));
	}
	/* a body is len bytes: what follows does not count */
	{
		double v = 0;

		assert_int_equal(rip_gate_query_parse(&v, SCALAR "garbage",
			strlen(SCALAR), &err), 0);
		assert_true(v == 0.25);
	}
	parse_fails(SCALAR "garbage", &err);
	assert_err_contains(&err, "not valid JSON");
}

static void test_parse_wrong_shapes(void **state)
{
	static const char *bad[] = {
		"[]", "1", "\"success\"", "null", "{}",
		"{\"status\":\"success\"}",
		"{\"status\":\"ok\",\"data\":{\"resultType\":\"scalar\","
			"\"result\":[1,\"1\"]}}",
		"{\"status\":true,\"data\":{\"resultType\":\"scalar\","
			"\"result\":[1,\"1\"]}}",
		"{\"status\":\"success\",\"data\":[]}",
		"{\"status\":\"success\",\"data\":{\"result\":[1,\"1\"]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\"}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":7,"
			"\"result\":[1,\"1\"]}}",
		/* the value is a number, not a string */
		"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
			"\"result\":[1,1]}}",
		/* the time is a string */
		"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
			"\"result\":[\"1\",\"1\"]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
			"\"result\":[1,\"1\",2]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
			"\"result\":[1]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
			"\"result\":\"1\"}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			"\"result\":{}}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			"\"result\":[1]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			"\"result\":[{\"metric\":{}}]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			"\"result\":[{\"metric\":{},\"value\":[1,0.5]}]}}",
		/* a series answered as a matrix one */
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			"\"result\":[{\"metric\":{},\"values\":[[1,\"1\"]]}]}}",
		/* which status? */
		"{\"status\":\"success\",\"status\":\"error\",\"data\":"
			"{\"resultType\":\"scalar\",\"result\":[1,\"1\"]}}",
	};
	struct rip_err err;
	size_t i;

	(void)state;
	for (i = 0; i < RIP_ARRAY_SIZE(bad); i++) {
		double v = 0;

		memset(&err, 0, sizeof(err));
		if (rip_gate_query_parse(&v, bad[i], strlen(bad[i]), &err) !=
			RIP_EFAIL)
			fail_msg("'%s' accepted as %g", bad[i], v);
		assert_true(isnan(v));
		assert_err_contains(&err, "expected");
	}
	parse_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
		"\"result\":[1,1]}}", &err);
	assert_err_contains(&err, "the value of the scalar is not [time, "
		"\"value\"]");
	parse_fails("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		"\"result\":[{\"metric\":{\"job\":\"web\"},\"value\":[1,2]}]}}",
		&err);
	assert_err_contains(&err, "series {job=\"web\"} is not [time");
}

static void test_parse_size(void **state)
{
	size_t n = RIP_GATE_BODY_MAX + 1;
	char *body = malloc(n);
	struct rip_err err = { 0 };
	double v = 0;

	(void)state;
	assert_non_null(body);
	memset(body, ' ', n);
	memcpy(body, SCALAR, strlen(SCALAR));
	assert_int_equal(rip_gate_query_parse(&v, body, n - 1, &err), 0);
	assert_true(v == 0.25);
	assert_int_equal(rip_gate_query_parse(&v, body, n, &err), RIP_EFAIL);
	assert_true(isnan(v));
	assert_err_contains(&err, "over 1 MiB");
	free(body);
}

/* err may be NULL, as everywhere in libripcord. */
static void test_parse_null_err(void **state)
{
	double v = 0;

	(void)state;
	assert_int_equal(rip_gate_query_parse(&v, EMPTY, strlen(EMPTY), NULL),
		RIP_EFAIL);
	assert_int_equal(rip_gate_query_parse(&v, NULL, 0, NULL), RIP_EFAIL);
	assert_int_equal(rip_gate_query_parse(&v, SCALAR, strlen(SCALAR), NULL),
		0);
	assert_true(v == 0.25);
}

/* ---- querying ---- */

static void test_query_ok(void **state)
{
	struct rip_err err = { 0 };
	char url[128];
	double v = 0;

	(void)state;
	query_url(url, sizeof(url), "scalar");
	assert_int_equal(rip_gate_query(&v, url, 2000, &err), 0);
	assert_true(v == 0.25);
	query_url(url, sizeof(url), "vector&time=1700000000");
	assert_int_equal(rip_gate_query(&v, url, 2000, &err), 0);
	assert_true(v == 0.042);
}

static void test_query_answers(void **state)
{
	struct rip_err err;

	(void)state;
	query_fails("empty", 2000, &err);
	assert_err_contains(&err, "': the query returned no series: check");
	/* Prometheus' errors come with 4xx and say why themselves */
	query_fails("bad_data", 2000, &err);
	assert_err_contains(&err, "': HTTP 400: prometheus answered an error: "
		"bad_data: invalid parameter \"query\": 1:14: parse error");
	query_fails("fail", 2000, &err);
	assert_err_contains(&err, "': HTTP 500: broken (expected a 2xx answer");
	query_fails("redirect", 2000, &err);
	assert_err_contains(&err, "': HTTP 302 (expected a 2xx answer");
	query_fails("nothing-here", 2000, &err);
	assert_err_contains(&err, "': HTTP 404 (expected");
	/* a login page of a proxy in front of Prometheus */
	query_fails("html", 2000, &err);
	assert_err_contains(&err, "not valid JSON");
	assert_err_contains(&err, "expected a Prometheus HTTP API answer");
	query_fails("blank", 2000, &err);
	assert_err_contains(&err, "not valid JSON");
}

static void test_query_size(void **state)
{
	struct rip_err err = { 0 };
	char url[128];
	double v = 0;

	(void)state;
	query_url(url, sizeof(url), "exact");
	if (rip_gate_query(&v, url, 10000, &err) != 0)
		fail_msg("1 MiB answer refused: %s", err.msg);
	assert_true(v == 0.25);
	query_fails("big", 10000, &err);
	assert_err_contains(&err, "over 1 MiB");
}

static void test_query_cut(void **state)
{
	struct rip_err err;

	(void)state;
	query_fails("cut", 2000, &err);
	assert_err_contains(&err, "expected a Prometheus server answering");
}

static void test_query_hang(void **state)
{
	struct rip_err err;

	(void)state;
	query_fails("hang", 300, &err);
	assert_err_contains(&err, "': timed out after 300 ms");
	/* 0 is the smallest timeout, never "no timeout" */
	query_fails("hang", 0, &err);
	assert_err_contains(&err, "': timed out after 1 ms");
}

/* Bound, never listening: connecting is refused. */
static void test_query_refused(void **state)
{
	struct rip_err err = { 0 };
	char url[160], shown[160];
	int port = 0, fd = bind_loopback(&port);
	double v = 0;

	(void)state;
	assert_true(fd >= 0);
	snprintf(url, sizeof(url), "http://ops:secret@127.0.0.1:%d/api/v1/"
		"query?query=up&access_token=abcdef", port);
	snprintf(shown, sizeof(shown), "gate query 'http://ops:***@127.0.0.1:"
		"%d/api/v1/query?" ELLIPSIS "': connection refused (expected a "
		"Prometheus server answering at that URL", port);
	assert_int_equal(rip_gate_query(&v, url, 2000, &err), RIP_EFAIL);
	close(fd);
	assert_true(isnan(v));
	assert_err_contains(&err, shown);
	assert_lacks(err.msg, "secret");
	assert_lacks(err.msg, "abcdef");
}

static void test_query_bad_url(void **state)
{
	static const char *bad[] = { "ftp://127.0.0.1/api/v1/query",
		"file:///etc/passwd", "not a url", "" };
	struct rip_err err;
	size_t i;
	double v = 0;

	(void)state;
	for (i = 0; i < RIP_ARRAY_SIZE(bad); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(rip_gate_query(&v, bad[i], 2000, &err),
			RIP_EFAIL);
		assert_true(isnan(v));
		assert_err_contains(&err, "gate query '");
		assert_err_contains(&err, "expected");
	}
	assert_int_equal(rip_gate_query(&v, NULL, 2000, &err), RIP_EFAIL);
	assert_err_contains(&err, "gate query '(none)': bad URL");
	assert_int_equal(rip_gate_query(&v, bad[0], 2000, NULL), RIP_EFAIL);
}

/* Proxies from the environment never apply to loopback, with or without
 * the user's own no_proxy. */
static void test_query_proxy_env(void **state)
{
	struct rip_err err = { 0 };
	char url[128], proxy[64];
	int port = 0, fd = bind_loopback(&port);
	double v = 0;
	int rc1, rc2;

	(void)state;
	assert_true(fd >= 0);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	query_url(url, sizeof(url), "scalar");
	setenv("http_proxy", proxy, 1);
	rc1 = rip_gate_query(&v, url, 2000, &err);
	setenv("no_proxy", "prometheus.internal", 1);
	rc2 = rip_gate_query(&v, url, 2000, &err);
	unsetenv("no_proxy");
	unsetenv("http_proxy");
	close(fd);
	if (rc1 || rc2)
		fail_msg("query through a dead proxy: %s", err.msg);
	assert_true(v == 0.25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_scalar),
		cmocka_unit_test(test_parse_vector_max),
		cmocka_unit_test(test_parse_extra_fields),
		cmocka_unit_test(test_parse_empty_vector),
		cmocka_unit_test(test_parse_matrix_string),
		cmocka_unit_test(test_parse_prometheus_error),
		cmocka_unit_test(test_parse_nan),
		cmocka_unit_test(test_parse_bad_values),
		cmocka_unit_test(test_parse_not_json),
		cmocka_unit_test(test_parse_wrong_shapes),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_null_err),
		cmocka_unit_test(test_query_ok),
		cmocka_unit_test(test_query_answers),
		cmocka_unit_test(test_query_size),
		cmocka_unit_test(test_query_cut),
		cmocka_unit_test(test_query_hang),
		cmocka_unit_test(test_query_refused),
		cmocka_unit_test(test_query_bad_url),
		cmocka_unit_test(test_query_proxy_env),
	};

	return cmocka_run_group_tests(tests, server_setup, server_teardown);
}
