/* SPDX-License-Identifier: MIT */
/*
 * agent_proto.c: framing and messages of the agent protocol (see
 * agent_proto.h). Tuned for hostile input rather than speed: a line is
 * never held past RIP_AGENT_MAX_LINE, whatever the peer sends, and every
 * member is type-checked before use. Answers are compact and ASCII, one
 * per line, so a reader needs no JSON streaming. The watch is the one
 * thread: while an activate hook runs, it alone looks at the session's
 * fds (poll only, it never reads), so a session that ends ends the hook.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "agent_proto.h"
#include "rip_version.h"
#include "banned.h"

/* The watch's thread: polls both ends of the session until one of them
 * is gone or it is woken to end. */
static void *watch_run(void *data)
{
	struct rip_agent_watch *w = data;
	/* POLLRDHUP only: pending input is no reason to wake; POLLHUP and
	 * POLLERR come whatever is asked */
	struct pollfd p[3] = {
		{ .fd = w->in, .events = POLLRDHUP },
		{ .fd = w->out, .events = 0 },
		{ .fd = w->wake[0], .events = POLLIN },
	};

	for (;;) {
		int n = poll(p, 3, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[2].revents)
			return NULL;
		for (int i = 0; i < 2; i++) {
			if (p[i].revents & (POLLHUP | POLLRDHUP | POLLERR)) {
				atomic_store(&w->gone, true);
				return NULL;
			}
			if (p[i].revents & POLLNVAL)
				p[i].fd = -1;   /* not watchable: left alone */
		}
	}
}

void rip_agent_watch_start(struct rip_agent_watch *w, int in, int out)
{
	atomic_init(&w->gone, false);
	w->in = in;
	w->out = out;
	w->running = false;
	if (pipe2(w->wake, O_CLOEXEC) < 0)
		return;
	if (pthread_create(&w->thread, NULL, watch_run, w) == 0) {
		w->running = true;
		return;
	}
	close(w->wake[0]);
	close(w->wake[1]);
}

void rip_agent_watch_stop(struct rip_agent_watch *w)
{
	if (!w->running)
		return;
	if (write(w->wake[1], "x", 1) < 0) {
		/* a pipe of our own with room: cannot happen; do not wait */
		pthread_detach(w->thread);
	} else {
		pthread_join(w->thread, NULL);
		close(w->wake[0]);
	}
	close(w->wake[1]);
	w->running = false;
}

/* Refills r->buf; returns bytes read, 0 at end, < 0 on error. */
static ssize_t fill(struct rip_agent_reader *r)
{
	ssize_t n;

	r->start = r->end = 0;
	if (r->eof)
		return 0;
	do
		n = read(r->fd, r->buf, sizeof(r->buf));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		r->eof = true;
	if (n > 0)
		r->end = (size_t)n;
	return n;
}

int rip_agent_read_line(struct rip_buf *out, struct rip_agent_reader *r,
	size_t max, struct rip_err *err)
{
	bool any = false, over = false;

	rip_buf_reset(out);
	for (;;) {
		char *nl;
		size_t n;

		if (r->start == r->end) {
			ssize_t got = fill(r);

			if (got < 0)
				return rip_err_errno(err, RIP_EIO, "cannot read a "
					"request");
			if (got == 0)
				break;
		}
		any = true;
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		n = (nl ? (size_t)(nl - r->buf) : r->end) - r->start;
		if (!over && n > max - out->len) {
			over = true;
			rip_buf_reset(out);
		}
		if (!over)
			rip_buf_add(out, r->buf + r->start, n);
		r->start += n + (nl ? 1 : 0);
		if (nl)
			break;
	}
	if (over)
		return rip_err_set(err, RIP_EINTEGRITY, "request line longer "
			"than the limit of %zu bytes: refused", max);
	return any ? 1 : 0;
}

ssize_t rip_agent_read_raw(void *buf, struct rip_agent_reader *r,
	size_t max, struct rip_err *err)
{
	ssize_t n;

	if (max == 0)
		return 0;
	if (r->start < r->end) {
		size_t k = r->end - r->start;

		if (k > max)
			k = max;
		memcpy(buf, r->buf + r->start, k);
		r->start += k;
		return (ssize_t)k;
	}
	r->start = r->end = 0;
	if (r->eof)
		return 0;
	do
		n = read(r->fd, buf, max);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rip_err_errno(err, RIP_EIO, "cannot read a request's "
			"bytes");
	if (n == 0)
		r->eof = true;
	return n;
}

void rip_agent_req_release(struct rip_agent_req *r)
{
	json_decref(r->doc);
	r->doc = NULL;
	r->op = NULL;
}

int rip_agent_parse(struct rip_agent_req *out, const char *line,
	size_t len, struct rip_err *err)
{
	json_error_t jerr;
	json_t *doc, *op, *id;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	doc = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!doc)
		return rip_err_set(err, RIP_EUSAGE, "request is not JSON: %s "
			"(column %d)", jerr.text, jerr.column);
	id = json_object_get(doc, "id");
	op = json_object_get(doc, "op");
	if (json_is_integer(id) && json_integer_value(id) >= 0) {
		out->has_id = true;
		out->id = json_integer_value(id);
	}
	if (!json_is_object(doc))
		rc = rip_err_set(err, RIP_EUSAGE, "request is not a JSON object");
	else if (!id)
		rc = rip_err_set(err, RIP_EUSAGE, "request has no 'id'");
	else if (!out->has_id)
		rc = rip_err_set(err, RIP_EUSAGE, "request 'id' is not an "
			"integer of 0 or more");
	else if (!op)
		rc = rip_err_set(err, RIP_EUSAGE, "request has no 'op'");
	else if (!json_is_string(op))
		rc = rip_err_set(err, RIP_EUSAGE, "request 'op' is not a string");
	if (rc < 0) {
		json_decref(doc);
		return rc;
	}
	out->doc = doc;
	out->op = json_string_value(op);
	return 0;
}

const char *rip_agent_req_str(const struct rip_agent_req *r,
	const char *key, struct rip_err *err)
{
	json_t *v = json_object_get(r->doc, key);

	if (!json_is_string(v)) {
		rip_err_set(err, RIP_EUSAGE, "'%s' needs a string '%s'", r->op,
			key);
		return NULL;
	}
	return json_string_value(v);
}

int rip_agent_hello_check(const struct rip_agent_req *r,
	struct rip_err *err)
{
	json_t *p = json_object_get(r->doc, "protocol");
	json_t *v = json_object_get(r->doc, "version");

	if (!json_is_integer(p))
		return rip_err_set(err, RIP_EUSAGE, "'hello' needs an integer "
			"'protocol'");
	if (!json_is_string(v))
		return rip_err_set(err, RIP_EUSAGE, "'hello' needs a string "
			"'version'");
	if (json_integer_value(p) != RIP_AGENT_PROTOCOL)
		return rip_err_set(err, RIP_EUSAGE, "protocol %lld (ripcord %s) "
			"is not spoken here: this agent speaks protocol %d "
			"(ripcord %s)", (long long)json_integer_value(p),
			json_string_value(v), RIP_AGENT_PROTOCOL, RIP_VERSION);
	return 0;
}

json_t *rip_agent_hello_fields(void)
{
	return json_pack("{s:i,s:s}", "protocol", RIP_AGENT_PROTOCOL,
		"version", RIP_VERSION);
}

/* doc as one compact ASCII line; takes doc. */
static char *line_of(json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII |
		JSON_PRESERVE_ORDER);
	char *line;

	json_decref(doc);
	if (!s)
		return rip_xstrdup("{\"id\":null,\"ok\":false,\"error\":"
			"\"out of memory\"}\n");
	line = rip_xasprintf("%s\n", s);
	free(s);
	return line;
}

static json_t *head(bool has_id, json_int_t id, bool ok)
{
	json_t *doc = json_object();

	json_object_set_new(doc, "id", has_id ? json_integer(id) : json_null());
	json_object_set_new(doc, "ok", json_boolean(ok));
	return doc;
}

char *rip_agent_answer_ok(bool has_id, json_int_t id, json_t *fields)
{
	json_t *doc = head(has_id, id, true);

	if (fields) {
		json_object_del(fields, "id");
		json_object_del(fields, "ok");
		json_object_update(doc, fields);
		json_decref(fields);
	}
	return line_of(doc);
}

char *rip_agent_answer_err(bool has_id, json_int_t id, int code,
	const char *msg)
{
	return rip_agent_answer_err_with(has_id, id, code, msg, NULL);
}

char *rip_agent_answer_err_with(bool has_id, json_int_t id, int code,
	const char *msg, json_t *fields)
{
	json_t *doc = head(has_id, id, false);

	/* a message from a peer's bytes may not be UTF-8: jansson refuses
	 * such strings, and an answer must always go out */
	if (json_object_set_new(doc, "error", json_string(msg)) < 0) {
		char *ascii = rip_xstrdup(msg);

		for (char *c = ascii; *c; c++)
			if ((unsigned char)*c >= 0x80)
				*c = '?';
		json_object_set_new(doc, "error", json_string(ascii));
		free(ascii);
	}
	json_object_set_new(doc, "code", json_integer(code));
	if (fields) {
		json_object_del(fields, "id");
		json_object_del(fields, "ok");
		json_object_del(fields, "error");
		json_object_del(fields, "code");
		json_object_update(doc, fields);
		json_decref(fields);
	}
	return line_of(doc);
}
