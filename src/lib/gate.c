/* SPDX-License-Identifier: MIT */
/*
 * gate.c: the Prometheus gate (gate.h): one GET of an instant query URL
 * through the HTTP wrapper (http.c), and the reading of its JSON answer
 * (jansson) into one number. The wrapper's result, the HTTP status and
 * jansson's errors become struct rip_err here.
 *
 * Invariants: a call returns within the timeout plus scheduling (the
 * wrapper enforces it, no signals); at most RIP_GATE_BODY_MAX bytes are
 * ever held; the answer and the JSON tree are freed before returning. The URL appears in messages only
 * masked. Anything but one finite or infinite number is an error: a gate
 * that guessed a value would promote on no evidence.
 *
 * Tuned for one small answer (a scalar or a vector of a few series) once
 * per probe round.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ripcord/buf.h"
#include "ripcord/gate.h"
#include "http_internal.h"
#include "banned.h"

/* keeps the value a long on every platform */
#define GATE_TIMEOUT_MAX ((uint64_t)INT32_MAX)
#define GATE_SHOWN 200 /* bytes of a foreign text quoted in a message */
#define TOO_BIG "the answer is over 1 MiB: expected one number; aggregate " \
	"the query, e.g. max(...)"
#define EXPECTED "expected a Prometheus HTTP API answer " \
	"{\"status\":\"success\",\"data\":{\"resultType\":...,\"result\":...}}"

/* s (NULL: "") on one line, at most GATE_SHOWN bytes; the caller frees. */
static char *one_line(const char *s)
{
	struct rip_buf b = RIP_BUF_INIT;
	size_t i, n = s ? strlen(s) : 0, keep = n;

	if (keep > GATE_SHOWN) {
		keep = GATE_SHOWN;
		/* never cut a UTF-8 sequence in two */
		while (keep && ((unsigned char)s[keep] & 0xC0) == 0x80)
			keep--;
	}
	for (i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)s[i];

		rip_buf_addch(&b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	rip_buf_rtrim(&b);
	if (keep < n)
		rip_buf_adds(&b, "\xe2\x80\xa6");
	return rip_buf_detach(&b, NULL);
}

/* "series {instance=\"web-1:9000\"}": a series as PromQL writes it. */
static char *labels(const json_t *series)
{
	struct rip_buf b = RIP_BUF_INIT;
	const char *key, *sep = "";
	char *shown;
	json_t *v;

	rip_buf_adds(&b, "series {");
	json_object_foreach(json_object_get(series, "metric"), key, v) {
		rip_buf_addf(&b, "%s%s=\"%s\"", sep, key,
			json_is_string(v) ? json_string_value(v) : "?");
		sep = ",";
	}
	rip_buf_addch(&b, '}');
	shown = one_line(b.buf);
	rip_buf_release(&b);
	return shown;
}

/* Reads the sample [time, "value"] of `what` ("the scalar", a series). */
static int sample_value(double *out, const json_t *sample, const char *what,
	struct rip_err *err)
{
	const char *s = json_string_value(json_array_get(sample, 1));
	char *end, *shown;
	int rc;

	if (!json_is_array(sample) || json_array_size(sample) != 2 ||
		!json_is_number(json_array_get(sample, 0)) || !s)
		return rip_err_set(err, RIP_EFAIL, "the value of %s is not "
			"[time, \"value\"]: %s", what, EXPECTED);
	*out = strtod(s, &end);
	if (end == s || *end || isspace((unsigned char)s[0])) {
		shown = one_line(s);
		rc = rip_err_set(err, RIP_EFAIL, "the value of %s is '%s': "
			"expected a number, +Inf or -Inf", what, shown);
		free(shown);
	} else if (isnan(*out)) {
		rc = rip_err_set(err, RIP_EFAIL, "the value of %s is NaN: a gate "
			"cannot judge NaN (expected a number; a ratio over no "
			"requests is 0/0, check the query)", what);
	} else {
		return 0;
	}
	*out = NAN;
	return rc;
}

/* The maximum over the series of a vector; every series must be judged. */
static int vector_max(double *out, const json_t *result, struct rip_err *err)
{
	char *what;
	size_t i;
	double v;
	int rc;

	if (!json_is_array(result))
		return rip_err_set(err, RIP_EFAIL, "the vector result is not an "
			"array of series: %s", EXPECTED);
	if (json_array_size(result) == 0)
		return rip_err_set(err, RIP_EFAIL, "the query returned no series: "
			"check the query, or that the canaries export the metric");
	*out = -INFINITY;
	for (i = 0; i < json_array_size(result); i++) {
		const json_t *series = json_array_get(result, i);

		/* not an object: "series {}", whose value is missing */
		what = labels(series);
		rc = sample_value(&v, json_object_get(series, "value"), what, err);
		free(what);
		if (rc < 0)
			return rc;
		if (v > *out)
			*out = v;
	}
	return 0;
}

/* "status":"error": Prometheus says why, in its own words. */
static int prometheus_error(const json_t *root, struct rip_err *err)
{
	const char *type = json_string_value(json_object_get(root, "errorType"));
	const char *text = json_string_value(json_object_get(root, "error"));
	char *t = one_line(type ? type : "no errorType");
	char *x = one_line(text ? text : "no error text");
	int rc = rip_err_set(err, RIP_EFAIL, "prometheus answered an error: "
		"%s: %s (expected \"status\":\"success\"; check the query)", t, x);

	free(t);
	free(x);
	return rc;
}

/* Reads the document; *prom says the answer was Prometheus' own error. */
static int parse(double *value, const char *body, size_t len, bool *prom,
	struct rip_err *err)
{
	json_t *root, *data;
	const char *status, *type;
	json_error_t jerr;
	int rc = 0;

	*value = NAN;
	*prom = false;
	if (len > RIP_GATE_BODY_MAX)
		return rip_err_set(err, RIP_EFAIL, TOO_BIG);
	root = json_loadb(body ? body : "", body ? len : 0,
		JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return rip_err_set(err, RIP_EFAIL, "the answer is not valid JSON "
			"(%s at byte %d): %s", jerr.text, jerr.position, EXPECTED);
	status = json_string_value(json_object_get(root, "status"));
	data = json_object_get(root, "data");
	type = json_string_value(json_object_get(data, "resultType"));
	if (status && !strcmp(status, "error")) {
		*prom = true;
		rc = prometheus_error(root, err);
	} else if (!status || strcmp(status, "success") || !type ||
		!json_object_get(data, "result"))
		rc = rip_err_set(err, RIP_EFAIL, "the answer lacks \"status\": "
			"\"success\" or \"data\": {\"resultType\", \"result\"}: %s",
			EXPECTED);
	else if (!strcmp(type, "scalar"))
		rc = sample_value(value, json_object_get(data, "result"),
			"the scalar", err);
	else if (!strcmp(type, "vector"))
		rc = vector_max(value, json_object_get(data, "result"), err);
	else
		rc = rip_err_set(err, RIP_EFAIL, "the query returned a %s: "
			"expected an instant query giving a scalar or a vector "
			"(/api/v1/query, no range selector such as [5m] outside "
			"a function)", strcmp(type, "matrix") &&
			strcmp(type, "string") ? "result of unknown type" : type);
	if (rc < 0)
		*value = NAN;
	json_decref(root);
	return rc;
}

int rip_gate_query_parse(double *value, const char *body, size_t len,
	struct rip_err *err)
{
	bool prom;

	return parse(value, body, len, &prom, err);
}

/* Why no answer came, in a few words, and what to check. */
static int no_answer(const struct rip_http_result *r, uint64_t timeout_ms,
	struct rip_err *err)
{
	char text[RIP_HTTP_ERROR_SIZE];

	snprintf(text, sizeof(text), "%s", r->error);
	/* libcurl's own words, lowercase as ours unless an acronym starts */
	rip_http_lower_first(text);
	if (r->fail == RIP_HTTP_TIMEOUT)
		return rip_err_set(err, RIP_EFAIL, "timed out after %" PRIu64
			" ms (expected an answer within that: check that "
			"Prometheus is up and the query is cheap)", timeout_ms);
	if (r->fail == RIP_HTTP_BAD_URL)
		return rip_err_set(err, RIP_EFAIL, "bad URL: %s (expected an "
			"http:// or https:// Prometheus query URL in [rollout] "
			"gate_query)", text);
	return rip_err_set(err, RIP_EFAIL, "%s (expected a Prometheus server "
		"answering at that URL: check [rollout] gate_query)",
		r->refused ? "connection refused" : text);
}

/* Reads a finished transfer: its status, then its body. */
static int judge(double *value, const struct rip_http_result *r,
	struct rip_err *err)
{
	const struct rip_buf *body = &r->answer;
	char *shown;
	bool prom;
	int rc;

	if (r->status >= 200 && r->status <= 299)
		return parse(value, body->buf, body->len, &prom, err);
	/* Prometheus answers its errors with 4xx/5xx and a JSON body */
	if (parse(value, body->buf, body->len, &prom, err) < 0 && prom)
		return rip_err_prefix(err, "HTTP %d", r->status);
	*value = NAN;
	shown = one_line(body->buf);
	rc = rip_err_set(err, RIP_EFAIL, "HTTP %d%s%s (expected a 2xx answer "
		"from Prometheus' /api/v1/query)", r->status, *shown ? ": " : "",
		shown);
	free(shown);
	return rc;
}

int rip_gate_query(double *value, const char *url, uint64_t timeout_ms,
	struct rip_err *err)
{
	struct rip_http_result r = RIP_HTTP_RESULT_INIT;
	struct rip_http_request req = {
		.method = "GET",
		.url = url,
		.answer_max = RIP_GATE_BODY_MAX,
		.answer_keep = RIP_GATE_BODY_MAX,
		.compressed = true, /* answers compress */
	};
	char *shown;
	int error;

	*value = NAN;
	if (timeout_ms == 0)
		timeout_ms = 1;
	if (timeout_ms > GATE_TIMEOUT_MAX)
		timeout_ms = GATE_TIMEOUT_MAX;
	req.timeout_ms = timeout_ms;
	error = rip_http_request(&r, &req, err);
	if (error < 0)
		goto done;
	if (r.cut)
		error = rip_err_set(err, RIP_EFAIL, TOO_BIG);
	else if (r.fail != RIP_HTTP_OK)
		error = no_answer(&r, timeout_ms, err);
	else
		error = judge(value, &r, err);
done:
	if (error < 0) {
		*value = NAN;
		shown = rip_http_mask_url(url);
		rip_err_prefix(err, "gate query '%s'", shown);
		free(shown);
	}
	rip_http_result_release(&r);
	return error;
}
