/* SPDX-License-Identifier: MIT */
/*
 * agent_internal.h: what agent.c (the loop, roots, inspect, switch,
 * activate) shares with agent_cache.c (the artifact cache: has, put,
 * extract, clean). Internal to the library, as agent_proto.h is.
 */
#ifndef RIPCORD_AGENT_INTERNAL_H
#define RIPCORD_AGENT_INTERNAL_H

#include <limits.h>

#include "ripcord/agent.h"
#include "agent_proto.h"

/* The largest put: an artifact of more is refused before its bytes. */
#define MAX_PUT ((json_int_t)64 << 30)
#define PUT_CHUNK ((size_t)1 << 16)

struct agent {
	struct rip_agent_conf conf;
	struct rip_agent_reader *r;
	int out;                 /* where answers go */
	bool hello;
	bool bye;
	bool stop;               /* the session cannot go on */
	bool silent;             /* ... and the last request gets no answer */
	bool body_read;          /* the bytes of this put were read */
	int stop_rc;
	struct rip_err stop_err;
};

/* One request about a root, checked. */
struct op_ctx {
	struct agent *a;
	const struct rip_agent_req *req;
	const char *root;
	bool exists;             /* root exists */
	char real[PATH_MAX];     /* root's nearest existing folder, resolved */
};

/* Whether path (lstat, never followed) is a folder (*there); a link
 * there is RIP_ESECURITY naming it. */
RIP_MUST_CHECK int rip_agent_real_dir(bool *there, const char *path,
	struct rip_err *err);

/* <root>/releases/<id> (*dir, allocated even on failure) and whether it
 * is there, as rip_agent_real_dir judges it. */
RIP_MUST_CHECK int rip_agent_release_dir(char **dir, bool *there,
	const struct op_ctx *c, const char *id, struct rip_err *err);

/* Ends the session after this request (silent: without its answer). */
void rip_agent_stop(struct agent *a, bool silent, int rc,
	const struct rip_err *err);

/* The request's "release", a valid release id; NULL with RIP_EUSAGE. */
const char *rip_agent_release_arg(const struct rip_agent_req *req,
	struct rip_err *err);

/* The request's "digest", 64 lowercase hex digits; NULL with RIP_EUSAGE. */
const char *rip_agent_digest_arg(const struct rip_agent_req *req,
	struct rip_err *err);

/* The optional member key into *out (NULL when absent); one that is there
 * but fails is() is RIP_EUSAGE saying it is not what. */
RIP_MUST_CHECK int rip_agent_member(json_t **out,
	const struct rip_agent_req *req, const char *key,
	int (*is)(const json_t *), const char *what, struct rip_err *err);

static inline int rip_agent_is_bool(const json_t *j)
{
	return json_is_boolean(j);
}

static inline int rip_agent_is_int(const json_t *j)
{
	return json_is_integer(j);
}

static inline int rip_agent_is_array(const json_t *j)
{
	return json_is_array(j);
}

static inline int rip_agent_is_string(const json_t *j)
{
	return json_is_string(j);
}

/* The requests about the cache of c->root (agent_cache.c); each fills
 * *fields with its answer's members. */
RIP_MUST_CHECK int rip_agent_do_has(json_t **fields, struct op_ctx *c,
	struct rip_err *err);
RIP_MUST_CHECK int rip_agent_do_put(json_t **fields, struct op_ctx *c,
	struct rip_err *err);
RIP_MUST_CHECK int rip_agent_do_extract(json_t **fields, struct op_ctx *c,
	struct rip_err *err);
RIP_MUST_CHECK int rip_agent_do_clean(json_t **fields, struct op_ctx *c,
	struct rip_err *err);

/* Reads and drops the n bytes of a put that was refused before them; an
 * input that ends first ends the session. */
void rip_agent_put_drop(struct agent *a, uint64_t n);

#endif
