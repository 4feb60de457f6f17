/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h: what every libFuzzer target of tests/fuzz shares: the entry
 * points' prototypes (the project builds with -Wmissing-prototypes), a
 * NUL-terminated copy of the input, and quiet logging.
 *
 * A target must not leak, must not keep state between inputs (libFuzzer
 * runs millions of them in one process) and must treat every return code
 * as fine: only a crash, a sanitizer report, a leak or a hang is a finding.
 * FUZZ_CHECK turns a broken library contract into a crash so that the
 * fuzzer keeps the input.
 */
#ifndef RIPCORD_FUZZ_H
#define RIPCORD_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ripcord/buf.h"
#include "ripcord/err.h"
#include "ripcord/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Aborts, naming the broken invariant, when cond is false. */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", \
				__FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* A newly allocated copy of data[0..size) with a NUL after it. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = rip_xmalloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Warnings about each odd input would drown the fuzzer's own output;
 * RIPCORD_FUZZ_VERBOSE=1 keeps them, to see why a seed is refused.
 */
static inline bool fuzz_verbose(void)
{
	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("RIPCORD_FUZZ_VERBOSE") != NULL;
	return verbose;
}

static inline void fuzz_quiet(void)
{
	rip_log_set_level(fuzz_verbose() ? RIP_LOG_DEBUG : RIP_LOG_ERROR);
}

/* With RIPCORD_FUZZ_VERBOSE, says what came of one call. */
static inline void fuzz_report(const char *what, int rc,
	const struct rip_err *err)
{
	if (fuzz_verbose())
		fprintf(stderr, "%s: %d %s\n", what, rc, rc ? err->msg : "ok");
}

#endif
