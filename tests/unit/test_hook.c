/* SPDX-License-Identifier: MIT */
/*
 * test_hook.c: rip_hook_run against real /bin/sh scripts in a temp dir:
 * exit codes and signals, the environment, captured and bounded output,
 * cwd, timeouts (SIGTERM, then SIGKILL), children that keep the pipe open,
 * hooks that cannot start, the signal state a hook starts with, and a
 * stoppable run ended from another thread (a preempted deploy's hook).
 *
 * Time bounds here (under 5 s) check correctness, not speed.
 */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ripcord/hook.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes "#!/bin/sh\n" + body to <tmpdir>/name, mode 0755, path in path. */
static void script(char *path, size_t n, void **state, const char *name,
	const char *body)
{
	char text[4096];

	snprintf(path, n, "%s", tpath(state, name));
	snprintf(text, sizeof(text), "#!/bin/sh\n%s", body);
	write_text(path, text);
	assert_int_equal(chmod(path, 0755), 0);
}

static int run(struct rip_hook_result *res, const char *path, const char *cwd,
	const struct rip_hook_env *env, size_t nenv, uint64_t timeout_ms,
	struct rip_err *err)
{
	const char *argv[] = { path, NULL };

	return rip_hook_run(res, argv, cwd, env, nenv, timeout_ms, err);
}

/* No child of ours is left, not even a zombie. */
static void assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* True once pid is gone or a zombie (its new parent reaps it, not us). */
static bool process_gone(pid_t pid)
{
	for (int i = 0; i < 150; i++) {
		char p[64], stat[256] = "";
		FILE *f;

		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
		f = fopen(p, "r");
		if (f) {
			if (!fgets(stat, sizeof(stat), f))
				stat[0] = '\0';
			fclose(f);
		}
		if (strstr(stat, ") Z") || strstr(stat, ") X"))
			return true;
		usleep(20000);
	}
	return false;
}

static void test_exit_zero(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];

	script(path, sizeof(path), state, "ok", "exit 0\n");
	assert_int_equal(run(&res, path, NULL, NULL, 0, 5000, &err), 0);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.signal, 0);
	assert_true(res.started);
	assert_false(res.timed_out);
	assert_true(res.seconds >= 0 && res.seconds < 5);
	assert_int_equal(res.output.len, 0);
	rip_hook_result_release(&res);
	rip_hook_result_release(NULL);
	assert_no_children();
}

static void test_exit_three(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];

	script(path, sizeof(path), state, "three", "echo failing\nexit 3\n");
	/* a failing hook is a result, not an error of rip_hook_run */
	assert_int_equal(run(&res, path, NULL, NULL, 0, 0, &err), 0);
	assert_int_equal(res.exit_code, 3);
	assert_int_equal(res.signal, 0);
	assert_string_equal(res.output.buf, "failing\n");
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_killed_by_signal(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];

	script(path, sizeof(path), state, "sig", "kill -USR1 $$\nsleep 5\n");
	assert_int_equal(run(&res, path, NULL, NULL, 0, 10000, &err), 0);
	assert_int_equal(res.signal, SIGUSR1);
	assert_int_equal(res.exit_code, -1);
	assert_false(res.timed_out);
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_environment(void **state)
{
	static const struct rip_hook_env env[] = {
		{ "RIPCORD_TARGET", "web-1" },
		{ "RIPCORD_RELEASE", "r42" },
		{ "RIPCORD_RELEASE_DIR", "/srv/app/releases/r42" },
		{ "RIPCORD_PREVIOUS", "" },
		{ "RIPCORD_ROOT", "/srv/app" },
		{ "RIPCORD_TEST_GONE", NULL },
		{ "RIPCORD_TEST_OVR", "new value" },
		{ "RIPCORD_TEST_DUP", "first" },
		{ "RIPCORD_TEST_DUP", "second" },
	};
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512], *home = getenv("HOME");

	home = home ? strdup(home) : NULL;
	assert_int_equal(setenv("RIPCORD_TEST_GONE", "still here", 1), 0);
	assert_int_equal(setenv("RIPCORD_TEST_OVR", "old", 1), 0);
	assert_int_equal(setenv("HOME", "/home/hooktest", 1), 0);
	script(path, sizeof(path), state, "env",
		"echo \"T=$RIPCORD_TARGET R=$RIPCORD_RELEASE\"\n"
		"echo \"D=$RIPCORD_RELEASE_DIR P=${RIPCORD_PREVIOUS-unset}\"\n"
		"echo \"ROOT=$RIPCORD_ROOT HOME=$HOME\"\n"
		"echo \"GONE=${RIPCORD_TEST_GONE-unset}\"\n"
		"echo \"OVR=$RIPCORD_TEST_OVR DUP=$RIPCORD_TEST_DUP\"\n"
		"echo \"N=$(env | grep -c '^RIPCORD_TEST_OVR=')\"\n");
	assert_int_equal(run(&res, path, NULL, env, RIP_ARRAY_SIZE(env), 5000,
		&err), 0);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(res.output.buf,
		"T=web-1 R=r42\n"
		"D=/srv/app/releases/r42 P=\n"
		"ROOT=/srv/app HOME=/home/hooktest\n"
		"GONE=unset\n"
		"OVR=new value DUP=second\n"
		"N=1\n");
	/* our own environment is untouched */
	assert_null(getenv("RIPCORD_TARGET"));
	assert_string_equal(getenv("RIPCORD_TEST_GONE"), "still here");
	assert_string_equal(getenv("RIPCORD_TEST_OVR"), "old");
	unsetenv("RIPCORD_TEST_GONE");
	unsetenv("RIPCORD_TEST_OVR");
	if (home)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
	free(home);
	rip_hook_result_release(&res);
}

static void test_bad_env_name(void **state)
{
	static const struct rip_hook_env env[] = { { "A=B", "x" } };
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];

	script(path, sizeof(path), state, "ok", "exit 0\n");
	assert_int_equal(run(&res, path, NULL, env, 1, 0, &err), RIP_EFAIL);
	assert_err_contains(&err, "'A=B'");
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_argv_verbatim(void **state)
{
	const char *argv[] = { NULL, "two words", "$HOME", "'q'", "", NULL };
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];

	script(path, sizeof(path), state, "args",
		"for a in \"$@\"; do echo \"[$a]\"; done\n");
	argv[0] = path;
	assert_int_equal(rip_hook_run(&res, argv, NULL, NULL, 0, 5000, &err),
		0);
	assert_string_equal(res.output.buf,
		"[two words]\n[$HOME]\n['q']\n[]\n");
	rip_hook_result_release(&res);
}

static void test_stdout_stderr(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];

	script(path, sizeof(path), state, "both",
		"echo out1\necho err1 >&2\necho out2\necho err2 >&2\n");
	assert_int_equal(run(&res, path, NULL, NULL, 0, 5000, &err), 0);
	/* one pipe: the order of writes is kept */
	assert_string_equal(res.output.buf, "out1\nerr1\nout2\nerr2\n");
	rip_hook_result_release(&res);
}

static void test_stdin_devnull(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];

	script(path, sizeof(path), state, "in",
		"if read x; then echo \"got $x\"; else echo eof; fi\n"
		"readlink /proc/$$/fd/0\n");
	assert_int_equal(run(&res, path, NULL, NULL, 0, 5000, &err), 0);
	assert_string_equal(res.output.buf, "eof\n/dev/null\n");
	rip_hook_result_release(&res);
}

static void test_cwd(void **state)
{
	struct tmpdir *t = *state;
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512], sub[512], real[PATH_MAX], expect[PATH_MAX + 2];

	snprintf(sub, sizeof(sub), "%s/sub dir", t->path);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_non_null(realpath(sub, real));
	snprintf(expect, sizeof(expect), "%s\n", real);
	script(path, sizeof(path), state, "pwd", "pwd -P\n");
	assert_int_equal(run(&res, path, sub, NULL, 0, 5000, &err), 0);
	assert_string_equal(res.output.buf, expect);
	rip_hook_result_release(&res);

	/* a missing cwd is named as such, not as a missing hook */
	snprintf(sub, sizeof(sub), "%s/nope", t->path);
	assert_int_equal(run(&res, path, sub, NULL, 0, 5000, &err), RIP_EFAIL);
	assert_err_contains(&err, "'");
	assert_err_contains(&err, "/nope'");
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_timeout(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];
	double t0, dt;

	script(path, sizeof(path), state, "slow",
		"echo line one\necho line two\necho started\nsleep 30\n");
	t0 = mono();
	assert_int_equal(run(&res, path, NULL, NULL, 0, 300, &err), RIP_EFAIL);
	dt = mono() - t0;
	assert_true(dt >= 0.29);
	assert_true(dt < 5.0);
	assert_true(res.timed_out);
	assert_true(res.started);
	assert_int_equal(res.signal, SIGTERM);
	assert_int_equal(res.exit_code, -1);
	assert_err_contains(&err, "timed out");
	assert_err_contains(&err, path);
	assert_err_contains(&err, "300ms");
	assert_err_contains(&err, "started");
	assert_non_null(strstr(res.output.buf, "started\n"));
	rip_hook_result_release(&res);
	assert_no_children();
}

/* Sets stop once the file names exists: what a deploy's watcher does
 * when a rollback asks. */
struct stopper {
	const char *file;
	atomic_bool stop;
};

static void *stopper_run(void *data)
{
	struct stopper *s = data;

	for (int i = 0; i < 500 && access(s->file, F_OK) != 0; i++)
		usleep(10000);
	atomic_store(&s->stop, true);
	return NULL;
}

/* Runs the hook at path stoppably, stopped once file exists. */
static int run_stopped(struct rip_hook_result *res, const char *path,
	const char *file, struct rip_err *err)
{
	const char *argv[] = { path, NULL };
	struct stopper s = { .file = file };
	pthread_t t;
	int rc;

	atomic_init(&s.stop, false);
	assert_int_equal(pthread_create(&t, NULL, stopper_run, &s), 0);
	/* a timeout of 60 s: only the stop can end it in time */
	rc = rip_hook_run_stoppable(res, argv, NULL, NULL, 0, 60000, &s.stop,
		err);
	pthread_join(t, NULL);
	return rc;
}

/* Reads the pid written in file. */
static pid_t read_pid(const char *file)
{
	FILE *f = fopen(file, "r");
	long pid = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	return (pid_t)pid;
}

static void test_stopped(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512], body[1200], started[512], child[512];
	double t0;

	snprintf(started, sizeof(started), "%s", tpath(state, "started"));
	snprintf(child, sizeof(child), "%s", tpath(state, "child"));
	/* a hook with a child of its own, both held for 30 s */
	snprintf(body, sizeof(body), "sleep 30 &\necho $! > %s\necho holding\n"
		"touch %s\nwait\n", child, started);
	script(path, sizeof(path), state, "held", body);
	t0 = mono();
	assert_int_equal(run_stopped(&res, path, started, &err), RIP_EINTR);
	assert_true(mono() - t0 < 10.0);
	assert_true(res.stopped);
	assert_false(res.timed_out);
	assert_int_equal(res.signal, SIGTERM);
	assert_err_contains(&err, "was stopped after");
	assert_err_contains(&err, "killed with SIGTERM");
	assert_err_contains(&err, "holding");
	/* the whole process group went, the child too */
	assert_true(process_gone(read_pid(child)));
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_stopped_stubborn(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512], body[600], started[512];

	snprintf(started, sizeof(started), "%s", tpath(state, "started"));
	snprintf(body, sizeof(body), "trap '' TERM\ntouch %s\nsleep 30\n",
		started);
	script(path, sizeof(path), state, "stubborn", body);
	/* SIGTERM is ignored; SIGKILL follows 2 s later */
	assert_int_equal(run_stopped(&res, path, started, &err), RIP_EINTR);
	assert_true(res.stopped);
	assert_int_equal(res.signal, SIGKILL);
	assert_err_contains(&err, "SIGKILL");
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_stop_after_exit(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];
	atomic_bool stop;
	const char *argv[2] = { NULL, NULL };

	/* a hook that ends on its own is not stopped, the flag unset */
	atomic_init(&stop, false);
	script(path, sizeof(path), state, "quick", "echo done\nexit 3\n");
	argv[0] = path;
	assert_int_equal(rip_hook_run_stoppable(&res, argv, NULL, NULL, 0,
		60000, &stop, &err), 0);
	assert_false(res.stopped);
	assert_int_equal(res.exit_code, 3);
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_timeout_sigkill(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];
	double t0, dt;

	script(path, sizeof(path), state, "stubborn",
		"trap '' TERM\necho ignoring\nsleep 30\n");
	t0 = mono();
	assert_int_equal(run(&res, path, NULL, NULL, 0, 300, &err), RIP_EFAIL);
	dt = mono() - t0;
	/* SIGTERM at 0.3 s is ignored; SIGKILL follows 2 s later */
	assert_true(dt >= 2.2);
	assert_true(dt < 5.0);
	assert_true(res.timed_out);
	assert_int_equal(res.signal, SIGKILL);
	assert_err_contains(&err, "timed out");
	assert_err_contains(&err, "SIGKILL");
	assert_err_contains(&err, "ignoring");
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_timeout_flood(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];
	double t0;

	/* reading without end must not keep the timers from firing */
	script(path, sizeof(path), state, "flood", "exec yes flood\n");
	t0 = mono();
	assert_int_equal(run(&res, path, NULL, NULL, 0, 300, &err), RIP_EFAIL);
	assert_true(mono() - t0 < 5.0);
	assert_true(res.timed_out);
	assert_true(res.output.len <= 65536 + 64);
	assert_memory_equal(res.output.buf, "[... ", 5);
	/* the kill may land inside a line: the last one can be cut short */
	assert_err_contains(&err, "; last output: flood | flood | f");
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_background_child(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];
	const char *bg;
	double t0, dt;
	long pid;

	script(path, sizeof(path), state, "bg",
		"sleep 30 &\necho \"bg=$!\"\nexit 0\n");
	t0 = mono();
	assert_int_equal(run(&res, path, NULL, NULL, 0, 0, &err), 0);
	dt = mono() - t0;
	assert_true(dt < 5.0);
	assert_int_equal(res.exit_code, 0);
	assert_false(res.timed_out);
	bg = strstr(res.output.buf, "bg=");
	assert_non_null(bg);
	pid = strtol(bg + 3, NULL, 10);
	assert_true(pid > 1);
	assert_true(process_gone((pid_t)pid));
	rip_hook_result_release(&res);
	assert_no_children();
}

/* Fills data with len bytes of varied lines and writes them to <tmp>/data. */
static void big_file(void **state, char *data, size_t len, char *file,
	size_t n)
{
	FILE *f;

	for (size_t i = 0; i < len; i++)
		data[i] = i % 61 == 60 ? '\n' :
			(char)('a' + (i * 7 + i / 61) % 26);
	snprintf(file, n, "%s", tpath(state, "data"));
	f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void run_cat(void **state, const char *file,
	struct rip_hook_result *res)
{
	const char *argv[] = { NULL, file, NULL };
	struct rip_err err = { 0 };
	char path[512];

	script(path, sizeof(path), state, "cat", "cat \"$1\"\n");
	argv[0] = path;
	assert_int_equal(rip_hook_run(res, argv, NULL, NULL, 0, 10000, &err),
		0);
	assert_int_equal(res->exit_code, 0);
}

static void test_output_bounded(void **state)
{
	const size_t total = 300000, keep = 65536;
	struct rip_hook_result res;
	char *data = malloc(total), file[512], note[64];
	size_t nlen;

	assert_non_null(data);
	big_file(state, data, total, file, sizeof(file));
	run_cat(state, file, &res);
	nlen = (size_t)snprintf(note, sizeof(note), "[... %zu bytes dropped]\n",
		total - keep);
	assert_int_equal(res.output.len, nlen + keep);
	assert_memory_equal(res.output.buf, note, nlen);
	assert_memory_equal(res.output.buf + nlen, data + total - keep, keep);
	rip_hook_result_release(&res);
	free(data);
}

static void test_output_exactly_64k(void **state)
{
	const size_t total = 65536;
	struct rip_hook_result res;
	char *data = malloc(total), file[512];

	assert_non_null(data);
	big_file(state, data, total, file, sizeof(file));
	run_cat(state, file, &res);
	assert_int_equal(res.output.len, total);
	assert_memory_equal(res.output.buf, data, total);
	assert_null(strstr(res.output.buf, "dropped"));
	rip_hook_result_release(&res);
	free(data);
}

static void test_missing(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];

	snprintf(path, sizeof(path), "%s", tpath(state, "no-such-hook"));
	assert_int_equal(run(&res, path, NULL, NULL, 0, 0, &err), RIP_EFAIL);
	assert_err_contains(&err, path);
	assert_err_contains(&err, strerror(ENOENT));
	assert_false(res.timed_out);
	assert_false(res.started);
	assert_int_equal(res.output.len, 0);
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_not_executable(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512];

	script(path, sizeof(path), state, "plain", "exit 0\n");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(run(&res, path, NULL, NULL, 0, 0, &err), RIP_EFAIL);
	assert_err_contains(&err, path);
	assert_err_contains(&err, strerror(EACCES));
	assert_false(res.started);
	rip_hook_result_release(&res);
	assert_no_children();
}

static void test_no_path(void **state)
{
	const char *argv[] = { NULL };
	struct rip_hook_result res;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_hook_run(&res, argv, NULL, NULL, 0, 0, &err),
		RIP_EFAIL);
	rip_hook_result_release(&res);
}

static unsigned long long status_mask(const char *out, const char *key)
{
	const char *p = strstr(out, key);

	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 16);
}

static void test_signal_state(void **state)
{
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	sigset_t usr1, old;
	void (*old_pipe)(int), (*old_int)(int);
	unsigned long long ign, blk;
	char path[512];

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	old_pipe = signal(SIGPIPE, SIG_IGN);
	old_int = signal(SIGINT, SIG_IGN);
	assert_int_equal(sigprocmask(SIG_BLOCK, &usr1, &old), 0);
	/* grep's own state, inherited through sh: dash blocks every signal
	 * around fork, so reading /proc/$$ from a child would race that */
	script(path, sizeof(path), state, "sigs",
		"grep -E '^Sig(Ign|Blk):' /proc/self/status\n");
	assert_int_equal(run(&res, path, NULL, NULL, 0, 5000, &err), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, old_pipe);
	signal(SIGINT, old_int);
	ign = status_mask(res.output.buf, "SigIgn:");
	blk = status_mask(res.output.buf, "SigBlk:");
	assert_int_equal(ign & (1ull << (SIGPIPE - 1)), 0);
	assert_int_equal(ign & (1ull << (SIGINT - 1)), 0);
	assert_int_equal(blk & (1ull << (SIGUSR1 - 1)), 0);
	rip_hook_result_release(&res);
}

static void test_fds_not_inherited(void **state)
{
	const char *argv[] = { NULL, NULL, NULL };
	struct rip_hook_result res;
	struct rip_err err = { 0 };
	char path[512], num[16];
	int null = open("/dev/null", O_RDONLY);
	/* no FD_CLOEXEC, on purpose; above the fd 10 dash reads scripts on */
	int fd = fcntl(null, F_DUPFD, 40);

	close(null);
	assert_true(fd >= 40);
	snprintf(num, sizeof(num), "%d", fd);
	script(path, sizeof(path), state, "fds",
		"if [ -e /proc/$$/fd/$1 ]; then echo leaked\n"
		"else echo clean; fi\n"
		"ls /proc/$$/fd | sort -n | tr '\\n' ' '\n");
	argv[0] = path;
	argv[1] = num;
	assert_int_equal(rip_hook_run(&res, argv, NULL, NULL, 0, 5000, &err),
		0);
	close(fd);
#if defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 34)
	/* only fds 0-2 (and the one the shell opens for the script) */
	assert_non_null(strstr(res.output.buf, "clean\n"));
#endif
#endif
	rip_hook_result_release(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_zero, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_exit_three, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_killed_by_signal,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_environment, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_bad_env_name, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_argv_verbatim,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_stdout_stderr,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_stdin_devnull,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_cwd, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_timeout, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_stopped, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_stopped_stubborn,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_stop_after_exit,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_timeout_sigkill,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_timeout_flood,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_background_child,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_output_bounded,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_output_exactly_64k,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_missing, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_not_executable,
			tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_no_path),
		cmocka_unit_test_setup_teardown(test_signal_state, tmpdir_setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_fds_not_inherited,
			tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
