/* SPDX-License-Identifier: MIT */
/*
 * fsync_shim.c: an LD_PRELOAD shim for agent.sh, compiled by the script
 * itself. fsync(2) of the folder named by $RIPCORD_SHIM_FSYNC_FAIL fails
 * with EIO after the real fsync ran: the one fault a switch cannot cause
 * on a healthy disk (its rename is made, its fsync fails). Every other
 * fsync is the real one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether fd is the folder the environment names. */
static int is_failing_dir(int fd)
{
	const char *want = getenv("RIPCORD_SHIM_FSYNC_FAIL");
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (!want || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	return strcmp(path, want) == 0;
}

/* fsync, failing (EIO) for the named folder. */
int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	int rc = real(fd);

	if (rc == 0 && is_failing_dir(fd)) {
		errno = EIO;
		return -1;
	}
	return rc;
}
