/* SPDX-License-Identifier: MIT */
/*
 * fuzz_layout.c: reading a migrations folder (rip_layout_read) in every
 * layout, from file names and contents that a project, or whoever can push
 * to it, chose.
 *
 * The input is a folder: records separated by the byte 0x1e (ASCII record
 * separator), each "<path>\n<content>"; a record without a newline is an
 * empty file. Three record names set options instead of making a file:
 * "!baseline" (the content, up to its first newline, is opts.baseline),
 * "!irreversible" (a comma list) and "!dir" (opts.dir, for messages). At
 * most MAX_FILES files are read.
 *
 * Every file's content is its own allocation of exactly its length, not
 * NUL-terminated, so ASan sees a read past the end of one (the contract is
 * data + len). The folder is read with RIP_LAYOUT_AUTO and with each
 * explicit format; what AUTO accepts is also linted, as `ripcord lint`
 * does.
 */
#include "ripcord/layout.h"
#include "ripcord/lint.h"
#include "fuzz.h"

#define SEP 0x1e
#define MAX_FILES 64

struct folder {
	struct rip_layout_file files[MAX_FILES];
	size_t n;
	struct rip_strlist irreversible;
	char *baseline;
	char *dir;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* A copy of the record's first line, or NULL for "" (an unset option). */
static char *first_line(const uint8_t *p, size_t len)
{
	const uint8_t *nl = memchr(p, '\n', len);

	if (nl)
		len = (size_t)(nl - p);
	return len ? fuzz_strndup(p, len) : NULL;
}

static void add_record(struct folder *f, const uint8_t *p, size_t len)
{
	const uint8_t *nl = memchr(p, '\n', len);
	size_t plen = nl ? (size_t)(nl - p) : len;
	const uint8_t *body = nl ? nl + 1 : p + len;
	size_t blen = len - (size_t)(body - p);
	struct rip_layout_file *file;
	char *text;

	if (plen == 9 && !memcmp(p, "!baseline", 9)) {
		free(f->baseline);
		f->baseline = first_line(body, blen);
		return;
	}
	if (plen == 4 && !memcmp(p, "!dir", 4)) {
		free(f->dir);
		f->dir = first_line(body, blen);
		return;
	}
	if (plen == 13 && !memcmp(p, "!irreversible", 13)) {
		text = fuzz_strndup(body, blen);
		rip_strlist_split(&f->irreversible, text);
		free(text);
		return;
	}
	if (f->n == MAX_FILES)
		return;
	file = &f->files[f->n++];
	/* a path is a C string: it ends at a NUL, as a file name would */
	file->path = fuzz_strndup(p, plen);
	file->len = blen;
	if (blen) {
		void *data = rip_xmalloc(blen);

		memcpy(data, body, blen);
		file->data = data;
	}
}

static void folder_release(struct folder *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free((char *)f->files[i].path);
		free((void *)f->files[i].data);
	}
	rip_strlist_release(&f->irreversible);
	free(f->baseline);
	free(f->dir);
}

/* What rip_layout_read promises about migrations it accepted. */
static void check_migrations(const struct rip_migrations *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct rip_migration *g = &m->v[i];

		FUZZ_CHECK(g->id && g->version && g->name);
		FUZZ_CHECK(rip_migration_id_valid(g->id));
		FUZZ_CHECK(g->up.text && g->up.file);
		FUZZ_CHECK(g->up.text[g->up.len] == '\0');
		FUZZ_CHECK(!g->down.text || g->down.text[g->down.len] == '\0');
		FUZZ_CHECK(!(g->irreversible || g->baseline) ||
			g->down.text == NULL);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(m->v[j].id, g->id));
	}
}

static void read_as(const struct folder *f, enum rip_layout_format format)
{
	struct rip_layout_opts o = {
		.format = format,
		.irreversible = &f->irreversible,
		.baseline = f->baseline,
		.dir = f->dir,
	};
	struct rip_migrations m;
	struct rip_err err = { 0 };
	enum rip_layout_format detected;
	struct rip_lint lint = { 0 };
	int rc;

	rc = rip_layout_read(&m, &detected, f->files, f->n, &o, &err);
	if (fuzz_verbose())
		fprintf(stderr, "rip_layout_read as %s: %d %s (%zu migrations)\n",
			rip_layout_name(format), rc, rc ? err.msg : "ok", m.n);
	if (rc < 0) {
		FUZZ_CHECK(m.n == 0 && m.v == NULL && err.code < 0);
		return;
	}
	FUZZ_CHECK(format == RIP_LAYOUT_AUTO || detected == format);
	FUZZ_CHECK(detected != RIP_LAYOUT_AUTO || m.n == 0);
	check_migrations(&m);
	if (format == RIP_LAYOUT_AUTO) {
		rip_lint_run(&lint, &m);
		rip_lint_release(&lint);
	}
	rip_migrations_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum rip_layout_format formats[] = {
		RIP_LAYOUT_AUTO, RIP_LAYOUT_GOLANG, RIP_LAYOUT_DBMATE,
		RIP_LAYOUT_SQITCH, RIP_LAYOUT_DIESEL, RIP_LAYOUT_FLYWAY,
	};
	struct folder f = { 0 };
	const uint8_t *p = data, *end = data + size;

	while (p < end) {
		const uint8_t *sep = memchr(p, SEP, (size_t)(end - p));
		const uint8_t *e = sep ? sep : end;

		if (e > p)
			add_record(&f, p, (size_t)(e - p));
		p = sep ? sep + 1 : end;
	}
	for (size_t i = 0; i < RIP_ARRAY_SIZE(formats); i++)
		read_as(&f, formats[i]);
	folder_release(&f);
	return 0;
}
