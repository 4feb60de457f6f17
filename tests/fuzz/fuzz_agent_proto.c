/* SPDX-License-Identifier: MIT */
/*
 * fuzz_agent_proto.c: the request side of `ripcord agent`'s wire
 * (agent_proto.c), never its actions: the input is what a peer sends on
 * the agent's stdin. It is read through rip_agent_read_line from a memfd
 * with a small limit (64 bytes, so that mutations reach the refusal of
 * long lines), and each line goes to rip_agent_parse and, when it parses,
 * to rip_agent_req_str and rip_agent_hello_check. Contracts checked:
 *   - the reader gives exactly the input's lines in order, each without
 *     its '\n', the last one also without; a line longer than the limit
 *     is RIP_EINTEGRITY, holds at most the limit, and the next call reads
 *     the next line; then 0, again and again;
 *   - after a "put" line with an integer size (up to 4 KiB), that many raw
 *     bytes (fewer at the end of input) come through rip_agent_read_raw,
 *     in pieces of a size taken from the input, exactly the input's bytes
 *     after the line, and the lines go on after them;
 *   - a parse that works gives an object, a string op and an id >= 0; one
 *     that fails is RIP_EUSAGE with a message and no document;
 *   - a hello that passes says protocol 1;
 *   - every answer (ok, or the error with the parser's message) is one
 *     line of JSON, an object whose id is the request's (null when none
 *     was read) and whose ok says which.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "agent_proto.h"
#include "ripcord/fsutil.h"
#include "fuzz.h"

#define LIMIT 64
#define RAW_MAX 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* ans is one line of a JSON object with id (has_id) and ok. */
static void check_answer(char *ans, bool has_id, json_int_t id, bool ok)
{
	size_t len = strlen(ans);
	json_t *doc, *jid;

	FUZZ_CHECK(len >= 2 && ans[len - 1] == '\n');
	FUZZ_CHECK(memchr(ans, '\n', len - 1) == NULL);
	doc = json_loadb(ans, len - 1, 0, NULL);
	FUZZ_CHECK(json_is_object(doc));
	jid = json_object_get(doc, "id");
	FUZZ_CHECK(has_id ? json_is_integer(jid) &&
		json_integer_value(jid) == id : json_is_null(jid));
	FUZZ_CHECK(json_is_boolean(json_object_get(doc, "ok")) &&
		json_is_true(json_object_get(doc, "ok")) == ok);
	FUZZ_CHECK(ok || json_is_string(json_object_get(doc, "error")));
	json_decref(doc);
	free(ans);
}

/* Returns the size of a put (up to RAW_MAX; 0: not a put). */
static size_t one_request(const char *line, size_t len)
{
	size_t put = 0;
	struct rip_agent_req req;
	struct rip_err err = { 0 };
	int rc = rip_agent_parse(&req, line, len, &err);

	fuzz_report("rip_agent_parse", rc, &err);
	if (rc < 0) {
		FUZZ_CHECK(rc == RIP_EUSAGE && err.msg[0] && !req.doc);
		check_answer(rip_agent_answer_err(req.has_id, req.id, rc,
			err.msg), req.has_id, req.id, false);
		return 0;
	}
	FUZZ_CHECK(json_is_object(req.doc) && req.op && req.has_id &&
		req.id >= 0);
	if (rip_agent_req_str(&req, "root", &err) == NULL)
		FUZZ_CHECK(err.code == RIP_EUSAGE);
	if (!strcmp(req.op, "hello") && rip_agent_hello_check(&req, &err) == 0)
		FUZZ_CHECK(json_integer_value(json_object_get(req.doc,
			"protocol")) == RIP_AGENT_PROTOCOL);
	check_answer(rip_agent_answer_ok(true, req.id,
		rip_agent_hello_fields()), true, req.id, true);
	check_answer(rip_agent_answer_err_with(true, req.id, RIP_EUSAGE,
		"refused", rip_agent_hello_fields()), true, req.id, false);
	if (!strcmp(req.op, "put")) {
		json_t *size = json_object_get(req.doc, "size");

		if (json_is_integer(size) && json_integer_value(size) > 0 &&
		    json_integer_value(size) <= RAW_MAX)
			put = (size_t)json_integer_value(size);
	}
	rip_agent_req_release(&req);
	return put;
}

/* The n raw bytes after a put line (fewer at the end): they must be the
 * input's, read in pieces of step bytes. Returns how many came. */
static size_t raw_bytes(struct rip_agent_reader *r, const uint8_t *p,
	size_t left, size_t n, size_t step)
{
	static uint8_t buf[RAW_MAX];
	struct rip_err err = { 0 };
	size_t got = 0;

	while (got < n) {
		size_t want = n - got < step ? n - got : step;
		ssize_t k = rip_agent_read_raw(buf + got, r, want, &err);

		FUZZ_CHECK(k >= 0 && (size_t)k <= want);
		if (k == 0)
			break;
		got += (size_t)k;
	}
	FUZZ_CHECK(got == (n < left ? n : left));
	FUZZ_CHECK(!memcmp(buf, p, got));
	return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rip_agent_reader *r = rip_xcalloc(1, sizeof(*r));
	struct rip_buf line = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	const uint8_t *p = data, *end = data + size;

	r->fd = memfd_create("fuzz_agent_proto", MFD_CLOEXEC);
	FUZZ_CHECK(r->fd >= 0);
	FUZZ_CHECK(rip_write_all(r->fd, data, size) == 0);
	FUZZ_CHECK(lseek(r->fd, 0, SEEK_SET) == 0);
	/* the reference: the input split at each '\n' */
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		int rc = rip_agent_read_line(&line, r, LIMIT, &err);

		FUZZ_CHECK(line.len <= LIMIT);
		if (n > LIMIT) {
			FUZZ_CHECK(rc == RIP_EINTEGRITY);
		} else {
			size_t put;

			FUZZ_CHECK(rc == 1 && line.len == n &&
				!memcmp(line.buf, p, n));
			put = one_request(line.buf, line.len);
			p += n + (nl ? 1 : 0);
			if (put)
				p += raw_bytes(r, p, (size_t)(end - p), put,
					1 + n % 97);
			continue;
		}
		p += n + (nl ? 1 : 0);
	}
	FUZZ_CHECK(rip_agent_read_line(&line, r, LIMIT, &err) == 0);
	FUZZ_CHECK(rip_agent_read_line(&line, r, LIMIT, &err) == 0);
	/* the whole input as one request, at the real limit's parser */
	one_request((const char *)data, size);
	close(r->fd);
	free(r);
	rip_buf_release(&line);
	return 0;
}
