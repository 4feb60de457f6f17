/* SPDX-License-Identifier: MIT */
/*
 * fuzz_gate.c: a Prometheus answer through rip_gate_query_parse, the
 * reader of whatever a gate_query URL sends back (a rollout trusts the
 * number it finds to promote or abort).
 *
 * The input is the body, given with its length and without a NUL after
 * it, so a read past the end is an ASan report. The contract checked:
 * success gives a number that is not NaN, failure gives NaN and an error.
 */
#include <math.h>

#include "ripcord/gate.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* its own allocation of exactly size bytes: no NUL to lean on */
	char *body = malloc(size ? size : 1);
	struct rip_err err = { 0 };
	double value = 0;
	int rc;

	FUZZ_CHECK(body != NULL);
	if (size)
		memcpy(body, data, size);
	rc = rip_gate_query_parse(&value, body, size, &err);
	fuzz_report("rip_gate_query_parse", rc, &err);
	FUZZ_CHECK(rc == 0 ? !isnan(value) : isnan(value) && err.code < 0);
	free(body);
	return 0;
}
