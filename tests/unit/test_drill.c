/* SPDX-License-Identifier: MIT */
/*
 * test_drill.c: the record of drills in state.db (history, the last one,
 * the last passing one), --due's rule with its slack, and the rollout gate
 * ([rollout] require_drill). Running drills end to end is drill.sh's;
 * here, that a drill reads its artifact once: a real release is cut from
 * a git repository with a migration, and inotify counts the opens of its
 * artifact while it is drilled (integrity, fidelity, round trip).
 */
#include "helpers.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/wait.h>

#include "ripcord/config.h"
#include "ripcord/drill.h"
#include "ripcord/release.h"
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

static void git(const char *dir, const char *a1, const char *a2,
	const char *a3)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[] = { "git", "-C", dir, "-c", "user.name=t",
			"-c", "user.email=t@example.invalid", a1, a2, a3, NULL };
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp("git", (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("git %s %s failed", a1, a2 ? a2 : "");
}

/* Opens of path reported by the inotify instance fd since the last call. */
static int opens(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n = 0;
	ssize_t len;

	while ((len = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + len; ) {
			const struct inotify_event *ev = (const void *)p;

			n += (ev->mask & IN_OPEN) != 0;
			p += sizeof(*ev) + ev->len;
		}
	return n;
}

static void test_one_read(void **state)
{
	struct tmpdir *t = *state;
	struct rip_cut_opts opts = { .id = "r1" };
	struct rip_drill_outcome o;
	struct rip_cut_result res;
	struct rip_err err = { 0 };
	struct rip_config *cfg;
	struct rip_store *s;
	char cwd[512], text[512], *art;
	int in;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(t->path), 0);  /* cut finds the repository */
	git(t->path, "init", "-q", ".");
	write_text(tpath(state, ".gitignore"), ".ripcord/\n");
	write_text(tpath(state, "app.txt"), "hello\n");
	assert_int_equal(mkdir(tpath(state, "db"), 0755), 0);
	write_text(tpath(state, "db/1_init.up.sql"), "CREATE TABLE t (id int);\n");
	write_text(tpath(state, "db/1_init.down.sql"), "DROP TABLE t;\n");
	git(t->path, "add", "-A", NULL);
	git(t->path, "commit", "-qm", "r1");
	snprintf(text, sizeof(text), "[project]\nname = t\n[migrations]\n"
		"dir = db\nformat = golang-migrate\ndriver = sqlite\n");
	if (rip_config_parse(&cfg, text, "ripcord.ini", t->path, &err) < 0)
		fail_msg("%s", err.msg);
	if (rip_cut(&res, cfg, &opts, &err) < 0)
		fail_msg("cut: %s", err.msg);
	rip_cut_result_release(&res);
	assert_int_equal(rip_store_open(&s, cfg->project.store, false, &err), 0);

	art = rip_store_artifact_path(s, "r1");
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	/* closes too: identical events in a row would be merged into one */
	assert_true(inotify_add_watch(in, art, IN_OPEN | IN_CLOSE) >= 0);
	if (rip_drill_run(&o, cfg, s, "r1", NULL, NULL, &err) < 0)
		fail_msg("drill: %s", err.msg);
	assert_string_equal(o.result, RIP_DRILL_PASS);
	assert_true(o.steps[RIP_STEP_INTEGRITY].ok);
	assert_true(o.steps[RIP_STEP_FIDELITY].ok);
	assert_true(o.steps[RIP_STEP_ROUNDTRIP].ran);
	assert_true(o.steps[RIP_STEP_ROUNDTRIP].ok);
	/* integrity, fidelity and the round trip's migrations: one open */
	assert_int_equal(opens(in), 1);
	rip_drill_outcome_release(&o);

	close(in);
	free(art);
	rip_store_free(s);
	rip_config_free(cfg);
	assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_and_gate,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_due, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_one_read, tmpdir_setup,
			tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
