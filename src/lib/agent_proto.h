/* SPDX-License-Identifier: MIT */
/*
 * agent_proto.h: the wire of `ripcord agent`: one JSON object per line in
 * each direction, a request {"op": "...", "id": N, ...} answered by
 * {"id": N, "ok": true, ...} or {"id": N, "ok": false, "error": "..."}.
 * Internal: jansson's types stay out of include/ripcord (agent.c and the
 * tests reach this header through the include path to src/lib).
 */
#ifndef RIPCORD_AGENT_PROTO_H
#define RIPCORD_AGENT_PROTO_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "ripcord/buf.h"
#include "ripcord/err.h"
#include "ripcord/remote.h"

/* RIP_AGENT_PROTOCOL, the protocol spoken, is in ripcord/remote.h */
/* The longest line read, newline excluded: longer ones are refused. */
#define RIP_AGENT_MAX_LINE ((size_t)1 << 20)

/* Buffered lines from one fd; set fd, zero the rest. */
struct rip_agent_reader {
	int fd;
	bool eof;
	size_t start, end;
	char buf[65536];
};

/*
 * A watch on the session while a request runs long (an activate hook): a
 * thread that sets gone once the session's input has ended (every writer
 * of a pipe gone, the peer of a socket shut its side, a terminal hung up)
 * or the reader of its output went away (ssh died). A regular file or
 * /dev/null never ends this way. Without a thread, gone stays false.
 */
struct rip_agent_watch {
	atomic_bool gone;
	int in, out;
	int wake[2];             /* written to end the thread */
	pthread_t thread;
	bool running;
};

/* Starts watching in and out (the agent's stdin and stdout). */
void rip_agent_watch_start(struct rip_agent_watch *w, int in, int out);
/* Ends the watch: the thread is joined, its pipe closed. */
void rip_agent_watch_stop(struct rip_agent_watch *w);

/*
 * Reads the next line (its '\n' dropped; a last line without one counts)
 * into out, replacing what out held. Returns 1 for a line, 0 at end of
 * input, RIP_EINTEGRITY for a line longer than max (read to its end and
 * dropped: never more than max bytes held, the next call reads the next
 * line), RIP_EIO when read(2) fails.
 */
RIP_MUST_CHECK int rip_agent_read_line(struct rip_buf *out,
	struct rip_agent_reader *r, size_t max, struct rip_err *err);

/*
 * Raw bytes through the reader (a put's body): up to max bytes into buf,
 * first those already buffered after the last line, then from the fd
 * (one read(2), straight into buf). Returns how many (> 0), 0 at end of
 * input, RIP_EIO when read(2) fails. A later rip_agent_read_line goes on
 * after the last byte given.
 */
RIP_MUST_CHECK ssize_t rip_agent_read_raw(void *buf,
	struct rip_agent_reader *r, size_t max, struct rip_err *err);

/* One request: doc owns the strings op points into. */
struct rip_agent_req {
	json_t *doc;
	const char *op;
	json_int_t id;
	bool has_id;    /* id was read (even when the rest was refused) */
};

/*
 * Parses one line into out: a JSON object with a string "op" and an
 * integer "id" >= 0. On failure (RIP_EUSAGE, the reason in err) out->doc
 * is NULL, and out->has_id says whether an id could still be read for
 * the answer.
 */
RIP_MUST_CHECK int rip_agent_parse(struct rip_agent_req *out,
	const char *line, size_t len, struct rip_err *err);
void rip_agent_req_release(struct rip_agent_req *r);

/*
 * The string member key of the request; NULL with RIP_EUSAGE in err
 * ("'switch' needs a string 'root'") when it is missing or not a string.
 */
const char *rip_agent_req_str(const struct rip_agent_req *r,
	const char *key, struct rip_err *err);

/*
 * Checks a "hello" request: an integer "protocol" equal to ours and a
 * string "version". A mismatch is RIP_EUSAGE naming both protocols.
 */
RIP_MUST_CHECK int rip_agent_hello_check(const struct rip_agent_req *r,
	struct rip_err *err);

/* The fields of the answer to hello: {"protocol": 1, "version": "..."}. */
json_t *rip_agent_hello_fields(void);

/*
 * The answer line (compact JSON and '\n'), newly allocated: ok with the
 * members of fields (stolen; may be NULL), or not ok with error msg. The
 * id is null when has_id is false.
 */
char *rip_agent_answer_ok(bool has_id, json_int_t id, json_t *fields);
char *rip_agent_answer_err(bool has_id, json_int_t id, int code,
	const char *msg);
/* rip_agent_answer_err with the members of fields (stolen; may be NULL)
 * after code: a hello refused still says the agent's protocol. */
char *rip_agent_answer_err_with(bool has_id, json_int_t id, int code,
	const char *msg, json_t *fields);

#endif
