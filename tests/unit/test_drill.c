/* SPDX-License-Identifier: MIT */
/*
 * test_drill.c: the record of drills in state.db (history, the last one,
 * the last passing one), --due's rule with its slack, and the rollout gate
 * ([rollout] require_drill). Running drills end to end is drill.sh's.
 */
#include "helpers.h"

#include "ripcord/config.h"
#include "ripcord/drill.h"
#include "ripcord/store.h"

static struct rip_config *config(const char *extra)
{
	struct rip_config *cfg;
	struct rip_err err = { 0 };
	char text[512];

	snprintf(text, sizeof(text), "[project]\nname = t\n%s", extra);
	if (rip_config_parse(&cfg, text, "ripcord.ini", "/tmp", &err) < 0)
		fail_msg("%s", err.msg);
	return cfg;
}

static void add(struct rip_store *s, const char *release, int64_t started,
	const char *result)
{
	struct rip_drill_rec r = { .release = (char *)release,
		.started = started, .seconds = 1.5, .result = (char *)result,
		.detail = strcmp(result, RIP_DRILL_PASS) ? (char *)"broke" : NULL,
		.steps = (char *)"[]" };
	struct rip_err err = { 0 };
	int64_t seq;

	assert_int_equal(rip_drill_record(&seq, s->state, &r, &err), 0);
	assert_true(seq > 0);
}

static void test_record_and_gate(void **state)
{
	struct tmpdir *t = *state;
	struct rip_config *cfg = config("");
	struct rip_drill_rec *v, last;
	struct rip_err err = { 0 };
	struct rip_store *s;
	size_t n;

	assert_int_equal(rip_store_open(&s, t->path, true, &err), 0);
	/* never drilled: the gate says how to get through it */
	assert_int_equal(rip_drill_gate(cfg, s, "v1", &err), RIP_EFAIL);
	assert_non_null(strstr(err.msg, "never drilled: run 'ripcord drill v1'"));

	add(s, "v1", 1000, RIP_DRILL_PASS);
	add(s, "v2", 1100, RIP_DRILL_PASS);
	add(s, "v1", 1200, RIP_DRILL_FAIL);
	assert_int_equal(rip_drill_history(&v, &n, s->state, "v1", 0, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].result, RIP_DRILL_FAIL);   /* newest first */
	assert_string_equal(v[0].detail, "broke");
	assert_int_equal(v[1].started, 1000);
	rip_drill_recs_free(v, n);
	assert_int_equal(rip_drill_history(&v, &n, s->state, NULL, 2, &err), 0);
	assert_int_equal(n, 2);
	rip_drill_recs_free(v, n);

	assert_int_equal(rip_drill_last(&last, s->state, "v1", false, &err), 0);
	assert_string_equal(last.result, RIP_DRILL_FAIL);
	rip_drill_rec_release(&last);
	assert_int_equal(rip_drill_last(&last, s->state, "v1", true, &err), 0);
	assert_int_equal(last.started, 1000);
	rip_drill_rec_release(&last);
	assert_int_equal(rip_drill_last(&last, s->state, "v9", false, &err), 0);
	assert_int_equal(last.seq, 0);

	/* the gate looks at the release's own last drill */
	assert_int_equal(rip_drill_gate(cfg, s, "v2", &err), 0);
	assert_int_equal(rip_drill_gate(cfg, s, "v1", &err), RIP_EFAIL);
	assert_non_null(strstr(err.msg, "failed its last drill"));
	assert_non_null(strstr(err.msg, "broke"));
	rip_config_free(cfg);
	cfg = config("[rollout]\nrequire_drill = no\n");
	assert_int_equal(rip_drill_gate(cfg, s, "v1", &err), 0);
	assert_int_equal(rip_drill_gate(cfg, s, "never", &err), 0);
	rip_config_free(cfg);
	rip_store_free(s);
}

static void test_due(void **state)
{
	struct tmpdir *t = *state;
	struct rip_config *cfg = config("[drill]\nevery = 24h\n");
	struct rip_err err = { 0 };
	struct rip_store *s;
	int64_t now = 10 * 86400;
	bool due;

	assert_int_equal(rip_store_open(&s, t->path, true, &err), 0);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1", now, &err), 0);
	assert_true(due);                       /* never drilled */
	add(s, "v1", now - 3600, RIP_DRILL_PASS);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1", now, &err), 0);
	assert_false(due);                      /* an hour ago */
	add(s, "v1", now - 60, RIP_DRILL_FAIL);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v1", now, &err), 0);
	assert_false(due);                      /* a failure does not reset it */
	add(s, "v2", now - 86400 + 30, RIP_DRILL_PASS);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v2", now, &err), 0);
	assert_true(due);                       /* a day less 30 s: the slack */
	add(s, "v3", now - 22 * 3600, RIP_DRILL_PASS);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v3", now, &err), 0);
	assert_false(due);                      /* 22 h: not yet */
	add(s, "v4", now + 3600, RIP_DRILL_PASS);
	assert_int_equal(rip_drill_due(&due, cfg, s, "v4", now, &err), 0);
	assert_true(due);                       /* from the future: redo */
	rip_config_free(cfg);
	rip_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_and_gate,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_due, tmpdir_setup,
			tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
