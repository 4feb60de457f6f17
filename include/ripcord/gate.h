/* SPDX-License-Identifier: MIT */
/*
 * gate.h: the Prometheus gate of a canary rollout ([rollout] gate_query):
 * one instant query, read as one number that must stay at or below
 * gate_query_max.
 *
 * The answer is Prometheus' HTTP API JSON. A scalar is its value; a vector
 * is the MAXIMUM over its series, since the gate must hold for every
 * series (a query by instance judges each canary). Anything the gate
 * cannot judge is an error, never a number: an empty vector, a matrix or
 * a string, a NaN, an answer that is not what the API documents. The
 * rollout counts such errors ([rollout] failure_threshold in a row make
 * the step inconclusive, which [rollout] inconclusive resolves); it
 * compares the value itself.
 *
 * Query URLs may carry credentials or tokens, so messages show them only
 * as rip_http_mask_url masks them.
 */
#ifndef RIPCORD_GATE_H
#define RIPCORD_GATE_H

#include "ripcord/common.h"
#include "ripcord/err.h"

/* Answers longer than this are refused: a gate reads one number. */
#define RIP_GATE_BODY_MAX ((size_t)1024 * 1024)

/*
 * GETs url (a Prometheus /api/v1/query?query=... URL, http or https),
 * within timeout_ms (connect + answer; 0 counts as 1 ms, never as "no
 * timeout"), and reads the one number it answers as
 * rip_gate_query_parse does. Redirects are not followed; proxies from the
 * environment apply, never for loopback. Returns 0 with *value set, or
 * RIP_EFAIL when the value cannot be read (no connection, timeout, a
 * non-2xx status, an answer the gate cannot judge: err names the masked
 * URL, what came and what was expected), RIP_EIO when libcurl cannot be
 * set up. *value is NAN on every failure.
 */
RIP_MUST_CHECK int rip_gate_query(double *value, const char *url,
	uint64_t timeout_ms, struct rip_err *err);

/*
 * Parses a Prometheus HTTP API answer body (len bytes, not necessarily
 * NUL-terminated) of an instant query: {"status":"success","data":
 * {"resultType":"scalar"|"vector","result":...}}. A value may be "+Inf"
 * or "-Inf". Returns 0 with *value set; RIP_EFAIL (err says what was
 * found and what was expected, without a URL) for a body that is not such
 * an answer or longer than RIP_GATE_BODY_MAX, for "status":"error" (with
 * Prometheus' errorType and error), an empty vector, a matrix or string
 * result, or a NaN value. *value is NAN on every failure.
 */
RIP_MUST_CHECK int rip_gate_query_parse(double *value, const char *body,
	size_t len, struct rip_err *err);

#endif
