/* SPDX-License-Identifier: MIT */
/*
 * test_schema_phase.c: how the schema's phase is written for people
 * (rip_schema_phase_text, _rollback_text, _age) and as JSON. The reading
 * of a real database against real releases is tested end to end by
 * tests/integration/phase_vis.sh.
 */
#include "helpers.h"

#include "ripcord/schema_phase.h"
#include "json_internal.h"

static void test_age(void **state)
{
	char b[16];

	(void)state;
	rip_schema_phase_age(b, sizeof(b), 1000, 1059);
	assert_string_equal(b, "59s");
	rip_schema_phase_age(b, sizeof(b), 1000, 1000 + 7200 + 59);
	assert_string_equal(b, "2h");
	rip_schema_phase_age(b, sizeof(b), 1000, 1000 + 3 * 86400);
	assert_string_equal(b, "3d");
	rip_schema_phase_age(b, sizeof(b), 2000, 1000);   /* a clock step */
	assert_string_equal(b, "0s");
}

static void test_text(void **state)
{
	struct rip_schema_phase_item v[] = {
		{ .id = "0001_a", .applied = true, .applied_at = 100 },
		{ .id = "0002_b", .contract = true, .applied = true,
		  .applied_at = 400 },
		{ .id = "0003_c", .contract = true },
	};
	struct rip_schema_phase_item ahead[] = {
		{ .id = "0004_d", .contract = true, .applied = true,
		  .applied_at = 500 },
	};
	struct rip_schema_phase p = { .release = "v3", .previous = "v2",
		.known = true, .v = v, .n = 3, .expand_applied = 1,
		.contract_applied = 1, .contract_since = 400,
		.contract_pending = 1, .lossless = true };
	char *t;

	(void)state;
	t = rip_schema_phase_text(&p, 400 + 3 * 60);
	assert_string_equal(t, "1 expand applied, 1 contract applied 3m ago, "
		"1 contract pending");
	free(t);
	t = rip_schema_phase_rollback_text(&p, 0);
	assert_string_equal(t, "lossless");
	free(t);
	p.ahead = ahead;
	p.nahead = 1;
	p.lossless = false;
	rip_strlist_push(&p.lossy, "0002_b");
	rip_strlist_push(&p.lossy, "0004_d");
	t = rip_schema_phase_text(&p, 580);
	assert_string_equal(t, "1 expand applied, 1 contract applied 3m ago, "
		"1 contract pending; ahead by 0004_d");
	free(t);
	t = rip_schema_phase_rollback_text(&p, 580);
	assert_string_equal(t, "LOSSY (0002_b applied 3m ago, 0004_d applied "
		"1m ago)");
	free(t);
	/* [rollback] schema = keep: nothing lost, but v2's code breaks */
	p.keep = true;
	p.lossless = true;
	p.compatible = false;
	t = rip_schema_phase_rollback_text(&p, 580);
	assert_string_equal(t, "lossless (schema kept), but v2's code runs on "
		"a schema without what 0002_b, 0004_d (contract) dropped");
	free(t);
	p.keep = false;
	rip_strlist_release(&p.lossy);
	p.known = false;
	t = rip_schema_phase_text(&p, 0);
	assert_string_equal(t, "-");
	free(t);
}

static void test_pending_expand(void **state)
{
	struct rip_schema_phase p = { .release = "v4", .known = true,
		.expand_applied = 2, .expand_pending = 1, .lossless = true };
	char *t = rip_schema_phase_text(&p, 0);

	(void)state;
	assert_string_equal(t, "3 expand (1 pending)");
	free(t);
	p.expand_applied = p.expand_pending = 0;
	t = rip_schema_phase_text(&p, 0);
	assert_string_equal(t, "no migrations");
	free(t);
	/* no previous: nothing to roll back to */
	t = rip_schema_phase_rollback_text(&p, 0);
	assert_string_equal(t, "-");
	free(t);
}

static void test_json(void **state)
{
	struct rip_schema_phase_item v[] = {
		{ .id = "0001_a", .applied = true, .applied_at = 100 },
		{ .id = "0002_b", .contract = true },
	};
	struct rip_schema_phase p = { .release = "v2", .previous = "v1",
		.known = true, .v = v, .n = 2, .expand_applied = 1,
		.contract_pending = 1, .lossless = true, .compatible = true };
	json_t *j = rip_schema_phase_json(&p);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	(void)state;
	assert_string_equal(s, "{\"ahead\":[],\"contract_applied\":0,"
		"\"contract_pending\":1,\"contract_since\":null,"
		"\"expand_applied\":1,\"expand_pending\":0,\"known\":true,"
		"\"lossless\":true,\"lossy\":[],\"migrations\":[{\"applied\":true,"
		"\"applied_at\":100,\"migration\":\"0001_a\",\"phase\":\"expand\"},"
		"{\"applied\":false,\"applied_at\":null,\"migration\":\"0002_b\","
		"\"phase\":\"contract\"}],\"previous\":\"v1\",\"release\":\"v2\","
		"\"rollback_compatible\":true,\"rollback_schema\":\"down\"}");
	free(s);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_pending_expand),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
