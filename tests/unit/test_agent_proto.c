/* SPDX-License-Identifier: MIT */
/*
 * test_agent_proto.c: the agent's wire (agent_proto.c: framing limits,
 * malformed and mistyped requests, the handshake, the shape of answers)
 * and its loop (agent.c) driven through real files, on roots made in a
 * temp dir: inspect, switch, remove, agent.ini's roots.
 */
#include "helpers.h"

#include <fcntl.h>
#include <math.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "agent_proto.h"
#include "ripcord/agent.h"
#include "ripcord/fsutil.h"
#include "rip_version.h"

/* An fd reading text, from a file under the test's temp dir. */
static int input_fd(void **state, const char *name, const char *text,
	size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s", tpath(state, name));
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	assert_true(fd >= 0);
	assert_int_equal(rip_write_all(fd, text, len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void test_lines_split_and_last_without_newline(void **state)
{
	static const char text[] = "a\nbb\n\nlast";
	struct rip_agent_reader r = { .fd = input_fd(state, "in", text,
		strlen(text)) };
	struct rip_buf line = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	static const char *const want[] = { "a", "bb", "", "last" };

	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(rip_agent_read_line(&line, &r, 16, &err), 1);
		assert_string_equal(line.buf, want[i]);
	}
	assert_int_equal(rip_agent_read_line(&line, &r, 16, &err), 0);
	assert_int_equal(rip_agent_read_line(&line, &r, 16, &err), 0);
	close(r.fd);
	rip_buf_release(&line);
}

static void test_long_line_refused_and_next_read(void **state)
{
	static const char text[] = "12345678\n123456789\nok\n";
	struct rip_agent_reader r = { .fd = input_fd(state, "in", text,
		strlen(text)) };
	struct rip_buf line = RIP_BUF_INIT;
	struct rip_err err = { 0 };

	assert_int_equal(rip_agent_read_line(&line, &r, 8, &err), 1);
	assert_string_equal(line.buf, "12345678");   /* exactly the limit */
	assert_int_equal(rip_agent_read_line(&line, &r, 8, &err),
		RIP_EINTEGRITY);
	assert_non_null(strstr(err.msg, "limit of 8 bytes"));
	assert_true(line.len <= 8);
	assert_int_equal(rip_agent_read_line(&line, &r, 8, &err), 1);
	assert_string_equal(line.buf, "ok");
	close(r.fd);
	rip_buf_release(&line);
}

/* Past the real limit, across many reads of the buffer: never held. */
static void test_real_limit(void **state)
{
	size_t big = RIP_AGENT_MAX_LINE * 8;
	char *text = malloc(big + 32);
	struct rip_agent_reader *r = calloc(1, sizeof(*r));
	struct rip_buf line = RIP_BUF_INIT;
	struct rip_err err = { 0 };

	memset(text, 'x', big);
	memcpy(text + big, "\n{}\n", 4);
	r->fd = input_fd(state, "in", text, big + 4);
	assert_int_equal(rip_agent_read_line(&line, r, RIP_AGENT_MAX_LINE,
		&err), RIP_EINTEGRITY);
	assert_non_null(strstr(err.msg, "1048576"));
	/* what is held follows the limit, not the input */
	assert_true(line.len <= RIP_AGENT_MAX_LINE);
	assert_true(line.alloc < RIP_AGENT_MAX_LINE * 3);
	assert_int_equal(rip_agent_read_line(&line, r, RIP_AGENT_MAX_LINE,
		&err), 1);
	assert_string_equal(line.buf, "{}");
	close(r->fd);
	free(r);
	free(text);
	rip_buf_release(&line);
}

/* Raw bytes after a line: the buffered part first, then the fd's. */
static void test_raw_after_line(void **state)
{
	size_t big = 3 * sizeof(((struct rip_agent_reader *)0)->buf) + 7;
	size_t len = 6 + big + 4, got = 0;
	char *text = malloc(len), *body = malloc(big);
	struct rip_agent_reader *r = calloc(1, sizeof(*r));
	struct rip_buf line = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	char small[5];

	memcpy(text, "{put}\n", 6);
	for (size_t i = 0; i < big; i++)
		text[6 + i] = (char)(i * 7 + i / 251);
	memcpy(text + 6 + big, "{b}\n", 4);
	r->fd = input_fd(state, "in", text, len);
	assert_int_equal(rip_agent_read_line(&line, r, 64, &err), 1);
	assert_string_equal(line.buf, "{put}");
	/* the reader holds what the first read(2) gave, body included */
	assert_true(r->end - r->start > 0);
	assert_int_equal(rip_agent_read_raw(small, r, 0, &err), 0);
	assert_int_equal(rip_agent_read_raw(small, r, 5, &err), 5);
	assert_memory_equal(small, text + 6, 5);
	memcpy(body, small, 5);
	got = 5;
	while (got < big) {
		ssize_t n = rip_agent_read_raw(body + got, r, big - got, &err);

		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_memory_equal(body, text + 6, big);
	/* lines go on after the last raw byte */
	assert_int_equal(rip_agent_read_line(&line, r, 64, &err), 1);
	assert_string_equal(line.buf, "{b}");
	assert_int_equal(rip_agent_read_raw(small, r, 5, &err), 0);
	assert_int_equal(rip_agent_read_line(&line, r, 64, &err), 0);
	close(r->fd);
	/* a read that fails is RIP_EIO */
	r->fd = -1;
	r->eof = false;
	r->start = r->end = 0;
	assert_int_equal(rip_agent_read_raw(small, r, 5, &err), RIP_EIO);
	assert_non_null(strstr(err.msg, "cannot read"));
	free(r);
	free(text);
	free(body);
	rip_buf_release(&line);
}

/* rip_agent_parse of s: its code, and err's message in msg. */
static int parse(const char *s, struct rip_agent_req *req, char *msg)
{
	struct rip_err err = { 0 };
	int rc = rip_agent_parse(req, s, strlen(s), &err);

	snprintf(msg, 1024, "%s", rc ? err.msg : "");
	return rc;
}

static void test_parse_refusals(void **state)
{
	static const struct { const char *in, *msg; bool has_id; } cases[] = {
		{ "", "not JSON", false },
		{ "{\"op\":", "not JSON", false },
		{ "garbage", "not JSON", false },
		{ "[1,2]", "not a JSON object", false },
		{ "\"hello\"", "not a JSON object", false },
		{ "{\"op\":\"hello\"}", "no 'id'", false },
		{ "{\"op\":\"hello\",\"id\":\"1\"}", "not an integer", false },
		{ "{\"op\":\"hello\",\"id\":-1}", "not an integer", false },
		{ "{\"op\":\"hello\",\"id\":1.5}", "not an integer", false },
		{ "{\"id\":7}", "no 'op'", true },
		{ "{\"id\":7,\"op\":3}", "'op' is not a string", true },
		{ "{\"id\":7,\"op\":null}", "'op' is not a string", true },
		{ "{\"id\":1,\"op\":\"a\",\"op\":\"b\"}", "not JSON", false },
		{ "{\"id\":1,\"op\":\"a\\u0000b\"}", "not JSON", false },
	};
	struct rip_agent_req req;
	char msg[1024];

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse(cases[i].in, &req, msg), RIP_EUSAGE);
		if (!strstr(msg, cases[i].msg))
			fail_msg("'%s': '%s' lacks '%s'", cases[i].in, msg,
				cases[i].msg);
		assert_null(req.doc);
		assert_int_equal(req.has_id, cases[i].has_id);
		if (req.has_id)
			assert_int_equal(req.id, 7);
	}
}

static void test_parse_ok_and_members(void **state)
{
	struct rip_agent_req req;
	struct rip_err err = { 0 };
	char msg[1024];

	(void)state;
	assert_int_equal(parse("{\"op\":\"switch\",\"id\":42,\"root\":\"/r\","
		"\"release\":5}", &req, msg), 0);
	assert_string_equal(req.op, "switch");
	assert_int_equal(req.id, 42);
	assert_string_equal(rip_agent_req_str(&req, "root", &err), "/r");
	assert_null(rip_agent_req_str(&req, "release", &err));
	assert_string_equal(err.msg, "'switch' needs a string 'release'");
	assert_null(rip_agent_req_str(&req, "nope", &err));
	rip_agent_req_release(&req);
	rip_agent_req_release(&req);   /* twice: a no-op */
}

static void test_hello_checks(void **state)
{
	static const struct { const char *in, *msg; } cases[] = {
		{ "{\"op\":\"hello\",\"id\":0}", "integer 'protocol'" },
		{ "{\"op\":\"hello\",\"id\":0,\"protocol\":\"1\","
			"\"version\":\"x\"}", "integer 'protocol'" },
		{ "{\"op\":\"hello\",\"id\":0,\"protocol\":1}", "string 'version'" },
		{ "{\"op\":\"hello\",\"id\":0,\"protocol\":2,\"version\":\"9.9\"}",
			"protocol 2 (ripcord 9.9) is not spoken here: this agent "
			"speaks protocol 1 (ripcord " RIP_VERSION ")" },
	};
	struct rip_agent_req req;
	struct rip_err err = { 0 };
	char msg[1024];

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse(cases[i].in, &req, msg), 0);
		assert_int_equal(rip_agent_hello_check(&req, &err), RIP_EUSAGE);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("'%s': '%s' lacks '%s'", cases[i].in, err.msg,
				cases[i].msg);
		rip_agent_req_release(&req);
	}
	assert_int_equal(parse("{\"op\":\"hello\",\"id\":0,\"protocol\":1,"
		"\"version\":\"0.1\"}", &req, msg), 0);
	assert_int_equal(rip_agent_hello_check(&req, &err), 0);
	rip_agent_req_release(&req);
}

static void test_answer_shapes(void **state)
{
	char *a;

	(void)state;
	a = rip_agent_answer_ok(true, 3, rip_agent_hello_fields());
	assert_string_equal(a, "{\"id\":3,\"ok\":true,\"protocol\":1,"
		"\"version\":\"" RIP_VERSION "\"}\n");
	free(a);
	/* fields cannot overwrite id and ok */
	a = rip_agent_answer_ok(true, 4, json_pack("{s:i,s:b,s:s}", "id", 9,
		"ok", 0, "x", "y"));
	assert_string_equal(a, "{\"id\":4,\"ok\":true,\"x\":\"y\"}\n");
	free(a);
	a = rip_agent_answer_ok(true, 5, NULL);
	assert_string_equal(a, "{\"id\":5,\"ok\":true}\n");
	free(a);
	a = rip_agent_answer_err(false, 0, RIP_EUSAGE, "bad \"thing\"\n");
	assert_string_equal(a, "{\"id\":null,\"ok\":false,\"error\":"
		"\"bad \\\"thing\\\"\\n\",\"code\":-2}\n");
	free(a);
	/* a message with bytes that are not UTF-8 still makes an answer */
	a = rip_agent_answer_err(true, 1, RIP_EUSAGE, "op '\xff\xfe'");
	assert_string_equal(a, "{\"id\":1,\"ok\":false,\"error\":\"op '?" "?'\","
		"\"code\":-2}\n");
	free(a);
}

/* Serves input with agent.ini at ini; the answers in out. */
static int serve(void **state, const char *input, const char *ini,
	struct rip_buf *out, struct rip_err *err)
{
	char opath[512];
	struct rip_agent_opts o = { .ini_path = ini };
	int in = input_fd(state, "requests", input, strlen(input));
	int fd, rc;

	snprintf(opath, sizeof(opath), "%s", tpath(state, "answers"));
	fd = open(opath, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	assert_true(fd >= 0);
	rc = rip_agent_serve(in, fd, &o, err);
	close(in);
	close(fd);
	rip_buf_reset(out);
	assert_int_equal(rip_read_file(out, opath, 1 << 20, err), 0);
	return rc;
}

#define HELLO "{\"op\":\"hello\",\"id\":0,\"protocol\":1,\"version\":\"x\"}\n"

static void test_serve_handshake_first(void **state)
{
	struct rip_buf out = RIP_BUF_INIT, want = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	char host[256] = "", *hello, *end;
	double t;

	assert_int_equal(serve(state, "{\"op\":\"inspect\",\"id\":1,\"root\":"
		"\"/\"}\n{\"op\":\"hello\",\"id\":2,\"protocol\":2,\"version\":"
		"\"x\"}\n{\"op\":\"bye\",\"id\":3}\n" HELLO
		"{\"op\":\"frob\",\"id\":4}\n{\"op\":\"bye\",\"id\":5}\n"
		"{\"op\":\"hello\",\"id\":6}\n", tpath(state, "none.ini"), &out,
		&err), 0);
	/* hello's answer: the host's name and its clock, now */
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	rip_buf_addf(&want, "{\"id\":0,\"ok\":true,\"protocol\":1,"
		"\"version\":\"" RIP_VERSION "\",\"hostname\":\"%s\",\"time\":",
		host);
	hello = strstr(out.buf, want.buf);
	assert_non_null(hello);
	t = strtod(hello + want.len, &end);
	assert_true(fabs(t - (double)time(NULL)) < 60);
	assert_string_equal(end, "}\n"
		"{\"id\":4,\"ok\":false,\"error\":\"unknown op 'frob' (known: "
		"hello, inspect, prepare, has, put, extract, switch, activate, "
		"remove, clean, bye)\",\"code\":-2}\n"
		"{\"id\":5,\"ok\":true}\n");
	*hello = '\0';
	assert_string_equal(out.buf,
		"{\"id\":1,\"ok\":false,\"error\":\"request 'inspect' before the "
		"handshake: send 'hello' first\",\"code\":-2}\n"
		"{\"id\":2,\"ok\":false,\"error\":\"protocol 2 (ripcord x) is not "
		"spoken here: this agent speaks protocol 1 (ripcord " RIP_VERSION
		")\",\"code\":-2,\"protocol\":1,\"version\":\"" RIP_VERSION
		"\"}\n"
		"{\"id\":3,\"ok\":false,\"error\":\"request 'bye' before the "
		"handshake: send 'hello' first\",\"code\":-2}\n");
	rip_buf_release(&out);
	rip_buf_release(&want);
}

static void test_serve_inspect_switch_remove(void **state)
{
	struct rip_buf out = RIP_BUF_INIT, in = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	char root[512], lnk[600];

	snprintf(root, sizeof(root), "%s", tpath(state, "r"));
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(tpath(state, "r/releases"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "r/releases/v1"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "r/releases/v2"), 0755), 0);
	assert_int_equal(symlink("releases/v1", tpath(state, "r/current")), 0);

	rip_buf_adds(&in, HELLO);
	rip_buf_addf(&in, "{\"op\":\"inspect\",\"id\":1,\"root\":\"%s\"}\n", root);
	rip_buf_addf(&in, "{\"op\":\"switch\",\"id\":2,\"root\":\"%s\","
		"\"release\":\"v2\"}\n", root);
	rip_buf_addf(&in, "{\"op\":\"switch\",\"id\":3,\"root\":\"%s\","
		"\"release\":\"v3\"}\n", root);
	rip_buf_addf(&in, "{\"op\":\"switch\",\"id\":4,\"root\":\"%s\","
		"\"release\":\"../v1\"}\n", root);
	rip_buf_addf(&in, "{\"op\":\"remove\",\"id\":5,\"root\":\"%s\","
		"\"release\":\"v2\"}\n", root);
	rip_buf_addf(&in, "{\"op\":\"remove\",\"id\":6,\"root\":\"%s\","
		"\"release\":\"v1\"}\n", root);
	rip_buf_adds(&in, "{\"op\":\"inspect\",\"id\":7,\"root\":\"rel\"}\n");
	rip_buf_adds(&in, "{\"op\":\"inspect\",\"id\":8}\n");
	assert_int_equal(serve(state, in.buf, tpath(state, "none.ini"), &out,
		&err), 0);

	snprintf(lnk, sizeof(lnk), "\"current\":\"v1\",\"releases\":[\"v1\","
		"\"v2\"],\"free_bytes\":");
	assert_non_null(strstr(out.buf, lnk));
	assert_non_null(strstr(out.buf, "{\"id\":2,\"ok\":true,\"current\":"
		"\"v2\",\"synced\":true}\n"));
	assert_non_null(strstr(out.buf, "{\"id\":3,\"ok\":false,\"error\":"
		"\"release 'v3' is not extracted under"));
	assert_non_null(strstr(out.buf, "{\"id\":4,\"ok\":false,\"error\":"
		"\"bad release id '../v1'\""));
	assert_non_null(strstr(out.buf, "{\"id\":5,\"ok\":false,\"error\":"
		"\"release 'v2' is what"));
	assert_non_null(strstr(out.buf, "{\"id\":6,\"ok\":true,\"removed\":"
		"true}\n"));
	assert_non_null(strstr(out.buf, "{\"id\":7,\"ok\":false,\"error\":"
		"\"root 'rel' is not an absolute path\""));
	assert_non_null(strstr(out.buf, "{\"id\":8,\"ok\":false,\"error\":"
		"\"'inspect' needs a string 'root'\""));
	/* what the answers said is what is on disk */
	memset(lnk, 0, sizeof(lnk));
	assert_true(readlink(tpath(state, "r/current"), lnk, sizeof(lnk) - 1) > 0);
	assert_string_equal(lnk, "releases/v2");
	assert_false(rip_is_dir(tpath(state, "r/releases/v1")));
	assert_true(rip_is_dir(tpath(state, "r/releases/v2")));
	rip_buf_release(&out);
	rip_buf_release(&in);
}

/* agent.ini: missing, malformed, and the roots it allows */
static void test_conf_and_roots(void **state)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "[agent]\nroots = srv/a\n", "agent.ini:2: root 'srv/a' is not "
			"an absolute path" },
		{ "[agnet]\nroots = /srv\n", "agent.ini:2: unknown section "
			"'agnet'" },
		{ "[agent]\nroot = /srv\n", "agent.ini:2: unknown key 'root' in "
			"[agent]" },
		{ "[agent]\nroots\n", "agent.ini:2:" },
	};
	struct rip_agent_conf c;
	struct rip_err err = { 0 };
	char ini[512], top[512], link[512], text[1200];

	snprintf(ini, sizeof(ini), "%s", tpath(state, "agent.ini"));
	assert_int_equal(rip_agent_conf_load(&c, ini, &err), 0);
	assert_int_equal(c.roots.n, 0);    /* missing: any root */
	assert_int_equal(rip_agent_root_allowed(&c, "/", &err), 0);
	assert_int_equal(rip_agent_root_allowed(&c, "tmp", &err), RIP_EUSAGE);
	/* a root that does not exist yet: judged by what does */
	assert_int_equal(rip_agent_root_allowed(&c, "/nonexistent/x", &err), 0);
	assert_int_equal(rip_agent_root_allowed(&c, "/nonexistent/../etc",
		&err), RIP_ESECURITY);
	/* a release's payload is never a root, with or without roots */
	assert_int_equal(rip_agent_root_allowed(&c, "/nonexistent/releases/v1",
		&err), RIP_ESECURITY);
	assert_non_null(strstr(err.msg, "lies inside '/nonexistent/releases/'"));
	assert_int_equal(rip_agent_root_allowed(&c, "/nonexistent/releases/",
		&err), 0);
	rip_agent_conf_release(&c);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(bad); i++) {
		write_text(ini, bad[i].text);
		assert_int_equal(rip_agent_conf_load(&c, ini, &err), RIP_ECONFIG);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("'%s' lacks '%s'", err.msg, bad[i].msg);
		assert_int_equal(c.roots.n, 0);
	}

	snprintf(top, sizeof(top), "%s", tpath(state, "srv"));
	assert_int_equal(mkdir(top, 0755), 0);
	assert_int_equal(mkdir(tpath(state, "srv/a"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "srv/a/b"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "srv/ab"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "elsewhere"), 0755), 0);
	snprintf(link, sizeof(link), "%s", tpath(state, "srv/a/out"));
	assert_int_equal(symlink("../../elsewhere", link), 0);
	snprintf(text, sizeof(text), "; roots\n[agent]\nroots = %s/a, "
		"/nonexistent\n", top);
	write_text(ini, text);
	assert_int_equal(rip_agent_conf_load(&c, ini, &err), 0);
	assert_int_equal(c.roots.n, 2);
	snprintf(text, sizeof(text), "%s/a", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), 0);
	snprintf(text, sizeof(text), "%s/a/b/", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), 0);
	snprintf(text, sizeof(text), "%s/ab", top);   /* a prefix, not below */
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), RIP_ESECURITY);
	assert_non_null(strstr(err.msg, "is not allowed here"));
	assert_int_equal(rip_agent_root_allowed(&c, link, &err), RIP_ESECURITY);
	snprintf(text, sizeof(text), "%s/a/../ab", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), RIP_ESECURITY);
	assert_int_equal(rip_agent_root_allowed(&c, top, &err), RIP_ESECURITY);
	/* missing roots: below a listed one, or not */
	snprintf(text, sizeof(text), "%s/a/new/deeper/", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), 0);
	snprintf(text, sizeof(text), "%s/ab/new", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), RIP_ESECURITY);
	snprintf(text, sizeof(text), "%s/a/new/../../ab", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), RIP_ESECURITY);
	assert_non_null(strstr(err.msg, "below a folder that does not exist"));
	snprintf(text, sizeof(text), "%s/new", link);   /* through the link */
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), RIP_ESECURITY);
	/* below a releases/ folder below a listed root: a payload */
	snprintf(text, sizeof(text), "%s/a/app/releases/v1/x", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), RIP_ESECURITY);
	assert_non_null(strstr(err.msg, "a release's payload is never a root"));
	assert_int_equal(mkdir(tpath(state, "srv/a/releases"), 0755), 0);
	assert_int_equal(mkdir(tpath(state, "srv/a/releases/v1"), 0755), 0);
	snprintf(text, sizeof(text), "%s/a/releases/v1", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), RIP_ESECURITY);
	snprintf(link, sizeof(link), "%s", tpath(state, "srv/a/in"));
	assert_int_equal(symlink("releases/v1", link), 0);
	assert_int_equal(rip_agent_root_allowed(&c, link, &err), RIP_ESECURITY);
	snprintf(text, sizeof(text), "%s/a/releases", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), 0);
	snprintf(text, sizeof(text), "%s/a/releasesx/v1", top);
	assert_int_equal(rip_agent_root_allowed(&c, text, &err), 0);
	rip_agent_conf_release(&c);
	/* verify_key: absolute and readable at start */
	write_text(ini, "[agent]\nverify_key = key.pub\n");
	assert_int_equal(rip_agent_conf_load(&c, ini, &err), RIP_ECONFIG);
	assert_non_null(strstr(err.msg, "agent.ini:2: verify_key 'key.pub' is "
		"not an absolute path"));
	snprintf(text, sizeof(text), "[agent]\nverify_key = %s/none.pub\n",
		top);
	write_text(ini, text);
	assert_int_equal(rip_agent_conf_load(&c, ini, &err), RIP_ECONFIG);
	assert_non_null(strstr(err.msg, "agent.ini:2: cannot read verify_key"));
	snprintf(text, sizeof(text), "[agent]\nverify_key = %s\n", ini);
	write_text(ini, text);
	assert_int_equal(rip_agent_conf_load(&c, ini, &err), 0);
	assert_string_equal(c.verify_key, ini);
	rip_agent_conf_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_lines_split_and_last_without_newline, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
			test_long_line_refused_and_next_read, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_real_limit, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_raw_after_line, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_parse_ok_and_members),
		cmocka_unit_test(test_hello_checks),
		cmocka_unit_test(test_answer_shapes),
		cmocka_unit_test_setup_teardown(test_serve_handshake_first,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_serve_inspect_switch_remove,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_conf_and_roots,
			tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
