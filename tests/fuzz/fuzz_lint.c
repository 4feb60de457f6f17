/* SPDX-License-Identifier: MIT */
/*
 * fuzz_lint.c: the SQL that lint and the migration drivers read.
 *
 * The first half of the input is a migration's up, the second half its
 * down (lint compares the down with its up); rip_lint_run parses both with
 * the careful tokenizer and the statement parser. The whole input then
 * goes through the drivers' scanner: rip_sql_next statement by statement,
 * rip_sql_scrub and rip_sql_starts_word on each statement,
 * rip_sql_line on its offsets, and rip_sql_controls_tx. Texts are exact
 * allocations that are NUL-terminated, as struct rip_sql promises, so ASan
 * sees a read past either end.
 */
#include "ripcord/lint.h"
#include "fuzz.h"
#include "sqltok.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* Lines in text[0..len), NULs and all. */
static int lines(const char *text, size_t len)
{
	int n = 1;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

static void lint(const char *text, size_t size)
{
	struct rip_migrations m = { 0 };
	struct rip_migration *g = rip_migrations_add(&m);
	struct rip_lint out = { 0 };
	size_t half = size / 2;

	g->version = rip_xstrdup("0001");
	g->name = rip_xstrdup("fuzz");
	g->id = rip_xstrdup("0001_fuzz");
	rip_sql_set(&g->up, text, half, "0001_fuzz.up.sql");
	rip_sql_set(&g->down, text + half, size - half, "0001_fuzz.down.sql");
	rip_lint_run(&out, &m);
	if (fuzz_verbose())
		for (size_t i = 0; i < out.n; i++)
			fprintf(stderr, "%s:%d: %s: %s\n", out.v[i].file,
				out.v[i].line, out.v[i].rule, out.v[i].message);
	for (size_t i = 0; i < out.n; i++) {
		const struct rip_lint_finding *f = &out.v[i];
		bool up = f->file && !strcmp(f->file, g->up.file);

		FUZZ_CHECK(f->rule && f->message && f->line >= 1);
		FUZZ_CHECK(up || (f->file && !strcmp(f->file, g->down.file)));
		FUZZ_CHECK(f->line <= (up ? lines(text, half) :
			lines(text + half, size - half)));
	}
	rip_lint_release(&out);
	rip_migrations_release(&m);
}

static void scan(const char *text, size_t size)
{
	size_t pos = 0, start = 0, end = 0, last = 0;
	bool first = true;

	while (rip_sql_next(text, size, &pos, &start, &end)) {
		char *scrub;

		FUZZ_CHECK(start < end && end <= size && pos <= size);
		FUZZ_CHECK(first || start >= last);
		FUZZ_CHECK(pos > start);
		scrub = rip_sql_scrub(text + start, end - start);
		FUZZ_CHECK(strlen(scrub) <= end - start);
		(void)rip_sql_starts_word(text + start, end - start, "begin");
		(void)rip_sql_starts_word(scrub, strlen(scrub), "create");
		FUZZ_CHECK(rip_sql_line(text, start) <= rip_sql_line(text, end));
		free(scrub);
		last = pos;
		first = false;
	}
	FUZZ_CHECK(pos == size);
	(void)rip_sql_controls_tx(text, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);

	lint(text, size);
	scan(text, size);
	free(text);
	return 0;
}
