/* SPDX-License-Identifier: MIT */
/*
 * test_manifest.c: MANIFEST, SHA256SUMS and LINKS: round trips, the exact
 * text (artifacts depend on it byte for byte), and hostile input.
 */
#include "helpers.h"

#include "ripcord/manifest.h"

static void fill(struct rip_manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->format = 1;
	m->id = "v1.2.0";
	m->project = "shop";
	m->commit = "0123456789abcdef0123456789abcdef01234567";
	m->tree = "89abcdef0123456789abcdef0123456789abcdef";
	m->parent = "v1.1.0";
	m->created = "2026-11-27T12:00:00Z";
	m->tool = "ripcord 0.1.0";
	m->files = 42;
	m->bytes = 123456;
	m->links = 2;
}

static void test_manifest_round_trip(void **state)
{
	struct rip_buf text = RIP_BUF_INIT;
	struct rip_manifest m, *back;
	struct rip_err err = { 0 };

	(void)state;
	fill(&m);
	rip_strlist_push(&m.migrations, "0001_init");
	rip_strlist_push(&m.migrations, "0002_add_status");
	rip_strlist_push(&m.submodules, "vendor/lib 0123456789abcdef0123456789abcdef01234567");
	rip_manifest_format(&text, &m);
	assert_non_null(strstr(text.buf, "[release]\nformat = 1\nid = v1.2.0\n"));
	assert_non_null(strstr(text.buf, "ids = 0001_init, 0002_add_status\n"));
	assert_int_equal(rip_manifest_parse(&back, text.buf, &err), 0);
	assert_string_equal(back->id, "v1.2.0");
	assert_string_equal(back->project, "shop");
	assert_string_equal(back->commit, m.commit);
	assert_string_equal(back->tree, m.tree);
	assert_string_equal(back->parent, "v1.1.0");
	assert_string_equal(back->created, m.created);
	assert_string_equal(back->tool, m.tool);
	assert_int_equal(back->files, 42);
	assert_int_equal(back->bytes, 123456);
	assert_int_equal(back->links, 2);
	assert_int_equal(back->migrations.n, 2);
	assert_string_equal(back->migrations.v[1], "0002_add_status");
	assert_int_equal(back->submodules.n, 1);
	rip_manifest_free(back);

	/* machine-written values keep every byte: no inline comments */
	rip_buf_reset(&text);
	m.project = "shop ; eu";
	rip_manifest_format(&text, &m);
	assert_int_equal(rip_manifest_parse(&back, text.buf, &err), 0);
	assert_string_equal(back->project, "shop ; eu");
	rip_manifest_free(back);
	m.project = "shop";

	/* no parent, no migrations */
	rip_buf_reset(&text);
	rip_strlist_release(&m.migrations);
	rip_strlist_release(&m.submodules);
	m.parent = NULL;
	rip_manifest_format(&text, &m);
	assert_int_equal(rip_manifest_parse(&back, text.buf, &err), 0);
	assert_null(back->parent);
	assert_int_equal(back->migrations.n, 0);
	rip_manifest_free(back);
	rip_buf_release(&text);
}

static void expect_bad_manifest(const char *text, const char *needle)
{
	struct rip_manifest *m = (void *)1;
	struct rip_err err = { 0 };

	assert_int_equal(rip_manifest_parse(&m, text, &err), RIP_EINTEGRITY);
	assert_null(m);
	assert_err_contains(&err, needle);
}

static void test_manifest_bad(void **state)
{
	struct rip_buf text = RIP_BUF_INIT;
	struct rip_manifest m;
	char *s;

	(void)state;
	fill(&m);
	rip_manifest_format(&text, &m);
	s = rip_xasprintf("%sevil = 1\n", text.buf);
	expect_bad_manifest(s, "unknown key 'evil' in [migrations]");
	free(s);
	s = rip_xasprintf("%s[release]\nid = again\n", text.buf);
	expect_bad_manifest(s, "key 'id' in [release] given twice");
	free(s);
	expect_bad_manifest("[release]\nid = x\n", "missing 'format' in [release]");
	rip_buf_release(&text);

	fill(&m);
	m.id = "../../etc";
	rip_manifest_format(&text, &m);
	expect_bad_manifest(text.buf, "bad release id '../../etc'");
	rip_buf_reset(&text);

	fill(&m);
	m.format = 99;
	rip_manifest_format(&text, &m);
	expect_bad_manifest(text.buf, "format 99 is newer");
	rip_buf_reset(&text);

	fill(&m);
	rip_manifest_format(&text, &m);
	s = text.buf;
	*strstr(s, "files = 42") = '\0';
	s = rip_xasprintf("%sfiles = lots\n", text.buf);
	expect_bad_manifest(s, "'files' in [payload] is not a number");
	free(s);
	rip_buf_release(&text);
}

static void test_sums(void **state)
{
	struct rip_sums s = { 0 }, back;
	struct rip_buf text = RIP_BUF_INIT;
	struct rip_err err = { 0 };
	unsigned char d1[RIP_SHA256_LEN], d2[RIP_SHA256_LEN];
	char hex[RIP_SHA256_HEX], *expect;

	(void)state;
	rip_sha256(d1, "hello\n", 6);
	rip_sha256(d2, "", 0);
	rip_sums_add(&s, "payload/z.txt", d2, NULL);
	rip_sums_add(&s, "payload/a b.txt", d1, NULL);
	rip_sums_add(&s, "payload/we\\ird\nname", d1, NULL);
	rip_sums_sort(&s);
	rip_sums_format(&text, &s);
	rip_hex(hex, d1, RIP_SHA256_LEN);
	assert_string_equal(hex, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	expect = rip_xasprintf("%s  payload/a b.txt\n", hex);
	assert_non_null(strstr(text.buf, expect));
	free(expect);
	/* sha256sum's escaping: leading backslash, \\ and \n */
	assert_non_null(strstr(text.buf, "\\5891b5b5"));
	assert_non_null(strstr(text.buf, "payload/we\\\\ird\\nname\n"));

	assert_int_equal(rip_sums_parse(&back, text.buf, &err), 0);
	assert_int_equal(back.n, 3);
	assert_non_null(rip_sums_find(&back, "payload/we\\ird\nname"));
	assert_memory_equal(rip_sums_find(&back, "payload/z.txt")->digest, d2,
		RIP_SHA256_LEN);
	assert_null(rip_sums_find(&back, "payload/missing"));
	rip_sums_release(&back);
	rip_sums_release(&s);
	rip_buf_release(&text);
}

static void expect_bad_sums(const char *text, const char *needle)
{
	struct rip_sums s;
	struct rip_err err = { 0 };

	assert_int_equal(rip_sums_parse(&s, text, &err), RIP_EINTEGRITY);
	assert_err_contains(&err, needle);
}

static void test_sums_bad(void **state)
{
	const char *h = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
	char *t;

	(void)state;
	expect_bad_sums("nothex  payload/a\n", "SHA256SUMS:1: expected");
	t = rip_xasprintf("%s payload/a\n", h);
	expect_bad_sums(t, "SHA256SUMS:1");
	free(t);
	t = rip_xasprintf("%s  payload/a\n%s  payload/a\n", h, h);
	expect_bad_sums(t, "lists 'payload/a' twice");
	free(t);
	t = rip_xasprintf("%s  payload/a", h);
	expect_bad_sums(t, "line 1 is not terminated");
	free(t);
	t = rip_xasprintf("\\%s  payload/a\\x\n", h);
	expect_bad_sums(t, "SHA256SUMS:1");
	free(t);
	t = rip_xasprintf("%s  \n", h);
	expect_bad_sums(t, "SHA256SUMS:1");
	free(t);
}

static void test_has_below_high_bytes(void **state)
{
	struct rip_sums s = { 0 };
	unsigned char d[RIP_SHA256_LEN] = { 0 };

	(void)state;
	/* "docs\xc3\xa9" sorts after "docs/a.txt" bytewise: found by fuzzing */
	rip_sums_add(&s, "payload/docs/a.txt", d, NULL);
	rip_sums_add(&s, "payload/docs\xc3\xa9", d, NULL);
	rip_sums_add(&s, "payload/docs-old", d, NULL);
	rip_sums_sort(&s);
	assert_true(rip_sums_has_below(&s, "payload/docs"));
	assert_true(rip_sums_has_below(&s, "payload"));
	assert_false(rip_sums_has_below(&s, "payload/doc"));
	assert_false(rip_sums_has_below(&s, "payload/docs/a.txt"));
	rip_sums_release(&s);
}

static void test_links(void **state)
{
	struct rip_sums s = { 0 }, back;
	struct rip_buf text = RIP_BUF_INIT;
	struct rip_err err = { 0 };

	(void)state;
	rip_sums_add(&s, "payload/current", NULL, "releases/v1");
	rip_sums_add(&s, "payload/abs", NULL, "/etc/passwd");
	rip_sums_sort(&s);
	rip_links_format(&text, &s);
	assert_string_equal(text.buf, "/etc/passwd\tpayload/abs\n"
		"releases/v1\tpayload/current\n");
	assert_int_equal(rip_links_parse(&back, text.buf, &err), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(rip_sums_find(&back, "payload/current")->target,
		"releases/v1");
	rip_sums_release(&back);

	assert_int_equal(rip_links_parse(&back, "no tab here\n", &err),
		RIP_EINTEGRITY);
	assert_err_contains(&err, "LINKS:1");
	assert_int_equal(rip_links_parse(&back, "a\tb\tc\n", &err),
		RIP_EINTEGRITY);
	assert_int_equal(rip_links_parse(&back, "a\tp\nb\tp\n", &err),
		RIP_EINTEGRITY);
	assert_err_contains(&err, "LINKS lists 'p' twice");
	rip_sums_release(&s);
	rip_buf_release(&text);
}

static void test_release_ids(void **state)
{
	(void)state;
	assert_true(rip_release_id_valid("v1.2.3"));
	assert_true(rip_release_id_valid("v1.2-3-gabcdef0"));
	assert_true(rip_release_id_valid("2026.11.27+hotfix_1"));
	assert_false(rip_release_id_valid(""));
	assert_false(rip_release_id_valid(".hidden"));
	assert_false(rip_release_id_valid("-flag"));
	assert_false(rip_release_id_valid("a/b"));
	assert_false(rip_release_id_valid("a..b"));
	assert_false(rip_release_id_valid("a b"));
	assert_false(rip_release_id_valid("a\nb"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_round_trip),
		cmocka_unit_test(test_manifest_bad),
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_sums_bad),
		cmocka_unit_test(test_has_below_high_bytes),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_release_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
