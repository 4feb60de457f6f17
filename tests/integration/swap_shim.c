/* SPDX-License-Identifier: MIT */
/*
 * swap_shim.c: an LD_PRELOAD shim for agent_races.sh, compiled by the
 * script itself: the attacker who can write in a root, acting at the worst
 * moment. The first time the agent goes to work inside the folder
 * $RIPCORD_SHIM_SWAP (a root's .ripcord/artifacts or releases/) to make,
 * list or create something there (mkostemp, mkdtemp or opendir of a path
 * in it; openat with O_CREAT, mkdirat or fdopendir on a folder fd of it;
 * the 64-bit names too), that folder
 * is first renamed to <it>.real and a symlink to $RIPCORD_SHIM_TO put in
 * its place, after every check the agent made on it; then the file
 * $RIPCORD_SHIM_SWAPPED is created, and the real call runs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fired;

/* Swaps the folder for the link, once. */
static void swap(void)
{
	const char *dir = getenv("RIPCORD_SHIM_SWAP");
	const char *to = getenv("RIPCORD_SHIM_TO");
	const char *mark = getenv("RIPCORD_SHIM_SWAPPED");
	char real[PATH_MAX];
	int fd;

	if (fired || !dir || !to || !mark)
		return;
	fired = 1;
	snprintf(real, sizeof(real), "%s.real", dir);
	if (rename(dir, real) < 0 || symlink(to, dir) < 0)
		return;
	fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

/* Whether path is the folder (inside: also below it). */
static int in_swap(const char *path, int inside)
{
	const char *dir = getenv("RIPCORD_SHIM_SWAP");
	size_t n = dir ? strlen(dir) : 0;

	if (!n || strncmp(path, dir, n))
		return 0;
	return path[n] == '\0' || (inside && path[n] == '/');
}

/* Whether the folder fd is the folder. */
static int fd_is_swap(int fd)
{
	char link[64], dir[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = fd >= 0 ? readlink(link, dir, sizeof(dir) - 1) : -1;
	if (n <= 0)
		return 0;
	dir[n] = '\0';
	return in_swap(dir, 0);
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

int mkostemp(char *template, int flags)
{
	if (in_swap(template, 1))
		swap();
	return REAL("mkostemp", int (*)(char *, int))(template, flags);
}

/* what a build with _FILE_OFFSET_BITS=64 calls */
int mkostemp64(char *template, int flags)
{
	if (in_swap(template, 1))
		swap();
	return REAL("mkostemp64", int (*)(char *, int))(template, flags);
}

char *mkdtemp(char *template)
{
	if (in_swap(template, 1))
		swap();
	return REAL("mkdtemp", char *(*)(char *))(template);
}

DIR *opendir(const char *path)
{
	if (in_swap(path, 0))
		swap();
	return REAL("opendir", DIR *(*)(const char *))(path);
}

DIR *fdopendir(int fd)
{
	if (fd_is_swap(fd))
		swap();
	return REAL("fdopendir", DIR *(*)(int))(fd);
}

int mkdirat(int dirfd, const char *name, mode_t mode)
{
	if (fd_is_swap(dirfd))
		swap();
	return REAL("mkdirat", int (*)(int, const char *, mode_t))(dirfd, name,
		mode);
}

/* openat, or openat64 (real): a file created in the folder swaps it. */
static int open_at(const char *real, int dirfd, const char *name, int flags,
	va_list ap)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE))
		mode = (mode_t)va_arg(ap, int);
	if ((flags & O_CREAT) && fd_is_swap(dirfd))
		swap();
	return REAL(real, int (*)(int, const char *, int, ...))(dirfd, name,
		flags, mode);
}

int openat(int dirfd, const char *name, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = open_at("openat", dirfd, name, flags, ap);
	va_end(ap);
	return fd;
}

int openat64(int dirfd, const char *name, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = open_at("openat64", dirfd, name, flags, ap);
	va_end(ap);
	return fd;
}
