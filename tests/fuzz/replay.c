/* SPDX-License-Identifier: MIT */
/*
 * replay.c: a main() for the libFuzzer targets of tests/fuzz, so that
 * every build, with the normal compiler, runs each target on its seeds
 * and on every crash ever found (corpus/<target>/, crashers/<target>/),
 * as libgit2's and RAUC's fuzz replay drivers do. In the ASan+UBSan build
 * of scripts/test the same inputs then run under the sanitizers.
 *
 * Usage: replay_<target> PATH...; a PATH is a file or a folder, whose
 * files are read in name order (sub-folders too; names starting with '.'
 * are skipped, so a .gitkeep holds an empty folder in git). It calls
 * LLVMFuzzerInitialize once when the target defines one, then
 * LLVMFuzzerTestOneInput on each file, in this process and in order, and
 * prints TAP: "# PATH" before each input and "ok N - PATH" after it. An
 * input that aborts (a broken FUZZ_CHECK), crashes or trips a sanitizer
 * ends the process: it is reported as "not ok N - PATH" first, from a
 * signal handler or ASan's death callback, and its stack is on stderr
 * (UBSan's fatal reports end the process without a callback; the last
 * "# PATH" names the input then). Leaks are reported by LeakSanitizer
 * when the process exits.
 *
 * Tuned for clarity, not speed: inputs are small and few. Each input is
 * its own allocation of exactly its size, as libFuzzer hands it over, so
 * a read past its end is an ASan report.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* weak: a target need not define it, and then it is NULL */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* the sanitizers' runtime defines it; NULL in a build without them */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

struct inputs {
	char **v;
	size_t n, alloc;
};

/* The input being run, for the "not ok" line of a dying process. */
static const char *current;
static size_t current_n;

static void push(struct inputs *in, const char *path)
{
	if (in->n == in->alloc) {
		in->alloc = in->alloc ? 2 * in->alloc : 64;
		in->v = realloc(in->v, in->alloc * sizeof(*in->v));
		if (!in->v) {
			perror("replay");
			exit(2);
		}
	}
	in->v[in->n] = strdup(path);
	if (!in->v[in->n]) {
		perror("replay");
		exit(2);
	}
	in->n++;
}

/* Adds path (a file, or every file below a folder) to in; -1 on error. */
static int collect(struct inputs *in, const char *path)
{
	struct dirent **names;
	struct stat st;
	int n, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		push(in, path);
		return 0;
	}
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: '%s': %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
		char *sub = malloc(len);

		if (!sub) {
			perror("replay");
			exit(2);
		}
		snprintf(sub, len, "%s/%s", path, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && rc == 0)
			rc = collect(in, sub);
		free(sub);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* The whole file at path, in an allocation of exactly its size. */
static uint8_t *slurp(const char *path, size_t *size)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		goto fail;
	for (;;) {
		uint8_t buf[65536];
		ssize_t r = read(fd, buf, sizeof(buf));
		uint8_t *more;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		more = realloc(data, len + (size_t)r);
		if (!more)
			goto fail;
		data = more;
		memcpy(data + len, buf, (size_t)r);
		len += (size_t)r;
	}
	close(fd);
	*size = len;
	/* an empty input still gets a pointer of its own, as libFuzzer's */
	return data ? data : malloc(1);
fail:
	fprintf(stderr, "replay: '%s': %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(data);
	return NULL;
}

/* Writes s with write(2): safe in a signal handler. */
static void say(const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t w = write(STDOUT_FILENO, s, len);

		if (w <= 0)
			return;
		s += w;
		len -= (size_t)w;
	}
}

/* "not ok N - PATH (why)", once, without stdio (async-signal-safe). */
static void not_ok(const char *why)
{
	char num[24];
	size_t n = current_n, i = sizeof(num) - 1;

	if (!current)
		return;
	num[i] = '\0';
	do {
		num[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n && i);
	say("not ok ");
	say(num + i);
	say(" - ");
	say(current);
	say(" (");
	say(why);
	say(")\n");
	current = NULL;
}

static void on_death(void)
{
	not_ok("sanitizer report on stderr");
}

static void on_signal(int sig)
{
	not_ok(sig == SIGABRT ? "aborted: broken FUZZ_CHECK or assertion" :
		sig == SIGALRM ? "timeout" : "crashed");
	/* SA_RESETHAND restored the default action: die of sig */
	raise(sig);
}

/*
 * With the sanitizers, their own handlers report a SEGV with its stack
 * and then call on_death; taking the signal from them would lose that.
 */
static void catch_deaths(void)
{
	static const int sigs[] = { SIGABRT, SIGALRM, SIGSEGV, SIGBUS, SIGFPE,
		SIGILL };
	size_t n = sizeof(sigs) / sizeof(sigs[0]);
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (__sanitizer_set_death_callback) {
		__sanitizer_set_death_callback(on_death);
		n = 2;
	}
	for (size_t i = 0; i < n; i++)
		sigaction(sigs[i], &sa, NULL);
}

int main(int argc, char **argv)
{
	struct inputs in = { 0 };
	const char *t = getenv("RIPCORD_REPLAY_TIMEOUT");
	unsigned timeout = t ? (unsigned)strtoul(t, NULL, 10) : 10;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE-OR-FOLDER...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc && rc == 0; i++)
		rc = collect(&in, argv[i]);
	if (rc < 0)
		return 2;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	catch_deaths();
	printf("1..%zu\n", in.n);
	fflush(stdout);
	for (size_t i = 0; i < in.n; i++) {
		size_t size;
		uint8_t *data = slurp(in.v[i], &size);

		if (!data) {
			printf("not ok %zu - %s (unreadable)\n", i + 1, in.v[i]);
			rc = 1;
			continue;
		}
		/* UBSan's fatal reports skip the death callback: say first */
		printf("# %s\n", in.v[i]);
		fflush(stdout);
		current = in.v[i];
		current_n = i + 1;
		/* as libFuzzer's -timeout: a hang is a finding too */
		alarm(timeout);
		LLVMFuzzerTestOneInput(data, size);
		alarm(0);
		current = NULL;
		printf("ok %zu - %s\n", i + 1, in.v[i]);
		fflush(stdout);
		free(data);
	}
	for (size_t i = 0; i < in.n; i++)
		free(in.v[i]);
	free(in.v);
	return rc;
}
