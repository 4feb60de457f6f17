/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config.c: ripcord.ini through rip_config_parse.
 *
 * The input is the whole file. It is parsed as if it lived in a folder
 * that does not exist, so every path key resolves to a path that is not
 * there (keys that must exist fail, as they would for a stranger's file)
 * and nothing on disk is read or written. The text is cut at its first
 * NUL the way rip_config_load refuses binary files; inih, the section and
 * key tables, every value parser (durations, percentages, steps, lists,
 * enums, URLs) and the error paths with their "did you mean" hints are
 * what is exercised.
 */
#include "ripcord/config.h"
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
	char *text = fuzz_strndup(data, size);
	struct rip_config *cfg = NULL;
	struct rip_err err = { 0 };
	int rc;

	rc = rip_config_parse(&cfg, text, "/nonexistent/ripcord.ini",
		"/nonexistent", &err);
	fuzz_report("rip_config_parse", rc, &err);
	FUZZ_CHECK(rc == 0 ? cfg != NULL : cfg == NULL);
	FUZZ_CHECK(rc == 0 || err.code < 0);
	if (!rc) {
		/* what the parser promises about a config it accepted */
		FUZZ_CHECK(cfg->project.name != NULL);
		FUZZ_CHECK(cfg->rollout.steps.n > 0 &&
			cfg->rollout.steps.v[cfg->rollout.steps.n - 1] == 1.0);
		for (size_t i = 0; i < cfg->n_targets; i++)
			FUZZ_CHECK(cfg->targets[i].name != NULL);
	}
	rip_config_free(cfg);
	free(text);
	return 0;
}
