/* SPDX-License-Identifier: MIT */
/*
 * test_rollout.c: the rollouts table other processes steer a rollout by:
 * the record round trip, the compare-and-set that keeps a rollout process
 * from writing over a preempting rollback, liveness of its process, the
 * refusal deploy gets while a rollout is unfinished, and an abort asked
 * through state.db. (The rollout itself, against real HTTP endpoints, is
 * tests/integration/rollout.sh.)
 */
#include "helpers.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ripcord/store.h"
#include "rollout_internal.h"

static struct rip_store *open_store(void **state)
{
	struct rip_store *store;
	struct rip_err err = { 0 };

	if (rip_store_open(&store, tpath(state, "store"), true, &err) < 0)
		fail_msg("%s", err.msg);
	return store;
}

/* A pid that surely is not running: a child that has exited. */
static int64_t dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return (int64_t)pid;
}

static void insert(struct rip_store *store, struct rip_rollout_rec *r,
	const char *release, const char *state)
{
	static size_t counts[] = { 1, 2, 4 };
	static double percents[] = { 0.25, 0.5, 1.0 };
	struct rip_err err = { 0 };

	memset(r, 0, sizeof(*r));
	r->release = rip_xstrdup(release);
	r->previous = rip_xstrdup("v1");
	r->state = rip_xstrdup(state);
	r->phase = rip_xstrdup("switching");
	r->step = 1;
	r->nsteps = 3;
	r->counts = rip_xmalloc(sizeof(counts));
	memcpy(r->counts, counts, sizeof(counts));
	r->percents = rip_xmalloc(sizeof(percents));
	memcpy(r->percents, percents, sizeof(percents));
	r->bake_ms = 30000;
	r->manual = true;
	if (rip_rollout_insert(r, store->state, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(r->seq > 0);
}

static void test_record_round_trip(void **state)
{
	struct rip_store *store = open_store(state);
	struct rip_rollout_rec r, got;
	struct rip_err err = { 0 };

	assert_int_equal(rip_rollout_current(&got, store->state, &err), 0);
	assert_int_equal(got.seq, 0);
	assert_int_equal(rip_rollout_last(&got, store->state, &err), 0);
	assert_int_equal(got.seq, 0);

	insert(store, &r, "v2", "running");
	assert_int_equal(rip_rollout_current(&got, store->state, &err), 0);
	assert_int_equal(got.seq, r.seq);
	assert_string_equal(got.release, "v2");
	assert_string_equal(got.previous, "v1");
	assert_string_equal(got.state, "running");
	assert_string_equal(got.phase, "switching");
	assert_null(got.request);
	assert_null(got.figures);
	assert_int_equal(got.nsteps, 3);
	assert_int_equal(got.counts[0], 1);
	assert_int_equal(got.counts[1], 2);
	assert_int_equal(got.counts[2], 4);
	assert_true(got.percents[0] == 0.25 && got.percents[2] == 1.0);
	assert_int_equal(got.bake_ms, 30000);
	assert_true(got.manual);
	assert_int_equal(got.pid, (int64_t)getpid());
	assert_true(rip_rollout_alive(&got));
	assert_null(got.applied);
	rip_rollout_rec_release(&got);

	/* the ups it applied are saved, and "" (none) is not NULL (not
	 * known: a rollout recorded before schema 7) */
	{
		bool saved;

		r.applied = rip_xstrdup("0003_x,0004_y");
		assert_int_equal(rip_rollout_save(&r, "running", &saved,
			store->state, &err), 0);
		assert_true(saved);
		assert_int_equal(rip_rollout_current(&got, store->state, &err), 0);
		assert_string_equal(got.applied, "0003_x,0004_y");
		rip_rollout_rec_release(&got);
		free(r.applied);
		r.applied = rip_xstrdup("");
		assert_int_equal(rip_rollout_save(&r, "running", &saved,
			store->state, &err), 0);
		assert_int_equal(rip_rollout_current(&got, store->state, &err), 0);
		assert_string_equal(got.applied, "");
		rip_rollout_rec_release(&got);
	}

	/* a finished rollout is the last one, no longer the current one */
	free(r.state);
	r.state = rip_xstrdup("completed");
	r.finished = 1;
	{
		bool saved;

		assert_int_equal(rip_rollout_save(&r, "running", &saved,
			store->state, &err), 0);
		assert_true(saved);
	}
	assert_int_equal(rip_rollout_current(&got, store->state, &err), 0);
	assert_int_equal(got.seq, 0);
	assert_int_equal(rip_rollout_last(&got, store->state, &err), 0);
	assert_int_equal(got.seq, r.seq);
	assert_string_equal(got.state, "completed");
	assert_false(rip_rollout_alive(&got));
	rip_rollout_rec_release(&got);
	rip_rollout_rec_release(&r);
	rip_store_free(store);
}

/* A rollback's preempt wins over the rollout process's next write. */
static void test_preempt_beats_the_rollout(void **state)
{
	struct rip_store *store = open_store(state);
	struct rip_rollout_rec r, got;
	struct rip_err err = { 0 };
	int64_t pid;
	bool saved;

	insert(store, &r, "v2", "running");
	assert_int_equal(rip_rollout_preempt(&pid, store, "ripcord rollback",
		&err), 0);
	assert_int_equal(pid, (int64_t)getpid());  /* alive: the caller waits */

	/* the rollout process, unaware, saves its next round */
	free(r.phase);
	r.phase = rip_xstrdup("baking");
	assert_int_equal(rip_rollout_save(&r, "running", &saved, store->state,
		&err), 0);
	assert_false(saved);
	assert_int_equal(rip_rollout_reload(&r, store->state, &err), 0);
	assert_string_equal(r.state, "preempted");
	assert_string_equal(r.phase, "switching");   /* nothing written */
	assert_non_null(strstr(r.reason, "preempted by 'ripcord rollback'"));
	assert_true(r.finished > 0);

	/* nothing left to preempt, and deploy is free again */
	assert_int_equal(rip_rollout_preempt(&pid, store, "ripcord rollback",
		&err), 0);
	assert_int_equal(pid, 0);
	assert_int_equal(rip_rollout_busy(store, &err), 0);
	assert_int_equal(rip_rollout_current(&got, store->state, &err), 0);
	assert_int_equal(got.seq, 0);
	rip_rollout_rec_release(&r);
	rip_store_free(store);
}

static void test_busy_names_the_rollout(void **state)
{
	struct rip_store *store = open_store(state);
	struct rip_rollout_rec r;
	struct rip_err err = { 0 };
	int64_t pid;
	bool saved;

	insert(store, &r, "v7", "running");
	assert_int_equal(rip_rollout_busy(store, &err), RIP_EBUSY);
	assert_non_null(strstr(err.msg, "a rollout of v7 is in progress "
		"(step 1/3, pid"));
	assert_non_null(strstr(err.msg, "ripcord rollout abort"));

	/* its process died: deploy says to resume or abort */
	r.pid = dead_pid();
	assert_int_equal(rip_rollout_save(&r, "running", &saved, store->state,
		&err), 0);
	assert_true(saved);
	assert_false(rip_rollout_alive(&r));
	assert_int_equal(rip_rollout_busy(store, &err), RIP_EINTR);
	assert_non_null(strstr(err.msg, "is interrupted (step 1/3)"));
	assert_non_null(strstr(err.msg, "its process is gone and its state "
		"is saved; run 'ripcord rollout resume' to go on with it, or "
		"'ripcord rollout abort' to put every target back on v1"));
	/* a dead process is not waited for by a preempting rollback */
	assert_int_equal(rip_rollout_preempt(&pid, store, "ripcord rollback",
		&err), 0);
	assert_int_equal(pid, 0);
	rip_rollout_rec_release(&r);

	/* paused: no process, and not interrupted either */
	insert(store, &r, "v8", "paused");
	assert_false(rip_rollout_alive(&r));
	assert_int_equal(rip_rollout_busy(store, &err), RIP_EBUSY);
	assert_non_null(strstr(err.msg, "a rollout of v8 is paused (step 1/3)"));
	assert_non_null(strstr(err.msg, "ripcord rollout promote"));
	rip_rollout_rec_release(&r);
	rip_store_free(store);
}

static void test_another_host_counts_as_alive(void **state)
{
	struct rip_store *store = open_store(state);
	struct rip_rollout_rec r;

	insert(store, &r, "v2", "running");
	free(r.host);
	r.host = rip_xstrdup("some-other-host.invalid");
	r.pid = dead_pid();
	/* its pid means nothing here: never take over a rollout that may run */
	assert_true(rip_rollout_alive(&r));
	rip_rollout_rec_release(&r);
	rip_store_free(store);
}

static void test_abort_request(void **state)
{
	struct rip_store *store = open_store(state);
	struct rip_rollout_rec r;
	struct rip_err err = { 0 };
	bool saved;

	insert(store, &r, "v2", "running");
	assert_int_equal(rip_rollout_request(store->state, r.seq, "abort", &err),
		0);
	/* the rollout process read its record before the request came, and
	 * saves its next round: the request must survive that */
	free(r.figures);
	r.figures = rip_xstrdup("{\"rounds\":7}");
	assert_int_equal(rip_rollout_save(&r, "running", &saved, store->state,
		&err), 0);
	assert_true(saved);
	assert_null(r.request);
	assert_int_equal(rip_rollout_reload(&r, store->state, &err), 0);
	assert_string_equal(r.request, "abort");
	assert_string_equal(r.figures, "{\"rounds\":7}");

	/* a finished rollout takes no more requests */
	free(r.state);
	r.state = rip_xstrdup("aborted");
	free(r.request);
	r.request = NULL;
	r.finished = 2;
	assert_int_equal(rip_rollout_request(store->state, r.seq, NULL, &err),
		0);
	assert_int_equal(rip_rollout_save(&r, "running", &saved, store->state,
		&err), 0);
	assert_true(saved);
	assert_int_equal(rip_rollout_request(store->state, r.seq, "abort", &err),
		0);
	assert_int_equal(rip_rollout_reload(&r, store->state, &err), 0);
	assert_null(r.request);
	rip_rollout_rec_release(&r);
	rip_store_free(store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_round_trip,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_preempt_beats_the_rollout,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_busy_names_the_rollout,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_another_host_counts_as_alive,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_abort_request,
			tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
