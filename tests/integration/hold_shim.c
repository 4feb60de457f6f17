/* SPDX-License-Identifier: MIT */
/*
 * hold_shim.c: an LD_PRELOAD shim for preempt.sh, compiled by the script
 * itself. mkdtemp(3) of a template containing $RIPCORD_SHIM_HOLD (the
 * temporary folder an extract makes beside releases/<id>) first creates
 * the file $RIPCORD_SHIM_HELD, then waits until the file
 * $RIPCORD_SHIM_GATE exists (60 s at most): a deploy held inside its
 * extract phase, released when the test says so. Every other mkdtemp is
 * the real one, at once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Whether template is the one to hold at. */
static int held(const char *template)
{
	const char *want = getenv("RIPCORD_SHIM_HOLD");

	return want && *want && strstr(template, want) != NULL;
}

/* mkdtemp, held at the gate for the named template. */
char *mkdtemp(char *template)
{
	char *(*real)(char *) = (char *(*)(char *))dlsym(RTLD_NEXT, "mkdtemp");
	const char *mark = getenv("RIPCORD_SHIM_HELD");
	const char *gate = getenv("RIPCORD_SHIM_GATE");
	struct timespec tick = { 0, 50 * 1000 * 1000 };

	if (held(template) && mark && gate) {
		int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd >= 0)
			close(fd);
		for (int i = 0; i < 1200 && access(gate, F_OK) != 0; i++)
			nanosleep(&tick, NULL);
	}
	return real(template);
}
