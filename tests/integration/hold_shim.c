/* SPDX-License-Identifier: MIT */
/*
 * hold_shim.c: an LD_PRELOAD shim for preempt.sh, compiled by the script
 * itself. The making of a folder whose path contains $RIPCORD_SHIM_HOLD
 * (the temporary folder an extract makes beside releases/<id>: mkdirat(2)
 * in the releases/ folder it opened, or mkdtemp(3) by path) first creates
 * the file $RIPCORD_SHIM_HELD, then waits until the file
 * $RIPCORD_SHIM_GATE exists (60 s at most): a deploy held inside its
 * extract phase, released when the test says so. Every other call is the
 * real one, at once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Whether path is the one to hold at. */
static int held(const char *path)
{
	const char *want = getenv("RIPCORD_SHIM_HOLD");

	return want && *want && strstr(path, want) != NULL;
}

/* Marks the hold, then waits at the gate. */
static void hold(void)
{
	const char *mark = getenv("RIPCORD_SHIM_HELD");
	const char *gate = getenv("RIPCORD_SHIM_GATE");
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	int fd;

	if (!mark || !gate)
		return;
	fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 1200 && access(gate, F_OK) != 0; i++)
		nanosleep(&tick, NULL);
}

/* mkdtemp, held at the gate for the named template. */
char *mkdtemp(char *template)
{
	char *(*real)(char *) = (char *(*)(char *))dlsym(RTLD_NEXT, "mkdtemp");

	if (held(template))
		hold();
	return real(template);
}

/* mkdirat, held at the gate when the folder of dirfd, then name, is the
 * named path. */
int mkdirat(int dirfd, const char *name, mode_t mode)
{
	int (*real)(int, const char *, mode_t) =
		(int (*)(int, const char *, mode_t))dlsym(RTLD_NEXT, "mkdirat");
	char link[64], dir[PATH_MAX], full[PATH_MAX * 2];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = dirfd >= 0 ? readlink(link, dir, sizeof(dir) - 1) : -1;
	if (n > 0) {
		dir[n] = '\0';
		snprintf(full, sizeof(full), "%s/%s", dir, name);
		if (held(full))
			hold();
	}
	return real(dirfd, name, mode);
}
