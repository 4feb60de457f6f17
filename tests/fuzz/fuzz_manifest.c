/* SPDX-License-Identifier: MIT */
/*
 * fuzz_manifest.c: the three metadata files of an artifact, ripcord/MANIFEST,
 * ripcord/SHA256SUMS and ripcord/LINKS, which verify parses from archives
 * anyone could have crafted.
 *
 * The input (cut at its first NUL, as the reader's rip_buf would be read
 * as a string) goes to all three parsers. What one of them accepts must
 * survive its writer: format, parse again, and get the same thing back,
 * because cut writes these files and verify reads them (a round trip that
 * changes a path would make a good artifact fail verification, or let a
 * crafted one name a file it does not hold). Accepted lists are also
 * looked up through rip_sums_find and rip_sums_has_below, which bisect.
 */
#include "ripcord/manifest.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_list(const struct rip_strlist *a,
	const struct rip_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

static void manifest(const char *text)
{
	struct rip_manifest *m = NULL, *again = NULL;
	struct rip_buf out = RIP_BUF_INIT;
	struct rip_err err = { 0 };

	int rc = rip_manifest_parse(&m, text, &err);

	fuzz_report("rip_manifest_parse", rc, &err);
	if (rc < 0) {
		FUZZ_CHECK(m == NULL && err.code == RIP_EINTEGRITY);
		return;
	}
	FUZZ_CHECK(m->id && rip_release_id_valid(m->id));
	(void)rip_manifest_holds_submodule(m, "payload/a/b");
	(void)rip_manifest_holds_submodule(m, "payload");
	rip_manifest_format(&out, m);
	FUZZ_CHECK(rip_manifest_parse(&again, out.buf, &err) == 0);
	FUZZ_CHECK(again->format == m->format && again->files == m->files &&
		again->bytes == m->bytes && again->links == m->links);
	FUZZ_CHECK(same_str(again->id, m->id) &&
		same_str(again->project, m->project) &&
		same_str(again->commit, m->commit) &&
		same_str(again->tree, m->tree) &&
		same_str(again->parent, m->parent) &&
		same_str(again->created, m->created) &&
		same_str(again->tool, m->tool));
	FUZZ_CHECK(same_list(&again->submodules, &m->submodules));
	FUZZ_CHECK(same_list(&again->migrations, &m->migrations));
	rip_manifest_free(again);
	rip_manifest_free(m);
	rip_buf_release(&out);
}

static bool same_sums(const struct rip_sums *a, const struct rip_sums *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].path, b->v[i].path) ||
		    memcmp(a->v[i].digest, b->v[i].digest, RIP_SHA256_LEN) ||
		    !same_str(a->v[i].target, b->v[i].target))
			return false;
	return true;
}

/* Every listed path is found; every folder above one holds it. */
static void lookups(const struct rip_sums *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *p = s->v[i].path;
		const char *slash = strrchr(p, '/');

		FUZZ_CHECK(rip_sums_find(s, p) == &s->v[i]);
		if (slash && slash != p) {
			char *dir = rip_xstrndup(p, (size_t)(slash - p));

			FUZZ_CHECK(rip_sums_has_below(s, dir));
			free(dir);
		}
	}
	(void)rip_sums_find(s, "payload/x");
	(void)rip_sums_has_below(s, "payload");
}

static void list(const char *text, bool links)
{
	struct rip_sums s = { 0 }, again = { 0 };
	struct rip_buf out = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	int rc;

	rc = links ? rip_links_parse(&s, text, &err) :
		rip_sums_parse(&s, text, &err);
	fuzz_report(links ? "rip_links_parse" : "rip_sums_parse", rc, &err);
	if (rc < 0) {
		FUZZ_CHECK(s.n == 0 && s.v == NULL && err.code == RIP_EINTEGRITY);
		return;
	}
	lookups(&s);
	if (links)
		rip_links_format(&out, &s);
	else
		rip_sums_format(&out, &s);
	rc = links ? rip_links_parse(&again, out.buf, &err) :
		rip_sums_parse(&again, out.buf, &err);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(same_sums(&s, &again));
	rip_sums_release(&again);
	rip_sums_release(&s);
	rip_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);

	manifest(text);
	list(text, false);
	list(text, true);
	free(text);
	return 0;
}
