/* SPDX-License-Identifier: MIT */
/*
 * test_verdicts.c: the verdicts table (verdicts.c) on a real state.db:
 * rows written and read back by rollout and by time, a store of schema 8
 * upgraded to hold it, and the JSON of a judgment with every number the
 * judge decided by.
 */
#include "helpers.h"

#include <math.h>
#include <sqlite3.h>

#include "ripcord/verdicts.h"
#include "json_internal.h"

static void test_rows(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };
	struct rip_verdict_rec *v;
	struct rip_verdict_rec r = { .rollout = 3, .step = 1, .round = 21,
		.final = true, .at = 1000, .verdict = "fail",
		.gate = "baseline_latency", .score = 50,
		.metrics = "[{\"metric\":\"latency\",\"hl_ms\":356.1}]",
		.message = "canary slower than baseline" };
	size_t n;

	assert_int_equal(rip_state_open(&st, tpath(state, "state.db"), &err), 0);
	assert_int_equal(rip_verdict_add(st, &r, &err), 0);
	r.rollout = 4;
	r.at = 2000;
	r.verdict = "pass";
	r.gate = NULL;
	r.score = NAN;
	r.metrics = NULL;
	r.message = NULL;
	assert_int_equal(rip_verdict_add(st, &r, &err), 0);

	assert_int_equal(rip_verdict_list(&v, &n, st, 3, 0, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].rollout, 3);
	assert_int_equal(v[0].step, 1);
	assert_int_equal(v[0].round, 21);
	assert_true(v[0].final);
	assert_int_equal(v[0].at, 1000);
	assert_string_equal(v[0].verdict, "fail");
	assert_string_equal(v[0].gate, "baseline_latency");
	assert_true(v[0].score == 50);
	assert_non_null(strstr(v[0].metrics, "356.1"));
	assert_null(v[0].release);            /* no such rollout row */
	rip_verdict_recs_free(v, n);

	/* every rollout, after a time; a missing score and metrics */
	assert_int_equal(rip_verdict_list(&v, &n, st, 0, 1000, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].rollout, 4);
	assert_true(isnan(v[0].score));
	assert_string_equal(v[0].metrics, "[]");
	assert_null(v[0].gate);
	rip_verdict_recs_free(v, n);
	assert_int_equal(rip_verdict_list(&v, &n, st, 0, 0, &err), 0);
	assert_int_equal(n, 2);
	rip_verdict_recs_free(v, n);
	rip_state_free(st);
}

static void test_upgrade_from_8(void **state)
{
	struct rip_state *st;
	struct rip_err err = { 0 };
	struct rip_verdict_rec r = { .rollout = 1, .step = 1, .verdict = "pass",
		.score = 100 };
	sqlite3 *db;

	assert_int_equal(rip_state_open(&st, tpath(state, "state.db"), &err), 0);
	rip_state_free(st);
	assert_int_equal(sqlite3_open(tpath(state, "state.db"), &db), SQLITE_OK);
	/* a schema 8 store: none of what steps 9 and 10 add */
	assert_int_equal(sqlite3_exec(db, "DROP TABLE verdicts; DROP TABLE "
		"release_migrations; PRAGMA user_version = 8", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(rip_state_open(&st, tpath(state, "state.db"), &err), 0);
	assert_int_equal(rip_state_schema(st), RIP_STATE_SCHEMA);
	assert_int_equal(rip_verdict_add(st, &r, &err), 0);
	rip_state_free(st);
}

static json_t *metric(json_t *a, const char *name)
{
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *m = json_array_get(a, i);

		if (!strcmp(json_string_value(json_object_get(m, "metric")), name))
			return m;
	}
	fail_msg("no metric %s", name);
	return NULL;
}

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		fail_msg("%s is not a number", key);
	return json_number_value(v);
}

static void test_json(void **state)
{
	struct rip_sample c[60], b[60];
	struct rip_gate g;
	struct rip_verdict v;
	struct rip_err err = { 0 };
	json_t *j, *lat, *e;

	(void)state;
	for (int i = 0; i < 60; i++) {
		c[i] = (struct rip_sample){ .ms = 200 + i % 10, .ok = true };
		b[i] = (struct rip_sample){ .ms = 20 + i % 10, .ok = true };
	}
	rip_gate_init(&g);
	assert_int_equal(rip_stats_verdict(&v, c, 60, b, 60, &g, &err), 0);
	j = rip_verdict_judge_json(&v, &g);
	assert_true(num(j, "score") == 50);
	assert_true(num(j, "confidence") == 0.95);
	assert_true(num(j, "pass_score") == 95);
	assert_true(num(j, "marginal_score") == 75);
	lat = metric(json_object_get(j, "metrics"), "latency");
	assert_string_equal(json_string_value(json_object_get(lat,
		"classification")), "high");
	assert_true(num(lat, "hl_ms") == 180);
	assert_true(num(lat, "canary_n") == 60);
	assert_true(num(lat, "u") == 3600);  /* every pair: canary slower */
	assert_true(num(lat, "p_value") < 1e-10);
	assert_true(num(lat, "ratio") > 8);
	assert_true(num(lat, "weight") == 50);
	e = metric(json_object_get(j, "metrics"), "errors");
	assert_string_equal(json_string_value(json_object_get(e,
		"classification")), "pass");
	assert_true(num(e, "canary_rate") == 0);
	assert_true(json_is_null(json_object_get(e, "u")) ||
		!json_object_get(e, "u"));
	json_decref(j);

	/* only the canaries failing: the errors ratio is null, latency has
	 * no data and its numbers are null */
	for (int i = 0; i < 60; i++)
		c[i].ok = false;
	g.max_error_rate = 1;
	assert_int_equal(rip_stats_verdict(&v, c, 60, b, 60, &g, &err), 0);
	j = rip_verdict_metrics_json(&v, &g);
	assert_true(json_is_null(json_object_get(metric(j, "errors"),
		"ratio")));
	lat = metric(j, "latency");
	assert_string_equal(json_string_value(json_object_get(lat,
		"classification")), "nodata");
	assert_true(json_is_null(json_object_get(lat, "hl_ms")));
	json_decref(j);

	/* not compared: an empty array, a null judge */
	g.compare_baseline = false;
	assert_int_equal(rip_stats_verdict(&v, c, 60, b, 60, &g, &err), 0);
	j = rip_verdict_metrics_json(&v, &g);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	j = rip_verdict_judge_json(&v, &g);
	assert_true(json_is_null(j));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_8, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
